package eval

import (
	"encoding/json"
	"math"

	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/store"
)

// Comparison is one method against a baseline (normally naive) on one
// dataset × weak × strong, or pooled over datasets.
//
// The primary quantity is the paired difference in student test accuracy,
// Δacc = w2s(method) − w2s(baseline), one per seed: both rows of a seed share
// its split, weak model and ceiling, so what the seed shares cancels.
//
// Per-dataset rows (AcrossDatasets false): N is the number of paired seeds,
// DeltaAcc their mean Δacc with a 95% Student t-interval, P the two-sided
// sign-flip test of the N differences (SignFlipTest: exact up to
// ExactSignFlipMax seeds, else Monte Carlo with PDraws draws).
//
// Pooled rows (AcrossDatasets true, Dataset ""), for one weak × strong and
// method over the NDatasets ≥ 2 datasets with pairs: N counts dataset × seed
// pairs, DeltaAcc is the mean over datasets of each dataset's mean Δacc with
// a stratified t-interval (StratifiedTInterval) and P the stratified
// sign-flip test over all the pairs (StratifiedSignFlipTest).
//
// PHolm is P after Holm's correction over the HolmFamily methods of the same
// table: the per-dataset rows of one dataset × weak × strong, or the pooled
// rows of one weak × strong. MinP is the smallest P the test could give with
// N pairs; Underpowered holds when even that, times HolmFamily, is above
// Alpha, i.e. no outcome could be significant after correction (5 seeds:
// MinP = 2^(1−5) = 0.0625 > 0.05 with a single method).
//
// DeltaPGR is method minus baseline PGR, each the ratio of means over the
// paired seeds (Summarize's PGR); nil unless the baseline's per-seed gap has
// a lower 95% t-bound clearing the gap threshold (one seed: both rows have a
// PGR). Pooled, it is the mean of the per-dataset DeltaPGRs when every
// dataset has one. With shared floors and ceilings it is ΣΔacc/Σgap.
//
// Undefined numbers are NaN in Go and null in JSON.
type Comparison struct {
	Dataset        string
	Weak, Strong   string
	Method         string
	Baseline       string
	AcrossDatasets bool
	N              int
	NDatasets      int

	DeltaAcc, DeltaAccCILow, DeltaAccCIHigh float64
	DeltaPGR                                *float64

	// Balance and PGRMetric are the rows' setting (rows of two settings
	// are never paired). DeltaScore is the paired difference in the PGR
	// metric, with its t-interval: the quantity P tests. On accuracy it
	// is DeltaAcc.
	Balance                                       string
	PGRMetric                                     Metric
	DeltaScore, DeltaScoreCILow, DeltaScoreCIHigh float64

	P            float64
	PExact       bool
	PDraws       int
	PHolm        float64
	HolmFamily   int
	MinP         float64
	Underpowered bool
}

// MarshalJSON writes NaN numbers as null, which encoding/json cannot do by itself.
func (c Comparison) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Dataset        string   `json:"dataset"`
		Weak           string   `json:"weak"`
		Strong         string   `json:"strong"`
		Method         string   `json:"method"`
		Baseline       string   `json:"baseline"`
		AcrossDatasets bool     `json:"across_datasets"`
		N              int      `json:"n"`
		NDatasets      int      `json:"n_datasets"`
		DeltaAcc       *float64 `json:"delta_acc_mean"`
		DeltaAccCILow  *float64 `json:"delta_acc_ci_low"`
		DeltaAccCIHigh *float64 `json:"delta_acc_ci_high"`
		DeltaPGR       *float64 `json:"delta_pgr"`
		P              *float64 `json:"p"`
		PExact         bool     `json:"p_exact"`
		PDraws         int      `json:"p_draws"`
		PHolm          *float64 `json:"p_holm"`
		HolmFamily     int      `json:"holm_family"`
		MinP           *float64 `json:"min_attainable_p"`
		Underpowered   bool     `json:"underpowered"`
		Balance        string   `json:"balance"`
		PGRMetric      Metric   `json:"pgr_metric"`
		DeltaScore     *float64 `json:"delta_score_mean"`
		DeltaScoreLow  *float64 `json:"delta_score_ci_low"`
		DeltaScoreHigh *float64 `json:"delta_score_ci_high"`
	}{c.Dataset, c.Weak, c.Strong, c.Method, c.Baseline, c.AcrossDatasets, c.N, c.NDatasets,
		finite(c.DeltaAcc), finite(c.DeltaAccCILow), finite(c.DeltaAccCIHigh), c.DeltaPGR,
		finite(c.P), c.PExact, c.PDraws, finite(c.PHolm), c.HolmFamily, finite(c.MinP), c.Underpowered,
		c.Balance, c.PGRMetric, finite(c.DeltaScore), finite(c.DeltaScoreCILow), finite(c.DeltaScoreCIHigh)})
}

// pairing is what CompareMethods collects for one method on one dataset ×
// weak × strong: per paired seed, both rows.
type pairing struct {
	key              cellKey
	method, baseline []store.Row
	deltaAcc         []float64
	deltaScore       []float64 // in the PGR metric
}

// CompareMethods compares every method other than baseline with baseline
// (see Comparison). Per-dataset rows come first, in order of first
// appearance of dataset × weak × strong × method, then one pooled row per
// weak × strong × method that has pairs on at least two datasets. A
// method's dataset × weak × strong is skipped when baseline has no rows
// there; a baseline absent from rows yields nil. When a cell has two rows
// for one seed, the first is used. An A/A null (IsAANull, e.g. naive@aa) is
// compared like any method and counts in the Holm family.
func CompareMethods(rows []store.Row, baseline string, opt Options) []Comparison {
	type pairKey struct {
		dataset, weak, strong string
		setting               setting
	}
	type seedKey struct {
		pairKey
		seed int64
	}
	base := map[seedKey]store.Row{}
	baseCells := map[pairKey]bool{}
	for _, r := range rows {
		if r.Method != baseline {
			continue
		}
		pk := pairKey{r.Dataset, r.Weak, r.Strong, rowSetting(r)}
		baseCells[pk] = true
		if _, dup := base[seedKey{pk, r.Seed}]; !dup {
			base[seedKey{pk, r.Seed}] = r
		}
	}
	if len(baseCells) == 0 {
		return nil
	}

	var order []cellKey
	pairs := map[cellKey]*pairing{}
	seen := map[cellKey]map[int64]bool{}
	for _, r := range rows {
		if r.Method == baseline {
			continue
		}
		pk := pairKey{r.Dataset, r.Weak, r.Strong, rowSetting(r)}
		if !baseCells[pk] {
			continue
		}
		k := cellKey{r.Dataset, r.Weak, r.Strong, r.Method, pk.setting}
		if pairs[k] == nil {
			pairs[k] = &pairing{key: k}
			seen[k] = map[int64]bool{}
			order = append(order, k)
		}
		if seen[k][r.Seed] {
			continue
		}
		seen[k][r.Seed] = true
		if b, ok := base[seedKey{pk, r.Seed}]; ok {
			p := pairs[k]
			p.method = append(p.method, r)
			p.baseline = append(p.baseline, b)
			p.deltaAcc = append(p.deltaAcc, r.W2SAcc-b.W2SAcc)
			_, _, rs := rowScores(r)
			_, _, bs := rowScores(b)
			p.deltaScore = append(p.deltaScore, rs-bs)
		}
	}

	threshold := opt.gapThreshold()
	out := make([]Comparison, 0, len(order))
	type poolKey struct {
		weak, strong, method string
		setting              setting
	}
	var poolOrder []poolKey
	pooled := map[poolKey][]int{} // indices into out
	for _, k := range order {
		p := pairs[k]
		c := Comparison{Dataset: k.dataset, Weak: k.weak, Strong: k.strong, Method: k.method,
			Baseline: baseline, N: len(p.deltaAcc), NDatasets: 1, Balance: k.setting.balance, PGRMetric: k.setting.metric}
		c.DeltaAcc, c.DeltaAccCILow, c.DeltaAccCIHigh = TInterval(p.deltaAcc, Confidence)
		c.DeltaScore, c.DeltaScoreCILow, c.DeltaScoreCIHigh = TInterval(p.deltaScore, Confidence)
		c.DeltaPGR = deltaPGR(p.method, p.baseline, threshold)
		if c.N > 0 {
			sf := SignFlipTest(p.deltaScore, seeds.Group(opt.Seed, append([]string{"signflip", k.dataset, k.weak, k.strong, k.method, baseline}, k.setting.seedParts()...)...), opt.PermutationDraws)
			c.P, c.PExact, c.PDraws, c.MinP = sf.P, sf.Exact, sf.Draws, sf.MinP
		} else {
			c.P, c.MinP = math.NaN(), math.NaN()
		}
		out = append(out, c)
		if c.N > 0 {
			pk := poolKey{k.weak, k.strong, k.method, k.setting}
			if _, ok := pooled[pk]; !ok {
				poolOrder = append(poolOrder, pk)
			}
			pooled[pk] = append(pooled[pk], len(out)-1)
		}
	}
	holmByTable(out, perDatasetTable)

	nPerDataset := len(out)
	for _, pk := range poolOrder {
		idx := pooled[pk]
		if len(idx) < 2 {
			continue
		}
		c := Comparison{Weak: pk.weak, Strong: pk.strong, Method: pk.method, Baseline: baseline,
			AcrossDatasets: true, NDatasets: len(idx), Balance: pk.setting.balance, PGRMetric: pk.setting.metric}
		strata := make([][]float64, len(idx))
		scoreStrata := make([][]float64, len(idx))
		pgrSum, pgrAll := 0.0, true
		for i, j := range idx {
			p := pairs[cellKey{out[j].Dataset, pk.weak, pk.strong, pk.method, pk.setting}]
			strata[i], scoreStrata[i] = p.deltaAcc, p.deltaScore
			c.N += len(strata[i])
			if d := out[j].DeltaPGR; d != nil {
				pgrSum += *d
			} else {
				pgrAll = false
			}
		}
		c.DeltaAcc, c.DeltaAccCILow, c.DeltaAccCIHigh = StratifiedTInterval(strata, Confidence)
		c.DeltaScore, c.DeltaScoreCILow, c.DeltaScoreCIHigh = StratifiedTInterval(scoreStrata, Confidence)
		if pgrAll {
			c.DeltaPGR = finite(pgrSum / float64(len(idx)))
		}
		sf := StratifiedSignFlipTest(scoreStrata, seeds.Group(opt.Seed, append([]string{"signflip-pooled", pk.weak, pk.strong, pk.method, baseline}, pk.setting.seedParts()...)...), opt.PermutationDraws)
		c.P, c.PExact, c.PDraws, c.MinP = sf.P, sf.Exact, sf.Draws, sf.MinP
		out = append(out, c)
	}
	holmByTable(out[nPerDataset:], pooledTable)
	return out
}

// tableKey names one comparison table: Holm's family.
type tableKey struct {
	dataset, weak, strong string
	setting               setting
}

// perDatasetTable and pooledTable are the Holm families: the per-dataset
// rows of one dataset × weak × strong, and the pooled rows of one weak ×
// strong, each under one balancing mode and PGR metric.
func perDatasetTable(c Comparison) tableKey {
	return tableKey{c.Dataset, c.Weak, c.Strong, setting{c.Balance, c.PGRMetric}}
}

func pooledTable(c Comparison) tableKey {
	return tableKey{"", c.Weak, c.Strong, setting{c.Balance, c.PGRMetric}}
}

// holmByTable adjusts P with Holm over the comparisons that share a table
// key, and sets HolmFamily and Underpowered.
func holmByTable(cs []Comparison, table func(Comparison) tableKey) {
	groups := map[tableKey][]int{}
	var order []tableKey
	for i, c := range cs {
		k := table(c)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		ps := make([]float64, len(idx))
		family := 0
		for i, j := range idx {
			ps[i] = cs[j].P
			if !math.IsNaN(ps[i]) {
				family++
			}
		}
		adj := Holm(ps)
		for i, j := range idx {
			cs[j].PHolm = adj[i]
			cs[j].HolmFamily = family
			cs[j].Underpowered = !math.IsNaN(cs[j].MinP) && math.Min(1, cs[j].MinP*float64(family)) > Alpha
		}
	}
}

// deltaPGR is the method's ratio-of-means PGR minus the baseline's over the
// paired seeds, nil when the baseline's gap does not clear the threshold
// (Summarize's rule).
func deltaPGR(method, baseline []store.Row, threshold float64) *float64 {
	n := len(method)
	switch n {
	case 0:
		return nil
	case 1:
		a, b := pgrOf(method[0]), pgrOf(baseline[0])
		if a == nil || b == nil {
			return nil
		}
		return finite(*a - *b)
	}
	gaps := make([]float64, n)
	for i, b := range baseline {
		floor, ceiling, _ := rowScores(b)
		gaps[i] = ceiling - floor
	}
	if _, lo, _ := TInterval(gaps, Confidence); !gapClears(lo, threshold) {
		return nil
	}
	ratio := func(rs []store.Row) float64 {
		gain, gap := 0.0, 0.0
		for _, r := range rs {
			floor, ceiling, w2s := rowScores(r)
			gain += w2s - floor
			gap += ceiling - floor
		}
		if !(gap > 0) {
			return math.NaN()
		}
		return gain / gap
	}
	return finite(ratio(method) - ratio(baseline))
}

// pgrOf is the row's PGR, nil for a "no gap" seed.
func pgrOf(r store.Row) *float64 {
	if r.NoGap {
		return nil
	}
	return r.PGR
}

// ComparisonReport is what a run writes to comparisons.json: every
// comparison, the A/A nulls' false-positive tallies and the settings that
// produced them.
type ComparisonReport struct {
	Baseline         string       `json:"baseline"`
	GapThreshold     float64      `json:"gap_threshold"`
	Alpha            float64      `json:"alpha"`
	ExactSignFlipMax int          `json:"exact_sign_flip_max"`
	PermutationDraws int          `json:"permutation_draws"`
	Comparisons      []Comparison `json:"comparisons"`
	AANull           []AANull     `json:"aa_null"`
	// Controls are the comparisons of gold-drawing methods with their
	// gold-matched controls (CompareControls), Verdicts what both tables
	// say together (issue 12).
	Controls []Comparison  `json:"controls"`
	Verdicts []GoldVerdict `json:"verdicts"`
}

// NewComparisonReport bundles comps (CompareMethods' output with opt) for
// comparisons.json.
func NewComparisonReport(comps []Comparison, baseline string, opt Options) ComparisonReport {
	draws := opt.PermutationDraws
	if draws <= 0 {
		draws = DefaultPermutationDraws
	}
	return ComparisonReport{Baseline: baseline, GapThreshold: opt.gapThreshold(), Alpha: Alpha,
		ExactSignFlipMax: ExactSignFlipMax, PermutationDraws: draws,
		Comparisons: comps, AANull: AAFalsePositives(comps, Alpha)}
}
