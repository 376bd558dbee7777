package eval

import (
	"errors"
	"fmt"
	"math"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/store"
)

// DefaultGapThreshold is the smallest ceiling − floor accuracy gap for which a
// PGR is reported (below it a cell is "no gap").
const DefaultGapThreshold = 0.02

// ErrShape reports predictions whose shape does not match the split or K.
var ErrShape = errors.New("shape mismatch")

// ErrNotFinite reports a NaN or infinite predicted probability: scoring it
// would yield a row that looks valid but is not.
var ErrNotFinite = errors.New("non-finite probability")

// ErrGold reports hidden gold labels that are unusable (out of range, one class).
var ErrGold = errors.New("invalid gold labels")

// Hidden holds the gold labels that methods must never see: those of
// train_strong and test. The fields are unexported, so code outside package
// eval can score against gold but cannot read it; that is the type-level half
// of gold isolation (the method view carries no gold at all).
type Hidden struct {
	trainStrong []int
	test        []int
	k           int
	// testValues is the value channel of test (issue 15): the class each
	// example must be output as, -1 for none; nil without a value channel.
	testValues []int
}

// NewHidden keeps copies of the gold labels of train_strong and test, so that
// a caller mutating its slices afterwards cannot change what is scored.
// Labels are checked against k when a cell is scored.
func NewHidden(trainStrongGold, testGold []int, k int) *Hidden {
	return &Hidden{
		trainStrong: append([]int(nil), trainStrongGold...),
		test:        append([]int(nil), testGold...),
		k:           k,
	}
}

// NTest is the number of test examples, which callers need to size predictions.
func (h *Hidden) NTest() int { return len(h.test) }

// NTrainStrong is the number of train_strong examples.
func (h *Hidden) NTrainStrong() int { return len(h.trainStrong) }

// K is the number of classes.
func (h *Hidden) K() int { return h.k }

// CellInputs are the predictions of one cell (dataset × weak × strong × method
// × seed) that ScoreCell needs. All matrices hold probabilities with K columns.
type CellInputs struct {
	FloorTest, CeilingTest, StudentTest data.Matrix // predicted probabilities on test [nTest,K]
	WeakLabels                          data.Matrix // weak model's soft labels on train_strong [nTrainStrong,K]
	StudentTrainStrong                  data.Matrix // student's probabilities on train_strong [nTrainStrong,K]
	Seed                                int64       // seeds the bootstrap RNG (math/rand/v2 PCG)
	GapThreshold                        float64     // 0 means DefaultGapThreshold; ceiling−floor below it => no gap; negative keeps every positive gap
	Resamples                           int         // bootstrap resamples; 0 means DefaultResamples
	// Metric is the test metric behind PGR ("" means MetricAccuracy).
	Metric Metric
	// TrainedLabels, when set [nTrainStrong,K], are the labels the method
	// trained its student on in place of WeakLabels (calibrated weak
	// labels): misfit is measured against them and their ECE reported.
	TrainedLabels data.Matrix
}

// CellScores are the metrics of one cell. PGR and its CI are nil when NoGap.
type CellScores struct {
	FloorAcc, CeilingAcc, W2SAcc float64

	PGR, PGRCILow, PGRCIHigh *float64
	NoGap                    bool

	GainAcc, GainAccCILow, GainAccCIHigh float64

	FloorAUROC, CeilingAUROC, W2SAUROC float64

	Agreement, Inheritance, Correction, Misfit, WeakLabelAcc float64

	// Metric is the metric PGR, its CI and the scores below are on;
	// FloorScore, CeilingScore and W2SScore are floor, ceiling and w2s on
	// test in it (the accuracies again when it is MetricAccuracy).
	Metric                             Metric
	FloorScore, CeilingScore, W2SScore float64
	// WeakECE is the weak labels' expected calibration error on
	// train_strong (ECE); TrainedECE that of CellInputs.TrainedLabels, nil
	// when the method trained on the weak labels as they are.
	WeakECE    float64
	TrainedECE *float64
}

// ScoreCell scores one cell against the hidden gold.
//
// Accuracies and AUROCs are on test, and so are the scores of in.Metric
// (FloorScore, CeilingScore, W2SScore): PGR and its CI are computed on
// that metric (accuracy by default), with the gap threshold applied to its
// gap. The gain and its CI stay on accuracy. The paired bootstrap draws test indices
// with replacement Resamples times and rescores floor, ceiling and student on
// the same draw, so that their shared test-set luck cancels in PGR and gain:
//   - gain CI: 2.5/97.5 percentiles of the resampled w2s − floor;
//   - PGR CI: percentiles of the resampled PGRs, leaving out draws whose gap
//     is below the threshold (their PGR is undefined).
//
// No gap: the cell is NoGap, with PGR and its CI nil, when the full test set's
// ceiling − floor is below the threshold, and also when more than half of the
// bootstrap draws fall below it. In the second case the gap exists on paper
// but the test set cannot tell it from no gap, and a PGR computed from the
// surviving minority of draws would be a biased, overconfident number.
// Gain and its CI are always reported.
//
// Diagnostics on test: agreement = student argmax equals floor argmax;
// inheritance = P(student wrong | weak wrong), correction = P(student right |
// weak wrong) = 1 − inheritance; both are 0 when the weak model makes no test
// errors (nothing to inherit; a JSON row cannot carry NaN). Misfit =
// CrossEntropy(StudentTrainStrong, WeakLabels), or TrainedLabels when set.
// WeakLabelAcc = accuracy of the weak labels' argmax on train_strong,
// WeakECE their expected calibration error there (ECE: top-label, 10
// equal-width bins), TrainedECE that of TrainedLabels.
//
// It fails, wrapping ErrShape, ErrNotFinite or ErrGold, on mismatched shapes,
// non-finite probabilities, out-of-range gold, or a test set with a single
// class (AUROC undefined).
func (h *Hidden) ScoreCell(in CellInputs) (CellScores, error) {
	if err := h.check(in); err != nil {
		return CellScores{}, err
	}
	metric, err := ParseMetric(string(in.Metric))
	if err != nil {
		return CellScores{}, fmt.Errorf("eval: %w", err)
	}
	threshold := in.GapThreshold
	if threshold == 0 {
		threshold = DefaultGapThreshold
	}

	var s CellScores
	s.FloorAcc = Accuracy(in.FloorTest, h.test)
	s.CeilingAcc = Accuracy(in.CeilingTest, h.test)
	s.W2SAcc = Accuracy(in.StudentTest, h.test)
	s.GainAcc = s.W2SAcc - s.FloorAcc

	s.FloorAUROC = AUROC(in.FloorTest, h.test)
	s.CeilingAUROC = AUROC(in.CeilingTest, h.test)
	s.W2SAUROC = AUROC(in.StudentTest, h.test)
	if math.IsNaN(s.FloorAUROC) || math.IsNaN(s.CeilingAUROC) || math.IsNaN(s.W2SAUROC) {
		return CellScores{}, fmt.Errorf("eval: AUROC undefined, test gold has a single class: %w", ErrGold)
	}

	floorPred := in.FloorTest.Argmax()
	ceilPred := in.CeilingTest.Argmax()
	studPred := in.StudentTest.Argmax()
	n := len(h.test)
	floorOK := make([]bool, n)
	ceilOK := make([]bool, n)
	studOK := make([]bool, n)
	agree, weakWrong, inherit := 0, 0, 0
	for i, y := range h.test {
		floorOK[i] = floorPred[i] == y
		ceilOK[i] = ceilPred[i] == y
		studOK[i] = studPred[i] == y
		if studPred[i] == floorPred[i] {
			agree++
		}
		if !floorOK[i] {
			weakWrong++
			if !studOK[i] {
				inherit++
			}
		}
	}
	s.Agreement = float64(agree) / float64(n)
	if weakWrong > 0 {
		s.Inheritance = float64(inherit) / float64(weakWrong)
		s.Correction = 1 - s.Inheritance
	}
	s.WeakLabelAcc = Accuracy(in.WeakLabels, h.trainStrong)
	s.WeakECE = ECE(in.WeakLabels, h.trainStrong)
	if in.TrainedLabels.Rows > 0 {
		s.Misfit = CrossEntropy(in.StudentTrainStrong, in.TrainedLabels)
		s.TrainedECE = finite(ECE(in.TrainedLabels, h.trainStrong))
	} else {
		s.Misfit = CrossEntropy(in.StudentTrainStrong, in.WeakLabels)
	}

	// The PGR metric's scores; on accuracy they are the accuracies, and
	// PGR comes from the outcome codes below exactly as before the choice.
	s.Metric = metric
	var scorers [3]*scorer
	if metric == MetricAccuracy {
		s.FloorScore, s.CeilingScore, s.W2SScore = s.FloorAcc, s.CeilingAcc, s.W2SAcc
	} else {
		s.FloorScore = Score(metric, in.FloorTest, h.test)
		s.CeilingScore = Score(metric, in.CeilingTest, h.test)
		s.W2SScore = Score(metric, in.StudentTest, h.test)
		for i, m := range []data.Matrix{in.FloorTest, in.CeilingTest, in.StudentTest} {
			scorers[i] = newScorer(metric, m, h.test)
		}
	}

	// Paired bootstrap over test examples.
	resamples := resamplesOrDefault(in.Resamples)
	rng := newRNG(in.Seed)
	gains := make([]float64, resamples)
	pgrs := make([]float64, 0, resamples)
	// Each example's outcome is one of 8 codes (floor, ceiling, student right
	// or wrong); a resample only needs how often each code was drawn, which
	// keeps the inner loop to one draw and one increment.
	codes := make([]uint8, n)
	for i := range codes {
		codes[i] = b2u(floorOK[i]) | b2u(ceilOK[i])<<1 | b2u(studOK[i])<<2
	}
	// Another metric rescores the three models on the same draws, given as
	// multiplicities: the draws, and so the gain's CI, are those of
	// accuracy.
	var mult []int32
	if metric != MetricAccuracy {
		mult = make([]int32, n)
	}
	for b := range resamples {
		var cnt [8]int
		for range n {
			i := rng.IntN(n)
			cnt[codes[i]]++
			if mult != nil {
				mult[i]++
			}
		}
		var f, c, st int
		for code, m := range cnt {
			f += m * (code & 1)
			c += m * (code >> 1 & 1)
			st += m * (code >> 2 & 1)
		}
		fa, ca, sa := float64(f)/float64(n), float64(c)/float64(n), float64(st)/float64(n)
		gains[b] = sa - fa
		if mult != nil {
			fa, ca, sa = scorers[0].score(mult), scorers[1].score(mult), scorers[2].score(mult)
			clear(mult)
		}
		if p, ok := PGR(sa, fa, ca, threshold); ok {
			pgrs = append(pgrs, p)
		}
	}
	s.GainAccCILow, s.GainAccCIHigh = percentileCI(gains)

	pgr, ok := PGR(s.W2SScore, s.FloorScore, s.CeilingScore, threshold)
	s.PGR, s.PGRCILow, s.PGRCIHigh, s.NoGap = pgrWithCI(pgr, ok, pgrs, resamples)
	return s, nil
}

// pgrWithCI applies the no-gap rule of ScoreCell to a point PGR (ok false when
// the full test set has no gap) and the PGRs of the bootstrap draws that had a
// gap (pgrs, sorted in place) out of resamples draws. The second half of the
// rule, more than half of the draws skipped, rarely fires: the resampled gap is
// centred on the observed one, so at most about half the draws fall below a
// threshold the observed gap reaches. It guards the edge all the same.
func pgrWithCI(pgr float64, ok bool, pgrs []float64, resamples int) (p, lo, hi *float64, noGap bool) {
	skipped := resamples - len(pgrs)
	if !ok || len(pgrs) == 0 || 2*skipped > resamples {
		return nil, nil, nil, true
	}
	l, h := percentileCI(pgrs)
	return &pgr, &l, &h, false
}

// check validates shapes, finiteness and gold before any metric is computed.
func (h *Hidden) check(in CellInputs) error {
	if h.k < 2 {
		return fmt.Errorf("eval: k = %d, need at least 2 classes: %w", h.k, ErrGold)
	}
	if len(h.test) == 0 {
		return fmt.Errorf("eval: empty test set: %w", ErrGold)
	}
	if len(h.trainStrong) == 0 {
		return fmt.Errorf("eval: empty train_strong set: %w", ErrGold)
	}
	golds := []struct {
		name string
		y    []int
	}{{"test", h.test}, {"train_strong", h.trainStrong}}
	for _, g := range golds {
		for i, y := range g.y {
			if y < 0 || y >= h.k {
				return fmt.Errorf("eval: %s gold label %d at %d outside [0,%d): %w", g.name, y, i, h.k, ErrGold)
			}
		}
	}
	mats := []struct {
		name string
		m    data.Matrix
		rows int
	}{
		{"FloorTest", in.FloorTest, len(h.test)},
		{"CeilingTest", in.CeilingTest, len(h.test)},
		{"StudentTest", in.StudentTest, len(h.test)},
		{"WeakLabels", in.WeakLabels, len(h.trainStrong)},
		{"StudentTrainStrong", in.StudentTrainStrong, len(h.trainStrong)},
	}
	if in.TrainedLabels.Rows > 0 || len(in.TrainedLabels.Values) > 0 {
		mats = append(mats, struct {
			name string
			m    data.Matrix
			rows int
		}{"TrainedLabels", in.TrainedLabels, len(h.trainStrong)})
	}
	for _, x := range mats {
		if x.m.Rows != x.rows || x.m.Cols != h.k || len(x.m.Values) != x.rows*h.k {
			return fmt.Errorf("eval: %s is [%d,%d] with %d values, want [%d,%d]: %w",
				x.name, x.m.Rows, x.m.Cols, len(x.m.Values), x.rows, h.k, ErrShape)
		}
		for i, v := range x.m.Values {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("eval: %s row %d: %v: %w", x.name, i/h.k, v, ErrNotFinite)
			}
		}
	}
	return nil
}

// FilterPR scores a selection of train_strong examples (kept[i] true when a
// filter kept example i) against the hidden gold, judging each example by
// whether its weak label (argmax of weakLabels) is correct:
// precision = fraction of kept examples whose weak label is correct;
// recall = fraction of correctly weak-labelled examples that were kept.
// Precision is NaN when nothing was kept, recall NaN when no weak label is
// correct. It panics when kept or weakLabels do not match train_strong.
func (h *Hidden) FilterPR(kept []bool, weakLabels data.Matrix) (precision, recall float64) {
	if len(kept) != len(h.trainStrong) || weakLabels.Rows != len(h.trainStrong) {
		panic(fmt.Sprintf("eval: FilterPR: %d kept flags and %d weak-label rows for %d train_strong examples",
			len(kept), weakLabels.Rows, len(h.trainStrong)))
	}
	pred := weakLabels.Argmax()
	var nKept, nCorrect, both int
	for i, y := range h.trainStrong {
		correct := pred[i] == y
		if kept[i] {
			nKept++
		}
		if correct {
			nCorrect++
		}
		if kept[i] && correct {
			both++
		}
	}
	return ratio(both, nKept), ratio(both, nCorrect)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Fill copies the metrics into a results row. Identity fields (dataset,
// models, method, seed, sizes, hash, timing, version) are the caller's.
// PGR pointers are copied by value so the row does not alias s.
func (s CellScores) Fill(r *store.Row) {
	r.FloorAcc, r.CeilingAcc, r.W2SAcc = s.FloorAcc, s.CeilingAcc, s.W2SAcc
	r.PGR, r.PGRCILow, r.PGRCIHigh = clonePtr(s.PGR), clonePtr(s.PGRCILow), clonePtr(s.PGRCIHigh)
	r.NoGap = s.NoGap
	r.GainAcc, r.GainAccCILow, r.GainAccCIHigh = s.GainAcc, s.GainAccCILow, s.GainAccCIHigh
	r.FloorAUROC, r.CeilingAUROC, r.W2SAUROC = s.FloorAUROC, s.CeilingAUROC, s.W2SAUROC
	r.Agreement, r.Inheritance, r.Correction = s.Agreement, s.Inheritance, s.Correction
	r.Misfit, r.WeakLabelAcc = s.Misfit, s.WeakLabelAcc
	r.PGRMetric = string(s.Metric)
	if r.PGRMetric == "" {
		r.PGRMetric = string(MetricAccuracy)
	}
	r.FloorScore, r.CeilingScore, r.W2SScore = s.FloorScore, s.CeilingScore, s.W2SScore
	r.WeakECE, r.TrainedECE = finite(s.WeakECE), clonePtr(s.TrainedECE)
}

func clonePtr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
