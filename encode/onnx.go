package encode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/onnx-gomlx/onnx"
	"github.com/gomlx/onnx-gomlx/onnx/parser"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/sha"
	"github.com/superalign/superalign/progress"
)

// ONNX encoder names: "onnx:DIR" pools the last hidden state by the
// attention-masked mean over tokens, "onnx-cls:DIR" takes the first
// ([CLS]) token. DIR may also be "hf:OWNER/REPO[@REV]" (downloaded by assets.FetchHF).
const (
	ONNXPrefix    = "onnx:"
	ONNXCLSPrefix = "onnx-cls:"
)

// ONNX pooling modes.
const (
	PoolMean = "mean"
	PoolCLS  = "cls"
)

// ONNXMaxTokens caps the tokens per sentence, [CLS] and [SEP] included
// (lowered to max_position_embeddings when config.json says less). Longer
// sentences are truncated keeping the trailing [SEP], as Hugging Face
// truncation does. Before tokenising, text is also clipped to
// onnxMaxTextBytes bytes: go-huggingface's BERT pre-tokenizer is quadratic
// in the input length, and 16 bytes a token is far more than the ~4-5 an
// English WordPiece token takes, so the cap never removes a token that the
// token cap would have kept on ordinary text.
const ONNXMaxTokens = 128

const onnxBytesPerToken = 16

// onnxPrepVersion names the tokenisation, truncation and pooling rules;
// bump it when the output could change.
const onnxPrepVersion = "onnx-v1:hftokenizer;specials;clip-bytes16;trunc-keep-tail;int64-inputs;token_type=0"

// onnxBatchRows is the number of sentences per forward pass; the last,
// partial batch is padded to the next power of two (at least 8 rows).
const onnxBatchRows = 32

// onnxLengthBuckets are the padded sequence lengths (capped at the
// encoder's maximum): a batch runs at the smallest bucket holding its
// longest sentence, so at most len(buckets) × 3 graphs are compiled, never
// one per sentence.
var onnxLengthBuckets = []int{8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}

// ONNXEncoder runs a Hugging Face style model directory (model.onnx +
// tokenizer.json, optionally config.json) through onnx-gomlx on the GoMLX
// backend: tokens [B, T] → last_hidden_state [B, T, H] → pooled [B, H].
// A model whose first output is already rank 2 ([B, H], e.g. a
// sentence_embedding output) is used without pooling.
type ONNXEncoder struct {
	name, dir   string
	pooling     string
	maxLen      int
	lead, trail int // special tokens the post-processor puts before and after the text
	tok         *hftokenizer.Tokenizer
	tokMu       sync.Mutex // the tokenizer keeps options in itself
	m           onnx.Model
	inputs      []string // model input names, in order
	outName     string
	outRank     int
	dim         int
	fingerprint string
	store       *model.Store
	exec        *model.Exec
	execMu      sync.Mutex
}

// OpenONNX loads the model directory dir with the given pooling (PoolMean
// or PoolCLS). The model must take input_ids and attention_mask
// (token_type_ids optional), int64 [batch, sequence].
func OpenONNX(dir, pooling string) (*ONNXEncoder, error) {
	if pooling != PoolMean && pooling != PoolCLS {
		return nil, fmt.Errorf("onnx: pooling %q (want %q or %q)", pooling, PoolMean, PoolCLS)
	}
	modelPath := filepath.Join(dir, "model.onnx")
	tokPath := filepath.Join(dir, "tokenizer.json")
	for _, p := range []string{modelPath, tokPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("onnx: %s: a model directory needs model.onnx and tokenizer.json: %w", dir, err)
		}
	}
	o := &ONNXEncoder{dir: dir, pooling: pooling, maxLen: ONNXMaxTokens}
	o.name = ONNXPrefix + dir
	if pooling == PoolCLS {
		o.name = ONNXCLSPrefix + dir
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		var cfg struct {
			MaxPos int `json:"max_position_embeddings"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("onnx: %s: %w", filepath.Join(dir, "config.json"), err)
		}
		if cfg.MaxPos > 0 && cfg.MaxPos < o.maxLen {
			o.maxLen = cfg.MaxPos
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	tok, err := hftokenizer.NewFromFile(nil, tokPath)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", tokPath, err)
	}
	o.tok = tok
	if err := o.findSpecials(); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", tokPath, err)
	}
	m, err := parseONNX(modelPath)
	if err != nil {
		return nil, err
	}
	o.m = m
	names, _ := m.Inputs()
	have := map[string]bool{}
	for _, n := range names {
		switch n {
		case "input_ids", "attention_mask", "token_type_ids":
			have[n] = true
		default:
			return nil, fmt.Errorf("onnx: %s: input %q is not one of input_ids, attention_mask, token_type_ids", modelPath, n)
		}
	}
	if !have["input_ids"] || !have["attention_mask"] {
		return nil, fmt.Errorf("onnx: %s: inputs %v lack input_ids or attention_mask", modelPath, names)
	}
	o.inputs = names
	outs, oshapes := m.Outputs()
	if len(outs) == 0 {
		return nil, fmt.Errorf("onnx: %s: the graph has no output", modelPath)
	}
	o.outName = outs[0]
	for i, n := range outs {
		if n == "last_hidden_state" {
			o.outName = outs[i]
			oshapes[0] = oshapes[i]
		}
	}
	o.outRank = oshapes[0].Rank()
	if o.outRank != 2 && o.outRank != 3 {
		return nil, fmt.Errorf("onnx: %s: output %q has shape %s, want [batch, seq, hidden] or [batch, hidden]", modelPath, o.outName, oshapes[0])
	}
	o.dim = oshapes[0].Dim(-1)
	if o.dim <= 0 {
		return nil, fmt.Errorf("onnx: %s: output %q has a dynamic last axis (%s): cannot tell the embedding width", modelPath, o.outName, oshapes[0])
	}
	if o.fingerprint, err = o.hash(); err != nil {
		return nil, err
	}
	o.store = model.NewStore()
	if err := m.VariablesToScope(o.store.RootScope()); err != nil {
		return nil, fmt.Errorf("onnx: %s: loading weights: %w", modelPath, err)
	}
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	o.exec, err = model.NewExec(be, o.store, func(scope *model.Scope, in []*Node) *Node {
		return o.pooled(scope, in[0], in[1])
	})
	if err != nil {
		return nil, fmt.Errorf("onnx: building graph: %w", err)
	}
	o.exec.SetMaxCache(3 * len(onnxLengthBuckets))
	return o, nil
}

// parseONNX reads model.onnx, turning parser panics into errors.
func parseONNX(path string) (m onnx.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx: %s: %v", path, r)
		}
	}()
	m, err = parser.ParseFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, nil
}

// findSpecials measures how many special tokens the tokenizer's
// post-processor adds before and after a text ([CLS] … [SEP] for BERT: 1
// and 1), so truncation can keep them.
func (o *ONNXEncoder) findSpecials() error {
	o.tok.With(api.EncodeOptions{AddSpecialTokens: false})
	bare := o.tok.Encode("a")
	o.tok.With(api.EncodeOptions{AddSpecialTokens: true})
	full := o.tok.Encode("a")
	if len(bare) == 0 {
		return fmt.Errorf("tokenizer gives no token for %q", "a")
	}
	for i := 0; i+len(bare) <= len(full); i++ {
		if slices.Equal(full[i:i+len(bare)], bare) {
			o.lead, o.trail = i, len(full)-i-len(bare)
			return nil
		}
	}
	return fmt.Errorf("tokenizer's post-processing of %q (%v) does not contain its bare tokens %v", "a", full, bare)
}

// hash digests model.onnx (and model.onnx_data when present),
// tokenizer.json, the pooling, the token cap and the preprocessing version.
func (o *ONNXEncoder) hash() (string, error) {
	h := sha.New()
	fmt.Fprintf(h, "%s\x00pool=%s\x00max=%d\x00", onnxPrepVersion, o.pooling, o.maxLen)
	for _, f := range []string{"model.onnx", "model.onnx_data", "tokenizer.json"} {
		fh, err := os.Open(filepath.Join(o.dir, f))
		if err != nil {
			if f == "model.onnx_data" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return "", fmt.Errorf("onnx: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", f)
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return "", fmt.Errorf("onnx: hashing %s: %w", f, err)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// Name implements Encoder ("onnx:DIR" or "onnx-cls:DIR").
func (o *ONNXEncoder) Name() string { return o.name }

// Fingerprint implements Encoder.
func (o *ONNXEncoder) Fingerprint() string { return o.fingerprint }

// Dim implements Encoder: the model's hidden width.
func (o *ONNXEncoder) Dim() int { return o.dim }

// MaxTokens is the token cap per sentence, specials included.
func (o *ONNXEncoder) MaxTokens() int { return o.maxLen }

// Pooling is PoolMean or PoolCLS.
func (o *ONNXEncoder) Pooling() string { return o.pooling }

// Tokenize returns the ids of each text as the encoder feeds them: with
// the special tokens, clipped and truncated to MaxTokens.
func (o *ONNXEncoder) Tokenize(texts []string) [][]int32 {
	o.tokMu.Lock()
	defer o.tokMu.Unlock()
	o.tok.With(api.EncodeOptions{AddSpecialTokens: true})
	out := make([][]int32, len(texts))
	for i, t := range texts {
		if limit := onnxBytesPerToken * o.maxLen; len(t) > limit {
			// Cut at a rune boundary.
			for limit > 0 && t[limit]&0xC0 == 0x80 {
				limit--
			}
			t = t[:limit]
		}
		ids := o.tok.Encode(t)
		if len(ids) > o.maxLen {
			ids = append(ids[:o.maxLen-o.trail], ids[len(ids)-o.trail:]...)
		}
		row := make([]int32, len(ids))
		for j, id := range ids {
			row[j] = int32(id)
		}
		out[i] = row
	}
	return out
}

// bucket is the smallest length bucket holding n tokens, at most maxLen.
func (o *ONNXEncoder) bucket(n int) int {
	for _, b := range onnxLengthBuckets {
		if n <= b {
			return min(b, o.maxLen)
		}
	}
	return o.maxLen
}

// onnxInputs builds the model's named inputs from ids [B, T] int32 and mask
// [B, T] float32 nodes.
func (o *ONNXEncoder) onnxInputs(ids, mask *Node) map[string]*Node {
	in := map[string]*Node{
		"input_ids":      ConvertDType(ids, dtypes.Int64),
		"attention_mask": ConvertDType(mask, dtypes.Int64),
	}
	for _, n := range o.inputs {
		if n == "token_type_ids" {
			in[n] = ZerosLike(in["input_ids"])
		}
	}
	return in
}

// pooled is the forward pass: ids [B, T] int32, mask [B, T] float32 →
// embeddings [B, H].
func (o *ONNXEncoder) pooled(scope *model.Scope, ids, mask *Node) *Node {
	hidden := o.m.CallGraph(scope, ids.Graph(), o.onnxInputs(ids, mask), o.outName)[0]
	hidden = ConvertDType(hidden, dtypes.Float32)
	if o.outRank == 2 {
		return hidden
	}
	if o.pooling == PoolCLS {
		return Reshape(Slice(hidden, AxisRange(), AxisElem(0), AxisRange()), hidden.Shape().Dim(0), hidden.Shape().Dim(2))
	}
	m3 := ExpandAxes(mask, -1) // [B, T, 1]
	count := Max(ReduceSum(mask, 1), Const(ids.Graph(), float32(1)))
	return Div(ReduceSum(Mul(hidden, m3), 1), ExpandAxes(count, -1))
}

// batchTensors lays the sentences rows out as ids [b, L] int32 and mask
// [b, L] float32, L the bucket of the longest (b ≥ len(rows); extra rows
// are padding with an empty mask).
func (o *ONNXEncoder) batchTensors(toks [][]int32, rows []int, b int) (ids, mask *tensors.Tensor) {
	longest := 1
	for _, i := range rows {
		longest = max(longest, len(toks[i]))
	}
	return PadTokens(toks, rows, b, o.bucket(longest))
}

// Encode implements Encoder: pooled embeddings [len(texts), Dim()].
// Sentences are sorted by length and run in padded batches; a sentence's
// embedding does not depend on the batch around it (padding is masked).
func (o *ONNXEncoder) Encode(ctx context.Context, texts []string, bar *progress.Bar) (data.Matrix, error) {
	toks := o.Tokenize(texts)
	out := data.NewMatrix(len(texts), o.dim)
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(toks[order[a]]) > len(toks[order[b]]) })
	for s := 0; s < len(order); s += onnxBatchRows {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		rows := order[s:min(s+onnxBatchRows, len(order))]
		ids, mask := o.batchTensors(toks, rows, max(8, nextPow2(len(rows))))
		o.execMu.Lock()
		res, err := callONNX(o.exec, ids, mask)
		o.execMu.Unlock()
		ids.FinalizeAll()
		mask.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("onnx: batch of %d: %w", len(rows), err)
		}
		tensors.MustConstFlatData(res[0], func(flat []float32) {
			for r, i := range rows {
				copy(out.Values[i*o.dim:(i+1)*o.dim], flat[r*o.dim:(r+1)*o.dim])
			}
		})
		for _, t := range res {
			t.FinalizeAll()
		}
		bar.Add(len(rows))
	}
	return out, nil
}

// Hidden returns last_hidden_state [len(texts)][T][H] of each sentence at
// its own token length (the padding rows dropped), for parity checks.
func (o *ONNXEncoder) Hidden(ctx context.Context, texts []string) ([][][]float32, error) {
	if o.outRank != 3 {
		return nil, fmt.Errorf("onnx: output %q is not [batch, seq, hidden]", o.outName)
	}
	toks := o.Tokenize(texts)
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	exec, err := model.NewExec(be, o.store, func(scope *model.Scope, in []*Node) *Node {
		return ConvertDType(o.m.CallGraph(scope, in[0].Graph(), o.onnxInputs(in[0], in[1]), o.outName)[0], dtypes.Float32)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	out := make([][][]float32, len(texts))
	for i := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ids, mask := o.batchTensors(toks, []int{i}, 1)
		o.execMu.Lock()
		res, err := callONNX(exec, ids, mask)
		o.execMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("onnx: %w", err)
		}
		tensors.MustConstFlatData(res[0], func(flat []float32) {
			for j := range toks[i] {
				out[i] = append(out[i], append([]float32(nil), flat[j*o.dim:(j+1)*o.dim]...))
			}
		})
		ids.FinalizeAll()
		mask.FinalizeAll()
		res[0].FinalizeAll()
	}
	return out, nil
}

// callONNX runs an exec, turning GoMLX panics into errors.
func callONNX(exec *model.Exec, args ...any) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return exec.Call(args...)
}

// ParseONNXName splits an encoder name "onnx:DIR" / "onnx-cls:DIR" into its
// directory and pooling; ok is false for other names.
func ParseONNXName(name string) (dir, pooling string, ok bool) {
	switch {
	case strings.HasPrefix(name, ONNXPrefix):
		return strings.TrimPrefix(name, ONNXPrefix), PoolMean, true
	case strings.HasPrefix(name, ONNXCLSPrefix):
		return strings.TrimPrefix(name, ONNXCLSPrefix), PoolCLS, true
	}
	return "", "", false
}

// newONNX opens an ONNX encoder; dir "hf:OWNER/REPO[@REV]" is first
// downloaded into the shared cache (see assets.FetchHF).
func newONNX(ctx context.Context, dir, pooling string, log io.Writer) (Encoder, error) {
	if strings.HasPrefix(dir, "hf:") {
		d, err := assets.FetchHF(ctx, strings.TrimPrefix(dir, "hf:"), log)
		if err != nil {
			return nil, err
		}
		o, err := OpenONNX(d, pooling)
		if err != nil {
			return nil, err
		}
		o.name = strings.TrimSuffix(o.name, d) + dir // keep the name the user gave
		return o, nil
	}
	return OpenONNX(dir, pooling)
}
