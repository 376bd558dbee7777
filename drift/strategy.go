package drift

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/train"
)

// Update is a strategy's decision at one phase: keep the previous student,
// or train a fresh one for Objective over the view's rows.
type Update struct {
	Keep      bool
	Objective train.Objective
	// Flagged says the strategy suspects drift at this phase (the
	// drift-triggered strategy's monitor); always-realigning strategies
	// leave it false.
	Flagged bool
	// Monitor is the monitored statistic (the triggered strategy's
	// student–supervisor disagreement), NaN when none.
	Monitor float64
}

// Strategy re-aligns the strong student as the stream goes on. One value
// runs one (seed) stream and may keep state between phases.
type Strategy interface {
	Step(v *View) (Update, error)
}

// StrategyInfo describes a strategy.
type StrategyInfo struct {
	Name, Description string
	Budget            bool // buys gold through the purse
}

// Strategies lists the strategies, in report order.
func Strategies() []StrategyInfo {
	return []StrategyInfo{
		{"static", "align once on phase 1's weak labels, never again", false},
		{"retrain", "a fresh student on each phase's weak labels", false},
		{"replay", "a fresh student on the phase's weak labels plus an equal number of earlier phases' rows with the labels their supervisors gave (experience replay)", false},
		{"lwf", "a fresh student on the phase's rows, targets (1−λ)·weak + λ·previous student's predictions (distillation toward the previous student, LwF; λ=0.5)", false},
		{"discount", "a fresh student on every phase so far, weights γ^(t−s) for phase s (NS-DPO's time discount, γ=0.5)", false},
		{"triggered", "keep the student until its disagreement with the new supervisor exceeds the last aligned level by a margin (0.05); then buy gold through the oracle on the most-disputed rows (budget per phase) and re-align on weak labels with the bought gold in their place (weight 3)", true},
	}
}

// StrategyNames are the strategies' names in report order.
func StrategyNames() []string {
	var out []string
	for _, s := range Strategies() {
		out = append(out, s.Name)
	}
	return out
}

// ParseStrategies reads a comma-separated list ("all" for every one).
func ParseStrategies(s string) ([]string, error) {
	if strings.TrimSpace(s) == "all" || strings.TrimSpace(s) == "" {
		return StrategyNames(), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if seen[n] {
			continue
		}
		if _, err := NewStrategy(n, 0); err != nil {
			return nil, err
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// NewStrategy returns a fresh strategy for one stream. budget is the gold
// per phase the triggered strategy may buy.
func NewStrategy(name string, budget int) (Strategy, error) {
	switch name {
	case "static":
		return &static{}, nil
	case "retrain":
		return retrain{}, nil
	case "replay":
		return replay{}, nil
	case "lwf":
		return lwf{lambda: 0.5}, nil
	case "discount":
		return discount{gamma: 0.5}, nil
	case "triggered":
		return &triggered{margin: 0.05, goldWeight: 3, budget: budget, level: math.NaN()}, nil
	}
	return nil, fmt.Errorf("drift: unknown strategy %q (strategies: %s)", name, strings.Join(StrategyNames(), ", "))
}

type static struct{}

func (*static) Step(v *View) (Update, error) {
	if v.Phase > 0 {
		return Update{Keep: true, Monitor: math.NaN()}, nil
	}
	return Update{Objective: train.Objective{Targets: v.Weak, Rows: v.Rows(0)}, Monitor: math.NaN()}, nil
}

type retrain struct{}

func (retrain) Step(v *View) (Update, error) {
	return Update{Objective: train.Objective{Targets: v.Weak, Rows: v.Rows(v.Phase)}, Monitor: math.NaN()}, nil
}

// replay adds as many earlier rows as the phase has, spread evenly over
// the earlier rows in a fixed order (every k-th), so the buffer is
// deterministic and holds every earlier phase in proportion.
type replay struct{}

func (replay) Step(v *View) (Update, error) {
	rows := v.Rows(v.Phase)
	var past []int
	for i, q := range v.RowPhase {
		if q < v.Phase {
			past = append(past, i)
		}
	}
	if n := len(rows); len(past) > n {
		step := float64(len(past)) / float64(n)
		var pick []int
		for k := range n {
			pick = append(pick, past[int(float64(k)*step)])
		}
		past = pick
	}
	return Update{Objective: train.Objective{Targets: v.Weak, Rows: append(rows, past...)}, Monitor: math.NaN()}, nil
}

type lwf struct{ lambda float64 }

func (l lwf) Step(v *View) (Update, error) {
	rows := v.Rows(v.Phase)
	if v.Phase == 0 {
		return Update{Objective: train.Objective{Targets: v.Weak, Rows: rows}, Monitor: math.NaN()}, nil
	}
	t := data.NewMatrix(v.Weak.Rows, v.Weak.Cols)
	copy(t.Values, v.Weak.Values)
	for _, i := range rows {
		w, p, dst := v.Weak.Row(i), v.Prev.Row(i), t.Row(i)
		var sum float32
		for k := range dst {
			dst[k] = float32((1-l.lambda)*float64(w[k]) + l.lambda*float64(p[k]))
			sum += dst[k]
		}
		for k := range dst {
			dst[k] /= sum
		}
	}
	return Update{Objective: train.Objective{Targets: t, Rows: rows}, Monitor: math.NaN()}, nil
}

type discount struct{ gamma float64 }

func (d discount) Step(v *View) (Update, error) {
	w := make([]float32, len(v.RowPhase))
	for i, q := range v.RowPhase {
		w[i] = float32(math.Pow(d.gamma, float64(v.Phase-q)))
	}
	return Update{Objective: train.Objective{Targets: v.Weak, Weights: w}, Monitor: math.NaN()}, nil
}

// triggered watches the disagreement between the current student and the
// new phase's supervisor on the new rows. Right after an alignment it
// records the disagreement on the rows it aligned on (the level a student
// reaches with supervisors it agrees with); a later phase whose
// disagreement exceeds that level by the margin is flagged as drift. On a
// flag it buys gold for the rows where student and supervisor disagree
// most (the critic's pick: largest total-variation distance between their
// distributions), up to the phase's budget, and re-aligns on the phase's
// weak labels with the bought rows replaced by gold and weighted up.
type triggered struct {
	margin     float64
	goldWeight float32
	budget     int
	level      float64 // disagreement right after the last alignment; NaN until measured
	aligned    bool
	last       int // the phase of the last alignment
}

func disagreement(a, b data.Matrix, rows []int) float64 {
	if len(rows) == 0 {
		return 0
	}
	pa, pb := a.Argmax(), b.Argmax()
	n := 0
	for _, i := range rows {
		if pa[i] != pb[i] {
			n++
		}
	}
	return float64(n) / float64(len(rows))
}

func (s *triggered) Step(v *View) (Update, error) {
	rows := v.Rows(v.Phase)
	if !s.aligned {
		s.aligned, s.last, s.level = true, v.Phase, math.NaN()
		return Update{Objective: train.Objective{Targets: v.Weak, Rows: rows}, Monitor: math.NaN()}, nil
	}
	// The level is measured on the rows of the last alignment with the
	// student trained there (the student since, so View.Prev).
	if math.IsNaN(s.level) {
		s.level = disagreement(v.Prev, v.Weak, v.Rows(s.last))
	}
	d := disagreement(v.Prev, v.Weak, rows)
	if d <= s.level+s.margin {
		return Update{Keep: true, Monitor: d}, nil
	}
	t := data.NewMatrix(v.Weak.Rows, v.Weak.Cols)
	copy(t.Values, v.Weak.Values)
	w := make([]float32, v.Weak.Rows)
	for i := range w {
		w[i] = 1
	}
	if n := min(s.budget, v.Purse.Left(), len(rows)); n > 0 {
		type scored struct {
			row int
			tv  float64
		}
		sc := make([]scored, len(rows))
		for k, i := range rows {
			var tv float64
			for c, p := range v.Prev.Row(i) {
				tv += math.Abs(float64(p - v.Weak.At(i, c)))
			}
			sc[k] = scored{i, tv}
		}
		sort.SliceStable(sc, func(a, b int) bool { return sc[a].tv > sc[b].tv })
		pick := make([]int, n)
		for k := range pick {
			pick[k] = sc[k].row
		}
		labels, err := v.Purse.Buy(pick)
		if err != nil {
			return Update{}, err
		}
		for k, i := range pick {
			dst := t.Row(i)
			for c := range dst {
				dst[c] = 0
			}
			dst[labels[k]] = 1
			w[i] = s.goldWeight
		}
	}
	// The new level is measured after this alignment, on these rows.
	s.last, s.level = v.Phase, math.NaN()
	return Update{Objective: train.Objective{Targets: t, Rows: rows, Weights: w}, Flagged: true, Monitor: d}, nil
}
