package method

import (
	"math"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// TestAdaptconfLoss checks adaptconf's loss value on a real batch against
// the reference formula in float64 (ggjy/vision_weak_to_strong AdaptConf
// without the gold term), for two temperatures, and that α is exactly 1/2
// where student and teacher agree and below 1/2 where they disagree.
func TestAdaptconfLoss(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	logits, y := lvBatch(t, v, 128)
	argmax := func(x []float64) int {
		if x[1] > x[0] {
			return 1
		}
		return 0
	}
	agree, disagree := 0, 0
	for _, tc := range []struct {
		spec      string
		thr, temp float64
	}{{"adaptconf", 0.5, 1}, {"adaptconf:temp=2,threshold=4", 4, 2}} {
		loss, _ := lvNew(t, tc.spec).(lossMethod).build(v)
		got, _, err := train.LossGradient(loss, logits, y, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for i := range logits.Rows {
			p := lvSoftmax(logits, i)
			yi := []float64{float64(y.At(i, 0)), float64(y.At(i, 1))}
			ceSelf := -math.Log(p[argmax(p)])
			ceTeacher := -math.Log(p[argmax(yi)])
			alpha := math.Exp(ceSelf/tc.thr) / (math.Exp(ceSelf/tc.thr) + math.Exp(ceTeacher/tc.thr))
			if argmax(p) == argmax(yi) {
				agree++
				if math.Abs(alpha-0.5) > 1e-12 {
					t.Fatalf("alpha %v on agreement", alpha)
				}
			} else {
				disagree++
				if alpha >= 0.5 {
					t.Fatalf("alpha %v on disagreement", alpha)
				}
			}
			// Teacher at temperature τ: softmax(log y / τ) ∝ y^(1/τ).
			pt := []float64{math.Pow(yi[0], 1/tc.temp), math.Pow(yi[1], 1/tc.temp)}
			zt := pt[0] + pt[1]
			ps := []float64{float64(logits.At(i, 0)) / tc.temp, float64(logits.At(i, 1)) / tc.temp}
			hi := math.Max(ps[0], ps[1])
			lse := hi + math.Log(math.Exp(ps[0]-hi)+math.Exp(ps[1]-hi))
			var kl float64
			for k := range 2 {
				q := pt[k] / zt
				kl += q * (math.Log(q) - (ps[k] - lse))
			}
			want += ((1-alpha)*tc.temp*tc.temp*kl + alpha*ceSelf) / float64(logits.Rows)
		}
		if math.Abs(got-want) > 1e-5*math.Max(1, want) {
			t.Errorf("%s: loss %v, want %v", tc.spec, got, want)
		}
	}
	if agree == 0 || disagree == 0 {
		t.Errorf("batch has %d agreements and %d disagreements; the test needs both", agree, disagree)
	}
}
