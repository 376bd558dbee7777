package method

// s2s: the naive student is trained on the weak labels, then each round
// relabels train_strong (in sample) with the previous student's soft
// predictions and trains a fresh student on them, one stage of the plan per
// round. Each round's student gets its own derived initialisation seed;
// round 0 keeps the cell's, so rounds=0 is naive, bit for bit.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "s2s",
		Description: "strong-to-strong self-distillation: after the naive student, each round retrains a fresh student on the previous student's soft predictions of train_strong",
		Reference:   "EleutherAI/w2s run.py --s2s_iters (strong2strong mode)",
		Params:      "rounds=2 (relabelling rounds after the naive student; 0 = naive)",
		Adaptation:  "each round's student has its own derived seed; in-sample relabelling as in the reference (with a probe that fits soft labels closely it changes little; EleutherAI report s2s mostly at or below naive)",
		Gold:        "none",
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

func (s s2s) Plan(_ context.Context, _ *View) (*Plan, error) {
	p := &Plan{Stages: []Stage{{Name: "round 0", Build: func(_ context.Context, v *View, _ data.Matrix) (Objective, error) {
		return Objective{Objective: train.Objective{Targets: v.TrainStrong.WeakLabels}}, nil
	}}}}
	for r := 1; r <= s.rounds; r++ {
		p.Stages = append(p.Stages, Stage{Name: fmt.Sprintf("round %d", r), Build: func(_ context.Context, _ *View, prev data.Matrix) (Objective, error) {
			return Objective{
				Objective: train.Objective{Targets: prev},
				Reseed:    func(base int64) int64 { return seeds.Derive(base, seeds.Lead("s2s", fmt.Sprint(r))) },
			}, nil
		}})
	}
	return p, nil
}
