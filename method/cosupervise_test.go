package method

import (
	"reflect"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/student"
)

func TestCsRanges(t *testing.T) {
	r, of := specialistRanges(10, 8)
	if len(r) != 8 || r[0] != [2]int{0, 1} || r[3] != [2]int{3, 5} || r[7] != [2]int{8, 10} {
		t.Errorf("ranges %v", r)
	}
	if !reflect.DeepEqual(of, []int{0, 1, 2, 3, 3, 4, 5, 6, 7, 7}) {
		t.Errorf("teacher of class %v", of)
	}
	if got := (cosupervise{teachers: 8}).levels(4); !reflect.DeepEqual(got, []int{1, 2, 4}) {
		t.Errorf("levels for K=4: %v", got)
	}
}

// TestCsAssignHand checks one level by hand: 4 classes, 2 specialists
// (classes 0-1 and 2-3). The student's argmax picks the specialist; the keep
// rate is the top-1 agreement rate; the kept examples are those with the
// lowest student cross-entropy against the teacher's class.
func TestCsAssignHand(t *testing.T) {
	rows := func(r ...[]float32) data.Matrix { m, _ := data.MatrixFromRows(r); return m }
	prev := rows(
		[]float32{0.7, 0.1, 0.1, 0.1},   // class 0 → teacher 0
		[]float32{0.1, 0.1, 0.6, 0.2},   // class 2 → teacher 1
		[]float32{0.4, 0.5, 0.05, 0.05}, // class 1 → teacher 0
		[]float32{0.1, 0.1, 0.2, 0.6},   // class 3 → teacher 1
	)
	t0 := rows([]float32{0.9, 0.1, 0, 0}, []float32{0.5, 0.5, 0, 0}, []float32{0.8, 0.2, 0, 0}, []float32{0.3, 0.7, 0, 0})
	t1 := rows([]float32{0, 0, 0.6, 0.4}, []float32{0, 0, 0.9, 0.1}, []float32{0, 0, 0.5, 0.5}, []float32{0, 0, 0.8, 0.2})
	lv := assignLevel(prev, []data.Matrix{t0, t1}, 1)
	if !reflect.DeepEqual(lv.teacher, []int{0, 1, 0, 1}) {
		t.Errorf("teachers %v", lv.teacher)
	}
	if !reflect.DeepEqual(lv.targets.Row(1), t1.Row(1)) || !reflect.DeepEqual(lv.targets.Row(2), t0.Row(2)) {
		t.Error("targets are not the assigned teachers' predictions")
	}
	// Teacher argmax: 0, 2, 0, 2; student argmax 0, 2, 1, 3: agree on 0 and 1.
	if !reflect.DeepEqual(lv.agree, []bool{true, true, false, false}) || lv.keepRate != 0.5 {
		t.Errorf("agree %v keep rate %v", lv.agree, lv.keepRate)
	}
	// Student CE against teacher class: -log .7, -log .6, -log .4, -log .2:
	// the two lowest are rows 0 and 1.
	if !reflect.DeepEqual(lv.kept, []bool{true, true, false, false}) {
		t.Errorf("kept %v", lv.kept)
	}
	// Top-2 agreement adds rows 2 and 3 (the teacher's class is the
	// student's second choice in both).
	if lv2 := assignLevel(prev, []data.Matrix{t0, t1}, 2); lv2.keepRate != 1 {
		t.Errorf("top-2 keep rate %v, want 1", lv2.keepRate)
	}
}

// TestCosuperviseText4 runs every level on a real 4-class text set (ham,
// spam, negative, positive: SpamAssassin and the UCI sentences, 300 each)
// at levels 1 and 2 (with 4 classes, 4 specialists have one class each and
// can only agree with the student, so level 2 is the informative one) and
// checks that the final student's selection is the last level's
// rejection (some examples dropped, all labels from specialists) and that
// the students stay well above chance.
func TestCosuperviseText4(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	c := clTestCell(t, "text4")
	if c.view.K != 4 {
		t.Fatalf("K = %d", c.view.K)
	}
	t.Logf("text4: weak label accuracy %.3f", clWeakCorrect(c, cleaning.All(len(c.goldTS), true)))
	for _, spec := range []string{"cosupervise:teachers=1", "cosupervise:teachers=2"} {
		p, sel := clFit(t, c, spec)
		pred, err := p.Predict(t.Context(), student.Inputs{Features: c.testX})
		if err != nil {
			t.Fatal(err)
		}
		acc := clAccuracy(pred, c.testGold)
		t.Logf("%s: test accuracy %.3f, kept %d of %d", spec, acc, cleaning.Count(sel.Kept), len(sel.Kept))
		if acc < 0.5 {
			t.Errorf("%s: test accuracy %.3f (chance 0.25)", spec, acc)
		}
		switch spec {
		case "cosupervise:teachers=1":
			if cleaning.Count(sel.Kept) != len(sel.Kept) || cleaning.Count(sel.Replaced) != 0 {
				t.Error("level 1 must train on every weak label")
			}
		default:
			if n := cleaning.Count(sel.Kept); n == len(sel.Kept) || n < len(sel.Kept)/4 {
				t.Errorf("final level kept %d of %d", n, len(sel.Kept))
			}
			if cleaning.Count(sel.Replaced) != len(sel.Replaced) {
				t.Error("levels above 1 label everything from specialists")
			}
		}
	}
}
