package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/superalign/superalign/store"
)

// PNG is one rasterised plot: Name is a file name such as "pgr.png".
type PNG struct {
	Name string
	Data []byte
}

// PNGDPI is the resolution of the PNG plots: print quality for papers.
const PNGDPI = 200

// PlotsPNG draws the report's three plots from the same summaries as the
// HTML page, as PNG images for papers (pure Go, gonum/plot; no browser):
//
//   - pgr.png:      PGR per method with 95% CI bars, grouped by dataset × weak → strong;
//   - accuracy.png: floor, each method's w2s and ceiling accuracy with 95% CIs per group;
//   - gap.png:      PGR against the weak–strong gap (ceiling − floor accuracy).
//
// Colours follow the HTML page (methods in first-appearance order of sums).
// Cells with no gap are left out of the PGR plots and counted in the title.
func PlotsPNG(sums []store.Summary) ([]PNG, error) {
	if len(sums) == 0 {
		return nil, fmt.Errorf("report: png: no summaries to plot")
	}
	type mk struct {
		name string
		f    func([]store.Summary) (*plot.Plot, vg.Length, error)
	}
	var out []PNG
	for _, m := range []mk{{"pgr.png", pgrPNG}, {"accuracy.png", accPNG}, {"gap.png", gapPNG}} {
		p, width, err := m.f(sums)
		if err != nil {
			return nil, fmt.Errorf("report: png: %s: %w", m.name, err)
		}
		b, err := rasterise(p, width, 4*vg.Inch)
		if err != nil {
			return nil, fmt.Errorf("report: png: %s: %w", m.name, err)
		}
		out = append(out, PNG{Name: m.name, Data: b})
	}
	return out, nil
}

func rasterise(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// hexColour parses "#RRGGBB" (the palette's form).
func hexColour(s string) color.Color {
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if len(s) != 7 || err != nil {
		return color.Black
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}

// ciPoints are points with asymmetric y error bars (plotter.YErrorer).
type ciPoints []struct{ x, y, lo, hi float64 }

func (c ciPoints) Len() int                        { return len(c) }
func (c ciPoints) XY(i int) (float64, float64)     { return c[i].x, c[i].y }
func (c ciPoints) YError(i int) (float64, float64) { return c[i].y - c[i].lo, c[i].hi - c[i].y }

func (c *ciPoints) add(x, y, lo, hi float64) {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		lo, hi = y, y
	}
	*c = append(*c, struct{ x, y, lo, hi float64 }{x, y, lo, hi})
}

// addSeries adds pts as dots of colour col with CI bars, in the legend as name.
func addSeries(p *plot.Plot, pts ciPoints, name string, col color.Color, shape draw.GlyphDrawer) error {
	if len(pts) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: shape}
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return err
	}
	eb.LineStyle.Color = col
	eb.LineStyle.Width = vg.Points(1.2)
	eb.CapWidth = vg.Points(6)
	p.Add(eb, sc)
	p.Legend.Add(name, sc)
	return nil
}

// refLines draws dashed horizontal lines at y = 0 and 1 (PGR's floor and
// ceiling) across [x0, x1].
func refLines(p *plot.Plot, x0, x1 float64) error {
	for _, y := range []float64{0, 1} {
		l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
		if err != nil {
			return err
		}
		l.LineStyle.Color = color.Gray{Y: 0x99}
		l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
	}
	return nil
}

// frameX adds invisible points at x0 and x1 so gonum/plot's padding (which
// pushes the outermost glyphs to the canvas edges) spans [x0, x1] and not
// just the outermost data points: the grouped plots then use the full width.
func frameX(p *plot.Plot, x0, x1, y float64) error {
	sc, err := plotter.NewScatter(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: color.Transparent, Radius: vg.Points(0.5), Shape: draw.CircleGlyph{}} // zero-size boxes are ignored
	p.Add(sc)
	return nil
}

// headroom raises the top of the y axis so the legend (top left, one line
// per entry) does not cover data: each entry takes about 7% of the height.
// It also sets round ticks (niceTicks), so PGR's 0 and 1 are labelled.
func headroom(p *plot.Plot, entries int) {
	ticks, lo, hi := niceTicks(p.Y.Min, p.Y.Max)
	p.Y.Tick.Marker = ticks
	frac := math.Min(0.07*float64(entries), 0.5) // a very long legend: better overlap than no plot
	p.Y.Min, p.Y.Max = lo, hi+(hi-lo)*frac/(1-frac)
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// groupedWidth sizes a grouped plot so that each point, and each group's
// label (its widest line), has room: labels must not run into each other.
func groupedWidth(p *plot.Plot, order []pairKey, perGroup int) vg.Length {
	slot := vg.Length(perGroup+1) * vg.Points(24)
	for _, name := range groupNames(order) {
		for _, line := range strings.Split(name, "\n") {
			slot = max(slot, p.X.Tick.Label.Width(line)+vg.Points(14))
		}
	}
	return max(6*vg.Inch, vg.Length(len(order))*slot+vg.Inch)
}

// niceTicks labels multiples of a round step between lo and hi (as the HTML
// plots do), with a minor tick halfway; it returns the rounded-out range.
func niceTicks(lo, hi float64) (plot.ConstantTicks, float64, float64) {
	lo, hi, step := niceDomain(lo, hi)
	var ticks plot.ConstantTicks
	for i := 0; lo+float64(i)*step <= hi+step/2; i++ {
		v := lo + float64(i)*step
		ticks = append(ticks, plot.Tick{Value: v, Label: trimTick(v)}, plot.Tick{Value: v + step/2})
	}
	return ticks, lo, hi
}

// groupOffsets spreads n points of one group around its centre.
func groupOffset(j, n int) float64 { return (float64(j) - float64(n-1)/2) * 0.7 / float64(max(n, 2)) }

func groupNames(order []pairKey) []string {
	names := make([]string, len(order))
	for i, k := range order {
		names[i] = k.dataset + "\n" + k.weak + " → " + k.strong
	}
	return names
}

func pgrPNG(sums []store.Summary) (*plot.Plot, vg.Length, error) {
	order, idx := groups(sums)
	methods, col := methodColours(sums)
	per := map[string]*ciPoints{}
	for _, m := range methods {
		per[m] = &ciPoints{}
	}
	noGap, most := 0, 1
	for g, k := range order {
		most = max(most, len(idx[k]))
		for j, i := range idx[k] {
			s := sums[i]
			if s.PGRMean == nil {
				noGap++
				continue
			}
			per[s.Method].add(float64(g)+groupOffset(j, len(idx[k])), *s.PGRMean, deref(s.PGRCILow), deref(s.PGRCIHigh))
		}
	}
	title := "PGR per method, 95% CI across seeds"
	if noGap > 0 {
		title += fmt.Sprintf(" (%d with no gap left out)", noGap)
	}
	p := newPlot(title, "PGR")
	if err := refLines(p, -0.5, float64(len(order))-0.5); err != nil {
		return nil, 0, err
	}
	for i, m := range methods {
		if err := addSeries(p, *per[m], m, hexColour(col[m]), shapeFor(i)); err != nil {
			return nil, 0, err
		}
	}
	if err := frameX(p, -0.5, float64(len(order))-0.5, 0); err != nil {
		return nil, 0, err
	}
	p.NominalX(groupNames(order)...)
	p.X.Min, p.X.Max = -0.5, float64(len(order))-0.5
	headroom(p, len(methods))
	return p, groupedWidth(p, order, most), nil
}

func accPNG(sums []store.Summary) (*plot.Plot, vg.Length, error) {
	order, idx := groups(sums)
	methods, col := methodColours(sums)
	floor, ceil := &ciPoints{}, &ciPoints{}
	per := map[string]*ciPoints{}
	for _, m := range methods {
		per[m] = &ciPoints{}
	}
	most := 1
	for g, k := range order {
		n := len(idx[k]) + 2
		most = max(most, n)
		first := sums[idx[k][0]]
		floor.add(float64(g)+groupOffset(0, n), first.FloorAccMean, first.FloorAccCILow, first.FloorAccCIHigh)
		for j, i := range idx[k] {
			s := sums[i]
			per[s.Method].add(float64(g)+groupOffset(j+1, n), s.W2SAccMean, s.W2SAccCILow, s.W2SAccCIHigh)
		}
		ceil.add(float64(g)+groupOffset(n-1, n), first.CeilingAccMean, first.CeilingAccCILow, first.CeilingAccCIHigh)
	}
	p := newPlot("Floor, weak-to-strong and ceiling test accuracy, 95% CI across seeds", "test accuracy")
	if err := addSeries(p, *floor, "floor (weak)", hexColour(floorColour), draw.SquareGlyph{}); err != nil {
		return nil, 0, err
	}
	for i, m := range methods {
		if err := addSeries(p, *per[m], m, hexColour(col[m]), shapeFor(i)); err != nil {
			return nil, 0, err
		}
	}
	if err := addSeries(p, *ceil, "ceiling", hexColour(ceilingColour), draw.TriangleGlyph{}); err != nil {
		return nil, 0, err
	}
	if err := frameX(p, -0.5, float64(len(order))-0.5, sums[0].CeilingAccMean); err != nil {
		return nil, 0, err
	}
	p.NominalX(groupNames(order)...)
	p.X.Min, p.X.Max = -0.5, float64(len(order))-0.5
	headroom(p, len(methods)+2)
	return p, groupedWidth(p, order, most), nil
}

func gapPNG(sums []store.Summary) (*plot.Plot, vg.Length, error) {
	methods, col := methodColours(sums)
	per := map[string]*ciPoints{}
	for _, m := range methods {
		per[m] = &ciPoints{}
	}
	mi := map[string]int{}
	for i, m := range methods {
		mi[m] = i
	}
	noGap := 0
	xhi := 0.0
	for _, s := range sums {
		xhi = math.Max(xhi, s.CeilingAccMean-s.FloorAccMean)
	}
	for _, s := range sums {
		if s.PGRMean == nil {
			noGap++
			continue
		}
		// Methods of one pair share its gap: spread them a little (as the
		// HTML plot does) so their CI bars stay apart.
		g := s.CeilingAccMean - s.FloorAccMean + xhi*0.006*(float64(mi[s.Method])-float64(len(methods)-1)/2)
		per[s.Method].add(g, *s.PGRMean, deref(s.PGRCILow), deref(s.PGRCIHigh))
	}
	title := "PGR against the weak–strong gap"
	if noGap > 0 {
		title += fmt.Sprintf(" (%d with no gap left out)", noGap)
	}
	p := newPlot(title, "PGR")
	p.X.Label.Text = "ceiling − floor accuracy"
	var xt plot.ConstantTicks
	xt, p.X.Min, p.X.Max = niceTicks(0, xhi*1.04+0.005)
	p.X.Tick.Marker = xt
	if err := refLines(p, p.X.Min, p.X.Max); err != nil {
		return nil, 0, err
	}
	for i, m := range methods {
		if err := addSeries(p, *per[m], m, hexColour(col[m]), shapeFor(i)); err != nil {
			return nil, 0, err
		}
	}
	headroom(p, len(methods))
	return p, 6 * vg.Inch, nil
}

// shapeFor varies the glyph by method too, so the plots survive greyscale
// printing.
func shapeFor(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
		draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}}
	return shapes[i%len(shapes)]
}
