package oracle

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/internal/httpbg"
)

// Config configures a Server. Zero values mean the defaults noted.
type Config struct {
	// Addr to listen on; default 127.0.0.1:0 (localhost, a free port), so
	// that gold is never reachable from another machine unless asked for.
	Addr string
	// AuditPath is the JSONL audit log, appended to (created if missing).
	// Empty means no file; Audit, if set, receives the same lines.
	AuditPath string
	Audit     io.Writer

	// EvalPerMinute and EvalBurst rate-limit Evaluate per run (token
	// bucket); defaults 60 and 10.
	EvalPerMinute float64
	EvalBurst     int
	// MaxEvaluations caps the Evaluate answers of a run over its life;
	// default DefaultMaxEvaluations. The test split's size may allow fewer
	// (see LeakFraction); Info.Evaluations is the run's actual budget.
	MaxEvaluations int
	// Resolution is the finest grid the answers of Evaluate are rounded to
	// (accuracy and AUROC alike); default DefaultResolution. A smaller test
	// split gets a coarser grid (at least 2/√nTest), and one of fewer than
	// 400 rows no answers (evalbudget.go); Info.Resolution is a run's grid.
	Resolution float64
	// LeakFraction bounds what a run can learn about its test labels: at
	// most LeakFraction bits per test row over all its answers, so that no
	// strategy of queries can reconstruct the test gold (see doc.go).
	// Default DefaultLeakFraction.
	LeakFraction float64
	// NearRows: an evaluation whose predictions differ from an earlier one
	// of the same run in at least one and at most NearRows rows is a
	// near-duplicate, the signature of label probing. Default
	// max(3, nTest/100).
	NearRows int
	// ProbeLimit: after this many near-duplicate evaluations (rows changed
	// bit for bit, everything else identical) the run's evaluations are
	// refused; default 5. Each one is flagged "probing" in the audit log.
	ProbeLimit int
	// NearLimit: the same for evaluations whose argmax differs in at most
	// NearRows rows although other probabilities moved (an attacker hiding a
	// flip under noise, or a retrained model that barely changed); default
	// 20, flagged once more than NearLimit/4 have been seen.
	NearLimit int
	// MaxIDs caps the ids of one Label request; default 100000.
	MaxIDs int
	// NoisePerMinute: requests that fail authentication (bad or missing
	// token, unknown run, unknown endpoint) and redirects are logged one by
	// one up to this many per client per minute; the rest are counted and
	// summarised in one line per client and minute. Default 20.
	NoisePerMinute int
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Defaults of the evaluation channel; see Config and doc.go.
const (
	DefaultMaxEvaluations = 10
	DefaultResolution     = 0.02
	DefaultLeakFraction   = 0.1
)

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.EvalPerMinute <= 0 {
		c.EvalPerMinute = 60
	}
	if c.EvalBurst <= 0 {
		c.EvalBurst = 10
	}
	if c.MaxEvaluations <= 0 {
		c.MaxEvaluations = DefaultMaxEvaluations
	}
	if !(c.Resolution > 0) {
		c.Resolution = DefaultResolution
	}
	if !(c.LeakFraction > 0) {
		c.LeakFraction = DefaultLeakFraction
	}
	if c.ProbeLimit <= 0 {
		c.ProbeLimit = 5
	}
	if c.NearLimit <= 0 {
		c.NearLimit = 20
	}
	if c.MaxIDs <= 0 {
		c.MaxIDs = 100000
	}
	if c.NoisePerMinute <= 0 {
		c.NoisePerMinute = 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// maxBody bounds a request body: test predictions of 25k rows × 10 classes
// in JSON are about 5 MB.
const maxBody = 64 << 20

// historySize is how many earlier evaluations of a run new ones are compared
// with for near-duplicates.
const historySize = 32

// maxPending caps a run's review queue, which lives in memory.
const maxPending = 10000

// probTol is the smallest probability change that counts a row as changed.
const probTol = 1e-6

// Server holds the gold of runs and answers the HTTP API. Create it with
// NewServer, register runs with AddRun, then Start; or mount Handler yourself.
type Server struct {
	cfg Config

	mu   sync.RWMutex
	runs map[string]*run

	auditMu sync.Mutex // guards audit, file and noise
	audit   io.Writer
	file    *os.File
	noise   noiseLog

	http *httpbg.Server
}

// run is one registered run: its gold, tokens, budget and review queue.
type run struct {
	name      string
	token     string // full access for the experiment: label, evaluate, escalate
	deskToken string // the review desk: pending items and human decisions
	h         *eval.Hidden

	mu     sync.Mutex
	budget int
	spent  int
	// charged holds every train_strong id the run has paid for, whether
	// bought with Label or decided by a person: each id costs one unit
	// once, whichever comes first.
	charged map[int]bool
	bought  map[int]int // gold handed out by Label

	evalBudget          int         // answers this run may get (evalbudget.go)
	resolution          float64     // grid of its answers; 0 when it gets none
	evals               [][]float32 // recent evaluations, oldest first
	evalArgmax          [][]int
	nEval               int
	strictProbes, loose int
	blocked             bool
	bucket              float64
	bucketAt            time.Time

	pending  map[int]ReviewItem
	order    []int // pending ids in escalation order
	decided  map[int]bool
	decision []Decision
}

var runName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// NewServer opens the audit log and prepares an empty server.
func NewServer(cfg Config) (*Server, error) {
	cfg.defaults()
	if err := cfg.checkEvalChannel(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, runs: map[string]*run{}}
	var ws []io.Writer
	if cfg.AuditPath != "" {
		f, err := os.OpenFile(cfg.AuditPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("oracle: audit log: %w", err)
		}
		s.file = f
		ws = append(ws, f)
	}
	if cfg.Audit != nil {
		ws = append(ws, cfg.Audit)
	}
	s.audit = io.MultiWriter(ws...)
	return s, nil
}

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oracle: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// AddRun registers the hidden gold of a run with a budget: how many
// train_strong gold labels (bought with Label or decided by a person at the
// desk) the run may obtain. It returns the run's bearer token. h must not be
// shared with anything a method can reach. A run without test gold is a
// label-only run (a drift stream sells one phase's training rows and keeps
// its test splits to itself): it sells labels and has a review desk, and
// Evaluate refuses it like any split too small to answer.
func (s *Server) AddRun(name string, h *eval.Hidden, budget int) (string, error) {
	if !runName.MatchString(name) {
		return "", fmt.Errorf("oracle: run name %q: want 1-128 of [A-Za-z0-9._-], starting alphanumeric", name)
	}
	if h == nil || h.K() < 2 || h.NTest()+h.NTrainStrong() == 0 {
		return "", fmt.Errorf("oracle: run %q: hidden gold missing, empty or with fewer than 2 classes", name)
	}
	if budget < 0 {
		return "", fmt.Errorf("oracle: run %q: negative budget %d", name, budget)
	}
	tok, err := newToken()
	if err != nil {
		return "", err
	}
	desk, err := newToken()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.runs[name]; ok {
		return "", fmt.Errorf("oracle: run %q already registered", name)
	}
	res := s.cfg.resolutionFor(h.NTest())
	s.runs[name] = &run{
		name: name, token: tok, deskToken: desk, h: h, budget: budget,
		charged: map[int]bool{}, bought: map[int]int{}, pending: map[int]ReviewItem{}, decided: map[int]bool{},
		evalBudget: s.cfg.evalBudget(h.NTest(), res), resolution: res,
		bucket: float64(s.cfg.EvalBurst), bucketAt: s.cfg.Now(),
	}
	s.audit1(auditLine{Run: name, Client: "server", Endpoint: "add_run", Size: budget,
		Outcome: fmt.Sprintf("ok: %d test rows, %d evaluations at resolution %g", h.NTest(), s.runs[name].evalBudget, res)})
	return tok, nil
}

// DeskToken returns the review-desk token of a run: it may list escalated
// items, record human decisions and read budget and decisions, but neither
// buy gold labels nor evaluate predictions.
func (s *Server) DeskToken(name string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.runs[name]
	if !ok {
		return "", fmt.Errorf("oracle: unknown run %q", name)
	}
	return r.deskToken, nil
}

// Handler is the HTTP API (what Start serves).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/{run}/info", s.endpoint("info", roleAny, s.info))
	mux.HandleFunc("POST /v1/runs/{run}/label", s.endpoint("label", roleRun, s.label))
	mux.HandleFunc("GET /v1/runs/{run}/budget", s.endpoint("budget", roleAny, s.budgetH))
	mux.HandleFunc("POST /v1/runs/{run}/evaluate", s.endpoint("evaluate", roleRun, s.evaluate))
	mux.HandleFunc("POST /v1/runs/{run}/escalate", s.endpoint("escalate", roleRun, s.escalate))
	mux.HandleFunc("GET /v1/runs/{run}/pending", s.endpoint("pending", roleAny, s.pendingH))
	mux.HandleFunc("POST /v1/runs/{run}/decide", s.endpoint("decide", roleDesk, s.decide))
	mux.HandleFunc("GET /v1/runs/{run}/decisions", s.endpoint("decisions", roleAny, s.decisions))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.audit1(auditLine{Client: r.RemoteAddr, Endpoint: r.Method + " " + r.URL.Path, Outcome: "refused: " + CodeNotFound,
			noise: true, code: CodeNotFound})
		writeErr(w, &RefusedError{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such endpoint: " + clipValid(r.Method+" "+r.URL.Path, maxAuditName)})
	})
	// The router answers some requests itself with a redirect (a path with
	// "//" or ".." is sent to its clean form): those are audited too.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		mux.ServeHTTP(rec, r)
		if rec.status >= 300 && rec.status < 400 {
			s.audit1(auditLine{Client: r.RemoteAddr, Endpoint: r.Method + " " + r.URL.Path,
				Outcome: fmt.Sprintf("redirect: %d to %s", rec.status, w.Header().Get("Location")), noise: true, code: "redirect"})
		}
	})
}

// Start listens on Config.Addr and serves in the background. It returns the
// base URL, e.g. http://127.0.0.1:41234.
func (s *Server) Start() (string, error) {
	srv, url, err := httpbg.Start(s.cfg.Addr, s.Handler())
	if err != nil {
		return "", fmt.Errorf("oracle: %w", err)
	}
	s.http = srv
	return url, nil
}

// Close stops serving and closes the audit log.
func (s *Server) Close() error {
	var errs []error
	if err := s.http.Close(); err != nil {
		errs = append(errs, fmt.Errorf("oracle: shutdown: %w", err))
	}
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	s.flushNoiseLocked(s.cfg.Now().UTC(), true)
	if s.file != nil {
		if err := s.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("oracle: audit log: %w", err))
		}
		s.file = nil
		s.audit = io.Discard
	}
	return errors.Join(errs...)
}

// Request plumbing.

type role int

const (
	roleRun role = 1 << iota
	roleDesk
	roleAny = roleRun | roleDesk
)

// call is the per-request state handlers fill in for the audit line.
type call struct {
	r    *run
	role role
	req  *http.Request
	line *auditLine
}

type handler func(w http.ResponseWriter, c *call) error

// endpoint authenticates, dispatches and audits one request. Handlers return
// a *RefusedError to refuse; anything else is a 500.
func (s *Server) endpoint(name string, allowed role, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		line := auditLine{Run: req.PathValue("run"), Client: req.RemoteAddr, Endpoint: name}
		if a := req.Header.Get("X-W2S-Client"); a != "" {
			line.Client = clip(a, 64) + "@" + req.RemoteAddr
		}
		body := &bodyRecorder{r: req.Body}
		req.Body = body
		err := s.serve(w, req, name, allowed, h, &line)
		var re *RefusedError
		switch {
		case err == nil:
			line.Outcome = "ok"
		case errors.As(err, &re):
			line.Outcome = "refused: " + re.Code + ": " + re.Message
			body.note(&line, req.ContentLength)
			switch re.Code {
			case CodeBadToken, CodeUnknownRun:
				line.noise, line.code = true, re.Code
			}
			writeErr(w, re)
		default:
			line.Outcome = "error: " + err.Error()
			writeErr(w, &RefusedError{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()})
		}
		s.audit1(line)
	}
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request, name string, allowed role, h handler, line *auditLine) error {
	s.mu.RLock()
	r, ok := s.runs[req.PathValue("run")]
	s.mu.RUnlock()
	if !ok {
		return &RefusedError{Status: http.StatusNotFound, Code: CodeUnknownRun, Message: fmt.Sprintf("unknown run %q", clipValid(req.PathValue("run"), maxAuditName))}
	}
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return &RefusedError{Status: http.StatusUnauthorized, Code: CodeBadToken, Message: "missing bearer token"}
	}
	var got role
	switch {
	case subtle.ConstantTimeCompare([]byte(tok), []byte(r.token)) == 1:
		got = roleRun
	case subtle.ConstantTimeCompare([]byte(tok), []byte(r.deskToken)) == 1:
		got = roleDesk
	default:
		return &RefusedError{Status: http.StatusUnauthorized, Code: CodeBadToken, Message: "bad token for run " + r.name}
	}
	if got == roleRun {
		line.Client = "run:" + line.Client
	} else {
		line.Client = "desk:" + line.Client
	}
	if got&allowed == 0 {
		return &RefusedError{Status: http.StatusForbidden, Code: CodeForbidden, Message: fmt.Sprintf("a %s token may not call %s", roleName(got), name)}
	}
	return h(w, &call{r: r, role: got, req: req, line: line})
}

func roleName(r role) string {
	if r == roleDesk {
		return "desk"
	}
	return "run"
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func writeErr(w http.ResponseWriter, e *RefusedError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(b, '\n'))
	return err
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// malformed, so a client typo cannot pass silently.
func decode(c *call, v any) error {
	body := http.MaxBytesReader(nil, c.req.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeMalformed, Message: "request body: " + err.Error()}
	}
	if dec.More() {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeMalformed, Message: "request body: trailing data after the JSON value"}
	}
	return nil
}

// Endpoints.

func (s *Server) info(w http.ResponseWriter, c *call) error {
	c.r.mu.Lock()
	left := c.r.evalBudget - c.r.nEval
	c.r.mu.Unlock()
	return writeJSON(w, Info{Run: c.r.name, K: c.r.h.K(), NTrainStrong: c.r.h.NTrainStrong(), NTest: c.r.h.NTest(), Role: roleName(c.role),
		Evaluations: c.r.evalBudget, EvaluationsLeft: max(0, left), Resolution: c.r.resolution})
}
