package report

// The competence–conformity trade-off section (issue 15): per dataset ×
// weak → strong, a scatter of each optimiser's points (competence = test
// accuracy against conformity, mean over seeds with 95% t-interval bars on
// both axes), its Pareto front joined by a line, and tables of the points,
// the hypervolumes with their intervals and the paired hypervolume
// differences against the simultaneous optimiser.

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
)

type frontGroup struct {
	dataset, weak, strong, axis string
	fronts                      []eval.TradeoffFront
}

func frontGroups(t eval.Tradeoff) []frontGroup {
	var out []frontGroup
	idx := map[string]int{}
	for _, f := range t.Fronts {
		k := f.Dataset + "\x00" + f.Weak + "\x00" + f.Strong
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, frontGroup{dataset: f.Dataset, weak: f.Weak, strong: f.Strong, axis: f.Axis})
		}
		out[i].fronts = append(out[i].fronts, f)
	}
	return out
}

func axisLabel(axis string) string {
	if axis == eval.AxisValue {
		return "conformity: value respect on test"
	}
	return "conformity: agreement with the supervisor on test"
}

func ptrOr(p *float64, d float64) float64 {
	if p == nil {
		return d
	}
	return *p
}

// frontPoints are f's points on its front, by rising conformity.
func frontPoints(f eval.TradeoffFront) []eval.TradeoffPoint {
	var ps []eval.TradeoffPoint
	for _, p := range f.Points {
		if p.OnFront {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Conformity < ps[j].Conformity })
	return ps
}

// bounds is the data range of a group's points with their intervals,
// padded and clipped to [0, 1].
func bounds(g frontGroup) (xlo, xhi, ylo, yhi float64) {
	xlo, ylo, xhi, yhi = 1, 1, 0, 0
	for _, f := range g.fronts {
		for _, p := range f.Points {
			xlo = math.Min(xlo, ptrOr(p.ConformityLo, p.Conformity))
			xhi = math.Max(xhi, ptrOr(p.ConformityHi, p.Conformity))
			ylo = math.Min(ylo, ptrOr(p.CompetenceLo, p.Competence))
			yhi = math.Max(yhi, ptrOr(p.CompetenceHi, p.Competence))
		}
	}
	pad := func(lo, hi float64) (float64, float64) {
		d := math.Max(0.02, (hi-lo)*0.08)
		return math.Max(0, lo-d), math.Min(1, hi+d)
	}
	xlo, xhi = pad(xlo, xhi)
	ylo, yhi = pad(ylo, yhi)
	return
}

// FrontsSVG draws one group's fronts as an inline SVG. Names are escaped.
func frontsSVG(g frontGroup) string {
	const w, h, left, right, top, bottom = 560.0, 400.0, 56.0, 16.0, 16.0, 70.0
	xlo, xhi, ylo, yhi := bounds(g)
	sx := func(v float64) float64 { return left + (v-xlo)/(xhi-xlo)*(w-left-right) }
	sy := func(v float64) float64 { return h - bottom - (v-ylo)/(yhi-ylo)*(h-top-bottom) }
	var b svgBuilder
	b.open(w, h, fmt.Sprintf("competence against conformity, %s, %s → %s", g.dataset, g.weak, g.strong))
	for i := 0; i <= 4; i++ {
		vx, vy := xlo+float64(i)*(xhi-xlo)/4, ylo+float64(i)*(yhi-ylo)/4
		b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, left, sy(vy), w-right, sy(vy))
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%.3f</text>`, left-4, sy(vy), vy)
		b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, sx(vx), top, sx(vx), h-bottom)
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%.3f</text>`, sx(vx), h-bottom+14, vx)
	}
	b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (left+w-right)/2, h-bottom+30, esc(axisLabel(g.axis)))
	b.printf(`<text transform="translate(12,%.1f) rotate(-90)" text-anchor="middle">competence: test accuracy</text>`, (top+h-bottom)/2)
	var names, cols []string
	for i, f := range g.fronts {
		col := palette[i%len(palette)]
		names, cols = append(names, f.Optimiser), append(cols, col)
		var line []string
		for _, p := range frontPoints(f) {
			line = append(line, fmt.Sprintf("%.1f,%.1f", sx(p.Conformity), sy(p.Competence)))
		}
		if len(line) > 1 {
			b.printf(`<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, strings.Join(line, " "), col)
		}
		for _, p := range f.Points {
			x, y := sx(p.Conformity), sy(p.Competence)
			if p.ConformityLo != nil && p.ConformityHi != nil {
				b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" opacity="0.6"/>`, sx(*p.ConformityLo), y, sx(*p.ConformityHi), y, col)
			}
			if p.CompetenceLo != nil && p.CompetenceHi != nil {
				b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" opacity="0.6"/>`, x, sy(*p.CompetenceLo), x, sy(*p.CompetenceHi), col)
			}
			fill := col
			if !p.OnFront {
				fill = "#fff"
			}
			b.printf(`<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s"><title>%s λ=%g: competence %.3f, conformity %.3f</title></circle>`,
				x, y, fill, col, esc(f.Optimiser), p.Lambda, p.Competence, p.Conformity)
		}
	}
	b.legend(names, cols, left, h-14, w-right)
	b.printf(`</svg>`)
	return b.String()
}

var tradeoffTmpl = template.Must(template.New("tradeoff").Parse(`<h2 id="tradeoff">Competence and conformity</h2>
<p>Each point is one optimiser at one λ (weight of conformity), the mean over seeds with 95% t-intervals on both axes; filled points are on
the optimiser's Pareto front (no other of its points is at least as good on both axes), joined by a line. Competence is test accuracy against
hidden gold; conformity is value respect (the share of value-constrained test examples given the required class) on data with a value
channel, else agreement with the weak supervisor. Hypervolume: the area of [0,1]² above (0, 0) that a seed's points dominate, mean over
seeds with a 95% t-interval; differences are paired by seed, with an exact sign-flip p and Holm's correction over the optimisers of a pair.
Misfit inequality (Charikar et al. 2024, gain ≥ misfit in squared loss on test): held on {{.MisfitHolds}} of {{.MisfitRows}} rows.</p>
{{range $i, $g := .Groups}}<h3>{{.Dataset}}: {{.Weak}} → {{.Strong}}</h3>
<div class="plot" id="fronts-{{$i}}">{{.SVG}}</div>
<table><thead><tr><th>optimiser</th><th>hypervolume [95% CI]</th><th>seeds</th></tr></thead><tbody>
{{range .HV}}<tr><td>{{.Name}}</td><td>{{.Value}}</td><td>{{.N}}</td></tr>
{{end}}</tbody></table>
<table><thead><tr><th>Δ hypervolume</th><th>mean [95% t-CI]</th><th>seeds</th><th>p</th><th>p Holm</th></tr></thead><tbody>
{{range .Diffs}}<tr><td>{{.Name}}</td><td>{{.Value}}</td><td>{{.N}}</td><td>{{.P}}</td><td>{{.PHolm}}</td></tr>
{{end}}</tbody></table>
<details><summary>points</summary><table><thead><tr><th>optimiser</th><th>λ</th><th>competence</th><th>conformity</th><th>AUROC</th><th>conform where weak right</th><th>conform where weak wrong</th><th>front</th></tr></thead><tbody>
{{range .Points}}<tr><td>{{.Name}}</td><td>{{.Lambda}}</td><td>{{.Comp}}</td><td>{{.Conf}}</td><td>{{.AUROC}}</td><td>{{.Right}}</td><td>{{.Wrong}}</td><td>{{.Front}}</td></tr>
{{end}}</tbody></table></details>
{{end}}`))

type hvRow struct {
	Name, Value string
	N           int
}
type diffRow struct {
	Name, Value, P, PHolm string
	N                     int
}
type ptRow struct{ Name, Lambda, Comp, Conf, AUROC, Right, Wrong, Front string }

func ciText(mean float64, lo, hi *float64) string {
	if lo == nil || hi == nil {
		return fmt.Sprintf("%.3f [—]", mean)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", mean, *lo, *hi)
}

func optText(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f", *p)
}

// TradeoffSection renders the trade-off section of the report.
func TradeoffSection(t eval.Tradeoff) (string, error) {
	type group struct {
		Dataset, Weak, Strong string
		SVG                   template.HTML
		HV                    []hvRow
		Diffs                 []diffRow
		Points                []ptRow
	}
	v := struct {
		MisfitHolds, MisfitRows int
		Groups                  []group
	}{MisfitHolds: t.Misfit.Holds, MisfitRows: t.Misfit.Rows}
	for _, g := range frontGroups(t) {
		gv := group{Dataset: g.dataset, Weak: g.weak, Strong: g.strong, SVG: template.HTML(frontsSVG(g))} // escaped in frontsSVG
		for _, f := range g.fronts {
			gv.HV = append(gv.HV, hvRow{f.Optimiser, ciText(f.Hypervolume, f.HypervolumeLo, f.HypervolumeHi), len(f.HVs)})
			for _, p := range f.Points {
				front := ""
				if p.OnFront {
					front = "●"
				}
				gv.Points = append(gv.Points, ptRow{f.Optimiser, fmt.Sprintf("%g", p.Lambda), ciText(p.Competence, p.CompetenceLo, p.CompetenceHi),
					ciText(p.Conformity, p.ConformityLo, p.ConformityHi), fmt.Sprintf("%.3f", p.AUROC), optText(p.ConformRight), optText(p.ConformWrong), front})
			}
		}
		for _, d := range t.Diffs {
			if d.Dataset == g.dataset && d.Weak == g.weak && d.Strong == g.strong {
				gv.Diffs = append(gv.Diffs, diffRow{d.A + " − " + d.B, ciText(d.Mean, d.Lo, d.Hi), fmt.Sprintf("%.4f", d.P), fmt.Sprintf("%.4f", d.PHolm), d.N})
			}
		}
		v.Groups = append(v.Groups, gv)
	}
	var buf bytes.Buffer
	if err := tradeoffTmpl.Execute(&buf, v); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// TradeoffPage is the sweep page of rows with the trade-off section first,
// before the other sections.
func TradeoffPage(m Meta, rows []store.Row, opt eval.Options, t eval.Tradeoff) ([]byte, []store.Summary, []eval.Comparison, error) {
	page, sums, comps, err := SweepPage(m, rows, opt, "")
	if err != nil {
		return nil, nil, nil, err
	}
	sec, err := TradeoffSection(t)
	if err != nil {
		return nil, nil, nil, err
	}
	i := bytes.Index(page, []byte("<h2>"))
	if i < 0 {
		i = bytes.Index(page, []byte("</body>"))
	}
	if i < 0 {
		return nil, nil, nil, fmt.Errorf("report: tradeoff: page has no </body>")
	}
	out := append(append(append([]byte(nil), page[:i]...), sec...), page[i:]...)
	return out, sums, comps, nil
}

// TradeoffPNGs draws each group's fronts as a PNG (tradeoff-1.png, …):
// points with 95% intervals on both axes, fronts joined by lines.
func TradeoffPNGs(t eval.Tradeoff) ([]PNG, error) {
	var out []PNG
	for gi, g := range frontGroups(t) {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s → %s", g.dataset, g.weak, g.strong)
		p.X.Label.Text = axisLabel(g.axis)
		p.Y.Label.Text = "competence: test accuracy"
		for i, f := range g.fronts {
			col := hexColour(palette[i%len(palette)])
			var pts plotter.XYs
			var xerr plotter.XErrors
			var yerr plotter.YErrors
			for _, q := range f.Points {
				pts = append(pts, plotter.XY{X: q.Conformity, Y: q.Competence})
				xerr = append(xerr, struct{ Low, High float64 }{q.Conformity - ptrOr(q.ConformityLo, q.Conformity), ptrOr(q.ConformityHi, q.Conformity) - q.Conformity})
				yerr = append(yerr, struct{ Low, High float64 }{q.Competence - ptrOr(q.CompetenceLo, q.Competence), ptrOr(q.CompetenceHi, q.Competence) - q.Competence})
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
			type errPts struct {
				plotter.XYs
				plotter.XErrors
				plotter.YErrors
			}
			e := errPts{pts, xerr, yerr}
			xb, err := plotter.NewXErrorBars(e)
			if err != nil {
				return nil, err
			}
			yb, err := plotter.NewYErrorBars(e)
			if err != nil {
				return nil, err
			}
			xb.LineStyle.Color, yb.LineStyle.Color = col, col
			var line plotter.XYs
			for _, q := range frontPoints(f) {
				line = append(line, plotter.XY{X: q.Conformity, Y: q.Competence})
			}
			if len(line) > 1 {
				l, err := plotter.NewLine(line)
				if err != nil {
					return nil, err
				}
				l.LineStyle.Color = col
				l.LineStyle.Width = vg.Points(1.2)
				p.Add(l)
			}
			p.Add(xb, yb, sc)
			p.Legend.Add(f.Optimiser, sc)
		}
		p.Legend.Top = false
		b, err := rasterise(p, 6*vg.Inch, 4.5*vg.Inch)
		if err != nil {
			return nil, fmt.Errorf("report: tradeoff png %d: %w", gi+1, err)
		}
		out = append(out, PNG{Name: fmt.Sprintf("tradeoff-%d.png", gi+1), Data: b})
	}
	return out, nil
}
