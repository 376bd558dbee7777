package method

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/goldwalk"
)

// TestViewHasNoHiddenGold walks every type reachable from View and fails if a
// method could reach hidden gold: no field may have a type from package eval
// (the holder of train_strong and test gold), and the only label slices in
// the view must be the gold budget's unexported train_weak gold and draw
// order, which a method reaches only through GoldBudget.Draw (counted,
// capped at its declaration) and GoldBudget.WeakSide (recorded).
func TestViewHasNoHiddenGold(t *testing.T) {
	r := goldwalk.Walk(View{})
	for _, p := range r.EvalPaths {
		t.Errorf("%s: hidden gold would be reachable", p)
	}
	want := []string{"View.Gold[].gold", "View.Gold[].order"}
	if !slices.Equal(r.IntSlices, want) {
		t.Errorf("label-like []int fields reachable from View: %v; want only %v", r.IntSlices, want)
	}
}

// TestTrainWeakStrongFeaturesOnlyThroughBudget classifies every way the
// View leads to a feature matrix: train_weak's strong features, which
// paired with train_weak gold would make a distilled ceiling, must be
// reachable only inside the gold budget (unexported, handed out by Draw)
// and through the Features provider (which the executor wraps to refuse
// the student's encoder and stronger ones: TestPlantedGoldBypasses). A new
// matrix field of the View fails here until it is classified.
func TestTrainWeakStrongFeaturesOnlyThroughBudget(t *testing.T) {
	r := goldwalk.Walk(View{})
	got := r.Paths[reflect.TypeOf(data.Matrix{})]
	want := []string{
		"View.TrainWeak.Weak",         // weak features of train_weak: the supervisor's side
		"View.TrainStrong.Weak",       // no gold
		"View.TrainStrong.Strong",     // no gold
		"View.TrainStrong.WeakLabels", // the weak labels
		"View.Gold[].strong",          // train_weak strong features: unexported, only via Draw
		"View.Features(out)",          // weak-side encoders only (WeakSideFeatures)
		"View.Features(out)",          // its train_strong half
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths from View to a data.Matrix:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, ok := reflect.TypeOf(View{}).FieldByName("Executor"); ok {
		t.Error("the View holds an executor: its gold pool would let a method open any budget")
	}
	for tp := range r.Seen {
		if tp == reflect.TypeOf(GoldPool{}) || tp == reflect.TypeOf(Executor{}) {
			t.Errorf("%v is reachable from the View: a method could open budgets beyond its declaration", tp)
		}
	}
}

func TestRegistry(t *testing.T) {
	for _, name := range []string{"naive", "naive-hard"} {
		m, err := New(name)
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if m.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, m.Name())
		}
	}
	if _, err := New("no-such-method"); err == nil || !strings.Contains(err.Error(), "naive") {
		t.Errorf("unknown method error should list known methods, got %v", err)
	}
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in, name, canon string
		err             bool
	}{
		{"naive", "naive", "naive", false},
		{"logconf:schedule=linear,coef=0.5", "logconf", "logconf:coef=0.5,schedule=linear", false},
		{"x:k", "", "", true},
		{"x:k=1,k=2", "", "", true},
		{":k=1", "", "", true},
	} {
		name, p, err := ParseSpec(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseSpec(%q) error %v, want error=%v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (name != tc.name || Spec(name, p) != tc.canon) {
			t.Errorf("ParseSpec(%q) = %q, %q; want %q, %q", tc.in, name, Spec(name, p), tc.name, tc.canon)
		}
	}
	if _, err := New("naive:coef=1"); err == nil || !strings.Contains(err.Error(), "unknown parameter") {
		t.Errorf("unknown parameter accepted: %v", err)
	}
}

// TestViewHasNoPairGold: on preference pairs the view is the same type,
// so a pair's gold (its hard preference, its responses' grades in
// data.Pair, the best-of-n groups in eval.BestOfN) must not be reachable
// from it either.
func TestViewHasNoPairGold(t *testing.T) {
	r := goldwalk.Walk(View{})
	for tp := range r.Seen {
		if tp == reflect.TypeOf(data.Pair{}) || tp == reflect.TypeOf(data.Example{}) || tp == reflect.TypeOf(data.Dataset{}) {
			t.Errorf("%v is reachable from the View: pair gold would be reachable", tp)
		}
	}
	if !checkPairwiseRefuses(t) {
		t.Error("a method without a pairwise meaning was accepted on pairs")
	}
}

func checkPairwiseRefuses(t *testing.T) bool {
	t.Helper()
	for _, name := range PairwiseMethods() {
		m, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(m, CellInfo{K: 2, NTrainWeak: 500, NTrainStrong: 500, Pairwise: true}); err != nil {
			t.Errorf("%s refused pairs: %v", name, err)
		}
	}
	for _, name := range []string{"knn-relabel", "ensemble", "s2s", "naive:calibrate=true"} {
		m, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(m, CellInfo{K: 2, NTrainWeak: 500, NTrainStrong: 500, Pairwise: true}); err == nil || !strings.Contains(err.Error(), "does not apply to preference pairs") {
			return false
		}
	}
	return true
}
