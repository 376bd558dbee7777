package sweep

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/progress"
)

// Stats counts what an executor did.
type Stats struct {
	Cells      int // cells in the plan
	Reused     int // already finished before this invocation
	Ran        int // computed now
	Failed     int
	NotStarted int // left pending (interrupted)
	// Shared nodes of the computed cells: trained now vs reused from disk/memory.
	WeakTrained, WeakReused, CeilingTrained, CeilingReused int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d cells: %d reused, %d computed, %d failed, %d not started; weak models %d trained / %d reused, ceilings %d trained / %d reused",
		s.Cells, s.Reused, s.Ran, s.Failed, s.NotStarted, s.WeakTrained, s.WeakReused, s.CeilingTrained, s.CeilingReused)
}

// DefaultWorkers is one worker per two cores: each fit already uses every core.
func DefaultWorkers() int { return max(1, runtime.NumCPU()/2) }

// RunLocal computes the plan's pending cells with a bounded pool of workers
// in this process. When ctx is cancelled (SIGINT) no new cell starts and the
// cells in flight finish and are saved, so nothing is half-written; it then
// returns ctx.Err(). Rows are written atomically per cell as they finish.
func RunLocal(ctx context.Context, dir string, plan *Plan, cr *experiment.CellRunner, workers int, log io.Writer) (Stats, error) {
	st := Stats{Cells: len(plan.Cells)}
	pending := plan.Pending(dir)
	st.Reused = len(plan.Cells) - len(pending)
	if workers < 1 {
		workers = DefaultWorkers()
	}
	bar := progress.New(log, "sweep", len(pending), "cells")
	jobs := make(chan int)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	// In-flight cells run on a context that outlives an interrupt.
	cellCtx := context.WithoutCancel(ctx)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := plan.Cells[i]
				reused, cst, err := RunCell(cellCtx, dir, c, cr)
				mu.Lock()
				switch {
				case err != nil:
					st.Failed++
					if firstErr == nil {
						firstErr = fmt.Errorf("cell %d (%s %s->%s %s seed %d): %w", i, c.Spec.Dataset, c.Spec.Weak, c.Spec.Strong, c.Spec.Method, c.Spec.Seed, err)
					}
					if log != nil {
						fmt.Fprintf(log, "sweep: cell %d failed: %v\n", i, err)
					}
				case reused:
					st.Reused++
				default:
					st.Ran++
					count(&st.WeakTrained, &st.WeakReused, cst.WeakReused)
					count(&st.CeilingTrained, &st.CeilingReused, cst.CeilingReused)
				}
				mu.Unlock()
				bar.Add(1)
			}
		}()
	}
	sent := 0
loop:
	for _, i := range pending {
		select {
		case <-ctx.Done():
			if log != nil {
				fmt.Fprintf(log, "\nsweep: interrupted: finishing the cells in flight, starting no more (%d not started); finished cells are kept\n", len(pending)-sent)
			}
			break loop
		case jobs <- i:
			sent++
		}
	}
	close(jobs)
	wg.Wait()
	bar.Done()
	st.NotStarted = len(pending) - sent
	if ctx.Err() != nil {
		return st, fmt.Errorf("interrupted after finishing the cells in flight (%d not started): %w", st.NotStarted, ctx.Err())
	}
	return st, firstErr
}

func count(trained, reused *int, wasReused bool) {
	if wasReused {
		*reused++
	} else {
		*trained++
	}
}
