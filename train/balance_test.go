package train

import (
	"math"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
)

// TestClassBalanced checks the weights of --balance weight by hand.
func TestClassBalanced(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

	// One-hot, 6 of class 0 and 2 of class 1: class weights 8/(2·6) = 2/3
	// and 8/(2·2) = 2, so each class weighs 4 and the total stays 8.
	labels := []int{0, 0, 1, 0, 0, 1, 0, 0}
	o, err := ClassBalanced(Objective{Targets: data.OneHot(labels, 2)})
	if err != nil {
		t.Fatal(err)
	}
	var perClass [2]float64
	total := 0.0
	for i, y := range labels {
		want := 2.0 / 3
		if y == 1 {
			want = 2
		}
		if !near(float64(o.Weights[i]), want) {
			t.Errorf("row %d (class %d): weight %v, want %v", i, y, o.Weights[i], want)
		}
		perClass[y] += float64(o.Weights[i])
		total += float64(o.Weights[i])
	}
	if !near(perClass[0], 4) || !near(perClass[1], 4) || !near(total, 8) {
		t.Errorf("class sums %v, total %v: want 4, 4 and 8", perClass, total)
	}

	// Soft targets: masses m = (0.9+0.8+0.3, 0.1+0.2+0.7) = (2, 1), U = 3,
	// c = (3/(2·2), 3/(2·1)) = (0.75, 1.5); weights 0.9·0.75+0.1·1.5 =
	// 0.825, 0.8·0.75+0.2·1.5 = 0.9, 0.3·0.75+0.7·1.5 = 1.275; sum 3.
	soft := data.Matrix{Rows: 3, Cols: 2, Values: []float32{0.9, 0.1, 0.8, 0.2, 0.3, 0.7}}
	o, err = ClassBalanced(Objective{Targets: soft})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.825, 0.9, 1.275} {
		if !near(float64(o.Weights[i]), want) {
			t.Errorf("soft row %d: weight %v, want %v", i, o.Weights[i], want)
		}
	}

	// Composition with a method's rows and weights: rows {0, 2, 3} with
	// u = (2, 1, 1) of one-hot (0, 1, 1): masses (2, 2), U = 4, c = (1, 1):
	// the method's weights already balance, and nothing changes. Row 1 is
	// not trained on and keeps its base weight.
	o, err = ClassBalanced(Objective{Targets: data.OneHot([]int{0, 0, 1, 1}, 2), Rows: []int{0, 2, 3}, Weights: []float32{2, 5, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{2, 5, 1, 1} {
		if !near(float64(o.Weights[i]), want) {
			t.Errorf("composed row %d: weight %v, want %v", i, o.Weights[i], want)
		}
	}
	// u = (1, 1, 3) on rows {0, 1, 2} of one-hot (0, 0, 1): masses (2, 3),
	// U = 5, c = (5/4, 5/6): weights 1.25, 1.25, 2.5; each class 2.5.
	o, err = ClassBalanced(Objective{Targets: data.OneHot([]int{0, 0, 1}, 2), Weights: []float32{1, 1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{1.25, 1.25, 2.5} {
		if !near(float64(o.Weights[i]), want) {
			t.Errorf("weighted row %d: weight %v, want %v", i, o.Weights[i], want)
		}
	}

	// A class absent from the rows is left out: K' = 2 of 3 classes.
	o, err = ClassBalanced(Objective{Targets: data.OneHot([]int{0, 0, 0, 2}, 3)})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{4.0 / 6, 4.0 / 6, 4.0 / 6, 2} {
		if !near(float64(o.Weights[i]), want) {
			t.Errorf("absent-class row %d: weight %v, want %v", i, o.Weights[i], want)
		}
	}
	// The trainer's normalisation leaves balanced one-hot weights as they
	// are (their mean is already 1).
	_, w, err := o.resolve(4)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		if !near(float64(w[i]), float64(o.Weights[i])) {
			t.Errorf("resolve changed weight %d: %v → %v", i, o.Weights[i], w[i])
		}
	}

	if _, err := ClassBalanced(Objective{Targets: data.OneHot([]int{0, 1}, 2), Weights: []float32{0, 0}}); err == nil || !strings.Contains(err.Error(), "total weight") {
		t.Errorf("zero weights: err = %v", err)
	}
	if _, err := ClassBalanced(Objective{Targets: data.OneHot([]int{0, 1}, 2), Weights: []float32{1}}); err == nil {
		t.Error("short weights: no error")
	}
}
