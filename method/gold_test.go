package method

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// goldTestPool is a pool of 50 labelled rows with 3-d "strong features"
// that encode their row number, so a draw's features can be checked.
func goldTestPool(t *testing.T, seed int64) (*GoldPool, []int) {
	t.Helper()
	const n = 50
	x := data.NewMatrix(n, 3)
	gold := make([]int, n)
	for i := range n {
		x.Set(i, 0, float32(i))
		gold[i] = i % 3
	}
	p, err := NewGoldPool(x, gold, seed)
	if err != nil {
		t.Fatal(err)
	}
	return p, gold
}

// TestGoldBudgetDraw: a draw is a seeded subset (the same for the same
// seed, another for another seed, a prefix of a larger draw), its features
// and gold belong to its rows, the budget counts the largest draw and the
// weak-side read, and it refuses more than declared or than train_weak has.
func TestGoldBudgetDraw(t *testing.T) {
	pool, gold := goldTestPool(t, 7)
	b := pool.OpenBudget(20)
	s10, err := b.Draw(10)
	if err != nil {
		t.Fatal(err)
	}
	if u := b.Use(); u.Strong != 10 || u.Weak != 0 || u.Features() != "strong" || u.Labels() != 10 {
		t.Errorf("after drawing 10: %+v (%q, %d labels)", u, u.Features(), u.Labels())
	}
	s20, err := b.Draw(20)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s20.Rows[:10], s10.Rows) {
		t.Errorf("Draw(10) %v is not a prefix of Draw(20) %v", s10.Rows, s20.Rows)
	}
	if again, _ := pool.OpenBudget(20).Draw(20); !slices.Equal(again.Rows, s20.Rows) {
		t.Error("two budgets on one pool drew different examples: controls would not be gold-matched")
	}
	seen := map[int]bool{}
	for j, i := range s20.Rows {
		if seen[i] || i < 0 || i >= 50 {
			t.Fatalf("row %d repeated or out of range in %v", i, s20.Rows)
		}
		seen[i] = true
		if s20.Strong.At(j, 0) != float32(i) || s20.Gold[j] != gold[i] {
			t.Fatalf("draw %d: row %d has features of row %v and gold %d (want %d)", j, i, s20.Strong.At(j, 0), s20.Gold[j], gold[i])
		}
	}
	if slices.IsSorted(s20.Rows) {
		t.Errorf("draw %v is in train_weak order: not a random subset", s20.Rows)
	}
	other, _ := goldTestPool(t, 8)
	if s, _ := other.OpenBudget(20).Draw(20); slices.Equal(s.Rows, s20.Rows) {
		t.Error("another cell seed drew the same examples")
	}
	if u := b.Use(); u.Strong != 20 {
		t.Errorf("after Draw(10), Draw(20): %d labels counted, want 20 (a prefix is not charged twice)", u.Strong)
	}
	if _, err := b.Draw(21); err == nil || !strings.Contains(err.Error(), "declared gold=20") {
		t.Errorf("drawing beyond the declaration: %v", err)
	}
	if _, err := pool.OpenBudget(100).Draw(60); err == nil || !strings.Contains(err.Error(), "exceeds train_weak") {
		t.Errorf("drawing beyond train_weak: %v", err)
	}
	y, err := b.WeakSide()
	if err != nil || !slices.Equal(y, gold) {
		t.Fatalf("WeakSide: %v, %v", y, err)
	}
	if u := b.Use(); u.Weak != 50 || u.Features() != "strong+weak" || u.Labels() != 50 {
		t.Errorf("after WeakSide: %+v (%q)", u, u.Features())
	}
	var none *GoldBudget
	if _, err := none.Draw(1); err == nil {
		t.Error("a nil budget drew")
	}
	if _, err := (*GoldPool)(nil).OpenBudget(5).Draw(1); err == nil {
		t.Error("a budget on no pool drew")
	}
	if u := none.Use(); u.Labels() != 0 || u.Features() != "" {
		t.Errorf("nil budget use %+v", u)
	}
}

func TestEncoderLadder(t *testing.T) {
	for _, tc := range []struct {
		a, b           string
		weaker, ranked bool
	}{
		{"bow", "glove", true, true},
		{"glove", "use-lite", true, true},
		{"use-lite", "glove", false, true},
		{"glove", "glove", false, true},
		{"pixels", "inception-v3", true, true},
		{"glove", "inception-v3", false, false},
		{"onnx:/m", "glove", false, false},
	} {
		if w, r := EncoderWeaker(tc.a, tc.b); w != tc.weaker || r != tc.ranked {
			t.Errorf("EncoderWeaker(%s, %s) = %v, %v", tc.a, tc.b, w, r)
		}
	}
	if got := IntermediateEncoders("bow", "use-lite"); !slices.Equal(got, []string{"glove"}) {
		t.Errorf("bow → use-lite: %v", got)
	}
	if got := IntermediateEncoders("pixels", "inception-v3"); !slices.Equal(got, []string{"mobilenet-v2", "mobilenet-v2-mid", "inception-v3-139"}) {
		t.Errorf("pixels → inception-v3: %v", got)
	}
	for _, p := range [][2]string{{"glove", "use-lite"}, {"bow", "glove"}, {"use-lite", "bow"}, {"onnx:/a", "onnx:/b"}} {
		if got := IntermediateEncoders(p[0], p[1]); len(got) != 0 {
			t.Errorf("%s → %s: %v, want none", p[0], p[1], got)
		}
	}
}

// TestBootstrapDefaultChain: chain=auto climbs the ladder's intermediate
// encoders and refuses, before any work, a pair with none between it;
// named rungs at or above the student are refused too.
func TestBootstrapDefaultChain(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	b := lvNew(t, "bootstrap").(bootstrap)
	chain, err := b.rungs("bow", "use-lite")
	if err != nil || len(chain) != 1 || chain[0] != (student.Spec{Encoder: "glove", Head: student.HeadLinear}) {
		t.Errorf("bow → use-lite chain %v, %v; want glove:linear", chain, err)
	}
	if err := Check(b, CellInfo{K: 2, NTrainWeak: 100, WeakEncoder: "glove", StrongEncoder: "use-lite"}); err == nil || !strings.Contains(err.Error(), "no encoder lies between") {
		t.Errorf("glove → use-lite: %v", err)
	}
	if err := Check(lvNew(t, "bootstrap:chain=use-lite"), CellInfo{K: 2, WeakEncoder: "bow", StrongEncoder: "glove"}); err == nil || !strings.Contains(err.Error(), "not weaker") {
		t.Errorf("a rung above the student: %v", err)
	}
	if err := Check(lvNew(t, "bootstrap:chain=weak:mlp"), CellInfo{K: 2, WeakEncoder: "glove", StrongEncoder: "use-lite"}); err != nil {
		t.Errorf("chain=weak:mlp: %v", err)
	}
	if _, err := probeExecutor(lvView(t)).Run(t.Context(), lvNew(t, "bootstrap"), lvView(t)); err == nil || !strings.Contains(err.Error(), "no encoder lies between") {
		t.Errorf("bootstrap on bow → glove ran: %v", err)
	}
}

// TestCosuperviseRefusesTwoClasses: with K = 2 co-supervision is one round
// of self-training, refused before any work.
func TestCosuperviseRefusesTwoClasses(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	m := lvNew(t, "cosupervise")
	if err := Check(m, CellInfo{K: 2}); err == nil || !strings.Contains(err.Error(), "self-training") {
		t.Errorf("K = 2: %v", err)
	}
	if err := Check(m, CellInfo{K: 3}); err != nil {
		t.Errorf("K = 3: %v", err)
	}
	v := lvView(t)
	if _, err := probeExecutor(v).Run(t.Context(), m, v); err == nil || !strings.Contains(err.Error(), "2 classes") {
		t.Errorf("cosupervise trained on a two-class cell: %v", err)
	}
}

// TestMethodsDrawWhatTheyDeclare runs every method of `all` that accepts
// the sentiment cell (bow → glove) through the executor: each draws exactly
// its declared gold=B of strong-feature labels (none when it declares
// none), and only the weak-side refitters (ensemble) read weak-side gold.
func TestMethodsDrawWhatTheyDeclare(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	info := CellInfo{K: v.K, NTrainWeak: v.TrainWeak.Weak.Rows, NTrainStrong: v.TrainStrong.Weak.Rows, WeakEncoder: v.WeakEncoder, StrongEncoder: v.StrongEncoder}
	weakSide := map[string]bool{"ensemble": true}
	ran := 0
	for _, name := range AllNames() {
		m := lvNew(t, name)
		if err := Check(m, info); err != nil {
			t.Logf("%s: refuses the cell: %v", name, err)
			continue
		}
		tr, err := probeExecutor(v).Run(t.Context(), m, v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ran++
		if got, want := tr.Gold.Strong, DeclaredGold(m); got != want {
			t.Errorf("%s: drew %d strong-feature labels, declared %d", name, got, want)
		}
		if (tr.Gold.Weak > 0) != weakSide[name] {
			t.Errorf("%s: weak-side gold %d", name, tr.Gold.Weak)
		}
	}
	if ran < 15 {
		t.Errorf("only %d methods ran", ran)
	}
}

// plantedMethod is a method written to reach train_weak gold around its
// budget; the executor must refuse each way.
type plantedMethod struct {
	name     string
	declared int
	build    func(ctx context.Context, v *View) (Objective, error)
}

func (p plantedMethod) Name() string      { return p.name }
func (p plantedMethod) DeclaredGold() int { return p.declared }
func (p plantedMethod) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", p.build), nil
}

// TestPlantedGoldBypasses plants methods that reach train_weak gold with
// strong features outside the budget, one per way a method could try; the
// executor refuses each, while the same method within its budget runs.
func TestPlantedGoldBypasses(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	naiveObjective := func(v *View) Objective {
		return Objective{Objective: train.Objective{Targets: v.TrainStrong.WeakLabels}}
	}
	for _, tc := range []struct {
		m    plantedMethod
		want string // "" runs
	}{
		{plantedMethod{"strong-features", 0, func(ctx context.Context, v *View) (Objective, error) {
			// Pair the free weak-side gold with the student's own features.
			if _, _, err := v.Features(ctx, v.StrongEncoder); err != nil {
				return Objective{}, err
			}
			return naiveObjective(v), nil
		}}, "student's own encoder"},
		{plantedMethod{"stronger-features", 0, func(ctx context.Context, v *View) (Objective, error) {
			if _, _, err := v.Features(ctx, "use-lite"); err != nil {
				return Objective{}, err
			}
			return naiveObjective(v), nil
		}}, "at least as strong"},
		{plantedMethod{"undeclared-draw", 0, func(ctx context.Context, v *View) (Objective, error) {
			if _, err := v.Gold.Draw(10); err != nil {
				return Objective{}, err
			}
			return naiveObjective(v), nil
		}}, "declared gold=0"},
		{plantedMethod{"overdraw", 10, func(ctx context.Context, v *View) (Objective, error) {
			if _, err := v.Gold.Draw(11); err != nil {
				return Objective{}, err
			}
			return naiveObjective(v), nil
		}}, "declared gold=10"},
		{plantedMethod{"undrawn-gold-rows", 10, func(ctx context.Context, v *View) (Objective, error) {
			// Train the student on all train_weak gold (the ceiling),
			// drawing only 10 of it.
			if _, err := v.Gold.Draw(10); err != nil {
				return Objective{}, err
			}
			y, err := v.Gold.WeakSide()
			if err != nil {
				return Objective{}, err
			}
			rows := make([]int, len(y))
			for i := range rows {
				rows[i] = i
			}
			o := naiveObjective(v)
			o.GoldRows = &GoldRows{Rows: rows, Targets: data.OneHot(y, v.K)}
			return o, nil
		}}, "was not drawn"},
		{plantedMethod{"within-budget", 10, func(ctx context.Context, v *View) (Objective, error) {
			s, err := v.Gold.Draw(10)
			if err != nil {
				return Objective{}, err
			}
			o := naiveObjective(v)
			o.GoldRows = &GoldRows{Rows: s.Rows, Targets: data.OneHot(s.Gold, v.K)}
			return o, nil
		}}, ""},
	} {
		tr, err := probeExecutor(v).Run(t.Context(), tc.m, v)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.m.name, err)
		case tc.want == "" && tr.Gold.Strong != 10:
			t.Errorf("%s: %d labels counted, want 10", tc.m.name, tr.Gold.Strong)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one saying %q", tc.m.name, err, tc.want)
		}
	}
}

// TestGoldControls checks the controls against fits made by hand on the
// same data: gold-probe is the probe student trained on the drawn gold
// examples alone (epochs × round(Ns/B)), naive+gold the student trained on
// train_strong's weak labels followed by those examples, naive@aa naive
// under the derived seed; all bit for bit.
func TestGoldControls(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	ex := probeExecutor(v)
	pool, twStrong := testGoldFor(v)
	drawn, err := pool.OpenBudget(50).Draw(50)
	if err != nil {
		t.Fatal(err)
	}
	fit := func(x, y data.Matrix, cfg train.Config) data.Matrix {
		t.Helper()
		m, _, err := ex.Student.Fit(t.Context(), student.Inputs{Features: x}, train.Objective{Targets: y}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict(t.Context(), ex.Inputs)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	gy := data.OneHot(drawn.Gold, v.K)

	cfg := ex.Config
	ns := v.TrainStrong.WeakLabels.Rows
	cfg.Epochs *= ns / 50 // 300 / 50 = 6: round(Ns/B)
	byHand := fit(twStrong.SelectRows(drawn.Rows), gy, cfg)
	tr := probeRun(t, lvNew(t, "gold-probe:gold=50"), v)
	if !reflect.DeepEqual(tr.TrainStrong.Values, byHand.Values) {
		t.Error("gold-probe:gold=50 is not the student trained on the 50 drawn gold examples alone")
	}
	if tr.Gold.Strong != 50 || tr.Gold.Weak != 0 {
		t.Errorf("gold-probe read %+v", tr.Gold)
	}

	x, _ := concatInputs(ex.Inputs, student.Inputs{Features: twStrong.SelectRows(drawn.Rows)})
	y := data.NewMatrix(ns+50, v.K)
	copy(y.Values, v.TrainStrong.WeakLabels.Values)
	copy(y.Values[ns*v.K:], gy.Values)
	byHand = fit(x.Features, y, ex.Config)
	if tr := probeRun(t, lvNew(t, "naive+gold:gold=50"), v); !reflect.DeepEqual(tr.TrainStrong.Values, byHand.Values) {
		t.Error("naive+gold:gold=50 is not the student trained on the weak labels plus the 50 drawn gold examples")
	}

	cfg = ex.Config
	cfg.Seed = seeds.Derive(cfg.Seed, seeds.Lead("aa"))
	byHand = fit(ex.Inputs.Features, v.TrainStrong.WeakLabels, cfg)
	if got := lvPredict(t, lvNew(t, "naive@aa"), v); !reflect.DeepEqual(got.Values, byHand.Values) {
		t.Error("naive@aa is not naive under the derived seed")
	}
	lvDiffer(t, v, "naive", "naive@aa")
}

func TestWithControls(t *testing.T) {
	for _, tc := range []struct {
		in, added []string
	}{
		{[]string{"logconf"}, nil},
		{[]string{"selective"}, []string{"naive", "gold-probe", "naive+gold"}},
		{[]string{"naive", "selective", "gold-probe:gold=100"}, []string{"naive+gold"}},
		{[]string{"pik-only:gold=50", "selective"}, []string{"naive", "gold-probe:gold=50", "naive+gold:gold=50", "gold-probe", "naive+gold"}},
		{[]string{"gold-probe"}, nil},
	} {
		out, added, err := WithControls(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, tc.added) || !slices.Equal(out, append(slices.Clone(tc.in), tc.added...)) {
			t.Errorf("WithControls(%v) = %v, added %v; want added %v", tc.in, out, added, tc.added)
		}
	}
	if _, _, err := WithControls([]string{"nope"}); err == nil {
		t.Error("unknown method accepted")
	}
}

// TestAllNames: `all` runs every method but kl (naive up to a constant)
// and the competence–conformity optimisers (w2s tradeoff sweeps them), and
// includes the controls and the A/A null.
func TestAllNames(t *testing.T) {
	all := AllNames()
	for _, want := range []string{"naive", "naive@aa", "gold-probe", "naive+gold", "pik-random", "selective"} {
		if !slices.Contains(all, want) {
			t.Errorf("all lacks %s", want)
		}
	}
	if slices.Contains(all, "kl") {
		t.Error("kl is in all")
	}
	if len(all) != len(Names())-1-len(Optimisers) {
		t.Errorf("all has %d of %d methods: %v", len(all), len(Names()), all)
	}
	for _, in := range Infos() {
		if in.Gold == "" {
			t.Errorf("%s: Info.Gold says nothing about the gold it reads", in.Name)
		}
	}
}
