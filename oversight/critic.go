package oversight

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/student"
)

// Known labels of train_strong rows the loop has obtained through the oracle
// boundary: bought gold (Client.Label) and human review decisions. Keys are
// train_strong row indices.
type Known map[int]int

// CriticConfig sets the critic's evidence.
type CriticConfig struct {
	// Neighbours is the number of nearest labelled neighbours (strong-feature
	// space, cosine) that vote on a weak label; 0 means 10.
	Neighbours int
	// Threshold above which a weak label is flagged as wrong; 0 means 0.5.
	Threshold float64
}

func (c CriticConfig) withDefaults() CriticConfig {
	if c.Neighbours <= 0 {
		c.Neighbours = 10
	}
	if c.Threshold <= 0 {
		c.Threshold = 0.5
	}
	return c
}

// Neighbour is one labelled example near a critiqued item.
type Neighbour struct {
	Source string  `json:"source"` // "train_weak" (supervisor gold) or "train_strong" (bought or reviewed)
	Index  int     `json:"index"`  // row in its split
	Label  int     `json:"label"`
	Dist   float32 `json:"dist"` // cosine distance in strong-feature space
}

// Critique is the critic's interpretable verdict on one (example, weak label)
// pair of train_strong.
type Critique struct {
	ID         int         `json:"id"`          // train_strong row
	Score      float64     `json:"score"`       // P(weak label wrong), in [0,1]
	Flagged    bool        `json:"flagged"`     // Score > threshold
	WeakLabel  int         `json:"weak_label"`  // argmax of the weak soft label
	WeakConf   float64     `json:"weak_conf"`   // weak model's probability of WeakLabel
	WeakMargin float64     `json:"weak_margin"` // top-1 minus top-2 weak probability
	ProbeLabel int         `json:"probe_label"` // strong probe (trained on labelled rows) argmax
	ProbeProb  float64     `json:"probe_prob"`  // strong probe's probability of WeakLabel
	Disagree   float64     `json:"disagree"`    // fraction of labelled neighbours whose label differs from WeakLabel
	Neighbours []Neighbour `json:"neighbours"`
}

// Evidence renders a critique as short human-readable lines for the review desk.
func (c Critique) Evidence(classes []string) []string {
	name := func(y int) string {
		if y >= 0 && y < len(classes) {
			return classes[y]
		}
		return fmt.Sprint(y)
	}
	out := []string{
		fmt.Sprintf("critic score %.2f (P weak label wrong)", c.Score),
		fmt.Sprintf("weak model: %s with p=%.2f (margin %.2f)", name(c.WeakLabel), c.WeakConf, c.WeakMargin),
		fmt.Sprintf("strong probe: %s; p(%s)=%.2f", name(c.ProbeLabel), name(c.WeakLabel), c.ProbeProb),
		fmt.Sprintf("%.0f%% of %d labelled neighbours disagree with the weak label", 100*c.Disagree, len(c.Neighbours)),
	}
	for _, n := range c.Neighbours {
		out = append(out, fmt.Sprintf("neighbour %s#%d: %s (distance %.3f)", n.Source, n.Index, name(n.Label), n.Dist))
	}
	return out
}

// Critic scores every weak label of train_strong for being wrong. It is a
// logistic regression over three interpretable signals, each computed the
// same way for the rows it learns from (labelled rows) and the rows it scores:
//
//	x1 = 1 − weak confidence in the weak label
//	x2 = fraction of the nearest labelled neighbours (strong features) whose label differs
//	x3 = 1 − a strong probe's probability of the weak label
//
// It learns only from what the protocol allows: the train_weak examples of
// its gold budget (View.Gold.Draw: their gold paired with strong features,
// charged to the loop's budget), whose weak label is cross-fitted (a weak
// model that never saw the row), and the train_strong rows in Known.
type Critic struct {
	cfg       CriticConfig
	w         [4]float64 // weights of x1..x3 and the bias
	critiques []Critique // [N_trainStrong]
}

// CrossFitWeak returns out-of-fold weak-model probabilities on train_weak
// [N_tw, K] (2 folds, the cell's weak head settings): the weak labels a
// supervisor would give rows it never trained on, so their errors look like
// its errors on train_strong. It refits the weak model on the weak
// features: weak-side gold (View.Gold.WeakSide), free.
func CrossFitWeak(ctx context.Context, v *method.View) (data.Matrix, error) {
	gold, err := v.Gold.WeakSide()
	if err != nil {
		return data.Matrix{}, fmt.Errorf("oversight: %w", err)
	}
	return crossFit(ctx, v.TrainWeak.Weak, gold, v.K, v.WeakProbe, nil)
}

// crossFit fits cfg's head on each half of (x, y) and predicts the other half;
// when pool is non-empty it also returns the mean of both halves' predictions
// on pool. Returns [N, K] (and appends the pool's rows after them).
func crossFit(ctx context.Context, x data.Matrix, y []int, k int, cfg student.ProbeConfig, pool *data.Matrix) (data.Matrix, error) {
	n := x.Rows
	if n < 4 {
		return data.Matrix{}, fmt.Errorf("oversight: cross-fitting needs at least 4 labelled rows, got %d", n)
	}
	out := data.NewMatrix(n, k)
	var poolOut data.Matrix
	if pool != nil {
		poolOut = data.NewMatrix(pool.Rows, k)
	}
	for fold := 0; fold < 2; fold++ {
		var trainIdx, testIdx []int
		for i := 0; i < n; i++ {
			if i%2 == fold {
				testIdx = append(testIdx, i)
			} else {
				trainIdx = append(trainIdx, i)
			}
		}
		ys := make([]int, len(trainIdx))
		for j, i := range trainIdx {
			ys[j] = y[i]
		}
		c := cfg
		c.Seed = cfg.Seed + int64(fold) + 1
		h, err := student.FitProbe(ctx, x.SelectRows(trainIdx), data.OneHot(ys, k), c)
		if err != nil {
			return data.Matrix{}, fmt.Errorf("oversight: cross-fit fold %d: %w", fold, err)
		}
		p, err := h.Predict(x.SelectRows(testIdx))
		if err != nil {
			return data.Matrix{}, fmt.Errorf("oversight: cross-fit fold %d: %w", fold, err)
		}
		for j, i := range testIdx {
			copy(out.Row(i), p.Row(j))
		}
		if pool != nil && pool.Rows > 0 {
			pp, err := h.Predict(*pool)
			if err != nil {
				return data.Matrix{}, fmt.Errorf("oversight: cross-fit fold %d on pool: %w", fold, err)
			}
			for i := range poolOut.Values {
				poolOut.Values[i] += pp.Values[i] / 2
			}
		}
	}
	if pool != nil {
		*pool = poolOut
	}
	return out, nil
}

// FitCritic trains the critic and critiques every train_strong row. It
// draws all of v.Gold's budget (Limit: the labels the loop charged for the
// critic; none is fine once rows are known); crossWeak is CrossFitWeak's
// output (computed once per cell: it does not change across rounds; unused
// without budget); known holds the labels bought or reviewed so far. It
// needs at least 4 labelled rows in all.
func FitCritic(ctx context.Context, v *method.View, crossWeak data.Matrix, known Known, cfg CriticConfig) (*Critic, error) {
	cfg = cfg.withDefaults()
	k := v.K
	ns := v.TrainStrong.Strong.Rows
	var drawn method.GoldSample
	if b := v.Gold.Limit(); b > 0 {
		var err error
		if drawn, err = v.Gold.Draw(b); err != nil {
			return nil, fmt.Errorf("oversight: critic: %w", err)
		}
		if crossWeak.Rows != v.TrainWeak.Weak.Rows || crossWeak.Cols != k {
			return nil, fmt.Errorf("oversight: cross-fitted weak labels are [%d,%d], want [%d,%d]", crossWeak.Rows, crossWeak.Cols, v.TrainWeak.Weak.Rows, k)
		}
	}
	nw := len(drawn.Rows) // labelled train_weak rows: the budget's
	// Labelled set L: train_weak rows then known train_strong rows (sorted).
	knownIDs := make([]int, 0, len(known))
	for id := range known {
		if id < 0 || id >= ns {
			return nil, fmt.Errorf("oversight: known label for train_strong row %d outside [0,%d)", id, ns)
		}
		knownIDs = append(knownIDs, id)
	}
	sort.Ints(knownIDs)
	nl := nw + len(knownIDs)
	d := v.TrainStrong.Strong.Cols
	lx := data.NewMatrix(nl, d)
	ly := make([]int, nl)
	lweak := data.NewMatrix(nl, k) // the weak label each labelled row had
	copy(lx.Values, drawn.Strong.Values)
	copy(ly, drawn.Gold)
	for j, i := range drawn.Rows {
		copy(lweak.Row(j), crossWeak.Row(i))
	}
	for j, id := range knownIDs {
		copy(lx.Row(nw+j), v.TrainStrong.Strong.Row(id))
		ly[nw+j] = known[id]
		copy(lweak.Row(nw+j), v.TrainStrong.WeakLabels.Row(id))
	}

	// Strong probe: cross-fitted on L, fold-averaged on the pool.
	pool := v.TrainStrong.Strong
	probeL, err := crossFit(ctx, lx, ly, k, v.StrongProbe, &pool)
	if err != nil {
		return nil, fmt.Errorf("oversight: critic probe: %w", err)
	}
	probeP := pool

	// Labelled neighbours of every row, from one graph over L ∪ pool.
	all := data.NewMatrix(nl+ns, d)
	copy(all.Values, lx.Values)
	copy(all.Values[nl*d:], v.TrainStrong.Strong.Values)
	gk := min(nl+ns-1, 6*cfg.Neighbours)
	g, err := knn.Build(all, gk, knn.Cosine)
	if err != nil {
		return nil, fmt.Errorf("oversight: critic neighbours: %w", err)
	}
	isKnown := make(map[int]int, len(knownIDs)) // pool id -> row in L
	for j, id := range knownIDs {
		isKnown[id] = nw + j
	}
	neighbours := func(row int) []Neighbour {
		var out []Neighbour
		for j, nb := range g.Neighbors(row) {
			if len(out) == cfg.Neighbours {
				break
			}
			if int(nb) < nl {
				nbr := Neighbour{Source: "train_weak", Label: ly[nb], Dist: g.Distances(row)[j]}
				if int(nb) < nw {
					nbr.Index = drawn.Rows[nb]
				} else {
					nbr.Source, nbr.Index = "train_strong", knownIDs[int(nb)-nw]
				}
				out = append(out, nbr)
			}
		}
		return out
	}
	features := func(weak []float32, probe []float32, nbs []Neighbour) ([3]float64, int, float64, float64, float64) {
		wl, conf, margin := top2(weak)
		dis := 0.0
		for _, n := range nbs {
			if n.Label != wl {
				dis++
			}
		}
		if len(nbs) > 0 {
			dis /= float64(len(nbs))
		}
		return [3]float64{1 - conf, dis, 1 - float64(probe[wl])}, wl, conf, margin, dis
	}

	// Training rows: L, target = its weak label was wrong.
	xs := make([][3]float64, nl)
	ts := make([]int, nl)
	for i := 0; i < nl; i++ {
		f, wl, _, _, _ := features(lweak.Row(i), probeL.Row(i), neighbours(i))
		xs[i] = f
		if wl != ly[i] {
			ts[i] = 1
		}
	}
	w, err := fitLogistic(ctx, xs, ts, v.StrongProbe.Seed)
	if err != nil {
		return nil, err
	}
	c := &Critic{cfg: cfg, w: w}

	c.critiques = make([]Critique, ns)
	for i := 0; i < ns; i++ {
		row := nl + i
		nbs := neighbours(row)
		if _, ok := isKnown[i]; ok {
			// A known row's copy in L is at distance 0; the graph excludes
			// self only by index, so drop it: the critique must not quote
			// the row's own label as a neighbour's.
			nbs = slicesDeleteFunc(nbs, func(n Neighbour) bool { return n.Source == "train_strong" && n.Index == i })
		}
		f, wl, conf, margin, dis := features(v.TrainStrong.WeakLabels.Row(i), probeP.Row(i), nbs)
		s := c.score(f)
		pl, _, _ := top2(probeP.Row(i))
		c.critiques[i] = Critique{ID: i, Score: s, Flagged: s > cfg.Threshold, WeakLabel: wl, WeakConf: conf, WeakMargin: margin,
			ProbeLabel: pl, ProbeProb: float64(probeP.Row(i)[wl]), Disagree: dis, Neighbours: nbs}
	}
	return c, nil
}

func slicesDeleteFunc(s []Neighbour, del func(Neighbour) bool) []Neighbour {
	out := s[:0]
	for _, n := range s {
		if !del(n) {
			out = append(out, n)
		}
	}
	return out
}

// Weights returns the logistic weights of x1 (weak doubt), x2 (neighbour
// disagreement), x3 (probe doubt) and the bias: how the critic reasons.
func (c *Critic) Weights() [4]float64 { return c.w }

// Critique returns the critique of train_strong row i.
func (c *Critic) Critique(i int) Critique { return c.critiques[i] }

// Scores returns every train_strong row's P(weak label wrong) [N_ts].
func (c *Critic) Scores() []float64 {
	out := make([]float64, len(c.critiques))
	for i, cr := range c.critiques {
		out[i] = cr.Score
	}
	return out
}

// Flags returns whether each train_strong weak label is flagged wrong [N_ts].
func (c *Critic) Flags() []bool {
	out := make([]bool, len(c.critiques))
	for i, cr := range c.critiques {
		out[i] = cr.Flagged
	}
	return out
}

func (c *Critic) score(f [3]float64) float64 {
	z := c.w[3]
	for j := range f {
		z += c.w[j] * f[j]
	}
	return sigmoid(z)
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// fitLogistic fits the critic's logistic regression, weights [w1 w2 w3
// bias] on xs with targets ts (1: the weak label is wrong), as a linear
// probe trained by the project's one trainer (student.FitProbeLabels:
// AdamW with weight decay standing in for an L2 penalty), and reads the
// weights back: the logit difference z1 − z0 of a linear probe is affine in
// x (z-scoring included), so bias = f(0) and w_j = f(e_j) − f(0).
func fitLogistic(ctx context.Context, xs [][3]float64, ts []int, seed int64) ([4]float64, error) {
	var w [4]float64
	if len(xs) == 0 {
		return w, nil
	}
	x := data.NewMatrix(len(xs), 3)
	for i, row := range xs {
		for j, v := range row {
			x.Set(i, j, float32(v))
		}
	}
	// Three features and a few hundred rows: many cheap epochs at a high
	// rate bring Adam to the (lightly decayed) maximum-likelihood weights.
	cfg := student.DefaultProbeConfig(student.HeadLinear)
	cfg.Epochs, cfg.LearningRate, cfg.WeightDecay, cfg.Seed = 200, 0.1, 1e-3, seed
	probe, err := student.FitProbeLabels(ctx, x, ts, 2, cfg)
	if err != nil {
		return w, fmt.Errorf("oversight: fitting the critic: %w", err)
	}
	basis := data.NewMatrix(4, 3) // rows e_1, e_2, e_3 and 0
	for j := range 3 {
		basis.Set(j, j, 1)
	}
	z, err := probe.Logits(basis)
	if err != nil {
		return w, fmt.Errorf("oversight: reading the critic's weights: %w", err)
	}
	f := func(i int) float64 { return float64(z.At(i, 1)) - float64(z.At(i, 0)) }
	w[3] = f(3)
	for j := range 3 {
		w[j] = f(j) - w[3]
	}
	return w, nil
}

// top2 returns the argmax of p, its probability and the top-1 minus top-2 margin.
func top2(p []float32) (arg int, best, margin float64) {
	b1, b2 := math.Inf(-1), math.Inf(-1)
	for j, v := range p {
		x := float64(v)
		if x > b1 {
			b2, b1, arg = b1, x, j
		} else if x > b2 {
			b2 = x
		}
	}
	if len(p) < 2 {
		b2 = 0
	}
	return arg, b1, b1 - b2
}
