package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/superalign/superalign/internal/httpbg"
	"github.com/superalign/superalign/oracle"
)

// DeskOptions configure a review desk. Zero values mean the defaults noted.
type DeskOptions struct {
	// Addr to listen on; default 127.0.0.1:0 (localhost, a free port).
	Addr string
	// Reviewers maps a reviewer's login token to the reviewer's name, which
	// every decision carries. Reviewer tokens are the desk's own, distinct
	// from the oracle's run and desk tokens. At least one is required.
	Reviewers map[string]string
	// RunsDir, if set, is listed on the dashboard page: each subdirectory
	// with a report.html or summary.json is a run.
	RunsDir string
	// DecisionLog, if set, is a JSONL file each decision is appended to
	// (the oracle keeps its own audit log too).
	DecisionLog string
	// SessionTTL is how long a login lasts; default 12 hours.
	SessionTTL time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Desk is the human review desk: a small web application in front of an
// oracle client that holds a run's desk token.
type Desk struct {
	c    *oracle.Client
	opts DeskOptions
	tmpl *template.Template

	mu       sync.Mutex
	sessions map[string]*session
	failed   map[string][]time.Time // recent failed logins per client host, for the lockout
	logMu    sync.Mutex

	srv *httpbg.Server
}

type session struct {
	reviewer string
	csrf     string
	expires  time.Time
}

const (
	sessionCookie = "w2s_session"
	loginCookie   = "w2s_login" // pre-session CSRF token of the login form
)

// NewDesk returns a desk deciding through c, which should hold the run's
// desk token (oracle.Server.DeskToken): it can list and decide escalated
// items but cannot buy gold.
func NewDesk(c *oracle.Client, opts DeskOptions) (*Desk, error) {
	if c == nil {
		return nil, errors.New("web: desk needs an oracle client")
	}
	if len(opts.Reviewers) == 0 {
		return nil, errors.New("web: desk needs at least one reviewer token")
	}
	for tok, name := range opts.Reviewers {
		if len(tok) < 8 || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("web: reviewer %q: tokens need at least 8 characters and a name", name)
		}
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t, err := template.New("desk").Funcs(template.FuncMap{
		"class": className,
		"img":   imageURL,
		"when":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	}).Parse(pageTemplates)
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	return &Desk{c: c, opts: opts, tmpl: t, sessions: map[string]*session{}, failed: map[string][]time.Time{}}, nil
}

// Handler is the desk's HTTP handler (what Start serves).
func (d *Desk) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", d.loginPage)
	mux.HandleFunc("POST /login", d.login)
	mux.HandleFunc("POST /logout", d.auth(d.logout))
	mux.HandleFunc("GET /{$}", d.auth(d.queue))
	mux.HandleFunc("POST /decide", d.auth(d.decide))
	mux.HandleFunc("GET /runs", d.auth(d.runs))
	mux.HandleFunc("GET /runs/{run}/{file}", d.auth(d.runFile))
	return secure(mux)
}

// Start listens on DeskOptions.Addr and serves in the background; it
// returns the base URL.
func (d *Desk) Start() (string, error) {
	srv, url, err := httpbg.Start(d.opts.Addr, d.Handler())
	if err != nil {
		return "", fmt.Errorf("web: %w", err)
	}
	d.srv = srv
	return url, nil
}

// Close stops serving.
func (d *Desk) Close() error { return d.srv.Close() }

// secure adds the headers every page gets: no external assets, scripts or
// framing; nothing cached; and a refusal of cross-origin POSTs, on top of the
// CSRF tokens and SameSite cookies.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			if o := r.Header.Get("Origin"); o != "" && o != "null" {
				if u, err := url.Parse(o); err != nil || u.Host != r.Host {
					http.Error(w, "cross-origin request refused", http.StatusForbidden)
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("web: crypto/rand: %v", err)) // the OS has no entropy: nothing is safe
	}
	return hex.EncodeToString(b)
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// auth runs h with the caller's session, sending the caller to the login
// page without one; every POST must carry the session's CSRF token.
func (d *Desk) auth(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := d.session(r)
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
				http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	}
}

func (d *Desk) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[c.Value]
	if !ok {
		return nil
	}
	if d.opts.Now().After(s.expires) {
		delete(d.sessions, c.Value)
		return nil
	}
	return s
}

func (d *Desk) render(w http.ResponseWriter, name string, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := d.tmpl.ExecuteTemplate(w, name, v); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

func (d *Desk) loginPage(w http.ResponseWriter, r *http.Request) {
	tok := randHex(16)
	setCookie(w, loginCookie, tok, 600)
	d.render(w, "login", map[string]any{"CSRF": tok, "Failed": r.URL.Query().Has("failed"), "Run": d.c.Run()})
}

// login checks the reviewer token in constant time against every reviewer,
// and the login form's CSRF token against its cookie (double submit).
func (d *Desk) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		http.Error(w, "missing or wrong CSRF token: reload the login page", http.StatusForbidden)
		return
	}
	client := loginClient(r)
	if d.lockedOut(client) {
		http.Error(w, "too many failed logins from this address; wait a minute", http.StatusTooManyRequests)
		return
	}
	given := []byte(r.PostForm.Get("token"))
	reviewer := ""
	for tok, name := range d.opts.Reviewers {
		if subtle.ConstantTimeCompare(given, []byte(tok)) == 1 {
			reviewer = name
		}
	}
	if reviewer == "" {
		d.recordFailure(client)
		http.Redirect(w, r, "/login?failed", http.StatusSeeOther)
		return
	}
	sid := randHex(32)
	d.mu.Lock()
	d.sessions[sid] = &session{reviewer: reviewer, csrf: randHex(32), expires: d.opts.Now().Add(d.opts.SessionTTL)}
	d.mu.Unlock()
	setCookie(w, loginCookie, "", -1)
	setCookie(w, sessionCookie, sid, int(d.opts.SessionTTL.Seconds()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// maxFailedLogins within a minute lock the login form for the client that
// failed: tokens are long and random, so only guessing produces many
// failures, and a guesser must not lock every other reviewer out.
const maxFailedLogins = 20

// maxLockoutClients bounds the clients whose failures are remembered; past
// it, new clients share one count (so a flood of addresses cannot grow the
// map without bound, at worst locking out those new addresses together).
const maxLockoutClients = 4096

// loginClient names the client of a login attempt by its address without
// the port (a new connection has a new port). The desk is served directly,
// not behind a proxy, so forwarding headers are not trusted.
func loginClient(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// lockedOut forgets failures older than a minute and reports whether
// client has failed maxFailedLogins times within it.
func (d *Desk) lockedOut(client string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	cut := d.opts.Now().Add(-time.Minute)
	for c, times := range d.failed {
		keep := times[:0]
		for _, t := range times {
			if t.After(cut) {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			delete(d.failed, c)
		} else {
			d.failed[c] = keep
		}
	}
	return len(d.failed[d.lockoutKey(client)]) >= maxFailedLogins
}

func (d *Desk) recordFailure(client string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.lockoutKey(client)
	d.failed[k] = append(d.failed[k], d.opts.Now())
}

// lockoutKey is the key client's failures are counted under (d.mu held).
func (d *Desk) lockoutKey(client string) string {
	if _, ok := d.failed[client]; !ok && len(d.failed) >= maxLockoutClients {
		return "other clients"
	}
	return client
}

func (d *Desk) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		d.mu.Lock()
		delete(d.sessions, c.Value)
		d.mu.Unlock()
	}
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type queueView struct {
	Reviewer, CSRF, Run string
	Items               []oracle.ReviewItem
	Decisions           []oracle.Decision // newest first, at most 20
	Total, Spent        int
	Done                string
	Error               string
	Dashboard           bool
}

func (d *Desk) queue(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	v := queueView{Reviewer: s.reviewer, CSRF: s.csrf, Run: d.c.Run(), Dashboard: d.opts.RunsDir != ""}
	v.Done = r.URL.Query().Get("done")
	if e := r.URL.Query().Get("error"); e != "" {
		v.Error = e
	}
	items, err := d.c.Pending(ctx)
	if err != nil {
		http.Error(w, "oracle: "+err.Error(), http.StatusBadGateway)
		return
	}
	v.Items = items
	ds, err := d.c.Decisions(ctx)
	if err != nil {
		http.Error(w, "oracle: "+err.Error(), http.StatusBadGateway)
		return
	}
	for i := len(ds) - 1; i >= 0 && len(v.Decisions) < 20; i-- {
		v.Decisions = append(v.Decisions, ds[i])
	}
	if v.Total, v.Spent, err = d.c.Budget(ctx); err != nil {
		http.Error(w, "oracle: "+err.Error(), http.StatusBadGateway)
		return
	}
	d.render(w, "queue", v)
}

// decide turns a form choice into a label. The weak and student labels come
// from the oracle's queue, not from the form, so a forged form cannot record
// a label the reviewer was not shown under that name.
func (d *Desk) decide(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id, err := strconv.Atoi(r.PostForm.Get("id"))
	if err != nil {
		http.Error(w, "bad item id", http.StatusBadRequest)
		return
	}
	items, err := d.c.Pending(ctx)
	if err != nil {
		http.Error(w, "oracle: "+err.Error(), http.StatusBadGateway)
		return
	}
	var item *oracle.ReviewItem
	for i := range items {
		if items[i].ID == id {
			item = &items[i]
		}
	}
	if item == nil {
		redirectMsg(w, r, "error", fmt.Sprintf("item %d is no longer awaiting review", id))
		return
	}
	label := oracle.Skipped
	switch r.PostForm.Get("choice") {
	case "weak":
		label = item.WeakLabel
	case "student":
		label = item.StudentLabel
	case "other":
		label, err = strconv.Atoi(r.PostForm.Get("other"))
		if err != nil || label < 0 || label >= len(item.Classes) {
			http.Error(w, "bad class for 'give another class'", http.StatusBadRequest)
			return
		}
	case "skip":
	default:
		http.Error(w, "choice must be weak, student, other or skip", http.StatusBadRequest)
		return
	}
	dec, err := d.c.Decide(ctx, id, label, s.reviewer)
	if err != nil {
		var re *oracle.RefusedError
		if errors.As(err, &re) {
			redirectMsg(w, r, "error", re.Message)
			return
		}
		http.Error(w, "oracle: "+err.Error(), http.StatusBadGateway)
		return
	}
	if err := d.logDecision(dec, r.PostForm.Get("choice")); err != nil {
		http.Error(w, "decision recorded by the oracle, but the desk log failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	redirectMsg(w, r, "done", strconv.Itoa(id))
}

func redirectMsg(w http.ResponseWriter, r *http.Request, key, msg string) {
	http.Redirect(w, r, "/?"+url.Values{key: {msg}}.Encode(), http.StatusSeeOther)
}

// logDecision appends one JSONL line (a single write on an O_APPEND file).
func (d *Desk) logDecision(dec oracle.Decision, choice string) error {
	if d.opts.DecisionLog == "" {
		return nil
	}
	b, err := json.Marshal(struct {
		oracle.Decision
		Run    string `json:"run"`
		Choice string `json:"choice"`
	}{dec, d.c.Run(), choice})
	if err != nil {
		return err
	}
	d.logMu.Lock()
	defer d.logMu.Unlock()
	f, err := os.OpenFile(d.opts.DecisionLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Dashboard.

type runEntry struct {
	Name            string
	Report, Summary bool
	Modified        time.Time
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (d *Desk) runs(w http.ResponseWriter, r *http.Request, s *session) {
	var list []runEntry
	if d.opts.RunsDir != "" {
		ents, err := os.ReadDir(d.opts.RunsDir)
		if err != nil {
			http.Error(w, "runs directory: "+err.Error(), http.StatusInternalServerError)
			return
		}
		for _, e := range ents {
			if !e.IsDir() || !safeName.MatchString(e.Name()) {
				continue
			}
			re := runEntry{Name: e.Name()}
			for _, f := range []string{"report.html", "summary.json"} {
				if st, err := os.Stat(filepath.Join(d.opts.RunsDir, e.Name(), f)); err == nil && st.Mode().IsRegular() {
					if f == "report.html" {
						re.Report = true
					} else {
						re.Summary = true
					}
					if st.ModTime().After(re.Modified) {
						re.Modified = st.ModTime()
					}
				}
			}
			if re.Report || re.Summary {
				list = append(list, re)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Modified.After(list[j].Modified) })
	}
	d.render(w, "runs", map[string]any{"Reviewer": s.reviewer, "CSRF": s.csrf, "Runs": list, "Dir": d.opts.RunsDir})
}

// runFile serves a run's report.html or summary.json and nothing else.
func (d *Desk) runFile(w http.ResponseWriter, r *http.Request, _ *session) {
	name, file := r.PathValue("run"), r.PathValue("file")
	if d.opts.RunsDir == "" || !safeName.MatchString(name) || (file != "report.html" && file != "summary.json") {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(d.opts.RunsDir, name, file))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	if file == "summary.json" {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	_, _ = io.Copy(w, f)
}

func className(classes []string, y int) string {
	if y >= 0 && y < len(classes) {
		return classes[y]
	}
	if y == oracle.Skipped {
		return "skipped"
	}
	return "class " + strconv.Itoa(y)
}

var dataImage = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$`)

// imageURL passes only inline base64 images, so an item cannot make the
// reviewer's browser fetch anything.
func imageURL(s string) template.URL {
	if dataImage.MatchString(s) {
		return template.URL(s)
	}
	return ""
}
