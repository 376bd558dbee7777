package experiment

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

// Runner executes a `w2s run`: a sweep over datasets × methods × seeds in
// one process, through the same cells, keys and saved rows as a sweep.
// Cache holds encoder features; Out, when its Dir is set, receives finished
// rows as they complete (DIR/cells/KEY.json, KEY the student node key) so
// a killed run resumes, and the fine-tuning checkpoints (DIR/checkpoints),
// removed at the end.
type Runner struct {
	Cache *featcache.Cache
	Out   store.RunDir
	Log   io.Writer
	// Teachers is the teacher cache ("" = DefaultTeacherDir).
	Teachers string
}

func (r *Runner) checkpointDir() string { return filepath.Join(r.Out.Dir, "checkpoints") }

// Run executes every dataset × method × seed of spec and returns the rows
// (sorted) and their summaries. Rows already finished in r.Out are reused.
// Every method runs on every student, probe or fine-tuned; the weak model
// and the ceiling of a seed are trained once and shared by its methods.
func (r *Runner) Run(ctx context.Context, spec Spec) ([]store.Row, []store.Summary, error) {
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	methods := make([]method.Method, len(spec.Methods))
	for i, name := range spec.Methods {
		m, err := method.New(name)
		if err != nil {
			return nil, nil, err
		}
		methods[i] = m
	}
	cr := &CellRunner{Cache: r.Cache, Teachers: r.Teachers, Log: r.Log}
	if r.Out.Dir != "" {
		cr.Checkpoints = r.checkpointDir()
	}
	// Rows, summaries and saved cells tell datasets apart by name: unique
	// within the run (a path where two files share a base name).
	names, err := data.DisplayNames(spec.Datasets)
	if err != nil {
		return nil, nil, err
	}
	// Every method is checked against every dataset before any work: a
	// method that refuses a cell (bootstrap with no intermediate encoder,
	// cosupervise with two classes, a gold budget larger than train_weak)
	// fails the run now, or is left out of that dataset with a note.
	perDataset := make([][]method.Method, len(spec.Datasets))
	var refusals []string
	for di, dataset := range spec.Datasets {
		info, err := cr.Info(ctx, spec.cell(dataset, names[di], "", spec.SeedBase))
		if err != nil {
			return nil, nil, err
		}
		for _, m := range methods {
			if err := method.Check(m, info); err != nil {
				if !spec.SkipInapplicable {
					refusals = append(refusals, fmt.Sprintf("%s: %v", names[di], err))
					continue
				}
				r.logf("%s: leaving out %v", names[di], err)
				continue
			}
			perDataset[di] = append(perDataset[di], m)
		}
	}
	if len(refusals) > 0 {
		return nil, nil, fmt.Errorf("methods that cannot run (nothing was trained):\n  %s", strings.Join(refusals, "\n  "))
	}
	var rows []store.Row
	for di, dataset := range spec.Datasets {
		if len(perDataset[di]) == 0 {
			continue
		}
		for s := 0; s < spec.Seeds; s++ {
			seed := spec.SeedBase + int64(s)
			got, err := r.runSeed(ctx, cr, spec, dataset, names[di], perDataset[di], seed)
			if err != nil {
				return nil, nil, fmt.Errorf("%s seed %d: %w", names[di], seed, err)
			}
			rows = append(rows, got...)
		}
	}
	store.SortRows(rows)
	if r.Out.Dir != "" {
		// Every row is saved: the checkpoints have served.
		if err := os.RemoveAll(r.checkpointDir()); err != nil {
			return nil, nil, fmt.Errorf("removing training checkpoints: %w", err)
		}
	}
	return rows, eval.Summarize(rows, eval.Options{Seed: spec.SeedBase, GapThreshold: spec.GapThreshold}), nil
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// runSeed runs every method of one dataset and seed on one cell, so the
// methods share the weak model, weak labels, floor and ceiling, and their
// comparisons are paired.
func (r *Runner) runSeed(ctx context.Context, cr *CellRunner, spec Spec, dataset, name string, methods []method.Method, seed int64) ([]store.Row, error) {
	rows := make([]store.Row, len(methods))
	var pending []int
	for i, m := range methods {
		k, err := cr.Keys(ctx, spec.cell(dataset, name, m.Name(), seed))
		if err != nil {
			return nil, err
		}
		if row, ok := r.Out.Done(k.Student); ok {
			if row.Balance == "" && row.PGRMetric == "" {
				// Saved before the settings of issue 20 existed: its key is
				// that of the defaults, which it ran with.
				row.Balance, row.PGRMetric = data.BalanceUndersample, string(eval.MetricAccuracy)
			}
			rows[i] = row
			r.logf("%s seed %d %s: already done, reusing", row.Dataset, seed, m.Name())
			continue
		}
		pending = append(pending, i)
	}
	if len(pending) == 0 {
		return rows, nil
	}
	start := time.Now()
	cell, err := cr.Cell(ctx, spec.cell(dataset, name, "", seed))
	if err != nil {
		return nil, err
	}
	shared := time.Since(start).Seconds()
	var checkpoints []string
	for _, i := range pending {
		m := methods[i]
		t0 := time.Now()
		row, used, err := cr.RunMethod(ctx, cell, m, func(key string, row *store.Row) error {
			row.DurationS = shared/float64(len(pending)) + time.Since(t0).Seconds()
			if r.Out.Dir == "" {
				return nil
			}
			return r.Out.SaveCell(key, *row)
		})
		if err != nil {
			return nil, err
		}
		checkpoints = append(checkpoints, used...)
		rows[i] = row
		pgr := "no gap"
		if row.PGR != nil {
			pgr = fmt.Sprintf("%.3f [%.3f, %.3f]", *row.PGR, *row.PGRCILow, *row.PGRCIHigh)
		}
		if row.PGRMetric != string(eval.MetricAccuracy) {
			r.logf("%s seed %d %s: %s floor %.3f ceiling %.3f w2s %.3f PGR %s (accuracy %.3f, %.3f, %.3f; %.1fs)",
				row.Dataset, seed, m.Name(), eval.Metric(row.PGRMetric).Label(), row.FloorScore, row.CeilingScore, row.W2SScore, pgr,
				row.FloorAcc, row.CeilingAcc, row.W2SAcc, row.DurationS)
			continue
		}
		r.logf("%s seed %d %s: floor %.3f ceiling %.3f w2s %.3f PGR %s (%.1fs)",
			row.Dataset, seed, m.Name(), row.FloorAcc, row.CeilingAcc, row.W2SAcc, pgr, row.DurationS)
	}
	// Every row of the seed is saved: its checkpoints have served.
	removeCheckpoints(checkpoints...)
	return rows, nil
}
