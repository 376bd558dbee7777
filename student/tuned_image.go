package student

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/sha"
	"github.com/superalign/superalign/train"
)

// An image fine-tune (mobilenet-v2-96-ft, mobilenet-v2-96-ft-top2) is the
// text fine-tune's counterpart for a TunableImage CNN: the same trainer,
// head and checkpoints, fed images resized once to the encoder's input
// size instead of token ids. Its -topN form trains the top N blocks (and
// the final convolution and pooling); the stem and blocks below are
// frozen and their output maps are computed once per image.

// Image fine-tuning defaults, not tuned on any benchmark: the text
// fine-tune's rates (the 24-image MNIST test fits in 3 epochs at an
// encoder rate of 5e-5 and oscillates at 3e-4; BatchNorm is folded at its
// moving statistics, so nothing renormalises a large step), in smaller
// batches (a batch of MobileNetV2 activations and their gradients at 96
// px is ~100 MB).
const (
	DefaultImageFineTuneLR = DefaultFineTuneLR
	imageFineTuneBatch     = 16
	// imagePassRows is the number of images per forward pass outside
	// training (bottom caching, prediction): every pass is padded to it,
	// so one graph shape is compiled.
	imagePassRows = 16
)

// tunedImageVersion names the image fine-tune's architecture in
// fingerprints.
const tunedImageVersion = "tuned-image/v1"

// TunedImage is a pretrained image CNN fine-tuned end to end with a
// linear head on its pooled features: logits [N, K] =
// HeadScale·pooled·Wᵀ + b.
type TunedImage struct {
	spec Spec
	enc  encode.TunableImage
	cfg  train.Config
}

func newTunedImage(spec Spec, enc encode.TunableImage, opt Options) *TunedImage {
	cfg := train.Config{
		Epochs: DefaultFineTuneEpochs, BatchSize: imageFineTuneBatch,
		LearningRate: fineTuneHeadLR, EncoderLR: DefaultImageFineTuneLR,
		Schedule: train.Constant, StepsPerCall: 1,
	}
	if opt.FineTuneEpochs > 0 {
		cfg.Epochs = opt.FineTuneEpochs
	}
	if opt.FineTuneLR > 0 {
		cfg.EncoderLR = opt.FineTuneLR
	}
	return &TunedImage{spec: spec, enc: enc, cfg: cfg}
}

// NewTunedImage is the image fine-tune of enc, top blocks only when top >
// 0, with the default training configuration.
func NewTunedImage(enc encode.TunableImage, top int) (*TunedImage, error) {
	spec := Spec{Encoder: enc.Name(), Head: HeadLinear, FineTune: true, TopLayers: top}
	if err := checkTopBlocks(spec, enc); err != nil {
		return nil, err
	}
	return newTunedImage(spec, enc, Options{}), nil
}

// checkTopBlocks refuses a TopLayers that the encoder cannot honour.
func checkTopBlocks(spec Spec, enc encode.TunableImage) error {
	if spec.TopLayers == 0 {
		return nil
	}
	l, ok := enc.(encode.LayeredImage)
	if !ok || l.Layers() == 0 {
		return fmt.Errorf("student %s: encoder %s has no block split; only its whole fine-tune (%s-ft) is available", spec, spec.Encoder, spec.Encoder)
	}
	if spec.TopLayers >= l.Layers() {
		return fmt.Errorf("student %s: %s has %d blocks, so -top%d trains them all: write the plain fine-tuned form", spec, spec.Encoder, l.Layers(), spec.TopLayers)
	}
	return nil
}

// Spec implements Student.
func (t *TunedImage) Spec() Spec { return t.spec }

// Reads implements Student.
func (t *TunedImage) Reads() Reads { return ReadsImages }

// Fingerprint implements Student.
func (t *TunedImage) Fingerprint() string {
	fp := fmt.Sprintf("%s:%s:scale=%g", tunedImageVersion, t.enc.Fingerprint(), t.enc.HeadScale())
	if t.spec.TopLayers > 0 {
		fp += fmt.Sprintf(":top=%d", t.spec.TopLayers)
	}
	return fp
}

// Config implements Student.
func (t *TunedImage) Config() train.Config { return t.cfg }

// Encoder returns the pretrained encoder.
func (t *TunedImage) Encoder() encode.TunableImage { return t.enc }

// Fit implements Student.
func (t *TunedImage) Fit(ctx context.Context, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error) {
	n := in.Images.Len()
	if n == 0 {
		return nil, nil, fmt.Errorf("student %s: no images to train on (a fine-tuned image encoder reads images)", t.spec)
	}
	if err := in.Images.Validate(); err != nil {
		return nil, nil, fmt.Errorf("student %s: %w", t.spec, err)
	}
	net := &imageTuneNet{enc: t.enc, imgs: in.Images, n: n, k: o.Targets.Cols}
	var fitNet train.Net = net
	if top := t.spec.TopLayers; top > 0 {
		l := t.enc.(encode.LayeredImage) // checkTopBlocks passed
		tn := &imageTopNet{imageTuneNet: net, enc: l, bottom: l.Layers() - top}
		net.frozen = l.BottomWeights(tn.bottom)
		if err := tn.cacheBottom(ctx); err != nil {
			return nil, nil, err
		}
		fitNet = tn
	}
	res, err := train.Fit(ctx, fitNet, o, cfg)
	if err != nil {
		return nil, nil, err
	}
	m, err := net.model()
	if err != nil {
		return nil, nil, err
	}
	return m, res, nil
}

// resizedBatch lays out images rows of imgs, resized to [s, s, 3] by
// ResizeBilinearRGB (the frozen encoder's own preprocessing), as a tensor
// [b, s, s, 3]; rows beyond len(rows) are zero. Images are resized per
// batch, not kept resized: at 224 px a resized image takes 600 KB.
func resizedBatch(imgs encode.ImageBatch, rows []int, b, s int) (*tensors.Tensor, error) {
	per := s * s * 3
	out := make([]float32, b*per)
	for r, i := range rows {
		px, shape, err := imgs.Image(i)
		if err != nil {
			return nil, err
		}
		encode.ResizeBilinearRGB(px, shape, s, out[r*per:(r+1)*per])
	}
	return tensors.FromFlatDataAndDimensions(out, b, s, s, 3), nil
}

// imageTuneNet is the train.Net of an image fine-tune: the CNN's weights
// and a head, bound to resized images.
type imageTuneNet struct {
	enc    encode.TunableImage
	imgs   encode.ImageBatch
	n, k   int
	store  *model.Store
	frozen map[string]bool // bottom weights held pretrained; nil trains all
}

// Init implements train.Net: the pretrained weights (the frozen ones held
// constant), then a zero head.
func (n *imageTuneNet) Init(scope *model.Scope, _ *rand.Rand) ([]train.Param, error) {
	weights, err := n.enc.LoadWeights(scope.In(encoderScope))
	if err != nil {
		return nil, err
	}
	params := make([]train.Param, 0, len(weights)+2)
	for _, w := range weights {
		if n.frozen[w.Var.Name()] {
			w.Var.SetTrainable(false)
			continue
		}
		params = append(params, train.Param{Var: w.Var, Group: train.GroupEncoder, Decay: w.Decay})
	}
	d := n.enc.Dim()
	if d == 0 {
		return nil, fmt.Errorf("student: %s: feature width unknown (the feature graph did not build)", n.enc.Name())
	}
	head := scope.In(headScope)
	w := head.VariableWithValue("w", tensors.FromFlatDataAndDimensions(make([]float32, n.k*d), n.k, d))
	b := head.VariableWithValue("b", tensors.FromFlatDataAndDimensions(make([]float32, n.k), n.k))
	params = append(params, train.Param{Var: w, Group: train.GroupHead, Decay: true}, train.Param{Var: b, Group: train.GroupHead})
	n.store = scope.Store()
	return params, nil
}

// Len implements train.Net.
func (n *imageTuneNet) Len() int { return n.n }

// Feed implements train.Net: images [B, S, S, 3].
func (n *imageTuneNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	x, err := resizedBatch(n.imgs, rows, len(rows), n.enc.Size())
	if err != nil {
		return nil, err
	}
	return []*tensors.Tensor{x}, nil
}

// gatherRows lays out rows of x (n equal rows of shape dims) as a tensor
// [b, dims...], rows beyond len(rows) zero.
func gatherRows(x []float32, n int, rows []int, b int, dims ...int) *tensors.Tensor {
	per := len(x) / n
	out := make([]float32, b*per)
	for r, i := range rows {
		copy(out[r*per:], x[i*per:(i+1)*per])
	}
	return tensors.FromFlatDataAndDimensions(out, append([]int{b}, dims...)...)
}

// Logits implements train.Net.
func (n *imageTuneNet) Logits(scope *model.Scope, fed []*Node) *Node {
	return headLogits(scope.In(headScope), n.enc.Forward(scope.In(encoderScope), fed[0]), n.enc.HeadScale())
}

// headLogits is scale·pooled·Wᵀ + b: [B, K] from pooled [B, Dim].
func headLogits(head *model.Scope, pooled *Node, scale float64) *Node {
	g := pooled.Graph()
	w, b := head.GetVariable("w").NodeValue(g), head.GetVariable("b").NodeValue(g)
	z := DotGeneral(pooled, []int{1}, nil, w, []int{1}, nil)
	if scale != 1 {
		z = MulScalar(z, scale)
	}
	return Add(z, ExpandAxes(b, 0))
}

// Fingerprint implements train.Net: encoder (its fingerprint covers the
// input size and resize), head and the images: their pixels, or the paths
// of a user dataset's files (as the dataset's own hash does).
func (n *imageTuneNet) Fingerprint() string {
	h := sha.New()
	fmt.Fprintf(h, "%s|%s|scale=%g|k=%d|n=%d|size=%d|", tunedImageVersion, n.enc.Fingerprint(), n.enc.HeadScale(), n.k, n.n, n.enc.Size())
	if n.imgs.Paths != nil {
		for _, p := range n.imgs.Paths {
			fmt.Fprintf(h, "%d:%s|", len(p), p)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	fmt.Fprintf(h, "shape=%v|", n.imgs.Shape)
	buf := make([]byte, 0, 1<<16)
	for _, v := range n.imgs.Pixels {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// model copies the trained encoder and head into a model of their own.
func (n *imageTuneNet) model() (*TunedImageModel, error) {
	store := model.NewStore()
	for v := range n.store.IterVariables() {
		p := v.Path()
		if strings.HasPrefix(p, "/"+encoderScope+"/") || strings.HasPrefix(p, "/"+headScope+"/") {
			if _, err := v.CloneToStore(store); err != nil {
				return nil, fmt.Errorf("student: keeping %s: %w", p, err)
			}
		}
	}
	return &TunedImageModel{enc: n.enc, k: n.k, store: store}, nil
}

// imageTopNet is the train.Net of a top-block image fine-tune: the
// imageTuneNet's CNN and head, fed the frozen bottom's cached maps.
type imageTopNet struct {
	*imageTuneNet
	enc    encode.LayeredImage
	bottom int       // frozen blocks
	hidden []float32 // [n, h, w, C]: the bottom's output per image
	dims   []int     // h, w, C
}

// cacheBottom runs the frozen stem and blocks over every image once, in
// passes of imagePassRows.
func (n *imageTopNet) cacheBottom(ctx context.Context) error {
	exec, err := pretrainedExec(n.enc.LoadWeights, func(scope *model.Scope, x *Node) *Node {
		return n.enc.Bottom(scope.In(encoderScope), x, n.bottom)
	})
	if err != nil {
		return fmt.Errorf("student: building the frozen blocks' graph: %w", err)
	}
	defer exec.Finalize()
	s := n.enc.Size()
	for start := 0; start < n.n; start += imagePassRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := seqFrom(start, min(start+imagePassRows, n.n))
		in, err := resizedBatch(n.imgs, rows, imagePassRows, s)
		if err != nil {
			return err
		}
		res, err := call1(exec, in)
		in.FinalizeAll()
		if err != nil {
			return fmt.Errorf("student: running the frozen blocks: %w", err)
		}
		d := res.Shape().Dimensions
		if n.hidden == nil {
			n.dims = d[1:]
			n.hidden = make([]float32, n.n*d[1]*d[2]*d[3])
		}
		per := d[1] * d[2] * d[3]
		tensors.MustConstFlatData(res, func(flat []float32) {
			copy(n.hidden[start*per:], flat[:len(rows)*per])
		})
		res.FinalizeAll()
	}
	return nil
}

// seqFrom is lo, lo+1, …, hi−1.
func seqFrom(lo, hi int) []int {
	out := make([]int, hi-lo)
	for i := range out {
		out[i] = lo + i
	}
	return out
}

// Feed implements train.Net: the cached maps [B, h, w, C].
func (n *imageTopNet) Feed(rows []int) ([]*tensors.Tensor, error) {
	return []*tensors.Tensor{gatherRows(n.hidden, n.n, rows, len(rows), n.dims...)}, nil
}

// Logits implements train.Net: the top blocks on the maps, then the head.
func (n *imageTopNet) Logits(scope *model.Scope, fed []*Node) *Node {
	return headLogits(scope.In(headScope), n.enc.Top(scope.In(encoderScope), fed[0], n.bottom), n.enc.HeadScale())
}

// Fingerprint implements train.Net: the frozen blocks, then the
// imageTuneNet's.
func (n *imageTopNet) Fingerprint() string {
	return fmt.Sprintf("top/v1|bottom=%d|%s", n.bottom, n.imageTuneNet.Fingerprint())
}

// TunedImageModel is a fine-tuned CNN with its head: class probabilities
// for images. Safe for concurrent Predict calls.
type TunedImageModel struct {
	enc   encode.TunableImage
	k     int
	store *model.Store

	mu   sync.Mutex
	exec *model.Exec
}

// Predict implements Model: the whole forward pass (a top-block
// fine-tune's frozen bottom included) on in.Images, in passes of
// imagePassRows.
func (m *TunedImageModel) Predict(ctx context.Context, in Inputs) (data.Matrix, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exec == nil {
		be, err := backend.Get()
		if err != nil {
			return data.Matrix{}, err
		}
		m.exec, err = model.NewExec(be, m.store, func(scope *model.Scope, x *Node) *Node {
			return headLogits(scope.In(headScope), m.enc.Forward(scope.In(encoderScope), x), m.enc.HeadScale())
		})
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: building the prediction graph: %w", err)
		}
	}
	if err := in.Images.Validate(); err != nil {
		return data.Matrix{}, err
	}
	n := in.Images.Len()
	s := m.enc.Size()
	out := data.NewMatrix(n, m.k)
	for start := 0; start < n; start += imagePassRows {
		if err := ctx.Err(); err != nil {
			return data.Matrix{}, err
		}
		rows := seqFrom(start, min(start+imagePassRows, n))
		t, err := resizedBatch(in.Images, rows, imagePassRows, s)
		if err != nil {
			return data.Matrix{}, err
		}
		res, err := call1(m.exec, t)
		t.FinalizeAll()
		if err != nil {
			return data.Matrix{}, fmt.Errorf("student: predicting: %w", err)
		}
		tensors.MustConstFlatData(res, func(flat []float32) {
			copy(out.Values[start*m.k:], flat[:len(rows)*m.k])
		})
		res.FinalizeAll()
	}
	softmaxRows(out)
	return out, nil
}

// Weight returns a copy of a trained variable's values by its name inside
// the encoder's scope (for tests that check which weights moved).
func (m *TunedImageModel) Weight(name string) ([]float32, error) {
	v := m.store.GetVariable("/" + encoderScope + "/" + strings.TrimPrefix(name, "/"))
	if v == nil {
		return nil, fmt.Errorf("student: no weight %q", name)
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](t), nil
}
