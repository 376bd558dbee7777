package knn

import (
	"fmt"
	"math"
	"slices"

	"github.com/superalign/superalign/data"
)

// Affinity is the normalised affinity S = D^-1/2 W D^-1/2 of a kNN graph in
// compressed sparse rows, where W is the symmetrised connectivity matrix
// (W_ij = 1 when j is among i's neighbours or i among j's, 0 on the
// diagonal) and D its degree matrix. Zhou et al.'s convergence argument
// needs W symmetric, so the directed graph is symmetrised.
type Affinity struct {
	N      int
	RowPtr []int     // [N+1]
	Col    []int32   // [nnz]
	Val    []float64 // [nnz]
}

// NewAffinity builds S from g.
func NewAffinity(g *Graph) *Affinity {
	adj := make([][]int32, g.N)
	for i := range g.N {
		for _, j := range g.Neighbors(i) {
			adj[i] = append(adj[i], j)
			adj[j] = append(adj[j], int32(i))
		}
	}
	a := &Affinity{N: g.N, RowPtr: make([]int, g.N+1)}
	deg := make([]float64, g.N)
	for i := range adj {
		slices.Sort(adj[i])
		adj[i] = slices.Compact(adj[i])
		deg[i] = float64(len(adj[i]))
		a.RowPtr[i+1] = a.RowPtr[i] + len(adj[i])
	}
	a.Col = make([]int32, 0, a.RowPtr[g.N])
	a.Val = make([]float64, 0, a.RowPtr[g.N])
	for i := range adj {
		for _, j := range adj[i] {
			a.Col = append(a.Col, j)
			a.Val = append(a.Val, 1/math.Sqrt(deg[i]*deg[j]))
		}
	}
	return a
}

// SpreadConfig sets label spreading.
type SpreadConfig struct {
	// Alpha in (0, 1) is how much a point listens to its neighbours rather
	// than its own initial label (Zhou et al. use 0.99, scikit-learn 0.2).
	Alpha float64
	// MaxIter bounds the iterations (0: 1000).
	MaxIter int
	// Tol stops the iteration when no entry of F moves by more than Tol
	// (0: 1e-9).
	Tol float64
}

// Spread runs label spreading (Zhou, Bousquet, Lal, Weston, Schölkopf,
// "Learning with Local and Global Consistency", NIPS 2004): starting from
// F = Y it iterates F ← αSF + (1−α)Y, which converges to the closed form
// F* = (1−α)(I−αS)^-1 Y because the spectral radius of αS is below 1.
// y [N, C] holds the initial label distributions (one-hot or soft rows for
// labelled points, zero rows for unlabelled ones). It returns F [N, C] (rows
// not normalised: divide by the row sum for distributions, or take the
// argmax) and the number of iterations run.
func Spread(s *Affinity, y data.Matrix, cfg SpreadConfig) (data.Matrix, int, error) {
	if err := checkSpread(s, y, cfg.Alpha); err != nil {
		return data.Matrix{}, 0, err
	}
	maxIter := cfg.MaxIter
	if maxIter <= 0 {
		maxIter = 1000
	}
	tol := cfg.Tol
	if tol <= 0 {
		tol = 1e-9
	}
	n, c := y.Rows, y.Cols
	alpha := cfg.Alpha
	base := make([]float64, n*c) // (1−α)Y
	f := make([]float64, n*c)
	for i, v := range y.Values {
		base[i] = (1 - alpha) * float64(v)
		f[i] = float64(v)
	}
	next := make([]float64, n*c)
	iters := 0
	for iters < maxIter {
		iters++
		delta := 0.0
		for i := range n {
			dst := next[i*c : (i+1)*c]
			copy(dst, base[i*c:(i+1)*c])
			for p := s.RowPtr[i]; p < s.RowPtr[i+1]; p++ {
				w := alpha * s.Val[p]
				src := f[int(s.Col[p])*c : int(s.Col[p]+1)*c]
				for j := range dst {
					dst[j] += w * src[j]
				}
			}
			for j := range dst {
				delta = max(delta, math.Abs(dst[j]-f[i*c+j]))
			}
		}
		f, next = next, f
		if delta < tol {
			break
		}
	}
	out := data.NewMatrix(n, c)
	for i, v := range f {
		out.Values[i] = float32(v)
	}
	return out, iters, nil
}

// SpreadClosedForm solves F* = (1−α)(I−αS)^-1 Y directly by Gaussian
// elimination with partial pivoting on the dense N×N system: O(N³), for
// tests and small graphs only (N ≤ 3000).
func SpreadClosedForm(s *Affinity, y data.Matrix, alpha float64) (data.Matrix, error) {
	if err := checkSpread(s, y, alpha); err != nil {
		return data.Matrix{}, err
	}
	n, c := y.Rows, y.Cols
	if n > 3000 {
		return data.Matrix{}, fmt.Errorf("knn: closed-form spreading of N = %d points would need a dense %d² system; use Spread", n, n)
	}
	// Augmented [I−αS | (1−α)Y], row-major with n+c columns.
	w := n + c
	m := make([]float64, n*w)
	for i := range n {
		m[i*w+i] = 1
		for p := s.RowPtr[i]; p < s.RowPtr[i+1]; p++ {
			m[i*w+int(s.Col[p])] -= alpha * s.Val[p]
		}
		for j := range c {
			m[i*w+n+j] = (1 - alpha) * float64(y.At(i, j))
		}
	}
	for col := range n {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(m[r*w+col]) > math.Abs(m[piv*w+col]) {
				piv = r
			}
		}
		if m[piv*w+col] == 0 {
			return data.Matrix{}, fmt.Errorf("knn: I−αS is singular at column %d", col)
		}
		if piv != col {
			for j := range w {
				m[col*w+j], m[piv*w+j] = m[piv*w+j], m[col*w+j]
			}
		}
		inv := 1 / m[col*w+col]
		for r := range n {
			if r == col || m[r*w+col] == 0 {
				continue
			}
			f := m[r*w+col] * inv
			for j := col; j < w; j++ {
				m[r*w+j] -= f * m[col*w+j]
			}
		}
	}
	out := data.NewMatrix(n, c)
	for i := range n {
		for j := range c {
			out.Set(i, j, float32(m[i*w+n+j]/m[i*w+i]))
		}
	}
	return out, nil
}

func checkSpread(s *Affinity, y data.Matrix, alpha float64) error {
	if !(alpha > 0 && alpha < 1) {
		return fmt.Errorf("knn: spreading alpha = %v, must lie in (0, 1)", alpha)
	}
	if y.Rows != s.N || y.Cols < 1 || len(y.Values) != y.Rows*y.Cols {
		return fmt.Errorf("knn: initial labels [%d, %d] for a graph of %d points", y.Rows, y.Cols, s.N)
	}
	return nil
}
