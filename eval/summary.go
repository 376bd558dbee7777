package eval

import (
	"encoding/json"
	"hash/fnv"
	"math"

	"github.com/superalign/superalign/store"
)

// cellKey names one dataset × weak × strong × method cell.
type cellKey struct{ dataset, weak, strong, method string }

// groupSeed derives the bootstrap seed of one group from the caller's seed and
// the group's name, so that a group's CI does not change when other groups are
// added to or removed from the run.
func groupSeed(seed int64, parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0}) // separator: ("ab","c") ≠ ("a","bc")
	}
	return int64(h.Sum64() ^ uint64(seed)*0x9E3779B97F4A7C15)
}

// Summarize aggregates results rows over seeds, one store.Summary per
// dataset × weak × strong × method in order of first appearance.
//
// Accuracies and PGR get a mean with a 95% bootstrap CI across seeds
// (MeanCI, DefaultResamples). The PGR mean uses only the seeds that have a
// PGR; NSeedsNoGap counts the others, and the PGR fields stay nil when every
// seed was "no gap". AUROC, agreement, misfit, inheritance and correction get
// plain means. The bootstrap seed of each group is derived from seed and the
// group's name, so the output is a pure function of (rows, seed).
func Summarize(rows []store.Row, seed int64) []store.Summary {
	var order []cellKey
	groups := map[cellKey][]store.Row{}
	for _, r := range rows {
		k := cellKey{r.Dataset, r.Weak, r.Strong, r.Method}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}

	out := make([]store.Summary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		gs := groupSeed(seed, k.dataset, k.weak, k.strong, k.method)
		s := store.Summary{Dataset: k.dataset, Weak: k.weak, Strong: k.strong, Method: k.method, NSeeds: len(g)}

		var pgr, w2s, floor, ceil, auroc, agree, misfit, inh, corr []float64
		for _, r := range g {
			if r.PGR != nil && !r.NoGap {
				pgr = append(pgr, *r.PGR)
			} else {
				s.NSeedsNoGap++
			}
			w2s = append(w2s, r.W2SAcc)
			floor = append(floor, r.FloorAcc)
			ceil = append(ceil, r.CeilingAcc)
			auroc = append(auroc, r.W2SAUROC)
			agree = append(agree, r.Agreement)
			misfit = append(misfit, r.Misfit)
			inh = append(inh, r.Inheritance)
			corr = append(corr, r.Correction)
		}
		s.W2SAccMean, s.W2SAccCILow, s.W2SAccCIHigh = MeanCI(w2s, gs, DefaultResamples)
		// Floor and ceiling are shared by every method of a pair, so their
		// CIs come from a stream that ignores the method: the same numbers
		// print the same on every method's line.
		ps := groupSeed(seed, k.dataset, k.weak, k.strong, "")
		s.FloorAccMean, s.FloorAccCILow, s.FloorAccCIHigh = MeanCI(floor, ps, DefaultResamples)
		s.CeilingAccMean, s.CeilingAccCILow, s.CeilingAccCIHigh = MeanCI(ceil, ps, DefaultResamples)
		switch {
		case s.CeilingAccMean-s.FloorAccMean < DefaultGapThreshold-gapTol:
			// A few seeds may clear the threshold by chance; when the mean
			// ceiling does not clear the mean floor, no PGR is meaningful.
			s.NoGap = true
		case len(pgr) == 1:
			// One seed: an across-seed CI would be a point; report that
			// seed's paired bootstrap CI over test examples instead.
			for _, r := range g {
				if r.PGR != nil && !r.NoGap {
					s.PGRMean, s.PGRCILow, s.PGRCIHigh = r.PGR, r.PGRCILow, r.PGRCIHigh
				}
			}
		case len(pgr) > 1:
			m, lo, hi := MeanCI(pgr, gs, DefaultResamples)
			s.PGRMean, s.PGRCILow, s.PGRCIHigh = &m, &lo, &hi
		}
		s.W2SAUROCMean = meanOf(auroc)
		s.AgreementMean = meanOf(agree)
		s.MisfitMean = meanOf(misfit)
		s.InheritanceMean = meanOf(inh)
		s.CorrectionMean = meanOf(corr)
		out = append(out, s)
	}
	return out
}

// Comparison is one method's PGR against a baseline's.
//
// Per-dataset rows (AcrossDatasets false) pair the two methods' rows of one
// dataset × weak × strong by seed, over the seeds where both have a PGR: N is
// the number of such pairs, MeanDiff the mean of method − baseline PGR and
// CILow/CIHigh its paired bootstrap 95% CI (PairedDiffCI). Wilcoxon fields are
// NaN there.
//
// Pooled rows (AcrossDatasets true, Dataset "") take, for one weak × strong
// pair, the per-dataset MeanDiffs of the datasets with N > 0: N is the number
// of datasets, MeanDiff their mean with a 95% bootstrap CI across datasets
// (MeanCI), and WilcoxonW/WilcoxonP the two-sided signed-rank test on them.
// With fewer than two datasets the test is not run and both are NaN.
//
// Undefined numbers are NaN in Go and null in JSON.
type Comparison struct {
	Dataset        string
	Weak, Strong   string
	Method         string
	Baseline       string
	AcrossDatasets bool
	N              int

	MeanDiff, CILow, CIHigh float64
	WilcoxonW, WilcoxonP    float64
}

// MarshalJSON writes NaN numbers as null, which encoding/json cannot do by itself.
func (c Comparison) MarshalJSON() ([]byte, error) {
	num := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	return json.Marshal(struct {
		Dataset        string   `json:"dataset"`
		Weak           string   `json:"weak"`
		Strong         string   `json:"strong"`
		Method         string   `json:"method"`
		Baseline       string   `json:"baseline"`
		AcrossDatasets bool     `json:"across_datasets"`
		N              int      `json:"n"`
		MeanDiff       *float64 `json:"pgr_diff_mean"`
		CILow          *float64 `json:"pgr_diff_ci_low"`
		CIHigh         *float64 `json:"pgr_diff_ci_high"`
		WilcoxonW      *float64 `json:"wilcoxon_w"`
		WilcoxonP      *float64 `json:"wilcoxon_p"`
	}{c.Dataset, c.Weak, c.Strong, c.Method, c.Baseline, c.AcrossDatasets, c.N,
		num(c.MeanDiff), num(c.CILow), num(c.CIHigh), num(c.WilcoxonW), num(c.WilcoxonP)})
}

// CompareMethods compares every method other than baseline with baseline on
// PGR (see Comparison). Per-dataset rows come first, in order of first
// appearance of dataset × weak × strong × method, then one pooled row per
// weak × strong × method. A method's dataset × weak × strong is skipped when
// baseline has no rows there; a baseline absent from rows yields nil. When a
// cell has two rows for one seed, the first is used.
func CompareMethods(rows []store.Row, baseline string, seed int64) []Comparison {
	type pairKey struct{ dataset, weak, strong string }
	type seedKey struct {
		pairKey
		seed int64
	}
	base := map[seedKey]*float64{} // nil value: baseline seed with no PGR
	baseCells := map[pairKey]bool{}
	for _, r := range rows {
		if r.Method != baseline {
			continue
		}
		pk := pairKey{r.Dataset, r.Weak, r.Strong}
		baseCells[pk] = true
		sk := seedKey{pk, r.Seed}
		if _, dup := base[sk]; !dup {
			base[sk] = pgrOf(r)
		}
	}
	if len(baseCells) == 0 {
		return nil
	}

	var order []cellKey
	seen := map[cellKey]map[int64]bool{}
	diffsA := map[cellKey][]float64{}
	diffsB := map[cellKey][]float64{}
	for _, r := range rows {
		if r.Method == baseline {
			continue
		}
		pk := pairKey{r.Dataset, r.Weak, r.Strong}
		if !baseCells[pk] {
			continue
		}
		k := cellKey{r.Dataset, r.Weak, r.Strong, r.Method}
		if seen[k] == nil {
			seen[k] = map[int64]bool{}
			order = append(order, k)
		}
		if seen[k][r.Seed] {
			continue
		}
		seen[k][r.Seed] = true
		b, ok := base[seedKey{pk, r.Seed}]
		if a := pgrOf(r); ok && a != nil && b != nil {
			diffsA[k] = append(diffsA[k], *a)
			diffsB[k] = append(diffsB[k], *b)
		}
	}

	type poolKey struct{ weak, strong, method string }
	var poolOrder []poolKey
	pooled := map[poolKey][]float64{}
	out := make([]Comparison, 0, len(order))
	for _, k := range order {
		c := Comparison{Dataset: k.dataset, Weak: k.weak, Strong: k.strong, Method: k.method,
			Baseline: baseline, N: len(diffsA[k]), WilcoxonW: math.NaN(), WilcoxonP: math.NaN()}
		c.MeanDiff, c.CILow, c.CIHigh = PairedDiffCI(diffsA[k], diffsB[k],
			groupSeed(seed, "compare", k.dataset, k.weak, k.strong, k.method, baseline), DefaultResamples)
		out = append(out, c)

		pk := poolKey{k.weak, k.strong, k.method}
		if _, ok := pooled[pk]; !ok {
			poolOrder = append(poolOrder, pk)
			pooled[pk] = nil
		}
		if c.N > 0 {
			pooled[pk] = append(pooled[pk], c.MeanDiff)
		}
	}
	for _, pk := range poolOrder {
		d := pooled[pk]
		c := Comparison{Weak: pk.weak, Strong: pk.strong, Method: pk.method, Baseline: baseline,
			AcrossDatasets: true, N: len(d), WilcoxonW: math.NaN(), WilcoxonP: math.NaN()}
		c.MeanDiff, c.CILow, c.CIHigh = MeanCI(d,
			groupSeed(seed, "compare-pooled", pk.weak, pk.strong, pk.method, baseline), DefaultResamples)
		if len(d) >= 2 {
			c.WilcoxonW, c.WilcoxonP = WilcoxonSignedRank(d)
		}
		out = append(out, c)
	}
	return out
}

// pgrOf is the row's PGR, nil for a "no gap" seed.
func pgrOf(r store.Row) *float64 {
	if r.NoGap {
		return nil
	}
	return r.PGR
}
