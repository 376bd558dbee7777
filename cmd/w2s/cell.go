package main

import (
	"context"
	"fmt"
	"os"

	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/sweep"
)

// cmdCell runs one planned sweep cell: what each SLURM array task executes.
func cmdCell(ctx context.Context, args []string) error {
	fs := newFlags("cell", "--run DIR --index I   (runs cell I of DIR/sweep/plan.json; written by w2s sweep)")
	dir := fs.String("run", "", "sweep run directory")
	index := fs.Int("index", -1, "cell index in the plan (SLURM_ARRAY_TASK_ID)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if *dir == "" || *index < 0 {
		return usageError{fmt.Errorf("--run DIR and --index I are required")}
	}
	cr := &experiment.CellRunner{Cache: &featcache.Cache{}, Log: os.Stderr}
	return sweep.CellMain(ctx, *dir, *index, cr)
}
