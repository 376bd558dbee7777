package student

import (
	"context"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// feedRecorder is a fine-tuned net that records what each batch holds:
// its rows and, from the fed mask, each row's real token count.
type feedRecorder struct {
	*tuneNet
	rows   [][]int
	tokens [][]int
}

func (f *feedRecorder) Feed(rows []int) ([]*tensors.Tensor, error) {
	fed, err := f.tuneNet.Feed(rows)
	if err != nil {
		return nil, err
	}
	mask := tensors.MustCopyFlatData[float32](fed[1]) // [B, L]
	l := len(mask) / len(rows)
	counts := make([]int, len(rows))
	for r := range rows {
		for _, m := range mask[r*l : (r+1)*l] {
			if m > 0 {
				counts[r]++
			}
		}
	}
	f.rows = append(f.rows, slices.Clone(rows))
	f.tokens = append(f.tokens, counts)
	return fed, nil
}

// TestBatchStatisticsSeeNoPadding fine-tunes USE-lite on real yelp
// sentences with a subset of rows, once with a per-example loss and once
// with a loss that declares batch statistics (as logconf's threshold
// does): every batch the loss sees is full, made of training rows only,
// each a real sentence (no padding row: every row has tokens); the
// per-example loss gets batches of similar length, the batch-statistics
// loss randomly composed ones.
func TestBatchStatisticsSeeNoPadding(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	ctx := context.Background()
	u := useLite(t)
	all := yelpLabelled(t)
	texts := all.texts[:100]
	targets := data.OneHot(all.labels[:100], 2)
	var rows []int
	for i := range texts {
		if i%5 != 0 {
			rows = append(rows, i)
		}
	}
	training := map[int]bool{}
	for _, r := range rows {
		training[r] = true
	}
	cfg := NewTuned(u).Config()
	cfg.Epochs, cfg.BatchSize, cfg.Seed = 1, 16, 3
	spread := map[bool]float64{}
	for _, stats := range []bool{false, true} {
		net := &feedRecorder{tuneNet: &tuneNet{enc: u, toks: u.Tokenize(texts), k: 2}}
		loss := train.Loss{Name: "xent", BatchStatistics: stats}
		if _, err := train.Fit(ctx, net, train.Objective{Targets: targets, Rows: rows, Loss: loss}, cfg); err != nil {
			t.Fatal(err)
		}
		if len(net.rows) != (len(rows)+15)/16 {
			t.Fatalf("batch statistics %v: %d batches for %d rows", stats, len(net.rows), len(rows))
		}
		for b, batch := range net.rows {
			if len(batch) != 16 {
				t.Fatalf("batch statistics %v: batch %d has %d rows, want 16 (full)", stats, b, len(batch))
			}
			for j, r := range batch {
				if !training[r] || net.tokens[b][j] == 0 {
					t.Fatalf("batch statistics %v: batch %d row %d (example %d, %d tokens) is not a training sentence", stats, b, j, r, net.tokens[b][j])
				}
			}
			spread[stats] += float64(slices.Max(net.tokens[b])-slices.Min(net.tokens[b])) / float64(len(net.rows))
		}
	}
	t.Logf("mean token-length spread within a batch: per-example loss %.1f, batch-statistics loss %.1f", spread[false], spread[true])
	if !(spread[true] > 2*spread[false]) {
		t.Errorf("length spread %.1f (batch statistics) vs %.1f (per example): want random batches for the first, grouped for the second", spread[true], spread[false])
	}
}
