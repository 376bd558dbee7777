package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/internal/testenv"
)

// TestDriftKilledResumes kills `w2s drift` with SIGKILL once it has saved
// a stream, reruns it, and compares results.jsonl with an uninterrupted
// run's: identical bytes.
func TestDriftKilledResumes(t *testing.T) {
	testenv.NeedsAssets(t, "sentiment, glove")
	args := []string{"drift", "--scenario", "sentiment-gradual", "--limit", "200", "--weak", "bow", "--strong", "glove",
		"--strategies", "retrain,lwf,triggered", "--seeds", "3", "--sup-gold", "20", "--quiet"}
	dir := t.TempDir()
	whole, killed := filepath.Join(dir, "whole"), filepath.Join(dir, "killed")
	if out, err := exec.Command(w2sBin, append(args, "--out", whole)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cmd := exec.Command(w2sBin, append(args, "--out", killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		saved, _ := filepath.Glob(filepath.Join(killed, "streams", "*.json"))
		if len(saved) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	saved, _ := filepath.Glob(filepath.Join(killed, "streams", "*.json"))
	if _, err := os.Stat(filepath.Join(killed, "results.jsonl")); err == nil || len(saved) == 0 || len(saved) >= 9 {
		t.Skipf("the kill did not land mid-run (%d of 9 streams saved)", len(saved))
	}
	var e bytes.Buffer
	again := exec.Command(w2sBin, append(args[:len(args)-1], "--out", killed)...)
	again.Stderr = &e
	if err := again.Run(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, e.String())
	}
	if n := strings.Count(e.String(), "reusing saved stream"); n != len(saved) {
		t.Errorf("resumed run reused %d streams, %d were saved", n, len(saved))
	}
	a, _ := os.ReadFile(filepath.Join(whole, "results.jsonl"))
	b, err := os.ReadFile(filepath.Join(killed, "results.jsonl"))
	if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatalf("resumed results.jsonl differs from the uninterrupted run's (err %v)", err)
	}
}

// TestDriftBadStream: a stream without a time column stops with the
// file, line and reason, exit status 1, before any output directory.
func TestDriftBadStream(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "s.csv")
	if err := os.WriteFile(bad, []byte("text,label\ngood film,pos\nbad film,neg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	cmd := exec.Command(w2sBin, "drift", "--scenario", bad, "--out", out)
	var e bytes.Buffer
	cmd.Stderr = &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	if !strings.Contains(e.String(), `s.csv:1: missing column "time" (or "phase")`) {
		t.Errorf("stderr %q", e.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output directory was created for a bad stream")
	}
}
