package experiment

// Fine-tuned strong students: --strong use-lite-ft. The ceiling and the
// student are USE-lite fine-tuned end to end (encode.USELite.FineTune) on the
// train_strong TEXTS, instead of heads on frozen strong features. Texts are
// inputs, not labels: gold still flows only from here (the ceiling's one-hot
// train_strong targets, as the probe ceiling's) and into eval.Hidden.

import (
	"context"
	"fmt"
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

// DefaultFineTuneEpochs are the fine-tuning epochs of the ceiling and the
// student when the spec sets none (--ft-epochs 0). Spec.Epochs, the heads'
// epochs, sets only the weak head's here.
const DefaultFineTuneEpochs = 2

// ftVersion names the fine-tuning protocol in config hashes; bump it when
// this file changes what a fine-tuned cell computes.
const ftVersion = "use-lite-ft/2"

func isFineTuned(strong EncHead) bool { return strong.Encoder == FineTunedStrong }

// checkFineTune refuses what a fine-tuned student cannot do: it trains its
// own linear head, and only the naive methods (soft or hard weak labels)
// have a fine-tuned form.
func checkFineTune(strong EncHead, methods []method.Method) error {
	if strong.Head != DefaultHead {
		return fmt.Errorf("--strong %s: %s fine-tunes USE-lite with its own linear head; drop :%s", strong, FineTunedStrong, strong.Head)
	}
	for _, m := range methods {
		if !ftMethod(m.Name()) {
			return fmt.Errorf("method %s does not support fine-tuned students; use use-lite for a probe", m.Name())
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

// prepareFineTune loads USE-lite for a fine-tuned strong student. The
// student needs no strong features: strongX is left zero-width.
func (r *Runner) prepareFineTune(ctx context.Context, p *prepared, spec *Spec) error {
	if spec == nil {
		return fmt.Errorf("%s students are supported by w2s run only; use use-lite for a probe", FineTunedStrong)
	}
	enc, err := encode.New(ctx, "use-lite", r.Log)
	if err != nil {
		return err
	}
	u, ok := enc.(*encode.USELite)
	if !ok {
		return fmt.Errorf("%s: encoder use-lite is a %T, not USE-lite", FineTunedStrong, enc)
	}
	p.ft, p.strFP = u, FineTunedStrong+"/"+u.Fingerprint()
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
			return nil, fmt.Errorf("%s: %s needs a text column (example %d has no text)", p.ds.Source, FineTunedStrong, idx[k])
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
		p.ds.Name, seed, FineTunedStrong, len(f.trainStrong), f.cfg.Epochs)
	ceil, err := p.ft.FineTune(ctx, f.trainStrong, data.OneHot(p.ds.Labels(split.TrainStrong), p.ds.K()), r.withCheckpoint(f.cfg, p, seed, "ceiling"), r.Log)
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
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("method %s does not support fine-tuned students; use use-lite for a probe", name)
	}
	r.logf("%s seed %d %s: fine-tuning the student (%s, %d epochs)", p.ds.Name, c.view.Seed, name, FineTunedStrong, c.ft.cfg.Epochs)
	st, err := p.ft.FineTune(ctx, c.ft.trainStrong, targets, r.withCheckpoint(c.ft.cfg, p, c.view.Seed, name), r.Log)
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
