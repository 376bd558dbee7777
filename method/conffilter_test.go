package method

import (
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method/internal/cleaning"
)

// TestConfFilter checks the defining behaviour on real sentiment weak
// labels: the threshold rule keeps exactly the labels whose max probability
// reaches the threshold, the keep rule exactly the most confident fraction,
// and the kept labels are more often right than the dropped ones.
func TestConfFilter(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	c := clTestCell(t, "sentiment")
	weak := c.view.TrainStrong.WeakLabels
	conf := func(i int) float32 { return max(weak.At(i, 0), weak.At(i, 1)) }

	_, sel := clFit(t, c, "conf-filter:threshold=0.7")
	kept := sel.Kept
	for i := range kept {
		if kept[i] != (conf(i) >= 0.7) {
			t.Fatalf("row %d: confidence %.4f, kept %v at threshold 0.7", i, conf(i), kept[i])
		}
		if sel.Replaced[i] {
			t.Fatal("conf-filter replaced a label")
		}
	}
	n := cleaning.Count(kept)
	if n == 0 || n == len(kept) {
		t.Fatalf("threshold 0.7 kept %d of %d: the test does not exercise the filter", n, len(kept))
	}
	drop := make([]bool, len(kept))
	for i := range kept {
		drop[i] = !kept[i]
	}
	pk, pd := clWeakCorrect(c, kept), clWeakCorrect(c, drop)
	t.Logf("threshold 0.7: kept %d/%d, weak accuracy kept %.3f dropped %.3f", n, len(kept), pk, pd)
	if pk <= pd {
		t.Errorf("confident weak labels are not more accurate (%.3f vs %.3f)", pk, pd)
	}

	m := clMust(t, "conf-filter:keep=0.3").(confFilter)
	kept = m.selection(weak)
	if got, want := cleaning.Count(kept), 90; got != want { // round(0.3 · 300)
		t.Fatalf("keep=0.3 kept %d, want %d", got, want)
	}
	minKept := float32(2)
	var maxDropped float32
	for i := range kept {
		if kept[i] {
			minKept = min(minKept, conf(i))
		} else {
			maxDropped = max(maxDropped, conf(i))
		}
	}
	if minKept < maxDropped {
		t.Errorf("keep=0.3 kept a confidence %.4f below a dropped %.4f", minKept, maxDropped)
	}
	if _, err := probeExecutor(&c.view).Run(t.Context(), clMust(t, "conf-filter:threshold=1"), &c.view); err == nil {
		t.Error("a filter that keeps nothing trained anyway")
	}
}
