package drift

import (
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/student"
)

// View is everything a strategy sees at phase t: the training rows of
// phases 0..t (never a later phase: the runner builds a new View per
// phase from those phases only), the weak labels each phase's supervisor
// gave its own rows, the previous student's predictions on them, and the
// purse through which gold of phase t can be bought. It holds no gold:
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
	// Purse buys gold labels of phase t's rows (nil when no budget).
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

// Purse is a strategy's access to gold: labels of the current phase's
// training rows only, one unit of budget per row, each row charged once.
// It is the drift stream's label-isolated oracle: the labels live in its
// unexported state, a strategy gets those it paid for.
type Purse struct {
	phase  int
	gold   map[int]int // view row → label, current phase only
	budget int
	spent  int
	bought map[int]int
}

func newPurse(phase, budget int, gold map[int]int) *Purse {
	return &Purse{phase: phase, gold: gold, budget: budget, bought: map[int]int{}}
}

// Left is the budget not yet spent.
func (p *Purse) Left() int {
	if p == nil {
		return 0
	}
	return p.budget - p.spent
}

// Spent is the number of labels bought.
func (p *Purse) Spent() int {
	if p == nil {
		return 0
	}
	return p.spent
}

// Buy returns the gold labels of view rows, charging each new row once. A
// row of an earlier phase, or beyond the budget, is an error: old phases'
// labels are under old values and a strategy gets none for free.
func (p *Purse) Buy(rows []int) ([]int, error) {
	if p == nil {
		return nil, fmt.Errorf("drift: no gold budget")
	}
	out := make([]int, len(rows))
	for k, r := range rows {
		if l, ok := p.bought[r]; ok {
			out[k] = l
			continue
		}
		l, ok := p.gold[r]
		if !ok {
			return nil, fmt.Errorf("drift: row %d is not a training row of phase %d: only the current phase's gold is for sale", r, p.phase)
		}
		if p.spent >= p.budget {
			return nil, fmt.Errorf("drift: gold budget of %d spent", p.budget)
		}
		p.spent++
		p.bought[r] = l
		out[k] = l
	}
	return out, nil
}
