package report

import (
	"fmt"
	"math"
)

// dash stands for an undefined number (NaN): a blank would look like a
// rendering bug, a zero like a result.
const dash = "—"

// f3 formats a number with three decimals, the precision of every number in
// the report: accuracies over a few thousand test examples carry no more.
func f3(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return dash
	}
	s := fmt.Sprintf("%.3f", x)
	if s == "-0.000" {
		return "0.000"
	}
	return s
}

// ci formats a 95% interval.
func ci(lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return dash
	}
	return "[" + f3(lo) + ", " + f3(hi) + "]"
}

// pval formats a p-value; below 0.001 three decimals would print a
// misleading 0.000.
func pval(p float64) string {
	switch {
	case math.IsNaN(p):
		return dash
	case p < 0.001:
		return "<0.001"
	default:
		return f3(p)
	}
}

// seeds is "1 seed" / "3 seeds".
func seeds(n int) string {
	if n == 1 {
		return "1 seed"
	}
	return fmt.Sprintf("%d seeds", n)
}
