package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/sweep"
)

// examplesDir is the repository's examples/, seen from this package.
const examplesDir = "../../examples"

// TestExamples exercises every file under examples/: each run and oversee
// config through the command's --dry-run (which reads the dataset files it
// names), each sweep grid through its parser and, with assets at hand (not
// -short: planning hashes the encoders' weights), through `w2s sweep
// --dry-run`, and each user dataset through the loader. A file no case
// covers fails the test, so a new example cannot go untested.
func TestExamples(t *testing.T) {
	var files []string
	err := filepath.WalkDir(examplesDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, filepath.ToSlash(strings.TrimPrefix(p, examplesDir+"/")))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(root, "examples", f)
			switch {
			case strings.HasPrefix(f, "run-") && strings.HasSuffix(f, ".yaml"):
				// Run from the repository root, as the configs' data paths
				// and the comments' commands assume.
				out := w2sIn(t, root, "run", "--config", path, "--dry-run")
				if !strings.Contains(out, "nothing run") {
					t.Errorf("dry run printed %q", out)
				}
			case strings.HasPrefix(f, "oversee") && strings.HasSuffix(f, ".yaml"):
				out := w2sIn(t, root, "oversee", "--config", path, "--dry-run")
				if !strings.Contains(out, "nothing run") {
					t.Errorf("dry run printed %q", out)
				}
			case (strings.HasPrefix(f, "sweep-") || f == "demo.yaml") && strings.HasSuffix(f, ".yaml"):
				cfg, err := sweep.LoadConfig(path)
				if err != nil {
					t.Fatal(err)
				}
				cells, err := cfg.Cells()
				if err != nil {
					t.Fatal(err)
				}
				if len(cells) == 0 {
					t.Fatal("no cells")
				}
				if testing.Short() {
					t.Logf("%d cells parsed; the planning dry run needs the encoders' assets (not under -short)", len(cells))
					return
				}
				out := w2sIn(t, root, "sweep", "--config", path, "--out", t.TempDir(), "--dry-run")
				if !strings.Contains(out, " cells: 0 done, ") {
					t.Errorf("dry run printed %q", out[max(0, len(out)-300):])
				}
			case strings.HasPrefix(f, "prefs/bad-"):
				// One problem each: an *InputError naming the file and line.
				_, err := data.LoadFile(path)
				var ie *data.InputError
				line := map[string]int{"prefs/bad-missing-side.jsonl": 2, "prefs/bad-identical.jsonl": 2, "prefs/bad-preference.csv": 3}[f]
				if !errors.As(err, &ie) || ie.Line != line {
					t.Errorf("got %v, want the file's one bad line", err)
				}
			case strings.HasPrefix(f, "prefs/") && f != "prefs/README.md":
				d, err := data.LoadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !d.IsPairwise() || len(d.Examples) != 120 {
					t.Errorf("pairwise %v, %d pairs; want 120 preference pairs", d.IsPairwise(), len(d.Examples))
				}
			case f == "prefs/README.md":
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"hh-rlhf.jsonl", "ultrafeedback.jsonl", "pairs.csv", "bad-missing-side.jsonl", "bad-identical.jsonl", "bad-preference.csv"} {
					if !strings.Contains(string(b), name) {
						t.Errorf("README does not describe %s", name)
					}
				}
			case strings.HasPrefix(f, "data/") && f != "data/README.md":
				d, err := data.LoadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Examples) != 120 || len(d.Classes) != 2 {
					t.Errorf("%d examples, classes %v; want the 120 reviews in 2 classes", len(d.Examples), d.Classes)
				}
				hashes = append(hashes, d.ContentHash())
			case f == "data/README.md":
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range []string{"reviews.jsonl", "reviews.csv", "reviews.parquet"} {
					if !strings.Contains(string(b), name) {
						t.Errorf("README does not describe %s", name)
					}
				}
			default:
				t.Errorf("no test covers examples/%s: add a case", f)
			}
		})
	}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] != hashes[0] {
			t.Errorf("the example datasets differ in content (hash %d of %d): the formats must hold the same reviews", i+1, len(hashes))
		}
	}
	if len(hashes) != 3 {
		t.Errorf("%d example datasets loaded, want 3 (JSONL, CSV, Parquet)", len(hashes))
	}
}

// w2sIn runs the w2s binary in dir and returns its stdout, failing the test
// on a non-zero exit.
func w2sIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(w2sBin, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("w2s %s: %v\n%s", strings.Join(args, " "), err, e.String())
	}
	return o.String()
}

// TestOverseeConfig: a flag given on the command line beats the config
// file's key, and a key that names no flag is refused, not ignored.
func TestOverseeConfig(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := w2sIn(t, root, "oversee", "--config", "examples/oversee.yaml", "--dry-run", "--rounds", "1", "--seeds", "2")
	for _, want := range []string{"rounds: 1 after", "seeds: 2 from 0", "budgets: [0 0.01 0.02 0.05 0.1]"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run printed %q, want %q in it", out, want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("rounds: 2\nbudget: [0, 5]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := w2s(t, "oversee", "--config", bad, "--dry-run")
	if code == 0 || !strings.Contains(stderr, `unknown key "budget"`) {
		t.Errorf("a misspelt key: exit %d, stderr %q", code, stderr)
	}
}

// TestRunExampleDataOffline runs the user-data example end to end on the
// bag-of-words encoder (no asset to fetch, so it runs offline and under
// -short): every layer from loading the file to the report. The same
// reviews as JSONL and as Parquet must give the same rows, since the rows
// depend on the data's content, not its format.
func TestRunExampleDataOffline(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	rowsOf := func(data string) []map[string]any {
		out := t.TempDir()
		cmd := exec.Command(w2sBin, "run", "--config", "examples/run-user-data.yaml", "--data", data,
			"--strong", "bow:mlp", "--method", "naive,naive-hard", "--seeds", "2", "--out", out, "--quiet")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "SUPERALIGN_CACHE="+cache, "SUPERALIGN_TEACHERS="+filepath.Join(cache, "teachers"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("w2s run --data %s: %v\n%s", data, err, b)
		}
		b, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			delete(r, "duration_s") // wall time, the one field that may differ
			rows = append(rows, r)
		}
		return rows
	}
	jsonl := rowsOf("examples/data/reviews.jsonl")
	if len(jsonl) != 4 {
		t.Fatalf("%d rows, want 2 methods × 2 seeds", len(jsonl))
	}
	for _, r := range jsonl {
		if r["dataset"] != "reviews" || r["n_test"] != 40.0 || r["n_train_strong"] != 40.0 {
			t.Errorf("row %v %v: dataset %v, n_test %v, n_train_strong %v; want reviews with 40 per split", r["method"], r["seed"], r["dataset"], r["n_test"], r["n_train_strong"])
		}
		for _, k := range []string{"floor_acc", "ceiling_acc", "w2s_acc"} {
			if v, ok := r[k].(float64); !ok || v < 0 || v > 1 {
				t.Errorf("row %v %v: %s = %v", r["method"], r["seed"], k, r[k])
			}
		}
	}
	parquet := rowsOf("examples/data/reviews.parquet")
	if !reflect.DeepEqual(jsonl, parquet) {
		t.Errorf("the Parquet copy of the reviews gave other rows than the JSONL copy:\n%v\n%v", jsonl, parquet)
	}
}
