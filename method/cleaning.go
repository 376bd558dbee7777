package method

// Shared machinery of the label-cleaning and label-selection methods
// (conffilter.go, knnrelabel.go, logregfilter.go, topofilter.go,
// selective.go, cosupervise.go). Helpers carry the prefix "cl" so they do
// not collide with the loss methods' helpers in the same package.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// clAll returns n copies of b.
func clAll(n int, b bool) []bool {
	out := make([]bool, n)
	if b {
		for i := range out {
			out[i] = true
		}
	}
	return out
}

// clCount counts the true entries.
func clCount(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

// clMinKept is the fewest examples a filter may leave: fewer cannot train a
// K-class head meaningfully, and the method says so rather than training on
// a handful.
func clMinKept(k int) int { return max(10, 2*k) }

// clObjective is the student's objective on the rows of train_strong
// marked kept, with targets [N, K], and its selection for eval. It fails
// when too few rows are kept to train a K-class student.
func clObjective(name string, v *View, kept, replaced []bool, targets data.Matrix) (Objective, error) {
	n := v.TrainStrong.WeakLabels.Rows
	if len(kept) != n || targets.Rows != n {
		return Objective{}, fmt.Errorf("%s: internal: %d kept flags, %d targets for %d examples", name, len(kept), targets.Rows, n)
	}
	if c := clCount(kept); c < clMinKept(v.K) {
		return Objective{}, fmt.Errorf("%s: only %d of %d train_strong examples kept (need at least %d); loosen the filter", name, c, n, clMinKept(v.K))
	}
	var rows []int
	for i, k := range kept {
		if k {
			rows = append(rows, i)
		}
	}
	if replaced == nil {
		replaced = make([]bool, n)
	}
	return Objective{
		Objective: train.Objective{Targets: targets, Rows: rows},
		Selection: &Selection{Kept: kept, Replaced: replaced},
	}, nil
}

// clDropTop returns keep flags that drop the round(frac·N) examples with the
// highest score (ties: the higher index is dropped first, so the choice is
// deterministic).
func clDropTop(score []float64, frac float64) []bool {
	n := len(score)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		sa, sb := score[order[a]], score[order[b]]
		if sa != sb {
			return sa > sb
		}
		return order[a] > order[b]
	})
	keep := clAll(n, true)
	for _, i := range order[:int(math.Round(frac*float64(n)))] {
		keep[i] = false
	}
	return keep
}

// clDisagree scores how much each weak label disagrees with a prediction
// pred [N, K] (a neighbour vote or a probe): 1 − pred[i][c_i], where c_i is
// the weak argmax. It uses the weak class rather than the soft weak label on
// purpose: a distance between soft labels is largest for the most confident
// weak labels, which are the most often right, so it would drop the wrong
// examples (measured on sentiment bow→glove: the 10% with the largest
// total-variation distance had weak accuracy 0.80 against 0.62 kept).
func clDisagree(weak, pred data.Matrix) []float64 {
	score := make([]float64, weak.Rows)
	for i, c := range weak.Argmax() {
		score[i] = 1 - float64(pred.At(i, c))
	}
	return score
}

// clTV is the total-variation distance ½Σ|a−b| between two distributions.
func clTV(a, b []float32) float64 {
	s := 0.0
	for j := range a {
		s += math.Abs(float64(a[j]) - float64(b[j]))
	}
	return s / 2
}

// clNeighbourMean returns the mean of each row's neighbours' labels: [N, K].
func clNeighbourMean(g *knn.Graph, y data.Matrix) data.Matrix {
	out := data.NewMatrix(y.Rows, y.Cols)
	for i := range g.N {
		dst := out.Row(i)
		for _, j := range g.Neighbors(i) {
			for c, v := range y.Row(int(j)) {
				dst[c] += v
			}
		}
		for c := range dst {
			dst[c] /= float32(g.K)
		}
	}
	return out
}

// clGraph builds the kNN graph of x with k capped at N−1.
func clGraph(name string, x data.Matrix, k int, metric knn.Metric) (*knn.Graph, error) {
	g, err := knn.Build(x, min(k, x.Rows-1), metric)
	if err != nil {
		return nil, fmt.Errorf("%s: kNN graph: %w", name, err)
	}
	return g, nil
}

// clFrac reads a fraction parameter in [lo, hi].
func clFrac(p Params, key string, def, lo, hi float64) (float64, error) {
	f, err := p.Float(key, def)
	if err != nil {
		return 0, err
	}
	if !(f >= lo && f <= hi) {
		return 0, fmt.Errorf("parameter %s=%v must lie in [%v, %v]", key, f, lo, hi)
	}
	return f, nil
}

// clPositive reads a positive integer parameter.
func clPositive(p Params, key string, def int) (int, error) {
	k, err := p.Int(key, def)
	if err != nil {
		return 0, err
	}
	if k < 1 {
		return 0, fmt.Errorf("parameter %s=%d must be at least 1", key, k)
	}
	return k, nil
}

// clMetric reads the metric parameter.
func clMetric(p Params) (knn.Metric, error) {
	return knn.ParseMetric(p.Str("metric", "cosine"))
}

// clFolds assigns n examples to folds at random (seeded), as evenly as
// possible: fold[i] in [0, folds).
func clFolds(n, folds int, seed int64) []int {
	perm := rand.New(rand.NewPCG(uint64(seed), 0xf01d5)).Perm(n)
	out := make([]int, n)
	for r, i := range perm {
		out[i] = r % folds
	}
	return out
}

// clCrossFit trains a probe per fold on the other folds' rows of x [N, D]
// with targets [N, K] and returns its predictions on the held-out fold:
// out-of-fold probabilities [N, K], so no example is scored by a head that
// saw its own label.
func clCrossFit(ctx context.Context, x, targets data.Matrix, cfg student.ProbeConfig, folds int, seed int64) (data.Matrix, error) {
	return clCrossFitPool(ctx, x, targets, cfg, folds, seed, nil)
}

// clCrossFitPool is clCrossFit that also replaces *pool [M, D], when
// non-nil, by the mean of the fold probes' predictions on it [M, K]: rows
// none of the probes trained on, scored as the out-of-fold rows are.
func clCrossFitPool(ctx context.Context, x, targets data.Matrix, cfg student.ProbeConfig, folds int, seed int64, pool *data.Matrix) (data.Matrix, error) {
	n := x.Rows
	if n < 2*folds {
		return data.Matrix{}, fmt.Errorf("cross-fitting %d examples in %d folds: need at least %d", n, folds, 2*folds)
	}
	fold := clFolds(n, folds, seed)
	out := data.NewMatrix(n, targets.Cols)
	var poolMean data.Matrix
	if pool != nil {
		poolMean = data.NewMatrix(pool.Rows, targets.Cols)
	}
	for f := range folds {
		var tr, te []int
		for i, g := range fold {
			if g == f {
				te = append(te, i)
			} else {
				tr = append(tr, i)
			}
		}
		c := cfg
		c.Seed = seeds.Derive(seed, seeds.Trail("fold", fmt.Sprint(f)))
		head, err := student.FitProbe(ctx, x.SelectRows(tr), targets.SelectRows(tr), c)
		if err != nil {
			return data.Matrix{}, fmt.Errorf("fold %d of %d: %w", f+1, folds, err)
		}
		p, err := head.Predict(x.SelectRows(te))
		if err != nil {
			return data.Matrix{}, fmt.Errorf("fold %d of %d: %w", f+1, folds, err)
		}
		for r, i := range te {
			copy(out.Row(i), p.Row(r))
		}
		if pool != nil && pool.Rows > 0 {
			pp, err := head.Predict(*pool)
			if err != nil {
				return data.Matrix{}, fmt.Errorf("fold %d of %d on the pool: %w", f+1, folds, err)
			}
			for j, val := range pp.Values {
				poolMean.Values[j] += val / float32(folds)
			}
		}
	}
	if pool != nil {
		*pool = poolMean
	}
	return out, nil
}

// clLogf writes a note to the view's log, if any.
func clLogf(v *View, format string, args ...any) {
	if v.Log != nil {
		fmt.Fprintf(v.Log, format+"\n", args...)
	}
}

// errorf2 wraps err as "NAME: WHAT: err".
func errorf2(name, what string, err error) error {
	return fmt.Errorf("%s: %s: %w", name, what, err)
}
