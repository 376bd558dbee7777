package method

// kl: KL(y_weak || p_student), batch mean of Σ_k y_k·(log y_k - log p_k).
//
// KL and soft cross-entropy differ by the weak labels' entropy Σ y·log y,
// which does not depend on the student: the loss values differ by that
// constant, the gradients with respect to the logits are identical, and so
// the trained student is the same as naive's up to float rounding
// (TestKLGradientEqualsNaive checks both). It is here so that rows reporting
// "kl" in the references have a counterpart; its reported training loss is
// 0 at a perfect fit, which makes under-fitting easier to read than xent's.
// log y is taken as log max(y, 1e-30) so that a weak label that underflowed
// to 0 contributes 0.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "kl",
		Description: "KL(weak labels || student): soft cross-entropy minus the weak labels' entropy; same gradient, hence same student, as naive",
		Reference:   "EleutherAI/w2s loss.py kl; EleutherAI/weak-to-strong kl loss",
		Params:      "none",
		Adaptation:  "none beyond log max(y, 1e-30); differs from naive only in the reported loss value (by a constant per batch)",
		Gold:        "none",
		NotInAll:    "identical to naive up to a constant (same gradient, same student: TestKLGradientEqualsNaive); in `all` it would be a duplicate comparison that counts in the Holm family",
	}, func(p Params) (Method, error) {
		if err := p.Unused(); err != nil {
			return nil, err
		}
		return lossMethod{spec: Spec("kl", p), build: func(*View) (train.Loss, error) { return train.Loss{PerExample: klLoss}, nil }}, nil
	})
}

// klLoss is Σ_k y·(log y - log_softmax(logits)) per example [B].
func klLoss(logits, y, _ *graph.Node) *graph.Node {
	per := graph.ReduceSum(graph.Mul(y, graph.Sub(lossgraph.Log(y), graph.LogSoftmax(logits, -1))), -1)
	return per
}
