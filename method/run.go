package method

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// Executor trains a method's plan on a student: the one runner of every
// method, used by `w2s run`, sweep cells, the oversight loop and the
// tests. It sees no gold beyond the view's.
type Executor struct {
	// Student is what each stage trains: a probe or a fine-tuned encoder.
	Student student.Student
	// Inputs are the student's inputs of train_strong, rows aligned with
	// View.TrainStrong (frozen features for a probe, texts for a
	// fine-tune).
	Inputs student.Inputs
	// Config is the student's training configuration with the cell's
	// student seed (the one the ceiling was trained with).
	Config train.Config
	// CheckpointDir, when set, receives a checkpoint per stage, named by
	// the stage's content (Key, configuration, objective), so that a
	// killed run resumes inside any stage and a stage already finished is
	// not trained again. The caller removes them once the result is saved.
	CheckpointDir string
	// Key identifies the cell (data, split, student) in checkpoint names.
	Key string
}

// Trained is a plan's final student.
type Trained struct {
	Model student.Model
	// TrainStrong are its predictions on train_strong [Ns, K].
	TrainStrong data.Matrix
	// Selection is the last stage's, or nil.
	Selection *Selection
	// Stages is the number of students trained.
	Stages int
	// Checkpoints are the stages' checkpoint files (with CheckpointDir);
	// the caller removes them once the result is saved.
	Checkpoints []string
}

// Run plans m on v and trains each stage on the executor's student; a
// stage reads the previous stage's predictions on train_strong.
func (e *Executor) Run(ctx context.Context, m Method, v *View) (*Trained, error) {
	plan, err := m.Plan(ctx, v)
	if err != nil {
		return nil, err
	}
	if len(plan.Stages) == 0 {
		return nil, fmt.Errorf("%s: the plan has no stage", m.Name())
	}
	n := v.TrainStrong.WeakLabels.Rows
	if e.Inputs.Len() != n {
		return nil, fmt.Errorf("%s: the student has %d train_strong inputs, the view %d examples", m.Name(), e.Inputs.Len(), n)
	}
	out := &Trained{Stages: len(plan.Stages)}
	var prev data.Matrix
	for i, st := range plan.Stages {
		o, err := st.Build(ctx, v, prev)
		if err != nil {
			return nil, err
		}
		if o.Targets.Rows != n {
			return nil, fmt.Errorf("%s: stage %q has %d targets for %d train_strong examples", m.Name(), st.Name, o.Targets.Rows, n)
		}
		if s := o.Selection; s != nil && (len(s.Kept) != n || len(s.Replaced) != n) {
			return nil, fmt.Errorf("%s: stage %q selects %d kept and %d replaced flags for %d examples", m.Name(), st.Name, len(s.Kept), len(s.Replaced), n)
		}
		cfg := e.Config
		if o.Epochs != nil {
			cfg.Epochs = o.Epochs(cfg.Epochs)
		}
		if o.Reseed != nil {
			cfg.Seed = o.Reseed(cfg.Seed)
		}
		cfg.Name = fmt.Sprintf("%s stage %d/%d (%s, %s)", m.Name(), i+1, len(plan.Stages), st.Name, e.Student.Spec())
		if e.CheckpointDir != "" {
			cfg.Checkpoint = filepath.Join(e.CheckpointDir, checkpointName(e.Key, i, cfg, o.Objective))
			out.Checkpoints = append(out.Checkpoints, cfg.Checkpoint)
		}
		model, _, err := e.Student.Fit(ctx, e.Inputs, o.Objective, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: training the student: %w", m.Name(), st.Name, err)
		}
		if prev, err = model.Predict(ctx, e.Inputs); err != nil {
			return nil, fmt.Errorf("%s: %s: student predictions on train_strong: %w", m.Name(), st.Name, err)
		}
		out.Model, out.TrainStrong, out.Selection = model, prev, o.Selection
	}
	return out, nil
}

// checkpointName is a stage fit's file name: the same cell, stage,
// configuration and objective always map to the same file.
func checkpointName(key string, stage int, cfg train.Config, o train.Objective) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|stage=%d|%s|", key, stage, cfg.String())
	h.Write([]byte(o.Digest()))
	return hex.EncodeToString(h.Sum(nil)[:16]) + ".ckpt"
}
