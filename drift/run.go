package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/checkfile"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// ProtocolVersion enters every saved stream's key: bump it when a change
// alters numbers, so old rows are recomputed, never mixed with new ones.
const ProtocolVersion = "drift/v2"

// Config is one drift run.
type Config struct {
	Scenario   *Scenario
	Weak       string // the weak supervisor's student spec ("bow", "glove")
	Strong     string // the strong student's spec ("use-lite", "use-lite-ft")
	Strategies []string
	Seeds      []int64
	// SupGold is the size of the gold sample each phase's supervisor is
	// re-fitted on (stratified by class).
	SupGold int
	// Lag makes the supervisor of phase t the one fitted on phase
	// max(0, t−Lag)'s gold sample: a supervisor that learns the new
	// values Lag phases late (0: it keeps up, on its small sample).
	Lag int
	// Budget is the gold per phase a budgeted strategy (triggered,
	// retrain+gold) may buy through the oracle.
	Budget int
	// Escalate is how many rows the triggered strategy sends to the review
	// desk when it flags drift (the next most disputed after those it
	// buys); each phase's oracle run keeps that many units of budget on
	// top of Budget for the people's decisions.
	Escalate int
	// Oracle, when set, is the server (started, at OracleURL) the streams'
	// phases are registered with; otherwise Run starts one on localhost
	// when a stream needs gold, logs to OracleAudit, and closes it at the
	// end.
	Oracle      *oracle.Server
	OracleURL   string
	OracleAudit string
	// OnDesk is told the oracle's URL, the run and its desk token the
	// first time a phase's run has items for a person to review.
	OnDesk  func(oracleURL, run, deskToken string) error
	Options student.Options
	Cache   *featcache.Cache
	Log     io.Writer
	// Dir, when set, is where each finished (seed, strategy) stream is
	// saved (checksummed, atomic) and read back on a rerun.
	Dir string
}

// Row is one (phase, strategy, seed): the student after the strategy's
// step at that phase, scored on every phase's test split.
type Row struct {
	Scenario  string  `json:"scenario"`
	Weak      string  `json:"weak"`
	Strong    string  `json:"strong"`
	Strategy  string  `json:"strategy"`
	Seed      int64   `json:"seed"`
	Phase     int     `json:"phase"`
	PhaseName string  `json:"phase_name"`
	Acc       float64 `json:"acc"`     // on this phase's test split, this phase's values
	Floor     float64 `json:"floor"`   // this phase's supervisor on the same split
	Ceiling   float64 `json:"ceiling"` // the strong student on this phase's train gold
	Regret    float64 `json:"regret"`  // ceiling − acc
	// AccOn[j] is the accuracy on phase j's test split under phase j's
	// values; StableOn[j] on its examples whose label never changes (NaN
	// encoded as null when there are none).
	AccOn      []float64  `json:"acc_on"`
	StableOn   []*float64 `json:"stable_on"`
	Realigned  bool       `json:"realigned"`
	Flagged    bool       `json:"flagged"`
	Monitor    *float64   `json:"monitor,omitempty"`
	GoldBought int        `json:"gold_bought"` // this phase, through the purse
	// Escalated are the rows sent to this phase's review desk; Human the
	// labels people decided at earlier phases' desks that reached the
	// strategy at this phase (0 in a run nobody attends).
	Escalated int    `json:"escalated"`
	Human     int    `json:"human"`
	SupGold   int    `json:"sup_gold"` // the supervisor's gold sample, this phase
	TrainRows int    `json:"train_rows"`
	TestRows  int    `json:"test_rows"`
	Key       string `json:"key"`
}

// phaseSplit is one seed's split of one phase's pool.
type phaseSplit struct {
	sup, train, test []int // dataset indices
}

// truth is the evaluation side of one seed: the splits, and through the
// scenario the gold of every phase. Strategies never receive it.
type truth struct {
	sc     *Scenario
	splits []phaseSplit
}

// splitPhases splits each phase's pool for seed: SupGold examples for the
// supervisor (stratified by the phase's gold), then the rest half to
// training (weak labels), half to test, stratified.
func splitPhases(sc *Scenario, seed int64, supGold int) ([]phaseSplit, error) {
	out := make([]phaseSplit, len(sc.Phases))
	for p, ph := range sc.Phases {
		r := rand.New(rand.NewPCG(uint64(seeds.Derive(seed, "drift/split/"+strconv.Itoa(p))), 0x5b1))
		byClass := make([][]int, len(sc.Classes))
		for _, i := range ph.Pool {
			c := sc.goldOf(p, i)
			byClass[c] = append(byClass[c], i)
		}
		n := len(ph.Pool)
		if supGold >= n/2 {
			return nil, fmt.Errorf("drift: phase %q has %d examples: a supervisor gold sample of %d leaves too few for training and test", ph.Name, n, supGold)
		}
		var s phaseSplit
		for c, idx := range byClass {
			idx = shuffled(r, idx)
			k := int(math.Round(float64(supGold) * float64(len(idx)) / float64(n)))
			if len(idx) > 0 && k == 0 && supGold > 0 {
				k = 1
			}
			k = min(k, len(idx))
			s.sup = append(s.sup, idx[:k]...)
			rest := idx[k:]
			half := len(rest) / 2
			if len(rest)%2 == 1 && (c+p)%2 == 1 {
				half++
			}
			s.train = append(s.train, rest[:half]...)
			s.test = append(s.test, rest[half:]...)
		}
		out[p] = s
	}
	return out, nil
}

// runner holds what one run shares across seeds: students, features.
type runner struct {
	cfg            Config
	weak, strong   student.Student
	weakX, strongX data.Matrix // features of every scenario example (probes)
	texts          []string
	srv            *oracle.Server // nil until a stream needs gold
	url            string
	ownSrv         bool
}

// oracle returns the server phases are registered with, starting one the
// first time unless the config gives it.
func (r *runner) oracle() (*oracle.Server, string, error) {
	if r.srv != nil {
		return r.srv, r.url, nil
	}
	if r.cfg.Oracle != nil {
		if r.cfg.OracleURL == "" {
			return nil, "", errors.New("drift: an oracle server without its URL")
		}
		r.srv, r.url = r.cfg.Oracle, r.cfg.OracleURL
		return r.srv, r.url, nil
	}
	srv, err := oracle.NewServer(oracle.Config{AuditPath: r.cfg.OracleAudit})
	if err != nil {
		return nil, "", fmt.Errorf("drift: %w", err)
	}
	url, err := srv.Start()
	if err != nil {
		return nil, "", fmt.Errorf("drift: %w", err)
	}
	r.srv, r.url, r.ownSrv = srv, url, true
	r.logf("oracle at %s sells each phase's training gold to the budgeted strategies", url)
	return srv, url, nil
}

// closeOracle stops a server Run started.
func (r *runner) closeOracle() error {
	if !r.ownSrv {
		return nil
	}
	r.ownSrv = false
	if err := r.srv.Close(); err != nil {
		return fmt.Errorf("drift: %w", err)
	}
	return nil
}

func (r *runner) logf(format string, a ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "drift: "+format+"\n", a...)
	}
}

// Run runs every seed and strategy; rows come back in (seed, strategy,
// phase) order. Saved streams in cfg.Dir are reused.
func Run(ctx context.Context, cfg Config) (rows []Row, err error) {
	if cfg.SupGold < 2 {
		return nil, fmt.Errorf("drift: supervisor gold %d, need at least 2", cfg.SupGold)
	}
	if cfg.Budget < 0 || cfg.Escalate < 0 {
		return nil, fmt.Errorf("drift: budget %d, escalate %d: want ≥ 0", cfg.Budget, cfg.Escalate)
	}
	r := &runner{cfg: cfg}
	defer func() { err = errors.Join(err, r.closeOracle()) }()
	if err := r.init(ctx); err != nil {
		return nil, err
	}
	for _, seed := range cfg.Seeds {
		rs, err := r.seed(ctx, seed)
		if err != nil {
			return nil, err
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

// init opens the students and encodes the scenario's texts.
func (r *runner) init(ctx context.Context) error {
	var err error
	open := func(spec string) (student.Student, error) {
		sp, err := student.Parse(spec)
		if err != nil {
			return nil, err
		}
		return student.Open(ctx, sp, r.cfg.Options, r.cfg.Log)
	}
	if r.weak, err = open(r.cfg.Weak); err != nil {
		return fmt.Errorf("drift: weak: %w", err)
	}
	if r.weak.Reads() != student.ReadsFeatures {
		return fmt.Errorf("drift: the weak supervisor %s must be a probe", r.cfg.Weak)
	}
	if r.strong, err = open(r.cfg.Strong); err != nil {
		return fmt.Errorf("drift: strong: %w", err)
	}
	sc := r.cfg.Scenario
	r.texts = make([]string, len(sc.Data.Examples))
	for i, ex := range sc.Data.Examples {
		r.texts[i] = ex.Text
	}
	if r.weakX, err = r.features(ctx, r.weak.Spec().Encoder); err != nil {
		return err
	}
	if r.strong.Reads() == student.ReadsFeatures { // a fine-tune reads the texts
		if r.strongX, err = r.features(ctx, r.strong.Spec().Encoder); err != nil {
			return err
		}
	}
	return nil
}

// features encodes the texts of the scenario's pools (only those: a
// scenario may draw a fraction of a large corpus) through the feature
// cache, scattered back to dataset order.
func (r *runner) features(ctx context.Context, name string) (data.Matrix, error) {
	enc, err := encode.Open(ctx, name, r.cfg.Log)
	if err != nil {
		return data.Matrix{}, err
	}
	if enc.Text == nil {
		return data.Matrix{}, fmt.Errorf("drift: encoder %s is not a text encoder", name)
	}
	var idx []int
	for _, ph := range r.cfg.Scenario.Phases {
		idx = append(idx, ph.Pool...)
	}
	texts := make([]string, len(idx))
	h := sha256.New()
	fmt.Fprintf(h, "drift-pools|%s|%d", r.cfg.Scenario.Data.ContentHash(), len(idx))
	for k, i := range idx {
		texts[k] = r.texts[i]
		fmt.Fprintf(h, "|%d", i)
	}
	m, err := r.cfg.Cache.Features(ctx, enc.Text, hex.EncodeToString(h.Sum(nil)), texts, r.cfg.Log)
	if err != nil {
		return data.Matrix{}, fmt.Errorf("drift: %s features: %w", name, err)
	}
	out := data.NewMatrix(len(r.texts), m.Cols)
	for k, i := range idx {
		copy(out.Row(i), m.Row(k))
	}
	return out, nil
}

// inputs are the strong student's inputs for dataset examples idx.
func (r *runner) inputs(idx []int) student.Inputs {
	if r.strong.Reads() == student.ReadsTexts {
		t := make([]string, len(idx))
		for k, i := range idx {
			t[k] = r.texts[i]
		}
		return student.Inputs{Texts: t}
	}
	return student.Inputs{Features: r.strongX.SelectRows(idx)}
}

func (r *runner) fit(ctx context.Context, s student.Student, in student.Inputs, o train.Objective, seed int64, name string) (student.Model, error) {
	tc := s.Config()
	tc.Seed = seed
	tc.Log = nil
	tc.Name = name
	m, _, err := s.Fit(ctx, in, o, tc)
	return m, err
}

// fitFrom fine-tunes the strong student from a model it trained before.
func (r *runner) fitFrom(ctx context.Context, from student.Model, in student.Inputs, o train.Objective, seed int64, name string) (student.Model, error) {
	ws, ok := r.strong.(student.WarmStarter)
	if !ok {
		return nil, fmt.Errorf("student %s cannot start from a trained model", r.cfg.Strong)
	}
	tc := r.strong.Config()
	tc.Seed, tc.Log, tc.Name = seed, nil, name
	m, _, err := ws.FitFrom(ctx, from, in, o, tc)
	return m, err
}

// key names a stream: everything that changes its numbers.
func (r *runner) key(seed int64, strategy string) string {
	c := r.cfg
	var pools []int
	for _, ph := range c.Scenario.Phases {
		pools = append(pools, len(ph.Pool))
		pools = append(pools, ph.Pool...)
	}
	parts := []any{ProtocolVersion, c.Scenario.Name, c.Scenario.Data.ContentHash(), pools,
		c.Weak, r.weak.Fingerprint(), c.Strong, r.strong.Fingerprint(), c.Options, c.SupGold, c.Lag, c.Budget, strategy, seed}
	if strategy == "triggered" {
		// Only triggered escalates to the desk, and its rows gained the
		// escalated and human counts: its streams from before the desk are
		// stale, the other strategies' keys (and saved streams) stay.
		parts = append(parts, "desk", c.Escalate)
	}
	b, _ := json.Marshal(parts)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

// seedSetup is what every strategy of one seed shares: the splits, the
// supervisors' weak labels, the per-phase ceilings, the test inputs.
type seedSetup struct {
	tr       truth
	weakOn   []data.Matrix // [phase] weak labels on that phase's train rows
	floor    []float64
	ceiling  []float64
	testIn   student.Inputs // test rows of every phase, phase order
	testOff  []int          // offsets of each phase in testIn
	testGold [][]int        // [phase] gold of its test rows, its values
	stable   [][]bool
}

func (r *runner) setup(ctx context.Context, seed int64) (*seedSetup, error) {
	sc := r.cfg.Scenario
	splits, err := splitPhases(sc, seed, r.cfg.SupGold)
	if err != nil {
		return nil, err
	}
	su := &seedSetup{tr: truth{sc: sc, splits: splits}}
	K := len(sc.Classes)
	var allTest []int
	for p, s := range splits {
		su.testOff = append(su.testOff, len(allTest))
		allTest = append(allTest, s.test...)
		g := make([]int, len(s.test))
		st := make([]bool, len(s.test))
		for k, i := range s.test {
			g[k], st[k] = sc.goldOf(p, i), sc.stable(i)
		}
		su.testGold = append(su.testGold, g)
		su.stable = append(su.stable, st)
	}
	su.testOff = append(su.testOff, len(allTest))
	su.testIn = r.inputs(allTest)
	for p, s := range splits {
		// The supervisor of phase p: a weak probe re-fitted on the gold
		// sample of phase max(0, p−Lag), under that phase's values.
		q := max(0, p-r.cfg.Lag)
		sup := splits[q].sup
		lab := make([]int, len(sup))
		for k, i := range sup {
			lab[k] = sc.goldOf(q, i)
		}
		wm, err := r.fit(ctx, r.weak, student.Inputs{Features: r.weakX.SelectRows(sup)}, train.Objective{Targets: data.OneHot(lab, K)},
			seeds.Derive(seed, "drift/weak/"+strconv.Itoa(p)), "weak")
		if err != nil {
			return nil, fmt.Errorf("drift: supervisor of phase %d: %w", p, err)
		}
		wl, err := wm.Predict(ctx, student.Inputs{Features: r.weakX.SelectRows(s.train)})
		if err != nil {
			return nil, err
		}
		su.weakOn = append(su.weakOn, wl)
		wt, err := wm.Predict(ctx, student.Inputs{Features: r.weakX.SelectRows(s.test)})
		if err != nil {
			return nil, err
		}
		su.floor = append(su.floor, accuracy(wt, su.testGold[p], nil))
		// The ceiling: the strong student on this phase's train gold.
		tg := make([]int, len(s.train))
		for k, i := range s.train {
			tg[k] = sc.goldOf(p, i)
		}
		cm, err := r.fit(ctx, r.strong, r.inputs(s.train), train.Objective{Targets: data.OneHot(tg, K)},
			seeds.Derive(seed, "drift/ceiling/"+strconv.Itoa(p)), "ceiling")
		if err != nil {
			return nil, fmt.Errorf("drift: ceiling of phase %d: %w", p, err)
		}
		ct, err := cm.Predict(ctx, r.inputs(s.test))
		if err != nil {
			return nil, err
		}
		su.ceiling = append(su.ceiling, accuracy(ct, su.testGold[p], nil))
		r.logf("seed %d %s: supervisor %.3f, ceiling %.3f on %d test examples", seed, sc.Phases[p].Name, su.floor[p], su.ceiling[p], len(s.test))
	}
	return su, nil
}

// accuracy of probabilities pred against gold, on the rows where keep is
// true (nil: all); NaN with no rows.
func accuracy(pred data.Matrix, gold []int, keep []bool) float64 {
	am := pred.Argmax()
	n, ok := 0, 0
	for i, g := range gold {
		if keep != nil && !keep[i] {
			continue
		}
		n++
		if am[i] == g {
			ok++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(ok) / float64(n)
}

func (r *runner) seed(ctx context.Context, seed int64) ([]Row, error) {
	var out []Row
	var su *seedSetup
	for _, name := range r.cfg.Strategies {
		key := r.key(seed, name)
		if rows, ok := r.load(key); ok {
			r.logf("seed %d %s: reusing saved stream %s", seed, name, key)
			out = append(out, rows...)
			continue
		}
		if su == nil {
			var err error
			if su, err = r.setup(ctx, seed); err != nil {
				return nil, err
			}
		}
		rows, err := r.stream(ctx, su, seed, name, key)
		if err != nil {
			return nil, fmt.Errorf("drift: seed %d, strategy %s: %w", seed, name, err)
		}
		if err := r.save(key, rows); err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// stream runs one strategy through every phase of one seed.
func (r *runner) stream(ctx context.Context, su *seedSetup, seed int64, name, key string) ([]Row, error) {
	st, err := NewStrategy(name, r.cfg.Budget, r.cfg.Escalate)
	if err != nil {
		return nil, err
	}
	return r.streamWith(ctx, su, seed, name, key, st)
}

// streamWith runs strategy st (named name) through the phases.
func (r *runner) streamWith(ctx context.Context, su *seedSetup, seed int64, name, key string, st Strategy) ([]Row, error) {
	sc := r.cfg.Scenario
	var model student.Model
	var rows []Row
	flow := &goldFlow{handed: map[int]int{}}
	if r.cfg.OnDesk != nil {
		flow.notify = func(run string) error {
			tok, err := r.srv.DeskToken(run)
			if err != nil {
				return err
			}
			return r.cfg.OnDesk(r.url, run, tok)
		}
	}
	for t := range sc.Phases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, purse, err := r.view(ctx, su, seed, name, t, model, flow)
		if err != nil {
			return nil, err
		}
		up, err := st.Step(v)
		if purse != nil {
			purse.closed = true
		}
		if err != nil {
			return nil, err
		}
		if up.Keep && model == nil {
			return nil, fmt.Errorf("strategy kept a student at phase %d before training one", t)
		}
		if !up.Keep {
			fitSeed := seeds.Derive(seed, seeds.Lead("drift/student", name, strconv.Itoa(t)))
			if up.WarmStart && model != nil {
				model, err = r.fitFrom(ctx, model, v.Inputs, up.Objective, fitSeed, name)
			} else {
				model, err = r.fit(ctx, r.strong, v.Inputs, up.Objective, fitSeed, name)
			}
			if err != nil {
				return nil, fmt.Errorf("phase %d: %w", t, err)
			}
		}
		pred, err := model.Predict(ctx, su.testIn)
		if err != nil {
			return nil, err
		}
		row := Row{Scenario: sc.Name, Weak: r.cfg.Weak, Strong: r.cfg.Strong, Strategy: name, Seed: seed,
			Phase: t, PhaseName: sc.Phases[t].Name, Floor: su.floor[t], Ceiling: su.ceiling[t],
			Realigned: !up.Keep, Flagged: up.Flagged, GoldBought: purse.Spent(), Escalated: purse.escalated(), Human: purse.humanUsed(),
			SupGold:   len(su.tr.splits[t].sup),
			TrainRows: len(su.tr.splits[t].train), TestRows: len(su.tr.splits[t].test), Key: key}
		if !math.IsNaN(up.Monitor) {
			m := up.Monitor
			row.Monitor = &m
		}
		for j := range sc.Phases {
			pj := pred.SelectRows(seqRange(su.testOff[j], su.testOff[j+1]))
			row.AccOn = append(row.AccOn, accuracy(pj, su.testGold[j], nil))
			s := accuracy(pj, su.testGold[j], su.stable[j])
			if math.IsNaN(s) {
				row.StableOn = append(row.StableOn, nil)
			} else {
				row.StableOn = append(row.StableOn, &s)
			}
		}
		row.Acc = row.AccOn[t]
		row.Regret = row.Ceiling - row.Acc
		rows = append(rows, row)
		r.logf("seed %d %-9s %-12s acc %.3f (floor %.3f, ceiling %.3f)%s", seed, name, sc.Phases[t].Name, row.Acc, row.Floor, row.Ceiling, flagNote(up, purse))
	}
	return rows, nil
}

func flagNote(up Update, p *Purse) string {
	switch {
	case up.Flagged:
		return fmt.Sprintf(", drift flagged (disagreement %.3f), %d gold bought, %d rows to the desk, %d human labels", up.Monitor, p.Spent(), p.escalated(), p.humanUsed())
	case up.Keep:
		return ", kept"
	}
	return ""
}

func seqRange(a, b int) []int {
	out := make([]int, b-a)
	for i := range out {
		out[i] = a + i
	}
	return out
}

// view builds phase t's View from phases 0..t only, and its purse: the
// oracle run of phase t's training rows, for strategies that buy gold.
func (r *runner) view(ctx context.Context, su *seedSetup, seed int64, name string, t int, prev student.Model, flow *goldFlow) (*View, *Purse, error) {
	sc := r.cfg.Scenario
	var idx, phase []int
	K := len(sc.Classes)
	for p := 0; p <= t; p++ {
		for _, i := range su.tr.splits[p].train {
			idx = append(idx, i)
			phase = append(phase, p)
		}
	}
	weak := data.NewMatrix(len(idx), K)
	row, lo := 0, 0
	for p := 0; p <= t; p++ {
		if p == t {
			lo = row
		}
		for k := range su.tr.splits[p].train {
			copy(weak.Row(row), su.weakOn[p].Row(k))
			row++
		}
	}
	var purse *Purse
	if buys(name) {
		var err error
		if purse, err = r.openPurse(ctx, su, seed, name, t, lo, flow); err != nil {
			return nil, nil, err
		}
	}
	v := &View{Phase: t, Phases: t + 1, Inputs: r.inputs(idx), RowPhase: phase, Weak: weak, Purse: purse}
	if prev != nil {
		p, err := prev.Predict(ctx, v.Inputs)
		if err != nil {
			return nil, nil, err
		}
		v.Prev = p
	}
	return v, purse, nil
}

// saved is a stream's file: its key and rows.
type saved struct {
	Key  string `json:"key"`
	Rows []Row  `json:"rows"`
}

func (r *runner) path(key string) string { return filepath.Join(r.cfg.Dir, "streams", key+".json") }

// load reads a saved stream; a missing, corrupt or foreign file is
// recomputed (a corrupt one is reported).
func (r *runner) load(key string) ([]Row, bool) {
	if r.cfg.Dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(r.path(key))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.logf("saved stream %s unreadable (%v): recomputing", key, err)
		}
		return nil, false
	}
	// The checkfile layout: payload, then its sha256.
	if len(b) < sha256.Size {
		err = fmt.Errorf("%d bytes, shorter than its checksum", len(b))
	} else if sum := sha256.Sum256(b[:len(b)-sha256.Size]); string(sum[:]) != string(b[len(b)-sha256.Size:]) {
		err = fmt.Errorf("checksum mismatch")
	} else {
		b = b[:len(b)-sha256.Size]
	}
	var s saved
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err == nil && (s.Key != key || len(s.Rows) != len(r.cfg.Scenario.Phases)) {
		err = fmt.Errorf("holds key %s with %d rows", s.Key, len(s.Rows))
	}
	if err != nil {
		r.logf("saved stream %s corrupt (%v): recomputing", key, err)
		return nil, false
	}
	return s.Rows, true
}

func (r *runner) save(key string, rows []Row) error {
	if r.cfg.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(r.path(key)), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(saved{Key: key, Rows: rows})
	if err != nil {
		return err
	}
	_, err = checkfile.Write(r.path(key), func(w io.Writer) error { _, err := w.Write(b); return err })
	return err
}
