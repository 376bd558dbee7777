package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/superalign/superalign/store"
)

func TestIsAANull(t *testing.T) {
	for name, want := range map[string]bool{"naive@aa": true, "logconf:coef=0.5@aa": true, "naive": false, "aa": false, "naive@aab": false} {
		if IsAANull(name) != want {
			t.Errorf("IsAANull(%q) = %v", name, !want)
		}
	}
}

// TestAAFalsePositivesCounts: on two datasets × ten seeds the A/A row is
// naive shifted by +0.01 on dataset a (p = 2/1024: a false positive, raw and
// after Holm over the two methods) and by alternating ±0.01 on b (p = 1).
func TestAAFalsePositivesCounts(t *testing.T) {
	var rows []store.Row
	for s := range 10 {
		base := 0.7 + 0.004*float64(s%4)
		sign := float64(s%2*2 - 1)
		rows = append(rows,
			row("a", "naive", int64(s), 0.6, 0.8, base), row("a", "naive@aa", int64(s), 0.6, 0.8, base+0.01),
			row("a", "m", int64(s), 0.6, 0.8, base+0.003*sign),
			row("b", "naive", int64(s), 0.6, 0.8, base), row("b", "naive@aa", int64(s), 0.6, 0.8, base+0.01*sign),
			row("b", "m", int64(s), 0.6, 0.8, base+0.02))
	}
	comps := CompareMethods(rows, "naive", Options{Seed: 1})
	got := AAFalsePositives(comps, 0)
	if len(got) != 1 {
		t.Fatalf("got %+v, want one A/A null", got)
	}
	a := got[0]
	if a.Method != "naive@aa" || a.Baseline != "naive" || a.Alpha != Alpha || a.Tests != 2 || a.Pairs != 20 ||
		a.Rejected != 1 || a.RejectedHolm != 1 || a.CIExcludesZero != 1 || a.Underpowered != 0 ||
		a.Rate == nil || *a.Rate != 0.5 || *a.HolmRate != 0.5 || a.PooledTests != 1 {
		t.Errorf("%+v", a)
	}
	// Pooled, every one of the 20 pairs weighs ±0.01/20 and the observed
	// sum is ten such units: |#plus − #minus| ≥ 10 happens in
	// 2·Σ_{k≥15} C(20,k) = 43400 of 2^20 assignments, p = 0.0414, rejected
	// raw and after Holm (m's pooled p is far smaller).
	for _, c := range comps {
		if c.AcrossDatasets && c.Method == "naive@aa" && !near(c.P, 43400.0/(1<<20), 1e-15) {
			t.Errorf("pooled A/A p = %v, want 43400/2^20", c.P)
		}
	}
	if a.PooledRejected != 1 || a.PooledRejectedHolm != 1 {
		t.Errorf("pooled A/A: %d raw, %d Holm rejections of %d; want 1, 1", a.PooledRejected, a.PooledRejectedHolm, a.PooledTests)
	}
	if AAFalsePositives(CompareMethods(rows[:0], "naive", Options{}), 0) != nil {
		t.Error("no comparisons: want nil")
	}
}

// TestAAFalsePositivesRate: 200 datasets × 10 seeds where naive@aa differs
// from naive only by noise symmetric about zero. Each exact test has size
// 0.0488 at α = 0.05, so the false-positive rate must come out near 5%, and
// Holm over the table's two methods can only lower it.
func TestAAFalsePositivesRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(77, 78))
	var rows []store.Row
	for d := range 200 {
		ds := "d" + string(rune('A'+d%26)) + string(rune('a'+d/26))
		for s := range 10 {
			base := 0.7 + 0.02*rng.Float64()
			rows = append(rows,
				row(ds, "naive", int64(s), 0.6, 0.8, base),
				row(ds, "naive@aa", int64(s), 0.6, 0.8, base+0.01*rng.NormFloat64()),
				row(ds, "better", int64(s), 0.6, 0.8, base+0.01+0.005*rng.NormFloat64()))
		}
	}
	comps := CompareMethods(rows, "naive", Options{Seed: 2, PermutationDraws: 2000})
	a := AAFalsePositives(comps, 0.05)[0]
	t.Logf("A/A over %d datasets: raw %.3f, Holm %.3f, CI excludes 0 in %d", a.Tests, *a.Rate, *a.HolmRate, a.CIExcludesZero)
	if a.Tests != 200 || *a.Rate < 0.02 || *a.Rate > 0.09 || *a.HolmRate > *a.Rate {
		t.Errorf("A/A false-positive rate %v (Holm %v) over %d tests, want about 0.05", *a.Rate, *a.HolmRate, a.Tests)
	}
	if ci := float64(a.CIExcludesZero) / 200; ci < 0.02 || ci > 0.09 {
		t.Errorf("t-intervals excluding 0 under the null: %v, want about 0.05", ci)
	}
}
