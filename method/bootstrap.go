package method

// bootstrap: bootstrapping through intermediate models, Burns et al.,
// "Weak-to-Strong Generalization" (2023) §4.3.1: instead of supervising the
// strong student directly with the weak model, supervise a slightly stronger
// model, use it to label the data for the next, and so on up the ladder.
// No public code exists (openai/weak-to-strong releases no bootstrapping code).
//
// Here the ladder is a chain of ENC[:HEAD] rungs (chain=glove,
// chain=weak:mlp+glove): rung i is a head on encoder i's features of
// train_strong (View.Features), trained on the previous rung's soft labels
// (the weak labels for the first rung); the last rung's soft labels on
// train_strong supervise the strong student exactly as naive's weak labels
// do. chain=none is the empty chain: the student is then naive's, bit for bit.
//
// Adaptations: the rungs are probes on frozen features (the student at the
// top is the cell's, a probe or a fine-tuned encoder). Each rung labels train_strong by k-fold cross-fitting (folds=2): a rung trained
// on folds ≠ f labels fold f, because a probe refitted to its own training
// labels reproduces them almost exactly (train.TestSoftLabelFit) and
// in-sample relabelling would be a no-op; folds=1 relabels in-sample. The
// default rung is weak:mlp, the weak features under a larger head: the
// cheapest "intermediate model" every cell has; name real intermediate
// encoders (e.g. chain=glove for bow → glove:mlp) where the ladder has them.

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name: "bootstrap",
		Description: "supervision through a chain of intermediate models: each rung is trained on the previous rung's soft labels of train_strong " +
			"(the first on the weak labels) and the last rung's labels train the strong student",
		Reference: "Burns et al. 2023 (arXiv 2312.09390) §4.3.1 bootstrapping; no public code",
		Params: "chain=weak:mlp (rungs ENC[:HEAD] joined by '+', weakest first; 'weak' = the cell's weak encoder; chain=none: no rung, = naive); " +
			"folds=2 (cross-fitting folds for each rung's labels; 1 = in-sample)",
		Adaptation: "rungs are heads on frozen encoder features rather than model sizes; each rung labels train_strong out of fold (k-fold cross-fitting), " +
			"since an in-sample probe reproduces its own training labels",
	}, func(p Params) (Method, error) {
		chainSpec := p.Str("chain", "weak:mlp")
		folds, err := p.Int("folds", 2)
		if err != nil {
			return nil, err
		}
		if folds < 1 {
			return nil, fmt.Errorf("folds=%d: want >= 1", folds)
		}
		var chain []student.Spec
		if chainSpec != "none" {
			if chain, err = lsParseModels(chainSpec); err != nil {
				return nil, fmt.Errorf("chain: %w", err)
			}
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		return bootstrap{spec: Spec("bootstrap", p), chain: chain, folds: folds}, nil
	})
}

type bootstrap struct {
	spec  string
	chain []student.Spec
	folds int
}

func (b bootstrap) Name() string { return b.spec }

func (b bootstrap) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", b.objective), nil
}

func (b bootstrap) objective(ctx context.Context, v *View) (Objective, error) {
	labels := v.TrainStrong.WeakLabels
	for i, rung := range b.chain {
		_, x, err := lsFeatures(ctx, v, rung.Encoder)
		if err != nil {
			return Objective{}, fmt.Errorf("%s: rung %d: %w", b.spec, i+1, err)
		}
		cfg := lsHeadConfig(v, rung, lsSeed(v.Seed, "bootstrap", fmt.Sprint(i), rung.String()))
		labels, err = crossFitLabels(ctx, x, labels, cfg, b.folds)
		if err != nil {
			return Objective{}, fmt.Errorf("%s: rung %d (%s): %w", b.spec, i+1, rung, err)
		}
		if v.Log != nil {
			fmt.Fprintf(v.Log, "%s: rung %d (%s) agrees with the weak labels on %.3f of train_strong\n",
				b.spec, i+1, rung, lsAgreement(labels, v.TrainStrong.WeakLabels))
		}
	}
	return Objective{Objective: train.Objective{Targets: labels}}, nil
}

// crossFitLabels trains heads on x [N, D] with targets [N, K] and returns
// their soft predictions [N, K], each row predicted by a head that did not
// train on it (folds >= 2: rows are dealt into folds by a permutation seeded
// from cfg.Seed), or by one head trained on all rows (folds = 1).
func crossFitLabels(ctx context.Context, x, targets data.Matrix, cfg student.ProbeConfig, folds int) (data.Matrix, error) {
	n := x.Rows
	if folds == 1 {
		h, err := student.FitProbe(ctx, x, targets, cfg)
		if err != nil {
			return data.Matrix{}, err
		}
		return h.Predict(x)
	}
	if folds > n {
		return data.Matrix{}, fmt.Errorf("%d folds for %d examples", folds, n)
	}
	perm := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xf01d5)).Perm(n)
	fold := make([]int, n)
	for pos, i := range perm {
		fold[i] = pos % folds
	}
	out := data.NewMatrix(n, targets.Cols)
	for f := range folds {
		var in, held []int
		for i := range n {
			if fold[i] == f {
				held = append(held, i)
			} else {
				in = append(in, i)
			}
		}
		fcfg := cfg
		fcfg.Seed = lsSeed(cfg.Seed, "fold", fmt.Sprint(f))
		h, err := student.FitProbe(ctx, x.SelectRows(in), targets.SelectRows(in), fcfg)
		if err != nil {
			return data.Matrix{}, fmt.Errorf("fold %d: %w", f, err)
		}
		pred, err := h.Predict(x.SelectRows(held))
		if err != nil {
			return data.Matrix{}, fmt.Errorf("fold %d: %w", f, err)
		}
		for j, i := range held {
			copy(out.Row(i), pred.Row(j))
		}
	}
	return out, nil
}

// lsAgreement is the fraction of rows of a and b [N, K] with the same argmax.
func lsAgreement(a, b data.Matrix) float64 {
	aa, bb := a.Argmax(), b.Argmax()
	same := 0
	for i := range aa {
		if aa[i] == bb[i] {
			same++
		}
	}
	return float64(same) / float64(max(1, len(aa)))
}
