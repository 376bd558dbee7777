package train

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// SoftCrossEntropy is the default LossFunc: the batch mean of
// -Σ_k targets[b,k]·log softmax(logits)[b,k].
//
// logits, targets: [batch, K] -> scalar. With soft targets its minimum is not
// zero but the mean entropy of the targets, reached when softmax(logits) ==
// targets; its gradient with respect to the logits is (softmax - targets)/batch.
func SoftCrossEntropy(logits, targets *Node) *Node {
	logp := LogSoftmax(logits, -1)                       // [batch, K]
	perExample := Neg(ReduceSum(Mul(targets, logp), -1)) // [batch]
	return ReduceAllMean(perExample)
}
