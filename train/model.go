package train

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// paramSpec describes one parameter array of a head.
type paramSpec struct {
	dims  []int
	fanIn int  // for initialisation; 0 for biases (initialised to zero).
	decay bool // weight decay applies (weight matrices only).
}

// paramSpecs lists a head's parameters in storage order:
//
//	linear: Wᵀ [K, D], b [K]
//	mlp:    W1 [D, H], b1 [H], W2ᵀ [K, H], b2 [K]
//
// Output layers are stored transposed ([K, in]) for the Go backend's sake:
// its dot product is fast only when the left operand contracts its last axis,
// and it runs without SIMD when the right operand's free axis is small (K = 2
// here). With Wᵀ the forward pass (x·W contracts the last axis of both) and
// the weight gradient (dzᵀ·x, free axis D) take the fast paths with no
// transpose of [batch, D] activations.
func paramSpecs(kind string, dim, hidden, k int) []paramSpec {
	if kind == HeadLinear {
		return []paramSpec{{dims: []int{k, dim}, fanIn: dim, decay: true}, {dims: []int{k}}}
	}
	return []paramSpec{
		{dims: []int{dim, hidden}, fanIn: dim, decay: true},
		{dims: []int{hidden}},
		{dims: []int{k, hidden}, fanIn: hidden, decay: true},
		{dims: []int{k}},
	}
}

// hiddenPre returns the MLP's hidden pre-activation x·W1 + b1: [batch, H].
func hiddenPre(p []*Node, x *Node) *Node {
	return Add(MatMul(x, p[0]), ExpandAxes(p[1], 0))
}

// affineT returns x·W + b [batch, out] for x [batch, in], Wᵀ [out, in] and b [out].
func affineT(x, wT, b *Node) *Node {
	return Add(DotGeneral(x, []int{1}, nil, wT, []int{1}, nil), ExpandAxes(b, 0))
}

// relu is max(x, 0); ReLU rather than GELU because erf is slow on the Go
// backend and the heads are shallow.
func relu(x *Node) *Node { return Max(x, ScalarZero(x.Graph(), x.DType())) }

// forward computes logits [batch, K] from features x [batch, D] and the
// parameter nodes in paramSpecs order.
func forward(kind string, p []*Node, x *Node) *Node {
	if kind == HeadLinear {
		return affineT(x, p[0], p[1])
	}
	return affineT(relu(hiddenPre(p, x)), p[2], p[3])
}

// lossAndGradients computes the loss of a batch and its gradient with respect
// to each parameter (paramSpecs order). x [batch, D] are the features, xT
// [D, batch] their transpose (MLP only; nil for linear); targets [batch, K].
//
// Automatic differentiation is used only from the loss back to the logits
// (so any LossFunc works); the two dense layers are differentiated by hand,
// which lets every weight gradient be a plain matrix product whose left
// operand contracts its last axis (dzᵀ·x, xT·dpre, dzᵀ·h). GoMLX's generic VJP of a
// matmul contracts the batch axis of both operands and makes the Go backend
// transpose [batch, D] activations and the [D, H] gradient at every step,
// which cost more than the products themselves. TestManualGradients checks
// these against graph.Gradient.
func lossAndGradients(kind string, p []*Node, x, xT, targets *Node, lossFn LossFunc) (loss *Node, grads []*Node) {
	if kind == HeadLinear {
		z := affineT(x, p[0], p[1])
		loss, dz := lossAndLogitGradient(lossFn, z, targets)
		return loss, []*Node{MatMul(Transpose(dz, 0, 1), x), ReduceSum(dz, 0)}
	}
	pre := hiddenPre(p, x) // [batch, H]
	h := relu(pre)
	z := affineT(h, p[2], p[3])
	loss, dz := lossAndLogitGradient(lossFn, z, targets) // dz [batch, K]
	dW2T := MatMul(Transpose(dz, 0, 1), h)               // [K, H]; the transpose is of a tiny [batch, K].
	dh := MatMul(dz, p[2])                               // [batch, H]
	dpre := Mul(dh, ConvertDType(GreaterThan(pre, ScalarZero(pre.Graph(), pre.DType())), dtypes.Float32))
	return loss, []*Node{MatMul(xT, dpre), ReduceSum(dpre, 0), dW2T, ReduceSum(dz, 0)}
}

// lossAndLogitGradient evaluates lossFn and its gradient with respect to the
// logits z [batch, K].
func lossAndLogitGradient(lossFn LossFunc, z, targets *Node) (loss, dz *Node) {
	loss = lossFn(z, targets)
	if !loss.Shape().IsScalar() {
		panic(errorf("train: LossFunc returned shape %s, want a scalar", loss.Shape()))
	}
	if loss.DType() != dtypes.Float32 {
		loss = ConvertDType(loss, dtypes.Float32)
	}
	return loss, Gradient(loss, z)[0]
}
