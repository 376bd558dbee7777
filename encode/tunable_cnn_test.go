package encode

import (
	"context"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
)

// TestTunableCNNForward checks the trainable graphs of the layers CNNs on
// real MNIST images: Forward on the variables LoadWeights makes, and
// Top(Bottom) split after a few blocks, give the frozen encoder's
// features to float rounding (InceptionV3's padded pools included), and
// the bottom's weights are a proper subset of the whole.
func TestTunableCNNForward(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real CNNs")
	}
	ctx := context.Background()
	ds, err := data.Load(ctx, "mnist", nil)
	if err != nil {
		t.Fatal(err)
	}
	px, err := ds.Pixels([]int{0, 60000})
	if err != nil {
		t.Fatal(err)
	}
	be, err := backend.Get()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		bottom int
	}{{"mobilenet-v2-64", 14}, {"inception-v3-75", 8}} {
		enc, err := NewImage(ctx, tc.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := enc.(*CNN)
		want, err := c.EncodeImages(ctx, ImageBatch{Pixels: px, Shape: [4]int{2, 28, 28, 1}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := c.Size()
		x := make([]float32, 2*s*s*3)
		for i := range 2 {
			ResizeBilinearRGB(px[i*784:(i+1)*784], [3]int{28, 28, 1}, s, x[i*s*s*3:(i+1)*s*s*3])
		}
		store := model.NewStore()
		ws, err := c.LoadWeights(store.RootScope())
		if err != nil {
			t.Fatal(err)
		}
		bw := c.BottomWeights(tc.bottom)
		if len(bw) == 0 || len(bw) >= len(ws) {
			t.Errorf("%s: %d bottom weights of %d", tc.name, len(bw), len(ws))
		}
		for _, split := range []bool{false, true} {
			exec, err := model.NewExec(be, store, func(scope *model.Scope, x *Node) *Node {
				if split {
					return c.Top(scope, c.Bottom(scope, x, tc.bottom), tc.bottom)
				}
				return c.Forward(scope, x)
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Call1(tensors.FromFlatDataAndDimensions(x, 2, s, s, 3))
			if err != nil {
				t.Fatalf("%s split=%t: %v", tc.name, split, err)
			}
			got := tensors.MustCopyFlatData[float32](res)
			maxDiff, maxRef, _ := featureDiff(got, want.Values)
			t.Logf("%s split=%t: %d weights, max|diff| %.3g, max|ref| %.3g", tc.name, split, len(ws), maxDiff, maxRef)
			if len(got) != len(want.Values) || maxRef == 0 || maxDiff > 1e-5*maxRef {
				t.Errorf("%s split=%t: trainable graph differs from the encoder by %.3g (max %.3g)", tc.name, split, maxDiff, maxRef)
			}
		}
	}
}
