package method

import (
	"context"
	"math"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/student"
)

// lvSame fails unless two methods' students give bit-identical predictions
// on train_strong.
func lvSame(t *testing.T, v *View, a, b string) {
	t.Helper()
	pa, pb := lvPredict(t, lvNew(t, a), v), lvPredict(t, lvNew(t, b), v)
	for i := range pa.Values {
		if pa.Values[i] != pb.Values[i] {
			t.Fatalf("%s and %s differ at value %d: %v vs %v", a, b, i, pa.Values[i], pb.Values[i])
		}
	}
}

func lvDiffer(t *testing.T, v *View, a, b string) {
	t.Helper()
	pa, pb := lvPredict(t, lvNew(t, a), v), lvPredict(t, lvNew(t, b), v)
	var worst float64
	for i := range pa.Values {
		worst = math.Max(worst, math.Abs(float64(pa.Values[i]-pb.Values[i])))
	}
	if worst < 1e-3 {
		t.Errorf("%s and %s agree to %v: the method did nothing", a, b, worst)
	}
}

// TestDegenerateToNaive: the empty bootstrap chain, zero s2s rounds and a
// one-member ensemble (the cell's own weak model) are naive bit for bit,
// and the defaults are not.
func TestDegenerateToNaive(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	lvSame(t, v, "naive", "bootstrap:chain=none")
	lvSame(t, v, "naive", "s2s:rounds=0")
	lvSame(t, v, "naive", "ensemble:seeds=1")
	lvDiffer(t, v, "naive", "bootstrap:chain=weak:mlp")
	lvDiffer(t, v, "naive", "s2s:rounds=1")
}

// TestCrossFitLabels checks the defining property of bootstrap's rung
// labels: each row is predicted by a head that did not train on it. On the
// real bag-of-words features with the weak labels as targets, in-sample
// predictions sit much closer to the targets than out-of-fold ones (a probe
// reproduces its own training labels), and folds=1 is exactly the in-sample
// fit.
func TestCrossFitLabels(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	ctx := context.Background()
	cfg := auxHeadConfig(v, student.Spec{Encoder: "bow", Head: student.HeadLinear}, 5)
	x, y := v.TrainStrong.Weak, v.TrainStrong.WeakLabels
	in, err := crossFitLabels(ctx, x, y, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, err := student.FitProbe(ctx, x, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := h.Predict(x)
	for i := range in.Values {
		if in.Values[i] != direct.Values[i] {
			t.Fatal("folds=1 is not the in-sample fit")
		}
	}
	oof, err := crossFitLabels(ctx, x, y, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	mae := func(a []float32) float64 {
		var s float64
		for i, v := range a {
			s += math.Abs(float64(v - y.Values[i]))
		}
		return s / float64(len(a))
	}
	if mIn, mOut := mae(in.Values), mae(oof.Values); !(mOut > 3*mIn) {
		t.Errorf("mean |p - target|: in-sample %.4f, out of fold %.4f; want out of fold clearly larger", mIn, mOut)
	}
}
