package method

// s2s: strong-to-strong self-distillation, EleutherAI/w2s run.py
// --s2s_iters (the "strong2strong" mode of their experiment grid): the naive
// student is trained on the weak labels, then each round relabels
// train_strong with the previous student's soft predictions and trains a
// fresh student on them. rounds=0 is naive, bit for bit.
//
// Adaptation: heads on frozen features; each round's student gets its own
// derived initialisation seed (round 0 keeps the cell's, so rounds=0 equals
// naive). Relabelling is in-sample, as in the reference; with a linear probe
// that fits soft labels closely this changes little, which is itself a
// finding EleutherAI report (s2s mostly <= the baseline).

import (
	"context"
	"fmt"

	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "s2s",
		Description: "strong-to-strong self-distillation: after the naive student, each round retrains a fresh student on the previous student's soft predictions of train_strong",
		Reference:   "EleutherAI/w2s run.py --s2s_iters (strong2strong mode)",
		Params:      "rounds=2 (relabelling rounds after the naive student; 0 = naive)",
		Adaptation:  "head on frozen features; each round's student has its own derived seed; in-sample relabelling as in the reference",
	}, func(p Params) (Method, error) {
		rounds, err := p.Int("rounds", 2)
		if err != nil {
			return nil, err
		}
		if rounds < 0 {
			return nil, fmt.Errorf("rounds=%d: want >= 0", rounds)
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		return s2s{spec: Spec("s2s", p), rounds: rounds}, nil
	})
}

type s2s struct {
	spec   string
	rounds int
}

func (s s2s) Name() string { return s.spec }

func (s s2s) Fit(ctx context.Context, v *View) (Predictor, error) {
	x := v.TrainStrong.Strong
	head, err := train.Fit(ctx, x, v.TrainStrong.WeakLabels, v.Head)
	if err != nil {
		return nil, fmt.Errorf("%s: fitting round 0: %w", s.spec, err)
	}
	for r := 1; r <= s.rounds; r++ {
		labels, err := head.Predict(x)
		if err != nil {
			return nil, fmt.Errorf("%s: relabelling in round %d: %w", s.spec, r, err)
		}
		cfg := v.Head
		cfg.Seed = lsSeed(v.Head.Seed, "s2s", fmt.Sprint(r))
		if head, err = train.Fit(ctx, x, labels, cfg); err != nil {
			return nil, fmt.Errorf("%s: fitting round %d: %w", s.spec, r, err)
		}
	}
	return head, nil
}
