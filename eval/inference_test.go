package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Reference numbers in this file come from scipy 1.10.1 (Debian
// python3-scipy): scipy.stats.t.ppf, scipy.stats.t.interval(level, n−1,
// loc=mean, scale=sem) and scipy.stats.permutation_test(...,
// permutation_type='samples', n_resamples=inf), the last checked against a
// brute-force enumeration of all sign assignments in numpy. Where Student's
// t has a closed form (df 1, 2, 4) the reference is the closed form: that
// scipy's t.ppf is off by up to 2e-9 there (t_{0.95,4}: 2.13184678133629,
// whose CDF is 0.9499999997).

func TestTQuantile(t *testing.T) {
	for _, tc := range []struct {
		q, df, want, relTol float64
	}{
		{0.975, 1, 12.706204736174696, 1e-13}, // tan(π(q − ½))
		{0.975, 2, 4.302652729749463, 1e-13},  // (2q−1)·√(2/(1−(2q−1)²))
		{0.975, 4, 2.7764451051977934, 1e-13}, // root of ½ + t(t²+6)/(2(t²+4)^1.5) = q
		{0.95, 4, 2.1318467863266477, 1e-13},
		{0.975, 3, 3.182446305284263, 1e-9}, // scipy
		{0.975, 9, 2.2621571627409915, 1e-9},
		{0.975, 19, 2.093024054408263, 1e-9},
		{0.975, 29, 2.045229642132703, 1e-9},
		{0.975, 100, 1.9839715184496334, 1e-9},
	} {
		if got := tQuantile(tc.q, tc.df); !near(got, tc.want, tc.relTol*tc.want) {
			t.Errorf("t_{%v, %v} = %.17g, want %.17g", tc.q, tc.df, got, tc.want)
		}
	}
}

func TestTInterval(t *testing.T) {
	for _, tc := range []struct {
		name          string
		x             []float64
		level         float64
		mean, lo, hi  float64
		undefinedSpan bool
	}{
		{"five accuracies", []float64{0.71, 0.74, 0.69, 0.78, 0.73}, 0.95, 0.73, 0.687893125180077, 0.772106874819923, false},
		{"ten differences", []float64{0.012, -0.004, 0.021, 0.008, 0.015, -0.002, 0.011, 0.019, 0.006, 0.003}, 0.95,
			0.0089, 0.002920122095541676, 0.014879877904458327, false},
		{"ten differences 90%", []float64{0.012, -0.004, 0.021, 0.008, 0.015, -0.002, 0.011, 0.019, 0.006, 0.003}, 0.90,
			0.0089, 0.00405427499782103, 0.013745725002178973, false},
		// Two values: t with one degree of freedom, 12.7 standard errors
		// (closed form 0.7 ± 0.2·tan(0.475π)).
		{"two", []float64{0.5, 0.9}, 0.95, 0.7, -1.8412409472349396, 3.2412409472349397, false},
		{"constant", []float64{0.4, 0.4, 0.4}, 0.95, 0.4, 0.4, 0.4, false},
		{"one", []float64{0.4}, 0.95, 0.4, math.NaN(), math.NaN(), true},
	} {
		m, lo, hi := TInterval(tc.x, tc.level)
		if !near(m, tc.mean, 1e-12) || !near(lo, tc.lo, 1e-12) || !near(hi, tc.hi, 1e-12) {
			t.Errorf("%s: %v [%v, %v], want %v [%v, %v]", tc.name, m, lo, hi, tc.mean, tc.lo, tc.hi)
		}
	}
	if m, lo, hi := TInterval(nil, 0.95); !math.IsNaN(m) || !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("empty: %v [%v, %v], want NaNs", m, lo, hi)
	}
}

// TestTIntervalCoverage: over 4000 samples of 5 seeds from a normal, the 95%
// t-interval covers the true mean 95% of the time (binomial sd 0.0034),
// while the percentile bootstrap of the same 5 values (MeanCI, kept as a
// diagnostic) covers far less; that gap is why summaries use t-intervals.
func TestTIntervalCoverage(t *testing.T) {
	const trials, n, mu, sigma = 4000, 5, 0.7, 0.03
	rng := rand.New(rand.NewPCG(12, 12))
	coverT, coverBoot := 0, 0
	x := make([]float64, n)
	for tr := range trials {
		for i := range x {
			x[i] = mu + sigma*rng.NormFloat64()
		}
		if _, lo, hi := TInterval(x, 0.95); lo <= mu && mu <= hi {
			coverT++
		}
		if tr%4 == 0 { // the bootstrap is slower; 1000 samples suffice
			if _, lo, hi := MeanCI(x, int64(tr), 500); lo <= mu && mu <= hi {
				coverBoot++
			}
		}
	}
	rateT := float64(coverT) / trials
	rateBoot := float64(coverBoot) / (trials / 4)
	t.Logf("coverage with 5 seeds: t-interval %.3f, percentile bootstrap %.3f", rateT, rateBoot)
	if rateT < 0.94 || rateT > 0.96 {
		t.Errorf("t-interval coverage %.3f, want 0.95 ± 0.01", rateT)
	}
	if rateBoot > 0.90 {
		t.Errorf("percentile bootstrap coverage %.3f with 5 seeds; expected it well under 0.95 (about 0.85)", rateBoot)
	}
}

func TestStratifiedTInterval(t *testing.T) {
	// Reference: unweighted mean of stratum means, SE² = Σ s²/n / D²,
	// Welch–Satterthwaite df (4.2266 and 2.6017 here), t quantile from scipy.
	for _, tc := range []struct {
		name         string
		strata       [][]float64
		mean, lo, hi float64
	}{
		{"5+3", [][]float64{{0.01, 0.03, -0.01, 0.02, 0.015}, {0.05, 0.02, 0.04}},
			0.02483333333333334, 0.009832420950710364, 0.03983424571595631},
		{"6+3", [][]float64{{0.01, 0.03, -0.01, 0.02, 0.015, -0.025}, {0.05, -0.02, 0.04}},
			0.015000000000000001, -0.025664508548775347, 0.055664508548775346},
	} {
		m, lo, hi := StratifiedTInterval(tc.strata, 0.95)
		if !near(m, tc.mean, 1e-12) || !near(lo, tc.lo, 1e-9) || !near(hi, tc.hi, 1e-9) {
			t.Errorf("%s: %v [%v, %v], want %v [%v, %v]", tc.name, m, lo, hi, tc.mean, tc.lo, tc.hi)
		}
	}
	one := []float64{0.71, 0.74, 0.69, 0.78, 0.73}
	m1, lo1, hi1 := StratifiedTInterval([][]float64{one, nil}, 0.95)
	m2, lo2, hi2 := TInterval(one, 0.95)
	if !near(m1, m2, 1e-15) || !near(lo1, lo2, 1e-12) || !near(hi1, hi2, 1e-12) {
		t.Errorf("one stratum: %v [%v, %v], TInterval %v [%v, %v]", m1, lo1, hi1, m2, lo2, hi2)
	}
	if _, lo, hi := StratifiedTInterval([][]float64{one, {0.3}}, 0.95); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("a one-seed stratum has no variance: want NaN bounds, got [%v, %v]", lo, hi)
	}
}

func TestSignFlipExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		diffs []float64
		p     float64
	}{
		// Every sign agrees: only the observed and its mirror reach |Σ|.
		{"all positive n=5", []float64{1, 2, 3, 4, 5}, 2.0 / 32},
		{"one negative", []float64{1, -2, 3, 4, 5}, 6.0 / 32},
		// A zero flips to itself: 8 of 128 assignments, as without it 4 of 64.
		{"with a zero", []float64{0.02, 0.01, -0.005, 0.03, 0.015, 0, 0.01}, 8.0 / 128},
		// Fisher (1935) on Darwin's Zea mays: 1726 of 2^15 assignments.
		{"darwin", []float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75}, 1726.0 / 32768},
		// Ties in exact arithmetic that floating point may split: 0.1+0.2
		// and 0.3 must count as equal.
		{"float ties", []float64{0.1, 0.2, -0.3}, 1},
		{"single", []float64{0.3}, 1},
		{"all zero", []float64{0, 0, 0}, 1},
		{"empty", nil, 1},
	} {
		sf := SignFlipTest(tc.diffs, 1, 0)
		if !sf.Exact || sf.Draws != 0 || !near(sf.P, tc.p, 1e-15) {
			t.Errorf("%s: %+v, want exact p = %v", tc.name, sf, tc.p)
		}
	}
	if sf := SignFlipTest([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 1, 0); !near(sf.MinP, 2.0/1024, 0) || !near(sf.P, sf.MinP, 0) {
		t.Errorf("n=10 all positive: %+v, want P = MinP = 2/1024", sf)
	}
	if sf := SignFlipTest([]float64{0.3, 0.1, 0.2}, 1, 0); !near(sf.MinP, 0.25, 0) {
		t.Errorf("n=3: MinP %v, want 0.25", sf.MinP)
	}
	// Flipping every sign leaves the two-sided test unchanged.
	d := []float64{0.3, -0.1, 0.25, 0.4, -0.05, 0.2, 0.15}
	neg := make([]float64, len(d))
	for i, x := range d {
		neg[i] = -x
	}
	if a, b := SignFlipTest(d, 1, 0), SignFlipTest(neg, 1, 0); a.P != b.P {
		t.Errorf("mirror changed p: %v vs %v", a.P, b.P)
	}
}

// bruteSignFlip enumerates every assignment one by one (no meet in the
// middle), the definition the fast path must agree with.
func bruteSignFlip(d []float64) float64 {
	obs, scale := 0.0, 0.0
	for _, x := range d {
		obs += x
		scale += math.Abs(x)
	}
	obs = math.Abs(obs)
	hits := 0
	for mask := range 1 << len(d) {
		s := 0.0
		for i, x := range d {
			if mask>>i&1 == 1 {
				s -= x
			} else {
				s += x
			}
		}
		if math.Abs(s) >= obs-1e-9*scale {
			hits++
		}
	}
	return float64(hits) / float64(int(1)<<len(d))
}

func TestSignFlipMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 14; n++ {
		d := make([]float64, n)
		for i := range d {
			// Rounded to 1/1000 like accuracy differences on 1000 test
			// examples, so that ties in |Σ| are common.
			d[i] = math.Round((rng.NormFloat64()*0.01+0.004)*1000) / 1000
		}
		if got, want := SignFlipTest(d, 1, 0).P, bruteSignFlip(d); got != want {
			t.Errorf("n=%d %v: p = %v, brute force %v", n, d, got, want)
		}
	}
}

func TestSignFlipMonteCarlo(t *testing.T) {
	// 24 differences: above ExactSignFlipMax, so Monte Carlo; the exact p
	// (meet in the middle over 2^24 assignments) is the reference.
	rng := rand.New(rand.NewPCG(5, 6))
	d := make([]float64, 24)
	for i := range d {
		d[i] = rng.NormFloat64()*0.01 + 0.004
	}
	exact := exactSignFlipP(d)
	sf := SignFlipTest(d, 9, 20000)
	if sf.Exact || sf.Draws != 20000 || !near(sf.MinP, 1.0/20001, 1e-15) {
		t.Errorf("Monte Carlo flags: %+v", sf)
	}
	if se := math.Sqrt(exact * (1 - exact) / 20000); math.Abs(sf.P-exact) > 4*se+1.0/20001 {
		t.Errorf("Monte Carlo p %v, exact %v (4 se = %v)", sf.P, exact, 4*se)
	}
	if again := SignFlipTest(d, 9, 20000); again != sf {
		t.Errorf("same seed, different result: %+v vs %+v", again, sf)
	}
	// An extreme case the Monte Carlo test cannot resolve below 1/(B+1).
	all := make([]float64, 24)
	for i := range all {
		all[i] = 1
	}
	if sf := SignFlipTest(all, 1, 999); sf.P != 1.0/1000 {
		t.Errorf("all positive, 999 draws: p %v, want the resolution 1/1000", sf.P)
	}
}

// exactSignFlipP is the exact two-sided p of d whatever its length.
func exactSignFlipP(d []float64) float64 {
	obs, scale := 0.0, 0.0
	for _, x := range d {
		obs += x
		scale += math.Abs(x)
	}
	return exactSignFlip(d, math.Abs(obs)-1e-9*scale)
}

// TestSignFlipCalibration: under the null (differences symmetric about 0),
// an exact test with 10 seeds rejects at 0.05 with probability
// 25·2/1024 = 0.0488 (p takes multiples of 2/1024); over 3000 simulated
// tables the rate must sit near that and not above 0.05 by more than noise.
func TestSignFlipCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const trials = 3000
	rejected := 0
	d := make([]float64, 10)
	for range trials {
		for i := range d {
			d[i] = rng.NormFloat64() * 0.01
		}
		if SignFlipTest(d, 1, 0).P <= 0.05 {
			rejected++
		}
	}
	rate := float64(rejected) / trials
	t.Logf("null rejection rate %.4f (exact size 0.0488)", rate)
	if rate < 0.037 || rate > 0.061 {
		t.Errorf("null rejection rate %.4f, want about 0.049", rate)
	}
}

func TestStratifiedSignFlip(t *testing.T) {
	// Two datasets of 6 and 3 seeds. Each dataset's mean weighs the same, so
	// the statistic is |mean_1 + mean_2|/2: p = 136/512, where pooling the 9
	// differences unweighted would give 112/512 (brute force in numpy).
	strata := [][]float64{{0.01, 0.03, -0.01, 0.02, 0.015, -0.025}, {0.05, -0.02, 0.04}}
	sf := StratifiedSignFlipTest(strata, 1, 0)
	if !sf.Exact || !near(sf.P, 136.0/512, 1e-15) {
		t.Errorf("stratified: %+v, want exact 136/512", sf)
	}
	if flat := SignFlipTest([]float64{0.01, 0.03, -0.01, 0.02, 0.015, -0.025, 0.05, -0.02, 0.04}, 1, 0); !near(flat.P, 112.0/512, 1e-15) {
		t.Errorf("unweighted reference: %v, want 112/512", flat.P)
	}
	// Two datasets × 10 seeds, every difference positive: p = 2^(1−20),
	// where a signed-rank test on the two dataset means cannot go below 0.5.
	var two [][]float64
	for range 2 {
		s := make([]float64, 10)
		for i := range s {
			s[i] = 0.01 + 0.001*float64(i)
		}
		two = append(two, s)
	}
	if sf := StratifiedSignFlipTest(two, 1, 0); !sf.Exact || !near(sf.P, math.Ldexp(1, -19), 0) {
		t.Errorf("2 datasets × 10 seeds all positive: %+v, want 2^-19", sf)
	}
	if _, p := WilcoxonSignedRank([]float64{meanOf(two[0]), meanOf(two[1])}); p != 0.5 {
		t.Errorf("Wilcoxon on two dataset means: p = %v, want its floor 0.5", p)
	}
	// Three datasets × 10 seeds: 30 pairs, Monte Carlo.
	three := append(two, two[0])
	if sf := StratifiedSignFlipTest(three, 2, 5000); sf.Exact || sf.Draws != 5000 || sf.P != 1.0/5001 {
		t.Errorf("30 pairs: %+v, want Monte Carlo p = 1/5001", sf)
	}
}

func TestHolm(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name    string
		in, out []float64
	}{
		// R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm").
		{"textbook", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		// Sign-flip p-values of 5 seeds; monotonicity lifts 0.5·2 to 1.
		{"sign-flip", []float64{0.0625, 0.0625, 0.5, 1, 0.03125}, []float64{0.25, 0.25, 1, 1, 0.15625}},
		// NaN (a method without pairs) is not in the family: m = 2.
		{"nan", []float64{0.02, nan, 0.04}, []float64{0.04, nan, 0.04}},
		{"single", []float64{0.03}, []float64{0.03}},
		{"empty", nil, []float64{}},
	} {
		got := Holm(tc.in)
		if len(got) != len(tc.out) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.out)
			continue
		}
		for i := range got {
			if !near(got[i], tc.out[i], 1e-15) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.out)
				break
			}
		}
	}
}

func TestRatioOfMeansCI(t *testing.T) {
	// Four seeds: the bootstrap distribution is 4^4 = 256 equally likely
	// ordered resamples. Its 2.5% and 97.5% quantiles are atoms, 7/27 and
	// 41/69 (numpy enumeration; scipy.stats.bootstrap(paired=True,
	// method='percentile') gives the same), and each holds ≥ 0.55% of the
	// mass on both sides of the cut, so 20000 resamples land on them.
	num := []float64{0.10, 0.05, 0.12, 0.02}
	den := []float64{0.20, 0.15, 0.18, 0.12}
	r, lo, hi, deg := RatioOfMeansCI(num, den, 1, 20000)
	if !near(r, 0.29/0.65, 1e-15) || !near(lo, 7.0/27, 1e-12) || !near(hi, 41.0/69, 1e-12) || deg != 0 {
		t.Errorf("ratio %v [%v, %v] (%d degenerate), want %v [%v, %v]", r, lo, hi, deg, 0.29/0.65, 7.0/27, 41.0/69)
	}
	// A constant ratio has no spread, whatever the seeds' sizes.
	r, lo, hi, _ = RatioOfMeansCI([]float64{0.05, 0.1, 0.15}, []float64{0.1, 0.2, 0.3}, 1, 500)
	if r != 0.5 || !near(lo, 0.5, 1e-12) || !near(hi, 0.5, 1e-12) {
		t.Errorf("constant ratio: %v [%v, %v], want 0.5", r, lo, hi)
	}
	// The ratio of means is not the mean of ratios: a seed with a tiny gap
	// would dominate the latter.
	if r, _, _, _ := RatioOfMeansCI([]float64{0.1, 0.009}, []float64{0.2, 0.01}, 1, 100); !near(r, 0.109/0.21, 1e-15) {
		t.Errorf("ratio of means %v, want %v (the mean of ratios would be 0.7)", r, 0.109/0.21)
	}
	// No resample is dropped: those whose gaps sum to ≤ 0 (7 of 27
	// multisets' orderings: every index the negative one, or two of three)
	// count as +∞ and push the upper bound to +∞.
	_, _, hi, deg = RatioOfMeansCI([]float64{0.1, 0.1, 0.1}, []float64{0.3, -0.2, 0.25}, 1, 20000)
	if !math.IsInf(hi, 1) || math.Abs(float64(deg)/20000-7.0/27) > 0.015 {
		t.Errorf("degenerate resamples: hi %v, %d of 20000 (want +Inf, about 7/27)", hi, deg)
	}
	if r, lo, hi, _ := RatioOfMeansCI([]float64{0.1}, []float64{0.2}, 1, 100); r != 0.5 || lo != 0.5 || hi != 0.5 {
		t.Errorf("one seed: %v [%v, %v]", r, lo, hi)
	}
	if r, _, _, _ := RatioOfMeansCI([]float64{0.1, 0.1}, []float64{0.1, -0.2}, 1, 100); !math.IsNaN(r) {
		t.Errorf("negative pooled gap: ratio %v, want NaN", r)
	}
}

// TestRateTIntervalClipped: a rate's interval stays inside [0, 1]; inside,
// it is the plain t-interval.
func TestRateTIntervalClipped(t *testing.T) {
	for _, tc := range []struct {
		rates  []float64
		lo, hi float64
	}{
		{[]float64{1, 1, 0.929}, 0.8745, 1}, // spam-value's value respect, three seeds
		{[]float64{0, 0, 0.07}, 0, 0.1237},  // the mirror case
		{[]float64{0.5, 0.6, 0.7}, 0.3516, 0.8484},
	} {
		_, lo, hi := RateTInterval(tc.rates, 0.95)
		if !(math.Abs(lo-tc.lo) <= 1e-3 && math.Abs(hi-tc.hi) <= 1e-3) { // NaN fails too
			t.Errorf("RateTInterval(%v) = [%.4f, %.4f], want [%.4f, %.4f]", tc.rates, lo, hi, tc.lo, tc.hi)
		}
	}
}
