package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

type summaryJSON struct {
	Method       string   `json:"method"`
	NoGap        bool     `json:"no_gap"`
	PGRMean      *float64 `json:"pgr_mean"`
	GapMean      float64  `json:"gap_mean"`
	GapCILow     *float64 `json:"gap_ci_low"`
	GapThreshold float64  `json:"gap_threshold"`
}

func readSummaries(t *testing.T, dir string) []summaryJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sums []summaryJSON
	if err := json.Unmarshal(b, &sums); err != nil {
		t.Fatal(err)
	}
	return sums
}

// TestGapThresholdReachesSummary runs sentiment bow → glove (a gap of about
// 0.11) with --gap-threshold 0.5: every summary must read "no gap" with the
// threshold recorded, where the default 0.02 reports a PGR. `w2s report`
// then keeps the run's recorded threshold, and --gap-threshold overrides it.
// It also checks comparisons.json: three seeds are underpowered.
func TestGapThresholdReachesSummary(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	out := t.TempDir()
	stdout, stderr, code := w2s(t, "run", "--data", "sentiment", "--weak", "bow", "--strong", "glove",
		"--method", "naive,naive-hard", "--seeds", "3", "--gap-threshold", "0.5", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	check := func(stage string, threshold float64, wantGap bool) {
		t.Helper()
		sums := readSummaries(t, out)
		if len(sums) != 2 {
			t.Fatalf("%s: %d summaries, want 2", stage, len(sums))
		}
		for _, s := range sums {
			if s.GapThreshold != threshold || s.NoGap == wantGap || (s.PGRMean != nil) != wantGap {
				t.Errorf("%s: %s: threshold %v no_gap %v pgr %v (gap %.3f, lower bound %v); want threshold %v and a PGR = %v",
					stage, s.Method, s.GapThreshold, s.NoGap, s.PGRMean, s.GapMean, s.GapCILow, threshold, wantGap)
			}
		}
	}
	check("run --gap-threshold 0.5", 0.5, false)
	if !strings.Contains(stdout, "no gap (gap ") || !strings.Contains(stdout, "< 0.500") {
		t.Errorf("printed table does not explain the missing PGR:\n%s", stdout)
	}
	if !strings.Contains(stdout, "underpowered: n=3 seeds, smallest attainable p = 0.250") {
		t.Errorf("printed comparison lacks the underpowered note:\n%s", stdout)
	}

	var comps struct {
		GapThreshold float64 `json:"gap_threshold"`
		Comparisons  []struct {
			Method       string   `json:"method"`
			N            int      `json:"n"`
			P            *float64 `json:"p"`
			PHolm        *float64 `json:"p_holm"`
			MinP         float64  `json:"min_attainable_p"`
			Underpowered bool     `json:"underpowered"`
		} `json:"comparisons"`
	}
	b, err := os.ReadFile(filepath.Join(out, "comparisons.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &comps); err != nil {
		t.Fatal(err)
	}
	if comps.GapThreshold != 0.5 || len(comps.Comparisons) != 1 {
		t.Fatalf("comparisons.json: %s", b)
	}
	if c := comps.Comparisons[0]; c.Method != "naive-hard" || c.N != 3 || c.P == nil || c.PHolm == nil || c.MinP != 0.25 || !c.Underpowered {
		t.Errorf("comparison %+v: want naive-hard over 3 seeds, min p 0.25, underpowered", c)
	}

	if _, stderr, code := w2s(t, "report", out); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	check("report (recorded threshold)", 0.5, false)
	if _, stderr, code := w2s(t, "report", "--gap-threshold", "0.02", out); code != 0 {
		t.Fatalf("report --gap-threshold 0.02: exit %d\n%s", code, stderr)
	}
	check("report --gap-threshold 0.02", 0.02, true)
}
