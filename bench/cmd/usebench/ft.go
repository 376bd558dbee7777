package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/train"
)

// ftW2S runs the W2S cell by hand with use-lite fine-tuned end to end as
// the strong student, for seeds 0..seeds-1 on sentiment: balance and split
// in thirds with the seed (data.Balance, data.SplitSeeded), weak = glove
// linear probe trained on train_weak gold, ceiling = use-lite-ft on
// train_strong gold, w2s = use-lite-ft on the weak model's soft labels of
// train_strong; all scored on test. It is the experiment package's protocol
// by hand (its sub-seeds differ), for numbers before use-lite-ft is wired
// into `w2s run`.
func ftW2S(seeds, epochs int) error {
	ctx := context.Background()
	ds, err := data.Load(ctx, "sentiment", os.Stderr)
	if err != nil {
		return err
	}
	glove, err := encode.New(ctx, "glove", os.Stderr)
	if err != nil {
		return err
	}
	ue, err := encode.New(ctx, "use-lite", os.Stderr)
	if err != nil {
		return err
	}
	u := ue.(*encode.USELite)
	var pgrs []float64
	for seed := range seeds {
		b := data.Balance(ds, int64(seed))
		sp, err := data.SplitSeeded(b, int64(seed), data.DefaultFractions)
		if err != nil {
			return err
		}
		texts := func(idx []int) []string {
			out := make([]string, len(idx))
			for i, j := range idx {
				out[i] = b.Examples[j].Text
			}
			return out
		}
		labels := func(idx []int) []int {
			out := make([]int, len(idx))
			for i, j := range idx {
				out[i] = b.Examples[j].Label
			}
			return out
		}
		acc := func(p data.Matrix, y []int) float64 {
			c := 0
			for i, l := range y {
				if (p.Values[2*i+1] > p.Values[2*i]) == (l == 1) {
					c++
				}
			}
			return float64(c) / float64(len(y))
		}
		gx, err := glove.Encode(ctx, texts(append(append(append([]int(nil), sp.TrainWeak...), sp.TrainStrong...), sp.Test...)), nil)
		if err != nil {
			return err
		}
		nw, ns := len(sp.TrainWeak), len(sp.TrainStrong)
		rows := func(lo, hi int) data.Matrix {
			return data.Matrix{Rows: hi - lo, Cols: gx.Cols, Values: gx.Values[lo*gx.Cols : hi*gx.Cols]}
		}
		weak, err := train.Fit(ctx, rows(0, nw), data.OneHot(labels(sp.TrainWeak), 2), train.DefaultConfig(train.HeadLinear))
		if err != nil {
			return err
		}
		wTest, _ := weak.Predict(rows(nw+ns, gx.Rows))
		wStrong, _ := weak.Predict(rows(nw, nw+ns))
		floor := acc(wTest, labels(sp.Test))
		cfg := encode.FineTuneConfig{Epochs: epochs, Batch: 32, Seed: uint64(seed)}
		t0 := time.Now()
		ceilM, err := u.FineTune(ctx, texts(sp.TrainStrong), data.OneHot(labels(sp.TrainStrong), 2), cfg, os.Stderr)
		if err != nil {
			return err
		}
		ceilP, err := ceilM.Predict(ctx, texts(sp.Test))
		if err != nil {
			return err
		}
		ceil := acc(ceilP, labels(sp.Test))
		w2sM, err := u.FineTune(ctx, texts(sp.TrainStrong), wStrong, cfg, os.Stderr)
		if err != nil {
			return err
		}
		w2sP, err := w2sM.Predict(ctx, texts(sp.Test))
		if err != nil {
			return err
		}
		w2s := acc(w2sP, labels(sp.Test))
		pgr := math.NaN()
		if ceil-floor >= 0.02 {
			pgr = (w2s - floor) / (ceil - floor)
			pgrs = append(pgrs, pgr)
		}
		fmt.Printf("seed %d: floor %.3f ceiling %.3f w2s %.3f PGR %.3f; epoch %.1fs (%d sentences); seed total %.0fs\n",
			seed, floor, ceil, w2s, pgr, ceilM.Epoch[len(ceilM.Epoch)-1].Seconds(), ns, time.Since(t0).Seconds())
	}
	m, sd := 0.0, 0.0
	for _, p := range pgrs {
		m += p / float64(len(pgrs))
	}
	for _, p := range pgrs {
		sd += (p - m) * (p - m) / float64(max(1, len(pgrs)-1))
	}
	fmt.Printf("PGR mean %.3f ± %.3f (sd over %d seeds)\n", m, math.Sqrt(sd), len(pgrs))
	return nil
}
