package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/store/featcache"
)

func testLog() io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}

var (
	spamOnce sync.Once
	spamSc   *Scenario
	spamErr  error
)

// smallSpam is spam-abrupt at 160 examples a phase (cached per process).
func smallSpam(t *testing.T) *Scenario {
	t.Helper()
	testenv.NeedsAssets(t, "spam-assassin")
	spamOnce.Do(func() { spamSc, spamErr = Load(context.Background(), "spam-abrupt", 160, testLog()) })
	if spamErr != nil {
		t.Fatal(spamErr)
	}
	return spamSc
}

func smallConfig(sc *Scenario, strategies ...string) Config {
	return Config{Scenario: sc, Weak: "bow", Strong: "glove", Strategies: strategies, Seeds: []int64{0, 1},
		SupGold: 20, Budget: 10, Cache: &featcache.Cache{}, Log: testLog()}
}

// TestScenariosDeterministic builds every built-in scenario twice: the
// same pools and gold, disjoint phases of two classes each, and the
// scenario's values as documented (spam-abrupt: hard ham flips to
// "filter" at the change point and nothing else changes).
func TestScenariosDeterministic(t *testing.T) {
	testenv.NeedsAssets(t, "sentiment, spam-assassin, sotu")
	ctx := context.Background()
	for _, info := range Scenarios() {
		t.Run(info.Name, func(t *testing.T) {
			a, err := Load(ctx, info.Name, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Load(ctx, info.Name, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.Data.ContentHash() != b.Data.ContentHash() || !reflect.DeepEqual(a.Phases, b.Phases) || !reflect.DeepEqual(a.gold, b.gold) {
				t.Fatal("two constructions differ")
			}
			if len(a.Phases) < 4 {
				t.Errorf("%d phases", len(a.Phases))
			}
			for p, ph := range a.Phases {
				if len(ph.Pool) < 100 {
					t.Errorf("phase %s: %d examples", ph.Name, len(ph.Pool))
				}
				_ = p
			}
			s1, _ := splitPhases(a, 3, 40)
			s2, _ := splitPhases(b, 3, 40)
			if !reflect.DeepEqual(s1, s2) {
				t.Error("splits of one seed differ")
			}
			s3, _ := splitPhases(a, 4, 40)
			if reflect.DeepEqual(s1, s3) {
				t.Error("splits of two seeds are identical")
			}
		})
	}
	sc, err := Load(ctx, "spam-abrupt", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[int]int{}
	for _, ph := range sc.Phases {
		for _, i := range ph.Pool {
			kind := sc.Data.Examples[i].Label // easy ham, hard ham, spam
			for p := range sc.Phases {
				want := map[int]int{0: 0, 2: 1}[kind]
				if kind == 1 && p >= sc.ChangePoint {
					want = 1
				}
				if got := sc.goldOf(p, i); got != want {
					t.Fatalf("example %d (kind %d) phase %d: gold %d, want %d", i, kind, p, got, want)
				}
			}
			if !sc.stable(i) {
				changed[kind]++
			}
		}
	}
	if len(changed) != 1 || changed[1] < 200 {
		t.Errorf("changed examples by kind: %v, want only hard ham (about 248)", changed)
	}
}

// TestViewTypesHoldNoGold walks every type reachable from a View: none is
// the scenario, the runner's truth or setup, or a dataset (whose
// examples carry labels), nor the oracle's server or its hidden gold. The
// only gold a View reaches is through the Purse's oracle client, which
// buys the current phase's training rows against the budget over HTTP.
func TestViewTypesHoldNoGold(t *testing.T) {
	banned := map[reflect.Type]bool{
		reflect.TypeOf(Scenario{}): true, reflect.TypeOf(truth{}): true, reflect.TypeOf(seedSetup{}): true,
		reflect.TypeOf(data.Dataset{}): true, reflect.TypeOf(data.Example{}): true, reflect.TypeOf(runner{}): true,
		reflect.TypeOf(eval.Hidden{}): true, reflect.TypeOf(oracle.Server{}): true,
	}
	seen := map[reflect.Type]bool{}
	var walk func(tp reflect.Type, path string)
	walk = func(tp reflect.Type, path string) {
		if seen[tp] {
			return
		}
		seen[tp] = true
		if banned[tp] {
			t.Errorf("View reaches %s via %s", tp, path)
		}
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(tp.Elem(), path+"[]")
		case reflect.Map:
			walk(tp.Key(), path+"{key}")
			walk(tp.Elem(), path+"{}")
		case reflect.Struct:
			for i := range tp.NumField() {
				walk(tp.Field(i).Type, path+"."+tp.Field(i).Name)
			}
		}
	}
	walk(reflect.TypeOf(View{}), "View")
}

// spy records what a strategy is shown, then behaves like retrain.
type spy struct {
	views  []*View
	cheat  bool
	errors []error
}

func (s *spy) Step(v *View) (Update, error) {
	s.views = append(s.views, v)
	if s.cheat && v.Phase > 0 {
		// A planted leak: try to buy the previous phase's gold, and more
		// than the budget of the current one (refused whole, nothing
		// charged), then the budget and one more.
		if _, err := v.Purse.Buy(v.Rows(v.Phase - 1)[:1]); err == nil {
			s.errors = append(s.errors, errors.New("bought a previous phase's gold"))
		}
		rows := v.Rows(v.Phase)
		if _, err := v.Purse.Buy(rows); err == nil || v.Purse.Spent() != 0 {
			s.errors = append(s.errors, fmt.Errorf("bought beyond the budget (err %v, %d charged)", err, v.Purse.Spent()))
		}
		if _, err := v.Purse.Buy(rows[:v.Purse.Left()]); err != nil {
			s.errors = append(s.errors, fmt.Errorf("buying within the budget: %w", err))
		}
		if _, err := v.Purse.Buy(rows[len(rows)-1:]); err == nil {
			s.errors = append(s.errors, errors.New("bought one beyond the budget"))
		}
	}
	return retrain{}.Step(v)
}

// TestNoFutureGold runs every strategy on spam-abrupt and on a copy whose
// phases from 3 on have every label flipped and their texts replaced
// (features and gold of the future changed): the rows of phases 1 and 2
// must be identical, so nothing of a later phase reaches a strategy. A
// spy strategy checks each View holds exactly the training rows of the
// phases so far, and that the purse refuses old-phase gold and overspending.
func TestNoFutureGold(t *testing.T) {
	sc := smallSpam(t)
	ctx := context.Background()
	cfg := smallConfig(sc, StrategyNames()...)
	cfg.Seeds = []int64{0}
	base, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The planted future: phases ≥ 2 (0-based) get flipped gold.
	alt := *sc
	alt.gold = slices.Clone(sc.gold)
	for p := 2; p < len(alt.gold); p++ {
		g := slices.Clone(sc.gold[p])
		for i := range g {
			g[i] = 1 - g[i]
		}
		alt.gold[p] = g
	}
	cfg.Scenario = &alt
	moved, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(base) != len(moved) {
		t.Fatalf("%d vs %d rows", len(base), len(moved))
	}
	for k := range base {
		a, b := base[k], moved[k]
		if a.Phase >= 2 {
			continue
		}
		if a.Acc != b.Acc || a.Flagged != b.Flagged || a.GoldBought != b.GoldBought || a.AccOn[0] != b.AccOn[0] || a.AccOn[1] != b.AccOn[1] {
			t.Errorf("%s phase %d: changing later phases' gold changed this phase: acc %v vs %v", a.Strategy, a.Phase+1, a.Acc, b.Acc)
		}
	}

	// The spy.
	r := &runner{cfg: smallConfig(sc)}
	r.cfg.Budget = 5
	if err := r.init(ctx); err != nil {
		t.Fatal(err)
	}
	su, err := r.setup(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	sp := &spy{cheat: true}
	if _, err := r.streamWith(ctx, su, 0, "spy", "k", sp); err != nil {
		t.Fatal(err)
	}
	for _, e := range sp.errors {
		t.Error(e)
	}
	for t0, v := range sp.views {
		want := 0
		for p := 0; p <= t0; p++ {
			want += len(su.tr.splits[p].train)
		}
		if len(v.RowPhase) != want || v.Inputs.Len() != want || v.Weak.Rows != want || slices.Max(v.RowPhase) != t0 {
			t.Errorf("phase %d: view has %d rows (max phase %d), want the %d training rows of phases ≤ %d", t0, len(v.RowPhase), slices.Max(v.RowPhase), want, t0)
		}
		if t0 > 0 && v.Purse.Spent() != 5 {
			t.Errorf("phase %d: purse spent %d of 5", t0, v.Purse.Spent())
		}
	}
}

// cancelOn cancels a context when the log receives a line containing s.
type cancelOn struct {
	s      string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.s) {
		c.cancel()
	}
	return len(p), nil
}

// TestResumeIdenticalRows kills a run (cancels it) in the middle of the
// second seed and reruns it: the finished streams are read back, the rest
// computed, and every row equals an uninterrupted run's. A corrupted saved
// stream is recomputed.
func TestResumeIdenticalRows(t *testing.T) {
	sc := smallSpam(t)
	full := smallConfig(sc, "retrain", "triggered", "replay")
	want, err := Run(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	killed := full
	killed.Dir = dir
	killed.Log = cancelOn{"seed 1 triggered phase 2 ", cancel}
	if _, err := Run(ctx, killed); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: err = %v, want context.Canceled", err)
	}
	saved, _ := filepath.Glob(filepath.Join(dir, "streams", "*.json"))
	if len(saved) != 4 { // seed 0: three streams; seed 1: retrain
		t.Fatalf("%d saved streams after the kill, want 4", len(saved))
	}
	// Corrupt one: it must be recomputed, not trusted.
	b, _ := os.ReadFile(saved[0])
	b[10] ^= 1
	if err := os.WriteFile(saved[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	resumed := full
	resumed.Dir = dir
	got, err := Run(context.Background(), resumed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("resumed rows differ from an uninterrupted run's")
	}
}

// TestBadFiles: a stream file without a time column, with one class in a
// phase, or with time going backwards is refused with its line and why.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	s := testenv.ReviewSentences
	row := func(text, label, time string) string {
		return `{"text":` + quote(text) + `,"label":"` + label + `"` + time + "}\n"
	}
	write := func(name string, rows ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(rows, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, file, want string
	}{
		{"no time", write("a.jsonl", row(s[0], "neg", ""), row(s[1], "pos", "")), `a.jsonl:1: missing field "time" (or "phase")`},
		{"one class", write("b.jsonl", row(s[0], "neg", `,"phase":"p1"`), row(s[1], "pos", `,"phase":"p1"`), row(s[2], "neg", `,"phase":"p2"`), row(s[3], "neg", `,"phase":"p2"`)),
			`b.jsonl:3: phase "p2" has one class ("neg")`},
		{"backwards", write("c.jsonl", row(s[0], "neg", `,"time":2001`), row(s[1], "pos", `,"time":2003`), row(s[2], "neg", `,"time":2002`)),
			`c.jsonl:3: time 2002 comes after 2003`},
		{"phase regrouped", write("d.jsonl", row(s[0], "neg", `,"phase":"a"`), row(s[1], "pos", `,"phase":"b"`), row(s[2], "neg", `,"phase":"a"`)),
			`d.jsonl:3: phase "a" appears again`},
		{"csv no time", write("e.csv", "text,label\n\"x y\",neg\n\"z\",pos\n"), `e.csv:1: missing column "time" (or "phase")`},
		{"not a number", write("f.jsonl", row(s[0], "neg", `,"time":"spring"`), row(s[1], "pos", `,"time":"summer"`)), `f.jsonl:1: time "spring" is not a number`},
	}
	for _, c := range cases {
		_, err := Load(context.Background(), c.file, 0, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// A good file: phases by time, in order.
	var rows []string
	for i, text := range s {
		rows = append(rows, row(text, []string{"neg", "pos"}[i%2], `,"time":`+string(rune('0'+i/3))))
	}
	sc, err := Load(context.Background(), write("ok.jsonl", rows...), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Phases) != FilePhases {
		t.Errorf("%d phases, want %d", len(sc.Phases), FilePhases)
	}
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// TestMetrics checks the stream metrics on a hand-made stream of three
// phases whose numbers are known.
func TestMetrics(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	rows := []Row{
		{Phase: 0, Acc: .8, AccOn: []float64{.8, .6, .5}, StableOn: []*float64{f(.8), f(.7), nil}, Realigned: true, Regret: .1, SupGold: 10},
		{Phase: 1, Acc: .7, AccOn: []float64{.75, .7, .6}, StableOn: []*float64{f(.9), f(.75), nil}, Realigned: false, Regret: .2, SupGold: 10},
		{Phase: 2, Acc: .9, AccOn: []float64{.6, .65, .9}, StableOn: []*float64{f(.6), f(.65), nil}, Realigned: true, GoldBought: 7, Regret: 0, SupGold: 10},
	}
	m := Metrics(rows, 1)
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("avg acc", m.AvgAcc, .8)
	near("BWT", m.BWT, ((.6-.8)+(.65-.75))/2)
	near("forgetting", m.Forgetting, ((.9-.6)+(.75-.65))/2)
	near("plasticity", m.Plasticity, ((.7-.6)+(.9-.6))/2)
	near("delay", m.Delay, 1)
	near("gold", m.Gold, 7)
	near("sup gold", m.SupGold, 30)
	near("regret", m.Regret, .3)
	if m.Censored {
		t.Error("censored")
	}
	rows[2].Realigned = false
	if m := Metrics(rows, 1); !m.Censored || m.Delay != 2 {
		t.Errorf("never re-aligned: delay %v censored %v, want 2 censored", m.Delay, m.Censored)
	}
}

// TestUserFileFromSOTU writes a real user stream, State of the Union
// passages with their year as time, reads it back as a scenario (four
// phases of consecutive years, both parties in each) and runs it.
func TestUserFileFromSOTU(t *testing.T) {
	testenv.NeedsAssets(t, "sotu, glove")
	ctx := context.Background()
	sc, err := Load(ctx, "sotu", 120, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sotu-stream.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sc, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	us, err := Load(ctx, path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(us.Phases) != FilePhases || len(us.Data.Examples) != 600 {
		t.Fatalf("%d phases of %d rows, want %d of 600", len(us.Phases), len(us.Data.Examples), FilePhases)
	}
	if us.Phases[0].Name[:4] != "1853" || !strings.HasSuffix(us.Phases[FilePhases-1].Name, "2021") {
		t.Errorf("phases %v", us.Phases)
	}
	cfg := smallConfig(us, "retrain", "triggered")
	cfg.Seeds = []int64{0}
	rows, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*FilePhases {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if !(r.Acc > 0.3 && r.Acc <= 1) {
			t.Errorf("%s phase %d: accuracy %v", r.Strategy, r.Phase, r.Acc)
		}
	}
}

// TestSummarise: per-strategy intervals across seeds, the paired Δ
// against retrain with its exact sign-flip p (five positive differences:
// p = 2/32) and Holm's adjustment, and a verdict that says five seeds are
// underpowered.
func TestSummarise(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	var rows []Row
	for seed := int64(0); seed < 5; seed++ {
		for _, st := range []string{"retrain", "lwf", "static"} {
			for p := range 2 {
				acc := 0.7 + 0.01*float64(seed)
				switch st {
				case "lwf":
					acc += 0.02 + 0.001*float64(seed)
				case "static":
					acc -= 0.01 * float64(seed%2)
				}
				rows = append(rows, Row{Scenario: "s", Strong: "glove", Strategy: st, Seed: seed, Phase: p, PhaseName: "p",
					Acc: acc, AccOn: []float64{acc, acc}, StableOn: []*float64{f(acc), f(acc)}, Realigned: st != "static" || p == 0, Ceiling: 0.9, Regret: 0.9 - acc})
			}
		}
	}
	sums := Summarise(rows, 1)
	if len(sums) != 3 || sums[0].Strategy != "retrain" || sums[1].Strategy != "lwf" {
		t.Fatalf("summaries %v", sums)
	}
	lwf := sums[1]
	if math.Abs(lwf.AvgAcc.Mean-0.742) > 1e-9 || lwf.AvgAcc.Lo == nil || lwf.Seeds != 5 || len(lwf.PerPhase) != 2 {
		t.Errorf("lwf avg acc %+v", lwf.AvgAcc)
	}
	if v := lwf.VsRetrain; v == nil || math.Abs(v.Delta.Mean-0.022) > 1e-9 || math.Abs(v.P-0.0625) > 1e-12 || v.PHolm < v.P {
		t.Errorf("lwf vs retrain %+v", lwf.VsRetrain)
	}
	if sums[2].Censored != 5 || sums[2].Delay.Mean != 1 {
		t.Errorf("static: censored %d, delay %v", sums[2].Censored, sums[2].Delay.Mean)
	}
	v := Verdicts(sums)
	if len(v) != 1 || !strings.Contains(v[0], "highest average accuracy: lwf") || !strings.Contains(v[0], "underpowered") {
		t.Errorf("verdicts %q", v)
	}
}
