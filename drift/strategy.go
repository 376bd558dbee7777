package drift

import (
	"fmt"
	"math"
	"slices"
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
	// WarmStart trains from the previous student's weights (fine-tuning
	// it) instead of a fresh initialisation; ignored at phase 0.
	WarmStart bool
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
		{"finetune", "fine-tune the previous phase's student (its weights, probe or encoder, as the start) on the phase's weak labels", false},
		{"replay", "a fresh student on the phase's weak labels plus an equal number of earlier phases' rows with the labels their supervisors gave (experience replay)", false},
		{"lwf", "a fresh student on the phase's rows, targets (1−λ)·weak + λ·previous student's predictions (distillation toward the previous student, LwF; λ=0.5)", false},
		{"discount", "a fresh student on every phase so far, weights γ^(t−s) for phase s (NS-DPO's time discount, γ=0.5)", false},
		{"retrain+gold", "the gold-matched control of triggered: retrain every phase, buying the full per-phase budget of gold on random rows of the phase and putting it in place of their weak labels (weight 3)", true},
		{"triggered", "keep the student until its disagreement with the new supervisor on the new rows exceeds its disagreement on rows held out at its last alignment (a quarter of that phase) by z > 2 and ≥ 0.03; then buy gold through the oracle on the most-disputed rows (budget per phase), send the next most disputed to the review desk, and re-align on weak labels with the bought gold in their place (weight 3); labels people decide at the desk are gold from the next phase on (weight 3, and they trigger a re-alignment)", true},
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
		if _, err := NewStrategy(n, 0, 0); err != nil {
			return nil, err
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// NewStrategy returns a fresh strategy for one stream. budget is the gold
// per phase a budgeted strategy may buy; escalate the rows the triggered
// strategy sends to the review desk when it flags drift.
func NewStrategy(name string, budget, escalate int) (Strategy, error) {
	switch name {
	case "static":
		return &static{}, nil
	case "retrain":
		return retrain{}, nil
	case "finetune":
		return finetune{}, nil
	case "replay":
		return replay{}, nil
	case "lwf":
		return lwf{lambda: 0.5}, nil
	case "discount":
		return discount{gamma: 0.5}, nil
	case "retrain+gold":
		return retrainGold{goldWeight: 3, budget: budget}, nil
	case "triggered":
		return &triggered{margin: 0.03, z: 2, goldWeight: 3, budget: budget, escalate: escalate}, nil
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

type finetune struct{}

func (finetune) Step(v *View) (Update, error) {
	return Update{Objective: train.Objective{Targets: v.Weak, Rows: v.Rows(v.Phase)}, WarmStart: v.Phase > 0, Monitor: math.NaN()}, nil
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

// retrainGold spends the budget every phase, on rows drawn at random (a
// fixed-stride pick over the phase's rows, which are in a seeded random
// order already), so that triggered's gold is matched by a strategy that
// buys without a monitor.
type retrainGold struct {
	goldWeight float32
	budget     int
}

func (s retrainGold) Step(v *View) (Update, error) {
	rows := v.Rows(v.Phase)
	n := min(s.budget, v.Purse.Left(), len(rows))
	pick := make([]int, n)
	for k := range pick {
		pick[k] = rows[k*len(rows)/max(n, 1)]
	}
	t, w, err := withGold(v, pick, s.goldWeight)
	if err != nil {
		return Update{}, err
	}
	return Update{Objective: train.Objective{Targets: t, Rows: rows, Weights: w}, Monitor: math.NaN()}, nil
}

// withGold buys gold for pick and returns the weak labels with those rows
// replaced by one-hot gold, and weights goldWeight on them, 1 elsewhere.
func withGold(v *View, pick []int, goldWeight float32) (data.Matrix, []float32, error) {
	t := data.NewMatrix(v.Weak.Rows, v.Weak.Cols)
	copy(t.Values, v.Weak.Values)
	w := make([]float32, v.Weak.Rows)
	for i := range w {
		w[i] = 1
	}
	if len(pick) == 0 {
		return t, w, nil
	}
	labels, err := v.Purse.Buy(pick)
	if err != nil {
		return data.Matrix{}, nil, err
	}
	for k, i := range pick {
		dst := t.Row(i)
		for c := range dst {
			dst[c] = 0
		}
		dst[labels[k]] = 1
		w[i] = goldWeight
	}
	return t, w, nil
}

// triggered watches the disagreement between the current student and the
// new phase's supervisor on the new rows. When it aligns it holds out
// every 4th row of the phase (a calibration set it does not train on); at
// the next phase it measures the student's disagreement with that phase's
// supervisor on the held-out rows (out of sample, like the new rows) and
// on the new phase's rows, and flags drift when the new disagreement is
// higher by more than z = 2 standard errors of the difference of two
// proportions and by at least the margin. On a flag it buys gold for the
// rows where student and supervisor disagree most (the critic's pick:
// largest total-variation distance between their distributions), up to
// the phase's budget, sends the next most disputed rows to the review
// desk with that evidence, and re-aligns on the phase's weak labels with
// the bought rows replaced by gold and weighted up, again holding out a
// calibration quarter. Otherwise it keeps the student. The held-out rows
// of the last alignment stay the reference until the next one.
//
// Labels people decide at the desk arrive at a later phase (a person
// needs time; in a run nobody attends none arrive). They are gold the
// strategy keeps: every later alignment trains on them, weighted like
// bought gold, and new ones are reason enough to re-align, since a person
// has said where the student is wrong.
type triggered struct {
	margin     float64
	z          float64
	goldWeight float32
	budget     int
	escalate   int
	calib      []int       // held-out rows of the last alignment (view rows; views only grow)
	human      map[int]int // view row → a person's label
}

// holdOut splits rows into training rows and every 4th as calibration.
func holdOut(rows []int) (fit, calib []int) {
	for k, i := range rows {
		if k%4 == 3 {
			calib = append(calib, i)
		} else {
			fit = append(fit, i)
		}
	}
	return fit, calib
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

// takeHuman collects the desk's decisions so far and returns how many are
// new; rows a person labelled leave the calibration set, since they will
// be trained on.
func (s *triggered) takeHuman(v *View) (int, error) {
	if v.Purse == nil || v.Phase == 0 {
		return 0, nil
	}
	hs, err := v.Purse.Human()
	if err != nil {
		return 0, err
	}
	if s.human == nil {
		s.human = map[int]int{}
	}
	fresh := 0
	for _, h := range hs {
		if l, ok := s.human[h.Row]; !ok || l != h.Label {
			fresh++
		}
		s.human[h.Row] = h.Label
	}
	if fresh > 0 {
		s.calib = slices.DeleteFunc(s.calib, func(i int) bool { _, ok := s.human[i]; return ok })
	}
	return fresh, nil
}

func (s *triggered) Step(v *View) (Update, error) {
	rows := v.Rows(v.Phase)
	if s.calib == nil {
		fit, calib := holdOut(rows)
		s.calib = calib
		return Update{Objective: train.Objective{Targets: v.Weak, Rows: fit}, Monitor: math.NaN()}, nil
	}
	fresh, err := s.takeHuman(v)
	if err != nil {
		return Update{}, err
	}
	level := disagreement(v.Prev, v.Weak, s.calib)
	d := disagreement(v.Prev, v.Weak, rows)
	n1, n2 := float64(len(s.calib)), float64(len(rows))
	pool := (level*n1 + d*n2) / (n1 + n2)
	se := math.Sqrt(pool * (1 - pool) * (1/n1 + 1/n2))
	flag := !(d-level < s.margin || d-level <= s.z*se)
	if !flag && fresh == 0 {
		return Update{Keep: true, Monitor: d}, nil
	}
	var pick, ask []int
	if flag {
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
		n := max(0, min(s.budget, v.Purse.Left(), len(rows)))
		for k := range n {
			pick = append(pick, sc[k].row)
		}
		if v.Purse != nil {
			for k := n; k < min(n+s.escalate, len(sc)); k++ {
				ask = append(ask, sc[k].row)
			}
		}
	}
	t, w, err := withGold(v, pick, s.goldWeight)
	if err != nil {
		return Update{}, err
	}
	fit, calib := holdOut(rows)
	// Bought rows are trained on, never held out.
	bought := map[int]bool{}
	for _, i := range pick {
		bought[i] = true
	}
	var keepCalib []int
	for _, i := range calib {
		if bought[i] {
			fit = append(fit, i)
		} else {
			keepCalib = append(keepCalib, i)
		}
	}
	// People's labels, on rows of earlier phases, join every alignment.
	var hrows []int
	for i := range s.human {
		hrows = append(hrows, i)
	}
	slices.Sort(hrows)
	for _, i := range hrows {
		dst := t.Row(i)
		for c := range dst {
			dst[c] = 0
		}
		dst[s.human[i]] = 1
		w[i] = s.goldWeight
		if v.RowPhase[i] != v.Phase {
			fit = append(fit, i)
		}
	}
	if len(ask) > 0 {
		items := make([]Escalation, len(ask))
		for k, i := range ask {
			items[k] = Escalation{Row: i, Student: v.Prev.Row(i), Supervisor: v.Weak.Row(i),
				Note: fmt.Sprintf("drift flagged at phase %d: the student and this phase's supervisor disagree here", v.Phase+1)}
		}
		if err := v.Purse.Escalate(items); err != nil {
			return Update{}, err
		}
	}
	s.calib = keepCalib
	return Update{Objective: train.Objective{Targets: t, Rows: fit, Weights: w}, Flagged: flag, Monitor: d}, nil
}
