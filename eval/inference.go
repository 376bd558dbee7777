package eval

import (
	"math"
	"math/bits"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the level of every interval this package reports.
const Confidence = 0.95

// Alpha is the significance level of the underpowered flag and of the A/A
// false-positive count, 1 − Confidence.
const Alpha = 0.05

// ExactSignFlipMax is the largest number of differences whose sign-flip
// test enumerates all 2^n sign assignments; above it the test draws random
// assignments (Monte Carlo).
const ExactSignFlipMax = 20

// DefaultPermutationDraws is the number of random sign assignments of a
// Monte Carlo sign-flip test when the caller passes zero or a negative
// count. Its p-value resolution is 1/(DefaultPermutationDraws+1) ≈ 1e-5.
const DefaultPermutationDraws = 100_000

// tQuantile is the q-quantile of Student's t distribution with df degrees
// of freedom (df may be fractional, as Welch–Satterthwaite gives). gonum's
// inverse incomplete beta is good to about 1e-9; two Newton steps on its
// CDF, which is accurate to rounding, bring the quantile to about 1e-15
// (scipy's values to the last digit or two).
func tQuantile(q, df float64) float64 {
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	x := t.Quantile(q)
	for range 2 {
		if d := t.Prob(x); d > 0 {
			x -= (t.CDF(x) - q) / d
		}
	}
	return x
}

// TInterval returns the mean of values and its two-sided Student t-interval
// at level (e.g. 0.95): mean ± t_{(1+level)/2, n−1} · s/√n, with s the
// sample standard deviation (n − 1 in the denominator). This is the interval
// scipy.stats.t.interval(level, n−1, loc=mean, scale=sem) gives. It assumes
// roughly normal values; across seeds (one value per seed) it covers at the
// stated level where a percentile bootstrap of 5 values covers about 85%.
// With one value lo and hi are NaN (no spread to estimate); with none all
// three are NaN; constant values give lo = hi = mean.
func TInterval(values []float64, level float64) (mean, lo, hi float64) {
	n := len(values)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	mean = meanOf(values)
	if n == 1 {
		return mean, math.NaN(), math.NaN()
	}
	se := math.Sqrt(sampleVariance(values, mean) / float64(n))
	if se == 0 {
		return mean, mean, mean
	}
	h := tQuantile((1+level)/2, float64(n-1)) * se
	return mean, mean - h, mean + h
}

// RateTInterval is TInterval for a rate (accuracy, agreement, value
// respect), its bounds clipped to [0, 1]: with few seeds and one of them at
// 1.0 the symmetric interval runs past what a rate can be. NaN bounds stay
// NaN.
func RateTInterval(rates []float64, level float64) (mean, lo, hi float64) {
	mean, lo, hi = TInterval(rates, level)
	if !math.IsNaN(lo) {
		lo, hi = math.Max(lo, 0), math.Min(hi, 1)
	}
	return mean, lo, hi
}

// StratifiedTInterval is TInterval for a stratified mean: the estimate is
// the unweighted mean over strata of each stratum's mean, its variance
// Σ s_d²/n_d / D², and the degrees of freedom Welch–Satterthwaite's,
// (Σ a_d)² / Σ a_d²/(n_d − 1) with a_d = s_d²/n_d. With one stratum it is
// TInterval. Empty strata are skipped; a stratum of one value leaves the
// interval NaN (its variance is unknown). Constant strata give lo = hi.
func StratifiedTInterval(strata [][]float64, level float64) (mean, lo, hi float64) {
	var means, a, dfTerms []float64
	for _, s := range strata {
		if len(s) == 0 {
			continue
		}
		m := meanOf(s)
		means = append(means, m)
		if len(s) == 1 {
			a = append(a, math.NaN())
			continue
		}
		ad := sampleVariance(s, m) / float64(len(s))
		a = append(a, ad)
		dfTerms = append(dfTerms, ad*ad/float64(len(s)-1))
	}
	d := len(means)
	if d == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	mean = meanOf(means)
	sumA, sumDF := 0.0, 0.0
	for _, x := range a {
		sumA += x
	}
	for _, x := range dfTerms {
		sumDF += x
	}
	if math.IsNaN(sumA) {
		return mean, math.NaN(), math.NaN()
	}
	if sumA == 0 {
		return mean, mean, mean
	}
	se := math.Sqrt(sumA) / float64(d)
	df := sumA * sumA / sumDF
	h := tQuantile((1+level)/2, df) * se
	return mean, mean - h, mean + h
}

func sampleVariance(xs []float64, mean float64) float64 {
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return ss / float64(len(xs)-1)
}

// SignFlip is the result of a two-sided sign-flip permutation test.
type SignFlip struct {
	// P is the two-sided p-value: the fraction of sign assignments ε whose
	// |Σ ε_i d_i| is at least the observed |Σ d_i|. Exact: over all 2^n
	// assignments. Monte Carlo: (1 + hits)/(1 + Draws), which is a valid
	// p-value (it counts the observed assignment) with resolution
	// 1/(1 + Draws).
	P float64
	// Exact is true when all 2^n assignments were enumerated.
	Exact bool
	// Draws is the number of random assignments drawn (0 when Exact).
	Draws int
	// MinP is the smallest p the test could have returned for n values:
	// 2^(1−n) (only the observed signs and their mirror image reach the
	// observed statistic), or 1/(1 + Draws) when that is larger.
	MinP float64
}

// SignFlipTest is the two-sided sign-flip (randomisation) test of the null
// hypothesis that each difference is symmetric about zero, on the
// statistic |Σ d_i| (equivalently the absolute mean). It is exact for
// n ≤ ExactSignFlipMax and a seeded Monte Carlo test with draws random
// assignments above that (draws ≤ 0: DefaultPermutationDraws). A zero
// difference flips to itself, so zeros never change P. Comparisons of
// sums allow a relative rounding slack of 1e-9·Σ|d_i|, so assignments that
// tie the observed statistic in exact arithmetic count as reaching it.
//
// Fisher's (1935) test on Darwin's 15 Zea mays differences, the textbook
// case, gives P = 1726/32768 = 0.052673…; no values give P = 1.
func SignFlipTest(diffs []float64, seed int64, draws int) SignFlip {
	n := len(diffs)
	if n == 0 {
		return SignFlip{P: 1, Exact: true, MinP: 1}
	}
	obs, scale := 0.0, 0.0
	for _, d := range diffs {
		obs += d
		scale += math.Abs(d)
	}
	obs = math.Abs(obs)
	tol := 1e-9 * scale
	minP := math.Min(1, math.Ldexp(2, -n))
	if n <= ExactSignFlipMax {
		return SignFlip{P: exactSignFlip(diffs, obs-tol), Exact: true, MinP: minP}
	}
	if draws <= 0 {
		draws = DefaultPermutationDraws
	}
	rng := newRNG(seed)
	hits := 0
	for range draws {
		s := 0.0
		var word uint64
		for i, d := range diffs {
			if i%64 == 0 {
				word = rng.Uint64()
			}
			if word&1 == 1 {
				s -= d
			} else {
				s += d
			}
			word >>= 1
		}
		if math.Abs(s) >= obs-tol {
			hits++
		}
	}
	return SignFlip{P: float64(1+hits) / float64(1+draws), Draws: draws,
		MinP: math.Max(minP, 1/float64(1+draws))}
}

// exactSignFlip counts, meeting in the middle, the sign assignments whose
// |sum| reaches atLeast: the signed sums of each half are tabulated (each
// table entry is one addition on top of another, so rounding stays within
// n additions), the second half sorted, and for each first-half sum a the
// second-half sums b with a + b ≥ atLeast or a + b ≤ −atLeast are counted
// by binary search.
func exactSignFlip(diffs []float64, atLeast float64) float64 {
	h := len(diffs) / 2
	left, right := signedSums(diffs[:h]), signedSums(diffs[h:])
	sort.Float64s(right)
	count := 0
	for _, a := range left {
		if atLeast <= 0 {
			count += len(right)
			continue
		}
		// b ≥ atLeast − a
		count += len(right) - sort.SearchFloat64s(right, atLeast-a)
		// b ≤ −atLeast − a: the first index with b > −atLeast − a.
		count += sort.Search(len(right), func(i int) bool { return right[i] > -atLeast-a })
	}
	return float64(count) / math.Ldexp(1, len(diffs))
}

// signedSums returns Σ ε_i x_i for every ε ∈ {±1}^len(x) (all + for mask 0;
// bit i of the mask flips x_i).
func signedSums(x []float64) []float64 {
	total := 0.0
	for _, v := range x {
		total += v
	}
	out := make([]float64, 1<<len(x))
	out[0] = total
	for mask := 1; mask < len(out); mask++ {
		low := bits.TrailingZeros(uint(mask))
		out[mask] = out[mask&(mask-1)] - 2*x[low]
	}
	return out
}

// StratifiedSignFlipTest pools paired differences over strata (datasets):
// the statistic is |Σ_d mean_d| / D, the absolute mean over strata of each
// stratum's mean difference, so every dataset weighs the same whatever its
// number of seeds; under the null each difference's sign flips
// independently within its stratum. That is SignFlipTest on the weighted
// values d_di/(D·n_d), exact up to ExactSignFlipMax values in all and Monte
// Carlo above. Empty strata are skipped.
//
// Unlike a signed-rank test on D dataset means, whose smallest two-sided p
// with D = 2 is 0.5, it uses every dataset × seed pair: 2 datasets × 10
// seeds can reach p = 2^(1−20).
func StratifiedSignFlipTest(strata [][]float64, seed int64, draws int) SignFlip {
	d := 0
	for _, s := range strata {
		if len(s) > 0 {
			d++
		}
	}
	var w []float64
	for _, s := range strata {
		for _, x := range s {
			w = append(w, x/float64(d*len(s)))
		}
	}
	return SignFlipTest(w, seed, draws)
}

// Holm returns Holm's (1979) step-down adjusted p-values, in the order of
// ps: with the m defined p-values sorted ascending, p_(i) becomes
// max_{j≤i} min(1, (m − j + 1)·p_(j)). It controls the family-wise error
// rate at any level under any dependence between the tests. NaN entries
// are not part of the family and stay NaN.
//
// Example: (0.01, 0.04, 0.03, 0.005) → (0.03, 0.06, 0.06, 0.02).
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	var idx []int
	for i, p := range ps {
		out[i] = math.NaN()
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	m := len(idx)
	running := 0.0
	for rank, i := range idx {
		running = math.Max(running, math.Min(1, float64(m-rank)*ps[i]))
		out[i] = running
	}
	return out
}

// RatioOfMeansCI returns Σnum/Σden with a 95% percentile-bootstrap interval
// that resamples whole indices (seeds) with replacement, num and den
// together, and drops none: a resample whose Σden is not positive has no
// ratio, counts as +∞ or −∞ by the sign of its Σnum (0 when Σnum is 0) and
// is returned in degenerate, so a bound that lands on it reads ±Inf rather
// than a number from a biased subset. It panics when the lengths differ.
// With one index lo = hi = the ratio; with none, or Σden ≤ 0, all three are
// NaN.
//
// For PGR, num is w2s − floor and den ceiling − floor per seed: the ratio
// of means is not pulled around by a seed whose gap is near zero, as a
// mean of per-seed ratios is.
func RatioOfMeansCI(num, den []float64, seed int64, resamples int) (ratio, lo, hi float64, degenerate int) {
	if len(num) != len(den) {
		panic("eval: RatioOfMeansCI: num and den have different lengths")
	}
	n := len(num)
	sn, sd := 0.0, 0.0
	for i := range num {
		sn += num[i]
		sd += den[i]
	}
	if n == 0 || !(sd > 0) {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	ratio = sn / sd
	if n == 1 {
		return ratio, ratio, ratio, 0
	}
	resamples = resamplesOrDefault(resamples)
	rng := newRNG(seed)
	rs := make([]float64, resamples)
	for b := range rs {
		bn, bd := 0.0, 0.0
		for range n {
			i := rng.IntN(n)
			bn += num[i]
			bd += den[i]
		}
		switch {
		case bd > 0:
			rs[b] = bn / bd
		case bn > 0:
			rs[b], degenerate = math.Inf(1), degenerate+1
		case bn < 0:
			rs[b], degenerate = math.Inf(-1), degenerate+1
		default:
			degenerate++
		}
	}
	sort.Float64s(rs)
	return ratio, quantileSorted(rs, 0.025), quantileSorted(rs, 0.975), degenerate
}
