package experiment

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/oversight"
	"github.com/superalign/superalign/store/featcache"
)

// TestOverseeSentiment runs the loop on real sentiment sentences (bow →
// glove, 900 examples, 2 seeds) and checks the mechanics and the two claims
// that held in every run we made: the critic flags wrong weak labels more
// precisely than their base rate, and buying 5% gold where the critic
// points beats weak labels alone on average.
func TestOverseeSentiment(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	spec := OverseeSpec{Dataset: "sentiment", Weak: "bow", Strong: "glove", Method: "naive",
		Budgets: []float64{0, 0.05}, Rounds: 2, Seeds: 2, Limit: 900, EscalateK: 3, AttackTexts: 100, Resamples: 200,
		AuditPath: filepath.Join(t.TempDir(), "audit.jsonl"), Teachers: t.TempDir()}
	rows, err := RunOversee(context.Background(), &featcache.Cache{}, spec, testRunner(t).Log)
	if err != nil {
		t.Fatal(err)
	}
	// Per seed: ceiling + weak-only + 2 strategies × 3 rounds.
	if len(rows) != 2*(1+1+2*3) {
		t.Fatalf("%d rows, want 16", len(rows))
	}
	var weakOnly, critic, prec, errRate []float64
	for _, r := range rows {
		if r.Spent+r.CriticGold > r.Budget && r.Strategy != "ceiling" {
			t.Errorf("%s seed %d round %d: spent %d and %d critic labels of a budget of %d", r.Strategy, r.Seed, r.Round, r.Spent, r.CriticGold, r.Budget)
		}
		// The critic's train_weak gold is charged (half the budget by
		// default) and accounted as results rows account gold.
		if r.Strategy == oversight.StrategyCritic && r.Round > 0 &&
			(r.CriticGold != 8 || r.GoldStrong != 8 || r.GoldFeatures != "strong+weak" || r.GoldUsed != r.NTrainStrong) {
			t.Errorf("critic seed %d round %d: critic gold %d, gold %d/%d %q; want 8 of 15 charged, strong+weak (cross-fitted weak labels read all %d train_weak labels: a third of 900, as train_strong)",
				r.Seed, r.Round, r.CriticGold, r.GoldStrong, r.GoldUsed, r.GoldFeatures, r.NTrainStrong)
		}
		if r.Strategy == oversight.StrategyRandom && (r.CriticGold != 0 || r.GoldUsed != 0) {
			t.Errorf("random seed %d round %d: critic gold %d, gold used %d", r.Seed, r.Round, r.CriticGold, r.GoldUsed)
		}
		if r.OracleAcc != nil && (*r.OracleAcc-r.Acc) > 1e-9 || r.OracleAcc != nil && (r.Acc-*r.OracleAcc) > 1e-9 {
			t.Errorf("%s round %d: oracle says accuracy %g, hidden gold %g", r.Strategy, r.Round, *r.OracleAcc, r.Acc)
		}
		if r.Strategy != "ceiling" && r.AttackSuccess == nil {
			t.Errorf("%s round %d: no attack success", r.Strategy, r.Round)
		}
		switch {
		case r.Strategy == "weak-only":
			weakOnly = append(weakOnly, r.Acc)
		case r.Strategy == oversight.StrategyCritic && r.Round == 2:
			critic = append(critic, r.Acc)
			if r.Spent+r.CriticGold != r.Budget {
				t.Errorf("critic seed %d spent %d and %d critic labels of %d by the last round", r.Seed, r.Spent, r.CriticGold, r.Budget)
			}
			if r.CriticPrecision == nil || r.CriticRecall == nil {
				t.Fatalf("critic seed %d: no precision/recall", r.Seed)
			}
			prec = append(prec, *r.CriticPrecision)
			errRate = append(errRate, r.WeakErrRate)
		}
	}
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	if mean(prec) <= mean(errRate) {
		t.Errorf("critic precision %.3f not above the weak error rate %.3f", mean(prec), mean(errRate))
	}
	if mean(critic) <= mean(weakOnly) {
		t.Errorf("5%% gold with the critic: accuracy %.3f, not above weak-only %.3f", mean(critic), mean(weakOnly))
	}
	t.Logf("weak-only %.3f, critic 5%% %.3f; critic precision %.3f vs weak error rate %.3f", mean(weakOnly), mean(critic), mean(prec), mean(errRate))
}

// TestOverseeReviewer plays the review desk between rounds: after round 1 a
// reviewer decides three escalated items through the desk token; the loop
// must use exactly those decisions in round 2, every label it holds must be
// the dataset's gold, and the spend (bought + human + the critic's
// train_weak gold) must stay within budget.
func TestOverseeReviewer(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	spec := OverseeSpec{Dataset: "sentiment", Weak: "bow", Strong: "glove", Method: "naive", Budgets: []float64{0.05},
		Rounds: 2, Seeds: 1, Limit: 900}
	cs := spec.cell(0)
	c, err := testCells(t).Cell(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	split, err := splitFor(cs, c.ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	srv, err := oracle.NewServer(oracle.Config{Addr: "127.0.0.1:0", AuditPath: audit})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const budget, criticGold = 16, 4
	tok, err := srv.AddRun("r", c.hidden, budget-criticGold)
	if err != nil {
		t.Fatal(err)
	}
	deskTok, err := srv.DeskToken("r")
	if err != nil {
		t.Fatal(err)
	}
	desk := oracle.NewClient(base, "r", deskTok)
	gold := c.ds.Labels(split.TrainStrong) // the reviewer's knowledge (and the test's)
	decided := map[int]int{}
	cfg := oversight.Config{Method: "naive", Budget: budget, CriticGold: criticGold, Rounds: 2, Strategy: oversight.StrategyCritic, EscalateK: 5, Seed: 1,
		OnRound: func(rd oversight.Round) {
			if rd.Round != 1 {
				return
			}
			items, err := desk.Pending(ctx)
			if err != nil || len(items) < 3 {
				t.Errorf("pending: %d items, %v", len(items), err)
				return
			}
			for _, it := range items[:3] {
				if len(it.Evidence) < 4 || it.Text == "" {
					t.Errorf("escalated item %d lacks text or evidence: %+v", it.ID, it)
				}
				if _, err := desk.Decide(ctx, it.ID, gold[it.ID], "tester"); err != nil {
					t.Errorf("decide %d: %v", it.ID, err)
				}
				decided[it.ID] = gold[it.ID]
			}
		}}
	env := &oversight.Env{View: c.view, Oracle: oracle.NewClient(base, "r", tok), Exec: c.exec, Test: c.test,
		PoolTexts: c.trainStrongTexts, Classes: c.ds.Classes}
	res, err := oversight.Run(ctx, env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Rounds[len(res.Rounds)-1]
	if last.Human != 3 || last.Spent != budget-criticGold || last.CriticGold != criticGold {
		t.Errorf("last round: human %d (want 3), spent %d (want %d), critic gold %d (want %d)", last.Human, last.Spent, budget-criticGold, last.CriticGold, criticGold)
	}
	for id, y := range decided {
		if got, ok := res.Known[id]; !ok || got != y {
			t.Errorf("decision on %d (label %d) not used: known %v, %v", id, y, got, ok)
		}
	}
	for id, y := range res.Known {
		if y != gold[id] {
			t.Errorf("corrected label of row %d is %d, gold %d", id, y, gold[id])
		}
		if res.Labels.At(id, y) != 1 {
			t.Errorf("training label of row %d not one-hot at %d: %v", id, y, res.Labels.Row(id))
		}
	}
	if len(res.Known) != budget-criticGold {
		t.Errorf("%d labels known, want %d (bought + human)", len(res.Known), budget-criticGold)
	}
	b, err := os.ReadFile(audit)
	if err != nil || !strings.Contains(string(b), "decide") || !strings.Contains(string(b), "escalate") {
		t.Errorf("audit log lacks escalate/decide lines (%v)", err)
	}
}
