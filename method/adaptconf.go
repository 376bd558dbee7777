package method

// adaptconf: per example, with the student's logits s and the teacher's t:
//
//	ce_self    = CE(s, argmax s)       ce_teacher = CE(s, argmax t)
//	α          = e^{ce_self/T} / (e^{ce_self/T} + e^{ce_teacher/T})   (detached)
//	loss       = mean[(1 - α)·τ²·KL(softmax(t/τ) || softmax(s/τ)) + α·ce_self]
//
// When student and teacher agree, ce_self = ce_teacher and α = 1/2; when the
// student confidently disagrees, ce_teacher is large and α shrinks toward 0,
// so the weight moves to imitating the teacher. The teacher is the weak
// model, whose logits are taken as log y_weak (softmax(log y/τ) = y at τ = 1;
// any per-row constant cancels).
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name: "adaptconf",
		Description: "per-example mix of imitating the weak model (KL) and self-training on the student's own argmax (CE), " +
			"with a detached weight α set by how much more the student's own label costs than the teacher's",
		Reference:  "Guo et al. 2024, 'Vision Superalignment: Weak-to-Strong Generalization for Vision Foundation Models' (arXiv 2402.03749); ggjy/vision_weak_to_strong distillers/adaptconf.py",
		Params:     "threshold=0.5 (temperature T of α; the reference uses 0.5 on CIFAR, 4.0 on ImageNet); temp=1 (KD temperature τ; KL scaled by τ²)",
		Adaptation: "pure W2S: the ground-truth term gt_w·CE(s, y) is dropped (no gold on train_strong; the reference's setting is closer to knowledge distillation) and kd_loss_weight is 1; teacher logits = log weak probabilities",
		Gold:       "none",
	}, func(p Params) (Method, error) {
		thr, err := p.Float("threshold", 0.5)
		if err != nil {
			return nil, err
		}
		temp, err := p.Float("temp", 1)
		if err != nil {
			return nil, err
		}
		if !(thr > 0) || !(temp > 0) {
			return nil, fmt.Errorf("threshold=%v, temp=%v: want positive temperatures", thr, temp)
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		loss := func(logits, y, _ *graph.Node) *graph.Node { return adaptconfLoss(logits, y, thr, temp) }
		return lossMethod{spec: Spec("adaptconf", p), build: func(*View) (train.Loss, error) { return train.Loss{PerExample: loss}, nil }}, nil
	})
}

// adaptconfAlpha is α [B] for logits and weak labels [B, K].
func adaptconfAlpha(logits, y *graph.Node, thr float64) (alpha, ceSelf *graph.Node) {
	k := logits.Shape().Dimensions[1]
	logp := graph.LogSoftmax(logits, -1)
	self := graph.StopGradient(graph.OneHot(graph.ArgMax(logits, 1), k, logp.DType()))
	teacher := graph.StopGradient(graph.OneHot(graph.ArgMax(y, 1), k, logp.DType()))
	ceSelf = graph.Neg(graph.ReduceSum(graph.Mul(self, logp), -1))
	ceTeacher := graph.Neg(graph.ReduceSum(graph.Mul(teacher, logp), -1))
	// e^a/(e^a+e^b) = sigmoid(a-b): the same number without overflow.
	alpha = graph.StopGradient(graph.Sigmoid(graph.DivScalar(graph.Sub(ceSelf, ceTeacher), thr)))
	return alpha, ceSelf
}

func adaptconfLoss(logits, y *graph.Node, thr, temp float64) *graph.Node {
	alpha, ceSelf := adaptconfAlpha(logits, y, thr)
	pt := graph.StopGradient(graph.Softmax(graph.DivScalar(lossgraph.Log(y), temp), -1))
	logps := graph.LogSoftmax(graph.DivScalar(logits, temp), -1)
	kd := graph.MulScalar(graph.ReduceSum(graph.Mul(pt, graph.Sub(lossgraph.Log(pt), logps)), -1), temp*temp)
	per := graph.Add(graph.Mul(graph.OneMinus(alpha), kd), graph.Mul(alpha, ceSelf))
	return per
}
