package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
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

// GapNote says why a summary has no PGR: the gap's lower 95% bound (or,
// with one seed, the seed's own gap) is below the threshold. Empty when the
// summary has a PGR.
func GapNote(s store.Summary) string {
	if s.PGRMean != nil {
		return ""
	}
	if s.GapCILow == nil {
		return fmt.Sprintf("gap %s, below %s (%s, no across-seed bound)", f3(s.GapMean), f3(s.GapThreshold), seeds(s.NSeeds))
	}
	return fmt.Sprintf("gap %s, lower 95%% bound %s < %s", f3(s.GapMean), f3(*s.GapCILow), f3(s.GapThreshold))
}

// PowerNote is the underpowered warning of a comparison, empty when the
// test can reach significance: "underpowered: n=3 seeds, smallest
// attainable p = 0.250 (Holm over 19 methods: 1.000)".
func PowerNote(c eval.Comparison) string {
	if !c.Underpowered {
		return ""
	}
	unit := "seeds"
	if c.AcrossDatasets {
		unit = "pairs"
	}
	note := fmt.Sprintf("underpowered: n=%d %s, smallest attainable p = %s", c.N, unit, pval(c.MinP))
	if c.HolmFamily > 1 {
		note += fmt.Sprintf(" (Holm over %d methods: %s)", c.HolmFamily, pval(math.Min(1, c.MinP*float64(c.HolmFamily))))
	}
	return note
}

// AANote summarises an A/A null's false positives: "A/A null naive@aa vs
// naive: 1 of 3 per-dataset tests with p ≤ 0.050 (0 after Holm); t-interval
// excludes 0 in 1; pooled: 0 of 1 (0 after Holm)".
func AANote(a eval.AANull) string {
	note := fmt.Sprintf("A/A null %s vs %s: %d of %d per-dataset tests with p ≤ %s (%d after Holm); t-interval excludes 0 in %d",
		a.Method, a.Baseline, a.Rejected, a.Tests, f3(a.Alpha), a.RejectedHolm, a.CIExcludesZero)
	if a.PooledTests > 0 {
		note += fmt.Sprintf("; pooled: %d of %d (%d after Holm)", a.PooledRejected, a.PooledTests, a.PooledRejectedHolm)
	}
	if a.Underpowered > 0 {
		note += fmt.Sprintf("; %d of the tests could not reject at all (underpowered)", a.Underpowered)
	}
	return note
}

// signed3 is f3 with an explicit sign, for differences.
func signed3(x float64) string {
	s := f3(x)
	if s != dash && s != "0.000" && s[0] != '-' {
		s = "+" + s
	}
	return s
}

// Setting says how a summary's class mix was treated and which metric its
// PGR is on: "balance undersample · PGR on accuracy". Empty fields (rows
// from before the choice) read as the defaults.
func Setting(balance, metric string) string {
	if balance == "" {
		balance = "undersample"
	}
	return "balance " + balance + " · PGR on " + eval.Metric(metric).Label()
}

// SettingNote explains a setting in a sentence, for headings.
func SettingNote(balance, metric string) string {
	var mix string
	switch balance {
	case "", "undersample":
		mix = "binary datasets undersampled to balance (--balance undersample)"
	case "none":
		mix = "natural class mix, stratified splits (--balance none)"
	case "weight":
		mix = "natural class mix, stratified splits, every loss weighted by inverse class frequency (--balance weight)"
	default:
		mix = "balance " + balance
	}
	m := eval.Metric(metric)
	on := "floor, ceiling, w2s, gap and PGR on " + m.Label()
	switch m {
	case "", eval.MetricAccuracy:
	case eval.MetricAUROC:
		on += " (K > 2: macro one-vs-rest), accuracy alongside"
	default:
		on += ", accuracy alongside"
	}
	return mix + "; " + on
}

// ClassMix formats one split's examples per class: for two classes with
// the minority's share in whole percent ("1300/83 (6%)"; "<1%" below one),
// the counts alone for more ("1300/83/625"). Empty for rows from before
// class counts were recorded.
func ClassMix(counts []int) string {
	if len(counts) == 0 {
		return ""
	}
	parts := make([]string, len(counts))
	total, least := 0, counts[0]
	for i, c := range counts {
		parts[i] = fmt.Sprint(c)
		total += c
		least = min(least, c)
	}
	s := strings.Join(parts, "/")
	if len(counts) == 2 && total > 0 && counts[0] != counts[1] {
		share := 100 * float64(least) / float64(total)
		if share < 1 {
			s += " (<1%)"
		} else {
			s += fmt.Sprintf(" (%.0f%%)", share)
		}
	}
	return s
}
