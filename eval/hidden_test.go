package eval

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/store"
)

// preds turns predicted classes into [n,2] rows with 0.9 on the prediction.
func preds(t *testing.T, classes ...int) data.Matrix {
	t.Helper()
	p := make([]float32, len(classes))
	for i, c := range classes {
		p[i] = 0.1
		if c == 1 {
			p[i] = 0.9
		}
	}
	return binary(t, p...)
}

// handCell is a 10-example test set worked by hand:
//
//	gold    0 0 0 0 0 1 1 1 1 1
//	floor   0 0 0 0 0 1 0 0 0 0   acc 0.6, wrong on 6..9
//	ceiling 0 0 0 0 0 1 1 1 1 1   acc 1.0
//	student 0 0 0 0 0 1 1 1 0 0   acc 0.8, wrong on 8, 9
//
// PGR = (0.8−0.6)/(1−0.6) = 0.5; agreement 8/10; of the 4 weak errors the
// student repeats 2: inheritance 0.5, correction 0.5. With class-1 scores
// 0.9/0.1 the floor's AUROC is (5 + 20·0.5)/25 = 0.6 and the student's
// (15 + 10·0.5)/25 = 0.8.
func handCell(t *testing.T) (*Hidden, CellInputs) {
	h := NewHidden([]int{0, 1, 0, 1}, []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, 2)
	in := CellInputs{
		FloorTest:          preds(t, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0),
		CeilingTest:        preds(t, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1),
		StudentTest:        preds(t, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0),
		WeakLabels:         binary(t, 0.2, 0.7, 0.6, 0.4), // argmax 0 1 1 0: 2 of 4 right
		StudentTrainStrong: binary(t, 0.1, 0.8, 0.5, 0.5),
		Seed:               1,
	}
	return h, in
}

func TestScoreCellHand(t *testing.T) {
	h, in := handCell(t)
	s, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	// Misfit rows: −(.8 ln .9 + .2 ln .1), −(.3 ln .2 + .7 ln .8), ln 2, ln 2.
	misfit := (-(0.8*math.Log(0.9) + 0.2*math.Log(0.1)) -
		(0.3*math.Log(0.2) + 0.7*math.Log(0.8)) + 2*math.Ln2) / 4
	for _, c := range []struct {
		name      string
		got, want float64
		eps       float64
	}{
		{"floor", s.FloorAcc, 0.6, tol},
		{"ceiling", s.CeilingAcc, 1, tol},
		{"w2s", s.W2SAcc, 0.8, tol},
		{"gain", s.GainAcc, 0.2, tol},
		{"floor auroc", s.FloorAUROC, 0.6, tol},
		{"ceiling auroc", s.CeilingAUROC, 1, tol},
		{"w2s auroc", s.W2SAUROC, 0.8, tol},
		{"agreement", s.Agreement, 0.8, tol},
		{"inheritance", s.Inheritance, 0.5, tol},
		{"correction", s.Correction, 0.5, tol},
		{"weak label acc", s.WeakLabelAcc, 0.5, tol},
		{"misfit", s.Misfit, misfit, 1e-6},
	} {
		if !near(c.got, c.want, c.eps) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.NoGap || s.PGR == nil {
		t.Fatalf("NoGap = %v, PGR = %v; want a PGR", s.NoGap, s.PGR)
	}
	if !near(*s.PGR, 0.5, tol) {
		t.Errorf("PGR = %v, want 0.5", *s.PGR)
	}
	if !(*s.PGRCILow <= 0.5 && 0.5 <= *s.PGRCIHigh && *s.PGRCILow < *s.PGRCIHigh) {
		t.Errorf("PGR CI [%v, %v] should straddle 0.5", *s.PGRCILow, *s.PGRCIHigh)
	}
	// The student is never worse than the floor on an example here, so a
	// resampled gain is the share of draws landing on examples 6 and 7,
	// Binomial(10, 0.2)/10: its 2.5th percentile is 0, its 97.5th 0.4–0.5.
	if !(s.GainAccCILow >= 0 && s.GainAccCILow <= 0.2 && s.GainAccCIHigh >= 0.2 && s.GainAccCIHigh <= 0.5) {
		t.Errorf("gain CI [%v, %v] implausible", s.GainAccCILow, s.GainAccCIHigh)
	}

	// Determinism: same inputs and seed, same scores.
	s2, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, s2) {
		t.Errorf("ScoreCell is not deterministic:\n%+v\n%+v", s, s2)
	}
}

func TestScoreCellNoGap(t *testing.T) {
	h, in := handCell(t)
	in.CeilingTest = in.FloorTest // ceiling − floor = 0
	s, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	if !s.NoGap || s.PGR != nil || s.PGRCILow != nil || s.PGRCIHigh != nil {
		t.Errorf("want no gap with nil PGR, got NoGap=%v PGR=%v", s.NoGap, s.PGR)
	}
	if !near(s.GainAcc, 0.2, tol) {
		t.Errorf("gain = %v, want 0.2 even with no gap", s.GainAcc)
	}

	// A gap of 0.4 is "no gap" under a threshold of 0.5.
	_, in = handCell(t)
	in.GapThreshold = 0.5
	if s, _ = h.ScoreCell(in); !s.NoGap {
		t.Errorf("gap 0.4 < threshold 0.5 should be no gap")
	}
}

func TestPGRWithCI(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ok        bool
		n, of     int
		wantNoGap bool
	}{
		{"all draws have a gap", true, 100, 100, false},
		{"exactly half skipped", true, 50, 100, false},
		{"more than half skipped", true, 49, 100, true},
		{"point has no gap", false, 100, 100, true},
	} {
		pgrs := make([]float64, tc.n)
		for i := range pgrs {
			pgrs[i] = float64(i) / float64(tc.n)
		}
		p, lo, hi, noGap := pgrWithCI(0.5, tc.ok, pgrs, tc.of)
		if noGap != tc.wantNoGap || (p == nil) != noGap || (lo == nil) != noGap || (hi == nil) != noGap {
			t.Errorf("%s: noGap = %v (p=%v lo=%v hi=%v), want %v", tc.name, noGap, p, lo, hi, tc.wantNoGap)
		}
	}
}

func TestScoreCellErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*CellInputs)
		want   error
	}{
		{"short student", func(in *CellInputs) { in.StudentTest = preds(t, 0, 1) }, ErrShape},
		{"wrong K", func(in *CellInputs) { in.WeakLabels = data.NewMatrix(4, 3) }, ErrShape},
		{"NaN", func(in *CellInputs) { in.FloorTest.Values[3] = float32(math.NaN()) }, ErrNotFinite},
	} {
		h, in := handCell(t)
		tc.mutate(&in)
		if _, err := h.ScoreCell(in); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	_, in := handCell(t)
	bad := NewHidden([]int{0, 1, 0, 5}, make([]int, 10), 2)
	if _, err := bad.ScoreCell(in); !errors.Is(err, ErrGold) {
		t.Errorf("out-of-range gold: err = %v, want ErrGold", err)
	}
	oneClass := NewHidden([]int{0, 1, 0, 1}, make([]int, 10), 2)
	if _, err := oneClass.ScoreCell(in); !errors.Is(err, ErrGold) {
		t.Errorf("single-class test: err = %v, want ErrGold", err)
	}
}

func TestFilterPR(t *testing.T) {
	// gold 0 1 0 1 1, weak argmax 0 1 1 0 1: correct on 0, 1, 4.
	h := NewHidden([]int{0, 1, 0, 1, 1}, []int{0, 1}, 2)
	weak := binary(t, 0.1, 0.8, 0.7, 0.2, 0.9)
	for _, tc := range []struct {
		name   string
		kept   []bool
		pr, rc float64
	}{
		// Kept {0,1,2}: 2 correct of 3 kept; 2 of the 3 correct kept.
		{"some", []bool{true, true, true, false, false}, 2.0 / 3, 2.0 / 3},
		{"all", []bool{true, true, true, true, true}, 3.0 / 5, 1},
		{"only correct", []bool{true, true, false, false, true}, 1, 1},
		{"none", []bool{false, false, false, false, false}, math.NaN(), 0},
	} {
		p, r := h.FilterPR(tc.kept, weak)
		if !near(p, tc.pr, tol) || !near(r, tc.rc, tol) {
			t.Errorf("%s: precision, recall = %v, %v; want %v, %v", tc.name, p, r, tc.pr, tc.rc)
		}
	}
}

func TestGoldIsUnexported(t *testing.T) {
	// Gold isolation at the type level: nothing outside package eval can
	// name a field of Hidden.
	ht := reflect.TypeFor[Hidden]()
	for i := range ht.NumField() {
		if f := ht.Field(i); f.IsExported() {
			t.Errorf("Hidden.%s is exported; gold must stay inside package eval", f.Name)
		}
	}
	// NewHidden copies, so the caller cannot change gold afterwards.
	gold := []int{0, 1}
	h := NewHidden(gold, gold, 2)
	gold[0] = 1
	if h.test[0] != 0 || h.trainStrong[0] != 0 {
		t.Errorf("NewHidden aliases the caller's slices")
	}
}

func TestFill(t *testing.T) {
	h, in := handCell(t)
	s, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	var r store.Row
	s.Fill(&r)
	if r.W2SAcc != s.W2SAcc || r.FloorAcc != s.FloorAcc || r.CeilingAcc != s.CeilingAcc ||
		r.Misfit != s.Misfit || r.Agreement != s.Agreement || r.WeakLabelAcc != s.WeakLabelAcc ||
		r.GainAccCIHigh != s.GainAccCIHigh || r.W2SAUROC != s.W2SAUROC || r.Inheritance != s.Inheritance {
		t.Errorf("Fill lost metrics: %+v", r)
	}
	if r.PGR == nil || *r.PGR != *s.PGR || r.PGR == s.PGR {
		t.Errorf("Fill should copy the PGR value into a new pointer")
	}
}
