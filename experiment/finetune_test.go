package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

// ftSpec is glove → USE-lite fine-tuned on the real sentiment sentences,
// small enough for the test suite: 300 examples (about 100 train_strong
// texts per fine-tune) and one epoch.
func ftSpec() Spec {
	spec := DefaultSpec()
	spec.Datasets = []string{"sentiment"}
	spec.Weak, spec.Strong = "glove", "use-lite-ft"
	spec.Methods = []string{"naive", "naive-hard"}
	spec.Seeds = 1
	spec.Limit = 300
	spec.FTEpochs = 1
	spec.Resamples = 200
	return spec
}

func stripDurations(rows []store.Row) []store.Row {
	out := append([]store.Row(nil), rows...)
	for i := range out {
		out[i].DurationS = 0
	}
	return out
}

// TestRunFineTunedStudent runs glove → use-lite-ft end to end: the ceiling
// and both naive students are USE-lite fine-tuned on train_strong texts,
// the rows are well formed and name the fine-tuning, a run killed inside
// the ceiling's fine-tune resumes from its checkpoint to the same row, and
// the checkpoints are gone at the end.
func TestRunFineTunedStudent(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes USE-lite three times")
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
		if r.Strong != "use-lite-ft:linear" || !r.FineTuned || !strings.Contains(r.StrongTrain, "epochs=1 batch=32") || r.Stages != 1 {
			t.Errorf("row %s → %s %s: fine_tuned %v, strong_train %q, stages %d", r.Weak, r.Strong, r.Method, r.FineTuned, r.StrongTrain, r.Stages)
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
	}
	if rows[0].CeilingAcc != rows[1].CeilingAcc || rows[0].FloorAcc != rows[1].FloorAcc {
		t.Errorf("methods of one cell must share floor and ceiling: %+v / %+v", rows[0], rows[1])
	}
	// Kill inside the ceiling's fine-tune (it saves after its epoch, then
	// the run is cancelled), resume with a fresh teacher cache so that the
	// ceiling comes from its checkpoint: the row equals the first run's.
	spec.Methods = []string{"naive"}
	out := t.TempDir()
	teachers := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	killed := &Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: out}, Log: cancelOn{"epoch 1/1", cancel}, Teachers: teachers}
	if _, _, err := killed.Run(cctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	if ck, _ := filepath.Glob(filepath.Join(out, "checkpoints", "ceiling-*.ckpt")); len(ck) != 1 {
		t.Fatalf("after the interruption: ceiling checkpoints %v, want one", ck)
	}
	var log strings.Builder
	again, _, err := (&Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: out}, Log: &log, Teachers: teachers}).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming from") {
		t.Errorf("the rerun did not resume the ceiling from its checkpoint:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoints left after a finished run: %v", err)
	}
	if !reflect.DeepEqual(stripDurations(rows[:1]), stripDurations(again)) {
		t.Errorf("same spec and seed gave different rows:\n%+v\n%+v", rows[0], again[0])
	}
}

// TestEveryMethodFineTuned runs every method of `all` that accepts the cell
// on a fine-tuned USE-lite student (150 sentiment sentences, one epoch),
// plus the gold methods at a budget the 50 train_weak sentences allow,
// twice: each trains its plan on the fine-tuned student (multi-stage
// methods several times; the gold controls on drawn train_weak texts), and
// the rerun gives the same rows bit for bit.
func TestEveryMethodFineTuned(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes USE-lite for every method, twice")
	}
	ctx := context.Background()
	spec := ftSpec()
	spec.Limit = 150
	spec.Methods = append(method.AllNames(), "gold-probe:gold=20", "naive+gold:gold=20", "selective:gold=20", "pik-random:gold=20")
	spec.SkipInapplicable = true // bootstrap (glove → use-lite), cosupervise (K = 2), gold=100 > 50
	r := testRunner(t)
	rows, _, err := r.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]int{}
	for _, row := range rows {
		stages[row.Method] = row.Stages
		if !row.FineTuned || row.Strong != "use-lite-ft:linear" || row.W2SAcc <= 0 {
			t.Errorf("%s: fine_tuned %v strong %s w2s %.3f", row.Method, row.FineTuned, row.Strong, row.W2SAcc)
		}
		if strings.HasSuffix(row.Method, ":gold=20") && (row.GoldStrong != 20 || row.GoldFeatures != "strong") {
			t.Errorf("%s: gold %d %q, want 20 strong", row.Method, row.GoldStrong, row.GoldFeatures)
		}
	}
	for _, skipped := range []string{"bootstrap", "cosupervise", "selective", "gold-probe"} {
		if _, ran := stages[skipped]; ran {
			t.Errorf("%s ran on a cell it refuses", skipped)
		}
	}
	if len(rows) != len(spec.Methods)-7 { // 7 refusals: bootstrap, cosupervise, and gold=100 for 5 methods
		t.Errorf("%d rows for %d methods", len(rows), len(spec.Methods))
	}
	if stages["s2s"] != 3 || stages["naive"] != 1 || stages["gold-probe:gold=20"] != 1 {
		t.Errorf("stages per method %v: want s2s 3 (rounds=2), naive 1, gold-probe 1", stages)
	}
	again, _, err := r.Run(ctx, spec) // same teachers; every student trained again
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if a, b := stripDurations(rows[i:i+1]), stripDurations(again[i:i+1]); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: rerun differs:\n%+v\n%+v", rows[i].Method, a[0], b[0])
		}
	}
}

// TestLadderMethodsFineTuned runs the two methods TestEveryMethodFineTuned
// must skip on sentiment (bootstrap needs a rung between weak and strong,
// cosupervise K ≥ 3 classes) on a cell where they apply: the 3-class
// review-source sentences, bow → use-lite-ft. cosupervise fine-tunes one
// level per teacher count (1, then 2 teachers); bootstrap relabels through
// the glove rung (a probe: glove has no encoder to tune) and fine-tunes
// the strong student once on its labels.
func TestLadderMethodsFineTuned(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes USE-lite for bootstrap and cosupervise")
	}
	spec := ftSpec()
	spec.Datasets = []string{"review-source"}
	spec.Weak = "bow"
	spec.Methods = []string{"cosupervise", "bootstrap"}
	rows, _, err := testRunner(t).Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	wantStages := map[string]int{"cosupervise": 2, "bootstrap": 1}
	if len(rows) != len(wantStages) {
		t.Fatalf("%d rows, want cosupervise and bootstrap", len(rows))
	}
	for _, row := range rows {
		if !row.FineTuned || row.Strong != "use-lite-ft:linear" || row.W2SAcc <= 0 || row.Stages != wantStages[row.Method] {
			t.Errorf("%s: fine_tuned %v strong %s w2s %.3f stages %d, want a fine-tuned student trained in %d stages",
				row.Method, row.FineTuned, row.Strong, row.W2SAcc, row.Stages, wantStages[row.Method])
		}
	}
}

// TestMultiStageResume kills s2s (two stages on a fine-tuned student) in
// the first epoch of its second stage and resumes it: the first stage is
// not trained again (its finished checkpoint is read), the second resumes
// after its saved epoch, and the row equals an uninterrupted run's.
func TestMultiStageResume(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes USE-lite five times")
	}
	ctx := context.Background()
	spec := ftSpec()
	spec.Limit = 150
	spec.FTEpochs = 2
	spec.Methods = []string{"s2s:rounds=1"}
	teachers := t.TempDir()
	whole, _, err := (&Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: t.TempDir()}, Log: testLog(), Teachers: teachers}).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	killed := &Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: out}, Log: cancelOn{"stage 2/2 (round 1, use-lite-ft:linear): epoch 1/2", cancel}, Teachers: teachers}
	if _, _, err := killed.Run(cctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	var log strings.Builder
	resumed, _, err := (&Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: out}, Log: &log, Teachers: teachers}).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	l := log.String()
	stage1, stage2 := "stage 1/2 (round 0, use-lite-ft:linear): ", "stage 2/2 (round 1, use-lite-ft:linear): "
	if !strings.Contains(l, stage1+"resuming from") || !strings.Contains(l, "after epoch 2/2") ||
		!strings.Contains(l, stage2+"resuming from") || !strings.Contains(l, "after epoch 1/2") ||
		strings.Contains(l, stage1+"epoch") || strings.Contains(l, stage2+"epoch 1/2") {
		t.Errorf("the rerun did not resume stage 1 finished and stage 2 after its first epoch:\n%s", l)
	}
	if !reflect.DeepEqual(stripDurations(whole), stripDurations(resumed)) {
		t.Errorf("resumed row differs from the uninterrupted run:\n%+v\n%+v", whole[0], resumed[0])
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

// TestFineTunedKeys: fine-tuning settings enter the keys, so a fine-tuned
// cell is never confused with a probe cell or another epoch count.
func TestFineTunedKeys(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	cr := testCells(t)
	cs := ftSpec().cell("sentiment", "sentiment", "naive", 0)
	k1, err := cr.Keys(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	cs.FTEpochs = 2
	k2, err := cr.Keys(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	cs.FTEpochs, cs.Strong = 0, "use-lite"
	k3, err := cr.Keys(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Ceiling == k2.Ceiling || k1.Ceiling == k3.Ceiling || k2.Ceiling == k3.Ceiling || k1.Config == k2.Config || k1.Weak != k2.Weak {
		t.Errorf("keys: epochs 1 %+v, epochs 2 %+v, probe %+v", k1, k2, k3)
	}
}

// TestFineTuneSpecValidation: the fine-tuning settings are checked before
// any work, and refused for students that are not fine-tuned.
func TestFineTuneSpecValidation(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for _, tc := range []struct {
		strong   string
		epochs   int
		lr       float64
		errorHas string // "" = valid
	}{
		{"use-lite-ft", 3, 1e-4, ""},
		{"use-lite-ft", 0, 0, ""},
		{"use-lite-ft", -1, 0, "must be >= 0"},
		{"use-lite-ft", 1, -1e-4, "must be >= 0"},
		{"onnx-ft:/models/bert", 2, 1e-4, ""},
		{"use-lite", 2, 0, "apply to fine-tuned strong students only"},
		{"glove", 0, 1e-4, "apply to fine-tuned strong students only"},
		{"onnx:/models/bert", 1, 0, "apply to fine-tuned strong students only"},
		{"use-lite-ft:mlp", 0, 0, "linear head"},
		{"glove-ft", 0, 0, ""}, // parses; refused when opened (glove has no trainable graph)
	} {
		spec := ftSpec()
		spec.Strong, spec.FTEpochs, spec.FTLR = tc.strong, tc.epochs, tc.lr
		err := spec.Validate()
		if tc.errorHas == "" && err != nil || tc.errorHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errorHas)) {
			t.Errorf("strong %s ft-epochs %d ft-lr %g: got %v, want %q", tc.strong, tc.epochs, tc.lr, err, tc.errorHas)
		}
	}
	spec := ftSpec()
	spec.Strong = "glove-ft"
	if _, _, err := testRunner(t).Run(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "cannot be fine-tuned") {
		t.Errorf("glove-ft: got %v", err)
	}
}

// TestRunFineTunedImageStudent runs pixels → MobileNetV2 at 64 px with its
// top two blocks fine-tuned (mobilenet-v2-64-ft-top2) on 120 real MNIST
// images end to end: the ceiling and the naive student are fine-tuned
// CNNs reading the images, and the row is well formed.
func TestRunFineTunedImageStudent(t *testing.T) {
	testenv.NeedsAssets(t, "MNIST and the nsfwjs CNNs")
	if testing.Short() {
		t.Skip("fine-tunes a CNN twice")
	}
	spec := DefaultSpec()
	spec.Datasets = []string{"mnist"}
	spec.Weak, spec.Strong = "pixels", "mobilenet-v2-64-ft-top2"
	spec.Methods = []string{"naive"}
	spec.Seeds, spec.Limit, spec.FTEpochs, spec.Resamples = 1, 120, 2, 100
	rows, _, err := testRunner(t).Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	r := rows[0]
	t.Logf("floor %.3f ceiling %.3f w2s %.3f; strong_train %q", r.FloorAcc, r.CeilingAcc, r.W2SAcc, r.StrongTrain)
	if r.Strong != "mobilenet-v2-64-ft-top2:linear" || !r.FineTuned || !strings.Contains(r.StrongTrain, "epochs=2 batch=16") {
		t.Errorf("row %s → %s: fine_tuned %v, strong_train %q", r.Weak, r.Strong, r.FineTuned, r.StrongTrain)
	}
	if r.CeilingAcc < 0.2 || r.CeilingAcc > 1 || r.W2SAcc < 0 || r.W2SAcc > 1 {
		t.Errorf("accuracies out of range: floor %.3f ceiling %.3f w2s %.3f", r.FloorAcc, r.CeilingAcc, r.W2SAcc)
	}
}

// TestEveryMethodFineTunedImage runs every method (and the gold methods at
// a budget the train_weak images allow) with a top-block CNN fine-tune as
// the strong student on 300 real MNIST images: each trains its plan on
// the images (the gold controls on drawn train_weak images appended to
// train_strong's).
func TestEveryMethodFineTunedImage(t *testing.T) {
	testenv.NeedsAssets(t, "MNIST and the nsfwjs CNNs")
	if testing.Short() {
		t.Skip("fine-tunes a CNN for every method")
	}
	spec := DefaultSpec()
	spec.Datasets = []string{"mnist"}
	spec.Weak, spec.Strong = "pixels", "mobilenet-v2-64-ft-top2"
	spec.Methods = append(method.AllNames(), "gold-probe:gold=20", "naive+gold:gold=20", "selective:gold=20")
	spec.SkipInapplicable = true
	spec.Seeds, spec.Limit, spec.FTEpochs, spec.Resamples = 1, 300, 1, 100
	rows, _, err := testRunner(t).Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Errorf("%d rows: most methods did not run", len(rows))
	}
	for _, r := range rows {
		if r.Strong != "mobilenet-v2-64-ft-top2:linear" || !r.FineTuned || r.W2SAcc < 0 || r.W2SAcc > 1 {
			t.Errorf("%s: strong %s fine_tuned %v w2s %.3f", r.Method, r.Strong, r.FineTuned, r.W2SAcc)
		}
	}
}
