package method

// The parts of the label-cleaning and label-selection methods (conffilter,
// knnrelabel, logregfilter, topofilter, selective, cosupervise) that speak
// the package's own types (View, Params, Objective); the rest of their
// shared machinery is method/internal/cleaning.

import (
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/train"
)

// fewestKept is the fewest examples a filter may leave: fewer cannot train a
// K-class head meaningfully, and the method says so rather than training on
// a handful.
func fewestKept(k int) int { return max(10, 2*k) }

// keptObjective is the student's objective on the rows of train_strong
// marked kept, with targets [N, K], and its selection for eval. It fails
// when too few rows are kept to train a K-class student.
func keptObjective(name string, v *View, kept, replaced []bool, targets data.Matrix) (Objective, error) {
	n := v.TrainStrong.WeakLabels.Rows
	if len(kept) != n || targets.Rows != n {
		return Objective{}, fmt.Errorf("%s: internal: %d kept flags, %d targets for %d examples", name, len(kept), targets.Rows, n)
	}
	if c := cleaning.Count(kept); c < fewestKept(v.K) {
		return Objective{}, fmt.Errorf("%s: only %d of %d train_strong examples kept (need at least %d); loosen the filter", name, c, n, fewestKept(v.K))
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

// paramFraction reads a fraction parameter in [lo, hi].
func paramFraction(p Params, key string, def, lo, hi float64) (float64, error) {
	f, err := p.Float(key, def)
	if err != nil {
		return 0, err
	}
	if !(f >= lo && f <= hi) {
		return 0, fmt.Errorf("parameter %s=%v must lie in [%v, %v]", key, f, lo, hi)
	}
	return f, nil
}

// paramPositive reads a positive integer parameter.
func paramPositive(p Params, key string, def int) (int, error) {
	k, err := p.Int(key, def)
	if err != nil {
		return 0, err
	}
	if k < 1 {
		return 0, fmt.Errorf("parameter %s=%d must be at least 1", key, k)
	}
	return k, nil
}

// paramMetric reads the metric parameter.
func paramMetric(p Params) (knn.Metric, error) {
	return knn.ParseMetric(p.Str("metric", "cosine"))
}

// logNote writes a note to the view's log, if any.
func logNote(v *View, format string, args ...any) {
	if v.Log != nil {
		fmt.Fprintf(v.Log, format+"\n", args...)
	}
}

// errorf2 wraps err as "NAME: WHAT: err".
func errorf2(name, what string, err error) error {
	return fmt.Errorf("%s: %s: %w", name, what, err)
}
