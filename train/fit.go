package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
)

// stepsPerCall is how many optimiser steps one execution of the training
// graph runs (unrolled). Each call has a fixed host-side cost (argument
// set-up, output collection, variable swapping) that is comparable to a whole
// step of a small head; running several steps per call amortises it.
const stepsPerCall = 8

// targetSumTolerance is how far a target row's sum may be from 1: soft labels
// produced in float32 by a softmax are within ~1e-6 of 1; anything off by more
// than 1e-3 is a bug upstream (unnormalised scores, wrong column count).
const targetSumTolerance = 1e-3

// Fit trains a head on features x [N, D] with targets [N, K], whose rows are
// probability vectors (soft labels; pass data.OneHot(labels, K) for hard
// labels), and returns it.
//
// Training is minibatch Adam with decoupled weight decay on the weight
// matrices, linear warm-up then cosine decay of the learning rate, for a fixed
// number of epochs. The batch order is a fresh permutation per epoch drawn from
// a PCG generator seeded with cfg.Seed; the last batch of an epoch is
// completed with examples from the start of that epoch's permutation, so every
// step sees a full batch and the graph is compiled once (plus once for a
// shorter final call when the number of steps is not a multiple of
// stepsPerCall). Parameters are initialised on the host from the same seed.
// Same inputs, config and seed give bit-identical heads on the same machine
// and backend.
//
// ctx is checked between graph calls (every stepsPerCall steps).
func Fit(ctx context.Context, x data.Matrix, targets data.Matrix, cfg Config) (*Head, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := checkTrainingData(x, targets); err != nil {
		return nil, err
	}
	backend, err := Backend()
	if err != nil {
		return nil, err
	}
	n, d, k := x.Rows, x.Cols, targets.Cols

	h := &Head{kind: cfg.Head, dim: d, k: k, cfgHash: cfg.Hash()}
	if cfg.Head == HeadMLP {
		h.hidden = cfg.Hidden
	}
	if cfg.Standardize {
		h.mean, h.invStd = columnStats(x)
	}
	xs := standardize(x, h.mean, h.invStd)

	batch := min(cfg.BatchSize, n)
	stepsPerEpoch := (n + batch - 1) / batch
	totalSteps := cfg.Epochs * stepsPerEpoch
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed_cafe_f00d))

	// Parameters and Adam moments live in a model.Store so that model.Exec
	// feeds them to the graph and stores the updated values after each call.
	store := model.NewStore()
	scope := store.RootScope()
	specs := paramSpecs(cfg.Head, d, h.hidden, k)
	init := initParams(rng, specs)
	params := make([]*model.Variable, len(specs))
	moment1 := make([]*model.Variable, len(specs))
	moment2 := make([]*model.Variable, len(specs))
	for i, sp := range specs {
		params[i] = scope.VariableWithValue(fmt.Sprintf("p%d", i), tensors.FromFlatDataAndDimensions(init[i], sp.dims...))
		zeros := make([]float32, len(init[i]))
		moment1[i] = scope.VariableWithValue(fmt.Sprintf("m%d", i), tensors.FromFlatDataAndDimensions(zeros, sp.dims...)).SetTrainable(false)
		moment2[i] = scope.VariableWithValue(fmt.Sprintf("v%d", i), tensors.FromFlatDataAndDimensions(zeros, sp.dims...)).SetTrainable(false)
	}

	lossFn := cfg.Loss
	if lossFn == nil {
		lossFn = SoftCrossEntropy
	}
	wd := cfg.WeightDecay

	// Per step, the graph takes the batch features [batch, D], for the MLP
	// the same transposed [D, batch] (built on the host so that no weight
	// gradient needs a transpose in the graph), and the targets [batch, K].
	perStep := 2
	if cfg.Head == HeadMLP {
		perStep = 3
	}

	// trainSteps runs (len(inputs)-1)/perStep optimiser steps. inputs[0] is
	// sched [steps, 4]: the learning rate, Adam's bias corrections
	// 1/(1-β1^t) and 1/(1-β2^t), and the progress t/totalSteps (read only by
	// a ProgressLoss) of each step; then come the per-step inputs.
	// Each step gets its own inputs rather than slices of one [steps, ...]
	// tensor because Slice is slow on the Go backend. It applies one AdamW
	// update per step and returns the per-step losses [steps].
	trainSteps := func(_ *model.Scope, inputs []*Node) *Node {
		sched := inputs[0]
		g := sched.Graph()
		numSteps := (len(inputs) - 1) / perStep
		p := make([]*Node, len(params))
		m := make([]*Node, len(params))
		v := make([]*Node, len(params))
		for i := range params {
			p[i], m[i], v[i] = params[i].NodeValue(g), moment1[i].NodeValue(g), moment2[i].NodeValue(g)
		}
		beta1 := Scalar(g, dtypes.Float32, adamBeta1)
		beta2 := Scalar(g, dtypes.Float32, adamBeta2)
		oneMinusBeta1 := Scalar(g, dtypes.Float32, 1-adamBeta1)
		oneMinusBeta2 := Scalar(g, dtypes.Float32, 1-adamBeta2)
		eps := Scalar(g, dtypes.Float32, adamEpsilon)
		losses := make([]*Node, numSteps)
		for s := range numSteps {
			in := inputs[1+perStep*s : 1+perStep*(s+1)]
			stepLoss := lossFn
			if cfg.ProgressLoss != nil {
				progress := Reshape(Slice(sched, AxisElem(s), AxisElem(3)))
				stepLoss = func(logits, targets *Node) *Node { return cfg.ProgressLoss(logits, targets, progress) }
			}
			var loss *Node
			var grads []*Node
			if perStep == 3 {
				loss, grads = lossAndGradients(cfg.Head, p, in[0], in[1], in[2], stepLoss)
			} else {
				loss, grads = lossAndGradients(cfg.Head, p, in[0], nil, in[1], stepLoss)
			}
			losses[s] = loss
			lr := Reshape(Slice(sched, AxisElem(s), AxisElem(0)))
			c1 := Reshape(Slice(sched, AxisElem(s), AxisElem(1)))
			c2 := Reshape(Slice(sched, AxisElem(s), AxisElem(2)))
			for i := range p {
				gr := grads[i]
				m[i] = Add(Mul(beta1, m[i]), Mul(oneMinusBeta1, gr))
				v[i] = Add(Mul(beta2, v[i]), Mul(oneMinusBeta2, Mul(gr, gr)))
				delta := Div(Mul(m[i], c1), Add(Sqrt(Mul(v[i], c2)), eps))
				if specs[i].decay && wd > 0 {
					// Decoupled decay (AdamW): shrink the weights directly instead of
					// adding wd·w to the gradient, where Adam's normalisation would
					// undo it.
					delta = Add(delta, MulScalar(p[i], wd))
				}
				p[i] = Sub(p[i], Mul(lr, delta))
			}
		}
		for i := range params {
			params[i].SetNodeValue(p[i])
			moment1[i].SetNodeValue(m[i])
			moment2[i].SetNodeValue(v[i])
		}
		return Stack(losses, 0)
	}
	exec, err := model.NewExec(backend, store, trainSteps)
	if err != nil {
		return nil, fmt.Errorf("train: building training graph: %w", err)
	}
	defer exec.Finalize()

	order := batchOrder(rng, n, batch, cfg.Epochs) // [totalSteps*batch]
	warmup := max(1, int(math.Round(warmupFraction*float64(totalSteps))))
	var lastEpochLoss float64
	for start := 0; start < totalSteps; start += stepsPerCall {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train: fit interrupted at step %d of %d: %w", start, totalSteps, err)
		}
		steps := min(stepsPerCall, totalSteps-start)
		args := make([]any, 1, 1+perStep*steps)
		sched := make([]float32, 4*steps)
		for s := range steps {
			t := start + s
			sched[4*s] = float32(learningRate(cfg.LearningRate, t, warmup, totalSteps))
			sched[4*s+1] = float32(1 / (1 - math.Pow(adamBeta1, float64(t+1))))
			sched[4*s+2] = float32(1 / (1 - math.Pow(adamBeta2, float64(t+1))))
			sched[4*s+3] = float32(Progress(t, totalSteps))
		}
		args[0] = tensors.FromFlatDataAndDimensions(sched, steps, 4)
		for s := range steps {
			rows := order[(start+s)*batch : (start+s+1)*batch]
			xb, xbT, tb, err := gatherBatch(backend, xs, d, targets.Values, k, rows, perStep == 3)
			if err != nil {
				return nil, fmt.Errorf("train: allocating batch tensors: %w", err)
			}
			if xbT != nil {
				args = append(args, xb, xbT, tb)
			} else {
				args = append(args, xb, tb)
			}
		}
		lossT, err := callModelExec(exec, args...)
		for _, a := range args {
			a.(*tensors.Tensor).FinalizeAll()
		}
		if err != nil {
			return nil, fmt.Errorf("train: step %d of %d: %w", start, totalSteps, err)
		}
		var bad error
		err = tensors.ConstFlatData(lossT, func(flat []float32) {
			for s, l := range flat {
				t := start + s
				if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
					bad = fmt.Errorf("train: loss is %v at step %d (epoch %d): lower LearningRate?", l, t, t/stepsPerEpoch)
					return
				}
				if t >= totalSteps-stepsPerEpoch {
					lastEpochLoss += float64(l)
				}
			}
		})
		lossT.FinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("train: reading losses: %w", err)
		}
		if bad != nil {
			return nil, bad
		}
	}
	h.trainLoss = lastEpochLoss / float64(min(stepsPerEpoch, totalSteps))

	h.params = make([][]float32, len(params))
	for i, v := range params {
		val, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("train: reading trained parameter %d: %w", i, err)
		}
		h.params[i], err = tensors.CopyFlatData[float32](val)
		if err != nil {
			return nil, fmt.Errorf("train: copying trained parameter %d: %w", i, err)
		}
	}
	return h, nil
}

// Progress is the value a ProgressLossFunc sees at 0-based step t of total:
// t/total, the openai/weak-to-strong step_frac.
func Progress(t, total int) float64 { return float64(t) / float64(total) }

// callModelExec runs the training graph, turning GoMLX panics (shape errors
// in a user LossFunc, backend failures) into errors.
func callModelExec(exec *model.Exec, args ...any) (t *tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	return exec.Call1(args...)
}

// learningRate at step t (0-based) of total: linear warm-up to peak over
// warmup steps, then cosine decay from peak (at t = warmup) to
// peak·(1-cos(π/(total-warmup)))/2 ≈ 0 at the last step.
func learningRate(peak float64, t, warmup, total int) float64 {
	if t < warmup {
		return peak * float64(t+1) / float64(warmup)
	}
	progress := float64(t-warmup) / float64(max(1, total-warmup))
	return peak * 0.5 * (1 + math.Cos(math.Pi*math.Min(progress, 1)))
}

// batchOrder returns the row indices of every step, concatenated: per epoch a
// fresh permutation of 0..n-1, cut into ceil(n/batch) batches, the last one
// completed with the first rows of the same permutation.
func batchOrder(rng *rand.Rand, n, batch, epochs int) []int32 {
	stepsPerEpoch := (n + batch - 1) / batch
	out := make([]int32, 0, epochs*stepsPerEpoch*batch)
	perm := make([]int32, n)
	for range epochs {
		for i := range perm {
			perm[i] = int32(i)
		}
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		out = append(out, perm...)
		out = append(out, perm[:stepsPerEpoch*batch-n]...)
	}
	return out
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

// gatherBatch copies the given rows into new tensors: features xb [batch,
// D], if withT their transpose xbT [D, batch] (else nil) and targets tb
// [batch, K].
//
// With backends that share host memory (the Go backend) the tensors are
// written in place in device buffers, from the backend's pool: building local
// tensors and materialising them on the device cost an allocation, a page
// clear and a copy per input per step, as much as the transposition itself.
func gatherBatch(backend compute.Backend, xs []float32, d int, ts []float32, k int, rows []int32, withT bool) (xb, xbT, tb *tensors.Tensor, err error) {
	batch := len(rows)
	if xb, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, batch, d)); err != nil {
		return nil, nil, nil, err
	}
	tensors.MustMutableFlatData(xb, func(flat []float32) {
		for i, r := range rows {
			copy(flat[i*d:(i+1)*d], xs[int(r)*d:int(r+1)*d])
		}
	})
	if tb, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, batch, k)); err != nil {
		return nil, nil, nil, err
	}
	tensors.MustMutableFlatData(tb, func(flat []float32) {
		for i, r := range rows {
			copy(flat[i*k:(i+1)*k], ts[int(r)*k:int(r+1)*k])
		}
	})
	if !withT {
		return xb, nil, tb, nil
	}
	if xbT, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, d, batch)); err != nil {
		return nil, nil, nil, err
	}
	tensors.MustMutableFlatData(xbT, func(out []float32) {
		// Blocks of 8 rows: 8 sequential read streams and 8 adjacent writes
		// per column, instead of one write per cache line.
		const block = 8
		for b0 := 0; b0 < batch; b0 += block {
			nb := min(block, batch-b0)
			var src [block][]float32
			for bb := range nb {
				r := int(rows[b0+bb])
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
	return xb, xbT, tb, nil
}

// columnStats returns the per-column mean and 1/std of x [N, D], computed in
// float64 (two passes, so large offsets do not cancel). Columns whose std is
// below 1e-7 of max(1, |mean|) are constant for practical purposes: their
// scale is 1, so standardising only centres them.
func columnStats(x data.Matrix) (mean, invStd []float32) {
	d := x.Cols
	sum := make([]float64, d)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			sum[j] += float64(v)
		}
	}
	mu := make([]float64, d)
	for j := range mu {
		mu[j] = sum[j] / float64(x.Rows)
	}
	sq := make([]float64, d)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			dv := float64(v) - mu[j]
			sq[j] += dv * dv
		}
	}
	mean = make([]float32, d)
	invStd = make([]float32, d)
	for j := range mu {
		mean[j] = float32(mu[j])
		std := math.Sqrt(sq[j] / float64(x.Rows))
		if std < 1e-7*math.Max(1, math.Abs(mu[j])) {
			invStd[j] = 1
		} else {
			invStd[j] = float32(1 / std)
		}
	}
	return mean, invStd
}

// checkTrainingData validates shapes and values of features [N, D] and
// targets [N, K].
func checkTrainingData(x, targets data.Matrix) error {
	if x.Rows == 0 || x.Cols == 0 {
		return fmt.Errorf("train: empty features [%d, %d]", x.Rows, x.Cols)
	}
	if len(x.Values) != x.Rows*x.Cols {
		return fmt.Errorf("train: features hold %d values, want %d×%d", len(x.Values), x.Rows, x.Cols)
	}
	if targets.Rows != x.Rows {
		return fmt.Errorf("train: %d feature rows but %d target rows", x.Rows, targets.Rows)
	}
	if targets.Cols < 2 {
		return fmt.Errorf("train: targets have %d columns, need K >= 2 classes", targets.Cols)
	}
	if len(targets.Values) != targets.Rows*targets.Cols {
		return fmt.Errorf("train: targets hold %d values, want %d×%d", len(targets.Values), targets.Rows, targets.Cols)
	}
	if err := checkFinite("features", x); err != nil {
		return err
	}
	for i := 0; i < targets.Rows; i++ {
		var sum float64
		for j, v := range targets.Row(i) {
			if !(v >= 0 && v <= 1) { // also catches NaN
				return fmt.Errorf("train: target row %d column %d is %v, want a probability in [0, 1]", i, j, v)
			}
			sum += float64(v)
		}
		if math.Abs(sum-1) > targetSumTolerance {
			return fmt.Errorf("train: target row %d sums to %.6g, want 1 (rows are probability vectors; use data.OneHot for labels)", i, sum)
		}
	}
	return nil
}

// checkFinite reports the first NaN or infinite value of m.
func checkFinite(what string, m data.Matrix) error {
	for i, v := range m.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("train: %s row %d column %d is %v", what, i/m.Cols, i%m.Cols, v)
		}
	}
	return nil
}

// FitLabels is Fit with hard labels: labels[i] in [0, k) is the class of row
// i of x [N, D]. It is exactly Fit(ctx, x, data.OneHot(labels, k), cfg).
func FitLabels(ctx context.Context, x data.Matrix, labels []int, k int, cfg Config) (*Head, error) {
	for i, y := range labels {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("train: label %d of row %d is outside [0, %d)", y, i, k)
		}
	}
	return Fit(ctx, x, data.OneHot(labels, k), cfg)
}
