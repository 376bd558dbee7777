package method

import (
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method/internal/cleaning"
)

// TestTopoComponents checks the per-class largest strongly connected
// component on a hand graph: two class-0 clusters (sizes 3 and 2) and one
// class-1 cluster; the smaller class-0 cluster must go.
func TestTopoComponents(t *testing.T) {
	x, _ := data.MatrixFromRows([][]float32{{0}, {0.1}, {0.2}, {5}, {5.1}, {9}, {9.1}, {9.2}})
	class := []int{0, 0, 0, 0, 0, 1, 1, 1}
	g, err := knn.Build(x, 2, knn.L2)
	if err != nil {
		t.Fatal(err)
	}
	got := topoComponents(g, class, 2)
	want := []bool{true, true, true, false, false, true, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kept %v, want %v", got, want)
		}
	}
}

// TestTopoFilter checks on real sentiment data that the filter removes
// round(contamination·N) examples in total, as EleutherAI's topofilter
// does (the ζ step drops what the component step left of the quota), and
// that everything kept lies in its weak class's largest component.
func TestTopoFilter(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	c := clTestCell(t, "sentiment")
	v := &c.view
	// On these 300 sentences the component step (k_cc = 50) removes 54,
	// more than the default quota of 30: contamination 0.3 leaves the ζ
	// step 36 to drop.
	m := clMust(t, "topo-filter:contamination=0.3").(topoFilter)
	g, _ := cleaning.Graph("t", v.TrainStrong.Strong, 50, knn.Cosine)
	cc := topoComponents(g, v.TrainStrong.WeakLabels.Argmax(), v.K)
	kept, err := m.selection(v)
	if err != nil {
		t.Fatal(err)
	}
	n := len(kept)
	quota := 90 // round(0.3 · 300)
	if ccRemoved := n - cleaning.Count(cc); ccRemoved >= quota {
		t.Fatalf("the component step removed %d >= the quota %d: the test does not exercise the ζ step", ccRemoved, quota)
	}
	if got := n - cleaning.Count(kept); got != quota {
		t.Errorf("removed %d in total (components %d, ζ %d), want %d", got, n-cleaning.Count(cc), cleaning.Count(cc)-cleaning.Count(kept), quota)
	}
	// The default quota, 30, is below what the components removed: ζ drops
	// nothing (EleutherAI: "TopoCC overshot contamination").
	small := clMust(t, "topo-filter").(topoFilter)
	keptSmall, err := small.selection(v)
	if err != nil {
		t.Fatal(err)
	}
	if cleaning.Count(keptSmall) != cleaning.Count(cc) {
		t.Errorf("contamination 0.1: kept %d, want the %d component survivors (the components overshot the quota)", cleaning.Count(keptSmall), cleaning.Count(cc))
	}
	for i := range kept {
		if kept[i] && !cc[i] {
			t.Fatalf("example %d kept outside its class's largest component", i)
		}
	}
	drop := make([]bool, len(kept))
	for i := range kept {
		drop[i] = !kept[i]
	}
	t.Logf("topo-filter contamination=0.3: components keep %d of %d; kept %d; weak accuracy kept %.3f dropped %.3f",
		cleaning.Count(cc), len(cc), cleaning.Count(kept), clWeakCorrect(c, kept), clWeakCorrect(c, drop))
	_, sel := clFit(t, c, "topo-filter:contamination=0.3")
	for i := range kept {
		if sel.Kept[i] != kept[i] {
			t.Fatal("the student's selection differs from the filter's")
		}
	}
}
