package report

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/store"
)

// tradeoffRows are two optimisers at three λ over three seeds, with a
// value channel (value respect) on one dataset.
func tradeoffRows() []store.Row {
	var rows []store.Row
	for seed := int64(0); seed < 3; seed++ {
		e := float64(seed) * 0.01
		for i, l := range []string{"0", "0.5", "1"} {
			x := float64(i) * 0.05
			for _, m := range []struct {
				name      string
				acc, conf float64
			}{{"simultaneous", 0.9 - x, 0.8 + x}, {"alternating", 0.88 - x/2, 0.82 + x}} {
				vr := m.conf + e
				rows = append(rows, store.Row{Dataset: "spam-value", Weak: "glove:linear", Strong: "use-lite:linear", Method: m.name + ":lambda=" + l,
					Seed: seed, W2SAcc: m.acc + e, FloorAcc: 0.85, CeilingAcc: 0.95, Agreement: 0.9, ValueRespect: &vr, MisfitSq: 0.2, GainSq: 0.01,
					Balance: "none", PGRMetric: "accuracy", NTest: 100})
			}
		}
	}
	return rows
}

func tradeoffPage(t *testing.T) ([]byte, eval.Tradeoff) {
	t.Helper()
	rows := tradeoffRows()
	tr, err := eval.TradeoffOf(rows, []string{"simultaneous", "alternating"}, "simultaneous", eval.AxisAuto, 1)
	if err != nil {
		t.Fatal(err)
	}
	page, _, _, err := TradeoffPage(Meta{Title: "tradeoff <test>"}, rows, eval.Options{Seed: 1}, tr)
	if err != nil {
		t.Fatal(err)
	}
	return page, tr
}

// TestTradeoffPage: the section comes before the other sections, names
// the axis, draws one plot per pair with every point, and the PNGs decode.
func TestTradeoffPage(t *testing.T) {
	page, tr := tradeoffPage(t)
	s := string(page)
	i, j := strings.Index(s, `<h2 id="tradeoff">`), strings.Index(s, "<h2>")
	if i < 0 || (j >= 0 && j < i) {
		t.Fatal("the trade-off section is missing or not first")
	}
	sec := s[i:]
	if k := strings.Index(sec, "<h2>"); k >= 0 {
		sec = sec[:k]
	}
	if strings.Count(sec, "<circle") != 6 || !strings.Contains(s, "value respect on test") || !strings.Contains(s, "alternating − simultaneous") {
		t.Error("the section lacks its points, axis or differences")
	}
	pngs, err := TradeoffPNGs(tr)
	if err != nil || len(pngs) != 1 {
		t.Fatalf("PNGs %d, %v", len(pngs), err)
	}
	if _, err := png.Decode(bytes.NewReader(pngs[0].Data)); err != nil {
		t.Fatal(err)
	}
}

// TestTradeoffPageInBrowser opens the report in headless Chromium, waits
// for the fronts, reads the section and takes a screenshot: the fronts'
// colours must be on it (the SVG rendered, not only its markup). Set
// W2S_SCREENSHOT=FILE to keep the screenshot.
func TestTradeoffPageInBrowser(t *testing.T) {
	page, _ := tradeoffPage(t)
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := openInBrowser(t, file, 1100, "fronts-0")
	head, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("tradeoff")))
	if err != nil || head != "Competence and conformity" {
		t.Fatalf("section heading %q (%v)", head, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if n := countColour(img, 0x00, 0x72, 0xB2); n < 50 {
		t.Errorf("the screenshot has %d pixels of the first front's colour: the plot did not render", n)
	}
	if path := os.Getenv("W2S_SCREENSHOT"); path != "" {
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the trade-off report: %s", path)
	}
}

func countColour(img image.Image, r, g, b uint8) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr, uint32(r)<<8) && near(cg, uint32(g)<<8) && near(cb, uint32(b)<<8) { // near: drift_test.go
				n++
			}
		}
	}
	return n
}
