package tfjs

import (
	"slices"

	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// FoldedWeights lists, in layer order, the convolution weights that Build
// with opts (its Until and From) passes to opts.Params: each kernel and
// bias with the BatchNormalization after it folded in, named
// "LAYER/kernel", "LAYER/depthwise_kernel" or "LAYER/bias". Fine-tuning
// creates one variable per entry.
func (m *LayersModel) FoldedWeights(opts BuildOptions) []*Tensor {
	until := opts.Until
	if until == "" {
		until = m.Output
	}
	consumers := map[string][]string{}
	byName := map[string]Layer{}
	for _, l := range m.Layers {
		byName[l.Name] = l
		for _, in := range l.Inbound {
			consumers[in] = append(consumers[in], l.Name)
		}
	}
	var out []*Tensor
	absorbed := map[string]bool{}
	started := opts.From == ""
	for _, l := range m.Layers {
		if !started {
			started = l.Name == opts.From
			if started && l.Name == until {
				return out
			}
			continue
		}
		if !absorbed[l.Name] && (l.Class == "Conv2D" || l.Class == "DepthwiseConv2D") {
			chain := m.convChain(l, consumers, byName, until)
			for _, a := range chain.absorbed {
				absorbed[a] = true
			}
			kt, bias := m.foldConv(l, chain)
			out = append(out, &Tensor{Name: l.Name + "/" + kernelSuffix(l), Shape: kt.Shape, DType: "float32", F32: kt.F32})
			if bias != nil {
				out = append(out, &Tensor{Name: l.Name + "/bias", Shape: []int{len(bias)}, DType: "float32", F32: bias})
			}
		}
		if l.Name == until {
			return out
		}
	}
	return out
}

func kernelSuffix(l Layer) string {
	if l.Class == "DepthwiseConv2D" {
		return "depthwise_kernel"
	}
	return "kernel"
}

// convParams is convFused with the folded kernel and bias read through
// params (see BuildOptions.Params) as graph values: a sum over taps of
// matrix products for a convolution, of per-channel products for a
// depthwise one, then the bias and ch.act; every op has a gradient.
// Result [N, oh, ow, Cout].
func (m *LayersModel) convParams(l Layer, x *gr.Node, ch convChain, params func(string, *Tensor) *gr.Node) *gr.Node {
	c := parseConfig(l)
	k, s, d := pair(c.KernelSize, 1), pair(c.Strides, 1), pair(c.DilationRate, 1)
	pads := paddingOf(l, c, x, k, s, d)
	kt, bias := m.foldConv(l, ch)
	inC := x.Shape().Dimensions[3]
	if kt.Shape[2] != inC {
		exceptions.Panicf("tfjs: layer %q: kernel %v for %d input channels", l.Name, kt.Shape, inC)
	}
	param := func(name string, t *Tensor) *gr.Node {
		v := params(l.Name+"/"+name, t)
		if got := v.Shape().Dimensions; len(got) != len(t.Shape) || v.Shape().Size() != t.Size() {
			exceptions.Panicf("tfjs: layer %q: Params gave %s shape %v, want %v", l.Name, name, got, t.Shape)
		}
		return v
	}
	kn := param(kernelSuffix(l), &Tensor{Name: kt.Name, Shape: kt.Shape, DType: "float32", F32: kt.F32})
	n := x.Shape().Dimensions[0]
	taps, oh, ow := padAndTapsWith(x, gr.ScalarZero(x.Graph(), x.DType()), k, s, d, pads, true)
	rows := n * oh * ow
	var y *gr.Node
	outC := kt.Shape[3]
	if l.Class == "DepthwiseConv2D" {
		mult := kt.Shape[3]
		outC = inC * mult
		if mult > 1 {
			exceptions.Panicf("tfjs: layer %q: trainable depthwise convolutions with depth_multiplier %d are not supported", l.Name, mult)
		}
		kr := gr.Reshape(kn, k[0]*k[1], outC)
		for t, tap := range taps {
			p := gr.Mul(gr.Reshape(tap, rows, outC), gr.Slice(kr, gr.AxisRange(t, t+1), gr.AxisRange()))
			if y == nil {
				y = p
			} else {
				y = gr.Add(y, p)
			}
		}
	} else {
		kr := gr.Reshape(kn, k[0]*k[1], inC, outC)
		for t, tap := range taps {
			w := gr.Reshape(gr.Slice(kr, gr.AxisRange(t, t+1), gr.AxisRange(), gr.AxisRange()), inC, outC)
			p := gr.Dot(gr.Reshape(tap, rows, inC), w).Product()
			if y == nil {
				y = p
			} else {
				y = gr.Add(y, p)
			}
		}
	}
	if bias != nil {
		b := param("bias", &Tensor{Shape: []int{outC}, DType: "float32", F32: bias})
		y = gr.Add(y, gr.Reshape(b, 1, outC))
	}
	y = gr.Reshape(y, n, oh, ow, outC)
	act := ch.act
	if act == "linear" {
		act = ""
	}
	return activation(l, y, act)
}

// padConcat pads the spatial axes of x [N, H, W, C] by pads with the
// scalar value, by concatenating constant blocks: GoMLX (v0.28) has no
// gradient for Pad, and a trainable convolution's input gradient flows
// through its padding.
func padConcat(x, value *gr.Node, pads [][2]int) *gr.Node {
	for axis := 1; axis <= 2; axis++ {
		lo, hi := pads[axis-1][0], pads[axis-1][1]
		block := func(n int) *gr.Node {
			dims := slices.Clone(x.Shape().Dimensions)
			dims[axis] = n
			return gr.BroadcastToDims(value, dims...)
		}
		parts := []*gr.Node{x}
		if lo > 0 {
			parts = append([]*gr.Node{block(lo)}, parts...)
		}
		if hi > 0 {
			parts = append(parts, block(hi))
		}
		if len(parts) > 1 {
			x = gr.Concatenate(parts, axis)
		}
	}
	return x
}
