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

// Metric names the test metric behind PGR (`w2s run --pgr-metric`): floor,
// ceiling and w2s are scored with it, and PGR, its CIs, the gap and the
// comparisons' paired differences are computed on it. Accuracy is always
// reported alongside.
type Metric string

// The metrics a PGR may be computed on.
const (
	// MetricAccuracy is the default: the fraction of argmax predictions
	// that are right. On imbalanced data it rewards predicting the
	// majority class.
	MetricAccuracy Metric = "accuracy"
	// MetricAUROC is the area under the ROC curve (AUROC): binary, the
	// class-1 probability ranked against gold; K > 2, the macro average of
	// the one-vs-rest areas. It reads the scores, not the argmax, so it
	// does not depend on a threshold or on the class mix.
	MetricAUROC Metric = "auroc"
	// MetricBalancedAccuracy is the mean over classes of the recall
	// (BalancedAccuracy): 0.5 for a constant classifier on two classes,
	// whatever the mix.
	MetricBalancedAccuracy Metric = "balanced-accuracy"
	// MetricMacroF1 is the mean over classes of F1 (MacroF1).
	MetricMacroF1 Metric = "macro-f1"
)

// Metrics lists the metrics ParseMetric accepts.
var Metrics = []Metric{MetricAccuracy, MetricAUROC, MetricBalancedAccuracy, MetricMacroF1}

// ParseMetric checks a metric name; "" is MetricAccuracy (rows written
// before the choice existed are on accuracy).
func ParseMetric(s string) (Metric, error) {
	if s == "" {
		return MetricAccuracy, nil
	}
	for _, m := range Metrics {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("PGR metric %q: want one of accuracy, auroc, balanced-accuracy, macro-f1", s)
}

// Label is the metric's name in tables: "accuracy", "AUROC", "balanced
// accuracy", "macro-F1".
func (m Metric) Label() string {
	switch m {
	case MetricAUROC:
		return "AUROC"
	case MetricBalancedAccuracy:
		return "balanced accuracy"
	case MetricMacroF1:
		return "macro-F1"
	case "":
		return "accuracy"
	}
	return string(m)
}

// Score returns metric m of probs against gold (NaN where m is undefined,
// e.g. AUROC with a single class in gold). It panics on an unknown metric
// or when len(gold) != probs.Rows.
func Score(m Metric, probs data.Matrix, gold []int) float64 {
	switch m {
	case MetricAccuracy, "":
		return Accuracy(probs, gold)
	case MetricAUROC:
		return AUROC(probs, gold)
	case MetricBalancedAccuracy:
		return BalancedAccuracy(probs, gold)
	case MetricMacroF1:
		return MacroF1(probs, gold)
	}
	panic(fmt.Sprintf("eval: unknown metric %q", m))
}

// BalancedAccuracy is the mean, over the classes present in gold, of the
// recall (the fraction of a class's examples whose argmax is that class).
// Gold 0,0,0,1 with predictions 0,0,1,1 has recalls 2/3 and 1: 5/6. It
// returns NaN for zero rows and panics when len(gold) != probs.Rows.
func BalancedAccuracy(probs data.Matrix, gold []int) float64 {
	checkRows("BalancedAccuracy", probs, gold)
	c := confusionOf(probs.Argmax(), gold, probs.Cols, nil)
	return c.balancedAccuracy()
}

// MacroF1 is the mean over classes of F1 = 2·TP/(2·TP + FP + FN), leaving
// out classes neither in gold nor predicted (no F1 to speak of); a class
// in gold that is never predicted right has F1 0. Gold 0,0,0,1 with
// predictions 0,0,1,1: class 0 has F1 2·2/(4+0+1) = 0.8, class 1
// 2·1/(2+1+0) = 2/3, so 11/15. It returns NaN for zero rows and panics
// when len(gold) != probs.Rows.
func MacroF1(probs data.Matrix, gold []int) float64 {
	checkRows("MacroF1", probs, gold)
	c := confusionOf(probs.Argmax(), gold, probs.Cols, nil)
	return c.macroF1()
}

// confusion holds per-class counts of a (possibly weighted) resample.
type confusion struct {
	tp, fp, fn, n []float64 // n: gold count per class
}

// confusionOf counts predictions against gold; w, when set, gives each
// example a multiplicity (a bootstrap resample).
func confusionOf(pred, gold []int, k int, w []int32) confusion {
	c := confusion{tp: make([]float64, k), fp: make([]float64, k), fn: make([]float64, k), n: make([]float64, k)}
	for i, y := range gold {
		m := 1.0
		if w != nil {
			if w[i] == 0 {
				continue
			}
			m = float64(w[i])
		}
		c.n[y] += m
		if pred[i] == y {
			c.tp[y] += m
		} else {
			c.fp[pred[i]] += m
			c.fn[y] += m
		}
	}
	return c
}

func (c confusion) balancedAccuracy() float64 {
	sum, classes := 0.0, 0
	for k, n := range c.n {
		if n > 0 {
			sum += c.tp[k] / n
			classes++
		}
	}
	if classes == 0 {
		return math.NaN()
	}
	return sum / float64(classes)
}

func (c confusion) macroF1() float64 {
	sum, classes := 0.0, 0
	for k := range c.n {
		den := 2*c.tp[k] + c.fp[k] + c.fn[k]
		if den > 0 {
			sum += 2 * c.tp[k] / den
			classes++
		}
	}
	if classes == 0 {
		return math.NaN()
	}
	return sum / float64(classes)
}

// ECEBins is the number of equal-width confidence bins of ECE.
const ECEBins = 10

// ECE is the expected calibration error of probs against gold, top-label
// form (Guo et al. 2017): each row's confidence is its largest probability
// and its prediction the argmax; rows fall into ECEBins equal-width bins
// of confidence over [0, 1] (bin b holds [b/10, (b+1)/10), the last also
// 1); ECE = Σ_b (n_b/n)·|accuracy_b − mean confidence_b|. 0 means the
// confidences match the hit rates; an under-confident model (right 95% of
// the time at confidence 0.6) and an over-confident one score high alike.
// On two classes the confidences lie in [0.5, 1], so five bins are used.
// It returns NaN for zero rows and panics when len(gold) != probs.Rows.
func ECE(probs data.Matrix, gold []int) float64 {
	checkRows("ECE", probs, gold)
	if len(gold) == 0 {
		return math.NaN()
	}
	var count [ECEBins]int
	var conf, hits [ECEBins]float64
	pred := probs.Argmax()
	for i, y := range gold {
		c := float64(probs.At(i, pred[i]))
		b := min(int(c*ECEBins), ECEBins-1)
		b = max(b, 0)
		count[b]++
		conf[b] += c
		if pred[i] == y {
			hits[b]++
		}
	}
	ece := 0.0
	for b := range count {
		if count[b] > 0 {
			ece += math.Abs(hits[b]-conf[b]) / float64(len(gold))
		}
	}
	return ece
}

// scorer evaluates one metric of one model's test predictions on bootstrap
// resamples given as multiplicities (w[i] copies of example i), in O(n·K)
// per resample: the predictions are ranked (AUROC) or argmaxed (the rest)
// once. With every multiplicity 1 it gives Score's value.
type scorer struct {
	metric Metric
	gold   []int
	k      int
	pred   []int
	// AUROC: per scored class, example indices in ascending score order
	// and the start of each run of tied scores.
	order [][]int
	ties  [][]int
}

func newScorer(m Metric, probs data.Matrix, gold []int) *scorer {
	s := &scorer{metric: m, gold: gold, k: probs.Cols}
	if m != MetricAUROC {
		s.pred = probs.Argmax()
		return s
	}
	classes := []int{1}
	if probs.Cols != 2 {
		classes = make([]int, probs.Cols)
		for c := range classes {
			classes[c] = c
		}
	}
	for _, c := range classes {
		idx := make([]int, len(gold))
		for i := range idx {
			idx[i] = i
		}
		score := func(i int) float32 { return probs.At(i, c) }
		sort.SliceStable(idx, func(a, b int) bool { return score(idx[a]) < score(idx[b]) })
		var starts []int
		for i := range idx {
			if i == 0 || score(idx[i]) != score(idx[i-1]) {
				starts = append(starts, i)
			}
		}
		s.order = append(s.order, idx)
		s.ties = append(s.ties, starts)
	}
	return s
}

// score is the metric on the resample w (nil: the test set itself).
func (s *scorer) score(w []int32) float64 {
	mult := func(i int) float64 {
		if w == nil {
			return 1
		}
		return float64(w[i])
	}
	switch s.metric {
	case MetricAccuracy:
		hit, n := 0.0, 0.0
		for i, y := range s.gold {
			m := mult(i)
			n += m
			if s.pred[i] == y {
				hit += m
			}
		}
		return hit / n
	case MetricBalancedAccuracy:
		return confusionOf(s.pred, s.gold, s.k, w).balancedAccuracy()
	case MetricMacroF1:
		return confusionOf(s.pred, s.gold, s.k, w).macroF1()
	}
	// AUROC: the weighted Mann–Whitney area per scored class, a tie
	// between a positive and a negative counting one half.
	sum, areas := 0.0, 0
	for j, idx := range s.order {
		c := 1
		if len(s.order) > 1 {
			c = j
		}
		starts := s.ties[j]
		var below, pos, neg, u float64
		for t, start := range starts {
			end := len(idx)
			if t+1 < len(starts) {
				end = starts[t+1]
			}
			var p, q float64
			for _, i := range idx[start:end] {
				if s.gold[i] == c {
					p += mult(i)
				} else {
					q += mult(i)
				}
			}
			u += p * (below + q/2)
			below += q
			pos += p
			neg += q
		}
		if pos > 0 && neg > 0 {
			sum += u / (pos * neg)
			areas++
		}
	}
	if areas == 0 {
		return math.NaN()
	}
	return sum / float64(areas)
}
