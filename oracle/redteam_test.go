package oracle

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
)

// The red team: an adversary holding one run token tries to reconstruct the
// test labels through Evaluate, against a real server over HTTP, with the
// call budget of the attack that recovered every label of a 100-row test
// split in 115 calls. It is patient: the clock moves a minute per call, so
// the rate limit never stops it. This file uses only the API that existed
// before the evaluation channel was bounded, so it also runs unchanged
// against the old server (to measure "before").

// attackCalls is the attack's call budget: 115 calls, as in the issue.
const attackCalls = 115

// patientClock advances by a minute every time it is read.
type patientClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *patientClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

// attackTarget is one run over a real sentiment test split.
type attackTarget struct {
	client *Client
	gold   []int // the test labels, held by the test only, to score the attack
}

func newAttackTarget(t *testing.T, limit int) attackTarget {
	t.Helper()
	ds := sentiment(t)
	sp, h, err := SplitHidden(ds, 1, limit, [3]float64{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &patientClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv, err := NewServer(Config{AuditPath: filepath.Join(t.TempDir(), "audit.jsonl"), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.AddRun("target", h, 0)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return attackTarget{client: NewClient(base, "target", tok), gold: ds.Labels(sp.Test)}
}

// attackResult scores a guess of every test label.
type attackResult struct {
	name              string
	n                 int
	answered, refused int
	correct           int     // guesses equal to gold, out of n
	chance            float64 // accuracy of the best label-free guess (the majority class)
	determined, detOK int     // labels the attack read off outright, and how many were right
	lastRefusal       string
}

func (a attackResult) acc() float64 { return float64(a.correct) / float64(a.n) }

// margin is how far above chance a guess may land by luck: three standard
// errors of a coin flip per label.
func (a attackResult) margin() float64 { return 3 * 0.5 / math.Sqrt(float64(a.n)) }

func (a attackResult) String() string {
	s := fmt.Sprintf("%s, %d test labels: %d of %d calls answered; labels recovered %d/%d = %.3f vs chance %.3f (fail above %.3f)",
		a.name, a.n, a.answered, a.answered+a.refused, a.correct, a.n, a.acc(), a.chance, a.chance+a.margin())
	if a.determined > 0 {
		s += fmt.Sprintf("; %d labels read off outright, %d right", a.determined, a.detOK)
	}
	if a.lastRefusal != "" {
		s += "; last refusal: " + a.lastRefusal
	}
	return s
}

func score(name string, guess, gold []int) attackResult {
	r := attackResult{name: name, n: len(gold)}
	ones := 0
	for i, g := range gold {
		if guess[i] == g {
			r.correct++
		}
		ones += g
	}
	r.chance = math.Max(float64(ones), float64(len(gold)-ones)) / float64(len(gold))
	return r
}

// predictions turns class guesses into probabilities (0.9 on the class).
func predictions(pred []int) data.Matrix {
	m := data.NewMatrix(len(pred), 2)
	for i, c := range pred {
		m.Set(i, c, 0.9)
		m.Set(i, 1-c, 0.1)
	}
	return m
}

// randomQueryAttack submits random prediction vectors s_j ∈ {±1}^n and reads
// c_j = Σ_i s_ji z_i = 2n·acc_j − n off each answer, z = 2y−1 the unknown
// labels. It then solves the linear system (least squares when it has more
// answers than labels, which recovers every label exactly from exact
// answers; the minimum-norm solution otherwise) and also takes the boosting
// vote Σ_j s_j·sign(c_j) (Blum & Hardt 2015), which needs fewer answers.
func randomQueryAttack(t *testing.T, tg attackTarget) (linear, boost attackResult) {
	ctx := context.Background()
	n := len(tg.gold)
	rng := rand.New(rand.NewPCG(11, 12))
	var rows [][]float64
	var rhs []float64
	answered, refused, last := 0, 0, ""
	for range attackCalls {
		s := make([]float64, n)
		pred := make([]int, n)
		for i := range pred {
			s[i] = -1
			if rng.IntN(2) == 1 {
				pred[i], s[i] = 1, 1
			}
		}
		m, err := tg.client.Evaluate(ctx, predictions(pred))
		if err != nil {
			var re *RefusedError
			if !asRefused(err, &re) {
				t.Fatalf("evaluate: %v", err)
			}
			refused++
			last = re.Code
			continue
		}
		answered++
		rows = append(rows, s)
		rhs = append(rhs, 2*float64(n)*m.Accuracy-float64(n))
	}
	z := leastSquares(rows, rhs, n)
	vote := make([]float64, n)
	for j, s := range rows {
		sign := 0.0
		if rhs[j] > 0 {
			sign = 1
		} else if rhs[j] < 0 {
			sign = -1
		}
		for i := range vote {
			vote[i] += sign * s[i]
		}
	}
	linear = score("random queries + linear solve", signs(z), tg.gold)
	boost = score("random queries + boosting vote", signs(vote), tg.gold)
	for _, r := range []*attackResult{&linear, &boost} {
		r.answered, r.refused, r.lastRefusal = answered, refused, last
	}
	return linear, boost
}

// flipOneAttack submits all-zero predictions, then flips one row at a time:
// a higher accuracy says that row is class 1, a lower one class 0; an equal
// or refused answer says nothing and the row is guessed 0.
func flipOneAttack(t *testing.T, tg attackTarget) attackResult {
	ctx := context.Background()
	n := len(tg.gold)
	guess := make([]int, n)
	known := make([]bool, n)
	answered, refused, last := 0, 0, ""
	ask := func(pred []int) (Metrics, bool) {
		m, err := tg.client.Evaluate(ctx, predictions(pred))
		if err != nil {
			var re *RefusedError
			if !asRefused(err, &re) {
				t.Fatalf("evaluate: %v", err)
			}
			refused++
			last = re.Code
			return m, false
		}
		answered++
		return m, true
	}
	base, baseOK := ask(make([]int, n))
	for i := 0; i < attackCalls-1 && i < n; i++ {
		pred := make([]int, n)
		pred[i] = 1
		m, ok := ask(pred)
		if !ok || !baseOK || m.Accuracy == base.Accuracy {
			continue
		}
		known[i] = true
		if m.Accuracy > base.Accuracy {
			guess[i] = 1
		}
	}
	r := score("flip one prediction at a time", guess, tg.gold)
	for i, k := range known {
		if k {
			r.determined++
			if guess[i] == tg.gold[i] {
				r.detOK++
			}
		}
	}
	r.answered, r.refused, r.lastRefusal = answered, refused, last
	return r
}

func asRefused(err error, re **RefusedError) bool {
	e, ok := err.(*RefusedError)
	if ok {
		*re = e
	}
	return ok
}

func signs(z []float64) []int {
	out := make([]int, len(z))
	for i, v := range z {
		if v > 0 {
			out[i] = 1
		}
	}
	return out
}

// leastSquares returns the minimum-norm least-squares solution of A z = b
// (A has len(b) rows of n values), through the smaller Gram matrix with a
// negligible ridge so that it is always solvable. No rows: all zeros.
func leastSquares(a [][]float64, b []float64, n int) []float64 {
	q := len(a)
	z := make([]float64, n)
	if q == 0 {
		return z
	}
	const ridge = 1e-9
	if q <= n { // z = Aᵀ (A Aᵀ)⁻¹ b
		g := make([][]float64, q)
		for i := range g {
			g[i] = make([]float64, q)
			for j := range g[i] {
				g[i][j] = dot(a[i], a[j])
			}
			g[i][i] += ridge
		}
		alpha := solve(g, append([]float64(nil), b...))
		for j, row := range a {
			for i := range z {
				z[i] += alpha[j] * row[i]
			}
		}
		return z
	}
	g := make([][]float64, n) // z = (Aᵀ A)⁻¹ Aᵀ b
	rhs := make([]float64, n)
	for i := range g {
		g[i] = make([]float64, n)
	}
	for k, row := range a {
		for i := range n {
			rhs[i] += row[i] * b[k]
			for j := range n {
				g[i][j] += row[i] * row[j]
			}
		}
	}
	for i := range g {
		g[i][i] += ridge
	}
	return solve(g, rhs)
}

func dot(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// solve solves g x = b by Gaussian elimination with partial pivoting.
func solve(g [][]float64, b []float64) []float64 {
	n := len(b)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(g[r][c]) > math.Abs(g[p][c]) {
				p = r
			}
		}
		g[c], g[p] = g[p], g[c]
		b[c], b[p] = b[p], b[c]
		if g[c][c] == 0 {
			continue
		}
		for r := c + 1; r < n; r++ {
			f := g[r][c] / g[c][c]
			for k := c; k < n; k++ {
				g[r][k] -= f * g[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= g[r][k] * x[k]
		}
		if g[r][r] != 0 {
			x[r] = s / g[r][r]
		}
	}
	return x
}

// TestReconstructionAttacks runs both attacks on a 100-row test split (the
// issue's setting: 300 sentences, a third of them test) and on the full
// 1000-row sentiment test split. Each attack gets a run of its own.
func TestReconstructionAttacks(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for _, c := range []struct {
		name  string
		limit int
	}{{"test-100", 300}, {"test-1000", 0}} {
		t.Run(c.name, func(t *testing.T) {
			linear, boost := randomQueryAttack(t, newAttackTarget(t, c.limit))
			flip := flipOneAttack(t, newAttackTarget(t, c.limit))
			for _, r := range []attackResult{linear, boost, flip} {
				t.Log(r)
				if r.acc() > r.chance+r.margin() {
					t.Errorf("%s: recovered %.3f of the test labels, chance %.3f: the evaluation channel leaks the test set", r.name, r.acc(), r.chance)
				}
			}
			if c.limit == 0 && linear.answered == 0 {
				// A channel that answers nobody is safe and useless; a
				// 1000-row test split must leave a run some answers.
				t.Errorf("no evaluation of a 1000-row test split was answered (last refusal %s)", linear.lastRefusal)
			}
		})
	}
}
