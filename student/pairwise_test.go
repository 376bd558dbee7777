package student

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// The soft cross-entropy on a pair's two-class logits logits(A) − logits(B)
// is the Bradley–Terry loss −p·log σ(Δ) − (1−p)·log σ(−Δ), Δ = r(A) − r(B)
// with r = logit₁ − logit₀. Checked against values computed by hand.
func TestPairSoftCrossEntropyIsBradleyTerry(t *testing.T) {
	// Side A's head logits [0.3, 1.1], side B's [0.2, 0.5]: r(A) = 0.8,
	// r(B) = 0.3, Δ = 0.5, σ(0.5) = 0.6224593.
	pair := []float32{0.3 - 0.2, 1.1 - 0.5}
	for _, tc := range []struct {
		p, want float64 // target P(A ≻ B); BT loss by hand
	}{
		{1, 0.4740770},   // −ln 0.6224593
		{0, 0.9740770},   // −ln 0.3775407
		{0.8, 0.5740770}, // 0.8·0.4740770 + 0.2·0.9740770
		{0.5, 0.7240770}, // the mean of the two
	} {
		logits := data.Matrix{Rows: 1, Cols: 2, Values: pair}
		targets := data.Matrix{Rows: 1, Cols: 2, Values: []float32{float32(1 - tc.p), float32(tc.p)}}
		loss, grad, err := train.LossGradient(train.Loss{}, logits, targets, 0)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-tc.want) > 1e-6 {
			t.Errorf("p=%v: loss %.7f, BT by hand %.7f", tc.p, loss, tc.want)
		}
		// dBT/dΔ = σ(Δ) − p, split as ∓½ over the two logits' difference:
		// the class-1 logit's gradient is σ(Δ) − p.
		if g := 0.6224593 - tc.p; math.Abs(float64(grad.At(0, 1))-g) > 1e-6 {
			t.Errorf("p=%v: gradient %v, want σ(Δ) − p = %v", tc.p, grad.At(0, 1), g)
		}
	}
}

// pairData is a synthetic pair task: features φ of 2n responses whose
// reward is w·φ, pairs of consecutive responses, differences φ(A) − φ(B),
// labels from the true reward.
func pairData(n, d int, seed uint64) (x data.Matrix, labels []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := make([]float64, d)
	for j := range w {
		w[j] = rng.NormFloat64()
	}
	x = data.NewMatrix(n, d)
	labels = make([]int, n)
	for i := 0; i < n; i++ {
		var r float64
		for j := 0; j < d; j++ {
			a, b := rng.NormFloat64()+0.3, rng.NormFloat64()+0.3 // a non-zero mean: centring would matter
			x.Values[i*d+j] = float32(a - b)
			r += w[j] * (a - b)
		}
		if r+0.3*rng.NormFloat64() > 0 {
			labels[i] = data.PairA
		}
	}
	return x, labels
}

// Swapping A and B negates a pair's features, and a pairwise probe's
// prediction flips exactly: P(A ≻ B) on the swapped pair is P(B ≻ A).
func TestPairwiseProbeSwapFlips(t *testing.T) {
	x, labels := pairData(600, 12, 3)
	p, err := Open(context.Background(), Spec{Encoder: "bow", Head: HeadLinear}, Options{Pairwise: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Config()
	cfg.Seed = 5
	m, _, err := p.Fit(context.Background(), Inputs{Features: x}, train.Objective{Targets: data.OneHot(labels, 2)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	neg := data.NewMatrix(x.Rows, x.Cols)
	for i, v := range x.Values {
		neg.Values[i] = -v
	}
	pp, err := m.Predict(context.Background(), Inputs{Features: x})
	if err != nil {
		t.Fatal(err)
	}
	pn, err := m.Predict(context.Background(), Inputs{Features: neg})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i := 0; i < x.Rows; i++ {
		if math.Abs(float64(pp.At(i, 1)-pn.At(i, 0))) > 1e-6 {
			t.Fatalf("pair %d: P(A≻B) %v, swapped P(B≻A) %v", i, pp.At(i, 1), pn.At(i, 0))
		}
		if (pp.At(i, 1) > 0.5) != (pn.At(i, 1) > 0.5) || pp.At(i, 1) == 0.5 {
			// the flip of every prediction
		} else {
			t.Fatalf("pair %d: the swapped pair has the same preferred position", i)
		}
		if (pp.At(i, 1) > 0.5) == (labels[i] == data.PairA) {
			right++
		}
	}
	if right < 500 {
		t.Errorf("training pairwise accuracy %d/600: the reward head did not learn", right)
	}
	// A pairwise probe with an MLP head is refused.
	if _, err := Open(context.Background(), Spec{Encoder: "bow", Head: HeadMLP}, Options{Pairwise: true}, nil); err == nil {
		t.Error("a pairwise MLP probe was accepted")
	}
}

// The fine-tuned reward model runs one encoder on both sides: swapping the
// sides flips every prediction, and training twice with one seed gives the
// same model.
func TestTunedPairsSwapAndDeterminism(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	ctx := context.Background()
	all := yelpLabelled(t)
	var a, b []string
	var labels []int
	for i := 0; i+1 < len(all.texts) && len(a) < 24; i += 2 {
		if all.labels[i] == all.labels[i+1] {
			continue
		}
		a, b = append(a, all.texts[i]), append(b, all.texts[i+1])
		y := 0
		if all.labels[i] == 1 {
			y = data.PairA
		}
		labels = append(labels, y)
	}
	s := NewTuned(useLite(t))
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.Seed = 1, 8, 11
	in := Inputs{Texts: a, TextsB: b}
	fit := func() data.Matrix {
		m, _, err := s.Fit(ctx, in, train.Objective{Targets: data.OneHot(labels, 2)}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		q, err := m.Predict(ctx, Inputs{Texts: b, TextsB: a})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < p.Rows; i++ {
			if math.Abs(float64(p.At(i, 1)-q.At(i, 0))) > 1e-5 {
				t.Errorf("pair %d: P(A≻B) %v but swapped P(B≻A) %v", i, p.At(i, 1), q.At(i, 0))
			}
		}
		return p
	}
	p1, p2 := fit(), fit()
	for i := range p1.Values {
		if p1.Values[i] != p2.Values[i] {
			t.Fatalf("two fits with one seed differ at %d: %v vs %v", i, p1.Values[i], p2.Values[i])
		}
	}
}
