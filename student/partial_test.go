package student

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/onnxgen"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// TestTopLayerFineTune fine-tunes USE-lite's top layer only
// (use-lite-ft-top1) on 64 labelled yelp sentences: the loss falls, the
// data are fitted when the trained model predicts through the whole
// forward pass (so the cached bottom states fed in training are what the
// bottom computes), the embedding and layer 0 are bit-for-bit the
// pretrained ones, the top layer moved, and a rerun gives the same losses.
func TestTopLayerFineTune(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	ctx := context.Background()
	s, err := Open(ctx, MustParse("use-lite-ft-top1"), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := s.(*Tuned).Encoder().(*encode.USELite)
	if full := NewTuned(u); full.Fingerprint() == s.Fingerprint() {
		t.Errorf("top-layer and full fine-tunes share the fingerprint %s", s.Fingerprint())
	}
	all := yelpLabelled(t)
	in := Inputs{Texts: all.texts[:64]}
	targets := data.OneHot(all.labels[:64], 2)
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.EncoderLR, cfg.LearningRate, cfg.Seed = 2, 16, 1e-4, 3e-3, 7
	m, res, err := s.Fit(ctx, in, train.Objective{Targets: targets}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %v, epoch times %v", res.EpochLoss, res.EpochTime)
	if !(res.EpochLoss[1] < res.EpochLoss[0]) || res.EpochLoss[0] > 0.7 {
		t.Errorf("losses %v: want a first epoch ≤ ln 2 and a fall", res.EpochLoss)
	}
	if right := trainingAccuracy(t, m, in, all.labels[:64]); right < 48 {
		t.Errorf("training accuracy %d/64 after fine-tuning the top layer, want ≥ 48", right)
	}
	frozen := u.BottomWeights(1)
	topMoved := 0.0
	for i := 0; ; i++ {
		before, err := u.Weight(i)
		if err != nil {
			break // past the last parameter
		}
		name := fmt.Sprintf("w%02d", i) // encode's variable name of parameter i
		after, err := m.(*TunedModel).Weight(name)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0.0
		for j := range before {
			moved = math.Max(moved, math.Abs(float64(after[j]-before[j])))
		}
		switch {
		case frozen[name] && moved != 0:
			t.Errorf("%s is below the top layer but moved by %g", name, moved)
		case !frozen[name]:
			topMoved = math.Max(topMoved, moved)
		}
	}
	if topMoved < 1e-5 {
		t.Errorf("the top layer moved by at most %g: no gradient reached it", topMoved)
	}
	_, again, err := s.Fit(ctx, in, train.Objective{Targets: targets}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for e := range res.EpochLoss {
		if again.EpochLoss[e] != res.EpochLoss[e] {
			t.Errorf("same seed, losses %v and %v", res.EpochLoss, again.EpochLoss)
			break
		}
	}
}

// TestTopLayerRefusals: -top asking for every layer, or an encoder
// without a layer split, is refused when the student is opened.
func TestTopLayerRefusals(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model and the generated ONNX model's vocabulary")
	ctx := context.Background()
	if _, err := Open(ctx, MustParse("use-lite-ft-top2"), Options{}, nil); err == nil || !strings.Contains(err.Error(), "has 2 transformer layers") {
		t.Errorf("use-lite-ft-top2: %v", err)
	}
	dir, err := onnxgen.CachedDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, MustParse("onnx-ft-top1:"+dir), Options{}, nil); err == nil || !strings.Contains(err.Error(), "has no layer split") {
		t.Errorf("onnx-ft-top1: %v", err)
	}
}
