package drift

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/superalign/superalign/oracle"
)

// startOracle starts an oracle for a test and gives it to cfg.
func startOracle(t *testing.T, cfg *Config) {
	t.Helper()
	srv, err := oracle.NewServer(oracle.Config{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg.Oracle, cfg.OracleURL = srv, url
}

// TestOracleSellsOnlyThePhase: phase t's oracle run holds phase t's
// training rows under phase t's values and nothing else (no test split, no
// other phase), so a strategy cannot buy another phase's row through the
// oracle, even with the purse's own client; a closed purse sells nothing.
func TestOracleSellsOnlyThePhase(t *testing.T) {
	sc := smallSpam(t)
	ctx := context.Background()
	cfg := smallConfig(sc)
	cfg.Budget = 5
	startOracle(t, &cfg)
	r := &runner{cfg: cfg}
	if err := r.init(ctx); err != nil {
		t.Fatal(err)
	}
	su, err := r.setup(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	flow := &goldFlow{handed: map[int]int{}}
	v1, p1, err := r.view(ctx, su, 0, "spy", 1, nil, flow)
	if err != nil {
		t.Fatal(err)
	}
	p1.closed = true // its step is over
	if _, err := p1.Buy(v1.Rows(1)[:1]); err == nil {
		t.Error("a closed purse sold gold")
	}
	const tt = 2 // after the change point: hard ham is now unwanted
	v, p, err := r.view(ctx, su, 0, "spy", tt, nil, flow)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []int{0, tt - 1} {
		if _, err := p.Buy(v.Rows(q)[:1]); err == nil {
			t.Errorf("bought a row of phase %d at phase %d", q+1, tt+1)
		}
	}
	if p.Spent() != 0 {
		t.Fatalf("refused purchases charged %d", p.Spent())
	}
	// Around the purse: the run's own client.
	train := su.tr.splits[tt].train
	info, err := p.client.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NTrainStrong != len(train) || info.NTest != 0 {
		t.Fatalf("phase %d's oracle run holds %d training and %d test rows, want its %d training rows only", tt+1, info.NTrainStrong, info.NTest, len(train))
	}
	if _, _, err := p.client.Label(ctx, []int{len(train)}); !oracle.IsRefused(err, oracle.CodeBadIDs) {
		t.Errorf("an id past the phase's rows: %v, want %s", err, oracle.CodeBadIDs)
	}
	// The labels it sells are phase tt's gold, under its values.
	rows := v.Rows(tt)[:5]
	got, err := p.Buy(rows)
	if err != nil {
		t.Fatal(err)
	}
	for k, row := range rows {
		i := train[row-rows[0]]
		if got[k] != sc.goldOf(tt, i) {
			t.Errorf("row %d: sold %d, phase %d's gold is %d", row, got[k], tt+1, sc.goldOf(tt, i))
		}
	}
	if _, err := p.Buy(v.Rows(tt)[5:6]); err == nil {
		t.Error("bought past the budget")
	}
	if total, spent, err := p.client.Budget(ctx); err != nil || total != 5 || spent != 5 {
		t.Errorf("oracle budget %d spent %d (%v), want 5 of 5", spent, total, err)
	}
}

// person plays the reviewer through the desk's HTTP API: at phase decideAt
// it decides the items of every desk it has been told of (the first
// skipped, the rest given their phase's gold label), then lets the
// triggered strategy step.
type person struct {
	inner    *triggered
	decideAt int
	url      string
	desks    map[string]string // run → desk token
	label    func(run string, id int) int
	decided  map[string][]oracle.Decision
	views    []*View
	ups      []Update
}

func (p *person) Step(v *View) (Update, error) {
	if v.Phase == p.decideAt {
		ctx := context.Background()
		for run, tok := range p.desks {
			desk := oracle.NewClient(p.url, run, tok)
			desk.SetAgent("test-person")
			items, err := desk.Pending(ctx)
			if err != nil {
				return Update{}, err
			}
			for k, it := range items {
				l := p.label(run, it.ID)
				if k == 0 {
					l = oracle.Skipped
				}
				d, err := desk.Decide(ctx, it.ID, l, "tester")
				if err != nil {
					return Update{}, err
				}
				p.decided[run] = append(p.decided[run], d)
			}
		}
	}
	up, err := p.inner.Step(v)
	p.views, p.ups = append(p.views, v), append(p.ups, up)
	return up, err
}

// TestDeskDecisionReachesTraining runs triggered on real spam-abrupt data
// with a probe student, forced to flag at every phase: at phase 2 it buys
// its budget and escalates three rows to the desk; a person decides two
// (and skips one) through the desk's HTTP API with the desk token; at
// phase 3 the two decided labels are in the strategy's training targets as
// gold (one-hot, weight 3, rows trained on), the oracle charged them to
// phase 2's run, and the rows report what was escalated and used.
func TestDeskDecisionReachesTraining(t *testing.T) {
	sc := smallSpam(t)
	ctx := context.Background()
	cfg := smallConfig(sc)
	cfg.Budget, cfg.Escalate = 4, 3
	startOracle(t, &cfg)
	p := &person{decideAt: 2, url: cfg.OracleURL, desks: map[string]string{}, decided: map[string][]oracle.Decision{},
		inner: &triggered{margin: math.Inf(-1), z: math.Inf(-1), goldWeight: 3, budget: 4, escalate: 3}}
	var told []string
	runPhase := map[string]int{}
	cfg.OnDesk = func(url, run, tok string) error {
		if url != cfg.OracleURL {
			t.Errorf("desk at %s, oracle at %s", url, cfg.OracleURL)
		}
		told = append(told, run)
		p.desks[run] = tok
		runPhase[run] = len(p.views) // the phase stepping now
		return nil
	}
	r := &runner{cfg: cfg}
	if err := r.init(ctx); err != nil {
		t.Fatal(err)
	}
	su, err := r.setup(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.label = func(run string, id int) int {
		q := runPhase[run]
		return sc.goldOf(q, su.tr.splits[q].train[id])
	}
	rows, err := r.streamWith(ctx, su, 0, "triggered", "k", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(told) == 0 {
		t.Fatal("no desk was announced")
	}
	// Phase 2 (index 1) flagged, bought 4, escalated 3.
	if r1 := rows[1]; !r1.Flagged || r1.GoldBought != 4 || r1.Escalated != 3 || r1.Human != 0 {
		t.Fatalf("phase 2: flagged %v, bought %d, escalated %d, human %d; want flagged, 4, 3, 0", r1.Flagged, r1.GoldBought, r1.Escalated, r1.Human)
	}
	run := told[0]
	if runPhase[run] != 1 {
		t.Fatalf("first desk %s belongs to phase %d, want 2", run, runPhase[run]+1)
	}
	ds := p.decided[run]
	if len(ds) != 3 || ds[0].Label != oracle.Skipped {
		t.Fatalf("decisions at %s: %+v", run, ds)
	}
	if rows[2].Human != 2 {
		t.Errorf("phase 3 used %d human labels, want 2", rows[2].Human)
	}
	// Charged: phase 2's run spent its budget on purchases and two units of
	// its desk reserve on the decisions; the skip cost nothing.
	desk := oracle.NewClient(cfg.OracleURL, run, p.desks[run])
	total, spent, err := desk.Budget(ctx)
	if err != nil || total != 4+3 || spent != 4+2 {
		t.Errorf("phase 2's run: spent %d of %d (%v), want 6 of 7", spent, total, err)
	}
	// In phase 3's objective, the decided rows (view rows of phase 2) are
	// gold: one-hot on the person's label, weight 3, trained on.
	v, up := p.views[2], p.ups[2]
	lo := v.Rows(1)[0]
	for _, d := range ds[1:] {
		row := lo + d.ID
		tg := up.Objective.Targets.Row(row)
		for c, x := range tg {
			if want := float32(b2f(c == d.Label)); x != want {
				t.Errorf("row %d: target %v, want one-hot on the person's label %d", row, tg, d.Label)
				break
			}
		}
		if up.Objective.Weights == nil || up.Objective.Weights[row] != 3 {
			t.Errorf("row %d: weight %v, want 3", row, up.Objective.Weights)
		}
		if !slices.Contains(up.Objective.Rows, row) {
			t.Errorf("row %d (decided) is not trained on at phase 3", row)
		}
		// At phase 2 the same row was only escalated: its target was the
		// supervisor's.
		if prev := p.ups[1].Objective.Targets.Row(row); !slices.Equal(prev, p.views[1].Weak.Row(row)) {
			t.Errorf("row %d at phase 2: target %v, want the weak label %v", row, prev, p.views[1].Weak.Row(row))
		}
	}
	// The skipped row stays weak.
	if row := lo + ds[0].ID; !slices.Equal(up.Objective.Targets.Row(row), v.Weak.Row(row)) {
		t.Errorf("skipped row %d got target %v", row, up.Objective.Targets.Row(row))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
