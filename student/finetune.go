package student

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/sha"
	"github.com/superalign/superalign/train"
)

// Fine-tuning defaults: the settings of wave 1's use-lite-ft, which gave
// PGR 0.61 on sentiment where the frozen probe gave 0.006. The head starts
// at zero and learns at its own rate; the pretrained weights move slowly;
// the rate is constant and there is no weight decay.
const (
	DefaultFineTuneEpochs = 2
	DefaultFineTuneLR     = 3e-5 // pretrained weights
	fineTuneHeadLR        = 1e-3
	fineTuneBatch         = 32
)

// tunedVersion names the fine-tuned student's architecture (linear head on
// the pooled output, zero start, scale) in fingerprints.
const tunedVersion = "tuned/v1"

// Scopes of a fine-tuned net's variables.
const (
	encoderScope = "encoder"
	headScope    = "head"
)

// Tuned is a pretrained text encoder fine-tuned end to end with a linear
// head on its pooled output: logits [N, K] = HeadScale·pooled·Wᵀ + b.
type Tuned struct {
	spec Spec
	enc  encode.Tunable
	cfg  train.Config
}

func newTuned(spec Spec, enc encode.Tunable, opt Options) *Tuned {
	cfg := train.Config{
		Epochs: DefaultFineTuneEpochs, BatchSize: fineTuneBatch,
		LearningRate: fineTuneHeadLR, EncoderLR: DefaultFineTuneLR,
		Schedule: train.Constant, StepsPerCall: 1, GroupByLength: true,
	}
	if opt.FineTuneEpochs > 0 {
		cfg.Epochs = opt.FineTuneEpochs
	}
	if opt.FineTuneLR > 0 {
		cfg.EncoderLR = opt.FineTuneLR
	}
	return &Tuned{spec: spec, enc: enc, cfg: cfg}
}

// NewTuned is the fine-tuned student of enc with the default training
// configuration (for tests and tools that hold an encoder already).
func NewTuned(enc encode.Tunable) *Tuned {
	return newTuned(Spec{Encoder: enc.Name(), Head: HeadLinear, FineTune: true}, enc, Options{})
}

// Spec implements Student.
func (t *Tuned) Spec() Spec { return t.spec }

// Reads implements Student.
func (t *Tuned) Reads() Reads { return ReadsTexts }

// Fingerprint implements Student.
func (t *Tuned) Fingerprint() string {
	fp := fmt.Sprintf("%s:%s:scale=%g", tunedVersion, t.enc.Fingerprint(), t.enc.HeadScale())
	if t.spec.TopLayers > 0 {
		fp += fmt.Sprintf(":top=%d", t.spec.TopLayers)
	}
	return fp
}

// Config implements Student.
func (t *Tuned) Config() train.Config { return t.cfg }

// Encoder returns the pretrained encoder.
func (t *Tuned) Encoder() encode.Tunable { return t.enc }

// Fit implements Student.
func (t *Tuned) Fit(ctx context.Context, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error) {
	return t.fit(ctx, in, o, cfg, nil)
}

// fit trains from the pretrained weights, or from a fine-tuned model's.
func (t *Tuned) fit(ctx context.Context, in Inputs, o train.Objective, cfg train.Config, from *TunedModel) (Model, *train.Result, error) {
	for i, s := range in.Texts {
		if s == "" {
			return nil, nil, fmt.Errorf("student %s: example %d has no text (a fine-tuned encoder reads texts)", t.spec, i)
		}
	}
	if len(in.Texts) == 0 {
		return nil, nil, fmt.Errorf("student %s: no texts to train on", t.spec)
	}
	net := &tuneNet{enc: t.enc, toks: t.enc.Tokenize(in.Texts), k: o.Targets.Cols, from: from}
	var fitNet train.Net = net
	if in.TextsB != nil {
		if t.spec.TopLayers > 0 {
			return nil, nil, fmt.Errorf("student %s: a top-layer fine-tune of a reward model on pairs is not built; use %s-ft", t.spec, t.spec.Encoder)
		}
		if len(in.TextsB) != len(in.Texts) {
			return nil, nil, fmt.Errorf("student %s: %d A sides but %d B sides", t.spec, len(in.Texts), len(in.TextsB))
		}
		for i, s := range in.TextsB {
			if s == "" {
				return nil, nil, fmt.Errorf("student %s: pair %d has no side B text", t.spec, i)
			}
		}
		// Side A's tokens, then side B's: one encoder and head, shared.
		net.toks = append(net.toks, t.enc.Tokenize(in.TextsB)...)
		fitNet = &pairTuneNet{tuneNet: net, n: len(in.Texts)}
	} else if top := t.spec.TopLayers; top > 0 {
		tn, err := newTopNet(ctx, net, t.enc.(encode.Layered), top) // Open checked the split
		if err != nil {
			return nil, nil, err
		}
		fitNet = tn
	}
	res, err := train.Fit(ctx, fitNet, o, cfg)
	if err != nil {
		return nil, nil, err
	}
	m, err := net.model()
	if err != nil {
		return nil, nil, err
	}
	m.top = t.spec.TopLayers
	return m, res, nil
}

// tuneNet is the train.Net of a fine-tune: the encoder's weights and a
// head, bound to tokenised texts.
type tuneNet struct {
	enc   encode.Tunable
	toks  [][]int32
	k     int
	store *model.Store
	from  *TunedModel // warm start (FitFrom), nil for the pretrained weights
	// frozen names encoder weights kept pretrained (a top-layer fine-tune's
	// bottom); nil trains them all.
	frozen map[string]bool
}

// Init implements train.Net: the pretrained weights (the frozen ones held
// constant), then a zero head.
func (n *tuneNet) Init(scope *model.Scope, _ *rand.Rand) ([]train.Param, error) {
	weights, err := n.enc.LoadWeights(scope.In(encoderScope))
	if err != nil {
		return nil, err
	}
	params := make([]train.Param, 0, len(weights)+2)
	for _, w := range weights {
		if n.frozen[w.Var.Name()] {
			w.Var.SetTrainable(false)
			continue
		}
		params = append(params, train.Param{Var: w.Var, Group: train.GroupEncoder, Decay: w.Decay})
	}
	head := scope.In(headScope)
	w := head.VariableWithValue("w", tensors.FromFlatDataAndDimensions(make([]float32, n.k*n.enc.Dim()), n.k, n.enc.Dim()))
	b := head.VariableWithValue("b", tensors.FromFlatDataAndDimensions(make([]float32, n.k), n.k))
	params = append(params, train.Param{Var: w, Group: train.GroupHead, Decay: true}, train.Param{Var: b, Group: train.GroupHead})
	n.store = scope.Store()
	if n.from != nil {
		if err := n.warmStart(params); err != nil {
			return nil, err
		}
	}
	return params, nil
}

// Len implements train.Net.
func (n *tuneNet) Len() int { return len(n.toks) }

// Lengths implements train.LengthNet: tokens per text.
func (n *tuneNet) Lengths() []int {
	out := make([]int, len(n.toks))
	for i, t := range n.toks {
		out[i] = len(t)
	}
	return out
}

// Feed implements train.Net: token ids [B, L] and mask [B, L], L the
// length bucket of the batch's longest text.
func (n *tuneNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	ids, mask := padBatch(n.enc, n.toks, rows, len(rows))
	return []*tensors.Tensor{ids, mask}, nil
}

// Logits implements train.Net.
func (n *tuneNet) Logits(scope *model.Scope, fed []*Node) *Node {
	return tunedLogits(n.enc, scope, fed[0], fed[1])
}

// Fingerprint implements train.Net: encoder, head and tokens.
func (n *tuneNet) Fingerprint() string {
	h := sha.New()
	fmt.Fprintf(h, "%s|%s|scale=%g|k=%d|n=%d|", tunedVersion, n.enc.Fingerprint(), n.enc.HeadScale(), n.k, len(n.toks))
	if n.from != nil { // a warm start: the model it starts from is part of the net
		fmt.Fprintf(h, "warm=%s|", n.from.digest())
	}
	var b [4]byte
	for _, t := range n.toks {
		binary.LittleEndian.PutUint32(b[:], uint32(len(t)))
		h.Write(b[:])
		for _, id := range t {
			binary.LittleEndian.PutUint32(b[:], uint32(id))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// model copies the trained encoder and head (not the optimiser's state)
// into a model of their own.
func (n *tuneNet) model() (*TunedModel, error) {
	store := model.NewStore()
	for v := range n.store.IterVariables() {
		p := v.Path()
		if strings.HasPrefix(p, "/"+encoderScope+"/") || strings.HasPrefix(p, "/"+headScope+"/") {
			if _, err := v.CloneToStore(store); err != nil {
				return nil, fmt.Errorf("student: keeping %s: %w", p, err)
			}
		}
	}
	return &TunedModel{enc: n.enc, k: n.k, store: store}, nil
}

// tunedLogits is HeadScale·Forward(ids, mask)·Wᵀ + b: [B, K].
func tunedLogits(enc encode.Tunable, scope *model.Scope, ids, mask *Node) *Node {
	return tunedLogitsIn(enc, scope.In(encoderScope), scope.In(headScope), ids, mask)
}

// tunedLogitsIn is tunedLogits with the encoder's and the head's scopes
// given: a pair's second side reuses the first's weights through
// model.Scope.Shared.
func tunedLogitsIn(enc encode.Tunable, encScope, head *model.Scope, ids, mask *Node) *Node {
	return applyHead(enc, head, enc.Forward(encScope, ids, mask))
}

// applyHead is HeadScale·pooled·Wᵀ + b: [B, K] from pooled [B, Dim].
func applyHead(enc encode.Tunable, head *model.Scope, pooled *Node) *Node {
	g := pooled.Graph()
	w, b := head.GetVariable("w").NodeValue(g), head.GetVariable("b").NodeValue(g)
	z := DotGeneral(pooled, []int{1}, nil, w, []int{1}, nil)
	if s := enc.HeadScale(); s != 1 {
		z = MulScalar(z, s)
	}
	return Add(z, ExpandAxes(b, 0))
}

// padBatch lays out the texts rows as ids [b, L] int32 and mask [b, L]
// (rows beyond len(rows) are padding), L the encoder's bucket for the
// longest.
func padBatch(enc encode.Tunable, toks [][]int32, rows []int, b int) (ids, mask *tensors.Tensor) {
	longest := 1
	for _, i := range rows {
		longest = max(longest, len(toks[i]))
	}
	return encode.PadTokens(toks, rows, b, enc.PadLen(longest))
}

// pairTuneNet is the train.Net of a fine-tuned reward model on preference
// pairs: the tuneNet is bound to side A's texts (rows 0..n-1) then side B's
// (rows n..2n-1), and a pair's logits are the head's logits of A minus
// those of B. The head's bias cancels, so for two classes P(A ≻ B) =
// σ(r(A) − r(B)) with the scalar reward r = HeadScale·pooled·(w₁ − w₀): a
// Bradley–Terry model whose soft cross-entropy is the BT loss, and swapping
// A and B negates the logits exactly.
type pairTuneNet struct {
	*tuneNet
	n int
}

// Len implements train.Net: the pairs.
func (p *pairTuneNet) Len() int { return p.n }

// Lengths implements train.LengthNet: both sides' tokens.
func (p *pairTuneNet) Lengths() []int {
	out := make([]int, p.n)
	for i := range out {
		out[i] = len(p.toks[i]) + len(p.toks[p.n+i])
	}
	return out
}

// Feed implements train.Net: ids and mask of side A, then of side B.
func (p *pairTuneNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	idsA, maskA := padBatch(p.enc, p.toks, rows, len(rows))
	rowsB := make([]int, len(rows))
	for k, r := range rows {
		rowsB[k] = p.n + r
	}
	idsB, maskB := padBatch(p.enc, p.toks, rowsB, len(rows))
	return []*tensors.Tensor{idsA, maskA, idsB, maskB}, nil
}

// Logits implements train.Net: logits(A) − logits(B).
func (p *pairTuneNet) Logits(scope *model.Scope, fed []*Node) *Node {
	a := tunedLogits(p.enc, scope, fed[0], fed[1])
	b := tunedLogitsIn(p.enc, scope.Shared(encoderScope), scope.Shared(headScope), fed[2], fed[3])
	return Sub(a, b)
}

// Fingerprint implements train.Net.
func (p *pairTuneNet) Fingerprint() string { return "pairs|" + p.tuneNet.Fingerprint() }

// TunedModel is a fine-tuned encoder with its head: class probabilities
// for texts. Safe for concurrent Predict calls.
type TunedModel struct {
	enc   encode.Tunable
	k     int
	store *model.Store
	top   int // the student's TopLayers: a warm start continues only a like fine-tune

	mu         sync.Mutex
	exec       *model.Exec
	logitsExec *model.Exec // pairs only
}

// predictRows is the number of texts per prediction pass; a pass's rows
// are padded to a power of two (at least 8) so few shapes compile.
const predictRows = 64

// Predict implements Model: texts run longest first, so each batch pads to
// a length close to its own.
func (m *TunedModel) Predict(ctx context.Context, in Inputs) (data.Matrix, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.TextsB != nil {
		return m.predictPairs(ctx, in)
	}
	if m.exec == nil {
		be, err := backend.Get()
		if err != nil {
			return data.Matrix{}, err
		}
		m.exec, err = model.NewExec(be, m.store, func(scope *model.Scope, ids, mask *Node) *Node {
			return Softmax(tunedLogits(m.enc, scope, ids, mask), -1)
		})
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: building the prediction graph: %w", err)
		}
		m.exec.SetMaxCache(64)
	}
	return m.run(ctx, m.exec, in.Texts)
}

// predictPairs returns P(class | pair) = softmax(logits(A) − logits(B)).
func (m *TunedModel) predictPairs(ctx context.Context, in Inputs) (data.Matrix, error) {
	if len(in.TextsB) != len(in.Texts) {
		return data.Matrix{}, fmt.Errorf("student: %d A sides but %d B sides", len(in.Texts), len(in.TextsB))
	}
	if m.logitsExec == nil {
		be, err := backend.Get()
		if err != nil {
			return data.Matrix{}, err
		}
		m.logitsExec, err = model.NewExec(be, m.store, func(scope *model.Scope, ids, mask *Node) *Node {
			return tunedLogits(m.enc, scope, ids, mask)
		})
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: building the logits graph: %w", err)
		}
		m.logitsExec.SetMaxCache(64)
	}
	a, err := m.logits(ctx, in.Texts)
	if err != nil {
		return data.Matrix{}, err
	}
	b, err := m.logits(ctx, in.TextsB)
	if err != nil {
		return data.Matrix{}, err
	}
	for i := range a.Values {
		a.Values[i] -= b.Values[i]
	}
	softmaxRows(a)
	return a, nil
}

// logits returns the head's logits [N, K] for texts (m.mu held).
func (m *TunedModel) logits(ctx context.Context, texts []string) (data.Matrix, error) {
	return m.run(ctx, m.logitsExec, texts)
}

// run applies exec (texts → [B, K]) to texts, longest first in passes of
// predictRows (rows padded to a power of two, so few shapes compile), and
// returns its rows in the texts' order (m.mu held).
func (m *TunedModel) run(ctx context.Context, exec *model.Exec, texts []string) (data.Matrix, error) {
	toks := m.enc.Tokenize(texts)
	out := data.NewMatrix(len(toks), m.k)
	order := make([]int, len(toks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(toks[order[a]]) > len(toks[order[b]]) })
	for s := 0; s < len(order); s += predictRows {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		rows := order[s:min(s+predictRows, len(order))]
		ids, mask := padBatch(m.enc, toks, rows, max(8, 1<<bits.Len(uint(len(rows)-1))))
		res, err := call1(exec, ids, mask)
		ids.FinalizeAll()
		mask.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: predicting: %w", err)
		}
		tensors.MustConstFlatData(res, func(flat []float32) {
			for r, i := range rows {
				copy(out.Row(i), flat[r*m.k:(r+1)*m.k])
			}
		})
		res.FinalizeAll()
	}
	return out, nil
}

// Weight returns a copy of a trained variable's values by its path inside
// the encoder's scope (for tests that check which weights moved).
func (m *TunedModel) Weight(path string) ([]float32, error) {
	v := m.store.GetVariable("/" + encoderScope + "/" + strings.TrimPrefix(path, "/"))
	if v == nil {
		return nil, fmt.Errorf("student: no weight %q", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	if t.DType() != dtypes.Float32 {
		return nil, fmt.Errorf("student: weight %q is %s, not float32", path, t.DType())
	}
	return tensors.MustCopyFlatData[float32](t), nil
}
