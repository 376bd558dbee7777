package encode

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for user image datasets
	_ "image/png"  // register PNG for user image datasets
	"io"
	"os"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/progress"
)

// ImageBatch is the input of an ImageEncoder: either in-memory pixels or
// image file paths, never both.
//
// Pixels is [N, H, W, C] row-major float32 in [0,1] with Shape = {N, H, W, C}
// (C is 1 for grayscale, 3 for RGB): built-in datasets such as
// fashion-mnist hold their images this way (see data/images.go).
// Paths lists PNG or JPEG files (user image datasets); encoders decode
// them with DecodeImageFile, which yields RGB.
type ImageBatch struct {
	Pixels []float32
	Shape  [4]int
	Paths  []string
}

// Len returns the number of images in the batch.
func (b ImageBatch) Len() int {
	if b.Paths != nil {
		return len(b.Paths)
	}
	return b.Shape[0]
}

// Validate checks that exactly one input form is set and that Pixels
// matches Shape.
func (b ImageBatch) Validate() error {
	switch {
	case b.Paths != nil && b.Pixels != nil:
		return errors.New("image batch has both pixels and paths")
	case b.Paths != nil:
		return nil
	}
	n := b.Shape[0] * b.Shape[1] * b.Shape[2] * b.Shape[3]
	if b.Shape[1] <= 0 || b.Shape[2] <= 0 || (b.Shape[3] != 1 && b.Shape[3] != 3) {
		return fmt.Errorf("image batch shape %v: want [N H W C] with H, W > 0 and C 1 or 3", b.Shape)
	}
	if len(b.Pixels) != n {
		return fmt.Errorf("image batch has %d pixel values, shape %v needs %d", len(b.Pixels), b.Shape, n)
	}
	return nil
}

// Image returns image i as [H, W, C] plus its shape {H, W, C}, decoding the
// file when the batch holds paths.
func (b ImageBatch) Image(i int) ([]float32, [3]int, error) {
	if b.Paths != nil {
		return DecodeImageFile(b.Paths[i])
	}
	per := b.Shape[1] * b.Shape[2] * b.Shape[3]
	return b.Pixels[i*per : (i+1)*per], [3]int{b.Shape[1], b.Shape[2], b.Shape[3]}, nil
}

// DecodeImageFile reads a PNG or JPEG file as RGB [H, W, 3] float32 in [0,1].
func DecodeImageFile(path string) ([]float32, [3]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, [3]int{}, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, [3]int{}, fmt.Errorf("%s: decoding image: %w", path, err)
	}
	r := img.Bounds()
	h, w := r.Dy(), r.Dx()
	out := make([]float32, h*w*3)
	for y := range h {
		for x := range w {
			cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA() // 16-bit, alpha-premultiplied
			o := (y*w + x) * 3
			out[o], out[o+1], out[o+2] = float32(cr)/65535, float32(cg)/65535, float32(cb)/65535
		}
	}
	return out, [3]int{h, w, 3}, nil
}

// ImageEncoder turns images into fixed-width feature rows. The determinism
// contract of Encoder applies: same images and Fingerprint, same bits.
type ImageEncoder interface {
	Name() string
	Fingerprint() string
	// Dim is the width of one feature row, or 0 when it depends on the
	// input shape (pixels: H×W×C).
	Dim() int
	// EncodeImages returns features [imgs.Len(), D]. bar may be nil.
	EncodeImages(ctx context.Context, imgs ImageBatch, bar *progress.Bar) (data.Matrix, error)
}

// IsImageEncoder reports whether name is a registered image encoder or a
// CNN form (CNN-SIZE, CNN@BLOCK, see cnn_layer.go).
func IsImageEncoder(name string) bool {
	if e, ok := registry[name]; ok {
		return e.image != nil
	}
	_, ok, err := parseCNNName(name)
	return ok && err == nil
}

// NewImage builds the registered image encoder or CNN form called name.
func NewImage(ctx context.Context, name string, log io.Writer) (ImageEncoder, error) {
	build := func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
		return nil, fmt.Errorf("encode: %q is not an image encoder", name)
	}
	if e, ok := registry[name]; ok {
		if e.image != nil {
			build = e.image
		}
	} else if c, ok, err := parseCNNName(name); ok {
		if err != nil {
			return nil, err
		}
		build = func(ctx context.Context, log io.Writer) (ImageEncoder, error) { return openCNN(ctx, c, log) }
	}
	enc, err := build(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("encode: building %q: %w", name, err)
	}
	return enc, nil
}
