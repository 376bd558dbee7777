package method

import (
	"reflect"
	"testing"

	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/student"
)

// TestLogregFilter checks on real sentiment data that the probe is
// cross-fitted (each fold's probe never saw the rows it scores: refitting a
// fold's probe reproduces exactly the out-of-fold rows), that the filter
// drops exactly the contamination fraction to whose weak class the probe
// gives the least probability, and that the student trains on the rest.
func TestLogregFilter(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	c := clTestCell(t, "sentiment")
	v := &c.view
	m := clMust(t, "logreg-filter:folds=3").(logregFilter)
	pred, err := m.probe(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	weak := v.TrainStrong.WeakLabels
	score := cleaning.Disagree(weak, pred)
	_, sel := clFit(t, c, "logreg-filter:folds=3")
	kept := sel.Kept
	if got := len(kept) - cleaning.Count(kept); got != 30 {
		t.Fatalf("dropped %d of 300, want 30", got)
	}
	minDropped, maxKept := 2.0, -1.0
	agreeKept, agreeDropped := 0, 0
	pa, wa := pred.Argmax(), weak.Argmax()
	for i := range kept {
		if kept[i] {
			maxKept = max(maxKept, score[i])
			if pa[i] == wa[i] {
				agreeKept++
			}
		} else {
			minDropped = min(minDropped, score[i])
			if pa[i] == wa[i] {
				agreeDropped++
			}
		}
	}
	if minDropped < maxKept {
		t.Errorf("dropped a disagreement %.4f below a kept %.4f", minDropped, maxKept)
	}
	if agreeDropped != 0 {
		t.Errorf("%d dropped examples have a probe argmax equal to the weak argmax, while %d kept ones do", agreeDropped, agreeKept)
	}
	drop := make([]bool, len(kept))
	for i := range kept {
		drop[i] = !kept[i]
	}
	t.Logf("logreg-filter: weak accuracy kept %.3f dropped %.3f", clWeakCorrect(c, kept), clWeakCorrect(c, drop))

	// Out of fold: refitting fold 0's probe on the other folds by hand
	// reproduces exactly the probe's predictions on fold 0's rows.
	seed := seeds.Derive(v.Seed, seeds.Trail("logreg-filter"))
	fold := cleaning.Folds(weak.Rows, 3, seed)
	var tr, te []int
	for i, f := range fold {
		if f == 0 {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	cfg := m.probeConfig(v)
	cfg.Seed = seeds.Derive(seed, seeds.Trail("fold", "0"))
	head, err := student.FitProbe(t.Context(), v.TrainStrong.Strong.SelectRows(tr), weak.SelectRows(tr), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p0, _ := head.Predict(v.TrainStrong.Strong.SelectRows(te))
	if !reflect.DeepEqual(p0, pred.SelectRows(te)) {
		t.Error("fold 0's predictions do not come from a probe trained on the other folds")
	}
}
