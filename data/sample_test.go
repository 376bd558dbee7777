package data

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

// synth builds a dataset with the given per-class counts; texts are unique
// so that examples can be told apart.
func synth(counts ...int) *Dataset {
	d := &Dataset{Name: "synth"}
	for c, n := range counts {
		d.Classes = append(d.Classes, fmt.Sprintf("c%d", c))
		for i := range n {
			d.Examples = append(d.Examples, Example{Text: fmt.Sprintf("c%d-%d", c, i), Label: c})
		}
	}
	return d
}

func TestBalance(t *testing.T) {
	tests := []struct {
		name   string
		counts []int
		want   []int
		same   bool // returned unchanged
	}{
		{"majority 0", []int{70, 30}, []int{30, 30}, false},
		{"majority 1", []int{10, 25}, []int{10, 10}, false},
		{"balanced", []int{20, 20}, []int{20, 20}, true},
		{"multi-class kept", []int{50, 10, 5}, []int{50, 10, 5}, true},
		{"missing class", []int{0, 5}, []int{0, 5}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := synth(tt.counts...)
			b := Balance(d, 42)
			if got := b.ClassCounts(); !slices.Equal(got, tt.want) {
				t.Errorf("counts %v, want %v", got, tt.want)
			}
			if (b == d) != tt.same {
				t.Errorf("returned input unchanged = %v, want %v", b == d, tt.same)
			}
			again := Balance(synth(tt.counts...), 42)
			if b.ContentHash() != again.ContentHash() {
				t.Error("same seed gave a different balance")
			}
		})
	}
	d := synth(70, 30)
	if Balance(d, 1).ContentHash() == Balance(d, 2).ContentHash() {
		t.Error("different seeds chose the same majority subset")
	}
	// The original must not be modified by balancing.
	if c := d.ClassCounts(); c[0] != 70 || d.Examples[0].Text != "c0-0" {
		t.Error("Balance modified its input")
	}
}

func TestSubsample(t *testing.T) {
	tests := []struct {
		counts []int
		n      int
		want   []int
	}{
		{[]int{60, 40}, 10, []int{6, 4}},
		{[]int{60, 40}, 0, []int{60, 40}},
		{[]int{60, 40}, 1000, []int{60, 40}},
		{[]int{98, 1, 1}, 10, []int{8, 1, 1}},
		{[]int{50, 50}, 7, []int{4, 3}},
	}
	for _, tt := range tests {
		d := synth(tt.counts...)
		s := Subsample(d, tt.n, 3)
		if got := s.ClassCounts(); !slices.Equal(got, tt.want) {
			t.Errorf("Subsample(%v, %d) counts %v, want %v", tt.counts, tt.n, got, tt.want)
		}
		if s.ContentHash() != Subsample(synth(tt.counts...), tt.n, 3).ContentHash() {
			t.Errorf("Subsample(%v, %d) not deterministic", tt.counts, tt.n)
		}
	}
}

func TestSplitSeeded(t *testing.T) {
	tests := []struct {
		name      string
		counts    []int
		fractions [3]float64
		wantSizes [3]int
		wantErr   bool
	}{
		{"thirds binary", []int{1000, 1000}, DefaultFractions, [3]int{667, 667, 666}, false},
		{"zero means default", []int{300, 300}, [3]float64{}, [3]int{200, 200, 200}, false},
		{"half quarter quarter", []int{400, 400}, [3]float64{2, 1, 1}, [3]int{400, 200, 200}, false},
		{"multi-class", []int{90, 60, 30}, DefaultFractions, [3]int{60, 60, 60}, false},
		{"class too small", []int{100, 2}, DefaultFractions, [3]int{}, true},
		{"class absent", []int{100, 0}, DefaultFractions, [3]int{}, true},
		{"negative fraction", []int{100, 100}, [3]float64{1, -1, 1}, [3]int{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := synth(tt.counts...)
			s, err := SplitSeeded(d, 9, tt.fractions)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			parts := [][]int{s.TrainWeak, s.TrainStrong, s.Test}
			seen := map[int]bool{}
			for p, idx := range parts {
				if len(idx) != tt.wantSizes[p] {
					t.Errorf("part %d has %d examples, want %d", p, len(idx), tt.wantSizes[p])
				}
				per := make([]int, d.K())
				for _, i := range idx {
					if seen[i] {
						t.Fatalf("index %d in two parts", i)
					}
					seen[i] = true
					per[d.Examples[i].Label]++
				}
				// Stratified: each class's share is within one example of
				// its share of the whole.
				for c, n := range per {
					exact := float64(tt.counts[c]) * float64(len(idx)) / float64(len(d.Examples))
					if float64(n) < exact-1.01 || float64(n) > exact+1.01 {
						t.Errorf("part %d class %d: %d examples, stratified share %.1f", p, c, n, exact)
					}
				}
			}
			if len(seen) != len(d.Examples) {
				t.Errorf("parts cover %d of %d examples", len(seen), len(d.Examples))
			}
			again, _ := SplitSeeded(synth(tt.counts...), 9, tt.fractions)
			if !slices.Equal(again.TrainWeak, s.TrainWeak) || !slices.Equal(again.Test, s.Test) {
				t.Error("same seed gave a different split")
			}
			other, _ := SplitSeeded(d, 10, tt.fractions)
			if slices.Equal(other.TrainWeak, s.TrainWeak) {
				t.Error("different seeds gave the same split")
			}
		})
	}
}

// TestSplitGolden pins the exact split for a seed: PCG with a fixed stream
// must give the same indices on every machine and Go release.
func TestSplitGolden(t *testing.T) {
	s, err := SplitSeeded(synth(4, 5), 1, DefaultFractions)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(s.TrainWeak, s.TrainStrong, s.Test)
	if got != splitGolden {
		t.Errorf("split = %s, want %s", got, splitGolden)
	}
}

const splitGolden = "[3 6 2] [4 0 5] [1 7 8]"

func TestContentHash(t *testing.T) {
	base := synth(2, 2)
	h := base.ContentHash()
	tests := []struct {
		name   string
		mutate func(d *Dataset)
		same   bool
	}{
		{"name and source ignored", func(d *Dataset) { d.Name, d.Source = "x", "/elsewhere/y.csv" }, true},
		{"line ignored", func(d *Dataset) { d.Examples[0].Line = 99 }, true},
		{"text changed", func(d *Dataset) { d.Examples[0].Text += "!" }, false},
		{"label changed", func(d *Dataset) { d.Examples[0].Label = 1 }, false},
		{"class renamed", func(d *Dataset) { d.Classes[0] = "zz" }, false},
		{"order changed", func(d *Dataset) { d.Examples[0], d.Examples[1] = d.Examples[1], d.Examples[0] }, false},
		{"text boundary moved", func(d *Dataset) { d.Examples[0].Text, d.Examples[1].Text = "c0-0c", "0-1" }, false},
	}
	for _, tt := range tests {
		d := synth(2, 2)
		tt.mutate(d)
		if got := d.ContentHash() == h; got != tt.same {
			t.Errorf("%s: hash equal = %v, want %v", tt.name, got, tt.same)
		}
	}
	if h != hashGolden {
		t.Errorf("ContentHash of synth(2,2) = %s, want %s (encoding changed?)", h, hashGolden)
	}
}

const hashGolden = "42e502dd1254548fa5154bcff198a41b46da6a81d2162bdb20f1305d3a1ce98d"

// TestIndexFormsMatchDatasetForms: selecting rows by the index forms must give
// exactly the examples the Dataset forms give, on the real sentiment data.
func TestIndexFormsMatchDatasetForms(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	d, err := LoadBuiltin(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Unbalance it first so Balance has work to do.
	var ex []Example
	for i, e := range d.Examples {
		if e.Label == 1 || i%3 == 0 {
			ex = append(ex, e)
		}
	}
	u := &Dataset{Name: "u", Classes: d.Classes, Examples: ex}
	const seed = 11
	bal := Balance(u, seed)
	bi := BalanceIndices(u, seed)
	sub := Subsample(bal, 500, seed)
	si := SubsampleIndices(u, bi, 500, seed)
	split, err := SplitSeeded(sub, seed, DefaultFractions)
	if err != nil {
		t.Fatal(err)
	}
	spliti, err := SplitIndices(u, si, seed, DefaultFractions)
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, a []int, da *Dataset, b []int) {
		if len(a) != len(b) {
			t.Fatalf("%s: %d vs %d examples", name, len(a), len(b))
		}
		for k := range a {
			if da.Examples[a[k]].Text != u.Examples[b[k]].Text {
				t.Fatalf("%s: example %d differs", name, k)
			}
		}
	}
	all := func(d *Dataset) []int {
		idx := make([]int, len(d.Examples))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	same("balance", all(bal), bal, bi)
	same("subsample", all(sub), sub, si)
	same("train_weak", split.TrainWeak, sub, spliti.TrainWeak)
	same("train_strong", split.TrainStrong, sub, spliti.TrainStrong)
	same("test", split.Test, sub, spliti.Test)
}

// TestStratifiedSplitImbalanced: with the natural class mix kept
// (--balance none), every part holds each class within one example of the
// part's fraction of that class, for the mixes of the real imbalanced sets
// (spam: 4150 ham / 1876 spam; spam-hardham: 3900 / 250; a 7%-positive
// set of 2200), with and without a stratified --limit, for several seeds
// and fractions.
func TestStratifiedSplitImbalanced(t *testing.T) {
	for _, counts := range [][]int{{4150, 1876}, {3900, 250}, {2046, 154}, {3900, 250, 1876}, {97, 3}} {
		d := synth(counts...)
		for _, fr := range [][3]float64{DefaultFractions, {0.5, 0.3, 0.2}} {
			for seed := int64(0); seed < 4; seed++ {
				for _, limit := range []int{0, 1000} {
					idx, err := KeptIndices(d, BalanceNone, seed)
					if err != nil {
						t.Fatal(err)
					}
					if len(idx) != len(d.Examples) {
						t.Fatalf("none kept %d of %d", len(idx), len(d.Examples))
					}
					if limit > 0 {
						idx = SubsampleIndices(d, idx, limit, seed)
					}
					kept := d.ClassCountsOf(idx)
					sp, err := SplitIndices(d, idx, seed, fr)
					if err != nil {
						t.Fatalf("%v seed %d: %v", counts, seed, err)
					}
					sum := fr[0] + fr[1] + fr[2]
					for p, part := range [][]int{sp.TrainWeak, sp.TrainStrong, sp.Test} {
						got := d.ClassCountsOf(part)
						for c := range got {
							want := float64(kept[c]) * fr[p] / sum
							if diff := float64(got[c]) - want; diff <= -1 || diff >= 1 {
								t.Errorf("%v limit %d seed %d fractions %v: part %d class %d has %d, want %.2f ± <1",
									counts, limit, seed, fr, p, c, got[c], want)
							}
						}
					}
				}
			}
		}
	}
}

func TestKeptIndices(t *testing.T) {
	d := synth(70, 30)
	for _, tt := range []struct {
		mode string
		want []int
	}{{"", []int{30, 30}}, {BalanceUndersample, []int{30, 30}}, {BalanceNone, []int{70, 30}}, {BalanceWeight, []int{70, 30}}} {
		idx, err := KeptIndices(d, tt.mode, 5)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.ClassCountsOf(idx); !slices.Equal(got, tt.want) {
			t.Errorf("%q: counts %v, want %v", tt.mode, got, tt.want)
		}
	}
	if u, _ := KeptIndices(d, BalanceUndersample, 5); !slices.Equal(u, BalanceIndices(d, 5)) {
		t.Error("undersample is not BalanceIndices")
	}
	if _, err := KeptIndices(d, "oversample", 5); err == nil || !strings.Contains(err.Error(), "undersample, none, weight") {
		t.Errorf("unknown mode: err = %v", err)
	}
}
