package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestWilcoxonSignedRank(t *testing.T) {
	// Reference values: exact p-values were checked by enumerating all 2^n
	// sign assignments of the midranks (an independent brute force written
	// while developing) and, where noted, against published sources.
	alt := make([]float64, 30) // ±(1..30), every third negative
	for i := range alt {
		alt[i] = float64(i + 1)
		if i%3 == 0 {
			alt[i] = -alt[i]
		}
	}
	// 1..15 each twice, so 15 tie groups of size 2; pattern + + + −.
	tied := make([]float64, 30)
	for i := range tied {
		tied[i] = float64(i/2 + 1)
		if i%4 == 3 {
			tied[i] = -tied[i]
		}
	}
	for _, tc := range []struct {
		name  string
		diffs []float64
		w, p  float64
	}{
		// Darwin's Zea mays differences (Fisher 1935), the example of the
		// scipy.stats.wilcoxon docstring, which gives (24.0, 0.041259765625):
		// 676 of the 2^15 sign assignments have W ≤ 24.
		{"darwin exact", []float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75}, 24, 0.041259765625},
		// Printed tables of critical values (e.g. Siegel 1956, Table G) give 8
		// for n = 10, two-sided α = 0.05: W = 8 rejects (p = 50/1024), W = 9
		// does not (p = 66/1024).
		{"n=10 W=8", []float64{-1, -7, 2, 3, 4, 5, 6, 8, 9, 10}, 8, 50.0 / 1024},
		{"n=10 W=9", []float64{-2, -7, 1, 3, 4, 5, 6, 8, 9, 10}, 9, 66.0 / 1024},
		// Ties and a zero: the zero is dropped (n = 6); |d| midranks are
		// 1.5 1.5 3.5 3.5 5 6; W− = 1.5 + 5 = 6.5; 16 of 64 assignments
		// have W+ ≤ 6.5, p = 32/64.
		{"ties and zero", []float64{1, -1, 2, 2, -3, 4, 0}, 6.5, 0.5},
		{"all positive n=5", []float64{1, 2, 3, 4, 5}, 0, 2.0 / 32},
		{"single", []float64{0.3}, 0, 1},
		// n = 30, normal approximation: W = 145, mean 232.5, var 2363.75,
		// z = −1.7997297, p = erfc(|z|/√2) = 0.07190333008390946.
		{"normal approx", alt, 145, 0.07190333008390946},
		// With ties the variance drops by 15·(2³−2)/48: var 2361.875,
		// W = 108.5, z = −2.5514862, p = 0.010726455965393289.
		{"normal approx ties", tied, 108.5, 0.010726455965393289},
		{"all zero", []float64{0, 0}, 0, math.NaN()},
		{"nan", []float64{1, math.NaN()}, math.NaN(), math.NaN()},
	} {
		w, p := WilcoxonSignedRank(tc.diffs)
		if !near(w, tc.w, 1e-12) || !near(p, tc.p, 1e-12) {
			t.Errorf("%s: W, p = %v, %v; want %v, %v", tc.name, w, p, tc.w, tc.p)
		}
	}
}

func TestWilcoxonSymmetry(t *testing.T) {
	// Flipping every sign swaps W+ and W−; the two-sided test must not care.
	d := []float64{0.3, -0.1, 0.25, 0.4, -0.05, 0.2, 0.15}
	neg := make([]float64, len(d))
	for i, x := range d {
		neg[i] = -x
	}
	w1, p1 := WilcoxonSignedRank(d)
	w2, p2 := WilcoxonSignedRank(neg)
	if w1 != w2 || p1 != p2 {
		t.Errorf("sign flip changed the test: (%v,%v) vs (%v,%v)", w1, p1, w2, p2)
	}
}

func TestMeanCIEdges(t *testing.T) {
	m, lo, hi := MeanCI(nil, 1, 100)
	if !math.IsNaN(m) || !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("empty: got %v %v %v, want NaNs", m, lo, hi)
	}
	m, lo, hi = MeanCI([]float64{0.42}, 1, 100)
	if m != 0.42 || lo != 0.42 || hi != 0.42 {
		t.Errorf("one value: got %v [%v, %v], want 0.42 [0.42, 0.42]", m, lo, hi)
	}
	m, lo, hi = MeanCI([]float64{2, 2, 2}, 1, 100)
	if m != 2 || lo != 2 || hi != 2 {
		t.Errorf("constant: got %v [%v, %v], want 2 [2, 2]", m, lo, hi)
	}
}

func TestMeanCICoverage(t *testing.T) {
	// A biased coin, p = 0.7, 400 tosses. The bootstrap CI should contain the
	// sample mean and the true p, and have about the normal width
	// 2·1.96·sqrt(p(1−p)/n) = 0.0898.
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float64, 400)
	for i := range x {
		if rng.Float64() < 0.7 {
			x[i] = 1
		}
	}
	m, lo, hi := MeanCI(x, 3, 2000)
	if !(lo <= m && m <= hi) {
		t.Errorf("CI [%v, %v] misses the mean %v", lo, hi, m)
	}
	if !(lo <= 0.7 && 0.7 <= hi) {
		t.Errorf("CI [%v, %v] misses p = 0.7", lo, hi)
	}
	if w := hi - lo; math.Abs(w-0.0898) > 0.015 {
		t.Errorf("CI width %v, want about 0.0898", w)
	}
	// Determinism: the same seed gives the same interval, another seed a
	// slightly different one.
	_, lo2, hi2 := MeanCI(x, 3, 2000)
	if lo2 != lo || hi2 != hi {
		t.Errorf("same seed, different CI: [%v,%v] vs [%v,%v]", lo, hi, lo2, hi2)
	}
}

func TestMeanCICoverageRate(t *testing.T) {
	// Over 200 independent samples of 50 coin tosses the 95% interval should
	// cover p = 0.3 roughly 95% of the time; percentile intervals run a little
	// narrow at n = 50, so accept 88%–99%.
	rng := rand.New(rand.NewPCG(11, 13))
	cover := 0
	const trials = 200
	for tr := range trials {
		x := make([]float64, 50)
		for i := range x {
			if rng.Float64() < 0.3 {
				x[i] = 1
			}
		}
		_, lo, hi := MeanCI(x, int64(tr), 400)
		if lo <= 0.3 && 0.3 <= hi {
			cover++
		}
	}
	if rate := float64(cover) / trials; rate < 0.88 || rate > 0.99 {
		t.Errorf("coverage %v, want about 0.95", rate)
	}
}

func TestPairedDiffCI(t *testing.T) {
	// b = a − 0.1 exactly: every pair differs by 0.1, so the paired CI has no
	// width even though a and b vary a lot between seeds.
	a := []float64{0.2, 0.9, 0.5, 0.7, 0.35}
	b := make([]float64, len(a))
	for i := range a {
		b[i] = a[i] - 0.1
	}
	d, lo, hi := PairedDiffCI(a, b, 5, 500)
	for _, v := range []float64{d, lo, hi} {
		if !near(v, 0.1, 1e-12) {
			t.Errorf("constant shift: got %v [%v, %v], want 0.1 [0.1, 0.1]", d, lo, hi)
			break
		}
	}
	d, lo, hi = PairedDiffCI([]float64{1, 2, 3, 4}, []float64{0, 0, 0, 0}, 5, 500)
	if !near(d, 2.5, 1e-12) || !(lo >= 1 && lo < 2.5 && hi > 2.5 && hi <= 4) {
		t.Errorf("spread: got %v [%v, %v]", d, lo, hi)
	}
}

func TestQuantileSorted(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5}
	for _, tc := range []struct{ q, want float64 }{
		{0, 1}, {1, 5}, {0.5, 3}, {0.025, 1.1}, {0.975, 4.9},
	} {
		if got := quantileSorted(xs, tc.q); !near(got, tc.want, 1e-12) {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}
