package method

import (
	"math"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// TestKLGradientEqualsNaive checks that KL(y || p) and naive's soft
// cross-entropy have the same gradient on a real batch while their values
// differ by the weak labels' mean entropy, and that the trained students
// agree.
func TestKLGradientEqualsNaive(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	logits, y := lvBatch(t, v, 128)
	lx, gx, err := train.LossGradient(train.Loss{}, logits, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	lk, gk, err := train.LossGradient(train.Loss{PerExample: klLoss}, logits, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range gx.Values {
		if math.Abs(float64(g-gk.Values[i])) > 1e-8 {
			t.Fatalf("gradient element %d: xent %v, kl %v", i, g, gk.Values[i])
		}
	}
	var ent float64
	for i := range y.Rows {
		for _, q := range y.Row(i) {
			if q > 0 {
				ent -= float64(q) * math.Log(float64(q))
			}
		}
	}
	ent /= float64(y.Rows)
	if d := lx - lk; math.Abs(d-ent) > 1e-5 {
		t.Errorf("xent - kl = %v, want the labels' mean entropy %v", d, ent)
	}
	naive := lvPredict(t, lvNew(t, "naive"), v)
	kl := lvPredict(t, lvNew(t, "kl"), v)
	var worst float64
	for i := range naive.Values {
		worst = math.Max(worst, math.Abs(float64(naive.Values[i]-kl.Values[i])))
	}
	if worst > 1e-4 {
		t.Errorf("kl and naive students differ by up to %v", worst)
	}
}
