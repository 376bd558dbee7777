package method

// naive and naive-hard: the baseline of Burns et al., "Weak-to-Strong
// Generalization: Eliciting Strong Capabilities With Weak Supervision" (2023),
// openai/weak-to-strong loss "xent": the strong head is trained with
// cross-entropy against the weak model's soft probabilities. naive-hard uses
// the weak model's argmax instead (one-hot targets), the other common baseline.
// Adaptation: the student is a head (linear or MLP, per the cell's strong
// ENC:HEAD) on frozen strong features rather than a fine-tuned transformer.

import (
	"context"
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "naive",
		Description: "strong head trained on the weak model's soft labels (soft-label cross-entropy)",
		Reference:   "Burns et al. 2023, openai/weak-to-strong loss xent",
		Params:      "none (the strong head's own settings: ENC:HEAD, --epochs)",
		Adaptation:  "head on frozen features instead of a fine-tuned transformer",
	}, func(p Params) (Method, error) { return naive{hard: false}, p.Unused() })
	Register(Info{
		Name:        "naive-hard",
		Description: "strong head trained on the weak model's argmax labels (hard cross-entropy)",
		Reference:   "Burns et al. 2023 (hard-label variant)",
		Params:      "none",
		Adaptation:  "head on frozen features instead of a fine-tuned transformer",
	}, func(p Params) (Method, error) { return naive{hard: true}, p.Unused() })
}

type naive struct{ hard bool }

func (n naive) Name() string {
	if n.hard {
		return "naive-hard"
	}
	return "naive"
}

func (n naive) Fit(ctx context.Context, v *View) (Predictor, error) {
	targets := v.TrainStrong.WeakLabels
	if n.hard {
		targets = data.OneHot(targets.Argmax(), v.K)
	}
	head, err := train.Fit(ctx, v.TrainStrong.Strong, targets, v.Head)
	if err != nil {
		return nil, fmt.Errorf("%s: fitting student: %w", n.Name(), err)
	}
	return head, nil
}
