package method

// selective, graph-smooth, pik-only: Lang, Huang, Li, "Selective
// Weak-to-Strong Generalization" (AAAI-26, arXiv 2511.14166), a seed paper.
// The paper trains a binary P(IK) ("I know") classifier on the strong
// model's representations that predicts whether the strong model can answer
// a question itself; where P(IK) is high the strong model's self-generated
// labels replace the weak labels, and the remaining weak labels are refined
// by graph smoothing (label propagation over a similarity graph). No code is
// public; this is our adaptation, with the auxiliary probes on the frozen
// strong features (the student itself is the cell's, a probe or a
// fine-tuned encoder):
//
//   - Self-labels: the "strong model answering by itself" is a strong probe
//     (the cell's strong head config) trained on train_weak's gold labels,
//     which an experimenter holds. Its predictions on train_strong are the
//     self-labels (soft).
//   - P(IK) targets: on train_weak, a strong probe is cross-fitted (folds=5)
//     on the gold labels; target z_i = 1 when the out-of-fold self-label's
//     argmax equals gold_i, i.e. "the strong model's self-label is right".
//   - P(IK) model: a linear head on strong features, trained on z (hard,
//     two classes); P(IK) on train_strong is its probability of z = 1.
//   - Replacement: where P(IK) >= threshold, the training target is the
//     self-label exactly.
//   - Graph smoothing: label spreading (Zhou et al. 2004) over the kNN graph
//     (k=10, cosine) of train_strong's strong features, seeded with every
//     example's current label (self-label where replaced, weak elsewhere),
//     F ← αSF + (1−α)Y with α = 0.5; examples not replaced take their
//     normalised row of F.
//
// graph-smooth is the smoothing alone (no P(IK), no self-labels); pik-only
// is the replacement alone (weak labels kept as they are elsewhere).

import (
	"context"
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/student"
)

func init() {
	const ref = "Lang, Huang, Li, 'Selective Weak-to-Strong Generalization', AAAI-26, arXiv 2511.14166 (no public code)"
	const adapt = "no public code; self-labels come from a strong probe trained on train_weak gold; P(IK) is a linear head on " +
		"strong features trained on train_weak with target 'the cross-fitted strong probe's argmax equals gold'; graph smoothing " +
		"is Zhou et al. label spreading over a cosine kNN graph of strong features seeded with the current labels"
	Register(Info{
		Name: "selective",
		Description: "a P(IK) classifier on strong features predicts where the strong model already knows the answer; there the strong " +
			"model's self-labels replace the weak labels, elsewhere the labels are refined by label spreading over a kNN graph of strong features",
		Reference:  ref,
		Params:     "threshold=0.8 (P(IK) above which self-labels replace weak labels); folds=5 (cross-fitting for P(IK) targets); k=10 (graph neighbours); alpha=0.5 (spreading)",
		Adaptation: adapt,
	}, newSelective("selective", true, true))
	Register(Info{
		Name:        "graph-smooth",
		Description: "ablation of selective: weak labels refined by label spreading over a kNN graph of strong features, no P(IK), no self-labels",
		Reference:   ref,
		Params:      "k=10 (graph neighbours); alpha=0.5 (spreading)",
		Adaptation:  adapt,
	}, newSelective("graph-smooth", false, true))
	Register(Info{
		Name:        "pik-only",
		Description: "ablation of selective: self-labels replace weak labels where P(IK) >= threshold; weak labels elsewhere, unsmoothed",
		Reference:   ref,
		Params:      "threshold=0.8; folds=5",
		Adaptation:  adapt,
	}, newSelective("pik-only", true, false))
}

type selective struct {
	spec        string
	pik, smooth bool
	threshold   float64
	folds       int
	k           int
	alpha       float64
}

func newSelective(name string, pik, smooth bool) func(Params) (Method, error) {
	return func(p Params) (Method, error) {
		m := selective{spec: Spec(name, p), pik: pik, smooth: smooth}
		var err error
		if pik {
			if m.threshold, err = clFrac(p, "threshold", 0.8, 0, 1); err != nil {
				return nil, err
			}
			if m.folds, err = clPositive(p, "folds", 5); err != nil {
				return nil, err
			}
			if m.folds < 2 {
				return nil, fmt.Errorf("parameter folds=%d must be at least 2", m.folds)
			}
		}
		if smooth {
			if m.k, err = clPositive(p, "k", 10); err != nil {
				return nil, err
			}
			if m.alpha, err = clFrac(p, "alpha", 0.5, 0.001, 0.999); err != nil {
				return nil, err
			}
		}
		return m, p.Unused()
	}
}

func (m selective) Name() string { return m.spec }

// pikStage holds what the P(IK) stage computes on train_strong.
type pikStage struct {
	selfLabels data.Matrix // [N, K] strong probe's predictions
	pik        []float64   // [N] P(IK)
}

func (m selective) pikStage(ctx context.Context, v *View) (*pikStage, error) {
	tw := v.TrainWeak
	k := v.K
	gold := data.OneHot(tw.Gold, k)
	cfg := v.StrongProbe
	cfg.Seed = clSeed(v.Seed, "selective", "self-probe")
	// Out-of-fold self-labels on train_weak give the P(IK) targets.
	oof, err := clCrossFit(ctx, tw.Strong, gold, cfg, m.folds, clSeed(v.Seed, "selective", "folds"))
	if err != nil {
		return nil, errorf2(m.spec, "cross-fitting the strong probe on train_weak", err)
	}
	z := make([]int, tw.Strong.Rows)
	right := 0
	for i, c := range oof.Argmax() {
		if c == tw.Gold[i] {
			z[i] = 1
			right++
		}
	}
	clLogf(v, "%s: strong probe right on %d of %d train_weak examples out of fold", m.spec, right, len(z))
	pikCfg := student.DefaultProbeConfig(student.HeadLinear)
	pikCfg.Standardize = v.StrongProbe.Standardize
	pikCfg.Seed = clSeed(v.Seed, "selective", "pik")
	pikHead, err := student.FitProbeLabels(ctx, tw.Strong, z, 2, pikCfg)
	if err != nil {
		return nil, errorf2(m.spec, "P(IK) classifier", err)
	}
	probe, err := student.FitProbe(ctx, tw.Strong, gold, cfg)
	if err != nil {
		return nil, errorf2(m.spec, "strong probe", err)
	}
	st := &pikStage{}
	if st.selfLabels, err = probe.Predict(v.TrainStrong.Strong); err != nil {
		return nil, errorf2(m.spec, "self-labels", err)
	}
	pp, err := pikHead.Predict(v.TrainStrong.Strong)
	if err != nil {
		return nil, errorf2(m.spec, "P(IK) on train_strong", err)
	}
	st.pik = make([]float64, pp.Rows)
	for i := range st.pik {
		st.pik[i] = float64(pp.At(i, 1))
	}
	return st, nil
}

// targets returns the training targets [N, K] and the replaced flags.
func (m selective) targets(ctx context.Context, v *View) (data.Matrix, []bool, *pikStage, error) {
	weak := v.TrainStrong.WeakLabels
	n := weak.Rows
	y := data.NewMatrix(n, v.K)
	copy(y.Values, weak.Values)
	replaced := make([]bool, n)
	var st *pikStage
	if m.pik {
		var err error
		if st, err = m.pikStage(ctx, v); err != nil {
			return data.Matrix{}, nil, nil, err
		}
		for i, p := range st.pik {
			if p >= m.threshold {
				replaced[i] = true
				copy(y.Row(i), st.selfLabels.Row(i))
			}
		}
		clLogf(v, "%s: self-labels replace %d of %d weak labels (P(IK) >= %.2f)", m.spec, clCount(replaced), n, m.threshold)
	}
	if m.smooth {
		g, err := clGraph(m.spec, v.TrainStrong.Strong, m.k, knn.Cosine)
		if err != nil {
			return data.Matrix{}, nil, nil, err
		}
		f, _, err := knn.Spread(knn.NewAffinity(g), y, knn.SpreadConfig{Alpha: m.alpha, Tol: 1e-7})
		if err != nil {
			return data.Matrix{}, nil, nil, errorf2(m.spec, "label spreading", err)
		}
		for i := range n {
			if replaced[i] {
				continue
			}
			row := f.Row(i)
			var s float32
			for _, x := range row {
				s += x
			}
			if s > 0 {
				dst := y.Row(i)
				for c, x := range row {
					dst[c] = x / s
				}
			}
		}
	}
	return y, replaced, st, nil
}

func (m selective) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", func(ctx context.Context, v *View) (Objective, error) {
		y, replaced, _, err := m.targets(ctx, v)
		if err != nil {
			return Objective{}, err
		}
		return clObjective(m.spec, v, clAll(y.Rows, true), replaced, y)
	}), nil
}
