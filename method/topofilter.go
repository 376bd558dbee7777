package method

// topo-filter: build a kNN graph (k_cc) of the frozen strong features
// (cosine by default); within each class (a point's class is its weak argmax)
// keep only the largest strongly connected component of the graph restricted
// to that class; then ζ-filtering on a graph rebuilt over the survivors
// (k_zeta capped at their number minus one) removes the points whose weak
// class most disagrees with their neighbours' (ζ = the fraction of the
// k_zeta neighbours whose weak class differs, cleaning.Disagree). The two
// steps remove round(contamination·N) of the N train_strong points in total:
// the ζ step drops what the component step left of that quota, nothing when
// the components already removed more.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"
	"math"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method/internal/cleaning"
)

func init() {
	Register(Info{
		Name: "topo-filter",
		Description: "TopoCC: keeps, per weak class, the largest strongly connected component of the strong-feature kNN graph " +
			"restricted to that class, then drops the points with the largest ζ (the fraction of its k_zeta neighbours whose weak " +
			"argmax differs from its own) until the contamination fraction is removed in all; the student trains on the survivors' weak labels",
		Reference: "EleutherAI/w2s topo probe (w2s/topo.py, --probe_filter); Wu et al. 2020, 'A Topological Filter for Learning with Label Noise'",
		Params:    "k_cc=50 (graph for components); k_zeta=50 (neighbours for ζ); contamination=0.1 (fraction of N removed in total by both steps); metric=cosine|l2 (cosine)",
		Adaptation: "fidelity fix, issue 12: removes round(contamination·N) in total, the ζ step taking what the component step left of it, as " +
			"EleutherAI (it dropped that many on top of the component step); class = weak argmax; ζ graph rebuilt on the component survivors; " +
			"ζ = fraction of the k_zeta neighbours whose weak argmax differs; frozen strong features instead of a middle LM layer",
		Gold: "none",
	}, newTopoFilter)
}

type topoFilter struct {
	spec          string
	kcc, kzeta    int
	contamination float64
	metric        knn.Metric
}

func newTopoFilter(p Params) (Method, error) {
	m := topoFilter{spec: Spec("topo-filter", p)}
	var err error
	if m.kcc, err = paramPositive(p, "k_cc", 50); err != nil {
		return nil, err
	}
	if m.kzeta, err = paramPositive(p, "k_zeta", 50); err != nil {
		return nil, err
	}
	if m.contamination, err = paramFraction(p, "contamination", 0.1, 0, 0.95); err != nil {
		return nil, err
	}
	if m.metric, err = paramMetric(p); err != nil {
		return nil, err
	}
	return m, p.Unused()
}

func (m topoFilter) Name() string { return m.spec }

// components returns which points lie in their class's largest strongly
// connected component of g restricted to edges within the class.
func topoComponents(g *knn.Graph, class []int, k int) []bool {
	buf := make([]int32, 0, g.K)
	comp, count := knn.StronglyConnected(g.N, func(v int) []int32 {
		buf = buf[:0]
		for _, w := range g.Neighbors(v) {
			if class[w] == class[v] {
				buf = append(buf, w)
			}
		}
		return buf
	})
	// Components never span classes (no edge does), so each component has
	// one class; pick per class the biggest, ties to the lower number.
	size := make([]int, count)
	compClass := make([]int, count)
	for v, c := range comp {
		size[c]++
		compClass[c] = class[v]
	}
	best := make([]int, k)
	for c := range best {
		best[c] = -1
	}
	for c := range count {
		cl := compClass[c]
		if best[cl] < 0 || size[c] > size[best[cl]] {
			best[cl] = c
		}
	}
	keep := make([]bool, g.N)
	for v, c := range comp {
		keep[v] = best[class[v]] == c
	}
	return keep
}

func (m topoFilter) selection(v *View) ([]bool, error) {
	weak := v.TrainStrong.WeakLabels
	x := v.TrainStrong.Strong
	n := weak.Rows
	g, err := cleaning.Graph(m.spec, x, m.kcc, m.metric)
	if err != nil {
		return nil, err
	}
	kept := topoComponents(g, weak.Argmax(), v.K)
	var idx []int
	for i, k := range kept {
		if k {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return kept, nil
	}
	// ζ-filtering among the survivors.
	gz, err := cleaning.Graph(m.spec, x.SelectRows(idx), m.kzeta, m.metric)
	if err != nil {
		return nil, err
	}
	sub := weak.SelectRows(idx)
	zeta := cleaning.Disagree(sub, cleaning.NeighbourMean(gz, data.OneHot(sub.Argmax(), v.K)))
	// The quota is for both steps together (EleutherAI's remaining =
	// round(N·c) − cc_removed).
	drop := min(max(int(math.Round(m.contamination*float64(n)))-(n-len(idx)), 0), len(idx))
	if drop == 0 {
		return kept, nil
	}
	keepZ := cleaning.DropTop(zeta, float64(drop)/float64(len(idx)))
	for r, i := range idx {
		kept[i] = keepZ[r]
	}
	return kept, nil
}

func (m topoFilter) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", func(_ context.Context, v *View) (Objective, error) {
		kept, err := m.selection(v)
		if err != nil {
			return Objective{}, err
		}
		logNote(v, "%s: kept %d of %d weak labels", m.spec, cleaning.Count(kept), len(kept))
		return keptObjective(m.spec, v, kept, nil, v.TrainStrong.WeakLabels)
	}), nil
}
