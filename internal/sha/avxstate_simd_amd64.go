//go:build goexperiment.simd && amd64

package sha

import "simd/archsimd"

var hasAVX = archsimd.X86.AVX()

// clearUpperState executes VZEROUPPER. See sha.go for why.
func clearUpperState() {
	if hasAVX {
		archsimd.ClearAVXUpperBits()
	}
}
