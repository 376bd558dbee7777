package student

import (
	"context"
	"fmt"
	"math/bits"
	"sort"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/backend"
)

// A top-layer fine-tune (use-lite-ft-top1) trains the encoder's top N
// transformer layers, the pooling that follows them and the head; the
// embedding and the layers below stay pretrained. Their output cannot
// change during training, so it is computed once per text before the
// first step and fed to the top layers in place of token ids: each step
// then skips the bottom's forward pass, its backward pass and the AdamW
// update of its weights (for USE-lite, the 2M-weight embedding among
// them). The trained model keeps the frozen weights unchanged and predicts
// with the whole forward pass, which computes the same function.

// checkTopLayers refuses a TopLayers that the encoder cannot honour.
func checkTopLayers(spec Spec, enc encode.Tunable) error {
	if spec.TopLayers == 0 {
		return nil
	}
	l, ok := enc.(encode.Layered)
	if !ok {
		return fmt.Errorf("student %s: encoder %s has no layer split; only its whole fine-tune (%s-ft) is available", spec, spec.Encoder, spec.Encoder)
	}
	if spec.TopLayers >= l.Layers() {
		return fmt.Errorf("student %s: %s has %d transformer layers, so -top%d trains them all: write the plain fine-tuned form", spec, spec.Encoder, l.Layers(), spec.TopLayers)
	}
	return nil
}

// topNet is the train.Net of a top-layer fine-tune: the tuneNet's encoder
// and head, fed the bottom's cached hidden states.
type topNet struct {
	*tuneNet
	enc    encode.Layered
	bottom int         // frozen layers
	hidden [][]float32 // per text: its tokens' hidden states after the bottom, [len, width] row-major
	width  int
}

// newTopNet binds a top-layer fine-tune of the top layers of enc to the
// tokenised texts of base, computing the bottom's hidden states of every
// text once.
func newTopNet(ctx context.Context, base *tuneNet, enc encode.Layered, top int) (*topNet, error) {
	n := &topNet{tuneNet: base, enc: enc, bottom: enc.Layers() - top}
	// The bottom's weights are held constant (not trained, no AdamW
	// state). A warm start (FitFrom checks that the previous model is a
	// fine-tune of the same top layers) carries over only the trained
	// weights: its bottom is the pretrained one the cached states came from.
	base.frozen = enc.BottomWeights(n.bottom)
	if err := n.cacheHidden(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// cacheHidden runs the bottom layers over every text, longest first in
// batches of predictRows (rows padded to a power of two, as Predict does),
// and keeps each text's unpadded hidden states.
func (n *topNet) cacheHidden(ctx context.Context) error {
	exec, err := pretrainedExec(n.enc.LoadWeights, func(scope *model.Scope, ids, mask *Node) *Node {
		return n.enc.Bottom(scope.In(encoderScope), ids, mask, n.bottom)
	})
	if err != nil {
		return fmt.Errorf("student: building the frozen layers' graph: %w", err)
	}
	defer exec.Finalize()
	exec.SetMaxCache(64)
	order := make([]int, len(n.toks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(n.toks[order[a]]) > len(n.toks[order[b]]) })
	n.hidden = make([][]float32, len(n.toks))
	for s := 0; s < len(order); s += predictRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := order[s:min(s+predictRows, len(order))]
		ids, mask := padBatch(n.enc, n.toks, rows, max(8, 1<<bits.Len(uint(len(rows)-1))))
		l := ids.Shape().Dimensions[1]
		res, err := call1(exec, ids, mask)
		ids.FinalizeAll()
		mask.FinalizeAll()
		if err != nil {
			return fmt.Errorf("student: running the frozen layers: %w", err)
		}
		n.width = res.Shape().Dimensions[2]
		tensors.MustConstFlatData(res, func(flat []float32) {
			for r, i := range rows {
				start := r * l * n.width
				n.hidden[i] = append([]float32(nil), flat[start:start+len(n.toks[i])*n.width]...)
			}
		})
		res.FinalizeAll()
	}
	return nil
}

// Feed implements train.Net: the cached hidden states [B, L, W] and the
// mask [B, L], L the length bucket of the batch's longest text.
func (n *topNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	_, mask := padBatch(n.enc, n.toks, rows, len(rows))
	l := mask.Shape().Dimensions[1]
	h := make([]float32, len(rows)*l*n.width)
	for r, i := range rows {
		copy(h[r*l*n.width:], n.hidden[i])
	}
	return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(h, len(rows), l, n.width), mask}, nil
}

// Logits implements train.Net: the top layers on the hidden states, then
// the head.
func (n *topNet) Logits(scope *model.Scope, fed []*Node) *Node {
	return applyHead(n.enc, scope.In(headScope), n.enc.Top(scope.In(encoderScope), fed[0], fed[1], n.bottom))
}

// Fingerprint implements train.Net: the frozen layers, then the tuneNet's.
func (n *topNet) Fingerprint() string {
	return fmt.Sprintf("top/v1|bottom=%d|%s", n.bottom, n.tuneNet.Fingerprint())
}

// pretrainedExec compiles fn over a fresh store holding only the encoder's
// pretrained weights, under encoderScope: the graph of a frozen part of a
// fine-tune (its cached bottom), which reads those weights and never
// trains them.
func pretrainedExec[F model.ExecGraphFn](load func(*model.Scope) ([]encode.TunableWeight, error), fn F) (*model.Exec, error) {
	be, err := backend.Get()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if _, err := load(store.RootScope().In(encoderScope)); err != nil {
		return nil, err
	}
	return model.NewExec(be, store, fn)
}
