package train

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Schedule is the shape of the learning rate over training.
type Schedule string

const (
	// WarmupCosine ramps linearly over the first 5% of the steps to the
	// peak, then decays by a cosine to ~0 at the last step. Probes use it:
	// Adam's first steps divide by a variance estimated from one or two
	// batches and can overshoot without the warm-up.
	WarmupCosine Schedule = "warmup-cosine"
	// Constant keeps the peak learning rate throughout (the fine-tunes of
	// wave 1, whose results it reproduces).
	Constant Schedule = "constant"
)

// Optimiser constants that are not part of Config: the usual Adam values.
// They enter checkpoint keys through configVersion: change them and bump it.
const (
	adamBeta1      = 0.9
	adamBeta2      = 0.999
	adamEpsilon    = 1e-8
	warmupFraction = 0.05
	configVersion  = "train/v2"
)

// Config sets how a net is trained. Zero Epochs or BatchSize are errors:
// package student fills a student's defaults.
type Config struct {
	// Epochs is the fixed number of passes over the training rows; there is
	// no early stopping, because W2S students must not see gold validation
	// labels.
	Epochs int
	// BatchSize is the number of examples per optimiser step (capped at the
	// number of training rows).
	BatchSize int
	// LearningRate is the peak learning rate of GroupHead parameters.
	LearningRate float64
	// EncoderLR is the peak learning rate of GroupEncoder parameters
	// (pretrained weights being fine-tuned).
	EncoderLR float64
	// WeightDecay is decoupled (AdamW) weight decay on parameters with
	// Param.Decay: w -= lr·WeightDecay·w each step.
	WeightDecay float64
	// Schedule is WarmupCosine or Constant ("" is WarmupCosine).
	Schedule Schedule
	// StepsPerCall is how many optimiser steps one execution of the
	// training graph runs, unrolled (0 means 1). Each call has a fixed
	// host-side cost (argument set-up, output collection) comparable to a
	// whole step of a small head; probes amortise it over 8 steps. Nets
	// whose batch shapes vary (sentences padded to their batch's length)
	// need 1.
	StepsPerCall int
	// GroupByLength batches examples of similar length together when the
	// net is a LengthNet and the loss has no batch statistics.
	GroupByLength bool
	// Seed fixes the net's random initialisation and the batch order.
	Seed int64
	// Checkpoint, when set, is a file where the whole training state is
	// saved after every epoch (and every CheckpointEvery), and from which a
	// Fit with the same net, objective and configuration resumes bit for
	// bit. It does not change the result, so hashes leave it out.
	Checkpoint string
	// CheckpointEvery also saves during an epoch when this much time has
	// passed since the last save (0: at epoch ends only).
	CheckpointEvery time.Duration
	// Log receives a line per epoch (and resume notes); nil for none.
	Log io.Writer
	// Name prefixes the log lines ("use-lite-ft ceiling").
	Name string
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("train: Epochs = %d, must be at least 1", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("train: BatchSize = %d, must be at least 1", c.BatchSize)
	case c.StepsPerCall < 0:
		return fmt.Errorf("train: StepsPerCall = %d, must be >= 0", c.StepsPerCall)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"LearningRate", c.LearningRate}, {"EncoderLR", c.EncoderLR}, {"WeightDecay", c.WeightDecay}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("train: %s = %v, must be a finite number >= 0", f.name, f.v)
		}
	}
	switch c.Schedule {
	case "", WarmupCosine, Constant:
	default:
		return fmt.Errorf("train: unknown schedule %q (want %q or %q)", c.Schedule, WarmupCosine, Constant)
	}
	return nil
}

func (c Config) schedule() Schedule {
	if c.Schedule == "" {
		return WarmupCosine
	}
	return c.Schedule
}

func (c Config) stepsPerCall() int { return max(1, c.StepsPerCall) }

// String names every setting that changes the result, for results rows
// and hashes: "epochs=2 batch=32 lr=0.001 encoder_lr=3e-05 wd=0
// schedule=constant group_by_length=true seed=7".
func (c Config) String() string {
	return "epochs=" + strconv.Itoa(c.Epochs) +
		" batch=" + strconv.Itoa(c.BatchSize) +
		" lr=" + strconv.FormatFloat(c.LearningRate, 'g', -1, 64) +
		" encoder_lr=" + strconv.FormatFloat(c.EncoderLR, 'g', -1, 64) +
		" wd=" + strconv.FormatFloat(c.WeightDecay, 'g', -1, 64) +
		" schedule=" + string(c.schedule()) +
		" group_by_length=" + strconv.FormatBool(c.GroupByLength) +
		" seed=" + strconv.FormatInt(c.Seed, 10)
}

// learningRate is the multiplier of the peak learning rate at step t
// (0-based) of total: for WarmupCosine a linear warm-up to 1 over warmup
// steps, then a cosine decay to (1-cos(π/(total-warmup)))/2 ≈ 0 at the last
// step; 1 for Constant.
func (c Config) learningRate(peak float64, t, warmup, total int) float64 {
	if c.schedule() == Constant {
		return peak
	}
	if t < warmup {
		return peak * float64(t+1) / float64(warmup)
	}
	progress := float64(t-warmup) / float64(max(1, total-warmup))
	return peak * 0.5 * (1 + math.Cos(math.Pi*math.Min(progress, 1)))
}

// warmupSteps is the length of WarmupCosine's ramp.
func warmupSteps(total int) int { return max(1, int(math.Round(warmupFraction*float64(total)))) }

// Progress is the value a loss's progress input holds at 0-based step t of
// total: t/total, the openai/weak-to-strong step_frac.
func Progress(t, total int) float64 { return float64(t) / float64(total) }
