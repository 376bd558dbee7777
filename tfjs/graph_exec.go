package tfjs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

// GraphProgram is a TF.js graph model prepared for running on GoMLX: the
// GraphDef of model.json interpreted node by node (see Build). It covers
// the image-CNN subset of TensorFlow ops:
//
//	Placeholder, Const, Identity, StopGradient
//	Add, AddV2, Sub, Mul, RealDiv, Maximum, Minimum (NumPy broadcasting)
//	BiasAdd, Relu, Relu6, Sigmoid, Tanh, Softmax
//	Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative
//	    (NHWC; SAME/VALID/EXPLICIT padding; strides; dilations; fused
//	    BiasAdd then Relu/Relu6/Sigmoid/Tanh)
//	AvgPool, MaxPool, Mean, Squeeze, Reshape, MatMul, _FusedMatMul
//
// Convolution filters and MatMul weights must be Const nodes: they are
// baked into the graph as constants (convolutions run as matrix products
// and per-tap multiplies, see convTaps and depthwise).
type GraphProgram struct {
	*GraphModel
	// Input is the name of the model's only Placeholder; InputShape its
	// declared shape, -1 for unknown dimensions (e.g. [-1 224 224 3]).
	Input      string
	InputShape []int

	byName map[string]*Node
	// lists holds each node's string-list attributes (fused_ops), which
	// Attr does not decode: node name -> attribute -> values.
	lists map[string]map[string][]string
}

// LoadGraphProgram reads a graph model from dir: model.json with binary
// shards, or (nsfwjs layout) model.min.js with base64 *.min.js shards.
// Weights may be float32 or uint8/uint16-quantised (dequantised to
// float32 on load); int32 weights are not supported by this path.
func LoadGraphProgram(dir string) (*GraphProgram, error) {
	path := filepath.Join(dir, "model.json")
	raw, err := os.ReadFile(path)
	read := ShardReader(func(p string) ([]byte, error) {
		if filepath.IsAbs(p) || p != filepath.Clean(p) || strings.HasPrefix(p, "..") {
			return nil, fmt.Errorf("tfjs: shard path %q escapes the model directory", p)
		}
		return os.ReadFile(filepath.Join(dir, p))
	})
	if err != nil {
		var err2 error
		path = filepath.Join(dir, "model.min.js")
		raw, err2 = MinJSToJSON(path)
		if err2 != nil {
			return nil, fmt.Errorf("tfjs: %s has neither model.json (%v) nor a readable model.min.js: %w", dir, err, err2)
		}
		read = MinJSShards(dir)
	}
	return NewGraphProgram(raw, path, read)
}

// NewGraphProgram parses model.json content raw (path names it in errors;
// its directory becomes Dir) and reads the weights through read.
func NewGraphProgram(raw []byte, path string, read ShardReader) (*GraphProgram, error) {
	var mj modelJSON
	if err := json.Unmarshal(raw, &mj); err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", path, jsonErrorWithLine(raw, err))
	}
	if mj.Format == "layers-model" {
		return nil, fmt.Errorf("tfjs: %s is a layers model, not a graph model", path)
	}
	if len(mj.ModelTopology) == 0 {
		return nil, fmt.Errorf("tfjs: %s: no modelTopology", path)
	}
	var gd graphDef
	if err := json.Unmarshal(mj.ModelTopology, &gd); err != nil {
		return nil, fmt.Errorf("tfjs: %s: modelTopology is not a GraphDef: %w", path, err)
	}
	if len(gd.Node) == 0 {
		return nil, fmt.Errorf("tfjs: %s: modelTopology has no nodes (a layers model?)", path)
	}
	// The string lists, decoded separately (protobuf-JSON base64 strings).
	var gl struct {
		Node []struct {
			Name string `json:"name"`
			Attr map[string]struct {
				List *struct {
					S [][]byte `json:"s"`
				} `json:"list"`
			} `json:"attr"`
		} `json:"node"`
	}
	if err := json.Unmarshal(mj.ModelTopology, &gl); err != nil {
		return nil, fmt.Errorf("tfjs: %s: GraphDef string-list attributes: %w", path, err)
	}
	p := &GraphProgram{byName: map[string]*Node{}, lists: map[string]map[string][]string{}}
	for _, n := range gl.Node {
		for k, a := range n.Attr {
			if a.List == nil || len(a.List.S) == 0 {
				continue
			}
			if p.lists[n.Name] == nil {
				p.lists[n.Name] = map[string][]string{}
			}
			for _, s := range a.List.S {
				p.lists[n.Name][k] = append(p.lists[n.Name][k], string(s))
			}
		}
	}
	for i := range gd.Node {
		n := &gd.Node[i]
		if n.Name == "" || n.Op == "" {
			return nil, fmt.Errorf("tfjs: %s: node %d lacks a name or op", path, i)
		}
		if _, dup := p.byName[n.Name]; dup {
			return nil, fmt.Errorf("tfjs: %s: node name %q appears twice", path, n.Name)
		}
		p.byName[n.Name] = n
		if n.Op == "Placeholder" {
			if p.Input != "" {
				return nil, fmt.Errorf("tfjs: %s: two Placeholders (%q, %q); one input is supported", path, p.Input, n.Name)
			}
			p.Input = n.Name
			shape, err := placeholderShape(n)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: node %q: %w", path, n.Name, err)
			}
			p.InputShape = shape
		}
	}
	if p.Input == "" {
		return nil, fmt.Errorf("tfjs: %s: no Placeholder node (model input)", path)
	}
	for _, n := range gd.Node {
		for _, in := range n.Input {
			name, _, err := splitInput(in)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %s: node %q: %w", path, n.Name, err)
			}
			if _, ok := p.byName[name]; !ok {
				return nil, fmt.Errorf("tfjs: %s: node %q takes %q, which is not a node", path, n.Name, in)
			}
		}
	}
	w, err := ReadWeights(mj.Manifest, read)
	if err != nil {
		return nil, fmt.Errorf("%w (model %s)", err, path)
	}
	p.GraphModel = &GraphModel{Dir: filepath.Dir(path), Format: mj.Format, GeneratedBy: mj.GeneratedBy, Nodes: gd.Node, Weights: w}
	if mj.ConvertedBy != nil {
		p.ConvertedBy = *mj.ConvertedBy
	}
	for _, g := range mj.Manifest {
		for _, e := range g.Weights {
			p.WeightOrder = append(p.WeightOrder, w[e.Name])
		}
	}
	for _, n := range gd.Node {
		if n.Op == "Const" {
			if _, ok := w[n.Name]; !ok {
				return nil, fmt.Errorf("tfjs: %s: Const node %q has no weight in the manifest", path, n.Name)
			}
		}
	}
	// Re-point byName at the stored slice (gd.Node is the same backing array).
	for i := range p.Nodes {
		p.byName[p.Nodes[i].Name] = &p.Nodes[i]
	}
	return p, nil
}

// placeholderShape reads a Placeholder's "shape" attribute.
func placeholderShape(n *Node) ([]int, error) {
	a, ok := n.Attr["shape"]
	if !ok || len(a.Shape) == 0 {
		return nil, nil
	}
	var s struct {
		Dim []struct {
			Size json.RawMessage `json:"size"`
		} `json:"dim"`
		UnknownRank bool `json:"unknownRank"`
	}
	if err := json.Unmarshal(a.Shape, &s); err != nil {
		return nil, fmt.Errorf("shape attribute %s: %w", a.Shape, err)
	}
	if s.UnknownRank {
		return nil, nil
	}
	out := make([]int, len(s.Dim))
	for i, d := range s.Dim {
		if len(d.Size) == 0 {
			out[i] = 0 // protobuf-JSON omits zero
			continue
		}
		v, err := parseJSONInt(d.Size)
		if err != nil {
			return nil, fmt.Errorf("shape attribute: %w", err)
		}
		out[i] = int(v)
	}
	return out, nil
}

// splitInput parses a GraphDef input reference: "name", "name:0" or
// "^name" (a control dependency, which carries no value).
func splitInput(in string) (name string, control bool, err error) {
	if strings.HasPrefix(in, "^") {
		return in[1:], true, nil
	}
	if i := strings.LastIndexByte(in, ':'); i >= 0 {
		if in[i+1:] != "0" {
			return "", false, fmt.Errorf("input %q: only output 0 of a node is supported", in)
		}
		in = in[:i]
	}
	return in, false, nil
}

// dataInputs returns n's value inputs (control dependencies dropped).
func dataInputs(n *Node) []string {
	var out []string
	for _, in := range n.Input {
		name, control, _ := splitInput(in) // validated on load
		if !control {
			out = append(out, name)
		}
	}
	return out
}

// Consumers returns the names of the nodes that take name as a value input.
func (p *GraphProgram) Consumers(name string) []string {
	var out []string
	for i := range p.Nodes {
		if slices.Contains(dataInputs(&p.Nodes[i]), name) {
			out = append(out, p.Nodes[i].Name)
		}
	}
	return out
}

// graphOps is the supported op set, by the number of value inputs each
// takes (-1: checked by the op itself).
var graphOps = map[string]int{
	"Placeholder": 0, "Const": 0, "Identity": 1, "StopGradient": 1,
	"Add": 2, "AddV2": 2, "Sub": 2, "Mul": 2, "RealDiv": 2, "Maximum": 2, "Minimum": 2,
	"BiasAdd": 2, "Relu": 1, "Relu6": 1, "Sigmoid": 1, "Tanh": 1, "Softmax": 1,
	"Conv2D": 2, "_FusedConv2D": -1, "DepthwiseConv2dNative": 2, "FusedDepthwiseConv2dNative": -1,
	"AvgPool": 1, "MaxPool": 1, "Mean": 2, "Squeeze": 1, "Reshape": 2,
	"MatMul": 2, "_FusedMatMul": -1,
}

// Check reports, as an error naming the node and its op, the first node
// that output depends on and Build cannot interpret: an unknown op, a
// wrong number of inputs, or a weight input that is not a Const.
func (p *GraphProgram) Check(output string) error {
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		n, ok := p.byName[name]
		if !ok {
			return fmt.Errorf("tfjs: model %s has no node %q", p.Dir, name)
		}
		want, ok := graphOps[n.Op]
		if !ok {
			return fmt.Errorf("tfjs: node %q: op %q is not supported by the graph interpreter", n.Name, n.Op)
		}
		ins := dataInputs(n)
		if want >= 0 && len(ins) != want {
			return fmt.Errorf("tfjs: node %q (%s): %d inputs, want %d", n.Name, n.Op, len(ins), want)
		}
		switch n.Op {
		case "_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul":
			if len(ins) < 2 {
				return fmt.Errorf("tfjs: node %q (%s): %d inputs, want at least 2", n.Name, n.Op, len(ins))
			}
		}
		switch n.Op {
		case "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative", "MatMul", "_FusedMatMul", "Mean", "Reshape":
			for _, w := range ins[1:] {
				if p.byName[w].Op != "Const" {
					return fmt.Errorf("tfjs: node %q (%s): input %q is a %s, only Const weights are supported", n.Name, n.Op, w, p.byName[w].Op)
				}
			}
		}
		for _, in := range ins {
			if err := visit(in); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(output)
}

// Build adds the computation of node output to x's graph, x being the
// value of the Placeholder (images [N, H, W, C] float32 for CNNs). Only
// the nodes output depends on are built. Like LayersModel.Build it panics
// (the GoMLX graph-building convention; Exec turns it into an error) with
// a message naming the node and op it cannot interpret; call Check first
// for the same diagnosis as an error.
func (p *GraphProgram) Build(x *gr.Node, output string) *gr.Node {
	if err := p.Check(output); err != nil {
		exceptions.Panicf("%v", err)
	}
	vals := map[string]*gr.Node{}
	var eval func(name string) *gr.Node
	eval = func(name string) *gr.Node {
		if v, ok := vals[name]; ok {
			return v
		}
		n := p.byName[name]
		var ins []*gr.Node
		names := dataInputs(n)
		for i, in := range names {
			if i > 0 && p.byName[in].Op == "Const" && weightInput(n.Op) {
				ins = append(ins, nil) // read as a tensor by the op
				continue
			}
			ins = append(ins, eval(in))
		}
		v := p.apply(n, x, ins, names)
		vals[name] = v
		return v
	}
	return eval(output)
}

// weightInput reports whether op reads its inputs after the first as
// host tensors rather than graph values.
func weightInput(op string) bool {
	switch op {
	case "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative", "MatMul", "_FusedMatMul", "Mean", "Reshape":
		return true
	}
	return false
}

// tensor returns Const node name's weight.
func (p *GraphProgram) tensor(n *Node, name string) *Tensor {
	t, ok := p.Weights[name]
	if !ok {
		exceptions.Panicf("tfjs: node %q (%s): weight %q missing", n.Name, n.Op, name)
	}
	return t
}

func (p *GraphProgram) apply(n *Node, x *gr.Node, ins []*gr.Node, names []string) *gr.Node {
	g := x.Graph()
	switch n.Op {
	case "Placeholder":
		if n.Name != p.Input {
			exceptions.Panicf("tfjs: node %q: unexpected Placeholder", n.Name)
		}
		return x
	case "Const":
		t := p.tensor(n, n.Name)
		if t.I32 != nil {
			return gr.Const(g, tensors.FromFlatDataAndDimensions(t.I32, t.Shape...))
		}
		return gr.Const(g, tensors.FromFlatDataAndDimensions(t.F32, t.Shape...))
	case "Identity", "StopGradient":
		return ins[0]
	case "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "BiasAdd":
		a, b := broadcastPair(ins[0], ins[1])
		switch n.Op {
		case "Sub":
			return gr.Sub(a, b)
		case "Mul":
			return gr.Mul(a, b)
		case "RealDiv":
			return gr.Div(a, b)
		case "Maximum":
			return gr.Max(a, b)
		case "Minimum":
			return gr.Min(a, b)
		}
		return gr.Add(a, b)
	case "Relu", "Relu6", "Sigmoid", "Tanh":
		return activationOp(n, n.Op, ins[0])
	case "Softmax":
		return gr.Softmax(ins[0], -1)
	case "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative":
		return p.conv(n, ins[0], names)
	case "AvgPool", "MaxPool":
		return poolOp(n, ins[0])
	case "Mean":
		axes := p.intsOf(n, names[1], ins[0].Rank())
		keep := boolAttr(n, "keep_dims")
		if keep {
			return gr.ReduceAndKeep(ins[0], gr.ReduceMean, axes...)
		}
		return gr.ReduceMean(ins[0], axes...)
	case "Squeeze":
		return squeezeOp(n, ins[0])
	case "Reshape":
		t := p.tensor(n, names[1])
		dims := make([]int, t.Size())
		for i := range dims {
			if t.I32 != nil {
				dims[i] = int(t.I32[i])
			} else {
				dims[i] = int(t.F32[i])
			}
		}
		return gr.Reshape(ins[0], dims...)
	case "MatMul", "_FusedMatMul":
		return p.matMul(n, ins[0], names)
	}
	exceptions.Panicf("tfjs: node %q: op %q is not supported by the graph interpreter", n.Name, n.Op)
	return nil
}

// broadcastPair gives a and b the same rank by prepending unit axes to the
// lower-ranked one (NumPy rules); GoMLX then broadcasts unit axes.
func broadcastPair(a, b *gr.Node) (*gr.Node, *gr.Node) {
	lift := func(x *gr.Node, rank int) *gr.Node {
		if x.Rank() == rank {
			return x
		}
		dims := make([]int, rank)
		for i := range dims {
			dims[i] = 1
		}
		copy(dims[rank-x.Rank():], x.Shape().Dimensions)
		return gr.Reshape(x, dims...)
	}
	r := max(a.Rank(), b.Rank())
	return lift(a, r), lift(b, r)
}

func activationOp(n *Node, op string, x *gr.Node) *gr.Node {
	switch op {
	case "Relu":
		return gr.MaxScalar(x, 0.0)
	case "Relu6":
		return gr.MinScalar(gr.MaxScalar(x, 0.0), 6.0)
	case "Sigmoid":
		return gr.Sigmoid(x)
	case "Tanh":
		return gr.Tanh(x)
	}
	exceptions.Panicf("tfjs: node %q (%s): fused op %q is not supported", n.Name, n.Op, op)
	return nil
}

// fused applies a _Fused* node's fused_ops to y: BiasAdd (adding the
// node's third input, a Const, along the last axis) then activations.
func (p *GraphProgram) fused(n *Node, y *gr.Node, names []string) *gr.Node {
	ops := p.lists[n.Name]["fused_ops"]
	for i, op := range ops {
		if op == "BiasAdd" {
			if i != 0 || len(names) < 3 {
				exceptions.Panicf("tfjs: node %q (%s): BiasAdd must be the first fused op and needs a bias input", n.Name, n.Op)
			}
			b := p.tensor(n, names[2])
			c := y.Shape().Dimensions[y.Rank()-1]
			if b.Size() != c {
				exceptions.Panicf("tfjs: node %q (%s): bias %q has %d values for %d channels", n.Name, n.Op, names[2], b.Size(), c)
			}
			y = gr.Add(y, channelConst(y.Graph(), b.F32, y.Rank()))
			continue
		}
		y = activationOp(n, op, y)
	}
	return y
}

// intsAttr reads a list(int) attribute such as strides [1, sh, sw, 1].
func intsAttr(n *Node, key string, def []int) []int {
	a, ok := n.Attr[key]
	if !ok || a.List == nil || len(a.List.I) == 0 {
		return def
	}
	v, err := a.Ints()
	if err != nil {
		exceptions.Panicf("tfjs: node %q (%s): attribute %s: %v", n.Name, n.Op, key, err)
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func strAttr(n *Node, key, def string) string {
	a, ok := n.Attr[key]
	if !ok || len(a.S) == 0 {
		return def
	}
	s, err := a.String()
	if err != nil {
		exceptions.Panicf("tfjs: node %q (%s): attribute %s: %v", n.Name, n.Op, key, err)
	}
	return s
}

func boolAttr(n *Node, key string) bool {
	a, ok := n.Attr[key]
	return ok && string(a.B) == "true"
}

// spatial reads an NHWC 4-vector attribute ([1, h, w, 1]) as (h, w).
func spatial(n *Node, key string) [2]int {
	v := intsAttr(n, key, []int{1, 1, 1, 1})
	if len(v) != 4 || v[0] != 1 || v[3] != 1 {
		exceptions.Panicf("tfjs: node %q (%s): %s %v, want [1 h w 1]", n.Name, n.Op, key, v)
	}
	return [2]int{v[1], v[2]}
}

// padsOf returns TensorFlow's padding for the spatial axes of NHWC input
// x: VALID none; SAME as TF computes it (output ceil(in/stride), the odd
// extra row/column at the end, see samePads); EXPLICIT from
// explicit_paddings [0 0 t b l r 0 0].
func padsOf(n *Node, x *gr.Node, k, s, d [2]int) [][2]int {
	if f := strAttr(n, "data_format", "NHWC"); f != "NHWC" {
		exceptions.Panicf("tfjs: node %q (%s): data_format %q, only NHWC is supported", n.Name, n.Op, f)
	}
	if x.Rank() != 4 {
		exceptions.Panicf("tfjs: node %q (%s): input rank %d, want 4 (NHWC)", n.Name, n.Op, x.Rank())
	}
	dims := x.Shape().Dimensions
	switch pad := strAttr(n, "padding", ""); pad {
	case "VALID":
		return [][2]int{{0, 0}, {0, 0}}
	case "SAME":
		return [][2]int{samePads(dims[1], k[0], s[0], d[0]), samePads(dims[2], k[1], s[1], d[1])}
	case "EXPLICIT":
		e := intsAttr(n, "explicit_paddings", nil)
		if len(e) != 8 {
			exceptions.Panicf("tfjs: node %q (%s): explicit_paddings %v, want 8 values", n.Name, n.Op, e)
		}
		return [][2]int{{e[2], e[3]}, {e[4], e[5]}}
	default:
		exceptions.Panicf("tfjs: node %q (%s): padding %q not supported", n.Name, n.Op, pad)
	}
	return nil
}

func (p *GraphProgram) conv(n *Node, x *gr.Node, names []string) *gr.Node {
	kt := p.tensor(n, names[1])
	if len(kt.Shape) != 4 || kt.F32 == nil {
		exceptions.Panicf("tfjs: node %q (%s): filter %q shape %v, want float32 [kh kw cin cout]", n.Name, n.Op, names[1], kt.Shape)
	}
	k := [2]int{kt.Shape[0], kt.Shape[1]}
	s, d := spatial(n, "strides"), spatial(n, "dilations")
	pads := padsOf(n, x, k, s, d)
	inC := x.Shape().Dimensions[3]
	if kt.Shape[2] != inC {
		exceptions.Panicf("tfjs: node %q (%s): filter %q has %d input channels, the input %d", n.Name, n.Op, names[1], kt.Shape[2], inC)
	}
	var y *gr.Node
	if strings.Contains(n.Op, "Depthwise") {
		y = depthwise(x, kt, k, s, d, pads)
	} else {
		y = convTaps(x, kt, k, s, d, pads)
	}
	if strings.HasPrefix(n.Op, "_Fused") || strings.HasPrefix(n.Op, "Fused") {
		y = p.fused(n, y, names)
	}
	return y
}

// poolOp is TF's AvgPool/MaxPool. AvgPool with SAME padding divides each
// window by its number of real (unpadded) inputs, as TensorFlow does.
func poolOp(n *Node, x *gr.Node) *gr.Node {
	k, s := spatial(n, "ksize"), spatial(n, "strides")
	pads := padsOf(n, x, k, s, [2]int{1, 1})
	if n.Op == "MaxPool" {
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

// squeezeOp drops squeeze_dims (all unit axes when the list is empty).
func squeezeOp(n *Node, x *gr.Node) *gr.Node {
	axes := intsAttr(n, "squeeze_dims", nil)
	if len(axes) == 0 {
		axes = intsAttr(n, "axis", nil)
	}
	dims := x.Shape().Dimensions
	drop := map[int]bool{}
	for _, a := range axes {
		if a < 0 {
			a += len(dims)
		}
		if a < 0 || a >= len(dims) || dims[a] != 1 {
			exceptions.Panicf("tfjs: node %q (Squeeze): axis %d of shape %v is not a unit axis", n.Name, a, dims)
		}
		drop[a] = true
	}
	var keep []int
	for i, d := range dims {
		if len(axes) == 0 && d == 1 || drop[i] {
			continue
		}
		keep = append(keep, d)
	}
	return gr.Reshape(x, keep...)
}

// intsOf reads Const node name as axis indices of a rank-r value
// (negative axes counted from the end).
func (p *GraphProgram) intsOf(n *Node, name string, r int) []int {
	t := p.tensor(n, name)
	out := make([]int, t.Size())
	for i := range out {
		if t.I32 != nil {
			out[i] = int(t.I32[i])
		} else {
			out[i] = int(t.F32[i])
		}
		if out[i] < 0 {
			out[i] += r
		}
	}
	return out
}

func (p *GraphProgram) matMul(n *Node, a *gr.Node, names []string) *gr.Node {
	wt := p.tensor(n, names[1])
	if len(wt.Shape) != 2 || wt.F32 == nil || a.Rank() != 2 {
		exceptions.Panicf("tfjs: node %q (%s): want a rank-2 input and float32 [k n] weight, got %v and %q %v", n.Name, n.Op, a.Shape().Dimensions, names[1], wt.Shape)
	}
	if boolAttr(n, "transpose_a") {
		a = gr.Transpose(a, 0, 1)
	}
	w := gr.Const(a.Graph(), tensors.FromFlatDataAndDimensions(wt.F32, wt.Shape...))
	if boolAttr(n, "transpose_b") {
		w = gr.Transpose(w, 0, 1)
	}
	if a.Shape().Dimensions[1] != w.Shape().Dimensions[0] {
		exceptions.Panicf("tfjs: node %q (%s): [%v] × [%v] do not chain", n.Name, n.Op, a.Shape().Dimensions, w.Shape().Dimensions)
	}
	y := gr.Dot(a, w).Product()
	if n.Op == "_FusedMatMul" {
		y = p.fused(n, y, names)
	}
	return y
}
