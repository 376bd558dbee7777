package method

// logreg-filter: a linear probe on the frozen strong features predicts the
// weak labels, cross-fitted (each point is scored by a probe trained on the
// other folds, because an in-sample probe can memorise a noisy label and then
// agree with it); the contamination fraction of points whose weak label
// disagrees most with the probe are dropped. The probe is package train's
// linear head (Adam, 30 epochs, decoupled weight decay wd) trained on the
// soft weak labels; disagreement is 1 − the probe's probability of the weak
// argmax class (cleaning.Disagree).
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/student"
)

func init() {
	Register(Info{
		Name: "logreg-filter",
		Description: "cross-fits a logistic probe on strong features to predict the weak labels and drops the contamination fraction " +
			"of train_strong examples to whose weak class the out-of-fold probe gives the lowest probability; the student " +
			"trains on the rest's weak labels",
		Reference:  "EleutherAI/w2s logreg probe (L2 1e-3) with --probe_filter (w2s/probe.py, w2s/logistic.py)",
		Params:     "contamination=0.1 (fraction dropped); folds=5 (cross-fitting folds); wd=0.001 (probe weight decay)",
		Adaptation: "cross-fitted rather than in-sample probe; Adam-trained linear head with decoupled weight decay instead of an L2-penalised LBFGS fit; K-class",
		Gold:       "none",
	}, newLogregFilter)
}

type logregFilter struct {
	spec          string
	contamination float64
	folds         int
	wd            float64
}

func newLogregFilter(p Params) (Method, error) {
	m := logregFilter{spec: Spec("logreg-filter", p)}
	var err error
	if m.contamination, err = paramFraction(p, "contamination", 0.1, 0, 0.95); err != nil {
		return nil, err
	}
	if m.folds, err = paramPositive(p, "folds", 5); err != nil {
		return nil, err
	}
	if m.folds < 2 {
		return nil, fmt.Errorf("parameter folds=%d must be at least 2", m.folds)
	}
	if m.wd, err = paramFraction(p, "wd", 1e-3, 0, 10); err != nil {
		return nil, err
	}
	return m, p.Unused()
}

func (m logregFilter) Name() string { return m.spec }

// probe returns the out-of-fold probe predictions on train_strong [N, K].
func (m logregFilter) probe(ctx context.Context, v *View) (data.Matrix, error) {
	return cleaning.CrossFit(ctx, v.TrainStrong.Strong, v.TrainStrong.WeakLabels, m.probeConfig(v), m.folds, seeds.Derive(v.Seed, seeds.Trail("logreg-filter")))
}

// probeConfig is the probe's head: linear, weight decay wd, standardised
// like the cell's strong probe.
func (m logregFilter) probeConfig(v *View) student.ProbeConfig {
	cfg := student.DefaultProbeConfig(student.HeadLinear)
	cfg.WeightDecay = m.wd
	cfg.Standardize = v.StrongProbe.Standardize
	return cfg
}

func (m logregFilter) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", func(ctx context.Context, v *View) (Objective, error) {
		pred, err := m.probe(ctx, v)
		if err != nil {
			return Objective{}, errorf2(m.spec, "probe", err)
		}
		weak := v.TrainStrong.WeakLabels
		kept := cleaning.DropTop(cleaning.Disagree(weak, pred), m.contamination)
		logNote(v, "%s: kept %d of %d weak labels", m.spec, cleaning.Count(kept), len(kept))
		return keptObjective(m.spec, v, kept, nil, weak)
	}), nil
}
