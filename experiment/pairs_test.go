package experiment

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method"
)

// pairSpec is smallSpec (bow → glove, 2 seeds) on the built-in preference
// pairs.
func pairSpec() Spec {
	spec := smallSpec()
	spec.Datasets = []string{"review-pairs"}
	spec.Methods = []string{"naive", "logconf"}
	spec.Limit = 600
	return spec
}

// A preference run is deterministic, its rows are preference rows with
// pairwise accuracies, calibration and best-of-n, and a method that has no
// meaning on pairs is refused before any work.
func TestPreferenceRun(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	spec := pairSpec()
	rows, sums, err := testRunner(t).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(sums) != 2 {
		t.Fatalf("%d rows, %d summaries; want 4 and 2", len(rows), len(sums))
	}
	for _, r := range rows {
		if r.Task != "preference" || r.W2SECE == nil || r.BestOfN != BestOfN || r.BoNGroups < 10 || r.BoNW2S == nil {
			t.Errorf("row %s seed %d: task %q ece %v best-of-%d groups %d", r.Method, r.Seed, r.Task, r.W2SECE, r.BestOfN, r.BoNGroups)
		}
		if r.FloorAcc < 0.6 || r.CeilingAcc < 0.7 {
			t.Errorf("pairwise accuracies implausibly low: floor %.3f ceiling %.3f", r.FloorAcc, r.CeilingAcc)
		}
		if r.ClassCountsTest[0]-r.ClassCountsTest[1] > 1 || r.ClassCountsTest[1]-r.ClassCountsTest[0] > 1 {
			t.Errorf("test positions %v: A and B preferred should be balanced", r.ClassCountsTest)
		}
	}
	for _, s := range sums {
		if s.Preference == nil || s.Preference.BestOfN != BestOfN {
			t.Errorf("summary %s: preference %+v", s.Method, s.Preference)
		}
	}
	again, _, err := testRunner(t).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		a, b := rows[i], again[i]
		a.DurationS, b.DurationS = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("same spec and seed gave different rows:\n%+v\n%+v", a, b)
		}
	}
	bad := spec
	bad.Methods = []string{"knn-relabel"}
	if _, _, err := testRunner(t).Run(ctx, bad); err == nil {
		t.Error("knn-relabel ran on preference pairs")
	}
}

// Swapping A and B in every pair (labels flipped) negates the pair
// features; the weak model and the ceiling then predict the flipped
// probabilities, and the hidden gold of the pairs never reaches a method:
// flipping it leaves the weak labels and the student unchanged.
func TestPreferenceSwapAndHiddenGold(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	cr := testCells(t)
	cs := pairSpec().cell("review-pairs", "review-pairs", "", 1)
	ds, _, err := cr.dataset(ctx, "review-pairs")
	if err != nil {
		t.Fatal(err)
	}
	split, err := splitFor(cs, ds, cs.Seed)
	if err != nil {
		t.Fatal(err)
	}
	swapped, flipped := *ds, *ds
	swapped.Examples = append([]data.Example(nil), ds.Examples...)
	flipped.Examples = append([]data.Example(nil), ds.Examples...)
	for i, e := range swapped.Examples {
		p := e.Pair.Swapped()
		swapped.Examples[i].Pair, swapped.Examples[i].Label = &p, 1-e.Label
	}
	for _, idx := range [][]int{split.TrainStrong, split.Test} {
		for _, i := range idx {
			flipped.Examples[i].Label = 1 - flipped.Examples[i].Label
		}
	}
	getOnce(cr, &cr.datasets, "review-pairs-swapped", func() (*data.Dataset, error) { return &swapped, nil })
	getOnce(cr, &cr.datasets, "review-pairs-flipped", func() (*data.Dataset, error) { return &flipped, nil })
	cr.split = func(CellSpec, *data.Dataset, int64) (data.Split, error) { return split, nil }
	cells := map[string]*Cell{}
	for _, name := range []string{"review-pairs", "review-pairs-swapped", "review-pairs-flipped"} {
		c := cs
		c.Dataset = name
		if cells[name], err = cr.Cell(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	orig, sw := cells["review-pairs"], cells["review-pairs-swapped"]
	for what, m := range map[string][2]data.Matrix{"floor": {orig.floorTest, sw.floorTest}, "ceiling": {orig.ceilTest, sw.ceilTest},
		"weak labels": {orig.view.TrainStrong.WeakLabels, sw.view.TrainStrong.WeakLabels}} {
		for i := 0; i < m[0].Rows; i++ {
			if d := math.Abs(float64(m[0].At(i, 1) - m[1].At(i, 0))); d > 1e-4 {
				t.Fatalf("%s pair %d: P(A≻B) %v, swapped P(B≻A) %v", what, i, m[0].At(i, 1), m[1].At(i, 0))
			}
		}
	}
	fl := cells["review-pairs-flipped"]
	if !reflect.DeepEqual(orig.view.TrainStrong.WeakLabels, fl.view.TrainStrong.WeakLabels) {
		t.Fatal("weak labels changed when the pairs' hidden gold changed")
	}
	m, err := method.New("logconf")
	if err != nil {
		t.Fatal(err)
	}
	r1, _, err := cr.RunMethod(ctx, orig, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := cr.RunMethod(ctx, fl, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r1.W2SAcc-(1-r2.W2SAcc)) > 1e-9 || r1.Agreement != r2.Agreement {
		t.Errorf("the student moved with the hidden gold: w2s %.4f vs flipped-gold %.4f, agreement %.4f vs %.4f", r1.W2SAcc, r2.W2SAcc, r1.Agreement, r2.Agreement)
	}
}
