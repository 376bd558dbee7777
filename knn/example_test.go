package knn_test

import (
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
)

func Example() {
	x, _ := data.MatrixFromRows([][]float32{{0}, {1}, {2}, {10}, {11}})
	g, _ := knn.Build(x, 1, knn.L2)
	for i := range g.N {
		fmt.Println(i, "->", g.Neighbors(i))
	}

	comp, n := knn.StronglyConnected(g.N, g.Neighbors)
	fmt.Println(n, "components:", comp)

	y := data.NewMatrix(5, 2)
	y.Set(0, 0, 1) // point 0 is class A
	y.Set(4, 1, 1) // point 4 is class B
	f, _, _ := knn.Spread(knn.NewAffinity(g), y, knn.SpreadConfig{Alpha: 0.9})
	fmt.Println("labels:", f.Argmax())
	// Output:
	// 0 -> [1]
	// 1 -> [0]
	// 2 -> [1]
	// 3 -> [4]
	// 4 -> [3]
	// 3 components: [0 0 1 2 2]
	// labels: [0 0 0 1 1]
}
