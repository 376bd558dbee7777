package method

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
)

// TestEnsembleWeights checks the EM weights on hand-made member
// probabilities: an informative member beats an uninformative one, a
// duplicated member splits nothing away from the optimum, and the EM
// solution's likelihood is at least that of uniform weights and of every
// single member.
func TestEnsembleWeights(t *testing.T) {
	gold := []int{0, 1, 0, 1, 1, 0, 0, 1}
	mk := func(pGold float64) data.Matrix {
		m := data.NewMatrix(len(gold), 2)
		for i, y := range gold {
			m.Set(i, y, float32(pGold))
			m.Set(i, 1-y, float32(1-pGold))
		}
		return m
	}
	good, coin := mk(0.9), mk(0.5)
	w := ensembleWeights([]data.Matrix{good, coin}, gold, 500, 1e-12)
	if w[0] < 0.99 || math.Abs(w[0]+w[1]-1) > 1e-12 {
		t.Errorf("weights %v: want nearly all on the informative member", w)
	}
	// Two members each sure and right on half the examples and at chance on
	// the other half: the mixture needs both, and the coin adds nothing.
	half := data.NewMatrix(len(gold), 2)
	other := data.NewMatrix(len(gold), 2)
	for i, y := range gold {
		a, b := 0.95, 0.5
		if i%2 == 1 {
			a, b = b, a
		}
		half.Set(i, y, float32(a))
		half.Set(i, 1-y, float32(1-a))
		other.Set(i, y, float32(b))
		other.Set(i, 1-y, float32(1-b))
	}
	probs := []data.Matrix{half, other, coin}
	w = ensembleWeights(probs, gold, 2000, 1e-12)
	best := ensembleLogLik(probs, gold, w)
	for _, alt := range [][]float64{{1. / 3, 1. / 3, 1. / 3}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.5, 0.5, 0}} {
		if ll := ensembleLogLik(probs, gold, alt); ll > best+1e-9 {
			t.Errorf("weights %v have log-likelihood %v > EM's %v at %v", alt, ll, best, w)
		}
	}
	if math.Abs(w[0]-0.5) > 0.01 || math.Abs(w[1]-0.5) > 0.01 || w[2] > 0.01 {
		t.Errorf("complementary members: weights %v, want about 0.5, 0.5, 0", w)
	}
}

// TestEnsembleRealMembers runs a two-member ensemble (the weak bag of words
// under a linear and an MLP head) on the sentiment cell and checks that its
// student differs from naive's.
func TestEnsembleRealMembers(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	lvDiffer(t, v, "naive", "ensemble:encoders=weak+weak:mlp,seeds=1")
}

// TestEnsembleRefusesStrongEncoder: a member trained on gold over the
// student's own features would be the ceiling in disguise.
func TestEnsembleRefusesStrongEncoder(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	m := lvNew(t, "ensemble:encoders=weak+glove,seeds=1")
	if _, err := probeExecutor(v).Run(context.Background(), m, v); err == nil || !strings.Contains(err.Error(), "strong encoder") {
		t.Fatalf("ensemble with the strong encoder as a member: err = %v", err)
	}
}
