package eval

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/store"
)

// onehotPreds is an [n,k] matrix with 0.8 on each predicted class.
func onehotPreds(t *testing.T, k int, pred ...int) data.Matrix {
	t.Helper()
	m := data.NewMatrix(len(pred), k)
	for i, c := range pred {
		for j := range k {
			m.Set(i, j, 0.2/float32(k-1))
		}
		m.Set(i, c, 0.8)
	}
	return m
}

// TestBalancedAccuracyAndMacroF1 checks both against hand-computed values.
func TestBalancedAccuracyAndMacroF1(t *testing.T) {
	for _, tc := range []struct {
		name         string
		k            int
		gold, pred   []int
		bal, macroF1 float64
	}{
		// Recalls 2/3 and 1; F1 2·2/(4+0+1) = 0.8 and 2·1/(2+1+0) = 2/3.
		{"binary", 2, []int{0, 0, 0, 1}, []int{0, 0, 1, 1}, 5.0 / 6, 11.0 / 15},
		// A constant majority classifier: accuracy 0.75, balanced 0.5,
		// F1 of the majority 2·3/(6+1) = 6/7, of the minority 0.
		{"majority", 2, []int{0, 0, 0, 1}, []int{0, 0, 0, 0}, 0.5, 3.0 / 7},
		// Recalls 1/2, 1, 1/2; F1 2/4, 4/5, 2/3: macro 59/90.
		{"three classes", 3, []int{0, 0, 1, 1, 2, 2}, []int{0, 1, 1, 1, 0, 2}, 2.0 / 3, 59.0 / 90},
		// Class 2 is predicted once but absent from gold: it counts in
		// macro-F1 (F1 0), not in balanced accuracy. F1 2/3, 1, 0.
		{"predicted absent class", 3, []int{0, 0, 1, 1}, []int{0, 2, 1, 1}, 0.75, 5.0 / 9},
	} {
		p := onehotPreds(t, tc.k, tc.pred...)
		if got := BalancedAccuracy(p, tc.gold); !near(got, tc.bal, 1e-12) {
			t.Errorf("%s: balanced accuracy %v, want %v", tc.name, got, tc.bal)
		}
		if got := MacroF1(p, tc.gold); !near(got, tc.macroF1, 1e-12) {
			t.Errorf("%s: macro-F1 %v, want %v", tc.name, got, tc.macroF1)
		}
		if got := Score(MetricBalancedAccuracy, p, tc.gold); !near(got, tc.bal, 1e-12) {
			t.Errorf("%s: Score(balanced-accuracy) %v", tc.name, got)
		}
	}
	if !math.IsNaN(BalancedAccuracy(data.NewMatrix(0, 2), nil)) || !math.IsNaN(MacroF1(data.NewMatrix(0, 2), nil)) {
		t.Error("empty input: want NaN")
	}
}

// TestECE checks the calibration error on cases worked by hand.
func TestECE(t *testing.T) {
	// Confidences 0.92 (right), 0.86 (wrong), 0.65 (wrong), 0.62 (right):
	// bins 9, 8, 6, 6. Bin 9: |1 − 0.92| = 0.08; bin 8: |0 − 0.86|; bin 6:
	// |1 − (0.65 + 0.62)| = 0.27 (hits − summed confidence). ECE =
	// (0.08 + 0.86 + 0.27)/4 = 0.3025.
	p := binary(t, 0.92, 0.14, 0.65, 0.38)
	if got := ECE(p, []int{1, 1, 0, 0}); !near(got, 0.3025, 1e-6) {
		t.Errorf("ECE = %v, want 0.3025", got)
	}
	// Calibrated: confidence 0.75, right 3 times in 4.
	if got := ECE(binary(t, 0.75, 0.75, 0.25, 0.25), []int{1, 1, 0, 1}); !near(got, 0, 1e-7) {
		t.Errorf("calibrated ECE = %v, want 0", got)
	}
	// Under-confident: confidence 0.6, always right: ECE 0.4.
	if got := ECE(binary(t, 0.6, 0.4, 0.6), []int{1, 0, 1}); !near(got, 0.4, 1e-6) {
		t.Errorf("under-confident ECE = %v, want 0.4", got)
	}
	// Confidence 1 lands in the last bin.
	if got := ECE(binary(t, 1, 0), []int{1, 1}); !near(got, 0.5, 1e-7) {
		t.Errorf("ECE with confidence 1 = %v, want 0.5", got)
	}
}

func TestParseMetric(t *testing.T) {
	for _, s := range []string{"accuracy", "auroc", "balanced-accuracy", "macro-f1"} {
		if m, err := ParseMetric(s); err != nil || string(m) != s {
			t.Errorf("ParseMetric(%q) = %q, %v", s, m, err)
		}
	}
	if m, err := ParseMetric(""); err != nil || m != MetricAccuracy {
		t.Errorf(`ParseMetric("") = %q, %v`, m, err)
	}
	if _, err := ParseMetric("f1"); err == nil || !strings.Contains(err.Error(), "macro-f1") {
		t.Errorf("unknown metric: err = %v", err)
	}
}

// TestScorerResample: the bootstrap scorer on multiplicities gives the
// metric of the resample written out example by example, ties included.
func TestScorerResample(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{2, 3} {
		n := 40
		gold := make([]int, n)
		probs := data.NewMatrix(n, k)
		for i := range gold {
			gold[i] = r.IntN(k)
			s := float32(0)
			for j := range k {
				v := float32(r.IntN(4) + 1) // few distinct values: many ties
				probs.Set(i, j, v)
				s += v
			}
			for j := range k {
				probs.Set(i, j, probs.At(i, j)/s)
			}
		}
		for _, m := range Metrics {
			sc := newScorer(m, probs, gold)
			if got, want := sc.score(nil), Score(m, probs, gold); !near(got, want, 1e-12) {
				t.Errorf("K=%d %s: scorer %v, Score %v", k, m, got, want)
			}
			for range 5 {
				w := make([]int32, n)
				var idx []int
				for range n {
					i := r.IntN(n)
					w[i]++
					idx = append(idx, i)
				}
				sub := make([]int, len(idx))
				for j, i := range idx {
					sub[j] = gold[i]
				}
				want := Score(m, probs.SelectRows(idx), sub)
				if got := sc.score(w); !near(got, want, 1e-12) {
					t.Errorf("K=%d %s resample: scorer %v, written out %v", k, m, got, want)
				}
			}
		}
	}
}

// TestScoreCellMetric: the hand cell scored on each metric. On AUROC and
// balanced accuracy floor, ceiling and w2s are 0.6, 1, 0.8 as on
// accuracy, so PGR is 0.5; on macro-F1 they are 11/21, 1 and 19/24, so
// PGR = (19/24 − 11/21)/(1 − 11/21) = 0.5625. The gain and its CI stay on
// accuracy and use the same draws whatever the metric.
func TestScoreCellMetric(t *testing.T) {
	h, in := handCell(t)
	base, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	if base.Metric != MetricAccuracy || base.FloorScore != base.FloorAcc || base.W2SScore != base.W2SAcc {
		t.Errorf("default metric: %q with scores %v/%v", base.Metric, base.FloorScore, base.W2SScore)
	}
	for _, tc := range []struct {
		m                   Metric
		floor, ceiling, w2s float64
		pgr                 float64
	}{
		{MetricAUROC, 0.6, 1, 0.8, 0.5},
		{MetricBalancedAccuracy, 0.6, 1, 0.8, 0.5},
		{MetricMacroF1, 11.0 / 21, 1, 19.0 / 24, 0.5625},
	} {
		in.Metric = tc.m
		s, err := h.ScoreCell(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.Metric != tc.m || !near(s.FloorScore, tc.floor, 1e-9) || !near(s.CeilingScore, tc.ceiling, 1e-9) || !near(s.W2SScore, tc.w2s, 1e-9) {
			t.Errorf("%s: scores %v %v %v, want %v %v %v", tc.m, s.FloorScore, s.CeilingScore, s.W2SScore, tc.floor, tc.ceiling, tc.w2s)
		}
		if s.PGR == nil || !near(*s.PGR, tc.pgr, 1e-9) {
			t.Fatalf("%s: PGR %v, want %v", tc.m, s.PGR, tc.pgr)
		}
		if !(*s.PGRCILow <= tc.pgr && tc.pgr <= *s.PGRCIHigh) {
			t.Errorf("%s: CI [%v, %v] misses %v", tc.m, *s.PGRCILow, *s.PGRCIHigh, tc.pgr)
		}
		if s.GainAcc != base.GainAcc || s.GainAccCILow != base.GainAccCILow || s.GainAccCIHigh != base.GainAccCIHigh {
			t.Errorf("%s: gain %v [%v, %v], accuracy's %v [%v, %v]", tc.m, s.GainAcc, s.GainAccCILow, s.GainAccCIHigh, base.GainAcc, base.GainAccCILow, base.GainAccCIHigh)
		}
		var r store.Row
		s.Fill(&r)
		if r.PGRMetric != string(tc.m) || r.W2SScore != s.W2SScore || r.WeakECE == nil {
			t.Errorf("%s: Fill gave metric %q, w2s score %v, ECE %v", tc.m, r.PGRMetric, r.W2SScore, r.WeakECE)
		}
	}
	in.Metric = "f1"
	if _, err := h.ScoreCell(in); err == nil {
		t.Error("unknown metric: no error")
	}
}

// TestScoreCellTrainedLabels: calibrated labels replace the weak labels in
// misfit and get their own ECE; without them TrainedECE is nil.
func TestScoreCellTrainedLabels(t *testing.T) {
	h, in := handCell(t)
	s, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	if s.TrainedECE != nil {
		t.Errorf("TrainedECE = %v without trained labels", *s.TrainedECE)
	}
	// Gold of train_strong is 0 1 0 1; these labels are right with
	// confidence 0.75 three times in four: ECE 0.
	in.TrainedLabels = binary(t, 0.25, 0.75, 0.75, 0.75)
	s2, err := h.ScoreCell(in)
	if err != nil {
		t.Fatal(err)
	}
	if s2.TrainedECE == nil || !near(*s2.TrainedECE, 0, 1e-7) {
		t.Errorf("TrainedECE = %v, want 0", s2.TrainedECE)
	}
	if want := CrossEntropy(in.StudentTrainStrong, in.TrainedLabels); !near(s2.Misfit, want, 1e-12) || near(s2.Misfit, s.Misfit, 1e-9) {
		t.Errorf("misfit %v, want %v (against the trained labels)", s2.Misfit, want)
	}
	if s2.WeakECE != s.WeakECE {
		t.Errorf("weak ECE moved: %v vs %v", s2.WeakECE, s.WeakECE)
	}
	in.TrainedLabels = binary(t, 0.5)
	if _, err := h.ScoreCell(in); err == nil {
		t.Error("trained labels of the wrong shape: no error")
	}
}

// TestSummarizeMetricAndSetting: summaries follow the rows' PGR metric and
// never pool rows of two balancing modes or metrics.
func TestSummarizeMetricAndSetting(t *testing.T) {
	row := func(seed int64, balance, metric string, floor, ceil, w2s float64) store.Row {
		pgr := (w2s - floor) / (ceil - floor)
		return store.Row{Dataset: "d", Weak: "w", Strong: "s", Method: "naive", Seed: seed, Balance: balance, PGRMetric: metric,
			FloorAcc: 0.9, CeilingAcc: 0.92, W2SAcc: 0.91, FloorScore: floor, CeilingScore: ceil, W2SScore: w2s,
			PGR: &pgr, PGRCILow: &pgr, PGRCIHigh: &pgr}
	}
	var rows []store.Row
	for s := range int64(5) {
		d := float64(s) / 100
		rows = append(rows, row(s, "none", "auroc", 0.70+d, 0.90+d, 0.85+d))
		rows = append(rows, row(s, "", "", 0, 0, 0)) // a row from before: undersample, accuracy
	}
	sums := Summarize(rows, Options{Seed: 1})
	if len(sums) != 2 {
		t.Fatalf("%d summaries, want 2 (one per setting)", len(sums))
	}
	a, b := sums[0], sums[1]
	if a.Balance != "none" || a.PGRMetric != "auroc" || b.Balance != "undersample" || b.PGRMetric != "accuracy" {
		t.Fatalf("settings %s/%s and %s/%s", a.Balance, a.PGRMetric, b.Balance, b.PGRMetric)
	}
	// AUROC: gain 0.15 over gap 0.20 in every seed.
	if a.PGRMean == nil || !near(*a.PGRMean, 0.75, 1e-9) || !near(a.GapMean, 0.2, 1e-9) || !near(a.W2SScoreMean, 0.87, 1e-9) {
		t.Errorf("auroc summary: PGR %v, gap %v, w2s %v", a.PGRMean, a.GapMean, a.W2SScoreMean)
	}
	if !near(a.W2SAccMean, 0.91, 1e-9) {
		t.Errorf("accuracy alongside: %v", a.W2SAccMean)
	}
	// Accuracy: gain 0.01 over gap 0.02; the scores are the accuracies.
	if b.PGRMean == nil || !near(*b.PGRMean, 0.5, 1e-9) || !near(b.W2SScoreMean, 0.91, 1e-9) {
		t.Errorf("accuracy summary: PGR %v, w2s score %v", b.PGRMean, b.W2SScoreMean)
	}
	// Comparisons pair rows of one setting only, and test the metric.
	var cmpRows []store.Row
	for s := range int64(6) {
		base := row(s, "none", "auroc", 0.7, 0.9, 0.8)
		m := row(s, "none", "auroc", 0.7, 0.9, 0.8+0.01*float64(s+1))
		m.Method = "better"
		m.W2SAcc = base.W2SAcc - 0.001 // worse on accuracy, better on AUROC
		other := m
		other.Balance = "undersample"
		cmpRows = append(cmpRows, base, m, other)
	}
	comps := CompareMethods(cmpRows, "naive", Options{Seed: 1})
	if len(comps) != 1 {
		t.Fatalf("%d comparisons, want 1 (the undersample rows have no baseline)", len(comps))
	}
	c := comps[0]
	if c.Balance != "none" || c.PGRMetric != MetricAUROC || c.N != 6 || !near(c.DeltaScore, 0.035, 1e-9) || !near(c.DeltaAcc, -0.001, 1e-9) {
		t.Errorf("comparison %+v", c)
	}
	// All six differences positive: the exact sign-flip p is 2/64.
	if !near(c.P, 2.0/64, 1e-12) || !Beats(c) {
		t.Errorf("p = %v (want 2/64), beats = %v", c.P, Beats(c))
	}
	// Δ PGR on AUROC: 0.035/0.2.
	if c.DeltaPGR == nil || !near(*c.DeltaPGR, 0.175, 1e-9) {
		t.Errorf("ΔPGR = %v, want 0.175", c.DeltaPGR)
	}
	if !reflect.DeepEqual(Summarize(rows, Options{Seed: 1}), sums) {
		t.Error("Summarize not deterministic")
	}
}
