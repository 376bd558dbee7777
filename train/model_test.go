package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
)

// TestManualGradients compares the hand-written backward pass of
// lossAndGradients with GoMLX's automatic differentiation of the forward
// pass, for both heads and a loss other than the default.
func TestManualGradients(t *testing.T) {
	backend, err := Backend()
	if err != nil {
		t.Fatal(err)
	}
	const batch, dim, hidden, k = 5, 7, 6, 3
	rng := rand.New(rand.NewPCG(1, 2))
	randn := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64())
		}
		return out
	}
	x := randn(batch * dim)
	xT := make([]float32, len(x))
	for b := range batch {
		for j := range dim {
			xT[j*batch+b] = x[b*dim+j]
		}
	}
	targets := data.NewMatrix(batch, k)
	for i := range batch {
		copy(targets.Row(i), []float32{0.2, 0.5, 0.3})
	}
	squared := func(logits, targets *graph.Node) *graph.Node { // a loss other than cross-entropy
		return graph.ReduceAllMean(graph.Square(graph.Sub(graph.Softmax(logits, -1), targets)))
	}
	for _, head := range []string{HeadLinear, HeadMLP} {
		for name, lossFn := range map[string]LossFunc{"xent": SoftCrossEntropy, "squared": squared} {
			t.Run(head+"/"+name, func(t *testing.T) {
				specs := paramSpecs(head, dim, hidden, k)
				args := []any{
					tensors.FromFlatDataAndDimensions(x, batch, dim),
					tensors.FromFlatDataAndDimensions(xT, dim, batch),
					tensors.FromFlatDataAndDimensions(targets.Values, batch, k),
				}
				for _, sp := range specs {
					args = append(args, tensors.FromFlatDataAndDimensions(randn(product(sp.dims)), sp.dims...))
				}
				exec, err := graph.NewExec(backend, func(in []*graph.Node) []*graph.Node {
					p := in[3:]
					xTIn := in[1]
					if head == HeadLinear {
						xTIn = nil
					}
					_, manual := lossAndGradients(head, p, in[0], xTIn, in[2], lossFn)
					auto := graph.Gradient(lossFn(forward(head, p, in[0]), in[2]), p...)
					return append(manual, auto...)
				})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.Exec(args...)
				if err != nil {
					t.Fatal(err)
				}
				n := len(specs)
				for i := range n {
					manual := tensors.MustCopyFlatData[float32](out[i])
					auto := tensors.MustCopyFlatData[float32](out[n+i])
					for j := range manual {
						if diff := math.Abs(float64(manual[j] - auto[j])); diff > 1e-5*(1+math.Abs(float64(auto[j]))) {
							t.Fatalf("param %d element %d: manual gradient %v, autodiff %v", i, j, manual[j], auto[j])
						}
					}
				}
			})
		}
	}
}

func TestLearningRateSchedule(t *testing.T) {
	const peak, warmup, total = 0.1, 5, 105
	tests := []struct {
		t        int
		want     float64
		tolerant bool
	}{
		{0, peak / warmup, false}, // first warm-up step
		{4, peak, false},          // end of warm-up
		{5, peak, false},          // cosine starts at the peak
		{55, peak / 2, false},     // half-way through the decay
		{104, peak * (1 - math.Cos(math.Pi/100)) / 2, false}, // last step: ~0 but not 0
	}
	for _, tc := range tests {
		got := learningRate(peak, tc.t, warmup, total)
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("learningRate(step %d) = %v, want %v", tc.t, got, tc.want)
		}
	}
	for s := warmup + 1; s < total; s++ {
		if learningRate(peak, s, warmup, total) > learningRate(peak, s-1, warmup, total) {
			t.Fatalf("learning rate increases after warm-up at step %d", s)
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

func TestColumnStats(t *testing.T) {
	x, _ := data.MatrixFromRows([][]float32{{1, 5, 1e6}, {3, 5, 1e6 + 2}, {5, 5, 1e6 + 4}})
	mean, invStd := columnStats(x)
	wantMean := []float32{3, 5, 1e6 + 2}
	sd := float32(math.Sqrt(8.0 / 3))
	wantInv := []float32{1 / sd, 1, 1 / sd} // constant column: scale 1
	for j := range 3 {
		if math.Abs(float64(mean[j]-wantMean[j])) > 1e-6*math.Abs(float64(wantMean[j])) ||
			math.Abs(float64(invStd[j]-wantInv[j])) > 1e-5 {
			t.Errorf("column %d: mean %v invStd %v, want %v %v", j, mean[j], invStd[j], wantMean[j], wantInv[j])
		}
	}
}

func TestConfigHash(t *testing.T) {
	base := DefaultConfig(HeadMLP)
	if got, again := base.Hash(), DefaultConfig(HeadMLP).Hash(); got != again || len(got) != 16 {
		t.Fatalf("hash not stable or not 16 hex digits: %q %q", got, again)
	}
	// Golden value: changing it invalidates every cached result keyed by it,
	// so do it only on purpose (and bump hashVersion).
	if got := base.Hash(); got != goldenMLPHash {
		t.Errorf("DefaultConfig(mlp).Hash() = %q, golden %q", got, goldenMLPHash)
	}
	withLoss := base
	withLoss.Loss = SoftCrossEntropy
	if withLoss.Hash() != base.Hash() {
		t.Error("Loss changes the hash")
	}
	zero := Config{Head: HeadMLP, WeightDecay: base.WeightDecay, Standardize: true}
	if zero.Hash() != base.Hash() {
		t.Error("defaults filled in differ from explicit defaults")
	}
	for name, mutate := range map[string]func(*Config){
		"hidden": func(c *Config) { c.Hidden = 128 }, "epochs": func(c *Config) { c.Epochs = 21 },
		"batch": func(c *Config) { c.BatchSize = 64 }, "lr": func(c *Config) { c.LearningRate = 2e-3 },
		"wd": func(c *Config) { c.WeightDecay = 0 }, "seed": func(c *Config) { c.Seed = 1 },
		"std": func(c *Config) { c.Standardize = false }, "head": func(c *Config) { c.Head = HeadLinear },
	} {
		c := base
		mutate(&c)
		if c.Hash() == base.Hash() {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}

const goldenMLPHash = "7a2dd428cba7fa98"
