package eval

import (
	"errors"
	"math"
	"testing"

	"github.com/superalign/superalign/data"
)

// Pairwise accuracy is the accuracy of P(A ≻ B) against which side the
// gold prefers (class 1: A), here on four pairs by hand: the model prefers
// A, B, A, A with gold A, A, A, B: 2 of 4 right; then it is rescored after
// swapping every pair, which flips every prediction and every label: the
// accuracy stays 2/4.
func TestPairwiseAccuracyByHand(t *testing.T) {
	probs := data.Matrix{Rows: 4, Cols: 2, Values: []float32{0.15, 0.85, 0.75, 0.25, 0.35, 0.65, 0.05, 0.95}}
	gold := []int{1, 1, 1, 0}
	if got := Accuracy(probs, gold); got != 0.5 {
		t.Errorf("pairwise accuracy %v, want 2/4", got)
	}
	sw := data.NewMatrix(4, 2)
	swGold := make([]int, 4)
	for i := range 4 {
		sw.Values[2*i], sw.Values[2*i+1] = probs.At(i, 1), probs.At(i, 0)
		swGold[i] = 1 - gold[i]
	}
	if got := Accuracy(sw, swGold); got != 0.5 {
		t.Errorf("swapped pairwise accuracy %v, want 2/4", got)
	}
	// The test ECE of these four (10 bins, top-label confidence), one per
	// bin: 0.85 (right), 0.75 (wrong), 0.65 (right), 0.95 (wrong):
	// (|0.85−1| + |0.75−0| + |0.65−1| + |0.95−0|)/4 = 2.2/4 = 0.55.
	h := NewHidden([]int{0, 1}, gold, 2)
	ece, err := h.TestECE(probs)
	if err != nil || math.Abs(ece-0.55) > 1e-6 {
		t.Errorf("test ECE %v (%v), want 0.55", ece, err)
	}
}

// Best-of-3 on two groups by hand: row g·3+i is P(candidate i ≻ candidate
// 0). Group 0 rewards candidate 2 most (0.9 > 0.5 > 0.3), the gold best;
// group 1 rewards candidate 0 most (both others below 0.5) but the gold
// best is 1. Pick rate 1/2.
func TestBestOfNByHand(t *testing.T) {
	b, err := NewBestOfN(3, []int{2, 1})
	if err != nil {
		t.Fatal(err)
	}
	probs := data.Matrix{Rows: 6, Cols: 2, Values: []float32{
		0.5, 0.5, 0.7, 0.3, 0.1, 0.9,
		0.5, 0.5, 0.6, 0.4, 0.8, 0.2,
	}}
	if r, err := b.PickRate(probs); err != nil || r != 0.5 {
		t.Errorf("pick rate %v (%v), want 0.5", r, err)
	}
	if _, err := b.PickRate(data.NewMatrix(5, 2)); !errors.Is(err, ErrShape) {
		t.Errorf("wrong shape: %v", err)
	}
	if _, err := NewBestOfN(3, []int{3}); !errors.Is(err, ErrGold) {
		t.Errorf("best outside the group: %v", err)
	}
}
