package experiment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/student"
)

// BestOfN is the number of candidates per best-of-n group on preference
// data.
const BestOfN = 4

// candidate is one response: an example (pair) and its side (0 A, 1 B).
type candidate struct{ ex, side int }

// bestOfNGroups builds best-of-n groups from the graded test pairs of ds
// (data.Pair.Graded): within each topic (or context), the test pairs are
// shuffled with the cell's seed and taken n at a time; a group is the
// better-graded side of the first pair and the worse-graded side of each
// of the n−1 others, kept only when the first is graded strictly above all
// of them, so the gold-best candidate is certain. Candidates are then put
// in a shuffled order; best says where the gold-best one landed. Only test
// pairs are used, so no model saw a candidate in training. It reads gold
// grades, so it lives beside the split, never in a method's view.
func bestOfNGroups(ds *data.Dataset, test []int, n int, seed int64) (cands []candidate, best []int) {
	byKey := map[string][]int{}
	for _, i := range test {
		if p := ds.Examples[i].Pair; p != nil && p.Graded {
			byKey[p.Key()] = append(byKey[p.Key()], i)
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rng := rand.New(rand.NewPCG(uint64(seeds.Derive(seed, "best-of-n")), 17))
	grade := func(c candidate) float64 {
		p := ds.Examples[c.ex].Pair
		if c.side == 0 {
			return p.GradeA
		}
		return p.GradeB
	}
	for _, k := range keys {
		idx := slices.Clone(byKey[k])
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	group:
		for s := 0; s+n <= len(idx); s += n {
			g := make([]candidate, n)
			for j := 0; j < n; j++ {
				p := ds.Examples[idx[s+j]].Pair
				better := 0
				if p.GradeB > p.GradeA {
					better = 1
				}
				if j == 0 {
					g[0] = candidate{idx[s], better}
				} else {
					g[j] = candidate{idx[s+j], 1 - better}
				}
			}
			for j := 1; j < n; j++ {
				if !(grade(g[0]) > grade(g[j])) {
					continue group
				}
			}
			perm := rng.Perm(n)
			shuffled := make([]candidate, n)
			for j, to := range perm {
				shuffled[to] = g[j]
			}
			cands = append(cands, shuffled...)
			best = append(best, perm[0])
		}
	}
	return cands, best
}

// bestOfNInputs lays out a model's inputs for the groups: row g·n+i is the
// pair (candidate i, candidate 0) of group g. A probe reads the difference
// of the two sides' features (sides [2N, D]: every example's side A, then
// every side B); a fine-tuned student reads the two texts.
func bestOfNInputs(s student.Student, ds *data.Dataset, sides data.Matrix, cands []candidate, n int) student.Inputs {
	if s.Reads() == student.ReadsFeatures {
		N := len(ds.Examples)
		x := data.NewMatrix(len(cands), sides.Cols)
		for r, c := range cands {
			ref := cands[r-r%n]
			a, b := sides.Row(c.side*N+c.ex), sides.Row(ref.side*N+ref.ex)
			o := x.Row(r)
			for j := range o {
				o[j] = a[j] - b[j]
			}
		}
		return student.Inputs{Features: x}
	}
	in := student.Inputs{Texts: make([]string, len(cands)), TextsB: make([]string, len(cands))}
	for r, c := range cands {
		ref := cands[r-r%n]
		in.Texts[r] = ds.Examples[c.ex].Pair.Side(c.side)
		in.TextsB[r] = ds.Examples[ref.ex].Pair.Side(ref.side)
	}
	return in
}

// pairSides returns the encoder's features of every pair's side A, then
// every side B [2N, D], through the feature cache.
func (c *CellRunner) pairSides(ctx context.Context, ds *data.Dataset, dsHash, name string) (data.Matrix, error) {
	return getOnce(c, &c.feats, dsHash+"|"+name+"|pair-sides", func() (data.Matrix, error) {
		enc, err := c.open(ctx, name)
		if err != nil {
			return data.Matrix{}, err
		}
		if enc.Text == nil {
			return data.Matrix{}, fmt.Errorf("%s: preference pairs need a text encoder; %q is not one", ds.Source, name)
		}
		idx := make([]int, len(ds.Examples))
		for i := range idx {
			idx[i] = i
		}
		a, b := ds.PairTexts(idx)
		m, err := c.Cache.Features(ctx, enc.Text, dsHash+"/pair-sides", append(a, b...), c.Log)
		if err != nil {
			return data.Matrix{}, fmt.Errorf("%s features of %s: %w", name, ds.Name, err)
		}
		return m, nil
	})
}

// pairScores fills a preference row: the reward models' calibration on
// test pairs and, where the cell has best-of-n groups, each model's
// best-of-n pick rate.
func pairScores(row *store.Row, cell *Cell, studentTest, studentBoN data.Matrix) error {
	var err error
	ece := func(m data.Matrix) *float64 {
		if err != nil {
			return nil
		}
		var v float64
		v, err = cell.hidden.TestECE(m)
		return &v
	}
	row.Task = "preference"
	row.FloorECE, row.CeilingECE, row.W2SECE = ece(cell.floorTest), ece(cell.ceilTest), ece(studentTest)
	if err != nil || cell.bon == nil {
		return err
	}
	rate := func(m data.Matrix) *float64 {
		if err != nil {
			return nil
		}
		var v float64
		v, err = cell.bon.PickRate(m)
		return &v
	}
	row.BestOfN, row.BoNGroups = cell.bon.N(), cell.bon.Groups()
	row.BoNFloor, row.BoNCeiling, row.BoNW2S = rate(cell.floorBoN), rate(cell.ceilBoN), rate(studentBoN)
	return err
}
