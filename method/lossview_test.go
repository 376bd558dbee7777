package method

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// lvCell is a small real weak-to-strong cell built the way experiment does:
// the UCI sentiment sentences, balanced, 900 examples, split in thirds;
// hashed bag-of-words (weak) and GloVe (strong) features through the shared
// feature cache; a linear weak head on train_weak gold, whose soft
// predictions on train_strong are the weak labels.
type lvCell struct {
	view View
}

var (
	lvOnce sync.Once
	lvC    *lvCell
	lvErr  error
)

// lvView returns a fresh copy of the shared view (tests may change it).
func lvView(t *testing.T) *View {
	t.Helper()
	lvOnce.Do(func() { lvC, lvErr = lvBuild(context.Background()) })
	if lvErr != nil {
		t.Fatalf("building the sentiment cell: %v", lvErr)
	}
	v := lvC.view
	return &v
}

func lvBuild(ctx context.Context) (*lvCell, error) {
	const seed = 3
	ds, err := data.LoadBuiltin(ctx, "sentiment", nil)
	if err != nil {
		return nil, err
	}
	idx := data.SubsampleIndices(ds, data.BalanceIndices(ds, seed), 900, seed)
	split, err := data.SplitIndices(ds, idx, seed, data.DefaultFractions)
	if err != nil {
		return nil, err
	}
	feats := map[string]data.Matrix{}
	texts := make([]string, len(ds.Examples))
	for i, ex := range ds.Examples {
		texts[i] = ex.Text
	}
	for _, name := range []string{"bow", "glove"} {
		enc, err := encode.New(ctx, name, nil)
		if err != nil {
			return nil, err
		}
		m, err := (&featcache.Cache{}).Features(ctx, enc, ds.ContentHash(), texts, nil)
		if err != nil {
			return nil, err
		}
		feats[name] = m
	}
	k := ds.K()
	goldTW := ds.Labels(split.TrainWeak)
	weakCfg := student.DefaultProbeConfig("linear")
	weakCfg.Standardize = false // bow is sparse and pre-scaled, as the runner treats it
	weakCfg.Seed = 11
	weakTW := feats["bow"].SelectRows(split.TrainWeak)
	weakTS := feats["bow"].SelectRows(split.TrainStrong)
	weak, err := student.FitProbeLabels(ctx, weakTW, goldTW, k, weakCfg)
	if err != nil {
		return nil, err
	}
	labels, err := weak.Predict(weakTS)
	if err != nil {
		return nil, err
	}
	head := student.DefaultProbeConfig("linear")
	head.Seed = 12
	c := &lvCell{}
	c.view = View{
		K:           k,
		Seed:        seed,
		TrainWeak:   SupervisorSplit{Weak: weakTW},
		TrainStrong: WeakSplit{Weak: weakTS, Strong: feats["glove"].SelectRows(split.TrainStrong), WeakLabels: labels},
		StrongProbe: head,
		WeakProbe:   weakCfg,
		WeakEncoder: "bow", StrongEncoder: "glove",
		Features: func(_ context.Context, encoder string) (data.Matrix, data.Matrix, error) {
			x, ok := feats[encoder]
			if !ok {
				return data.Matrix{}, data.Matrix{}, errUnknownLvEncoder(encoder)
			}
			return x.SelectRows(split.TrainWeak), x.SelectRows(split.TrainStrong), nil
		},
	}
	if err := registerTestGold(&c.view, feats["glove"].SelectRows(split.TrainWeak), goldTW); err != nil {
		return nil, err
	}
	return c, nil
}

type errUnknownLvEncoder string

func (e errUnknownLvEncoder) Error() string {
	return "lossview test: no features for encoder " + string(e)
}

// lvBatch returns a real minibatch: the logits [B, K] of a naive student on
// the first B rows of train_strong and those rows' weak labels [B, K].
func lvBatch(t *testing.T, v *View, b int) (logits, y data.Matrix) {
	t.Helper()
	idx := make([]int, b)
	for i := range idx {
		idx[i] = i
	}
	return lvBatchRows(t, v, idx)
}

// lvBatchRows is lvBatch on the given rows of train_strong.
func lvBatchRows(t *testing.T, v *View, idx []int) (logits, y data.Matrix) {
	t.Helper()
	// A short fit leaves the student uncertain on some rows and confident
	// on others, so hardening, windows and α all have both cases.
	cfg := v.StrongProbe
	cfg.Epochs = 2
	h, err := student.FitProbe(context.Background(), v.TrainStrong.Strong, v.TrainStrong.WeakLabels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	logits, err = h.Logits(v.TrainStrong.Strong.SelectRows(idx))
	if err != nil {
		t.Fatal(err)
	}
	return logits, v.TrainStrong.WeakLabels.SelectRows(idx)
}

// lvSoftmax is a float64 softmax of row i of logits.
func lvSoftmax(logits data.Matrix, i int) []float64 {
	row := logits.Row(i)
	hi := math.Inf(-1)
	for _, v := range row {
		hi = math.Max(hi, float64(v))
	}
	out := make([]float64, len(row))
	var s float64
	for j, v := range row {
		out[j] = math.Exp(float64(v) - hi)
		s += out[j]
	}
	for j := range out {
		out[j] /= s
	}
	return out
}

// lvTarget recovers the detached target of a loss SoftCrossEntropy(logits,
// StopGradient(target)) from its gradient: target = softmax - B·grad.
func lvTarget(t *testing.T, loss train.Loss, logits, y data.Matrix, progress float64) data.Matrix {
	t.Helper()
	_, grad, err := train.LossGradient(loss, logits, y, progress)
	if err != nil {
		t.Fatal(err)
	}
	out := data.NewMatrix(logits.Rows, logits.Cols)
	for i := range logits.Rows {
		p := lvSoftmax(logits, i)
		for j := range p {
			out.Set(i, j, float32(p[j]-float64(logits.Rows)*float64(grad.At(i, j))))
		}
	}
	return out
}

// lvPredict runs m's plan on a probe student (the view's strong probe
// configuration on its frozen strong features) and returns the student's
// predictions on train_strong.
func lvPredict(t *testing.T, m Method, v *View) data.Matrix {
	t.Helper()
	return probeRun(t, m, v).TrainStrong
}

// probeRun trains m's plan on a probe student, as the runner does for a
// probe cell.
func probeRun(t *testing.T, m Method, v *View) *Trained {
	t.Helper()
	tr, err := probeExecutor(v).Run(context.Background(), m, v)
	if err != nil {
		t.Fatalf("%s: %v", m.Name(), err)
	}
	return tr
}

func probeExecutor(v *View) *Executor {
	pool, tw := testGoldFor(v)
	return &Executor{
		Student:         student.NewProbe(student.Spec{Encoder: v.StrongEncoder, Head: v.StrongProbe.Head}, v.StrongProbe),
		Inputs:          student.Inputs{Features: v.TrainStrong.Strong},
		Config:          v.StrongProbe.Train(),
		Gold:            pool,
		TrainWeakInputs: student.Inputs{Features: tw},
	}
}

// testGold maps a test cell's train_weak, by the backing array of its weak
// features (shared by every copy of the view), to its gold pool and the
// probe student's train_weak inputs (the strong features), which a View
// does not carry: the runner's executor holds them.
var testGold sync.Map // *float32 → testGoldEntry

type testGoldEntry struct {
	pool     *GoldPool
	twStrong data.Matrix
}

// registerTestGold makes v's train_weak gold and strong features known to
// probeExecutor and testBudget.
func registerTestGold(v *View, twStrong data.Matrix, gold []int) error {
	pool, err := NewGoldPool(twStrong, gold, seeds.Derive(v.Seed, seeds.Lead("test-gold")))
	if err != nil {
		return err
	}
	testGold.Store(&v.TrainWeak.Weak.Values[0], testGoldEntry{pool, twStrong})
	return nil
}

// testGoldFor returns v's registered gold pool and train_weak strong
// features (nil and empty for an unregistered view).
func testGoldFor(v *View) (*GoldPool, data.Matrix) {
	if len(v.TrainWeak.Weak.Values) == 0 {
		return nil, data.Matrix{}
	}
	e, ok := testGold.Load(&v.TrainWeak.Weak.Values[0])
	if !ok {
		return nil, data.Matrix{}
	}
	return e.(testGoldEntry).pool, e.(testGoldEntry).twStrong
}

// testBudget gives v a budget of n strong-feature labels on its registered
// pool, as the executor would for a method declaring gold=n, for tests that
// call a method's internals directly.
func testBudget(v *View, n int) {
	pool, _ := testGoldFor(v)
	v.Gold = pool.OpenBudget(n)
}

func lvNew(t *testing.T, spec string) Method {
	t.Helper()
	m, err := New(spec)
	if err != nil {
		t.Fatalf("New(%q): %v", spec, err)
	}
	return m
}
