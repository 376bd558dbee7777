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
//   - the class mix: examples per class of train_weak, train_strong and
//     test, per dataset and balancing mode (when rows recorded it);
//   - summary tables, one per balancing mode × PGR metric, each headed by
//     what they are on: floor, w2s, ceiling in the PGR metric with 95%
//     t-intervals across seeds (accuracy beneath when the metric is not
//     accuracy), the weak–strong gap with its interval, PGR (ratio of
//     means, seed-bootstrap CI; a nil PGR shows as "no gap" with the gap's
//     lower bound and the threshold) and the weak labels' calibration error
//     (ECE; with calibrate=true, the ECE after and the temperature). Every
//     interval sits under its value, so the table fits the page width;
//   - the diagnostics: w2s AUROC, agreement, error inheritance and
//     correction, misfit;
//   - PGR per method with CI bars, grouped by dataset (and setting);
//   - floor / w2s / ceiling in the PGR metric with CI whiskers per dataset ×
//     weak → strong;
//   - method comparisons (when comps is not empty): the paired Δ of the PGR
//     metric (Δaccuracy by default) with its t-interval, ΔPGR, sign-flip p
//     and Holm-adjusted p against each row's baseline (naive, or a
//     gold-matched control), underpowered notes, and the A/A null's
//     false-positive count when an A/A method ran;
//   - every per-seed row, in a collapsed <details> (scrolling sideways
//     inside its box).
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
	// One summary table per setting, in order of first appearance (rows of
	// several runs interleave them).
	table := map[[2]string]int{}
	for _, s := range sums {
		b, met := settingOf(s.Balance, s.PGRMetric)
		k := [2]string{b, string(met)}
		i, ok := table[k]
		if !ok {
			i = len(v.SummaryTables)
			table[k] = i
			v.SummaryTables = append(v.SummaryTables, sumTable{Note: SettingNote(b, string(met)), Metric: met.Label(), OnAccuracy: met == eval.MetricAccuracy})
		}
		v.SummaryTables[i].Summaries = append(v.SummaryTables[i].Summaries, summaryView(s))
		v.Diagnostics = append(v.Diagnostics, summaryView(s))
	}
	v.Mixed = len(v.SummaryTables) > 1
	v.ClassMixes = classMixes(sums)
	if len(sums) > 0 {
		// The plots are escaped by construction (see esc), hence trusted here.
		v.PGRPlot = template.HTML(pgrPlot(sums))
		v.AccPlot = template.HTML(accPlot(sums))
		v.ScoreLabel = scoreLabel(sums)
	}
	metrics := map[eval.Metric]bool{}
	for _, c := range comps {
		v.Comparisons = append(v.Comparisons, comparisonView(c))
		_, met := settingOf(c.Balance, string(c.PGRMetric))
		metrics[met] = true
	}
	v.CompMetric = "Δ of the row's PGR metric"
	if len(metrics) == 1 {
		for met := range metrics {
			v.CompMetric = "Δ" + met.Label()
			if met == eval.MetricAccuracy {
				v.CompMetric = "Δacc"
			}
		}
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

// settingOf reads a balancing mode and PGR metric, "" as the defaults.
func settingOf(balance, metric string) (string, eval.Metric) {
	if balance == "" {
		balance = "undersample"
	}
	m, err := eval.ParseMetric(metric)
	if err != nil {
		m = eval.Metric(metric)
	}
	return balance, m
}

// scoreLabel is the y label of the floor / w2s / ceiling plot: the PGR
// metric when every summary shares one.
func scoreLabel(sums []store.Summary) string {
	_, first := settingOf("", sums[0].PGRMetric)
	for _, s := range sums {
		if _, m := settingOf("", s.PGRMetric); m != first {
			return "test score (each group's PGR metric)"
		}
	}
	return "test " + first.Label()
}

type page struct {
	Meta
	CreatedText      string
	Rows             int
	ClassMixes       []classMixView
	SummaryTables    []sumTable
	Mixed            bool // more than one setting: groups carry their setting
	Diagnostics      []sumView
	Comparisons      []compView
	CompMetric       string
	AANotes          []string
	RowViews         []rowV
	PGRPlot, AccPlot template.HTML
	ScoreLabel       string
}

// sumTable is the summaries of one balancing mode and PGR metric.
type sumTable struct {
	Note       string
	Metric     string
	OnAccuracy bool
	Summaries  []sumView
}

// classMixView is one dataset's split sizes per class under one
// balancing mode.
type classMixView struct {
	Dataset, Balance, Classes string
	TrainWeak, TrainStrong    string
	Test                      string
}

// classMixes lists the class mix of every dataset and balancing mode in
// order of first appearance (the first seed's; stratified splits give
// every seed the same counts).
func classMixes(sums []store.Summary) []classMixView {
	var out []classMixView
	seen := map[[2]string]bool{}
	for _, s := range sums {
		b, _ := settingOf(s.Balance, s.PGRMetric)
		k := [2]string{s.Dataset, b}
		if len(s.ClassCountsTest) == 0 || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, classMixView{Dataset: s.Dataset, Balance: b, Classes: strings.Join(s.Classes, " / "),
			TrainWeak: ClassMix(s.ClassCountsTrainWeak), TrainStrong: ClassMix(s.ClassCountsTrainStrong), Test: ClassMix(s.ClassCountsTest)})
	}
	return out
}

type sumView struct {
	Dataset, Pair, Method, Seeds, Setting string
	Floor, FloorCI, FloorAcc              string
	W2S, W2SCI, W2SAcc                    string
	Ceiling, CeilingCI, CeilingAcc        string
	Gap, GapCI                            string
	PGR, PGRCI, PGRNote                   string
	NoGap                                 bool
	ECE, ECENote                          string
	AUROC, Agreement, Misfit              string
	Inheritance, Correction               string
}

// sumScores are a summary's floor, w2s and ceiling (mean, CI low, CI high)
// in its PGR metric: the accuracy fields on accuracy, and for summaries
// written before the metric was a choice.
func sumScores(s store.Summary) (floor, w2s, ceiling [3]float64) {
	if _, m := settingOf(s.Balance, s.PGRMetric); m == eval.MetricAccuracy {
		return [3]float64{s.FloorAccMean, s.FloorAccCILow, s.FloorAccCIHigh}, [3]float64{s.W2SAccMean, s.W2SAccCILow, s.W2SAccCIHigh},
			[3]float64{s.CeilingAccMean, s.CeilingAccCILow, s.CeilingAccCIHigh}
	}
	return [3]float64{s.FloorScoreMean, s.FloorScoreCILow, s.FloorScoreCIHigh}, [3]float64{s.W2SScoreMean, s.W2SScoreCILow, s.W2SScoreCIHigh},
		[3]float64{s.CeilingScoreMean, s.CeilingScoreCILow, s.CeilingScoreCIHigh}
}

func summaryView(s store.Summary) sumView {
	floor, w2s, ceiling := sumScores(s)
	b, met := settingOf(s.Balance, s.PGRMetric)
	v := sumView{
		Dataset: s.Dataset, Pair: s.Weak + " → " + s.Strong, Method: s.Method, Seeds: fmt.Sprint(s.NSeeds), Setting: Setting(b, string(met)),
		Floor: f3(floor[0]), FloorCI: ci(floor[1], floor[2]),
		W2S: f3(w2s[0]), W2SCI: ci(w2s[1], w2s[2]),
		Ceiling: f3(ceiling[0]), CeilingCI: ci(ceiling[1], ceiling[2]),
		Gap: f3(s.GapMean), GapCI: ci(deref(s.GapCILow), deref(s.GapCIHigh)),
		AUROC: f3(s.W2SAUROCMean), Agreement: f3(s.AgreementMean), Misfit: f3(s.MisfitMean),
		Inheritance: f3(s.InheritanceMean), Correction: f3(s.CorrectionMean), ECE: dash,
	}
	if met != eval.MetricAccuracy {
		v.FloorAcc, v.W2SAcc, v.CeilingAcc = "acc "+f3(s.FloorAccMean), "acc "+f3(s.W2SAccMean), "acc "+f3(s.CeilingAccMean)
	}
	if s.WeakECEMean != nil {
		v.ECE = f3(*s.WeakECEMean)
		if s.TrainedECEMean != nil && s.WeakTemperatureMean != nil {
			v.ECENote = "calibrated " + f3(*s.TrainedECEMean) + ", T " + f3(*s.WeakTemperatureMean)
		}
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
	Diff, CI, DiffAcc, DeltaPGR      string
	P, PHolm                         string
	Note                             string
	Pooled, AA                       bool
}

func comparisonView(c eval.Comparison) compView {
	b, met := settingOf(c.Balance, string(c.PGRMetric))
	d, lo, hi := c.DeltaScore, c.DeltaScoreCILow, c.DeltaScoreCIHigh
	if met == eval.MetricAccuracy {
		// Comparisons written before the metric was a choice have no
		// DeltaScore; on accuracy it is DeltaAcc.
		d, lo, hi = c.DeltaAcc, c.DeltaAccCILow, c.DeltaAccCIHigh
	}
	v := compView{Scope: c.Dataset, Pair: c.Weak + " → " + c.Strong, Method: c.Method, Baseline: c.Baseline,
		Diff: signed3(d), CI: ci(lo, hi), DeltaPGR: "no gap",
		P: pval(c.P), PHolm: pval(c.PHolm), Note: PowerNote(c), Pooled: c.AcrossDatasets, AA: eval.IsAANull(c.Method)}
	if met != eval.MetricAccuracy {
		v.DiffAcc = "Δacc " + signed3(c.DeltaAcc)
	}
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
	if b != "undersample" || met != eval.MetricAccuracy {
		v.Scope += " · " + Setting(b, string(met))
	}
	return v
}

type rowV struct {
	Dataset, Weak, Strong, Method, Seed, NTest string
	Setting                                    string
	Floor, Ceiling, W2S, PGR, PGRCI, Gain      string
	FloorAUROC, CeilingAUROC, W2SAUROC         string
	Agreement, Inheritance, Correction, Misfit string
	WeakLabelAcc, WeakECE, Duration            string
}

func rowView(r store.Row) rowV {
	v := rowV{
		Dataset: r.Dataset, Weak: r.Weak, Strong: r.Strong, Method: r.Method,
		Seed: fmt.Sprint(r.Seed), NTest: fmt.Sprint(r.NTest), Setting: Setting(settingOfRow(r)),
		Floor: f3(r.FloorAcc), Ceiling: f3(r.CeilingAcc), W2S: f3(r.W2SAcc),
		Gain:       f3(r.GainAcc) + " " + ci(r.GainAccCILow, r.GainAccCIHigh),
		FloorAUROC: f3(r.FloorAUROC), CeilingAUROC: f3(r.CeilingAUROC), W2SAUROC: f3(r.W2SAUROC),
		Agreement: f3(r.Agreement), Inheritance: f3(r.Inheritance), Correction: f3(r.Correction),
		Misfit: f3(r.Misfit), WeakLabelAcc: f3(r.WeakLabelAcc), WeakECE: f3(deref(r.WeakECE)), Duration: f3(r.DurationS),
	}
	if r.PGR == nil || r.NoGap {
		v.PGR = "no gap"
	} else {
		v.PGR = f3(*r.PGR)
		v.PGRCI = ci(deref(r.PGRCILow), deref(r.PGRCIHigh))
	}
	return v
}

func settingOfRow(r store.Row) (string, string) {
	b, m := settingOf(r.Balance, r.PGRMetric)
	return b, string(m)
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
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.4rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
th { background: #f4f4f4; overflow-wrap: normal; }
.ci { color: #666; font-size: 0.8em; }
.nogap { color: #a33; font-style: italic; }
.setting { font-weight: bold; margin-bottom: 0; }
.pooled td { font-weight: bold; background: #fafafa; }
.meta { color: #555; font-size: 0.9rem; } .meta code { background: #f4f4f4; padding: 0 0.25rem; overflow-wrap: anywhere; }
.plot, .wide { overflow-x: auto; }
.wide table { width: auto; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">
{{if .Command}}<p>Command: <code>{{.Command}}</code></p>{{end}}
<p>{{if .Version}}Version {{.Version}}. {{end}}{{if .CreatedText}}Created {{.CreatedText}}. {{end}}{{.Rows}} result rows.</p>
{{if .Notes}}<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</div>
<p>PGR = (w2s − floor) / (ceiling − floor), on the metric each table names (accuracy unless <code>--pgr-metric</code> chose AUROC, balanced accuracy or macro-F1; accuracy is shown beneath the others). Across seeds, score and gap intervals are 95% Student t-intervals; the summary PGR is the ratio of means Σ(w2s − floor) / Σ(ceiling − floor) over every seed, with a 95% bootstrap interval that resamples whole seeds. A PGR is reported only when the gap's lower 95% bound clears the gap threshold; otherwise the cell reads "no gap", never a PGR. Weak ECE is the weak labels' expected calibration error on train_strong (top-label confidence, 10 equal-width bins).</p>

{{if .ClassMixes}}
<h2>Class mix</h2>
<p>Examples per class of each split, in the order of the classes column (two classes: the minority's share). Splits are stratified: every seed has these counts.</p>
<table>
<thead><tr><th>dataset</th><th>balance</th><th>classes</th><th>train_weak</th><th>train_strong</th><th>test</th></tr></thead>
<tbody>
{{range .ClassMixes}}<tr><td>{{.Dataset}}</td><td>{{.Balance}}</td><td>{{.Classes}}</td><td class="num">{{.TrainWeak}}</td><td class="num">{{.TrainStrong}}</td><td class="num">{{.Test}}</td></tr>
{{end}}</tbody>
</table>
{{end}}

<h2>Summary</h2>
{{if .SummaryTables}}
{{range .SummaryTables}}
<p class="setting">{{.Note}}</p>
<table>
<thead><tr><th>dataset</th><th>weak → strong</th><th>method</th><th>seeds</th><th>floor{{if not .OnAccuracy}} {{.Metric}}{{end}}</th><th>w2s{{if not .OnAccuracy}} {{.Metric}}{{end}}</th><th>ceiling{{if not .OnAccuracy}} {{.Metric}}{{end}}</th><th>gap</th><th>PGR on {{.Metric}}</th><th>weak ECE</th></tr></thead>
<tbody>
{{range .Summaries}}<tr><td>{{.Dataset}}</td><td>{{.Pair}}</td><td>{{.Method}}</td><td class="num">{{.Seeds}}</td>
<td class="num">{{.Floor}}<br><span class="ci">{{.FloorCI}}</span>{{if .FloorAcc}}<br><span class="ci">{{.FloorAcc}}</span>{{end}}</td>
<td class="num">{{.W2S}}<br><span class="ci">{{.W2SCI}}</span>{{if .W2SAcc}}<br><span class="ci">{{.W2SAcc}}</span>{{end}}</td>
<td class="num">{{.Ceiling}}<br><span class="ci">{{.CeilingCI}}</span>{{if .CeilingAcc}}<br><span class="ci">{{.CeilingAcc}}</span>{{end}}</td>
<td class="num">{{.Gap}}<br><span class="ci">{{.GapCI}}</span></td>
<td>{{if .NoGap}}<span class="nogap">{{.PGR}}</span>{{else}}{{.PGR}}<br><span class="ci">{{.PGRCI}}</span>{{end}}{{if .PGRNote}}<br><span class="ci">{{.PGRNote}}</span>{{end}}</td>
<td class="num">{{.ECE}}{{if .ECENote}}<br><span class="ci">{{.ECENote}}</span>{{end}}</td></tr>
{{end}}</tbody>
</table>
{{end}}

<h2>Diagnostics</h2>
<p>Means across seeds: the student's test AUROC; agreement with the weak model on test; error inheritance (the student wrong where the weak model is) and correction (right where it is wrong); misfit, the student's cross-entropy to the labels it trained on (train_strong, nats).</p>
<table>
<thead><tr><th>dataset</th><th>weak → strong</th><th>method</th>{{if .Mixed}}<th>setting</th>{{end}}<th>w2s AUROC</th><th>agreement</th><th>inheritance</th><th>correction</th><th>misfit</th></tr></thead>
<tbody>
{{$mixed := .Mixed}}{{range .Diagnostics}}<tr><td>{{.Dataset}}</td><td>{{.Pair}}</td><td>{{.Method}}</td>{{if $mixed}}<td>{{.Setting}}</td>{{end}}<td class="num">{{.AUROC}}</td><td class="num">{{.Agreement}}</td><td class="num">{{.Inheritance}}</td><td class="num">{{.Correction}}</td><td class="num">{{.Misfit}}</td></tr>
{{end}}</tbody>
</table>

<h2>PGR per method</h2>
<p>Bars: mean PGR across seeds; whiskers: 95% CI. Solid line: the weak model (PGR 0); dashed: the ceiling (PGR 1).</p>
<div class="plot">{{.PGRPlot}}</div>

<h2>Floor, weak-to-strong, ceiling</h2>
<p>{{.ScoreLabel}}, mean across seeds with 95% CI, per dataset and weak → strong pair.</p>
<div class="plot">{{.AccPlot}}</div>
{{else}}
<p>No results.</p>
{{end}}

{{if .Comparisons}}
<h2>Method comparisons</h2>
<p>{{.CompMetric}} = the method's w2s score − the baseline's in the PGR metric (accuracy by default; Δacc beneath otherwise), paired by seed (same split, weak model and ceiling). Per dataset: mean over the paired seeds with a 95% Student t-interval, and a two-sided sign-flip permutation test (exact up to 20 seeds, else Monte Carlo with the number of draws shown). All datasets: the mean of the datasets' means with a stratified t-interval, and a stratified sign-flip test over every dataset × seed pair (signs flip within each dataset). Holm's step-down correction runs over the m methods of each table (per dataset, and pooled). ΔPGR is the difference of the ratio-of-means PGRs, shown only where the baseline's gap clears the threshold. A comparison is underpowered when even its most extreme outcome could not be significant at the 5% level after Holm.</p>
<table>
<thead><tr><th>dataset</th><th>weak → strong</th><th>method</th><th>baseline</th><th>n</th><th>mean {{.CompMetric}}</th><th>95% t-CI</th><th>ΔPGR</th><th>p</th><th>p (Holm)</th><th>note</th></tr></thead>
<tbody>
{{range .Comparisons}}<tr{{if .Pooled}} class="pooled"{{end}}><td>{{.Scope}}</td><td>{{.Pair}}</td><td>{{.Method}}{{if .AA}} <span class="ci">(A/A null)</span>{{end}}</td><td>{{.Baseline}}</td><td class="num">{{.N}}</td><td class="num">{{.Diff}}{{if .DiffAcc}}<br><span class="ci">{{.DiffAcc}}</span>{{end}}</td><td class="num">{{.CI}}</td><td class="num">{{.DeltaPGR}}</td><td class="num">{{.P}}</td><td class="num">{{.PHolm}}</td><td class="ci">{{.Note}}</td></tr>
{{end}}</tbody>
</table>
{{range .AANotes}}<p>{{.}}</p>
{{end}}{{end}}

{{if .RowViews}}
<h2>Per-seed results</h2>
<details>
<summary>{{len .RowViews}} rows (one per cell and seed)</summary>
<div class="wide">
<table>
<thead><tr><th>dataset</th><th>weak</th><th>strong</th><th>method</th><th>setting</th><th>seed</th><th>n test</th><th>floor acc</th><th>ceiling acc</th><th>w2s acc</th><th>PGR</th><th>gain acc [CI]</th><th>floor AUROC</th><th>ceiling AUROC</th><th>w2s AUROC</th><th>agreement</th><th>inheritance</th><th>correction</th><th>misfit</th><th>weak label acc</th><th>weak ECE</th><th>seconds</th></tr></thead>
<tbody>
{{range .RowViews}}<tr><td>{{.Dataset}}</td><td>{{.Weak}}</td><td>{{.Strong}}</td><td>{{.Method}}</td><td>{{.Setting}}</td><td class="num">{{.Seed}}</td><td class="num">{{.NTest}}</td><td class="num">{{.Floor}}</td><td class="num">{{.Ceiling}}</td><td class="num">{{.W2S}}</td><td class="num">{{.PGR}} <span class="ci">{{.PGRCI}}</span></td><td class="num">{{.Gain}}</td><td class="num">{{.FloorAUROC}}</td><td class="num">{{.CeilingAUROC}}</td><td class="num">{{.W2SAUROC}}</td><td class="num">{{.Agreement}}</td><td class="num">{{.Inheritance}}</td><td class="num">{{.Correction}}</td><td class="num">{{.Misfit}}</td><td class="num">{{.WeakLabelAcc}}</td><td class="num">{{.WeakECE}}</td><td class="num">{{.Duration}}</td></tr>
{{end}}</tbody>
</table>
</div>
</details>
{{end}}
</body>
</html>
`))
