package report

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
)

// RenderSweep writes the Render page plus a sweep section: PGR against the
// weak–strong gap (ceiling − floor in the PGR metric), one point per dataset × weak →
// strong × method with its 95% CI across seeds, coloured by method. Cells
// whose PGR is undefined ("no gap") are left out of the plot and counted in
// its caption.
func RenderSweep(w io.Writer, m Meta, rows []store.Row, sums []store.Summary, comps []eval.Comparison) error {
	var page bytes.Buffer
	if err := Render(&page, m, rows, sums, comps); err != nil {
		return err
	}
	b := page.Bytes()
	// The gap plot goes with the other plots: before the comparisons (or
	// the per-seed rows, or the end of the page, whichever comes first).
	i := -1
	for _, mark := range []string{"<h2>Method comparisons</h2>", "<h2>Per-seed results</h2>", "</body>"} {
		if i = bytes.Index(b, []byte(mark)); i >= 0 {
			break
		}
	}
	if i < 0 {
		return fmt.Errorf("report: sweep: page has no </body>")
	}
	section := ""
	if len(sums) > 0 {
		section = "<h2>PGR against the weak–strong gap</h2>\n<p>One point per dataset × weak → strong × method: mean PGR with its 95% CI across seeds against the mean ceiling − floor gap in the PGR metric. Methods of the same pair share a gap and are drawn slightly apart. Dashed: PGR 0 (the weak model) and 1 (the ceiling).</p>\n<div class=\"plot\">" + GapPlot(sums) + "</div>\n\n"
	}
	section += PreferenceSection(sums)
	if _, err := w.Write(b[:i]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, section); err != nil {
		return err
	}
	_, err := w.Write(b[i:])
	return err
}

// GapPlot returns the SVG scatter of mean PGR (y, with CI bars) against the
// mean ceiling − floor gap in the PGR metric (x). Names are escaped.
func GapPlot(sums []store.Summary) string {
	const W, H, left, right, top, bottom = 640.0, 320.0, 52.0, 16.0, 16.0, 70.0
	methods, col := methodColours(sums)
	var pts []store.Summary
	noGap := 0
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), 0.0, 1.0
	for _, s := range sums {
		if s.PGRMean == nil {
			noGap++
			continue
		}
		pts = append(pts, s)
		g := gapOf(s)
		xlo, xhi = math.Min(xlo, g), math.Max(xhi, g)
		// An unbounded CI (nil) does not stretch the axis; its whisker is
		// left out.
		ylo, yhi = math.Min(ylo, *s.PGRMean), math.Max(yhi, *s.PGRMean)
		if s.PGRCILow != nil && s.PGRCIHigh != nil {
			ylo, yhi = math.Min(ylo, *s.PGRCILow), math.Max(yhi, *s.PGRCIHigh)
		}
	}
	var b svgBuilder
	b.open(W, H, "PGR against the weak–strong gap")
	if len(pts) == 0 {
		b.printf(`<text x="%.0f" y="%.0f" text-anchor="middle">no cell has a weak–strong gap</text></svg>`, W/2, H/2)
		return b.String()
	}
	xlo, xhi = math.Min(0, xlo), xhi+0.01
	xl, xh, xstep := niceDomain(xlo, xhi)
	yl, yh, ystep := niceDomain(ylo, yhi)
	ys := yScale{lo: yl, hi: yh, top: top, bottm: H - bottom}
	x := func(v float64) float64 { return left + (v-xl)/(xh-xl)*(W-left-right) }
	b.axis(ys, ystep, left, W-right, "PGR")
	for i := 0; ; i++ {
		v := xl + float64(i)*xstep
		if v > xh+xstep/2 {
			break
		}
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(v), H-bottom+14, esc(trimTick(v)))
	}
	b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (left+W-right)/2, H-bottom+30, esc("ceiling − floor, "+scoreLabel(sums)))
	for _, ref := range []float64{0, 1} {
		if ref >= yl && ref <= yh {
			b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="4 3"/>`, left, ys.y(ref), W-right, ys.y(ref))
		}
	}
	mi := map[string]int{}
	for i, m := range methods {
		mi[m] = i
	}
	for _, s := range pts {
		// Methods of one pair share its gap: offset each by its index so
		// their whiskers do not cover one another.
		cx := x(gapOf(s)) + 5*(float64(mi[s.Method])-float64(len(methods)-1)/2)
		if s.PGRCILow != nil && s.PGRCIHigh != nil {
			b.whisker(cx, ys, *s.PGRCILow, *s.PGRCIHigh)
		}
		b.printf(`<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s</title></circle>`, cx, ys.y(*s.PGRMean), col[s.Method],
			esc(fmt.Sprintf("%s %s → %s %s: PGR %.3f, gap %.3f", s.Dataset, s.Weak, s.Strong, s.Method, *s.PGRMean, gapOf(s))))
	}
	colours := make([]string, len(methods))
	for i, m := range methods {
		colours[i] = col[m]
	}
	b.legend(methods, colours, left, H-bottom+52, W-right)
	if noGap > 0 {
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="end">%d cells with no gap left out</text>`, W-right, top+10, noGap)
	}
	b.printf(`</svg>`)
	return b.String()
}

// gapOf is a summary's mean ceiling − floor in its PGR metric.
func gapOf(s store.Summary) float64 {
	floor, _, ceiling := sumScores(s)
	return ceiling[0] - floor[0]
}

// Baseline is the method the comparison table is relative to when none is
// named: "naive" (plain training on weak labels) when rows have it, else the
// first method of the sorted rows; "" for no rows.
func Baseline(rows []store.Row) string {
	for _, r := range rows {
		if r.Method == "naive" {
			return "naive"
		}
	}
	if len(rows) == 0 {
		return ""
	}
	return rows[0].Method
}

// SeedBase is the smallest seed of rows: the seed runs pass to
// eval.Summarize and eval.CompareMethods (Options.Seed, their bootstrap and
// Monte Carlo seed), so a re-rendered report reproduces the run's own CIs.
func SeedBase(rows []store.Row) int64 {
	if len(rows) == 0 {
		return 0
	}
	s := rows[0].Seed
	for _, r := range rows {
		s = min(s, r.Seed)
	}
	return s
}

// SweepPage summarises rows with opt (Options.Seed: the run's first seed;
// Options.GapThreshold: the run's gap threshold), compares every method
// with baseline ("" picks Baseline(rows)) and renders the RenderSweep page.
// It returns the page, the summaries (for summary.json) and the
// comparisons with baseline (for comparisons.json and the printed table),
// so that all three show the same numbers. The page's comparison table
// also shows the comparisons of gold-drawing methods with their
// gold-matched controls (eval.CompareControls; their Baseline column
// names the control).
func SweepPage(m Meta, rows []store.Row, opt eval.Options, baseline string) ([]byte, []store.Summary, []eval.Comparison, error) {
	sums := eval.Summarize(rows, opt)
	if baseline == "" {
		baseline = Baseline(rows)
	}
	comps := eval.CompareMethods(rows, baseline, opt)
	shown := append(append([]eval.Comparison(nil), comps...), eval.CompareControls(rows, opt)...)
	var buf bytes.Buffer
	if err := RenderSweep(&buf, m, rows, sums, shown); err != nil {
		return nil, nil, nil, err
	}
	return buf.Bytes(), sums, comps, nil
}
