// Package report renders the results of a run as one self-contained HTML page
// (DIR/report.html): inline CSS and inline SVG plots, no scripts, fonts,
// stylesheets or images to fetch, so the page opens offline, survives being
// mailed or archived, and shows the same thing in ten years.
//
// Render takes the rows of results.jsonl, the summaries of summary.json and,
// optionally, method comparisons from package eval:
//
//	rows := ...                                  // []store.Row, one per cell and seed
//	sums := eval.Summarize(rows, seed)
//	comps := eval.CompareMethods(rows, "naive", seed)
//	err := report.Render(f, report.Meta{Title: "sst2", Command: cmdline, Version: v, Created: time.Now()},
//		rows, sums, comps)
//
// The page holds, in order: the summary table (floor / w2s / ceiling accuracy
// and PGR with 95% CIs across seeds; "no gap (2 of 2 seeds)" where no seed had
// a PGR), a bar plot of PGR per method with CI whiskers grouped by dataset ×
// weak → strong, a dot plot of floor, w2s and ceiling accuracy with CI
// whiskers, the method-comparison table (mean ΔPGR, CI, Wilcoxon p) when there
// are comparisons, and every per-seed row in a collapsed <details>.
//
// Numbers are printed with three decimals (PGR 2/3 reads 0.667); undefined
// numbers read "—". Every piece of text is HTML-escaped, so a dataset named
// "<b>" shows as such and cannot inject markup.
package report
