package method

// The controls every comparison table carries (issue 12): what a method
// must beat before its gain can be called weak-to-strong generalisation.
//
//   - naive@aa, the A/A null: naive with another student seed. It differs
//     from naive only by chance, so the share of tables where it comes out
//     significant is the table's false-positive rate (eval.AAFalsePositives).
//   - gold-probe:gold=B: the strong student trained on the B train_weak
//     gold labels of the budget alone, no weak label. A method that spends
//     B gold labels and does not beat this has gained nothing from weak
//     supervision that the gold did not give.
//   - naive+gold:gold=B: naive's weak labels of train_strong plus the same
//     B gold examples, the simplest use of both. A method with gold B must
//     beat it to show that its use of the gold is better than adding it.
//
// Both gold controls draw the same B examples as any method with gold=B
// in the cell (GoldPool's seeded order), so the comparison is
// gold-matched example for example.

import (
	"context"
	"fmt"
	"math"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/train"
)

func init() {
	Register(Info{
		Name:        "naive@aa",
		Description: "A/A null: naive with another student initialisation and batch order; compared with naive it differs by chance only, so how often it comes out significant is the table's false-positive rate",
		Reference:   "A/A testing; issue 12 (controls in every comparison table)",
		Params:      "none",
		Adaptation:  "the student's seed is derived from the cell's student seed (tag \"aa\"); everything else is naive's",
		Gold:        "none",
	}, func(p Params) (Method, error) { return naiveAA{}, p.Unused() })
	Register(Info{
		Name: "gold-probe",
		Description: "control: the strong student trained on the B train_weak gold labels of the budget alone (their inputs: features for a probe, " +
			"texts for a fine-tuned encoder), for as many examples seen as naive's training on train_strong",
		Reference: "issue 12 (gold-matched controls)",
		Params:    fmt.Sprintf("gold=%d (train_weak labels, the same examples every gold=B method of the cell draws)", DefaultGold),
		Adaptation: "epochs × round(N_train_strong / B), so the student sees as many examples (and a probe about as many optimiser " +
			"steps) as on train_strong: a control with a tenth of the steps would be under-trained and flatter every method",
		Gold: fmt.Sprintf("budget: gold=B (default %d), the student's training set", DefaultGold),
	}, newGoldProbe)
	Register(Info{
		Name:        "naive+gold",
		Description: "control: naive's soft weak labels of train_strong plus the B train_weak gold examples of the budget (one-hot), one soft cross-entropy over both",
		Reference:   "issue 12 (gold-matched controls)",
		Params:      fmt.Sprintf("gold=%d (train_weak labels, the same examples every gold=B method of the cell draws)", DefaultGold),
		Adaptation:  "gold examples weigh as much as weak ones (weight 1); the student's epochs over N_train_strong + B examples",
		Gold:        fmt.Sprintf("budget: gold=B (default %d), added to the training set", DefaultGold),
	}, newNaiveGold)
}

// naiveAA is naive under another student seed.
type naiveAA struct{}

func (naiveAA) Name() string { return "naive@aa" }

func (naiveAA) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", func(_ context.Context, v *View) (Objective, error) {
		return Objective{
			Objective: train.Objective{Targets: v.TrainStrong.WeakLabels},
			Reseed:    func(base int64) int64 { return seeds.Derive(base, seeds.Lead("aa")) },
		}, nil
	}), nil
}

// goldControl is gold-probe (weak = false) or naive+gold (weak = true).
type goldControl struct {
	spec string
	gold int
	weak bool
}

func newGoldProbe(p Params) (Method, error) {
	b, err := goldParam(p, DefaultGold, 1)
	if err != nil {
		return nil, err
	}
	return goldControl{spec: Spec("gold-probe", p), gold: b}, p.Unused()
}

func newNaiveGold(p Params) (Method, error) {
	b, err := goldParam(p, DefaultGold, 1)
	if err != nil {
		return nil, err
	}
	return goldControl{spec: Spec("naive+gold", p), gold: b, weak: true}, p.Unused()
}

func (c goldControl) Name() string      { return c.spec }
func (c goldControl) DeclaredGold() int { return c.gold }

func (c goldControl) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", func(_ context.Context, v *View) (Objective, error) {
		s, err := v.Gold.Draw(c.gold)
		if err != nil {
			return Objective{}, fmt.Errorf("%s: %w", c.spec, err)
		}
		o := Objective{Objective: train.Objective{Targets: v.TrainStrong.WeakLabels},
			GoldRows: &GoldRows{Rows: s.Rows, Targets: data.OneHot(s.Gold, v.K)}}
		if !c.weak {
			// The gold rows alone, for as many examples seen as naive.
			o.Rows = []int{}
			scale := max(1, int(math.Round(float64(v.TrainStrong.WeakLabels.Rows)/float64(c.gold))))
			o.Epochs = func(base int) int { return base * scale }
		}
		return o, nil
	}), nil
}

// Names of the gold-matched controls (package eval matches results rows to
// them by these names and their gold_strong).
const (
	GoldProbe = "gold-probe"
	NaiveGold = "naive+gold"
)

// IsGoldControl reports whether spec names a gold-matched control.
func IsGoldControl(spec string) bool {
	name, _, _ := ParseSpec(spec)
	return name == GoldProbe || name == NaiveGold
}

// controlSpec is a control's spec at budget b: the bare name at the
// default budget (as `--method all` names it), name:gold=b otherwise.
func controlSpec(name string, b int) string {
	if b == DefaultGold {
		return name
	}
	return fmt.Sprintf("%s:gold=%d", name, b)
}

// WithControls returns specs with what a comparison of its gold-using
// methods needs appended, each once: for every method that declares gold
// B > 0 (controls aside), naive (the baseline) and the gold-matched
// controls gold-probe and naive+gold at B. Controls already present at B
// under any spelling count. added lists what was appended.
func WithControls(specs []string) (out, added []string, err error) {
	out = append([]string(nil), specs...)
	have := map[string]bool{} // name|budget of what is present
	key := func(name string, b int) string { return fmt.Sprintf("%s|%d", name, b) }
	var budgets []int
	for _, s := range specs {
		m, err := New(s)
		if err != nil {
			return nil, nil, err
		}
		name, _, _ := ParseSpec(s)
		if _, ok := m.(calibrated); ok {
			name = m.Name() // naive:calibrate=true is not the naive baseline
		}
		b := DeclaredGold(m)
		have[key(name, b)] = true
		if b > 0 && !IsGoldControl(s) {
			budgets = append(budgets, b)
		}
	}
	add := func(name string, b int, spec string) {
		if !have[key(name, b)] {
			have[key(name, b)] = true
			out = append(out, spec)
			added = append(added, spec)
		}
	}
	for _, b := range budgets {
		add("naive", 0, "naive")
		add(GoldProbe, b, controlSpec(GoldProbe, b))
		add(NaiveGold, b, controlSpec(NaiveGold, b))
	}
	return out, added, nil
}
