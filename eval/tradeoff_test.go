package eval

import (
	"math"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/store"
)

func probs(rows ...[2]float32) data.Matrix {
	m := data.NewMatrix(len(rows), 2)
	for i, r := range rows {
		m.Values[2*i], m.Values[2*i+1] = r[0], r[1]
	}
	return m
}

// TestConformity: conformity split by whether the weak model is right,
// value respect over the constrained examples only, and the misfit
// inequality's two sides, by hand on four test examples.
func TestConformity(t *testing.T) {
	h := NewHidden([]int{0, 1}, []int{0, 0, 1, 1}, 2)
	weak := probs([2]float32{0.9, 0.1}, [2]float32{0.2, 0.8}, [2]float32{0.3, 0.7}, [2]float32{0.6, 0.4}) // right, wrong, right, wrong
	stud := probs([2]float32{1, 0}, [2]float32{0, 1}, [2]float32{1, 0}, [2]float32{0, 1})                 // follows, follows, leaves, leaves
	c, err := h.Conformity(weak, stud)
	if err != nil {
		t.Fatal(err)
	}
	if *c.ConformRight != 0.5 || *c.ConformWrong != 0.5 || c.ValueRespect != nil || c.NValueTest != 0 {
		t.Errorf("conformity %+v", c)
	}
	// d(y,w) = (0.02 + 1.28 + 0.18 + 0.72)/4, d(y,s) = (0 + 2 + 2 + 0)/4,
	// d(s,w) = (0.02 + 0.08 + 0.98 + 0.72)/4.
	if math.Abs(c.GainSq-(2.2-4)/4) > 1e-6 || math.Abs(c.MisfitSq-1.8/4) > 1e-6 || c.MisfitHolds {
		t.Errorf("gain_sq %v misfit_sq %v holds %v", c.GainSq, c.MisfitSq, c.MisfitHolds)
	}
	if err := h.SetTestValues([]int{0, -1, 0, -1}); err != nil {
		t.Fatal(err)
	}
	c, _ = h.Conformity(weak, stud)
	if c.NValueTest != 2 || *c.ValueRespect != 1 || *c.WeakValueRespect != 0.5 {
		t.Errorf("value respect %+v", c)
	}
	if err := h.SetTestValues([]int{0, 2, 0, 0}); err == nil {
		t.Error("a value outside the classes was accepted")
	}
	if _, err := h.Conformity(weak, probs([2]float32{1, 0})); err == nil {
		t.Error("mis-shaped predictions were accepted")
	}
	// A weak model right everywhere: no conformity where it is wrong.
	c, _ = NewHidden(nil, []int{0}, 2).Conformity(probs([2]float32{1, 0}), probs([2]float32{1, 0}))
	if c.ConformWrong != nil || *c.ConformRight != 1 || !c.MisfitHolds {
		t.Errorf("perfect weak model: %+v", c)
	}
}

func TestHypervolume(t *testing.T) {
	for _, tc := range []struct {
		pts  [][2]float64
		want float64
	}{
		{nil, 0},
		{[][2]float64{{0.5, 0.5}}, 0.25},
		{[][2]float64{{0.5, 0.5}, {0.4, 0.4}}, 0.25}, // dominated point adds nothing
		{[][2]float64{{0.8, 0.2}, {0.2, 0.8}}, 0.8*0.2 + 0.2*0.6},
		{[][2]float64{{1.2, 0.5}}, 0.5}, // clipped to the unit square
	} {
		if got := Hypervolume(tc.pts); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Hypervolume(%v) = %v, want %v", tc.pts, got, tc.want)
		}
	}
}

// TestTradeoffOf: points per λ with intervals, the front, per-seed
// hypervolumes and their paired difference against the baseline.
func TestTradeoffOf(t *testing.T) {
	var rows []store.Row
	for seed := int64(0); seed < 3; seed++ {
		e := float64(seed) * 0.01
		add := func(m string, acc, agree float64) {
			rows = append(rows, store.Row{Dataset: "d", Weak: "w", Strong: "s", Seed: seed, Method: m, W2SAcc: acc + e, Agreement: agree, MisfitSq: 0.1, MisfitHolds: seed == 0})
		}
		add("simultaneous:lambda=0", 0.8, 0.6)
		add("simultaneous:lambda=1", 0.7, 0.9)
		add("alternating:lambda=0", 0.85, 0.7)
		add("alternating:lambda=1", 0.6, 0.6) // dominated
		add("naive", 0.7, 0.9)                // not an optimiser: ignored
	}
	tr, err := TradeoffOf(rows, []string{"simultaneous", "alternating"}, "simultaneous", AxisAuto, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Fronts) != 2 || tr.Fronts[0].Axis != AxisAgreement || len(tr.Fronts[0].Points) != 2 {
		t.Fatalf("fronts %+v", tr.Fronts)
	}
	alt := tr.Fronts[1]
	if !alt.Points[0].OnFront || alt.Points[1].OnFront {
		t.Errorf("alternating front %+v", alt.Points)
	}
	// Seed 0: simultaneous 0.8·0.6 + 0.7·(0.9 − 0.6) = 0.69; alternating 0.85·0.7 = 0.595.
	if math.Abs(tr.Fronts[0].HVs[0]-0.69) > 1e-9 || math.Abs(alt.HVs[0]-0.595) > 1e-9 {
		t.Errorf("hypervolumes %v %v", tr.Fronts[0].HVs, alt.HVs)
	}
	if len(tr.Diffs) != 1 || tr.Diffs[0].A != "alternating" || tr.Diffs[0].N != 3 || tr.Diffs[0].Mean >= 0 {
		t.Errorf("diffs %+v", tr.Diffs)
	}
	if tr.Misfit.Rows != 15 || tr.Misfit.Holds != 5 {
		t.Errorf("misfit check %+v", tr.Misfit)
	}
	if _, err := TradeoffOf(rows, []string{"simultaneous"}, "simultaneous", AxisValue, 1); err == nil {
		t.Error("the value axis without a value channel was accepted")
	}
}
