package report

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/superalign/superalign/store"
)

// TestPlotsPNG: every plot decodes as a PNG of print size, is not blank
// (grey-level variance well above a flat image's 0) and shows the first
// method's palette colour, i.e. the data were drawn, not just axes. The
// fixture holds a "no gap" cell, which must not break the PGR plots.
func TestPlotsPNG(t *testing.T) {
	_, _, sums, _ := fixture()
	noGap := false
	for _, s := range sums {
		noGap = noGap || s.PGRMean == nil
	}
	if !noGap {
		t.Fatal("fixture lost its no-gap cell")
	}
	imgs, err := PlotsPNG(sums)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pgr.png", "accuracy.png", "gap.png"}
	if len(imgs) != len(want) {
		t.Fatalf("got %d images, want %d", len(imgs), len(want))
	}
	method := hexColour(palette[0])
	for i, im := range imgs {
		if im.Name != want[i] {
			t.Errorf("image %d named %q, want %q", i, im.Name, want[i])
		}
		img, err := png.Decode(bytes.NewReader(im.Data))
		if err != nil {
			t.Fatalf("%s: %v", im.Name, err)
		}
		b := img.Bounds()
		// 6 × 4 inches at PNGDPI: 1200 × 800 pixels.
		if b.Dx() < 6*PNGDPI || b.Dy() != 4*PNGDPI {
			t.Errorf("%s: %d×%d pixels, want at least %d×%d", im.Name, b.Dx(), b.Dy(), 6*PNGDPI, 4*PNGDPI)
		}
		v, found := greyVariance(img), hasColour(img, method)
		t.Logf("%s: %d×%d, %d bytes, grey variance %.0f", im.Name, b.Dx(), b.Dy(), len(im.Data), v)
		if v < 100 {
			t.Errorf("%s looks blank: grey variance %.1f", im.Name, v)
		}
		if !found {
			t.Errorf("%s has no pixel of the first method's colour %s", im.Name, palette[0])
		}
	}
	if _, err := PlotsPNG(nil); err == nil {
		t.Error("PlotsPNG(nil): want an error")
	}
	// Only no-gap cells: the PGR plots are empty but still render.
	only := []store.Summary{sums[0]}
	only[0].PGRMean, only[0].PGRCILow, only[0].PGRCIHigh = nil, nil, nil
	if _, err := PlotsPNG(only); err != nil {
		t.Errorf("all cells without a gap: %v", err)
	}
}

func greyVariance(img image.Image) float64 {
	var n, sum, sq float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			v := float64(r+g+bl) / 3 / 257
			n++
			sum += v
			sq += v * v
		}
	}
	m := sum / n
	return sq/n - m*m
}

func hasColour(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) bool {
	wr, wg, wb, _ := c.RGBA()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == wr>>8 && g>>8 == wg>>8 && bl>>8 == wb>>8 {
				return true
			}
		}
	}
	return false
}
