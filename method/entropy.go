package method

// entropy: logconf without hardening. The target is (1 - c)·y_weak +
// c·p_student with the student's own soft probabilities (detached) instead of
// its hardened predictions: minimising cross-entropy against one's own
// predictions lowers their entropy, i.e. pushes toward confidence without a
// prior-matching threshold. The schedule is logconf's (newLogconf).
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

func init() {
	Register(Info{
		Name:        "entropy",
		Description: "cross-entropy against (1-c)·weak labels + c·the student's own soft predictions (detached): logconf without hardening, an entropy-minimising self-target",
		Reference:   "EleutherAI/w2s loss.py log_confidence_loss(harden=False), the entropy mode of their experiment grid; variant of Burns et al. 2023's confidence loss",
		Params:      "coef=0.5 (auxiliary weight at full strength); schedule=linear|step (linear); warmup=0.1 (fraction of optimiser steps)",
		Adaptation:  "warm-up as a fraction of steps rather than EleutherAI's step count; linear schedule by default, as EleutherAI (step available)",
		Gold:        "none",
	}, newLogconf(false))
}
