package tfjs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/tfjs"
)

// Load the USE-lite graph model and look at its embedding table and ops.
func TestWalkthroughLoadGraphModel(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	var out strings.Builder
	dir, err := assets.Ensure(context.Background(), "use-lite", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfjs.LoadGraphModel(filepath.Join(dir, "dist", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	emb, err := m.Weight("module/Embeddings_en", 8002, 256)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range m.Nodes {
		ops[n.Op]++
	}
	fmt.Fprintln(&out, len(m.Nodes), "nodes,", len(m.WeightOrder), "weights; embeddings", emb.Shape, emb.DType)
	fmt.Fprintln(&out, "softmax:", ops["Softmax"], "relu:", ops["Relu"], "tanh:", ops["Tanh"])
	if got, want := out.String(), "317 nodes, 61 weights; embeddings [8002 256] float32\nsoftmax: 2 relu: 2 tanh: 1\n"; got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
