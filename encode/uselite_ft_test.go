package encode

import (
	"context"
	"io"
	"testing"

	"github.com/superalign/superalign/data"
)

// TestUSELiteFineTune trains USE-lite end to end on 64 labelled sentiment
// sentences for 2 epochs and checks that the loss falls, that the
// transformer's own weights moved (gradients flow through it, not only the
// head), that training fits the data and that a rerun with the same seed
// gives the same losses.
func TestUSELiteFineTune(t *testing.T) {
	ctx := context.Background()
	u, texts, targets := labelledYelp(t, 64)
	cfg := FineTuneConfig{Epochs: 2, Batch: 16, LR: 1e-4, HeadLR: 3e-3, Seed: 7}
	ft, err := u.FineTune(ctx, texts, targets, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %v, epoch times %v", ft.Losses, ft.Epoch)
	if !(ft.Losses[1] < ft.Losses[0]) || ft.Losses[0] > 0.7 {
		t.Errorf("losses %v: want a first epoch ≤ ln 2 and a fall", ft.Losses)
	}
	before, err := u.Encode(ctx, texts[:4], nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := ft.u.Encode(ctx, texts[:4], nil)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0.0
	for i := range before.Values {
		moved = max(moved, float64(after.Values[i]-before.Values[i]))
	}
	if moved < 1e-4 {
		t.Errorf("fine-tuning changed the embeddings by at most %g: no gradient through the transformer?", moved)
	}
	p, err := ft.Predict(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range texts {
		pred := 0
		if p.Values[2*i+1] > p.Values[2*i] {
			pred = 1
		}
		if targets.Values[2*i+pred] == 1 {
			correct++
		}
	}
	if correct < 48 {
		t.Errorf("training accuracy %d/64 after fine-tuning, want ≥ 48", correct)
	}
	again, err := u.FineTune(ctx, texts[:16], data.Matrix{Rows: 16, Cols: 2, Values: targets.Values[:32]}, FineTuneConfig{Epochs: 1, Batch: 8, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := u.FineTune(ctx, texts[:16], data.Matrix{Rows: 16, Cols: 2, Values: targets.Values[:32]}, FineTuneConfig{Epochs: 1, Batch: 8, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Losses[0] != twice.Losses[0] {
		t.Errorf("same seed, losses %v and %v", again.Losses, twice.Losses)
	}
}

// labelledYelp loads USE-lite and the first n labelled yelp sentences of
// sentimentLabelled with one-hot targets [n, 2].
func labelledYelp(t *testing.T, n int) (*USELite, []string, data.Matrix) {
	t.Helper()
	dir, err := USELiteDir(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := LoadUSELite(dir)
	if err != nil {
		t.Fatal(err)
	}
	all := sentimentLabelled(t)
	targets := data.NewMatrix(n, 2)
	for i := range n {
		targets.Values[2*i+all.labels[i]] = 1
	}
	return u, all.texts[:n], targets
}

// TestUSELiteFineTuneCheckpoint: see checkResume.
func TestUSELiteFineTuneCheckpoint(t *testing.T) {
	u, texts, targets := labelledYelp(t, 24)
	cfg := FineTuneConfig{Epochs: 3, Batch: 8, LR: 1e-4, HeadLR: 3e-3, Seed: 11}
	checkResume(t, texts, targets, cfg, func(ctx context.Context, cfg FineTuneConfig, log io.Writer) (classifier, []float64, error) {
		ft, err := u.FineTune(ctx, texts, targets, cfg, log)
		if err != nil {
			return nil, nil, err
		}
		return ft, ft.Losses, nil
	})
}
