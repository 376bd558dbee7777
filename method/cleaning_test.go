package method

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/student"
)

// clCell is a small real weak-to-strong cell for the cleaning methods' tests:
// hashed bag-of-words (weak) and GloVe (strong) features of real built-in
// text sets through the shared feature cache, split in thirds; a linear weak
// head on train_weak gold gives the weak labels. The hidden gold of
// train_strong and test is kept beside the view for the tests' own checks
// (methods never see it).
type clCell struct {
	view     View
	goldTS   []int
	testX    data.Matrix
	testGold []int
}

var (
	clCells   = map[string]*clCell{}
	clCellsMu sync.Mutex
)

// clTestCell builds (once per name) the cell "sentiment" (the UCI sentences,
// 900 balanced examples) or "text4" (a real 4-class text set made of two
// built-ins: {ham, spam} from SpamAssassin and {negative, positive} from the
// UCI sentences, 300 examples of each class).
func clTestCell(t *testing.T, name string) *clCell {
	t.Helper()
	clCellsMu.Lock()
	defer clCellsMu.Unlock()
	if c, ok := clCells[name]; ok {
		cc := *c
		return &cc
	}
	var sets []string
	perClass := 0
	switch name {
	case "sentiment":
		sets, perClass = []string{"sentiment"}, 450
	case "text4":
		sets, perClass = []string{"spam", "sentiment"}, 300
	default:
		t.Fatalf("unknown test cell %q", name)
	}
	c, err := clBuildCell(context.Background(), sets, perClass, 3)
	if err != nil {
		t.Fatalf("building %s cell: %v", name, err)
	}
	clCells[name] = c
	cc := *c
	return &cc
}

func clBuildCell(ctx context.Context, sets []string, perClass int, seed int64) (*clCell, error) {
	var weakRows, strongRows [][]float32
	var labels []int
	offset := 0
	for _, name := range sets {
		ds, err := data.LoadBuiltin(ctx, name, nil)
		if err != nil {
			return nil, err
		}
		texts := make([]string, len(ds.Examples))
		for i, ex := range ds.Examples {
			texts[i] = ex.Text
		}
		feats := map[string]data.Matrix{}
		for _, enc := range []string{"bow", "glove"} {
			e, err := encode.New(ctx, enc, nil)
			if err != nil {
				return nil, err
			}
			if feats[enc], err = (&featcache.Cache{}).Features(ctx, e, ds.ContentHash(), texts, nil); err != nil {
				return nil, err
			}
		}
		idx := data.SubsampleIndices(ds, data.BalanceIndices(ds, seed), perClass*ds.K(), seed)
		for _, i := range idx {
			weakRows = append(weakRows, feats["bow"].Row(i))
			strongRows = append(strongRows, feats["glove"].Row(i))
			labels = append(labels, ds.Examples[i].Label+offset)
		}
		offset += ds.K()
	}
	k := offset
	perm := rand.New(rand.NewPCG(uint64(seed), 7)).Perm(len(labels))
	third := len(perm) / 3
	part := func(p []int) (data.Matrix, data.Matrix, []int) {
		w := make([][]float32, len(p))
		s := make([][]float32, len(p))
		y := make([]int, len(p))
		for r, i := range p {
			w[r], s[r], y[r] = weakRows[i], strongRows[i], labels[i]
		}
		wm, _ := data.MatrixFromRows(w)
		sm, _ := data.MatrixFromRows(s)
		return wm, sm, y
	}
	twW, twS, twY := part(perm[:third])
	tsW, tsS, tsY := part(perm[third : 2*third])
	_, teS, teY := part(perm[2*third:])

	weakCfg := student.DefaultProbeConfig(student.HeadLinear)
	weakCfg.Standardize = false // bow is sparse and pre-scaled, as the runner treats it
	weakCfg.Seed = 11
	weak, err := student.FitProbeLabels(ctx, twW, twY, k, weakCfg)
	if err != nil {
		return nil, err
	}
	wl, err := weak.Predict(tsW)
	if err != nil {
		return nil, err
	}
	strongCfg := student.DefaultProbeConfig(student.HeadLinear)
	strongCfg.Seed = 13
	c := &clCell{
		view: View{
			K: k, Seed: seed,
			TrainWeak:   SupervisorSplit{Weak: twW},
			TrainStrong: WeakSplit{Weak: tsW, Strong: tsS, WeakLabels: wl},
			WeakProbe:   weakCfg, WeakEncoder: "bow", StrongEncoder: "glove",
			StrongProbe: strongCfg,
		},
		goldTS: tsY, testX: teS, testGold: teY,
	}
	if err := registerTestGold(&c.view, twS, twY); err != nil {
		return nil, err
	}
	return c, nil
}

func clAccuracy(p data.Matrix, gold []int) float64 {
	right := 0
	for i, c := range p.Argmax() {
		if c == gold[i] {
			right++
		}
	}
	return float64(right) / float64(len(gold))
}

// clWeakCorrect is the fraction of the flagged examples whose weak argmax is
// right (the filter precision of eval.FilterPR).
func clWeakCorrect(c *clCell, flags []bool) float64 {
	arg := c.view.TrainStrong.WeakLabels.Argmax()
	n, right := 0, 0
	for i, f := range flags {
		if f {
			n++
			if arg[i] == c.goldTS[i] {
				right++
			}
		}
	}
	return float64(right) / float64(n)
}

func clMust(t *testing.T, spec string) Method {
	t.Helper()
	m, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// clFit trains spec's plan on a probe student and returns the student and
// its selection, which every cleaning method must report.
func clFit(t *testing.T, c *clCell, spec string) (student.Model, *Selection) {
	t.Helper()
	tr := probeRun(t, clMust(t, spec), &c.view)
	if tr.Selection == nil {
		t.Fatalf("%s: the plan reports no selection", spec)
	}
	return tr.Model, tr.Selection
}

func TestCleaningRegistry(t *testing.T) {
	for _, name := range []string{"conf-filter", "knn-relabel", "knn-filter", "logreg-filter", "topo-filter",
		"selective", "graph-smooth", "pik-only", "cosupervise"} {
		m := clMust(t, name)
		if m.Name() != name {
			t.Errorf("%s: Name() = %q", name, m.Name())
		}
		if _, err := New(name + ":bogus=1"); err == nil {
			t.Errorf("%s accepted an unknown parameter", name)
		}
	}
	for _, info := range Infos() {
		switch info.Name {
		case "conf-filter", "knn-relabel", "knn-filter", "logreg-filter", "topo-filter", "selective", "graph-smooth", "pik-only", "cosupervise":
			if info.Description == "" || info.Reference == "" || info.Params == "" || info.Adaptation == "" {
				t.Errorf("%s: incomplete Info %+v", info.Name, info)
			}
		}
	}
	for _, bad := range []string{"conf-filter:threshold=0.8,keep=0.5", "conf-filter:threshold=2", "knn-filter:contamination=-1",
		"knn-relabel:metric=manhattan", "cosupervise:teachers=3", "logreg-filter:folds=1", "selective:threshold=x"} {
		if _, err := New(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if got := clMust(t, "cosupervise:teachers=2").Name(); got != "cosupervise:teachers=2" {
		t.Errorf("Name() = %q, want the spec back", got)
	}
}

func TestClDropTop(t *testing.T) {
	got := cleaning.DropTop([]float64{0.5, 0.9, 0.1, 0.9, 0.3}, 0.4)
	want := []bool{true, false, true, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cleaning.DropTop = %v, want %v", got, want)
		}
	}
	// Ties: the higher index goes first.
	got = cleaning.DropTop([]float64{1, 1, 1}, 1.0/3)
	if !got[0] || !got[1] || got[2] {
		t.Errorf("tie-break: %v", got)
	}
	if math.Abs(cleaning.TV([]float32{1, 0}, []float32{0.25, 0.75})-0.75) > 1e-9 {
		t.Error("cleaning.TV")
	}
}
