package eval

import (
	"math"

	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/store"
)

// cellKey names one dataset × weak × strong × method cell under one
// balancing mode and PGR metric: rows that differ in either are never
// pooled or paired.
type cellKey struct {
	dataset, weak, strong, method string
	setting                       setting
}

// setting is what a row was computed under beyond its cell: the balancing
// mode and the PGR metric.
type setting struct {
	balance string
	metric  Metric
}

// rowSetting is r's setting, with the defaults ("undersample",
// "accuracy") for the empty fields of rows written before the choice.
func rowSetting(r store.Row) setting {
	st := setting{balance: r.Balance, metric: Metric(r.PGRMetric)}
	if st.balance == "" {
		st.balance = "undersample"
	}
	if st.metric == "" {
		st.metric = MetricAccuracy
	}
	return st
}

// seedParts are the setting's words in a group's bootstrap seed: none for
// the defaults, so that their seeds, and every CI of a default run, are
// those computed before the choice existed.
func (st setting) seedParts() []string {
	if st.balance == "undersample" && st.metric == MetricAccuracy {
		return nil
	}
	return []string{"balance=" + st.balance, "metric=" + string(st.metric)}
}

// rowScores are r's floor, ceiling and w2s in its PGR metric (the
// accuracies for accuracy, and for rows written before the choice).
func rowScores(r store.Row) (floor, ceiling, w2s float64) {
	if rowSetting(r).metric == MetricAccuracy {
		return r.FloorAcc, r.CeilingAcc, r.W2SAcc
	}
	return r.FloorScore, r.CeilingScore, r.W2SScore
}

// Options are the settings of Summarize and CompareMethods. The zero value
// is usable: every field falls back to its default.
type Options struct {
	// Seed seeds every bootstrap and Monte Carlo draw (runs pass their
	// first seed); each group derives its own stream from it and its name.
	Seed int64
	// GapThreshold is the smallest weak–strong gap (ceiling − floor in
	// the rows' PGR metric, accuracy by default; one threshold for every
	// metric) the gap's lower 95% bound must reach for a PGR to be
	// reported, as in results rows: 0 means DefaultGapThreshold, a
	// negative value accepts any positive bound. `w2s run --gap-threshold`
	// sets it.
	GapThreshold float64
	// Resamples is the number of bootstrap resamples (≤ 0: DefaultResamples).
	Resamples int
	// PermutationDraws is the number of random sign assignments of a Monte
	// Carlo sign-flip test (≤ 0: DefaultPermutationDraws).
	PermutationDraws int
}

func (o Options) gapThreshold() float64 {
	if o.GapThreshold == 0 {
		return DefaultGapThreshold
	}
	return o.GapThreshold
}

// gapClears is PGR's rule for a gap: positive and at least threshold (less
// rounding noise).
func gapClears(gap, threshold float64) bool {
	return gap > 0 && gap >= threshold-gapTol
}

// Summarize aggregates results rows over seeds, one store.Summary per
// dataset × weak × strong × method × balancing mode × PGR metric in order
// of first appearance.
//
// The gap, PGR and the *Score* intervals are on the rows' PGR metric
// (store.Row.PGRMetric; accuracy by default, where they equal the
// accuracy fields).
//
// Accuracies get their mean with a 95% Student t-interval across seeds
// (TInterval; one seed: the point). PGR is the ratio of means
// Σ(w2s − floor)/Σ(ceiling − floor) over every seed, with a 95% bootstrap
// that resamples whole seeds (RatioOfMeansCI); it is reported only when the
// lower 95% t-bound of the per-seed gap clears opt's threshold, else the
// summary is NoGap with nil PGR fields. With one seed, that seed's gap must
// clear the threshold and its row have a PGR, whose test-example bootstrap
// CI is used.
// AUROC, agreement, misfit, inheritance and correction get plain means.
// Each group's bootstrap seed is derived from opt.Seed and the group's name,
// so the output is a pure function of (rows, opt) and a group's numbers do
// not move when other groups are added.
//
// Worked example (TestSummarizeRatioOfMeans): three seeds with floor 0.60,
// ceilings 0.80, 0.70, 0.90 and students 0.70, 0.64, 0.81 have gains 0.10,
// 0.04, 0.21 over gaps 0.20, 0.10, 0.30: PGR = 0.35/0.60 = 0.583, where the
// mean of per-seed ratios would say (0.5 + 0.4 + 0.7)/3 = 0.533. The gap's
// t-interval is 0.2 ± 4.303·0.0577 = [−0.048, 0.448]: its lower bound does
// not clear 0.02, so with three seeds this reads "no gap".
func Summarize(rows []store.Row, opt Options) []store.Summary {
	threshold := opt.gapThreshold()
	var order []cellKey
	groups := map[cellKey][]store.Row{}
	for _, r := range rows {
		k := cellKey{r.Dataset, r.Weak, r.Strong, r.Method, rowSetting(r)}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}

	out := make([]store.Summary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		gs := seeds.Group(opt.Seed, append([]string{k.dataset, k.weak, k.strong, k.method}, k.setting.seedParts()...)...)
		s := store.Summary{Dataset: k.dataset, Weak: k.weak, Strong: k.strong, Method: k.method,
			NSeeds: len(g), GapThreshold: threshold, Balance: k.setting.balance, PGRMetric: string(k.setting.metric),
			Classes: g[0].Classes, ClassCountsTrainWeak: g[0].ClassCountsTrainWeak,
			ClassCountsTrainStrong: g[0].ClassCountsTrainStrong, ClassCountsTest: g[0].ClassCountsTest}

		var gain, gap, w2s, floor, ceil, auroc, agree, misfit, inh, corr []float64
		var floorScore, ceilScore, w2sScore, weakECE, trainedECE, temperature []float64
		s.GoldFeatures = g[0].GoldFeatures
		for _, r := range g {
			s.GoldUsed, s.GoldStrong = max(s.GoldUsed, r.GoldUsed), max(s.GoldStrong, r.GoldStrong)
			if r.PGR == nil || r.NoGap {
				s.NSeedsNoGap++
			}
			fs, cs, ws := rowScores(r)
			gain = append(gain, ws-fs)
			gap = append(gap, cs-fs)
			floorScore, ceilScore, w2sScore = append(floorScore, fs), append(ceilScore, cs), append(w2sScore, ws)
			for _, p := range []struct {
				v  *float64
				to *[]float64
			}{{r.WeakECE, &weakECE}, {r.TrainedECE, &trainedECE}, {r.WeakTemperature, &temperature}} {
				if p.v != nil {
					*p.to = append(*p.to, *p.v)
				}
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
		s.W2SAccMean, s.W2SAccCILow, s.W2SAccCIHigh = seedInterval(w2s)
		s.FloorAccMean, s.FloorAccCILow, s.FloorAccCIHigh = seedInterval(floor)
		s.CeilingAccMean, s.CeilingAccCILow, s.CeilingAccCIHigh = seedInterval(ceil)
		s.W2SScoreMean, s.W2SScoreCILow, s.W2SScoreCIHigh = seedInterval(w2sScore)
		s.FloorScoreMean, s.FloorScoreCILow, s.FloorScoreCIHigh = seedInterval(floorScore)
		s.CeilingScoreMean, s.CeilingScoreCILow, s.CeilingScoreCIHigh = seedInterval(ceilScore)
		s.WeakECEMean, s.TrainedECEMean, s.WeakTemperatureMean = meanOrNil(weakECE), meanOrNil(trainedECE), meanOrNil(temperature)

		sp := PGROverSeeds(gain, gap, threshold, gs, opt.Resamples)
		s.GapMean, s.GapCILow, s.GapCIHigh = sp.GapMean, finite(sp.GapCILow), finite(sp.GapCIHigh)
		s.NoGap, s.PGRMean, s.PGRCILow, s.PGRCIHigh = sp.NoGap, finite(sp.PGR), finite(sp.PGRCILow), finite(sp.PGRCIHigh)
		s.PGRBootstrapNoGap = sp.BootstrapNoGap
		if r := g[0]; len(g) == 1 && !sp.NoGap {
			// One seed: the row's paired bootstrap CI over test examples
			// stands, and a row without a PGR has none to summarise.
			s.PGRMean, s.PGRCILow, s.PGRCIHigh = r.PGR, r.PGRCILow, r.PGRCIHigh
			if r.PGR == nil || r.NoGap {
				s.NoGap, s.PGRMean, s.PGRCILow, s.PGRCIHigh = true, nil, nil, nil
			}
		}
		s.Preference = preferenceSummary(g)
		s.W2SAUROCMean = meanOf(auroc)
		s.AgreementMean = meanOf(agree)
		s.MisfitMean = meanOf(misfit)
		s.InheritanceMean = meanOf(inh)
		s.CorrectionMean = meanOf(corr)
		out = append(out, s)
	}
	return out
}

// SeedsPGR is the across-seed PGR of one setting (PGROverSeeds): plain
// numbers, NaN where there is no value.
type SeedsPGR struct {
	// GapMean and its 95% t-interval across seeds (NaN bounds with one
	// seed: no spread to estimate).
	GapMean, GapCILow, GapCIHigh float64
	NoGap                        bool
	// PGR and its CI: NaN when NoGap; the CI also with one seed.
	PGR, PGRCILow, PGRCIHigh float64
	// BootstrapNoGap counts bootstrap resamples whose summed gap was not
	// positive (RatioOfMeansCI's degenerate count).
	BootstrapNoGap int
}

// PGROverSeeds is the summary rule for PGR over paired seeds, shared by
// run and sweep summaries (Summarize) and oversight tables: gain[i] =
// w2s − floor and gap[i] = ceiling − floor of seed i, on one metric.
// PGR is the ratio of means Σgain/Σgap with a 95% bootstrap over whole
// seeds (RatioOfMeansCI, seeded by seed); it is reported only when the
// lower 95% t-bound of the gap clears threshold, else NoGap. With one seed
// that seed's gap must clear the threshold and PGR is its ratio, without a
// CI (the caller may have a per-example one).
func PGROverSeeds(gain, gap []float64, threshold float64, seed int64, resamples int) SeedsPGR {
	nan := math.NaN()
	out := SeedsPGR{PGR: nan, PGRCILow: nan, PGRCIHigh: nan}
	out.GapMean, out.GapCILow, out.GapCIHigh = TInterval(gap, Confidence)
	switch {
	case len(gap) == 0:
		out.NoGap = true
	case len(gap) == 1:
		if !gapClears(gap[0], threshold) {
			out.NoGap = true
		} else {
			out.PGR = gain[0] / gap[0]
		}
	case !gapClears(out.GapCILow, threshold):
		// A bound below the threshold (or NaN: no spread could be
		// estimated) means the data do not show a gap to recover.
		out.NoGap = true
	default:
		out.PGR, out.PGRCILow, out.PGRCIHigh, out.BootstrapNoGap = RatioOfMeansCI(gain, gap, seed, resamples)
	}
	return out
}

// meanOrNil is the mean of xs, nil when there are none (rows written before
// a field existed).
func meanOrNil(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	return finite(meanOf(xs))
}

// seedInterval is the mean and 95% t-interval across seeds of an accuracy;
// with one seed the interval is the point (summary.json holds numbers, and
// one seed has no spread across seeds to show).
func seedInterval(xs []float64) (mean, lo, hi float64) {
	mean, lo, hi = TInterval(xs, Confidence)
	if len(xs) == 1 {
		lo, hi = mean, mean
	}
	return mean, lo, hi
}

// finite returns &x, or nil for NaN and ±Inf (JSON null).
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// preferenceSummary aggregates the preference fields of one setting's rows
// (nil when they are not preference rows). Best-of-n intervals are Student
// t-intervals across seeds, over the seeds that had groups.
func preferenceSummary(g []store.Row) *store.PreferenceSummary {
	if len(g) == 0 || g[0].Task != "preference" {
		return nil
	}
	var p store.PreferenceSummary
	var fe, ce, we, bf, bc, bw, gain []float64
	for _, r := range g {
		for _, x := range []struct {
			v  *float64
			to *[]float64
		}{{r.FloorECE, &fe}, {r.CeilingECE, &ce}, {r.W2SECE, &we}} {
			if x.v != nil {
				*x.to = append(*x.to, *x.v)
			}
		}
		if r.BoNFloor != nil && r.BoNCeiling != nil && r.BoNW2S != nil {
			if p.BestOfN == 0 {
				p.BestOfN, p.BoNGroups = r.BestOfN, r.BoNGroups
			}
			bf, bc, bw = append(bf, *r.BoNFloor), append(bc, *r.BoNCeiling), append(bw, *r.BoNW2S)
			gain = append(gain, *r.BoNW2S-*r.BoNFloor)
		}
	}
	p.FloorECEMean, p.CeilingECEMean, p.W2SECEMean = meanOf(fe), meanOf(ce), meanOf(we)
	if len(bw) > 0 {
		p.BoNFloorMean, p.BoNFloorCILow, p.BoNFloorCIHigh = seedInterval(bf)
		p.BoNCeilingMean, p.BoNCeilingCILow, p.BoNCeilingCIHigh = seedInterval(bc)
		p.BoNW2SMean, p.BoNW2SCILow, p.BoNW2SCIHigh = seedInterval(bw)
		p.BoNGainMean, p.BoNGainCILow, p.BoNGainCIHigh = seedInterval(gain)
	}
	return &p
}
