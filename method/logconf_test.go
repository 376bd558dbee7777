package method

import (
	"math"
	"sort"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/train"
)

// TestScheduleCoef pins both schedules at hand-computed points: the released
// step schedule rises as progress up to warmup = 0.1 and then jumps to 1;
// the linear one reaches 1 at the end of the warm-up.
func TestScheduleCoef(t *testing.T) {
	for _, tc := range []struct {
		schedule       string
		progress, want float64
	}{
		{lossgraph.ScheduleStep, 0, 0},
		{lossgraph.ScheduleStep, 0.05, 0.05},
		{lossgraph.ScheduleStep, 0.1, 0.1},
		{lossgraph.ScheduleStep, 0.1001, 1},
		{lossgraph.ScheduleStep, 0.9, 1},
		{lossgraph.ScheduleLinear, 0, 0},
		{lossgraph.ScheduleLinear, 0.05, 0.5},
		{lossgraph.ScheduleLinear, 0.1, 1},
		{lossgraph.ScheduleLinear, 0.5, 1},
	} {
		if got := lossgraph.ScheduleCoef(tc.schedule, tc.progress, 0.1); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s at %v: coef %v, want %v", tc.schedule, tc.progress, got, tc.want)
		}
	}
}

// lvQuantile is torch.quantile(x, q), linear interpolation.
func lvQuantile(x []float64, q float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := math.Floor(pos)
	hi := math.Min(lo+1, float64(len(s)-1))
	return s[int(lo)] + (pos-lo)*(s[int(hi)]-s[int(lo)])
}

// TestLogconfTarget checks logconf's training target on a real minibatch of
// 128 sentiment sentences against the formula written out in float64:
// t = quantile(p[:,0], mean y[:,1]); hardened = [p0 >= t, p0 < t];
// target = (1-c)·y + c·hardened with c = 0.5·schedule. The target is
// recovered from the gradient the training graph computes. The entropy
// variant's target, (1-c)·y + c·p, is checked on the same batch.
func TestLogconfTarget(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	// Two batches: the first 128 rows (a balanced prior), and a skewed one,
	// 96 rows the weak model calls positive and 32 it calls negative, where a
	// threshold at the wrong quantile would harden other examples.
	var skewed []int
	pos, neg := 0, 0
	for i, c := range v.TrainStrong.WeakLabels.Argmax() {
		if c == 1 && pos < 96 {
			skewed, pos = append(skewed, i), pos+1
		} else if c == 0 && neg < 32 {
			skewed, neg = append(skewed, i), neg+1
		}
	}
	first := make([]int, 128)
	for i := range first {
		first[i] = i
	}
	for _, rows := range [][]int{first, skewed} {
		lvCheckLogconf(t, v, rows)
	}
}

func lvCheckLogconf(t *testing.T, v *View, rows []int) {
	logits, y := lvBatchRows(t, v, rows)
	n := logits.Rows
	p := make([][]float64, n)
	p0 := make([]float64, n)
	var q float64
	for i := range n {
		p[i] = lvSoftmax(logits, i)
		p0[i] = p[i][0]
		q += float64(y.At(i, 1)) / float64(n)
	}
	thr := lvQuantile(p0, q)
	hard1 := 0
	for _, v := range p0 {
		if v < thr {
			hard1++
		}
	}
	if hard1 == 0 || hard1 == n {
		t.Fatalf("degenerate batch: %d of %d hardened to class 1", hard1, n)
	}
	t.Logf("weak prior of class 1 %.4f, threshold %.4f, %d of %d hardened to class 1", q, thr, hard1, n)
	for _, tc := range []struct {
		spec     string
		progress float64
		c        float64 // 0.5·schedule, by hand
		harden   bool
	}{
		{"logconf:schedule=step", 0.05, 0.025, true},
		{"logconf:schedule=step", 0.5, 0.5, true},
		{"logconf", 0.05, 0.25, true}, // linear by default (openai/weak-to-strong PR #33)
		{"logconf:schedule=linear", 0.05, 0.25, true},
		{"logconf:coef=0.8,schedule=linear,warmup=0.2", 0.1, 0.4, true},
		{"entropy", 0.05, 0.25, false},
		{"entropy:schedule=step", 0.5, 0.5, false},
	} {
		m := lvNew(t, tc.spec).(lossMethod)
		loss, err := m.build(v)
		if err != nil {
			t.Fatal(err)
		}
		got := lvTarget(t, loss, logits, y, tc.progress)
		var worst float64
		for i := range n {
			for k := range 2 {
				self := p[i][k]
				if tc.harden {
					self = 0
					if (k == 0) == (p0[i] >= thr) {
						self = 1
					}
				}
				want := (1-tc.c)*float64(y.At(i, k)) + tc.c*self
				worst = math.Max(worst, math.Abs(float64(got.At(i, k))-want))
			}
		}
		// float32 softmax and gradient, times B = 128: ~1e-5.
		if worst > 5e-5 {
			t.Errorf("%s at progress %v: target differs from the formula by up to %.2g", tc.spec, tc.progress, worst)
		}
	}
}

// TestHardenMulticlass checks the K > 2 rule, argmax of p_k·π_k/p̄_k, on a
// hand-made batch where the prior shift changes an example's class: the
// student over-predicts class 0 relative to the weak prior.
func TestHardenMulticlass(t *testing.T) {
	logits := data.Matrix{Rows: 4, Cols: 3, Values: []float32{
		2, 1.9, 0, // p0 slightly above p1: shifted toward class 1
		3, 0, 0,
		0, 3, 0,
		0, 0, 3,
	}}
	y := data.Matrix{Rows: 4, Cols: 3, Values: []float32{
		0.1, 0.8, 0.1,
		0.2, 0.7, 0.1,
		0.1, 0.8, 0.1,
		0.1, 0.1, 0.8,
	}}
	// Reference in float64.
	pi := make([]float64, 3)
	pbar := make([]float64, 3)
	ps := make([][]float64, 4)
	for i := range 4 {
		ps[i] = lvSoftmax(logits, i)
		for k := range 3 {
			pi[k] += float64(y.At(i, k)) / 4
			pbar[k] += ps[i][k] / 4
		}
	}
	harden := func(logits, targets, _ *graph.Node) *graph.Node {
		return lossgraph.XentTo(logits, lossgraph.Harden(graph.Softmax(logits, -1), targets))
	}
	got := lvTarget(t, train.Loss{PerExample: harden}, logits, y, 0)
	for i := range 4 {
		best, bestK := -1.0, -1
		for k := range 3 {
			if s := ps[i][k] * pi[k] / pbar[k]; s > best {
				best, bestK = s, k
			}
		}
		for k := range 3 {
			want := 0.0
			if k == bestK {
				want = 1
			}
			if math.Abs(float64(got.At(i, k))-want) > 1e-5 {
				t.Errorf("row %d: hardened %v, want class %d", i, got.Row(i), bestK)
				break
			}
		}
	}
	if got.At(0, 1) < 0.5 {
		t.Errorf("row 0 should move to class 1 under the prior shift, got %v", got.Row(0))
	}
}

// TestProductTarget checks that product's target is the renormalised
// product p^β·y^α on a real batch, rows summing to 1.
func TestProductTarget(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	logits, y := lvBatch(t, v, 64)
	for _, tc := range []struct {
		spec        string
		alpha, beta float64
	}{{"product", 1, 1}, {"product:alpha=2,beta=0.5", 2, 0.5}} {
		loss, _ := lvNew(t, tc.spec).(lossMethod).build(v)
		got := lvTarget(t, loss, logits, y, 0.3)
		for i := range logits.Rows {
			p := lvSoftmax(logits, i)
			var z, sum float64
			want := make([]float64, 2)
			for k := range 2 {
				want[k] = math.Pow(p[k], tc.beta) * math.Pow(float64(y.At(i, k)), tc.alpha)
				z += want[k]
			}
			for k := range 2 {
				sum += float64(got.At(i, k))
				if d := math.Abs(float64(got.At(i, k)) - want[k]/z); d > 2e-5 {
					t.Fatalf("%s row %d: target %v, want %v", tc.spec, i, got.Row(i), []float64{want[0] / z, want[1] / z})
				}
			}
			if math.Abs(sum-1) > 2e-5 {
				t.Fatalf("%s row %d: target sums to %v", tc.spec, i, sum)
			}
		}
	}
}
