package experiment

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/oversight"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/student"
)

// OverseeSpec is one `w2s oversee`: the learner loop of package oversight
// on one dataset and weak → strong pair, swept over gold budgets and seeds.
type OverseeSpec struct {
	Dataset, Weak, Strong string
	Method                string    // student method spec
	Budgets               []float64 // fractions of train_strong, e.g. 0, 0.01, 0.02, 0.05, 0.1
	Rounds                int       // rounds after the weak-only round 0
	Seeds                 int
	SeedBase              int64
	Limit, Epochs         int
	// Balance and PGRMetric are as in Spec: the class mix the split gets
	// ("" = undersample) and the test metric PGR is on ("" = accuracy).
	// The oracle's answers to the loop stay accuracies either way.
	Balance, PGRMetric string
	FTEpochs           int     // a fine-tuned student's epochs (0: default)
	FTLR               float64 // a fine-tuned student's encoder learning rate (0: default)
	EscalateK          int     // review-desk items per round
	// CriticShare is the fraction of each budget the critic strategy gives
	// its critic as train_weak gold (strong features; oversight.Config's
	// CriticGold), the oracle selling the rest: 0 means
	// DefaultCriticShare, a negative value none.
	CriticShare  float64
	AttackTexts  int // test texts perturbed by the attacker; 0 means 200
	Resamples    int // per-round paired bootstrap resamples; 0 means 1000
	GapThreshold float64
	AuditPath    string // oracle audit log; "" means none
	// Checkpoints, when set, receives the fine-tuning checkpoints of the
	// rounds' students, so a killed run resumes inside a fine-tune; they
	// are removed when the run ends.
	Checkpoints string
	// Teachers is the teacher cache ("" = DefaultTeacherDir).
	Teachers string
	// OnOracleRun, if set, is told each run the oracle serves (its base
	// URL, run id and desk token) as soon as it is registered, so that a
	// person can reach its review queue.
	OnOracleRun func(oracleURL, run, deskToken string) error
}

// DefaultCriticShare splits a critic run's budget evenly: half to learn
// the critic from train_weak, half to buy train_strong labels where it
// points. The random strategy buys the whole budget, so both spend the
// same gold.
const DefaultCriticShare = 0.5

// criticGold is the critic's part of a budget of n labels.
func (s OverseeSpec) criticGold(n int) int {
	share := s.CriticShare
	switch {
	case share == 0:
		share = DefaultCriticShare
	case share < 0:
		share = 0
	}
	return int(math.Round(share * float64(n)))
}

// cell is the CellSpec of one seed.
func (s OverseeSpec) cell(seed int64) CellSpec {
	if s.Resamples == 0 {
		s.Resamples = 1000
	}
	return CellSpec{Dataset: s.Dataset, Weak: s.Weak, Strong: s.Strong, Method: s.Method, Seed: seed,
		Limit: s.Limit, Balance: s.Balance, PGRMetric: s.PGRMetric, Epochs: s.Epochs, FTEpochs: s.FTEpochs, FTLR: s.FTLR, GapThreshold: s.GapThreshold,
		Fractions: [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, Resamples: s.Resamples, EncodeSeeds: [2]int64{s.SeedBase, int64(s.Seeds)}}
}

// Validate checks the spec before any work starts.
func (s OverseeSpec) Validate() error {
	if s.Seeds < 1 {
		return fmt.Errorf("--seeds must be at least 1, got %d", s.Seeds)
	}
	if err := s.cell(s.SeedBase).Validate(); err != nil {
		return err
	}
	if _, err := method.New(s.Method); err != nil {
		return err
	}
	if len(s.Budgets) == 0 {
		return fmt.Errorf("no budget given (--budgets 0,1,2,5,10)")
	}
	for _, b := range s.Budgets {
		if !(b >= 0 && b <= 1) {
			return fmt.Errorf("budget fraction %g outside [0,1]", b)
		}
	}
	if s.Rounds < 1 {
		return fmt.Errorf("--rounds must be at least 1, got %d", s.Rounds)
	}
	if s.CriticShare > 1 || math.IsNaN(s.CriticShare) {
		return fmt.Errorf("critic share %g: want a fraction of the budget in [0,1]", s.CriticShare)
	}
	return nil
}

// RunOversee runs the loop for every seed × budget × strategy ("critic" and
// "random"; budget 0 is the single "weak-only" run) and adds a "ceiling" row
// per seed. Each seed's cell is built as in `w2s run` (one code path, the
// same cached weak model and ceiling), its hidden gold goes to an oracle
// server, and the loop gets only an oracle client and the cell's executor,
// so a fine-tuned student is retrained every round like a probe. Rows are
// scored here, against the hidden gold, after each loop returns.
func RunOversee(ctx context.Context, cache *featcache.Cache, spec OverseeSpec, log io.Writer) ([]oversight.Row, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	srv, err := oracle.NewServer(oracle.Config{Addr: "127.0.0.1:0", AuditPath: spec.AuditPath})
	if err != nil {
		return nil, err
	}
	base, err := srv.Start()
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	o := &overseer{
		cr:   &CellRunner{Cache: cache, Teachers: spec.Teachers, Checkpoints: spec.Checkpoints, Log: log},
		srv:  srv,
		base: base,
		spec: spec,
		log:  log,
	}
	var rows []oversight.Row
	for s := 0; s < spec.Seeds; s++ {
		got, err := o.seed(ctx, spec.SeedBase+int64(s))
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	// Every row is computed: the checkpoints have served (rounds that
	// trained the same objective shared one).
	removeCheckpoints(o.checkpoints...)
	return rows, nil
}

// overseer runs the loops of one RunOversee against one oracle server.
type overseer struct {
	cr          *CellRunner
	srv         *oracle.Server
	base        string // the oracle's URL
	spec        OverseeSpec
	log         io.Writer
	checkpoints []string // the loops' students' checkpoints, removed at the end
}

func (o *overseer) logf(format string, args ...any) {
	if o.log != nil {
		fmt.Fprintf(o.log, format+"\n", args...)
	}
}

// seedCell is one seed's cell with what every loop on it shares.
type seedCell struct {
	*Cell
	cs        CellSpec
	attack    *oversight.Attack // nil for non-text data
	poolTexts []string          // train_strong texts for the review desk; nil for non-text data
	row       oversight.Row     // the fields every row of the seed shares
}

// seed runs every budget and strategy on one seed's cell: the ceiling's row,
// then one row per round of each loop.
func (o *overseer) seed(ctx context.Context, seed int64) ([]oversight.Row, error) {
	cs := o.spec.cell(seed)
	c, err := o.cr.Cell(ctx, cs)
	if err != nil {
		return nil, err
	}
	sc := &seedCell{Cell: c, cs: cs}
	ds := c.ds
	if ds.IsPairwise() {
		// The attacker edits one text and the review desk shows one; neither
		// has a pairwise form yet.
		return nil, fmt.Errorf("%s: the oversight loop does not run on preference pairs yet (w2s run and w2s sweep do)", ds.Name)
	}
	if len(ds.Examples) > 0 && ds.Examples[0].Text != "" {
		if sc.attack, err = o.attack(ctx, c); err != nil {
			return nil, err
		}
		sc.poolTexts = c.trainStrongTexts
	}
	ns := c.view.TrainStrong.WeakLabels.Rows
	sc.row = oversight.Row{Dataset: ds.Name, Weak: c.weak.Spec().String(), Strong: c.strong.Spec().String(), Method: o.spec.Method,
		Seed: seed, NTrainStrong: ns, NTest: c.hidden.NTest()}
	ceil, err := ceilingRow(sc)
	if err != nil {
		return nil, err
	}
	rows := []oversight.Row{ceil}
	for _, frac := range o.spec.Budgets {
		budget := int(math.Round(frac * float64(ns)))
		strategies := []string{oversight.StrategyRandom, oversight.StrategyCritic}
		if budget == 0 {
			strategies = []string{"weak-only"}
		}
		for _, strat := range strategies {
			got, err := o.loop(ctx, sc, frac, budget, strat)
			if err != nil {
				return nil, err
			}
			rows = append(rows, got...)
		}
	}
	return rows, nil
}

// attack builds the attacker's edits of a random sample of test texts.
func (o *overseer) attack(ctx context.Context, c *Cell) (*oversight.Attack, error) {
	n := o.spec.AttackTexts
	if n <= 0 {
		n = 200
	}
	texts := c.testTexts
	if len(texts) > n {
		texts = texts[:n] // the test split is shuffled: a prefix is a random sample
	}
	negationFlips := c.ds.K() == 2 && isSentiment(c.ds.Name, c.ds.Classes)
	return oversight.NewAttack(ctx, texts, o.cr.studentInputs(c), negationFlips)
}

// ceilingRow is the seed's ceiling, scored as a student so the row carries
// floor and weak error rate.
func ceilingRow(sc *seedCell) (oversight.Row, error) {
	ceil := sc.row
	ceil.Strategy = "ceiling"
	s, err := score(sc.Cell, sc.ceilTest, sc.view.TrainStrong.WeakLabels, sc.cs)
	if err != nil {
		return oversight.Row{}, err
	}
	ceil.FloorAcc, ceil.CeilingAcc, ceil.Acc, ceil.AUROC, ceil.WeakErrRate = s.FloorAcc, s.CeilingAcc, s.CeilingAcc, s.CeilingAUROC, 1-s.WeakLabelAcc
	ceil.Metric, ceil.Scores = metricScores(s, s.CeilingScore)
	return ceil, nil
}

// loop runs one oversight loop (a budget and a strategy) as its own oracle
// run, and returns one row per round.
func (o *overseer) loop(ctx context.Context, sc *seedCell, frac float64, budget int, strat string) ([]oversight.Row, error) {
	seed := sc.cs.Seed
	run := fmt.Sprintf("%s-s%d-b%g-%s", sc.ds.Name, seed, frac, strat)
	criticGold := 0
	if strat == oversight.StrategyCritic {
		criticGold = min(o.spec.criticGold(budget), sc.view.TrainWeak.Weak.Rows)
	}
	// The oracle sells what the critic's train_weak gold leaves.
	tok, err := o.srv.AddRun(run, sc.hidden, budget-criticGold)
	if err != nil {
		return nil, err
	}
	if o.spec.OnOracleRun != nil {
		desk, err := o.srv.DeskToken(run)
		if err == nil {
			err = o.spec.OnOracleRun(o.base, run, desk)
		}
		if err != nil {
			return nil, err
		}
	}
	env := &oversight.Env{View: sc.view, Oracle: oracle.NewClient(o.base, run, tok), Exec: sc.exec, Test: sc.test,
		PoolTexts: sc.poolTexts, Classes: sc.ds.Classes, Attack: sc.attack}
	cfg := oversight.Config{Method: o.spec.Method, Budget: budget, CriticGold: criticGold, Rounds: o.spec.Rounds, Strategy: strat,
		EscalateK: o.spec.EscalateK, Seed: seeds.Derive(seed, "oversee-"+strat), Log: o.log}
	if budget == 0 {
		cfg.Rounds, cfg.Strategy = 0, oversight.StrategyRandom
	}
	o.logf("%s seed %d budget %g%% (%d labels) %s", sc.ds.Name, seed, 100*frac, budget, strat)
	res, err := oversight.Run(ctx, env, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", run, err)
	}
	o.checkpoints = append(o.checkpoints, res.Checkpoints...)
	rows := make([]oversight.Row, 0, len(res.Rounds))
	for _, rd := range res.Rounds {
		row := sc.row
		row.Strategy, row.BudgetFrac, row.Budget = strat, frac, budget
		if err := fillRound(&row, sc, rd); err != nil {
			return nil, fmt.Errorf("%s round %d: %w", run, rd.Round, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// fillRound scores one round's student against the hidden gold and records
// what the round spent and learnt.
func fillRound(row *oversight.Row, sc *seedCell, rd oversight.Round) error {
	row.Round, row.Spent, row.Human = rd.Round, rd.Spent, rd.Human
	row.CriticGold = rd.CriticGold
	row.GoldUsed, row.GoldStrong, row.GoldFeatures = rd.TrainWeakGold.Labels(), rd.TrainWeakGold.Strong, rd.TrainWeakGold.Features()
	s, err := score(sc.Cell, rd.StudentTest, rd.StudentTS, sc.cs)
	if err != nil {
		return err
	}
	row.FloorAcc, row.CeilingAcc, row.Acc, row.AUROC = s.FloorAcc, s.CeilingAcc, s.W2SAcc, s.W2SAUROC
	row.Metric, row.Scores = metricScores(s, s.W2SScore)
	row.PGR, row.PGRCILow, row.PGRCIHigh = s.PGR, s.PGRCILow, s.PGRCIHigh
	row.WeakErrRate = 1 - s.WeakLabelAcc
	if !math.IsNaN(rd.OracleAcc) {
		v := rd.OracleAcc
		row.OracleAcc = &v
	}
	if rd.CriticFlags != nil {
		row.CriticPrecision, row.CriticRecall, row.CriticFlagged = criticPR(sc.hidden, rd.CriticFlags, sc.Cell)
	}
	if rd.Bought > 0 {
		v := float64(rd.BoughtWeakWrong) / float64(rd.Bought)
		row.BoughtWeakWrong = &v
	}
	if rd.Attack != nil {
		v := rd.Attack.Success
		row.AttackSuccess, row.AttackByKind, row.AttackN = &v, rd.Attack.ByKind, rd.Attack.N
	}
	return nil
}

// metricScores fills a row's PGR metric and its scores when the metric is
// not accuracy (whose scores the row already holds as FloorAcc,
// CeilingAcc and Acc), so accuracy rows stay as they were.
func metricScores(s eval.CellScores, student float64) (string, *oversight.Scores) {
	if s.Metric == eval.MetricAccuracy || s.Metric == "" {
		return "", nil
	}
	return string(s.Metric), &oversight.Scores{Floor: s.FloorScore, Ceiling: s.CeilingScore, Student: student}
}

// studentInputs turns texts into the cell's student's inputs: the texts for
// a fine-tuned encoder, the frozen encoder's features (computed directly,
// not cached: attack texts are made up on the fly) for a probe.
func (c *CellRunner) studentInputs(cell *Cell) func(ctx context.Context, texts []string) (student.Inputs, error) {
	return func(ctx context.Context, texts []string) (student.Inputs, error) {
		if cell.strong.Reads() == student.ReadsTexts {
			return student.Inputs{Texts: texts}, nil
		}
		enc, err := c.open(ctx, cell.strong.Spec().Encoder)
		if err != nil {
			return student.Inputs{}, err
		}
		if enc.Text == nil {
			return student.Inputs{}, fmt.Errorf("encoder %s does not read texts", enc.Name)
		}
		x, err := enc.Text.Encode(ctx, texts, nil)
		return student.Inputs{Features: x}, err
	}
}

// DefaultAuditPath is where `w2s oversee` keeps the oracle's audit log.
func DefaultAuditPath(out string) string { return filepath.Join(out, "oracle-audit.jsonl") }

func isSentiment(name string, classes []string) bool {
	if strings.Contains(strings.ToLower(name), "sentiment") {
		return true
	}
	for _, c := range classes {
		if l := strings.ToLower(c); strings.HasPrefix(l, "pos") || strings.HasPrefix(l, "neg") {
			return true
		}
	}
	return false
}

// score scores one student (test and train_strong predictions) of a cell.
// The bootstrap seed is the cell's, so rounds and budgets are paired.
func score(c *Cell, studentTest, studentTS data.Matrix, cs CellSpec) (eval.CellScores, error) {
	return c.hidden.ScoreCell(eval.CellInputs{
		FloorTest: c.floorTest, CeilingTest: c.ceilTest, StudentTest: studentTest,
		WeakLabels: c.view.TrainStrong.WeakLabels, StudentTrainStrong: studentTS,
		Seed: seeds.Derive(cs.Seed, "bootstrap"), GapThreshold: cs.GapThreshold, Resamples: cs.Resamples,
		Metric: cs.metric(),
	})
}

// criticPR turns the critic's flags into precision and recall at finding
// wrong weak labels, using eval's FilterPR (which judges kept sets by correct
// weak labels) on the flagged and the unflagged rows.
func criticPR(h *eval.Hidden, flags []bool, c *Cell) (prec, rec, frac *float64) {
	wl := c.view.TrainStrong.WeakLabels
	n := len(flags)
	unflagged := make([]bool, n)
	nf := 0
	for i, f := range flags {
		unflagged[i] = !f
		if f {
			nf++
		}
	}
	ptr := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	fr := float64(nf) / float64(n)
	frac = &fr
	pf, _ := h.FilterPR(flags, wl)     // P(weak right | flagged)
	pu, _ := h.FilterPR(unflagged, wl) // P(weak right | not flagged)
	wrongFlagged := float64(nf) * (1 - pf)
	wrongUnflagged := float64(n-nf) * (1 - pu)
	if nf == 0 {
		wrongFlagged = 0
	}
	if nf == n {
		wrongUnflagged = 0
	}
	if nf > 0 {
		prec = ptr(1 - pf)
	}
	rec = ptr(wrongFlagged / (wrongFlagged + wrongUnflagged))
	return prec, rec, frac
}
