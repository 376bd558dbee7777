package eval

import (
	"fmt"
	"math"
	"sort"

	"github.com/superalign/superalign/data"
)

// probEps is the floor that CrossEntropy clips predicted probabilities to.
// Predictions are float32, whose smallest useful probability is around 1e-7;
// clipping there keeps one confidently wrong example from dominating the mean
// with an infinite loss while still penalising it by about 16 nats.
const probEps = 1e-7

// gapTol absorbs floating-point noise when comparing a gap of two accuracies
// with a threshold: accuracies are counts over n, and 0.52−0.50 evaluates to
// 0.019999999999999574, which must still count as a gap of 0.02.
const gapTol = 1e-12

// Accuracy returns the fraction of rows of probs whose argmax equals gold.
// Ties in a row go to the lowest class index (data.Matrix.Argmax).
// It returns NaN for zero rows and panics when len(gold) != probs.Rows,
// which is a programming error rather than a data error.
func Accuracy(probs data.Matrix, gold []int) float64 {
	checkRows("Accuracy", probs, gold)
	if len(gold) == 0 {
		return math.NaN()
	}
	pred := probs.Argmax()
	hit := 0
	for i, y := range gold {
		if pred[i] == y {
			hit++
		}
	}
	return float64(hit) / float64(len(gold))
}

// AUROC returns the area under the ROC curve of probs against gold.
//
// With two classes the score of an example is its class-1 probability and the
// area is the Mann–Whitney statistic U/(nPos·nNeg), ties between a positive and
// a negative counting one half (midranks). With K > 2 classes it is the macro
// average of the one-vs-rest areas, each class scored by its own column;
// classes absent from gold (or present in every row) have no defined area and
// are left out of the average. It returns NaN when no class has one, e.g. when
// gold holds a single class. It panics when len(gold) != probs.Rows.
func AUROC(probs data.Matrix, gold []int) float64 {
	checkRows("AUROC", probs, gold)
	if probs.Cols == 2 {
		return oneVsRest(probs, gold, 1)
	}
	sum, n := 0.0, 0
	for c := 0; c < probs.Cols; c++ {
		a := oneVsRest(probs, gold, c)
		if !math.IsNaN(a) {
			sum += a
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// oneVsRest is the Mann–Whitney area for class c scored by column c.
// Ranking with midranks makes the result independent of how ties are ordered.
func oneVsRest(probs data.Matrix, gold []int, c int) float64 {
	n := len(gold)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	score := func(i int) float64 { return float64(probs.At(i, c)) }
	sort.SliceStable(idx, func(a, b int) bool { return score(idx[a]) < score(idx[b]) })

	var nPos, nNeg int
	var rankSumPos float64
	for i := 0; i < n; {
		j := i
		for j+1 < n && score(idx[j+1]) == score(idx[i]) {
			j++
		}
		// Positions i..j (0-based) share the midrank of ranks i+1..j+1.
		mid := float64(i+j)/2 + 1
		for t := i; t <= j; t++ {
			if gold[idx[t]] == c {
				nPos++
				rankSumPos += mid
			} else {
				nNeg++
			}
		}
		i = j + 1
	}
	if nPos == 0 || nNeg == 0 {
		return math.NaN()
	}
	u := rankSumPos - float64(nPos)*float64(nPos+1)/2
	return u / (float64(nPos) * float64(nNeg))
}

// PGR returns the performance gap recovered, (w2s − floor)/(ceiling − floor).
// ok is false ("no gap") when ceiling − floor is below threshold or not
// positive: a ratio over a tiny or negative denominator is noise, not a result
// (openai/weak-to-strong issue #3), so callers must report "no gap" instead.
// Gaps within 1e-12 of threshold count as reaching it, to absorb rounding.
func PGR(w2s, floor, ceiling, threshold float64) (pgr float64, ok bool) {
	gap := ceiling - floor
	if !(gap > 0) || gap < threshold-gapTol {
		return 0, false
	}
	return (w2s - floor) / gap, true
}

// CrossEntropy returns the mean over rows of −Σ_k target_k·log(pred_k) in nats,
// with pred clipped to [1e-7, 1] so that a zero probability costs a large but
// finite amount. target may be soft (weak labels) or one-hot. It returns NaN
// for zero rows and panics when the shapes differ.
func CrossEntropy(pred, target data.Matrix) float64 {
	if pred.Rows != target.Rows || pred.Cols != target.Cols {
		panic(fmt.Sprintf("eval: CrossEntropy shape mismatch: pred [%d,%d], target [%d,%d]",
			pred.Rows, pred.Cols, target.Rows, target.Cols))
	}
	if pred.Rows == 0 {
		return math.NaN()
	}
	total := 0.0
	for i, t := range target.Values {
		if t == 0 {
			continue // 0·log(p) = 0 even when p is clipped; skipping saves a log
		}
		p := math.Min(math.Max(float64(pred.Values[i]), probEps), 1)
		total -= float64(t) * math.Log(p)
	}
	return total / float64(pred.Rows)
}

func checkRows(fn string, m data.Matrix, gold []int) {
	if m.Rows != len(gold) {
		panic(fmt.Sprintf("eval: %s: %d prediction rows but %d gold labels", fn, m.Rows, len(gold)))
	}
}
