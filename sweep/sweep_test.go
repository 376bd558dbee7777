package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

// TestMain lets the test binary act as `w2s cell` inside SLURM tasks.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SWEEP_TEST_CELL_DIR"); dir != "" {
		i, _ := strconv.Atoi(os.Getenv("SLURM_ARRAY_TASK_ID"))
		cr := &experiment.CellRunner{Cache: &featcache.Cache{}, Log: os.Stderr, Teachers: os.Getenv("SWEEP_TEST_TEACHERS")}
		if err := CellMain(context.Background(), dir, i, cr); err != nil {
			fmt.Fprintln(os.Stderr, "cell:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestExpandMethod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"naive", []string{"naive"}},
		{"logconf:coef=0.5", []string{"logconf:coef=0.5"}},
		{"logconf:coef=0.25|0.5", []string{"logconf:coef=0.25", "logconf:coef=0.5"}},
		{"logconf:coef=0.25|0.5,schedule=step|linear", []string{"logconf:coef=0.25,schedule=step", "logconf:coef=0.25,schedule=linear",
			"logconf:coef=0.5,schedule=step", "logconf:coef=0.5,schedule=linear"}},
	} {
		got, err := ExpandMethod(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ExpandMethod(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sweep.yaml")
	os.WriteFile(p, []byte("datasets: [sentiment]\npairs: [\"bow glove\"]\nmethods: [naive]\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "WEAK->STRONG") || !strings.Contains(err.Error(), p) {
		t.Errorf("bad pair: got %v", err)
	}
	os.WriteFile(p, []byte("datasets: [sentiment]\npairs: [\"bow->glove\"]\nmethods: [naive]\nseeds: 2\ntypo: 1\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "typo") {
		t.Errorf("unknown key: got %v", err)
	}
	os.WriteFile(p, []byte("datasets: [sentiment]\npairs: [\"bow->glove\"]\nmethods: [naive]\nbalance: oversample\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "undersample, none, weight") || !strings.Contains(err.Error(), p) {
		t.Errorf("bad balance: got %v", err)
	}
	os.WriteFile(p, []byte("datasets: [sentiment]\npairs: [\"bow->glove\"]\nmethods: [naive]\npgr_metric: f1\n"), 0o644)
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "macro-f1") {
		t.Errorf("bad pgr_metric: got %v", err)
	}
	os.WriteFile(p, []byte("datasets: [sentiment]\npairs: [\"bow->glove\"]\nmethods: [naive]\nbalance: none\npgr_metric: auroc\n"), 0o644)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	cells, err := c.Cells()
	if err != nil {
		t.Fatal(err)
	}
	if cells[0].Balance != "none" || cells[0].PGRMetric != "auroc" {
		t.Errorf("cell settings %q, %q: want none, auroc", cells[0].Balance, cells[0].PGRMetric)
	}
}

func smallConfig() Config {
	def := experiment.DefaultSpec()
	return Config{Datasets: []string{"sentiment"}, Pairs: []Pair{{"bow", "glove"}}, Methods: []string{"naive", "naive-hard"},
		Seeds: 2, Limit: 600, GapThreshold: def.GapThreshold, Fractions: def.Fractions, Resamples: def.Resamples}
}

func stripDurations(rows []store.Row) []store.Row {
	out := append([]store.Row(nil), rows...)
	for i := range out {
		out[i].DurationS = 0
	}
	return out
}

// TestKeysInvalidateDescendants: changing the weak model changes weak and
// student keys only; changing the strong head changes ceiling and student.
func TestKeysInvalidateDescendants(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	cr := &experiment.CellRunner{Cache: &featcache.Cache{}}
	base := experiment.CellSpec{Dataset: "sentiment", Weak: "bow", Strong: "glove", Method: "naive", Seed: 0, Limit: 600,
		GapThreshold: 0.02, Fractions: [3]float64{1. / 3, 1. / 3, 1. / 3}, Resamples: 1000}
	k0, err := cr.Keys(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	w := base
	w.Weak = "bow:mlp"
	kw, _ := cr.Keys(ctx, w)
	s := base
	s.Strong = "glove:mlp"
	ks, _ := cr.Keys(ctx, s)
	m := base
	m.Method = "naive-hard"
	km, _ := cr.Keys(ctx, m)
	if kw.Weak == k0.Weak || kw.Ceiling != k0.Ceiling || kw.Student == k0.Student || kw.StrongFeatures != k0.StrongFeatures {
		t.Errorf("weak change: %+v vs %+v", kw, k0)
	}
	if ks.Weak != k0.Weak || ks.Ceiling == k0.Ceiling || ks.Student == k0.Student {
		t.Errorf("strong change: %+v vs %+v", ks, k0)
	}
	if km.Weak != k0.Weak || km.Ceiling != k0.Ceiling || km.Student == k0.Student {
		t.Errorf("method change: %+v vs %+v", km, k0)
	}
}

// runLocal runs cfg in dir with the local executor.
func runLocal(t *testing.T, dir string, cfg Config) ([]store.Row, Stats) {
	t.Helper()
	ctx := context.Background()
	cr := &experiment.CellRunner{Cache: &featcache.Cache{}, Teachers: filepath.Join(dir, "teachers"), Checkpoints: CheckpointDir(dir)}
	plan, err := NewPlan(ctx, cfg, cr)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Save(dir); err != nil {
		t.Fatal(err)
	}
	st, err := RunLocal(ctx, dir, plan, cr, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := Finalize(dir, plan, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	return rows, st
}

// TestLocalMatchesRunner: the sweep's rows equal `w2s run`'s for the same
// grid, shared nodes are trained once, and a rerun computes nothing.
func TestLocalMatchesRunner(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	dir := t.TempDir()
	cfg := smallConfig()
	rows, st := runLocal(t, dir, cfg)
	if st.Ran != 4 || st.WeakTrained != 2 || st.CeilingTrained != 2 || st.WeakReused != 2 {
		t.Errorf("first run stats: %s", st)
	}
	spec := experiment.DefaultSpec()
	spec.Datasets, spec.Methods, spec.Seeds, spec.Limit = cfg.Datasets, cfg.Methods, cfg.Seeds, cfg.Limit
	want, _, err := (&experiment.Runner{Cache: &featcache.Cache{}, Teachers: t.TempDir()}).Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripDurations(rows), stripDurations(want)) {
		t.Fatalf("sweep rows differ from Runner rows:\n%+v\n%+v", rows, want)
	}
	again, st2 := runLocal(t, dir, cfg)
	if st2.Ran != 0 || st2.Reused != 4 || !reflect.DeepEqual(again, rows) {
		t.Errorf("rerun: %s", st2)
	}
	pq, err := store.ReadParquet(filepath.Join(dir, "results.parquet"))
	if err != nil || !reflect.DeepEqual(pq, rows) {
		t.Errorf("parquet export differs: %v", err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "PGR against the weak–strong gap") || !strings.Contains(string(html), "<circle") {
		t.Errorf("report lacks the gap plot")
	}
}

// TestSlurm starts a real single-node SLURM, runs the small grid as a job
// array with one task cancelled, resumes, and compares with the local run.
func TestSlurm(t *testing.T) {
	testenv.NeedsRoot(t, "a single-node SLURM (slurmctld, slurmd, munge)")
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("TestSlurm needs apt-get to install SLURM")
	}
	startSlurm(t)
	cfg := smallConfig()
	local, _ := runLocal(t, t.TempDir(), cfg)

	dir := t.TempDir()
	ctx := context.Background()
	teachers := t.TempDir()
	cr := &experiment.CellRunner{Cache: &featcache.Cache{}, Teachers: teachers}
	plan, err := NewPlan(ctx, cfg, cr)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Save(dir); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	last := len(plan.Cells) - 1
	sl := Slurm{MaxConcurrent: 1, Poll: 500 * time.Millisecond, Command: []string{exe, "-test.run=^$"},
		Env: []string{"SWEEP_TEST_CELL_DIR=" + dir, "SWEEP_TEST_TEACHERS=" + teachers},
		OnSubmit: func(job string) { // the last task is still pending behind %1
			if out, err := exec.Command("scancel", fmt.Sprintf("%s_%d", job, last)).CombinedOutput(); err != nil {
				t.Errorf("scancel: %v %s", err, out)
			}
		}}
	st, err := sl.Run(ctx, dir, plan, nil)
	if err == nil || st.Failed != 1 || st.Ran != len(plan.Cells)-1 {
		t.Fatalf("first submission: want exactly one failed task, got %s, err %v", st, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("cell %d", last)) {
		t.Errorf("failure report does not name cell %d: %v", last, err)
	}
	sl.OnSubmit = nil
	st, err = sl.Run(ctx, dir, plan, nil)
	if err != nil || st.Ran != 1 || st.Reused != len(plan.Cells)-1 {
		t.Fatalf("resume: %s, %v", st, err)
	}
	rows, _, err := Finalize(dir, plan, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripDurations(rows), stripDurations(local)) {
		t.Fatalf("SLURM rows differ from local rows")
	}
}

// TestPlanCached: a rerun with unchanged inputs reuses the saved keys; a
// user file changed in place (same size, same modification time, one label
// flipped) or a different executable misses the cache, and the fresh keys
// differ from the stale ones for the file change.
func TestPlanCached(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	ds, err := data.LoadBuiltin(ctx, "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i := 0; i < 300; i++ {
		ex := ds.Examples[(i*7919)%len(ds.Examples)]
		b, _ := json.Marshal(map[string]any{"text": ex.Text, "label": ds.Classes[ex.Label]})
		buf.Write(b)
		buf.WriteByte('\n')
	}
	tmp := t.TempDir()
	file := filepath.Join(tmp, "reviews.jsonl")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(tmp, "exe")
	os.WriteFile(exe, []byte("build 1"), 0o755)
	stampExecutable = func() (string, error) { return exe, nil }
	defer func() { stampExecutable = os.Executable }()

	cfg := smallConfig()
	cfg.Datasets, cfg.Pairs, cfg.Methods, cfg.Limit = []string{file, "sentiment"}, []Pair{{"bow", "bow:mlp"}}, []string{"naive"}, 0
	dir := t.TempDir()
	plan := func(wantCached bool) *Plan {
		t.Helper()
		p, cached, err := PlanCached(ctx, cfg, &experiment.CellRunner{Cache: &featcache.Cache{}}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if cached != wantCached {
			t.Fatalf("cached = %v, want %v", cached, wantCached)
		}
		if err := p.Save(dir); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := plan(false)
	if p2 := plan(true); !reflect.DeepEqual(p2.Cells, p1.Cells) {
		t.Fatal("cached plan differs from the planned one")
	}

	// Flip one label in place: same size; restore the modification time.
	fi, _ := os.Stat(file)
	b := buf.Bytes()
	var changed []byte
	if i := bytes.Index(b, []byte(`"label":"positive"`)); i >= 0 {
		changed = append(append(append([]byte{}, b[:i]...), []byte(`"label":"negative"`)...), b[i+len(`"label":"positive"`):]...)
	} else {
		t.Fatal("no positive label in the file")
	}
	os.WriteFile(file, changed, 0o644)
	os.Chtimes(file, fi.ModTime(), fi.ModTime())
	p3 := plan(false)
	fresh, err := NewPlan(ctx, cfg, &experiment.CellRunner{Cache: &featcache.Cache{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p3.Cells {
		user := p3.Cells[i].Spec.Dataset == file
		if p3.Cells[i].Keys != fresh.Cells[i].Keys {
			t.Errorf("cell %d: keys after the change differ from a fresh plan", i)
		}
		if user == (p3.Cells[i].Keys.Student == p1.Cells[i].Keys.Student) {
			t.Errorf("cell %d (%s): student key changed = %v, want %v", i, p3.Cells[i].Spec.Dataset, !user, user)
		}
	}
	plan(true)
	os.WriteFile(exe, []byte("build 2"), 0o755) // a new binary: plan afresh
	plan(false)
}
