package experiment

import (
	"context"
	"slices"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/store"
)

// TestBalanceAndMetricCells runs one cell of the real imbalanced
// spam-hardham set (3900 easy / 250 hard ham) under each balancing mode
// and PGR metric, and checks what each setting changes: the examples (none
// and weight keep the natural mix, stratified), the weak model (weight),
// the scores (the metric), and which keys, so that no two settings share
// a saved row or a teacher they should not.
func TestBalanceAndMetricCells(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	ctx := context.Background()
	cr := testCells(t)
	base := CellSpec{Dataset: "spam-hardham", Weak: "bow", Strong: "glove", Method: "naive", Seed: 1,
		GapThreshold: 0.02, Fractions: [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, Resamples: 200}
	with := func(balance, metric string) CellSpec {
		cs := base
		cs.Balance, cs.PGRMetric = balance, metric
		return cs
	}
	keysOf := func(cs CellSpec) CellKeys {
		k, err := cr.Keys(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	def, under, under2 := keysOf(with("", "")), keysOf(with("undersample", "")), keysOf(with("undersample", "accuracy"))
	if def != under || def != under2 {
		t.Error("the defaults spelled out change the keys")
	}
	none, weight := keysOf(with("none", "")), keysOf(with("weight", ""))
	noneAUROC, weightAUROC := keysOf(with("none", "auroc")), keysOf(with("weight", "auroc"))
	for _, k := range []CellKeys{none, weight, noneAUROC, weightAUROC} {
		if k.Weak == def.Weak || k.Ceiling == def.Ceiling || k.Student == def.Student || k.Config == def.Config {
			t.Errorf("a setting shares a key with the defaults: %+v", k)
		}
	}
	if none.Weak == weight.Weak || none.Ceiling == weight.Ceiling {
		t.Error("none and weight share a teacher, though weight trains it weighted")
	}
	if none.Weak != noneAUROC.Weak || none.Ceiling != noneAUROC.Ceiling {
		t.Error("the PGR metric changed a teacher key: teachers do not depend on it")
	}
	if none.Student == noneAUROC.Student || none.Config == noneAUROC.Config {
		t.Error("the PGR metric does not change the student key or the config hash")
	}
	if def.WeakFeatures != none.WeakFeatures {
		t.Error("features depend on the balancing mode")
	}

	run := func(cs CellSpec) store.Row {
		row, _, err := cr.Run(ctx, cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	u, n, w := run(with("", "")), run(with("none", "auroc")), run(with("weight", "auroc"))
	total := func(r store.Row) []int {
		out := make([]int, 2)
		for _, c := range [][]int{r.ClassCountsTrainWeak, r.ClassCountsTrainStrong, r.ClassCountsTest} {
			out[0] += c[0]
			out[1] += c[1]
		}
		return out
	}
	if got := total(u); !slices.Equal(got, []int{250, 250}) || u.Balance != "undersample" || u.PGRMetric != "accuracy" {
		t.Errorf("undersample: %v examples per class, balance %q, metric %q", got, u.Balance, u.PGRMetric)
	}
	for _, r := range []store.Row{n, w} {
		if got := total(r); !slices.Equal(got, []int{3900, 250}) {
			t.Errorf("%s: %v examples per class, want the natural 3900/250", r.Balance, got)
		}
		for _, c := range [][]int{r.ClassCountsTrainWeak, r.ClassCountsTrainStrong, r.ClassCountsTest} {
			if c[1] < 83 || c[1] > 84 || c[0] != 1300 {
				t.Errorf("%s: split counts %v, want 1300 and 83 or 84 (stratified thirds)", r.Balance, c)
			}
		}
		if r.PGRMetric != "auroc" || r.FloorScore != r.FloorAUROC || r.CeilingScore != r.CeilingAUROC || r.W2SScore != r.W2SAUROC {
			t.Errorf("%s: metric %q, scores %v/%v/%v, AUROCs %v/%v/%v", r.Balance, r.PGRMetric, r.FloorScore, r.CeilingScore, r.W2SScore, r.FloorAUROC, r.CeilingAUROC, r.W2SAUROC)
		}
		if r.WeakECE == nil || !slices.Equal(r.Classes, []string{"easy-ham", "hard-ham"}) {
			t.Errorf("%s: weak ECE %v, classes %v", r.Balance, r.WeakECE, r.Classes)
		}
	}
	if n.Balance != "none" || w.Balance != "weight" {
		t.Errorf("balance fields %q and %q", n.Balance, w.Balance)
	}
	if !slices.Equal(n.ClassCountsTest, w.ClassCountsTest) || n.NTest != w.NTest {
		t.Error("none and weight split differently")
	}
	if n.FloorAUROC == w.FloorAUROC || *n.WeakECE == *w.WeakECE {
		t.Error("weighting left the weak model unchanged")
	}
}
