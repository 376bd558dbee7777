package train

import (
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
)

// predictChunk is the largest number of rows sent to the device per call.
// Smaller remainders are padded to the next power of two (at least
// minPredictChunk), so prediction compiles at most a handful of shapes
// whatever N is.
const (
	predictChunk    = 1024
	minPredictChunk = 8
)

// Head is a trained classification head: parameters plus the feature
// standardisation learnt on the training set. It is immutable after Fit or
// Load and safe for concurrent Predict/Logits calls.
type Head struct {
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
func (h *Head) K() int { return h.k }

// Dim returns the feature dimension D the head expects.
func (h *Head) Dim() int { return h.dim }

// Kind returns "linear" or "mlp".
func (h *Head) Kind() string { return h.kind }

// ConfigHash returns Config.Hash of the configuration the head was trained with.
func (h *Head) ConfigHash() string { return h.cfgHash }

// TrainLoss returns the mean training loss over the last epoch, as measured
// during training (before each step's update). For SoftCrossEntropy it is
// bounded below by the mean entropy of the targets: compare the two to judge
// how closely soft labels were fitted.
func (h *Head) TrainLoss() float64 { return h.trainLoss }

// standardize returns a copy of x [N, D] with (x - mean)·invStd applied per
// column, or x's values unchanged (not copied) when mean is nil. Train and
// predict share it so that both see bit-identical inputs.
func standardize(x data.Matrix, mean, invStd []float32) []float32 {
	if mean == nil {
		return x.Values
	}
	out := make([]float32, len(x.Values))
	d := x.Cols
	for i := 0; i < x.Rows; i++ {
		row := x.Values[i*d : (i+1)*d]
		o := out[i*d : (i+1)*d]
		for j, v := range row {
			o[j] = (v - mean[j]) * invStd[j]
		}
	}
	return out
}

// predictExec builds (once) the graph x [chunk, D] -> logits [chunk, K] with
// the parameters as constants.
func (h *Head) predictExec() (*Exec, error) {
	h.execOnce.Do(func() {
		backend, err := Backend()
		if err != nil {
			h.execErr = err
			return
		}
		specs := paramSpecs(h.kind, h.dim, h.hidden, h.k)
		exec, err := NewExec(backend, func(x *Node) *Node {
			g := x.Graph()
			nodes := make([]*Node, len(h.params))
			for i, p := range h.params {
				nodes[i] = ConstTensor(g, tensors.FromFlatDataAndDimensions(p, specs[i].dims...))
			}
			return forward(h.kind, nodes, x)
		})
		if err != nil {
			h.execErr = fmt.Errorf("train: building prediction graph: %w", err)
			return
		}
		// Chunk sizes are powers of two from minPredictChunk to predictChunk.
		exec.SetMaxCache(bits.Len(predictChunk) - bits.Len(minPredictChunk) + 2)
		h.exec = exec
	})
	return h.exec, h.execErr
}

// Logits returns the head's logits [N, K] for features x [N, D].
func (h *Head) Logits(x data.Matrix) (data.Matrix, error) {
	if x.Cols != h.dim {
		return data.Matrix{}, fmt.Errorf("train: features have %d columns, head expects %d", x.Cols, h.dim)
	}
	if len(x.Values) != x.Rows*x.Cols {
		return data.Matrix{}, fmt.Errorf("train: features hold %d values, want %d×%d", len(x.Values), x.Rows, x.Cols)
	}
	if err := checkFinite("features", x); err != nil {
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
		res, err := callExec(exec, in)
		in.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("train: predicting rows %d..%d: %w", start, start+n, err)
		}
		err = tensors.ConstFlatData(res, func(flat []float32) {
			copy(out.Values[start*h.k:(start+n)*h.k], flat[:n*h.k])
		})
		res.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("train: reading logits: %w", err)
		}
	}
	return out, nil
}

// callExec runs a one-output graph, turning GoMLX panics into errors.
func callExec(exec *Exec, args ...any) (t *tensors.Tensor, err error) {
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
func (h *Head) Predict(x data.Matrix) (data.Matrix, error) {
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

// headFile is the gob form of a Head. Version guards against reading a file
// written by an incompatible layout.
type headFile struct {
	Version   int
	Kind      string
	Dim, K    int
	Hidden    int
	Mean      []float32
	InvStd    []float32
	Params    [][]float32
	ConfigKey string
	TrainLoss float64
}

const headFileVersion = 1

// Save writes the head (parameters, standardisation, config hash) to w in gob
// format. Load reads it back; predictions of the loaded head are
// bit-identical to the original's.
func (h *Head) Save(w io.Writer) error {
	f := headFile{
		Version: headFileVersion, Kind: h.kind, Dim: h.dim, K: h.k, Hidden: h.hidden,
		Mean: h.mean, InvStd: h.invStd, Params: h.params, ConfigKey: h.cfgHash, TrainLoss: h.trainLoss,
	}
	if err := gob.NewEncoder(w).Encode(&f); err != nil {
		return fmt.Errorf("train: saving head: %w", err)
	}
	return nil
}

// Load reads a head written by Head.Save, checking that its parameter shapes
// are consistent.
func Load(r io.Reader) (*Head, error) {
	var f headFile
	if err := gob.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("train: loading head: %w", err)
	}
	if f.Version != headFileVersion {
		return nil, fmt.Errorf("train: head file version %d, this build reads %d", f.Version, headFileVersion)
	}
	if f.Kind != HeadLinear && f.Kind != HeadMLP {
		return nil, fmt.Errorf("train: head file has unknown kind %q", f.Kind)
	}
	specs := paramSpecs(f.Kind, f.Dim, f.Hidden, f.K)
	if len(f.Params) != len(specs) {
		return nil, fmt.Errorf("train: head file has %d parameter arrays, a %s head has %d", len(f.Params), f.Kind, len(specs))
	}
	for i, sp := range specs {
		if len(f.Params[i]) != product(sp.dims) {
			return nil, fmt.Errorf("train: head file parameter %d has %d values, want shape %v", i, len(f.Params[i]), sp.dims)
		}
	}
	if (f.Mean == nil) != (f.InvStd == nil) || (f.Mean != nil && (len(f.Mean) != f.Dim || len(f.InvStd) != f.Dim)) {
		return nil, fmt.Errorf("train: head file standardisation has %d means and %d scales for dimension %d", len(f.Mean), len(f.InvStd), f.Dim)
	}
	return &Head{
		kind: f.Kind, dim: f.Dim, k: f.K, hidden: f.Hidden, mean: f.Mean, invStd: f.InvStd,
		params: f.Params, cfgHash: f.ConfigKey, trainLoss: f.TrainLoss,
	}, nil
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

// errorf builds an error to panic with inside graph-building code; the
// recover in callExec/callModelExec turns it back into an error.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
