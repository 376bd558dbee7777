package eval_test

import (
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
)

func ExamplePGR() {
	// Weak model 60%, strong ceiling 80%, student 70%: half the gap recovered.
	p, ok := eval.PGR(0.70, 0.60, 0.80, eval.DefaultGapThreshold)
	fmt.Printf("%.2f %v\n", p, ok)
	// A 1-point gap is below the 2-point threshold: no PGR.
	_, ok = eval.PGR(0.70, 0.60, 0.61, eval.DefaultGapThreshold)
	fmt.Println(ok)
	// Output:
	// 0.50 true
	// false
}

func ExampleAUROC() {
	// Class-1 probabilities; positives score 0.35, 0.8, 0.4, negatives 0.1, 0.4.
	p, _ := data.MatrixFromRows([][]float32{{0.9, 0.1}, {0.6, 0.4}, {0.65, 0.35}, {0.2, 0.8}, {0.6, 0.4}})
	fmt.Printf("%.3f\n", eval.AUROC(p, []int{0, 0, 1, 1, 1}))
	// Output: 0.750
}

func ExampleWilcoxonSignedRank() {
	// Darwin's Zea mays differences (cross- minus self-fertilised heights).
	w, p := eval.WilcoxonSignedRank([]float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75})
	fmt.Println(w, p)
	// Output: 24 0.041259765625
}

func ExampleHidden_ScoreCell() {
	onehot := func(cls ...int) data.Matrix { return data.OneHot(cls, 2) }
	h := eval.NewHidden([]int{0, 1}, []int{0, 0, 1, 1}, 2)
	s, err := h.ScoreCell(eval.CellInputs{
		FloorTest:          onehot(0, 0, 0, 1), // 3/4
		CeilingTest:        onehot(0, 0, 1, 1), // 4/4
		StudentTest:        onehot(0, 0, 0, 1), // 3/4
		WeakLabels:         onehot(0, 1),
		StudentTrainStrong: onehot(0, 1),
		Seed:               1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("floor %.2f ceiling %.2f w2s %.2f pgr %.2f agreement %.2f\n",
		s.FloorAcc, s.CeilingAcc, s.W2SAcc, *s.PGR, s.Agreement)
	// Output: floor 0.75 ceiling 1.00 w2s 0.75 pgr 0.00 agreement 1.00
}
