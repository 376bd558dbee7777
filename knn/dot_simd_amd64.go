//go:build goexperiment.simd && amd64

package knn

import (
	"simd/archsimd"
	"unsafe"
)

// useSIMD is true where the AVX2+FMA kernel can run.
var useSIMD = archsimd.X86.AVX2() && archsimd.X86.FMA()

// dot2x4 computes the eight dot products of rows a0, a1 with rows b0..b3
// (all of length d, a multiple of 8 handled with vectors, the rest scalar)
// into out [2][4]. Eight accumulators of 8 lanes keep both FMA ports busy;
// each step loads six vectors for eight FMAs.
func dot2x4(a0, a1, b0, b1, b2, b3 []float32, out *[2][4]float32) {
	if !useSIMD {
		dot2x4Generic(a0, a1, b0, b1, b2, b3, out)
		return
	}
	d := len(a0)
	a1, b0, b1, b2, b3 = a1[:d], b0[:d], b1[:d], b2[:d], b3[:d]
	var s00, s01, s02, s03, s10, s11, s12, s13 archsimd.Float32x8
	i := 0
	if d >= 8 {
		// Raw pointers: the loop body then has no bounds checks and keeps
		// no slice headers live, so the eight accumulators, six pointers
		// and the counter all stay in registers (with slices the compiler
		// spilled headers to the stack every step). Safe: every slice was
		// resliced to d above and the loop stops at the last full vector.
		p0 := unsafe.Pointer(unsafe.SliceData(a0))
		p1 := unsafe.Pointer(unsafe.SliceData(a1))
		q0 := unsafe.Pointer(unsafe.SliceData(b0))
		q1 := unsafe.Pointer(unsafe.SliceData(b1))
		q2 := unsafe.Pointer(unsafe.SliceData(b2))
		q3 := unsafe.Pointer(unsafe.SliceData(b3))
		for off := uintptr(0); i+8 <= d; i, off = i+8, off+32 {
			x0 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p0, off)))
			x1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p1, off)))
			y := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q0, off)))
			s00 = x0.MulAdd(y, s00)
			s10 = x1.MulAdd(y, s10)
			y = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q1, off)))
			s01 = x0.MulAdd(y, s01)
			s11 = x1.MulAdd(y, s11)
			y = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q2, off)))
			s02 = x0.MulAdd(y, s02)
			s12 = x1.MulAdd(y, s12)
			y = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q3, off)))
			s03 = x0.MulAdd(y, s03)
			s13 = x1.MulAdd(y, s13)
		}
	}
	var t [8][8]float32
	s00.Store(&t[0])
	s01.Store(&t[1])
	s02.Store(&t[2])
	s03.Store(&t[3])
	s10.Store(&t[4])
	s11.Store(&t[5])
	s12.Store(&t[6])
	s13.Store(&t[7])
	// VZEROUPPER before the scalar (SSE-encoded) code below: with the upper
	// halves of the YMM registers dirty, every legacy SSE instruction pays
	// a state-transition penalty on many Intel cores (the kernel ran at a
	// third of its speed without this).
	archsimd.ClearAVXUpperBits()
	for r := range 2 {
		for c := range 4 {
			v := &t[4*r+c]
			out[r][c] = ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]))
		}
	}
	for ; i < d; i++ {
		out[0][0] += a0[i] * b0[i]
		out[0][1] += a0[i] * b1[i]
		out[0][2] += a0[i] * b2[i]
		out[0][3] += a0[i] * b3[i]
		out[1][0] += a1[i] * b0[i]
		out[1][1] += a1[i] * b1[i]
		out[1][2] += a1[i] * b2[i]
		out[1][3] += a1[i] * b3[i]
	}
}

// clearUpper executes VZEROUPPER after a run of AVX code, so that SSE code
// elsewhere in the process does not pay the AVX-SSE transition penalty.
func clearUpper() {
	if useSIMD {
		archsimd.ClearAVXUpperBits()
	}
}
