package tfjs

import (
	"encoding/json"
	"math"

	"github.com/gomlx/compute"
	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

// BuildOptions tune how Build interprets a layers model.
type BuildOptions struct {
	// Until names the layer whose output Build returns ("" = the model
	// output). Encoders stop at the penultimate "flatten_1".
	Until string
	// GlobalPoolBeforeFlatten replaces an AveragePooling2D that feeds a
	// Flatten by a global average over the spatial axes. At the model's
	// native input size the two agree exactly (MobileNetV2: 7×7 pool on a
	// 7×7 map; InceptionV3: 8×8 on 8×8); at a smaller input size only the
	// global form is defined, so this is what makes a reduced input size
	// usable.
	GlobalPoolBeforeFlatten bool
	// NoFold turns off the folding of BatchNormalization and ReLU layers
	// into the convolution before them (see convChain): every layer is
	// then its own ops, as written. Tests use it to check the folding.
	NoFold bool
	// Params, when set, supplies every convolution's weights as graph
	// values instead of constants, so that they can be trained: it is
	// called with the name of a kernel ("LAYER/kernel" or
	// "LAYER/depthwise_kernel") or bias ("LAYER/bias") and its initial,
	// BatchNorm-folded value (as FoldedWeights lists them), and returns
	// the node to use, of that shape. BatchNormalization then stays folded
	// at its moving statistics (inference mode), the usual way to
	// fine-tune a pretrained CNN on small batches. Incompatible with
	// NoFold.
	Params func(name string, init *Tensor) *gr.Node
	// From makes Build's x the output of layer From rather than the
	// model's input, and builds only the layers after it: a top-block
	// fine-tune feeds activations cached once. From must be a cut point:
	// no later layer may read one before it.
	From string
}

// Build adds the model's forward pass to x's graph: x is [N, H, W, C]
// float32 (channels last, as Keras) and the result is the output of
// opts.Until. Layers it does not know, or options it does not support,
// panic with a message naming the layer (GoMLX graph building reports
// errors by panicking; Exec turns that into an error).
func (m *LayersModel) Build(x *gr.Node, opts BuildOptions) *gr.Node {
	until := opts.Until
	if until == "" {
		until = m.Output
	}
	consumers := map[string][]string{} // layer name -> names of the layers it feeds
	byName := map[string]Layer{}
	for _, l := range m.Layers {
		byName[l.Name] = l
		for _, in := range l.Inbound {
			consumers[in] = append(consumers[in], l.Name)
		}
	}
	if opts.Params != nil && opts.NoFold {
		exceptions.Panicf("tfjs: BuildOptions.Params needs the BatchNorm folding (NoFold is set)")
	}
	out := map[string]*gr.Node{}
	absorbed := map[string]bool{} // layers folded into an earlier convolution
	started := opts.From == ""
	for _, l := range m.Layers {
		if !started {
			if l.Name == opts.From {
				started = true
				out[l.Name] = x
				if l.Name == until {
					return x
				}
			}
			continue
		}
		if absorbed[l.Name] {
			if l.Name == until {
				return out[l.Name]
			}
			continue
		}
		var ins []*gr.Node
		for _, n := range l.Inbound {
			if out[n] == nil {
				exceptions.Panicf("tfjs: layer %q reads %q, which comes before From %q: not a cut point", l.Name, n, opts.From)
			}
			ins = append(ins, out[n])
		}
		var y *gr.Node
		if l.Name == m.Input {
			y = x
		} else {
			if len(ins) == 0 {
				exceptions.Panicf("tfjs: layer %q (%s) has no inputs", l.Name, l.Class)
			}
			global := false
			if opts.GlobalPoolBeforeFlatten && l.Class == "AveragePooling2D" && len(consumers[l.Name]) == 1 {
				global = byName[consumers[l.Name][0]].Class == "Flatten"
			}
			if !opts.NoFold && (l.Class == "Conv2D" || l.Class == "DepthwiseConv2D") {
				chain := m.convChain(l, consumers, byName, until)
				if opts.Params != nil {
					y = m.convParams(l, ins[0], chain, opts.Params)
				} else {
					y = m.convFused(l, ins[0], chain)
				}
				for _, a := range chain.absorbed {
					absorbed[a] = true
					out[a] = y
				}
			} else {
				y = m.apply(l, ins, global, opts.Params != nil)
			}
		}
		out[l.Name] = y
		if l.Name == until {
			return y
		}
	}
	if !started {
		exceptions.Panicf("tfjs: From layer %q not found in model %q", opts.From, m.Name)
	}
	exceptions.Panicf("tfjs: layer %q not found in model %q", until, m.Name)
	return nil
}

// layerConfig holds the config keys the supported layers use.
type layerConfig struct {
	Filters         int       `json:"filters"`
	Units           int       `json:"units"`
	KernelSize      []int     `json:"kernel_size"`
	Strides         []int     `json:"strides"`
	PoolSize        []int     `json:"pool_size"`
	Padding         any       `json:"padding"` // "same"/"valid", or [[t,b],[l,r]] for ZeroPadding2D
	DataFormat      string    `json:"data_format"`
	DilationRate    []int     `json:"dilation_rate"`
	Activation      string    `json:"activation"`
	UseBias         bool      `json:"use_bias"`
	DepthMultiplier int       `json:"depth_multiplier"`
	Axis            any       `json:"axis"`
	Epsilon         float64   `json:"epsilon"`
	Center          *bool     `json:"center"`
	Scale           *bool     `json:"scale"`
	MaxValue        *float64  `json:"max_value"`
	NegativeSlope   float64   `json:"negative_slope"`
	Threshold       float64   `json:"threshold"`
	Rate            float64   `json:"rate"`
	_               [0]func() // not comparable
}

// apply builds layer l on ins. trainable pads by concatenation (see
// padConcat), so that gradients flow through padding.
func (m *LayersModel) apply(l Layer, ins []*gr.Node, globalPool, trainable bool) *gr.Node {
	var c layerConfig
	if err := json.Unmarshal(l.Config, &c); err != nil {
		exceptions.Panicf("tfjs: layer %q (%s): config: %v", l.Name, l.Class, err)
	}
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		exceptions.Panicf("tfjs: layer %q: data_format %q, only channels_last is supported", l.Name, c.DataFormat)
	}
	x := ins[0]
	switch l.Class {
	case "Dropout", "SpatialDropout2D":
		return x // inference: identity
	case "Activation":
		return activation(l, x, c.Activation)
	case "ReLU":
		if c.NegativeSlope != 0 || c.Threshold != 0 {
			exceptions.Panicf("tfjs: layer %q: ReLU with negative_slope %g / threshold %g not supported", l.Name, c.NegativeSlope, c.Threshold)
		}
		y := gr.MaxScalar(x, 0.0)
		if c.MaxValue != nil {
			y = gr.MinScalar(y, *c.MaxValue)
		}
		return y
	case "Add":
		y := x
		for _, o := range ins[1:] {
			y = gr.Add(y, o)
		}
		return y
	case "Concatenate":
		axis := -1
		if a, ok := c.Axis.(float64); ok {
			axis = int(a)
		}
		if axis < 0 {
			axis += x.Rank()
		}
		return gr.Concatenate(ins, axis)
	case "Flatten":
		return gr.Reshape(x, x.Shape().Dimensions[0], -1)
	case "GlobalAveragePooling2D":
		return gr.ReduceMean(x, 1, 2)
	case "ZeroPadding2D":
		p := padPairs(l, c.Padding)
		zero := gr.ScalarZero(x.Graph(), x.DType())
		if trainable {
			return padConcat(x, zero, [][2]int{p[0], p[1]})
		}
		return gr.Pad(x, zero, compute.PadAxis{}, compute.PadAxis{Start: p[0][0], End: p[0][1]},
			compute.PadAxis{Start: p[1][0], End: p[1][1]}, compute.PadAxis{})
	case "Conv2D", "DepthwiseConv2D":
		return m.conv(l, c, x)
	case "BatchNormalization":
		return m.batchNorm(l, c, x)
	case "Dense":
		in := x.Shape().Dimensions[x.Rank()-1]
		k := m.constant(x.Graph(), l.Name, "kernel", in, c.Units)
		y := gr.Dot(x, k).Product()
		if c.UseBias {
			y = gr.Add(y, gr.Reshape(m.constant(x.Graph(), l.Name, "bias", c.Units), 1, c.Units))
		}
		return activation(l, y, c.Activation)
	case "MaxPooling2D", "AveragePooling2D":
		if globalPool {
			return gr.Reshape(gr.ReduceMean(x, 1, 2), x.Shape().Dimensions[0], 1, 1, x.Shape().Dimensions[3])
		}
		return pool(l, c, x, trainable)
	}
	exceptions.Panicf("tfjs: layer %q: Keras layer class %q is not supported", l.Name, l.Class)
	return nil
}

func activation(l Layer, x *gr.Node, name string) *gr.Node {
	switch name {
	case "", "linear":
		return x
	case "relu":
		return gr.MaxScalar(x, 0.0)
	case "relu6":
		return gr.MinScalar(gr.MaxScalar(x, 0.0), 6.0)
	case "sigmoid":
		return gr.Sigmoid(x)
	case "tanh":
		return gr.Tanh(x)
	case "softmax":
		return gr.Softmax(x, -1)
	}
	exceptions.Panicf("tfjs: layer %q: activation %q is not supported", l.Name, name)
	return nil
}

// padPairs reads ZeroPadding2D's padding: an int, [h, w] or [[t, b], [l, r]].
func padPairs(l Layer, p any) [2][2]int {
	switch v := p.(type) {
	case float64:
		n := int(v)
		return [2][2]int{{n, n}, {n, n}}
	case []any:
		var out [2][2]int
		if len(v) == 2 {
			for i, e := range v {
				switch w := e.(type) {
				case float64:
					out[i] = [2]int{int(w), int(w)}
				case []any:
					if len(w) == 2 {
						a, _ := w[0].(float64)
						b, _ := w[1].(float64)
						out[i] = [2]int{int(a), int(b)}
						continue
					}
					exceptions.Panicf("tfjs: layer %q: bad padding %v", l.Name, p)
				}
			}
			return out
		}
	}
	exceptions.Panicf("tfjs: layer %q: bad padding %v", l.Name, p)
	return [2][2]int{}
}

// samePads is TensorFlow's "same" padding for one spatial axis: the output
// has ceil(in/stride) positions and the extra row/column, when the total is
// odd, goes at the end.
func samePads(in, k, stride, dilation int) [2]int {
	eff := (k-1)*dilation + 1
	out := (in + stride - 1) / stride
	total := max((out-1)*stride+eff-in, 0)
	return [2]int{total / 2, total - total/2}
}

func pair(v []int, def int) [2]int {
	switch len(v) {
	case 0:
		return [2]int{def, def}
	case 1:
		return [2]int{v[0], v[0]}
	}
	return [2]int{v[0], v[1]}
}

func paddingOf(l Layer, c layerConfig, x *gr.Node, k, s, d [2]int) [][2]int {
	switch c.Padding {
	case "valid":
		return [][2]int{{0, 0}, {0, 0}}
	case "same":
		dims := x.Shape().Dimensions
		return [][2]int{samePads(dims[1], k[0], s[0], d[0]), samePads(dims[2], k[1], s[1], d[1])}
	}
	exceptions.Panicf("tfjs: layer %q: padding %v not supported", l.Name, c.Padding)
	return nil
}

// conv applies a convolution layer on its own (nothing folded into it).
func (m *LayersModel) conv(l Layer, c layerConfig, x *gr.Node) *gr.Node {
	return m.convFused(l, x, convChain{act: c.Activation})
}

// convChain is what Build folds into one Conv2D/DepthwiseConv2D: the
// BatchNormalization that alone consumes it (its per-channel scale goes
// into the kernel, its offset into the bias, both at graph-build time) and
// the ReLU/ReLU6 that alone consumes that. On GoMLX's pure-Go backend every
// elementwise op is a separate single-threaded pass over memory, and a
// per-channel broadcast one goes through a generic index iterator (~3×
// slower than a same-shape op), so the unfolded BN multiply and add plus a
// separate bias add cost more than the 1×1 convolutions' matmuls.
type convChain struct {
	scale, offset []float64 // folded BN per output channel; nil when none
	act           string    // activation after the (folded) conv
	absorbed      []string  // layers whose output is the fused output
}

// convChain finds the layers Build may fold into convolution l: only sole
// consumers, and never past the layer Build must return (until).
func (m *LayersModel) convChain(l Layer, consumers map[string][]string, byName map[string]Layer, until string) convChain {
	c := parseConfig(l)
	ch := convChain{act: c.Activation}
	if ch.act == "linear" {
		ch.act = ""
	}
	if l.Name == until || len(consumers[l.Name]) != 1 {
		return ch
	}
	next := byName[consumers[l.Name][0]]
	if ch.act == "" && next.Class == "BatchNormalization" {
		bc := parseConfig(next)
		if a, ok := bc.Axis.(float64); !ok || int(a) == -1 || int(a) == 3 {
			ch.scale, ch.offset = m.bnFold(next, bc, m.convOutChannels(l, c))
			ch.absorbed = append(ch.absorbed, next.Name)
			if next.Name == until || len(consumers[next.Name]) != 1 {
				return ch
			}
			next = byName[consumers[next.Name][0]]
		}
	}
	if ch.act == "" {
		if act := reluOf(next); act != "" {
			ch.act = act
			ch.absorbed = append(ch.absorbed, next.Name)
		}
	}
	return ch
}

// reluOf returns "relu" or "relu6" when layer l is exactly that activation
// (a ReLU layer or an Activation layer), else "".
func reluOf(l Layer) string {
	switch l.Class {
	case "ReLU":
		c := parseConfig(l)
		if c.NegativeSlope != 0 || c.Threshold != 0 {
			return ""
		}
		switch {
		case c.MaxValue == nil:
			return "relu"
		case *c.MaxValue == 6:
			return "relu6"
		}
	case "Activation":
		if a := parseConfig(l).Activation; a == "relu" || a == "relu6" {
			return a
		}
	}
	return ""
}

func parseConfig(l Layer) layerConfig {
	var c layerConfig
	if err := json.Unmarshal(l.Config, &c); err != nil {
		exceptions.Panicf("tfjs: layer %q (%s): config: %v", l.Name, l.Class, err)
	}
	return c
}

// convOutChannels is the number of output channels of convolution l, read
// from its kernel's shape.
func (m *LayersModel) convOutChannels(l Layer, c layerConfig) int {
	if l.Class == "DepthwiseConv2D" {
		kt := m.weightOf(l.Name, "depthwise_kernel")
		return kt.Shape[2] * kt.Shape[3]
	}
	return c.Filters
}

// convFused builds convolution l on x [N, H, W, Cin] with ch folded in
// (see foldConv), then ch.act. Result [N, oh, ow, Cout].
func (m *LayersModel) convFused(l Layer, x *gr.Node, ch convChain) *gr.Node {
	c := parseConfig(l)
	k, s, d := pair(c.KernelSize, 1), pair(c.Strides, 1), pair(c.DilationRate, 1)
	pads := paddingOf(l, c, x, k, s, d)
	kt, bias := m.foldConv(l, ch)
	if kt.Shape[2] != x.Shape().Dimensions[3] {
		exceptions.Panicf("tfjs: layer %q: kernel %v for %d input channels", l.Name, kt.Shape, x.Shape().Dimensions[3])
	}
	act := ch.act
	if act == "linear" {
		act = ""
	}
	fusedAct := act
	if act != "relu" && act != "relu6" {
		fusedAct = ""
	}
	var y *gr.Node
	if l.Class == "DepthwiseConv2D" {
		y = depthwiseFused(x, kt, bias, fusedAct, k, s, d, pads)
	} else {
		y = convTapsFused(x, kt, bias, fusedAct, k, s, d, pads)
	}
	if fusedAct == "" {
		y = activation(l, y, act)
	}
	return y
}

// foldConv returns convolution l's kernel and bias (nil: none) with ch's
// BatchNorm folded in: kernel'[..., o] = kernel[..., o]·scale[o],
// bias'[o] = bias[o]·scale[o] + offset[o] (float64, rounded once). A
// depthwise kernel is [kh, kw, C, mult]; its output channel c·mult+j.
func (m *LayersModel) foldConv(l Layer, ch convChain) (*Tensor, []float32) {
	c := parseConfig(l)
	k := pair(c.KernelSize, 1)
	var kt *Tensor
	var outC int
	if l.Class == "DepthwiseConv2D" {
		kt = m.weightOf(l.Name, "depthwise_kernel")
		if len(kt.Shape) != 4 || kt.Shape[0] != k[0] || kt.Shape[1] != k[1] {
			exceptions.Panicf("tfjs: layer %q: depthwise kernel shape %v for kernel size %v", l.Name, kt.Shape, k)
		}
		outC = kt.Shape[2] * kt.Shape[3]
	} else {
		kt = m.weightOf(l.Name, "kernel")
		if len(kt.Shape) != 4 || kt.Shape[0] != k[0] || kt.Shape[1] != k[1] || kt.Shape[3] != c.Filters {
			exceptions.Panicf("tfjs: layer %q: kernel shape %v for kernel size %v and %d filters", l.Name, kt.Shape, k, c.Filters)
		}
		outC = c.Filters
	}
	var bias []float32
	if c.UseBias {
		bias = m.weightOf(l.Name, "bias", outC).F32
	}
	if ch.scale != nil {
		w := make([]float32, len(kt.F32))
		for i, v := range kt.F32 {
			w[i] = float32(float64(v) * ch.scale[i%outC])
		}
		kt = &Tensor{Name: kt.Name, Shape: kt.Shape, DType: kt.DType, F32: w}
		b := make([]float32, outC)
		for o := range b {
			v := ch.offset[o]
			if bias != nil {
				v += float64(bias[o]) * ch.scale[o]
			}
			b[o] = float32(v)
		}
		bias = b
	}
	return kt, bias
}

// bnFold turns an inference-time BatchNormalization over n channels into
// one scale and offset per channel: y = x·s + o with s = γ/sqrt(var+ε),
// o = β − mean·s, in float64. Folded and rounded once, it differs from
// TF.js's unfolded float32 arithmetic by a few ulps, far below the parity
// tolerance.
func (m *LayersModel) bnFold(l Layer, c layerConfig, n int) (scale, offset []float64) {
	get := func(suffix string) []float32 { return m.weightOf(l.Name, suffix, n).F32 }
	mean, variance := get("moving_mean"), get("moving_variance")
	var gamma, beta []float32
	if c.Scale == nil || *c.Scale {
		gamma = get("gamma")
	}
	if c.Center == nil || *c.Center {
		beta = get("beta")
	}
	eps := c.Epsilon
	if eps == 0 {
		eps = 1e-3 // Keras default
	}
	scale, offset = make([]float64, n), make([]float64, n)
	for i := range n {
		s := 1 / math.Sqrt(float64(variance[i])+eps)
		if gamma != nil {
			s *= float64(gamma[i])
		}
		o := -float64(mean[i]) * s
		if beta != nil {
			o += float64(beta[i])
		}
		scale[i], offset[i] = s, o
	}
	return scale, offset
}

// batchNorm applies a BatchNormalization that Build could not fold into a
// convolution: x·s + o per channel (see bnFold).
func (m *LayersModel) batchNorm(l Layer, c layerConfig, x *gr.Node) *gr.Node {
	if a, ok := c.Axis.(float64); ok && int(a) != -1 && int(a) != x.Rank()-1 {
		exceptions.Panicf("tfjs: layer %q: BatchNormalization over axis %v, only the channel axis is supported", l.Name, c.Axis)
	}
	n := x.Shape().Dimensions[x.Rank()-1]
	s64, o64 := m.bnFold(l, c, n)
	scale, offset := make([]float32, n), make([]float32, n)
	for i := range n {
		scale[i], offset[i] = float32(s64[i]), float32(o64[i])
	}
	g := x.Graph()
	return gr.Add(gr.Mul(x, channelConst(g, scale, x.Rank())), channelConst(g, offset, x.Rank()))
}

// pool implements Keras max and average pooling as a max or sum over the
// window's taps (strided slices of the padded input, as in depthwise):
// the pure-Go backend's ReduceWindow walks every window through a generic
// shape iterator and allocates per element, and took 60% of InceptionV3's
// time at 139 px. Average pooling with "same" padding divides by the
// number of real (unpadded) inputs in each window, as TensorFlow does, not
// by the window size; max pooling pads with −Inf so padding never wins.
func pool(l Layer, c layerConfig, x *gr.Node, trainable bool) *gr.Node {
	k := pair(c.PoolSize, 2)
	s := pair(c.Strides, 0)
	if s[0] == 0 {
		s = k // Keras: strides default to pool_size
	}
	pads := paddingOf(l, c, x, k, s, [2]int{1, 1})
	g := x.Graph()
	if l.Class == "MaxPooling2D" {
		taps, _, _ := padAndTapsWith(x, gr.Infinity(g, x.DType(), -1), k, s, [2]int{1, 1}, pads, trainable)
		y := taps[0]
		for _, t := range taps[1:] {
			y = gr.Max(y, t)
		}
		return y
	}
	taps, oh, ow := padAndTapsWith(x, gr.ScalarZero(g, x.DType()), k, s, [2]int{1, 1}, pads, trainable)
	sum := taps[0]
	for _, t := range taps[1:] {
		sum = gr.Add(sum, t)
	}
	dims := x.Shape().Dimensions
	counts := make([]float32, oh*ow)
	uniform := true
	for i := range oh {
		rows := overlap(i*s[0]-pads[0][0], k[0], dims[1])
		for j := range ow {
			counts[i*ow+j] = float32(rows * overlap(j*s[1]-pads[1][0], k[1], dims[2]))
			uniform = uniform && counts[i*ow+j] == counts[0]
		}
	}
	if uniform {
		return gr.DivScalar(sum, float64(counts[0])) // same-shape fast path
	}
	return gr.Div(sum, gr.Const(g, tensors.FromFlatDataAndDimensions(counts, 1, oh, ow, 1)))
}

// overlap counts the positions of window [start, start+k) inside [0, n).
func overlap(start, k, n int) int {
	return max(min(start+k, n)-max(start, 0), 0)
}

// constant returns weight layer/suffix, of the given shape, as a graph constant.
func (m *LayersModel) constant(g *gr.Graph, layer, suffix string, shape ...int) *gr.Node {
	t, err := m.weight(layer, suffix, shape...)
	if err != nil {
		exceptions.Panicf("%v", err)
	}
	return gr.Const(g, tensors.FromFlatDataAndDimensions(t.F32, shape...))
}

// channelConst is a per-channel vector as a [1, ..., 1, n] constant of the
// given rank: GoMLX broadcasts only between equal ranks.
func channelConst(g *gr.Graph, v []float32, rank int) *gr.Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[rank-1] = len(v)
	return gr.Const(g, tensors.FromFlatDataAndDimensions(v, dims...))
}

// weightOf returns weight layer/suffix of the given shape, panicking (the
// graph-building convention) when it is missing or misshapen.
func (m *LayersModel) weightOf(layer, suffix string, shape ...int) *Tensor {
	t, err := m.weight(layer, suffix, shape...)
	if err != nil {
		exceptions.Panicf("%v", err)
	}
	return t
}

// depthwise computes a Keras DepthwiseConv2D, kernel [kh, kw, C, mult],
// as a sum over the kh·kw taps of strided slices of the zero-padded input
// times a per-channel weight. GoMLX's pure-Go backend runs the equivalent
// grouped convolution (feature_group_count = C) far slower (measured ~10 s
// per 224² MobileNetV2 image on a loaded 2-core machine); the taps are
// cheap elementwise ops. Output channel c·mult+j, Keras' order.
func depthwise(x *gr.Node, kt *Tensor, k, s, d [2]int, pads [][2]int) *gr.Node {
	return depthwiseFused(x, kt, nil, "", k, s, d, pads)
}

// depthwiseFullConstMax bounds the size (in values) of one tiled
// per-channel constant in depthwiseFused: 2 MiB each, about 80 MiB of
// constants in all for MobileNetV2 at 224 px with one image per batch. A
// variable so tests can force the broadcasting form.
var depthwiseFullConstMax = 1 << 19

// depthwiseFused is depthwise followed by a per-channel bias (nil: none)
// and act ("", "relu" or "relu6"). The per-channel products run on
// [N·oh·ow, C] views: the backend's broadcast iterator is cheaper over two
// axes than over four.
func depthwiseFused(x *gr.Node, kt *Tensor, bias []float32, act string, k, s, d [2]int, pads [][2]int) *gr.Node {
	g := x.Graph()
	inC, mult := kt.Shape[2], kt.Shape[3]
	n := x.Shape().Dimensions[0]
	if mult > 1 {
		// Repeat each channel mult times: [N, H, W, C] -> [N, H, W, C*mult].
		dims := x.Shape().Dimensions
		h, w := dims[1], dims[2]
		x = gr.Reshape(gr.BroadcastToDims(gr.Reshape(x, n, h, w, inC, 1), n, h, w, inC, mult), n, h, w, inC*mult)
	}
	outC := inC * mult
	taps, oh, ow := padAndTaps(x, k, s, d, pads)
	rows := n * oh * ow
	// perChannel is v [outC] as a constant the products can use: tiled to
	// the full [rows, outC] when that is small enough, since a same-shape
	// product runs ~2.5× faster than a broadcasting one on the pure-Go
	// backend (its broadcast goes through a generic index iterator); else
	// [1, outC], broadcast.
	full := rows*outC <= depthwiseFullConstMax
	perChannel := func(v []float32) *gr.Node {
		if !full {
			return channelConst(g, v, 2)
		}
		tiled := make([]float32, rows*outC)
		for r := range rows {
			copy(tiled[r*outC:], v)
		}
		return gr.Const(g, tensors.FromFlatDataAndDimensions(tiled, rows, outC))
	}
	var y *gr.Node
	for t, tap := range taps {
		p := gr.Mul(gr.Reshape(tap, rows, outC), perChannel(kt.F32[t*outC:(t+1)*outC]))
		if y == nil {
			y = p
		} else {
			y = gr.Add(y, p)
		}
	}
	if bias != nil {
		y = gr.Add(y, perChannel(bias))
	}
	switch act {
	case "relu":
		y = gr.MaxScalar(y, 0)
	case "relu6":
		y = gr.MinScalar(gr.MaxScalar(y, 0), 6)
	}
	return gr.Reshape(y, n, oh, ow, outC)
}

// padAndTaps zero-pads x [N, H, W, C] and returns, for each kernel tap
// (i, j) in row-major order, the strided slice [N, oh, ow, C] it multiplies.
func padAndTaps(x *gr.Node, k, s, d [2]int, pads [][2]int) (taps []*gr.Node, oh, ow int) {
	return padAndTapsWith(x, gr.ScalarZero(x.Graph(), x.DType()), k, s, d, pads, false)
}

// padAndTapsWith is padAndTaps padding with the scalar node value, by
// concatenation when trainable (see padConcat).
func padAndTapsWith(x, value *gr.Node, k, s, d [2]int, pads [][2]int, trainable bool) (taps []*gr.Node, oh, ow int) {
	xp := x
	if trainable {
		xp = padConcat(x, value, pads)
	} else if pads[0] != [2]int{} || pads[1] != [2]int{} {
		xp = gr.Pad(x, value, compute.PadAxis{}, compute.PadAxis{Start: pads[0][0], End: pads[0][1]},
			compute.PadAxis{Start: pads[1][0], End: pads[1][1]}, compute.PadAxis{})
	}
	return tapsOf(xp, k, s, d)
}

// tapsOf returns, for each kernel tap (i, j) in row-major order, the
// strided slice [N, oh, ow, C] of the already padded xp it multiplies.
func tapsOf(xp *gr.Node, k, s, d [2]int) (taps []*gr.Node, oh, ow int) {
	hp, wp := xp.Shape().Dimensions[1], xp.Shape().Dimensions[2]
	oh = (hp-((k[0]-1)*d[0]+1))/s[0] + 1
	ow = (wp-((k[1]-1)*d[1]+1))/s[1] + 1
	for i := range k[0] {
		for j := range k[1] {
			r0, c0 := i*d[0], j*d[1]
			if k == [2]int{1, 1} && s == [2]int{1, 1} {
				taps = append(taps, xp)
				continue
			}
			taps = append(taps, gr.Slice(xp, gr.AxisRange(),
				gr.AxisRange(r0, r0+(oh-1)*s[0]+1).Stride(s[0]),
				gr.AxisRange(c0, c0+(ow-1)*s[1]+1).Stride(s[1]), gr.AxisRange()))
		}
	}
	return taps, oh, ow
}

// convTaps computes a Keras Conv2D, kernel [kh, kw, Cin, Cout], as a sum
// over taps of matrix products [N·oh·ow, Cin] × [Cin, Cout]. This is
// im2col without materialising the patch matrix; on GoMLX's pure-Go
// backend it runs on the optimised matrix multiply, whereas the generic
// convolution was ~50× slower (measured on MobileNetV2).
func convTaps(x *gr.Node, kt *Tensor, k, s, d [2]int, pads [][2]int) *gr.Node {
	return convTapsFused(x, kt, nil, "", k, s, d, pads)
}

// convTapsFused is convTaps followed by a per-channel bias (nil: none) and
// act ("", "relu" or "relu6"). Where the backend has a fused dense op
// (the pure-Go one does), the first tap's product, the bias and, for a
// single-tap (1×1) convolution, the ReLU run as one op whose bias add and
// activation are in-place loops over the matmul's output, instead of
// separate broadcast passes.
func convTapsFused(x *gr.Node, kt *Tensor, bias []float32, act string, k, s, d [2]int, pads [][2]int) *gr.Node {
	g := x.Graph()
	n := x.Shape().Dimensions[0]
	inC, outC := kt.Shape[2], kt.Shape[3]
	taps, oh, ow := padAndTaps(x, k, s, d, pads)
	fused := (bias != nil || act != "") && g.Backend().Capabilities().Operations[compute.OpTypeFusedDense]
	var y *gr.Node
	actDone := false
	for t, tap := range taps {
		w := gr.Const(g, tensors.FromFlatDataAndDimensions(kt.F32[t*inC*outC:(t+1)*inC*outC], inC, outC))
		x2 := gr.Reshape(tap, n*oh*ow, inC)
		var p *gr.Node
		if t == 0 && fused {
			var b *gr.Node
			if bias != nil {
				b = gr.Const(g, tensors.FromFlatDataAndDimensions(bias, outC))
			}
			fa := compute.ActivationNone
			if len(taps) == 1 && (act == "relu" || act == "relu6") {
				fa, actDone = compute.ActivationRelu, true
			}
			p = gr.BackendFusedDense(x2, w, b, fa)
		} else {
			p = gr.Dot(x2, w).Product()
		}
		if y == nil {
			y = p
		} else {
			y = gr.Add(y, p)
		}
	}
	if bias != nil && !fused {
		y = gr.Add(y, channelConst(g, bias, 2))
	}
	switch {
	case act == "relu6" && actDone:
		y = gr.MinScalar(y, 6)
	case act == "relu6":
		y = gr.MinScalar(gr.MaxScalar(y, 0), 6)
	case act == "relu" && !actDone:
		y = gr.MaxScalar(y, 0)
	}
	return gr.Reshape(y, n, oh, ow, outC)
}
