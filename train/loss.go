package train

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
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

// LossGradient evaluates a loss and its gradient with respect to the logits
// on the host's backend, outside training: logits and targets [B, K] ->
// the scalar loss and d loss / d logits [B, K]. progress is fed to
// ProgressLossFunc's progress input. It lets a method's tests check a loss
// against its formula with the exact graph that training runs (for a loss
// SoftCrossEntropy(logits, StopGradient(target)), target = softmax(logits) -
// B·gradient).
func LossGradient(loss ProgressLossFunc, logits, targets data.Matrix, progress float64) (float64, data.Matrix, error) {
	if logits.Rows != targets.Rows || logits.Cols != targets.Cols || logits.Rows == 0 {
		return 0, data.Matrix{}, fmt.Errorf("train: LossGradient: logits [%d, %d] and targets [%d, %d] must have one non-empty shape",
			logits.Rows, logits.Cols, targets.Rows, targets.Cols)
	}
	backend, err := Backend()
	if err != nil {
		return 0, data.Matrix{}, err
	}
	exec, err := NewExec(backend, func(z, t, p *Node) (*Node, *Node) {
		l := loss(z, t, p)
		if !l.Shape().IsScalar() {
			panic(errorf("train: loss returned shape %s, want a scalar", l.Shape()))
		}
		l = ConvertDType(l, dtypes.Float32)
		return l, Gradient(l, z)[0]
	})
	if err != nil {
		return 0, data.Matrix{}, fmt.Errorf("train: building loss graph: %w", err)
	}
	defer exec.Finalize()
	var outs []*tensors.Tensor
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("train: evaluating loss: %v", r)
			}
		}()
		outs = exec.MustCall(
			tensors.FromFlatDataAndDimensions(slices.Clone(logits.Values), logits.Rows, logits.Cols),
			tensors.FromFlatDataAndDimensions(slices.Clone(targets.Values), targets.Rows, targets.Cols),
			float32(progress))
		return nil
	}()
	if err != nil {
		return 0, data.Matrix{}, err
	}
	lv := tensors.MustCopyFlatData[float32](outs[0])
	grad := data.Matrix{Rows: logits.Rows, Cols: logits.Cols, Values: tensors.MustCopyFlatData[float32](outs[1])}
	for _, o := range outs {
		o.FinalizeAll()
	}
	return float64(lv[0]), grad, nil
}
