package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/gomlx/gomlx/core/graph"
)

// Head kinds accepted in Config.Head.
const (
	HeadLinear = "linear" // logits = x·W + b: multinomial logistic regression.
	HeadMLP    = "mlp"    // logits = relu(x·W1 + b1)·W2 + b2: one hidden layer.
)

// Optimiser constants that are not part of Config: they are the usual Adam
// values and nobody in this project has needed to change them. They are part
// of Config.Hash through hashVersion: change them and bump it.
const (
	adamBeta1   = 0.9
	adamBeta2   = 0.999
	adamEpsilon = 1e-8
	// warmupFraction of all steps ramps the learning rate linearly from
	// peak/warm to peak: Adam's first steps divide by a variance estimated from
	// one or two batches and can overshoot without it.
	warmupFraction = 0.05
	hashVersion    = "train/v1"
)

// LossFunc maps logits [batch, K] and targets [batch, K] to a scalar loss to
// minimise (a mean over the batch, so the learning rate does not depend on the
// batch size). It is built into the training graph, so it must use only graph
// ops; methods that need the student's own predictions (logconf, product of
// experts...) compute them from logits inside the function.
//
// Every batch given to a LossFunc is full-size: Fit never pads, it completes the
// last batch of an epoch with examples from the start of that epoch's order.
type LossFunc func(logits, targets *graph.Node) *graph.Node

// ProgressLossFunc is a LossFunc that also sees how far training has got:
// progress is a float32 scalar node holding t/totalSteps for the 0-based
// optimiser step t, so it is 0 at the first step and (total-1)/total at the
// last. It is a graph input fed each step (the graph is not rebuilt), for
// losses with a schedule such as logconf's warm-up of its auxiliary weight.
type ProgressLossFunc func(logits, targets, progress *graph.Node) *graph.Node

// Config sets how a head is trained. Zero values of Hidden, Epochs, BatchSize
// and LearningRate mean "the default for this head" (see DefaultConfig);
// WeightDecay, Seed and Standardize are taken as given, so build configs from
// DefaultConfig and change fields rather than from a zero Config.
type Config struct {
	// Head is HeadLinear ("linear") or HeadMLP ("mlp").
	Head string
	// Hidden is the width of the MLP's single hidden layer (ReLU: cheap on the
	// Go backend, where erf-based GELU is slow). Ignored by the linear head.
	Hidden int
	// Epochs is the fixed number of passes over the training set; there is no
	// early stopping, because W2S students must not see gold validation labels.
	Epochs int
	// BatchSize is the minibatch size (capped at the number of examples).
	BatchSize int
	// LearningRate is Adam's peak learning rate: linear warm-up over the first
	// 5% of steps, then cosine decay to ~0 at the last step.
	LearningRate float64
	// WeightDecay is decoupled (AdamW-style) weight decay, applied to weight
	// matrices only (not to biases): w -= lr·WeightDecay·w each step.
	WeightDecay float64
	// Seed fixes parameter initialisation and minibatch order.
	Seed int64
	// Standardize z-scores every feature with the training set's mean and
	// standard deviation; the statistics are stored in the Head and applied
	// again by Predict.
	Standardize bool
	// Loss is the training loss; nil means SoftCrossEntropy. It is not part of
	// Hash: a method that sets it adds its own identifier to the hash.
	Loss LossFunc
	// ProgressLoss is a training loss that depends on the training progress
	// (see ProgressLossFunc). At most one of Loss and ProgressLoss may be set.
	// Like Loss it is not part of Hash.
	ProgressLoss ProgressLossFunc
}

// DefaultConfig returns the defaults for head "linear" or "mlp" (any other
// name is kept, so Validate reports it).
//
// The defaults were chosen to fit soft labels closely on a few thousand
// standardised examples (see TestSoftLabelFit): peak learning rates above
// the usual 1e-3 (1e-2 for the convex linear head, 3e-3 for the MLP) and
// enough epochs that the training loss ends within ~0.1% of the soft
// targets' own entropy. On 2000 examples of a 24-dimensional mixture the
// MLP's mean |p - target| was 0.011 at lr 1e-3 and 0.006 at 3e-3 (20 epochs,
// batch 128); the linear head's was 0.0002.
func DefaultConfig(head string) Config {
	c := Config{
		Head:        head,
		BatchSize:   128,
		WeightDecay: 0.01,
		Standardize: true,
	}
	switch head {
	case HeadLinear:
		c.Epochs = 30
		c.LearningRate = 1e-2
	case HeadMLP:
		c.Hidden = 256
		c.Epochs = 20
		c.LearningRate = 3e-3
	}
	return c
}

// withDefaults fills the zero fields that have a per-head default.
func (c Config) withDefaults() Config {
	d := DefaultConfig(c.Head)
	if c.Hidden == 0 {
		c.Hidden = d.Hidden
	}
	if c.Epochs == 0 {
		c.Epochs = d.Epochs
	}
	if c.BatchSize == 0 {
		c.BatchSize = d.BatchSize
	}
	if c.LearningRate == 0 {
		c.LearningRate = d.LearningRate
	}
	return c
}

// Validate reports the first invalid field. Zero values that have defaults
// are valid.
func (c Config) Validate() error {
	switch c.Head {
	case HeadLinear, HeadMLP:
	default:
		return fmt.Errorf("train: unknown head %q (want %q or %q)", c.Head, HeadLinear, HeadMLP)
	}
	if c.Hidden < 0 {
		return fmt.Errorf("train: Hidden = %d, must be positive", c.Hidden)
	}
	if c.Epochs < 0 {
		return fmt.Errorf("train: Epochs = %d, must be positive", c.Epochs)
	}
	if c.BatchSize < 0 {
		return fmt.Errorf("train: BatchSize = %d, must be positive", c.BatchSize)
	}
	if c.LearningRate < 0 || math.IsNaN(c.LearningRate) || math.IsInf(c.LearningRate, 0) {
		return fmt.Errorf("train: LearningRate = %v, must be a positive finite number", c.LearningRate)
	}
	if c.WeightDecay < 0 || math.IsNaN(c.WeightDecay) || math.IsInf(c.WeightDecay, 0) {
		return fmt.Errorf("train: WeightDecay = %v, must be a finite number >= 0", c.WeightDecay)
	}
	if c.Loss != nil && c.ProgressLoss != nil {
		return fmt.Errorf("train: both Loss and ProgressLoss are set; set one")
	}
	return nil
}

// Hash returns a stable 16-hex-digit identifier of the training settings,
// for caching results: the fields after defaults are filled, so
// Config{Head: "linear"} and DefaultConfig("linear") with the same Seed, WeightDecay and Standardize
// hash alike. Loss is excluded (a function has no stable identity); Hidden is
// excluded for the linear head, which ignores it.
func (c Config) Hash() string {
	c = c.withDefaults()
	hidden := c.Hidden
	if c.Head == HeadLinear {
		hidden = 0
	}
	s := hashVersion +
		"|head=" + c.Head +
		"|hidden=" + strconv.Itoa(hidden) +
		"|epochs=" + strconv.Itoa(c.Epochs) +
		"|batch=" + strconv.Itoa(c.BatchSize) +
		"|lr=" + strconv.FormatFloat(c.LearningRate, 'g', -1, 64) +
		"|wd=" + strconv.FormatFloat(c.WeightDecay, 'g', -1, 64) +
		"|seed=" + strconv.FormatInt(c.Seed, 10) +
		"|std=" + strconv.FormatBool(c.Standardize)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
