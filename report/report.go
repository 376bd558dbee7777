package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
)

// Meta describes the run a report belongs to.
type Meta struct {
	Title   string
	Command string    // the command line that produced the results
	Version string    // superalign version
	Created time.Time // when the report was written; zero leaves it out
	Notes   []string  // free text shown under the header, e.g. warnings
}

// Render writes a self-contained HTML page: inline CSS and SVG only, no
// scripts, fonts or links to fetch, so the file opens offline and can be
// archived next to results.jsonl. All text goes through html/template (tables)
// or html.EscapeString (plots), so dataset and method names cannot inject
// markup. Sections:
//
//   - summary table: floor, w2s, ceiling accuracy with 95% t-intervals
//     across seeds, the weak–strong gap with its interval, and PGR (ratio of
//     means, seed-bootstrap CI) per dataset × weak → strong × method; a nil
//     PGR shows as "no gap" with the gap's lower bound and the threshold;
//   - PGR per method with CI bars, grouped by dataset;
//   - floor / w2s / ceiling accuracy with CI whiskers per dataset × weak → strong;
//   - method comparisons (when comps is not empty): paired Δaccuracy with its
//     t-interval, ΔPGR, sign-flip p and Holm-adjusted p against each row's
//     baseline (naive, or a gold-matched control), underpowered notes, and
//     the A/A null's false-positive count when an A/A method ran;
//   - every per-seed row, in a collapsed <details>.
//
// Every number has three decimals; undefined numbers show as "—".
func Render(w io.Writer, m Meta, rows []store.Row, sums []store.Summary, comps []eval.Comparison) error {
	v := page{Meta: m, Rows: len(rows)}
	if v.Title == "" {
		v.Title = "superalign report"
	}
	if !m.Created.IsZero() {
		v.CreatedText = m.Created.UTC().Format(time.RFC3339)
	}
	for _, s := range sums {
		v.Summaries = append(v.Summaries, summaryView(s))
	}
	if len(sums) > 0 {
		// The plots are escaped by construction (see esc), hence trusted here.
		v.PGRPlot = template.HTML(pgrPlot(sums))
		v.AccPlot = template.HTML(accPlot(sums))
	}
	for _, c := range comps {
		v.Comparisons = append(v.Comparisons, comparisonView(c))
	}
	for _, a := range eval.AAFalsePositives(comps, 0) {
		v.AANotes = append(v.AANotes, AANote(a))
	}
	for _, r := range rows {
		v.RowViews = append(v.RowViews, rowView(r))
	}
	if err := pageTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	return nil
}

type page struct {
	Meta
	CreatedText      string
	Rows             int
	Summaries        []sumView
	Comparisons      []compView
	AANotes          []string
	RowViews         []rowV
	PGRPlot, AccPlot template.HTML
}

type sumView struct {
	Dataset, Pair, Method, Seeds string
	Floor, FloorCI               string
	W2S, W2SCI                   string
	Ceiling, CeilingCI           string
	Gap, GapCI                   string
	PGR, PGRCI, PGRNote          string
	NoGap                        bool
	AUROC, Agreement, Misfit     string
	Inheritance, Correction      string
}

func summaryView(s store.Summary) sumView {
	v := sumView{
		Dataset: s.Dataset, Pair: s.Weak + " → " + s.Strong, Method: s.Method, Seeds: fmt.Sprint(s.NSeeds),
		Floor: f3(s.FloorAccMean), FloorCI: ci(s.FloorAccCILow, s.FloorAccCIHigh),
		W2S: f3(s.W2SAccMean), W2SCI: ci(s.W2SAccCILow, s.W2SAccCIHigh),
		Ceiling: f3(s.CeilingAccMean), CeilingCI: ci(s.CeilingAccCILow, s.CeilingAccCIHigh),
		Gap: f3(s.GapMean), GapCI: ci(deref(s.GapCILow), deref(s.GapCIHigh)),
		AUROC: f3(s.W2SAUROCMean), Agreement: f3(s.AgreementMean), Misfit: f3(s.MisfitMean),
		Inheritance: f3(s.InheritanceMean), Correction: f3(s.CorrectionMean),
	}
	if s.PGRMean == nil {
		v.NoGap = true
		v.PGR = "no gap"
		v.PGRNote = GapNote(s)
		return v
	}
	v.PGR = f3(*s.PGRMean)
	v.PGRCI = ci(deref(s.PGRCILow), deref(s.PGRCIHigh))
	if s.PGRCILow == nil || s.PGRCIHigh == nil {
		v.PGRCI = "[unbounded]"
	}
	var notes []string
	if s.NSeedsNoGap > 0 {
		notes = append(notes, fmt.Sprintf("%d of %s below the threshold alone, kept", s.NSeedsNoGap, seeds(s.NSeeds)))
	}
	if s.PGRBootstrapNoGap > 0 {
		notes = append(notes, fmt.Sprintf("%d bootstrap resamples without a gap", s.PGRBootstrapNoGap))
	}
	v.PGRNote = strings.Join(notes, "; ")
	return v
}

type compView struct {
	Scope, Pair, Method, Baseline, N string
	Diff, CI, DeltaPGR, P, PHolm     string
	Note                             string
	Pooled, AA                       bool
}

func comparisonView(c eval.Comparison) compView {
	v := compView{Scope: c.Dataset, Pair: c.Weak + " → " + c.Strong, Method: c.Method, Baseline: c.Baseline,
		Diff: signed3(c.DeltaAcc), CI: ci(c.DeltaAccCILow, c.DeltaAccCIHigh), DeltaPGR: "no gap",
		P: pval(c.P), PHolm: pval(c.PHolm), Note: PowerNote(c), Pooled: c.AcrossDatasets, AA: eval.IsAANull(c.Method)}
	if c.DeltaPGR != nil {
		v.DeltaPGR = signed3(*c.DeltaPGR)
	}
	if c.HolmFamily > 1 {
		v.PHolm += fmt.Sprintf(" (m=%d)", c.HolmFamily)
	}
	if !c.PExact && c.PDraws > 0 {
		v.P += fmt.Sprintf(" (MC %d)", c.PDraws)
	}
	if c.AcrossDatasets {
		v.Scope = "all datasets"
		v.N = fmt.Sprintf("%d pairs, %d datasets", c.N, c.NDatasets)
	} else {
		v.N = fmt.Sprintf("%d paired seeds", c.N)
	}
	return v
}

type rowV struct {
	Dataset, Weak, Strong, Method, Seed, NTest string
	Floor, Ceiling, W2S, PGR, PGRCI, Gain      string
	FloorAUROC, CeilingAUROC, W2SAUROC         string
	Agreement, Inheritance, Correction, Misfit string
	WeakLabelAcc, Duration                     string
}

func rowView(r store.Row) rowV {
	v := rowV{
		Dataset: r.Dataset, Weak: r.Weak, Strong: r.Strong, Method: r.Method,
		Seed: fmt.Sprint(r.Seed), NTest: fmt.Sprint(r.NTest),
		Floor: f3(r.FloorAcc), Ceiling: f3(r.CeilingAcc), W2S: f3(r.W2SAcc),
		Gain:       f3(r.GainAcc) + " " + ci(r.GainAccCILow, r.GainAccCIHigh),
		FloorAUROC: f3(r.FloorAUROC), CeilingAUROC: f3(r.CeilingAUROC), W2SAUROC: f3(r.W2SAUROC),
		Agreement: f3(r.Agreement), Inheritance: f3(r.Inheritance), Correction: f3(r.Correction),
		Misfit: f3(r.Misfit), WeakLabelAcc: f3(r.WeakLabelAcc), Duration: f3(r.DurationS),
	}
	if r.PGR == nil || r.NoGap {
		v.PGR = "no gap"
	} else {
		v.PGR = f3(*r.PGR)
		v.PGRCI = ci(deref(r.PGRCILow), deref(r.PGRCIHigh))
	}
	return v
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem auto; max-width: 80rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f4f4f4; }
.ci { color: #666; font-size: 0.8em; }
.nogap { color: #a33; font-style: italic; }
.pooled td { font-weight: bold; background: #fafafa; }
.meta { color: #555; font-size: 0.9rem; } .meta code { background: #f4f4f4; padding: 0 0.25rem; }
.plot { overflow-x: auto; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">
{{if .Command}}<p>Command: <code>{{.Command}}</code></p>{{end}}
<p>{{if .Version}}Version {{.Version}}. {{end}}{{if .CreatedText}}Created {{.CreatedText}}. {{end}}{{.Rows}} result rows.</p>
{{if .Notes}}<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</div>
<p>PGR = (w2s − floor) / (ceiling − floor). Across seeds, accuracy and gap intervals are 95% Student t-intervals; the summary PGR is the ratio of means Σ(w2s − floor) / Σ(ceiling − floor) over every seed, with a 95% bootstrap interval that resamples whole seeds. A PGR is reported only when the gap's lower 95% bound clears the gap threshold; otherwise the cell reads "no gap", never a PGR.</p>

<h2>Summary</h2>
{{if .Summaries}}
<table>
<thead><tr><th>dataset</th><th>weak → strong</th><th>method</th><th>seeds</th><th>floor acc</th><th>w2s acc</th><th>ceiling acc</th><th>gap</th><th>PGR</th><th>w2s AUROC</th><th>agreement</th><th>inheritance</th><th>correction</th><th>misfit</th></tr></thead>
<tbody>
{{range .Summaries}}<tr><td>{{.Dataset}}</td><td>{{.Pair}}</td><td>{{.Method}}</td><td class="num">{{.Seeds}}</td>
<td class="num">{{.Floor}} <span class="ci">{{.FloorCI}}</span></td>
<td class="num">{{.W2S}} <span class="ci">{{.W2SCI}}</span></td>
<td class="num">{{.Ceiling}} <span class="ci">{{.CeilingCI}}</span></td>
<td class="num">{{.Gap}} <span class="ci">{{.GapCI}}</span></td>
<td class="num">{{if .NoGap}}<span class="nogap">{{.PGR}}</span>{{else}}{{.PGR}} <span class="ci">{{.PGRCI}}</span>{{end}}{{if .PGRNote}}<br><span class="ci">{{.PGRNote}}</span>{{end}}</td>
<td class="num">{{.AUROC}}</td><td class="num">{{.Agreement}}</td><td class="num">{{.Inheritance}}</td><td class="num">{{.Correction}}</td><td class="num">{{.Misfit}}</td></tr>
{{end}}</tbody>
</table>

<h2>PGR per method</h2>
<p>Bars: mean PGR across seeds; whiskers: 95% CI. Solid line: the weak model (PGR 0); dashed: the ceiling (PGR 1).</p>
<div class="plot">{{.PGRPlot}}</div>

<h2>Accuracy: floor, weak-to-strong, ceiling</h2>
<p>Test accuracy, mean across seeds with 95% CI, per dataset and weak → strong pair.</p>
<div class="plot">{{.AccPlot}}</div>
{{else}}
<p>No results.</p>
{{end}}

{{if .Comparisons}}
<h2>Method comparisons</h2>
<p>Δacc = w2s accuracy of the method − the baseline's, paired by seed (same split, weak model and ceiling). Per dataset: mean over the paired seeds with a 95% Student t-interval, and a two-sided sign-flip permutation test (exact up to 20 seeds, else Monte Carlo with the number of draws shown). All datasets: the mean of the datasets' mean Δacc with a stratified t-interval, and a stratified sign-flip test over every dataset × seed pair (signs flip within each dataset). Holm's step-down correction runs over the m methods of each table (per dataset, and pooled). ΔPGR is the difference of the ratio-of-means PGRs, shown only where the baseline's gap clears the threshold. A comparison is underpowered when even its most extreme outcome could not be significant at the 5% level after Holm.</p>
<table>
<thead><tr><th>dataset</th><th>weak → strong</th><th>method</th><th>baseline</th><th>n</th><th>mean Δacc</th><th>95% t-CI</th><th>ΔPGR</th><th>p</th><th>p (Holm)</th><th>note</th></tr></thead>
<tbody>
{{range .Comparisons}}<tr{{if .Pooled}} class="pooled"{{end}}><td>{{.Scope}}</td><td>{{.Pair}}</td><td>{{.Method}}{{if .AA}} <span class="ci">(A/A null)</span>{{end}}</td><td>{{.Baseline}}</td><td class="num">{{.N}}</td><td class="num">{{.Diff}}</td><td class="num">{{.CI}}</td><td class="num">{{.DeltaPGR}}</td><td class="num">{{.P}}</td><td class="num">{{.PHolm}}</td><td class="ci">{{.Note}}</td></tr>
{{end}}</tbody>
</table>
{{range .AANotes}}<p>{{.}}</p>
{{end}}{{end}}

{{if .RowViews}}
<h2>Per-seed results</h2>
<details>
<summary>{{len .RowViews}} rows (one per cell and seed)</summary>
<table>
<thead><tr><th>dataset</th><th>weak</th><th>strong</th><th>method</th><th>seed</th><th>n test</th><th>floor</th><th>ceiling</th><th>w2s</th><th>PGR</th><th>gain [CI]</th><th>floor AUROC</th><th>ceiling AUROC</th><th>w2s AUROC</th><th>agreement</th><th>inheritance</th><th>correction</th><th>misfit</th><th>weak label acc</th><th>seconds</th></tr></thead>
<tbody>
{{range .RowViews}}<tr><td>{{.Dataset}}</td><td>{{.Weak}}</td><td>{{.Strong}}</td><td>{{.Method}}</td><td class="num">{{.Seed}}</td><td class="num">{{.NTest}}</td><td class="num">{{.Floor}}</td><td class="num">{{.Ceiling}}</td><td class="num">{{.W2S}}</td><td class="num">{{.PGR}} <span class="ci">{{.PGRCI}}</span></td><td class="num">{{.Gain}}</td><td class="num">{{.FloorAUROC}}</td><td class="num">{{.CeilingAUROC}}</td><td class="num">{{.W2SAUROC}}</td><td class="num">{{.Agreement}}</td><td class="num">{{.Inheritance}}</td><td class="num">{{.Correction}}</td><td class="num">{{.Misfit}}</td><td class="num">{{.WeakLabelAcc}}</td><td class="num">{{.Duration}}</td></tr>
{{end}}</tbody>
</table>
</details>
{{end}}
</body>
</html>
`))
