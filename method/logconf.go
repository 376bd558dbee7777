package method

// logconf: each minibatch B, the student's probabilities p = softmax(logits)
// are hardened to one-hot predictions whose class balance matches the weak
// labels' batch prior (threshold t = quantile of p[:,0] at q = mean of the
// weak labels' class-1 column; class 0 iff p[:,0] >= t), and the student is
// trained with cross-entropy against the detached target
//
//	target = (1 - c)·y_weak + c·hardened,  c = coef·schedule(progress)
//
// with schedule(progress) = min(1, progress/warmup) (linear, the default) or
// progress while progress <= warmup, then 1 (step). The threshold is taken
// over the student's minibatch, which the loss keeps randomly composed: it
// declares batch statistics, so the trainer never groups it by length. For
// K > 2 the hardening is the argmax after a one-step prior shift towards the
// weak labels' batch prior (lossgraph.Harden).
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
		Name: "logconf",
		Description: "auxiliary confidence loss: cross-entropy against (1-c)·weak labels + c·the student's own hardened predictions, " +
			"hardened by a threshold at the weak labels' batch prior so the student is pushed to be confident without collapsing to one class",
		Reference: "Burns et al. 2023 (arXiv 2312.09390) §4.3.2; openai/weak-to-strong loss.py logconf_loss_fn; EleutherAI/w2s loss.py log_confidence_loss",
		Params: "coef=0.5 (auxiliary weight c at full strength); schedule=linear|step (linear: c·min(1, progress/warmup), the paper's smooth " +
			"warm-up as EleutherAI and openai/weak-to-strong PR #33 have it; step: c·progress while progress <= warmup, then c, as released); " +
			"warmup=0.1 (fraction of optimiser steps)",
		Adaptation: "fidelity fix, issue 12: schedule=linear by default (the released step schedule jumps from warmup·c to c, a bug by " +
			"openai/weak-to-strong PR #33; step stays an option); threshold over the student's randomly composed minibatch (probe 128, " +
			"fine-tuned 32, released code 32, EleutherAI a buffer of the last 32 predictions); warm-up as a fraction of steps in both schedules " +
			"(EleutherAI counts 100 or 200 steps); K>2: argmax after a one-step prior shift " +
			"p_k·π_k/p̄_k towards the weak labels' batch prior π (no published rule)",
		Gold: "none",
	}, newLogconf(true))
}

// newLogconf builds logconf (harden = true) or entropy (harden = false).
func newLogconf(harden bool) func(Params) (Method, error) {
	name, defSchedule := "logconf", lossgraph.ScheduleLinear
	if !harden {
		name = "entropy"
	}
	return func(p Params) (Method, error) {
		coef, err := p.Float("coef", 0.5)
		if err != nil {
			return nil, err
		}
		if !(coef >= 0 && coef <= 1) {
			return nil, fmt.Errorf("coef=%v: want a weight in [0, 1]", coef)
		}
		schedule, warmup, err := parseSchedule(p, defSchedule)
		if err != nil {
			return nil, err
		}
		if err := p.Unused(); err != nil {
			return nil, err
		}
		loss := func(logits, targets, progress *graph.Node) *graph.Node {
			return lossgraph.XentTo(logits, confTarget(logits, targets, progress, coef, schedule, warmup, harden))
		}
		return lossMethod{spec: Spec(name, p), build: func(*View) (train.Loss, error) {
			// Hardening thresholds at the batch prior: a batch statistic.
			return train.Loss{PerExample: loss, BatchStatistics: harden}, nil
		}}, nil
	}
}

// confTarget is logconf's (harden) or entropy's (soft self-target) training
// target [B, K] for logits and weak labels [B, K] at a training progress
// scalar. Callers detach it.
func confTarget(logits, y, progress *graph.Node, coef float64, schedule string, warmup float64, harden bool) *graph.Node {
	p := graph.Softmax(logits, -1)
	self := p
	if harden {
		self = lossgraph.Harden(p, y)
	}
	c := graph.MulScalar(lossgraph.ScheduleNode(schedule, progress, warmup), coef)
	return graph.Add(graph.Mul(graph.OneMinus(c), y), graph.Mul(c, self))
}
