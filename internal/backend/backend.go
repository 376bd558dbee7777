// Package backend holds the process-wide GoMLX compute backend that every
// graph of superalign runs on: encoders, training and prediction. It is the
// pure-Go backend by default; $GOMLX_BACKEND (e.g.
// "xla:/abs/path/xla_cuda_plugin.so") selects another one that the binary
// registers (xla.go: builds without -tags noxla, with cgo).
package backend

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// backendOnce holds the process-wide compute backend: creating one per graph
// would repeat device set-up (seconds on a GPU) and split the buffer cache.
var backendOnce = sync.OnceValues(func() (compute.Backend, error) {
	if cfg, ok := os.LookupEnv(compute.ConfigEnvVar); ok && cfg != "" {
		b, err := newBackendWithConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("backend: from $%s=%q: %w", compute.ConfigEnvVar, cfg, err)
		}
		return b, nil
	}
	// The pure-Go backend is the default: it needs no C libraries and gives
	// bit-identical results across runs on one machine. Ops run one at a
	// time (each matmul still uses every core): with gomlx v0.28 / compute
	// 20260716 the parallel op scheduler deadlocked in workerspool on large
	// graphs (USE-lite fine-tuning, CNNs: 2 of 4 runs hung), and for heads
	// the sequential scheduler costs ~7% (sentiment bow → glove:mlp, 3
	// seeds: 5.2 s vs 4.8 s) with bit-identical results.
	b, err := gobackend.New("ops_sequential")
	if err != nil {
		return nil, fmt.Errorf("backend: pure-Go backend: %w", err)
	}
	return b, nil
})

// newBackendWithConfig turns the panic compute.NewWithConfig raises for an
// unregistered backend name into an error.
func newBackendWithConfig(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v (is that backend compiled in? the XLA backend needs a build without -tags noxla that imports it)", r)
		}
	}()
	return compute.NewWithConfig(cfg)
}

// Get returns the compute backend every graph runs on: the
// pure-Go backend ("go"), or whatever $GOMLX_BACKEND names (e.g.
// "xla:/abs/path/xla_cuda_plugin.so" in a binary that registers XLA). It is
// created once per process.
func Get() (compute.Backend, error) { return backendOnce() }
