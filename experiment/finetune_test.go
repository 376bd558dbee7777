package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/store"
)

func ftSpec() Spec {
	spec := DefaultSpec()
	spec.Datasets = []string{"sentiment"}
	spec.Weak, spec.Strong = "glove", FineTunedStrong
	spec.Methods = []string{"naive", "naive-hard"}
	spec.Seeds = 1
	spec.Limit = 300
	spec.FTEpochs = 1
	spec.Resamples = 200
	return spec
}

// TestRunFineTunedStudent runs glove → use-lite-ft end to end on the real
// sentiment sentences (300 examples, one epoch: about 100 train_strong texts
// per fine-tuning): the ceiling and both naive students are USE-lite
// fine-tuned on train_strong texts, the rows are well formed, and a second
// run gives identical numbers.
func TestRunFineTunedStudent(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes USE-lite three times (about 40 s on 2 cores)")
	}
	ctx := context.Background()
	spec := ftSpec()
	rows, sums, err := testRunner(t).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || len(sums) != 2 {
		t.Fatalf("got %d rows, %d summaries; want 2 and 2", len(rows), len(sums))
	}
	in01 := func(v float64) bool { return v >= 0 && v <= 1 }
	for _, r := range rows {
		if r.Strong != "use-lite-ft:linear" || (r.Method != "naive" && r.Method != "naive-hard") {
			t.Errorf("row %s → %s %s", r.Weak, r.Strong, r.Method)
		}
		if r.NTrainStrong < 90 || r.NTrainWeak+r.NTrainStrong+r.NTest > spec.Limit {
			t.Errorf("split sizes %d/%d/%d do not fit --limit %d", r.NTrainWeak, r.NTrainStrong, r.NTest, spec.Limit)
		}
		if !in01(r.FloorAcc) || !in01(r.CeilingAcc) || !in01(r.W2SAcc) || r.FloorAcc < 0.55 || r.CeilingAcc < 0.55 {
			t.Errorf("%s: accuracies out of range: floor %.3f ceiling %.3f w2s %.3f", r.Method, r.FloorAcc, r.CeilingAcc, r.W2SAcc)
		}
		if r.NoGap != (r.PGR == nil) {
			t.Errorf("no_gap=%v but pgr=%v", r.NoGap, r.PGR)
		}
		if r.PGR != nil && !(*r.PGRCILow <= *r.PGR && *r.PGR <= *r.PGRCIHigh) {
			t.Errorf("PGR %.3f outside its CI [%.3f, %.3f]", *r.PGR, *r.PGRCILow, *r.PGRCIHigh)
		}
		if !in01(r.Agreement) {
			t.Errorf("agreement %.3f out of range", r.Agreement)
		}
	}
	if rows[0].CeilingAcc != rows[1].CeilingAcc || rows[0].FloorAcc != rows[1].FloorAcc {
		t.Errorf("methods of one cell must share floor and ceiling: %+v / %+v", rows[0], rows[1])
	}
	// Kill and resume, then determinism: the same spec again (naive only,
	// to keep the test short) with an output directory, interrupted once
	// the ceiling's epoch is checkpointed, then resumed: the row must equal
	// the first run's, and the checkpoints must be gone at the end.
	spec.Methods = []string{"naive"}
	out := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	killed := &Runner{Cache: &encode.Cache{}, Out: store.RunDir{Dir: out}, Log: cancelOn{"epoch 1/1", cancel}}
	if _, _, err := killed.Run(cctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	if ck, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*-ceiling.ckpt")); len(ck) != 1 {
		t.Fatalf("after the interruption: ceiling checkpoints %v, want one", ck)
	}
	var log strings.Builder
	again, _, err := (&Runner{Cache: &encode.Cache{}, Out: store.RunDir{Dir: out}, Log: &log}).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming from") {
		t.Errorf("the rerun did not resume the ceiling from its checkpoint:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoints left after a finished run: %v", err)
	}
	a, b := rows[0], again[0]
	if a.Method != "naive" || b.Method != "naive" {
		t.Fatalf("rows out of order: %s, %s", a.Method, b.Method)
	}
	a.DurationS, b.DurationS = 0, 0
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same spec and seed gave different rows:\n%+v\n%+v", a, b)
	}
}

// cancelOn cancels a run when its log shows line (a kill between epochs).
type cancelOn struct {
	line   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.line) {
		c.cancel()
	}
	return len(p), nil
}

// TestFineTunedRefusals: methods without a fine-tuned form and a head on
// use-lite-ft are refused up front, before any data is loaded.
func TestFineTunedRefusals(t *testing.T) {
	ctx := context.Background()
	spec := ftSpec()
	spec.Methods = []string{"naive", "conf-filter"}
	_, _, err := testRunner(t).Run(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "method conf-filter does not support fine-tuned students") {
		t.Errorf("conf-filter with use-lite-ft: got %v", err)
	}
	spec = ftSpec()
	spec.Strong = FineTunedStrong + ":mlp"
	if _, _, err := testRunner(t).Run(ctx, spec); err == nil || !strings.Contains(err.Error(), "own linear head") {
		t.Errorf("use-lite-ft:mlp: got %v", err)
	}
	if _, err := (&CellRunner{Cache: &encode.Cache{}}).prepared(ctx, CellSpec{Dataset: "sentiment", Weak: "glove", Strong: FineTunedStrong}, false); err == nil || !strings.Contains(err.Error(), "w2s run only") {
		t.Errorf("sweep cell with use-lite-ft: got %v", err)
	}
}

// TestFineTunedConfigHash: fine-tuning settings enter the config hash, so a
// fine-tuned cell is never confused with a probe cell or another epoch count.
func TestFineTunedConfigHash(t *testing.T) {
	spec := ftSpec()
	strong, _ := ParseEncHead(FineTunedStrong)
	p := &prepared{hash: "d", strong: strong, ft: useLiteTuner{&encode.USELite{}}, ftEpochs: 1}
	cfg := testRunner(t).headConfig(spec, strong, 1)
	h1 := configHash(spec, p, "naive", cfg, cfg)
	p.ftEpochs = 2
	h2 := configHash(spec, p, "naive", cfg, cfg)
	p.ft = nil
	h3 := configHash(spec, p, "naive", cfg, cfg)
	if h1 == h2 || h1 == h3 || h2 == h3 {
		t.Errorf("hashes not distinct: epochs 1 %s, epochs 2 %s, no fine-tuning %s", h1, h2, h3)
	}
}

// TestFineTuneSpecValidation: the fine-tuning settings are checked before
// any work, and refused for students that are not fine-tuned.
func TestFineTuneSpecValidation(t *testing.T) {
	for _, tc := range []struct {
		strong   string
		epochs   int
		lr       float64
		errorHas string // "" = valid
	}{
		{FineTunedStrong, 3, 1e-4, ""},
		{FineTunedStrong, 0, 0, ""},
		{FineTunedStrong, -1, 0, "must be >= 0"},
		{FineTunedStrong, 1, -1e-4, "must be >= 0"},
		{"onnx-ft:/models/bert", 2, 1e-4, ""},
		{"use-lite", 2, 0, "apply to fine-tuned strong students only"},
		{"glove", 0, 1e-4, "apply to fine-tuned strong students only"},
		{"onnx:/models/bert", 1, 0, "apply to fine-tuned strong students only"},
	} {
		spec := ftSpec()
		spec.Strong, spec.FTEpochs, spec.FTLR = tc.strong, tc.epochs, tc.lr
		err := spec.Validate()
		if tc.errorHas == "" && err != nil || tc.errorHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errorHas)) {
			t.Errorf("strong %s ft-epochs %d ft-lr %g: got %v, want %q", tc.strong, tc.epochs, tc.lr, err, tc.errorHas)
		}
	}
}
