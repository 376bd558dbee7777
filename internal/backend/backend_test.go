package backend

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// wideProducts returns a graph function of x [n, n]: the sum of `width`
// independent products x·(x + i), all ready at once, each large enough for
// the backend's blocked kernel, which fans out over the worker pool.
func wideProducts(width int) func(x *gr.Node) *gr.Node {
	return func(x *gr.Node) *gr.Node {
		var sum *gr.Node
		for i := range width {
			p := gr.MatMul(x, gr.AddScalar(x, float64(i)))
			if sum == nil {
				sum = p
			} else {
				sum = gr.Add(sum, p)
			}
		}
		return sum
	}
}

// runWithin executes f on be with input x [n, n] and returns its flat output, or
// reports false if it did not finish within limit (a hung executor: its
// goroutines are left behind, the test binary exits anyway).
func runWithin(t *testing.T, be compute.Backend, f func(*gr.Node) *gr.Node, x []float32, n int, limit time.Duration) ([]float32, bool) {
	t.Helper()
	type result struct {
		flat []float32
		err  error
	}
	done := make(chan result, 1)
	go func() {
		exec, err := gr.NewExec(be, f)
		if err != nil {
			done <- result{err: err}
			return
		}
		// A tensor belongs to the backend it first ran on: a fresh one per run.
		y, err := exec.Call1(tensors.FromFlatDataAndDimensions(x, n, n))
		if err != nil {
			done <- result{err: err}
			return
		}
		flat, err := tensors.CopyFlatData[float32](y)
		done <- result{flat, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.flat, true
	case <-time.After(limit):
		return nil, false
	}
}

// TestParallelOpsFinishAndMatchSequential is the regression test for the
// worker-pool deadlock: a graph with many matrix products ready at once must
// finish on the process backend, and give the same bits as ops run one at a
// time.
func TestParallelOpsFinishAndMatchSequential(t *testing.T) {
	be, err := Get()
	if err != nil {
		t.Fatal(err)
	}
	workers := reflect.ValueOf(be).Elem().FieldByName("Workers").MethodByName("MaxParallelism").Call(nil)[0].Int()
	if workers != -1 {
		t.Fatalf("process backend's op workers limited to %d, want unlimited (-1)", workers)
	}
	const n, width = 256, 24
	rng := rand.New(rand.NewPCG(1, 2))
	flat := make([]float32, n*n)
	for i := range flat {
		flat[i] = float32(rng.NormFloat64()) / 16
	}
	f := wideProducts(width)

	sequential, err := gobackend.New("ops_sequential")
	if err != nil {
		t.Fatal(err)
	}
	want, ok := runWithin(t, sequential, f, flat, n, 2*time.Minute)
	if !ok {
		t.Fatal("sequential execution did not finish in 2 minutes")
	}
	for run := range 5 {
		got, ok := runWithin(t, be, f, flat, n, 2*time.Minute)
		if !ok {
			t.Fatalf("run %d: %d parallel products did not finish in 2 minutes (worker-pool deadlock)", run, width)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("run %d: element %d = %v in parallel, %v sequentially: not bit-identical", run, i, got[i], want[i])
			}
		}
	}
}

// TestStockPoolDeadlocks shows the failure unlimitOpWorkers exists for, so
// that a GoMLX bump which fixes it is noticed (this test then fails and the
// work-around can go): the backend's own pool, ops in parallel, hangs on the
// same graph.
func TestStockPoolDeadlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a hang")
	}
	stock, err := gobackend.New("ops_parallel")
	if err != nil {
		t.Fatal(err)
	}
	const n, width = 256, 24
	x := make([]float32, n*n)
	hung := false
	for range 5 {
		if _, ok := runWithin(t, stock, wideProducts(width), x, n, 20*time.Second); !ok {
			hung = true
			break
		}
	}
	if !hung {
		t.Error("the stock worker pool ran 24 parallel products 5 times without hanging: " +
			"the deadlock unlimitOpWorkers works around may be fixed; check and drop the work-around")
	}
}

// TestOpsOneAtATimeHoldsAndReleases checks the hold on the executor's
// live-execution count that makes small graphs run one op at a time: it
// adds one while held, and release (twice, as a deferred call after an
// explicit one would) takes exactly that one away.
func TestOpsOneAtATimeHoldsAndReleases(t *testing.T) {
	be, err := Get()
	if err != nil {
		t.Fatal(err)
	}
	live := reflect.ValueOf(be).Elem().FieldByName("NumLiveExecutions").Addr().MethodByName("Load")
	count := func() int64 { return live.Call(nil)[0].Int() }
	before := count()
	release, err := OpsOneAtATime()
	if err != nil {
		t.Fatal(err)
	}
	if got := count(); got != before+1 {
		t.Fatalf("live executions while held = %d, want %d", got, before+1)
	}
	release()
	release()
	if got := count(); got != before {
		t.Fatalf("live executions after release = %d, want %d", got, before)
	}
}
