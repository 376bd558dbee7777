package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/sweep"
)

// runRows is what one run directory holds for a report.
type runRows struct {
	dir      string
	rows     []store.Row
	seedBase int64   // the run's first seed (bootstrap seed of its CIs)
	gap      float64 // the run's gap threshold; 0 when it did not record one
	note     string  // e.g. unfinished sweep cells
	plan     *sweep.Plan
}

// recordedGapThreshold is the gap threshold a run's summary.json was
// written with (summaries carry it since issue 12), 0 when absent.
func recordedGapThreshold(dir string) float64 {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return 0
	}
	var sums []struct {
		GapThreshold float64 `json:"gap_threshold"`
	}
	if json.Unmarshal(b, &sums) != nil || len(sums) == 0 {
		return 0
	}
	return sums[0].GapThreshold
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
		r.gap = plan.Config.GapThreshold
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
	r.gap = recordedGapThreshold(dir)
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
// place (results.jsonl, summary.json, comparisons.json, report.html, and
// results.parquet for a sweep), as `w2s sweep` writes it; several are
// combined into one page at out (default ./report.html) and left untouched.
// gap is the gap threshold of the summaries; 0 takes the runs' own (which
// must agree; a run that recorded none counts as the default). With png,
// the plots are also written as PNG files next to the page. It returns the
// files written.
func reportRuns(dirs []string, out, baseline string, gap float64, png bool, command string) ([]string, []store.Summary, error) {
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
	if gap == 0 {
		for i, r := range runs {
			g := r.gap
			if g == 0 {
				g = eval.DefaultGapThreshold
			}
			if i > 0 && g != gap {
				return nil, nil, usageError{fmt.Errorf("the runs used different gap thresholds (%g, %g): pass --gap-threshold", gap, g)}
			}
			gap = g
		}
	}
	opt := eval.Options{Seed: seed, GapThreshold: gap}
	page, sums, comps, err := report.SweepPage(meta, rows, opt, baseline)
	if err != nil {
		return nil, nil, err
	}
	// Rows of the competence–conformity optimisers (w2s tradeoff) get the
	// trade-off section again, recomputed from the rows as the run did.
	trade, hasTrade, err := tradeoffOfRows(rows, seed)
	if err != nil {
		return nil, nil, err
	}
	if hasTrade {
		if page, _, _, err = report.TradeoffPage(meta, rows, opt, trade); err != nil {
			return nil, nil, err
		}
	}
	var wrote []string
	if len(runs) == 1 {
		r := runs[0]
		var files []atomicfile.File
		if len(comps) > 0 {
			if baseline == "" {
				baseline = report.Baseline(rows)
			}
			f, err := store.JSONFile("comparisons.json", comparisonReport(rows, comps, baseline, opt))
			if err != nil {
				return nil, nil, err
			}
			files = append(files, f)
		}
		if err := (store.RunDir{Dir: r.dir}).WriteResults(rows, sums, files...); err != nil {
			return nil, nil, err
		}
		wrote = append(wrote, filepath.Join(r.dir, "results.jsonl"), filepath.Join(r.dir, "summary.json"))
		if len(files) > 0 {
			wrote = append(wrote, filepath.Join(r.dir, "comparisons.json"))
		}
		if r.plan != nil {
			p := filepath.Join(r.dir, "results.parquet")
			if err := store.WriteParquet(p, rows); err != nil {
				return nil, nil, err
			}
			wrote = append(wrote, p)
		}
	}
	if err := atomicfile.WriteFile(out, page); err != nil {
		return nil, nil, err
	}
	wrote = append(wrote, out)
	if png {
		imgs, err := report.PlotsPNG(sums)
		if err != nil {
			return nil, nil, err
		}
		if hasTrade {
			more, err := report.TradeoffPNGs(trade)
			if err != nil {
				return nil, nil, err
			}
			imgs = append(imgs, more...)
		}
		for _, im := range imgs {
			p := filepath.Join(filepath.Dir(out), im.Name)
			if err := atomicfile.WriteFile(p, im.Data); err != nil {
				return nil, nil, err
			}
			wrote = append(wrote, p)
		}
	}
	return wrote, sums, nil
}

// reportUsage documents `w2s report`.
const reportUsage = `[--png] [--out FILE] [--baseline M] [--gap-threshold G] DIR...
  One DIR: re-renders DIR/report.html, summary.json, comparisons.json,
  results.jsonl (and a sweep's results.parquet) from its results, with the
  sweep plots, at the run's own gap threshold unless --gap-threshold is given.
  Several: one combined page at --out (default ./report.html); the runs are
  left untouched. --png also writes pgr.png, accuracy.png and gap.png
  (200 dpi) next to the page.`
