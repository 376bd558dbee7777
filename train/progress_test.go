package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/data"
)

// TestProgressLoss checks that a ProgressLoss sees t/totalSteps at every
// step: the loss xent + progress has xent's gradient, so the head must be
// bit-identical to the default fit, and its reported last-epoch loss must
// exceed the default's by the mean progress of the last epoch's steps.
func TestProgressLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x, labels := newMixture(2, 6, 2).sample(rng, 300)
	targets := data.OneHot(labels, 2)
	cfg := DefaultConfig(HeadLinear)
	cfg.Epochs = 5
	cfg.BatchSize = 64
	plain := mustFit(t, x, targets, cfg)
	cfg.ProgressLoss = func(logits, targets, progress *graph.Node) *graph.Node {
		return graph.Add(SoftCrossEntropy(logits, targets), progress)
	}
	shifted := mustFit(t, x, targets, cfg)
	if a, b := mustPredict(t, plain, x), mustPredict(t, shifted, x); !equalValues(a.Values, b.Values) {
		t.Fatal("a progress term with zero gradient changed the head")
	}
	stepsPerEpoch, total := 5, 25 // ceil(300/64) steps per epoch, 5 epochs
	var want float64
	for s := total - stepsPerEpoch; s < total; s++ {
		want += Progress(s, total) / float64(stepsPerEpoch)
	}
	if got := shifted.TrainLoss() - plain.TrainLoss(); math.Abs(got-want) > 1e-5 {
		t.Errorf("loss shift %v, want mean last-epoch progress %v", got, want)
	}
	cfg.Loss = SoftCrossEntropy
	if _, err := Fit(context.Background(), x, targets, cfg); err == nil {
		t.Error("Loss and ProgressLoss both set: no error")
	}
}

// TestLossGradient checks LossGradient on soft cross-entropy, whose
// gradient is (softmax - targets)/B.
func TestLossGradient(t *testing.T) {
	logits := data.Matrix{Rows: 3, Cols: 2, Values: []float32{0, 1, 2, -1, 0.5, 0.5}}
	targets := data.Matrix{Rows: 3, Cols: 2, Values: []float32{0.2, 0.8, 1, 0, 0.5, 0.5}}
	xent := func(z, y, _ *graph.Node) *graph.Node { return SoftCrossEntropy(z, y) }
	loss, grad, err := LossGradient(xent, logits, targets, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := data.Matrix{Rows: 3, Cols: 2, Values: append([]float32(nil), logits.Values...)}
	softmaxRows(p)
	var want float64
	for i := range 3 {
		for k := range 2 {
			want -= float64(targets.At(i, k)) * math.Log(float64(p.At(i, k))) / 3
			if g := (p.At(i, k) - targets.At(i, k)) / 3; math.Abs(float64(grad.At(i, k)-g)) > 1e-6 {
				t.Errorf("grad[%d,%d] = %v, want %v", i, k, grad.At(i, k), g)
			}
		}
	}
	if math.Abs(loss-want) > 1e-6 {
		t.Errorf("loss %v, want %v", loss, want)
	}
}

func equalValues(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
