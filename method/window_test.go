package method

import (
	"math"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// TestWindowMask checks that window's gradient is exactly zero on the
// examples where the student's max probability is >= 0.5 + r, and equals
// the soft cross-entropy gradient (p - y)/B elsewhere (EleutherAI divides
// the in-window sum by the batch size), on a real batch, for the midweak
// radius and a fixed one.
func TestWindowMask(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	logits, y := lvBatch(t, v, 128)
	mid := windowMidweak(v)
	if !(mid > 0 && mid < 0.5) {
		t.Fatalf("midweak radius %v outside (0, 0.5)", mid)
	}
	for _, tc := range []struct {
		spec string
		r    float64
	}{{"window", mid}, {"window:radius=0.1", 0.1}} {
		loss, err := lvNew(t, tc.spec).(lossMethod).build(v)
		if err != nil {
			t.Fatal(err)
		}
		_, grad, err := train.LossGradient(loss, logits, y, 0)
		if err != nil {
			t.Fatal(err)
		}
		in := 0
		inside := make([]bool, logits.Rows)
		for i := range logits.Rows {
			p := lvSoftmax(logits, i)
			inside[i] = math.Max(p[0], p[1]) < 0.5+tc.r
			if inside[i] {
				in++
			}
		}
		if in == 0 || in == logits.Rows {
			t.Fatalf("%s: %d of %d in the window; the test needs both kinds", tc.spec, in, logits.Rows)
		}
		for i := range logits.Rows {
			p := lvSoftmax(logits, i)
			for k := range 2 {
				g := float64(grad.At(i, k))
				if !inside[i] {
					if g != 0 {
						t.Fatalf("%s row %d (outside, max p %.3f): gradient %v, want exactly 0", tc.spec, i, math.Max(p[0], p[1]), g)
					}
					continue
				}
				if want := (p[k] - float64(y.At(i, k))) / float64(logits.Rows); math.Abs(g-want) > 1e-6 {
					t.Fatalf("%s row %d: gradient %v, want %v", tc.spec, i, g, want)
				}
			}
		}
		t.Logf("%s: r = %.3f, %d of %d in the window", tc.spec, tc.r, in, logits.Rows)
	}
}
