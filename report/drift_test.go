package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/superalign/superalign/drift"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/store/featcache"
)

// driftSums runs a small real stream: spam-abrupt at 160 mails a phase,
// bow → glove probes, every strategy, 3 seeds.
func driftSums(t *testing.T) ([]drift.Row, []drift.StrategySummary) {
	t.Helper()
	testenv.NeedsAssets(t, "spam-assassin, glove")
	ctx := context.Background()
	sc, err := drift.Load(ctx, "spam-abrupt", 160, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := drift.Run(ctx, drift.Config{Scenario: sc, Weak: "bow", Strong: "glove", Strategies: drift.StrategyNames(),
		Seeds: []int64{0, 1, 2}, SupGold: 20, Budget: 10, Cache: &featcache.Cache{}})
	if err != nil {
		t.Fatal(err)
	}
	return rows, drift.Summarise(rows, sc.ChangePoint)
}

// TestDriftReportContent: the report has the timeline (one line and band
// per strategy, supervisor and ceiling), every strategy's row with
// intervals, and the verdict.
func TestDriftReportContent(t *testing.T) {
	rows, sums := driftSums(t)
	var b bytes.Buffer
	if err := RenderDrift(&b, Meta{Command: "w2s drift <test>"}, len(rows), sums); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if n := strings.Count(html, "<polyline"); n != len(sums)+2 {
		t.Errorf("%d lines in the timeline, want %d strategies + floor + ceiling", n, len(sums))
	}
	if n := strings.Count(html, "<polygon"); n != len(sums) {
		t.Errorf("%d CI bands, want %d", n, len(sums))
	}
	for _, s := range drift.StrategyNames() {
		if !strings.Contains(html, "<td>"+strings.ReplaceAll(s, "+", "&#43;")+"</td>") {
			t.Errorf("no table row for %s", s)
		}
	}
	for _, want := range []string{"highest average accuracy", "phase 4", "<script"} {
		if has := strings.Contains(html, want); has == (want == "<script") {
			t.Errorf("report contains %q: %v", want, has)
		}
	}
}

// TestDriftTimelineInBrowser opens the report in headless Chromium and
// screenshots the timeline figure: it must have a size and show the
// strategies' colours (the plot rendered, not an empty box). With
// W2S_SCREENSHOT_DIR set the PNG is kept there (drift-timeline.png).
func TestDriftTimelineInBrowser(t *testing.T) {
	rows, sums := driftSums(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := RenderDrift(&b, Meta{Command: "w2s drift --scenario spam-abrupt --limit 160 --weak bow --strong glove --seeds 3"}, len(rows), sums); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := openInBrowser(t, page, 1200, "timeline")
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("timeline")))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if bd := img.Bounds(); bd.Dx() < 400 || bd.Dy() < 250 {
		t.Errorf("timeline screenshot is %v", bd)
	}
	// Every strategy's colour must appear (its line), in a real render.
	for n := range sums {
		if !nearColour(img, driftPalette[n%len(driftPalette)]) {
			t.Errorf("strategy %s's colour %s is not in the screenshot", sums[n].Strategy, driftPalette[n%len(driftPalette)])
		}
	}
	if d := os.Getenv("W2S_SCREENSHOT_DIR"); d != "" {
		if err := os.WriteFile(filepath.Join(d, "drift-timeline.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// nearColour reports a pixel within 12 levels of hex on each channel
// (anti-aliased lines rarely hit the exact colour).
func nearColour(img image.Image, hex string) bool {
	want := hexColour(hex)
	wr, wg, wb, _ := want.RGBA()
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, wr) && near(g, wg) && near(b, wb) {
				return true
			}
		}
	}
	return false
}

func near(a, b uint32) bool {
	d := int(a>>8) - int(b>>8)
	return d > -12 && d < 12
}
