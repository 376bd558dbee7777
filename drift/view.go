package drift

import (
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/student"
)

// View is everything a strategy sees at phase t: the training rows of
// phases 0..t (never a later phase: the runner builds a new View per
// phase from those phases only), the weak labels each phase's supervisor
// gave its own rows, the previous student's predictions on them, and the
// purse through which gold of phase t can be bought from the oracle. It
// holds no gold:
// the supervisors' gold samples, the test splits and the phases' labels
// stay in the runner's truth (TestViewHoldsNoGold walks its types).
type View struct {
	Phase  int            // t, 0-based
	Phases int            // phases seen so far (t+1)
	Inputs student.Inputs // the student's inputs for the rows below, phase order
	// RowPhase is each row's phase (0..t).
	RowPhase []int
	// Weak [rows, K] are the weak labels: each phase's supervisor, fitted
	// on that phase's small gold sample, on that phase's rows.
	Weak data.Matrix
	// Prev [rows, K] are the predictions of the student after phase t−1
	// (zero Matrix at phase 0).
	Prev data.Matrix
	// Purse buys gold labels of phase t's rows through the oracle, sends
	// rows to the phase's review desk and hands over people's decisions on
	// earlier phases' rows (nil when there is no budget).
	Purse *Purse
}

// Rows returns the view's rows of phase p.
func (v *View) Rows(p int) []int {
	var out []int
	for i, q := range v.RowPhase {
		if q == p {
			out = append(out, i)
		}
	}
	return out
}

// Escalation is a row a strategy sends to the review desk, with what it
// saw: the student's and the supervisor's probabilities on it.
type Escalation struct {
	Row        int // a view row of the current phase
	Student    []float32
	Supervisor []float32
	Note       string
}

// HumanLabel is a person's decision on an escalated row: gold.
type HumanLabel struct {
	Row, Label int
}
