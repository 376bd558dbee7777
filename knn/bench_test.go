package knn

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkDot2x4(b *testing.B) { benchDot2x4(b, dot2x4) }

func BenchmarkBuild4000x512(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randMatrix(rng, 4000, 512)
	for b.Loop() {
		Build(x, 10, L2)
	}
}

func BenchmarkDot2x4Generic(b *testing.B) { benchDot2x4(b, dot2x4Generic) }

// benchDot2x4 times a 2×4 block of 512-d dot products.
func benchDot2x4(b *testing.B, dot func(a0, a1, b0, b1, b2, b3 []float32, out *[2][4]float32)) {
	rng := rand.New(rand.NewPCG(1, 1))
	rows := make([][]float32, 6)
	for i := range rows {
		rows[i] = make([]float32, 512)
		for j := range rows[i] {
			rows[i][j] = float32(rng.NormFloat64())
		}
	}
	var out [2][4]float32
	for b.Loop() {
		dot(rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], &out)
	}
	b.ReportMetric(float64(8*2*512)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
