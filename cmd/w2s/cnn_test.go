package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/internal/testenv"
)

// TestCNNFineTuneKilledResumes runs pixels → MobileNetV2 fine-tuned end to
// end at 64 px (mobilenet-v2-64-ft) on 240 real MNIST images, SIGKILLs a
// second run as soon as a fine-tune has saved a checkpoint, reruns it, and
// requires the row of the uninterrupted run; no checkpoint is left.
func TestCNNFineTuneKilledResumes(t *testing.T) {
	testenv.NeedsAssets(t, "MNIST and the nsfwjs CNNs")
	if testing.Short() {
		t.Skip("fine-tunes a CNN in three runs")
	}
	args := func(out string) []string {
		return []string{"run", "--data", "mnist", "--limit", "240", "--weak", "pixels", "--strong", "mobilenet-v2-64-ft",
			"--method", "naive", "--seeds", "1", "--ft-epochs", "3", "--out", out, "--quiet"}
	}
	clean := t.TempDir()
	if _, stderr, code := w2s(t, args(clean)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, stderr)
	}
	killed := t.TempDir()
	killWhenSaved(t, args(killed), filepath.Join(killed, "checkpoints", "*.ckpt"), 1, 5*time.Minute)
	resumeArgs := args(killed)
	_, stderr, code := w2s(t, resumeArgs[:len(resumeArgs)-1]...) // not --quiet: the resume is logged
	if code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "resuming from") {
		t.Errorf("the rerun did not resume a fine-tune from its checkpoint:\n%s", stderr)
	}
	a, b := readRows(t, clean), readRows(t, killed)
	if len(a) != 1 {
		t.Fatalf("rows: uninterrupted %d; want 1", len(a))
	}
	sameRows(t, a, b)
	if _, err := os.Stat(filepath.Join(killed, "checkpoints")); !os.IsNotExist(err) {
		if left, _ := filepath.Glob(filepath.Join(killed, "checkpoints", "*")); len(left) > 0 {
			t.Errorf("checkpoints left after the run: %v", left)
		}
	}
}
