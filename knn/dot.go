package knn

// dot2x4Generic is the portable kernel: the same eight dot products as
// dot2x4, in plain loops (the SIMD kernel falls back to it without AVX2+FMA).
func dot2x4Generic(a0, a1, b0, b1, b2, b3 []float32, out *[2][4]float32) {
	d := len(a0)
	a1, b0, b1, b2, b3 = a1[:d], b0[:d], b1[:d], b2[:d], b3[:d]
	var s [2][4]float32
	for i := 0; i < d; i++ {
		x0, x1 := a0[i], a1[i]
		s[0][0] += x0 * b0[i]
		s[0][1] += x0 * b1[i]
		s[0][2] += x0 * b2[i]
		s[0][3] += x0 * b3[i]
		s[1][0] += x1 * b0[i]
		s[1][1] += x1 * b1[i]
		s[1][2] += x1 * b2[i]
		s[1][3] += x1 * b3[i]
	}
	*out = s
}
