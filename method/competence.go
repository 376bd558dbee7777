package method

// Competence–conformity optimisers (issue 15; Kim et al., "Research on
// Superalignment Should Advance Now with Parallel Optimization of
// Competence and Conformity", arXiv 2503.07660, v2 "… Alternating
// Competence and Conformity Optimization"). Each is a schedule of the
// student's training built from two signals over train_strong:
//
//   - conformity C [Ns, K]: the supervisor's labels with the value
//     constraints applied, C_i = (1 − v_i)·y_i + v_i·onehot(c), where y are
//     the weak labels (or, with supervisors=…, a mixture of weak
//     supervisors of different families), v_i the weak value supervisor's
//     probability that example i is constrained and c the required class;
//     C = y without a value channel;
//   - competence: the student's own confident predictions, hardened to
//     one-hot (in the loss, at the weak labels' batch prior as logconf
//     does; between stages, the previous student's argmax).
//
// λ (lambda) is the weight of conformity everywhere:
//
//   - simultaneous: one stage, loss λ·CE(C) + (1 − λ)·CE(hardened own
//     predictions) = CE against λ·C + (1 − λ)·hardened, the competence
//     weight warmed up linearly over the first 10% of steps (Burns et al.'s
//     auxiliary-confidence loss is this with λ = 1 − coef and no value
//     term);
//   - sequential: a conformity stage (C), then a competence stage on
//     λ·C + (1 − λ)·onehot(argmax prev);
//   - alternating: phases=P stages alternating conformity and competence,
//     starting with conformity (C); a competence phase trains on the
//     previous student's hardened predictions, a later conformity phase on
//     λ·C + (1 − λ)·prev, pulling the student back towards its supervision
//     with strength λ;
//   - anneal (gap annealing): a ladder of supervisors of rising capacity,
//     each trained (2-fold cross-fitted) on the previous one's labels of
//     train_strong, the first on C, then the student trained as in
//     simultaneous on the last rung's labels with the value constraints
//     applied again.
//
// Every stage after the first has its own derived initialisation seed;
// the first keeps the cell's, so every optimiser at λ = 1 starts from the
// same conformity-trained student.

import (
	"context"
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// Optimisers lists the competence–conformity optimisers, in the order
// `w2s tradeoff` reports them.
var Optimisers = []string{"simultaneous", "alternating", "sequential", "anneal"}

const ccReference = "Kim et al., 'Research on Superalignment Should Advance Now with Parallel Optimization of Competence and Conformity' " +
	"(arXiv 2503.07660; v2 '… Alternating Competence and Conformity Optimization'), a position paper without code"

const ccNotInAll = "a competence–conformity optimiser: `w2s tradeoff` sweeps it over lambda"

const ccParams = "lambda=0.5 (weight of conformity: supervisor labels and value constraints; 1 - lambda on the student's own confident predictions); " +
	"supervisors=weak (diverse supervision: weak supervisors ENC[:HEAD] joined by '+', mixed as the ensemble method mixes them, e.g. weak+bow)"

const ccGold = "none; with supervisors beyond 'weak', weak-side: the extra supervisors and their mixture weights fit on train_weak gold " +
	"with weak features (free, recorded)"

func init() {
	Register(Info{
		Name: "simultaneous",
		Description: "competence and conformity at once: one student trained on lambda·CE(supervisor labels with value constraints) + " +
			"(1 - lambda)·CE(its own hardened predictions)",
		Reference:  ccReference + "; the loss is Burns et al.'s auxiliary confidence loss (arXiv 2312.09390) with a value term",
		Params:     ccParams,
		Adaptation: "the paper gives no objective; competence is self-training on the student's own confident predictions (hardened at the weak labels' batch prior), warmed up over 10% of steps",
		Gold:       ccGold, NotInAll: ccNotInAll,
	}, newCC("simultaneous"))
	Register(Info{
		Name: "alternating",
		Description: "competence and conformity in turn: phases alternate a conformity phase (supervisor labels and value constraints, " +
			"then lambda·them + (1 - lambda)·the previous student) and a competence phase (the previous student's hardened predictions)",
		Reference:  ccReference,
		Params:     ccParams + "; phases=4 (students trained, conformity first, >= 2)",
		Adaptation: "each phase trains a fresh student on targets built from the previous phase's predictions of train_strong (the plan/stage machinery), not one student updated in place",
		Gold:       ccGold, NotInAll: ccNotInAll,
	}, newCC("alternating"))
	Register(Info{
		Name:        "sequential",
		Description: "conformity, then competence: a student on the supervisor labels with value constraints, then a fresh one on lambda·them + (1 - lambda)·the first student's hardened predictions",
		Reference:   ccReference,
		Params:      ccParams,
		Adaptation:  "the competence stage keeps a conformity anchor of weight lambda, so lambda traces a front",
		Gold:        ccGold, NotInAll: ccNotInAll,
	}, newCC("sequential"))
	Register(Info{
		Name: "anneal",
		Description: "gap annealing: a ladder of supervisors of rising capacity, each trained on the previous one's labels (the first on the " +
			"supervisor labels with value constraints), the last supervising the student as simultaneous does",
		Reference: ccReference + " (gap annealing); Burns et al. 2023 §4.3.1 bootstrapping",
		Params: ccParams + "; ladder=auto (auto: the encoders strictly between the weak and the strong one on the ladder " + LadderText() +
			", or weak:mlp where none lies between, then a probe on the student's frozen encoder when the student is fine-tuned; or rungs ENC[:HEAD] joined by '+')",
		Adaptation: "rungs are probes on frozen features, each labelling train_strong out of fold (2 folds); the paper's iterative teacher-student training is this one upward pass",
		Gold:       ccGold, NotInAll: ccNotInAll,
	}, newCC("anneal"))
}

type ccMethod struct {
	spec, kind  string
	lambda      float64
	phases      int
	supervisors []student.Spec
	diverse     bool
	ladder      []student.Spec // nil: auto
}

func newCC(kind string) func(Params) (Method, error) {
	return func(p Params) (Method, error) {
		m := ccMethod{kind: kind}
		var err error
		if m.lambda, err = p.Float("lambda", 0.5); err != nil {
			return nil, err
		}
		if !(m.lambda >= 0 && m.lambda <= 1) {
			return nil, fmt.Errorf("lambda=%v: want a weight in [0, 1]", m.lambda)
		}
		sup := p.Str("supervisors", "weak")
		if m.supervisors, err = parseModels(sup); err != nil {
			return nil, fmt.Errorf("supervisors: %w", err)
		}
		m.diverse = sup != "weak"
		if kind == "alternating" {
			if m.phases, err = p.Int("phases", 4); err != nil {
				return nil, err
			}
			if m.phases < 2 {
				return nil, fmt.Errorf("phases=%d: want >= 2 (a conformity and a competence phase)", m.phases)
			}
		}
		if kind == "anneal" {
			if l := p.Str("ladder", "auto"); l != "auto" {
				if m.ladder, err = parseModels(l); err != nil {
					return nil, fmt.Errorf("ladder: %w", err)
				}
			}
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		m.spec = Spec(kind, p)
		return m, nil
	}
}

func (m ccMethod) Name() string { return m.spec }

// conformity returns C: the supervision (weak labels or the diverse
// mixture) with the weak value constraints applied.
func (m ccMethod) conformity(ctx context.Context, v *View) (data.Matrix, error) {
	y := v.TrainStrong.WeakLabels
	if m.diverse {
		o, err := ensemble{spec: m.spec, encoders: m.supervisors, seeds: 1, folds: 2}.objective(ctx, v)
		if err != nil {
			return data.Matrix{}, err
		}
		y = o.Targets
	}
	return withValues(y, v.Value), nil
}

// withValues applies the value constraints: row i moves towards the
// required class by the value supervisor's probability.
func withValues(y data.Matrix, val *WeakValue) data.Matrix {
	if val == nil {
		return y
	}
	out := data.NewMatrix(y.Rows, y.Cols)
	copy(out.Values, y.Values)
	for i := range out.Rows {
		p := val.TrainStrong[i]
		row := out.Row(i)
		for c := range row {
			row[c] *= 1 - p
		}
		row[val.Class] += p
	}
	return out
}

// hardened is the one-hot argmax of prev [N, K]: the student's own
// confident predictions.
func hardened(prev data.Matrix) data.Matrix { return data.OneHot(prev.Argmax(), prev.Cols) }

// mix is a·x + (1 − a)·y.
func mix(a float64, x, y data.Matrix) data.Matrix {
	out := data.NewMatrix(x.Rows, x.Cols)
	for i := range out.Values {
		out.Values[i] = float32(a)*x.Values[i] + float32(1-a)*y.Values[i]
	}
	return out
}

// simultaneousLoss is CE against λ·targets + (1 − λ)·s·hardened + (1 − λ)(1 − s)·targets,
// s the linear warm-up over the first 10% of steps.
func simultaneousLoss(name string, lambda float64) train.Loss {
	return train.Loss{Name: name, BatchStatistics: lambda < 1, PerExample: func(logits, targets, progress *graph.Node) *graph.Node {
		if lambda >= 1 {
			return lossgraph.XentTo(logits, targets)
		}
		return lossgraph.XentTo(logits, confTarget(logits, targets, progress, 1-lambda, lossgraph.ScheduleLinear, 0.1, true))
	}}
}

func (m ccMethod) reseed(stage int) func(int64) int64 {
	return func(base int64) int64 { return seeds.Derive(base, seeds.Lead(m.kind, fmt.Sprint(stage))) }
}

func (m ccMethod) Plan(_ context.Context, _ *View) (*Plan, error) {
	first := Stage{Name: "conformity", Build: func(ctx context.Context, v *View, _ data.Matrix) (Objective, error) {
		c, err := m.conformity(ctx, v)
		if err != nil {
			return Objective{}, fmt.Errorf("%s: %w", m.spec, err)
		}
		return Objective{Objective: train.Objective{Targets: c}}, nil
	}}
	switch m.kind {
	case "simultaneous":
		return Single("simultaneous", func(ctx context.Context, v *View) (Objective, error) {
			c, err := m.conformity(ctx, v)
			if err != nil {
				return Objective{}, fmt.Errorf("%s: %w", m.spec, err)
			}
			return Objective{Objective: train.Objective{Targets: c, Loss: simultaneousLoss(m.spec, m.lambda)}}, nil
		}), nil
	case "sequential":
		return &Plan{Stages: []Stage{first, {Name: "competence", Build: func(ctx context.Context, v *View, prev data.Matrix) (Objective, error) {
			c, err := m.conformity(ctx, v)
			if err != nil {
				return Objective{}, fmt.Errorf("%s: %w", m.spec, err)
			}
			return Objective{Objective: train.Objective{Targets: mix(m.lambda, c, hardened(prev))}, Reseed: m.reseed(1)}, nil
		}}}}, nil
	case "alternating":
		p := &Plan{Stages: []Stage{first}}
		for j := 1; j < m.phases; j++ {
			if j%2 == 1 {
				p.Stages = append(p.Stages, Stage{Name: fmt.Sprintf("competence %d", j/2+1), Build: func(_ context.Context, _ *View, prev data.Matrix) (Objective, error) {
					return Objective{Objective: train.Objective{Targets: hardened(prev)}, Reseed: m.reseed(j)}, nil
				}})
				continue
			}
			p.Stages = append(p.Stages, Stage{Name: fmt.Sprintf("conformity %d", j/2+1), Build: func(ctx context.Context, v *View, prev data.Matrix) (Objective, error) {
				c, err := m.conformity(ctx, v)
				if err != nil {
					return Objective{}, fmt.Errorf("%s: %w", m.spec, err)
				}
				return Objective{Objective: train.Objective{Targets: mix(m.lambda, c, prev)}, Reseed: m.reseed(j)}, nil
			}})
		}
		return p, nil
	case "anneal":
		return Single("annealed student", func(ctx context.Context, v *View) (Objective, error) {
			labels, err := m.annealed(ctx, v)
			if err != nil {
				return Objective{}, fmt.Errorf("%s: %w", m.spec, err)
			}
			return Objective{Objective: train.Objective{Targets: withValues(labels, v.Value), Loss: simultaneousLoss(m.spec, m.lambda)}}, nil
		}), nil
	}
	return nil, fmt.Errorf("%s: unknown optimiser %q", m.spec, m.kind)
}

// rungs is anneal's ladder for the view: the configured one, or the
// encoders between weak and strong (weak:mlp when none), then the
// student's frozen encoder under a linear head when the student is
// fine-tuned (a probe is weaker than the fine-tune of its encoder).
func (m ccMethod) rungs(v *View) []student.Spec {
	if m.ladder != nil {
		return m.ladder
	}
	var out []student.Spec
	for _, e := range IntermediateEncoders(v.WeakEncoder, v.StrongEncoder) {
		out = append(out, student.Spec{Encoder: e, Head: student.HeadLinear})
	}
	if len(out) == 0 {
		out = append(out, student.Spec{Encoder: "weak", Head: student.HeadMLP})
	}
	if v.Student.FineTune {
		out = append(out, student.Spec{Encoder: v.StrongEncoder, Head: student.HeadLinear})
	}
	return out
}

// annealed climbs the ladder: each rung is cross-fitted on the previous
// labels of train_strong, the first on C.
func (m ccMethod) annealed(ctx context.Context, v *View) (data.Matrix, error) {
	labels, err := m.conformity(ctx, v)
	if err != nil {
		return data.Matrix{}, err
	}
	var names []string
	for i, rung := range m.rungs(v) {
		var x data.Matrix
		if rung.Encoder == v.StrongEncoder && v.Student.FineTune {
			x = v.TrainStrong.Strong // the student's frozen features: a probe rung below the fine-tune
		} else if _, x, err = modelFeatures(ctx, v, rung.Encoder); err != nil {
			return data.Matrix{}, fmt.Errorf("rung %d: %w", i+1, err)
		}
		cfg := auxHeadConfig(v, rung, seeds.Derive(v.Seed, seeds.Lead("anneal", fmt.Sprint(i), rung.String())))
		if labels, err = crossFitLabels(ctx, x, labels, cfg, 2); err != nil {
			return data.Matrix{}, fmt.Errorf("rung %d (%s): %w", i+1, rung, err)
		}
		names = append(names, rung.String())
	}
	if v.Log != nil {
		fmt.Fprintf(v.Log, "%s: ladder %s agrees with the weak labels on %.3f of train_strong\n", m.spec, strings.Join(names, " → "),
			argmaxAgreement(labels, v.TrainStrong.WeakLabels))
	}
	return labels, nil
}

var _ Method = ccMethod{}
