package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/sweep"
)

func cmdSweep(ctx context.Context, args []string) error {
	fs := newFlags("sweep", "--config sweep.yaml --out DIR [--executor local|slurm] [--dry-run] [--resume]")
	config := fs.String("config", "", "grid spec (datasets, pairs, methods, seeds, limit, epochs, ...)")
	out := fs.String("out", "", "run directory (shared by all SLURM tasks)")
	executor := fs.String("executor", "local", "local (worker pool here) or slurm (one job array)")
	dry := fs.Bool("dry-run", false, "print the cells and which are done; run nothing")
	resume := fs.Bool("resume", false, "continue the sweep already planned in --out (no --config needed); only unfinished cells run")
	workers := fs.Int("workers", sweep.DefaultWorkers(), "local: cells computed at once")
	index := fs.String("index", "", "SQLite index of runs to add this run to (e.g. runs/index.sqlite)")
	var sl sweep.Slurm
	fs.StringVar(&sl.Partition, "partition", "", "slurm: partition")
	fs.StringVar(&sl.Time, "time", "", "slurm: time limit per task (e.g. 01:00:00)")
	fs.StringVar(&sl.Mem, "mem", "", "slurm: memory per task (e.g. 8G)")
	fs.IntVar(&sl.CPUs, "cpus-per-task", 0, "slurm: CPUs per task")
	fs.IntVar(&sl.GPUs, "gpus", 0, "slurm: GPUs per task (--gres=gpu:N)")
	fs.IntVar(&sl.MaxConcurrent, "max-concurrent", 0, "slurm: tasks running at once (%N; 0 = no limit)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if *out == "" {
		return usageError{fmt.Errorf("--out DIR is required")}
	}
	if *executor != "local" && *executor != "slurm" {
		return usageError{fmt.Errorf("--executor must be local or slurm, got %q", *executor)}
	}
	var cfg sweep.Config
	switch {
	case *config != "":
		c, err := sweep.LoadConfig(*config)
		if err != nil {
			return usageError{err}
		}
		cfg = c
	case *resume:
		p, err := sweep.LoadPlan(*out)
		if err != nil {
			return usageError{fmt.Errorf("--resume: %w", err)}
		}
		cfg = p.Config
	default:
		return usageError{fmt.Errorf("--config sweep.yaml is required (or --resume with an existing --out)")}
	}
	start := time.Now()
	cr := &experiment.CellRunner{Cache: &featcache.Cache{}, Checkpoints: sweep.CheckpointDir(*out), Log: os.Stderr}
	// A rerun with unchanged inputs reuses the saved plan's keys instead of
	// re-reading every dataset to hash it (see sweep.Stamp).
	plan, cached, err := sweep.PlanCached(ctx, cfg, cr, *out)
	if err != nil {
		return err
	}
	if cached {
		fmt.Fprintf(os.Stderr, "sweep: inputs unchanged since %s was planned: reusing its keys\n", filepath.Join(*out, "sweep", "plan.json"))
	}
	pending := plan.Pending(*out)
	if *dry {
		todo := map[int]bool{}
		for _, i := range pending {
			todo[i] = true
		}
		for _, c := range plan.Cells {
			state := "done"
			if todo[c.Index] {
				state = "todo"
			}
			fmt.Printf("%4d %s %-10s %s -> %s  %s seed %d  key %s\n", c.Index, state, c.Spec.Dataset, c.Spec.Weak, c.Spec.Strong, c.Spec.Method, c.Spec.Seed, c.Keys.Student)
		}
		fmt.Printf("%d cells: %d done, %d to run\n", len(plan.Cells), len(plan.Cells)-len(pending), len(pending))
		return nil
	}
	if err := plan.Save(*out); err != nil {
		return err
	}
	var st sweep.Stats
	if *executor == "local" {
		// After the first SIGINT the cells in flight finish (RunLocal); a
		// second one kills the process at once, abandoning them: every
		// write is atomic, so at worst a hidden temporary file is left.
		go func() {
			<-ctx.Done()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
		}()
		st, err = sweep.RunLocal(ctx, *out, plan, cr, *workers, os.Stderr)
	} else {
		st, err = sl.Run(ctx, *out, plan, os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "sweep: %s in %.1fs\n", st, time.Since(start).Seconds())
	_, sums, ferr := sweep.Finalize(*out, plan, "w2s sweep "+strings.Join(args, " "), *index)
	if ferr != nil && err == nil {
		err = ferr
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w; finished cells are saved: rerun with --resume --out %s to complete the sweep", err, *out)
	}
	if err != nil {
		return err
	}
	printSummaries(os.Stdout, sums)
	fmt.Printf("\n%s; wrote %s/{results.jsonl,summary.json,results.parquet,report.html} in %.1fs\n", st, *out, time.Since(start).Seconds())
	return nil
}
