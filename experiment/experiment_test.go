package experiment

import (
	"context"
	"io"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

// testRunner is a Runner with its own empty teacher cache, so that every
// run trains its weak models and ceilings (and determinism checks cover
// them).
func testRunner(t *testing.T) *Runner {
	t.Helper()
	return &Runner{Cache: &featcache.Cache{}, Log: testLog(), Teachers: t.TempDir()}
}

func testLog() io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}

func testCells(t *testing.T) *CellRunner {
	t.Helper()
	return &CellRunner{Cache: &featcache.Cache{}, Log: testLog(), Teachers: t.TempDir()}
}

func smallSpec() Spec {
	spec := DefaultSpec()
	spec.Datasets = []string{"sentiment"}
	spec.Weak, spec.Strong = "bow", "glove"
	spec.Methods = []string{"naive", "naive-hard"}
	spec.Seeds = 2
	spec.Limit = 900
	spec.Resamples = 200
	return spec
}

// TestRunSentiment runs the real protocol end to end on the UCI sentiment
// sentences and checks the numbers are sane: the GloVe ceiling beats the
// bag-of-words floor, every row has a PGR with a CI around it (or an honest
// "no gap"), and two runs with the same seed give identical numbers.
func TestRunSentiment(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	spec := smallSpec()
	rows, sums, err := testRunner(t).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(sums) != 2 {
		t.Fatalf("got %d rows, %d summaries; want 4 and 2", len(rows), len(sums))
	}
	for _, r := range rows {
		if r.NTrainWeak+r.NTrainStrong+r.NTest > spec.Limit || r.NTest < 250 {
			t.Errorf("split sizes %d/%d/%d do not fit --limit %d", r.NTrainWeak, r.NTrainStrong, r.NTest, spec.Limit)
		}
		if r.FloorAcc < 0.55 || r.CeilingAcc < 0.6 || r.W2SAcc < 0.55 {
			t.Errorf("seed %d %s: accuracies implausibly low: floor %.3f ceiling %.3f w2s %.3f", r.Seed, r.Method, r.FloorAcc, r.CeilingAcc, r.W2SAcc)
		}
		if r.NoGap != (r.PGR == nil) {
			t.Errorf("no_gap=%v but pgr=%v", r.NoGap, r.PGR)
		}
		if r.PGR != nil && !(*r.PGRCILow <= *r.PGR && *r.PGR <= *r.PGRCIHigh) {
			t.Errorf("PGR %.3f outside its CI [%.3f, %.3f]", *r.PGR, *r.PGRCILow, *r.PGRCIHigh)
		}
		if r.Agreement < 0.5 || r.Agreement > 1 || math.IsNaN(r.Misfit) {
			t.Errorf("diagnostics out of range: agreement %.3f misfit %v", r.Agreement, r.Misfit)
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
}

// TestStudentIgnoresHiddenGold flips the gold labels of train_strong and
// test and rebuilds the cell: the ceiling changes, but the weak labels and
// every method's student must not move by a single bit, because nothing on
// the method side can read those labels.
func TestStudentIgnoresHiddenGold(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	cr := testCells(t)
	cs := smallSpec().cell("sentiment", "sentiment", "", 3)
	ds, _, err := cr.dataset(ctx, "sentiment")
	if err != nil {
		t.Fatal(err)
	}
	split, err := splitFor(cs, ds, cs.Seed)
	if err != nil {
		t.Fatal(err)
	}
	flipped := *ds
	flipped.Examples = append([]data.Example(nil), ds.Examples...)
	for _, idx := range [][]int{split.TrainStrong, split.Test} {
		for _, i := range idx {
			flipped.Examples[i].Label = 1 - flipped.Examples[i].Label
		}
	}
	getOnce(cr, &cr.datasets, "sentiment-flipped", func() (*data.Dataset, error) { return &flipped, nil })
	// Balancing and the stratified split read labels: both cells use the
	// original split, so they differ in hidden gold only.
	cr.split = func(CellSpec, *data.Dataset, int64) (data.Split, error) { return split, nil }
	c1, err := cr.Cell(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	cs.Dataset = "sentiment-flipped"
	c2, err := cr.Cell(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c1.view.TrainStrong.WeakLabels, c2.view.TrainStrong.WeakLabels) {
		t.Fatal("weak labels changed when hidden gold changed")
	}
	if reflect.DeepEqual(c1.ceilTest, c2.ceilTest) {
		t.Error("ceiling did not change when train_strong gold was flipped: the test is not exercising hidden gold")
	}
	info, err := cr.Info(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	ran, drew := 0, 0
	for _, name := range method.Names() {
		m, _ := method.New(name)
		if err := method.Check(m, info); err != nil {
			t.Logf("%s refuses the cell: %v", name, err)
			continue
		}
		ran++
		v1, v2 := c1.view, c2.view
		s1, err := c1.exec.Run(ctx, m, &v1)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := c2.exec.Run(ctx, m, &v2)
		if err != nil {
			t.Fatal(err)
		}
		p1, _ := s1.Model.Predict(ctx, c1.test)
		p2, _ := s2.Model.Predict(ctx, c2.test)
		if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(s1.TrainStrong, s2.TrainStrong) {
			t.Errorf("method %s: student changed when only hidden gold changed", name)
		}
		if s1.Gold.Strong > 0 {
			drew++
		}
	}
	// The gold budget's methods (selective, pik-only, pik-random and the
	// controls) must be among them: train_weak gold is not hidden, so they
	// must not move either.
	if ran < 20 || drew < 5 {
		t.Errorf("%d methods ran, %d drew budgeted gold: the test does not cover the suite", ran, drew)
	}
	if c1.hidden.NTest() != c2.hidden.NTest() {
		t.Error("hidden test sets differ in size")
	}
}

// TestResumeSkipsFinishedCells checks that rows already saved in the run
// directory are reused rather than recomputed.
func TestResumeSkipsFinishedCells(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	spec := smallSpec()
	spec.Seeds = 1
	spec.Methods = []string{"naive"}
	r := testRunner(t)
	r.Out = store.RunDir{Dir: t.TempDir()}
	rows, _, err := r.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	// Poison the saved row: a rerun must return the saved value, proving it
	// did not recompute.
	k, err := testCells(t).Keys(ctx, spec.cell("sentiment", "sentiment", "naive", rows[0].Seed))
	if err != nil {
		t.Fatal(err)
	}
	key := k.Student
	saved := rows[0]
	saved.W2SAcc = 0.123456 // a valid row, but not the one computing gives
	if err := r.Out.SaveCell(key, saved); err != nil {
		t.Fatal(err)
	}
	again, _, err := r.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].W2SAcc != 0.123456 {
		t.Errorf("finished cell was recomputed (w2s %.3f)", again[0].W2SAcc)
	}
}
