package drift

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/superalign/superalign/eval"
)

// Interval is a mean over seeds with its 95% Student t-interval (lo and hi
// are NaN with one seed; JSON null then).
type Interval struct {
	Mean float64  `json:"mean"`
	Lo   *float64 `json:"lo"`
	Hi   *float64 `json:"hi"`
	N    int      `json:"n"`
}

func interval(v []float64) Interval {
	var keep []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			keep = append(keep, x)
		}
	}
	m, lo, hi := eval.TInterval(keep, 0.95)
	iv := Interval{Mean: m, N: len(keep)}
	if !math.IsNaN(lo) {
		iv.Lo, iv.Hi = &lo, &hi
	}
	if len(keep) == 0 {
		iv.Mean = 0
	}
	return iv
}

func (iv Interval) String() string {
	if iv.N == 0 {
		return "—"
	}
	if iv.Lo == nil {
		return fmt.Sprintf("%.3f", iv.Mean)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", iv.Mean, *iv.Lo, *iv.Hi)
}

// StreamMetrics are one (strategy, seed) stream's numbers.
type StreamMetrics struct {
	AvgAcc float64 // mean over phases of the accuracy on current values
	// BWT is backward transfer (TRACE): the mean over phases j < T of
	// the final student's accuracy on phase j's test minus the accuracy
	// right after phase j, on examples whose values never changed.
	BWT float64
	// Forgetting (Chaudhry et al.): the mean over j < T of the best
	// earlier accuracy on phase j's stable examples minus the final one.
	Forgetting float64
	// Plasticity is the mean over phases t ≥ 1 of what the step at t
	// gained on phase t's test: acc after t minus acc of the student
	// after t−1 on the same split (0 for a strategy that keeps its
	// student).
	Plasticity float64
	// Delay is how many phases after the change point the strategy first
	// re-aligned (the triggered strategy: first flagged); Censored when it
	// never did, Delay is then the phases left.
	Delay    float64
	Censored bool
	Gold     float64 // gold the strategy bought over the stream
	// Escalated are the rows sent to the review desk over the stream,
	// Human the people's labels that reached the strategy.
	Escalated, Human float64
	SupGold          float64 // gold the supervisors were re-fitted on (same for all)
	Regret           float64 // Σ_t (ceiling_t − acc_t)
}

// Metrics computes a stream's metrics from its rows (phase order).
func Metrics(rows []Row, changePoint int) StreamMetrics {
	var m StreamMetrics
	T := len(rows) - 1
	for _, r := range rows {
		m.AvgAcc += r.Acc / float64(len(rows))
		m.Gold += float64(r.GoldBought)
		m.Escalated += float64(r.Escalated)
		m.Human += float64(r.Human)
		m.SupGold += float64(r.SupGold)
		m.Regret += r.Regret
	}
	var bwt, fgt []float64
	for j := 0; j < T; j++ {
		fin, own := rows[T].StableOn[j], rows[j].StableOn[j]
		if fin == nil || own == nil {
			continue
		}
		bwt = append(bwt, *fin-*own)
		best := math.Inf(-1)
		for l := j; l < T; l++ {
			if s := rows[l].StableOn[j]; s != nil {
				best = math.Max(best, *s)
			}
		}
		fgt = append(fgt, best-*fin)
	}
	m.BWT, m.Forgetting = meanOr(bwt), meanOr(fgt)
	var pl []float64
	for t := 1; t <= T; t++ {
		pl = append(pl, rows[t].AccOn[t]-rows[t-1].AccOn[t])
	}
	m.Plasticity = meanOr(pl)
	m.Censored = true
	m.Delay = float64(len(rows) - changePoint)
	for t := changePoint; t < len(rows); t++ {
		if rows[t].Realigned {
			m.Delay, m.Censored = float64(t-changePoint), false
			break
		}
	}
	return m
}

func meanOr(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// StrategySummary is one strategy's metrics across seeds.
type StrategySummary struct {
	Scenario   string   `json:"scenario"`
	Strong     string   `json:"strong"`
	Strategy   string   `json:"strategy"`
	Seeds      int      `json:"seeds"`
	AvgAcc     Interval `json:"avg_acc"`
	BWT        Interval `json:"bwt"`
	Forgetting Interval `json:"forgetting"`
	Plasticity Interval `json:"plasticity"`
	Delay      Interval `json:"delay"`
	Censored   int      `json:"delay_censored"` // seeds that never re-aligned after the change
	Gold       Interval `json:"gold"`
	Escalated  Interval `json:"escalated"` // rows sent to the review desk per stream
	Human      Interval `json:"human"`     // people's labels the strategy trained on per stream
	SupGold    float64  `json:"sup_gold"`
	Regret     Interval `json:"regret"`
	// PerPhase are the accuracy on current values per phase (the
	// timeline), the supervisor's and the ceiling's.
	PerPhase   []Interval `json:"per_phase_acc"`
	Floor      []Interval `json:"per_phase_floor"`
	Ceiling    []Interval `json:"per_phase_ceiling"`
	PhaseNames []string   `json:"phase_names"`
	// VsRetrain is the paired difference in average accuracy against
	// retrain (same seeds, splits and supervisors), with a t-interval, the
	// exact sign-flip p and its Holm adjustment over the strategies.
	VsRetrain *Paired `json:"vs_retrain,omitempty"`
}

// Paired is a paired difference across seeds.
type Paired struct {
	Delta Interval `json:"delta"`
	P     float64  `json:"p"`
	PHolm float64  `json:"p_holm"`
	MinP  float64  `json:"min_p"`
}

// Summarise groups rows by (scenario, strong, strategy) in the order the
// strategies first appear and computes their metrics across seeds.
func Summarise(rows []Row, changePoint int) []StrategySummary {
	type gk struct{ sc, strong, st string }
	streams := map[gk]map[int64][]Row{}
	var order []gk
	for _, r := range rows {
		k := gk{r.Scenario, r.Strong, r.Strategy}
		if streams[k] == nil {
			streams[k] = map[int64][]Row{}
			order = append(order, k)
		}
		streams[k][r.Seed] = append(streams[k][r.Seed], r)
	}
	metrics := map[gk]map[int64]StreamMetrics{}
	var out []StrategySummary
	for _, k := range order {
		var seedList []int64
		for s := range streams[k] {
			seedList = append(seedList, s)
		}
		slices.Sort(seedList)
		metrics[k] = map[int64]StreamMetrics{}
		var acc, bwt, fgt, pl, delay, gold, esc, human, regret []float64
		s := StrategySummary{Scenario: k.sc, Strong: k.strong, Strategy: k.st, Seeds: len(seedList)}
		var perPhase, floor, ceil [][]float64
		for _, seed := range seedList {
			rs := streams[k][seed]
			sort.Slice(rs, func(a, b int) bool { return rs[a].Phase < rs[b].Phase })
			m := Metrics(rs, changePoint)
			metrics[k][seed] = m
			acc, bwt, fgt, pl = append(acc, m.AvgAcc), append(bwt, m.BWT), append(fgt, m.Forgetting), append(pl, m.Plasticity)
			delay, gold, regret = append(delay, m.Delay), append(gold, m.Gold), append(regret, m.Regret)
			esc, human = append(esc, m.Escalated), append(human, m.Human)
			s.SupGold = m.SupGold
			if m.Censored {
				s.Censored++
			}
			for t, r := range rs {
				if len(perPhase) <= t {
					perPhase, floor, ceil = append(perPhase, nil), append(floor, nil), append(ceil, nil)
					s.PhaseNames = append(s.PhaseNames, r.PhaseName)
				}
				perPhase[t] = append(perPhase[t], r.Acc)
				floor[t] = append(floor[t], r.Floor)
				ceil[t] = append(ceil[t], r.Ceiling)
			}
		}
		s.AvgAcc, s.BWT, s.Forgetting, s.Plasticity = interval(acc), interval(bwt), interval(fgt), interval(pl)
		s.Delay, s.Gold, s.Regret = interval(delay), interval(gold), interval(regret)
		s.Escalated, s.Human = interval(esc), interval(human)
		for t := range perPhase {
			s.PerPhase = append(s.PerPhase, interval(perPhase[t]))
			s.Floor = append(s.Floor, interval(floor[t]))
			s.Ceiling = append(s.Ceiling, interval(ceil[t]))
		}
		out = append(out, s)
	}
	// Paired against retrain within each (scenario, strong).
	for i := range out {
		k := gk{out[i].Scenario, out[i].Strong, out[i].Strategy}
		base := gk{k.sc, k.strong, "retrain"}
		if k.st == "retrain" || metrics[base] == nil {
			continue
		}
		var d []float64
		for seed, m := range metrics[k] {
			if b, ok := metrics[base][seed]; ok {
				d = append(d, m.AvgAcc-b.AvgAcc)
			}
		}
		slices.Sort(d) // map order must not reach the numbers
		if len(d) == 0 {
			continue
		}
		sf := eval.SignFlipTest(d, 0, 0)
		out[i].VsRetrain = &Paired{Delta: interval(d), P: sf.P, MinP: sf.MinP}
	}
	// Holm over the strategies of each (scenario, strong).
	groups := map[[2]string][]int{}
	for i, s := range out {
		if s.VsRetrain != nil {
			g := [2]string{s.Scenario, s.Strong}
			groups[g] = append(groups[g], i)
		}
	}
	for _, idx := range groups {
		ps := make([]float64, len(idx))
		for k, i := range idx {
			ps[k] = out[i].VsRetrain.P
		}
		adj := eval.Holm(ps)
		for k, i := range idx {
			out[i].VsRetrain.PHolm = adj[k]
		}
	}
	return out
}

// WriteTable prints the summary as a text table, with a line per
// strategy and what wins.
func WriteTable(w io.Writer, sums []StrategySummary) {
	var cur string
	for _, s := range sums {
		if h := s.Scenario + " · " + s.Strong; h != cur {
			cur = h
			fmt.Fprintf(w, "\n%s (%d seeds; 95%% t-intervals over seeds; supervisor gold %.0f over the stream)\n", h, s.Seeds, s.SupGold)
			fmt.Fprintf(w, "%-12s %-22s %-22s %-22s %-22s %-30s %-24s %-16s %-22s %s\n", "strategy", "avg acc", "BWT", "forgetting", "plasticity", "delay", "gold bought", "desk: sent/human", "regret", "Δavg acc vs retrain (p, Holm)")
		}
		vs := "—"
		if s.VsRetrain != nil {
			vs = fmt.Sprintf("%+.3f [%+.3f, %+.3f] p=%.3g Holm=%.3g", s.VsRetrain.Delta.Mean, deref(s.VsRetrain.Delta.Lo), deref(s.VsRetrain.Delta.Hi), s.VsRetrain.P, s.VsRetrain.PHolm)
		}
		delay := s.Delay.String()
		if s.Censored > 0 {
			delay += fmt.Sprintf(" (%d never)", s.Censored)
		}
		desk := "—"
		if s.Escalated.Mean > 0 || s.Human.Mean > 0 {
			desk = fmt.Sprintf("%.1f / %.1f", s.Escalated.Mean, s.Human.Mean)
		}
		fmt.Fprintf(w, "%-12s %-22s %-22s %-22s %-22s %-30s %-24s %-16s %-22s %s\n", s.Strategy, s.AvgAcc, s.BWT, s.Forgetting, s.Plasticity, delay, s.Gold, desk, s.Regret, vs)
	}
	for _, v := range Verdicts(sums) {
		fmt.Fprintln(w, v)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// Verdicts says, per (scenario, strong), which strategy has the highest
// average accuracy and the lowest regret, and whether its lead over
// retrain is significant after Holm.
func Verdicts(sums []StrategySummary) []string {
	type g struct{ sc, strong string }
	best := map[g]int{}
	var order []g
	for i, s := range sums {
		k := g{s.Scenario, s.Strong}
		j, ok := best[k]
		if !ok {
			order = append(order, k)
			best[k] = i
			continue
		}
		if s.AvgAcc.Mean > sums[j].AvgAcc.Mean {
			best[k] = i
		}
	}
	var out []string
	for _, k := range order {
		s := sums[best[k]]
		var b strings.Builder
		fmt.Fprintf(&b, "%s · %s: highest average accuracy: %s (%s)", k.sc, k.strong, s.Strategy, s.AvgAcc)
		switch {
		case s.VsRetrain == nil:
		case s.VsRetrain.PHolm < 0.05:
			fmt.Fprintf(&b, "; ahead of retrain by %+.3f, Holm p = %.3g", s.VsRetrain.Delta.Mean, s.VsRetrain.PHolm)
		case s.VsRetrain.MinP*float64(len(sums)) > 0.05:
			fmt.Fprintf(&b, "; vs retrain %+.3f, underpowered (%d seeds: p ≥ %.3g)", s.VsRetrain.Delta.Mean, s.Seeds, s.VsRetrain.MinP)
		default:
			fmt.Fprintf(&b, "; vs retrain %+.3f, not significant (Holm p = %.3g)", s.VsRetrain.Delta.Mean, s.VsRetrain.PHolm)
		}
		// Lowest regret and least forgetting, among the strategies that
		// re-align (static forgets nothing by never learning).
		lowReg, lowFgt := -1, -1
		for i, t := range sums {
			if t.Scenario != k.sc || t.Strong != k.strong || t.Strategy == "static" {
				continue
			}
			if lowReg < 0 || t.Regret.Mean < sums[lowReg].Regret.Mean {
				lowReg = i
			}
			if t.Forgetting.N > 0 && (lowFgt < 0 || t.Forgetting.Mean < sums[lowFgt].Forgetting.Mean) {
				lowFgt = i
			}
		}
		if lowReg >= 0 {
			fmt.Fprintf(&b, "; lowest regret: %s (%s)", sums[lowReg].Strategy, sums[lowReg].Regret)
		}
		if lowFgt >= 0 {
			fmt.Fprintf(&b, "; least forgetting among re-aligning strategies: %s (%s)", sums[lowFgt].Strategy, sums[lowFgt].Forgetting)
		}
		out = append(out, b.String())
	}
	return out
}
