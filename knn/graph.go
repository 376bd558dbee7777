package knn

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/superalign/superalign/data"
)

// Metric is the distance a graph is built with.
type Metric int

const (
	// Cosine distance 1 − cos(x, y); an all-zero row is at distance 1 from
	// everything (its cosine is taken as 0).
	Cosine Metric = iota
	// L2 is the Euclidean distance.
	L2
)

func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case L2:
		return "l2"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// ParseMetric reads "cosine" or "l2".
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "cosine":
		return Cosine, nil
	case "l2":
		return L2, nil
	}
	return 0, fmt.Errorf("knn: unknown metric %q (want cosine or l2)", s)
}

// Graph is a directed k-nearest-neighbour graph: row i's out-edges are its K
// nearest other rows, nearest first.
type Graph struct {
	N, K   int
	Metric Metric
	Index  []int32   // [N*K] neighbour indices, row-major, nearest first
	Dist   []float32 // [N*K] distances (cosine distance or Euclidean), ascending per row
}

// Neighbors returns row i's neighbour indices [K], nearest first.
func (g *Graph) Neighbors(i int) []int32 { return g.Index[i*g.K : (i+1)*g.K] }

// Distances returns row i's neighbour distances [K], ascending.
func (g *Graph) Distances(i int) []float32 { return g.Dist[i*g.K : (i+1)*g.K] }

// Tile sizes of the blocked product: a block of queryBlock rows is held while
// dbTile database rows stream past it, so both stay in L2 and every database
// row read from memory is used queryBlock times.
const (
	queryBlock = 128
	dbTile     = 64
)

// Build returns the exact k-nearest-neighbour graph of the rows of x [N, D]
// under metric, excluding each row itself (as scikit-learn's
// NearestNeighbors.kneighbors() with no argument does). Equal distances are
// broken by the smaller index, so the graph does not depend on the number of
// threads. Work is spread over GOMAXPROCS goroutines.
//
// Distances come from one blocked matrix product: for L2,
// |x−y|² = |x|² + |y|² − 2x·y (clamped at 0); for cosine, the rows are first
// scaled to unit length. Both are computed in float32, so neighbours whose
// distances differ by less than float32 rounding (~1e-6 relative) may swap
// places relative to a float64 reference.
func Build(x data.Matrix, k int, metric Metric) (*Graph, error) {
	n, d := x.Rows, x.Cols
	if metric != Cosine && metric != L2 {
		return nil, fmt.Errorf("knn: unknown metric %v", metric)
	}
	if k < 1 || k >= n {
		return nil, fmt.Errorf("knn: k = %d neighbours needs 1 <= k < N = %d", k, n)
	}
	if len(x.Values) != n*d || d < 1 {
		return nil, fmt.Errorf("knn: matrix [%d, %d] holds %d values", n, d, len(x.Values))
	}
	for i, v := range x.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("knn: feature row %d column %d is %v", i/d, i%d, v)
		}
	}
	// Pad rows to a multiple of 8 columns (zeros change no dot product) and
	// the row count to a multiple of 4, so the kernel never needs a tail case.
	dp := (d + 7) &^ 7
	np := (n + 3) &^ 3
	xs := make([]float32, np*dp)
	norms := make([]float32, np) // squared norms (L2 only)
	for i := range n {
		row := x.Row(i)
		dst := xs[i*dp : i*dp+d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		switch metric {
		case Cosine:
			scale := float32(0)
			if s > 0 {
				scale = float32(1 / math.Sqrt(s))
			}
			for j, v := range row {
				dst[j] = v * scale
			}
		case L2:
			copy(dst, row)
			norms[i] = float32(s)
		}
	}

	g := &Graph{N: n, K: k, Metric: metric, Index: make([]int32, n*k), Dist: make([]float32, n*k)}
	blocks := (n + queryBlock - 1) / queryBlock
	workers := min(runtime.GOMAXPROCS(0), blocks)
	next := make(chan int, blocks)
	for b := range blocks {
		next <- b
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			defer clearUpper()
			heaps := make([]topK, queryBlock)
			for i := range heaps {
				heaps[i] = topK{idx: make([]int32, 0, k), key: make([]float32, 0, k), k: k}
			}
			var out [2][4]float32
			for b := range next {
				q0, q1 := b*queryBlock, min((b+1)*queryBlock, n)
				for i := range heaps {
					heaps[i].reset()
				}
				for t0 := 0; t0 < n; t0 += dbTile {
					t1 := min(t0+dbTile, np)
					for q := q0; q < q1; q += 2 {
						qa := q + 1
						if qa >= q1 {
							qa = q // odd tail: compute row q twice, keep one
						}
						a0, a1 := xs[q*dp:(q+1)*dp], xs[qa*dp:(qa+1)*dp]
						for j := t0; j < t1; j += 4 {
							dot2x4(a0, a1, xs[j*dp:(j+1)*dp], xs[(j+1)*dp:(j+2)*dp],
								xs[(j+2)*dp:(j+3)*dp], xs[(j+3)*dp:(j+4)*dp], &out)
							for r, qi := range [2]int{q, qa} {
								if r == 1 && qa == q {
									break
								}
								h := &heaps[qi-q0]
								for c := range 4 {
									jj := j + c
									if jj >= n || jj == qi {
										continue
									}
									var key float32
									if metric == Cosine {
										key = 1 - out[r][c]
									} else {
										key = max(norms[qi]+norms[jj]-2*out[r][c], 0)
									}
									h.push(key, int32(jj))
								}
							}
						}
					}
				}
				for q := q0; q < q1; q++ {
					h := &heaps[q-q0]
					h.sorted(g.Index[q*k:(q+1)*k], g.Dist[q*k:(q+1)*k])
					if metric == L2 {
						for j := q * k; j < (q+1)*k; j++ {
							g.Dist[j] = float32(math.Sqrt(float64(g.Dist[j])))
						}
					}
				}
			}
		})
	}
	wg.Wait()
	return g, nil
}

// topK keeps the k smallest (key, index) pairs seen, as a max-heap on
// (key, index) so the worst kept pair is at the root; a larger index counts
// as worse on equal keys, which makes the result independent of visit order.
type topK struct {
	idx []int32
	key []float32
	k   int
}

func (h *topK) reset() { h.idx, h.key = h.idx[:0], h.key[:0] }

// worse reports whether pair a is worse (farther) than pair b.
func worse(ka float32, ia int32, kb float32, ib int32) bool {
	return ka > kb || (ka == kb && ia > ib)
}

func (h *topK) push(key float32, i int32) {
	if len(h.idx) < h.k {
		h.idx = append(h.idx, i)
		h.key = append(h.key, key)
		// sift up
		c := len(h.idx) - 1
		for c > 0 {
			p := (c - 1) / 2
			if !worse(h.key[c], h.idx[c], h.key[p], h.idx[p]) {
				break
			}
			h.swap(c, p)
			c = p
		}
		return
	}
	if !worse(h.key[0], h.idx[0], key, i) {
		return
	}
	h.key[0], h.idx[0] = key, i
	h.down(0, len(h.idx))
}

func (h *topK) swap(a, b int) {
	h.idx[a], h.idx[b] = h.idx[b], h.idx[a]
	h.key[a], h.key[b] = h.key[b], h.key[a]
}

func (h *topK) down(p, n int) {
	for {
		c := 2*p + 1
		if c >= n {
			return
		}
		if c+1 < n && worse(h.key[c+1], h.idx[c+1], h.key[c], h.idx[c]) {
			c++
		}
		if !worse(h.key[c], h.idx[c], h.key[p], h.idx[p]) {
			return
		}
		h.swap(c, p)
		p = c
	}
}

// sorted writes the kept pairs nearest first (heap sort; the heap is consumed).
func (h *topK) sorted(idx []int32, key []float32) {
	n := len(h.idx)
	for end := n - 1; end >= 0; end-- {
		idx[end], key[end] = h.idx[0], h.key[0]
		h.swap(0, end)
		h.down(0, end)
	}
}
