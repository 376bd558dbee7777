package method

// bootstrap: the ladder is a chain of ENC[:HEAD] rungs (chain=glove,
// chain=weak:mlp+glove): rung i is a head on encoder i's features of
// train_strong (View.Features), trained on the previous rung's soft labels
// (the weak labels for the first rung); the last rung's soft labels on
// train_strong supervise the strong student exactly as naive's weak labels
// do. chain=none is the empty chain: the student is then naive's, bit for
// bit. Each rung labels train_strong by k-fold cross-fitting (folds=2): a
// rung trained on folds ≠ f labels fold f, because a probe refitted to its
// own training labels reproduces them almost exactly (train.TestSoftLabelFit)
// and in-sample relabelling would be a no-op; folds=1 relabels in-sample.
//
// chain=auto, the default, is the encoders strictly between the cell's weak
// and strong encoders on the ladder (ladder.go), each under a linear head,
// weakest first: bow → use-lite bootstraps through glove. A pair with
// nothing between has no ladder to climb, and the method refuses it before
// any work (Check). Every rung must be weaker than the student: the
// executor's View.Features refuses the student's encoder and stronger ones.
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
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name: "bootstrap",
		Description: "supervision through a chain of intermediate models: each rung is trained on the previous rung's soft labels of train_strong " +
			"(the first on the weak labels) and the last rung's labels train the strong student",
		Reference: "Burns et al. 2023 (arXiv 2312.09390) §4.3.1 bootstrapping; no public code",
		Params: "chain=auto (auto: the ladder's encoders strictly between the weak and the strong encoder, linear heads, e.g. glove for " +
			"bow → use-lite; or rungs ENC[:HEAD] joined by '+', weakest first, 'weak' = the cell's weak encoder, e.g. weak:mlp; chain=none: " +
			"no rung, = naive); folds=2 (cross-fitting folds for each rung's labels; 1 = in-sample)",
		Adaptation: "fidelity fix, issue 12: the default chain is the real intermediate encoders of the ladder (" + LadderText() + "); a pair " +
			"with none between (glove → use-lite) is refused before any work; the old default weak:mlp (not an intermediate model) is chain=weak:mlp; " +
			"rungs are heads on frozen encoder features rather than model sizes, each weaker than the student; each rung labels train_strong out " +
			"of fold (k-fold cross-fitting), since an in-sample probe reproduces its own training labels",
		Gold: "none",
	}, func(p Params) (Method, error) {
		chainSpec := p.Str("chain", "auto")
		folds, err := p.Int("folds", 2)
		if err != nil {
			return nil, err
		}
		if folds < 1 {
			return nil, fmt.Errorf("folds=%d: want >= 1", folds)
		}
		var chain []student.Spec
		if chainSpec != "none" && chainSpec != "auto" {
			if chain, err = parseModels(chainSpec); err != nil {
				return nil, fmt.Errorf("chain: %w", err)
			}
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		return bootstrap{spec: Spec("bootstrap", p), chain: chain, auto: chainSpec == "auto", folds: folds}, nil
	})
}

type bootstrap struct {
	spec  string
	chain []student.Spec
	auto  bool // chain=auto: the ladder's intermediate encoders
	folds int
}

func (b bootstrap) Name() string { return b.spec }

// rungs is the cell's chain: the named rungs, or the ladder's encoders
// between the cell's weak and strong encoders.
func (b bootstrap) rungs(weakEncoder, strongEncoder string) ([]student.Spec, error) {
	if !b.auto {
		return b.chain, nil
	}
	between := IntermediateEncoders(weakEncoder, strongEncoder)
	if len(between) == 0 {
		return nil, fmt.Errorf("no encoder lies between %q and %q on the encoder ladder (%s): there is no intermediate model to "+
			"bootstrap through; name rungs with chain=ENC[+ENC...] (chain=weak:mlp: the weak features under a larger head)",
			weakEncoder, strongEncoder, LadderText())
	}
	out := make([]student.Spec, len(between))
	for i, e := range between {
		out[i] = student.Spec{Encoder: e, Head: student.HeadLinear}
	}
	return out, nil
}

// Check refuses a cell with no intermediate encoder for chain=auto, and
// named rungs that are not weaker than the student.
func (b bootstrap) Check(c CellInfo) error {
	chain, err := b.rungs(c.WeakEncoder, c.StrongEncoder)
	if err != nil {
		return err
	}
	for _, r := range chain {
		if r.Encoder == "weak" || r.Encoder == c.WeakEncoder {
			continue
		}
		if weaker, ranked := EncoderWeaker(r.Encoder, c.StrongEncoder); r.Encoder == c.StrongEncoder || (ranked && !weaker) {
			return fmt.Errorf("rung %s is not weaker than the student's encoder %q: a rung must be an intermediate model", r, c.StrongEncoder)
		}
	}
	return nil
}

func (b bootstrap) Plan(_ context.Context, v *View) (*Plan, error) {
	chain, err := b.rungs(v.WeakEncoder, v.StrongEncoder)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.spec, err)
	}
	return Single("student", func(ctx context.Context, v *View) (Objective, error) { return b.objective(ctx, v, chain) }), nil
}

func (b bootstrap) objective(ctx context.Context, v *View, chain []student.Spec) (Objective, error) {
	labels := v.TrainStrong.WeakLabels
	for i, rung := range chain {
		_, x, err := modelFeatures(ctx, v, rung.Encoder)
		if err != nil {
			return Objective{}, fmt.Errorf("%s: rung %d: %w", b.spec, i+1, err)
		}
		cfg := auxHeadConfig(v, rung, seeds.Derive(v.Seed, seeds.Lead("bootstrap", fmt.Sprint(i), rung.String())))
		labels, err = crossFitLabels(ctx, x, labels, cfg, b.folds)
		if err != nil {
			return Objective{}, fmt.Errorf("%s: rung %d (%s): %w", b.spec, i+1, rung, err)
		}
		if v.Log != nil {
			fmt.Fprintf(v.Log, "%s: rung %d (%s) agrees with the weak labels on %.3f of train_strong\n",
				b.spec, i+1, rung, argmaxAgreement(labels, v.TrainStrong.WeakLabels))
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
		fcfg.Seed = seeds.Derive(cfg.Seed, seeds.Lead("fold", fmt.Sprint(f)))
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

// argmaxAgreement is the fraction of rows of a and b [N, K] with the same argmax.
func argmaxAgreement(a, b data.Matrix) float64 {
	aa, bb := a.Argmax(), b.Argmax()
	same := 0
	for i := range aa {
		if aa[i] == bb[i] {
			same++
		}
	}
	return float64(same) / float64(max(1, len(aa)))
}
