package oracle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/internal/testenv"
)

// fixture is a real run: the UCI sentiment sentences split as experiment
// splits them for seed 1, with an oracle serving its gold on localhost.
type fixture struct {
	ds     *data.Dataset
	split  data.Split
	hidden *eval.Hidden
	srv    *Server
	base   string
	token  string
	desk   string
	audit  string
	client *Client
}

var (
	sentOnce sync.Once
	sentDS   *data.Dataset
	sentErr  error
)

func sentiment(t *testing.T) *data.Dataset {
	t.Helper()
	sentOnce.Do(func() { sentDS, sentErr = data.LoadBuiltin(context.Background(), "sentiment", io.Discard) })
	if sentErr != nil {
		t.Fatalf("load sentiment: %v", sentErr)
	}
	return sentDS
}

func newFixture(t *testing.T, cfg Config, budget int) *fixture {
	t.Helper()
	ds := sentiment(t)
	sp, h, err := SplitHidden(ds, 1, 0, [3]float64{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuditPath = filepath.Join(t.TempDir(), "audit.jsonl")
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.AddRun("sent-s1", h, budget)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := srv.DeskToken("sent-s1")
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &fixture{ds: ds, split: sp, hidden: h, srv: srv, base: base, token: tok, desk: desk,
		audit: cfg.AuditPath, client: NewClient(base, "sent-s1", tok)}
}

func (f *fixture) auditLines(t *testing.T) []auditLine {
	t.Helper()
	b, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	var out []auditLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s:%d: not JSON: %v", f.audit, n, err)
		}
		if l.Time.IsZero() || l.Endpoint == "" || l.Outcome == "" || l.Client == "" {
			t.Fatalf("%s:%d: incomplete audit line %s", f.audit, n, sc.Text())
		}
		out = append(out, l)
	}
	return out
}

func wantRefused(t *testing.T, err error, code string, status int) {
	t.Helper()
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a refusal %s", err, code)
	}
	if re.Code != code || re.Status != status || re.Message == "" {
		t.Fatalf("refusal %d %s %q, want %d %s with a message", re.Status, re.Code, re.Message, status, code)
	}
}

func TestLabelReturnsGoldAndCharges(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{}, 5)
	ctx := context.Background()
	ids := []int{0, 7, 7, 3} // a repeat within the request is charged once
	labels, left, err := f.client.Label(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if want := f.ds.Examples[f.split.TrainStrong[id]].Label; labels[i] != want {
			t.Errorf("label of id %d = %d, gold %d", id, labels[i], want)
		}
	}
	if left != 2 {
		t.Errorf("remaining = %d, want 2", left)
	}
	// Asking again is free and answers the same.
	again, left, err := f.client.Label(ctx, []int{3, 0})
	if err != nil || left != 2 || again[0] != labels[3] || again[1] != labels[0] {
		t.Errorf("re-asking: %v %d %v", again, left, err)
	}
	// Three new ids with two left: refused whole, nothing charged.
	_, _, err = f.client.Label(ctx, []int{1, 2, 4})
	wantRefused(t, err, CodeOverBudget, http.StatusConflict)
	total, spent, err := f.client.Budget(ctx)
	if err != nil || total != 5 || spent != 3 {
		t.Errorf("budget = %d/%d (%v), want 3 of 5 spent", spent, total, err)
	}
	if _, left, err = f.client.Label(ctx, []int{1, 2}); err != nil || left != 0 {
		t.Errorf("last two: left %d, %v", left, err)
	}
}

// TestConcurrentBudget: many clients buying overlapping ids at once never
// get more distinct labels than the budget, and what is charged is exactly
// the number of distinct ids handed out.
func TestConcurrentBudget(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	const budget = 40
	f := newFixture(t, Config{}, budget)
	ctx := context.Background()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(f.base, "sent-s1", f.token)
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 10 {
				ids := []int{rng.IntN(120), rng.IntN(120), rng.IntN(120)}
				labels, _, err := c.Label(ctx, ids)
				if err != nil {
					if !IsRefused(err, CodeOverBudget) {
						t.Errorf("goroutine %d: %v", g, err)
					}
					continue
				}
				mu.Lock()
				for i, id := range ids {
					if prev, ok := got[id]; ok && prev != labels[i] {
						t.Errorf("id %d answered %d then %d", id, prev, labels[i])
					}
					got[id] = labels[i]
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	_, spent, err := f.client.Budget(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if spent > budget || spent != len(got) {
		t.Errorf("spent %d, distinct labels handed out %d, budget %d", spent, len(got), budget)
	}
	if spent < budget-2 {
		t.Errorf("spent only %d of %d: 240 requests over 120 ids should nearly exhaust it", spent, budget)
	}
}

// TestRefusals: each kind of bad request gets its own clear refusal, and each
// is in the audit log with its code.
func TestRefusals(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{}, 3)
	ctx := context.Background()
	nTest, k := f.hidden.NTest(), f.hidden.K()
	raw := func(method, path, token, body string) error {
		req, _ := http.NewRequest(method, f.base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		re := &RefusedError{Status: resp.StatusCode}
		if err := json.NewDecoder(resp.Body).Decode(re); err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		return re
	}
	desk := NewClient(f.base, "sent-s1", f.desk)
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"bad token", func() error { _, _, err := NewClient(f.base, "sent-s1", "nope").Label(ctx, []int{1}); return err }, CodeBadToken, 401},
		{"no token", func() error { return raw("GET", "/v1/runs/sent-s1/budget", "", "") }, CodeBadToken, 401},
		{"unknown run", func() error { _, _, err := NewClient(f.base, "other", f.token).Budget(ctx); return err }, CodeUnknownRun, 404},
		{"negative id", func() error { _, _, err := f.client.Label(ctx, []int{-1}); return err }, CodeBadIDs, 400},
		{"id past train_strong", func() error {
			_, _, err := f.client.Label(ctx, []int{f.hidden.NTrainStrong()})
			return err
		}, CodeBadIDs, 400},
		{"over budget", func() error { _, _, err := f.client.Label(ctx, []int{1, 2, 3, 4}); return err }, CodeOverBudget, 409},
		{"malformed JSON", func() error { return raw("POST", "/v1/runs/sent-s1/label", f.token, `{"ids":[1,`) }, CodeMalformed, 400},
		{"unknown field", func() error { return raw("POST", "/v1/runs/sent-s1/label", f.token, `{"idz":[1]}`) }, CodeMalformed, 400},
		{"wrong rows", func() error { _, err := f.client.Evaluate(ctx, data.NewMatrix(nTest-1, k)); return err }, CodeBadShape, 400},
		{"wrong cols", func() error { _, err := f.client.Evaluate(ctx, data.NewMatrix(nTest, k+1)); return err }, CodeBadShape, 400},
		{"values short", func() error {
			m := data.NewMatrix(nTest, k)
			m.Values = m.Values[:5]
			_, err := f.client.Evaluate(ctx, m)
			return err
		}, CodeBadShape, 400},
		{"non-finite", func() error {
			// JSON cannot carry NaN, so the client cannot even send it.
			return raw("POST", "/v1/runs/sent-s1/evaluate", f.token, `{"rows":1,"cols":2,"values":[NaN,1]}`)
		}, CodeMalformed, 400},
		{"desk may not buy", func() error { _, _, err := desk.Label(ctx, []int{1}); return err }, CodeForbidden, 403},
		{"desk may not evaluate", func() error { _, err := desk.Evaluate(ctx, data.NewMatrix(nTest, k)); return err }, CodeForbidden, 403},
		{"run may not decide", func() error { _, err := f.client.Decide(ctx, 1, 0, "me"); return err }, CodeForbidden, 403},
		{"decide not pending", func() error { _, err := desk.Decide(ctx, 1, 0, "me"); return err }, CodeNotPending, 409},
		{"escalate bad id", func() error { return f.client.Escalate(ctx, []ReviewItem{{ID: -3}}) }, CodeBadIDs, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantRefused(t, c.call(), c.code, c.status) })
	}
	_, spent, err := f.client.Budget(ctx)
	if err != nil || spent != 0 {
		t.Errorf("refusals charged %d (%v)", spent, err)
	}
	lines := f.auditLines(t)
	seen := map[string]bool{}
	for _, l := range lines {
		if code, ok := strings.CutPrefix(l.Outcome, "refused: "); ok {
			seen[strings.SplitN(code, ":", 2)[0]] = true
		}
	}
	for _, c := range cases {
		if !seen[c.code] {
			t.Errorf("no audit line refused with %s", c.code)
		}
	}
}

func TestAuditLog(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{}, 10)
	ctx := context.Background()
	f.client.SetAgent("tester")
	if _, _, err := f.client.Label(ctx, []int{4, 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Evaluate(ctx, data.NewMatrix(f.hidden.NTest(), f.hidden.K())); err != nil {
		t.Fatal(err)
	}
	lines := f.auditLines(t)
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want add_run, label, evaluate: %+v", len(lines), lines)
	}
	l := lines[1]
	if l.Run != "sent-s1" || l.Endpoint != "label" || l.Outcome != "ok" || len(l.IDs) != 2 || l.IDs[0] != 4 ||
		!strings.HasPrefix(l.Client, "run:tester@127.0.0.1:") {
		t.Errorf("label line %+v", l)
	}
	if e := lines[2]; e.Endpoint != "evaluate" || e.Size != f.hidden.NTest() || e.Outcome != "ok" || e.Flag != "" {
		t.Errorf("evaluate line %+v", e)
	}
}

// onehot returns test predictions that put probability 0.9 on pred[i].
func onehot(pred []int, k int) data.Matrix {
	m := data.NewMatrix(len(pred), k)
	for i, c := range pred {
		for j := range k {
			m.Set(i, j, 0.1/float32(k-1))
		}
		m.Set(i, c, 0.9)
	}
	return m
}

func TestEvaluateMatchesEval(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{}, 0)
	gold := f.ds.Labels(f.split.Test)
	rng := rand.New(rand.NewPCG(3, 4))
	m := data.NewMatrix(len(gold), 2)
	for i := range gold {
		p := rng.Float32()
		m.Set(i, 0, 1-p)
		m.Set(i, 1, p)
	}
	got, err := f.client.Evaluate(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	// Answers are rounded to the run's grid: 0.1 for 1000 test rows.
	if got.Resolution != 0.1 {
		t.Errorf("resolution %v, want 0.1 for %d test rows", got.Resolution, len(gold))
	}
	onGrid := func(v float64) bool { return math.Abs(v/got.Resolution-math.Round(v/got.Resolution)) < 1e-9 }
	if want := eval.Accuracy(m, gold); math.Abs(got.Accuracy-want) > got.Resolution/2+1e-12 || !onGrid(got.Accuracy) {
		t.Errorf("accuracy %v, want %v rounded to %v", got.Accuracy, want, got.Resolution)
	}
	if want := eval.AUROC(m, gold); math.Abs(got.AUROC-want) > got.Resolution/2+1e-12 || !onGrid(got.AUROC) {
		t.Errorf("AUROC %v, want %v rounded to %v", got.AUROC, want, got.Resolution)
	}
	if got.N != len(gold) {
		t.Errorf("N = %d", got.N)
	}
}

// TestEvalChannelBounds: the grid and the number of answers follow the test
// split's size (evalbudget.go); past the budget, and on a split too small
// for any answer, Evaluate is refused with a message saying why, and Info
// tells a client what it has.
func TestEvalChannelBounds(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for _, c := range []struct {
		limit, nTest int
		cfg          Config
		resolution   float64
		evaluations  int
	}{
		{0, 1000, Config{}, 0.1, 10},                   // 0.1 bits × 1000 rows / 6.9 bits = 14, capped at 10
		{0, 1000, Config{MaxEvaluations: 50}, 0.1, 14}, // the bit budget binds
		{0, 1000, Config{LeakFraction: 0.02}, 0.1, 2},  // 20 bits / 6.9
		{1800, 600, Config{}, 0.1, 8},                  // 2/√600 = 0.082 → 0.1; 60 bits / 6.9
		{300, 100, Config{}, 0, 0},                     // would need a grid of 0.2
		{0, 1000, Config{Resolution: 0.1, LeakFraction: 1}, 0.1, 10},
	} {
		t.Run(fmt.Sprintf("n%d-%+v", c.nTest, c.cfg), func(t *testing.T) {
			ds := sentiment(t)
			sp, h, err := SplitHidden(ds, 1, c.limit, [3]float64{})
			if err != nil {
				t.Fatal(err)
			}
			if h.NTest() != c.nTest {
				t.Fatalf("test split of %d rows, want %d", h.NTest(), c.nTest)
			}
			cfg := c.cfg
			cfg.EvalPerMinute, cfg.EvalBurst = 1e9, 1<<20
			srv, err := NewServer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := srv.AddRun("r", h, 0)
			base, err := srv.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			cl := NewClient(base, "r", tok)
			ctx := context.Background()
			info, err := cl.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.Resolution != c.resolution || info.Evaluations != c.evaluations || info.EvaluationsLeft != c.evaluations {
				t.Errorf("info: resolution %v, %d evaluations (%d left); want %v, %d", info.Resolution, info.Evaluations, info.EvaluationsLeft, c.resolution, c.evaluations)
			}
			gold := ds.Labels(sp.Test)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < c.evaluations; i++ {
				pred := make([]int, len(gold))
				for j := range pred {
					pred[j] = gold[j] // a good student: right on about 80%
					if rng.Float64() < 0.2 {
						pred[j] = 1 - gold[j]
					}
				}
				m, err := cl.Evaluate(ctx, onehot(pred, 2))
				if err != nil {
					t.Fatalf("evaluation %d of %d: %v", i+1, c.evaluations, err)
				}
				if m.EvaluationsLeft != c.evaluations-i-1 || m.Resolution != c.resolution || math.Abs(m.Accuracy-0.8) > 0.1 {
					t.Errorf("evaluation %d: %+v", i+1, m)
				}
			}
			_, err = cl.Evaluate(ctx, onehot(gold, 2))
			wantRefused(t, err, CodeEvalBudget, http.StatusForbidden)
			var re *RefusedError
			errors.As(err, &re)
			if !strings.Contains(re.Message, fmt.Sprintf("%d rows", c.nTest)) {
				t.Errorf("refusal does not name the test split's size: %s", re.Message)
			}
		})
	}
	if _, err := NewServer(Config{Resolution: 0.2}); err == nil {
		t.Error("a resolution of 0.2 accepted")
	}
	if _, err := NewServer(Config{LeakFraction: 2}); err == nil {
		t.Error("a leak fraction of 2 bits per row accepted")
	}
}

// TestProbingAttackStopped runs the classic attack: submit a baseline, then
// flip one prediction at a time and read that example's label off the change
// in accuracy. The oracle must flag it and stop it after a handful.
func TestProbingAttackStopped(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for _, noisy := range []bool{false, true} {
		name := "exact"
		if noisy {
			name = "hidden under noise"
		}
		t.Run(name, func(t *testing.T) {
			// A channel open enough that the probing detector, not the
			// evaluation budget, must stop the attack: fine answers and
			// many of them (the defaults give 10 answers on a 0.1 grid).
			f := newFixture(t, Config{EvalPerMinute: 1e9, EvalBurst: 1 << 20, MaxEvaluations: 1 << 20, Resolution: 0.001, LeakFraction: 1}, 0)
			ctx := context.Background()
			n, k := f.hidden.NTest(), f.hidden.K()
			gold := f.ds.Labels(f.split.Test)
			rng := rand.New(rand.NewPCG(5, 6))
			pred := make([]int, n)
			submit := func(p []int) (Metrics, error) {
				m := onehot(p, k)
				if noisy { // move every probability a little so no row is bit-identical
					for i := range m.Values {
						m.Values[i] += 0.01 * rng.Float32()
					}
				}
				return f.client.Evaluate(ctx, m)
			}
			base, err := submit(pred)
			if err != nil {
				t.Fatal(err)
			}
			recovered, correct := 0, 0
			var stop error
			for i := 0; i < n; i++ {
				p := append([]int(nil), pred...)
				p[i] = 1
				m, err := submit(p)
				if err != nil {
					stop = err
					break
				}
				guess := 0
				if m.Accuracy > base.Accuracy {
					guess = 1
				}
				recovered++
				if guess == gold[i] {
					correct++
				}
			}
			if stop == nil {
				t.Fatalf("attack ran through all %d test examples unrefused", n)
			}
			wantRefused(t, stop, CodeProbing, http.StatusForbidden)
			if correct != recovered {
				t.Logf("attack read %d of %d labels right", correct, recovered)
			}
			limit := 5
			if noisy {
				limit = 20
			}
			if recovered >= limit {
				t.Errorf("attack recovered %d labels before it was stopped, want < %d", recovered, limit)
			}
			// Stays blocked, even for a quite different submission.
			if _, err := f.client.Evaluate(ctx, onehot(gold, k)); !IsRefused(err, CodeProbing) {
				t.Errorf("after blocking: %v", err)
			}
			flagged := 0
			for _, l := range f.auditLines(t) {
				if l.Endpoint == "evaluate" && l.Flag == "probing" {
					flagged++
				}
			}
			if flagged < 2 {
				t.Errorf("%d evaluate lines flagged probing", flagged)
			}
			t.Logf("stopped after %d probes (%d correct), %d audit lines flagged", recovered, correct, flagged)
		})
	}
}

// TestHonestEvaluationsPass: a loop that evaluates freshly trained models
// (every probability different) is neither flagged nor refused within its
// evaluation budget, and an identical resubmission is not probing.
func TestHonestEvaluationsPass(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{EvalBurst: 100}, 0)
	ctx := context.Background()
	n, k := f.hidden.NTest(), f.hidden.K()
	rng := rand.New(rand.NewPCG(8, 9))
	for round := range DefaultMaxEvaluations / 2 {
		m := data.NewMatrix(n, k)
		for i := range n {
			p := rng.Float32()
			m.Set(i, 0, p)
			m.Set(i, 1, 1-p)
		}
		for range 2 {
			if _, err := f.client.Evaluate(ctx, m); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	for _, l := range f.auditLines(t) {
		if l.Flag != "" {
			t.Errorf("honest evaluation flagged: %+v", l)
		}
	}
}

func TestRateLimit(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, Config{EvalPerMinute: 6, EvalBurst: 2, MaxEvaluations: 4, Now: clock}, 0)
	// The first three answers go through the token bucket; the fifth call
	// is refused by the run's evaluation budget of 4.
	ctx := context.Background()
	n, k := f.hidden.NTest(), f.hidden.K()
	fresh := func(seed uint64) data.Matrix {
		rng := rand.New(rand.NewPCG(seed, 1))
		m := data.NewMatrix(n, k)
		for i := range m.Values {
			m.Values[i] = rng.Float32()
		}
		return m
	}
	for i := range 2 {
		if _, err := f.client.Evaluate(ctx, fresh(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.client.Evaluate(ctx, fresh(10))
	wantRefused(t, err, CodeRateLimited, http.StatusTooManyRequests)
	mu.Lock()
	now = now.Add(10 * time.Second) // one token back at 6 per minute
	mu.Unlock()
	if _, err := f.client.Evaluate(ctx, fresh(11)); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if _, err := f.client.Evaluate(ctx, fresh(12)); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Evaluate(ctx, fresh(13)) // fifth: past MaxEvaluations
	wantRefused(t, err, CodeEvalBudget, http.StatusForbidden)
}

func TestReviewQueue(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{}, 2)
	ctx := context.Background()
	desk := NewClient(f.base, "sent-s1", f.desk)
	texts := f.ds.Texts(f.split.TrainStrong[:4])
	var items []ReviewItem
	for i, s := range texts {
		items = append(items, ReviewItem{ID: i, Round: 1, Text: s, WeakLabel: 0, StudentLabel: 1, Classes: f.ds.Classes})
	}
	if err := f.client.Escalate(ctx, items); err != nil {
		t.Fatal(err)
	}
	p, err := desk.Pending(ctx)
	if err != nil || len(p) != 4 || p[2].Text != texts[2] {
		t.Fatalf("pending %v %v", p, err)
	}
	if _, err := desk.Decide(ctx, 0, 1, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Decide(ctx, 1, Skipped, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Decide(ctx, 2, 0, "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = desk.Decide(ctx, 3, 0, "bob") // budget of 2 spent by two labels; the skip was free
	wantRefused(t, err, CodeOverBudget, http.StatusConflict)
	_, err = desk.Decide(ctx, 0, 0, "bob")
	wantRefused(t, err, CodeNotPending, http.StatusConflict)
	_, err = desk.Decide(ctx, 3, 5, "bob")
	wantRefused(t, err, CodeMalformed, http.StatusBadRequest)
	ds, err := f.client.Decisions(ctx)
	if err != nil || len(ds) != 3 {
		t.Fatalf("decisions %v %v", ds, err)
	}
	if ds[0].ID != 0 || ds[0].Label != 1 || ds[0].Reviewer != "ann" || ds[0].Round != 1 || ds[0].Time.IsZero() || ds[1].Label != Skipped {
		t.Errorf("decisions %+v", ds)
	}
	// Re-escalating a decided item is ignored; a skipped one comes back.
	if err := f.client.Escalate(ctx, items[:2]); err != nil {
		t.Fatal(err)
	}
	p, _ = desk.Pending(ctx)
	if len(p) != 2 || p[0].ID != 3 || p[1].ID != 1 {
		t.Errorf("pending after re-escalation: %+v", p)
	}
}

func TestAddRunChecks(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := eval.NewHidden([]int{0, 1}, []int{1, 0}, 2)
	for _, c := range []struct {
		name   string
		h      *eval.Hidden
		budget int
	}{{"bad name!", h, 1}, {"", h, 1}, {"ok", nil, 1}, {"ok", h, -1}} {
		if _, err := srv.AddRun(c.name, c.h, c.budget); err == nil {
			t.Errorf("AddRun(%q, %v, %d) accepted", c.name, c.h != nil, c.budget)
		}
	}
	if _, err := srv.AddRun("ok", h, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddRun("ok", h, 1); err == nil {
		t.Error("duplicate run accepted")
	}
	if _, err := srv.AddRun("none", eval.NewHidden(nil, nil, 2), 1); err == nil {
		t.Error("a run without any gold accepted")
	}
}

// TestLabelOnlyRun: a run registered without test gold (a drift phase's
// training rows) sells labels and refuses every evaluation.
func TestLabelOnlyRun(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.AddRun("labels", eval.NewHidden([]int{1, 0, 1}, nil, 2), 2)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := NewClient(base, "labels", tok)
	got, left, err := c.Label(ctx, []int{2, 1})
	if err != nil || !reflect.DeepEqual(got, []int{1, 0}) || left != 0 {
		t.Fatalf("Label = %v, %d, %v", got, left, err)
	}
	if _, err := c.Evaluate(ctx, data.NewMatrix(0, 2)); !IsRefused(err, CodeEvalBudget) {
		t.Errorf("Evaluate of a run without test gold: %v", err)
	}
	info, err := c.Info(ctx)
	if err != nil || info.NTest != 0 || info.Evaluations != 0 || info.NTrainStrong != 3 {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

// TestMixedSpendingConcurrent: label purchases and human decisions draw on
// one budget; racing them never overspends.
func TestMixedSpendingConcurrent(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	const budget = 15
	f := newFixture(t, Config{}, budget)
	ctx := context.Background()
	desk := NewClient(f.base, "sent-s1", f.desk)
	var items []ReviewItem
	for i := 200; i < 230; i++ {
		items = append(items, ReviewItem{ID: i, Round: 2, WeakLabel: 0, StudentLabel: 1})
	}
	if err := f.client.Escalate(ctx, items); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	bought, decided := map[int]bool{}, 0
	for g := range 10 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 3 {
				id := g*3 + j
				if _, _, err := f.client.Label(ctx, []int{id}); err == nil {
					mu.Lock()
					bought[id] = true
					mu.Unlock()
				} else if !IsRefused(err, CodeOverBudget) {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 3 {
				if _, err := desk.Decide(ctx, 200+g*3+j, 1, "r"); err == nil {
					mu.Lock()
					decided++
					mu.Unlock()
				} else if !IsRefused(err, CodeOverBudget) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	_, spent, err := f.client.Budget(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if spent != budget || len(bought)+decided != budget {
		t.Errorf("spent %d = %d bought + %d decided, want exactly the budget %d", spent, len(bought), decided, budget)
	}
}

// TestRevealErrors: the two gold readers of eval.Hidden refuse bad input.
func TestRevealErrors(t *testing.T) {
	h := eval.NewHidden([]int{0, 1, 1}, []int{0, 1}, 2)
	for _, i := range []int{-1, 3} {
		if _, err := h.TrainStrongLabel(i); !errors.Is(err, eval.ErrShape) {
			t.Errorf("TrainStrongLabel(%d): %v", i, err)
		}
	}
	if y, err := h.TrainStrongLabel(2); err != nil || y != 1 {
		t.Errorf("TrainStrongLabel(2) = %d, %v", y, err)
	}
	ok := data.Matrix{Rows: 2, Cols: 2, Values: []float32{0.8, 0.2, 0.3, 0.7}}
	if acc, auc, err := h.TestMetrics(ok); err != nil || acc != 1 || auc != 1 {
		t.Errorf("TestMetrics = %v %v %v, want 1 1", acc, auc, err)
	}
	nan := data.Matrix{Rows: 2, Cols: 2, Values: []float32{0.8, 0.2, float32(math.NaN()), 0.7}}
	cases := []struct {
		m    data.Matrix
		want error
	}{
		{data.NewMatrix(3, 2), eval.ErrShape},
		{data.NewMatrix(2, 3), eval.ErrShape},
		{data.Matrix{Rows: 2, Cols: 2, Values: []float32{1}}, eval.ErrShape},
		{nan, eval.ErrNotFinite},
	}
	for i, c := range cases {
		if _, _, err := h.TestMetrics(c.m); !errors.Is(err, c.want) {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
	}
	one := eval.NewHidden([]int{0}, []int{1, 1}, 2)
	if _, _, err := one.TestMetrics(ok); !errors.Is(err, eval.ErrGold) {
		t.Errorf("single-class test gold: %v", err)
	}
}

// TestOneChargePerItem: an id costs one unit of budget whether it is bought
// with Label, decided at the desk, or both, in either order.
func TestOneChargePerItem(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for _, order := range []string{"label then decide", "decide then label"} {
		t.Run(order, func(t *testing.T) {
			f := newFixture(t, Config{}, 3)
			ctx := context.Background()
			desk := NewClient(f.base, "sent-s1", f.desk)
			const id = 9
			gold := f.ds.Examples[f.split.TrainStrong[id]].Label
			if err := f.client.Escalate(ctx, []ReviewItem{{ID: id, Round: 1, WeakLabel: 0, StudentLabel: 1}}); err != nil {
				t.Fatal(err)
			}
			buy := func() {
				labels, left, err := f.client.Label(ctx, []int{id})
				if err != nil || labels[0] != gold || left != 2 {
					t.Fatalf("label: %v left %d (%v), want gold %d with 2 left", labels, left, err, gold)
				}
			}
			decide := func() {
				if _, err := desk.Decide(ctx, id, 1-gold, "ann"); err != nil { // a person may disagree with gold
					t.Fatal(err)
				}
			}
			if order == "label then decide" {
				buy()
				decide()
			} else {
				decide()
				buy()
			}
			if _, spent, err := f.client.Budget(ctx); err != nil || spent != 1 {
				t.Errorf("spent %d (%v) after %s on one item, want 1", spent, err, order)
			}
			// The other two units are still there for other items.
			if _, left, err := f.client.Label(ctx, []int{1, 2}); err != nil || left != 0 {
				t.Errorf("two more labels: left %d, %v", left, err)
			}
			ds, _ := f.client.Decisions(ctx)
			if len(ds) != 1 || ds[0].Label != 1-gold {
				t.Errorf("decisions %+v: the person's label must be kept as given", ds)
			}
		})
	}
}

// TestAuditBounded: a refused request with a huge body leaves one short
// line (the body's start and length, the ids cut with their count); a
// flood of unauthenticated requests is logged up to the per-minute limit
// and summarised; a redirect by the router is audited.
func TestAuditBounded(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	f := newFixture(t, Config{NoisePerMinute: 5}, 2)
	ctx := context.Background()
	// Over budget with 50000 ids: refused, and a big body.
	ids := make([]int, 50000)
	for i := range ids {
		ids[i] = i % f.hidden.NTrainStrong()
	}
	_, _, err := f.client.Label(ctx, ids)
	wantRefused(t, err, CodeOverBudget, http.StatusConflict)
	// Malformed: 2 MB of junk.
	junk := strings.Repeat("x", 2<<20)
	req, _ := http.NewRequest("POST", f.base+"/v1/runs/sent-s1/label", strings.NewReader(junk))
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A path the router cleans: answered with a redirect.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(f.base + "/v1/runs/sent-s1/../sent-s1/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 {
		t.Fatalf("unclean path answered %d, want a redirect", resp.StatusCode)
	}
	// 300 requests with a bad token and 300 to a junk path with a long name.
	for i := range 300 {
		_, _, _ = NewClient(f.base, "sent-s1", "guess").Budget(ctx)
		resp, err := http.Get(f.base + "/" + strings.Repeat("z", 5000) + fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := f.srv.Close(); err != nil { // flushes the noise summary
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	lines := f.auditLines(t)
	if len(raw) > 64<<10 {
		t.Errorf("audit log is %d bytes after 600 junk requests and two huge bodies", len(raw))
	}
	var overBudget, malformed, redirect *auditLine
	noise, summarised := 0, 0
	for i := range lines {
		l := &lines[i]
		switch {
		case l.Endpoint == "label" && strings.Contains(l.Outcome, CodeOverBudget):
			overBudget = l
		case l.Endpoint == "label" && strings.Contains(l.Outcome, CodeMalformed):
			malformed = l
		case strings.HasPrefix(l.Outcome, "redirect"):
			redirect = l
		case l.Endpoint == "noise_summary":
			summarised += l.Size
		case strings.Contains(l.Outcome, CodeBadToken) || strings.Contains(l.Outcome, CodeNotFound):
			noise++
			if len(l.Endpoint) > 200 {
				t.Errorf("a junk path is logged with %d bytes", len(l.Endpoint))
			}
		}
	}
	if overBudget == nil || len(overBudget.IDs) != maxAuditIDs || overBudget.Size != 50000 || !overBudget.Truncated || overBudget.BodyBytes < 50000 {
		t.Errorf("over-budget line: %d ids, size %d, truncated %v, body %d bytes", len(overBudget.IDs), overBudget.Size, overBudget.Truncated, overBudget.BodyBytes)
	}
	if malformed == nil || len(malformed.Body) > maxAuditBody+4 || !strings.HasPrefix(malformed.Body, "xxxx") || malformed.BodyBytes < 1<<10 || !malformed.Truncated {
		t.Errorf("malformed line: %+v", malformed)
	}
	if redirect == nil || !strings.Contains(redirect.Outcome, "/v1/runs/sent-s1/info") {
		t.Errorf("no audit line for the redirect: %+v", redirect)
	}
	// One client: the redirect and 4 junk requests logged in full, the
	// other 596 counted in a summary.
	if noise != 4 || noise+summarised != 600 {
		t.Errorf("%d noise lines logged in full and %d summarised, want 4 and the rest of 600", noise, summarised)
	}
	t.Logf("audit log: %d lines, %d bytes; noise: %d in full, %d summarised", len(lines), len(raw), noise, summarised)
}

// TestAccessFile: the access file is written 0600 from the start, read
// back, and refused once other users may read it.
func TestAccessFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "access.json")
	a := Access{Oracle: "http://127.0.0.1:1", Runs: []AccessRun{{Run: "r1", DeskToken: "d1"}, {Run: "r2", DeskToken: "d2"}}}
	if err := WriteAccess(p, a); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode(), err)
	}
	got, err := ReadAccess(p)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := got.DeskToken("r2"); err != nil || tok != "d2" {
		t.Errorf("desk token of r2: %q, %v", tok, err)
	}
	if _, err := got.DeskToken("r3"); err == nil || !strings.Contains(err.Error(), "r1, r2") {
		t.Errorf("unknown run: %v", err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadAccess(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable access file was read: %v", err)
	}
}
