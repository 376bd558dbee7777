package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
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

// TestLoginLockout: many wrong tokens lock the login form, even for the
// right token, until the minute has passed.
func TestLoginLockout(t *testing.T) {
	f := newDeskFixture(t)
	login := func(tok string) int {
		jar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := jar.Get(f.desk + "/login")
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
		resp, err = jar.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/" {
			return http.StatusOK
		}
		return resp.StatusCode
	}
	if got := login(reviewerToken); got != http.StatusOK {
		t.Fatalf("first login: %d", got)
	}
	for range maxFailedLogins {
		login("guess-guess-guess")
	}
	if got := login(reviewerToken); got != http.StatusTooManyRequests {
		t.Errorf("login after %d failures: %d, want 429", maxFailedLogins, got)
	}
}
