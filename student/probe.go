package student

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/sha"
	"github.com/superalign/superalign/train"
)

// ProbeConfig sets a probe: a head on frozen features and how it is
// trained. Zero values of Hidden, Epochs, BatchSize and LearningRate mean
// "the default for this head" (see DefaultProbeConfig); WeightDecay, Seed
// and Standardize are taken as given, so build configs from
// DefaultProbeConfig and change fields rather than from a zero value.
type ProbeConfig struct {
	// Head is HeadLinear or HeadMLP.
	Head string
	// Hidden is the width of the MLP's single hidden layer (ReLU: cheap on
	// the Go backend, where erf-based GELU is slow). Ignored by linear.
	Hidden int
	// Epochs is the fixed number of passes over the training rows; there is
	// no early stopping, because W2S students must not see gold validation
	// labels.
	Epochs int
	// BatchSize is the minibatch size (capped at the number of rows).
	BatchSize int
	// LearningRate is the peak learning rate: linear warm-up over the first
	// 5% of steps, then cosine decay to ~0 at the last step.
	LearningRate float64
	// WeightDecay is decoupled (AdamW) weight decay on weight matrices.
	WeightDecay float64
	// Seed fixes parameter initialisation and minibatch order.
	Seed int64
	// Standardize z-scores every feature with the training rows' mean and
	// standard deviation; the statistics are kept in the model and applied
	// again by Predict.
	Standardize bool
	// ClassBalanced makes FitProbe weight the loss by inverse class
	// frequency of its targets (train.ClassBalanced). Under --balance
	// weight the cell sets it in View.WeakProbe and View.StrongProbe, so
	// the probes a method trains while it plans are weighted as the cell's
	// own models are. Probe.Fit ignores it: the student's objective
	// carries its weights.
	ClassBalanced bool
	// Pairwise makes the probe a reward model on preference pairs: its
	// features are differences φ(A) − φ(B) of the two sides, and the head
	// is linear without a bias, the features scaled by their standard
	// deviation but not centred. Its logits are then W·(φ(A) − φ(B))/σ =
	// r(A) − r(B) per class with r(x) = W·φ(x)/σ, so the probability of
	// "A preferred" is σ(r₁(A) − r₀(A) − (r₁(B) − r₀(B))), a Bradley–Terry
	// model with the scalar reward r₁ − r₀, and swapping A and B negates
	// the logits exactly. A bias or centring would give one position a
	// prior of its own. Linear head only: an MLP on a difference is no
	// reward of one response.
	Pairwise bool
}

// DefaultProbeConfig returns the defaults for head "linear" or "mlp" (any
// other name is kept, so Validate reports it).
//
// The defaults fit soft labels closely on a few thousand standardised
// examples (see TestSoftLabelFit): peak learning rates above the usual 1e-3
// (1e-2 for the convex linear head, 3e-3 for the MLP) and enough epochs that
// the training loss ends within ~0.1% of the soft targets' own entropy. On
// 2000 examples of a 24-dimensional mixture the MLP's mean |p - target| was
// 0.011 at lr 1e-3 and 0.006 at 3e-3 (20 epochs, batch 128); the linear
// head's was 0.0002.
func DefaultProbeConfig(head string) ProbeConfig {
	c := ProbeConfig{Head: head, BatchSize: 128, WeightDecay: 0.01, Standardize: true}
	switch head {
	case HeadLinear:
		c.Epochs = 30
		c.LearningRate = 1e-2
	case HeadMLP:
		c.Hidden = 256
		c.Epochs = 20
		c.LearningRate = 3e-3
	}
	return c
}

// withDefaults fills the zero fields that have a per-head default.
func (c ProbeConfig) withDefaults() ProbeConfig {
	d := DefaultProbeConfig(c.Head)
	if c.Hidden == 0 {
		c.Hidden = d.Hidden
	}
	if c.Epochs == 0 {
		c.Epochs = d.Epochs
	}
	if c.BatchSize == 0 {
		c.BatchSize = d.BatchSize
	}
	if c.LearningRate == 0 {
		c.LearningRate = d.LearningRate
	}
	if c.Head == HeadLinear {
		c.Hidden = 0
	}
	return c
}

// Validate reports the first invalid field. Zero values that have defaults
// are valid.
func (c ProbeConfig) Validate() error {
	switch c.Head {
	case HeadLinear, HeadMLP:
	default:
		return fmt.Errorf("student: unknown head %q (want %q or %q)", c.Head, HeadLinear, HeadMLP)
	}
	switch {
	case c.Hidden < 0:
		return fmt.Errorf("student: Hidden = %d, must be positive", c.Hidden)
	case c.Epochs < 0:
		return fmt.Errorf("student: Epochs = %d, must be positive", c.Epochs)
	case c.BatchSize < 0:
		return fmt.Errorf("student: BatchSize = %d, must be positive", c.BatchSize)
	case c.LearningRate < 0 || math.IsNaN(c.LearningRate) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("student: LearningRate = %v, must be a positive finite number", c.LearningRate)
	case c.WeightDecay < 0 || math.IsNaN(c.WeightDecay) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("student: WeightDecay = %v, must be a finite number >= 0", c.WeightDecay)
	case c.Pairwise && c.Head != HeadLinear:
		return fmt.Errorf("student: a reward model on preference pairs takes a linear head, not %q (an MLP on φ(A) − φ(B) is not a reward of one response)", c.Head)
	}
	return nil
}

// probeHashVersion names the probe's training protocol in Hash; it kept
// the name of the package the probes used to live in, so that keys of
// results computed before the move (which are bit-identical) stay valid.
const probeHashVersion = "train/v1"

// Hash returns a stable 16-hex-digit identifier of the settings after
// defaults are filled, for caching results: ProbeConfig{Head: "linear"}
// and DefaultProbeConfig("linear") with the same Seed, WeightDecay and
// Standardize hash alike; Hidden is excluded for the linear head.
func (c ProbeConfig) Hash() string {
	c = c.withDefaults()
	s := probeHashVersion +
		"|head=" + c.Head +
		"|hidden=" + strconv.Itoa(c.Hidden) +
		"|epochs=" + strconv.Itoa(c.Epochs) +
		"|batch=" + strconv.Itoa(c.BatchSize) +
		"|lr=" + strconv.FormatFloat(c.LearningRate, 'g', -1, 64) +
		"|wd=" + strconv.FormatFloat(c.WeightDecay, 'g', -1, 64) +
		"|seed=" + strconv.FormatInt(c.Seed, 10) +
		"|std=" + strconv.FormatBool(c.Standardize)
	if c.ClassBalanced {
		// Only when set, so that every unweighted probe keeps its hash.
		s += "|balanced=true"
	}
	if c.Pairwise {
		s += "|pairwise=true"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// probeStepsPerCall: a head's step is cheap, so one graph call runs 8 of
// them and amortises the call's fixed host cost.
const probeStepsPerCall = 8

// Train returns the trainer's configuration of the probe.
func (c ProbeConfig) Train() train.Config {
	c = c.withDefaults()
	return train.Config{
		Epochs: c.Epochs, BatchSize: c.BatchSize, LearningRate: c.LearningRate, WeightDecay: c.WeightDecay,
		Schedule: train.WarmupCosine, StepsPerCall: probeStepsPerCall, Seed: c.Seed,
	}
}

// FitProbe trains a probe on features x [N, D] with targets [N, K] (soft
// labels, or data.OneHot of hard ones) and soft cross-entropy. It is what a
// method's auxiliary probes (P(IK), specialists, ensemble members,
// bootstrap rungs, critics) use.
//
// With cfg.ClassBalanced the loss is weighted by inverse class frequency.
func FitProbe(ctx context.Context, x, targets data.Matrix, cfg ProbeConfig) (*ProbeModel, error) {
	o := train.Objective{Targets: targets}
	if cfg.ClassBalanced {
		var err error
		if o, err = train.ClassBalanced(o); err != nil {
			return nil, fmt.Errorf("student: %w", err)
		}
	}
	m, _, err := fitProbe(ctx, x, o, cfg, cfg.Train())
	return m, err
}

// FitProbeLabels is FitProbe with hard labels: labels[i] in [0, k) is the
// class of row i of x. It is exactly FitProbe(ctx, x, data.OneHot(labels, k), cfg).
func FitProbeLabels(ctx context.Context, x data.Matrix, labels []int, k int, cfg ProbeConfig) (*ProbeModel, error) {
	for i, y := range labels {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("student: label %d of row %d is outside [0, %d)", y, i, k)
		}
	}
	return FitProbe(ctx, x, data.OneHot(labels, k), cfg)
}

// fitProbe trains a head of architecture arch on x for o with tcfg.
func fitProbe(ctx context.Context, x data.Matrix, o train.Objective, arch ProbeConfig, tcfg train.Config) (*ProbeModel, *train.Result, error) {
	net, err := newProbeNet(arch, x, o.Rows, o.Targets.Cols)
	if err != nil {
		return nil, nil, err
	}
	res, err := train.Fit(ctx, net, o, tcfg)
	if err != nil {
		return nil, nil, err
	}
	m, err := net.model(res)
	return m, res, err
}

// headPair is the architecture of a pairwise probe (ProbeConfig.Pairwise):
// a linear head without a bias.
const headPair = "pair"

// headKind is the architecture a configuration trains: its head, or
// headPair for a pairwise probe.
func headKind(c ProbeConfig) string {
	if c.Pairwise {
		return headPair
	}
	return c.Head
}

// paramSpec describes one parameter array of a head.
type paramSpec struct {
	dims  []int
	fanIn int  // for initialisation; 0 for biases (initialised to zero).
	decay bool // weight decay applies (weight matrices only).
}

// paramSpecs lists a head's parameters in storage order:
//
//	linear: Wᵀ [K, D], b [K]
//	pair:   Wᵀ [K, D] (the pairwise reward head: no bias)
//	mlp:    W1 [D, H], b1 [H], W2ᵀ [K, H], b2 [K]
//
// Output layers are stored transposed ([K, in]) for the Go backend's sake:
// its dot product is fast only when the left operand contracts its last axis,
// and it runs without SIMD when the right operand's free axis is small (K = 2
// here). With Wᵀ the forward pass (x·W contracts the last axis of both) and
// the weight gradient (dzᵀ·x, free axis D) take the fast paths with no
// transpose of [batch, D] activations.
func paramSpecs(kind string, dim, hidden, k int) []paramSpec {
	if kind == headPair {
		return []paramSpec{{dims: []int{k, dim}, fanIn: dim, decay: true}}
	}
	if kind == HeadLinear {
		return []paramSpec{{dims: []int{k, dim}, fanIn: dim, decay: true}, {dims: []int{k}}}
	}
	return []paramSpec{
		{dims: []int{dim, hidden}, fanIn: dim, decay: true},
		{dims: []int{hidden}},
		{dims: []int{k, hidden}, fanIn: hidden, decay: true},
		{dims: []int{k}},
	}
}

// probeNet is a head bound to standardised features: the train.Net of a
// probe. It differentiates itself (train.GradNet).
type probeNet struct {
	cfg          ProbeConfig // defaults filled
	kind         string      // headKind(cfg)
	x            data.Matrix // [N, D] features as given
	xs           []float32   // [N·D] standardised
	k            int
	mean, invStd []float32 // [D]; nil without standardisation
	specs        []paramSpec
	vars         []*model.Variable
	init         [][]float32 // warm start (FitFrom): initial values instead of random ones
}

// newProbeNet binds a head to x [N, D] for k classes; the standardisation
// statistics come from the training rows (nil: all).
func newProbeNet(cfg ProbeConfig, x data.Matrix, rows []int, k int) (*probeNet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkFeatures(x); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := &probeNet{cfg: cfg, kind: headKind(cfg), x: x, k: k}
	if cfg.Standardize {
		n.mean, n.invStd = columnStats(x, rows)
		if cfg.Pairwise {
			// Scaled, not centred: z(−d) = −z(d), so swapping the sides
			// negates the features exactly.
			clear(n.mean)
		}
	}
	n.xs = standardize(x, n.mean, n.invStd)
	n.specs = paramSpecs(n.kind, x.Cols, cfg.Hidden, k)
	return n, nil
}

// Init implements train.Net: parameters drawn on the host (see initParams).
func (n *probeNet) Init(scope *model.Scope, rng *rand.Rand) ([]train.Param, error) {
	init := n.init
	if init == nil {
		init = initParams(rng, n.specs)
	}
	params := make([]train.Param, len(n.specs))
	n.vars = make([]*model.Variable, len(n.specs))
	for i, sp := range n.specs {
		n.vars[i] = scope.VariableWithValue(fmt.Sprintf("p%d", i), tensors.FromFlatDataAndDimensions(init[i], sp.dims...))
		params[i] = train.Param{Var: n.vars[i], Group: train.GroupHead, Decay: sp.decay}
	}
	return params, nil
}

// Len implements train.Net.
func (n *probeNet) Len() int { return n.x.Rows }

// Feed implements train.Net: the batch's standardised features [B, D] and,
// for the MLP, their transpose [D, B], built on the host so that no weight
// gradient needs a transpose in the graph.
func (n *probeNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	return gatherFeatures(be, n.xs, n.x.Cols, rows, n.cfg.Head == HeadMLP)
}

func (n *probeNet) paramNodes(g *Graph) []*Node {
	p := make([]*Node, len(n.vars))
	for i, v := range n.vars {
		p[i] = v.NodeValue(g)
	}
	return p
}

// Logits implements train.Net.
func (n *probeNet) Logits(_ *model.Scope, fed []*Node) *Node {
	return forward(n.kind, n.paramNodes(fed[0].Graph()), fed[0])
}

// LossAndGrads implements train.GradNet with the hand-written gradients of
// lossAndGradients.
func (n *probeNet) LossAndGrads(_ *model.Scope, fed []*Node, lossOf func(*Node) *Node) (*Node, []*Node) {
	var xT *Node
	if len(fed) > 1 {
		xT = fed[1]
	}
	return lossAndGradients(n.kind, n.paramNodes(fed[0].Graph()), fed[0], xT, lossOf)
}

// Fingerprint implements train.Net: the settings and the standardised
// features.
func (n *probeNet) Fingerprint() string {
	h := sha.New()
	fmt.Fprintf(h, "probe|%s|k=%d|n=%d|d=%d|", n.cfg.Hash(), n.k, n.x.Rows, n.x.Cols)
	var b [4]byte
	if n.init != nil { // a warm start: its initial values are part of the net
		h.Write([]byte("warm|"))
		for _, p := range n.init {
			for _, v := range p {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
				h.Write(b[:])
			}
		}
	}
	for _, v := range n.xs {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// model reads the trained parameters out of the net.
func (n *probeNet) model(res *train.Result) (*ProbeModel, error) {
	m := &ProbeModel{kind: n.kind, dim: n.x.Cols, k: n.k, hidden: n.cfg.Hidden, mean: n.mean, invStd: n.invStd,
		cfgHash: n.cfg.Hash(), trainLoss: res.FinalLoss()}
	m.params = make([][]float32, len(n.vars))
	for i, v := range n.vars {
		val, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("student: reading trained parameter %d: %w", i, err)
		}
		if m.params[i], err = tensors.CopyFlatData[float32](val); err != nil {
			return nil, fmt.Errorf("student: copying trained parameter %d: %w", i, err)
		}
	}
	return m, nil
}

// hiddenPre returns the MLP's hidden pre-activation x·W1 + b1: [batch, H].
func hiddenPre(p []*Node, x *Node) *Node {
	return Add(MatMul(x, p[0]), ExpandAxes(p[1], 0))
}

// affineT returns x·W + b [batch, out] for x [batch, in], Wᵀ [out, in] and b [out].
func affineT(x, wT, b *Node) *Node {
	return Add(DotGeneral(x, []int{1}, nil, wT, []int{1}, nil), ExpandAxes(b, 0))
}

// relu is max(x, 0); ReLU rather than GELU because erf is slow on the Go
// backend and the heads are shallow.
func relu(x *Node) *Node { return Max(x, ScalarZero(x.Graph(), x.DType())) }

// forward computes logits [batch, K] from features x [batch, D] and the
// parameter nodes in paramSpecs order.
func forward(kind string, p []*Node, x *Node) *Node {
	if kind == headPair {
		return DotGeneral(x, []int{1}, nil, p[0], []int{1}, nil)
	}
	if kind == HeadLinear {
		return affineT(x, p[0], p[1])
	}
	return affineT(relu(hiddenPre(p, x)), p[2], p[3])
}

// lossAndGradients computes the loss of a batch and its gradient with respect
// to each parameter (paramSpecs order). x [batch, D] are the features, xT
// [D, batch] their transpose (MLP only; nil for linear).
//
// Automatic differentiation is used only from the loss back to the logits
// (so any loss works); the two dense layers are differentiated by hand,
// which lets every weight gradient be a plain matrix product whose left
// operand contracts its last axis (dzᵀ·x, xT·dpre, dzᵀ·h). GoMLX's generic
// VJP of a matmul contracts the batch axis of both operands and makes the Go
// backend transpose [batch, D] activations and the [D, H] gradient at every
// step, which cost more than the products themselves. TestManualGradients
// checks these against graph.Gradient.
func lossAndGradients(kind string, p []*Node, x, xT *Node, lossOf func(*Node) *Node) (loss *Node, grads []*Node) {
	if kind == headPair {
		loss, dz := lossAndLogitGradient(lossOf, forward(kind, p, x))
		return loss, []*Node{MatMul(Transpose(dz, 0, 1), x)}
	}
	if kind == HeadLinear {
		z := affineT(x, p[0], p[1])
		loss, dz := lossAndLogitGradient(lossOf, z)
		return loss, []*Node{MatMul(Transpose(dz, 0, 1), x), ReduceSum(dz, 0)}
	}
	pre := hiddenPre(p, x) // [batch, H]
	h := relu(pre)
	z := affineT(h, p[2], p[3])
	loss, dz := lossAndLogitGradient(lossOf, z) // dz [batch, K]
	dW2T := MatMul(Transpose(dz, 0, 1), h)      // [K, H]; the transpose is of a tiny [batch, K].
	dh := MatMul(dz, p[2])                      // [batch, H]
	dpre := Mul(dh, ConvertDType(GreaterThan(pre, ScalarZero(pre.Graph(), pre.DType())), dtypes.Float32))
	return loss, []*Node{MatMul(xT, dpre), ReduceSum(dpre, 0), dW2T, ReduceSum(dz, 0)}
}

// lossAndLogitGradient evaluates the loss and its gradient with respect to
// the logits z [batch, K].
func lossAndLogitGradient(lossOf func(*Node) *Node, z *Node) (loss, dz *Node) {
	loss = lossOf(z)
	return loss, Gradient(loss, z)[0]
}

// initParams draws initial parameters: weight matrices uniform in
// ±1/sqrt(fanIn) (PyTorch's nn.Linear default, so the reference benchmark
// starts from the same distribution), biases zero. Drawing on the host with
// PCG makes the initialisation independent of the backend.
func initParams(rng *rand.Rand, specs []paramSpec) [][]float32 {
	out := make([][]float32, len(specs))
	for i, sp := range specs {
		out[i] = make([]float32, product(sp.dims))
		if sp.fanIn == 0 {
			continue
		}
		bound := 1 / math.Sqrt(float64(sp.fanIn))
		for j := range out[i] {
			out[i][j] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	return out
}

// gatherFeatures copies the given rows of xs [N, d] into new tensors:
// features [batch, d] and, if withT, their transpose [d, batch].
//
// With backends that share host memory (the Go backend) the tensors are
// written in place in device buffers, from the backend's pool: building local
// tensors and materialising them on the device cost an allocation, a page
// clear and a copy per input per step, as much as the transposition itself.
func gatherFeatures(be compute.Backend, xs []float32, d int, rows []int, withT bool) ([]*tensors.Tensor, error) {
	batch := len(rows)
	xb, err := tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, batch, d))
	if err != nil {
		return nil, err
	}
	tensors.MustMutableFlatData(xb, func(flat []float32) {
		for i, r := range rows {
			copy(flat[i*d:(i+1)*d], xs[r*d:(r+1)*d])
		}
	})
	if !withT {
		return []*tensors.Tensor{xb}, nil
	}
	xbT, err := tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, d, batch))
	if err != nil {
		xb.FinalizeAll()
		return nil, err
	}
	tensors.MustMutableFlatData(xbT, func(out []float32) {
		// Blocks of 8 rows: 8 sequential read streams and 8 adjacent writes
		// per column, instead of one write per cache line.
		const block = 8
		for b0 := 0; b0 < batch; b0 += block {
			nb := min(block, batch-b0)
			var src [block][]float32
			for bb := range nb {
				r := rows[b0+bb]
				src[bb] = xs[r*d : (r+1)*d]
			}
			for j := range d {
				o := out[j*batch+b0 : j*batch+b0+nb]
				for bb := range o {
					o[bb] = src[bb][j]
				}
			}
		}
	})
	return []*tensors.Tensor{xb, xbT}, nil
}

// columnStats returns the per-column mean and 1/std of the rows of x [N, D]
// (nil: all rows), computed in float64 (two passes, so large offsets do not
// cancel). Columns whose std is below 1e-7 of max(1, |mean|) are constant
// for practical purposes: their scale is 1, so standardising only centres
// them.
func columnStats(x data.Matrix, rows []int) (mean, invStd []float32) {
	d := x.Cols
	each := func(f func(row []float32)) {
		if rows == nil {
			for i := 0; i < x.Rows; i++ {
				f(x.Row(i))
			}
			return
		}
		for _, i := range rows {
			f(x.Row(i))
		}
	}
	n := x.Rows
	if rows != nil {
		n = len(rows)
	}
	sum := make([]float64, d)
	each(func(row []float32) {
		for j, v := range row {
			sum[j] += float64(v)
		}
	})
	mu := make([]float64, d)
	for j := range mu {
		mu[j] = sum[j] / float64(n)
	}
	sq := make([]float64, d)
	each(func(row []float32) {
		for j, v := range row {
			dv := float64(v) - mu[j]
			sq[j] += dv * dv
		}
	})
	mean = make([]float32, d)
	invStd = make([]float32, d)
	for j := range mu {
		mean[j] = float32(mu[j])
		std := math.Sqrt(sq[j] / float64(n))
		if std < 1e-7*math.Max(1, math.Abs(mu[j])) {
			invStd[j] = 1
		} else {
			invStd[j] = float32(1 / std)
		}
	}
	return mean, invStd
}

// standardize returns a copy of x [N, D] with (x - mean)·invStd applied per
// column, or x's values unchanged (not copied) when mean is nil. Train and
// predict share it so that both see bit-identical inputs.
func standardize(x data.Matrix, mean, invStd []float32) []float32 {
	if mean == nil {
		return x.Values
	}
	out := make([]float32, len(x.Values))
	d := x.Cols
	for i := 0; i < x.Rows; i++ {
		row := x.Values[i*d : (i+1)*d]
		o := out[i*d : (i+1)*d]
		for j, v := range row {
			o[j] = (v - mean[j]) * invStd[j]
		}
	}
	return out
}

// checkFeatures validates the shape and values of features [N, D].
func checkFeatures(x data.Matrix) error {
	if x.Rows == 0 || x.Cols == 0 {
		return fmt.Errorf("student: empty features [%d, %d]", x.Rows, x.Cols)
	}
	if len(x.Values) != x.Rows*x.Cols {
		return fmt.Errorf("student: features hold %d values, want %d×%d", len(x.Values), x.Rows, x.Cols)
	}
	for i, v := range x.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("student: features row %d column %d is %v", i/x.Cols, i%x.Cols, v)
		}
	}
	return nil
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}
