package report

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
)

func ptr(x float64) *float64 { return &x }

// fixture is a hand-built run: two datasets, two methods, one summary with
// no gap at all and one with a no-gap seed, a name that needs escaping, and
// a note holding a URL as text.
func fixture() (Meta, []store.Row, []store.Summary, []eval.Comparison) {
	m := Meta{
		Title:   "sst2 & friends",
		Command: "w2s run --data sst2 --weak bow:linear --strong glove:linear --method naive,conf",
		Version: "v0.1.0",
		Created: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Notes:   []string{"see https://example.org/w2s for the paper", "imdb has a tiny gap"},
	}
	rows := []store.Row{
		{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", Seed: 0, NTest: 500,
			FloorAcc: 0.6, CeilingAcc: 0.9, W2SAcc: 0.8, PGR: ptr(2.0 / 3), PGRCILow: ptr(0.5), PGRCIHigh: ptr(0.8),
			GainAcc: 0.2, GainAccCILow: 0.15, GainAccCIHigh: 0.25, DurationS: 1.25},
		{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "conf", Seed: 0, NTest: 500,
			FloorAcc: 0.6, CeilingAcc: 0.9, W2SAcc: 0.84, PGR: ptr(0.8), PGRCILow: ptr(0.7), PGRCIHigh: ptr(0.9)},
		{Dataset: "imdb<b>", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", Seed: 0, NTest: 500,
			FloorAcc: 0.7, CeilingAcc: 0.71, W2SAcc: 0.7, NoGap: true},
	}
	sums := []store.Summary{
		{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", NSeeds: 3,
			GapMean: 0.3, GapCILow: ptr(0.28), GapCIHigh: ptr(0.32), GapThreshold: 0.02,
			PGRMean: ptr(2.0 / 3), PGRCILow: ptr(0.5), PGRCIHigh: ptr(0.8),
			W2SAccMean: 0.8, W2SAccCILow: 0.78, W2SAccCIHigh: 0.82,
			FloorAccMean: 0.6, FloorAccCILow: 0.58, FloorAccCIHigh: 0.62,
			CeilingAccMean: 0.9, CeilingAccCILow: 0.88, CeilingAccCIHigh: 0.92,
			W2SAUROCMean: 0.85, AgreementMean: 0.7, MisfitMean: 0.45, InheritanceMean: 0.3, CorrectionMean: 0.7},
		{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "conf", NSeeds: 3, NSeedsNoGap: 1,
			GapMean: 0.3, GapCILow: ptr(0.28), GapCIHigh: ptr(0.32), GapThreshold: 0.02,
			PGRMean: ptr(0.8), PGRCILow: ptr(0.7), PGRCIHigh: ptr(0.9),
			W2SAccMean: 0.84, W2SAccCILow: 0.82, W2SAccCIHigh: 0.86,
			FloorAccMean: 0.6, FloorAccCILow: 0.58, FloorAccCIHigh: 0.62,
			CeilingAccMean: 0.9, CeilingAccCILow: 0.88, CeilingAccCIHigh: 0.92},
		{Dataset: "imdb<b>", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", NSeeds: 2, NSeedsNoGap: 2,
			GapMean: 0.01, GapCILow: ptr(-0.05), GapCIHigh: ptr(0.07), GapThreshold: 0.02, NoGap: true,
			W2SAccMean: 0.7, W2SAccCILow: 0.69, W2SAccCIHigh: 0.71,
			FloorAccMean: 0.7, FloorAccCILow: 0.69, FloorAccCIHigh: 0.71,
			CeilingAccMean: 0.71, CeilingAccCILow: 0.7, CeilingAccCIHigh: 0.72},
	}
	comps := []eval.Comparison{
		{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "conf", Baseline: "naive", N: 3, NDatasets: 1,
			DeltaAcc: 0.04, DeltaAccCILow: 0.01, DeltaAccCIHigh: 0.07, DeltaPGR: ptr(0.1333),
			P: 0.25, PExact: true, PHolm: 0.5, HolmFamily: 2, MinP: 0.25, Underpowered: true},
		{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "naive@aa", Baseline: "naive", N: 3, NDatasets: 1,
			DeltaAcc: 0.002, DeltaAccCILow: -0.01, DeltaAccCIHigh: 0.014,
			P: 1, PExact: true, PHolm: 1, HolmFamily: 2, MinP: 0.25, Underpowered: true},
		{Weak: "bow:linear", Strong: "glove:linear", Method: "conf", Baseline: "naive", AcrossDatasets: true, N: 30, NDatasets: 3,
			DeltaAcc: 0.03, DeltaAccCILow: 0.02, DeltaAccCIHigh: 0.04,
			P: 0.0004, PDraws: 100000, PHolm: 0.0008, HolmFamily: 2, MinP: 0.00001, Underpowered: false},
	}
	return m, rows, sums, comps
}

func render(t *testing.T, m Meta, rows []store.Row, sums []store.Summary, comps []eval.Comparison) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, m, rows, sums, comps); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>`)

// voidElements never have a closing tag in HTML.
var voidElements = map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true, "wbr": true, "col": true}

// checkBalanced is a small well-formedness check (golang.org/x/net/html is not
// available): every opened element is closed in order, except void elements
// and self-closed SVG shapes.
func checkBalanced(t *testing.T, page string) {
	t.Helper()
	var stack []string
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		closing, name, selfClose := m[1] == "/", strings.ToLower(m[2]), m[3] == "/"
		switch {
		case voidElements[name] || selfClose:
		case !closing:
			stack = append(stack, name)
		case len(stack) == 0 || stack[len(stack)-1] != name:
			t.Fatalf("unbalanced </%s>; open: %v", name, stack)
		default:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements: %v", stack)
	}
}

func TestRenderContent(t *testing.T) {
	m, rows, sums, comps := fixture()
	page := render(t, m, rows, sums, comps)
	checkBalanced(t, page)

	if o, c := strings.Count(page, "<svg"), strings.Count(page, "</svg>"); o != 2 || c != 2 {
		t.Errorf("want 2 balanced SVG plots, got %d <svg and %d </svg>", o, c)
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Errorf("page does not start with a doctype")
	}
	for _, s := range sums {
		for _, want := range []string{esc(s.Dataset), esc(s.Method)} {
			if !strings.Contains(page, want) {
				t.Errorf("summary %s/%s: %q missing", s.Dataset, s.Method, want)
			}
		}
	}
	for _, want := range []string{
		"no gap", "gap 0.010, lower 95% bound -0.050 &lt; 0.020", // nil PGR: why
		"1 of 3 seeds below the threshold alone, kept",      // partial no-gap
		"0.667 <span class=\"ci\">[0.500, 0.800]</span>",    // PGR 2/3 with its CI, 3 decimals
		"0.300<br><span class=\"ci\">[0.280, 0.320]</span>", // the gap, its CI beneath
		"0.667<br><span class=\"ci\">[0.500, 0.800]</span>", // the summary PGR, its CI beneath
		"floor, ceiling, w2s, gap and PGR on accuracy",      // what the table is on
		"<th>PGR on accuracy</th>",
		"Method comparisons", "&#43;0.040", "[0.010, 0.070]", "&#43;0.133", "3 paired seeds", "no gap",
		"all datasets", "30 pairs, 3 datasets", "&lt;0.001 (MC 100000)", "0.500 (m=2)",
		"underpowered: n=3 seeds, smallest attainable p = 0.250 (Holm over 2 methods: 0.500)",
		"naive@aa <span class=\"ci\">(A/A null)</span>",
		"A/A null naive@aa vs naive: 0 of 1 per-dataset tests with p ≤ 0.050 (0 after Holm); t-interval excludes 0 in 0",
		"<details>", "2026-03-01T12:00:00Z", "v0.1.0", "sst2 &amp; friends",
		"1.250", // duration, 3 decimals
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Names are escaped, never raw markup.
	if strings.Contains(page, "imdb<b>") {
		t.Errorf("dataset name was not escaped")
	}
	if !strings.Contains(page, "imdb&lt;b&gt;") {
		t.Errorf("escaped dataset name missing")
	}
	// NaN renders as a dash, not "NaN".
	if strings.Contains(page, "NaN") {
		t.Errorf("page shows NaN")
	}
}

func TestRenderThreeDecimals(t *testing.T) {
	m, rows, sums, comps := fixture()
	page := render(t, m, rows, sums, comps)
	// Outside the plots (whose axis ticks read 0.25 etc.) and the stylesheet
	// (rem sizes), every decimal number in the page has three decimals.
	body := page[strings.Index(page, "<body>"):]
	body = regexp.MustCompile(`(?s)<svg.*?</svg>`).ReplaceAllString(body, "")
	body = strings.ReplaceAll(body, "2026-03-01T12:00:00Z", "")
	body = strings.ReplaceAll(body, "v0.1.0", "")
	for _, num := range regexp.MustCompile(`\d+\.\d+`).FindAllString(body, -1) {
		if !regexp.MustCompile(`^\d+\.\d{3}$`).MatchString(num) {
			t.Errorf("number %q is not formatted with 3 decimals", num)
		}
	}
}

func TestRenderSelfContained(t *testing.T) {
	m, rows, sums, comps := fixture()
	page := render(t, m, rows, sums, comps)
	for _, bad := range []string{"<script", "<link", "@import", "url(", "href=", "src=", "xmlns"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must not fetch or reference anything", bad)
		}
	}
	// URLs may appear only as text (the note), never inside a tag.
	for _, tag := range tagRE.FindAllString(page, -1) {
		if strings.Contains(tag, "http://") || strings.Contains(tag, "https://") {
			t.Errorf("tag references a URL: %s", tag)
		}
	}
	if !strings.Contains(page, "https://example.org/w2s") {
		t.Errorf("the note's URL should still be shown as text")
	}
}

func TestRenderPlots(t *testing.T) {
	_, _, sums, _ := fixture()
	pgr := pgrPlot(sums)
	// Two legend keys (naive, conf) and two bars: the third summary has no
	// PGR and gets a "no gap" mark instead.
	if n := strings.Count(pgr, "<rect"); n != 4 {
		t.Errorf("PGR plot has %d rects, want 2 legend keys + 2 bars", n)
	}
	if !strings.Contains(pgr, ">no gap</text>") {
		t.Errorf("PGR plot lacks the no-gap mark")
	}
	acc := accPlot(sums)
	// Per group: floor, one dot per method, ceiling: (1+2+1) + (1+1+1) = 7.
	if n := strings.Count(acc, "<circle"); n != 7 {
		t.Errorf("accuracy plot has %d dots, want 7", n)
	}
	if !strings.Contains(acc, "bow:linear → glove:linear") {
		t.Errorf("accuracy plot lacks the weak → strong label")
	}
}

func TestRenderEmptyAndDeterministic(t *testing.T) {
	page := render(t, Meta{}, nil, nil, nil)
	checkBalanced(t, page)
	for _, want := range []string{"No results.", "superalign report"} {
		if !strings.Contains(page, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
	for _, absent := range []string{"<svg", "Method comparisons", "<details>"} {
		if strings.Contains(page, absent) {
			t.Errorf("empty page has %q", absent)
		}
	}
	m, rows, sums, comps := fixture()
	if render(t, m, rows, sums, comps) != render(t, m, rows, sums, comps) {
		t.Errorf("Render is not deterministic")
	}
}

func TestNiceDomain(t *testing.T) {
	for _, tc := range []struct{ lo, hi, wlo, whi, wstep float64 }{
		{0, 1, 0, 1, 0.2},
		{-0.3, 1.2, -0.5, 1.5, 0.5},
		{0.55, 0.93, 0.5, 1, 0.1},
		{0.5, 0.5, 0, 1, 0.2},
	} {
		lo, hi, step := niceDomain(tc.lo, tc.hi)
		if math.Abs(lo-tc.wlo) > 1e-9 || math.Abs(hi-tc.whi) > 1e-9 || math.Abs(step-tc.wstep) > 1e-9 {
			t.Errorf("niceDomain(%v, %v) = %v, %v, %v; want %v, %v, %v", tc.lo, tc.hi, lo, hi, step, tc.wlo, tc.whi, tc.wstep)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{f3(2.0 / 3), "0.667"},
		{f3(-0.0001), "0.000"},
		{f3(math.NaN()), "—"},
		{ci(0.1, 0.25), "[0.100, 0.250]"},
		{pval(0.0412), "0.041"},
		{pval(0.00001), "<0.001"},
		{pval(math.NaN()), "—"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestGapPlotUnboundedCI: a PGR whose bootstrap bound is unbounded (nil CI)
// is drawn as a point without a whisker instead of crashing the sweep page,
// and a no-gap summary is counted, not drawn.
func TestGapPlotUnboundedCI(t *testing.T) {
	_, _, sums, _ := fixture()
	sums[1].PGRCILow, sums[1].PGRCIHigh = nil, nil
	svg := GapPlot(sums)
	if n := strings.Count(svg, "<circle"); n != 2 {
		t.Errorf("gap plot has %d points, want 2 (the no-gap summary is left out)", n)
	}
	if !strings.Contains(svg, "1 cells with no gap left out") {
		t.Errorf("gap plot does not count the no-gap cell")
	}
	// One whisker (three lines) for the bounded PGR only.
	withCI := GapPlot(sums[:1])
	if strings.Count(svg, `stroke="#000"`) != strings.Count(withCI, `stroke="#000"`) {
		t.Errorf("the unbounded PGR got a whisker")
	}
}

// imbalancedFixture is a run on an imbalanced set under two settings, as
// `w2s report` shows two run directories: undersampled on accuracy, and
// the natural mix on AUROC with a calibrated method.
func imbalancedFixture() ([]store.Row, []store.Summary) {
	sum := func(balance, metric, method string, counts [3][]int, floor, ceil, w2s float64) store.Summary {
		return store.Summary{Dataset: "spam-hardham", Weak: "bow:linear", Strong: "glove:linear", Method: method, NSeeds: 10,
			Balance: balance, PGRMetric: metric, GapMean: ceil - floor, GapCILow: ptr(ceil - floor - 0.01), GapCIHigh: ptr(ceil - floor + 0.01), GapThreshold: 0.02,
			PGRMean: ptr((w2s - floor) / (ceil - floor)), PGRCILow: ptr(-0.5), PGRCIHigh: ptr(0.9),
			FloorAccMean: 0.95, CeilingAccMean: 0.96, W2SAccMean: 0.941,
			FloorScoreMean: floor, CeilingScoreMean: ceil, W2SScoreMean: w2s, WeakECEMean: ptr(0.032),
			Classes: []string{"easy-ham", "hard-ham"}, ClassCountsTrainWeak: counts[0], ClassCountsTrainStrong: counts[1], ClassCountsTest: counts[2]}
	}
	natural := [3][]int{{1300, 83}, {1300, 84}, {1300, 83}}
	even := [3][]int{{83, 83}, {84, 84}, {83, 83}}
	a := sum("undersample", "accuracy", "naive", even, 0.8, 0.9, 0.85)
	a.FloorScoreMean, a.CeilingScoreMean, a.W2SScoreMean = a.FloorAccMean, a.CeilingAccMean, a.W2SAccMean
	b := sum("none", "auroc", "naive", natural, 0.902, 0.925, 0.865)
	c := sum("none", "auroc", "logconf:calibrate=true,schedule=linear", natural, 0.902, 0.925, 0.91)
	c.TrainedECEMean, c.WeakTemperatureMean = ptr(0.017), ptr(0.83)
	rows := []store.Row{{Dataset: "spam-hardham", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", Balance: "none", PGRMetric: "auroc", NTest: 1383, WeakECE: ptr(0.03)}}
	return rows, []store.Summary{b, a, c}
}

// TestRenderImbalanced: the class mix of each split, one summary table per
// setting headed by what it is on, the metric's scores with accuracy
// beneath, and the calibration columns.
func TestRenderImbalanced(t *testing.T) {
	rows, sums := imbalancedFixture()
	page := render(t, Meta{}, rows, sums, nil)
	checkBalanced(t, page)
	for _, want := range []string{
		"<h2>Class mix</h2>", "easy-ham / hard-ham", "1300/83 (6%)", "1300/84 (6%)", "83/83",
		"natural class mix, stratified splits (--balance none); floor, ceiling, w2s, gap and PGR on AUROC (K &gt; 2: macro one-vs-rest), accuracy alongside",
		"binary datasets undersampled to balance (--balance undersample); floor, ceiling, w2s, gap and PGR on accuracy",
		"<th>PGR on AUROC</th>", "<th>floor AUROC</th>", "<th>PGR on accuracy</th>",
		"0.902<br>", "acc 0.950", // the metric's score, accuracy beneath
		"calibrated 0.017, T 0.830", "0.032",
		"balance none · PGR on AUROC", // per-seed rows and plot groups say their setting
		"test score (each group&#39;s PGR metric)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Two summary tables (two settings), the second setting's two
	// summaries in one of them although the summaries interleave.
	if n := strings.Count(page, `<p class="setting">`); n != 2 {
		t.Errorf("%d summary tables, want 2", n)
	}
	if strings.Index(page, "logconf:calibrate=true") > strings.Index(page, "undersampled to balance") {
		t.Error("the calibrated AUROC summary is not in the AUROC table")
	}
}

// TestSummaryFitsWidth: the summary table fits a page of 80rem (the body's
// max-width). Browsers size a column by its longest unbreakable line: the
// values and their intervals are on lines of their own, and names may
// break anywhere (overflow-wrap), so the table's width is about the sum of
// the columns' longest number lines. This counts them, at 0.6em per
// character of the table's 0.85rem font plus 0.8rem of padding a column,
// and allows the names a generous 12 characters each.
func TestSummaryFitsWidth(t *testing.T) {
	rows, sums := imbalancedFixture()
	_, _, fsums, _ := fixture()
	page := render(t, Meta{}, rows, append(sums, fsums...), nil)
	for _, css := range []string{"width: 100%", "overflow-wrap: anywhere"} {
		if !strings.Contains(page, css) {
			t.Errorf("stylesheet lacks %q", css)
		}
	}
	start := strings.Index(page, "<h2>Summary</h2>")
	end := strings.Index(page, "<h2>Diagnostics</h2>")
	if start < 0 || end < start {
		t.Fatal("no summary section")
	}
	rowRE := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE := regexp.MustCompile(`(?s)<t([dh])( class="num")?>(.*?)</t[dh]>`)
	for _, tr := range rowRE.FindAllStringSubmatch(page[start:end], -1) {
		cells := cellRE.FindAllStringSubmatch(tr[1], -1)
		if len(cells) > 10 {
			t.Errorf("a summary row has %d columns", len(cells))
		}
		ems := 0.0
		for _, c := range cells {
			longest := 0
			for _, line := range strings.Split(c[3], "<br>") {
				line = tagRE.ReplaceAllString(line, "")
				n := len([]rune(line))
				if c[2] == "" && n > 12 {
					n = 12 // text: wraps
				}
				longest = max(longest, n)
			}
			ems += 0.6*0.85*float64(longest) + 0.8
		}
		if ems > 78 {
			t.Errorf("a summary row needs about %.1frem, more than the page's 80rem: %q", ems, tagRE.ReplaceAllString(tr[1], " "))
		}
	}
}

func TestPreferenceSection(t *testing.T) {
	if got := PreferenceSection([]store.Summary{{Dataset: "sentiment"}}); got != "" {
		t.Errorf("classification summaries gave a preference section: %q", got)
	}
	got := PreferenceSection([]store.Summary{{Dataset: "<pairs>", Weak: "bow", Strong: "use-lite", Method: "naive",
		Preference: &store.PreferenceSummary{W2SECEMean: 0.05, BestOfN: 4, BoNGroups: 120, BoNW2SMean: 0.6, BoNFloorMean: 0.5, BoNGainMean: 0.1}}})
	for _, want := range []string{"Reward models on preference pairs", "&lt;pairs&gt;", "0.600 [", "+0.100 ["} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
}
