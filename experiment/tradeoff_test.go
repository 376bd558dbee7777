package experiment

import (
	"context"
	"reflect"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

// TestValueChannelCell runs an optimiser on spam and on spam-value (the same
// mails, hard ham carrying the value "ham"): the teachers are shared (the
// value channel is not in their keys), the student rows are not, and only
// spam-value's rows carry value respect, for the weak model and the student.
func TestValueChannelCell(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	if testing.Short() {
		t.Skip("trains probes on 1500 mails, twice")
	}
	ctx := context.Background()
	r := testCells(t)
	keys := map[string]CellKeys{}
	for _, ds := range []string{"spam", "spam-value"} {
		cs := CellSpec{Dataset: ds, Weak: "bow", Strong: "glove", Method: "simultaneous:lambda=1", Seed: 2, Limit: 1500, Balance: "none",
			GapThreshold: 0.02, Fractions: [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, Resamples: 200}
		k, err := r.Keys(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		keys[ds] = k
		row, _, err := r.Run(ctx, cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ds == "spam" && (row.ValueRespect != nil || row.NValueTest != 0) {
			t.Errorf("spam has value respect %v over %d", row.ValueRespect, row.NValueTest)
		}
		if ds == "spam-value" && (row.ValueRespect == nil || row.WeakValueRespect == nil || row.NValueTest < 10) {
			t.Errorf("spam-value: value respect %v (weak %v) over %d constrained test mails", row.ValueRespect, row.WeakValueRespect, row.NValueTest)
		}
		if row.ConformRight == nil || row.ConformWrong == nil {
			t.Errorf("%s: no split conformity", ds)
		}
	}
	a, b := keys["spam"], keys["spam-value"]
	if a.Weak != b.Weak || a.Ceiling != b.Ceiling || a.WeakFeatures != b.WeakFeatures {
		t.Error("the value channel changed the teachers' keys")
	}
	if a.Student == b.Student || a.Setup == b.Setup || b.Values == "" {
		t.Error("the value channel is not in the student's keys")
	}
}

// TestOptimisersFineTuned trains the four competence–conformity optimisers
// on a fine-tuned USE-lite student (150 sentences, one epoch), twice: each
// trains its stages on the fine-tune, and the rerun gives the same rows bit
// for bit.
func TestOptimisersFineTuned(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes USE-lite eight times, twice")
	}
	ctx := context.Background()
	spec := ftSpec()
	spec.Limit = 150
	spec.Methods = []string{"simultaneous:lambda=0.5", "alternating:lambda=0.5", "sequential:lambda=0.5", "anneal:lambda=0.5"}
	r := testRunner(t)
	rows, _, err := r.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"simultaneous:lambda=0.5": 1, "alternating:lambda=0.5": 4, "sequential:lambda=0.5": 2, "anneal:lambda=0.5": 1}
	for _, row := range rows {
		if !row.FineTuned || row.Stages != want[row.Method] || row.W2SAcc <= 0 {
			t.Errorf("%s: fine-tuned %v, %d stages (want %d), w2s %.3f", row.Method, row.FineTuned, row.Stages, want[row.Method], row.W2SAcc)
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	again, _, err := r.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripDurations(rows), stripDurations(again)) {
		t.Error("the optimisers on a fine-tuned student are not deterministic")
	}
}
