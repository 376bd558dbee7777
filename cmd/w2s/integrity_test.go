package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/store"
)

// sentimentFile writes n real sentiment sentences, starting at offset, as a
// JSONL file at path with string labels.
func sentimentFile(t *testing.T, path string, n, offset int) string {
	t.Helper()
	ds, err := data.LoadBuiltin(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		ex := ds.Examples[(offset+i*7919)%len(ds.Examples)]
		b, _ := json.Marshal(map[string]any{"text": ex.Text, "label": ds.Classes[ex.Label]})
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInputsCheckedUpFront: every bad input, wherever it is in --data, and
// an unusable --out stop the run before anything is computed, with the
// file, line and reason and a non-zero exit; no cell and no result is
// written.
func TestInputsCheckedUpFront(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	dir := t.TempDir()
	good := sentimentFile(t, filepath.Join(dir, "good.jsonl"), 300, 0)
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	notDir := file("plain-file", "")
	for _, tc := range []struct {
		name string
		data string
		out  string
		want []string
	}{
		{"duplicate label column", file("duplabel.csv", "text,label,label\ngood,1,0\nbad,0,1\n"), "", []string{"duplabel.csv:1:", `columns 2 and 3 of the header are both named "label"`}},
		{"duplicate text column", file("duptext.csv", "text,text,label\ngood,bad,1\nbad,good,0\n"), "", []string{"duptext.csv:1:", `both named "text"`}},
		{"duplicate JSON key", file("dupkey.jsonl", `{"text":"good","label":1}`+"\n"+`{"text":"bad","label":0,"label":1}`+"\n"), "", []string{"dupkey.jsonl:2:", `duplicate key "label"`}},
		{"invalid UTF-8", file("latin1.jsonl", `{"text":"good","label":1}`+"\n"+"{\"text\":\"caf\xe9\",\"label\":0}\n"), "", []string{"latin1.jsonl:2:", "invalid UTF-8"}},
		{"huge integer label", file("huge.jsonl", `{"text":"good","label":1}`+"\n"+`{"text":"bad","label":123456789012345678901234567890}`+"\n"), "", []string{"huge.jsonl:2:", "outside the int64 range"}},
		{"bad file after a good one", good + "," + file("late.csv", "text,label\ngood,1\nbad,\n"), "", []string{"late.csv:3:", "label is null"}},
		{"same file twice", good + "," + good, "", []string{"twice"}},
		{"unwritable --out", good, filepath.Join(notDir, "out"), []string{"output directory", "plain-file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			if out == "" {
				out = t.TempDir()
			}
			start := time.Now()
			_, stderr, code := w2s(t, "run", "--data", tc.data, "--weak", "bow", "--strong", "glove", "--seeds", "1", "--out", out, "--quiet")
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, f := range []string{"cells", "results.jsonl", "summary.json", "report.html"} {
				if _, err := os.Stat(filepath.Join(out, f)); err == nil {
					t.Errorf("%s written although the run could not start", f)
				}
			}
			t.Logf("%s: exit %d in %.1fs: %s", tc.name, code, time.Since(start).Seconds(), strings.TrimSpace(stderr))
		})
	}
}

// TestDatasetIdentity: two files with the same base name in different
// folders, and a third with the first's content under another name, are
// three datasets in the rows and the summary; a rerun reuses all three.
func TestDatasetIdentity(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	dir := t.TempDir()
	a := sentimentFile(t, filepath.Join(dir, "a", "reviews.jsonl"), 600, 0)
	b := sentimentFile(t, filepath.Join(dir, "b", "reviews.jsonl"), 600, 1)
	c := filepath.Join(dir, "c", "copy.jsonl")
	os.MkdirAll(filepath.Dir(c), 0o755)
	content, _ := os.ReadFile(a)
	os.WriteFile(c, content, 0o644)
	out := t.TempDir()
	args := []string{"run", "--data", a + "," + b + "," + c, "--weak", "bow", "--strong", "glove", "--seeds", "1", "--out", out}
	stdout, stderr, code := w2s(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	rows := readRows(t, out)
	names := map[string]bool{}
	for _, r := range rows {
		names[r.Dataset] = true
	}
	want := []string{a, b, "copy"}
	for _, n := range want {
		if !names[n] {
			t.Errorf("no row for dataset %q; rows are for %v", n, names)
		}
	}
	if len(rows) != 3 {
		t.Errorf("%d rows, want one per dataset", len(rows))
	}
	var sums []store.Summary
	sb, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(sb, &sums); err != nil || len(sums) != 3 {
		t.Errorf("summary.json: %d rows (%v), want 3", len(sums), err)
	}
	if !strings.Contains(stderr, "same content") {
		t.Errorf("identical content under two names not noted:\n%s", stderr)
	}
	if !strings.Contains(stdout, filepath.Join("a", "reviews.jsonl")) || !strings.Contains(stdout, "copy") {
		t.Errorf("table does not name the datasets apart:\n%s", stdout)
	}
	_, stderr, code = w2s(t, args...)
	if code != 0 || strings.Count(stderr, "already done, reusing") != 3 {
		t.Errorf("rerun: exit %d, %d cells reused, want 3\n%s", code, strings.Count(stderr, "already done, reusing"), stderr)
	}
}

// TestOneWriterPerRunDir: a second run into a directory a run is writing is
// refused, naming the first; the first finishes undisturbed.
func TestOneWriterPerRunDir(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	in := userFile(t, 900)
	out := t.TempDir()
	first := exec.Command(w2sBin, "run", "--data", in, "--weak", "bow", "--strong", "glove", "--method", "naive,naive-hard", "--seeds", "3", "--out", out, "--quiet")
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if b, _ := os.ReadFile(filepath.Join(out, ".w2s-lock")); bytes.Contains(b, []byte("pid ")) {
			break
		}
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("the first run never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, stderr, code := w2s(t, "run", "--data", in, "--weak", "bow", "--strong", "glove", "--method", "naive", "--seeds", "1", "--out", out, "--quiet")
	if code != 1 || !strings.Contains(stderr, "in use by another w2s process") || !strings.Contains(stderr, "naive,naive-hard") {
		t.Errorf("second writer: exit %d\n%s", code, stderr)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, firstErr.String())
	}
	if rows := readRows(t, out); len(rows) != 6 {
		t.Errorf("first run left %d rows, want 6", len(rows))
	}
	if _, err := os.Stat(filepath.Join(out, store.IncompleteFile)); err == nil {
		t.Error("a finished run is marked incomplete")
	}
}

// TestFailedRunLeavesNothingCurrent: a rerun into a finished directory that
// fails while writing its results (a 4 KB file-size limit, as a full disk
// would make it fail) leaves the directory marked INCOMPLETE, with no
// results.jsonl, summary.json or report.html passing for its own and the
// earlier run's kept under previous/.
func TestFailedRunLeavesNothingCurrent(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	in := userFile(t, 600)
	out := t.TempDir()
	args := []string{"run", "--data", in, "--weak", "bow", "--strong", "glove", "--seeds", "1", "--out", out, "--quiet"}
	if _, stderr, code := w2s(t, args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	limited := exec.Command("bash", append([]string{"-c", `ulimit -f 4 && exec "$0" "$@"`, w2sBin}, args...)...)
	var stderr bytes.Buffer
	limited.Stderr = &stderr
	err := limited.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("run under a 4 KB file-size limit: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "report.html") || !strings.Contains(stderr.String(), "file too large") {
		t.Errorf("stderr does not say what failed:\n%s", stderr.String())
	}
	for _, f := range []string{"results.jsonl", "summary.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s is in place after the failed run", f)
		}
		if _, err := os.Stat(filepath.Join(out, "previous", f)); err != nil {
			t.Errorf("the earlier run's %s is not kept under previous/: %v", f, err)
		}
	}
	if why, ok := store.Incomplete(out); !ok {
		t.Error("the failed run's directory is not marked incomplete")
	} else {
		t.Logf("INCOMPLETE: %s", why)
	}
	if _, _, code := w2s(t, "report", out); code == 0 {
		t.Error("w2s report rendered a directory whose run failed")
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	// Without the limit, the same command finishes the directory.
	if _, stderr, code := w2s(t, args...); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	if _, ok := store.Incomplete(out); ok || len(readRows(t, out)) != 1 {
		t.Error("the rerun did not complete the directory")
	}
}

// TestBadCellRecomputed: a saved cell whose file says null is reported and
// recomputed, and the results equal the first run's.
func TestBadCellRecomputed(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	in := userFile(t, 600)
	out := t.TempDir()
	args := []string{"run", "--data", in, "--weak", "bow", "--strong", "glove", "--seeds", "1", "--out", out}
	if _, stderr, code := w2s(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	before := readRows(t, out)
	cells, _ := filepath.Glob(filepath.Join(out, "cells", "*.json"))
	if len(cells) != 1 {
		t.Fatalf("%d cell files, want 1", len(cells))
	}
	for _, bad := range []string{"null", "{}"} {
		os.WriteFile(cells[0], []byte(bad), 0o644)
		_, stderr, code := w2s(t, args...)
		if code != 0 || !strings.Contains(stderr, "is not usable") || !strings.Contains(stderr, "recomputing") || strings.Contains(stderr, "already done") {
			t.Errorf("cell %q: exit %d\n%s", bad, code, stderr)
		}
		after := readRows(t, out)
		ja, _ := json.Marshal(before)
		jb, _ := json.Marshal(after)
		if !bytes.Equal(ja, jb) {
			t.Errorf("cell %q: rows after recomputing differ:\n%s\n%s", bad, ja, jb)
		}
	}
}

// TestOverseeReachesPerson: w2s oversee tells a person where its oracle is
// and writes each run's desk token to a 0600 file; w2s serve takes the
// token (and the oracle's URL) from such a file and reviewer tokens from a
// file, never from the command line.
func TestOverseeReachesPerson(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	out := t.TempDir()
	_, stderr, code := w2s(t, "oversee", "--data", "sentiment", "--limit", "900", "--seeds", "1", "--budgets", "0,5", "--rounds", "1",
		"--attack-texts", "20", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("oversee: exit %d\n%s", code, stderr)
	}
	access := filepath.Join(out, "oracle-access.json")
	st, err := os.Stat(access)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("access file: %v, mode %v", err, st.Mode())
	}
	a, err := oracle.ReadAccess(access)
	if err != nil || len(a.Runs) != 3 || !strings.HasPrefix(a.Oracle, "http://127.0.0.1:") {
		t.Fatalf("access file: %+v, %v", a, err)
	}
	for _, r := range a.Runs {
		if !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(r.DeskToken) || !strings.Contains(stderr, r.DeskToken) || !strings.Contains(stderr, "--run "+r.Run+" --token-file "+access) {
			t.Errorf("run %s: desk token or review command not printed\n%s", r.Run, stderr)
		}
	}

	// A live oracle, its access file, and the desk reading both from files.
	dir := t.TempDir()
	oracleAccess := filepath.Join(dir, "access.json")
	orc := exec.Command(w2sBin, "oracle", "--data", "sentiment", "--budget", "5", "--addr", "127.0.0.1:0", "--audit", filepath.Join(dir, "audit.jsonl"), "--access", oracleAccess, "--run", "r1")
	orcOut := startAndWaitFor(t, orc, "access ")
	if !strings.Contains(orcOut, "evaluate 10 answers, rounded to 0.1") {
		t.Errorf("w2s oracle does not state its evaluation budget:\n%s", orcOut)
	}
	reviewers := filepath.Join(dir, "reviewers")
	os.WriteFile(reviewers, []byte("# name=token\nalice=alice-token-123\n"), 0o644)
	_, serr, code := w2s(t, "serve", "--run", "r1", "--token-file", oracleAccess, "--reviewers-file", reviewers, "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(serr, "chmod 600") {
		t.Errorf("a reviewers file others can read: exit %d\n%s", code, serr)
	}
	os.Chmod(reviewers, 0o600)
	desk := exec.Command(w2sBin, "serve", "--run", "r1", "--token-file", oracleAccess, "--reviewers-file", reviewers, "--addr", "127.0.0.1:0")
	deskOut := startAndWaitFor(t, desk, "review desk ")
	if !strings.Contains(deskOut, "run r1") || strings.Contains(deskOut, "reviewer token") {
		t.Errorf("desk output:\n%s", deskOut)
	}
	for _, c := range []*exec.Cmd{desk, orc} {
		c.Process.Signal(syscall.SIGINT)
		c.Wait()
	}
}

// startAndWaitFor starts cmd and returns its stdout up to the first line
// containing marker (failing after a minute).
func startAndWaitFor(t *testing.T, cmd *exec.Cmd, marker string) string {
	t.Helper()
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); pw.Close() })
	got := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), marker) {
				got <- seen.String()
				go io.Copy(io.Discard, pr)
				return
			}
		}
		got <- seen.String()
	}()
	select {
	case s := <-got:
		if !strings.Contains(s, marker) {
			t.Fatalf("%s exited without %q:\n%s\n%s", cmd.Args[1], marker, s, stderr.String())
		}
		return s
	case <-time.After(time.Minute):
		t.Fatalf("%s: no %q within a minute:\n%s", cmd.Args[1], marker, stderr.String())
	}
	return ""
}
