package method

import (
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
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

// TestTopoFilter checks on real sentiment data that the ζ step drops
// exactly round(contamination·N) examples and that everything kept lies in
// its weak class's largest component.
func TestTopoFilter(t *testing.T) {
	c := clTestCell(t, "sentiment")
	v := &c.view
	m := clMust(t, "topo-filter:k_cc=10").(topoFilter)
	g, _ := clGraph("t", v.TrainStrong.Strong, 10, knn.Cosine)
	cc := topoComponents(g, v.TrainStrong.WeakLabels.Argmax(), v.K)
	kept, err := m.selection(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clCount(cc)-clCount(kept), 30; got != want {
		t.Errorf("ζ step dropped %d, want %d", got, want)
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
	t.Logf("topo-filter k_cc=10: components keep %d of %d; kept %d; weak accuracy kept %.3f dropped %.3f",
		clCount(cc), len(cc), clCount(kept), clWeakCorrect(c, kept), clWeakCorrect(c, drop))
	_, sel := clFit(t, c, "topo-filter:k_cc=10")
	for i := range kept {
		if sel.Kept[i] != kept[i] {
			t.Fatal("the student's selection differs from the filter's")
		}
	}
}
