package data

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
)

// In-memory image representation.
//
// A built-in image dataset keeps its pixels in memory: Example.Features
// holds one image flattened row-major as H×W×C (height, then width, then
// channel) float32 values in [0,1] (the IDX byte divided by 255), and
// Dataset.ImageShape is [H, W, C] ([28, 28, 1] for the MNIST family). So
// ContentHash, which hashes Features bit for bit, covers the pixels, and
// the pseudo-encoder "features" sees raw pixels. User image datasets
// instead carry a file path in Example.Image and a zero ImageShape; image
// encoders decode those files themselves.
//
// MNIST-family built-ins pool the official train (60,000) and test (10,000)
// files into one dataset of 70,000 images, train first, in file order: the
// W2S protocol re-splits every seed into train_weak / train_strong / test,
// so the official split carries no meaning here. Example.Line is the
// 1-based record within its source file (1..60000 or 1..10000).

// IsImage reports whether the dataset holds in-memory pixels (ImageShape set).
func (d *Dataset) IsImage() bool { return d.ImageShape[0] > 0 }

// Pixels returns the in-memory images of the given examples, in order,
// as one flat [len(idx), H, W, C] slice aliasing nothing.
func (d *Dataset) Pixels(idx []int) ([]float32, error) {
	if !d.IsImage() {
		return nil, fmt.Errorf("data: %s holds no in-memory images", d.Name)
	}
	per := d.ImageShape[0] * d.ImageShape[1] * d.ImageShape[2]
	out := make([]float32, 0, len(idx)*per)
	for _, i := range idx {
		f := d.Examples[i].Features
		if len(f) != per {
			return nil, fmt.Errorf("data: %s: example %d has %d pixels, want %d for shape %v", d.Name, i, len(f), per, d.ImageShape)
		}
		out = append(out, f...)
	}
	return out, nil
}

// fashionClasses are the Fashion-MNIST label names, in label order
// (from the dataset's README).
var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

var digitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// idxMemo keeps each decoded MNIST-family dataset for the life of the
// process: decoding 70k gzipped images takes about a second and a run may
// load the same dataset more than once. Callers must not mutate the result
// (a shallow copy of the Dataset is returned, the Examples are shared).
var idxMemo struct {
	sync.Mutex
	m map[string]*Dataset
}

// loadIDXPair returns a loader for an MNIST-family dataset whose four IDX gz
// files live in sub (relative to the package dir).
func loadIDXPair(sub string, classes []string) func(context.Context, string, io.Writer) (*Dataset, error) {
	return func(ctx context.Context, dir string, log io.Writer) (*Dataset, error) {
		root := filepath.Join(dir, filepath.FromSlash(sub))
		idxMemo.Lock()
		defer idxMemo.Unlock()
		if d, ok := idxMemo.m[root]; ok {
			c := *d
			return &c, nil
		}
		d, err := readIDXPool(ctx, root, classes)
		if err != nil {
			return nil, err
		}
		if log != nil {
			fmt.Fprintf(log, "data: %s: %d images %dx%dx%d (official train+test pooled), %d classes\n",
				filepath.Base(root), len(d.Examples), d.ImageShape[0], d.ImageShape[1], d.ImageShape[2], len(classes))
		}
		if idxMemo.m == nil {
			idxMemo.m = map[string]*Dataset{}
		}
		idxMemo.m[root] = d
		c := *d
		return &c, nil
	}
}

// readIDXPool reads train-* then t10k-* images and labels from root.
func readIDXPool(ctx context.Context, root string, classes []string) (*Dataset, error) {
	d := &Dataset{Classes: classes}
	for _, part := range []string{"train", "t10k"} {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		imgPath := filepath.Join(root, part+"-images-idx3-ubyte.gz")
		lblPath := filepath.Join(root, part+"-labels-idx1-ubyte.gz")
		imgs, err := ReadIDXFile(imgPath)
		if err != nil {
			return nil, err
		}
		lbls, err := ReadIDXFile(lblPath)
		if err != nil {
			return nil, err
		}
		if len(imgs.Dims) != 3 {
			return nil, fmt.Errorf("%s: dimensions %v, want [N H W]", imgPath, imgs.Dims)
		}
		if len(lbls.Dims) != 1 || lbls.Dims[0] != imgs.Dims[0] {
			return nil, fmt.Errorf("%s: dimensions %v, want [%d] to match %s", lblPath, lbls.Dims, imgs.Dims[0], imgPath)
		}
		shape := [3]int{imgs.Dims[1], imgs.Dims[2], 1}
		if d.ImageShape[0] == 0 {
			d.ImageShape = shape
		} else if d.ImageShape != shape {
			return nil, fmt.Errorf("%s: image shape %v differs from the train files' %v", imgPath, shape, d.ImageShape)
		}
		n, per := imgs.Dims[0], shape[0]*shape[1]
		// One backing array for the whole file: 70k small slices would
		// otherwise cost 70k allocations and scatter the pixels.
		pix := make([]float32, n*per)
		for i, b := range imgs.Data {
			pix[i] = float32(b) / 255
		}
		for i := range n {
			y := int(lbls.Data[i])
			if y >= len(classes) {
				return nil, fmt.Errorf("%s: record %d: label %d, want 0..%d", lblPath, i+1, y, len(classes)-1)
			}
			d.Examples = append(d.Examples, Example{Features: pix[i*per : (i+1)*per : (i+1)*per], Label: y, Line: i + 1})
		}
	}
	return d, nil
}
