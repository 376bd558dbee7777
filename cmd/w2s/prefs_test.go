package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

// The acceptance runs of issue 17 on user files: an HH-RLHF and an
// UltraFeedback file run end to end as preference tasks; each bad input
// fails with its FILE:LINE: reason and leaves no output directory; --task
// refuses a dataset of the other kind.
func TestPreferenceFiles(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	prefs := filepath.Join(root, "examples", "prefs")
	for _, tc := range []struct{ file, want string }{
		{"bad-missing-side.jsonl", "bad-missing-side.jsonl:2: missing side"},
		{"bad-identical.jsonl", "bad-identical.jsonl:2: identical sides"},
		{"bad-preference.csv", "bad-preference.csv:3: unknown preference value"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		_, stderr, code := w2s(t, "run", "--task", "preference", "--data", filepath.Join(prefs, tc.file), "--weak", "bow", "--strong", "glove", "--method", "naive", "--seeds", "1", "--out", out)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure with %q", tc.file, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: the failed run left %s", tc.file, out)
		}
	}
	_, stderr, code := w2s(t, "run", "--task", "classification", "--data", filepath.Join(prefs, "pairs.csv"), "--seeds", "1", "--out", filepath.Join(t.TempDir(), "o"))
	if code == 0 || !strings.Contains(stderr, "is a preference task") {
		t.Errorf("--task classification on a pair file: exit %d, %q", code, stderr)
	}
	if testing.Short() {
		return
	}
	testenv.NeedsAssets(t, "the GloVe vectors")
	for _, f := range []string{"hh-rlhf.jsonl", "ultrafeedback.jsonl"} {
		out := filepath.Join(t.TempDir(), "out")
		stdout, stderr, code := w2s(t, "run", "--task", "preference", "--data", filepath.Join(prefs, f), "--weak", "bow", "--strong", "glove",
			"--method", "naive,logconf", "--seeds", "2", "--out", out)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", f, code, stderr)
		}
		if !strings.Contains(stdout, "Preference pairs (reward models)") {
			t.Errorf("%s: no reward-model table in\n%s", f, stdout)
		}
		b, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
		if err != nil || strings.Count(string(b), `"task":"preference"`) != 4 {
			t.Errorf("%s: results.jsonl (%v) lacks 4 preference rows", f, err)
		}
	}
}
