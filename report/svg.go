package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
)

// Colours: the Okabe–Ito palette, distinguishable with the common forms of
// colour blindness. Methods take them in first-appearance order.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const (
	floorColour   = "#888888"
	ceilingColour = "#222222"
	fontPx        = 11
	marginLeft    = 52
	marginRight   = 16
	marginBottom  = 44
	plotHeight    = 220
)

// esc escapes text for SVG inside HTML. The plots are built as strings and
// handed to html/template as trusted HTML, so every piece of user text
// (dataset and method names) must pass through here.
func esc(s string) string { return html.EscapeString(s) }

// pairKey is one dataset × weak → strong group of a plot, under one
// setting (balancing mode and PGR metric; "" for the defaults).
type pairKey struct{ dataset, weak, strong, setting string }

func (k pairKey) label() string { return k.weak + " → " + k.strong }

// summarySetting is a summary's setting as a group label, "" for the
// defaults (undersample, accuracy) so default plots read as before.
func summarySetting(s store.Summary) string {
	b, m := settingOf(s.Balance, s.PGRMetric)
	if b == "undersample" && m == eval.MetricAccuracy {
		return ""
	}
	return Setting(b, string(m))
}

// groups returns the dataset × weak × strong (× setting) groups of sums in
// order of first appearance, each with the indices of its summaries.
func groups(sums []store.Summary) ([]pairKey, map[pairKey][]int) {
	var order []pairKey
	idx := map[pairKey][]int{}
	for i, s := range sums {
		k := pairKey{s.Dataset, s.Weak, s.Strong, summarySetting(s)}
		if _, ok := idx[k]; !ok {
			order = append(order, k)
		}
		idx[k] = append(idx[k], i)
	}
	return order, idx
}

// methodColours maps each method to a colour, in first-appearance order.
func methodColours(sums []store.Summary) ([]string, map[string]string) {
	var methods []string
	col := map[string]string{}
	for _, s := range sums {
		if _, ok := col[s.Method]; !ok {
			col[s.Method] = palette[len(methods)%len(palette)]
			methods = append(methods, s.Method)
		}
	}
	return methods, col
}

// yScale maps data values onto the plot's vertical pixels.
type yScale struct {
	lo, hi     float64 // data domain
	top, bottm float64 // pixel range (top < bottm)
}

func (s yScale) y(v float64) float64 {
	return s.bottm - (v-s.lo)/(s.hi-s.lo)*(s.bottm-s.top)
}

// niceDomain widens [lo, hi] to multiples of a tick step of 1, 2, 2.5 or 5
// times a power of ten, aiming at about five ticks.
func niceDomain(lo, hi float64) (nlo, nhi, step float64) {
	if !(hi > lo) {
		lo, hi = lo-0.5, hi+0.5
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return math.Floor(lo/step+1e-9) * step, math.Ceil(hi/step-1e-9) * step, step
}

// svgBuilder accumulates one SVG element.
type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) printf(format string, a ...any) { fmt.Fprintf(&b.Builder, format, a...) }

// axis draws horizontal grid lines with tick labels and a rotated y label.
func (b *svgBuilder) axis(s yScale, step float64, x0, x1 float64, label string) {
	// Ticks by index, not by repeated addition, so that rounding error
	// cannot add or drop the last tick.
	for i := 0; ; i++ {
		v := s.lo + float64(i)*step
		if v > s.hi+step/2 {
			break
		}
		y := s.y(v)
		b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, x0, y, x1, y)
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`,
			x0-4, y, esc(trimTick(v)))
	}
	b.printf(`<text transform="translate(12,%.1f) rotate(-90)" text-anchor="middle">%s</text>`,
		(s.top+s.bottm)/2, esc(label))
}

// trimTick prints a tick value without trailing zeros: 0.25, 0.5, 1.
func trimTick(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// legend draws coloured keys left to right, wrapping at width; it returns
// the height it used.
func (b *svgBuilder) legend(names, colours []string, x0, y0, width float64) float64 {
	x, y := x0, y0
	for i, n := range names {
		w := 22 + 6.5*float64(len([]rune(n)))
		if x+w > width && x > x0 {
			x, y = x0, y+16
		}
		b.printf(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x, y-9, colours[i])
		b.printf(`<text x="%.1f" y="%.1f">%s</text>`, x+14, y, esc(n))
		x += w
	}
	return y - y0 + 16
}

// groupLabel writes the label (dataset, weak → strong, and the setting
// when it is not the default) under a group.
func (b *svgBuilder) groupLabel(k pairKey, cx, y float64) {
	b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`, cx, y, esc(k.dataset))
	b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, cx, y+14, esc(k.label()))
	if k.setting != "" {
		b.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, cx, y+28, esc(k.setting))
	}
}

// labelSpace is the height below a plot for its group labels.
func labelSpace(order []pairKey) float64 {
	for _, k := range order {
		if k.setting != "" {
			return marginBottom + 14
		}
	}
	return marginBottom
}

// whisker draws a vertical CI line with caps.
func (b *svgBuilder) whisker(cx float64, s yScale, lo, hi float64) {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return
	}
	y0, y1 := s.y(lo), s.y(hi)
	b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>`, cx, y0, cx, y1)
	b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>`, cx-4, y0, cx+4, y0)
	b.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>`, cx-4, y1, cx+4, y1)
}

func (b *svgBuilder) open(w, h float64, aria string) {
	b.printf(`<svg viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s" font-family="sans-serif" font-size="%d">`,
		w, h, w, h, esc(aria), fontPx)
}

// groupWidth leaves room for n slots and for the group's label.
func groupWidth(n int, k pairKey, slot float64) float64 {
	w := float64(n)*slot + 24
	lw := 6.5*float64(max(len([]rune(k.dataset)), len([]rune(k.label())), len([]rune(k.setting)))) + 12
	return math.Max(w, lw)
}

// pgrPlot draws the mean PGR of each method as a bar with its 95% CI across
// seeds, grouped by dataset × weak → strong. Reference lines mark PGR 0 (the
// weak model) and 1 (the ceiling). A summary without a PGR gets a "no gap"
// mark instead of a bar.
func pgrPlot(sums []store.Summary) string {
	const barW, slot = 22.0, 28.0
	order, idx := groups(sums)
	methods, col := methodColours(sums)

	lo, hi := 0.0, 1.0
	for _, s := range sums {
		for _, p := range []*float64{s.PGRMean, s.PGRCILow, s.PGRCIHigh} {
			if p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
				lo, hi = math.Min(lo, *p), math.Max(hi, *p)
			}
		}
	}
	dlo, dhi, step := niceDomain(lo, hi)

	width := float64(marginLeft + marginRight)
	for _, k := range order {
		width += groupWidth(len(idx[k]), k, slot)
	}
	var lg svgBuilder
	colours := make([]string, len(methods))
	for i, m := range methods {
		colours[i] = col[m]
	}
	legendH := lg.legend(methods, colours, marginLeft, 14, width)
	top := 14 + legendH
	s := yScale{lo: dlo, hi: dhi, top: top, bottm: top + plotHeight}
	height := s.bottm + labelSpace(order)

	var b svgBuilder
	b.open(width, height, "PGR per method with 95% CI across seeds, grouped by dataset")
	b.WriteString(lg.String())
	b.axis(s, step, marginLeft, width-marginRight, "PGR")
	for _, ref := range []float64{0, 1} {
		dash := ""
		if ref == 1 {
			dash = ` stroke-dasharray="4 3"`
		}
		b.printf(`<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555"%s/>`,
			marginLeft, s.y(ref), width-marginRight, s.y(ref), dash)
	}

	x := float64(marginLeft)
	for _, k := range order {
		gw := groupWidth(len(idx[k]), k, slot)
		bx := x + (gw-float64(len(idx[k]))*slot)/2
		for j, i := range idx[k] {
			sm := sums[i]
			cx := bx + float64(j)*slot + slot/2
			if sm.PGRMean == nil {
				b.printf(`<text x="%.1f" y="%.1f" transform="rotate(-90 %.1f %.1f)" fill="%s"><title>%s</title>no gap</text>`,
					cx+4, s.y(0)-4, cx+4, s.y(0)-4, col[sm.Method],
					esc(fmt.Sprintf("%s %s: no gap (%s)", sm.Dataset, sm.Method, GapNote(sm))))
				continue
			}
			m := *sm.PGRMean
			y0, y1 := s.y(0), s.y(m)
			b.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
				cx-barW/2, math.Min(y0, y1), barW, math.Abs(y1-y0), col[sm.Method],
				esc(fmt.Sprintf("%s %s: PGR %s %s", sm.Dataset, sm.Method, f3(m), ci(deref(sm.PGRCILow), deref(sm.PGRCIHigh)))))
			b.whisker(cx, s, deref(sm.PGRCILow), deref(sm.PGRCIHigh))
		}
		b.groupLabel(k, x+gw/2, s.bottm+18)
		x += gw
	}
	b.WriteString("</svg>")
	return b.String()
}

// accPlot draws, per dataset × weak → strong, the floor (weak model), each
// method's w2s and the ceiling in the PGR metric (accuracy by default) as
// dots with 95% CI whiskers across seeds. Dots, not bars: scores sit far
// above zero and a bar would exaggerate small differences once the axis
// does not start at zero.
func accPlot(sums []store.Summary) string {
	const slot = 24.0
	order, idx := groups(sums)
	methods, col := methodColours(sums)
	label := scoreLabel(sums)

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range sums {
		floor, w2s, ceiling := sumScores(s)
		for _, v := range []float64{floor[0], floor[1], floor[2], w2s[0], w2s[1], w2s[2], ceiling[0], ceiling[1], ceiling[2]} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	dlo, dhi, step := niceDomain(math.Max(0, lo-0.02), math.Min(1, hi+0.02))

	width := float64(marginLeft + marginRight)
	for _, k := range order {
		width += groupWidth(len(idx[k])+2, k, slot)
	}
	names := append([]string{"floor (weak)"}, methods...)
	names = append(names, "ceiling")
	colours := []string{floorColour}
	for _, m := range methods {
		colours = append(colours, col[m])
	}
	colours = append(colours, ceilingColour)
	var lg svgBuilder
	legendH := lg.legend(names, colours, marginLeft, 14, width)
	top := 14 + legendH
	s := yScale{lo: dlo, hi: dhi, top: top, bottm: top + plotHeight}
	height := s.bottm + labelSpace(order)

	var b svgBuilder
	b.open(width, height, "Floor, weak-to-strong and ceiling, "+label+", with 95% CI across seeds")
	b.WriteString(lg.String())
	b.axis(s, step, marginLeft, width-marginRight, label)

	dot := func(cx, mean, clo, chi float64, colour, title string) {
		b.whisker(cx, s, clo, chi)
		b.printf(`<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s"><title>%s</title></circle>`,
			cx, s.y(mean), colour, esc(title))
	}
	x := float64(marginLeft)
	for _, k := range order {
		n := len(idx[k]) + 2
		gw := groupWidth(n, k, slot)
		bx := x + (gw-float64(n)*slot)/2
		floor, _, ceiling := sumScores(sums[idx[k][0]])
		dot(bx+slot/2, floor[0], floor[1], floor[2], floorColour,
			fmt.Sprintf("%s floor %s %s", k.dataset, f3(floor[0]), ci(floor[1], floor[2])))
		for j, i := range idx[k] {
			sm := sums[i]
			_, w2s, _ := sumScores(sm)
			dot(bx+float64(j+1)*slot+slot/2, w2s[0], w2s[1], w2s[2], col[sm.Method],
				fmt.Sprintf("%s %s w2s %s %s", k.dataset, sm.Method, f3(w2s[0]), ci(w2s[1], w2s[2])))
		}
		dot(bx+float64(n-1)*slot+slot/2, ceiling[0], ceiling[1], ceiling[2], ceilingColour,
			fmt.Sprintf("%s ceiling %s %s", k.dataset, f3(ceiling[0]), ci(ceiling[1], ceiling[2])))
		b.groupLabel(k, x+gw/2, s.bottm+18)
		x += gw
	}
	b.WriteString("</svg>")
	return b.String()
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
