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

// fiveSeeds is naive and conf on sst2 over five seeds: gaps 0.20 ± 0.02,
// naive recovers about half, conf a little more.
func fiveSeeds() []store.Row {
	var rows []store.Row
	floors := []float64{0.60, 0.62, 0.58, 0.61, 0.59}
	gaps := []float64{0.20, 0.22, 0.18, 0.21, 0.19}
	naiveGain := []float64{0.10, 0.12, 0.08, 0.11, 0.09}
	confGain := []float64{0.12, 0.13, 0.10, 0.12, 0.11}
	for s := range 5 {
		rows = append(rows,
			row("sst2", "naive", int64(s), floors[s], floors[s]+gaps[s], floors[s]+naiveGain[s]),
			row("sst2", "conf", int64(s), floors[s], floors[s]+gaps[s], floors[s]+confGain[s]))
	}
	return rows
}

func TestSummarize(t *testing.T) {
	rows := append(fiveSeeds(), row("imdb", "naive", 0, 0.7, 0.7, 0.7)) // one seed, no gap
	got := Summarize(rows, Options{Seed: 42})
	if len(got) != 3 {
		t.Fatalf("got %d summaries, want 3", len(got))
	}
	for i, want := range [][2]string{{"sst2", "naive"}, {"sst2", "conf"}, {"imdb", "naive"}} {
		if got[i].Dataset != want[0] || got[i].Method != want[1] {
			t.Errorf("summary %d is %s/%s, want %s/%s (first appearance)", i, got[i].Dataset, got[i].Method, want[0], want[1])
		}
	}
	naive := got[0]
	// Ratio of means: Σgain/Σgap = 0.50/1.00.
	if naive.NSeeds != 5 || naive.NoGap || naive.PGRMean == nil || !near(*naive.PGRMean, 0.5, 1e-12) {
		t.Fatalf("naive: %+v, want PGR 0.5 over 5 seeds", naive)
	}
	if !(*naive.PGRCILow < 0.5 && *naive.PGRCIHigh > 0.5) || *naive.PGRCILow < 0.44 || *naive.PGRCIHigh > 0.56 {
		t.Errorf("naive PGR CI [%v, %v]: should hold 0.5 and stay within the per-seed ratios' range", *naive.PGRCILow, *naive.PGRCIHigh)
	}
	// Gap 0.2 with a t-interval over the five gaps (scipy: 0.2 ± 2.776·0.00707).
	if !near(naive.GapMean, 0.2, 1e-12) || !near(*naive.GapCILow, 0.2-2.7764451051977987*math.Sqrt(0.00025/5), 1e-9) ||
		naive.GapThreshold != DefaultGapThreshold {
		t.Errorf("gap %v [%v, %v] threshold %v", naive.GapMean, *naive.GapCILow, *naive.GapCIHigh, naive.GapThreshold)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"w2s", naive.W2SAccMean, 0.70},
		{"floor", naive.FloorAccMean, 0.60},
		// t-interval of the floors 0.60 0.62 0.58 0.61 0.59: sd 0.0158.
		{"floor lo", naive.FloorAccCILow, 0.6 - 2.7764451051977987*math.Sqrt(0.00025/5)},
		{"floor hi", naive.FloorAccCIHigh, 0.6 + 2.7764451051977987*math.Sqrt(0.00025/5)},
		{"ceiling", naive.CeilingAccMean, 0.80},
		{"auroc", naive.W2SAUROCMean, 0.75},
		{"agreement", naive.AgreementMean, 0.9},
		{"misfit", naive.MisfitMean, 0.5},
	} {
		if !near(c.got, c.want, 1e-9) {
			t.Errorf("naive %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if conf := got[1]; conf.PGRMean == nil || !near(*conf.PGRMean, 0.58, 1e-12) {
		t.Errorf("conf PGR %v, want 0.58", conf.PGRMean)
	}
	// One seed without a gap.
	if imdb := got[2]; !imdb.NoGap || imdb.PGRMean != nil || imdb.NSeedsNoGap != 1 || imdb.GapCILow != nil {
		t.Errorf("imdb: %+v, want no gap, nil PGR and nil gap bounds", imdb)
	}

	if again := Summarize(rows, Options{Seed: 42}); !reflect.DeepEqual(got, again) {
		t.Errorf("Summarize is not deterministic")
	}
	more := Summarize(append([]store.Row{row("other", "x", 0, 0.5, 0.9, 0.7)}, rows...), Options{Seed: 42})
	if !reflect.DeepEqual(more[1], got[0]) {
		t.Errorf("an unrelated group changed sst2/naive:\n%+v\n%+v", more[1], got[0])
	}
	// summary.json can hold every summary (nil bounds are null, not NaN).
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"gap_ci_low":null`) || !strings.Contains(string(b), `"pgr_mean":0.5`) {
		t.Errorf("summary JSON: %s", b)
	}
}

// TestSummarizeGapThreshold: the threshold reaches the summary. The five
// gaps have a lower 95% bound of 0.180; a threshold of 0.15 keeps the PGR,
// 0.19 drops it although the mean gap, 0.20, clears it.
func TestSummarizeGapThreshold(t *testing.T) {
	rows := fiveSeeds()
	for _, tc := range []struct {
		threshold float64
		noGap     bool
	}{{0, false}, {0.15, false}, {0.19, true}, {0.5, true}, {-1, false}} {
		s := Summarize(rows, Options{Seed: 1, GapThreshold: tc.threshold})[0]
		if s.NoGap != tc.noGap || (s.PGRMean == nil) != tc.noGap {
			t.Errorf("threshold %v: NoGap %v PGR %v, want no gap = %v", tc.threshold, s.NoGap, s.PGRMean, tc.noGap)
		}
		want := tc.threshold
		if want == 0 {
			want = DefaultGapThreshold
		}
		if s.GapThreshold != want {
			t.Errorf("threshold %v recorded as %v", tc.threshold, s.GapThreshold)
		}
	}
}

// TestSummarizeRatioOfMeans is doc.go's worked example: three seeds whose
// ratio of means is 0.583 where the mean of ratios is 0.533; the gap's
// t-interval [−0.048, 0.448] (scipy) does not clear 0.02, so no PGR is
// reported with three seeds; thirty seeds with the same gaps clear it.
func TestSummarizeRatioOfMeans(t *testing.T) {
	rows := []store.Row{
		row("spam", "naive", 0, 0.60, 0.80, 0.70),
		row("spam", "naive", 1, 0.60, 0.70, 0.64),
		row("spam", "naive", 2, 0.60, 0.90, 0.81),
	}
	s := Summarize(rows, Options{Seed: 1})[0]
	if !s.NoGap || s.PGRMean != nil || !near(s.GapMean, 0.2, 1e-12) ||
		!near(*s.GapCILow, -0.048413771184375204, 1e-9) || !near(*s.GapCIHigh, 0.4484137711843753, 1e-9) {
		t.Errorf("three seeds: %+v", s)
	}
	// Ten copies of the three seeds narrow the gap's interval enough.
	var many []store.Row
	for c := range 10 {
		for i, r := range rows {
			r.Seed = int64(3*c + i)
			many = append(many, r)
		}
	}
	s = Summarize(many, Options{Seed: 1})[0]
	if s.NoGap || s.PGRMean == nil || !near(*s.PGRMean, 0.35/0.6, 1e-12) {
		t.Errorf("thirty seeds: %+v, want PGR 0.35/0.6", s)
	}
}

// TestSummarizeKeepsNoGapSeeds: a seed without a gap of its own stays in
// the ratio of means (it used to be dropped from the PGR but not from the
// accuracies).
func TestSummarizeKeepsNoGapSeeds(t *testing.T) {
	var rows []store.Row
	for s, g := range []float64{0.20, 0.22, 0.01, 0.21, 0.19, 0.20} {
		rows = append(rows, row("sst2", "naive", int64(s), 0.6, 0.6+g, 0.6+g/2+0.005))
	}
	s := Summarize(rows, Options{Seed: 3})[0]
	// Gains 0.105 0.115 0.01 0.11 0.1 0.105 (sum 0.545) over gaps summing 1.03.
	if s.NSeedsNoGap != 1 || s.PGRMean == nil || !near(*s.PGRMean, 0.545/1.03, 1e-12) {
		t.Errorf("%+v, want PGR 0.545/1.03 with the no-gap seed counted", s)
	}
}

// TestSummarizeOneSeed: one seed keeps its row's PGR and its paired
// bootstrap CI over test examples.
func TestSummarizeOneSeed(t *testing.T) {
	s := Summarize([]store.Row{row("sst2", "conf", 0, 0.6, 0.8, 0.76)}, Options{})[0]
	if s.NoGap || s.PGRMean == nil || !near(*s.PGRMean, 0.8, 1e-12) || !near(*s.PGRCILow, 0.7, 1e-12) ||
		s.W2SAccCILow != s.W2SAccMean || s.GapCILow != nil {
		t.Errorf("one seed: %+v", s)
	}
	// The summary's threshold applies to the one seed's gap (0.2) too.
	if s := Summarize([]store.Row{row("sst2", "conf", 0, 0.6, 0.8, 0.76)}, Options{GapThreshold: 0.3})[0]; !s.NoGap || s.PGRMean != nil {
		t.Errorf("one seed, threshold 0.3 above its gap 0.2: %+v, want no gap", s)
	}
}
