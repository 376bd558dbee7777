package encode

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
)

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

// classifier is a fine-tuned model's prediction side.
type classifier interface {
	Predict(ctx context.Context, texts []string) (data.Matrix, error)
}

// checkResume interrupts a 3-epoch fine-tune (cfg.Epochs must be 3) after
// its second epoch and resumes it from the checkpoint: the resumed model
// must equal an uninterrupted one bit for bit. A checkpoint of another
// run, a damaged one and a finished one are handled too.
func checkResume(t *testing.T, texts []string, targets data.Matrix, cfg FineTuneConfig,
	fineTune func(ctx context.Context, cfg FineTuneConfig, log io.Writer) (classifier, []float64, error)) {
	t.Helper()
	whole, wholeLosses, err := fineTune(context.Background(), cfg, nil)
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
	if _, _, err := fineTune(ctx, cfg, cancelAfter{"epoch 2/3", cancel}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted fine-tune: got %v, want context.Canceled", err)
	}
	var log strings.Builder
	resumed, resumedLosses, err := fineTune(context.Background(), cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming from") || strings.Contains(log.String(), "epoch 1/3") || !strings.Contains(log.String(), "epoch 3/3") {
		t.Errorf("resume ran the wrong epochs:\n%s", log.String())
	}
	if !slices.Equal(resumedLosses, wholeLosses) {
		t.Errorf("losses: resumed %v, uninterrupted %v", resumedLosses, wholeLosses)
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
	done, _, err := fineTune(context.Background(), cfg, &log)
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
	if _, _, err := fineTune(context.Background(), other, &log); err != nil {
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
	if _, _, err := fineTune(context.Background(), other, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "ignoring checkpoint") || !strings.Contains(log.String(), "epoch 1/1") {
		t.Errorf("damaged checkpoint not ignored:\n%s", log.String())
	}
}
