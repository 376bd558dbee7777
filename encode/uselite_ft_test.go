package encode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/assets"
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

// labelledYelp loads USE-lite and n labelled yelp sentences of the sentiment
// package (every 7th non-empty one) with one-hot targets [n, 2].
func labelledYelp(t *testing.T, n int) (*USELite, []string, data.Matrix) {
	t.Helper()
	ctx := context.Background()
	dir, err := USELiteDir(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := LoadUSELite(dir)
	if err != nil {
		t.Fatal(err)
	}
	sdir, err := assets.Ensure(ctx, "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(sdir, "test", "fixtures", "yelp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Text  string `json:"text"`
		Class int    `json:"class"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	var texts []string
	targets := data.NewMatrix(n, 2)
	for i := 0; len(texts) < n; i += 7 {
		if rows[i].Text == "" {
			continue
		}
		targets.Values[2*len(texts)+rows[i].Class] = 1
		texts = append(texts, rows[i].Text)
	}
	return u, texts, targets
}

// cancelAfter cancels its context when the fine-tuning log reports the
// given epoch, simulating a kill between epochs.
type cancelAfter struct {
	line   string
	cancel context.CancelFunc
}

func (c cancelAfter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.line) {
		c.cancel()
	}
	return len(p), nil
}

// TestUSELiteFineTuneCheckpoint interrupts a 3-epoch fine-tune after its
// second epoch and resumes it from the checkpoint: the resumed model must
// equal an uninterrupted one bit for bit. A checkpoint of another run, a
// damaged one and a finished one are handled too.
func TestUSELiteFineTuneCheckpoint(t *testing.T) {
	u, texts, targets := labelledYelp(t, 24)
	cfg := FineTuneConfig{Epochs: 3, Batch: 8, LR: 1e-4, HeadLR: 3e-3, Seed: 11}
	whole, err := u.FineTune(context.Background(), texts, targets, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := whole.Predict(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}

	cfg.Checkpoint = filepath.Join(t.TempDir(), "ft.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := u.FineTune(ctx, texts, targets, cfg, cancelAfter{"epoch 2/3", cancel}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fine-tune: got %v, want context.Canceled", err)
	}
	var log strings.Builder
	resumed, err := u.FineTune(context.Background(), texts, targets, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming from") || strings.Contains(log.String(), "epoch 1/3") || !strings.Contains(log.String(), "epoch 3/3") {
		t.Errorf("resume ran the wrong epochs:\n%s", log.String())
	}
	if !slices.Equal(resumed.Losses, whole.Losses) {
		t.Errorf("losses: resumed %v, uninterrupted %v", resumed.Losses, whole.Losses)
	}
	got, err := resumed.Predict(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Values, want.Values) {
		t.Errorf("resumed predictions differ from the uninterrupted run")
	}

	// A finished checkpoint: nothing left to train, same model.
	log.Reset()
	done, err := u.FineTune(context.Background(), texts, targets, cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "loss") {
		t.Errorf("a finished checkpoint trained again:\n%s", log.String())
	}
	if got, _ := done.Predict(context.Background(), texts); !slices.Equal(got.Values, want.Values) {
		t.Errorf("model from a finished checkpoint differs")
	}

	// Another seed: the checkpoint is stale, training starts afresh.
	other := cfg
	other.Seed, other.Epochs = 12, 1
	log.Reset()
	if _, err := u.FineTune(context.Background(), texts, targets, other, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "another fine-tune") || !strings.Contains(log.String(), "epoch 1/1") {
		t.Errorf("stale checkpoint not ignored:\n%s", log.String())
	}

	// Damage: truncate the file; it must be reported and ignored.
	st, err := os.Stat(cfg.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(cfg.Checkpoint, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	other.Seed = 12
	log.Reset()
	if _, err := u.FineTune(context.Background(), texts, targets, other, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "ignoring checkpoint") || !strings.Contains(log.String(), "epoch 1/1") {
		t.Errorf("damaged checkpoint not ignored:\n%s", log.String())
	}
}
