package method

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// Executor trains a method's plan on a student: the one runner of every
// method, used by `w2s run`, sweep cells, the oversight loop and the
// tests. It sees no gold beyond train_weak's, which it hands to a method
// only through a budget capped at the method's declaration.
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
	// Gold is the cell's train_weak gold with its strong features: each
	// run opens a budget of the method's declared gold=B on it (View.Gold).
	// Nil: no train_weak gold (methods that need it fail).
	Gold *GoldPool
	// TrainWeakInputs are the student's inputs of train_weak (features or
	// texts), rows aligned with View.TrainWeak, for objectives with
	// GoldRows. Empty: such objectives fail.
	TrainWeakInputs student.Inputs
	// ClassBalanced (--balance weight) multiplies every stage's weights by
	// inverse class frequency of its targets over its training rows
	// (train.ClassBalanced), after the method's own weights and gold rows:
	// every method gets it without code of its own.
	ClassBalanced bool
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
	// Gold is the train_weak gold the method read through its budget.
	Gold GoldUse
	// Calibration is the plan's (calibrate=true), or nil.
	Calibration *Calibration
}

// Run plans m on v and trains each stage on the executor's student; a
// stage reads the previous stage's predictions on train_strong. The
// method sees a copy of v with its own gold budget (the executor's pool,
// capped at DeclaredGold(m)) and a Features provider that refuses
// encoders as strong as the student's, whatever v held.
func (e *Executor) Run(ctx context.Context, m Method, v *View) (*Trained, error) {
	budget := e.Gold.OpenBudget(DeclaredGold(m))
	mv := *v
	mv.Gold = budget
	mv.Features = WeakSideFeatures(v.Features, v.StrongEncoder)
	v = &mv
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
	out := &Trained{Stages: len(plan.Stages), Calibration: plan.Calibration}
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
		in, obj, err := e.withGoldRows(o, budget)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", m.Name(), st.Name, err)
		}
		if e.ClassBalanced {
			if obj, err = train.ClassBalanced(obj); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", m.Name(), st.Name, err)
			}
		}
		if e.CheckpointDir != "" {
			cfg.Checkpoint = filepath.Join(e.CheckpointDir, checkpointName(e.Key, i, cfg, obj, o.GoldRows))
			out.Checkpoints = append(out.Checkpoints, cfg.Checkpoint)
		}
		model, _, err := e.Student.Fit(ctx, in, obj, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: training the student: %w", m.Name(), st.Name, err)
		}
		if prev, err = model.Predict(ctx, e.Inputs); err != nil {
			return nil, fmt.Errorf("%s: %s: student predictions on train_strong: %w", m.Name(), st.Name, err)
		}
		out.Model, out.TrainStrong, out.Selection = model, prev, o.Selection
	}
	out.Gold = budget.Use()
	return out, nil
}

// withGoldRows returns the student's inputs and objective of a stage: the
// train_strong inputs and o's objective, with o.GoldRows' train_weak
// examples appended (after the Ns train_strong rows) when set. Every gold
// row must have been drawn from the run's budget.
func (e *Executor) withGoldRows(o Objective, budget *GoldBudget) (student.Inputs, train.Objective, error) {
	g := o.GoldRows
	if g == nil {
		return e.Inputs, o.Objective, nil
	}
	n, k := o.Targets.Rows, o.Targets.Cols
	if len(g.Rows) == 0 || g.Targets.Rows != len(g.Rows) || g.Targets.Cols != k {
		return student.Inputs{}, train.Objective{}, fmt.Errorf("gold rows: %d rows with [%d, %d] targets, want one target row of %d classes per row",
			len(g.Rows), g.Targets.Rows, g.Targets.Cols, k)
	}
	if e.TrainWeakInputs.Len() == 0 {
		return student.Inputs{}, train.Objective{}, fmt.Errorf("gold rows: the executor has no train_weak inputs for the student")
	}
	drawn := budget.drawnRows()
	seen := make(map[int]bool, len(g.Rows))
	for _, r := range g.Rows {
		if !drawn[r] {
			return student.Inputs{}, train.Objective{}, fmt.Errorf("gold rows: train_weak row %d was not drawn from the gold budget (declared gold=%d)", r, budget.Limit())
		}
		if seen[r] || r >= e.TrainWeakInputs.Len() {
			return student.Inputs{}, train.Objective{}, fmt.Errorf("gold rows: train_weak row %d repeated or outside the %d inputs", r, e.TrainWeakInputs.Len())
		}
		seen[r] = true
	}
	in, err := concatInputs(e.Inputs, e.TrainWeakInputs.Select(g.Rows))
	if err != nil {
		return student.Inputs{}, train.Objective{}, err
	}
	obj := o.Objective
	obj.Targets = data.NewMatrix(n+len(g.Rows), k)
	copy(obj.Targets.Values, o.Targets.Values)
	copy(obj.Targets.Values[n*k:], g.Targets.Values)
	rows := o.Rows
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	obj.Rows = append([]int(nil), rows...)
	for j := range g.Rows {
		obj.Rows = append(obj.Rows, n+j)
	}
	if o.Weights != nil {
		obj.Weights = append(append([]float32(nil), o.Weights...), make([]float32, len(g.Rows))...)
		for j := range g.Rows {
			obj.Weights[n+j] = 1
		}
	}
	return in, obj, nil
}

// concatInputs appends b's examples to a's (both features, both texts or
// both images).
func concatInputs(a, b student.Inputs) (student.Inputs, error) {
	ai, bi := a.Images, b.Images
	switch {
	case ai.Paths != nil && bi.Paths != nil:
		return student.Inputs{Images: encode.ImageBatch{Paths: append(append([]string(nil), ai.Paths...), bi.Paths...)}}, nil
	case ai.Pixels != nil && bi.Pixels != nil && [3]int(ai.Shape[1:]) == [3]int(bi.Shape[1:]):
		shape := ai.Shape
		shape[0] += bi.Shape[0]
		return student.Inputs{Images: encode.ImageBatch{Pixels: append(append([]float32(nil), ai.Pixels...), bi.Pixels...), Shape: shape}}, nil
	case ai.Pixels != nil || bi.Pixels != nil || ai.Paths != nil || bi.Paths != nil:
		return student.Inputs{}, fmt.Errorf("train_strong and train_weak images differ in kind or shape")
	}
	switch {
	case a.TextsB != nil && b.TextsB != nil:
		return student.Inputs{Texts: append(append([]string(nil), a.Texts...), b.Texts...),
			TextsB: append(append([]string(nil), a.TextsB...), b.TextsB...)}, nil
	case a.Texts != nil && b.Texts != nil && a.TextsB == nil && b.TextsB == nil:
		return student.Inputs{Texts: append(append([]string(nil), a.Texts...), b.Texts...)}, nil
	case a.Texts == nil && b.Texts == nil && a.Features.Cols == b.Features.Cols:
		x := data.NewMatrix(a.Features.Rows+b.Features.Rows, a.Features.Cols)
		copy(x.Values, a.Features.Values)
		copy(x.Values[len(a.Features.Values):], b.Features.Values)
		return student.Inputs{Features: x}, nil
	}
	return student.Inputs{}, fmt.Errorf("train_strong and train_weak inputs differ in kind or width")
}

// checkpointName is a stage fit's file name: the same cell, stage,
// configuration and objective (gold rows included) always map to the same
// file.
func checkpointName(key string, stage int, cfg train.Config, o train.Objective, gold *GoldRows) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|stage=%d|%s|", key, stage, cfg.String())
	h.Write([]byte(o.Digest()))
	if gold != nil {
		fmt.Fprintf(h, "|gold-rows=%v", gold.Rows)
	}
	return hex.EncodeToString(h.Sum(nil)[:16]) + ".ckpt"
}
