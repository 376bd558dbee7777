package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/internal/testenv"
)

// TestTradeoffUserValues runs `w2s tradeoff` on a user's JSONL file of
// real sentiment sentences with a value column (every sentence that
// mentions "great" must be output as positive): rows carry value respect
// and the split conformity, tradeoff.json has a front and a hypervolume
// per optimiser and the paired differences, the page shows the fronts;
// a rerun reuses every row (resumable like w2s run) and gives the same
// analysis.
func TestTradeoffUserValues(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ds, err := data.LoadBuiltin(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i := 0; i < 900; i++ {
		ex := ds.Examples[(i*7919)%len(ds.Examples)]
		row := map[string]any{"text": ex.Text, "label": ds.Classes[ex.Label]}
		if strings.Contains(strings.ToLower(ex.Text), "great") {
			row["value"] = "positive"
		}
		b, _ := json.Marshal(row)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	in := filepath.Join(t.TempDir(), "reviews.jsonl")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := []string{"tradeoff", "--data", in, "--weak", "bow", "--strong", "glove", "--lambdas", "0,1", "--optimisers", "simultaneous,alternating",
		"--seeds", "2", "--out", out, "--quiet"}
	stdout, stderr, code := w2s(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"HYPERVOLUME", "alternating − simultaneous", "misfit inequality", "value"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	rows := readRows(t, out)
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 2 optimisers × 2 λ × 2 seeds", len(rows))
	}
	for _, r := range rows {
		if r.ValueRespect == nil || r.NValueTest == 0 || r.ConformRight == nil {
			t.Errorf("%s seed %d: no conformity axis (%+v)", r.Method, r.Seed, r)
		}
	}
	read := func() eval.Tradeoff {
		var tr eval.Tradeoff
		b, err := os.ReadFile(filepath.Join(out, "tradeoff.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	tr := read()
	if len(tr.Fronts) != 2 || tr.Fronts[0].Axis != eval.AxisValue || len(tr.Fronts[0].HVs) != 2 || len(tr.Diffs) != 1 || tr.Misfit.Rows != 8 {
		t.Fatalf("tradeoff.json %+v", tr)
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !bytes.Contains(html, []byte(`id="fronts-0"`)) {
		t.Errorf("report.html lacks the fronts (%v)", err)
	}
	if _, stderr, code := w2s(t, args...); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	again := read()
	if again.Fronts[1].Hypervolume != tr.Fronts[1].Hypervolume || again.Diffs[0].Mean != tr.Diffs[0].Mean {
		t.Error("the rerun changed the analysis")
	}
	if _, stderr, code := w2s(t, "report", out); code != 0 {
		t.Fatalf("w2s report: exit %d\n%s", code, stderr)
	}
	if html, err := os.ReadFile(filepath.Join(out, "report.html")); err != nil || !bytes.Contains(html, []byte(`id="fronts-0"`)) {
		t.Errorf("w2s report dropped the fronts (%v)", err)
	}
	if _, _, code := w2s(t, "tradeoff", "--data", in, "--method", "naive", "--out", t.TempDir()); code != 2 {
		t.Errorf("--method accepted (exit %d)", code)
	}
	if _, _, code := w2s(t, "tradeoff", "--data", in, "--lambdas", "2", "--out", t.TempDir()); code != 2 {
		t.Errorf("--lambdas 2 accepted (exit %d)", code)
	}
}
