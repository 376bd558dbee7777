package eval

import (
	"fmt"
	"math"

	"github.com/superalign/superalign/data"
)

// The two methods below are the oracle's only windows onto hidden gold
// (package oracle serves them over HTTP under a budget). They reveal either
// one train_strong label, which the oracle charges against a run's gold
// budget, or aggregate test metrics, never a per-example test label.

// TrainStrongLabel returns the gold label of train_strong row i. It fails on
// an index outside [0, NTrainStrong()).
func (h *Hidden) TrainStrongLabel(i int) (int, error) {
	if h == nil {
		return 0, fmt.Errorf("eval: TrainStrongLabel on nil Hidden: %w", ErrGold)
	}
	if i < 0 || i >= len(h.trainStrong) {
		return 0, fmt.Errorf("eval: train_strong index %d outside [0,%d): %w", i, len(h.trainStrong), ErrShape)
	}
	return h.trainStrong[i], nil
}

// TestMetrics scores predicted test probabilities [NTest, K] against the
// hidden test gold: accuracy and AUROC (macro one-vs-rest for K > 2). It
// fails, wrapping ErrShape, ErrNotFinite or ErrGold, on a wrong shape, a
// non-finite value, or gold for which AUROC is undefined (a single class).
func (h *Hidden) TestMetrics(probs data.Matrix) (acc, auroc float64, err error) {
	if h == nil {
		return 0, 0, fmt.Errorf("eval: TestMetrics on nil Hidden: %w", ErrGold)
	}
	n := len(h.test)
	if n == 0 {
		return 0, 0, fmt.Errorf("eval: empty test set: %w", ErrGold)
	}
	if probs.Rows != n || probs.Cols != h.k || len(probs.Values) != n*h.k {
		return 0, 0, fmt.Errorf("eval: test predictions are [%d,%d] with %d values, want [%d,%d]: %w",
			probs.Rows, probs.Cols, len(probs.Values), n, h.k, ErrShape)
	}
	for i, v := range probs.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, 0, fmt.Errorf("eval: test predictions row %d: %v: %w", i/h.k, v, ErrNotFinite)
		}
	}
	acc = Accuracy(probs, h.test)
	auroc = AUROC(probs, h.test)
	if math.IsNaN(auroc) {
		return 0, 0, fmt.Errorf("eval: AUROC undefined, test gold has a single class: %w", ErrGold)
	}
	return acc, auroc, nil
}
