package method

// knn-relabel and knn-filter: a kNN probe on the cell's frozen strong
// features (cosine by default): each point's prediction is the mean of its
// k neighbours' weak labels, excluding the point itself (leave-one-out, so a
// point cannot vote for its own label). knn-relabel replaces every weak label
// by that prediction; knn-filter drops the contamination fraction of points
// whose weak argmax disagrees most with their neighbours: the fraction of
// the k neighbours whose weak argmax differs (see cleaning.Disagree for why
// not a soft distance).
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
	"github.com/superalign/superalign/method/internal/cleaning"
)

func init() {
	Register(Info{
		Name: "knn-relabel",
		Description: "replaces each train_strong weak label by the mean weak label of its k nearest neighbours in strong-feature " +
			"space, then trains the student on the new labels",
		Reference:  "EleutherAI/w2s knn probe with --probe_relabel (w2s/probe.py); blog 'Experiments in Weak-to-Strong Generalization' (2024)",
		Params:     "k=50 (neighbours); metric=cosine|l2 (cosine)",
		Adaptation: "probe on the cell's frozen strong features rather than a middle LM layer; leave-one-out neighbour mean; K-class soft labels",
		Gold:       "none",
	}, newKNNMethod(false))
	Register(Info{
		Name: "knn-filter",
		Description: "drops the contamination fraction of train_strong examples whose weak class is shared by the fewest of their k " +
			"nearest strong-feature neighbours (by weak argmax); the student trains on the rest's weak labels",
		Reference:  "EleutherAI/w2s knn probe with --probe_filter (w2s/probe.py)",
		Params:     "k=50 (neighbours); contamination=0.1 (fraction dropped); metric=cosine|l2 (cosine)",
		Adaptation: "probe on frozen strong features; leave-one-out neighbour mean; disagreement = fraction of neighbours voting another weak class (hard votes), K-class",
		Gold:       "none",
	}, newKNNMethod(true))
}

type knnMethod struct {
	spec          string
	filter        bool
	k             int
	contamination float64
	metric        knn.Metric
}

func newKNNMethod(filter bool) func(Params) (Method, error) {
	return func(p Params) (Method, error) {
		name := "knn-relabel"
		if filter {
			name = "knn-filter"
		}
		m := knnMethod{spec: Spec(name, p), filter: filter}
		var err error
		if m.k, err = paramPositive(p, "k", 50); err != nil {
			return nil, err
		}
		if filter {
			if m.contamination, err = paramFraction(p, "contamination", 0.1, 0, 0.95); err != nil {
				return nil, err
			}
		}
		if m.metric, err = paramMetric(p); err != nil {
			return nil, err
		}
		return m, p.Unused()
	}
}

func (m knnMethod) Name() string { return m.spec }

// labels returns the kept flags, replaced flags and training targets [N, K].
func (m knnMethod) labels(v *View) (kept, replaced []bool, targets data.Matrix, err error) {
	weak := v.TrainStrong.WeakLabels
	g, err := cleaning.Graph(m.spec, v.TrainStrong.Strong, m.k, m.metric)
	if err != nil {
		return nil, nil, data.Matrix{}, err
	}
	mean := cleaning.NeighbourMean(g, weak)
	n := weak.Rows
	if !m.filter {
		return cleaning.All(n, true), cleaning.All(n, true), mean, nil
	}
	votes := cleaning.NeighbourMean(g, data.OneHot(weak.Argmax(), v.K))
	return cleaning.DropTop(cleaning.Disagree(weak, votes), m.contamination), nil, weak, nil
}

func (m knnMethod) Plan(_ context.Context, _ *View) (*Plan, error) {
	return Single("student", m.objective), nil
}

func (m knnMethod) objective(_ context.Context, v *View) (Objective, error) {
	kept, replaced, targets, err := m.labels(v)
	if err != nil {
		return Objective{}, err
	}
	if m.filter {
		logNote(v, "%s: kept %d of %d weak labels", m.spec, cleaning.Count(kept), len(kept))
	} else {
		agree := 0
		am, aw := targets.Argmax(), v.TrainStrong.WeakLabels.Argmax()
		for i := range am {
			if am[i] == aw[i] {
				agree++
			}
		}
		logNote(v, "%s: neighbour labels agree with the weak argmax on %d of %d", m.spec, agree, len(am))
	}
	return keptObjective(m.spec, v, kept, replaced, targets)
}
