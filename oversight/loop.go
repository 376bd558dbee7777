package oversight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/student"
)

// Strategies for spending the gold budget.
const (
	StrategyCritic = "critic" // uncertainty × critic score
	StrategyRandom = "random" // uniformly random unlabelled rows (the baseline)
)

// Env is everything the loop may use: the protocol view (features, weak
// labels), an oracle client (the only way to gold of train_strong and
// test), the executor that trains the cell's student (a probe or a
// fine-tuned encoder) on a method's plan and holds train_weak's gold pool
// (the loop opens its critic's budget there, charged to Config.Budget), the student's test
// inputs, and inputs for the review desk and the attacker. It holds no gold
// of train_strong or test: TestLoopHasNoHiddenGold walks it.
type Env struct {
	View      method.View
	Oracle    *oracle.Client
	Exec      method.Executor
	Test      student.Inputs // the student's test inputs
	PoolTexts []string       // [N_ts] train_strong texts for the review desk; may be nil
	Classes   []string
	Attack    *Attack // probes replayed on each round's learner; may be nil
}

// Config sets one loop.
type Config struct {
	Method string // student method spec ("naive", "logconf:coef=0.5", ...)
	// Budget is the gold labels of the loop in all: train_strong rows
	// bought from the oracle plus the critic's train_weak labels.
	Budget int
	// CriticGold is the part of Budget the critic learns from: train_weak
	// examples with their gold and strong features, drawn from the
	// executor's gold pool (the same seeded order every budget of the
	// cell draws). The oracle sells the rest, Budget − CriticGold. Only
	// the critic strategy uses it; 0 there leaves the critic to learn
	// from bought rows alone (no critic before 4 are known).
	CriticGold int
	Rounds     int    // rounds after round 0 (the weak-only student)
	Strategy   string // StrategyCritic or StrategyRandom
	EscalateK  int    // items escalated to the review desk per round (critic strategy)
	Critic     CriticConfig
	Seed       int64
	Log        io.Writer
	// OnRound, if set, is called after each round with its record, before
	// the next round reads review decisions (progress reporting; tests use
	// it to act as the reviewer between rounds).
	OnRound func(Round)
}

// Round is what the loop knows after one round. Student predictions are kept
// for scoring outside the loop (the experiment layer holds the hidden gold).
type Round struct {
	Round           int          `json:"round"`
	Spent           int          `json:"spent"`             // gold bought so far (oracle's count)
	Bought          int          `json:"bought"`            // rows labelled this round
	BoughtWeakWrong int          `json:"bought_weak_wrong"` // of those, rows whose weak label the gold contradicted
	Human           int          `json:"human"`             // human decisions used so far
	Escalated       int          `json:"escalated"`         // items sent to the desk this round
	Flagged         int          `json:"flagged"`           // weak labels the critic flags
	OracleAcc       float64      `json:"oracle_acc"`        // Client.Evaluate; NaN if refused
	OracleAUROC     float64      `json:"oracle_auroc"`
	OracleNote      string       `json:"oracle_note,omitempty"` // refusal, if any
	Attack          *AttackStats `json:"attack,omitempty"`
	StudentTest     data.Matrix  `json:"-"` // [N_test, K]
	StudentTS       data.Matrix  `json:"-"` // [N_ts, K]
	CriticFlags     []bool       `json:"-"` // [N_ts] critic's flags this round (nil for random)
	Weights         *[4]float64  `json:"critic_weights,omitempty"`
	// CriticGold counts the train_weak labels (strong features) the critic
	// drew so far, charged to the budget besides Spent.
	CriticGold int `json:"critic_gold"`
	// TrainWeakGold is what the round read of train_weak gold, the
	// critic's budget and the student method's together (as in results
	// rows: strong-feature draws are charged, weak-side refits free).
	TrainWeakGold method.GoldUse `json:"-"`
}

// Result is a finished loop.
type Result struct {
	Rounds []Round
	Known  Known       // every label obtained through the oracle (bought and human)
	Labels data.Matrix // [N_ts, K] the corrected training labels of the last round
	// Checkpoints are the training checkpoints of the rounds' students
	// (with an executor that checkpoints), for the caller to remove.
	Checkpoints []string
}

// Run executes the loop: round 0 trains the student on weak labels; each
// further round fits the critic, lets the attacker mine hard rows, buys the
// round's share of the budget on the most valuable unlabelled rows
// (uncertainty × critic score, or random), takes any human decisions,
// corrects the labels and retrains. Each round's student is evaluated
// through the oracle and replayed against the attack.
func Run(ctx context.Context, env *Env, cfg Config) (*Result, error) {
	if err := checkConfig(env, cfg); err != nil {
		return nil, err
	}
	l := &loop{env: env, cfg: cfg, v: env.View, known: Known{}}
	l.ns = l.v.TrainStrong.WeakLabels.Rows
	// The critic's gold comes out of the loop's budget: the oracle sells
	// the rest.
	l.buy = cfg.Budget - cfg.CriticGold
	l.v.Gold = env.Exec.Gold.OpenBudget(cfg.CriticGold)
	var err error
	if l.method, err = method.New(cfg.Method); err != nil {
		return nil, err
	}
	l.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6f7665727365))
	res := &Result{Known: l.known}
	if cfg.Strategy == StrategyCritic && cfg.Rounds > 0 && cfg.CriticGold > 0 {
		if l.crossWeak, err = CrossFitWeak(ctx, &l.v); err != nil {
			return nil, err
		}
	}
	labels := l.v.TrainStrong.WeakLabels
	for r := 0; r <= cfg.Rounds; r++ {
		rd := Round{Round: r, OracleAcc: math.NaN(), OracleAUROC: math.NaN()}
		if r > 0 {
			var err error
			if labels, err = l.correct(ctx, &rd); err != nil {
				return nil, fmt.Errorf("oversight: round %d: %w", r, err)
			}
		}
		if err := l.train(ctx, &rd, labels, res); err != nil {
			return nil, fmt.Errorf("oversight: round %d: %w", r, err)
		}
		oracleAcc := fmt.Sprintf("%.3f", rd.OracleAcc)
		if rd.OracleNote != "" {
			// Say why the loop has no accuracy of its own (a small test
			// split gets no answers at all), once per reason.
			oracleAcc = "refused (" + rd.OracleNote + ")"
			if l.oracleRefusal != "" && l.oracleRefusal != l.lastRefusal {
				oracleAcc += ": " + l.oracleRefusal
				l.lastRefusal = l.oracleRefusal
			}
		}
		l.logf("  round %d: spent %d (+%d, %d weak labels wrong), human %d, flagged %d, oracle acc %s",
			r, rd.Spent, rd.Bought, rd.BoughtWeakWrong, rd.Human, rd.Flagged, oracleAcc)
		res.Rounds = append(res.Rounds, rd)
		if cfg.OnRound != nil {
			cfg.OnRound(rd)
		}
	}
	res.Labels = labels
	return res, nil
}

// checkConfig refuses a loop that could not spend its budget as asked,
// before any work.
func checkConfig(env *Env, cfg Config) error {
	v := env.View
	ns := v.TrainStrong.WeakLabels.Rows
	if env.Oracle == nil {
		return errors.New("oversight: no oracle client")
	}
	if cfg.Strategy != StrategyCritic && cfg.Strategy != StrategyRandom {
		return fmt.Errorf("oversight: unknown strategy %q (want %s or %s)", cfg.Strategy, StrategyCritic, StrategyRandom)
	}
	if cfg.Budget < 0 || cfg.Budget > ns {
		return fmt.Errorf("oversight: budget %d outside [0,%d]", cfg.Budget, ns)
	}
	if cfg.CriticGold < 0 || cfg.CriticGold > cfg.Budget || (cfg.CriticGold > 0 && cfg.Strategy != StrategyCritic) {
		return fmt.Errorf("oversight: critic gold %d: want 0..budget %d, and only with the %s strategy", cfg.CriticGold, cfg.Budget, StrategyCritic)
	}
	if cfg.CriticGold > v.TrainWeak.Weak.Rows {
		return fmt.Errorf("oversight: critic gold %d exceeds train_weak's %d examples", cfg.CriticGold, v.TrainWeak.Weak.Rows)
	}
	if cfg.Rounds < 0 {
		return fmt.Errorf("oversight: rounds %d < 0", cfg.Rounds)
	}
	return nil
}

// loop is the state Run carries from round to round.
type loop struct {
	env       *Env
	cfg       Config
	v         method.View
	ns        int // train_strong rows
	buy       int // labels the oracle sells over the run (the budget less the critic's gold)
	method    method.Method
	rng       *rand.Rand
	known     Known       // gold obtained so far, bought or decided at the desk
	crossWeak data.Matrix // cross-fitted weak labels of train_weak, the critic's training pairs
	studentTS data.Matrix // the last student's predictions on train_strong
	human     int         // desk decisions used so far
	// oracleRefusal is this round's refusal message of Evaluate,
	// lastRefusal the one last logged.
	oracleRefusal, lastRefusal string
}

func (l *loop) logf(format string, a ...any) {
	if l.cfg.Log != nil {
		fmt.Fprintf(l.cfg.Log, format+"\n", a...)
	}
}

// correct is the part of a round before training: it takes the desk's
// decisions, fits the critic, buys the round's share of the budget and
// escalates hard rows, and returns the training labels with every known
// row's weak label replaced by its gold.
func (l *loop) correct(ctx context.Context, rd *Round) (data.Matrix, error) {
	if err := l.takeDecisions(ctx); err != nil {
		return data.Matrix{}, err
	}
	critic, scores, err := l.fitCritic(ctx, rd)
	if err != nil {
		return data.Matrix{}, err
	}
	if err := l.buyLabels(ctx, rd, scores); err != nil {
		return data.Matrix{}, err
	}
	// Attacker, after buying so that no escalated row is already known:
	// hard rows the learner gets confidently wrong by the critic's lights
	// go to the review desk.
	if critic != nil && l.cfg.EscalateK > 0 {
		if err := l.escalate(ctx, rd, critic, scores); err != nil {
			return data.Matrix{}, err
		}
	}
	return corrected(l.v.TrainStrong.WeakLabels, l.known, l.v.K), nil
}

// takeDecisions adds the desk's decisions on items escalated earlier: human
// gold, charged to the same budget by the oracle.
func (l *loop) takeDecisions(ctx context.Context) error {
	ds, err := l.env.Oracle.Decisions(ctx)
	if err != nil {
		return fmt.Errorf("decisions: %w", err)
	}
	for _, d := range ds {
		if d.Label < 0 || d.Label >= l.v.K || d.ID < 0 || d.ID >= l.ns {
			continue // skipped, or not ours to use
		}
		if _, ok := l.known[d.ID]; !ok {
			l.human++
		}
		l.known[d.ID] = d.Label
	}
	return nil
}

// fitCritic fits the round's critic (critic strategy, with enough labelled
// rows) and returns it with its scores; nil for random buying.
func (l *loop) fitCritic(ctx context.Context, rd *Round) (*Critic, []float64, error) {
	if l.cfg.Strategy != StrategyCritic {
		return nil, nil, nil
	}
	if l.cfg.CriticGold+len(l.known) < 4 {
		l.logf("  round %d: %d labelled rows are too few to fit the critic; buying at random", rd.Round, l.cfg.CriticGold+len(l.known))
		return nil, nil, nil
	}
	critic, err := FitCritic(ctx, &l.v, l.crossWeak, l.known, l.cfg.Critic)
	if err != nil {
		return nil, nil, err
	}
	rd.CriticFlags = critic.Flags()
	for _, f := range rd.CriticFlags {
		if f {
			rd.Flagged++
		}
	}
	w := critic.Weights()
	rd.Weights = &w
	return critic, critic.Scores(), nil
}

// buyLabels spends up to this round's cumulative share of the budget; human
// decisions are charged to the same budget by the oracle.
func (l *loop) buyLabels(ctx context.Context, rd *Round, scores []float64) error {
	_, spentNow, err := l.env.Oracle.Budget(ctx)
	if err != nil {
		return fmt.Errorf("budget: %w", err)
	}
	share := max(0, l.buy*rd.Round/l.cfg.Rounds-spentNow)
	ids := pick(share, l.ns, l.known, l.studentTS, scores, l.cfg.Strategy, l.rng)
	if len(ids) == 0 {
		return nil
	}
	got, _, err := l.env.Oracle.Label(ctx, ids)
	if err != nil {
		return fmt.Errorf("buying %d labels: %w", len(ids), err)
	}
	if len(got) != len(ids) {
		return fmt.Errorf("oracle returned %d labels for %d ids", len(got), len(ids))
	}
	wl := l.v.TrainStrong.WeakLabels.Argmax()
	for j, id := range ids {
		l.known[id] = got[j]
		if wl[id] != got[j] {
			rd.BoughtWeakWrong++
		}
	}
	rd.Bought = len(ids)
	return nil
}

// escalate sends the attacker's hardest unlabelled rows, with the critic's
// evidence, to the review desk.
func (l *loop) escalate(ctx context.Context, rd *Round, critic *Critic, scores []float64) error {
	hard := Mine(l.studentTS, l.v.TrainStrong.WeakLabels, scores, l.known)
	items := make([]oracle.ReviewItem, 0, l.cfg.EscalateK)
	sl := l.studentTS.Argmax()
	for _, i := range hard {
		if len(items) == l.cfg.EscalateK {
			break
		}
		cr := critic.Critique(i)
		it := oracle.ReviewItem{ID: i, Round: rd.Round, WeakLabel: cr.WeakLabel, StudentLabel: sl[i], Classes: l.env.Classes,
			Critique: fmt.Sprintf("critic %.2f that the weak label is wrong", cr.Score), Evidence: cr.Evidence(l.env.Classes)}
		if i < len(l.env.PoolTexts) {
			it.Text = l.env.PoolTexts[i]
		}
		items = append(items, it)
	}
	if err := l.env.Oracle.Escalate(ctx, items); err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	rd.Escalated = len(items)
	return nil
}

// train trains the round's student on labels and records what the round
// learnt: its predictions, the oracle's view of its accuracy, the attack
// replayed on it and the budget spent.
func (l *loop) train(ctx context.Context, rd *Round, labels data.Matrix, res *Result) error {
	view := l.v
	view.TrainStrong.WeakLabels = labels
	tr, err := l.env.Exec.Run(ctx, l.method, &view)
	if err != nil {
		return fmt.Errorf("student: %w", err)
	}
	res.Checkpoints = append(res.Checkpoints, tr.Checkpoints...)
	critic := l.v.Gold.Use()
	rd.CriticGold = critic.Strong
	rd.TrainWeakGold = method.GoldUse{Strong: max(critic.Strong, tr.Gold.Strong), Weak: max(critic.Weak, tr.Gold.Weak)}
	l.studentTS = tr.TrainStrong
	if rd.StudentTest, err = tr.Model.Predict(ctx, l.env.Test); err != nil {
		return fmt.Errorf("student on test: %w", err)
	}
	rd.StudentTS = l.studentTS
	if met, err := l.env.Oracle.Evaluate(ctx, rd.StudentTest); err != nil {
		// A refusal (rate limit, probing flag) costs the loop its own
		// view of accuracy, not the run: the experiment layer scores.
		var re *oracle.RefusedError
		if !errors.As(err, &re) {
			return fmt.Errorf("evaluate: %w", err)
		}
		rd.OracleNote = re.Code
		l.oracleRefusal = re.Message
	} else {
		rd.OracleAcc, rd.OracleAUROC = met.Accuracy, met.AUROC
	}
	if l.env.Attack != nil {
		st, err := l.env.Attack.Run(ctx, tr.Model)
		if err != nil {
			return err
		}
		rd.Attack = &st
	}
	_, spent, err := l.env.Oracle.Budget(ctx)
	if err != nil {
		return fmt.Errorf("budget: %w", err)
	}
	rd.Spent, rd.Human = spent, l.human
	return nil
}

// pick chooses n unlabelled rows to buy. Critic strategy: highest
// critic score × (learner uncertainty + 0.1), the 0.1 keeping rows the
// learner is sure of but the critic doubts in play; ties to the smaller
// index. Random: a seeded uniform draw.
func pick(n, ns int, known Known, student data.Matrix, scores []float64, strategy string, rng *rand.Rand) []int {
	var free []int
	for i := 0; i < ns; i++ {
		if _, ok := known[i]; !ok {
			free = append(free, i)
		}
	}
	n = min(n, len(free))
	if n <= 0 {
		return nil
	}
	if strategy == StrategyRandom || scores == nil {
		rng.Shuffle(len(free), func(a, b int) { free[a], free[b] = free[b], free[a] })
		out := append([]int(nil), free[:n]...)
		sort.Ints(out)
		return out
	}
	val := make(map[int]float64, len(free))
	for _, i := range free {
		val[i] = scores[i] * (uncertainty(student.Row(i)) + 0.1)
	}
	sort.SliceStable(free, func(a, b int) bool {
		if val[free[a]] != val[free[b]] {
			return val[free[a]] > val[free[b]]
		}
		return free[a] < free[b]
	})
	out := append([]int(nil), free[:n]...)
	sort.Ints(out)
	return out
}

// corrected returns the weak soft labels [N, K] with known rows replaced by
// one-hot gold.
func corrected(weak data.Matrix, known Known, k int) data.Matrix {
	out := data.Matrix{Rows: weak.Rows, Cols: weak.Cols, Values: append([]float32(nil), weak.Values...)}
	for id, y := range known {
		row := out.Row(id)
		for j := range row {
			row[j] = 0
		}
		row[y] = 1
	}
	return out
}
