package encode

import (
	"context"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/testenv"
)

// TestUSELiteLayerSplit checks the split a top-layer fine-tune relies on:
// Top(Bottom(ids, n), n) is Forward for every n, on a padded batch of real
// sentences of different lengths, and BottomWeights(n) names the embedding
// and exactly the weights of the first n layers.
func TestUSELiteLayerSplit(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	dir, err := USELiteDir(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := LoadUSELite(dir)
	if err != nil {
		t.Fatal(err)
	}
	texts := sentimentSentences(t)[:6]
	toks := u.Tokenize(texts)
	longest := 0
	for _, tk := range toks {
		longest = max(longest, len(tk))
	}
	ids, mask := PadTokens(toks, []int{0, 1, 2, 3, 4, 5}, 8, u.PadLen(longest))
	be, err := backend.Get()
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	weights, err := u.LoadWeights(store.RootScope())
	if err != nil {
		t.Fatal(err)
	}
	if u.Layers() != 2 {
		t.Fatalf("USE-lite has %d layers, want 2", u.Layers())
	}
	for n := 0; n <= u.Layers(); n++ {
		exec, err := model.NewExec(be, store, func(scope *model.Scope, ids, mask *Node) *Node {
			split := u.Top(scope, u.Bottom(scope, ids, mask, n), mask, n)
			return ReduceAllMax(Abs(Sub(split, u.Forward(scope, ids, mask))))
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := exec.Call1(ids, mask)
		if err != nil {
			t.Fatal(err)
		}
		if d := tensors.ToScalar[float32](res); !(math.Abs(float64(d)) <= 1e-6) {
			t.Errorf("n=%d: Top(Bottom) differs from Forward by %g", n, d)
		}
		exec.Finalize()
	}
	// The embedding alone below layer 0; 14 weights per layer with a
	// projected residual (layer 0), 12 without.
	trainable := map[string]bool{}
	for _, w := range weights {
		trainable[w.Var.Name()] = true
	}
	for n, want := range []int{1, 1 + 14, 1 + 14 + 12} {
		got := 0
		for name := range u.BottomWeights(n) {
			if trainable[name] {
				got++
			}
		}
		if got != want {
			t.Errorf("BottomWeights(%d): %d trainable weights, want %d", n, got, want)
		}
	}
}
