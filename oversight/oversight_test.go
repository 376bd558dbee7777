package oversight

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/goldwalk"
	"github.com/superalign/superalign/student"
)

// TestLoopHasNoHiddenGold walks every type the loop, the critic and the
// attacker hold (their fields, what pointers, slices and maps lead to, and
// the signatures of interface methods) and fails if one comes from package
// eval, the holder of train_strong and test gold. The oracle client is
// walked too: the loop's only route to gold must be its HTTP API.
func TestLoopHasNoHiddenGold(t *testing.T) {
	r := goldwalk.Walk(Env{}, Config{}, Result{}, Round{}, Critic{}, Attack{}, Critique{})
	for _, p := range r.EvalPaths {
		t.Errorf("%s: hidden gold would be reachable", p)
	}
	seen := r.Seen
	// The walk must have gone through the oracle client into net/http, or
	// it proves nothing about it.
	if !seen[reflect.TypeOf(Env{}).Field(1).Type.Elem()] {
		t.Fatal("walk did not reach the oracle client")
	}
}

func TestPerturb(t *testing.T) {
	for _, tc := range []struct {
		in    string
		flips bool
		kind  string
		want  string // "" means: no perturbation of this kind
	}{
		{"The movie is great.", true, KindNegate, "The movie is not great."},
		{"The food was not good.", true, KindNegate, "The food was good."},
		{"I didn't like it", true, KindNegate, "I did like it"},
		{"Never again!", true, KindNegate, "again!"},
		{"Absolutely wonderful", true, KindNegate, ""},
		{"The movie is great.", false, KindNegate, ""},
		{"The Movie is great.", true, KindSynonym, "The Film is great."},
		{"It is terrible, truly.", true, KindSynonym, "It is awful, truly."},
		{"Loved it. Would buy again!", true, KindReorder, "Would buy again! Loved it."},
		{"One sentence only", true, KindReorder, ""},
	} {
		got := ""
		for _, p := range Perturb(tc.in, tc.flips) {
			if p.Kind == tc.kind {
				got = p.Text
				if p.ExpectFlip != (p.Kind == KindNegate) {
					t.Errorf("%q %s: ExpectFlip %v", tc.in, p.Kind, p.ExpectFlip)
				}
			}
		}
		if got != tc.want {
			t.Errorf("Perturb(%q, %v) %s = %q, want %q", tc.in, tc.flips, tc.kind, got, tc.want)
		}
	}
}

// TestNegationChangesBoW: a negation is visible to the bag-of-words encoder
// (it adds the "not" unigram and bigrams), so a flipped prediction is
// possible in principle and the attack measures the learner, not the encoder.
func TestNegationChangesBoW(t *testing.T) {
	enc, err := encode.NewBoW(encode.DefaultBoWDim)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"The movie is great.", "The service was not good at all.", "I didn't like the phone"}
	features := func(ctx context.Context, texts []string) (student.Inputs, error) {
		x, err := enc.Encode(ctx, texts, nil)
		return student.Inputs{Features: x}, err
	}
	a, err := NewAttack(context.Background(), texts, features, true)
	if err != nil {
		t.Fatal(err)
	}
	negs := 0
	for i, p := range a.Perturbations {
		if p.Kind != KindNegate {
			continue
		}
		negs++
		d := 0.0
		o, q := a.orig.Features.Row(p.Source), a.pert.Features.Row(i)
		for j := range o {
			d += math.Abs(float64(o[j] - q[j]))
		}
		if d < 0.1 {
			t.Errorf("negation %q -> %q changes bow features by only %g (L1)", texts[p.Source], p.Text, d)
		}
	}
	if negs != len(texts) {
		t.Errorf("%d negations of %d texts", negs, len(texts))
	}
}

// signPredictor predicts class 1 for rows whose first feature is positive.
type signPredictor struct{}

func (signPredictor) Predict(_ context.Context, in student.Inputs) (data.Matrix, error) {
	x := in.Features
	out := data.NewMatrix(x.Rows, 2)
	for i := 0; i < x.Rows; i++ {
		if x.At(i, 0) > 0 {
			out.Set(i, 1, 1)
		} else {
			out.Set(i, 0, 1)
		}
	}
	return out, nil
}

func TestAttackRun(t *testing.T) {
	// Originals: two rows; perturbations: a flip the learner follows, a
	// flip it misses, and a preserving edit it breaks => 2 of 3 succeed.
	a := &Attack{
		Perturbations: []Perturbation{{Source: 0, Kind: KindNegate, ExpectFlip: true}, {Source: 1, Kind: KindNegate, ExpectFlip: true}, {Source: 1, Kind: KindSynonym}},
		orig:          student.Inputs{Features: data.Matrix{Rows: 2, Cols: 1, Values: []float32{1, -1}}},
		pert:          student.Inputs{Features: data.Matrix{Rows: 3, Cols: 1, Values: []float32{-1, -1, 1}}},
	}
	st, err := a.Run(context.Background(), signPredictor{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(st.Success-2.0/3) > 1e-12 || st.ByKind[KindNegate] != 0.5 || st.ByKind[KindSynonym] != 1 {
		t.Errorf("attack stats %+v, want success 2/3, negate 0.5, synonym 1", st)
	}
}

func TestFitLogistic(t *testing.T) {
	// Labels depend on x2 only: its weight must dominate and be positive,
	// and the fitted probabilities must order the rows correctly.
	var xs [][3]float64
	var ts []int
	for i := 0; i < 200; i++ {
		x2 := float64(i%10) / 9
		xs = append(xs, [3]float64{float64(i%7) / 6, x2, 0.5})
		if x2 > 0.5 {
			ts = append(ts, 1)
		} else {
			ts = append(ts, 0)
		}
	}
	w, err := fitLogistic(context.Background(), xs, ts, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(w[1] > 3 && math.Abs(w[0]) < w[1]/3) {
		t.Errorf("weights %v: want a large positive x2 weight and a small x1 weight", w)
	}
	c := &Critic{w: w}
	if lo, hi := c.score([3]float64{0, 0.1, 0.5}), c.score([3]float64{0, 0.9, 0.5}); !(lo < 0.2 && hi > 0.8) {
		t.Errorf("scores %g (x2=0.1) and %g (x2=0.9), want < 0.2 and > 0.8", lo, hi)
	}
}

func TestMineAndPick(t *testing.T) {
	student := data.Matrix{Rows: 4, Cols: 2, Values: []float32{0.9, 0.1, 0.55, 0.45, 0.8, 0.2, 0.3, 0.7}}
	weak := data.Matrix{Rows: 4, Cols: 2, Values: []float32{0.9, 0.1, 0.6, 0.4, 0.7, 0.3, 0.2, 0.8}}
	critic := []float64{0.1, 0.2, 0.9, 0.3}
	// Row 2: learner agrees with a weak label the critic doubts: first.
	// Then by margin: row 1 (0.1), row 3 (0.4), row 0 (0.8); row 3 is known.
	got := Mine(student, weak, critic, Known{3: 1})
	if want := []int{2, 1, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("Mine = %v, want %v", got, want)
	}
	ids := pick(2, 4, Known{3: 1}, student, critic, StrategyCritic, nil)
	// values: row0 0.1*(0.2+0.1)=0.03, row1 0.2*(0.9+0.1)=0.2, row2 0.9*(0.4+0.1)=0.45
	if want := []int{1, 2}; !reflect.DeepEqual(ids, want) {
		t.Errorf("pick = %v, want %v", ids, want)
	}
	lab := corrected(weak, Known{1: 1}, 2)
	if lab.At(1, 0) != 0 || lab.At(1, 1) != 1 || lab.At(0, 0) != 0.9 || weak.At(1, 0) != 0.6 {
		t.Errorf("corrected labels wrong or weak labels mutated: %v", lab.Values)
	}
}
