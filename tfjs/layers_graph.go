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
	consumers := map[string][]string{}
	for _, l := range m.Layers {
		for _, in := range l.Inbound {
			consumers[in] = append(consumers[in], l.Class)
		}
	}
	out := map[string]*gr.Node{}
	for _, l := range m.Layers {
		var ins []*gr.Node
		for _, n := range l.Inbound {
			ins = append(ins, out[n])
		}
		var y *gr.Node
		if l.Name == m.Input {
			y = x
		} else {
			if len(ins) == 0 {
				exceptions.Panicf("tfjs: layer %q (%s) has no inputs", l.Name, l.Class)
			}
			global := opts.GlobalPoolBeforeFlatten && l.Class == "AveragePooling2D" &&
				len(consumers[l.Name]) == 1 && consumers[l.Name][0] == "Flatten"
			y = m.apply(l, ins, global)
		}
		out[l.Name] = y
		if l.Name == until {
			return y
		}
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

func (m *LayersModel) apply(l Layer, ins []*gr.Node, globalPool bool) *gr.Node {
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
		return pool(l, c, x)
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

func (m *LayersModel) conv(l Layer, c layerConfig, x *gr.Node) *gr.Node {
	g := x.Graph()
	k, s, d := pair(c.KernelSize, 1), pair(c.Strides, 1), pair(c.DilationRate, 1)
	inC := x.Shape().Dimensions[3]
	var y *gr.Node
	outC := c.Filters
	pads := paddingOf(l, c, x, k, s, d)
	if l.Class == "DepthwiseConv2D" {
		mult := max(c.DepthMultiplier, 1)
		outC = inC * mult
		y = depthwise(x, m.weightOf(l.Name, "depthwise_kernel", k[0], k[1], inC, mult), k, s, d, pads)
	} else {
		y = convTaps(x, m.weightOf(l.Name, "kernel", k[0], k[1], inC, c.Filters), k, s, d, pads)
	}
	if c.UseBias {
		y = gr.Add(y, gr.Reshape(m.constant(g, l.Name, "bias", outC), 1, 1, 1, outC))
	}
	return activation(l, y, c.Activation)
}

// batchNorm folds the inference-time normalisation into one scale and
// offset per channel: y = x*γ/sqrt(var+ε) + (β − mean*γ/sqrt(var+ε)).
// Folding (in float64, rounded once) differs from TF.js's unfolded float32
// arithmetic by a few ulps, far below the parity tolerance.
func (m *LayersModel) batchNorm(l Layer, c layerConfig, x *gr.Node) *gr.Node {
	if a, ok := c.Axis.(float64); ok && int(a) != -1 && int(a) != x.Rank()-1 {
		exceptions.Panicf("tfjs: layer %q: BatchNormalization over axis %v, only the channel axis is supported", l.Name, c.Axis)
	}
	n := x.Shape().Dimensions[x.Rank()-1]
	get := func(suffix string) []float32 {
		t, err := m.weight(l.Name, suffix, n)
		if err != nil {
			exceptions.Panicf("%v", err)
		}
		return t.F32
	}
	mean, variance := get("moving_mean"), get("moving_variance")
	scale, offset := make([]float32, n), make([]float32, n)
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
	for i := range n {
		s := 1 / math.Sqrt(float64(variance[i])+eps)
		if gamma != nil {
			s *= float64(gamma[i])
		}
		o := -float64(mean[i]) * s
		if beta != nil {
			o += float64(beta[i])
		}
		scale[i], offset[i] = float32(s), float32(o)
	}
	g := x.Graph()
	return gr.Add(gr.Mul(x, channelConst(g, scale, x.Rank())), channelConst(g, offset, x.Rank()))
}

// pool implements Keras max and average pooling. Average pooling with
// "same" padding divides by the number of real (unpadded) inputs in each
// window, as TensorFlow does, not by the window size.
func pool(l Layer, c layerConfig, x *gr.Node) *gr.Node {
	k := pair(c.PoolSize, 2)
	s := pair(c.Strides, 0)
	if s[0] == 0 {
		s = k // Keras: strides default to pool_size
	}
	pads := paddingOf(l, c, x, k, s, [2]int{1, 1})
	if l.Class == "MaxPooling2D" {
		return gr.MaxPool(x).WindowPerAxis(k[0], k[1]).StridePerAxis(s[0], s[1]).PaddingPerDim(pads).Done()
	}
	sum := gr.SumPool(x).WindowPerAxis(k[0], k[1]).StridePerAxis(s[0], s[1]).PaddingPerDim(pads).Done()
	dims := x.Shape().Dimensions
	oh, ow := sum.Shape().Dimensions[1], sum.Shape().Dimensions[2]
	counts := make([]float32, oh*ow)
	for i := range oh {
		rows := overlap(i*s[0]-pads[0][0], k[0], dims[1])
		for j := range ow {
			counts[i*ow+j] = float32(rows * overlap(j*s[1]-pads[1][0], k[1], dims[2]))
		}
	}
	return gr.Div(sum, gr.Const(x.Graph(), tensors.FromFlatDataAndDimensions(counts, 1, oh, ow, 1)))
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
	g := x.Graph()
	inC, mult := kt.Shape[2], kt.Shape[3]
	if mult > 1 {
		// Repeat each channel mult times: [N, H, W, C] -> [N, H, W, C*mult].
		dims := x.Shape().Dimensions
		n, h, w := dims[0], dims[1], dims[2]
		x = gr.Reshape(gr.BroadcastToDims(gr.Reshape(x, n, h, w, inC, 1), n, h, w, inC, mult), n, h, w, inC*mult)
	}
	taps, _, _ := padAndTaps(x, k, s, d, pads)
	var y *gr.Node
	for t, tap := range taps {
		w := kt.F32[t*inC*mult : (t+1)*inC*mult]
		p := gr.Mul(tap, channelConst(g, w, 4))
		if y == nil {
			y = p
		} else {
			y = gr.Add(y, p)
		}
	}
	return y
}

// padAndTaps zero-pads x [N, H, W, C] and returns, for each kernel tap
// (i, j) in row-major order, the strided slice [N, oh, ow, C] it multiplies.
func padAndTaps(x *gr.Node, k, s, d [2]int, pads [][2]int) (taps []*gr.Node, oh, ow int) {
	dims := x.Shape().Dimensions
	xp := x
	if pads[0] != [2]int{} || pads[1] != [2]int{} {
		xp = gr.Pad(x, gr.ScalarZero(x.Graph(), x.DType()), compute.PadAxis{}, compute.PadAxis{Start: pads[0][0], End: pads[0][1]},
			compute.PadAxis{Start: pads[1][0], End: pads[1][1]}, compute.PadAxis{})
	}
	hp, wp := dims[1]+pads[0][0]+pads[0][1], dims[2]+pads[1][0]+pads[1][1]
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
	g := x.Graph()
	n := x.Shape().Dimensions[0]
	inC, outC := kt.Shape[2], kt.Shape[3]
	taps, oh, ow := padAndTaps(x, k, s, d, pads)
	var y *gr.Node
	for t, tap := range taps {
		w := gr.Const(g, tensors.FromFlatDataAndDimensions(kt.F32[t*inC*outC:(t+1)*inC*outC], inC, outC))
		p := gr.Dot(gr.Reshape(tap, n*oh*ow, inC), w).Product()
		if y == nil {
			y = p
		} else {
			y = gr.Add(y, p)
		}
	}
	return gr.Reshape(y, n, oh, ow, outC)
}
