package method

// naive and naive-hard: the student is trained with cross-entropy against
// the weak model's soft probabilities (naive) or its argmax as one-hot
// targets (naive-hard). The student is whatever the cell trains: a head on
// frozen strong features (ENC[:HEAD]) or a pretrained encoder fine-tuned end
// to end (ENC-ft).
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "naive",
		Description: "strong head trained on the weak model's soft labels (soft-label cross-entropy)",
		Reference:   "Burns et al. 2023, openai/weak-to-strong loss xent",
		Params:      "none (the strong head's own settings: ENC:HEAD, --epochs)",
		Adaptation:  "none: the cell's student (probe or fine-tuned encoder) is trained on the weak labels as in the paper",
		Gold:        "none",
	}, func(p Params) (Method, error) { return naive{hard: false}, p.Unused() })
	Register(Info{
		Name:        "naive-hard",
		Description: "strong head trained on the weak model's argmax labels (hard cross-entropy)",
		Reference:   "Burns et al. 2023 (hard-label variant)",
		Params:      "none",
		Adaptation:  "none: the cell's student (probe or fine-tuned encoder) is trained on the weak labels as in the paper",
		Gold:        "none",
	}, func(p Params) (Method, error) { return naive{hard: true}, p.Unused() })
}

type naive struct{ hard bool }

func (n naive) Name() string {
	if n.hard {
		return "naive-hard"
	}
	return "naive"
}

func (n naive) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", func(_ context.Context, v *View) (Objective, error) {
		targets := v.TrainStrong.WeakLabels
		if n.hard {
			targets = data.OneHot(targets.Argmax(), v.K)
		}
		return Objective{Objective: train.Objective{Targets: targets}}, nil
	}), nil
}
