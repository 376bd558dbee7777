//go:build !noxla

package backend

// Built without -tags noxla (and with cgo), the binary also registers
// GoMLX's XLA backend, so GOMLX_BACKEND=xla:/abs/path/xla_cuda_plugin.so
// runs everything on a GPU (STACK.md). CPU builds use -tags noxla and stay
// free of C.
import _ "github.com/gomlx/go-xla/compute/xla"
