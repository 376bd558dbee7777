package eval

import (
	"fmt"

	"github.com/superalign/superalign/data"
)

// BestOfN scores reward models the way they are used: per group of n
// candidate responses to one context (or topic), the model picks the one
// it rewards most, and the pick is right when it is the response the gold
// grades best. Which candidate that is stays here, hidden like every gold
// label: a caller hands in the model's predictions and gets a rate.
//
// Predictions come as pairs: row g·n+i holds P(candidate i ≻ candidate 0)
// of group g (row g·n is candidate 0 against itself, 0.5). For a
// Bradley–Terry reward model P(i ≻ 0) = σ(r(i) − r(0)) is increasing in
// r(i), so the argmax over i of that probability is the argmax of the
// reward; ties (saturated probabilities) go to the lowest index, and the
// candidates' order is shuffled so that no position is favoured.
type BestOfN struct {
	n    int
	best []int // the gold-best candidate of each group
}

// NewBestOfN holds the gold-best candidate of each group of n.
func NewBestOfN(n int, best []int) (*BestOfN, error) {
	if n < 2 {
		return nil, fmt.Errorf("eval: best-of-n needs n >= 2, got %d", n)
	}
	for g, b := range best {
		if b < 0 || b >= n {
			return nil, fmt.Errorf("eval: best-of-n group %d: best candidate %d outside [0, %d): %w", g, b, n, ErrGold)
		}
	}
	return &BestOfN{n: n, best: append([]int(nil), best...)}, nil
}

// N is the number of candidates per group.
func (b *BestOfN) N() int { return b.n }

// Groups is the number of groups.
func (b *BestOfN) Groups() int { return len(b.best) }

// PickRate returns the fraction of groups in which the model's pick is the
// gold-best candidate (chance: 1/n).
func (b *BestOfN) PickRate(probs data.Matrix) (float64, error) {
	if probs.Rows != len(b.best)*b.n || probs.Cols != 2 {
		return 0, fmt.Errorf("eval: best-of-n predictions [%d, %d], want [%d, 2]: %w", probs.Rows, probs.Cols, len(b.best)*b.n, ErrShape)
	}
	if len(b.best) == 0 {
		return 0, fmt.Errorf("eval: best-of-n has no groups")
	}
	right := 0
	for g, want := range b.best {
		pick, hi := 0, probs.At(g*b.n, 1)
		for i := 1; i < b.n; i++ {
			if p := probs.At(g*b.n+i, 1); p > hi {
				pick, hi = i, p
			}
		}
		if pick == want {
			right++
		}
	}
	return float64(right) / float64(len(b.best)), nil
}

// TestECE is the expected calibration error of predictions on test against
// the hidden gold (eval.ECE): for a reward model on pairs, the calibration
// of its P(A ≻ B).
func (h *Hidden) TestECE(probs data.Matrix) (float64, error) {
	if probs.Rows != len(h.test) || probs.Cols != h.k {
		return 0, fmt.Errorf("eval: test predictions [%d, %d], want [%d, %d]: %w", probs.Rows, probs.Cols, len(h.test), h.k, ErrShape)
	}
	return ECE(probs, h.test), nil
}
