package method

// selective, graph-smooth, pik-only, pik-random: the auxiliary probes run on
// the frozen strong features (the student itself is the cell's, a probe or a
// fine-tuned encoder):
//
//   - Self-labels (gold-free): a strong probe (the cell's strong head
//     config) cross-fitted (folds=5) on train_strong's weak labels, each row
//     predicted by the fold's probe that did not see its weak label.
//   - P(IK) targets: on the gold=B train_weak examples the method draws from
//     its gold budget (with their strong features), the fold probes' mean
//     prediction is the self-label; target z_i = 1 when its argmax equals
//     gold_i, i.e. "the strong model's self-label is right". The drawn rows
//     are not in train_strong, so the self-label is out of sample there as
//     it is on train_strong.
//   - P(IK) model: a linear head on strong features, trained on the B drawn
//     examples with target z (hard, two classes); P(IK) on train_strong is
//     its probability of z = 1.
//   - Replacement: where P(IK) >= threshold, the training target is the
//     self-label exactly.
//   - Graph smoothing: label spreading over the kNN graph (k=10, cosine) of
//     train_strong's strong features, seeded with every example's current
//     label (self-label where replaced, weak elsewhere), F ← αSF + (1−α)Y
//     with α = 0.5; examples not replaced take their normalised row of F.
//
// graph-smooth is the smoothing alone (no P(IK), no self-labels, no gold);
// pik-only is the replacement alone; pik-random replaces as many rows as
// pik-only, chosen uniformly at random (seeded), with the same self-labels:
// the control that says whether P(IK)'s choice of rows matters.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/student"
)

func init() {
	const ref = "Lang, Huang, Li, 'Selective Weak-to-Strong Generalization', AAAI-26, arXiv 2511.14166 (no public code)"
	const adapt = "no public code; self-labels are gold-free: a strong probe cross-fitted on train_strong's weak labels (the student's own " +
		"out-of-fold belief; fidelity fix, issue 12: they were a strong probe on all train_weak gold, a distilled ceiling that made selective look +0.6 ΔPGR over naive); P(IK) is a linear head " +
		"on strong features trained on the gold=B budgeted train_weak examples with target 'the fold probes' self-label argmax equals gold'; " +
		"graph smoothing is Zhou et al. label spreading over a cosine kNN graph of strong features seeded with the current labels"
	gold := fmt.Sprintf("budget: gold=B (default %d), P(IK)'s training examples", DefaultGold)
	Register(Info{
		Name: "selective",
		Description: "a P(IK) classifier on strong features predicts where the strong model already knows the answer; there the strong " +
			"model's self-labels replace the weak labels, elsewhere the labels are refined by label spreading over a kNN graph of strong features",
		Reference: ref,
		Params: fmt.Sprintf("gold=%d (budgeted train_weak labels for P(IK), at least 10); threshold=0.8 (P(IK) above which self-labels replace weak labels); "+
			"folds=5 (cross-fitting of the self-labels); k=10 (graph neighbours); alpha=0.5 (spreading)", DefaultGold),
		Adaptation: adapt,
		Gold:       gold,
	}, newSelective("selective", true, true, false))
	Register(Info{
		Name:        "graph-smooth",
		Description: "ablation of selective: weak labels refined by label spreading over a kNN graph of strong features, no P(IK), no self-labels",
		Reference:   ref,
		Params:      "k=10 (graph neighbours); alpha=0.5 (spreading)",
		Adaptation:  adapt,
		Gold:        "none",
	}, newSelective("graph-smooth", false, true, false))
	Register(Info{
		Name:        "pik-only",
		Description: "ablation of selective: self-labels replace weak labels where P(IK) >= threshold; weak labels elsewhere, unsmoothed",
		Reference:   ref,
		Params:      fmt.Sprintf("gold=%d; threshold=0.8; folds=5", DefaultGold),
		Adaptation:  adapt,
		Gold:        gold,
	}, newSelective("pik-only", true, false, false))
	Register(Info{
		Name: "pik-random",
		Description: "control of pik-only: as many rows as pik-only replaces (P(IK) >= threshold), chosen uniformly at random, take the " +
			"same gold-free self-labels; weak labels elsewhere",
		Reference:  ref + "; issue 12 (controls)",
		Params:     fmt.Sprintf("gold=%d (for P(IK), which sets the number of rows only); threshold=0.8; folds=5", DefaultGold),
		Adaptation: adapt,
		Gold:       gold,
	}, newSelective("pik-random", true, false, true))
}

type selective struct {
	spec        string
	pik, smooth bool
	random      bool // pik-random: replace random rows, as many as P(IK) picks
	threshold   float64
	folds       int
	k           int
	alpha       float64
	gold        int
}

func newSelective(name string, pik, smooth, random bool) func(Params) (Method, error) {
	return func(p Params) (Method, error) {
		m := selective{spec: Spec(name, p), pik: pik, smooth: smooth, random: random}
		var err error
		if pik {
			// P(IK) is a two-class head on the drawn examples: fewer than
			// 10 cannot hold both outcomes in any number.
			if m.gold, err = goldParam(p, DefaultGold, 10); err != nil {
				return nil, err
			}
			if m.threshold, err = paramFraction(p, "threshold", 0.8, 0, 1); err != nil {
				return nil, err
			}
			if m.folds, err = paramPositive(p, "folds", 5); err != nil {
				return nil, err
			}
			if m.folds < 2 {
				return nil, fmt.Errorf("parameter folds=%d must be at least 2", m.folds)
			}
		}
		if smooth {
			if m.k, err = paramPositive(p, "k", 10); err != nil {
				return nil, err
			}
			if m.alpha, err = paramFraction(p, "alpha", 0.5, 0.001, 0.999); err != nil {
				return nil, err
			}
		}
		return m, p.Unused()
	}
}

func (m selective) Name() string { return m.spec }

// DeclaredGold is gold=B for the P(IK) methods, none for graph-smooth.
func (m selective) DeclaredGold() int { return m.gold }

// pikStage holds what the P(IK) stage computes on train_strong.
type pikStage struct {
	selfLabels data.Matrix // [N, K] cross-fitted strong probe's predictions
	pik        []float64   // [N] P(IK)
}

func (m selective) pikStage(ctx context.Context, v *View) (*pikStage, error) {
	drawn, err := v.Gold.Draw(m.gold)
	if err != nil {
		return nil, errorf2(m.spec, "P(IK) gold", err)
	}
	cfg := v.StrongProbe
	cfg.Seed = seeds.Derive(v.Seed, seeds.Trail("selective", "self-probe"))
	// Gold-free self-labels: out-of-fold on train_strong, the fold probes'
	// mean on the drawn train_weak examples.
	st := &pikStage{}
	selfTW := drawn.Strong
	if st.selfLabels, err = cleaning.CrossFitPool(ctx, v.TrainStrong.Strong, v.TrainStrong.WeakLabels, cfg, m.folds,
		seeds.Derive(v.Seed, seeds.Trail("selective", "folds")), &selfTW); err != nil {
		return nil, errorf2(m.spec, "cross-fitting the strong probe on train_strong's weak labels", err)
	}
	z := make([]int, len(drawn.Gold))
	right := 0
	for i, c := range selfTW.Argmax() {
		if c == drawn.Gold[i] {
			z[i] = 1
			right++
		}
	}
	logNote(v, "%s: self-labels right on %d of %d drawn train_weak examples", m.spec, right, len(z))
	if right == 0 || right == len(z) {
		logNote(v, "%s: P(IK)'s %d training examples have one outcome only: P(IK) learns a constant", m.spec, len(z))
	}
	pikCfg := student.DefaultProbeConfig(student.HeadLinear)
	pikCfg.Standardize = v.StrongProbe.Standardize
	pikCfg.Seed = seeds.Derive(v.Seed, seeds.Trail("selective", "pik"))
	pikHead, err := student.FitProbeLabels(ctx, drawn.Strong, z, 2, pikCfg)
	if err != nil {
		return nil, errorf2(m.spec, "P(IK) classifier", err)
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
			replaced[i] = p >= m.threshold
		}
		if m.random {
			// As many rows as P(IK) picks, uniformly at random.
			count := cleaning.Count(replaced)
			replaced = cleaning.All(n, false)
			for _, i := range rand.New(rand.NewPCG(uint64(seeds.Derive(v.Seed, seeds.Trail("pik-random"))), 0x5e1)).Perm(n)[:count] {
				replaced[i] = true
			}
		}
		for i, r := range replaced {
			if r {
				copy(y.Row(i), st.selfLabels.Row(i))
			}
		}
		logNote(v, "%s: self-labels replace %d of %d weak labels (P(IK) >= %.2f%s)", m.spec, cleaning.Count(replaced), n, m.threshold,
			map[bool]string{true: ": that many random rows", false: ""}[m.random])
	}
	if m.smooth {
		g, err := cleaning.Graph(m.spec, v.TrainStrong.Strong, m.k, knn.Cosine)
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
		return keptObjective(m.spec, v, cleaning.All(y.Rows, true), replaced, y)
	}), nil
}
