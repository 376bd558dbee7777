package knn

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/superalign/superalign/data"
)

func randMatrix(rng *rand.Rand, n, d int) data.Matrix {
	m := data.NewMatrix(n, d)
	for i := range m.Values {
		m.Values[i] = float32(rng.NormFloat64())
	}
	return m
}

// bruteForce ranks every other row by a float64 distance, ties by index.
func bruteForce(x data.Matrix, k int, metric Metric) ([][]int32, [][]float64) {
	n := x.Rows
	idx := make([][]int32, n)
	dist := make([][]float64, n)
	for i := range n {
		type pair struct {
			d float64
			j int32
		}
		var ps []pair
		for j := range n {
			if j == i {
				continue
			}
			var dot, ni, nj, l2 float64
			for c := range x.Cols {
				a, b := float64(x.At(i, c)), float64(x.At(j, c))
				dot += a * b
				ni += a * a
				nj += b * b
				l2 += (a - b) * (a - b)
			}
			d := math.Sqrt(l2)
			if metric == Cosine {
				d = 1
				if ni > 0 && nj > 0 {
					d = 1 - dot/math.Sqrt(ni*nj)
				}
			}
			ps = append(ps, pair{d, int32(j)})
		}
		sort.Slice(ps, func(a, b int) bool {
			if ps[a].d != ps[b].d {
				return ps[a].d < ps[b].d
			}
			return ps[a].j < ps[b].j
		})
		for _, p := range ps[:k] {
			idx[i] = append(idx[i], p.j)
			dist[i] = append(dist[i], p.d)
		}
	}
	return idx, dist
}

func TestBuildMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n, d, k int
		metric  Metric
	}{
		{300, 37, 10, Cosine},
		{300, 37, 10, L2},
		{257, 64, 1, L2},      // n not a multiple of 4 or of the blocks
		{131, 5, 130, Cosine}, // k = N−1: every other row
		{200, 512, 50, Cosine},
	} {
		x := randMatrix(rng, tc.n, tc.d)
		g, err := Build(x, tc.k, tc.metric)
		if err != nil {
			t.Fatal(err)
		}
		idx, dist := bruteForce(x, tc.k, tc.metric)
		mismatch := 0
		for i := range tc.n {
			got := g.Neighbors(i)
			for r := range tc.k {
				if math.Abs(float64(g.Distances(i)[r])-dist[i][r]) > 1e-4 {
					t.Fatalf("%v n=%d: row %d rank %d distance %.6f, brute force %.6f", tc.metric, tc.n, i, r, g.Distances(i)[r], dist[i][r])
				}
			}
			if !slices.Equal(got, idx[i]) {
				mismatch++
			}
		}
		// float32 vs float64 distances may swap near-equal neighbours; with
		// Gaussian data that is rare.
		if mismatch > tc.n/100 {
			t.Errorf("%v n=%d d=%d k=%d: %d rows differ from brute force", tc.metric, tc.n, tc.d, tc.k, mismatch)
		}
	}
}

// TestBuildTies checks the deterministic tie-break: duplicated rows are at
// equal distance, and the smaller index must come first.
func TestBuildTies(t *testing.T) {
	rows := [][]float32{{0, 0}, {1, 0}, {1, 0}, {1, 0}, {0, 3}, {5, 5}}
	x, _ := data.MatrixFromRows(rows)
	g, err := Build(x, 3, L2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]int32{0: {1, 2, 3}, 1: {2, 3, 0}, 3: {1, 2, 0}, 4: {0, 1, 2}}
	for i, w := range want {
		if got := g.Neighbors(i); !slices.Equal(got, w) {
			t.Errorf("row %d neighbours %v, want %v", i, got, w)
		}
	}
	if d := g.Distances(1)[0]; d != 0 {
		t.Errorf("distance between duplicate rows %v, want 0", d)
	}
}

func TestBuildErrors(t *testing.T) {
	x := data.NewMatrix(5, 3)
	if _, err := Build(x, 5, L2); err == nil {
		t.Error("k = N accepted")
	}
	if _, err := Build(x, 0, L2); err == nil {
		t.Error("k = 0 accepted")
	}
	x.Values[4] = float32(math.NaN())
	if _, err := Build(x, 2, L2); err == nil {
		t.Error("NaN feature accepted")
	}
}

func TestSpreadMatchesClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randMatrix(rng, 150, 8)
	g, err := Build(x, 6, Cosine)
	if err != nil {
		t.Fatal(err)
	}
	s := NewAffinity(g)
	// Symmetry of S.
	for i := range s.N {
		for p := s.RowPtr[i]; p < s.RowPtr[i+1]; p++ {
			j := int(s.Col[p])
			q, ok := slices.BinarySearch(s.Col[s.RowPtr[j]:s.RowPtr[j+1]], int32(i))
			if !ok || math.Abs(s.Val[s.RowPtr[j]+q]-s.Val[p]) > 1e-15 {
				t.Fatalf("S not symmetric at (%d,%d)", i, j)
			}
		}
	}
	y := data.NewMatrix(150, 3)
	for i := 0; i < 150; i += 5 { // a fifth labelled, one soft row
		y.Set(i, rng.IntN(3), 1)
	}
	y.Set(1, 0, 0.3)
	y.Set(1, 2, 0.7)
	for _, alpha := range []float64{0.2, 0.9, 0.99} {
		got, iters, err := Spread(s, y, SpreadConfig{Alpha: alpha, Tol: 1e-12, MaxIter: 20000})
		if err != nil {
			t.Fatal(err)
		}
		want, err := SpreadClosedForm(s, y, alpha)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range got.Values {
			worst = max(worst, math.Abs(float64(got.Values[i]-want.Values[i])))
		}
		if worst > 1e-6 {
			t.Errorf("alpha %.2f: iteration (%d steps) differs from closed form by %.3g", alpha, iters, worst)
		}
	}
	// A fixed point of the iteration: no movement at convergence means
	// F = αSF + (1−α)Y, checked independently of the solver.
	f, _ := SpreadClosedForm(s, y, 0.5)
	for i := range s.N {
		for c := range 3 {
			v := 0.5 * float64(y.At(i, c))
			for p := s.RowPtr[i]; p < s.RowPtr[i+1]; p++ {
				v += 0.5 * s.Val[p] * float64(f.At(int(s.Col[p]), c))
			}
			if math.Abs(v-float64(f.At(i, c))) > 1e-6 {
				t.Fatalf("closed form is not a fixed point at (%d,%d): %.8f vs %.8f", i, c, v, f.At(i, c))
			}
		}
	}
	if _, _, err := Spread(s, y, SpreadConfig{Alpha: 1}); err == nil {
		t.Error("alpha = 1 accepted")
	}
}

func TestStronglyConnected(t *testing.T) {
	for _, tc := range []struct {
		name string
		adj  [][]int32
		want [][]int // components as sorted vertex sets
	}{
		{"cycle", [][]int32{{1}, {2}, {0}}, [][]int{{0, 1, 2}}},
		{"chain", [][]int32{{1}, {2}, {}}, [][]int{{0}, {1}, {2}}},
		{"two cycles joined one way", [][]int32{{1}, {0, 2}, {3}, {2}}, [][]int{{0, 1}, {2, 3}}},
		{"self loop and isolated", [][]int32{{0}, {}}, [][]int{{0}, {1}}},
		{"classic", [][]int32{{1}, {2, 4, 5}, {3, 6}, {2, 7}, {0, 5}, {6}, {5}, {3, 6}},
			[][]int{{0, 1, 4}, {2, 3, 7}, {5, 6}}},
	} {
		comp, count := StronglyConnected(len(tc.adj), func(v int) []int32 { return tc.adj[v] })
		if count != len(tc.want) {
			t.Errorf("%s: %d components, want %d", tc.name, count, len(tc.want))
			continue
		}
		for _, set := range tc.want {
			for _, v := range set {
				if comp[v] != comp[set[0]] {
					t.Errorf("%s: %d and %d should share a component: %v", tc.name, v, set[0], comp)
				}
			}
		}
	}
	// Random graphs against reachability: u, v share a component iff each
	// reaches the other. Also a long path, which would overflow a recursive
	// implementation with a small stack.
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		n := 30
		adj := make([][]int32, n)
		for v := range n {
			for range rng.IntN(3) {
				adj[v] = append(adj[v], int32(rng.IntN(n)))
			}
		}
		reach := make([][]bool, n)
		for s := range n {
			reach[s] = make([]bool, n)
			stack := []int{s}
			reach[s][s] = true
			for len(stack) > 0 {
				v := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				for _, w := range adj[v] {
					if !reach[s][w] {
						reach[s][w] = true
						stack = append(stack, int(w))
					}
				}
			}
		}
		comp, _ := StronglyConnected(n, func(v int) []int32 { return adj[v] })
		for u := range n {
			for v := range n {
				if (comp[u] == comp[v]) != (reach[u][v] && reach[v][u]) {
					t.Fatalf("trial %d: %d,%d same component %v, mutual reach %v", trial, u, v, comp[u] == comp[v], reach[u][v] && reach[v][u])
				}
			}
		}
	}
	const long = 200000
	comp, count := StronglyConnected(long, func(v int) []int32 {
		return []int32{int32((v + 1) % long)}
	})
	if count != 1 || comp[long-1] != 0 {
		t.Errorf("ring of %d: %d components", long, count)
	}
}
