// Package report renders the results of a run as one self-contained HTML page
// (DIR/report.html): inline CSS and inline SVG plots, no scripts, fonts,
// stylesheets or images to fetch, so the page opens offline, survives being
// mailed or archived, and shows the same thing in ten years.
//
// Render takes the rows of results.jsonl, the summaries of summary.json and,
// optionally, method comparisons from package eval:
//
//	rows := ...                                  // []store.Row, one per cell and seed
//	opt := eval.Options{Seed: seed, GapThreshold: 0.02}
//	sums := eval.Summarize(rows, opt)
//	comps := eval.CompareMethods(rows, "naive", opt)
//	err := report.Render(f, report.Meta{Title: "sst2", Command: cmdline, Version: v, Created: time.Now()},
//		rows, sums, comps)
//
// SweepPage does all three with one eval.Options and returns the summaries
// and comparisons it rendered.
//
// The page holds, in order: the class mix (examples per class of each
// split, per dataset and balancing mode: "1300/83 (6%)"), one summary table
// per balancing mode × PGR metric, headed by what it is on (floor / w2s /
// ceiling in the PGR metric, accuracy beneath when that is another metric,
// and the weak–strong gap with 95% t-intervals across seeds, PGR as a
// ratio of means with its seed-bootstrap CI; "no gap" with "gap 0.010,
// lower 95% bound -0.050 < 0.020" where the gap does not clear the
// threshold; the weak labels' ECE, and with calibrate=true the ECE after
// and the temperature), the diagnostics (w2s AUROC, agreement,
// inheritance, correction, misfit), a bar plot of PGR per method with CI
// whiskers grouped by dataset × weak → strong (× setting), a dot plot of
// floor, w2s and ceiling in the PGR metric with CI whiskers, the
// method-comparison table (paired Δ of the PGR metric with t-CI, ΔPGR,
// sign-flip p, Holm p, underpowered notes, the A/A null's false positives)
// when there are comparisons, and every per-seed row in a collapsed
// <details>.
//
// The page fits its width: tables take the body's 80rem, intervals sit
// under their values and names wrap, so the summary table needs about
// 61rem on the spam-hardham fixture (TestSummaryFitsWidth); only the
// per-seed table, inside <details>, scrolls sideways in its own box.
//
// Numbers are printed with three decimals (PGR 2/3 reads 0.667); undefined
// numbers read "—". Every piece of text is HTML-escaped, so a dataset named
// "<b>" shows as such and cannot inject markup.
package report
