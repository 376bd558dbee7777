package student

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// mnistPair returns n real MNIST training images, half zeros and half
// ones in dataset order, as Inputs with their 0/1 labels.
func mnistPair(t *testing.T, n int) (Inputs, []int) {
	t.Helper()
	ds, err := data.Load(context.Background(), "mnist", nil)
	if err != nil {
		t.Fatal(err)
	}
	var idx, labels []int
	count := [2]int{}
	for i, ex := range ds.Examples {
		if ex.Label < 2 && count[ex.Label] < n/2 {
			count[ex.Label]++
			idx = append(idx, i)
			labels = append(labels, ex.Label)
		}
		if len(idx) == n || i > 10000 {
			break
		}
	}
	px, err := ds.Pixels(idx)
	if err != nil {
		t.Fatal(err)
	}
	s := ds.ImageShape
	return Inputs{Images: encode.ImageBatch{Pixels: px, Shape: [4]int{len(idx), s[0], s[1], s[2]}}}, labels
}

func openImageStudent(t *testing.T, name string) *TunedImage {
	t.Helper()
	s, err := Open(context.Background(), MustParse(name), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ti, ok := s.(*TunedImage)
	if !ok {
		t.Fatalf("%s opened as %T", name, s)
	}
	return ti
}

// maxMoved is max |after − before| of a weight of the fine-tuned CNN.
func maxMoved(t *testing.T, s *TunedImage, m Model, name string) float64 {
	t.Helper()
	before, err := s.Encoder().(*encode.CNN).FoldedWeight(name)
	if err != nil {
		t.Fatal(err)
	}
	after, err := m.(*TunedImageModel).Weight(name)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0.0
	for i := range before {
		moved = math.Max(moved, math.Abs(float64(after[i]-before[i])))
	}
	return moved
}

// TestTunedImageLearns fine-tunes MobileNetV2 end to end at 64 px on 24
// real MNIST zeros and ones: the loss starts at ln 2 (zero head) and
// falls, the training images are fitted, the first convolution moved
// (gradients reach the bottom of the network), and a rerun with the same
// seed gives the same losses bit for bit. It logs images/s of training.
func TestTunedImageLearns(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs and MNIST")
	if testing.Short() {
		t.Skip("fine-tunes a real CNN")
	}
	ctx := context.Background()
	s := openImageStudent(t, "mobilenet-v2-64-ft")
	in, labels := mnistPair(t, 24)
	targets := data.OneHot(labels, 2)
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.EncoderLR, cfg.LearningRate, cfg.Seed = 3, 8, 5e-5, 3e-3, 7
	start := time.Now()
	m, res, err := s.Fit(ctx, in, train.Objective{Targets: targets}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %v, epoch times %v; %.1f images/s forward+backward over the fit (first epoch includes the compile; machine shared)",
		res.EpochLoss, res.EpochTime, float64(cfg.Epochs*len(labels))/time.Since(start).Seconds())
	if !(res.EpochLoss[2] < res.EpochLoss[0]) || res.EpochLoss[0] > 0.75 {
		t.Errorf("losses %v: want a first epoch near ln 2 and a fall", res.EpochLoss)
	}
	if right := trainingAccuracy(t, m, in, labels); right < 22 {
		t.Errorf("training accuracy %d/24 after fine-tuning, want ≥ 22", right)
	}
	if moved := maxMoved(t, s, m, "Conv1.kernel"); moved < 1e-5 {
		t.Errorf("the first convolution moved by at most %g: no gradient through the CNN?", moved)
	}
	short := cfg
	short.Epochs = 1
	_, r1, err := s.Fit(ctx, in, train.Objective{Targets: targets}, short)
	if err != nil {
		t.Fatal(err)
	}
	if r1.EpochLoss[0] != res.EpochLoss[0] {
		t.Errorf("same seed, first-epoch losses %v and %v", res.EpochLoss[0], r1.EpochLoss[0])
	}
}

// TestTunedImageTopBlocks fine-tunes MobileNetV2's top two blocks (and
// its final convolution) at 64 px on cached bottom maps: the loss falls,
// the images are fitted when predicting through the whole network, every
// weight below the top blocks is bit-for-bit pretrained while the top
// moved; killed (cancelled) after its first epoch with a checkpoint, the
// fit resumes to the same losses as an uninterrupted one.
func TestTunedImageTopBlocks(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs and MNIST")
	if testing.Short() {
		t.Skip("fine-tunes a real CNN")
	}
	ctx := context.Background()
	s := openImageStudent(t, "mobilenet-v2-64-ft-top2")
	if full := openImageStudent(t, "mobilenet-v2-64-ft"); full.Fingerprint() == s.Fingerprint() {
		t.Errorf("top-block and full fine-tunes share the fingerprint %s", s.Fingerprint())
	}
	in, labels := mnistPair(t, 24)
	targets := data.OneHot(labels, 2)
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.EncoderLR, cfg.LearningRate, cfg.Seed = 3, 8, 1e-4, 3e-3, 7
	start := time.Now()
	m, res, err := s.Fit(ctx, in, train.Objective{Targets: targets}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %v, epoch times %v; %.1f images/s over the fit (bottom caching and compile included; machine shared)",
		res.EpochLoss, res.EpochTime, float64(cfg.Epochs*len(labels))/time.Since(start).Seconds())
	if !(res.EpochLoss[2] < res.EpochLoss[0]) || res.EpochLoss[0] > 0.75 {
		t.Errorf("losses %v: want a first epoch near ln 2 and a fall", res.EpochLoss)
	}
	if right := trainingAccuracy(t, m, in, labels); right < 22 {
		t.Errorf("training accuracy %d/24 through the whole network, want ≥ 22", right)
	}
	cnn := s.Encoder().(*encode.CNN)
	frozen := cnn.BottomWeights(cnn.Layers() - 2)
	topMoved, nFrozen := 0.0, 0
	for name := range frozen {
		nFrozen++
		if moved := maxMoved(t, s, m, name); moved != 0 {
			t.Errorf("%s is below the top blocks but moved by %g", name, moved)
		}
	}
	for _, name := range []string{"block_16_project.kernel", "Conv_1.kernel", "block_15_expand.bias"} {
		if frozen[name] {
			t.Errorf("%s is in the top blocks but frozen", name)
		}
		topMoved = math.Max(topMoved, maxMoved(t, s, m, name))
	}
	if nFrozen < 40 || topMoved < 1e-5 {
		t.Errorf("%d frozen weights; the top moved by at most %g", nFrozen, topMoved)
	}

	// Killed after epoch 1, then resumed from the checkpoint.
	ck := cfg
	ck.Checkpoint = filepath.Join(t.TempDir(), "top.ckpt")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ck.Log = cancelOn{"epoch 1/3", cancel}
	if _, _, err := s.Fit(cctx, in, train.Objective{Targets: targets}, ck); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fit: %v, want context.Canceled", err)
	}
	var log strings.Builder
	ck.Log = &log
	_, resumed, err := s.Fit(ctx, in, train.Objective{Targets: targets}, ck)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming from") || strings.Contains(log.String(), "epoch 1/3 loss") || !strings.Contains(log.String(), "epoch 3/3 loss") {
		t.Errorf("resume ran the wrong epochs:\n%s", log.String())
	}
	if !slices.Equal(resumed.EpochLoss[1:], res.EpochLoss[1:]) {
		t.Errorf("resumed losses %v, uninterrupted %v", resumed.EpochLoss, res.EpochLoss)
	}
}

// TestTunedImageRefusals: -top asking for every block, and a top-block
// fine-tune of an encoder without a block split, are refused on Open.
func TestTunedImageRefusals(t *testing.T) {
	testenv.NeedsAssets(t, "the nsfwjs CNNs")
	ctx := context.Background()
	if _, err := Open(ctx, MustParse("mobilenet-v2-64-ft-top17"), Options{}, nil); err == nil || !strings.Contains(err.Error(), "has 17 blocks") {
		t.Errorf("mobilenet-v2-64-ft-top17: %v", err)
	}
	if _, err := Open(ctx, MustParse("mobilenet-v2-64@block13-ft-top1"), Options{}, nil); err == nil {
		t.Errorf("a top-block fine-tune of an intermediate-layer encoder: no error")
	}
	if _, err := Open(ctx, MustParse("mobilenet-v2-mid-ft"), Options{}, nil); err == nil || !strings.Contains(err.Error(), "cannot be fine-tuned") {
		t.Errorf("mobilenet-v2-mid-ft (a graph model): %v", err)
	}
}

type cancelOn struct {
	text   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.text) {
		c.cancel()
	}
	return len(p), nil
}
