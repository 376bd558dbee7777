package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/drift"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/oracle"
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
	killWhenSaved(t, append(args, "--out", killed), filepath.Join(killed, "streams", "*.json"), 2, 5*time.Minute)
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

// TestDriftReachesPerson: when triggered escalates rows, w2s drift writes
// the oracle's URL and each desk's token to a 0600 access file and prints
// the review command; the oracle's audit log records the purchases and
// escalations; with nobody at the desk the rows say so (human 0).
func TestDriftReachesPerson(t *testing.T) {
	testenv.NeedsAssets(t, "spam-assassin, glove")
	out := t.TempDir()
	_, stderr, code := w2s(t, "drift", "--scenario", "spam-abrupt", "--limit", "160", "--weak", "bow", "--strong", "glove",
		"--strategies", "triggered", "--seeds", "3", "--sup-gold", "20", "--budget", "10", "--escalate", "3", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("drift: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	escalated, human, flagged := 0, 0, 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r drift.Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		escalated, human = escalated+r.Escalated, human+r.Human
		if r.Flagged {
			flagged++
			if r.Escalated != 3 {
				t.Errorf("seed %d phase %d flagged, escalated %d rows, want 3", r.Seed, r.Phase+1, r.Escalated)
			}
		}
	}
	if flagged == 0 {
		t.Skip("triggered never flagged: nothing went to the desk")
	}
	if human != 0 {
		t.Errorf("%d human labels in a run nobody attended", human)
	}
	access := filepath.Join(out, "oracle-access.json")
	st, err := os.Stat(access)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("access file: %v, mode %v", err, st.Mode())
	}
	a, err := oracle.ReadAccess(access)
	if err != nil || len(a.Runs) != flagged || !strings.HasPrefix(a.Oracle, "http://127.0.0.1:") {
		t.Fatalf("access file (%d flagged phases): %+v, %v", flagged, a, err)
	}
	for _, r := range a.Runs {
		if !strings.Contains(stderr, r.DeskToken) || !strings.Contains(stderr, "--run "+r.Run+" --token-file "+access) {
			t.Errorf("run %s: desk token or review command not printed\n%s", r.Run, stderr)
		}
	}
	audit, err := os.ReadFile(filepath.Join(out, "oracle-audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(audit), `"endpoint":"escalate"`); n != flagged {
		t.Errorf("%d escalations audited, %d flagged phases", n, flagged)
	}
	if !strings.Contains(string(audit), `"endpoint":"label"`) {
		t.Error("no gold purchase in the oracle's audit log")
	}
}
