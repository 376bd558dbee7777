package eval

import (
	"math"
	"slices"
	"testing"

	"github.com/superalign/superalign/store"
)

// controlRows: one dataset, 10 seeds, naive at 0.70. "gold" drew B = 100
// labels and sits 0.02 above naive; gold-probe (B = 100) 0.03 above naive,
// naive+gold (B = 100) 0.01 above; "free" drew none and sits 0.02 above
// naive; "half" drew 50 labels and has no control at its budget, and
// gold-probe:gold=50 is absent; a gold-probe at B = 200 has no method.
// Seed s adds ±0.001 alternately to the methods so every difference has
// some spread.
func controlRows() []store.Row {
	var rows []store.Row
	for s := range 10 {
		jit := 0.001 * float64(s%2*2-1)
		add := func(method string, gold int, w2s float64) {
			r := row("a", method, int64(s), 0.6, 0.8, w2s)
			r.GoldStrong, r.GoldUsed = gold, gold
			if gold > 0 {
				r.GoldFeatures = "strong"
			}
			rows = append(rows, r)
		}
		add("naive", 0, 0.70)
		add("gold", 100, 0.72+jit)
		add("gold-probe", 100, 0.73-jit/2)
		add("naive+gold", 100, 0.71+jit/2)
		add("free", 0, 0.72+jit)
		add("half", 50, 0.75+jit)
		add("gold-probe:gold=200", 200, 0.79)
	}
	return rows
}

// TestCompareControls: a method that drew B gold labels is compared with
// every control at B and only at B, paired by seed; methods without gold,
// the controls themselves and a control with no method at its budget give
// no comparison; Holm runs over the control comparisons of the table.
func TestCompareControls(t *testing.T) {
	rows := controlRows()
	got := CompareControls(rows, Options{Seed: 1})
	var pairs []string
	for _, c := range got {
		pairs = append(pairs, c.Method+" vs "+c.Baseline)
		if c.N != 10 || c.HolmFamily != 2 || c.AcrossDatasets {
			t.Errorf("%s vs %s: n %d, Holm family %d, pooled %v; want 10 seeds, a family of 2, per dataset", c.Method, c.Baseline, c.N, c.HolmFamily, c.AcrossDatasets)
		}
	}
	if want := []string{"gold vs gold-probe", "gold vs naive+gold"}; !slices.Equal(pairs, want) {
		t.Fatalf("comparisons %v, want %v", pairs, want)
	}
	// gold − gold-probe = −0.01 + 1.5·jit: mean −0.01; exact sign-flip of
	// ten negative differences: p = 2/1024, Holm over two: min(1, 2p, ...)
	// = 0.0039 for the smaller p.
	vsProbe, vsNaiveGold := got[0], got[1]
	if math.Abs(vsProbe.DeltaAcc+0.01) > 1e-9 || math.Abs(vsNaiveGold.DeltaAcc-0.01) > 1e-9 {
		t.Errorf("Δacc %v vs gold-probe, %v vs naive+gold; want −0.01 and +0.01", vsProbe.DeltaAcc, vsNaiveGold.DeltaAcc)
	}
	if math.Abs(vsProbe.P-2.0/1024) > 1e-12 || math.Abs(vsProbe.PHolm-4.0/1024) > 1e-12 {
		t.Errorf("p %v, Holm %v; want 2/1024 and 4/1024", vsProbe.P, vsProbe.PHolm)
	}
	if !Beats(vsNaiveGold) || Beats(vsProbe) {
		t.Errorf("beats naive+gold %v (want true), beats gold-probe %v (want false)", Beats(vsNaiveGold), Beats(vsProbe))
	}
}

// TestVerdicts: "gold" beats naive but not gold-probe, so it does not beat
// weak supervision honestly; "free" beats naive and needs no control;
// "half" beats naive but its controls are missing; the A/A null and the
// controls get no verdict.
func TestVerdicts(t *testing.T) {
	rows := controlRows()
	for s := range 10 {
		r := row("a", "naive@aa", int64(s), 0.6, 0.8, 0.70+0.001*float64(s%2*2-1))
		rows = append(rows, r)
	}
	opt := Options{Seed: 1}
	vs := Verdicts(rows, CompareMethods(rows, "naive", opt), CompareControls(rows, opt))
	got := map[string]GoldVerdict{}
	for _, v := range vs {
		got[v.Method] = v
	}
	if len(vs) != 3 {
		t.Errorf("verdicts for %d methods, want gold, free and half: %+v", len(vs), vs)
	}
	if v := got["gold"]; !v.BeatsNaive || v.BeatsControls || v.MissingControl || v.GoldStrong != 100 || !slices.Equal(v.Controls, []string{"gold-probe", "naive+gold"}) {
		t.Errorf("gold: %+v; want beats naive, not the controls", v)
	}
	if v := got["free"]; !v.BeatsNaive || !v.BeatsControls || v.MissingControl {
		t.Errorf("free: %+v; want beats naive, no control needed", v)
	}
	if v := got["half"]; !v.BeatsNaive || v.BeatsControls || !v.MissingControl {
		t.Errorf("half: %+v; want beats naive, controls missing", v)
	}
}
