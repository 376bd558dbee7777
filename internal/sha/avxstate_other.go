//go:build !(goexperiment.simd && amd64)

package sha

// clearUpperState is a no-op where the runtime never restores AVX-512 state
// on preemption. See sha.go.
func clearUpperState() {}
