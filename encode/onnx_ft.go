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
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
)

// GoMLX v0.28 has no gradient for Identity, which torch ONNX exports use
// for tied weights (and onnx-gomlx converts to a graph Identity node): the
// gradient passes through unchanged. Registered at init, before any graph
// is differentiated, since VJPRegistration is a plain map read by
// Gradient.
func init() {
	if _, ok := VJPRegistration[NodeTypeIdentity]; !ok {
		VJPRegistration[NodeTypeIdentity] = func(_ *Node, v []*Node, _ shapes.Shape) []*Node {
			return []*Node{v[0]}
		}
	}
}

// ONNXFineTuned is an ONNX encoder fine-tuned end to end with a linear
// head on its pooled output: logits [N, K] = pooled·Wᵀ + b.
type ONNXFineTuned struct {
	o      *ONNXEncoder // tokenizer, graph, pooling
	store  *model.Store // tuned weights and head
	k      int
	exec   *model.Exec
	Losses []float64 // mean training loss per epoch
	Epoch  []time.Duration
	// Trained names the ONNX weights that were trained (float tensors of
	// rank ≥ 1 the graph uses; scalars such as ε or √d are constants of
	// the architecture).
	Trained []string
}

// onnxHead is the scope of the classification head's variables.
const onnxHead = "superalign_head"

// FineTune trains the model's weights and a new linear head (starting at
// zero) on texts with target distributions targets [N, K] (one-hot gold or
// soft weak labels), by Adam on the soft-label cross-entropy, in batches of
// similar length (cfg.LR for the model, cfg.HeadLR for the head; see
// FineTuneConfig). Deterministic for a configuration on the pure-Go
// backend; o itself is not modified.
func (o *ONNXEncoder) FineTune(ctx context.Context, texts []string, targets data.Matrix, cfg FineTuneConfig, log io.Writer) (*ONNXFineTuned, error) {
	cfg = cfg.WithDefaults()
	if err := checkTargets(texts, targets); err != nil {
		return nil, fmt.Errorf("onnx fine-tune: %w", err)
	}
	k := targets.Cols
	toks := o.Tokenize(texts)
	backend, err := ftBackend()
	if err != nil {
		return nil, err
	}
	// A fresh copy of the weights.
	store := model.NewStore()
	root := store.RootScope()
	if err := o.m.VariablesToScope(root); err != nil {
		return nil, fmt.Errorf("onnx fine-tune: loading weights: %w", err)
	}
	var cand []*model.Variable
	for v := range root.IterVariables() {
		if v.DType() == dtypes.Float32 && v.Shape().Rank() >= 1 {
			cand = append(cand, v)
		}
	}
	sort.Slice(cand, func(i, j int) bool { return cand[i].Path() < cand[j].Path() })
	head := root.In(onnxHead)
	headW := head.VariableWithValue("w", tensors.FromShape(shapesOf(k, o.dim)))
	headB := head.VariableWithValue("b", tensors.FromShape(shapesOf(k)))
	step := head.VariableWithValue("adam_t", float32(0))
	for _, v := range []*model.Variable{headW, headB} {
		zero(v)
	}
	// Adam moments of every candidate and of the head.
	moments := map[string][2]*model.Variable{}
	adam := head.In("adam")
	for i, v := range append(append([]*model.Variable(nil), cand...), headW, headB) {
		ms := adam.In("%d", i)
		mv := [2]*model.Variable{
			ms.VariableWithValue("m", tensors.FromShape(v.Shape())),
			ms.VariableWithValue("v", tensors.FromShape(v.Shape())),
		}
		zero(mv[0])
		zero(mv[1])
		moments[v.Path()] = mv
	}
	ft := &ONNXFineTuned{o: o, store: store, k: k}
	var trained []string
	stepFn := func(scope *model.Scope, in []*Node) *Node {
		ids, mask, tgt, w := in[0], in[1], in[2], in[3]
		g := ids.Graph()
		emb := o.pooled(root, ids, mask)
		logits := onnxHeadLogits(emb, headW.NodeValue(g), headB.NodeValue(g))
		loss := softCE(logits, tgt, w)
		var vars []*model.Variable
		for _, v := range cand {
			if v.InUseByGraph(g) {
				vars = append(vars, v)
			}
		}
		nModel := len(vars)
		vars = append(vars, headW, headB)
		params := make([]*Node, len(vars))
		for i, v := range vars {
			params[i] = v.NodeValue(g)
		}
		grads := Gradient(loss, params...)
		t := AddScalar(step.NodeValue(g), 1)
		step.SetNodeValue(t)
		// Bias-corrected Adam: lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v+ε).
		corr := Div(Sqrt(OneMinus(Pow(Scalar(g, dtypes.Float32, 0.999), t))), OneMinus(Pow(Scalar(g, dtypes.Float32, 0.9), t)))
		names := make([]string, 0, nModel)
		for j, v := range vars {
			mv := moments[v.Path()]
			gr := grads[j]
			m := Add(MulScalar(mv[0].NodeValue(g), 0.9), MulScalar(gr, 0.1))
			s := Add(MulScalar(mv[1].NodeValue(g), 0.999), MulScalar(Square(gr), 0.001))
			mv[0].SetNodeValue(m)
			mv[1].SetNodeValue(s)
			lr := cfg.LR
			if j >= nModel {
				lr = cfg.HeadLR
			} else {
				names = append(names, v.Path())
			}
			v.SetNodeValue(Sub(params[j], Mul(MulScalar(corr, lr), Div(m, AddScalar(Sqrt(s), 1e-8)))))
		}
		trained = names
		return loss
	}
	exec, err := model.NewExec(backend, store, stepFn)
	if err != nil {
		return nil, fmt.Errorf("onnx fine-tune: %w", err)
	}
	defer exec.Finalize()
	exec.SetMaxCache(len(onnxLengthBuckets))

	pcg := rand.NewPCG(cfg.Seed, 0x4f4e4e58) // "ONNX"
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	// The training state is every float variable of the store (weights,
	// head, Adam moments and step), in path order; others (integer
	// constants of the graph) never change.
	var state []*model.Variable
	for v := range root.IterVariables() {
		if v.DType() == dtypes.Float32 {
			state = append(state, v)
		}
	}
	sort.Slice(state, func(i, j int) bool { return state[i].Path() < state[j].Path() })
	values := func() []*tensors.Tensor {
		out := make([]*tensors.Tensor, len(state))
		for i, v := range state {
			out[i] = v.MustValue()
		}
		return out
	}
	first := 0
	var key [32]byte
	if cfg.Checkpoint != "" {
		key = fineTuneKey(o.fingerprint, texts, targets, cfg)
		saved, err := resumeFineTune(cfg.Checkpoint, key, values(), cfg.Epochs, log)
		if err != nil {
			return nil, err
		}
		if saved != nil {
			for i, v := range state {
				if err := v.SetValue(saved.state[i]); err != nil {
					return nil, fmt.Errorf("onnx fine-tune: restoring %s: %w", v.Path(), err)
				}
			}
			pcg, order, first = saved.pcg, saved.order, saved.epochs
			ft.Losses, ft.Epoch = saved.losses, saved.times
		}
	}
	rng := rand.New(pcg)
	for epoch := first; epoch < cfg.Epochs; epoch++ {
		start := time.Now()
		sum, n := 0.0, 0
		for bi, rows := range lengthBatches(rng, order, toks, cfg.Batch) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ids, mask := o.batchTensors(toks, rows, cfg.Batch)
			tg := make([]float32, cfg.Batch*k)
			w := make([]float32, cfg.Batch)
			for r, i := range rows {
				copy(tg[r*k:(r+1)*k], targets.Values[i*k:(i+1)*k])
				w[r] = 1
			}
			outs, err := callONNX(exec, ids, mask, tensors.FromFlatDataAndDimensions(tg, cfg.Batch, k), tensors.FromFlatDataAndDimensions(w, cfg.Batch))
			if err != nil {
				return nil, fmt.Errorf("onnx fine-tune: epoch %d batch %d: %w", epoch+1, bi+1, err)
			}
			loss := tensors.ToScalar[float32](outs[0])
			outs[0].FinalizeAll()
			if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
				return nil, fmt.Errorf("onnx fine-tune: loss %g at epoch %d batch %d (learning rate too high?)", loss, epoch+1, bi+1)
			}
			sum += float64(loss) * float64(len(rows))
			n += len(rows)
		}
		ft.Losses = append(ft.Losses, sum/float64(n))
		ft.Epoch = append(ft.Epoch, time.Since(start))
		if log != nil {
			fmt.Fprintf(log, "%s fine-tune: epoch %d/%d loss %.4f (%.1fs)\n", o.name, epoch+1, cfg.Epochs, sum/float64(n), time.Since(start).Seconds())
		}
		if cfg.Checkpoint != "" {
			saved := &ftProgress{epochs: epoch + 1, pcg: pcg, order: order, losses: ft.Losses, times: ft.Epoch, state: values()}
			if err := saveFTCheckpoint(cfg.Checkpoint, key, saved); err != nil {
				return nil, err
			}
		}
	}
	ft.Trained = trained
	ft.exec, err = model.NewExec(backend, store, func(scope *model.Scope, in []*Node) *Node {
		g := in[0].Graph()
		return Softmax(onnxHeadLogits(o.pooled(root, in[0], in[1]), headW.NodeValue(g), headB.NodeValue(g)), -1)
	})
	if err != nil {
		return nil, err
	}
	ft.exec.SetMaxCache(3 * len(onnxLengthBuckets))
	return ft, nil
}

// zero sets a float32 variable's value to zeros (tensors.FromShape does not
// promise cleared memory).
func zero(v *model.Variable) {
	t := v.MustValue()
	tensors.MustMutableFlatData(t, func(f []float32) { clear(f) })
}

// onnxHeadLogits is emb [B, H] · wᵀ [H, K] + b [K] → [B, K].
func onnxHeadLogits(emb, w, b *Node) *Node {
	return Add(DotGeneral(emb, []int{1}, nil, w, []int{1}, nil), ExpandAxes(b, 0))
}

// Predict returns class probabilities [len(texts), K].
func (f *ONNXFineTuned) Predict(ctx context.Context, texts []string) (data.Matrix, error) {
	out := data.NewMatrix(len(texts), f.k)
	toks := f.o.Tokenize(texts)
	for s := 0; s < len(texts); s += onnxBatchRows {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		rows := make([]int, 0, onnxBatchRows)
		for i := s; i < min(s+onnxBatchRows, len(texts)); i++ {
			rows = append(rows, i)
		}
		ids, mask := f.o.batchTensors(toks, rows, max(8, nextPow2(len(rows))))
		res, err := callONNX(f.exec, ids, mask)
		ids.FinalizeAll()
		mask.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("onnx fine-tuned: predicting: %w", err)
		}
		tensors.MustConstFlatData(res[0], func(flat []float32) { copy(out.Values[s*f.k:], flat[:len(rows)*f.k]) })
		res[0].FinalizeAll()
	}
	return out, nil
}

// Weight returns a copy of the tuned value of an ONNX weight (a name in
// Trained), row-major.
func (f *ONNXFineTuned) Weight(path string) ([]float32, error) { return storeWeight(f.store, path) }

// Weight returns a copy of an original ONNX weight by its variable path
// (as in ONNXFineTuned.Trained).
func (o *ONNXEncoder) Weight(path string) ([]float32, error) { return storeWeight(o.store, path) }

// storeWeight copies a float32 variable of store, row-major.
func storeWeight(store *model.Store, path string) ([]float32, error) {
	v := store.GetVariable(path)
	if v == nil {
		return nil, fmt.Errorf("onnx: no weight %q", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	var out []float32
	err = tensors.ConstFlatData(t, func(flat []float32) { out = append(out, flat...) })
	return out, err
}
