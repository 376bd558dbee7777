package httpbg

import (
	"io"
	"net/http"
	"testing"
)

// TestStartClose serves a handler on an ephemeral port, fetches from the
// returned URL, and checks that after Close the server no longer answers.
func TestStartClose(t *testing.T) {
	srv, url, err := Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Errorf("body %q, want ok", body)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("server still answers after Close")
	}
	if _, _, err := Start("256.0.0.1:0", http.NotFoundHandler()); err == nil {
		t.Errorf("Start on an invalid address succeeded")
	}
	var none *Server
	if err := none.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}
