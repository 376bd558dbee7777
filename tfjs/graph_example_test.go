package tfjs_test

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/tfjs"
)

// Load the USE-lite graph model and look at its embedding table and ops.
func ExampleLoadGraphModel() {
	dir, err := assets.Ensure(context.Background(), "use-lite", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := tfjs.LoadGraphModel(filepath.Join(dir, "dist", "model.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	emb, err := m.Weight("module/Embeddings_en", 8002, 256)
	if err != nil {
		fmt.Println(err)
		return
	}
	ops := map[string]int{}
	for _, n := range m.Nodes {
		ops[n.Op]++
	}
	fmt.Println(len(m.Nodes), "nodes,", len(m.WeightOrder), "weights; embeddings", emb.Shape, emb.DType)
	fmt.Println("softmax:", ops["Softmax"], "relu:", ops["Relu"], "tanh:", ops["Tanh"])
	// Output:
	// 317 nodes, 61 weights; embeddings [8002 256] float32
	// softmax: 2 relu: 2 tanh: 1
}
