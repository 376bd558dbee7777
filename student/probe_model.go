package student

import (
	"fmt"
	"math"
	"math/bits"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/backend"
)

// predictChunk is the largest number of rows sent to the device per call.
// Smaller remainders are padded to the next power of two (at least
// minPredictChunk), so prediction compiles at most a handful of shapes
// whatever N is.
const (
	predictChunk    = 1024
	minPredictChunk = 8
)

// ProbeModel is a trained probe: parameters plus the feature
// standardisation learnt on the training set. It is immutable after Fit or
// Load and safe for concurrent Predict/Logits calls.
type ProbeModel struct {
	kind      string
	dim, k    int
	hidden    int         // MLP hidden width; 0 for linear.
	mean      []float32   // [D] feature means; nil without standardisation.
	invStd    []float32   // [D] 1/std (1 for constant features).
	params    [][]float32 // in paramSpecs order: linear W [D,K], b [K]; mlp W1 [D,H], b1 [H], W2ᵀ [K,H], b2 [K].
	cfgHash   string
	trainLoss float64 // mean training loss over the last epoch.

	// The prediction graph bakes the parameters in as constants and is built
	// on first use.
	execOnce sync.Once
	exec     *Exec
	execErr  error
}

// K returns the number of classes.
func (h *ProbeModel) K() int { return h.k }

// Dim returns the feature dimension D the head expects.
func (h *ProbeModel) Dim() int { return h.dim }

// Kind returns "linear" or "mlp" ("linear" for a pairwise head too).
func (h *ProbeModel) Kind() string {
	if h.kind == headPair {
		return HeadLinear
	}
	return h.kind
}

// ConfigHash returns Config.Hash of the configuration the head was trained with.
func (h *ProbeModel) ConfigHash() string { return h.cfgHash }

// TrainLoss returns the mean training loss over the last epoch, as measured
// during training (before each step's update). For SoftCrossEntropy it is
// bounded below by the mean entropy of the targets: compare the two to judge
// how closely soft labels were fitted.
func (h *ProbeModel) TrainLoss() float64 { return h.trainLoss }

// predictExec builds (once) the graph x [chunk, D] -> logits [chunk, K] with
// the parameters as constants.
func (h *ProbeModel) predictExec() (*Exec, error) {
	h.execOnce.Do(func() {
		be, err := backend.Get()
		if err != nil {
			h.execErr = err
			return
		}
		specs := paramSpecs(h.kind, h.dim, h.hidden, h.k)
		exec, err := NewExec(be, func(x *Node) *Node {
			g := x.Graph()
			nodes := make([]*Node, len(h.params))
			for i, p := range h.params {
				nodes[i] = ConstTensor(g, tensors.FromFlatDataAndDimensions(p, specs[i].dims...))
			}
			return forward(h.kind, nodes, x)
		})
		if err != nil {
			h.execErr = fmt.Errorf("student: building prediction graph: %w", err)
			return
		}
		// Chunk sizes are powers of two from minPredictChunk to predictChunk.
		exec.SetMaxCache(bits.Len(predictChunk) - bits.Len(minPredictChunk) + 2)
		h.exec = exec
	})
	return h.exec, h.execErr
}

// Logits returns the head's logits [N, K] for features x [N, D].
func (h *ProbeModel) Logits(x data.Matrix) (data.Matrix, error) {
	if x.Cols != h.dim {
		return data.Matrix{}, fmt.Errorf("student: features have %d columns, head expects %d", x.Cols, h.dim)
	}
	if len(x.Values) != x.Rows*x.Cols {
		return data.Matrix{}, fmt.Errorf("student: features hold %d values, want %d×%d", len(x.Values), x.Rows, x.Cols)
	}
	if err := checkFeatures(x); x.Rows > 0 && err != nil {
		return data.Matrix{}, err
	}
	out := data.NewMatrix(x.Rows, h.k)
	if x.Rows == 0 {
		return out, nil
	}
	exec, err := h.predictExec()
	if err != nil {
		return data.Matrix{}, err
	}
	xs := standardize(x, h.mean, h.invStd)
	for start := 0; start < x.Rows; start += predictChunk {
		n := min(predictChunk, x.Rows-start)
		size := max(minPredictChunk, 1<<bits.Len(uint(n-1))) // next power of two >= n
		in := tensors.FromShape(shapes.Make(dtypes.Float32, size, h.dim))
		tensors.MustMutableFlatData(in, func(flat []float32) {
			copy(flat, xs[start*h.dim:(start+n)*h.dim])
			clear(flat[n*h.dim:]) // padding rows: their logits are dropped.
		})
		res, err := call1(exec, in)
		in.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: predicting rows %d..%d: %w", start, start+n, err)
		}
		err = tensors.ConstFlatData(res, func(flat []float32) {
			copy(out.Values[start*h.k:(start+n)*h.k], flat[:n*h.k])
		})
		res.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: reading logits: %w", err)
		}
	}
	return out, nil
}

// call1 runs a one-output graph (a graph.Exec or model.Exec), turning
// GoMLX panics into errors.
func call1(exec interface {
	Call1(args ...any) (*tensors.Tensor, error)
}, args ...any) (t *tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return exec.Call1(args...)
}

// Predict returns class probabilities [N, K] (softmax of Logits) for
// features x [N, D]. The softmax is done on the host in float64 so that every
// row sums to 1 within float32 rounding.
func (h *ProbeModel) Predict(x data.Matrix) (data.Matrix, error) {
	logits, err := h.Logits(x)
	if err != nil {
		return data.Matrix{}, err
	}
	softmaxRows(logits)
	return logits, nil
}

// softmaxRows replaces each row of m with its softmax, in place.
func softmaxRows(m data.Matrix) {
	for i := 0; i < m.Rows; i++ {
		row := m.Row(i)
		hi := row[0]
		for _, v := range row[1:] {
			hi = max(hi, v)
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - hi))
			row[j] = float32(e)
			sum += e
		}
		for j := range row {
			row[j] = float32(float64(row[j]) / sum)
		}
	}
}
