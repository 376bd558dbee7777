package eval

import (
	"math"
	"math/rand/v2"
	"sort"
)

// DefaultResamples is the number of bootstrap resamples used when a caller
// passes zero or a negative count.
const DefaultResamples = 1000

// pcgStream is the second PCG word. It is fixed so that a seed alone names
// the stream: the same seed always draws the same resample indices.
const pcgStream = 0x5375706572416c69 // "SuperAli"

func newRNG(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), pcgStream))
}

func resamplesOrDefault(r int) int {
	if r <= 0 {
		return DefaultResamples
	}
	return r
}

// MeanCI returns the mean of values with a 95% percentile-bootstrap interval:
// resample values with replacement, take the 2.5th and 97.5th percentiles of
// the resampled means (linear interpolation between order statistics). It is
// used across seeds, where values are one number per seed. With one value
// lo = hi = mean (there is no spread to resample); with none all three are NaN.
func MeanCI(values []float64, seed int64, resamples int) (mean, lo, hi float64) {
	n := len(values)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	mean = meanOf(values)
	if n == 1 {
		return mean, mean, mean
	}
	resamples = resamplesOrDefault(resamples)
	rng := newRNG(seed)
	means := make([]float64, resamples)
	for b := range means {
		s := 0.0
		for range n {
			s += values[rng.IntN(n)]
		}
		means[b] = s / float64(n)
	}
	lo, hi = percentileCI(means)
	return mean, lo, hi
}

// PairedDiffCI returns the mean of a[i] − b[i] with a 95% percentile-bootstrap
// interval that resamples pairs, so that whatever a pair shares (the seed's
// split, weak model and ceiling) cancels. It panics when the lengths differ.
// With one pair lo = hi = the difference; with none all three are NaN.
func PairedDiffCI(a, b []float64, seed int64, resamples int) (meanDiff, lo, hi float64) {
	if len(a) != len(b) {
		panic("eval: PairedDiffCI: a and b have different lengths")
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	// Resampling pairs is resampling their differences.
	return MeanCI(d, seed, resamples)
}

// WilcoxonSignedRank is the two-sided Wilcoxon signed-rank test of the null
// hypothesis that diffs are symmetric about zero.
//
// Zeros: the "wilcox" method (Wilcoxon 1945; scipy's default zero_method)
// drops exact zeros before ranking, so n is the number of non-zero diffs.
// Ties among |diffs| get midranks.
//
// w is min(W+, W−), the smaller of the rank sums of positive and negative
// diffs (scipy's two-sided statistic). For n ≤ 25 p is exact: the permutation
// distribution of W+ over all 2^n sign assignments of the observed (mid)ranks,
// computed by dynamic programming on doubled ranks, so it stays exact with
// ties. For n > 25 it uses the normal approximation with mean n(n+1)/4 and
// variance n(n+1)(2n+1)/24 − Σ(t³−t)/48 over tie groups of size t, without
// continuity correction (scipy's default). p is capped at 1.
//
// With no non-zero diffs the test is undefined and w = 0, p = NaN; any NaN in
// diffs gives NaN for both.
func WilcoxonSignedRank(diffs []float64) (w, p float64) {
	abs := make([]float64, 0, len(diffs))
	pos := make([]bool, 0, len(diffs))
	for _, d := range diffs {
		if math.IsNaN(d) {
			return math.NaN(), math.NaN()
		}
		if d == 0 {
			continue
		}
		abs = append(abs, math.Abs(d))
		pos = append(pos, d > 0)
	}
	n := len(abs)
	if n == 0 {
		return 0, math.NaN()
	}

	// Doubled midranks are integers, which lets the exact distribution be
	// counted over integer sums even with ties.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return abs[order[a]] < abs[order[b]] })
	rank2 := make([]int, n) // 2 × midrank
	tieTerm := 0.0          // Σ (t³ − t) over tie groups
	for i := 0; i < n; {
		j := i
		for j+1 < n && abs[order[j+1]] == abs[order[i]] {
			j++
		}
		for t := i; t <= j; t++ {
			rank2[order[t]] = i + j + 2 // (i+1 + j+1)
		}
		t := float64(j - i + 1)
		tieTerm += t*t*t - t
		i = j + 1
	}
	wPlus2, total2 := 0, 0
	for i, r := range rank2 {
		total2 += r
		if pos[i] {
			wPlus2 += r
		}
	}
	wMin2 := min(wPlus2, total2-wPlus2)
	w = float64(wMin2) / 2

	if n <= 25 {
		// counts[s] = number of sign assignments whose doubled W+ is s;
		// at most 2^25, exact in float64.
		counts := make([]float64, total2+1)
		counts[0] = 1
		reach := 0
		for _, r := range rank2 {
			for s := reach; s >= 0; s-- {
				if counts[s] != 0 {
					counts[s+r] += counts[s]
				}
			}
			reach += r
		}
		tail := 0.0
		for s := 0; s <= wMin2; s++ {
			tail += counts[s]
		}
		// The null distribution of W+ is symmetric about total/2, so the
		// two-sided p is twice the lower tail at min(W+, W−).
		p = 2 * tail / math.Ldexp(1, n)
		return w, math.Min(p, 1)
	}

	nf := float64(n)
	mean := nf * (nf + 1) / 4
	variance := nf*(nf+1)*(2*nf+1)/24 - tieTerm/48
	z := (w - mean) / math.Sqrt(variance)
	p = math.Erfc(math.Abs(z) / math.Sqrt2)
	return w, math.Min(p, 1)
}

// percentileCI returns the 2.5th and 97.5th percentiles of xs (sorted in place).
func percentileCI(xs []float64) (lo, hi float64) {
	sort.Float64s(xs)
	return quantileSorted(xs, 0.025), quantileSorted(xs, 0.975)
}

// quantileSorted is the linear-interpolation quantile (Hyndman–Fan type 7,
// the default of R and numpy) of an ascending slice.
func quantileSorted(xs []float64, q float64) float64 {
	h := q * float64(len(xs)-1)
	i := int(math.Floor(h))
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	// Equal neighbours (or no fraction) need no interpolation, which also
	// keeps ±Inf order statistics from turning into NaN (∞ − ∞).
	if frac := h - float64(i); frac == 0 || xs[i] == xs[i+1] {
		return xs[i]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
