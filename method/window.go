package method

// window: soft cross-entropy against the weak labels only on the examples
// where the student is still uncertain, max_k p_student < 0.5 + r; examples
// the student is already confident about contribute nothing, so the student
// is not pulled back toward the weak model where it has made up its mind.
// radius=midweak sets r to the median weak confidence minus 0.5, i.e. the
// window holds the examples on which the student is less confident than the
// weak model is on half of train_strong.
//
// The in-window losses are summed and divided by the batch size (not by the
// in-window count), so the loss shrinks as the window empties and no
// example's loss depends on the rest of its batch. "Confidence" is max_k p,
// which for K = 2 is 0.5 + |p_1 - 0.5|.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"fmt"
	"strconv"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "window",
		Description: "soft cross-entropy against the weak labels only on examples where the student's max probability is below 0.5 + r (still uncertain)",
		Reference:   "EleutherAI/w2s loss.py window loss (radius \"midweak\")",
		Params:      "radius=midweak|NUMBER (midweak: median over train_strong of the weak labels' max probability, minus 0.5; a number in (0, 0.5])",
		Adaptation:  "none beyond K classes (confidence = max probability); in-window losses summed and divided by the batch size, as the reference does (fidelity fix, protocol 2: it was divided by the in-window count)",
		Gold:        "none",
	}, func(p Params) (Method, error) {
		radius := p.Str("radius", "midweak")
		fixed := -1.0
		if radius != "midweak" {
			r, err := strconv.ParseFloat(radius, 64)
			if err != nil || !(r > 0 && r <= 0.5) {
				return nil, fmt.Errorf("radius=%q: want midweak or a number in (0, 0.5]", radius)
			}
			fixed = r
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		return lossMethod{spec: Spec("window", p), build: func(v *View) (train.Loss, error) {
			r := fixed
			if r < 0 {
				r = windowMidweak(v)
			}
			return train.Loss{PerExample: func(logits, y, _ *graph.Node) *graph.Node { return windowLoss(logits, y, r) }}, nil
		}}, nil
	})
}

// windowMidweak is the median weak confidence on train_strong minus 0.5.
func windowMidweak(v *View) float64 {
	return medianConfidence(v.TrainStrong.WeakLabels) - 0.5
}

// windowLoss is m_i·CE_i per example [B], m_i = [max_k p_ik < 0.5 + r]:
// its batch mean is EleutherAI's Σ_i m_i·CE_i / B.
func windowLoss(logits, y *graph.Node, r float64) *graph.Node {
	logp := graph.LogSoftmax(logits, -1)
	ce := graph.Neg(graph.ReduceSum(graph.Mul(y, logp), -1)) // [B]
	conf := graph.StopGradient(graph.ReduceMax(graph.Exp(logp), -1))
	mask := lossgraph.Float(graph.LessThan(conf, graph.Scalar(conf.Graph(), conf.DType(), 0.5+r)), ce)
	return graph.Mul(mask, ce)
}
