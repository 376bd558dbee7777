package train

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/sha"
)

// Objective is what one Fit minimises: the mean over training rows of
// Weights[i] · Loss(logits_i, Targets_i). A weak-to-strong method is an
// objective (or a sequence of them): naive sets the weak labels as targets,
// a filter sets Rows, a confidence loss sets Loss.
type Objective struct {
	// Targets [N, K] are probability vectors, one per example of the net
	// (soft labels, or data.OneHot of hard ones). Only the Rows are read.
	Targets data.Matrix
	// Rows are the examples to train on (indices into Targets and the
	// net); nil means all N.
	Rows []int
	// Weights [N] scale each example's loss; nil means 1. They are
	// normalised to mean 1 over Rows, so they change the mix, not the
	// learning rate.
	Weights []float32
	// Loss is the per-example loss; the zero Loss is SoftCrossEntropy.
	Loss Loss
}

// Loss is a per-example training loss built from graph ops.
type Loss struct {
	// Name identifies the loss in checkpoint keys: two losses with one name
	// must compute the same thing. "" is SoftCrossEntropy.
	Name string
	// PerExample maps logits [B, K], targets [B, K] and the training
	// progress (a float32 scalar t/totalSteps for the 0-based step t, the
	// openai/weak-to-strong step_frac) to losses [B]. nil is
	// SoftCrossEntropy.
	PerExample func(logits, targets, progress *Node) *Node
	// BatchStatistics says the loss of one example depends on the other
	// examples of its batch (a quantile threshold, a count). Such a loss is
	// given randomly composed batches, never batches grouped by length.
	// Batches never contain padding rows, whatever the loss.
	BatchStatistics bool
}

func (l Loss) perExample() func(logits, targets, progress *Node) *Node {
	if l.PerExample == nil {
		return func(logits, targets, _ *Node) *Node { return SoftCrossEntropy(logits, targets) }
	}
	return l.PerExample
}

// SoftCrossEntropy is the default loss: −Σ_k targets[b,k]·log softmax(logits)[b,k]
// per example, logits and targets [B, K] → [B]. With soft targets its
// minimum is the targets' entropy, reached when softmax(logits) == targets;
// the gradient of its batch mean with respect to the logits is
// (softmax − targets)/B.
func SoftCrossEntropy(logits, targets *Node) *Node {
	logp := LogSoftmax(logits, -1)                // [B, K]
	return Neg(ReduceSum(Mul(targets, logp), -1)) // [B]
}

// targetSumTolerance is how far a target row's sum may be from 1: soft labels
// produced in float32 by a softmax are within ~1e-6 of 1; anything off by more
// than 1e-3 is a bug upstream (unnormalised scores, wrong column count).
const targetSumTolerance = 1e-3

// resolve checks the objective against a net of n examples and returns its
// training rows and weights normalised to mean 1 over them (nil when all 1).
func (o Objective) resolve(n int) (rows []int, weights []float32, err error) {
	if o.Targets.Rows != n {
		return nil, nil, fmt.Errorf("train: %d examples but %d target rows", n, o.Targets.Rows)
	}
	if o.Targets.Cols < 2 {
		return nil, nil, fmt.Errorf("train: targets have %d columns, need K >= 2 classes", o.Targets.Cols)
	}
	if len(o.Targets.Values) != o.Targets.Rows*o.Targets.Cols {
		return nil, nil, fmt.Errorf("train: targets hold %d values, want %d×%d", len(o.Targets.Values), o.Targets.Rows, o.Targets.Cols)
	}
	rows = o.Rows
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("train: no rows to train on")
	}
	for _, i := range rows {
		if i < 0 || i >= n {
			return nil, nil, fmt.Errorf("train: row %d outside the %d examples", i, n)
		}
		var sum float64
		for j, v := range o.Targets.Row(i) {
			if !(v >= 0 && v <= 1) { // also catches NaN
				return nil, nil, fmt.Errorf("train: target row %d column %d is %v, want a probability in [0, 1]", i, j, v)
			}
			sum += float64(v)
		}
		if math.Abs(sum-1) > targetSumTolerance {
			return nil, nil, fmt.Errorf("train: target row %d sums to %.6g, want 1 (rows are probability vectors; use data.OneHot for labels)", i, sum)
		}
	}
	if o.Weights == nil {
		return rows, nil, nil
	}
	if len(o.Weights) != n {
		return nil, nil, fmt.Errorf("train: %d weights for %d examples", len(o.Weights), n)
	}
	var total float64
	for _, i := range rows {
		w := o.Weights[i]
		if !(w >= 0) || math.IsInf(float64(w), 0) {
			return nil, nil, fmt.Errorf("train: weight of row %d is %v, want a finite number >= 0", i, w)
		}
		total += float64(w)
	}
	if total == 0 {
		return nil, nil, fmt.Errorf("train: every training row has weight 0")
	}
	scale := float64(len(rows)) / total
	weights = make([]float32, n)
	for _, i := range rows {
		weights[i] = float32(float64(o.Weights[i]) * scale)
	}
	return rows, weights, nil
}

// ClassBalanced returns o with its weights multiplied by inverse class
// frequency, the --balance weight of every model a cell trains. Over the
// training rows R (o.Rows, nil for all) with base weights u (o.Weights,
// nil for 1), class k's mass is m_k = Σ_{i∈R} u_i·Targets[i,k], and with
// K' the classes of positive mass and U = Σ_{i∈R} u_i its weight is
// c_k = U/(K'·m_k). Row i's weight becomes u_i·Σ_k Targets[i,k]·c_k.
//
// So the weights still sum to U over R (their mean is unchanged), and with
// one-hot targets each present class weighs U/K' in all: a minority class
// counts as much as the majority. With soft targets (weak labels) a row's
// weight is the target-weighted mean of its classes' weights, each class
// computed from the soft mass the targets give it; for cross-entropy on
// one-hot targets this is exactly the class-weighted loss. A method's own
// weights (u) compose: the balance is taken after them. Rows outside R
// keep their base weight (they are not trained on). Targets must be
// probability vectors over R; a zero total weight is an error.
func ClassBalanced(o Objective) (Objective, error) {
	n, k := o.Targets.Rows, o.Targets.Cols
	if len(o.Targets.Values) != n*k {
		return o, fmt.Errorf("train: class balance: targets hold %d values, want %d×%d", len(o.Targets.Values), n, k)
	}
	if o.Weights != nil && len(o.Weights) != n {
		return o, fmt.Errorf("train: class balance: %d weights for %d examples", len(o.Weights), n)
	}
	rows := o.Rows
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	base := func(i int) float64 {
		if o.Weights == nil {
			return 1
		}
		return float64(o.Weights[i])
	}
	mass := make([]float64, k)
	total := 0.0
	for _, i := range rows {
		if i < 0 || i >= n {
			return o, fmt.Errorf("train: class balance: row %d outside the %d examples", i, n)
		}
		u := base(i)
		total += u
		for c, t := range o.Targets.Row(i) {
			mass[c] += u * float64(t)
		}
	}
	present := 0
	for _, m := range mass {
		if m > 0 {
			present++
		}
	}
	if !(total > 0) || present == 0 {
		return o, fmt.Errorf("train: class balance: the training rows have total weight %g", total)
	}
	classWeight := make([]float64, k)
	for c, m := range mass {
		if m > 0 {
			classWeight[c] = total / (float64(present) * m)
		}
	}
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(base(i))
	}
	for _, i := range rows {
		s := 0.0
		for c, t := range o.Targets.Row(i) {
			s += float64(t) * classWeight[c]
		}
		w[i] = float32(base(i) * s)
	}
	out := o
	out.Weights = w
	return out, nil
}

// Digest identifies what the objective asks for (targets, rows, weights,
// loss), for naming checkpoints.
func (o Objective) Digest() string { return hex.EncodeToString(o.hash()) }

// hash digests what the objective asks for: targets, rows, weights, loss.
func (o Objective) hash() []byte {
	h := sha.New()
	fmt.Fprintf(h, "objective-v1|loss=%q|batchstats=%t|k=%d|n=%d\n", o.Loss.Name, o.Loss.BatchStatistics, o.Targets.Cols, o.Targets.Rows)
	var buf [8]byte
	putFloats := func(v []float32) {
		for _, x := range v {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(x))
			h.Write(buf[:4])
		}
	}
	putFloats(o.Targets.Values)
	binary.LittleEndian.PutUint64(buf[:], uint64(len(o.Rows)))
	h.Write(buf[:])
	for _, r := range o.Rows {
		binary.LittleEndian.PutUint64(buf[:], uint64(r))
		h.Write(buf[:])
	}
	fmt.Fprintf(h, "|weights=%t|", o.Weights != nil)
	putFloats(o.Weights)
	return h.Sum(nil)
}

// LossGradient evaluates a loss's batch mean and its gradient with respect
// to the logits on the host's backend, outside training: logits and targets
// [B, K] → the scalar mean loss and d loss / d logits [B, K]. progress is
// fed to the loss's progress input. It lets a method's tests check a loss
// against its formula with the exact graph that training runs (for a loss
// SoftCrossEntropy(logits, StopGradient(target)), target = softmax(logits) -
// B·gradient).
func LossGradient(loss Loss, logits, targets data.Matrix, progress float64) (float64, data.Matrix, error) {
	if logits.Rows != targets.Rows || logits.Cols != targets.Cols || logits.Rows == 0 {
		return 0, data.Matrix{}, fmt.Errorf("train: LossGradient: logits [%d, %d] and targets [%d, %d] must have one non-empty shape",
			logits.Rows, logits.Cols, targets.Rows, targets.Cols)
	}
	be, err := backend.Get()
	if err != nil {
		return 0, data.Matrix{}, err
	}
	per := loss.perExample()
	exec, err := NewExec(be, func(z, t, p *Node) (*Node, *Node) {
		l := batchMean(per(z, t, p), nil)
		return l, Gradient(l, z)[0]
	})
	if err != nil {
		return 0, data.Matrix{}, fmt.Errorf("train: building loss graph: %w", err)
	}
	defer exec.Finalize()
	outs, err := callExec(func() []*tensors.Tensor {
		return exec.MustCall(
			tensors.FromFlatDataAndDimensions(slices.Clone(logits.Values), logits.Rows, logits.Cols),
			tensors.FromFlatDataAndDimensions(slices.Clone(targets.Values), targets.Rows, targets.Cols),
			float32(progress))
	})
	if err != nil {
		return 0, data.Matrix{}, fmt.Errorf("train: evaluating loss: %w", err)
	}
	lv := tensors.MustCopyFlatData[float32](outs[0])
	grad := data.Matrix{Rows: logits.Rows, Cols: logits.Cols, Values: tensors.MustCopyFlatData[float32](outs[1])}
	for _, o := range outs {
		o.FinalizeAll()
	}
	return float64(lv[0]), grad, nil
}

// batchMean is the training loss of a batch: the mean of per [B], weighted
// by weights [B] when given. It panics (caught by the caller) when a loss
// returns anything but one value per example.
func batchMean(per, weights *Node) *Node {
	if per.Rank() != 1 {
		panic(fmt.Errorf("train: loss returned shape %s, want one value per example [B]", per.Shape()))
	}
	if per.DType() != dtypes.Float32 {
		per = ConvertDType(per, dtypes.Float32)
	}
	if weights != nil {
		per = Mul(per, weights)
	}
	return ReduceAllMean(per)
}
