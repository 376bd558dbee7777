package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superalign/superalign/store"
)

const sigintSeeds = 5

// sweepRows reads DIR/results.jsonl without the per-cell wall times.
func sweepRows(t *testing.T, dir string) []store.Row {
	t.Helper()
	rows, err := store.ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].DurationS = 0
	}
	return rows
}

// TestSweepSIGINT interrupts a real local sweep (sentiment, bow → glove,
// naive, 5 seeds, one worker) with SIGINT once its first cell is saved. It
// must exit promptly with a message naming --resume, leave no temporary
// file and only complete cells, and a --resume must compute just the
// missing cells and give rows identical to an uninterrupted sweep. The same
// run directories then feed `w2s report` (single with --png, and combined).
func TestSweepSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two small sweeps")
	}
	cfg := filepath.Join(t.TempDir(), "sweep.yaml")
	os.WriteFile(cfg, []byte("datasets: [sentiment]\npairs: [\"bow->glove\"]\nmethods: [naive]\nseeds: 5\nlimit: 600\n"), 0o644)

	clean := t.TempDir()
	printed, stderrClean, code := w2s(t, "sweep", "--config", cfg, "--out", clean, "--workers", "1")
	if code != 0 {
		t.Fatalf("uninterrupted sweep: exit %d\n%s", code, stderrClean)
	}
	// The sweep prints its summary table, as w2s run does (make demo's output).
	if !strings.Contains(printed, "WEAK → STRONG") || !strings.Contains(printed, "bow:linear → glove:linear") || !strings.Contains(printed, "PGR [95% CI]") {
		t.Errorf("sweep printed no summary table:\n%s", printed)
	}

	dir := t.TempDir()
	cmd := exec.Command(w2sBin, "sweep", "--config", cfg, "--out", dir, "--workers", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if cells, _ := filepath.Glob(filepath.Join(dir, "cells", "*.json")); len(cells) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no cell finished in 3 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	took := time.Since(sent)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted sweep: want exit status 1, got %v\n%s", err, stderr.String())
	}
	t.Logf("exited %.2fs after SIGINT", took.Seconds())
	// One cell in flight finishes first: a cell of this grid takes well
	// under a second once features are cached.
	if took > 20*time.Second {
		t.Errorf("took %s to exit after SIGINT", took)
	}
	msg := stderr.String()
	if !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "--resume --out "+dir) {
		t.Errorf("no clear interruption message:\n%s", msg)
	}

	// Nothing half-written: no temporary files, every cell row parses.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	cells, _ := filepath.Glob(filepath.Join(dir, "cells", "*.json"))
	for _, c := range cells {
		b, _ := os.ReadFile(c)
		r, err := store.CheckCell(b, strings.TrimSuffix(filepath.Base(c), ".json"))
		if err != nil || r.Dataset != "sentiment" {
			t.Errorf("%s: not a complete row: %v", c, err)
		}
	}
	done := len(cells)
	if done < 1 || done >= sigintSeeds {
		t.Fatalf("%d of %d cells done after SIGINT; want some but not all", done, sigintSeeds)
	}

	out, errOut, code := w2s(t, "sweep", "--resume", "--out", dir, "--workers", "1")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, errOut)
	}
	if want := "reused"; !strings.Contains(out, itoa(done)+" "+want) ||
		!strings.Contains(out, itoa(sigintSeeds-done)+" computed") {
		t.Errorf("resume after %d cells: want %d reused, %d computed; got %s", done, done, sigintSeeds-done, out)
	}
	a, b := sweepRows(t, clean), sweepRows(t, dir)
	if len(a) != sigintSeeds || len(b) != len(a) {
		t.Fatalf("rows: uninterrupted %d, resumed %d; want %d", len(a), len(b), sigintSeeds)
	}
	for i := range a {
		ja, _ := json.Marshal(a[i])
		jb, _ := json.Marshal(b[i])
		if !bytes.Equal(ja, jb) {
			t.Errorf("row %d differs after SIGINT+resume:\n%s\n%s", i, ja, jb)
		}
	}

	// w2s report DIR --png: the sweep page and three non-blank PNGs.
	os.Remove(filepath.Join(dir, "report.html"))
	if _, errOut, code := w2s(t, "report", "--png", dir); code != 0 {
		t.Fatalf("report --png: exit %d\n%s", code, errOut)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, want := range []string{"PGR against the weak–strong gap", "<circle", "<svg"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, name := range []string{"pgr.png", "accuracy.png", "gap.png"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 1000 || cfg.Height < 600 {
			t.Errorf("%s: %dx%d, %v", name, cfg.Width, cfg.Height, err)
		}
	}

	// Two runs of the same grid on one page: shown side by side, each
	// dataset named with its run, and the runs left untouched.
	combined := filepath.Join(t.TempDir(), "both.html")
	before, _ := os.ReadFile(filepath.Join(clean, "report.html"))
	if _, errOut, code := w2s(t, "report", "--out", combined, clean, dir); code != 0 {
		t.Fatalf("combined report: exit %d\n%s", code, errOut)
	}
	both, _ := os.ReadFile(combined)
	for _, want := range []string{"sentiment [" + clean + "]", "sentiment [" + dir + "]", "PGR against the weak–strong gap"} {
		if !bytes.Contains(both, []byte(want)) {
			t.Errorf("combined report lacks %q", want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(clean, "report.html")); !bytes.Equal(before, after) {
		t.Error("combined report rewrote a run's own report.html")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
