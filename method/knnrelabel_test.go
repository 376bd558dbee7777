package method

import (
	"math"
	"sort"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method/internal/cleaning"
)

// TestKNNRelabelHandMean checks knn-relabel against the neighbour mean
// computed by hand (float64 cosine, brute force) on a tiny real subset: the
// first 12 train_strong examples of the sentiment cell, k = 3.
func TestKNNRelabelHandMean(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	c := clTestCell(t, "sentiment")
	idx := make([]int, 12)
	for i := range idx {
		idx[i] = i
	}
	v := c.view
	v.TrainStrong = WeakSplit{
		Weak:       v.TrainStrong.Weak.SelectRows(idx),
		Strong:     v.TrainStrong.Strong.SelectRows(idx),
		WeakLabels: v.TrainStrong.WeakLabels.SelectRows(idx),
	}
	x, y := v.TrainStrong.Strong, v.TrainStrong.WeakLabels
	m := clMust(t, "knn-relabel:k=3").(knnMethod)
	kept, replaced, got, err := m.labels(&v)
	if err != nil {
		t.Fatal(err)
	}
	if cleaning.Count(kept) != 12 || cleaning.Count(replaced) != 12 {
		t.Errorf("knn-relabel keeps and replaces every label; got %d kept, %d replaced", cleaning.Count(kept), cleaning.Count(replaced))
	}
	cos := func(a, b []float32) float64 {
		var d, na, nb float64
		for j := range a {
			d += float64(a[j]) * float64(b[j])
			na += float64(a[j]) * float64(a[j])
			nb += float64(b[j]) * float64(b[j])
		}
		return d / math.Sqrt(na*nb)
	}
	for i := range 12 {
		var others []int
		for j := range 12 {
			if j != i {
				others = append(others, j)
			}
		}
		sort.SliceStable(others, func(a, b int) bool { return cos(x.Row(i), x.Row(others[a])) > cos(x.Row(i), x.Row(others[b])) })
		for cl := range 2 {
			want := (float64(y.At(others[0], cl)) + float64(y.At(others[1], cl)) + float64(y.At(others[2], cl))) / 3
			if math.Abs(float64(got.At(i, cl))-want) > 1e-6 {
				t.Errorf("row %d class %d: relabel %.6f, hand neighbour mean %.6f", i, cl, got.At(i, cl), want)
			}
		}
	}
}

// TestKNNFilter checks that knn-filter drops exactly the contamination
// fraction whose weak class the fewest neighbours share (hand-counted).
func TestKNNFilter(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	c := clTestCell(t, "sentiment")
	m := clMust(t, "knn-filter").(knnMethod)
	kept, _, _, err := m.labels(&c.view)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(kept) - cleaning.Count(kept); got != 30 { // round(0.1 · 300)
		t.Fatalf("dropped %d, want 30", got)
	}
	g, _ := cleaning.Graph("t", c.view.TrainStrong.Strong, 50, m.metric)
	weak := c.view.TrainStrong.WeakLabels
	// Hand count: the fraction of the 50 neighbours whose weak argmax differs.
	arg := weak.Argmax()
	minDropped, maxKept := 2.0, -1.0
	for i := range kept {
		other := 0
		for _, j := range g.Neighbors(i) {
			if arg[j] != arg[i] {
				other++
			}
		}
		s := float64(other) / 50
		if kept[i] {
			maxKept = max(maxKept, s)
		} else {
			minDropped = min(minDropped, s)
		}
	}
	if minDropped < maxKept {
		t.Errorf("dropped a disagreement %.4f below a kept %.4f", minDropped, maxKept)
	}
	drop := make([]bool, len(kept))
	for i := range kept {
		drop[i] = !kept[i]
	}
	pk, pd := clWeakCorrect(c, kept), clWeakCorrect(c, drop)
	// Reported, not asserted: on sentiment GloVe neighbourhoods barely
	// separate right from wrong bow labels (0.641 kept vs 0.633 dropped).
	t.Logf("knn-filter: weak accuracy kept %.3f dropped %.3f", pk, pd)
}
