package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/superalign/superalign/drift"
)

// driftPalette is the Okabe–Ito palette without black (the ceiling's
// colour) and a purple for the eighth strategy.
var driftPalette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#7F3C8D"}

// driftTimeline draws, for each scenario × strong student, the accuracy on
// current values per phase: one line per strategy with its 95% t-band
// across seeds (a translucent polygon), and the phase's supervisor (floor)
// and per-phase ceiling as dashed grey lines.
func driftTimeline(sums []drift.StrategySummary) string {
	type gk struct{ sc, strong string }
	var order []gk
	idx := map[gk][]int{}
	for i, s := range sums {
		k := gk{s.Scenario, s.Strong}
		if _, ok := idx[k]; !ok {
			order = append(order, k)
		}
		idx[k] = append(idx[k], i)
	}
	var out strings.Builder
	for _, k := range order {
		out.WriteString(timelineOne(k.sc+" · "+k.strong, sums, idx[k]))
	}
	return out.String()
}

func timelineOne(title string, sums []drift.StrategySummary, idx []int) string {
	first := sums[idx[0]]
	phases := len(first.PhaseNames)
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(iv drift.Interval) {
		if iv.N == 0 {
			return
		}
		lo, hi = math.Min(lo, iv.Mean), math.Max(hi, iv.Mean)
		if iv.Lo != nil {
			lo, hi = math.Min(lo, *iv.Lo), math.Max(hi, *iv.Hi)
		}
	}
	for _, i := range idx {
		for t := range sums[i].PerPhase {
			see(sums[i].PerPhase[t])
			see(sums[i].Floor[t])
			see(sums[i].Ceiling[t])
		}
	}
	lo, hi, step := niceDomain(math.Max(0, lo), math.Min(1, hi))
	slot := 160.0
	w := marginLeft + float64(max(phases-1, 1))*slot + marginRight + 60
	legendTop := 34.0
	var names, cols []string
	for n, i := range idx {
		names = append(names, sums[i].Strategy)
		cols = append(cols, driftPalette[n%len(driftPalette)])
	}
	names = append(names, "supervisor (floor)", "ceiling")
	cols = append(cols, floorColour, ceilingColour)
	var b svgBuilder
	var lb svgBuilder
	lh := lb.legend(names, cols, marginLeft, legendTop, w-marginRight)
	top := legendTop + lh + 8
	s := yScale{lo: lo, hi: hi, top: top, bottm: top + plotHeight}
	h := s.bottm + marginBottom
	b.open(w, h, "accuracy on current values per phase: "+title)
	b.printf(`<text x="%d" y="14" font-weight="bold">%s</text>`, marginLeft, esc(title))
	b.WriteString(lb.String())
	x0 := float64(marginLeft) + 20
	x := func(t int) float64 { return x0 + float64(t)*slot }
	b.axis(s, step, x0-20, x(phases-1)+20, "accuracy (current values)")
	for t, n := range first.PhaseNames {
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), s.bottm+16, esc(n))
		if n != fmt.Sprintf("phase %d", t+1) {
			b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" fill="#666">phase %d</text>`, x(t), s.bottm+30, t+1)
		}
	}
	// Bands are clipped to the axis (a t-interval of 3 seeds can pass 1).
	clip := func(v float64) float64 { return math.Max(s.lo, math.Min(s.hi, v)) }
	line := func(ivs []drift.Interval, col, dash string, band bool) {
		if band {
			var up, down []string
			for t, iv := range ivs {
				if iv.Lo == nil {
					return
				}
				up = append(up, fmt.Sprintf("%.1f,%.1f", x(t), s.y(clip(*iv.Hi))))
				down = append([]string{fmt.Sprintf("%.1f,%.1f", x(t), s.y(clip(*iv.Lo)))}, down...)
			}
			b.printf(`<polygon points="%s" fill="%s" fill-opacity="0.1" stroke="none"/>`, strings.Join(append(up, down...), " "), col)
		}
		var pts []string
		for t, iv := range ivs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), s.y(iv.Mean)))
		}
		b.printf(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.Join(pts, " "), col, dash)
		for t, iv := range ivs {
			b.printf(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, x(t), s.y(iv.Mean), col)
		}
	}
	line(first.Floor, floorColour, ` stroke-dasharray="4 3"`, false)
	line(first.Ceiling, ceilingColour, ` stroke-dasharray="6 3"`, false)
	for n, i := range idx {
		line(sums[i].PerPhase, driftPalette[n%len(driftPalette)], "", true)
	}
	b.printf(`</svg>`)
	return b.String()
}

type driftRow struct {
	Strategy, AvgAcc, BWT, Forgetting, Plasticity, Delay, Gold, Desk, Regret, VsRetrain string
}

type driftTable struct {
	Title string
	Rows  []driftRow
}

type driftPage struct {
	Meta
	CreatedText string
	Timeline    template.HTML
	Tables      []driftTable
	Verdicts    []string
	Strategies  []drift.StrategyInfo
	NRows       int
}

// RenderDrift writes the continual-alignment report: the timeline plot
// (accuracy on current values per phase, a line and 95% band per
// strategy, supervisor and ceiling dashed), one summary table per scenario
// × strong student (average accuracy, backward transfer, forgetting,
// plasticity, detection delay, gold bought, cumulative regret, each with
// its t-interval across seeds, and the paired Δ against retrain with
// sign-flip and Holm p), the verdicts and what each strategy does. Like
// Render it is self-contained and escapes every name.
func RenderDrift(w io.Writer, m Meta, rows int, sums []drift.StrategySummary) error {
	v := driftPage{Meta: m, NRows: rows, Strategies: drift.Strategies(), Verdicts: drift.Verdicts(sums)}
	if v.Title == "" {
		v.Title = "superalign continual alignment report"
	}
	if !m.Created.IsZero() {
		v.CreatedText = m.Created.UTC().Format(time.RFC3339)
	}
	v.Timeline = template.HTML(driftTimeline(sums)) // escaped by construction (esc)
	tables := map[string]int{}
	for _, s := range sums {
		title := fmt.Sprintf("%s · %s (%d seeds; supervisor gold %.0f over the stream)", s.Scenario, s.Strong, s.Seeds, s.SupGold)
		i, ok := tables[s.Scenario+"\x00"+s.Strong]
		if !ok {
			i = len(v.Tables)
			tables[s.Scenario+"\x00"+s.Strong] = i
			v.Tables = append(v.Tables, driftTable{Title: title})
		}
		vs := "—"
		if s.VsRetrain != nil {
			vs = fmt.Sprintf("%s; p = %.3g, Holm %.3g", s.VsRetrain.Delta, s.VsRetrain.P, s.VsRetrain.PHolm)
		}
		delay := s.Delay.String()
		if s.Censored > 0 {
			delay += fmt.Sprintf(" (%d of %d never)", s.Censored, s.Seeds)
		}
		desk := "—"
		if s.Escalated.Mean > 0 || s.Human.Mean > 0 {
			desk = fmt.Sprintf("%.1f / %.1f", s.Escalated.Mean, s.Human.Mean)
		}
		v.Tables[i].Rows = append(v.Tables[i].Rows, driftRow{s.Strategy, s.AvgAcc.String(), s.BWT.String(), s.Forgetting.String(),
			s.Plasticity.String(), delay, s.Gold.String(), desk, s.Regret.String(), vs})
	}
	if err := driftTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("report: render drift: %w", err)
	}
	return nil
}

var driftTemplate = template.Must(template.New("drift").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:sans-serif;margin:24px;max-width:1200px;color:#111}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#f3f3f3}
.note{color:#555;font-size:13px}
figure{margin:12px 0;display:inline-block}
</style></head><body>
<h1>{{.Title}}</h1>
{{if .Command}}<p class="note"><code>{{.Command}}</code></p>{{end}}
{{if .CreatedText}}<p class="note">{{.CreatedText}}{{if .Version}} · superalign {{.Version}}{{end}} · {{.NRows}} rows (phase × strategy × seed)</p>{{end}}
{{range .Notes}}<p class="note">{{.}}</p>{{end}}
<h2>Accuracy on current values, per phase</h2>
<p class="note">One line per strategy, its band the 95% t-interval across seeds; dashed: the phase's re-fitted weak supervisor (floor) and the strong student trained on the phase's gold (ceiling).</p>
<figure id="timeline">{{.Timeline}}</figure>
<h2>Stream summary</h2>
<p class="note">Average accuracy over phases on each phase's values; BWT and forgetting on the examples whose values never change; plasticity: what the step at phase t gained on phase t over the previous student; delay: phases from the change point to the first re-alignment (never: censored at the phases left); gold bought through the per-phase oracle; review desk: rows sent to a person per stream and the people's labels that reached the strategy (none when nobody attends the desk during the run); regret: Σ over phases of ceiling − accuracy. 95% t-intervals across seeds; Δ against retrain paired by seed.</p>
{{range .Tables}}<h3>{{.Title}}</h3>
<table><tr><th>strategy</th><th>avg acc</th><th>BWT</th><th>forgetting</th><th>plasticity</th><th>delay</th><th>gold bought</th><th>review desk: sent / human</th><th>regret</th><th>Δavg acc vs retrain</th></tr>
{{range .Rows}}<tr><td>{{.Strategy}}</td><td>{{.AvgAcc}}</td><td>{{.BWT}}</td><td>{{.Forgetting}}</td><td>{{.Plasticity}}</td><td>{{.Delay}}</td><td>{{.Gold}}</td><td>{{.Desk}}</td><td>{{.Regret}}</td><td>{{.VsRetrain}}</td></tr>
{{end}}</table>
{{end}}
<h2>Verdicts</h2>
<ul>{{range .Verdicts}}<li>{{.}}</li>{{end}}</ul>
<h2>Strategies</h2>
<table><tr><th>name</th><th>what it does</th></tr>
{{range .Strategies}}<tr><td>{{.Name}}</td><td style="white-space:normal">{{.Description}}</td></tr>
{{end}}</table>
</body></html>
`))
