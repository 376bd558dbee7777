package oversight

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/superalign/superalign/eval"
)

// Row is one results line of `w2s oversee` (results.jsonl): one dataset ×
// weak → strong × method × seed × budget × strategy × round, scored by the
// experiment layer against hidden gold. Strategy "weak-only" is budget 0,
// "ceiling" the strong head on train_strong gold (round 0 only).
type Row struct {
	Dataset    string  `json:"dataset"`
	Weak       string  `json:"weak"`
	Strong     string  `json:"strong"`
	Method     string  `json:"method"`
	Seed       int64   `json:"seed"`
	Strategy   string  `json:"strategy"` // critic | random | weak-only | ceiling
	BudgetFrac float64 `json:"budget_frac"`
	Budget     int     `json:"budget"`
	Round      int     `json:"round"`
	Spent      int     `json:"spent"` // train_strong labels bought or reviewed (the oracle's count)
	Human      int     `json:"human"`
	// CriticGold counts the train_weak labels (strong features) the
	// critic learnt from, charged to Budget with Spent: Spent + CriticGold
	// <= Budget. GoldUsed, GoldStrong and GoldFeatures account train_weak
	// gold as results rows do (store.Row): the critic's and the student
	// method's together, weak-side refits (the critic's cross-fitted weak
	// labels) free but counted.
	CriticGold   int    `json:"critic_gold"`
	GoldUsed     int    `json:"gold_used"`
	GoldStrong   int    `json:"gold_strong"`
	GoldFeatures string `json:"gold_features"`
	NTrainStrong int    `json:"n_train_strong"`
	NTest        int    `json:"n_test"`

	// Metric is the test metric PGR is on when it is not accuracy ("":
	// accuracy, scored by FloorAcc, CeilingAcc and Acc); Scores holds
	// floor, ceiling and student in it.
	Metric string  `json:"pgr_metric,omitempty"`
	Scores *Scores `json:"metric_scores,omitempty"`

	FloorAcc   float64  `json:"floor_acc"`
	CeilingAcc float64  `json:"ceiling_acc"`
	Acc        float64  `json:"acc"` // student test accuracy (hidden gold)
	AUROC      float64  `json:"auroc"`
	OracleAcc  *float64 `json:"oracle_acc"` // what the loop saw through Client.Evaluate: rounded (oracle.Metrics.Resolution), null when refused
	PGR        *float64 `json:"pgr"`        // nil: no gap
	PGRCILow   *float64 `json:"pgr_ci_low"`
	PGRCIHigh  *float64 `json:"pgr_ci_high"`

	WeakErrRate     float64  `json:"weak_err_rate"`              // 1 − weak-label accuracy on train_strong
	CriticPrecision *float64 `json:"critic_precision,omitempty"` // P(weak wrong | flagged)
	CriticRecall    *float64 `json:"critic_recall,omitempty"`    // P(flagged | weak wrong)
	CriticFlagged   *float64 `json:"critic_flagged_frac,omitempty"`
	BoughtWeakWrong *float64 `json:"bought_weak_wrong,omitempty"` // fraction of bought labels that corrected a weak label

	AttackSuccess *float64           `json:"attack_success,omitempty"`
	AttackByKind  map[string]float64 `json:"attack_by_kind,omitempty"`
	AttackN       int                `json:"attack_n,omitempty"`
}

// Scores are floor, ceiling and student on test in a row's PGR metric.
type Scores struct {
	Floor   float64 `json:"floor"`
	Ceiling float64 `json:"ceiling"`
	Student float64 `json:"student"`
}

// scores returns floor, ceiling and student in the row's PGR metric.
func (r Row) scores() (floor, ceiling, student float64) {
	if r.Scores != nil {
		return r.Scores.Floor, r.Scores.Ceiling, r.Scores.Student
	}
	return r.FloorAcc, r.CeilingAcc, r.Acc
}

// Summary aggregates rows of one strategy × budget × round over seeds by the
// rules of run summaries: means with 95% t-intervals across seeds, and PGR
// as a ratio of means reported only when the gap's lower bound clears the
// threshold (eval.PGROverSeeds).
type Summary struct {
	Strategy        string     `json:"strategy"`
	BudgetFrac      float64    `json:"budget_frac"`
	Round           int        `json:"round"`
	Seeds           int        `json:"seeds"`
	Spent           float64    `json:"spent"`
	CriticGold      float64    `json:"critic_gold"` // mean train_weak labels the critic drew (charged besides Spent)
	Metric          string     `json:"pgr_metric"`  // what Gap and PGR are on: accuracy unless --pgr-metric said otherwise
	Acc             [3]float64 `json:"acc"`         // mean, CI low, CI high
	Gap             [3]float64 `json:"gap"`         // ceiling − floor in Metric: mean, t-interval
	NoGap           bool       `json:"no_gap"`      // the gap's lower bound is below the threshold: no PGR
	PGR             [3]float64 `json:"pgr"`         // ratio of means, bootstrap CI over seeds; NaN: none
	AttackSuccess   [3]float64 `json:"attack_success"`
	CriticPrecision [3]float64 `json:"critic_precision"`
	CriticRecall    [3]float64 `json:"critic_recall"`
	WeakErrRate     float64    `json:"weak_err_rate"`
}

// Summarize groups rows by strategy, budget and round, in that order; seed
// seeds the PGR bootstrap, gapThreshold is the smallest lower bound of the
// gap that has a PGR (the run's --gap-threshold).
func Summarize(rows []Row, seed int64, gapThreshold float64) []Summary {
	type key struct {
		s string
		b float64
		r int
	}
	groups := map[key][]Row{}
	var keys []key
	for _, r := range rows {
		k := key{r.Strategy, r.BudgetFrac, r.Round}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	order := map[string]int{"weak-only": 0, "random": 1, "critic": 2, "ceiling": 3}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if order[a.s] != order[b.s] {
			return order[a.s] < order[b.s]
		}
		if a.b != b.b {
			return a.b < b.b
		}
		return a.r < b.r
	})
	nan := [3]float64{math.NaN(), math.NaN(), math.NaN()}
	ci := func(xs []float64) [3]float64 {
		if len(xs) == 0 {
			return nan
		}
		m, lo, hi := eval.TInterval(xs, 0.95)
		if len(xs) == 1 {
			lo, hi = m, m
		}
		return [3]float64{m, lo, hi}
	}
	var out []Summary
	for _, k := range keys {
		g := groups[k]
		s := Summary{Strategy: k.s, BudgetFrac: k.b, Round: k.r, Seeds: len(g), Metric: "accuracy"}
		var acc, gain, gap, att, cp, cr []float64
		for _, r := range g {
			s.Spent += float64(r.Spent) / float64(len(g))
			s.CriticGold += float64(r.CriticGold) / float64(len(g))
			s.WeakErrRate += r.WeakErrRate / float64(len(g))
			acc = append(acc, r.Acc)
			floor, ceiling, student := r.scores()
			gain = append(gain, student-floor)
			gap = append(gap, ceiling-floor)
			if r.Metric != "" {
				s.Metric = r.Metric
			}
			if r.AttackSuccess != nil {
				att = append(att, *r.AttackSuccess)
			}
			if r.CriticPrecision != nil {
				cp = append(cp, *r.CriticPrecision)
			}
			if r.CriticRecall != nil {
				cr = append(cr, *r.CriticRecall)
			}
		}
		s.Acc, s.Gap, s.AttackSuccess, s.CriticPrecision, s.CriticRecall = ci(acc), ci(gap), ci(att), ci(cp), ci(cr)
		s.PGR = nan
		if k.s != "ceiling" { // the ceiling recovers its own gap by definition
			p := eval.PGROverSeeds(gain, gap, gapThreshold, seed, 0)
			s.NoGap, s.PGR = p.NoGap, [3]float64{p.PGR, p.PGRCILow, p.PGRCIHigh}
		}
		out = append(out, s)
	}
	return out
}

// WriteTable prints the summaries as an aligned table; with finalOnly, only
// each strategy × budget's last round.
func WriteTable(w io.Writer, sums []Summary, finalOnly bool) error {
	last := map[string]int{}
	for _, s := range sums {
		k := fmt.Sprintf("%s|%g", s.Strategy, s.BudgetFrac)
		last[k] = max(last[k], s.Round)
	}
	f3 := func(v [3]float64) string {
		switch {
		case math.IsNaN(v[0]):
			return "-"
		case math.IsNaN(v[1]):
			return fmt.Sprintf("%.3f", v[0])
		}
		return fmt.Sprintf("%.3f [%.3f, %.3f]", v[0], v[1], v[2])
	}
	pgr := func(s Summary) string {
		if s.NoGap {
			return "no gap"
		}
		return f3(s.PGR)
	}
	on := "" // gap and PGR name their metric when it is not the acc column's
	for _, s := range sums {
		if s.Metric != "accuracy" && s.Metric != "" {
			on = " (" + s.Metric + ")"
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join([]string{"strategy", "budget", "round", "spent", "critic gold", "acc [95% CI]", "gap" + on + " [95% CI]", "PGR" + on + " [95% CI]", "attack success", "critic P", "critic R", "seeds"}, "\t"))
	for _, s := range sums {
		if finalOnly && s.Round != last[fmt.Sprintf("%s|%g", s.Strategy, s.BudgetFrac)] {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f%%\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Strategy, 100*s.BudgetFrac, s.Round, s.Spent, s.CriticGold,
			f3(s.Acc), f3(s.Gap), pgr(s), f3(s.AttackSuccess), f3(s.CriticPrecision), f3(s.CriticRecall), s.Seeds)
	}
	return tw.Flush()
}

// SummariesJSON returns the summaries in a form encoding/json accepts: the
// [mean, lo, hi] triples with NaN (no value) become null.
func SummariesJSON(sums []Summary) []map[string]any {
	tri := func(v [3]float64) any {
		if math.IsNaN(v[0]) {
			return nil
		}
		out := make([]any, 3)
		for i, x := range v {
			if !math.IsNaN(x) {
				out[i] = x
			}
		}
		return out
	}
	out := make([]map[string]any, len(sums))
	for i, s := range sums {
		out[i] = map[string]any{
			"strategy": s.Strategy, "budget_frac": s.BudgetFrac, "round": s.Round, "seeds": s.Seeds,
			"spent": s.Spent, "critic_gold": s.CriticGold, "weak_err_rate": s.WeakErrRate, "acc": tri(s.Acc), "pgr_metric": s.Metric, "gap": tri(s.Gap), "no_gap": s.NoGap, "pgr": tri(s.PGR),
			"attack_success": tri(s.AttackSuccess), "critic_precision": tri(s.CriticPrecision), "critic_recall": tri(s.CriticRecall),
		}
	}
	return out
}
