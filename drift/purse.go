package drift

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/oracle"
)

// Purse is a strategy's access to gold, through the oracle: each phase of
// a stream is an oracle run whose hidden gold is that phase's training
// rows under that phase's values (never its test split, never another
// phase's rows), and the purse buys them over HTTP with the run's token,
// one unit of budget per row, each row charged once, every request
// audited. It also sends rows to the run's review desk and hands the
// strategy the labels people decided at the desks of earlier phases.
//
// The purse of phase t is closed when the strategy's step returns, so a
// strategy that keeps it cannot buy phase t's gold later, under values
// that have moved on.
type Purse struct {
	ctx     context.Context
	client  *oracle.Client
	run     string
	phase   int
	lo, hi  int // view rows of the phase: [lo, hi)
	limit   int // what the strategy may buy; the oracle's budget adds the desk reserve
	spent   int
	paid    map[int]int // view row → label bought
	closed  bool
	texts   []string // the phase's training texts (for the desk)
	classes []string
	flow    *goldFlow
	sent    int // rows escalated this phase
	used    int // human labels handed over this phase
}

// goldFlow is a stream's memory across phases: the desks of earlier
// phases (whose decisions arrive late) and which human labels the strategy
// has already been handed.
type goldFlow struct {
	desks  []desk
	handed map[int]int // view row → human label handed over
	// notify tells a person that run's desk has items; a closure, so that
	// nothing a View reaches holds the oracle server (and its gold).
	notify func(run string) error
}

// desk is one earlier phase's oracle run that escalated rows.
type desk struct {
	client *oracle.Client
	run    string
	lo     int
}

// Left is the budget the strategy has not yet spent this phase.
func (p *Purse) Left() int {
	if p == nil {
		return 0
	}
	return p.limit - p.spent
}

// Spent is the number of labels bought this phase.
func (p *Purse) Spent() int {
	if p == nil {
		return 0
	}
	return p.spent
}

func (p *Purse) usable() error {
	switch {
	case p == nil:
		return errors.New("drift: no gold budget")
	case p.closed:
		return fmt.Errorf("drift: the purse of phase %d is closed: its step is over", p.phase+1)
	}
	return nil
}

// Buy returns the gold labels of view rows, charging each new row once. A
// row of another phase, or beyond the budget, is an error and charges
// nothing: old phases' labels are under old values and a strategy gets
// none for free.
func (p *Purse) Buy(rows []int) ([]int, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	ids := make([]int, len(rows))
	fresh := map[int]bool{}
	for k, r := range rows {
		if r < p.lo || r >= p.hi {
			return nil, fmt.Errorf("drift: row %d is not a training row of phase %d: only the current phase's gold is for sale", r, p.phase+1)
		}
		ids[k] = r - p.lo
		if _, ok := p.paid[r]; !ok {
			fresh[r] = true
		}
	}
	if p.spent+len(fresh) > p.limit {
		return nil, fmt.Errorf("drift: %d new labels asked, %d of the gold budget of %d left; nothing bought", len(fresh), p.limit-p.spent, p.limit)
	}
	labels, _, err := p.client.Label(p.ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("drift: buying gold of phase %d: %w", p.phase+1, err)
	}
	for k, r := range rows {
		p.paid[r] = labels[k]
	}
	p.spent += len(fresh)
	return labels, nil
}

// Escalate queues rows of the current phase at the phase's review desk,
// with their text and evidence. A person's decision costs the phase's
// desk reserve and reaches the strategy through Human at a later phase.
func (p *Purse) Escalate(items []Escalation) error {
	if err := p.usable(); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	out := make([]oracle.ReviewItem, len(items))
	for k, it := range items {
		if it.Row < p.lo || it.Row >= p.hi {
			return fmt.Errorf("drift: row %d is not a training row of phase %d: only the current phase's rows go to its desk", it.Row, p.phase+1)
		}
		id := it.Row - p.lo
		out[k] = oracle.ReviewItem{ID: id, Round: p.phase + 1, Text: p.texts[id], WeakLabel: argmax(it.Supervisor), StudentLabel: argmax(it.Student),
			Classes: p.classes, Critique: it.Note, Evidence: evidence(p.classes, it.Student, it.Supervisor)}
	}
	if err := p.client.Escalate(p.ctx, out); err != nil {
		return fmt.Errorf("drift: escalating %d rows of phase %d: %w", len(out), p.phase+1, err)
	}
	if p.sent == 0 {
		p.flow.desks = append(p.flow.desks, desk{client: p.client, run: p.run, lo: p.lo})
		if p.flow.notify != nil {
			if err := p.flow.notify(p.run); err != nil {
				return fmt.Errorf("drift: telling a person about desk %s: %w", p.run, err)
			}
		}
	}
	p.sent += len(out)
	return nil
}

// Human returns every label people have decided so far at the desks of
// earlier phases (skips left out), in the desks' order. The oracle charged
// each to its phase's budget when the person decided.
func (p *Purse) Human() ([]HumanLabel, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	var out []HumanLabel
	for _, d := range p.flow.desks {
		ds, err := d.client.Decisions(p.ctx)
		if err != nil {
			return nil, fmt.Errorf("drift: decisions of desk %s: %w", d.run, err)
		}
		for _, x := range ds {
			if x.Label == oracle.Skipped || x.Label < 0 || x.Label >= len(p.classes) {
				continue
			}
			row := d.lo + x.ID
			if l, ok := p.flow.handed[row]; !ok || l != x.Label {
				p.used++
			}
			p.flow.handed[row] = x.Label
			out = append(out, HumanLabel{Row: row, Label: x.Label})
		}
	}
	return out, nil
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// evidence is what the desk shows beside the text: both distributions.
func evidence(classes []string, student, sup []float32) []string {
	var out []string
	for c, name := range classes {
		var s, w float64 = math.NaN(), math.NaN()
		if c < len(student) {
			s = float64(student[c])
		}
		if c < len(sup) {
			w = float64(sup[c])
		}
		out = append(out, fmt.Sprintf("p(%s): student %.2f, supervisor %.2f", name, s, w))
	}
	return out
}

var unsafeRun = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// runName names a stream's phase run at the oracle, unique on its server.
func runName(srv *oracle.Server, scenario string, seed int64, strategy string, phase int) string {
	base := unsafeRun.ReplaceAllString(fmt.Sprintf("%s-s%d-%s-p%d", scenario, seed, strategy, phase+1), "_")
	base = strings.TrimLeft(base, "._-")
	if len(base) > 100 {
		base = base[len(base)-100:]
	}
	if base == "" || !isAlnum(base[0]) {
		base = "d" + base
	}
	name := base
	for k := 2; ; k++ {
		if _, err := srv.DeskToken(name); err != nil {
			return name
		}
		name = base + "." + strconv.Itoa(k)
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// openPurse registers phase t's training rows of a stream at the oracle,
// with the strategy's budget plus the desk reserve, and returns the purse
// that buys them; nil when neither budget nor reserve is set. Only those
// rows' gold, under phase t's values, goes to the oracle.
func (r *runner) openPurse(ctx context.Context, su *seedSetup, seed int64, strategy string, t, lo int, flow *goldFlow) (*Purse, error) {
	reserve := r.reserve(strategy)
	if r.cfg.Budget+reserve == 0 {
		return nil, nil
	}
	sc := r.cfg.Scenario
	rows := su.tr.splits[t].train
	gold := make([]int, len(rows))
	texts := make([]string, len(rows))
	for k, i := range rows {
		gold[k] = sc.goldOf(t, i)
		texts[k] = r.texts[i]
	}
	srv, url, err := r.oracle()
	if err != nil {
		return nil, err
	}
	name := runName(srv, sc.Name, seed, strategy, t)
	tok, err := srv.AddRun(name, eval.NewHidden(gold, nil, len(sc.Classes)), r.cfg.Budget+reserve)
	if err != nil {
		return nil, fmt.Errorf("drift: oracle run of phase %d: %w", t+1, err)
	}
	c := oracle.NewClient(url, name, tok)
	c.SetAgent("drift/" + strategy)
	return &Purse{ctx: ctx, client: c, run: name, phase: t, lo: lo, hi: lo + len(rows), limit: r.cfg.Budget,
		paid: map[int]int{}, texts: texts, classes: sc.Classes, flow: flow}, nil
}

// reserve is the budget a stream's phase run keeps for people's decisions:
// the rows its strategy escalates per phase.
func (r *runner) reserve(strategy string) int {
	if strategy == "triggered" {
		return r.cfg.Escalate
	}
	return 0
}

// buys says whether a strategy's streams get a purse: every strategy that
// buys gold, and any unlisted one (tests' spies).
func buys(strategy string) bool {
	for _, s := range Strategies() {
		if s.Name == strategy {
			return s.Budget
		}
	}
	return true
}

func (p *Purse) escalated() int {
	if p == nil {
		return 0
	}
	return p.sent
}

func (p *Purse) humanUsed() int {
	if p == nil {
		return 0
	}
	return p.used
}
