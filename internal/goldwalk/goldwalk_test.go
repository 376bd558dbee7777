package goldwalk

import (
	"reflect"
	"testing"

	"github.com/superalign/superalign/eval"
)

type leaky struct {
	Gold   []int
	Nested struct{ H *eval.Hidden }
	Fn     func(*eval.Hidden) int
}

type clean struct {
	Name string
	F    func([]float32) error
}

// TestWalk: a root that reaches eval through a field and through a function
// signature is reported on both paths; a clean root is not.
func TestWalk(t *testing.T) {
	r := Walk(leaky{})
	if len(r.EvalPaths) != 2 {
		t.Errorf("eval paths %v, want the field and the func parameter", r.EvalPaths)
	}
	if !reflect.DeepEqual(r.IntSlices, []string{"leaky.Gold"}) {
		t.Errorf("int slices %v, want [leaky.Gold]", r.IntSlices)
	}
	if c := Walk(clean{}); len(c.EvalPaths) != 0 || len(c.IntSlices) != 0 {
		t.Errorf("clean root reported %v %v", c.EvalPaths, c.IntSlices)
	}
}

type inner struct{ X []float32 }

type twice struct {
	A inner
	B *inner
	C []inner
}

// TestPathsEveryWay: a project type reached by three fields is walked on
// each, so the slice inside it is listed under all three paths (a type
// reached once only would hide a second way to it).
func TestPathsEveryWay(t *testing.T) {
	r := Walk(twice{})
	got := r.Paths[reflect.TypeOf([]float32{})]
	want := []string{"twice.A.X", "twice.B[].X", "twice.C[].X"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths to []float32 %v, want %v", got, want)
	}
}
