package oracle

import (
	"fmt"
	"math"
)

// The evaluation channel's bounds (doc.go states the threat model).
//
// Resolution. An answer of Evaluate is an accuracy and an AUROC rounded to a
// grid. Over nTest rows, the accuracy of predictions that carry no
// knowledge of the labels (random ones, or one flipped row) deviates from
// what the submitter expects by about 0.5/√nTest, and the sign of that
// deviation, read off many such answers, is what reconstruction attacks
// add up. A grid step of at least 2/√nTest puts the grid's edges four
// standard deviations of that chance fluctuation apart, so such answers
// almost never move. The step is the first of resolutionSteps not finer
// than Config.Resolution and not below 2/√nTest; a split that would need a
// step above maxResolution (fewer than 400 rows) is too small for useful
// answers and gets none.
//
// Budget. One answer can take at most gridValues² values, so it carries at
// most answerBits bits about the test labels whatever the predictions were.
// A run may receive LeakFraction × nTest bits in all: its answers are
// floor(LeakFraction × nTest / answerBits), capped by MaxEvaluations.
// Refusals depend on the predictions and the clock only, never on gold, so
// they carry no label information and are not counted.

// resolutionSteps are the grid steps answers may be rounded to.
var resolutionSteps = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1}

// maxResolution is the coarsest grid worth answering on.
const maxResolution = 0.1

// resolutionFor is the grid step of a run over nTest test rows, or 0 when
// the split is too small to answer at all.
func (c *Config) resolutionFor(nTest int) float64 {
	need := math.Max(c.Resolution, 2/math.Sqrt(float64(nTest)))
	for _, s := range resolutionSteps {
		if s >= need-1e-12 {
			return s
		}
	}
	return 0
}

// gridValues is how many distinct values a metric in [0,1] rounded to res
// can take: 0, res, 2·res, … and 1.
func gridValues(res float64) int {
	steps := math.Floor(1/res + 1e-9)
	n := int(steps) + 1
	if math.Abs(steps*res-1) > 1e-9 {
		n++ // 1 itself is not on the grid but clamping can yield it
	}
	return n
}

// answerBits is the most information one answer (accuracy and AUROC) carries.
func answerBits(res float64) float64 {
	return 2 * math.Log2(float64(gridValues(res)))
}

// evalBudget is the number of answers a run over nTest test rows may get
// at resolution res (0: none).
func (c *Config) evalBudget(nTest int, res float64) int {
	if res == 0 {
		return 0
	}
	b := int(math.Floor(c.LeakFraction * float64(nTest) / answerBits(res)))
	return max(0, min(b, c.MaxEvaluations))
}

// quantize rounds a metric to the grid, inside [0,1], without float noise
// in its decimal form (0.8, not 0.8000000000000002).
func quantize(v, res float64) float64 {
	q := math.Round(v/res) * res
	q = min(1, max(0, q))
	return math.Round(q*1e9) / 1e9
}

func (c *Config) checkEvalChannel() error {
	if c.Resolution > maxResolution || math.IsNaN(c.Resolution) {
		return fmt.Errorf("oracle: resolution %g: want a grid step in (0, %g]", c.Resolution, maxResolution)
	}
	if c.LeakFraction > 1 || math.IsNaN(c.LeakFraction) {
		return fmt.Errorf("oracle: leak fraction %g: want bits per test row in (0, 1]", c.LeakFraction)
	}
	return nil
}

// noBudgetMessage explains why a run gets no answers at all.
func (c *Config) noBudgetMessage(nTest int, res float64) string {
	if res == 0 {
		return fmt.Sprintf("the test split has %d rows: answers would have to be rounded to a grid coarser than %g to keep its labels from leaking, which makes them useless; score on a test split of at least 400 rows",
			nTest, maxResolution)
	}
	return fmt.Sprintf("the test split has %d rows: a run may learn at most %.1f bits about its labels (%g per row) and one answer at resolution %g carries up to %.1f, so none can be given",
		nTest, c.LeakFraction*float64(nTest), c.LeakFraction, res, answerBits(res))
}
