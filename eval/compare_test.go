package eval

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/store"
)

// compareRows: three datasets × five seeds, floor 0.6 and ceiling 0.8 on
// every seed (gap 0.2), naive at 0.66 + 0.01·seed. "better" adds the
// differences da on dataset a, da + 0.01 on b and dc on c; "same" equals
// naive. A dataset d has "better" but no naive, and naive has a seed 9 on c
// that no method pairs with.
var (
	da = []float64{0.02, 0.035, 0.01, 0.025, 0.03}
	dc = []float64{0.02, -0.01, 0.015, 0.005, -0.005}
)

func compareRows() []store.Row {
	var rows []store.Row
	for di, ds := range []string{"a", "b", "c"} {
		for s := range 5 {
			base := 0.66 + 0.01*float64(s)
			d := da[s]
			switch di {
			case 1:
				d += 0.01
			case 2:
				d = dc[s]
			}
			rows = append(rows,
				row(ds, "naive", int64(s), 0.6, 0.8, base),
				row(ds, "better", int64(s), 0.6, 0.8, base+d),
				row(ds, "same", int64(s), 0.6, 0.8, base))
		}
	}
	rows = append(rows, row("c", "naive", 9, 0.6, 0.8, 0.7), row("d", "better", 0, 0.6, 0.8, 0.7))
	return rows
}

func TestCompareMethods(t *testing.T) {
	got := CompareMethods(compareRows(), "naive", Options{Seed: 7})
	// Per dataset: a/better, a/same, b/better, b/same, c/better, c/same;
	// pooled: better, same.
	if len(got) != 8 {
		t.Fatalf("got %d comparisons, want 6 per-dataset + 2 pooled: %+v", len(got), got)
	}
	// Reference: scipy.stats.t.interval of the five differences and the
	// exact sign-flip p (2/32 when all five agree in sign, 16/32 for dc).
	for _, tc := range []struct {
		i                 int
		dataset, method   string
		mean, lo, hi      float64
		p, pHolm, dPGR    float64
		underpowered      bool
		pooled            bool
		n, nDatasets, fam int
	}{
		{0, "a", "better", 0.024, 0.012058058059500077, 0.035941941940499926, 0.0625, 0.125, 0.12, true, false, 5, 1, 2},
		{1, "a", "same", 0, 0, 0, 1, 1, 0, true, false, 5, 1, 2},
		{2, "b", "better", 0.034, 0.022058058059500077, 0.04594194194049993, 0.0625, 0.125, 0.17, true, false, 5, 1, 2},
		{4, "c", "better", 0.005, -0.010828172390416602, 0.020828172390416604, 0.5, 1, 0.025, true, false, 5, 1, 2},
		// Pooled over 15 pairs (exact): mean of dataset means 0.021,
		// stratified t-interval with Welch df 11.10, and p = 22/32768;
		// Holm over the two pooled methods doubles it.
		{6, "", "better", 0.021, 0.014890372708141822, 0.02710962729185818, 22.0 / 32768, 44.0 / 32768, (0.12 + 0.17 + 0.025) / 3, false, true, 15, 3, 2},
		{7, "", "same", 0, 0, 0, 1, 1, 0, false, true, 15, 3, 2},
	} {
		c := got[tc.i]
		if c.Dataset != tc.dataset || c.Method != tc.method || c.Baseline != "naive" || c.AcrossDatasets != tc.pooled ||
			c.N != tc.n || c.NDatasets != tc.nDatasets || c.HolmFamily != tc.fam {
			t.Errorf("row %d: %+v", tc.i, c)
			continue
		}
		if !near(c.DeltaAcc, tc.mean, 1e-9) || !near(c.DeltaAccCILow, tc.lo, 1e-9) || !near(c.DeltaAccCIHigh, tc.hi, 1e-9) {
			t.Errorf("row %d: Δacc %v [%v, %v], want %v [%v, %v]", tc.i, c.DeltaAcc, c.DeltaAccCILow, c.DeltaAccCIHigh, tc.mean, tc.lo, tc.hi)
		}
		if !c.PExact || !near(c.P, tc.p, 1e-12) || !near(c.PHolm, tc.pHolm, 1e-12) || c.Underpowered != tc.underpowered {
			t.Errorf("row %d: p %v holm %v exact %v underpowered %v, want %v %v true %v", tc.i, c.P, c.PHolm, c.PExact, c.Underpowered, tc.p, tc.pHolm, tc.underpowered)
		}
		if c.DeltaPGR == nil || !near(*c.DeltaPGR, tc.dPGR, 1e-9) {
			t.Errorf("row %d: ΔPGR %v, want %v (ΣΔacc/Σgap)", tc.i, c.DeltaPGR, tc.dPGR)
		}
	}
	// Five seeds: the smallest attainable p is 2^(1−5).
	if got[0].MinP != 0.0625 {
		t.Errorf("MinP %v, want 0.0625", got[0].MinP)
	}

	if again := CompareMethods(compareRows(), "naive", Options{Seed: 7}); !reflect.DeepEqual(nanSafe(got), nanSafe(again)) {
		t.Errorf("CompareMethods is not deterministic")
	}
	if CompareMethods(compareRows(), "absent", Options{}) != nil {
		t.Errorf("an absent baseline should give nil")
	}
	// One dataset: no pooled row.
	if one := CompareMethods(compareRows()[:15], "naive", Options{}); len(one) != 2 || one[1].AcrossDatasets {
		t.Errorf("one dataset: %+v, want two per-dataset rows and no pooled one", one)
	}

	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"delta_acc_mean":0.024`, `"p_holm":0.125`, `"underpowered":true`, `"min_attainable_p":0.0625`, `"holm_family":2`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("comparison JSON lacks %s: %s", field, b)
		}
	}
}

// TestCompareMethodsPower: ten seeds make a two-method table testable
// (MinP·m = 2/1024·2 < 0.05); every difference positive gives p = 2/1024.
func TestCompareMethodsPower(t *testing.T) {
	var rows []store.Row
	for s := range 10 {
		base := 0.7 + 0.003*float64(s%3)
		rows = append(rows, row("a", "naive", int64(s), 0.6, 0.8, base),
			row("a", "up", int64(s), 0.6, 0.8, base+0.01+0.001*float64(s)),
			row("a", "naive@aa", int64(s), 0.6, 0.8, base+0.002*float64(s%2*2-1)))
	}
	got := CompareMethods(rows, "naive", Options{})
	up := got[0]
	if up.Underpowered || !near(up.P, 2.0/1024, 1e-15) || !near(up.PHolm, 4.0/1024, 1e-15) {
		t.Errorf("ten seeds: %+v", up)
	}
	// The A/A null alternates ±0.002: p = 1.
	if aa := got[1]; aa.Method != "naive@aa" || !near(aa.P, 1, 1e-12) || aa.HolmFamily != 2 {
		t.Errorf("A/A: %+v", aa)
	}
}

// TestCompareMethodsNoGap: Δacc is defined on every paired seed; ΔPGR is not
// when the baseline's gaps do not clear the threshold.
func TestCompareMethodsNoGap(t *testing.T) {
	var rows []store.Row
	for s := range 4 {
		rows = append(rows, row("x", "naive", int64(s), 0.7, 0.7+0.01*float64(s%2), 0.7),
			row("x", "m", int64(s), 0.7, 0.7+0.01*float64(s%2), 0.71))
	}
	c := CompareMethods(rows, "naive", Options{})[0]
	if c.N != 4 || !near(c.DeltaAcc, 0.01, 1e-9) || c.DeltaPGR != nil {
		t.Errorf("%+v: want 4 pairs, Δacc 0.01, nil ΔPGR", c)
	}
}

// nanSafe replaces NaN with a sentinel so reflect.DeepEqual can compare.
func nanSafe(cs []Comparison) []Comparison {
	out := append([]Comparison(nil), cs...)
	for i := range out {
		for _, f := range []*float64{&out[i].DeltaAcc, &out[i].DeltaAccCILow, &out[i].DeltaAccCIHigh, &out[i].P, &out[i].PHolm, &out[i].MinP} {
			if math.IsNaN(*f) {
				*f = -999
			}
		}
	}
	return out
}
