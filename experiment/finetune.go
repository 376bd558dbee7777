package experiment

// Fine-tuned strong students: --strong use-lite-ft, onnx-ft:DIR or
// onnx-cls-ft:DIR. The ceiling and the student are the pretrained encoder
// fine-tuned end to end with a linear head (encode.USELite.FineTune,
// encode.ONNXEncoder.FineTune) on the train_strong TEXTS, instead of heads
// on frozen strong features. Texts are
// inputs, not labels: gold still flows only from here (the ceiling's one-hot
// train_strong targets, as the probe ceiling's) and into eval.Hidden.

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/train"
)

// FineTunedStrong is the strong model name of a USE-lite student fine-tuned
// end to end (the frozen probe is "use-lite[:HEAD]").
const FineTunedStrong = "use-lite-ft"

// ONNXFineTunedPrefix and ONNXCLSFineTunedPrefix name a user's ONNX encoder
// fine-tuned end to end, mean- or [CLS]-pooled: onnx-ft:DIR is to onnx:DIR
// what use-lite-ft is to use-lite.
const (
	ONNXFineTunedPrefix    = "onnx-ft:"
	ONNXCLSFineTunedPrefix = "onnx-cls-ft:"
)

// fineTuner is a pretrained text encoder that fine-tunes end to end with a
// linear head on texts with target distributions [N, K].
type fineTuner interface {
	Fingerprint() string
	fineTune(ctx context.Context, texts []string, targets data.Matrix, cfg encode.FineTuneConfig, log io.Writer) (classifier, error)
}

// classifier is a fine-tuned model: class probabilities [len(texts), K].
type classifier interface {
	Predict(ctx context.Context, texts []string) (data.Matrix, error)
}

type useLiteTuner struct{ *encode.USELite }

func (u useLiteTuner) fineTune(ctx context.Context, texts []string, targets data.Matrix, cfg encode.FineTuneConfig, log io.Writer) (classifier, error) {
	return u.FineTune(ctx, texts, targets, cfg, log)
}

type onnxTuner struct{ *encode.ONNXEncoder }

func (o onnxTuner) fineTune(ctx context.Context, texts []string, targets data.Matrix, cfg encode.FineTuneConfig, log io.Writer) (classifier, error) {
	return o.FineTune(ctx, texts, targets, cfg, log)
}

// onnxFineTuned returns the frozen encoder name (onnx:DIR, onnx-cls:DIR)
// of a fine-tuned ONNX strong model name.
func onnxFineTuned(enc string) (frozen string, ok bool) {
	if dir, ok := strings.CutPrefix(enc, ONNXFineTunedPrefix); ok {
		return encode.ONNXPrefix + dir, true
	}
	if dir, ok := strings.CutPrefix(enc, ONNXCLSFineTunedPrefix); ok {
		return encode.ONNXCLSPrefix + dir, true
	}
	return "", false
}

// DefaultFineTuneEpochs are the fine-tuning epochs of the ceiling and the
// student when the spec sets none (--ft-epochs 0). Spec.Epochs, the heads'
// epochs, sets only the weak head's here.
const DefaultFineTuneEpochs = 2

// ftVersion names the fine-tuning protocol in config hashes; bump it when
// this file changes what a fine-tuned cell computes.
const ftVersion = "use-lite-ft/2"

func isFineTuned(strong EncHead) bool {
	_, onnx := onnxFineTuned(strong.Encoder)
	return strong.Encoder == FineTunedStrong || onnx
}

// checkFineTune refuses what a fine-tuned student cannot do: it trains its
// own linear head, and only the naive methods (soft or hard weak labels)
// have a fine-tuned form.
func checkFineTune(strong EncHead, methods []method.Method) error {
	if strong.Head != DefaultHead {
		return fmt.Errorf("--strong %s: %s is fine-tuned with its own linear head; drop :%s", strong, strong.Encoder, strong.Head)
	}
	for _, m := range methods {
		if !ftMethod(m.Name()) {
			return fmt.Errorf("method %s does not support fine-tuned students; use the frozen encoder with a probe head", m.Name())
		}
	}
	return nil
}

func ftMethod(name string) bool { return name == "naive" || name == "naive-hard" }

// ftConfig is the fine-tuning configuration of a cell: the ceiling and the
// student share it (and so their shuffling seed), differing only in labels.
func (p *prepared) ftConfig(seed int64) encode.FineTuneConfig {
	return encode.FineTuneConfig{Epochs: p.ftEpochs, LR: p.ftLR, Seed: uint64(subSeed(seed, "strong-ft"))}.WithDefaults()
}

// checkpointDir holds the fine-tuning checkpoints of a run with an output
// directory; Run removes it once every row is saved.
func (r *Runner) checkpointDir() string { return filepath.Join(r.Out.Dir, "checkpoints") }

// withCheckpoint returns cfg checkpointing to a file named after the
// dataset, seed and role ("ceiling" or a method), when the run has an
// output directory. The file records what it belongs to, so a name reused
// by another configuration only costs a fresh start.
func (r *Runner) withCheckpoint(cfg encode.FineTuneConfig, p *prepared, seed int64, role string) encode.FineTuneConfig {
	if r.Out.Dir != "" {
		name := strings.Map(func(c rune) rune {
			if c == '-' || c == '.' || c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) {
				return c
			}
			return '_'
		}, fmt.Sprintf("%s-seed%d-%s.ckpt", p.ds.Name, seed, role))
		cfg.Checkpoint = filepath.Join(r.checkpointDir(), name)
	}
	return cfg
}

// ftHashKey is what a config hash records of the fine-tuning settings (the
// seed is in the strong head config's hash already).
func (p *prepared) ftHashKey() string {
	c := p.ftConfig(0)
	return fmt.Sprintf("%s|epochs=%d|batch=%d|lr=%g|head_lr=%g", ftVersion, c.Epochs, c.Batch, c.LR, c.HeadLR)
}

// prepareFineTune loads the pretrained encoder of a fine-tuned strong
// student. The student needs no strong features: strongX is left
// zero-width.
func (r *Runner) prepareFineTune(ctx context.Context, p *prepared, spec *Spec) error {
	name := p.strong.Encoder
	if spec == nil {
		return fmt.Errorf("%s students are supported by w2s run only; use the frozen encoder with a probe head", name)
	}
	frozen, isONNX := onnxFineTuned(name)
	if !isONNX {
		frozen = "use-lite"
	}
	enc, err := encode.New(ctx, frozen, r.Log)
	if err != nil {
		return err
	}
	switch e := enc.(type) {
	case *encode.USELite:
		p.ft = useLiteTuner{e}
	case *encode.ONNXEncoder:
		p.ft = onnxTuner{e}
	default:
		return fmt.Errorf("%s: encoder %s (%T) cannot be fine-tuned", name, frozen, enc)
	}
	p.strFP = name + "/" + p.ft.Fingerprint()
	p.ftEpochs, p.ftLR = DefaultFineTuneEpochs, spec.FTLR
	if spec.FTEpochs > 0 {
		p.ftEpochs = spec.FTEpochs
	}
	p.strongX = data.NewMatrix(len(p.ds.Examples), 0)
	return nil
}

// ftCell is what the fine-tuned student of a cell trains and predicts on.
type ftCell struct {
	trainStrong, test []string // texts
	cfg               encode.FineTuneConfig
}

// texts returns the texts of the rows idx, refusing examples without text.
func ftTexts(p *prepared, idx []int) ([]string, error) {
	out := p.ds.Texts(idx)
	for k, t := range out {
		if t == "" {
			return nil, fmt.Errorf("%s: fine-tuned strong model %s needs a text column (example %d has no text)", p.ds.Source, p.strong.Encoder, idx[k])
		}
	}
	return out, nil
}

// fineTuneCell completes a cell whose strong model is fine-tuned: the
// ceiling is USE-lite fine-tuned on train_strong texts with gold targets.
func (r *Runner) fineTuneCell(ctx context.Context, p *prepared, split data.Split, weakHead *train.Head, weakCfg, strongCfg train.Config, seed int64) (*cell, *eval.Hidden, error) {
	c, hidden, err := r.assembleCell(p, split, weakHead, nil, weakCfg, strongCfg, seed)
	if err != nil {
		return nil, nil, err
	}
	f := &ftCell{cfg: p.ftConfig(seed)}
	if f.trainStrong, err = ftTexts(p, split.TrainStrong); err != nil {
		return nil, nil, err
	}
	if f.test, err = ftTexts(p, split.Test); err != nil {
		return nil, nil, err
	}
	r.logf("%s seed %d: fine-tuning the ceiling (%s, %d train_strong texts, gold labels, %d epochs)",
		p.ds.Name, seed, p.strong.Encoder, len(f.trainStrong), f.cfg.Epochs)
	ceil, err := p.ft.fineTune(ctx, f.trainStrong, data.OneHot(p.ds.Labels(split.TrainStrong), p.ds.K()), r.withCheckpoint(f.cfg, p, seed, "ceiling"), r.Log)
	if err != nil {
		return nil, nil, fmt.Errorf("ceiling: %w", err)
	}
	if c.ceilTest, err = ceil.Predict(ctx, f.test); err != nil {
		return nil, nil, fmt.Errorf("ceiling predictions: %w", err)
	}
	c.ft = f
	return c, hidden, nil
}

// fineTuneStudent fine-tunes the student of method name on the weak labels
// (naive: soft; naive-hard: their argmax) and predicts test and train_strong.
func (r *Runner) fineTuneStudent(ctx context.Context, p *prepared, c *cell, name string) (test, trainStrong data.Matrix, err error) {
	targets := c.view.TrainStrong.WeakLabels
	switch name {
	case "naive":
	case "naive-hard":
		targets = data.OneHot(targets.Argmax(), c.view.K)
	default:
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("method %s does not support fine-tuned students; use the frozen encoder with a probe head", name)
	}
	r.logf("%s seed %d %s: fine-tuning the student (%s, %d epochs)", p.ds.Name, c.view.Seed, name, p.strong.Encoder, c.ft.cfg.Epochs)
	st, err := p.ft.fineTune(ctx, c.ft.trainStrong, targets, r.withCheckpoint(c.ft.cfg, p, c.view.Seed, name), r.Log)
	if err != nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("%s: fine-tuning student: %w", name, err)
	}
	if test, err = st.Predict(ctx, c.ft.test); err != nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("%s: student predictions: %w", name, err)
	}
	if trainStrong, err = st.Predict(ctx, c.ft.trainStrong); err != nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("%s: student predictions on train_strong: %w", name, err)
	}
	return test, trainStrong, nil
}
