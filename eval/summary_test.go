package eval

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/store"
)

func ptr(x float64) *float64 { return &x }

// row is a results row with the fields Summarize and CompareMethods read.
func row(dataset, method string, seed int64, floor, ceil, w2s float64) store.Row {
	r := store.Row{Dataset: dataset, Weak: "bow:linear", Strong: "glove:linear", Method: method,
		Seed: seed, FloorAcc: floor, CeilingAcc: ceil, W2SAcc: w2s, Agreement: 0.9, Misfit: 0.5,
		W2SAUROC: w2s + 0.05, Inheritance: 0.4, Correction: 0.6}
	if p, ok := PGR(w2s, floor, ceil, DefaultGapThreshold); ok {
		lo, hi := p-0.1, p+0.1 // stands in for the cell's bootstrap CI
		r.PGR, r.PGRCILow, r.PGRCIHigh = &p, &lo, &hi
	} else {
		r.NoGap = true
	}
	return r
}

func TestSummarize(t *testing.T) {
	rows := []store.Row{
		row("sst2", "naive", 0, 0.6, 0.8, 0.7), // PGR 0.5
		row("sst2", "conf", 0, 0.6, 0.8, 0.76), // PGR 0.8
		row("sst2", "naive", 1, 0.6, 1.0, 0.9), // PGR 0.75
		row("sst2", "conf", 1, 0.6, 0.61, 0.6), // no gap
		row("imdb", "naive", 0, 0.7, 0.7, 0.7), // no gap
	}
	got := Summarize(rows, 42)
	if len(got) != 3 {
		t.Fatalf("got %d summaries, want 3", len(got))
	}
	// First-appearance order.
	for i, want := range [][2]string{{"sst2", "naive"}, {"sst2", "conf"}, {"imdb", "naive"}} {
		if got[i].Dataset != want[0] || got[i].Method != want[1] {
			t.Errorf("summary %d is %s/%s, want %s/%s", i, got[i].Dataset, got[i].Method, want[0], want[1])
		}
	}

	naive := got[0]
	if naive.NSeeds != 2 || naive.NSeedsNoGap != 0 || naive.PGRMean == nil || !near(*naive.PGRMean, 0.625, tol) {
		t.Errorf("naive: n=%d nogap=%d pgr=%v, want 2, 0, 0.625", naive.NSeeds, naive.NSeedsNoGap, naive.PGRMean)
	}
	// Two seeds: the bootstrap CI of the mean lies within [min, max].
	if *naive.PGRCILow < 0.5-tol || *naive.PGRCIHigh > 0.75+tol || *naive.PGRCILow > *naive.PGRCIHigh {
		t.Errorf("naive PGR CI [%v, %v] outside [0.5, 0.75]", *naive.PGRCILow, *naive.PGRCIHigh)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"w2s", naive.W2SAccMean, 0.8},
		{"floor", naive.FloorAccMean, 0.6},
		{"floor lo", naive.FloorAccCILow, 0.6},
		{"floor hi", naive.FloorAccCIHigh, 0.6},
		{"ceiling", naive.CeilingAccMean, 0.9},
		{"auroc", naive.W2SAUROCMean, 0.85},
		{"agreement", naive.AgreementMean, 0.9},
		{"misfit", naive.MisfitMean, 0.5},
		{"inheritance", naive.InheritanceMean, 0.4},
		{"correction", naive.CorrectionMean, 0.6},
	} {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("naive %s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// One seed with a PGR, one without: the PGR is that seed's, with that
	// seed's own bootstrap CI over test examples (an across-seed CI of one
	// value would be a point).
	conf := got[1]
	if conf.NSeedsNoGap != 1 || conf.PGRMean == nil || !near(*conf.PGRMean, 0.8, tol) ||
		!near(*conf.PGRCILow, 0.7, tol) || !near(*conf.PGRCIHigh, 0.9, tol) {
		t.Errorf("conf: nogap=%d pgr=%v", conf.NSeedsNoGap, conf.PGRMean)
	}
	// Every seed without a gap: nil PGR.
	if imdb := got[2]; imdb.PGRMean != nil || imdb.PGRCILow != nil || imdb.NSeedsNoGap != 1 {
		t.Errorf("imdb: want nil PGR with 1 no-gap seed, got %v, %d", imdb.PGRMean, imdb.NSeedsNoGap)
	}

	if again := Summarize(rows, 42); !reflect.DeepEqual(got, again) {
		t.Errorf("Summarize is not deterministic")
	}
	// Adding an unrelated group must not move an existing group's CI.
	more := Summarize(append([]store.Row{row("other", "x", 0, 0.5, 0.9, 0.7)}, rows...), 42)
	if !reflect.DeepEqual(more[1], got[0]) {
		t.Errorf("an unrelated group changed sst2/naive:\n%+v\n%+v", more[1], got[0])
	}
}

// TestSummarizeMeanGap: one seed clears the gap threshold by chance but the
// mean ceiling does not clear the mean floor: no PGR is reported.
func TestSummarizeMeanGap(t *testing.T) {
	rows := []store.Row{
		row("spam", "naive", 0, 0.60, 0.65, 0.62), // gap 0.05: PGR 0.4
		row("spam", "naive", 1, 0.70, 0.66, 0.65), // gap −0.04: no gap
	}
	s := Summarize(rows, 1)[0]
	if !s.NoGap || s.PGRMean != nil {
		t.Errorf("mean gap %.3f: want NoGap and nil PGR, got NoGap=%v PGR=%v", s.CeilingAccMean-s.FloorAccMean, s.NoGap, s.PGRMean)
	}
}

func TestCompareMethods(t *testing.T) {
	var rows []store.Row
	// Three datasets, three seeds. On each dataset "better" beats "naive" by
	// a constant PGR difference: 0.1, 0.2, 0.3 (floor 0.6, ceiling 0.8, so a
	// w2s step of 0.02 is a PGR step of 0.1).
	for di, ds := range []string{"a", "b", "c"} {
		for seed := range int64(3) {
			base := 0.66 + 0.02*float64(seed)
			rows = append(rows,
				row(ds, "naive", seed, 0.6, 0.8, base),
				row(ds, "better", seed, 0.6, 0.8, base+0.02*float64(di+1)))
		}
	}
	// A no-gap seed for "better" on dataset c is left out of the pairing.
	rows = append(rows, row("c", "naive", 9, 0.6, 0.6, 0.6), row("c", "better", 9, 0.6, 0.6, 0.61))
	// A method with rows on a dataset the baseline lacks is skipped there.
	rows = append(rows, row("d", "better", 0, 0.6, 0.8, 0.7))

	got := CompareMethods(rows, "naive", 7)
	if len(got) != 4 {
		t.Fatalf("got %d comparisons, want 3 per-dataset + 1 pooled: %+v", len(got), got)
	}
	for i, want := range []float64{0.1, 0.2, 0.3} {
		c := got[i]
		if c.AcrossDatasets || c.N != 3 || c.Method != "better" || c.Baseline != "naive" {
			t.Errorf("row %d: %+v", i, c)
		}
		// Every pair differs by the same amount: the CI has no width.
		if !near(c.MeanDiff, want, 1e-9) || !near(c.CILow, want, 1e-9) || !near(c.CIHigh, want, 1e-9) {
			t.Errorf("row %d: ΔPGR %v [%v, %v], want %v", i, c.MeanDiff, c.CILow, c.CIHigh, want)
		}
		if !math.IsNaN(c.WilcoxonP) {
			t.Errorf("row %d: per-dataset Wilcoxon p = %v, want NaN", i, c.WilcoxonP)
		}
	}
	pooled := got[3]
	if !pooled.AcrossDatasets || pooled.N != 3 || pooled.Dataset != "" || !near(pooled.MeanDiff, 0.2, 1e-9) {
		t.Errorf("pooled: %+v", pooled)
	}
	// Three positive differences: W = 0, exact p = 2/8.
	if pooled.WilcoxonW != 0 || !near(pooled.WilcoxonP, 0.25, 1e-12) {
		t.Errorf("pooled Wilcoxon W, p = %v, %v; want 0, 0.25", pooled.WilcoxonW, pooled.WilcoxonP)
	}
	if !(pooled.CILow >= 0.1-1e-9 && pooled.CIHigh <= 0.3+1e-9) {
		t.Errorf("pooled CI [%v, %v] outside [0.1, 0.3]", pooled.CILow, pooled.CIHigh)
	}

	if again := CompareMethods(rows, "naive", 7); !reflect.DeepEqual(nanSafe(got), nanSafe(again)) {
		t.Errorf("CompareMethods is not deterministic")
	}
	if CompareMethods(rows, "absent", 7) != nil {
		t.Errorf("an absent baseline should give nil")
	}

	// One dataset: the across-dataset test is not run.
	one := CompareMethods(rows[:6], "naive", 7)
	if p := one[len(one)-1]; !p.AcrossDatasets || p.N != 1 || !math.IsNaN(p.WilcoxonP) || !math.IsNaN(p.WilcoxonW) {
		t.Errorf("one dataset: want NaN Wilcoxon, got %+v", p)
	}

	// JSON writes NaN as null instead of failing.
	b, err := json.Marshal(one)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"wilcoxon_p":null`) {
		t.Errorf("JSON %s should carry a null p", b)
	}
}

// nanSafe replaces NaN with a sentinel so reflect.DeepEqual can compare.
func nanSafe(cs []Comparison) []Comparison {
	out := append([]Comparison(nil), cs...)
	for i := range out {
		for _, f := range []*float64{&out[i].MeanDiff, &out[i].CILow, &out[i].CIHigh, &out[i].WilcoxonW, &out[i].WilcoxonP} {
			if math.IsNaN(*f) {
				*f = -999
			}
		}
	}
	return out
}
