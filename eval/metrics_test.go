package eval

import (
	"math"
	"testing"

	"github.com/superalign/superalign/data"
)

const tol = 1e-9

// mat builds a matrix from literal rows; tests only.
func mat(t *testing.T, rows ...[]float32) data.Matrix {
	t.Helper()
	m, err := data.MatrixFromRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// binary turns class-1 scores into a [n,2] probability matrix.
func binary(t *testing.T, p1 ...float32) data.Matrix {
	t.Helper()
	rows := make([][]float32, len(p1))
	for i, p := range p1 {
		rows[i] = []float32{1 - p, p}
	}
	return mat(t, rows...)
}

func near(a, b, eps float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= eps
}

func TestAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    data.Matrix
		gold []int
		want float64
	}{
		{"all right", binary(t, 0.9, 0.1, 0.8), []int{1, 0, 1}, 1},
		{"one of three", binary(t, 0.9, 0.9, 0.2), []int{1, 0, 1}, 1.0 / 3},
		// A 0.5/0.5 row goes to class 0, the lowest index.
		{"tie to class 0", binary(t, 0.5, 0.5), []int{0, 1}, 0.5},
		{"empty", data.NewMatrix(0, 2), nil, math.NaN()},
	} {
		if got := Accuracy(tc.p, tc.gold); !near(got, tc.want, tol) {
			t.Errorf("%s: Accuracy = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAUROC(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    data.Matrix
		gold []int
		want float64
	}{
		{"perfect", binary(t, 0.1, 0.2, 0.8, 0.9), []int{0, 0, 1, 1}, 1},
		{"reversed", binary(t, 0.9, 0.8, 0.2, 0.1), []int{0, 0, 1, 1}, 0},
		{"all tied", binary(t, 0.5, 0.5, 0.5, 0.5), []int{0, 1, 0, 1}, 0.5},
		// Positives {0.35, 0.8, 0.4}, negatives {0.1, 0.4}: of the 6 pairs the
		// positive wins 4 and ties 1 (0.4 vs 0.4), so (4 + 0.5)/6.
		{"ties count half", binary(t, 0.1, 0.4, 0.35, 0.8, 0.4), []int{0, 0, 1, 1, 1}, 4.5 / 6},
		{"one class", binary(t, 0.1, 0.9), []int{1, 1}, math.NaN()},
		// Three classes, one-vs-rest by column. Class 0: 0.7 beats {0.2,0.1,0.5}: 1.
		// Class 1: positives {0.5, 0.3} vs negatives {0.2, 0.3}: 3 wins + 1 tie
		// = 3.5/4. Class 2: 0.6 beats {0.1,0.3,0.2}: 1. Macro (1+0.875+1)/3.
		{"three classes", mat(t,
			[]float32{0.7, 0.2, 0.1},
			[]float32{0.2, 0.5, 0.3},
			[]float32{0.1, 0.3, 0.6},
			[]float32{0.5, 0.3, 0.2},
		), []int{0, 1, 2, 1}, (1 + 0.875 + 1) / 3},
		// Class 2 never occurs in gold, so only classes 0 and 1 are averaged:
		// class 0: 0.6 beats 0.3 and 0.2: 1; class 1: 0.5 and 0.4 beat 0.3: 1.
		// Averaging class 2's undefined area in would give NaN.
		{"absent class skipped", mat(t,
			[]float32{0.6, 0.3, 0.1},
			[]float32{0.3, 0.5, 0.2},
			[]float32{0.2, 0.4, 0.4},
		), []int{0, 1, 1}, 1},
	} {
		if got := AUROC(tc.p, tc.gold); !near(got, tc.want, tol) {
			t.Errorf("%s: AUROC = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPGR(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		w2s, floor, ceil, thr float64
		want                  float64
		ok                    bool
	}{
		{"half", 0.7, 0.6, 0.8, 0.02, 0.5, true},
		{"beyond ceiling", 0.9, 0.6, 0.8, 0.02, 1.5, true},
		{"below floor", 0.5, 0.6, 0.8, 0.02, -0.5, true},
		{"gap below threshold", 0.7, 0.6, 0.61, 0.02, 0, false},
		// 0.52 − 0.50 is 0.0199999… in float64; it must count as 0.02.
		{"gap at threshold", 0.51, 0.50, 0.52, 0.02, 0.5, true},
		{"inverted", 0.7, 0.8, 0.6, 0.02, 0, false},
		{"zero gap, zero threshold", 0.7, 0.6, 0.6, 0, 0, false},
	} {
		got, ok := PGR(tc.w2s, tc.floor, tc.ceil, tc.thr)
		if ok != tc.ok || (ok && !near(got, tc.want, 1e-9)) {
			t.Errorf("%s: PGR = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCrossEntropy(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pred, target data.Matrix
		want         float64
	}{
		{"uniform", binary(t, 0.5, 0.5), binary(t, 0.3, 1), math.Ln2},
		{"soft", binary(t, 0.8), binary(t, 0.25), -(0.75*math.Log(0.2) + 0.25*math.Log(0.8))},
		// A zero probability on the target class is clipped to 1e-7.
		{"clipped", binary(t, 0), binary(t, 1), -math.Log(1e-7)},
		{"empty", data.NewMatrix(0, 2), data.NewMatrix(0, 2), math.NaN()},
	} {
		// float32 storage of 0.8, 0.2 etc. limits agreement to about 1e-7.
		if got := CrossEntropy(tc.pred, tc.target); !near(got, tc.want, 1e-6) {
			t.Errorf("%s: CrossEntropy = %v, want %v", tc.name, got, tc.want)
		}
	}
}
