package encode

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"

	_ "github.com/gomlx/compute/gobackend" // registers the "go" backend
	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/progress"
	"github.com/superalign/superalign/tfjs"
)

// CNN is a pretrained image CNN from the nsfwjs package (TF.js layers
// models run on GoMLX through package tfjs) used as a frozen feature
// extractor: the output of its "flatten_1" layer, the globally pooled
// last feature map (MobileNetV2 1280-d, InceptionV3 2048-d), before the
// nsfwjs classification head.
//
// Preprocessing, per image: grayscale is replicated to RGB; the image is
// resized to Size×Size with bilinear interpolation using half-pixel
// centres (TensorFlow's resize_bilinear with half_pixel_centers=true, no
// antialiasing); values stay in [0,1], the range nsfwjs feeds its models
// (pixels/255). Images go through the network in batches of Batch().
type CNN struct {
	cnnRunner
	model  *tfjs.LayersModel
	layer  string // intermediate layer whose pooled output is the feature; "" for flatten_1
	family string // the cnnFamilies entry, for the block split of a fine-tune
}

// cnnRunner is what the layers-model (CNN) and graph-model (GraphCNN)
// encoders share: a feature graph over images [n, S, S, 3] -> [n, D],
// compiled once, and the batched, concurrent resize-and-run loop around
// it.
type cnnRunner struct {
	name  string
	size  int
	dim   int
	fp    string
	batch int
	build func(x *gr.Node) *gr.Node // the feature graph

	mu   sync.Mutex
	exec *gr.Exec
}

// CNNBatch is the number of images per forward pass of a CNN without
// depthwise convolutions (InceptionV3).
const CNNBatch = 16

// cnnDepthwiseBatch is the batch of a CNN with depthwise convolutions
// (MobileNetV2): at one image per pass package tfjs can tile every
// depthwise weight to the full feature-map shape (see its
// depthwiseFullConstMax), and same-shape products are ~2.5× cheaper than
// broadcasting ones on the pure-Go backend; measured 6.2 against 4.4
// images/s at batch 16 on one core, while InceptionV3 runs as fast at 1
// as at 16.
const cnnDepthwiseBatch = 1

// cnnPreprocVersion names the preprocessing above; bump it when it changes.
const cnnPreprocVersion = "rgb-bilinear-halfpixel-v1"

// cnnGraphVersion names how package tfjs builds the layers graph; it enters
// CNN fingerprints so a change that moves feature values, even by float
// rounding, never serves features cached by the old graph. v2: BatchNorm
// and ReLU folded into the convolutions, pooling over taps.
const cnnGraphVersion = "tfjs-layers-v2"

// NewCNN loads the layers model in dir and wraps it as an encoder of the
// given input size (0: the model's native size). A size below the native
// one is allowed: the final average pool becomes a global average (see
// tfjs.BuildOptions), identical at the native size.
func NewCNN(name, dir string, size int) (*CNN, error) {
	m, err := tfjs.LoadLayersModel(dir)
	if err != nil {
		return nil, err
	}
	return newCNN(name, m, size, "", "")
}

// newCNN wraps m as an encoder at the given input size (0: native). With
// layer "" its features are flatten_1's; else they are the global average
// pool over the spatial axes of layer's output [n, h, w, C] -> [n, C], and
// alias (the name the user gave, a block alias or layer) ends the
// encoder's name after an "@".
func newCNN(name string, m *tfjs.LayersModel, size int, layer, alias string) (*CNN, error) {
	if len(m.InputShape) != 3 || m.InputShape[2] != 3 {
		return nil, fmt.Errorf("encode: %s: model input %v, want [H W 3]", name, m.InputShape)
	}
	if size == 0 {
		size = m.InputShape[0]
	}
	family := name
	feature := layer
	if feature == "" {
		feature = "flatten_1"
	}
	if _, ok := m.Layer(feature); !ok {
		return nil, fmt.Errorf("encode: %s: model has no %s layer to take features from", name, feature)
	}
	if size != m.InputShape[0] {
		name = fmt.Sprintf("%s-%d", name, size)
	}
	if layer != "" {
		name += cnnLayerSep + alias
	}
	c := &CNN{cnnRunner: cnnRunner{name: name, size: size, batch: CNNBatch}, model: m, layer: layer, family: family}
	for _, l := range m.Layers {
		if l.Class == "DepthwiseConv2D" {
			c.batch = cnnDepthwiseBatch
		}
	}
	if layer == "" {
		c.build = func(x *gr.Node) *gr.Node {
			return m.Build(x, tfjs.BuildOptions{Until: "flatten_1", GlobalPoolBeforeFlatten: true})
		}
	} else {
		c.build = func(x *gr.Node) *gr.Node {
			return globalPool(m.Build(x, tfjs.BuildOptions{Until: layer}))
		}
	}
	c.fp = c.fingerprint()
	return c, nil
}

// fingerprint hashes the weights (sorted by name), input size,
// preprocessing version and the feature layer with its pooling. The
// flatten_1 form hashes what it always has, so features cached before
// intermediate layers existed stay valid.
func (c *CNN) fingerprint() string {
	h := sha256.New()
	if c.layer == "" {
		fmt.Fprintf(h, "cnn|%s|%d|%s|%s|flatten_1|", c.model.Name, c.size, cnnPreprocVersion, cnnGraphVersion)
	} else {
		fmt.Fprintf(h, "cnn|%s|%d|%s|%s|%s|global-mean|", c.model.Name, c.size, cnnPreprocVersion, cnnGraphVersion, c.layer)
	}
	hashWeights(h, c.model.Weights)
	return hex.EncodeToString(h.Sum(nil))
}

// hashWeights writes every weight, sorted by name, with its shape to h.
func hashWeights(h io.Writer, weights map[string]*tfjs.Tensor) {
	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	sort.Strings(names)
	buf := make([]byte, 0, 1<<16)
	for _, n := range names {
		t := weights[n]
		fmt.Fprintf(h, "%s%v", n, t.Shape)
		for _, v := range t.F32 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	h.Write(buf)
}

// Name implements ImageEncoder.
func (c *cnnRunner) Name() string { return c.name }

// Fingerprint implements ImageEncoder.
func (c *cnnRunner) Fingerprint() string { return c.fp }

// Batch is the number of images per forward pass.
func (c *cnnRunner) Batch() int { return c.batch }

// Size is the square input size images are resized to.
func (c *cnnRunner) Size() int { return c.size }

// Dim implements ImageEncoder; known after the first batch is built, so
// it is computed here by building the graph once.
func (c *cnnRunner) Dim() int {
	if c.dim == 0 {
		if _, err := c.execFor(); err != nil {
			return 0
		}
	}
	return c.dim
}

func (c *cnnRunner) execFor() (*gr.Exec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exec != nil {
		return c.exec, nil
	}
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	exec, err := gr.NewExec(be, c.build)
	if err != nil {
		return nil, fmt.Errorf("encode: %s: building graph: %w", c.name, err)
	}
	exec.SetMaxCache(8)
	c.exec = exec
	// Find the width with a one-off shape inference on a tiny batch.
	out, err := c.run(make([]float32, c.size*c.size*3), 1)
	if err != nil {
		c.exec = nil
		return nil, err
	}
	c.dim = len(out)
	return exec, nil
}

// run executes the (already built) graph on n images [n, S, S, 3] -> [n, D].
func (c *cnnRunner) run(x []float32, n int) (out []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encode: %s: %v", c.name, r)
		}
	}()
	res, err := c.exec.Call1(tensors.FromFlatDataAndDimensions(x, n, c.size, c.size, 3))
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", c.name, err)
	}
	defer res.FinalizeAll()
	if d := res.Shape().Dimensions; len(d) != 2 || d[0] != n {
		return nil, fmt.Errorf("encode: %s: the feature graph gives shape %v, want [%d D]", c.name, d, n)
	}
	return tensors.CopyFlatData[float32](res)
}

// Forward runs the network on images already preprocessed to
// [n, Size, Size, 3] and returns features [n, Dim]. Parity tests and
// benchmarks use it to bypass resizing.
func (c *cnnRunner) Forward(x []float32, n int) (data.Matrix, error) {
	if _, err := c.execFor(); err != nil {
		return data.Matrix{}, err
	}
	if len(x) != n*c.size*c.size*3 {
		return data.Matrix{}, fmt.Errorf("encode: %s: %d values for %d images of %dx%dx3", c.name, len(x), n, c.size, c.size)
	}
	out, err := c.run(x, n)
	if err != nil {
		return data.Matrix{}, err
	}
	return data.Matrix{Rows: n, Cols: c.dim, Values: out}, nil
}

// EncodeImages implements ImageEncoder: [imgs.Len(), Dim].
//
// Batches run on cnnWorkers goroutines at once, each calling the same
// compiled graph: the pure-Go backend runs elementwise ops (most of
// MobileNetV2's time) on one core and only matrix products on all, so
// concurrent batches keep every core busy. Each batch's features depend
// only on its own images and padded size, so the result is the same bits
// whatever the number of workers or their timing.
func (c *cnnRunner) EncodeImages(ctx context.Context, imgs ImageBatch, bar *progress.Bar) (data.Matrix, error) {
	if err := imgs.Validate(); err != nil {
		return data.Matrix{}, err
	}
	if _, err := c.execFor(); err != nil {
		return data.Matrix{}, err
	}
	n := imgs.Len()
	out := data.NewMatrix(n, c.dim)
	per := c.size * c.size * 3
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	starts := make(chan int)
	go func() {
		defer close(starts)
		for start := 0; start < n; start += c.batch {
			select {
			case starts <- start:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	workers := min(cnnWorkers(), (n+c.batch-1)/c.batch)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, c.batch*per)
			for start := range starts {
				if ctx.Err() != nil {
					return
				}
				k := min(c.batch, n-start)
				// A short last batch runs at the next power of two, not padded to
				// the full batch: at most log2(batch)+1 graph shapes get compiled.
				b := 1
				for b < k {
					b *= 2
				}
				batch := buf[:b*per]
				clear(batch)
				for j := range k {
					px, shape, err := imgs.Image(start + j)
					if err != nil {
						fail(err)
						return
					}
					ResizeBilinearRGB(px, shape, c.size, batch[j*per:(j+1)*per])
				}
				y, err := c.run(batch, b)
				if err != nil {
					fail(err)
					return
				}
				copy(out.Values[start*c.dim:], y[:k*c.dim])
				if bar != nil {
					bar.Add(k)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return data.Matrix{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return data.Matrix{}, err
	}
	return out, nil
}

// cnnWorkers is the number of batches EncodeImages runs at once:
// $SUPERALIGN_CNN_WORKERS when set to a positive integer, else GOMAXPROCS
// capped at 4 (each in-flight batch holds its own activations).
func cnnWorkers() int {
	if v, err := strconv.Atoi(os.Getenv("SUPERALIGN_CNN_WORKERS")); err == nil && v > 0 {
		return v
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

// ResizeBilinearRGB resizes img [H, W, C] (C 1 or 3; grayscale is
// replicated to RGB) to dst [S, S, 3] by bilinear interpolation with
// half-pixel centres: output pixel i samples source coordinate
// (i+0.5)·H/S − 0.5, clamped to the image.
func ResizeBilinearRGB(img []float32, shape [3]int, s int, dst []float32) {
	h, w, ch := shape[0], shape[1], shape[2]
	coord := func(i, in int) (int, int, float32) {
		f := (float64(i)+0.5)*float64(in)/float64(s) - 0.5
		f = max(f, 0)
		lo := min(int(f), in-1)
		hi := min(lo+1, in-1)
		return lo, hi, float32(f - float64(lo))
	}
	for y := range s {
		y0, y1, fy := coord(y, h)
		for x := range s {
			x0, x1, fx := coord(x, w)
			for k := range 3 {
				kc := min(k, ch-1)
				at := func(yy, xx int) float32 { return img[(yy*w+xx)*ch+kc] }
				top := at(y0, x0) + (at(y0, x1)-at(y0, x0))*fx
				bot := at(y1, x0) + (at(y1, x1)-at(y1, x0))*fx
				dst[(y*s+x)*3+k] = top + (bot-top)*fy
			}
		}
	}
}

// nsfwjsModels maps encoder names to nsfwjs model directories.
var nsfwjsModels = map[string]string{"mobilenet-v2": "mobilenet_v2", "inception-v3": "inception_v3"}

// newCNNFromAssets returns a constructor for the named nsfwjs model.
func newCNNFromAssets(name string, size int) func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
	return func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
		return openCNN(ctx, cnnName{family: name, size: size}, log)
	}
}
