package encode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	gr "github.com/gomlx/gomlx/core/graph"

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
	cnnRunner
	prog    *tfjs.GraphProgram
	feature string // node whose output is returned
	pooled  bool   // feature is an intermediate [n, h, w, C] map, averaged over h and w
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
	return newGraphCNN(name, p, "")
}

// newGraphCNN wraps p as an encoder named name. With node "" the features
// are the classifier's input; else they are the global average pool over
// the spatial axes of node's output [n, h, w, C] -> [n, C].
func newGraphCNN(name string, p *tfjs.GraphProgram, node string) (*GraphCNN, error) {
	in := p.InputShape
	if len(in) != 4 || in[1] <= 0 || in[1] != in[2] || in[3] != 3 {
		return nil, fmt.Errorf("encode: %s: model input %q has shape %v, want [-1 S S 3]", name, p.Input, in)
	}
	feature := node
	if node == "" {
		var err error
		if feature, err = classifierInput(name, p); err != nil {
			return nil, err
		}
	}
	if err := p.Check(feature); err != nil {
		return nil, fmt.Errorf("encode: %s: %w", name, err)
	}
	c := &GraphCNN{cnnRunner: cnnRunner{name: name, size: in[1], batch: CNNBatch}, prog: p, feature: feature, pooled: node != ""}
	if c.pooled {
		c.build = func(x *gr.Node) *gr.Node { return globalPool(p.Build(x, feature)) }
	} else {
		c.build = func(x *gr.Node) *gr.Node { return p.Build(x, feature) }
	}
	c.fp = c.fingerprint()
	return c, nil
}

// classifierInput returns the first input of p's only MatMul node.
func classifierInput(name string, p *tfjs.GraphProgram) (string, error) {
	var feature string
	for _, n := range p.Nodes {
		if n.Op != "MatMul" && n.Op != "_FusedMatMul" {
			continue
		}
		if feature != "" {
			return "", fmt.Errorf("encode: %s: model %s has more than one MatMul; cannot tell which is the classifier", name, p.Dir)
		}
		if len(n.Input) == 0 {
			return "", fmt.Errorf("encode: %s: MatMul node %q has no inputs", name, n.Name)
		}
		feature = n.Input[0]
	}
	if feature == "" {
		return "", fmt.Errorf("encode: %s: model %s has no MatMul classifier to take features before", name, p.Dir)
	}
	return feature, nil
}

// fingerprint hashes the feature node (and, for an intermediate one, its
// pooling), input size, preprocessing version and every weight (sorted by
// name).
func (c *GraphCNN) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "graphcnn|%d|%s|%s|", c.size, cnnPreprocVersion, c.feature)
	if c.pooled {
		fmt.Fprint(h, "global-mean|")
	}
	hashWeights(h, c.prog.Weights)
	return hex.EncodeToString(h.Sum(nil))
}

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

// nsfwjsGraphModels maps graph-model encoder names to nsfwjs model
// directories.
var nsfwjsGraphModels = map[string]string{"mobilenet-v2-mid": "mobilenet_v2_mid"}

// newGraphCNNFromAssets returns a constructor for the named nsfwjs graph
// model, fetching the package on first use.
func newGraphCNNFromAssets(name string) func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
	return func(ctx context.Context, log io.Writer) (ImageEncoder, error) {
		if _, ok := nsfwjsGraphModels[name]; !ok {
			return nil, fmt.Errorf("encode: %q is not an nsfwjs graph model", name)
		}
		return openCNN(ctx, cnnName{family: name}, log)
	}
}
