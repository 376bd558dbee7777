package method

import (
	"math"
	"reflect"
	"testing"

	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method/internal/cleaning"
)

// TestSelective checks the defining behaviour on real sentiment data:
// selective trains on the strong self-labels exactly where P(IK) passes
// its threshold and on graph-smoothed weak labels elsewhere; pik-only keeps
// the weak labels elsewhere untouched; pik-random replaces as many rows,
// not the same ones, with the same self-labels; graph-smooth is the
// normalised label spreading of the weak labels over the strong kNN graph.
// The self-labels are gold-free: the out-of-fold predictions of a strong
// probe cross-fitted on the weak labels.
func TestSelective(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	c := clTestCell(t, "sentiment")
	v := &c.view
	weak := v.TrainStrong.WeakLabels
	testBudget(v, DefaultGold)

	sel := clMust(t, "selective:threshold=0.6").(selective)
	y, replaced, st, err := sel.targets(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	nRep := 0
	for i := range replaced {
		if replaced[i] != (st.pik[i] >= 0.6) {
			t.Fatalf("row %d: P(IK) %.4f, replaced %v at threshold 0.6", i, st.pik[i], replaced[i])
		}
		if replaced[i] {
			nRep++
			if !reflect.DeepEqual(y.Row(i), st.selfLabels.Row(i)) {
				t.Fatalf("row %d: replaced but target %v is not the self-label %v", i, y.Row(i), st.selfLabels.Row(i))
			}
		} else if reflect.DeepEqual(y.Row(i), weak.Row(i)) {
			t.Fatalf("row %d: not replaced but its weak label was not smoothed", i)
		}
	}
	if nRep == 0 || nRep == len(replaced) {
		t.Fatalf("threshold 0.6 replaced %d of %d: the test does not exercise the selection", nRep, len(replaced))
	}
	// The self-labels are the weak labels' cross-fit, no gold: recompute.
	cfg := v.StrongProbe
	cfg.Seed = seeds.Derive(v.Seed, seeds.Trail("selective", "self-probe"))
	oof, err := cleaning.CrossFit(t.Context(), v.TrainStrong.Strong, weak, cfg, 5, seeds.Derive(v.Seed, seeds.Trail("selective", "folds")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(oof.Values, st.selfLabels.Values) {
		t.Error("self-labels are not the cross-fitted strong probe's out-of-fold predictions of the weak labels")
	}
	if u := v.Gold.Use(); u.Strong != DefaultGold || u.Weak != 0 {
		t.Errorf("selective read gold %+v, want %d strong-feature labels and no weak-side gold", u, DefaultGold)
	}
	// How informative P(IK) is (hidden gold, test-side only): reported, not
	// asserted.
	selfArg := st.selfLabels.Argmax()
	var hiN, hiR, loN, loR int
	for i, r := range replaced {
		right := selfArg[i] == c.goldTS[i]
		if r {
			hiN++
			if right {
				hiR++
			}
		} else {
			loN++
			if right {
				loR++
			}
		}
	}
	t.Logf("selective: %d replaced; self-label accuracy where P(IK) >= 0.6: %.3f (n=%d), elsewhere %.3f (n=%d); weak accuracy there %.3f",
		nRep, float64(hiR)/float64(hiN), hiN, float64(loR)/float64(loN), loN, clWeakCorrect(c, replaced))

	po := clMust(t, "pik-only:threshold=0.6").(selective)
	y2, rep2, _, err := po.targets(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep2 {
		want := weak.Row(i)
		if rep2[i] {
			want = st.selfLabels.Row(i)
		}
		if rep2[i] != replaced[i] || !reflect.DeepEqual(y2.Row(i), want) {
			t.Fatalf("pik-only row %d: replaced %v target %v, want %v", i, rep2[i], y2.Row(i), want)
		}
	}

	pr := clMust(t, "pik-random:threshold=0.6").(selective)
	y4, rep4, _, err := pr.targets(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	if cleaning.Count(rep4) != nRep || reflect.DeepEqual(rep4, replaced) {
		t.Errorf("pik-random replaced %d rows (same as P(IK)'s: %v), want %d other rows", cleaning.Count(rep4), reflect.DeepEqual(rep4, replaced), nRep)
	}
	for i := range rep4 {
		want := weak.Row(i)
		if rep4[i] {
			want = st.selfLabels.Row(i)
		}
		if !reflect.DeepEqual(y4.Row(i), want) {
			t.Fatalf("pik-random row %d: target %v, want %v", i, y4.Row(i), want)
		}
	}

	gs := clMust(t, "graph-smooth").(selective)
	y3, rep3, _, err := gs.targets(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := knn.Build(v.TrainStrong.Strong, 10, knn.Cosine)
	f, err := knn.SpreadClosedForm(knn.NewAffinity(g), weak, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep3 {
		if rep3[i] {
			t.Fatal("graph-smooth replaced a label")
		}
		s := f.At(i, 0) + f.At(i, 1)
		for cl := range 2 {
			if math.Abs(float64(y3.At(i, cl)-f.At(i, cl)/s)) > 1e-5 {
				t.Fatalf("graph-smooth row %d class %d: %.6f, closed-form spreading %.6f", i, cl, y3.At(i, cl), f.At(i, cl)/s)
			}
		}
	}
	_, s := clFit(t, c, "selective:threshold=0.6")
	if !reflect.DeepEqual(s.Replaced, replaced) || cleaning.Count(s.Kept) != len(replaced) {
		t.Error("the student's selection differs from the targets' replacement flags")
	}
}
