package encode

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
)

// TestCNNMidParityTFJS runs real Fashion-MNIST images through the Go
// mobilenet-v2-mid encoder (resize included) and through TF.js's own
// graph-model executor in node (tf.loadGraphModel, CPU backend, its
// resizeBilinear with half-pixel centres), both stopping at the feature
// node, and compares: max |Go − JS| ≤ 1e-3 · max |JS|. It also logs the
// warm-pass images/s of both.
func TestCNNMidParityTFJS(t *testing.T) {
	if testing.Short() {
		t.Skip("CNN parity runs a real model in node")
	}
	mods := tfjsRef(t)
	ctx := context.Background()
	ds, err := data.Load(ctx, "fashion-mnist", nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 1, 2, 60000} // official train records 1-3, first test record
	n := len(idx)
	px, err := ds.Pixels(idx)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewImage(ctx, "mobilenet-v2-mid", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := enc.(*GraphCNN)
	if info, _ := Lookup("mobilenet-v2-mid"); c.Dim() != info.Dim || c.Dim() != 1792 {
		t.Fatalf("Dim %d, registry %d, want 1792", c.Dim(), info.Dim)
	}
	if !strings.HasSuffix(c.FeatureNode(), "feature_vector/SpatialSqueeze") || c.Size() != 224 {
		t.Fatalf("feature node %q size %d, want .../feature_vector/SpatialSqueeze at 224", c.FeatureNode(), c.Size())
	}
	batch := ImageBatch{Pixels: px, Shape: [4]int{n, 28, 28, 1}}
	t0 := time.Now()
	got, err := c.EncodeImages(ctx, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	firstSecs := time.Since(t0).Seconds()
	t0 = time.Now() // warm pass: the forward pass alone, no graph compile
	again, err := c.EncodeImages(ctx, batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	goSecs := time.Since(t0).Seconds()
	for i, v := range again.Values {
		if v != got.Values[i] {
			t.Fatalf("second pass differs at %d: %g vs %g (not deterministic)", i, v, got.Values[i])
		}
	}

	work := t.TempDir()
	in, out := filepath.Join(work, "in.f32"), filepath.Join(work, "out.f32")
	writeF32(t, in, px)
	dir, err := assets.Ensure(ctx, "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "testdata/cnn_mid_ref.js", filepath.Join(dir, "dist", "models", "mobilenet_v2_mid"),
		c.FeatureNode(), in, out, itoa(n), itoa(c.Size()), "28")
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node reference: %v", err)
	}
	var rep struct {
		Dim     int     `json:"dim"`
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal(stdout, &rep); err != nil {
		t.Fatalf("reference output %q: %v", stdout, err)
	}
	want := readF32(t, out)
	if rep.Dim != c.Dim() || len(want) != n*c.Dim() {
		t.Fatalf("reference dim %d with %d values, want %d×%d", rep.Dim, len(want), n, c.Dim())
	}
	maxDiff, maxRef, nonzero := featureDiff(got.Values, want)
	t.Logf("mobilenet-v2-mid: %d images, dim %d, max|diff| %.3g, max|ref| %.3g, relative %.3g; nonzero %d/%d; Go %.2fs first (with compile), %.2fs warm = %.2f images/s; TF.js %.2fs warm = %.2f images/s",
		n, c.Dim(), maxDiff, maxRef, maxDiff/maxRef, nonzero, len(want), firstSecs, goSecs, float64(n)/goSecs, rep.Seconds, float64(n)/rep.Seconds)
	if nonzero < len(want)/10 {
		t.Errorf("only %d of %d reference features are nonzero: a degenerate comparison", nonzero, len(want))
	}
	if maxDiff > 1e-3*maxRef {
		t.Errorf("max |Go − TF.js| %.3g exceeds 1e-3 × max|TF.js| (%.3g)", maxDiff, maxRef)
	}
}
