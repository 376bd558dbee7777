package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/sweep"
)

// runRows is what one run directory holds for a report.
type runRows struct {
	dir      string
	rows     []store.Row
	seedBase int64  // the run's first seed (bootstrap seed of its CIs)
	note     string // e.g. unfinished sweep cells
	plan     *sweep.Plan
}

// readRun reads a run directory: a sweep's finished cells when it has a
// plan (so a report of an interrupted sweep shows what is done), else its
// results.jsonl.
func readRun(dir string) (runRows, error) {
	r := runRows{dir: dir}
	plan, err := sweep.LoadPlan(dir)
	switch {
	case err == nil:
		var missing int
		r.plan = plan
		r.rows, missing = sweep.Collect(dir, plan)
		r.seedBase = plan.Config.SeedBase
		if missing > 0 {
			r.note = fmt.Sprintf("%s: %d of %d sweep cells not finished yet", dir, missing, len(plan.Cells))
		}
		if len(r.rows) == 0 {
			return r, fmt.Errorf("%s: no finished sweep cells", dir)
		}
		return r, nil
	case !errors.Is(err, fs.ErrNotExist):
		return r, err
	}
	if r.rows, err = store.ReadResults(dir); err != nil {
		return r, err
	}
	if len(r.rows) == 0 {
		return r, fmt.Errorf("%s: no result rows", dir)
	}
	store.SortRows(r.rows)
	r.seedBase = report.SeedBase(r.rows)
	return r, nil
}

// combineRuns merges several runs' rows for one page. When two runs hold
// the same cell (dataset, pair, method, seed), each row's dataset is
// qualified with its run directory, "sentiment [runs/a]", so the runs show
// side by side instead of pooling their seeds.
func combineRuns(runs []runRows) []store.Row {
	type id struct {
		dataset, weak, strong, method string
		seed                          int64
	}
	owner := map[id]string{}
	clash := false
	for _, r := range runs {
		for _, row := range r.rows {
			k := id{row.Dataset, row.Weak, row.Strong, row.Method, row.Seed}
			if d, ok := owner[k]; ok && d != r.dir {
				clash = true
			}
			owner[k] = r.dir
		}
	}
	var out []store.Row
	for _, r := range runs {
		for _, row := range r.rows {
			if clash {
				row.Dataset += " [" + r.dir + "]"
			}
			out = append(out, row)
		}
	}
	store.SortRows(out)
	return out
}

// reportRuns implements `w2s report`: one run directory is re-rendered in
// place (results.jsonl, summary.json, report.html, and results.parquet for
// a sweep), as `w2s sweep` writes it; several are combined into one page at
// out (default ./report.html) and left untouched. With png, the plots are
// also written as PNG files next to the page. It returns the files written.
func reportRuns(dirs []string, out, baseline string, png bool, command string) ([]string, []store.Summary, error) {
	var runs []runRows
	for _, d := range dirs {
		r, err := readRun(filepath.Clean(d))
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, r)
	}
	meta := report.Meta{Command: command, Version: experiment.Version, Created: time.Now().UTC()}
	var rows []store.Row
	var seed int64
	if len(runs) == 1 {
		r := runs[0]
		rows, seed = r.rows, r.seedBase
		meta.Title = "superalign: " + r.dir
		if r.plan != nil {
			meta.Title = "superalign sweep: " + r.dir
		}
		if out == "" {
			out = filepath.Join(r.dir, "report.html")
		}
	} else {
		rows = combineRuns(runs)
		seed = report.SeedBase(rows)
		meta.Title = "superalign: " + strings.Join(dirs, ", ")
		if out == "" {
			out = "report.html"
		}
	}
	for _, r := range runs {
		if r.note != "" {
			meta.Notes = append(meta.Notes, r.note)
		}
	}
	page, sums, err := report.SweepPage(meta, rows, seed, baseline)
	if err != nil {
		return nil, nil, err
	}
	var wrote []string
	if len(runs) == 1 {
		r := runs[0]
		if err := (store.RunDir{Dir: r.dir}).WriteResults(rows, sums); err != nil {
			return nil, nil, err
		}
		wrote = append(wrote, filepath.Join(r.dir, "results.jsonl"), filepath.Join(r.dir, "summary.json"))
		if r.plan != nil {
			p := filepath.Join(r.dir, "results.parquet")
			if err := store.WriteParquet(p, rows); err != nil {
				return nil, nil, err
			}
			wrote = append(wrote, p)
		}
	}
	if err := store.WriteFileAtomic(out, page); err != nil {
		return nil, nil, err
	}
	wrote = append(wrote, out)
	if png {
		imgs, err := report.PlotsPNG(sums)
		if err != nil {
			return nil, nil, err
		}
		for _, im := range imgs {
			p := filepath.Join(filepath.Dir(out), im.Name)
			if err := store.WriteFileAtomic(p, im.Data); err != nil {
				return nil, nil, err
			}
			wrote = append(wrote, p)
		}
	}
	return wrote, sums, nil
}

// reportUsage documents `w2s report`.
const reportUsage = `[--png] [--out FILE] [--baseline M] DIR...
  One DIR: re-renders DIR/report.html, summary.json, results.jsonl (and a
  sweep's results.parquet) from its results, with the sweep plots.
  Several: one combined page at --out (default ./report.html); the runs are
  left untouched. --png also writes pgr.png, accuracy.png and gap.png
  (200 dpi) next to the page.`
