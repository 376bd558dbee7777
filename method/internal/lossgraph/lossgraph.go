// Package lossgraph holds the graph pieces the loss-based methods of
// package method share: the auxiliary-weight schedules, the detached soft
// cross-entropy, batch quantiles and the hardening of a student's
// predictions to the weak labels' prior.
package lossgraph

import (
	"math"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/train"
)

// Auxiliary-weight schedules of logconf and entropy.
const (
	// ScheduleStep is openai/weak-to-strong's: coef = step_frac while
	// step_frac <= warmup, then 1 (a jump from warmup to 1).
	ScheduleStep = "step"
	// ScheduleLinear is EleutherAI/w2s's: a linear ramp from 0 to 1 over
	// the warm-up, then 1.
	ScheduleLinear = "linear"
)

// ScheduleCoef is the schedule's multiplier of the auxiliary weight at a
// training progress in [0, 1): the host-side twin of ScheduleNode, used in
// tests and documentation.
func ScheduleCoef(schedule string, progress, warmup float64) float64 {
	switch {
	case warmup <= 0:
		return 1
	case schedule == ScheduleStep:
		if progress <= warmup {
			return progress
		}
		return 1
	default:
		return math.Min(1, progress/warmup)
	}
}

// ScheduleNode builds ScheduleCoef in the graph from the progress scalar.
func ScheduleNode(schedule string, progress *graph.Node, warmup float64) *graph.Node {
	g := progress.Graph()
	one := graph.ScalarOne(g, progress.DType())
	if warmup <= 0 {
		return one
	}
	if schedule == ScheduleStep {
		return graph.Where(graph.GreaterThan(progress, graph.Scalar(g, progress.DType(), warmup)), one, progress)
	}
	return graph.Min(graph.DivScalar(progress, warmup), one)
}

// XentTo is the per-example soft cross-entropy [B] of logits [B, K]
// against target [B, K], with the target treated as a constant (detached):
// the gradient of its batch mean is (softmax(logits) - target)/B.
func XentTo(logits, target *graph.Node) *graph.Node {
	return train.SoftCrossEntropy(logits, graph.StopGradient(target))
}

// Column returns column c of x [B, K] as [B].
func Column(x *graph.Node, c int) *graph.Node {
	return graph.Reshape(graph.Slice(x, graph.AxisRange(), graph.AxisElem(c)), x.Shape().Dimensions[0])
}

// Float converts a boolean or integer node to x's float dtype.
func Float(b *graph.Node, like *graph.Node) *graph.Node {
	return graph.ConvertDType(b, like.DType())
}

// Quantile is torch.quantile(x, q) with linear interpolation for x [B]
// and a scalar q in [0, 1]: sorted(x) at position q·(B-1), interpolated
// between its floor and ceiling. The sort is replaced by stable ranks from
// a [B, B] comparison (B is a minibatch, so this is cheap and uses only ops
// every backend has): rank_i = #{j: x_j < x_i} + #{j < i: x_j == x_i}.
func Quantile(x, q *graph.Node) *graph.Node {
	g := x.Graph()
	n := x.Shape().Dimensions[0]
	xi := graph.ExpandAxes(x, 1) // [B, 1]
	xj := graph.ExpandAxes(x, 0) // [1, B]
	less := Float(graph.LessThan(xj, xi), x)
	earlier := Float(graph.LessThan(graph.Iota(g, less.Shape(), 1), graph.Iota(g, less.Shape(), 0)), x) // j < i
	ties := graph.Mul(Float(graph.Equal(xj, xi), x), earlier)
	rank := graph.ReduceSum(graph.Add(less, ties), 1) // [B], values 0..B-1
	pos := graph.MulScalar(q, float64(n-1))
	lo := graph.Floor(pos)
	hi := graph.Min(graph.AddScalar(lo, 1), graph.Scalar(g, x.DType(), float64(n-1)))
	frac := graph.Sub(pos, lo)
	at := func(r *graph.Node) *graph.Node {
		return graph.ReduceSum(graph.Mul(x, Float(graph.Equal(rank, r), x)), 0)
	}
	vlo, vhi := at(lo), at(hi)
	return graph.Add(vlo, graph.Mul(frac, graph.Sub(vhi, vlo)))
}

// Harden returns the student's hardened predictions [B, K] (one-hot,
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
func Harden(p, y *graph.Node) *graph.Node {
	k := p.Shape().Dimensions[1]
	if k == 2 {
		q := graph.ReduceMean(Column(y, 1), 0)
		p0 := Column(p, 0)
		hard0 := Float(graph.GreaterOrEqual(p0, Quantile(p0, q)), p) // [B]
		one := graph.OnesLike(hard0)
		return graph.Stack([]*graph.Node{hard0, graph.Sub(one, hard0)}, 1)
	}
	prior := graph.ReduceMean(y, 0)                                                      // [K]
	mean := graph.Max(graph.ReduceMean(p, 0), graph.Scalar(p.Graph(), p.DType(), 1e-12)) // [K]
	shifted := graph.Mul(p, graph.ExpandAxes(graph.Div(prior, mean), 0))
	return graph.OneHot(graph.ArgMax(shifted, 1), k, p.DType())
}

// Tiny keeps logarithms of probabilities finite: log(max(y, Tiny)).
// A weak label of exactly 0 (float32 softmax underflow) then contributes
// 0·log(Tiny) = 0 to cross-entropies and KL, as it should.
const Tiny = 1e-30

// Log is log(max(y, Tiny)), elementwise.
func Log(y *graph.Node) *graph.Node {
	return graph.Log(graph.Max(y, graph.Scalar(y.Graph(), y.DType(), Tiny)))
}
