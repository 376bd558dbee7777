package method

import (
	"math"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
)

// TestOptimiserRegistry: the four competence–conformity optimisers are
// registered with full Info, kept out of `all`, name themselves
// canonically, and refuse bad parameters.
func TestOptimiserRegistry(t *testing.T) {
	infos := map[string]Info{}
	for _, in := range Infos() {
		infos[in.Name] = in
	}
	for _, tc := range []struct{ spec, canon string }{
		{"simultaneous", "simultaneous"},
		{"simultaneous:lambda=0.25", "simultaneous:lambda=0.25"},
		{"alternating:phases=6,lambda=0", "alternating:lambda=0,phases=6"},
		{"sequential:lambda=1", "sequential:lambda=1"},
		{"anneal:ladder=weak:mlp,lambda=0.5", "anneal:ladder=weak:mlp,lambda=0.5"},
		{"simultaneous:supervisors=weak+bow", "simultaneous:supervisors=weak+bow"},
	} {
		m := lvNew(t, tc.spec)
		if m.Name() != tc.canon {
			t.Errorf("New(%q).Name() = %q, want %q", tc.spec, m.Name(), tc.canon)
		}
	}
	for _, o := range Optimisers {
		in := infos[o]
		if in.Description == "" || in.Reference == "" || in.Params == "" || in.Adaptation == "" || in.NotInAll == "" {
			t.Errorf("%s: incomplete Info %+v", o, in)
		}
		for _, a := range AllNames() {
			if a == o {
				t.Errorf("%s is in `all`: the optimisers are swept by w2s tradeoff", o)
			}
		}
	}
	for _, bad := range []string{"simultaneous:lambda=1.5", "simultaneous:lambda=-0.1", "alternating:phases=1", "sequential:bogus=1",
		"anneal:ladder=a++b", "simultaneous:supervisors=use-lite-ft", "simultaneous:phases=4"} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

// TestWithValues: a row moves towards the required class by the value
// supervisor's probability; rows stay distributions; no channel is the
// identity.
func TestWithValues(t *testing.T) {
	y := data.Matrix{Rows: 3, Cols: 2, Values: []float32{0.2, 0.8, 0.9, 0.1, 0.5, 0.5}}
	if got := withValues(y, nil); &got.Values[0] != &y.Values[0] {
		t.Error("no value channel changed the labels")
	}
	got := withValues(y, &WeakValue{Class: 0, TrainStrong: []float32{1, 0, 0.5}})
	want := []float32{1, 0, 0.9, 0.1, 0.75, 0.25}
	for i := range want {
		if math.Abs(float64(got.Values[i]-want[i])) > 1e-6 {
			t.Errorf("value %d: got %v, want %v", i, got.Values[i], want[i])
		}
	}
	if y.Values[0] != 0.2 {
		t.Error("withValues changed its input")
	}
}

// TestOptimisersDeterministic trains each optimiser twice on the real
// sentiment cell (bow → glove probe) and expects bit-identical students;
// the competence signal must matter (λ = 0 and λ = 1 differ), and a value
// channel must move the students towards the required class.
func TestOptimisersDeterministic(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	for _, o := range Optimisers {
		spec := o + ":lambda=0.5"
		if o == "anneal" {
			spec += ",ladder=weak:mlp"
		}
		lvSame(t, v, spec, spec)
		lvDiffer(t, v, strings.Replace(spec, "0.5", "0", 1), strings.Replace(spec, "0.5", "1", 1))
	}
	// Every example constrained to class 0 with certainty: the conformity
	// stage's student then predicts class 0 far more often.
	vv := *v
	vv.Value = &WeakValue{Class: 0, TrainStrong: make([]float32, v.TrainStrong.WeakLabels.Rows)}
	for i := range vv.Value.TrainStrong {
		if i%2 == 0 {
			vv.Value.TrainStrong[i] = 1
		}
	}
	share0 := func(p data.Matrix) float64 {
		n := 0
		for _, c := range p.Argmax() {
			if c == 0 {
				n++
			}
		}
		return float64(n) / float64(p.Rows)
	}
	for _, o := range Optimisers {
		spec := o + ":lambda=1"
		if o == "anneal" {
			spec += ",ladder=weak:mlp"
		}
		without, with := share0(lvPredict(t, lvNew(t, spec), v)), share0(lvPredict(t, lvNew(t, spec), &vv))
		if with < without+0.2 {
			t.Errorf("%s: a value constraint on half the rows moved the class-0 share only from %.3f to %.3f", spec, without, with)
		}
	}
}
