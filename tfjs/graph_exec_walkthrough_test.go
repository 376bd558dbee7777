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

// Load nsfwjs's MobileNetV2-mid (a TF.js graph model in base64 .min.js
// bundles, uint8-quantised), find the input of its classifier MatMul (the
// pooled penultimate features), check that every op up to it is supported,
// and run one blank 224×224 RGB image [1, 224, 224, 3] through it.
func TestWalkthroughGraphProgramBuild(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs")
	var out strings.Builder
	dir, err := assets.Ensure(context.Background(), "nsfwjs", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tfjs.LoadGraphProgram(filepath.Join(dir, "dist", "models", "mobilenet_v2_mid"))
	if err != nil {
		t.Fatal(err)
	}
	var feature string
	for _, n := range p.Nodes {
		if n.Op == "_FusedMatMul" {
			feature = n.Input[0]
		}
	}
	if err := p.Check(feature); err != nil {
		t.Fatal(err)
	}
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node { return p.Build(x, feature) })
	if err != nil {
		t.Fatal(err)
	}
	y, err := exec.Call1(tensors.FromFlatDataAndDimensions(make([]float32, 224*224*3), 1, 224, 224, 3))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(&out, p.InputShape, feature[strings.LastIndex(feature, "predict/")+8:], y.Shape().Dimensions)
	if got, want := out.String(), "[-1 224 224 3] feature_vector/SpatialSqueeze [1 1792]\n"; got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
