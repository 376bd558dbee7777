package encode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/progress"
)

// Pixels is the weakest image rung: the raw pixels themselves, flattened
// H×W×C, each in [0,1] (8-bit values divided by 255). Heads standardise
// features per column, so no further normalisation is done here; the
// output width is the input's H×W×C (784 for MNIST-family images), and
// every image of a batch must have the same shape.
type Pixels struct{}

// Name implements ImageEncoder.
func (Pixels) Name() string { return "pixels" }

// Fingerprint implements ImageEncoder; bump the tag if the output changes.
func (Pixels) Fingerprint() string {
	h := sha256.Sum256([]byte("superalign-pixels-v1: flattened HxWxC in [0,1]"))
	return hex.EncodeToString(h[:])
}

// Dim implements ImageEncoder: 0, the width is the input's H×W×C.
func (Pixels) Dim() int { return 0 }

// EncodeImages implements ImageEncoder: [N, H·W·C].
func (Pixels) EncodeImages(ctx context.Context, imgs ImageBatch, bar *progress.Bar) (data.Matrix, error) {
	if err := imgs.Validate(); err != nil {
		return data.Matrix{}, err
	}
	if imgs.Paths == nil {
		per := imgs.Shape[1] * imgs.Shape[2] * imgs.Shape[3]
		m := data.Matrix{Rows: imgs.Shape[0], Cols: per, Values: append([]float32(nil), imgs.Pixels...)}
		if bar != nil {
			bar.Add(m.Rows)
		}
		return m, nil
	}
	var m data.Matrix
	var shape0 [3]int
	for i, p := range imgs.Paths {
		if i%64 == 0 && ctx.Err() != nil {
			return data.Matrix{}, ctx.Err()
		}
		px, shape, err := DecodeImageFile(p)
		if err != nil {
			return data.Matrix{}, err
		}
		if i == 0 {
			shape0 = shape
			m = data.NewMatrix(len(imgs.Paths), len(px))
		} else if shape != shape0 {
			return data.Matrix{}, fmt.Errorf("%s: image is %dx%d, the first image (%s) is %dx%d; pixels needs equal sizes",
				p, shape[1], shape[0], imgs.Paths[0], shape0[1], shape0[0])
		}
		copy(m.Row(i), px)
		if bar != nil {
			bar.Add(1)
		}
	}
	return m, nil
}
