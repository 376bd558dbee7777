package encode

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"sync"

	gr "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/progress"
	"github.com/superalign/superalign/tfjs"
)

// GraphCNN is a pretrained image CNN shipped as a TF.js graph model (a
// frozen GraphDef, interpreted on GoMLX by tfjs.GraphProgram) used as a
// frozen feature extractor: the output of the node that feeds the
// model's only classifier MatMul, i.e. the pooled penultimate features.
//
// For nsfwjs's mobilenet_v2_mid (MobileNetV2 with width multiplier 1.4,
// fine-tuned to 5 classes) that node is
// ".../feature_vector/SpatialSqueeze", the 7×7 average pool of the last
// 1×1 convolution squeezed to [N, 1792].
//
// Preprocessing is the CNN type's (gray replicated to RGB, bilinear
// resize with half-pixel centres to the model's input size, values in
// [0,1], batches of CNNBatch): nsfwjs feeds graph and layers models the
// same pixels/255, and this graph itself begins with x·2 − 1 (its
// TF-Hub "hub_input" block), so no further scaling happens here.
type GraphCNN struct {
	name    string
	prog    *tfjs.GraphProgram
	feature string // node whose output is returned
	size    int
	dim     int
	fp      string

	mu   sync.Mutex
	exec *gr.Exec
}

// NewGraphCNN loads the graph model in dir (model.json or the nsfwjs
// model.min.js layout) as an encoder named name. The model must take one
// [-1, S, S, 3] image input and end in exactly one MatMul/_FusedMatMul
// classifier, whose first input is taken as the features.
func NewGraphCNN(name, dir string) (*GraphCNN, error) {
	p, err := tfjs.LoadGraphProgram(dir)
	if err != nil {
		return nil, err
	}
	in := p.InputShape
	if len(in) != 4 || in[1] <= 0 || in[1] != in[2] || in[3] != 3 {
		return nil, fmt.Errorf("encode: %s: model input %q has shape %v, want [-1 S S 3]", name, p.Input, in)
	}
	var feature string
	for _, n := range p.Nodes {
		if n.Op != "MatMul" && n.Op != "_FusedMatMul" {
			continue
		}
		if feature != "" {
			return nil, fmt.Errorf("encode: %s: model %s has more than one MatMul; cannot tell which is the classifier", name, dir)
		}
		if len(n.Input) == 0 {
			return nil, fmt.Errorf("encode: %s: MatMul node %q has no inputs", name, n.Name)
		}
		feature = n.Input[0]
	}
	if feature == "" {
		return nil, fmt.Errorf("encode: %s: model %s has no MatMul classifier to take features before", name, dir)
	}
	if err := p.Check(feature); err != nil {
		return nil, fmt.Errorf("encode: %s: %w", name, err)
	}
	c := &GraphCNN{name: name, prog: p, feature: feature, size: in[1]}
	c.fp = c.fingerprint()
	return c, nil
}

// fingerprint hashes the feature node, input size, preprocessing version
// and every weight (sorted by name).
func (c *GraphCNN) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "graphcnn|%d|%s|%s|", c.size, cnnPreprocVersion, c.feature)
	names := make([]string, 0, len(c.prog.Weights))
	for n := range c.prog.Weights {
		names = append(names, n)
	}
	sort.Strings(names)
	buf := make([]byte, 0, 1<<16)
	for _, n := range names {
		t := c.prog.Weights[n]
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
	return hex.EncodeToString(h.Sum(nil))
}

// Name implements ImageEncoder.
func (c *GraphCNN) Name() string { return c.name }

// Fingerprint implements ImageEncoder.
func (c *GraphCNN) Fingerprint() string { return c.fp }

// Size is the square input size images are resized to.
func (c *GraphCNN) Size() int { return c.size }

// FeatureNode is the name of the graph node the features are read from.
func (c *GraphCNN) FeatureNode() string { return c.feature }

// Dim implements ImageEncoder (building the graph once to learn it).
func (c *GraphCNN) Dim() int {
	if c.dim == 0 {
		if _, err := c.execFor(); err != nil {
			return 0
		}
	}
	return c.dim
}

func (c *GraphCNN) execFor() (*gr.Exec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exec != nil {
		return c.exec, nil
	}
	backend, err := cnnBackend()
	if err != nil {
		return nil, err
	}
	exec, err := gr.NewExec(backend, func(x *gr.Node) *gr.Node { return c.prog.Build(x, c.feature) })
	if err != nil {
		return nil, fmt.Errorf("encode: %s: building graph: %w", c.name, err)
	}
	exec.SetMaxCache(8)
	c.exec = exec
	out, err := c.run(make([]float32, c.size*c.size*3), 1)
	if err != nil {
		c.exec = nil
		return nil, err
	}
	c.dim = len(out)
	return exec, nil
}

// run executes the built graph on n images [n, S, S, 3] -> [n, Dim].
func (c *GraphCNN) run(x []float32, n int) (out []float32, err error) {
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
		return nil, fmt.Errorf("encode: %s: node %q gives shape %v, want [%d D]", c.name, c.feature, d, n)
	}
	return tensors.CopyFlatData[float32](res)
}

// Forward runs the network on images already preprocessed to
// [n, Size, Size, 3] and returns features [n, Dim].
func (c *GraphCNN) Forward(x []float32, n int) (data.Matrix, error) {
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
func (c *GraphCNN) EncodeImages(ctx context.Context, imgs ImageBatch, bar *progress.Bar) (data.Matrix, error) {
	if err := imgs.Validate(); err != nil {
		return data.Matrix{}, err
	}
	if _, err := c.execFor(); err != nil {
		return data.Matrix{}, err
	}
	return encodeResizedBatches(ctx, imgs, c.size, c.dim, c.run, bar)
}

// encodeResizedBatches resizes imgs to [S, S, 3] and runs them through
// run in batches of CNNBatch; a short last batch runs at the next power
// of two (zero images appended and dropped), so at most
// log2(CNNBatch)+1 graph shapes are compiled.
func encodeResizedBatches(ctx context.Context, imgs ImageBatch, size, dim int, run func([]float32, int) ([]float32, error), bar *progress.Bar) (data.Matrix, error) {
	n := imgs.Len()
	out := data.NewMatrix(n, dim)
	per := size * size * 3
	buf := make([]float32, CNNBatch*per)
	for start := 0; start < n; start += CNNBatch {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		k := min(CNNBatch, n-start)
		b := 1
		for b < k {
			b *= 2
		}
		batch := buf[:b*per]
		clear(batch)
		for j := range k {
			px, shape, err := imgs.Image(start + j)
			if err != nil {
				return data.Matrix{}, err
			}
			ResizeBilinearRGB(px, shape, size, batch[j*per:(j+1)*per])
		}
		y, err := run(batch, b)
		if err != nil {
			return data.Matrix{}, err
		}
		copy(out.Values[start*dim:], y[:k*dim])
		if bar != nil {
			bar.Add(k)
		}
	}
	return out, nil
}

// nsfwjsGraphModels maps graph-model encoder names to nsfwjs model
// directories.
var nsfwjsGraphModels = map[string]string{"mobilenet-v2-mid": "mobilenet_v2_mid"}

// graphCNNMemo keeps one loaded model per name per process.
var graphCNNMemo struct {
	sync.Mutex
	m map[string]*GraphCNN
}

// newGraphCNNFromAssets returns a constructor for the named nsfwjs graph
// model, fetching the package on first use.
func newGraphCNNFromAssets(name string) func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
	return func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
		graphCNNMemo.Lock()
		defer graphCNNMemo.Unlock()
		if c, ok := graphCNNMemo.m[name]; ok {
			return c, nil
		}
		sub, ok := nsfwjsGraphModels[name]
		if !ok {
			return nil, fmt.Errorf("encode: %q is not an nsfwjs graph model", name)
		}
		dir, err := assets.Ensure(ctx, "nsfwjs", log)
		if err != nil {
			return nil, err
		}
		c, err := NewGraphCNN(name, filepath.Join(dir, "dist", "models", sub))
		if err != nil {
			return nil, err
		}
		if graphCNNMemo.m == nil {
			graphCNNMemo.m = map[string]*GraphCNN{}
		}
		graphCNNMemo.m[name] = c
		return c, nil
	}
}
