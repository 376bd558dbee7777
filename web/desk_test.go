package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/oracle"
)

const reviewerToken = "rev-alice-7f3a9c"

// deskFixture: an oracle serving a real sentiment split, four escalated
// items made of real sentences, and a desk in front of it.
type deskFixture struct {
	run   *oracle.Client // the loop's client (run token)
	desk  string         // desk base URL
	items []oracle.ReviewItem
	runs  string
}

// now is the desk's clock; nil means time.Now.
func newDeskFixture(t *testing.T, now func() time.Time) *deskFixture {
	t.Helper()
	ctx := context.Background()
	ds, err := data.LoadBuiltin(ctx, "sentiment", io.Discard)
	if err != nil {
		t.Fatalf("load sentiment: %v", err)
	}
	sp, h, err := oracle.SplitHidden(ds, 1, 0, [3]float64{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := oracle.NewServer(oracle.Config{AuditPath: filepath.Join(t.TempDir(), "audit.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.AddRun("sent-desk", h, 10)
	if err != nil {
		t.Fatal(err)
	}
	deskTok, _ := srv.DeskToken("sent-desk")
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	runsDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(runsDir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runsDir, "demo", "report.html"), []byte("<html><body>demo report</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}

	f := &deskFixture{run: oracle.NewClient(base, "sent-desk", tok), runs: runsDir}
	// The loop's view of an item: weak and student labels disagree, with a
	// critique. Labels here are the loop's guesses, not gold.
	for i := range 4 {
		f.items = append(f.items, oracle.ReviewItem{
			ID: i, Round: 1, Text: ds.Examples[sp.TrainStrong[i]].Text,
			WeakLabel: i % 2, StudentLabel: 1 - i%2, Classes: ds.Classes,
			Critique: "critic score 0.81: the weak label is probably wrong",
			Evidence: []string{"nearest labelled neighbour (distance 0.12): \"Great phone, works fine.\" → positive", "weak p(positive) = 0.44, student p(positive) = 0.91, margin 0.47"},
		})
	}
	if err := f.run.Escalate(ctx, f.items); err != nil {
		t.Fatal(err)
	}
	desk, err := NewDesk(oracle.NewClient(base, "sent-desk", deskTok), DeskOptions{
		Reviewers:   map[string]string{reviewerToken: "alice"},
		RunsDir:     runsDir,
		DecisionLog: filepath.Join(t.TempDir(), "decisions.jsonl"),
		Now:         now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.desk, err = desk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = desk.Close() })
	return f
}

// TestDeskInBrowser logs in with headless Chromium, decides three items
// (accept weak, accept student, give another class), checks the decisions
// reach the loop through the oracle, and checks that a POST without the
// CSRF token is refused.
func TestDeskInBrowser(t *testing.T) {
	exe := testenv.Chromium(t)
	f := newDeskFixture(t, nil)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 1400),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()

	// The first Run starts the browser; it must not carry the timeout (see
	// chromedp.Run), so the steps below use a derived context.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.desk+"/"), // not logged in: sent to /login
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "wrong-token-123"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("failed")),
		chromedp.SendKeys(chromedp.ID("token"), reviewerToken),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("queue")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	reviewer, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("reviewer")))
	if err != nil || reviewer != "alice" {
		t.Fatalf("logged in as %q (%v)", reviewer, err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("item-0")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, f.items[0].Text) || !strings.Contains(page, "critic score 0.81") || !strings.Contains(page, "nearest labelled neighbour") {
		t.Errorf("item 0 does not show its text, critique and evidence:\n%s", page)
	}
	if path := os.Getenv("W2S_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 = PNG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the desk: %s", path)
	}
	// Item 0: accept weak; item 1: accept student; item 2: another class.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("weak-0")),
		chromedp.WaitVisible(chromedp.ID("done")),
		chromedp.WaitNotPresent(chromedp.ID("item-0")),
		chromedp.Click(chromedp.ID("student-1")),
		chromedp.WaitNotPresent(chromedp.ID("item-1")),
		chromedp.SetValue(chromedp.ID("otherclass-2"), "1"),
		chromedp.Click(chromedp.ID("other-2")),
		chromedp.WaitNotPresent(chromedp.ID("item-2")),
		chromedp.WaitVisible(chromedp.ID("decisions")),
	); err != nil {
		t.Fatalf("decide: %v", err)
	}
	ds, err := f.run.Decisions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, label int }{{0, f.items[0].WeakLabel}, {1, f.items[1].StudentLabel}, {2, 1}}
	if len(ds) != len(want) {
		t.Fatalf("decisions %+v, want %d", ds, len(want))
	}
	for i, w := range want {
		d := ds[i]
		if d.ID != w.id || d.Label != w.label || d.Reviewer != "alice" || d.Round != 1 || time.Since(d.Time) > time.Minute {
			t.Errorf("decision %d = %+v, want id %d label %d by alice", i, d, w.id, w.label)
		}
	}
	if _, spent, err := f.run.Budget(context.Background()); err != nil || spent != 3 {
		t.Errorf("budget spent %d (%v), want 3 decided labels", spent, err)
	}

	// The same session without the CSRF token, and with a wrong one: refused.
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var sid string
	for _, c := range cookies.Cookies {
		if c.Name == sessionCookie {
			sid = c.Value
			if c.SameSite != network.CookieSameSiteStrict || !c.HTTPOnly {
				t.Errorf("session cookie SameSite %q HttpOnly %v", c.SameSite, c.HTTPOnly)
			}
		}
	}
	if sid == "" {
		t.Fatal("no session cookie in the browser")
	}
	for _, csrf := range []string{"", "forged"} {
		form := url.Values{"id": {"3"}, "choice": {"weak"}}
		if csrf != "" {
			form.Set("csrf", csrf)
		}
		req, _ := http.NewRequest("POST", f.desk+"/decide", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /decide with csrf %q: status %d, want 403", csrf, resp.StatusCode)
		}
	}
	if ds, _ := f.run.Decisions(context.Background()); len(ds) != 3 {
		t.Errorf("a refused POST recorded a decision: %+v", ds)
	}
}

// TestDeskHTTP covers what the browser test does not: login CSRF, pages
// without a session, a cross-origin POST, the dashboard, and files outside
// a run's report being unreachable.
func TestDeskHTTP(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newDeskFixture(t, nil)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		resp, err := hc.Get(f.desk + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Without a session every page leads to the login form.
	if code, body := get("/runs"); code != 200 || !strings.Contains(body, `id="token"`) {
		t.Fatalf("/runs without a session: %d", code)
	}
	// Login without the login form's CSRF token is refused.
	resp, err := http.PostForm(f.desk+"/login", url.Values{"token": {reviewerToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without CSRF: %d", resp.StatusCode)
	}
	// Proper login through the form.
	_, body := get("/login")
	csrf := between(body, `name="csrf" value="`, `"`)
	resp, err = hc.PostForm(f.desk+"/login", url.Values{"token": {reviewerToken}, "csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `id="queue"`) {
		t.Fatalf("login did not reach the queue: %d", resp.StatusCode)
	}
	csrf = between(string(b), `name="csrf" value="`, `"`)
	// Cross-origin POST, even with the right token: refused.
	form := url.Values{"id": {"3"}, "choice": {"skip"}, "csrf": {csrf}}
	req, _ := http.NewRequest("POST", f.desk+"/decide", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d", resp.StatusCode)
	}
	// Dashboard lists the run and serves its report, nothing else.
	if code, body := get("/runs"); code != 200 || !strings.Contains(body, "/runs/demo/report.html") {
		t.Errorf("dashboard: %d %s", code, body)
	}
	if code, body := get("/runs/demo/report.html"); code != 200 || !strings.Contains(body, "demo report") {
		t.Errorf("report: %d", code)
	}
	for _, p := range []string{"/runs/demo/audit.jsonl", "/runs/../report.html", "/runs/demo/..%2f..%2fetc%2fpasswd"} {
		if code, _ := get(p); code == 200 {
			t.Errorf("%s served", p)
		}
	}
	// Skipping costs nothing and is recorded.
	resp, err = hc.PostForm(f.desk+"/decide", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ds, _ := f.run.Decisions(context.Background())
	if len(ds) != 1 || ds[0].Label != oracle.Skipped || ds[0].Reviewer != "alice" {
		t.Errorf("skip: %+v", ds)
	}
	if _, spent, _ := f.run.Budget(context.Background()); spent != 0 {
		t.Errorf("a skip spent %d", spent)
	}
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

// loginHTTP logs alice in through the form and returns a client holding the
// session and the session's CSRF token.
func loginHTTP(t *testing.T, f *deskFixture) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(f.desk + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp, err = hc.PostForm(f.desk+"/login", url.Values{"token": {reviewerToken}, "csrf": {between(string(b), `name="csrf" value="`, `"`)}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `id="queue"`) {
		t.Fatalf("login did not reach the queue: %d", resp.StatusCode)
	}
	return hc, between(string(b), `name="csrf" value="`, `"`)
}

// TestDeskChargesOncePerItem: an item the loop bought with /label and a
// reviewer then decides at the desk costs one unit, and so does one decided
// first and bought afterwards.
func TestDeskChargesOncePerItem(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newDeskFixture(t, nil)
	ctx := context.Background()
	hc, csrf := loginHTTP(t, f)
	decide := func(id int) {
		resp, err := hc.PostForm(f.desk+"/decide", url.Values{"id": {strconv.Itoa(id)}, "choice": {"student"}, "csrf": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.Query().Get("done") != strconv.Itoa(id) {
			t.Fatalf("deciding item %d: ended at %s", id, resp.Request.URL)
		}
	}
	spent := func() int {
		_, s, err := f.run.Budget(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Bought first, decided at the desk second.
	if _, _, err := f.run.Label(ctx, []int{3}); err != nil {
		t.Fatal(err)
	}
	decide(3)
	if s := spent(); s != 1 {
		t.Errorf("label then desk decision on item 3: spent %d, want 1", s)
	}
	// Decided at the desk first, bought second.
	decide(2)
	if _, _, err := f.run.Label(ctx, []int{2}); err != nil {
		t.Fatal(err)
	}
	if s := spent(); s != 2 {
		t.Errorf("desk decision then label on item 2: spent %d, want 2 (one per item)", s)
	}
}
