package train

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/internal/backend"
)

// Result describes a finished Fit. The trained values are in the net's
// variables.
type Result struct {
	// EpochLoss is the mean training loss of each epoch, measured on each
	// step's batch before its update. For SoftCrossEntropy it is bounded
	// below by the targets' mean entropy: compare the two to judge how
	// closely soft labels were fitted.
	EpochLoss []float64
	EpochTime []time.Duration
	Steps     int
	// ResumedAt is the step a checkpoint resumed from (0: a fresh start;
	// Steps: the checkpoint was finished and nothing was trained).
	ResumedAt int
}

// FinalLoss is the mean training loss of the last epoch.
func (r *Result) FinalLoss() float64 { return r.EpochLoss[len(r.EpochLoss)-1] }

// Fit trains net on objective o: minibatch AdamW (β = 0.9, 0.999, decoupled
// weight decay on Param.Decay parameters), one peak learning rate per
// parameter group under cfg.Schedule, for cfg.Epochs passes over o's rows.
//
// Every random choice comes from one PCG seeded with cfg.Seed: first the
// net's initialisation (Net.Init), then the batch order of every epoch. A
// batch is always full (see batchOrder), so the graph has one shape per
// padded length and a loss never sees a padding row. Same net, objective,
// configuration and seed give bit-identical parameters on one machine and
// backend; with cfg.Checkpoint set, a Fit interrupted at any point and run
// again continues from its last save to the same bits.
//
// ctx is checked between graph calls.
func Fit(ctx context.Context, net Net, o Objective, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rows, weights, err := o.resolve(net.Len())
	if err != nil {
		return nil, err
	}
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			if cfg.Name != "" {
				format = cfg.Name + ": " + format
			}
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	n, k := len(rows), o.Targets.Cols
	batch := min(cfg.BatchSize, n)
	stepsPerEpoch := (n + batch - 1) / batch
	total := cfg.Epochs * stepsPerEpoch
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed_cafe_f00d))

	store := model.NewStore()
	scope := store.RootScope()
	params, err := net.Init(scope, rng)
	if err != nil {
		return nil, fmt.Errorf("train: initialising the net: %w", err)
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("train: the net has no parameters to train")
	}
	if paramCount(params) < smallNetWeights {
		release, err := backend.OpsOneAtATime()
		if err != nil {
			return nil, err
		}
		defer release()
	}
	// Adam moments, one pair per parameter, in their own scope.
	adam := scope.In("superalign_adamw")
	moment1 := make([]*model.Variable, len(params))
	moment2 := make([]*model.Variable, len(params))
	for i, p := range params {
		moment1[i] = adam.VariableWithValue(fmt.Sprintf("m%d", i), zeros(p.Var.Shape())).SetTrainable(false)
		moment2[i] = adam.VariableWithValue(fmt.Sprintf("v%d", i), zeros(p.Var.Shape())).SetTrainable(false)
	}

	var order []int32
	if ln, ok := net.(LengthNet); ok && cfg.GroupByLength && !o.Loss.BatchStatistics {
		all := ln.Lengths()
		length := make([]int, n)
		for pos, i := range rows {
			length[pos] = all[i]
		}
		order = lengthBatchOrder(rng, length, batch, cfg.Epochs)
	} else {
		order = batchOrder(rng, n, batch, cfg.Epochs)
	}

	// The graph of one call: inputs[0] is sched [steps, 5] (Adam's bias
	// corrections 1/(1-β1^t) and 1/(1-β2^t), the progress t/total, the
	// learning rate of GroupHead and of GroupEncoder), then per step the
	// fed inputs, the targets [B, K] and, when the objective has weights,
	// the weights [B].
	gradNet, handGrads := net.(GradNet)
	per := o.Loss.perExample()
	wd := cfg.WeightDecay
	nFed := -1 // set from the first Feed
	stepWidth := func() int {
		if weights != nil {
			return nFed + 2
		}
		return nFed + 1
	}
	trainSteps := func(scope *model.Scope, inputs []*Node) *Node {
		sched := inputs[0]
		g := sched.Graph()
		numSteps := (len(inputs) - 1) / stepWidth()
		beta1 := Scalar(g, dtypes.Float32, adamBeta1)
		beta2 := Scalar(g, dtypes.Float32, adamBeta2)
		oneMinusBeta1 := Scalar(g, dtypes.Float32, 1-adamBeta1)
		oneMinusBeta2 := Scalar(g, dtypes.Float32, 1-adamBeta2)
		eps := Scalar(g, dtypes.Float32, adamEpsilon)
		col := func(s, c int) *Node { return Reshape(Slice(sched, AxisElem(s), AxisElem(c))) }
		losses := make([]*Node, numSteps)
		var used []bool
		for s := range numSteps {
			in := inputs[1+stepWidth()*s : 1+stepWidth()*(s+1)]
			fed, targets := in[:nFed], in[nFed]
			var w *Node
			if weights != nil {
				w = in[nFed+1]
			}
			progress := col(s, 2)
			lossOf := func(logits *Node) *Node { return batchMean(per(logits, targets, progress), w) }
			var loss *Node
			grads := make([]*Node, len(params))
			if handGrads {
				loss, grads = gradNet.LossAndGrads(scope, fed, lossOf)
				if used == nil {
					used = make([]bool, len(params))
					for i := range used {
						used[i] = true
					}
				}
			} else {
				loss = lossOf(net.Logits(scope, fed))
				if used == nil {
					// Imported graphs (ONNX) hold weights they never read:
					// those have no gradient and are left alone.
					used = make([]bool, len(params))
					for i, p := range params {
						used[i] = p.Var.InUseByGraph(g)
					}
				}
				var wrt []*Node
				for i, p := range params {
					if used[i] {
						wrt = append(wrt, p.Var.NodeValue(g))
					}
				}
				gs := Gradient(loss, wrt...)
				for i, j := 0, 0; i < len(params); i++ {
					if used[i] {
						grads[i], j = gs[j], j+1
					}
				}
			}
			losses[s] = loss
			c1, c2 := col(s, 0), col(s, 1)
			for i, p := range params {
				if !used[i] {
					continue
				}
				gr := grads[i]
				pv := p.Var.NodeValue(g)
				m := Add(Mul(beta1, moment1[i].NodeValue(g)), Mul(oneMinusBeta1, gr))
				v := Add(Mul(beta2, moment2[i].NodeValue(g)), Mul(oneMinusBeta2, Mul(gr, gr)))
				delta := Div(Mul(m, c1), Add(Sqrt(Mul(v, c2)), eps))
				if p.Decay && wd > 0 {
					// Decoupled decay (AdamW): shrink the weights directly
					// instead of adding wd·w to the gradient, where Adam's
					// normalisation would undo it.
					delta = Add(delta, MulScalar(pv, wd))
				}
				p.Var.SetNodeValue(Sub(pv, Mul(col(s, 3+int(p.Group)), delta)))
				moment1[i].SetNodeValue(m)
				moment2[i].SetNodeValue(v)
			}
		}
		return Stack(losses, 0)
	}
	exec, err := model.NewExec(be, store, trainSteps)
	if err != nil {
		return nil, fmt.Errorf("train: building the training graph: %w", err)
	}
	defer exec.Finalize()
	exec.SetMaxCache(64)

	// The training state a checkpoint holds: every float variable.
	var state []*model.Variable
	for v := range store.IterVariables() {
		if v.DType() == dtypes.Float32 {
			state = append(state, v)
		}
	}
	sort.Slice(state, func(i, j int) bool { return state[i].Path() < state[j].Path() })

	ps := &progressState{total: total}
	var key [32]byte
	if cfg.Checkpoint != "" {
		key = checkpointKey(net, o, cfg)
		saved, values, err := resume(cfg.Checkpoint, key, total, state, logf)
		if err != nil {
			return nil, err
		}
		if saved != nil {
			for i, v := range state {
				if err := v.SetValue(values[i]); err != nil {
					return nil, fmt.Errorf("train: restoring %s: %w", v.Path(), err)
				}
			}
			ps = saved
			logf("resuming from %s after epoch %d/%d (step %d of %d)", cfg.Checkpoint, len(ps.epochLoss), cfg.Epochs, ps.step, total)
		}
	}
	res := &Result{ResumedAt: ps.step}

	warmup := warmupSteps(total)
	stepsPerCall := cfg.stepsPerCall()
	lastSave := time.Now()
	epochStart := time.Now().Add(-ps.curElapsed)
	for start := ps.step; start < total; start += stepsPerCall {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train: interrupted at step %d of %d: %w", start, total, err)
		}
		steps := min(stepsPerCall, total-start)
		sched := make([]float32, 5*steps)
		for s := range steps {
			t := start + s
			sched[5*s] = float32(1 / (1 - math.Pow(adamBeta1, float64(t+1))))
			sched[5*s+1] = float32(1 / (1 - math.Pow(adamBeta2, float64(t+1))))
			sched[5*s+2] = float32(Progress(t, total))
			sched[5*s+3] = float32(cfg.learningRate(cfg.LearningRate, t, warmup, total))
			sched[5*s+4] = float32(cfg.learningRate(cfg.EncoderLR, t, warmup, total))
		}
		args := []any{tensors.FromFlatDataAndDimensions(sched, steps, 5)}
		batchRows := make([]int, batch)
		for s := range steps {
			for j, pos := range order[(start+s)*batch : (start+s+1)*batch] {
				batchRows[j] = rows[pos]
			}
			fed, err := net.Feed(batchRows)
			if err != nil {
				finalizeArgs(args)
				return nil, fmt.Errorf("train: feeding step %d: %w", start+s, err)
			}
			if nFed < 0 {
				nFed = len(fed)
			} else if len(fed) != nFed {
				finalizeArgs(args)
				return nil, fmt.Errorf("train: the net fed %d inputs at step %d, %d before", len(fed), start+s, nFed)
			}
			for _, f := range fed {
				args = append(args, f)
			}
			tb, err := gatherRows(be, o.Targets.Values, batchRows, batch, k)
			if err != nil {
				finalizeArgs(args)
				return nil, fmt.Errorf("train: allocating targets: %w", err)
			}
			args = append(args, tb)
			if weights != nil {
				wb, err := gatherRows(be, weights, batchRows, batch)
				if err != nil {
					finalizeArgs(args)
					return nil, fmt.Errorf("train: allocating weights: %w", err)
				}
				args = append(args, wb)
			}
		}
		lossT, err := callExec(func() []*tensors.Tensor { return []*tensors.Tensor{exec.MustCall1(args...)} })
		finalizeArgs(args)
		if err != nil {
			return nil, fmt.Errorf("train: step %d of %d: %w", start, total, err)
		}
		stepLosses := tensors.MustCopyFlatData[float32](lossT[0])
		lossT[0].FinalizeAll()
		for s, l := range stepLosses {
			t := start + s
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
				return nil, fmt.Errorf("train: loss is %v at step %d (epoch %d): lower the learning rate?", l, t, t/stepsPerEpoch+1)
			}
			ps.curSum += float64(l)
			ps.curSteps++
			if (t+1)%stepsPerEpoch == 0 {
				ps.epochLoss = append(ps.epochLoss, ps.curSum/float64(ps.curSteps))
				ps.epochTime = append(ps.epochTime, time.Since(epochStart))
				logf("epoch %d/%d loss %.4f (%.1fs)", len(ps.epochLoss), cfg.Epochs, ps.epochLoss[len(ps.epochLoss)-1], time.Since(epochStart).Seconds())
				ps.curSum, ps.curSteps = 0, 0
				epochStart = time.Now()
			}
		}
		ps.step = start + steps
		if cfg.Checkpoint == "" {
			continue
		}
		epochEnded := ps.curSteps == 0
		if epochEnded || (cfg.CheckpointEvery > 0 && time.Since(lastSave) >= cfg.CheckpointEvery) {
			ps.curElapsed = time.Since(epochStart)
			if err := saveCheckpoint(cfg.Checkpoint, key, ps, state); err != nil {
				return nil, err
			}
			lastSave = time.Now()
		}
	}
	res.EpochLoss, res.EpochTime, res.Steps = ps.epochLoss, ps.epochTime, total
	return res, nil
}

// smallNetWeights is the size below which a net trains with its ops one at
// a time (backend.OpsOneAtATime): a linear head (hundreds to tens of
// thousands of weights) runs faster so, a 256-unit MLP head (131,000 on
// 512-d features) and every encoder slower.
const smallNetWeights = 1 << 16

// paramCount is the number of trainable weights in params.
func paramCount(params []Param) int {
	n := 0
	for _, p := range params {
		n += p.Var.Shape().Size()
	}
	return n
}

// checkpointKey digests what a fit depends on: the trainer version, the
// net (architecture, initial weights, bound examples), the objective and
// every result-changing setting.
func checkpointKey(net Net, o Objective, cfg Config) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s|net=%s|cfg=%s|steps_per_call=%d|", configVersion, net.Fingerprint(), cfg.String(), cfg.stepsPerCall())
	h.Write(o.hash())
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return key
}

// zeros returns a float32 tensor of shape s filled with zeros
// (tensors.FromShape does not promise cleared memory).
func zeros(s shapes.Shape) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(make([]float32, s.Size()), s.Dimensions...)
}

// gatherRows copies rows of a row-major float32 array whose rows hold
// size(dims)/len(rows) values into a new tensor of shape dims ([B, K]
// targets, [B] weights). With backends that share host memory (the Go
// backend) it is written in place in a device buffer from the backend's
// pool: a local tensor materialised on the device would cost an
// allocation, a page clear and a copy per input per step.
func gatherRows(be compute.Backend, values []float32, rows []int, dims ...int) (*tensors.Tensor, error) {
	t, err := tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, dims...))
	if err != nil {
		return nil, err
	}
	width := t.Shape().Size() / len(rows)
	tensors.MustMutableFlatData(t, func(flat []float32) {
		for i, r := range rows {
			copy(flat[i*width:(i+1)*width], values[r*width:(r+1)*width])
		}
	})
	return t, nil
}

func finalizeArgs(args []any) {
	for _, a := range args {
		a.(*tensors.Tensor).FinalizeAll()
	}
}

// callExec runs a graph execution, turning GoMLX panics (shape errors in a
// loss, backend failures) into errors.
func callExec(call func() []*tensors.Tensor) (out []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	return call(), nil
}
