package tfjs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers the "go" backend
	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/testenv"
)

// nsfwjsModel fetches (once, into the shared cache) the nsfwjs package and
// returns the directory of one of its models.
func nsfwjsModel(t *testing.T, name string) string {
	t.Helper()
	dir, err := assets.Ensure(context.Background(), "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "dist", "models", name)
}

func TestLoadLayersModelMobileNetV2(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs")
	m, err := LoadLayersModel(nsfwjsModel(t, "mobilenet_v2"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.InputShape, []int{224, 224, 3}) || m.Input != "input_1" || m.Output != "dense_3" {
		t.Errorf("input %v %q, output %q", m.InputShape, m.Input, m.Output)
	}
	k, err := m.weight("Conv1", "kernel", 3, 3, 3, 32)
	if err != nil {
		t.Fatal(err)
	}
	// Dequantised values lie on the grid min + q*scale, q in 0..255.
	const mn, sc = -.87334511607301, .006666756611244351
	lo, hi := k.F32[0], k.F32[0]
	for _, v := range k.F32 {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < mn-1e-6 || hi > mn+255*sc+1e-6 {
		t.Errorf("Conv1/kernel in [%g, %g], want within [%g, %g]", lo, hi, mn, mn+255*sc)
	}
	n := 0
	for _, w := range m.Weights {
		n += w.Size()
	}
	if n < 2_000_000 || n > 3_500_000 {
		t.Errorf("%d weights, want about 2.6M", n)
	}
}

// TestBuildFoldingExact checks that folding BatchNormalization and ReLU
// layers into the convolutions (the default) changes the real models'
// features only by float rounding: the folded and the unfolded graphs run
// on the same random image (reduced input sizes keep the test short) and
// agree to 1e-5 of the largest feature. It also checks that folding
// removed ops, i.e. that it happened at all, and compares MobileNetV2's
// tiled depthwise weights against broadcast ones.
func TestBuildFoldingExact(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real CNNs")
	}
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model string
		size  int
	}{
		{"mobilenet_v2", 64},
		{"inception_v3", 75},
	} {
		m, err := LoadLayersModel(nsfwjsModel(t, tc.model))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		img := make([]float32, 2*tc.size*tc.size*3)
		for i := range img {
			img[i] = rng.Float32()
		}
		var outs [2][]float32
		var nodes [2]int
		for i, noFold := range []bool{false, true} {
			// The unfolded run also takes depthwise weights as broadcast
			// [1, C] constants, the folded one tiles them: both forms checked.
			depthwiseFullConstMax = 1 << 19
			if noFold {
				depthwiseFullConstMax = 0
			}
			exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node {
				y := m.Build(x, BuildOptions{Until: "flatten_1", GlobalPoolBeforeFlatten: true, NoFold: noFold})
				nodes[i] = len(x.Graph().Nodes())
				return y
			})
			if err != nil {
				t.Fatal(err)
			}
			y, err := exec.Call1(tensors.FromFlatDataAndDimensions(img, 2, tc.size, tc.size, 3))
			if err != nil {
				t.Fatalf("%s: %v", tc.model, err)
			}
			if outs[i], err = tensors.CopyFlatData[float32](y); err != nil {
				t.Fatal(err)
			}
		}
		depthwiseFullConstMax = 1 << 19
		var maxDiff, maxRef float64
		for i, want := range outs[1] {
			maxDiff = math.Max(maxDiff, math.Abs(float64(outs[0][i]-want)))
			maxRef = math.Max(maxRef, math.Abs(float64(want)))
		}
		t.Logf("%s at %d px: max|folded − unfolded| %.3g, max|unfolded| %.3g; graph nodes %d folded, %d unfolded",
			tc.model, tc.size, maxDiff, maxRef, nodes[0], nodes[1])
		if maxRef == 0 || maxDiff > 1e-5*maxRef {
			t.Errorf("%s: folded graph differs by %.3g (max |feature| %.3g), want ≤ 1e-5 relative", tc.model, maxDiff, maxRef)
		}
		if nodes[0] >= nodes[1] {
			t.Errorf("%s: folded graph has %d nodes, unfolded %d: nothing was folded", tc.model, nodes[0], nodes[1])
		}
	}
}

// TestPoolAgainstLoops checks the tap-based pooling against a direct loop
// over each window (TensorFlow's semantics: "same" average pooling divides
// by the number of real inputs in the window; max pooling ignores padding)
// on a random [2, 7, 6, 3] input.
func TestPoolAgainstLoops(t *testing.T) {
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	const n, h, w, ch = 2, 7, 6, 3
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*h*w*ch)
	for i := range x {
		x[i] = rng.Float32()*2 - 1 // negatives: a zero pad would win a max
	}
	for _, tc := range []struct {
		class, padding string
		k, s           int
	}{
		{"MaxPooling2D", "same", 3, 1},
		{"MaxPooling2D", "valid", 3, 2},
		{"MaxPooling2D", "same", 3, 2},
		{"AveragePooling2D", "same", 3, 1},
		{"AveragePooling2D", "valid", 2, 2},
		{"AveragePooling2D", "same", 3, 2},
	} {
		cfg := fmt.Sprintf(`{"pool_size":[%d,%d],"strides":[%d,%d],"padding":%q}`, tc.k, tc.k, tc.s, tc.s, tc.padding)
		l := Layer{Name: "p", Class: tc.class, Config: json.RawMessage(cfg)}
		exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node { return pool(l, parseConfig(l), x, false) })
		if err != nil {
			t.Fatal(err)
		}
		y, err := exec.Call1(tensors.FromFlatDataAndDimensions(x, n, h, w, ch))
		if err != nil {
			t.Fatalf("%s: %v", cfg, err)
		}
		got, err := tensors.CopyFlatData[float32](y)
		if err != nil {
			t.Fatal(err)
		}
		oh, ow := (h-tc.k)/tc.s+1, (w-tc.k)/tc.s+1
		var top, left int
		if tc.padding == "same" {
			oh, ow = (h+tc.s-1)/tc.s, (w+tc.s-1)/tc.s
			top, left = samePads(h, tc.k, tc.s, 1)[0], samePads(w, tc.k, tc.s, 1)[0]
		}
		if len(got) != n*oh*ow*ch {
			t.Fatalf("%s: %d outputs, want %d", cfg, len(got), n*oh*ow*ch)
		}
		for b := range n {
			for i := range oh {
				for j := range ow {
					for c := range ch {
						best, sum, cnt := math.Inf(-1), 0.0, 0
						for a := range tc.k {
							for e := range tc.k {
								r, q := i*tc.s-top+a, j*tc.s-left+e
								if r < 0 || r >= h || q < 0 || q >= w {
									continue
								}
								v := float64(x[((b*h+r)*w+q)*ch+c])
								best, sum, cnt = math.Max(best, v), sum+v, cnt+1
							}
						}
						want := best
						if tc.class == "AveragePooling2D" {
							want = sum / float64(cnt)
						}
						if g := float64(got[((b*oh+i)*ow+j)*ch+c]); math.Abs(g-want) > 1e-6 {
							t.Fatalf("%s: output [%d %d %d %d] = %g, want %g", cfg, b, i, j, c, g, want)
						}
					}
				}
			}
		}
	}
}

// TestBuildParams builds MobileNetV2 at 64 px with its convolutions' folded
// weights fed through BuildOptions.Params (here as constants), whole and
// split at block 13 (bottom Until, top From): both equal the constant
// build to float rounding, and the weights asked for are FoldedWeights'
// for the same options, the split's two halves together the whole.
func TestBuildParams(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs")
	m, err := LoadLayersModel(nsfwjsModel(t, "mobilenet_v2"))
	if err != nil {
		t.Fatal(err)
	}
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	const size, cut, until = 64, "block_13_project_BN", "out_relu"
	rng := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, 2*size*size*3)
	for i := range img {
		img[i] = rng.Float32()
	}
	run := func(f func(x *gr.Node) *gr.Node) []float32 {
		t.Helper()
		exec, err := gr.NewExec(backend, f)
		if err != nil {
			t.Fatal(err)
		}
		y, err := exec.Call1(tensors.FromFlatDataAndDimensions(img, 2, size, size, 3))
		if err != nil {
			t.Fatal(err)
		}
		out, err := tensors.CopyFlatData[float32](y)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	asked := map[string][]string{}
	want := run(func(x *gr.Node) *gr.Node { return m.Build(x, BuildOptions{Until: until}) })
	whole := run(func(x *gr.Node) *gr.Node {
		return m.Build(x, BuildOptions{Until: until, Params: func(n string, v *Tensor) *gr.Node {
			asked["whole"] = append(asked["whole"], n)
			return gr.Const(x.Graph(), tensors.FromFlatDataAndDimensions(v.F32, v.Shape...))
		}})
	})
	split := run(func(x *gr.Node) *gr.Node {
		c := func(part string) func(string, *Tensor) *gr.Node {
			return func(n string, v *Tensor) *gr.Node {
				asked[part] = append(asked[part], n)
				return gr.Const(x.Graph(), tensors.FromFlatDataAndDimensions(v.F32, v.Shape...))
			}
		}
		h := m.Build(x, BuildOptions{Until: cut, Params: c("bottom")})
		return m.Build(h, BuildOptions{From: cut, Until: until, Params: c("top")})
	})
	for name, got := range map[string][]float32{"whole": whole, "split": split} {
		var maxDiff, maxRef float64
		for i, w := range want {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-w)))
			maxRef = math.Max(maxRef, math.Abs(float64(w)))
		}
		t.Logf("%s: max|diff| %.3g, max|ref| %.3g", name, maxDiff, maxRef)
		if maxRef == 0 || maxDiff > 1e-5*maxRef {
			t.Errorf("%s build with Params differs by %.3g (max %.3g)", name, maxDiff, maxRef)
		}
	}
	names := func(ts []*Tensor) []string {
		var out []string
		for _, w := range ts {
			out = append(out, w.Name)
		}
		return out
	}
	for part, opts := range map[string]BuildOptions{"whole": {Until: until}, "bottom": {Until: cut}, "top": {From: cut, Until: until}} {
		if fw := names(m.FoldedWeights(opts)); !slices.Equal(fw, asked[part]) {
			t.Errorf("%s: FoldedWeights %v, Build asked for %v", part, fw, asked[part])
		}
	}
	if !slices.Equal(append(slices.Clone(asked["bottom"]), asked["top"]...), asked["whole"]) || len(asked["top"]) != 2*3*3+2 {
		t.Errorf("bottom %d + top %d weights, whole %d; want the top to be blocks 14-16 and Conv_1 (20)", len(asked["bottom"]), len(asked["top"]), len(asked["whole"]))
	}
	exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node {
		return m.Build(x, BuildOptions{From: "block_14_project_BN", Until: until})
	})
	if err == nil {
		_, err = exec.Call1(tensors.FromFlatDataAndDimensions(make([]float32, 2*2*160), 1, 2, 2, 160))
	}
	if err == nil || !strings.Contains(err.Error(), "not a cut point") {
		t.Errorf("From inside a residual block: %v, want a not-a-cut-point error", err)
	}
}
