package encode

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
)

// tfjsRef installs (once, into the shared cache; offline afterwards)
// pure-JavaScript TF.js and returns its node_modules directory, or skips
// when node/npm are missing.
func tfjsRef(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: TF.js parity needs node >= 18")
	}
	ref := filepath.Join(assets.CacheDir(), "js", "tfjs-4.22.0")
	mods := filepath.Join(ref, "node_modules")
	if _, err := os.Stat(filepath.Join(mods, "@tensorflow", "tfjs", "package.json")); err == nil {
		return mods
	}
	if err := os.MkdirAll(ref, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", ref, "@tensorflow/tfjs@4.22.0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install @tensorflow/tfjs@4.22.0: %v\n%s", err, out)
	}
	return mods
}

func writeF32(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestCNNParityTFJS runs a few real Fashion-MNIST images through the Go
// encoder (resize included) and through TF.js in node (its own
// resizeBilinear with half-pixel centres) and compares the features:
// max |Go − JS| ≤ 1e-3 · max |JS|.
func TestCNNParityTFJS(t *testing.T) {
	if testing.Short() {
		t.Skip("CNN parity runs real models in node")
	}
	mods := tfjsRef(t)
	ctx := context.Background()
	ds, err := data.Load(ctx, "fashion-mnist", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		size, dim int
		idx       []int // fixed images: official train records 1-3, first test record
	}{
		{"mobilenet-v2", "mobilenet_v2", 224, 1280, []int{0, 1, 2, 60000}},
		{"inception-v3", "inception_v3", 299, 2048, []int{60000}}, // 5.7 GFLOP per image: one image
	} {
		px, err := ds.Pixels(tc.idx)
		if err != nil {
			t.Fatal(err)
		}
		n := len(tc.idx)
		enc, err := newCNNFromAssets(tc.name, 0)(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := enc.(*CNN)
		t0 := time.Now()
		got, err := c.EncodeImages(ctx, ImageBatch{Pixels: px, Shape: [4]int{n, 28, 28, 1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		firstSecs := time.Since(t0).Seconds()
		// A second, warm pass times the forward pass alone (no graph compile).
		t0 = time.Now()
		again, err := c.EncodeImages(ctx, ImageBatch{Pixels: px, Shape: [4]int{n, 28, 28, 1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		goSecs := time.Since(t0).Seconds()
		for i, v := range again.Values {
			if v != got.Values[i] {
				t.Fatalf("%s: second pass differs at %d: %g vs %g (not deterministic)", tc.name, i, v, got.Values[i])
			}
		}
		if got.Cols != tc.dim {
			t.Fatalf("%s: dim %d, want %d", tc.name, got.Cols, tc.dim)
		}
		work := t.TempDir()
		in, out := filepath.Join(work, "in.f32"), filepath.Join(work, "out.f32")
		writeF32(t, in, px)
		dir, _ := assets.Ensure(ctx, "nsfwjs", nil)
		cmd := exec.Command("node", "testdata/cnn_ref.js", filepath.Join(dir, "dist", "models", tc.dir), in, out,
			itoa(n), itoa(tc.size), "28")
		cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: node reference: %v", tc.name, err)
		}
		var rep struct {
			Dim     int     `json:"dim"`
			Seconds float64 `json:"seconds"`
		}
		if err := json.Unmarshal(stdout, &rep); err != nil {
			t.Fatalf("%s: reference output %q: %v", tc.name, stdout, err)
		}
		want := readF32(t, out)
		if rep.Dim != tc.dim || len(want) != n*tc.dim {
			t.Fatalf("%s: reference dim %d with %d values", tc.name, rep.Dim, len(want))
		}
		maxDiff, maxRef, nonzero := featureDiff(got.Values, want)
		t.Logf("%s: %d images, max|diff| %.3g, max|ref| %.3g, relative %.3g; nonzero %d/%d; Go %.2fs first (with compile), %.2fs warm = %.2f images/s; TF.js %.2fs warm = %.2f images/s",
			tc.name, n, maxDiff, maxRef, maxDiff/maxRef, nonzero, len(want), firstSecs, goSecs, float64(n)/goSecs, rep.Seconds, float64(n)/rep.Seconds)
		if nonzero < len(want)/10 {
			t.Errorf("%s: only %d of %d reference features are nonzero: a degenerate comparison", tc.name, nonzero, len(want))
		}
		if maxDiff > 1e-3*maxRef {
			t.Errorf("%s: max |Go − TF.js| %.3g exceeds 1e-3 × max|TF.js| (%.3g)", tc.name, maxDiff, maxRef)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestCNNReducedSize checks the CPU-friendly InceptionV3 at 139 px: the
// final 8×8 pool becomes a global average over the 3×3 map, so features
// stay 2048-d, finite and not all zero; and the resize replicates gray.
func TestCNNReducedSize(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real CNN")
	}
	enc, err := NewImage(context.Background(), "inception-v3-139", nil)
	if err != nil {
		t.Fatal(err)
	}
	if enc.Name() != "inception-v3-139" || enc.Dim() != 2048 {
		t.Fatalf("name %q dim %d", enc.Name(), enc.Dim())
	}
	img := make([]float32, 28*28)
	for i := range img {
		img[i] = float32(i%28) / 27
	}
	m, err := enc.EncodeImages(context.Background(), ImageBatch{Pixels: img, Shape: [4]int{1, 28, 28, 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, v := range m.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 {
			t.Fatalf("feature %g: want finite, >= 0 (post-ReLU average)", v)
		}
		if v > 0 {
			pos++
		}
	}
	if pos < 200 {
		t.Errorf("only %d of 2048 features positive", pos)
	}
}

func TestResizeBilinearRGB(t *testing.T) {
	// 2×2 gray [0 1; 2 3] to 4×4 with half-pixel centres: source coords
	// -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1) per axis.
	img := []float32{0, 1, 2, 3}
	dst := make([]float32, 4*4*3)
	ResizeBilinearRGB(img, [3]int{2, 2, 1}, 4, dst)
	wantRow0 := []float32{0, 0.25, 0.75, 1}
	wantCol0 := []float32{0, 0.5, 1.5, 2}
	const tol = 1e-6
	for x, w := range wantRow0 {
		for k := range 3 {
			if d := dst[x*3+k] - w; d > tol || d < -tol {
				t.Errorf("row 0 x %d channel %d = %g, want %g", x, k, dst[x*3+k], w)
			}
		}
	}
	for y, w := range wantCol0 {
		if d := dst[y*4*3] - w; d > tol || d < -tol {
			t.Errorf("col 0 y %d = %g, want %g", y, dst[y*4*3], w)
		}
	}
}

// TestCNNWorkersDeterministic encodes 20 real Fashion-MNIST images (a
// batch of 16 and a short one of 4) with InceptionV3 at a small 75 px
// input on one goroutine and on three: the features must be the same
// bits, each row must match the image's own single-image encoding to
// float rounding (rows land in the right place), and a cancelled context
// must stop the run with its error.
func TestCNNWorkersDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real CNN")
	}
	ctx := context.Background()
	dir, err := assets.Ensure(ctx, "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCNN("inception-v3", filepath.Join(dir, "dist", "models", "inception_v3"), 75)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(ctx, "fashion-mnist", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	if c.Batch() != 16 {
		t.Fatalf("batch %d, want 16 (InceptionV3 has no depthwise convolutions)", c.Batch())
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = 60000 + 7*i
	}
	px, err := ds.Pixels(idx)
	if err != nil {
		t.Fatal(err)
	}
	imgs := ImageBatch{Pixels: px, Shape: [4]int{n, 28, 28, 1}}
	var runs [2]data.Matrix
	for i, w := range []string{"1", "3"} {
		t.Setenv("SUPERALIGN_CNN_WORKERS", w)
		if runs[i], err = c.EncodeImages(ctx, imgs, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range runs[1].Values {
		if v != runs[0].Values[i] {
			t.Fatalf("value %d: %g with 3 workers, %g with 1", i, v, runs[0].Values[i])
		}
	}
	for _, row := range []int{0, 17, n - 1} {
		one, err := c.EncodeImages(ctx, ImageBatch{Pixels: px[row*28*28 : (row+1)*28*28], Shape: [4]int{1, 28, 28, 1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var maxDiff, maxRef float64
		for j, v := range one.Values {
			maxDiff = math.Max(maxDiff, math.Abs(float64(v-runs[1].At(row, j))))
			maxRef = math.Max(maxRef, math.Abs(float64(v)))
		}
		if maxRef == 0 || maxDiff > 1e-4*maxRef {
			t.Errorf("row %d: batched features differ from the image alone by %.3g (max %.3g)", row, maxDiff, maxRef)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.EncodeImages(cctx, imgs, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run returned %v, want context.Canceled", err)
	}
}

// featureDiff compares features got with a reference's want, element by
// element: the largest absolute difference, the largest absolute reference
// value (the scale a relative tolerance is taken against) and how many
// reference values are non-zero (a reference of zeros would pass anything).
func featureDiff(got, want []float32) (maxDiff, maxRef float64, nonzero int) {
	for i, w := range want {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-w)))
		maxRef = math.Max(maxRef, math.Abs(float64(w)))
		if w != 0 {
			nonzero++
		}
	}
	return maxDiff, maxRef, nonzero
}
