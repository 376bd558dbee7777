package encode

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/tfjs"
)

// TunableImage is an image encoder whose forward graph can be trained end
// to end: Tunable's counterpart for images, read as [B, S, S, 3] in [0,1]
// after the encoder's own resize (ResizeBilinearRGB to Size). The layers
// CNNs (mobilenet-v2, inception-v3, at any input size) are TunableImage.
type TunableImage interface {
	ImageEncoder
	// Size is the square input size images are resized to.
	Size() int
	// LoadWeights creates the pretrained weights as variables of scope and
	// returns those that fine-tuning trains.
	LoadWeights(scope *model.Scope) ([]TunableWeight, error)
	// Forward builds the pooled features [B, Dim] of images x [B, S, S, 3],
	// reading the weights LoadWeights created in scope.
	Forward(scope *model.Scope, x *Node) *Node
	// HeadScale multiplies a linear head's logits (see Tunable).
	HeadScale() float64
}

// LayeredImage is a TunableImage split at block boundaries, so that a
// fine-tune can train only the top blocks while the bottom's output,
// which does not change, is computed once per image (see Layered).
type LayeredImage interface {
	TunableImage
	// Layers is the number of blocks (MobileNetV2: 17, block0…block16;
	// InceptionV3: 11, mixed0…mixed10); what follows the last block (a
	// final convolution, the pooling) always belongs to the top.
	Layers() int
	// Bottom builds the feature maps [B, h, w, C] after the first n blocks
	// (and the stem before them) of images x [B, S, S, 3].
	Bottom(scope *model.Scope, x *Node, n int) *Node
	// Top builds the pooled features [B, Dim] from Bottom's output:
	// Top(Bottom(x, n), n) is Forward(x).
	Top(scope *model.Scope, hidden *Node, n int) *Node
	// BottomWeights names the variables (as LoadWeights creates them) that
	// Bottom(…, n) reads.
	BottomWeights(n int) map[string]bool
}

var (
	_ TunableImage = (*CNN)(nil)
	_ LayeredImage = (*CNN)(nil)
)

// cnnWeightName is the variable name of a folded weight: tfjs names it
// LAYER/kernel, and a variable name cannot hold the scope separator.
func cnnWeightName(name string) string { return strings.ReplaceAll(name, "/", ".") }

// featureOpts are the build options of the encoder's feature graph,
// weights through params.
func (c *CNN) featureOpts(params func(string, *tfjs.Tensor) *Node) tfjs.BuildOptions {
	if c.layer == "" {
		return tfjs.BuildOptions{Until: "flatten_1", GlobalPoolBeforeFlatten: true, Params: params}
	}
	return tfjs.BuildOptions{Until: c.layer, Params: params}
}

// LoadWeights implements TunableImage: every convolution's kernel and
// bias, BatchNormalization folded in at its moving statistics, as
// variables; all are trained, kernels decayed.
func (c *CNN) LoadWeights(scope *model.Scope) ([]TunableWeight, error) {
	ws := c.model.FoldedWeights(c.featureOpts(nil))
	if len(ws) == 0 {
		return nil, fmt.Errorf("encode: %s: no convolution weights to train", c.name)
	}
	out := make([]TunableWeight, 0, len(ws))
	for _, w := range ws {
		v := scope.VariableWithValue(cnnWeightName(w.Name), tensors.FromFlatDataAndDimensions(slices.Clone(w.F32), w.Shape...))
		out = append(out, TunableWeight{Var: v, Decay: len(w.Shape) >= 2})
	}
	return out, nil
}

// scopeParams reads each weight from the variable LoadWeights made.
func scopeParams(scope *model.Scope, g *Graph) func(string, *tfjs.Tensor) *Node {
	return func(name string, _ *tfjs.Tensor) *Node {
		v := scope.GetVariable(cnnWeightName(name))
		if v == nil {
			panic(fmt.Errorf("encode: weight %s not loaded in scope %s", cnnWeightName(name), scope.Scope()))
		}
		return v.NodeValue(g)
	}
}

// Forward implements TunableImage: the encoder's feature graph [B, Dim].
func (c *CNN) Forward(scope *model.Scope, x *Node) *Node {
	y := c.model.Build(x, c.featureOpts(scopeParams(scope, x.Graph())))
	if c.layer != "" {
		y = globalPool(y)
	}
	return y
}

// HeadScale implements TunableImage: pooled post-ReLU features have a
// usable scale.
func (c *CNN) HeadScale() float64 { return 1 }

// blockLayers returns the layers that end each block, in order, or nil
// when the encoder has no block split (an intermediate-layer encoder, or
// a model outside cnnFamilies).
func (c *CNN) blockLayers() []string {
	f, ok := cnnFamilies[c.family]
	if !ok || c.layer != "" {
		return nil
	}
	var out []string
	for _, b := range f.blocks {
		out = append(out, f.block(b, func(name string) bool { _, ok := c.model.Layer(name); return ok }))
	}
	return out
}

// Layers implements LayeredImage: 0 when the encoder has no block split.
func (c *CNN) Layers() int { return len(c.blockLayers()) }

// cut is the layer after the first n blocks.
func (c *CNN) cut(n int) string {
	b := c.blockLayers()
	if n < 1 || n > len(b) {
		panic(fmt.Errorf("encode: %s: cannot split after %d blocks (has %d)", c.name, n, len(b)))
	}
	return b[n-1]
}

// Bottom implements LayeredImage.
func (c *CNN) Bottom(scope *model.Scope, x *Node, n int) *Node {
	return c.model.Build(x, tfjs.BuildOptions{Until: c.cut(n), Params: scopeParams(scope, x.Graph())})
}

// Top implements LayeredImage.
func (c *CNN) Top(scope *model.Scope, hidden *Node, n int) *Node {
	opts := c.featureOpts(scopeParams(scope, hidden.Graph()))
	opts.From = c.cut(n)
	return c.model.Build(hidden, opts)
}

// BottomWeights implements LayeredImage.
func (c *CNN) BottomWeights(n int) map[string]bool {
	out := map[string]bool{}
	for _, w := range c.model.FoldedWeights(tfjs.BuildOptions{Until: c.cut(n)}) {
		out[cnnWeightName(w.Name)] = true
	}
	return out
}

// FoldedWeight returns the pretrained value of the variable LoadWeights
// names name (BatchNorm folded in), for checks of what fine-tuning moved.
func (c *CNN) FoldedWeight(name string) ([]float32, error) {
	for _, w := range c.model.FoldedWeights(c.featureOpts(nil)) {
		if cnnWeightName(w.Name) == name {
			return w.F32, nil
		}
	}
	return nil, fmt.Errorf("encode: %s: no weight %q", c.name, name)
}
