// Package backend holds the process-wide GoMLX compute backend that every
// graph of superalign runs on: encoders, training and prediction. It is the
// pure-Go backend by default; $GOMLX_BACKEND (e.g.
// "xla:/abs/path/xla_cuda_plugin.so") selects another one that the binary
// registers (xla.go: builds without -tags noxla, with cgo).
package backend

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

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
		// A Go backend named explicitly (go, go:ops_sequential) gets the
		// same protection from the pool's deadlock, unless the setting
		// chooses its own parallelism.
		name, options, _ := strings.Cut(cfg, ":")
		if name == gobackend.BackendName && !strings.Contains(options, "parallelism") {
			if err := unlimitOpWorkers(b); err != nil {
				return nil, fmt.Errorf("backend: from $%s=%q: %w", compute.ConfigEnvVar, cfg, err)
			}
		}
		return b, nil
	}
	// The pure-Go backend is the default: it needs no C libraries and gives
	// bit-identical results across runs on one machine.
	b, err := gobackend.New("")
	if err != nil {
		return nil, fmt.Errorf("backend: pure-Go backend: %w", err)
	}
	if err := unlimitOpWorkers(b); err != nil {
		return nil, fmt.Errorf("backend: pure-Go backend: %w", err)
	}
	return b, nil
})

// unlimitOpWorkers lets the pure-Go backend run independent ops of a graph
// at the same time without deadlocking. Its worker pool admits 2×GOMAXPROCS
// tasks; a graph executor takes one slot per running op, and a matrix product
// inside an op waits for further slots (Pool.Saturate) that only a finishing
// op can free: once as many products run at once as the pool has slots,
// nothing finishes (gomlx v0.28 / compute 20260716; USE-lite fine-tuning and
// CNN graphs hung in 2 of 4 runs). Without a limit, ops start as goroutines
// and each product still fans out to GOMAXPROCS workers, so products split
// their work exactly as before and results stay bit-identical; a USE-lite
// fine-tune step runs 1.4–1.8× faster than with ops one at a time (BENCH.md,
// bench/profile.sh).
//
// The backend's "parallelism=-1" option would do the same but prints to
// stdout, which carries this program's results; the pool sits in an internal
// package, so its exported setter is reached by reflection. The pin in
// go.mod keeps the field where this expects it, and a bump that moves it
// fails here, at start-up, with this error.
func unlimitOpWorkers(b compute.Backend) error {
	workers, ok := exportedField(b, "Workers")
	if !ok {
		return fmt.Errorf("backend type %T has no exported Workers pool: cannot unlimit its op workers", b)
	}
	setter := workers.MethodByName("SetMaxParallelism")
	if !setter.IsValid() {
		return fmt.Errorf("backend type %T has no Workers.SetMaxParallelism: cannot unlimit its op workers", b)
	}
	setter.Call([]reflect.Value{reflect.ValueOf(-1)})
	return nil
}

// OpsOneAtATime makes the pure-Go backend run every graph's ops one at a
// time until release is called (it may be called more than once), and
// does nothing on another backend. Ops at once pay a goroutine and a
// hand-over per op, which a graph of tiny ops does not earn back: a linear
// head's 30 epochs over 8000 × 512 features took 0.39 s one op at a time
// and 0.59–0.65 s with ops at once, while a 256-unit MLP head took 6.4 s
// and 4.1–4.4 s (bench/cmd/headbench, this machine, 2026-12-03).
//
// The backend runs ops at once only while a single execution is live
// (its dynamic mode); holding one more live execution is the one lever it
// offers from outside its internal package, so release restores the count.
// Concurrent graphs in the process run one op at a time meanwhile, which
// is what the backend does whenever two graphs run together.
func OpsOneAtATime() (release func(), err error) {
	be, err := Get()
	if err != nil {
		return nil, err
	}
	field, ok := exportedField(be, "NumLiveExecutions")
	if !ok {
		return func() {}, nil // not the Go backend (XLA)
	}
	live, ok := field.Addr().Interface().(*atomic.Int32)
	if !ok {
		return nil, fmt.Errorf("backend: %T.NumLiveExecutions is %s, not an atomic.Int32", be, field.Type())
	}
	live.Add(1)
	return sync.OnceFunc(func() { live.Add(-1) }), nil
}

// exportedField returns the exported field name of the struct b points to:
// the Go backend's type sits in an internal package, so its fields are
// reached by reflection.
func exportedField(b compute.Backend, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(b)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid() && f.CanInterface()
}

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
