package student

import (
	"context"
	"fmt"
	"io"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/train"
)

// Inputs are the examples a student reads, rows aligned: frozen features
// [N, D] for a probe, raw texts [N] for a fine-tuned text encoder. A
// runner fills what the student's Reads asks for.
//
// For preference pairs (data.Pair) a probe's Features are the differences
// φ(A) − φ(B) of the two sides' features, and a fine-tuned student reads
// side A in Texts and side B in TextsB; the student's class-1 probability
// is P(A ≻ B).
type Inputs struct {
	Features data.Matrix
	Texts    []string
	TextsB   []string // side B of preference pairs; nil otherwise
	// Images are the raw images a fine-tuned image encoder reads (pixels
	// [N, H, W, C] or paths); zero otherwise.
	Images encode.ImageBatch
}

// Len is the number of examples.
func (in Inputs) Len() int {
	switch {
	case in.Texts != nil:
		return len(in.Texts)
	case in.Images.Pixels != nil || in.Images.Paths != nil:
		return in.Images.Len()
	}
	return in.Features.Rows
}

// Select returns the examples idx, in that order.
func (in Inputs) Select(idx []int) Inputs {
	var out Inputs
	if in.Texts != nil {
		out.Texts = make([]string, len(idx))
		for k, i := range idx {
			out.Texts[k] = in.Texts[i]
		}
	}
	if in.TextsB != nil {
		out.TextsB = make([]string, len(idx))
		for k, i := range idx {
			out.TextsB[k] = in.TextsB[i]
		}
	}
	if in.Features.Values != nil {
		out.Features = in.Features.SelectRows(idx)
	}
	out.Images = selectImages(in.Images, idx)
	return out
}

// selectImages returns the images idx of b, in that order.
func selectImages(b encode.ImageBatch, idx []int) encode.ImageBatch {
	switch {
	case b.Paths != nil:
		out := encode.ImageBatch{Paths: make([]string, len(idx))}
		for k, i := range idx {
			out.Paths[k] = b.Paths[i]
		}
		return out
	case b.Pixels != nil:
		per := b.Shape[1] * b.Shape[2] * b.Shape[3]
		out := encode.ImageBatch{Pixels: make([]float32, len(idx)*per), Shape: b.Shape}
		out.Shape[0] = len(idx)
		for k, i := range idx {
			copy(out.Pixels[k*per:], b.Pixels[i*per:(i+1)*per])
		}
		return out
	}
	return b
}

// Reads names the input a student trains and predicts on.
type Reads int

const (
	ReadsFeatures Reads = iota // the frozen encoder's cached features
	ReadsTexts                 // the raw texts, tokenised by the encoder
	ReadsImages                // the raw images, resized by the encoder
)

// Student is what is trained: a probe (a head on frozen features) or a
// pretrained encoder fine-tuned with a head. The trainer (package train)
// trains either through the train.Net a student binds to its inputs.
type Student interface {
	// Spec is the student's name.
	Spec() Spec
	// Reads says which Inputs field the student needs.
	Reads() Reads
	// Fingerprint identifies the student's architecture and pretrained
	// weights (not its training settings): results and checkpoints are
	// keyed by it.
	Fingerprint() string
	// Config is the student's default training configuration (Seed 0).
	Config() train.Config
	// Fit trains a fresh student on in for objective o with cfg (from
	// Config, with the caller's seed, epochs and checkpoint) and returns
	// the trained model and the trainer's report.
	Fit(ctx context.Context, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error)
}

// Model is a trained student.
type Model interface {
	// Predict returns class probabilities [N, K] for in (the field Reads
	// names).
	Predict(ctx context.Context, in Inputs) (data.Matrix, error)
}

// Options override a student's training defaults where non-zero; each
// applies to the kind of student it names.
type Options struct {
	HeadEpochs     int     // a probe's epochs (--epochs)
	FineTuneEpochs int     // a fine-tune's epochs (--ft-epochs)
	FineTuneLR     float64 // a fine-tune's encoder learning rate (--ft-lr)
	// Pairwise makes a probe a pairwise reward head (ProbeConfig.Pairwise);
	// a fine-tuned student is pairwise whenever its Inputs carry TextsB.
	Pairwise bool
}

// ProbeFor is the configuration of a probe with spec's head on spec's
// encoder features: the head's defaults, no z-scoring for sparse
// pre-scaled features (hashed TF-IDF), the options' epochs. Auxiliary
// probes on a fine-tuned student's frozen encoder use it too.
func ProbeFor(spec Spec, opt Options) ProbeConfig {
	cfg := DefaultProbeConfig(spec.Head)
	if info, ok := encode.Lookup(spec.Encoder); ok && info.Sparse {
		cfg.Standardize = false
	}
	if opt.HeadEpochs > 0 {
		cfg.Epochs = opt.HeadEpochs
	}
	cfg.Pairwise = opt.Pairwise
	return cfg
}

// Open resolves spec into a student. A probe needs nothing loaded (its
// features come from the caller's cache); a fine-tuned student loads its
// encoder's weights (log receives fetch progress) and must name a Tunable
// encoder.
func Open(ctx context.Context, spec Spec, opt Options, log io.Writer) (Student, error) {
	if !spec.FineTune {
		if opt.FineTuneEpochs != 0 || opt.FineTuneLR != 0 {
			return nil, fmt.Errorf("student %s: fine-tuning settings (--ft-epochs, --ft-lr) apply to fine-tuned students only (ENC-ft, e.g. use-lite-ft)", spec)
		}
		cfg := ProbeFor(spec, opt)
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("student %s: %w", spec, err)
		}
		return &Probe{spec: spec, cfg: cfg}, nil
	}
	enc, err := encode.Open(ctx, spec.Encoder, log)
	if err != nil {
		return nil, err
	}
	if ti, ok := enc.TunableImage(); ok {
		if err := checkTopBlocks(spec, ti); err != nil {
			return nil, err
		}
		return newTunedImage(spec, ti, opt), nil
	}
	t, ok := enc.Tunable()
	if !ok {
		return nil, fmt.Errorf("student %s: encoder %s cannot be fine-tuned (fine-tunable: use-lite, onnx:DIR, onnx-cls:DIR, mobilenet-v2[-SIZE], inception-v3[-SIZE])", spec, spec.Encoder)
	}
	if err := checkTopLayers(spec, t); err != nil {
		return nil, err
	}
	return newTuned(spec, t, opt), nil
}

// Probe is a head trained on frozen features.
type Probe struct {
	spec Spec
	cfg  ProbeConfig
}

// NewProbe is the probe student spec with configuration cfg.
func NewProbe(spec Spec, cfg ProbeConfig) *Probe { return &Probe{spec: spec, cfg: cfg} }

// Spec implements Student.
func (p *Probe) Spec() Spec { return p.spec }

// Reads implements Student.
func (p *Probe) Reads() Reads { return ReadsFeatures }

// Fingerprint implements Student: the head's architecture (the encoder's
// weights are in the features' own key).
func (p *Probe) Fingerprint() string {
	c := p.cfg.withDefaults()
	fp := fmt.Sprintf("probe:%s:hidden=%d:std=%t", c.Head, c.Hidden, c.Standardize)
	if c.Pairwise {
		fp += ":pairwise"
	}
	return fp
}

// Probe returns the probe's configuration.
func (p *Probe) Probe() ProbeConfig { return p.cfg }

// Config implements Student.
func (p *Probe) Config() train.Config { return p.cfg.Train() }

// Fit implements Student.
func (p *Probe) Fit(ctx context.Context, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error) {
	m, res, err := fitProbe(ctx, in.Features, o, p.cfg, cfg)
	if err != nil {
		return nil, nil, err
	}
	return probeModel{m}, res, nil
}

// probeModel is a ProbeModel as a student Model.
type probeModel struct{ m *ProbeModel }

func (p probeModel) Predict(_ context.Context, in Inputs) (data.Matrix, error) {
	return p.m.Predict(in.Features)
}
