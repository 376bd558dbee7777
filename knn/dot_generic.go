//go:build !(goexperiment.simd && amd64)

package knn

func dot2x4(a0, a1, b0, b1, b2, b3 []float32, out *[2][4]float32) {
	dot2x4Generic(a0, a1, b0, b1, b2, b3, out)
}

func clearUpper() {}
