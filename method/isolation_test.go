package method

import (
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/goldwalk"
)

// TestViewHasNoHiddenGold walks every type reachable from View and fails if a
// method could reach hidden gold: no field may have a type from package eval
// (the holder of train_strong and test gold), and the only label slice in the
// view must be TrainWeak.Gold, the supervisor's own training labels.
func TestViewHasNoHiddenGold(t *testing.T) {
	r := goldwalk.Walk(View{})
	for _, p := range r.EvalPaths {
		t.Errorf("%s: hidden gold would be reachable", p)
	}
	if len(r.IntSlices) != 1 || r.IntSlices[0] != "View.TrainWeak.Gold" {
		t.Errorf("label-like []int fields reachable from View: %v; want only View.TrainWeak.Gold", r.IntSlices)
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
