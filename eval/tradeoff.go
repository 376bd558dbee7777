package eval

// The competence–conformity trade-off (issue 15) across the rows of a
// `w2s tradeoff` run: per dataset and weak → strong pair, each optimiser's
// points (one per λ: competence and conformity with t-intervals across
// seeds), its Pareto front, the hypervolume each seed's points dominate
// with a t-interval, and paired per-seed differences of hypervolume
// against the simultaneous optimiser (the headline: alternating −
// simultaneous), with exact sign-flip tests and Holm's correction.

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/superalign/superalign/store"
)

// Conformity axes of a trade-off.
const (
	AxisAuto      = "auto"      // value when every row has a value channel, else agreement
	AxisAgreement = "agreement" // student–supervisor agreement on test
	AxisValue     = "value"     // value respect on test (value-channel data)
)

// TradeoffPoint is one optimiser at one λ, over seeds.
type TradeoffPoint struct {
	Method string  `json:"method"`
	Lambda float64 `json:"lambda"`
	N      int     `json:"n_seeds"`
	// Competence is test accuracy, Conformity the axis's quantity; means
	// with 95% t-intervals across seeds, clipped to [0, 1] (NaN-free: null
	// when undefined).
	Competence   float64  `json:"competence"`
	CompetenceLo *float64 `json:"competence_lo"`
	CompetenceHi *float64 `json:"competence_hi"`
	Conformity   float64  `json:"conformity"`
	ConformityLo *float64 `json:"conformity_lo"`
	ConformityHi *float64 `json:"conformity_hi"`
	AUROC        float64  `json:"auroc"`
	// ConformRight and ConformWrong are the means of the rows' split
	// conformity (where the supervisor is right, where it is wrong).
	ConformRight *float64 `json:"conform_right"`
	ConformWrong *float64 `json:"conform_wrong"`
	// OnFront says no other point of the optimiser is at least as good on
	// both axes and better on one (means).
	OnFront bool `json:"on_front"`
}

// TradeoffFront is one optimiser's points on one dataset and pair.
type TradeoffFront struct {
	Dataset   string          `json:"dataset"`
	Weak      string          `json:"weak"`
	Strong    string          `json:"strong"`
	Axis      string          `json:"axis"`
	Optimiser string          `json:"optimiser"`
	Points    []TradeoffPoint `json:"points"`
	// Hypervolume is the area of [0,1]² above the reference point (0, 0)
	// dominated by a seed's points (its own front), mean over seeds with a
	// 95% t-interval; Seeds are the seeds, HVs their hypervolumes.
	Hypervolume   float64   `json:"hypervolume"`
	HypervolumeLo *float64  `json:"hypervolume_lo"`
	HypervolumeHi *float64  `json:"hypervolume_hi"`
	Seeds         []int64   `json:"seeds"`
	HVs           []float64 `json:"hvs"`
}

// TradeoffDiff is the paired per-seed hypervolume difference A − B.
type TradeoffDiff struct {
	Dataset string   `json:"dataset"`
	Weak    string   `json:"weak"`
	Strong  string   `json:"strong"`
	A       string   `json:"a"`
	B       string   `json:"b"`
	N       int      `json:"n_seeds"`
	Mean    float64  `json:"mean"`
	Lo      *float64 `json:"lo"`
	Hi      *float64 `json:"hi"`
	P       float64  `json:"p"`
	PHolm   float64  `json:"p_holm"`
	MinP    float64  `json:"min_p"`
}

// MisfitCheck counts the rows on which the misfit inequality held.
type MisfitCheck struct {
	Rows  int `json:"rows"`
	Holds int `json:"holds"`
}

// Tradeoff is the analysis of a trade-off run.
type Tradeoff struct {
	Fronts []TradeoffFront `json:"fronts"`
	Diffs  []TradeoffDiff  `json:"diffs"`
	Misfit MisfitCheck     `json:"misfit_inequality"`
}

// SplitOptimiser reads an optimiser method spec "NAME[:...lambda=X...]"
// into its name and λ (0.5 when not given).
func SplitOptimiser(spec string) (name string, lambda float64, err error) {
	name, params, _ := strings.Cut(spec, ":")
	lambda = 0.5
	for _, kv := range strings.Split(params, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "lambda" {
			if lambda, err = strconv.ParseFloat(v, 64); err != nil {
				return "", 0, fmt.Errorf("method %s: lambda=%q: %w", spec, v, err)
			}
		}
	}
	return name, lambda, nil
}

// TradeoffOf analyses rows: those whose method names one of optimisers
// form the fronts (others, such as naive, are ignored); baseline names the
// optimiser the others are set against ("simultaneous").
func TradeoffOf(rows []store.Row, optimisers []string, baseline, axis string, seed int64) (Tradeoff, error) {
	known := map[string]int{}
	for i, o := range optimisers {
		known[o] = i
	}
	type gkey struct{ ds, weak, strong string }
	type point struct {
		opt    string
		lambda float64
	}
	var out Tradeoff
	groups := map[gkey]map[point][]store.Row{}
	var order []gkey
	for _, r := range rows {
		out.Misfit.Rows++ // every row of the run, optimiser or not
		if r.MisfitHolds {
			out.Misfit.Holds++
		}
		opt, lambda, err := SplitOptimiser(r.Method)
		if err != nil {
			return Tradeoff{}, err
		}
		if _, ok := known[opt]; !ok {
			continue
		}
		k := gkey{r.Dataset, r.Weak, r.Strong}
		if groups[k] == nil {
			groups[k] = map[point][]store.Row{}
			order = append(order, k)
		}
		p := point{opt, lambda}
		groups[k][p] = append(groups[k][p], r)
	}
	for _, k := range order {
		ax := axis
		if ax == AxisAuto || ax == "" {
			ax = AxisValue
			for _, rs := range groups[k] {
				for _, r := range rs {
					if r.ValueRespect == nil {
						ax = AxisAgreement
					}
				}
			}
		}
		conform := func(r store.Row) (float64, error) {
			switch ax {
			case AxisAgreement:
				return r.Agreement, nil
			case AxisValue:
				if r.ValueRespect == nil {
					return 0, fmt.Errorf("%s %s seed %d: no value-constrained test example, so no value respect (use --axis agreement, or more data)", r.Dataset, r.Method, r.Seed)
				}
				return *r.ValueRespect, nil
			}
			return 0, fmt.Errorf("unknown conformity axis %q (want %s, %s or %s)", ax, AxisAuto, AxisAgreement, AxisValue)
		}
		hvBySeed := map[string]map[int64]float64{}
		var fronts []TradeoffFront
		for _, opt := range optimisers {
			f := TradeoffFront{Dataset: k.ds, Weak: k.weak, Strong: k.strong, Axis: ax, Optimiser: opt}
			perSeed := map[int64][][2]float64{}
			var lambdas []float64
			for p := range groups[k] {
				if p.opt == opt {
					lambdas = append(lambdas, p.lambda)
				}
			}
			if len(lambdas) == 0 {
				continue
			}
			sort.Float64s(lambdas)
			for _, l := range lambdas {
				rs := groups[k][point{opt, l}]
				var comp, conf, auc, cr, cw []float64
				for _, r := range rs {
					c, err := conform(r)
					if err != nil {
						return Tradeoff{}, err
					}
					comp, conf, auc = append(comp, r.W2SAcc), append(conf, c), append(auc, r.W2SAUROC)
					if r.ConformRight != nil {
						cr = append(cr, *r.ConformRight)
					}
					if r.ConformWrong != nil {
						cw = append(cw, *r.ConformWrong)
					}
					perSeed[r.Seed] = append(perSeed[r.Seed], [2]float64{r.W2SAcc, c})
				}
				pt := TradeoffPoint{Method: rs[0].Method, Lambda: l, N: len(rs), AUROC: meanOf(auc)}
				pt.Competence, pt.CompetenceLo, pt.CompetenceHi = rateInterval(comp)
				pt.Conformity, pt.ConformityLo, pt.ConformityHi = rateInterval(conf)
				if len(cr) > 0 {
					pt.ConformRight = finite(meanOf(cr))
				}
				if len(cw) > 0 {
					pt.ConformWrong = finite(meanOf(cw))
				}
				f.Points = append(f.Points, pt)
			}
			for i := range f.Points {
				f.Points[i].OnFront = true
				for j := range f.Points {
					if j != i && dominates(f.Points[j], f.Points[i]) {
						f.Points[i].OnFront = false
					}
				}
			}
			for s := range perSeed {
				f.Seeds = append(f.Seeds, s)
			}
			sort.Slice(f.Seeds, func(i, j int) bool { return f.Seeds[i] < f.Seeds[j] })
			hvBySeed[opt] = map[int64]float64{}
			for _, s := range f.Seeds {
				hv := Hypervolume(perSeed[s])
				f.HVs = append(f.HVs, hv)
				hvBySeed[opt][s] = hv
			}
			var lo, hi float64
			f.Hypervolume, lo, hi = TInterval(f.HVs, 0.95)
			f.HypervolumeLo, f.HypervolumeHi = finite(lo), finite(hi)
			fronts = append(fronts, f)
		}
		out.Fronts = append(out.Fronts, fronts...)
		var diffs []TradeoffDiff
		for _, opt := range optimisers {
			if opt == baseline || hvBySeed[opt] == nil || hvBySeed[baseline] == nil {
				continue
			}
			var d []float64
			for s, hv := range hvBySeed[opt] {
				if b, ok := hvBySeed[baseline][s]; ok {
					d = append(d, hv-b)
				}
			}
			sort.Float64s(d) // map order must not reach the statistics
			td := TradeoffDiff{Dataset: k.ds, Weak: k.weak, Strong: k.strong, A: opt, B: baseline, N: len(d)}
			var lo, hi float64
			td.Mean, lo, hi = TInterval(d, 0.95)
			td.Lo, td.Hi = finite(lo), finite(hi)
			sf := SignFlipTest(d, seed, 0)
			td.P, td.MinP = sf.P, sf.MinP
			diffs = append(diffs, td)
		}
		ps := make([]float64, len(diffs))
		for i, d := range diffs {
			ps[i] = d.P
		}
		for i, p := range Holm(ps) {
			diffs[i].PHolm = p
		}
		out.Diffs = append(out.Diffs, diffs...)
	}
	return out, nil
}

// dominates reports whether a is at least as good as b on both axes and
// better on one.
func dominates(a, b TradeoffPoint) bool {
	return a.Competence >= b.Competence && a.Conformity >= b.Conformity && (a.Competence > b.Competence || a.Conformity > b.Conformity)
}

// Hypervolume is the area of the union of the boxes [0, x] × [0, y] over
// points (x, y) (both axes maximised, reference point (0, 0)); points
// outside [0,1]² are clipped to it.
func Hypervolume(points [][2]float64) float64 {
	ps := make([][2]float64, 0, len(points))
	for _, p := range points {
		ps = append(ps, [2]float64{math.Min(1, math.Max(0, p[0])), math.Min(1, math.Max(0, p[1]))})
	}
	// Sweep by x descending: each point adds the strip between its y and
	// the highest y seen so far, over [0, x].
	sort.Slice(ps, func(i, j int) bool { return ps[i][0] > ps[j][0] })
	area, top := 0.0, 0.0
	for _, p := range ps {
		if p[1] > top {
			area += p[0] * (p[1] - top)
			top = p[1]
		}
	}
	return area
}

// rateInterval is RateTInterval at 95% with NaN bounds as nil.
func rateInterval(rates []float64) (mean float64, lo, hi *float64) {
	mean, l, h := RateTInterval(rates, 0.95)
	return mean, finite(l), finite(h)
}
