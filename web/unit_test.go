package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superalign/superalign/internal/testenv"
)

func TestImageURLOnlyInlineImages(t *testing.T) {
	for _, c := range []struct {
		in   string
		pass bool
	}{
		{"data:image/png;base64,iVBORw0KGgo=", true},
		{"data:image/jpeg;base64,/9j/4AAQ", true},
		{"https://example.com/x.png", false},
		{"data:text/html;base64,PHNjcmlwdD4=", false},
		{"data:image/svg+xml;base64,PHN2Zz4=", false}, // SVG can carry script
		{"javascript:alert(1)", false},
		{"data:image/png;base64,AAA\" onerror=\"x", false},
	} {
		if got := string(imageURL(c.in)); (got != "") != c.pass {
			t.Errorf("imageURL(%q) = %q, want pass %v", c.in, got, c.pass)
		}
	}
}

// clientFrom is an HTTP client whose connections come from the loopback
// address local (any of 127.0.0.0/8 on Linux), so that one test can act as
// several client machines.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestLoginLockout: many wrong tokens from one client lock the login form
// for that client, even with the right token, until the minute has passed;
// a reviewer at another address can still log in.
func TestLoginLockout(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newDeskFixture(t, clock)
	login := func(hc *http.Client, tok string) int {
		resp, err := hc.Get(f.desk + "/login")
		if err != nil {
			t.Fatal(err)
		}
		var csrf string
		for _, c := range resp.Cookies() {
			if c.Name == loginCookie {
				csrf = c.Value
			}
		}
		resp.Body.Close()
		req, _ := http.NewRequest("POST", f.desk+"/login", strings.NewReader(url.Values{"token": {tok}, "csrf": {csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: loginCookie, Value: csrf})
		resp, err = hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/" {
			return http.StatusOK
		}
		return resp.StatusCode
	}
	guesser, reviewer := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	if got := login(guesser, reviewerToken); got != http.StatusOK {
		t.Fatalf("first login: %d", got)
	}
	for range maxFailedLogins {
		login(guesser, "guess-guess-guess")
	}
	if got := login(guesser, reviewerToken); got != http.StatusTooManyRequests {
		t.Errorf("login after %d failures from the same address: %d, want 429", maxFailedLogins, got)
	}
	if got := login(reviewer, reviewerToken); got != http.StatusOK {
		t.Errorf("login from another address while the guesser is locked out: %d, want success", got)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if got := login(guesser, reviewerToken); got != http.StatusOK {
		t.Errorf("login a minute after the failures: %d, want success", got)
	}
}
