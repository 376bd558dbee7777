package eval

import (
	"math"
	"strings"
)

// AASuffix marks an A/A null: the baseline rerun with another student seed
// under its own method name, "naive" + AASuffix = "naive@aa". Compared with
// the baseline like any method, it differs only by chance, so how often it
// comes out significant is the comparison table's false-positive rate.
const AASuffix = "@aa"

// IsAANull reports whether a method name names an A/A null.
func IsAANull(method string) bool { return strings.HasSuffix(method, AASuffix) }

// AANull is the false-positive accounting of one A/A null method against
// its baseline, from CompareMethods' output.
type AANull struct {
	Method   string  `json:"method"`
	Baseline string  `json:"baseline"`
	Alpha    float64 `json:"alpha"`
	// Tests is the number of per-dataset comparisons with a p-value (one
	// per dataset × weak × strong), Pairs the dataset × seed pairs behind
	// them.
	Tests int `json:"tests"`
	Pairs int `json:"pairs"`
	// Rejected counts per-dataset tests with P ≤ Alpha, RejectedHolm those
	// with PHolm ≤ Alpha, CIExcludesZero those whose Δacc t-interval leaves
	// out 0. Each should be about Alpha × Tests or fewer.
	Rejected       int `json:"rejected"`
	RejectedHolm   int `json:"rejected_holm"`
	CIExcludesZero int `json:"ci_excludes_zero"`
	// Rate and HolmRate are Rejected/Tests and RejectedHolm/Tests (nil
	// without tests).
	Rate     *float64 `json:"false_positive_rate"`
	HolmRate *float64 `json:"false_positive_rate_holm"`
	// PooledTests and PooledRejected(Holm) count the pooled comparisons
	// (one per weak × strong with two or more datasets).
	PooledTests        int `json:"pooled_tests"`
	PooledRejected     int `json:"pooled_rejected"`
	PooledRejectedHolm int `json:"pooled_rejected_holm"`
	// Underpowered counts per-dataset tests that could not reach PHolm ≤
	// Alpha at all: their zero false positives say nothing.
	Underpowered int `json:"underpowered"`
}

// AAFalsePositives tallies, for every A/A null method in comps (IsAANull),
// how often its comparison with the baseline rejected at level alpha (≤ 0:
// Alpha), in order of first appearance. No A/A method: nil.
func AAFalsePositives(comps []Comparison, alpha float64) []AANull {
	if alpha <= 0 {
		alpha = Alpha
	}
	var order []string
	by := map[string]*AANull{}
	for _, c := range comps {
		if !IsAANull(c.Method) {
			continue
		}
		key := c.Method + "\x00" + c.Baseline
		a := by[key]
		if a == nil {
			a = &AANull{Method: c.Method, Baseline: c.Baseline, Alpha: alpha}
			by[key] = a
			order = append(order, key)
		}
		if c.N == 0 || math.IsNaN(c.P) {
			continue
		}
		if c.AcrossDatasets {
			a.PooledTests++
			if c.P <= alpha {
				a.PooledRejected++
			}
			if c.PHolm <= alpha {
				a.PooledRejectedHolm++
			}
			continue
		}
		a.Tests++
		a.Pairs += c.N
		if c.P <= alpha {
			a.Rejected++
		}
		if c.PHolm <= alpha {
			a.RejectedHolm++
		}
		if c.DeltaScoreCILow > 0 || c.DeltaScoreCIHigh < 0 {
			a.CIExcludesZero++
		}
		if c.Underpowered {
			a.Underpowered++
		}
	}
	out := make([]AANull, 0, len(order))
	for _, k := range order {
		a := *by[k]
		if a.Tests > 0 {
			a.Rate = finite(float64(a.Rejected) / float64(a.Tests))
			a.HolmRate = finite(float64(a.RejectedHolm) / float64(a.Tests))
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
