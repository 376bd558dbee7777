// Package httpbg serves an http.Handler in the background on a TCP address,
// the way the oracle and the review desk run: Start returns once the socket
// listens (so the base URL is usable at once, port 0 included), Close shuts
// down gracefully within a bound.
//
//	srv, url, err := httpbg.Start("127.0.0.1:0", handler)
//	if err != nil { ... }
//	defer srv.Close()
//	resp, err := http.Get(url + "/healthz")
package httpbg

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ShutdownTimeout bounds how long Close waits for requests in flight.
const ShutdownTimeout = 5 * time.Second

// Server is a handler being served in the background.
type Server struct {
	srv *http.Server
}

// Start listens on addr and serves h in a goroutine. It returns the base
// URL, e.g. http://127.0.0.1:41234.
func Start(addr string, h http.Handler) (*Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen %s: %w", addr, err)
	}
	s := &Server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, "http://" + ln.Addr().String(), nil
}

// Close stops accepting connections and waits, at most ShutdownTimeout,
// for requests in flight. Closing a nil Server does nothing.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
