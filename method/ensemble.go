package method

// ensemble: members are heads on one or more encoders' train_weak features
// (encoders=weak+glove; View.Features), each trained on train_weak gold with
// `seeds` initialisation seeds. Member (weak, seed 0) is the cell's own weak
// model, so encoders=weak,seeds=1 is naive bit for bit. The weights w (on the
// simplex) maximise the likelihood of train_weak gold under the mixture
// Σ_m w_m·p_m(y|x), with every member's train_weak probabilities taken out of
// fold (k-fold refits, folds=2) so that an over-fitted member is not
// rewarded: a stacking of the members, solved by EM for mixture proportions,
// a concave problem with a unique optimum value. The weighted mixture of the
// members' probabilities on train_strong is the soft label set the student
// is trained on with soft cross-entropy.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"
	"fmt"
	"math"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name: "ensemble",
		Description: "several weak supervisors (encoders × seeds, trained on train_weak gold) mixed with weights that maximise the out-of-fold " +
			"likelihood of train_weak gold; the mixture's soft labels of train_strong train the student",
		Reference: "RAVEN, Jeon, Sobotka, Choi, Brbić, 'Weak-to-Strong Generalization under Distribution Shifts' (mlbio-epfl/raven), adaptive weights over weak models; weights by stacking (Wolpert 1992, Breiman 1996)",
		Params: "encoders=weak (ENC[:HEAD] joined by '+'; 'weak' = the cell's weak encoder, whose seed 0 is the cell's weak model); " +
			"seeds=3 (heads per encoder); folds=2 (out-of-fold folds on train_weak for the weights)",
		Adaptation: "weights fitted once by EM on out-of-fold train_weak likelihood instead of jointly with the student from agreement (label-honest: " +
			"train_weak's gold is the supervisor's; cheaper; independent of the student); " +
			"no easy-sample initialisation; members are probes on frozen features",
		Gold: "weak-side: members and mixture weights fit on all train_weak gold with weak-side features (free: more weak supervisors from " +
			"the supervisor's own data; recorded as gold_features weak); members on encoders at least as strong as the student's are refused",
	}, func(p Params) (Method, error) {
		encs, err := parseModels(p.Str("encoders", "weak"))
		if err != nil {
			return nil, fmt.Errorf("encoders: %w", err)
		}
		seeds, err := p.Int("seeds", 3)
		if err != nil {
			return nil, err
		}
		folds, err := p.Int("folds", 2)
		if err != nil {
			return nil, err
		}
		if seeds < 1 || folds < 2 {
			return nil, fmt.Errorf("seeds=%d, folds=%d: want seeds >= 1 and folds >= 2", seeds, folds)
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		return ensemble{spec: Spec("ensemble", p), encoders: encs, seeds: seeds, folds: folds}, nil
	})
}

type ensemble struct {
	spec     string
	encoders []student.Spec
	seeds    int
	folds    int
}

func (e ensemble) Name() string { return e.spec }

// ensembleMember is one weak supervisor's probabilities on train_strong and,
// out of fold, on train_weak: [Ns, K] and [Nw, K].
type ensembleMember struct {
	name    string
	strong  data.Matrix
	weakOOF data.Matrix
}

func (e ensemble) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", e.objective), nil
}

func (e ensemble) objective(ctx context.Context, v *View) (Objective, error) {
	members, err := e.members(ctx, v)
	if err != nil {
		return Objective{}, fmt.Errorf("%s: %w", e.spec, err)
	}
	weights := []float64{1}
	if len(members) > 1 {
		probs := make([]data.Matrix, len(members))
		for i, m := range members {
			probs[i] = m.weakOOF
		}
		gold, err := v.Gold.WeakSide()
		if err != nil {
			return Objective{}, fmt.Errorf("%s: %w", e.spec, err)
		}
		weights = ensembleWeights(probs, gold, 500, 1e-10)
	}
	labels := members[0].strong
	if len(members) > 1 {
		labels = data.NewMatrix(v.TrainStrong.WeakLabels.Rows, v.K)
		for i, m := range members {
			for j, val := range m.strong.Values {
				labels.Values[j] += float32(weights[i]) * val
			}
		}
		renormalise(labels)
	}
	if v.Log != nil {
		for i, m := range members {
			fmt.Fprintf(v.Log, "%s: member %s weight %.3f\n", e.spec, m.name, weights[i])
		}
	}
	return Objective{Objective: train.Objective{Targets: labels}}, nil
}

// members trains (or reuses) every supervisor. Out-of-fold train_weak
// probabilities are computed only when there is more than one member.
func (e ensemble) members(ctx context.Context, v *View) ([]ensembleMember, error) {
	multi := len(e.encoders)*e.seeds > 1
	var out []ensembleMember
	for _, enc := range e.encoders {
		if v.StrongEncoder != "" && enc.Encoder == v.StrongEncoder {
			// A supervisor trained on gold over the student's own features
			// is the ceiling in disguise, not weak supervision.
			return nil, fmt.Errorf("member %s uses the cell's strong encoder %q: ensemble members must be weak supervisors", enc, enc.Encoder)
		}
		tw, ts, err := modelFeatures(ctx, v, enc.Encoder)
		if err != nil {
			return nil, err
		}
		var gold data.Matrix
		goldOf := func() (data.Matrix, error) {
			// Weak-side gold, read only when a member is trained: the cell's
			// own weak model alone reads none.
			if gold.Rows == 0 {
				y, err := v.Gold.WeakSide()
				if err != nil {
					return data.Matrix{}, err
				}
				gold = data.OneHot(y, v.K)
			}
			return gold, nil
		}
		for s := range e.seeds {
			m := ensembleMember{name: fmt.Sprintf("%s#%d", enc, s)}
			cfg := auxHeadConfig(v, enc, seeds.Derive(v.Seed, seeds.Lead("ensemble", enc.String(), fmt.Sprint(s))))
			if isWeakEncoder(v, enc.Encoder) && (v.WeakProbe.Head == "" || enc.Head == v.WeakProbe.Head) && s == 0 {
				m.strong = v.TrainStrong.WeakLabels
			} else {
				gold, err := goldOf()
				if err != nil {
					return nil, fmt.Errorf("member %s: %w", m.name, err)
				}
				h, err := student.FitProbe(ctx, tw, gold, cfg)
				if err != nil {
					return nil, fmt.Errorf("member %s: %w", m.name, err)
				}
				if m.strong, err = h.Predict(ts); err != nil {
					return nil, fmt.Errorf("member %s: %w", m.name, err)
				}
			}
			if multi {
				gold, err := goldOf()
				if err != nil {
					return nil, fmt.Errorf("member %s: %w", m.name, err)
				}
				if m.weakOOF, err = crossFitLabels(ctx, tw, gold, cfg, e.folds); err != nil {
					return nil, fmt.Errorf("member %s out of fold: %w", m.name, err)
				}
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// ensembleWeights returns the mixture weights w (w_m >= 0, Σ w = 1) that
// maximise Σ_i log Σ_m w_m·probs[m][i, gold_i], by EM for mixture
// proportions from uniform weights: w_m ← mean_i of member m's
// responsibility for example i. The objective is concave in w and each EM
// step does not decrease it; iteration stops after maxIter steps or when no
// weight moves by more than tol.
func ensembleWeights(probs []data.Matrix, gold []int, maxIter int, tol float64) []float64 {
	m := len(probs)
	w := make([]float64, m)
	for i := range w {
		w[i] = 1 / float64(m)
	}
	lik := make([]float64, m)
	next := make([]float64, m)
	for range maxIter {
		clear(next)
		for i, y := range gold {
			var tot float64
			for j, p := range probs {
				lik[j] = w[j] * math.Max(float64(p.At(i, y)), lossgraph.Tiny)
				tot += lik[j]
			}
			for j := range next {
				next[j] += lik[j] / tot
			}
		}
		var moved float64
		for j := range w {
			next[j] /= float64(len(gold))
			moved = math.Max(moved, math.Abs(next[j]-w[j]))
		}
		copy(w, next)
		if moved <= tol {
			break
		}
	}
	return w
}

// ensembleLogLik is the objective of ensembleWeights.
func ensembleLogLik(probs []data.Matrix, gold []int, w []float64) float64 {
	var ll float64
	for i, y := range gold {
		var tot float64
		for j, p := range probs {
			tot += w[j] * math.Max(float64(p.At(i, y)), lossgraph.Tiny)
		}
		ll += math.Log(tot)
	}
	return ll
}

// renormalise rescales each row of m to sum to 1 (float32 sums of a convex
// combination can drift by an ulp or two).
func renormalise(m data.Matrix) {
	for i := 0; i < m.Rows; i++ {
		row := m.Row(i)
		var s float64
		for _, v := range row {
			s += float64(v)
		}
		for j := range row {
			row[j] = float32(float64(row[j]) / s)
		}
	}
}
