//go:build !noxla

package backend

// Built without -tags noxla (and with cgo), the binary also registers
// GoMLX's XLA backend, so GOMLX_BACKEND=xla:/abs/path/xla_cuda_plugin.so
// (the CUDA PJRT plugin JAX installs) runs everything on a GPU. CPU builds
// use -tags noxla and stay free of C.
import _ "github.com/gomlx/go-xla/compute/xla"
