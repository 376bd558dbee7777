package method

// product: the student is trained with cross-entropy against the detached,
// renormalised target ∝ p_student^β · y_weak^α, so examples where student
// and supervisor agree get sharper targets and disagreements are softened.
// The product is computed in log space, softmax(β·log p_student + α·log
// max(y_weak, 1e-30)): the same renormalised product, without a division by
// zero when a float32 weak label underflows to 0.
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
		Name:        "product",
		Description: "cross-entropy against the renormalised product of the student's and the weak model's probabilities, target ∝ p_student^β·y_weak^α (detached)",
		Reference:   "openai/weak-to-strong loss.py product_loss_fn (Burns et al. 2023 code release)",
		Params:      "alpha=1 (exponent of the weak labels); beta=1 (exponent of the student's probabilities)",
		Adaptation:  "product computed in log space (same target, no 0/0 on underflowed labels)",
		Gold:        "none",
	}, func(p Params) (Method, error) {
		alpha, err := p.Float("alpha", 1)
		if err != nil {
			return nil, err
		}
		beta, err := p.Float("beta", 1)
		if err != nil {
			return nil, err
		}
		if !(alpha >= 0) || !(beta >= 0) || alpha+beta == 0 {
			return nil, fmt.Errorf("alpha=%v, beta=%v: want exponents >= 0, not both 0", alpha, beta)
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		loss := func(logits, y, _ *graph.Node) *graph.Node {
			return lossgraph.XentTo(logits, productTarget(logits, y, alpha, beta))
		}
		return lossMethod{spec: Spec("product", p), build: func(*View) (train.Loss, error) { return train.Loss{PerExample: loss}, nil }}, nil
	})
}

// productTarget is softmax(β·log_softmax(logits) + α·log y): [B, K].
func productTarget(logits, y *graph.Node, alpha, beta float64) *graph.Node {
	return graph.Softmax(graph.Add(graph.MulScalar(graph.LogSoftmax(logits, -1), beta), graph.MulScalar(lossgraph.Log(y), alpha)), -1)
}
