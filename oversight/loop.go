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
	v := env.View
	ns := v.TrainStrong.WeakLabels.Rows
	if env.Oracle == nil {
		return nil, errors.New("oversight: no oracle client")
	}
	if cfg.Strategy != StrategyCritic && cfg.Strategy != StrategyRandom {
		return nil, fmt.Errorf("oversight: unknown strategy %q (want %s or %s)", cfg.Strategy, StrategyCritic, StrategyRandom)
	}
	if cfg.Budget < 0 || cfg.Budget > ns {
		return nil, fmt.Errorf("oversight: budget %d outside [0,%d]", cfg.Budget, ns)
	}
	if cfg.CriticGold < 0 || cfg.CriticGold > cfg.Budget || (cfg.CriticGold > 0 && cfg.Strategy != StrategyCritic) {
		return nil, fmt.Errorf("oversight: critic gold %d: want 0..budget %d, and only with the %s strategy", cfg.CriticGold, cfg.Budget, StrategyCritic)
	}
	if cfg.CriticGold > v.TrainWeak.Weak.Rows {
		return nil, fmt.Errorf("oversight: critic gold %d exceeds train_weak's %d examples", cfg.CriticGold, v.TrainWeak.Weak.Rows)
	}
	// The critic's gold comes out of the loop's budget: the oracle sells
	// the rest.
	buy := cfg.Budget - cfg.CriticGold
	v.Gold = env.Exec.Gold.OpenBudget(cfg.CriticGold)
	if cfg.Rounds < 0 {
		return nil, fmt.Errorf("oversight: rounds %d < 0", cfg.Rounds)
	}
	m, err := method.New(cfg.Method)
	if err != nil {
		return nil, err
	}
	logf := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", a...)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6f7665727365))
	known := Known{}
	res := &Result{Known: known}

	var crossWeak data.Matrix
	if cfg.Strategy == StrategyCritic && cfg.Rounds > 0 && cfg.CriticGold > 0 {
		if crossWeak, err = CrossFitWeak(ctx, &v); err != nil {
			return nil, err
		}
	}
	labels := v.TrainStrong.WeakLabels
	var studentTS data.Matrix
	human := 0
	for r := 0; r <= cfg.Rounds; r++ {
		rd := Round{Round: r, OracleAcc: math.NaN(), OracleAUROC: math.NaN()}
		if r > 0 {
			// Human decisions on items escalated earlier are gold too.
			ds, err := env.Oracle.Decisions(ctx)
			if err != nil {
				return nil, fmt.Errorf("oversight: round %d: decisions: %w", r, err)
			}
			for _, d := range ds {
				if d.Label < 0 || d.Label >= v.K || d.ID < 0 || d.ID >= ns {
					continue // skipped, or not ours to use
				}
				if _, ok := known[d.ID]; !ok {
					human++
				}
				known[d.ID] = d.Label
			}
			var scores []float64
			var critic *Critic
			if cfg.Strategy == StrategyCritic && cfg.CriticGold+len(known) < 4 {
				logf("  round %d: %d labelled rows are too few to fit the critic; buying at random", r, cfg.CriticGold+len(known))
			} else if cfg.Strategy == StrategyCritic {
				if critic, err = FitCritic(ctx, &v, crossWeak, known, cfg.Critic); err != nil {
					return nil, fmt.Errorf("oversight: round %d: %w", r, err)
				}
				scores = critic.Scores()
				rd.CriticFlags = critic.Flags()
				for _, f := range rd.CriticFlags {
					if f {
						rd.Flagged++
					}
				}
				w := critic.Weights()
				rd.Weights = &w
			}
			// Spend up to this round's cumulative share of the budget;
			// human decisions are charged to the same budget by the oracle.
			_, spentNow, err := env.Oracle.Budget(ctx)
			if err != nil {
				return nil, fmt.Errorf("oversight: round %d: budget: %w", r, err)
			}
			share := max(0, buy*r/cfg.Rounds-spentNow)
			ids := pick(share, ns, known, studentTS, scores, cfg.Strategy, rng)
			if len(ids) > 0 {
				got, _, err := env.Oracle.Label(ctx, ids)
				if err != nil {
					return nil, fmt.Errorf("oversight: round %d: buying %d labels: %w", r, len(ids), err)
				}
				if len(got) != len(ids) {
					return nil, fmt.Errorf("oversight: round %d: oracle returned %d labels for %d ids", r, len(got), len(ids))
				}
				wl := v.TrainStrong.WeakLabels.Argmax()
				for j, id := range ids {
					known[id] = got[j]
					if wl[id] != got[j] {
						rd.BoughtWeakWrong++
					}
				}
				rd.Bought = len(ids)
			}
			// Attacker, after buying so that no escalated row is already
			// known: hard rows the learner gets confidently wrong
			// by the critic's lights go to the review desk.
			if critic != nil && cfg.EscalateK > 0 {
				hard := Mine(studentTS, v.TrainStrong.WeakLabels, scores, known)
				items := make([]oracle.ReviewItem, 0, cfg.EscalateK)
				sl := studentTS.Argmax()
				for _, i := range hard {
					if len(items) == cfg.EscalateK {
						break
					}
					cr := critic.Critique(i)
					it := oracle.ReviewItem{ID: i, Round: r, WeakLabel: cr.WeakLabel, StudentLabel: sl[i], Classes: env.Classes,
						Critique: fmt.Sprintf("critic %.2f that the weak label is wrong", cr.Score), Evidence: cr.Evidence(env.Classes)}
					if i < len(env.PoolTexts) {
						it.Text = env.PoolTexts[i]
					}
					items = append(items, it)
				}
				if err := env.Oracle.Escalate(ctx, items); err != nil {
					return nil, fmt.Errorf("oversight: round %d: escalate: %w", r, err)
				}
				rd.Escalated = len(items)
			}
			labels = corrected(v.TrainStrong.WeakLabels, known, v.K)
		}
		// Train the student on the (corrected) labels.
		view := v
		view.TrainStrong.WeakLabels = labels
		tr, err := env.Exec.Run(ctx, m, &view)
		if err != nil {
			return nil, fmt.Errorf("oversight: round %d: student: %w", r, err)
		}
		res.Checkpoints = append(res.Checkpoints, tr.Checkpoints...)
		critic := v.Gold.Use()
		rd.CriticGold = critic.Strong
		rd.TrainWeakGold = method.GoldUse{Strong: max(critic.Strong, tr.Gold.Strong), Weak: max(critic.Weak, tr.Gold.Weak)}
		studentTS = tr.TrainStrong
		if rd.StudentTest, err = tr.Model.Predict(ctx, env.Test); err != nil {
			return nil, fmt.Errorf("oversight: round %d: student on test: %w", r, err)
		}
		rd.StudentTS = studentTS
		if met, err := env.Oracle.Evaluate(ctx, rd.StudentTest); err != nil {
			// A refusal (rate limit, probing flag) costs the loop its own
			// view of accuracy, not the run: the experiment layer scores.
			var re *oracle.RefusedError
			if !errors.As(err, &re) {
				return nil, fmt.Errorf("oversight: round %d: evaluate: %w", r, err)
			}
			rd.OracleNote = re.Code
		} else {
			rd.OracleAcc, rd.OracleAUROC = met.Accuracy, met.AUROC
		}
		if env.Attack != nil {
			st, err := env.Attack.Run(ctx, tr.Model)
			if err != nil {
				return nil, fmt.Errorf("oversight: round %d: %w", r, err)
			}
			rd.Attack = &st
		}
		_, spent, err := env.Oracle.Budget(ctx)
		if err != nil {
			return nil, fmt.Errorf("oversight: round %d: budget: %w", r, err)
		}
		rd.Spent, rd.Human = spent, human
		logf("  round %d: spent %d (+%d, %d weak labels wrong), human %d, flagged %d, oracle acc %.3f",
			r, rd.Spent, rd.Bought, rd.BoughtWeakWrong, rd.Human, rd.Flagged, rd.OracleAcc)
		res.Rounds = append(res.Rounds, rd)
		if cfg.OnRound != nil {
			cfg.OnRound(rd)
		}
	}
	res.Labels = labels
	return res, nil
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
