package tfjs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers the "go" backend
	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/tfjs"
)

// Load nsfwjs's MobileNetV2 (a Keras layers model in base64 .min.js
// bundles, uint8-quantised), build its forward pass up to the pooled
// features on GoMLX, and run one blank 224×224 RGB image [1, 224, 224, 3].
func TestWalkthroughLayersModelBuild(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs")
	var out strings.Builder
	dir, err := assets.Ensure(context.Background(), "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfjs.LoadLayersModel(filepath.Join(dir, "dist", "models", "mobilenet_v2"))
	if err != nil {
		t.Fatal(err)
	}
	// The pure-Go backend, ops run one at a time (its parallel op scheduler
	// can deadlock on large graphs; each op still uses every core).
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node {
		return m.Build(x, tfjs.BuildOptions{Until: "flatten_1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	y, err := exec.Call1(tensors.FromFlatDataAndDimensions(make([]float32, 224*224*3), 1, 224, 224, 3))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(&out, m.InputShape, len(m.Layers), y.Shape().Dimensions)
	if got, want := out.String(), "[224 224 3] 162 [1 1280]\n"; got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
