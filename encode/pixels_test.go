package encode

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writePNG(t *testing.T, path string, w, h int, gray uint8) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{gray, uint8(x * 10), uint8(y * 20), 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPixelsEncoder(t *testing.T) {
	ctx := context.Background()
	px := []float32{0, 0.5, 1, 0.25, 0.75, 0.125} // [2, 1, 3, 1]
	m, err := Pixels{}.EncodeImages(ctx, ImageBatch{Pixels: px, Shape: [4]int{2, 1, 3, 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 2 || m.Cols != 3 || m.At(1, 2) != 0.125 {
		t.Errorf("pixels = %+v", m)
	}
	px[0] = 9
	if m.At(0, 0) != 0 {
		t.Error("pixels aliases its input")
	}

	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "c.png")
	writePNG(t, a, 4, 3, 255)
	writePNG(t, b, 4, 3, 51)
	writePNG(t, c, 5, 3, 0)
	m, err = Pixels{}.EncodeImages(ctx, ImageBatch{Paths: []string{a, b}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Pixel (x=2, y=1) of b: RGB (51, 20, 20) / 255.
	const tol = 1e-6
	o := (1*4 + 2) * 3
	for k, want := range []float32{0.2, 20.0 / 255, 20.0 / 255} {
		if d := m.At(1, o+k) - want; d > tol || d < -tol {
			t.Errorf("b pixel channel %d = %g, want %g", k, m.At(1, o+k), want)
		}
	}
	if m.Cols != 36 {
		t.Errorf("cols %d, want 4*3*3", m.Cols)
	}
	if _, err := (Pixels{}).EncodeImages(ctx, ImageBatch{Paths: []string{a, c}}, nil); err == nil || !strings.Contains(err.Error(), "c.png") {
		t.Errorf("mixed sizes: err = %v", err)
	}
	if _, err := (Pixels{}).EncodeImages(ctx, ImageBatch{Pixels: px, Shape: [4]int{2, 1, 4, 1}}, nil); err == nil {
		t.Error("short pixels accepted")
	}
}

func TestImageEncoderRegistry(t *testing.T) {
	ctx := context.Background()
	if !IsImageEncoder("pixels") || IsImageEncoder("bow") {
		t.Fatal("IsImageEncoder")
	}
	if _, err := New(ctx, "pixels", nil); err == nil {
		t.Error("New accepted an image encoder")
	}
}
