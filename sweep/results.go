package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
)

// Collect returns the finished rows of the plan, sorted, one per cell (a
// cell's row file is keyed by its student key, so no row can appear twice),
// and the number of cells still missing.
func Collect(dir string, plan *Plan) ([]store.Row, int) {
	rd := store.RunDir{Dir: dir}
	var rows []store.Row
	missing := 0
	for _, c := range plan.Cells {
		row, ok := rd.Done(c.Keys.Student)
		if !ok {
			missing++
			continue
		}
		rows = append(rows, row)
	}
	store.SortRows(rows)
	return rows, missing
}

// Finalize writes results.jsonl, summary.json, results.parquet,
// report.html and (with two or more methods) comparisons.json from the
// finished cells, with the plan's seed base and gap threshold, and adds the run to the SQLite index
// at indexPath when it is not empty. It returns the rows and their
// summaries (the table w2s sweep prints).
func Finalize(dir string, plan *Plan, command, indexPath string) ([]store.Row, []store.Summary, error) {
	rows, missing := Collect(dir, plan)
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: no finished cells", dir)
	}
	meta := report.Meta{Title: "superalign sweep: " + dir, Command: command, Version: experiment.Version, Created: time.Now().UTC()}
	if missing > 0 {
		meta.Notes = append(meta.Notes, fmt.Sprintf("%d of %d cells not finished yet", missing, len(plan.Cells)))
	}
	opt := eval.Options{Seed: plan.Config.SeedBase, GapThreshold: plan.Config.GapThreshold}
	page, sums, comps, err := report.SweepPage(meta, rows, opt, "")
	if err != nil {
		return nil, nil, err
	}
	files := []store.File{{Name: "report.html", Data: page}}
	if len(comps) > 0 {
		f, err := store.JSONFile("comparisons.json", eval.NewComparisonReport(comps, report.Baseline(rows), opt))
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
	}
	if err := (store.RunDir{Dir: dir}).WriteResults(rows, sums, files...); err != nil {
		return nil, nil, err
	}
	if err := store.WriteParquet(filepath.Join(dir, "results.parquet"), rows); err != nil {
		return nil, nil, err
	}
	if missing == 0 {
		// Every cell is done: no checkpoint can serve again (and a task
		// killed while saving one may have left a temporary file).
		if err := os.RemoveAll(CheckpointDir(dir)); err != nil {
			return nil, nil, fmt.Errorf("removing %s: %w", CheckpointDir(dir), err)
		}
	}
	if indexPath != "" {
		idx, err := store.OpenIndex(indexPath)
		if err != nil {
			return nil, nil, err
		}
		defer idx.Close()
		if err := idx.AddRun(dir); err != nil {
			return nil, nil, err
		}
	}
	return rows, sums, nil
}
