package oversight

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestSummarizeFollowsRunRules checks that oversight tables use the run
// summaries' rules: t-intervals across seeds, PGR as a ratio of means, and
// "no gap" when the gap's lower t-bound is below the threshold.
func TestSummarizeFollowsRunRules(t *testing.T) {
	row := func(strategy string, seed int64, floor, ceiling, acc float64) Row {
		return Row{Strategy: strategy, Seed: seed, BudgetFrac: 0.1, FloorAcc: floor, CeilingAcc: ceiling, Acc: acc}
	}
	tests := []struct {
		name     string
		ceilings []float64
		accs     []float64
		noGap    bool
		pgr      float64
	}{
		// Gains 0.10, 0.04, 0.21 over gaps 0.20, 0.10, 0.30: the gap's
		// t-interval is [−0.048, 0.448], whose lower bound is below 0.02.
		{"wide gap", []float64{0.80, 0.70, 0.90}, []float64{0.70, 0.64, 0.81}, true, 0},
		// Gaps 0.20, 0.21, 0.19 (lower bound ≈ 0.175): PGR = Σgain/Σgap =
		// (0.10 + 0.05 + 0.15)/0.60 = 0.5, where the mean of the per-seed
		// ratios would be (0.5 + 0.238 + 0.789)/3 = 0.509.
		{"tight gap", []float64{0.80, 0.81, 0.79}, []float64{0.70, 0.65, 0.75}, false, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rows []Row
			for i := range tc.ceilings {
				rows = append(rows, row("critic", int64(i), 0.60, tc.ceilings[i], tc.accs[i]))
				rows = append(rows, row("ceiling", int64(i), 0.60, tc.ceilings[i], tc.ceilings[i]))
			}
			sums := Summarize(rows, 1, 0.02)
			if len(sums) != 2 || sums[0].Strategy != "critic" || sums[1].Strategy != "ceiling" {
				t.Fatalf("summaries %+v", sums)
			}
			s := sums[0]
			if s.NoGap != tc.noGap {
				t.Fatalf("NoGap = %v, want %v (gap %v)", s.NoGap, tc.noGap, s.Gap)
			}
			if !tc.noGap {
				if math.Abs(s.PGR[0]-tc.pgr) > 1e-12 || !(s.PGR[1] <= s.PGR[0] && s.PGR[0] <= s.PGR[2]) {
					t.Errorf("PGR %v, want %g inside its CI", s.PGR, tc.pgr)
				}
			} else if !math.IsNaN(s.PGR[0]) {
				t.Errorf("no gap but PGR %v", s.PGR)
			}
			if !math.IsNaN(sums[1].PGR[0]) || sums[1].NoGap {
				t.Errorf("the ceiling strategy has PGR %v, NoGap %v; want none", sums[1].PGR, sums[1].NoGap)
			}
			mean := (tc.accs[0] + tc.accs[1] + tc.accs[2]) / 3
			if math.Abs(s.Acc[0]-mean) > 1e-12 || !(s.Acc[1] < mean && mean < s.Acc[2]) {
				t.Errorf("acc %v, want mean %g inside a t-interval", s.Acc, mean)
			}
			var buf bytes.Buffer
			if err := WriteTable(&buf, sums, true); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "no gap"); got != tc.noGap {
				t.Errorf("table says no gap: %v, want %v:\n%s", got, tc.noGap, buf.String())
			}
			if _, err := json.Marshal(SummariesJSON(sums)); err != nil {
				t.Errorf("summaries do not encode: %v", err)
			}
		})
	}
}

// TestSummarizeOnPGRMetric checks that with --pgr-metric the gap and PGR
// come from the rows' metric scores, not their accuracies, and that the
// table names the metric. The accuracies here have no gap at all, so a
// summary that read them would say "no gap".
func TestSummarizeOnPGRMetric(t *testing.T) {
	var rows []Row
	ceilings := []float64{0.90, 0.91, 0.89} // AUROC; floor 0.80: gaps 0.10, 0.11, 0.09
	students := []float64{0.85, 0.88, 0.83} // gains 0.05, 0.08, 0.03: PGR 0.16/0.30
	for i := range ceilings {
		rows = append(rows, Row{Strategy: "random", Seed: int64(i), BudgetFrac: 0.05, FloorAcc: 0.95, CeilingAcc: 0.95, Acc: 0.95,
			Metric: "auroc", Scores: &Scores{Floor: 0.80, Ceiling: ceilings[i], Student: students[i]}})
	}
	sums := Summarize(rows, 1, 0.02)
	if len(sums) != 1 {
		t.Fatalf("summaries %+v", sums)
	}
	s := sums[0]
	if s.Metric != "auroc" || s.NoGap || math.Abs(s.PGR[0]-0.16/0.30) > 1e-12 || math.Abs(s.Gap[0]-0.10) > 1e-12 || math.Abs(s.Acc[0]-0.95) > 1e-12 {
		t.Errorf("summary %+v: want metric auroc, gap 0.10, PGR %.4f, acc 0.95", s, 0.16/0.30)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, sums, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "PGR (auroc)") || !strings.Contains(buf.String(), "gap (auroc)") {
		t.Errorf("table does not name the metric:\n%s", buf.String())
	}
	// Rows without metric scores are summarised on accuracy, as before.
	for i := range rows {
		rows[i].Metric, rows[i].Scores = "", nil
	}
	if s := Summarize(rows, 1, 0.02)[0]; !s.NoGap || s.Metric != "accuracy" {
		t.Errorf("accuracy rows: NoGap %v metric %q, want no gap on accuracy", s.NoGap, s.Metric)
	}
}
