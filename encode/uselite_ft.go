package encode

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/train"
)

// FineTuneConfig sets end-to-end fine-tuning of USE-lite with a linear
// classification head. Zero fields take the defaults in brackets.
type FineTuneConfig struct {
	Epochs int     // passes over the data [3]
	Batch  int     // sentences per step [32]
	LR     float64 // Adam learning rate of the transformer [3e-5]
	HeadLR float64 // Adam learning rate of the head [1e-3]
	Seed   uint64  // shuffling; the head starts at zero
	// Checkpoint, when set, is a file where the training state is saved
	// after every epoch and from which a fine-tune with the same model,
	// configuration, texts and targets resumes (uselite_ckpt.go). It does
	// not change the result, so configuration hashes leave it out.
	Checkpoint string
}

// WithDefaults returns c with its zero fields set to the defaults FineTune
// uses (callers that hash a configuration hash this).
func (c FineTuneConfig) WithDefaults() FineTuneConfig {
	if c.Epochs <= 0 {
		c.Epochs = 3
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.LR <= 0 {
		c.LR = 3e-5
	}
	if c.HeadLR <= 0 {
		c.HeadLR = 1e-3
	}
	return c
}

// FineTuned is USE-lite fine-tuned end to end with a linear head on its
// unit embedding: logits [N, K] = 10·emb·Wᵀ + b (the factor 10 gives unit
// vectors a usable logit range from the start).
type FineTuned struct {
	u      *USELite // with the tuned parameters
	k      int
	headW  *tensors.Tensor // [K, 512]
	headB  *tensors.Tensor // [K]
	exec   *Exec
	Losses []float64 // mean training loss per epoch
	Epoch  []time.Duration
}

// useHeadScale multiplies the head's logits (see FineTuned).
const useHeadScale = 10

// FineTune trains every USE-lite weight (the timing signal excepted, it is a
// constant of the architecture) and a new linear head on texts with target
// distributions targets [N, K] (one-hot gold or soft weak labels), by Adam on
// the soft-label cross-entropy. It is deterministic for a given
// configuration on the pure-Go backend. u itself is not modified.
func (u *USELite) FineTune(ctx context.Context, texts []string, targets data.Matrix, cfg FineTuneConfig, log io.Writer) (*FineTuned, error) {
	cfg = cfg.WithDefaults()
	if err := checkTargets(texts, targets); err != nil {
		return nil, fmt.Errorf("use-lite fine-tune: %w", err)
	}
	k := targets.Cols
	toks := u.tokenize(texts)
	backend, err := ftBackend()
	if err != nil {
		return nil, err
	}
	np := len(u.params)
	// Trainable: every parameter but the timing signal, then W and b.
	train := make([]int, 0, np)
	for i := range u.params {
		if i != u.timing {
			train = append(train, i)
		}
	}
	nt := len(train) + 2
	step := func(in []*Node) []*Node {
		ids, mask, tgt, weights, tNode := in[0], in[1], in[2], in[3], in[4]
		rest := in[5:]
		params := rest[:np+2] // model params, W, b
		m, v := rest[np+2:np+2+nt], rest[np+2+nt:]
		emb := u.forward(ids, mask, params[:np])
		loss := softCE(headLogits(emb, params[np], params[np+1]), tgt, weights)
		wrt := make([]*Node, 0, nt)
		for _, i := range train {
			wrt = append(wrt, params[i])
		}
		wrt = append(wrt, params[np], params[np+1])
		grads := Gradient(loss, wrt...)
		out := []*Node{loss}
		newP := append([]*Node(nil), params...)
		newM := make([]*Node, nt)
		newV := make([]*Node, nt)
		for j, g := range grads {
			lr := cfg.LR
			if j >= len(train) {
				lr = cfg.HeadLR
			}
			p := wrt[j]
			newM[j] = Add(MulScalar(m[j], 0.9), MulScalar(g, 0.1))
			newV[j] = Add(MulScalar(v[j], 0.999), MulScalar(Square(g), 0.001))
			// Bias-corrected Adam: lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v+ε).
			corr := Div(Sqrt(OneMinus(Pow(Scalar(tNode.Graph(), dtypes.Float32, 0.999), tNode))),
				OneMinus(Pow(Scalar(tNode.Graph(), dtypes.Float32, 0.9), tNode)))
			upd := Mul(MulScalar(corr, lr), Div(newM[j], AddScalar(Sqrt(newV[j]), 1e-8)))
			pi := np + (j - len(train))
			if j < len(train) {
				pi = train[j]
			}
			newP[pi] = Sub(p, upd)
		}
		out = append(out, newP...)
		out = append(out, newM...)
		return append(out, newV...)
	}
	exec, err := NewExec(backend, step)
	if err != nil {
		return nil, fmt.Errorf("use-lite fine-tune: %w", err)
	}
	defer exec.Finalize()
	exec.SetMaxCache(2 * len(useLengthBuckets))

	// State: parameters (copies), head at zero, Adam moments at zero.
	state := make([]*tensors.Tensor, 0, np+2+2*nt)
	for _, p := range u.params {
		// A host copy: the state lives on the fine-tuning backend.
		c := tensors.FromShape(p.Shape())
		tensors.MustConstFlatData(p, func(src []float32) {
			tensors.MustMutableFlatData(c, func(dst []float32) { copy(dst, src) })
		})
		state = append(state, c)
	}
	state = append(state, tensors.FromShape(shapesOf(k, USELiteDim)), tensors.FromShape(shapesOf(k)))
	for range 2 {
		for _, i := range train {
			state = append(state, tensors.FromShape(u.params[i].Shape()))
		}
		state = append(state, tensors.FromShape(shapesOf(k, USELiteDim)), tensors.FromShape(shapesOf(k)))
	}
	for _, t := range state[np:] {
		tensors.MustMutableFlatData(t, func(f []float32) { clear(f) })
	}

	ft := &FineTuned{k: k}
	pcg := rand.NewPCG(cfg.Seed, 0x5553454c495445) // "USELITE"
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	t, first := 0, 0
	var key [32]byte
	if cfg.Checkpoint != "" {
		key = fineTuneKey(u.fingerprint, texts, targets, cfg)
		saved, err := resumeFineTune(cfg.Checkpoint, key, state, cfg.Epochs, log)
		if err != nil {
			return nil, err
		}
		if saved != nil {
			for _, st := range state {
				st.FinalizeAll()
			}
			state, pcg, order, t, first = saved.state, saved.pcg, saved.order, saved.step, saved.epochs
			ft.Losses, ft.Epoch = saved.losses, saved.times
		}
	}
	rng := rand.New(pcg)
	for epoch := first; epoch < cfg.Epochs; epoch++ {
		start := time.Now()
		batches := lengthBatches(rng, order, toks, cfg.Batch)
		sum, n := 0.0, 0
		for _, rows := range batches {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ids, mask, _ := u.batchTensors(toks, rows, cfg.Batch)
			tg := make([]float32, cfg.Batch*k)
			w := make([]float32, cfg.Batch)
			for r, i := range rows {
				copy(tg[r*k:(r+1)*k], targets.Values[i*k:(i+1)*k])
				w[r] = 1
			}
			t++
			args := []any{ids, mask, tensors.FromFlatDataAndDimensions(tg, cfg.Batch, k),
				tensors.FromFlatDataAndDimensions(w, cfg.Batch), tensors.FromScalar(float32(t))}
			for _, st := range state {
				args = append(args, st)
			}
			outs, err := callUSEAll(exec, args)
			if err != nil {
				return nil, fmt.Errorf("use-lite fine-tune: step %d: %w", t, err)
			}
			loss := tensors.ToScalar[float32](outs[0])
			if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
				return nil, fmt.Errorf("use-lite fine-tune: loss %g at step %d (learning rate too high?)", loss, t)
			}
			sum += float64(loss) * float64(len(rows))
			n += len(rows)
			for _, st := range state {
				st.FinalizeAll()
			}
			state = outs[1:]
		}
		ft.Losses = append(ft.Losses, sum/float64(n))
		ft.Epoch = append(ft.Epoch, time.Since(start))
		if log != nil {
			fmt.Fprintf(log, "use-lite-ft: epoch %d/%d loss %.4f (%.1fs)\n", epoch+1, cfg.Epochs, sum/float64(n), time.Since(start).Seconds())
		}
		if cfg.Checkpoint != "" {
			saved := &ftProgress{epochs: epoch + 1, step: t, pcg: pcg, order: order, losses: ft.Losses, times: ft.Epoch, state: state}
			if err := saveFTCheckpoint(cfg.Checkpoint, key, saved); err != nil {
				return nil, err
			}
		}
	}
	tuned := *u
	tuned.params = state[:np]
	// The tuned weights live on the fine-tuning backend: so does its graph.
	if tuned.exec, err = NewExec(backend, tuned.graph); err != nil {
		return nil, err
	}
	tuned.exec.SetMaxCache(4 * len(useLengthBuckets))
	for _, st := range state[np+2:] {
		st.FinalizeAll()
	}
	ft.u, ft.headW, ft.headB = &tuned, state[np], state[np+1]
	ft.exec, err = NewExec(backend, func(in []*Node) *Node {
		p := in[2:]
		return Softmax(headLogits(tuned.forward(in[0], in[1], p[:np]), p[np], p[np+1]), -1)
	})
	if err != nil {
		return nil, err
	}
	ft.exec.SetMaxCache(4 * len(useLengthBuckets))
	return ft, nil
}

// lengthBatches shuffles the examples and cuts them into batches of similar
// length: each run of 8 batches' worth of shuffled examples is sorted by
// token count before cutting, and the batch order is shuffled again. A batch
// is padded to its longest sentence, so random batches of short reviews
// would mostly compute padding (one long sentence sets the length of all).
func lengthBatches(rng *rand.Rand, order []int, toks [][]int32, batch int) [][]int {
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var out [][]int
	pool := 8 * batch
	for s := 0; s < len(order); s += pool {
		chunk := append([]int(nil), order[s:min(s+pool, len(order))]...)
		sort.SliceStable(chunk, func(a, b int) bool { return len(toks[chunk[a]]) < len(toks[chunk[b]]) })
		for b := 0; b < len(chunk); b += batch {
			out = append(out, chunk[b:min(b+batch, len(chunk))])
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// ftBackend is the backend fine-tuning runs on: train.Backend(), whose
// pure-Go default executes a graph's ops one at a time (each matmul is still
// parallel). With the parallel op scheduler this large gradient graph
// deadlocked in the backend's worker pool (gomlx/compute workerspool:
// Pool.WaitToStart against several Pool.Saturate from parallel DotGenerals)
// in 2 of 4 runs on 2 cores.
var ftBackend = train.Backend

// checkTargets refuses targets that are not one distribution over ≥2
// classes per text.
func checkTargets(texts []string, targets data.Matrix) error {
	if targets.Rows != len(texts) || targets.Cols < 2 {
		return fmt.Errorf("%d texts but targets are %d×%d (want one row per text, ≥2 classes)", len(texts), targets.Rows, targets.Cols)
	}
	return nil
}

// headLogits is useHeadScale·emb·Wᵀ + b: [B, K].
func headLogits(emb, w, b *Node) *Node {
	return Add(MulScalar(DotGeneral(emb, []int{1}, nil, w, []int{1}, nil), useHeadScale), toRank(b, 2))
}

// softCE is the weighted mean over rows of −Σ_k target·log softmax(logits).
func softCE(logits, targets, weights *Node) *Node {
	ce := Neg(ReduceSum(Mul(targets, LogSoftmax(logits, -1)), 1))
	return Div(ReduceAllSum(Mul(ce, weights)), Max(ReduceAllSum(weights), Const(logits.Graph(), float32(1))))
}

// Predict returns class probabilities [len(texts), K]. Texts run longest
// first, as in Encode, so each batch pads to a length close to its own.
func (f *FineTuned) Predict(ctx context.Context, texts []string) (data.Matrix, error) {
	out := data.NewMatrix(len(texts), f.k)
	toks := f.u.tokenize(texts)
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(toks[order[a]]) > len(toks[order[b]]) })
	for s := 0; s < len(order); s += useBatchRows {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		rows := order[s:min(s+useBatchRows, len(order))]
		b := max(8, nextPow2(len(rows)))
		ids, mask, _ := f.u.batchTensors(toks, rows, b)
		args := []any{ids, mask}
		for _, p := range f.u.params {
			args = append(args, p)
		}
		args = append(args, f.headW, f.headB)
		res, err := callUSE(f.exec, args)
		ids.FinalizeAll()
		mask.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("use-lite-ft: predicting: %w", err)
		}
		tensors.MustConstFlatData(res, func(flat []float32) {
			for r, i := range rows {
				copy(out.Values[i*f.k:(i+1)*f.k], flat[r*f.k:(r+1)*f.k])
			}
		})
		res.FinalizeAll()
	}
	return out, nil
}

// callUSEAll runs a multi-output graph, turning GoMLX panics into errors.
func callUSEAll(exec *Exec, args []any) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return exec.Call(args...)
}
