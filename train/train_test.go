package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
)

// softmaxNet is multinomial logistic regression on fixed features,
// differentiated by GoMLX (the path fine-tuned encoders take): the
// smallest Net that exercises the trainer. length, when set, makes it a
// LengthNet; fedRows records the rows of every Feed.
type softmaxNet struct {
	x       data.Matrix
	k       int
	length  []int
	w, b    *model.Variable
	fedRows [][]int
}

func (n *softmaxNet) Init(scope *model.Scope, rng *rand.Rand) ([]Param, error) {
	w := make([]float32, n.k*n.x.Cols)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.1)
	}
	n.w = scope.VariableWithValue("w", tensors.FromFlatDataAndDimensions(w, n.k, n.x.Cols))
	n.b = scope.VariableWithValue("b", tensors.FromFlatDataAndDimensions(make([]float32, n.k), n.k))
	return []Param{{Var: n.w, Group: GroupHead, Decay: true}, {Var: n.b, Group: GroupEncoder}}, nil
}

func (n *softmaxNet) Len() int { return n.x.Rows }

func (n *softmaxNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	n.fedRows = append(n.fedRows, slices.Clone(rows))
	return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(n.x.SelectRows(rows).Values, len(rows), n.x.Cols)}, nil
}

func (n *softmaxNet) Logits(_ *model.Scope, fed []*Node) *Node {
	g := fed[0].Graph()
	return Add(DotGeneral(fed[0], []int{1}, nil, n.w.NodeValue(g), []int{1}, nil), ExpandAxes(n.b.NodeValue(g), 0))
}

func (n *softmaxNet) Fingerprint() string { return fmt.Sprintf("softmax|%v|%d", n.x.Values, n.k) }

type lengthNet struct{ *softmaxNet }

func (n lengthNet) Lengths() []int { return n.length }

func (n *softmaxNet) params(t *testing.T) []float32 {
	t.Helper()
	var out []float32
	for _, v := range []*model.Variable{n.w, n.b} {
		out = append(out, tensors.MustCopyFlatData[float32](v.MustValue())...)
	}
	return out
}

// blobs draws n points of two Gaussian classes in d dimensions.
func blobs(seed uint64, n, d int) (data.Matrix, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := data.NewMatrix(n, d)
	y := make([]int, n)
	for i := range n {
		y[i] = rng.IntN(2)
		for j := range d {
			mu := 0.0
			if j == y[i] {
				mu = 2
			}
			x.Set(i, j, float32(mu+rng.NormFloat64()))
		}
	}
	return x, y
}

func testConfig() Config {
	return Config{Epochs: 4, BatchSize: 16, LearningRate: 0.05, EncoderLR: 0.02, WeightDecay: 0.01, Seed: 3}
}

func TestFitLearns(t *testing.T) {
	x, y := blobs(1, 200, 4)
	for _, sched := range []Schedule{WarmupCosine, Constant} {
		t.Run(string(sched), func(t *testing.T) {
			net := &softmaxNet{x: x, k: 2}
			cfg := testConfig()
			cfg.Schedule = sched
			res, err := Fit(context.Background(), net, Objective{Targets: data.OneHot(y, 2)}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.EpochLoss) != 4 || !(res.EpochLoss[3] < res.EpochLoss[0]) || res.Steps != 4*13 {
				t.Errorf("epoch losses %v over %d steps: want 4 falling epochs of 13 steps", res.EpochLoss, res.Steps)
			}
			if res.FinalLoss() > 0.35 {
				t.Errorf("final loss %.3f: the blobs are nearly separable", res.FinalLoss())
			}
		})
	}
}

func TestLearningRateSchedule(t *testing.T) {
	const peak, warmup, total = 0.1, 5, 105
	c := Config{Schedule: WarmupCosine}
	for _, tc := range []struct {
		t    int
		want float64
	}{
		{0, peak / warmup}, // first warm-up step
		{4, peak},          // end of warm-up
		{5, peak},          // cosine starts at the peak
		{55, peak / 2},     // half-way through the decay
		{104, peak * (1 - math.Cos(math.Pi/100)) / 2}, // last step: ~0 but not 0
	} {
		if got := c.learningRate(peak, tc.t, warmup, total); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("learningRate(step %d) = %v, want %v", tc.t, got, tc.want)
		}
	}
	for s := warmup + 1; s < total; s++ {
		if c.learningRate(peak, s, warmup, total) > c.learningRate(peak, s-1, warmup, total) {
			t.Fatalf("learning rate increases after warm-up at step %d", s)
		}
	}
	c.Schedule = Constant
	for _, s := range []int{0, 3, 104} {
		if got := c.learningRate(peak, s, warmup, total); got != peak {
			t.Errorf("constant schedule at step %d: %v", s, got)
		}
	}
}

func TestBatchOrder(t *testing.T) {
	const n, batch, epochs = 10, 4, 3
	order := batchOrder(rand.New(rand.NewPCG(1, 1)), n, batch, epochs)
	perEpoch := 3 * batch // ceil(10/4) = 3 full batches
	if len(order) != epochs*perEpoch {
		t.Fatalf("len(order) = %d, want %d", len(order), epochs*perEpoch)
	}
	var firsts [][]int32
	for e := range epochs {
		ep := order[e*perEpoch : (e+1)*perEpoch]
		seen := slices.Clone(ep[:n])
		slices.Sort(seen)
		for i, v := range seen {
			if v != int32(i) {
				t.Fatalf("epoch %d does not visit every row once: %v", e, ep[:n])
			}
		}
		if !slices.Equal(ep[n:], ep[:perEpoch-n]) {
			t.Errorf("epoch %d: last batch completed with %v, want the epoch's first rows %v", e, ep[n:], ep[:perEpoch-n])
		}
		firsts = append(firsts, ep[:n])
	}
	if slices.Equal(firsts[0], firsts[1]) {
		t.Error("two epochs have the same order: not reshuffled")
	}
}

// TestLengthBatchOrder: every epoch visits every position, batches hold
// similar lengths (far less padding than random batches), and the
// batches' order is shuffled.
func TestLengthBatchOrder(t *testing.T) {
	const n, batch, epochs = 300, 8, 2
	rng := rand.New(rand.NewPCG(4, 4))
	length := make([]int, n)
	for i := range length {
		length[i] = 1 + rng.IntN(60)
	}
	padding := func(order []int32) int {
		pad := 0
		for s := 0; s < len(order); s += batch {
			longest := 0
			for _, p := range order[s : s+batch] {
				longest = max(longest, length[p])
			}
			for _, p := range order[s : s+batch] {
				pad += longest - length[p]
			}
		}
		return pad
	}
	grouped := lengthBatchOrder(rand.New(rand.NewPCG(9, 9)), length, batch, epochs)
	random := batchOrder(rand.New(rand.NewPCG(9, 9)), n, batch, epochs)
	perEpoch := (n + batch - 1) / batch * batch
	if len(grouped) != epochs*perEpoch {
		t.Fatalf("%d positions, want %d", len(grouped), epochs*perEpoch)
	}
	for e := range epochs {
		seen := map[int32]bool{}
		for _, p := range grouped[e*perEpoch : (e+1)*perEpoch] {
			seen[p] = true
		}
		if len(seen) != n {
			t.Errorf("epoch %d visits %d of %d positions", e, len(seen), n)
		}
	}
	pg, pr := padding(grouped), padding(random)
	t.Logf("padding tokens: grouped %d, random %d", pg, pr)
	if pg*4 > pr {
		t.Errorf("grouped batches pad %d tokens, random %d: want under a quarter", pg, pr)
	}
	firstLongest := make([]int, 0, 8)
	for s := 0; s < 8*batch; s += batch {
		firstLongest = append(firstLongest, length[grouped[s+batch-1]])
	}
	if slices.IsSorted(firstLongest) {
		t.Errorf("the first batches run from short to long %v: batch order not shuffled", firstLongest)
	}
}

// TestRowsAndWeights: training on Rows equals training on those rows
// alone; weights 2 on every row equal no weights (they are normalised); a
// zero weight removes a row's influence.
func TestRowsAndWeights(t *testing.T) {
	x, y := blobs(2, 120, 3)
	targets := data.OneHot(y, 2)
	cfg := testConfig()
	fit := func(net *softmaxNet, o Objective) []float32 {
		t.Helper()
		if _, err := Fit(context.Background(), net, o, cfg); err != nil {
			t.Fatal(err)
		}
		return net.params(t)
	}
	rows := []int{3, 5, 8, 13, 21, 34, 55, 89, 100, 101, 102, 103, 104, 105, 106, 107, 108, 119}
	sub := &softmaxNet{x: x.SelectRows(rows), k: 2}
	want := fit(sub, Objective{Targets: targets.SelectRows(rows)})
	got := fit(&softmaxNet{x: x, k: 2}, Objective{Targets: targets, Rows: rows})
	if !slices.Equal(got, want) {
		t.Errorf("Rows: %v, training on the rows alone: %v", got, want)
	}
	plain := fit(&softmaxNet{x: x, k: 2}, Objective{Targets: targets})
	twos := make([]float32, 120)
	for i := range twos {
		twos[i] = 2
	}
	if got := fit(&softmaxNet{x: x, k: 2}, Objective{Targets: targets, Weights: twos}); !closeValues(got, plain, 1e-5) {
		t.Errorf("uniform weights 2: %v, no weights %v", got, plain)
	}
	// Zero weights on every row outside rows: the same optimum direction
	// as Rows, but every batch still holds the other rows, so compare
	// losses' sign of progress only.
	zero := make([]float32, 120)
	for _, i := range rows {
		zero[i] = 1
	}
	if _, err := Fit(context.Background(), &softmaxNet{x: x, k: 2}, Objective{Targets: targets, Weights: zero}, cfg); err != nil {
		t.Errorf("weights with zeros: %v", err)
	}
	for _, bad := range []struct {
		o    Objective
		want string
	}{
		{Objective{Targets: targets, Weights: make([]float32, 120)}, "weight 0"},
		{Objective{Targets: targets, Weights: []float32{1}}, "1 weights for 120"},
		{Objective{Targets: targets, Rows: []int{0, 120}}, "row 120 outside"},
		{Objective{Targets: targets, Rows: []int{}}, "no rows"},
		{Objective{Targets: targets.SelectRows([]int{0, 1})}, "120 examples but 2 target rows"},
	} {
		if _, err := Fit(context.Background(), &softmaxNet{x: x, k: 2}, bad.o, cfg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Fit error %v, want %q", err, bad.want)
		}
	}
}

func closeValues(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

// TestBatchStatisticsLosses: a loss that reads its batch is never given
// padding rows (every fed row is a training row and every batch is full)
// nor length-grouped batches, while a per-example loss on the same
// LengthNet is grouped.
func TestBatchStatisticsLosses(t *testing.T) {
	x, y := blobs(3, 100, 3)
	length := make([]int, 100)
	for i := range length {
		length[i] = i // sorted by index: grouped batches hold neighbours
	}
	rows := make([]int, 0, 70)
	for i := 0; i < 100; i++ {
		if i%10 != 0 {
			rows = append(rows, i)
		}
	}
	spread := func(batches [][]int) float64 { // mean max-min length within a batch
		var s float64
		for _, b := range batches {
			s += float64(slices.Max(b) - slices.Min(b))
		}
		return s / float64(len(batches))
	}
	cfg := testConfig()
	cfg.BatchSize, cfg.GroupByLength = 16, true
	for _, tc := range []struct {
		name      string
		stats     bool
		wantGroup bool
	}{{"per-example", false, true}, {"batch statistics", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			net := lengthNet{&softmaxNet{x: x, k: 2, length: length}}
			loss := Loss{Name: tc.name, BatchStatistics: tc.stats}
			if _, err := Fit(context.Background(), net, Objective{Targets: data.OneHot(y, 2), Rows: rows, Loss: loss}, cfg); err != nil {
				t.Fatal(err)
			}
			for _, b := range net.fedRows {
				if len(b) != 16 {
					t.Fatalf("a batch of %d rows: batches must be full", len(b))
				}
				for _, r := range b {
					if r%10 == 0 {
						t.Fatalf("row %d is not a training row (padding?)", r)
					}
				}
			}
			s := spread(net.fedRows)
			t.Logf("mean length spread within a batch: %.1f", s)
			if grouped := s < 20; grouped != tc.wantGroup {
				t.Errorf("length spread %.1f: grouped=%t, want %t", s, grouped, tc.wantGroup)
			}
		})
	}
}

// cancelOn cancels its context when a log line contains text.
type cancelOn struct {
	text   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.text) {
		c.cancel()
	}
	return len(p), nil
}

// TestCheckpointResume interrupts a fit after its second epoch and resumes
// it: parameters and losses equal an uninterrupted fit bit for bit. A
// finished checkpoint trains nothing; a checkpoint of another fit and a
// damaged one are reported and ignored; saves within an epoch resume too.
func TestCheckpointResume(t *testing.T) {
	x, y := blobs(5, 150, 4)
	o := Objective{Targets: data.OneHot(y, 2)}
	cfg := testConfig()
	cfg.Epochs, cfg.StepsPerCall = 3, 2 // 10 steps an epoch: calls straddle epochs
	whole := &softmaxNet{x: x, k: 2}
	wholeRes, err := Fit(context.Background(), whole, o, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := whole.params(t)

	cfg.Checkpoint = filepath.Join(t.TempDir(), "fit.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Log = cancelOn{"epoch 2/3", cancel}
	if _, err := Fit(ctx, &softmaxNet{x: x, k: 2}, o, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fit: %v, want context.Canceled", err)
	}
	var log strings.Builder
	cfg.Log = &log
	resumed := &softmaxNet{x: x, k: 2}
	res, err := Fit(context.Background(), resumed, o, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming from") || strings.Contains(log.String(), "epoch 1/3") || !strings.Contains(log.String(), "epoch 3/3") {
		t.Errorf("resume ran the wrong epochs:\n%s", log.String())
	}
	if !slices.Equal(resumed.params(t), want) || !slices.Equal(res.EpochLoss, wholeRes.EpochLoss) {
		t.Errorf("resumed params %v losses %v, uninterrupted %v %v", resumed.params(t), res.EpochLoss, want, wholeRes.EpochLoss)
	}

	log.Reset()
	done := &softmaxNet{x: x, k: 2}
	if res, err := Fit(context.Background(), done, o, cfg); err != nil || res.ResumedAt != res.Steps {
		t.Fatalf("finished checkpoint: %v, resumed at %d of %d", err, res.ResumedAt, res.Steps)
	}
	if strings.Contains(log.String(), "loss") || !slices.Equal(done.params(t), want) {
		t.Errorf("a finished checkpoint trained again or differs:\n%s", log.String())
	}

	other := cfg
	other.Seed, other.Epochs = 12, 1
	log.Reset()
	if _, err := Fit(context.Background(), &softmaxNet{x: x, k: 2}, o, other); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "another training run") || !strings.Contains(log.String(), "epoch 1/1") {
		t.Errorf("stale checkpoint not ignored:\n%s", log.String())
	}

	st, err := os.Stat(cfg.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(cfg.Checkpoint, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, err := Fit(context.Background(), &softmaxNet{x: x, k: 2}, o, other); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "ignoring checkpoint") || !strings.Contains(log.String(), "epoch 1/1") {
		t.Errorf("damaged checkpoint not ignored:\n%s", log.String())
	}

	// Mid-epoch saves (every call here) resume bit-exactly too.
	mid := cfg
	mid.Checkpoint = filepath.Join(t.TempDir(), "mid.ckpt")
	mid.CheckpointEvery = time.Nanosecond
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	interrupted := &softmaxNet{x: x, k: 2}
	mid.Log = nil
	stop := &stopAfterFeeds{softmaxNet: interrupted, feeds: 25, cancel: cancel2}
	if _, err := Fit(ctx2, stop, o, mid); !errors.Is(err, context.Canceled) {
		t.Fatalf("fit stopped mid-epoch: %v", err)
	}
	again := &softmaxNet{x: x, k: 2}
	if _, err := Fit(context.Background(), again, o, mid); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.params(t), want) {
		t.Errorf("resumed from a mid-epoch save: params %v, want %v", again.params(t), want)
	}
}

// stopAfterFeeds cancels its context after a number of batches were fed.
type stopAfterFeeds struct {
	*softmaxNet
	feeds  int
	cancel context.CancelFunc
}

func (s *stopAfterFeeds) Feed(rows []int) ([]*tensors.Tensor, error) {
	if s.feeds--; s.feeds == 0 {
		s.cancel()
	}
	return s.softmaxNet.Feed(rows)
}

// TestLossGradient checks LossGradient on soft cross-entropy, whose
// batch mean has gradient (softmax - targets)/B.
func TestLossGradient(t *testing.T) {
	logits := data.Matrix{Rows: 3, Cols: 2, Values: []float32{0, 1, 2, -1, 0.5, 0.5}}
	targets := data.Matrix{Rows: 3, Cols: 2, Values: []float32{0.2, 0.8, 1, 0, 0.5, 0.5}}
	loss, grad, err := LossGradient(Loss{}, logits, targets, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for i := range 3 {
		z := logits.Row(i)
		norm := math.Exp(float64(z[0])) + math.Exp(float64(z[1]))
		for k := range 2 {
			p := math.Exp(float64(z[k])) / norm
			want -= float64(targets.At(i, k)) * math.Log(p) / 3
			if g := (p - float64(targets.At(i, k))) / 3; math.Abs(float64(grad.At(i, k))-g) > 1e-6 {
				t.Errorf("grad[%d,%d] = %v, want %v", i, k, grad.At(i, k), g)
			}
		}
	}
	if math.Abs(loss-want) > 1e-6 {
		t.Errorf("loss %v, want %v", loss, want)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.Epochs = 0 }, "Epochs = 0"},
		{func(c *Config) { c.BatchSize = 0 }, "BatchSize = 0"},
		{func(c *Config) { c.LearningRate = math.NaN() }, "LearningRate"},
		{func(c *Config) { c.EncoderLR = -1 }, "EncoderLR"},
		{func(c *Config) { c.Schedule = "step" }, `unknown schedule "step"`},
	} {
		c := testConfig()
		tc.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate: %v, want %q", err, tc.want)
		}
	}
}
