package encode

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
)

// TestCNNBlockParityTFJS runs real MNIST images through CNN@BLOCK
// encoders (resize included) and through TF.js in node, the same layer or
// node's output averaged over height and width, and compares:
// max |Go − JS| ≤ 1e-4 · max |JS| (the bar for intermediate
// features, tighter than the 1e-3 of the penultimate-feature tests).
func TestCNNBlockParityTFJS(t *testing.T) {
	if testing.Short() {
		t.Skip("CNN parity runs real models in node")
	}
	mods := tfjsRef(t)
	ctx := context.Background()
	ds, err := data.Load(ctx, "mnist", nil)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := assets.Ensure(ctx, "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, layer string // encoder; the layer or node (suffix) it must read
		dim         int
		idx         []int
	}{
		{"mobilenet-v2@block3", "block_3_project_BN", 32, []int{0, 1, 60000}},
		{"mobilenet-v2@block13", "block_13_project_BN", 160, []int{0, 1, 60000}},
		{"mobilenet-v2@block15", "block_15_add", 160, []int{0, 1, 60000}},
		{"mobilenet-v2-mid@block12", "/MobilenetV2/expanded_conv_12/add", 136, []int{0, 60000}},
		{"inception-v3@mixed2", "mixed2", 288, []int{60000}}, // 299 px: one image
	} {
		t.Run(strings.ReplaceAll(tc.name, "@", "_at_"), func(t *testing.T) {
			px, err := ds.Pixels(tc.idx)
			if err != nil {
				t.Fatal(err)
			}
			n := len(tc.idx)
			enc, err := NewImage(ctx, tc.name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if enc.Name() != tc.name {
				t.Errorf("Name %q, want %q", enc.Name(), tc.name)
			}
			var script, ref, size string
			var args []string
			in, out := filepath.Join(t.TempDir(), "in.f32"), filepath.Join(t.TempDir(), "out.f32")
			switch c := enc.(type) {
			case *CNN:
				ref, size = c.FeatureLayer(), itoa(c.Size())
				script = "testdata/cnn_ref.js"
				args = []string{filepath.Join(pkg, "dist", "models", cnnFamilies[strings.Split(tc.name, "@")[0]].dir), in, out, itoa(n), size, "28", ref}
			case *GraphCNN:
				ref, size = c.FeatureNode(), itoa(c.Size())
				script = "testdata/cnn_mid_ref.js"
				args = []string{filepath.Join(pkg, "dist", "models", "mobilenet_v2_mid"), ref, in, out, itoa(n), size, "28"}
			default:
				t.Fatalf("encoder %T", enc)
			}
			if !strings.HasSuffix(ref, tc.layer) {
				t.Fatalf("reads %q, want %q", ref, tc.layer)
			}
			got, err := enc.EncodeImages(ctx, ImageBatch{Pixels: px, Shape: [4]int{n, 28, 28, 1}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Cols != tc.dim || enc.Dim() != tc.dim {
				t.Fatalf("dim %d (Dim() %d), want %d", got.Cols, enc.Dim(), tc.dim)
			}
			writeF32(t, in, px)
			cmd := exec.Command("node", append([]string{script}, args...)...)
			cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
			cmd.Stderr = os.Stderr
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("node reference: %v", err)
			}
			var rep struct {
				Dim int `json:"dim"`
			}
			if err := json.Unmarshal(stdout, &rep); err != nil {
				t.Fatalf("reference output %q: %v", stdout, err)
			}
			want := readF32(t, out)
			if rep.Dim != tc.dim || len(want) != n*tc.dim {
				t.Fatalf("reference dim %d with %d values, want %d×%d", rep.Dim, len(want), n, tc.dim)
			}
			maxDiff, maxRef, nonzero := featureDiff(got.Values, want)
			t.Logf("%s (%s, %s px): %d MNIST images, dim %d, max|diff| %.3g, max|ref| %.3g, relative %.3g; nonzero %d/%d",
				tc.name, ref, size, n, tc.dim, maxDiff, maxRef, maxDiff/maxRef, nonzero, len(want))
			if nonzero < len(want)/2 {
				t.Errorf("only %d of %d reference features are nonzero: a degenerate comparison", nonzero, len(want))
			}
			if maxDiff > 1e-4*maxRef {
				t.Errorf("max |Go − TF.js| %.3g exceeds 1e-4 × max|TF.js| (%.3g)", maxDiff, maxRef)
			}
		})
	}
}

// TestCNNNames checks the CNN[-SIZE][@BLOCK] names: which are encoders,
// what Known says of the bad ones, and that the flatten_1 encoders keep
// their names and fingerprints' form (cached features stay valid).
func TestCNNNames(t *testing.T) {
	for _, ok := range []string{"mobilenet-v2@block13", "mobilenet-v2@block0", "mobilenet-v2-96", "mobilenet-v2-96@block16",
		"inception-v3@mixed5", "inception-v3-139@mixed7", "mobilenet-v2-mid@block12", "mobilenet-v2@block_13_expand_relu"} {
		if err := Known(ok); err != nil || !IsImageEncoder(ok) {
			t.Errorf("%s: Known %v, IsImageEncoder %t", ok, err, IsImageEncoder(ok))
		}
		if info, found := Lookup(ok); !found || info.Kind != "image" {
			t.Errorf("%s: Lookup %+v, %t", ok, info, found)
		}
	}
	for name, want := range map[string]string{
		"mobilenet-v2@":            "no block",
		"mobilenet-v2-mid@block17": "no block",
		"mobilenet-v2@block17":     "no block",
		"inception-v3@mixed11":     "no block",
		"mobilenet-v2-mid@conv":    "block0 … block16",
		"mobilenet-v2-mid-96":      "graph model",
		"mobilenet-v2-224":         "native size",
		"mobilenet-v2-16":          "outside",
		"inception-v3-64@mixed1":   "outside",
	} {
		if err := Known(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Known(%q) = %v, want an error with %q", name, err, want)
		}
		if IsImageEncoder(name) {
			t.Errorf("IsImageEncoder(%q) = true", name)
		}
	}
	for _, other := range []string{"glove", "mobilenet", "mobilenet-v3@block1", "use-lite"} {
		if IsImageEncoder(other) {
			t.Errorf("IsImageEncoder(%q) = true", other)
		}
	}
	if err := Known("mobilenet-v3"); err == nil || !strings.Contains(err.Error(), "mobilenet-v2@BLOCK") {
		t.Errorf("Known(mobilenet-v3) = %v: want the CNN@BLOCK forms listed", err)
	}
	if testing.Short() {
		return
	}
	ctx := context.Background()
	if _, err := NewImage(ctx, "mobilenet-v2@no_such_layer", nil); err == nil || !strings.Contains(err.Error(), "block0 … block16") {
		t.Errorf("unknown layer: %v", err)
	}
	a, err := NewImage(ctx, "mobilenet-v2@block13", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewImage(ctx, "mobilenet-v2@block_13_project_BN", nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := NewImage(ctx, "mobilenet-v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() == b.Name() || a.Fingerprint() != b.Fingerprint() || a.Fingerprint() == full.Fingerprint() {
		t.Errorf("alias and layer name: names %q %q (want distinct), fingerprints equal %t (want), block and flatten_1 equal %t (want not)",
			a.Name(), b.Name(), a.Fingerprint() == b.Fingerprint(), a.Fingerprint() == full.Fingerprint())
	}
	if a.(*CNN).model != full.(*CNN).model {
		t.Error("mobilenet-v2@block13 loaded its own copy of the model")
	}
}
