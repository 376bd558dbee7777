package train

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Net is what the trainer optimises: parameters living in a model.Scope and
// a forward graph from a fed batch to logits. A Net is bound to its
// examples (features, token ids, images) when it is built, so the trainer
// only deals in row indices. Package student builds the nets (a probe
// head on frozen features, a pretrained encoder with a head); the trainer
// never needs to know which.
//
// A Net is used by one Fit and is changed by it: after Fit its variables
// hold the trained values.
type Net interface {
	// Init creates the net's variables in scope and returns the parameters
	// to train, in a fixed order. Random initial values are drawn from rng,
	// which the trainer seeds from Config.Seed and afterwards uses for the
	// batch order, so a Net that draws nothing leaves the order unchanged.
	Init(scope *model.Scope, rng *rand.Rand) ([]Param, error)
	// Len is the number of examples the net is bound to; Objective rows
	// index them.
	Len() int
	// Feed lays out the examples rows (indices below Len) as the graph
	// inputs of one batch. The trainer takes ownership of the tensors.
	Feed(rows []int) ([]*tensors.Tensor, error)
	// Logits builds logits [B, K] from the fed inputs of one batch, reading
	// the parameters' current values from scope (Param.Var.NodeValue).
	Logits(scope *model.Scope, fed []*graph.Node) *graph.Node
	// Fingerprint identifies the net's architecture, initial weights and
	// bound examples: a checkpoint is resumed only by a Fit whose net,
	// objective and configuration hash alike.
	Fingerprint() string
}

// GradNet is a Net that differentiates itself: LossAndGrads returns the
// batch loss that lossOf builds from the logits and its gradient with
// respect to each parameter, in Init's order. The probe heads use it for
// hand-written dense-layer gradients that take the Go backend's fast
// matrix-product paths (automatic differentiation transposes activations
// at every step there).
type GradNet interface {
	Net
	LossAndGrads(scope *model.Scope, fed []*graph.Node, lossOf func(logits *graph.Node) *graph.Node) (loss *graph.Node, grads []*graph.Node)
}

// LengthNet is a Net whose examples cost in proportion to a length (tokens
// of a sentence): with Config.GroupByLength the trainer puts examples of
// similar length in one batch, so that little of a batch is padding, when
// the loss allows it (Loss.BatchStatistics false).
type LengthNet interface {
	Net
	// Lengths returns the cost of each of the Len examples.
	Lengths() []int
}

// Group names a set of parameters that share a learning rate.
type Group int

const (
	// GroupHead is a freshly initialised head: Config.LearningRate.
	GroupHead Group = iota
	// GroupEncoder is a pretrained encoder's weights: Config.EncoderLR.
	GroupEncoder
)

// Param is one trainable variable.
type Param struct {
	Var   *model.Variable
	Group Group
	// Decay applies decoupled weight decay (weight matrices, not biases or
	// normalisation scales).
	Decay bool
}
