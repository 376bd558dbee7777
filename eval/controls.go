package eval

import (
	"fmt"
	"strings"

	"github.com/superalign/superalign/store"
)

// The gold-matched controls, by method name (package method registers
// them): the strong student trained on a method's B train_weak gold labels
// alone (gold-probe) and naive plus those labels (naive+gold). Their rows
// carry gold_strong = B.
const (
	ControlGoldProbe = "gold-probe"
	ControlNaiveGold = "naive+gold"
)

// IsGoldControl reports whether a method name (NAME or NAME:params) names
// a gold-matched control.
func IsGoldControl(method string) bool {
	name, _, _ := strings.Cut(method, ":")
	return name == ControlGoldProbe || name == ControlNaiveGold
}

// CompareControls compares every method whose rows drew B > 0 gold labels
// with strong features (store.Row.GoldStrong; the controls themselves
// aside) with each gold-matched control at the same B, on the same dataset
// × weak × strong, seed by seed, as CompareMethods compares with naive:
// Baseline names the control ("gold-probe", "naive+gold:gold=200"). A
// gain over naive that a method paid for with B gold labels counts as
// weak-to-strong generalisation only if it also beats these.
//
// Holm's correction runs over the control comparisons of one table (the
// per-dataset rows of one dataset × weak × strong, or the pooled rows of
// one weak × strong), a family apart from the comparisons with naive, so
// HolmFamily counts methods × controls. A method with no control row at
// its B gets no comparison here (w2s run adds the controls for the gold
// methods it runs).
func CompareControls(rows []store.Row, opt Options) []Comparison {
	type control struct {
		name string
		gold int
	}
	var controls []control
	seen := map[control]bool{}
	for _, r := range rows {
		if IsGoldControl(r.Method) && r.GoldStrong > 0 {
			c := control{r.Method, r.GoldStrong}
			if !seen[c] {
				seen[c] = true
				controls = append(controls, c)
			}
		}
	}
	var perDataset, pooled []Comparison
	for _, c := range controls {
		var subset []store.Row
		hasMethod := false
		for _, r := range rows {
			switch {
			case r.Method == c.name && r.GoldStrong == c.gold:
				subset = append(subset, r)
			case !IsGoldControl(r.Method) && r.GoldStrong == c.gold:
				subset = append(subset, r)
				hasMethod = true
			}
		}
		if !hasMethod {
			continue
		}
		for _, cmp := range CompareMethods(subset, c.name, opt) {
			if cmp.AcrossDatasets {
				pooled = append(pooled, cmp)
			} else {
				perDataset = append(perDataset, cmp)
			}
		}
	}
	holmByTable(perDataset, perDatasetTable)
	holmByTable(pooled, pooledTable)
	return append(perDataset, pooled...)
}

// Beats reports whether a comparison shows the method better than its
// baseline after Holm's correction: a positive mean paired difference in
// the PGR metric (Δaccuracy by default) with PHolm at most Alpha.
func Beats(c Comparison) bool {
	return c.N > 0 && c.DeltaScore > 0 && c.PHolm <= Alpha
}

// GoldVerdict says, for one method on one dataset × weak × strong (or
// pooled), whether it beats naive and, if it drew gold, every gold-matched
// control at its budget, each after Holm's correction.
type GoldVerdict struct {
	Dataset        string   `json:"dataset"` // "" pooled over datasets
	Weak, Strong   string   `json:"-"`
	Method         string   `json:"method"`
	GoldStrong     int      `json:"gold_strong"`
	BeatsNaive     bool     `json:"beats_naive"`
	Controls       []string `json:"controls"`        // the controls compared with
	BeatsControls  bool     `json:"beats_controls"`  // every one of them (true with none: no gold drawn)
	MissingControl bool     `json:"missing_control"` // gold drawn, but a control row is missing
}

// Verdicts combines the comparisons with naive (CompareMethods) and with
// the controls (CompareControls) into one verdict per method and table;
// rows give each method's gold_strong. A method beats weak supervision
// honestly when BeatsNaive and BeatsControls hold and no control is
// missing. The A/A null and the controls get no verdict.
func Verdicts(rows []store.Row, vsNaive, vsControls []Comparison) []GoldVerdict {
	gold := map[string]int{}
	for _, r := range rows {
		gold[r.Method] = max(gold[r.Method], r.GoldStrong)
	}
	key := func(c Comparison) string {
		return fmt.Sprintf("%t\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s", c.AcrossDatasets, c.Dataset, c.Weak, c.Strong, c.Method, c.Balance, c.PGRMetric)
	}
	ctrl := map[string][]Comparison{}
	for _, c := range vsControls {
		ctrl[key(c)] = append(ctrl[key(c)], c)
	}
	var out []GoldVerdict
	for _, c := range vsNaive {
		if c.N == 0 || IsAANull(c.Method) || IsGoldControl(c.Method) {
			continue
		}
		v := GoldVerdict{Dataset: c.Dataset, Weak: c.Weak, Strong: c.Strong, Method: c.Method, GoldStrong: gold[c.Method],
			BeatsNaive: Beats(c), BeatsControls: true}
		cs := ctrl[key(c)]
		for _, k := range cs {
			v.Controls = append(v.Controls, k.Baseline)
			v.BeatsControls = v.BeatsControls && Beats(k)
		}
		if v.GoldStrong > 0 && len(cs) < 2 {
			v.MissingControl, v.BeatsControls = true, false
		}
		out = append(out, v)
	}
	return out
}
