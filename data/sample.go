package data

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Each sampling purpose draws from its own PCG stream, so that Balance,
// Subsample and SplitSeeded called with the same seed are still
// independent, and a given (seed, purpose) gives the same choice on every
// machine and Go version (PCG is specified exactly, unlike math/rand's
// global source).
const (
	streamBalance   = 0x42616c616e6365 // "Balance"
	streamSubsample = 0x53756273616d70 // "Subsamp"
	streamSplit     = 0x53706c6974     // "Split"
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// ClassCounts returns the number of examples per class: [K].
func (d *Dataset) ClassCounts() []int {
	out := make([]int, len(d.Classes))
	for _, e := range d.Examples {
		if e.Label >= 0 && e.Label < len(out) {
			out[e.Label]++
		}
	}
	return out
}

// ClassCountsOf returns the number of examples per class among idx
// (indices into d.Examples): [K], e.g. the class mix of one split.
func (d *Dataset) ClassCountsOf(idx []int) []int {
	out := make([]int, len(d.Classes))
	for _, i := range idx {
		if l := d.Examples[i].Label; l >= 0 && l < len(out) {
			out[l]++
		}
	}
	return out
}

// Balancing modes (--balance): what an experiment does with a binary
// dataset's class mix before it splits.
//
//   - BalanceUndersample (the default, "" too): Balance's undersampling of
//     the majority class, so accuracy and PGR compare across datasets;
//   - BalanceNone: every example, the natural mix, split stratified;
//   - BalanceWeight: every example as with none, and every model trained
//     in the cell weights its loss by inverse class frequency (the
//     experiment layer applies the weights; the data are those of none).
//
// Multi-class datasets are never undersampled, so for them undersample
// and none keep the same examples.
const (
	BalanceUndersample = "undersample"
	BalanceNone        = "none"
	BalanceWeight      = "weight"
)

// BalanceModes lists the modes ParseBalance accepts.
var BalanceModes = []string{BalanceUndersample, BalanceNone, BalanceWeight}

// ParseBalance checks a balancing mode; "" is BalanceUndersample.
func ParseBalance(s string) (string, error) {
	if s == "" {
		return BalanceUndersample, nil
	}
	if slices.Contains(BalanceModes, s) {
		return s, nil
	}
	return "", fmt.Errorf("balance %q: want one of undersample, none, weight", s)
}

// KeptIndices returns, ascending, the examples an experiment with balancing
// mode keeps for seed: BalanceIndices for undersample (or ""), every
// example for none and weight.
func KeptIndices(d *Dataset, mode string, seed int64) ([]int, error) {
	mode, err := ParseBalance(mode)
	if err != nil {
		return nil, err
	}
	if mode == BalanceUndersample {
		return balanceIndices(d, seed), nil
	}
	idx := make([]int, len(d.Examples))
	for i := range idx {
		idx[i] = i
	}
	return idx, nil
}

// byClass returns the example indices of each class in file order.
func (d *Dataset) byClass() [][]int {
	out := make([][]int, len(d.Classes))
	for i, e := range d.Examples {
		out[e.Label] = append(out[e.Label], i)
	}
	return out
}

// pick returns a copy of d with the given examples, in ascending index
// order so that picking never reorders the data.
func (d *Dataset) pick(idx []int) *Dataset {
	slices.Sort(idx)
	out := &Dataset{Name: d.Name, Source: d.Source, Classes: slices.Clone(d.Classes), Examples: make([]Example, len(idx))}
	for k, i := range idx {
		out.Examples[k] = d.Examples[i]
	}
	return out
}

// Balance undersamples the majority class of a binary dataset down to the
// minority count, choosing which examples stay with a seeded shuffle; the
// survivors keep their file order. As in openai/weak-to-strong, balance
// makes accuracy and PGR comparable across datasets. Multi-class datasets
// are returned unchanged (their class mix is reported via ClassCounts), as
// is a binary dataset already balanced or lacking one class entirely.
func Balance(d *Dataset, seed int64) *Dataset {
	keep := balanceIndices(d, seed)
	if len(keep) == len(d.Examples) {
		return d
	}
	return d.pick(keep)
}

// balanceIndices returns the indices Balance keeps, ascending.
func balanceIndices(d *Dataset, seed int64) []int {
	all := func() []int {
		idx := make([]int, len(d.Examples))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	if d.K() != 2 {
		return all()
	}
	c := d.ClassCounts()
	if c[0] == c[1] || c[0] == 0 || c[1] == 0 {
		return all()
	}
	groups := d.byClass()
	minority, majority := 0, 1
	if c[1] < c[0] {
		minority, majority = 1, 0
	}
	r := newRand(seed, streamBalance)
	maj := groups[majority]
	r.Shuffle(len(maj), func(i, j int) { maj[i], maj[j] = maj[j], maj[i] })
	keep := append(slices.Clone(groups[minority]), maj[:c[minority]]...)
	slices.Sort(keep)
	return keep
}

// Subsample returns at most n examples, stratified so that class
// proportions stay as in d (each present class keeps at least one example
// when n allows), chosen with a seeded shuffle and kept in file order. It
// implements --limit; n <= 0 or n >= len(d.Examples) returns d.
func Subsample(d *Dataset, n int, seed int64) *Dataset {
	if n <= 0 || n >= len(d.Examples) {
		return d
	}
	return d.pick(subsampleIndices(d, n, seed))
}

// subsampleIndices returns the indices Subsample keeps (n < len(d.Examples)).
func subsampleIndices(d *Dataset, n int, seed int64) []int {
	groups := d.byClass()
	sizes := make([]int, len(groups))
	for c, g := range groups {
		sizes[c] = len(g)
	}
	quota := apportion(sizes, n, 0)
	r := newRand(seed, streamSubsample)
	var keep []int
	for c, g := range groups {
		r.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		keep = append(keep, g[:quota[c]]...)
	}
	slices.Sort(keep)
	return keep
}

// apportion splits total units over groups in proportion to weights by
// largest remainder, giving every non-zero group at least one unit when
// total allows; ties go to groups in an order rotated by rot, so that
// repeated apportioning does not always favour the first group.
func apportion(weights []int, total, rot int) []int {
	sum := 0
	nonzero := 0
	for _, w := range weights {
		sum += w
		if w > 0 {
			nonzero++
		}
	}
	out := make([]int, len(weights))
	if sum == 0 || total <= 0 {
		return out
	}
	rem := make([]float64, len(weights))
	used := 0
	for i, w := range weights {
		exact := float64(total) * float64(w) / float64(sum)
		out[i] = int(math.Floor(exact))
		rem[i] = exact - float64(out[i])
		used += out[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = (i + rot) % len(weights)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for _, i := range order {
		if used >= total {
			break
		}
		if weights[i] > 0 {
			out[i]++
			used++
		}
	}
	// Lift empty non-zero groups to one unit, taking from the largest.
	if total >= nonzero {
		for i, w := range weights {
			if w > 0 && out[i] == 0 {
				big := 0
				for j := range out {
					if out[j] > out[big] {
						big = j
					}
				}
				out[big]--
				out[i]++
			}
		}
	}
	return out
}

// Split holds the three disjoint parts of a W2S experiment as indices into
// Dataset.Examples: the weak supervisor trains on TrainWeak (with gold),
// the strong student on TrainStrong (labelled by the weak model), and all
// are scored on Test.
type Split struct {
	TrainWeak, TrainStrong, Test []int
}

// DefaultFractions gives each part a third, as in the W2S papers' sweeps.
var DefaultFractions = [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}

// SplitSeeded partitions d into weak-train, strong-train and test,
// stratified by class: each class is shuffled with the seed and cut by the
// fractions (normalised to sum to 1; all zero means DefaultFractions).
// Within each part the order is shuffled too, so a prefix of a part is
// itself a random sample. It fails when a part would be empty or would
// miss a class, since PGR and accuracy on such a part mean nothing.
func SplitSeeded(d *Dataset, seed int64, fractions [3]float64) (Split, error) {
	if fractions == [3]float64{} {
		fractions = DefaultFractions
	}
	var weights [3]int
	for i, f := range fractions {
		if !(f > 0) || math.IsInf(f, 0) {
			return Split{}, fmt.Errorf("data: split fractions %v: each must be a positive finite number", fractions)
		}
		// Integer weights with enough resolution for apportion.
		weights[i] = int(math.Round(f / (fractions[0] + fractions[1] + fractions[2]) * 1e6))
	}
	if len(d.Examples) == 0 {
		return Split{}, errors.New("data: split of an empty dataset")
	}
	r := newRand(seed, streamSplit)
	var parts [3][]int
	for c, g := range d.byClass() {
		if len(g) == 0 {
			return Split{}, fmt.Errorf("data: %s: class %q has no examples, so no split can contain it", d.Name, d.Classes[c])
		}
		r.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		n := apportion(weights[:], len(g), c)
		at := 0
		for p := range parts {
			if n[p] == 0 {
				return Split{}, fmt.Errorf("data: %s: class %q has %d examples, too few to appear in all three splits with fractions %v", d.Name, d.Classes[c], len(g), fractions)
			}
			parts[p] = append(parts[p], g[at:at+n[p]]...)
			at += n[p]
		}
	}
	for p := range parts {
		r.Shuffle(len(parts[p]), func(i, j int) { parts[p][i], parts[p][j] = parts[p][j], parts[p][i] })
	}
	return Split{TrainWeak: parts[0], TrainStrong: parts[1], Test: parts[2]}, nil
}

// The index forms below let a caller keep features computed once for the
// whole dataset and select rows per seed, instead of re-encoding each
// balanced or limited copy. Each gives exactly the examples its Dataset
// counterpart gives.

// BalanceIndices returns the ascending indices into d.Examples that
// Balance(d, seed) keeps.
func BalanceIndices(d *Dataset, seed int64) []int { return balanceIndices(d, seed) }

// SubsampleIndices applies Subsample to the examples idx (indices into
// d.Examples) and returns the kept ones as indices into d.Examples, ascending.
func SubsampleIndices(d *Dataset, idx []int, n int, seed int64) []int {
	sorted := slices.Sorted(slices.Values(idx))
	if n <= 0 || n >= len(sorted) {
		return sorted
	}
	local := subsampleIndices(d.pick(slices.Clone(sorted)), n, seed)
	return mapIndices(local, sorted)
}

// SplitIndices applies SplitSeeded to the examples idx (indices into
// d.Examples) and returns a Split of indices into d.Examples.
func SplitIndices(d *Dataset, idx []int, seed int64, fractions [3]float64) (Split, error) {
	sorted := slices.Sorted(slices.Values(idx))
	s, err := SplitSeeded(d.pick(slices.Clone(sorted)), seed, fractions)
	if err != nil {
		return Split{}, err
	}
	return Split{TrainWeak: mapIndices(s.TrainWeak, sorted), TrainStrong: mapIndices(s.TrainStrong, sorted), Test: mapIndices(s.Test, sorted)}, nil
}

func mapIndices(local, global []int) []int {
	out := make([]int, len(local))
	for k, i := range local {
		out[k] = global[i]
	}
	return out
}
