package encode

import (
	"fmt"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Tunable is a text encoder whose forward graph can be trained end to end.
// It holds the pretrained weights and the graph, nothing more: a
// fine-tuned student (package student) puts a head on Forward's pooled
// output and the trainer (package train) optimises both. USE-lite and
// ONNX encoders are Tunable.
type Tunable interface {
	Encoder
	// Tokenize returns the ids of each text as the encoder feeds them,
	// clipped to its maximum length.
	Tokenize(texts []string) [][]int32
	// PadLen is the padded sequence length of a batch whose longest text
	// has n tokens: one of a few buckets, so few graphs are compiled.
	PadLen(n int) int
	// LoadWeights creates the pretrained weights as variables of scope and
	// returns those that fine-tuning trains; constants of the architecture
	// (USE-lite's timing signal, ONNX scalars) stay out.
	LoadWeights(scope *model.Scope) ([]TunableWeight, error)
	// Forward builds the pooled embeddings [B, Dim] of ids [B, L] int32
	// with mask [B, L] float32 (1 on tokens, 0 on padding), reading the
	// weights LoadWeights created in scope. Every op on the path from a
	// weight to the output has a gradient.
	Forward(scope *model.Scope, ids, mask *Node) *Node
	// HeadScale multiplies a linear head's logits: unit-length embeddings
	// (USE-lite) need a factor to reach a usable logit range from a head
	// that starts at zero.
	HeadScale() float64
}

// TunableWeight is one trainable pretrained weight.
type TunableWeight struct {
	Var *model.Variable
	// Decay marks weight matrices (rank ≥ 2), the ones AdamW decays.
	Decay bool
}

// PadLen implements Tunable: the length bucket of n tokens.
func (u *USELite) PadLen(n int) int { return bucketLen(max(1, n)) }

// HeadScale implements Tunable: USE-lite's embeddings are unit vectors.
func (u *USELite) HeadScale() float64 { return useHeadScale }

// useHeadScale makes the logits of a zero-initialised linear head on unit
// embeddings reach ±several within a few hundred steps.
const useHeadScale = 10

// useWeightName is the variable name of parameter i.
func useWeightName(i int) string { return fmt.Sprintf("w%02d", i) }

// LoadWeights implements Tunable: a copy of every parameter as a variable;
// all but the timing signal (a constant of the architecture) are trained.
func (u *USELite) LoadWeights(scope *model.Scope) ([]TunableWeight, error) {
	var out []TunableWeight
	for i, p := range u.params {
		v := scope.VariableWithValue(useWeightName(i), hostCopy(p))
		if i == u.timing {
			v.SetTrainable(false)
			continue
		}
		out = append(out, TunableWeight{Var: v, Decay: p.Shape().Rank() >= 2})
	}
	return out, nil
}

// Forward implements Tunable.
func (u *USELite) Forward(scope *model.Scope, ids, mask *Node) *Node {
	return u.forward(ids, mask, u.weightNodes(scope, ids.Graph()))
}

// hostCopy copies a tensor on the host, so a fine-tune never shares (and
// never donates) the encoder's own buffers.
func hostCopy(t *tensors.Tensor) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[float32](t), t.Shape().Dimensions...)
}

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

// PadLen implements Tunable: the length bucket of n tokens, capped at the
// encoder's maximum.
func (o *ONNXEncoder) PadLen(n int) int { return o.bucket(n) }

// HeadScale implements Tunable: pooled hidden states have a usable scale.
func (o *ONNXEncoder) HeadScale() float64 { return 1 }

// LoadWeights implements Tunable: every weight of the graph as a variable;
// the float tensors of rank ≥ 1 are trained (scalars such as ε or √d are
// constants of the architecture), in path order. Weights the pooled
// output does not depend on get no gradient and stay as they are.
func (o *ONNXEncoder) LoadWeights(scope *model.Scope) ([]TunableWeight, error) {
	if err := o.m.VariablesToScope(scope); err != nil {
		return nil, fmt.Errorf("onnx: loading weights: %w", err)
	}
	var out []TunableWeight
	for v := range scope.IterVariables() {
		if v.DType() == dtypes.Float32 && v.Shape().Rank() >= 1 {
			out = append(out, TunableWeight{Var: v, Decay: v.Shape().Rank() >= 2})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Var.Path() < out[j].Var.Path() })
	return out, nil
}

// Forward implements Tunable.
func (o *ONNXEncoder) Forward(scope *model.Scope, ids, mask *Node) *Node {
	return o.pooled(scope, ids, mask)
}

// Layered is a Tunable whose forward pass is a stack of transformer
// layers, split at a layer boundary so that a fine-tune can train only the
// top layers: the bottom's output does not change while they train, so it
// is computed once per text and fed in its place.
type Layered interface {
	Tunable
	// Layers is the number of transformer layers.
	Layers() int
	// Bottom builds the hidden states [B, L, W] after the first n layers
	// of ids [B, L] with mask [B, L] (zero on padded rows), reading the
	// weights LoadWeights created in scope.
	Bottom(scope *model.Scope, ids, mask *Node, n int) *Node
	// Top builds the pooled embeddings [B, Dim] from hidden states after
	// the first n layers: Top(Bottom(ids, mask, n), mask, n) is Forward.
	Top(scope *model.Scope, hidden, mask *Node, n int) *Node
	// BottomWeights names the variables (as LoadWeights creates them in
	// its scope) that Bottom(…, n) reads: the ones a top-layer fine-tune
	// freezes.
	BottomWeights(n int) map[string]bool
}

// Layers implements Layered.
func (u *USELite) Layers() int { return len(u.layers) }

// weightNodes reads every parameter LoadWeights created in scope.
func (u *USELite) weightNodes(scope *model.Scope, g *Graph) []*Node {
	p := make([]*Node, len(u.params))
	for i := range p {
		v := scope.GetVariable(useWeightName(i))
		if v == nil {
			panic(fmt.Errorf("use-lite: weight %s not loaded in scope %s", useWeightName(i), scope.Scope()))
		}
		p[i] = v.NodeValue(g)
	}
	return p
}

// Bottom implements Layered.
func (u *USELite) Bottom(scope *model.Scope, ids, mask *Node, n int) *Node {
	return u.bottom(ids, mask, u.weightNodes(scope, ids.Graph()), n, false)
}

// Top implements Layered.
func (u *USELite) Top(scope *model.Scope, hidden, mask *Node, n int) *Node {
	return u.top(hidden, mask, u.weightNodes(scope, hidden.Graph()), n, false)
}

// BottomWeights implements Layered: the embedding, the timing signal and
// every weight of the first n layers.
func (u *USELite) BottomWeights(n int) map[string]bool {
	out := map[string]bool{useWeightName(u.emb): true, useWeightName(u.timing): true}
	for _, ly := range u.layers[:n] {
		for _, i := range []int{ly.ln1Scale, ly.ln1Bias, ly.qkvW, ly.qkvB, ly.outW, ly.outB, ly.denseW, ly.denseB,
			ly.ln2Scale, ly.ln2Bias, ly.ffn1W, ly.ffn1B, ly.ffn2W, ly.ffn2B} {
			if i >= 0 {
				out[useWeightName(i)] = true
			}
		}
	}
	return out
}

var (
	_ Tunable = (*USELite)(nil)
	_ Tunable = (*ONNXEncoder)(nil)
	_ Layered = (*USELite)(nil)
)

// Weight returns a copy of pretrained parameter i (the variable a
// fine-tune names useWeightName(i)), for checks of what fine-tuning moved.
func (u *USELite) Weight(i int) ([]float32, error) {
	if i < 0 || i >= len(u.params) {
		return nil, fmt.Errorf("use-lite: no parameter %d (has %d)", i, len(u.params))
	}
	return tensors.MustCopyFlatData[float32](u.params[i]), nil
}

// Weight returns a copy of the pretrained float weight at path (one of
// WeightPaths), row-major.
func (o *ONNXEncoder) Weight(path string) ([]float32, error) {
	v := o.store.GetVariable(path)
	if v == nil || v.DType() != dtypes.Float32 {
		return nil, fmt.Errorf("onnx: no float weight %q", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](t), nil
}

// WeightPaths lists the paths of the model's float weights, sorted.
func (o *ONNXEncoder) WeightPaths() []string {
	var out []string
	for v := range o.store.IterVariables() {
		if v.DType() == dtypes.Float32 {
			out = append(out, v.Path())
		}
	}
	sort.Strings(out)
	return out
}
