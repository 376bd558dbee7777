package method

// cosupervise: a hierarchy of weak teachers: level 1 is one generalist (the
// cell's weak model); level l has 2^(l−1) specialists, linear heads on the
// cell's weak features (default config, standardised features: the View does
// not carry the weak head's settings), each trained on the train_weak
// examples of a contiguous range of classes. At each level the previous
// student's argmax class assigns every example to the specialist covering
// that class, whose prediction, its probabilities placed into the K columns
// (zero elsewhere; a one-class range is a constant teacher), becomes the
// example's soft label. Teacher–student agreement rejects noisy labels: the
// keep rate is the fraction of examples whose teacher argmax lies in the
// previous student's top-k, and the kept examples are those with the lowest
// student cross-entropy against the teacher's label. A fresh student is
// trained on the kept labels, with epochs scaled by 1/keep-rate so the number
// of steps stays the same. Level 1's student is trained on all weak labels.
//
// teachers=T runs levels 1, 2, 4, ..., T, capped at the largest power of two
// not above K. When the specialists reach one class each (teachers = K), a
// specialist can only confirm the class the student chose, so that level
// keeps every example and amounts to self-training on the student's argmax.
// Two classes are all that regime, so the method refuses K = 2 before any
// work (Check, and Plan); three classes warn (level 2 pairs a one-class
// specialist with a two-class one); from K = 4 every level-2 specialist has
// two classes or more.
//
// The paper, the code followed and the adaptation are written once, in the
// Info registered below (w2s methods, METHODS.md and method.Catalogue show
// them); this comment says how the code computes the method.

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/method/internal/cleaning"
	"github.com/superalign/superalign/student"
)

func init() {
	Register(Info{
		Name: "cosupervise",
		Description: "co-supervised learning: a hierarchy of specialist weak teachers (1, 2, 4, ..., T, each on a class range of " +
			"train_weak); the previous student's prediction picks each example's teacher, teacher-student top-k agreement sets " +
			"the keep rate and the lowest-loss examples are kept; the student is retrained at every level. Run " +
			"cosupervise:teachers=1,cosupervise:teachers=2,... to get each level's PGR as its own row",
		Reference: "Liu & Alahi 2024, 'Co-Supervised Learning: Improving Weak-to-Strong Generalization with Hierarchical Mixture " +
			"of Experts', arXiv 2402.15505; YuejiangLIU/csl vision/multi_weak_strong_csl.py (read, not copied)",
		Params: "teachers=8 (specialists at the final level: a power of two; capped at the largest power of two <= K); " +
			"topk=1 (student top-k for the agreement check)",
		Adaptation: "teachers are linear heads on the cell's weak features; level 1 is the cell's weak model with no rejection; " +
			"specialists' probabilities over their class range placed into K columns; levels capped by K (at teachers = K each " +
			"specialist has one class and the level is self-training on the student's argmax); " +
			"soft teacher labels (CSL offers both); top-1 agreement by default (CSL: top-3 of 1000 classes, whose 8 teachers never reach one class each); refuses K = 2 before any work (fidelity fix, issue 12: level 2 " +
			"would be self-training on the student's argmax) and warns at K = 3 (one of level 2's specialists is a constant)",
		Gold: "weak-side: specialists are trained on train_weak gold with the weak encoder's features (free: weak supervisors from the " +
			"supervisor's own data; recorded as gold_features weak)",
	}, newCosupervise)
}

type cosupervise struct {
	spec     string
	teachers int
	topk     int
}

func newCosupervise(p Params) (Method, error) {
	m := cosupervise{spec: Spec("cosupervise", p)}
	var err error
	if m.teachers, err = paramPositive(p, "teachers", 8); err != nil {
		return nil, err
	}
	if m.teachers&(m.teachers-1) != 0 {
		return nil, fmt.Errorf("parameter teachers=%d must be a power of two", m.teachers)
	}
	if m.topk, err = paramPositive(p, "topk", 1); err != nil {
		return nil, err
	}
	return m, p.Unused()
}

func (m cosupervise) Name() string { return m.spec }

// specialistRanges splits classes 0..k-1 into t contiguous ranges [lo, hi) as evenly
// as possible and returns them with the class → teacher map.
func specialistRanges(k, t int) (ranges [][2]int, teacherOf []int) {
	teacherOf = make([]int, k)
	for j := range t {
		lo, hi := j*k/t, (j+1)*k/t
		ranges = append(ranges, [2]int{lo, hi})
		for c := lo; c < hi; c++ {
			teacherOf[c] = j
		}
	}
	return ranges, teacherOf
}

// trainSpecialists trains the t specialists of one level and returns their
// predictions on train_strong's weak features, each [N, K].
func (m cosupervise) trainSpecialists(ctx context.Context, v *View, t int) ([]data.Matrix, error) {
	ranges, _ := specialistRanges(v.K, t)
	n := v.TrainStrong.Weak.Rows
	out := make([]data.Matrix, t)
	for j, r := range ranges {
		pred := data.NewMatrix(n, v.K)
		out[j] = pred
		width := r[1] - r[0]
		if width == 1 {
			for i := range n {
				pred.Set(i, r[0], 1)
			}
			continue
		}
		gold, err := v.Gold.WeakSide()
		if err != nil {
			return nil, err
		}
		var idx, local []int
		for i, y := range gold {
			if y >= r[0] && y < r[1] {
				idx = append(idx, i)
				local = append(local, y-r[0])
			}
		}
		if len(idx) < 2 {
			return nil, fmt.Errorf("specialist %d of %d (classes %d..%d) has %d train_weak examples", j+1, t, r[0], r[1]-1, len(idx))
		}
		cfg := student.DefaultProbeConfig(student.HeadLinear)
		cfg.Seed = seeds.Derive(v.Seed, seeds.Trail(m.spec, "teacher", fmt.Sprint(t), fmt.Sprint(j)))
		head, err := student.FitProbeLabels(ctx, v.TrainWeak.Weak.SelectRows(idx), local, width, cfg)
		if err != nil {
			return nil, fmt.Errorf("specialist %d of %d: %w", j+1, t, err)
		}
		p, err := head.Predict(v.TrainStrong.Weak)
		if err != nil {
			return nil, fmt.Errorf("specialist %d of %d: %w", j+1, t, err)
		}
		for i := range n {
			copy(pred.Row(i)[r[0]:r[1]], p.Row(i))
		}
	}
	return out, nil
}

// levelLabels is one level's labelling: teacher targets, assignment and selection.
type levelLabels struct {
	teacher  []int       // [N] specialist assigned to each example
	targets  data.Matrix // [N, K] the assigned specialist's prediction
	agree    []bool      // [N] teacher argmax within the student's top-k
	kept     []bool      // [N] the keep-rate·N lowest-loss examples
	keepRate float64
}

// assignLevel labels one level from the previous student's predictions prev
// [N, K] and the specialists' predictions.
func assignLevel(prev data.Matrix, specialists []data.Matrix, topk int) levelLabels {
	n, k := prev.Rows, prev.Cols
	_, teacherOf := specialistRanges(k, len(specialists))
	lv := levelLabels{teacher: make([]int, n), targets: data.NewMatrix(n, k), agree: make([]bool, n)}
	loss := make([]float64, n)
	order := make([]int, k)
	for i, c := range prev.Argmax() {
		t := teacherOf[c]
		lv.teacher[i] = t
		copy(lv.targets.Row(i), specialists[t].Row(i))
		y := rowArgmax(lv.targets.Row(i))
		// Student top-k, ties to the lower class.
		p := prev.Row(i)
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
		for _, j := range order[:min(topk, k)] {
			if j == y {
				lv.agree[i] = true
			}
		}
		loss[i] = -math.Log(max(float64(p[y]), 1e-30))
	}
	lv.keepRate = float64(cleaning.Count(lv.agree)) / float64(n)
	lv.kept = cleaning.DropTop(loss, 1-lv.keepRate)
	return lv
}

func rowArgmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// levels returns the numbers of teachers per level: 1, 2, 4, ... up to
// m.teachers, capped by k.
func (m cosupervise) levels(k int) []int {
	var out []int
	for t := 1; t <= m.teachers && t <= k; t *= 2 {
		out = append(out, t)
	}
	return out
}

// Check refuses two-class cells (see the file comment).
func (m cosupervise) Check(c CellInfo) error {
	if c.K < 3 {
		return fmt.Errorf("%d classes: level 2's specialists would have one class each, making co-supervision one round of "+
			"self-training on the student's argmax; run it on K >= 3 classes (review-source, spam-subset, fashion-mnist, mnist)", c.K)
	}
	return nil
}

func (m cosupervise) Plan(_ context.Context, v *View) (*Plan, error) {
	if err := m.Check(CellInfo{K: v.K}); err != nil {
		return nil, fmt.Errorf("%s: %w", m.spec, err)
	}
	if v.K == 3 && m.teachers >= 2 {
		logNote(v, "%s: warning: with 3 classes level 2 pairs a one-class (constant) specialist with a two-class one; "+
			"examples the student puts in the single class are self-trained (K >= 4 avoids it)", m.spec)
	}
	levels := m.levels(v.K)
	if levels[len(levels)-1] < m.teachers {
		logNote(v, "%s: %d classes allow at most %d specialists; stopping there", m.spec, v.K, levels[len(levels)-1])
	}
	// Level 1: the generalist weak model's labels, all kept.
	p := &Plan{Stages: []Stage{{Name: "1 teacher", Build: func(_ context.Context, v *View, _ data.Matrix) (Objective, error) {
		return keptObjective(m.spec, v, cleaning.All(v.TrainStrong.WeakLabels.Rows, true), nil, v.TrainStrong.WeakLabels)
	}}}}
	for _, t := range levels[1:] {
		p.Stages = append(p.Stages, Stage{Name: fmt.Sprintf("%d teachers", t), Build: func(ctx context.Context, v *View, prev data.Matrix) (Objective, error) {
			specialists, err := m.trainSpecialists(ctx, v, t)
			if err != nil {
				return Objective{}, errorf2(m.spec, fmt.Sprintf("level with %d teachers", t), err)
			}
			lv := assignLevel(prev, specialists, m.topk)
			n := prev.Rows
			logNote(v, "%s: %d teachers: keep rate %.3f (%d of %d)", m.spec, t, lv.keepRate, cleaning.Count(lv.kept), n)
			o, err := keptObjective(m.spec, v, lv.kept, cleaning.All(n, true), lv.targets)
			// Same number of optimiser steps on fewer examples, as CSL does;
			// capped at 10× the epochs.
			o.Epochs = func(base int) int { return min(int(math.Round(float64(base)/max(lv.keepRate, 0.1))), 10*base) }
			return o, err
		}})
	}
	return p, nil
}
