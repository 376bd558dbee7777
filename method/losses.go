package method

// Shared pieces of the loss-based methods (logconf, entropy, product, window,
// kl, adaptconf): a Method whose plan trains the student on the weak labels
// with its own train.Loss, the auxiliary-weight schedules, and
// small host-side helpers (seed derivation, row confidences) used by the
// label-producing methods (bootstrap, s2s, ensemble). Helper names start
// with "ls" so they cannot collide with other files of the package.

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// lossMethod trains the student on train_strong's weak labels with a
// custom loss. build is called once per plan with the view, so a loss may
// depend on view-level statistics (window's "midweak" radius).
type lossMethod struct {
	spec  string
	build func(v *View) (train.Loss, error)
}

func (m lossMethod) Name() string { return m.spec }

func (m lossMethod) Plan(_ context.Context, v *View) (*Plan, error) {
	loss, err := m.build(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.spec, err)
	}
	loss.Name = m.spec
	return Single("student", func(_ context.Context, v *View) (Objective, error) {
		return Objective{Objective: train.Objective{Targets: v.TrainStrong.WeakLabels, Loss: loss}}, nil
	}), nil
}

// Auxiliary-weight schedules of logconf and entropy.
const (
	// lsScheduleStep is openai/weak-to-strong's: coef = step_frac while
	// step_frac <= warmup, then 1 (a jump from warmup to 1).
	lsScheduleStep = "step"
	// lsScheduleLinear is EleutherAI/w2s's: a linear ramp from 0 to 1 over
	// the warm-up, then 1.
	lsScheduleLinear = "linear"
)

// lsScheduleCoef is the schedule's multiplier of the auxiliary weight at a
// training progress in [0, 1): the host-side twin of lsScheduleNode, used in
// tests and documentation.
func lsScheduleCoef(schedule string, progress, warmup float64) float64 {
	switch {
	case warmup <= 0:
		return 1
	case schedule == lsScheduleStep:
		if progress <= warmup {
			return progress
		}
		return 1
	default:
		return math.Min(1, progress/warmup)
	}
}

// lsScheduleNode builds lsScheduleCoef in the graph from the progress scalar.
func lsScheduleNode(schedule string, progress *graph.Node, warmup float64) *graph.Node {
	g := progress.Graph()
	one := graph.ScalarOne(g, progress.DType())
	if warmup <= 0 {
		return one
	}
	if schedule == lsScheduleStep {
		return graph.Where(graph.GreaterThan(progress, graph.Scalar(g, progress.DType(), warmup)), one, progress)
	}
	return graph.Min(graph.DivScalar(progress, warmup), one)
}

// lsParseSchedule reads schedule and warmup parameters.
func lsParseSchedule(p Params, defSchedule string) (schedule string, warmup float64, err error) {
	schedule = p.Str("schedule", defSchedule)
	if schedule != lsScheduleStep && schedule != lsScheduleLinear {
		return "", 0, fmt.Errorf("schedule=%q: want %q or %q", schedule, lsScheduleStep, lsScheduleLinear)
	}
	warmup, err = p.Float("warmup", 0.1)
	if err != nil {
		return "", 0, err
	}
	if !(warmup >= 0 && warmup < 1) {
		return "", 0, fmt.Errorf("warmup=%v: want a fraction of training in [0, 1)", warmup)
	}
	return schedule, warmup, nil
}

// lsXentTo is the per-example soft cross-entropy [B] of logits [B, K]
// against target [B, K], with the target treated as a constant (detached):
// the gradient of its batch mean is (softmax(logits) - target)/B.
func lsXentTo(logits, target *graph.Node) *graph.Node {
	return train.SoftCrossEntropy(logits, graph.StopGradient(target))
}

// lsColumn returns column c of x [B, K] as [B].
func lsColumn(x *graph.Node, c int) *graph.Node {
	return graph.Reshape(graph.Slice(x, graph.AxisRange(), graph.AxisElem(c)), x.Shape().Dimensions[0])
}

// lsFloat converts a boolean or integer node to x's float dtype.
func lsFloat(b *graph.Node, like *graph.Node) *graph.Node {
	return graph.ConvertDType(b, like.DType())
}

// lsQuantile is torch.quantile(x, q) with linear interpolation for x [B]
// and a scalar q in [0, 1]: sorted(x) at position q·(B-1), interpolated
// between its floor and ceiling. The sort is replaced by stable ranks from
// a [B, B] comparison (B is a minibatch, so this is cheap and uses only ops
// every backend has): rank_i = #{j: x_j < x_i} + #{j < i: x_j == x_i}.
func lsQuantile(x, q *graph.Node) *graph.Node {
	g := x.Graph()
	n := x.Shape().Dimensions[0]
	xi := graph.ExpandAxes(x, 1) // [B, 1]
	xj := graph.ExpandAxes(x, 0) // [1, B]
	less := lsFloat(graph.LessThan(xj, xi), x)
	earlier := lsFloat(graph.LessThan(graph.Iota(g, less.Shape(), 1), graph.Iota(g, less.Shape(), 0)), x) // j < i
	ties := graph.Mul(lsFloat(graph.Equal(xj, xi), x), earlier)
	rank := graph.ReduceSum(graph.Add(less, ties), 1) // [B], values 0..B-1
	pos := graph.MulScalar(q, float64(n-1))
	lo := graph.Floor(pos)
	hi := graph.Min(graph.AddScalar(lo, 1), graph.Scalar(g, x.DType(), float64(n-1)))
	frac := graph.Sub(pos, lo)
	at := func(r *graph.Node) *graph.Node {
		return graph.ReduceSum(graph.Mul(x, lsFloat(graph.Equal(rank, r), x)), 0)
	}
	vlo, vhi := at(lo), at(hi)
	return graph.Add(vlo, graph.Mul(frac, graph.Sub(vhi, vlo)))
}

// lsHarden returns the student's hardened predictions [B, K] (one-hot,
// constant) from its probabilities p [B, K], matched to the weak labels'
// batch prior.
//
// K = 2 is openai/weak-to-strong's rule: t = quantile(p[:,0], q) at q =
// mean(y[:,1]); an example is class 0 iff p[:,0] >= t, so about a fraction q
// of the batch is hardened to class 1, the weak labels' share of class 1.
//
// K > 2 has no published rule; ours is the argmax after a prior shift (one
// EM step of Saerens et al. 2002): argmax_k p_k·π_k/p̄_k, where π is the
// batch mean of the weak labels and p̄ that of the student's probabilities,
// so classes the student over-predicts relative to the weak prior are
// discounted. With K = 2 both rules agree when the student's mean matches
// the prior.
func lsHarden(p, y *graph.Node) *graph.Node {
	k := p.Shape().Dimensions[1]
	if k == 2 {
		q := graph.ReduceMean(lsColumn(y, 1), 0)
		p0 := lsColumn(p, 0)
		hard0 := lsFloat(graph.GreaterOrEqual(p0, lsQuantile(p0, q)), p) // [B]
		one := graph.OnesLike(hard0)
		return graph.Stack([]*graph.Node{hard0, graph.Sub(one, hard0)}, 1)
	}
	prior := graph.ReduceMean(y, 0)                                                      // [K]
	mean := graph.Max(graph.ReduceMean(p, 0), graph.Scalar(p.Graph(), p.DType(), 1e-12)) // [K]
	shifted := graph.Mul(p, graph.ExpandAxes(graph.Div(prior, mean), 0))
	return graph.OneHot(graph.ArgMax(shifted, 1), k, p.DType())
}

// lsTiny keeps logarithms of probabilities finite: log(max(y, lsTiny)).
// A weak label of exactly 0 (float32 softmax underflow) then contributes
// 0·log(lsTiny) = 0 to cross-entropies and KL, as it should.
const lsTiny = 1e-30

func lsLog(y *graph.Node) *graph.Node {
	return graph.Log(graph.Max(y, graph.Scalar(y.Graph(), y.DType(), lsTiny)))
}

// lsMedianConfidence is the median over rows of max_k y[i,k] of y [N, K].
func lsMedianConfidence(y data.Matrix) float64 {
	conf := make([]float64, y.Rows)
	for i := range conf {
		for _, v := range y.Row(i) {
			conf[i] = math.Max(conf[i], float64(v))
		}
	}
	sort.Float64s(conf)
	n := len(conf)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return conf[n/2]
	}
	return (conf[n/2-1] + conf[n/2]) / 2
}

// lsIsWeak reports whether enc names the cell's weak encoder.
func lsIsWeak(v *View, enc string) bool {
	return enc == "weak" || (v.WeakEncoder != "" && enc == v.WeakEncoder)
}

// lsParseModels splits "a+b:mlp+c" into probe specs (ENC[:HEAD], "weak"
// is the cell's weak encoder); a fine-tuned form is refused, since rungs
// and members are probes on frozen features.
func lsParseModels(s string) ([]student.Spec, error) {
	var out []student.Spec
	for _, part := range strings.Split(s, "+") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty model in %q (want ENC[:HEAD] joined by '+')", s)
		}
		var m student.Spec
		if enc, head, ok := strings.Cut(part, ":"); ok && enc == "weak" {
			if head != student.HeadLinear && head != student.HeadMLP {
				return nil, fmt.Errorf("%q: unknown head %q", part, head)
			}
			m = student.Spec{Encoder: enc, Head: head}
		} else if part == "weak" {
			m = student.Spec{Encoder: part, Head: student.HeadLinear}
		} else {
			var err error
			if m, err = student.Parse(part); err != nil {
				return nil, err
			}
			if m.FineTune {
				return nil, fmt.Errorf("%q: rungs and members are probes on frozen features, not fine-tuned encoders", part)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// lsHeadConfig is the training config of an auxiliary probe (a bootstrap
// rung, an ensemble member): the weak model's when refitting it on the weak
// encoder with its head, else the cell's strong probe settings when the head
// kind matches (so --epochs carries over), else that head's defaults; no
// standardisation for sparse pre-scaled encoders, as the runner does.
func lsHeadConfig(v *View, m student.Spec, seed int64) student.ProbeConfig {
	cfg := student.DefaultProbeConfig(m.Head)
	switch {
	case lsIsWeak(v, m.Encoder) && v.WeakProbe.Head == m.Head:
		cfg = v.WeakProbe // refits of the weak model train as it was trained
	case v.StrongProbe.Head == m.Head:
		cfg = v.StrongProbe
	}
	cfg.Standardize = true
	if info, ok := encode.Lookup(m.Encoder); ok && info.Sparse {
		cfg.Standardize = false
	}
	cfg.Seed = seed
	return cfg
}

// lsFeatures returns model m's features of train_weak and train_strong:
// the view's own weak features for "weak", else View.Features.
func lsFeatures(ctx context.Context, v *View, enc string) (tw, ts data.Matrix, err error) {
	if lsIsWeak(v, enc) {
		return v.TrainWeak.Weak, v.TrainStrong.Weak, nil
	}
	if v.Features == nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("encoder %q needs View.Features, which this runner does not provide", enc)
	}
	tw, ts, err = v.Features(ctx, enc)
	if err != nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("features of %q: %w", enc, err)
	}
	if tw.Rows != v.TrainWeak.Weak.Rows || ts.Rows != v.TrainStrong.Weak.Rows {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("features of %q have %d/%d rows, want %d/%d", enc, tw.Rows, ts.Rows, v.TrainWeak.Weak.Rows, v.TrainStrong.Weak.Rows)
	}
	return tw, ts, nil
}

var _ Method = lossMethod{}
