package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers the "go" backend
	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// gnode is a GraphDef node for synthetic test models.
type gnode struct {
	name, op string
	in       []string
	attr     map[string]any
}

// gweight is a float32 Const and its values.
type gweight struct {
	name  string
	shape []int
	v     []float32
}

func b64(s string) map[string]any {
	return map[string]any{"s": base64.StdEncoding.EncodeToString([]byte(s))}
}

func ints4(a, b, c, d int) map[string]any {
	return map[string]any{"list": map[string]any{"i": []string{itoa(a), itoa(b), itoa(c), itoa(d)}}}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func fusedOps(ops ...string) map[string]any {
	var s []string
	for _, o := range ops {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(o)))
	}
	return map[string]any{"list": map[string]any{"s": s}}
}

// writeGraph writes model.json plus one float32 shard to a temp dir; the
// Placeholder "x" is added first and a Const node per weight.
func writeGraph(t *testing.T, nodes []gnode, ws []gweight) string {
	t.Helper()
	dir := t.TempDir()
	js := []any{map[string]any{"name": "x", "op": "Placeholder",
		"attr": map[string]any{"shape": map[string]any{"shape": map[string]any{"dim": []any{map[string]any{"size": "-1"}, map[string]any{"size": "5"}}}}}}}
	var buf []byte
	var man []any
	for _, w := range ws {
		js = append(js, map[string]any{"name": w.name, "op": "Const", "input": []string{"^x"}})
		for _, v := range w.v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		man = append(man, map[string]any{"name": w.name, "shape": w.shape, "dtype": "float32"})
	}
	for _, n := range nodes {
		js = append(js, map[string]any{"name": n.name, "op": n.op, "input": n.in, "attr": n.attr})
	}
	model := map[string]any{"format": "graph-model", "modelTopology": map[string]any{"node": js},
		"weightsManifest": []any{map[string]any{"paths": []string{"w.bin"}, "weights": man}}}
	raw, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runGraph builds node out of the program in dir and runs it on x.
func runGraph(t *testing.T, dir, out string, x []float32, dims ...int) ([]float32, []int) {
	t.Helper()
	p, err := LoadGraphProgram(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(out); err != nil {
		t.Fatal(err)
	}
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node { return p.Build(x, out) })
	if err != nil {
		t.Fatal(err)
	}
	y, err := exec.Call1(tensors.FromFlatDataAndDimensions(x, dims...))
	if err != nil {
		t.Fatal(err)
	}
	v, err := tensors.CopyFlatData[float32](y)
	if err != nil {
		t.Fatal(err)
	}
	return v, y.Shape().Dimensions
}

func randVals(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// refConv is a direct NHWC convolution with explicit padding (zero
// outside), written independently of the interpreter: out[n,i,j,o] =
// Σ x[n, i·s−pt+a·d, j·s−pl+b·d, c] · k[a,b,c,o]. depthwise: k is
// [kh,kw,C,mult] and channel c·mult+m sees only input channel c.
func refConv(x []float32, xd [4]int, k []float32, kd [4]int, s, d [2]int, pt, pl, oh, ow int, depthwise bool) []float32 {
	n, h, w, c := xd[0], xd[1], xd[2], xd[3]
	kh, kw, kc, ko := kd[0], kd[1], kd[2], kd[3]
	oc := ko
	if depthwise {
		oc = kc * ko
	}
	out := make([]float32, n*oh*ow*oc)
	at := func(b, y, xx, ch int) float64 {
		if y < 0 || y >= h || xx < 0 || xx >= w {
			return 0
		}
		return float64(x[((b*h+y)*w+xx)*c+ch])
	}
	for b := range n {
		for i := range oh {
			for j := range ow {
				for o := range oc {
					var sum float64
					for a := range kh {
						for bb := range kw {
							y, xx := i*s[0]-pt+a*d[0], j*s[1]-pl+bb*d[1]
							if depthwise {
								ch, m := o/ko, o%ko
								sum += at(b, y, xx, ch) * float64(k[((a*kw+bb)*kc+ch)*ko+m])
								continue
							}
							for ch := range kc {
								sum += at(b, y, xx, ch) * float64(k[((a*kw+bb)*kc+ch)*ko+o])
							}
						}
					}
					out[((b*oh+i)*ow+j)*oc+o] = float32(sum)
				}
			}
		}
	}
	return out
}

// TestGraphConvPadding checks Conv2D and DepthwiseConv2dNative against a
// direct convolution, with the padding TensorFlow documents written out
// per case: SAME gives ceil(in/stride) outputs and puts the odd extra
// padding row/column at the bottom/right (in 6, k 3, stride 2: 0 top,
// 1 bottom), VALID none.
func TestGraphConvPadding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name      string
		op        string
		h, w, c   int
		kd        [4]int
		s, d      [2]int
		padding   string
		pt, pl    int // TF's top and left padding for this case
		oh, ow    int
		depthwise bool
	}{
		{"same-s2-odd-even", "Conv2D", 5, 6, 3, [4]int{3, 3, 3, 4}, [2]int{2, 2}, [2]int{1, 1}, "SAME", 1, 0, 3, 3, false},
		{"same-s1", "Conv2D", 4, 4, 2, [4]int{3, 3, 2, 3}, [2]int{1, 1}, [2]int{1, 1}, "SAME", 1, 1, 4, 4, false},
		{"valid-dilated", "Conv2D", 7, 6, 2, [4]int{3, 2, 2, 2}, [2]int{1, 1}, [2]int{2, 2}, "VALID", 0, 0, 3, 4, false},
		{"1x1", "Conv2D", 3, 3, 4, [4]int{1, 1, 4, 5}, [2]int{1, 1}, [2]int{1, 1}, "SAME", 0, 0, 3, 3, false},
		{"dw-same-s2-even", "DepthwiseConv2dNative", 6, 6, 3, [4]int{3, 3, 3, 1}, [2]int{2, 2}, [2]int{1, 1}, "SAME", 0, 0, 3, 3, true},
		{"dw-same-s2-odd-mult2", "DepthwiseConv2dNative", 7, 5, 2, [4]int{3, 3, 2, 2}, [2]int{2, 2}, [2]int{1, 1}, "SAME", 1, 1, 4, 3, true},
		{"dw-k4-same-s1", "DepthwiseConv2dNative", 5, 5, 2, [4]int{4, 4, 2, 1}, [2]int{1, 1}, [2]int{1, 1}, "SAME", 1, 1, 5, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := randVals(r, tc.kd[0]*tc.kd[1]*tc.kd[2]*tc.kd[3])
			x := randVals(r, 2*tc.h*tc.w*tc.c)
			dir := writeGraph(t, []gnode{{name: "y", op: tc.op, in: []string{"x", "k"}, attr: map[string]any{
				"strides": ints4(1, tc.s[0], tc.s[1], 1), "dilations": ints4(1, tc.d[0], tc.d[1], 1),
				"padding": b64(tc.padding), "data_format": b64("NHWC")}}},
				[]gweight{{"k", tc.kd[:], k}})
			got, dims := runGraph(t, dir, "y", x, 2, tc.h, tc.w, tc.c)
			oc := tc.kd[3]
			if tc.depthwise {
				oc = tc.kd[2] * tc.kd[3]
			}
			if want := []int{2, tc.oh, tc.ow, oc}; !slices.Equal(dims, want) {
				t.Fatalf("output shape %v, want %v", dims, want)
			}
			want := refConv(x, [4]int{2, tc.h, tc.w, tc.c}, k, tc.kd, tc.s, tc.d, tc.pt, tc.pl, tc.oh, tc.ow, tc.depthwise)
			const tol = 1e-5
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("value %d: got %g, want %g", i, got[i], want[i])
				}
			}
		})
	}
}

// TestGraphOps runs the remaining ops on small hand-checked inputs.
func TestGraphOps(t *testing.T) {
	// x [1, 2, 3, 1] = 1..6.
	x := []float32{1, 2, 3, 4, 5, 6}
	xdims := []int{1, 2, 3, 1}
	for _, tc := range []struct {
		name  string
		nodes []gnode
		ws    []gweight
		out   string
		dims  []int
		want  []float32
	}{
		{"mul-sub-scalars", []gnode{
			{name: "m", op: "Mul", in: []string{"two", "x"}},
			{name: "s", op: "Sub", in: []string{"m", "one"}}},
			[]gweight{{"two", nil, []float32{2}}, {"one", nil, []float32{1}}},
			"s", xdims, []float32{1, 3, 5, 7, 9, 11}},
		{"fused-conv-bias-relu6", []gnode{{name: "y", op: "_FusedConv2D", in: []string{"x", "k", "b"}, attr: map[string]any{
			"strides": ints4(1, 1, 1, 1), "padding": b64("VALID"), "fused_ops": fusedOps("BiasAdd", "Relu6"), "num_args": map[string]any{"i": "1"}}}},
			// 1×1 conv to 2 channels: 1·x − 3 and 2·x; then +bias [0, −5]; then relu6.
			[]gweight{{"k", []int{1, 1, 1, 2}, []float32{1, 2}}, {"b", []int{2}, []float32{-3, -5}}},
			"y", []int{1, 2, 3, 2}, []float32{0, 0, 0, 0, 0, 1, 1, 3, 2, 5, 3, 6}},
		{"fused-depthwise-bias-relu", []gnode{{name: "y", op: "FusedDepthwiseConv2dNative", in: []string{"x", "k", "b"}, attr: map[string]any{
			"strides": ints4(1, 1, 1, 1), "padding": b64("VALID"), "fused_ops": fusedOps("BiasAdd", "Relu")}}},
			[]gweight{{"k", []int{1, 1, 1, 1}, []float32{-1}}, {"b", []int{1}, []float32{4.5}}},
			"y", xdims, []float32{3.5, 2.5, 1.5, 0.5, 0, 0}},
		// AvgPool SAME 2×2 stride 2 on 2×3: windows {1,2,4,5} and {3,6}
		// (the second is half padding: TF divides by 2 real values).
		{"avgpool-same", []gnode{{name: "y", op: "AvgPool", in: []string{"x"}, attr: map[string]any{
			"ksize": ints4(1, 2, 2, 1), "strides": ints4(1, 2, 2, 1), "padding": b64("SAME")}}},
			nil, "y", []int{1, 1, 2, 1}, []float32{3, 4.5}},
		{"maxpool-valid", []gnode{{name: "y", op: "MaxPool", in: []string{"x"}, attr: map[string]any{
			"ksize": ints4(1, 2, 2, 1), "strides": ints4(1, 1, 1, 1), "padding": b64("VALID")}}},
			nil, "y", []int{1, 1, 2, 1}, []float32{5, 6}},
		{"avgpool-squeeze-fusedmatmul-softmax", []gnode{
			{name: "p", op: "AvgPool", in: []string{"x"}, attr: map[string]any{
				"ksize": ints4(1, 2, 3, 1), "strides": ints4(1, 1, 1, 1), "padding": b64("VALID")}},
			{name: "q", op: "Squeeze", in: []string{"p"}, attr: map[string]any{"squeeze_dims": map[string]any{"list": map[string]any{"i": []string{"1", "2"}}}}},
			{name: "f", op: "_FusedMatMul", in: []string{"q", "w", "b"}, attr: map[string]any{"fused_ops": fusedOps("BiasAdd"),
				"transpose_a": map[string]any{"b": false}, "transpose_b": map[string]any{"b": false}}},
			{name: "sm", op: "Softmax", in: []string{"f"}},
			{name: "out", op: "Identity", in: []string{"sm"}}},
			// mean 3.5 → logits [3.5·1 + 0, 3.5·0 + ln 3] → softmax.
			[]gweight{{"w", []int{1, 2}, []float32{1, 0}}, {"b", []int{2}, []float32{0, float32(math.Log(3))}}},
			"out", []int{1, 2}, softmax2(3.5, math.Log(3))},
		{"mean-keepdims", []gnode{{name: "y", op: "Mean", in: []string{"x", "axes"}, attr: map[string]any{"keep_dims": map[string]any{"b": true}}}},
			[]gweight{{"axes", []int{2}, []float32{1, 2}}}, "y", []int{1, 1, 1, 1}, []float32{3.5}},
		{"reshape-matmul-transposed", []gnode{
			{name: "r", op: "Reshape", in: []string{"x", "shape"}},
			{name: "y", op: "MatMul", in: []string{"r", "w"}, attr: map[string]any{"transpose_b": map[string]any{"b": true}}}},
			[]gweight{{"shape", []int{2}, []float32{2, 3}}, {"w", []int{1, 3}, []float32{1, -1, 2}}},
			"y", []int{2, 1}, []float32{1 - 2 + 6, 4 - 5 + 12}},
		{"biasadd-addv2-relu", []gnode{
			{name: "b", op: "BiasAdd", in: []string{"x", "bias"}},
			{name: "a", op: "AddV2", in: []string{"b", "x"}},
			{name: "y", op: "Relu", in: []string{"a"}}},
			[]gweight{{"bias", []int{1}, []float32{-7}}}, "y", xdims, []float32{0, 0, 0, 1, 3, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeGraph(t, tc.nodes, tc.ws)
			got, dims := runGraph(t, dir, tc.out, x, xdims...)
			if !slices.Equal(dims, tc.dims) {
				t.Fatalf("shape %v, want %v", dims, tc.dims)
			}
			for i := range tc.want {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-5 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func softmax2(a, b float64) []float32 {
	m := max(a, b)
	ea, eb := math.Exp(a-m), math.Exp(b-m)
	return []float32{float32(ea / (ea + eb)), float32(eb / (ea + eb))}
}

// TestGraphErrors: unsupported ops and fused ops are reported naming the
// node and the op; bad input references name the node on load.
func TestGraphErrors(t *testing.T) {
	dir := writeGraph(t, []gnode{
		{name: "e", op: "Erf", in: []string{"x"}},
		{name: "y", op: "Relu", in: []string{"e"}},
		{name: "z", op: "_FusedConv2D", in: []string{"x", "k", "b"}, attr: map[string]any{
			"strides": ints4(1, 1, 1, 1), "padding": b64("VALID"), "fused_ops": fusedOps("BiasAdd", "LeakyRelu")}},
	}, []gweight{{"k", []int{1, 1, 1, 1}, []float32{1}}, {"b", []int{1}, []float32{0}}})
	p, err := LoadGraphProgram(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check("y")
	if err == nil || !strings.Contains(err.Error(), `"e"`) || !strings.Contains(err.Error(), `"Erf"`) {
		t.Errorf("Check(y) = %v, want an error naming node \"e\" and op \"Erf\"", err)
	}
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	_, err = gr.NewExec(backend, func(x *gr.Node) *gr.Node { return p.Build(x, "z") })
	if err == nil {
		exec, _ := gr.NewExec(backend, func(x *gr.Node) *gr.Node { return p.Build(x, "z") })
		_, err = exec.Call1(tensors.FromFlatDataAndDimensions([]float32{1}, 1, 1, 1, 1))
	}
	if err == nil || !strings.Contains(err.Error(), `"z"`) || !strings.Contains(err.Error(), "LeakyRelu") {
		t.Errorf("building z = %v, want an error naming node \"z\" and fused op LeakyRelu", err)
	}
	bad := writeGraph(t, []gnode{{name: "y", op: "Relu", in: []string{"nope"}}}, nil)
	if _, err := LoadGraphProgram(bad); err == nil || !strings.Contains(err.Error(), `"y"`) || !strings.Contains(err.Error(), "model.json") {
		t.Errorf("dangling input: %v, want an error naming model.json and node \"y\"", err)
	}
}
