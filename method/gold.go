package method

// The gold budget: how a method reaches train_weak's gold labels.
//
// train_weak is the weak supervisor's own training data, so its gold is
// the supervisor's and an experimenter holds it. What a method may do with
// it depends on the features it pairs it with:
//
//   - Paired with the strong student's features (or inputs), gold is
//     the student's own ceiling in miniature: a strong probe trained on
//     train_weak's gold is a distilled ceiling, not weak-to-strong
//     generalisation. Such gold is charged: a method declares gold=B, the
//     executor opens a budget of B labels for it, and GoldBudget.Draw
//     hands out a seeded subset of train_weak (the same subset for every
//     method of the cell, so gold-matched controls see the same labels),
//     with the examples' frozen strong features. The row records the
//     labels drawn (gold_strong) and the comparison table sets the method
//     against the controls at the same B (gold-probe, naive+gold).
//   - Paired with weak-side features (the weak encoder's, or an encoder
//     weaker than the student's, through View.Features), gold builds more
//     weak supervisors from the supervisor's own data: ensemble members,
//     co-supervision specialists, the critic's cross-fitted weak labels.
//     That is free, as the weak model's own training is (it IS the
//     supervisor): such a model cannot contain the student's knowledge,
//     whatever labels it saw. It is recorded all the same (gold_used,
//     gold_features "weak"), because a better supervisor built from more
//     weak models moves what "the floor" means, and readers should see it.
//     GoldBudget.WeakSide hands it out.
//
// Nothing else in the view carries train_weak gold or train_weak strong
// features: the View has no such field (TestViewHasNoHiddenGold,
// TestTrainWeakStrongFeaturesOnlyThroughBudget), the executor's view
// refuses View.Features of encoders as strong as the student's
// (WeakSideFeatures), and only the executor opens budgets (a source rule
// of internal/isolation forbids GoldPool.OpenBudget elsewhere).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/superalign/superalign/data"
)

// DefaultGold is the budget of the methods whose paper needs gold
// (selective's P(IK)) and of the controls: 100 labels, a tenth of
// sentiment's train_weak and a twentieth of spam's. One default for all
// keeps the default methods and their controls matched.
const DefaultGold = 100

// GoldPool is a cell's train_weak gold with the examples' frozen strong
// features, held by the runner (Executor.Gold), never by a method: methods
// get a GoldBudget the executor opens on it, capped at what they declare.
type GoldPool struct {
	strong data.Matrix // [Nw, Ds] frozen strong features of train_weak
	gold   []int       // [Nw]
	order  []int       // the draw order: a permutation of train_weak seeded by the cell
}

// NewGoldPool holds train_weak's strong features [Nw, Ds] and gold [Nw];
// seed (derived from the cell's seed) fixes the order in which budgets
// draw examples, so that every method of a cell that draws B labels gets
// the same B, and a smaller budget's labels are a prefix of a larger one's.
func NewGoldPool(strong data.Matrix, gold []int, seed int64) (*GoldPool, error) {
	if strong.Rows != len(gold) {
		return nil, fmt.Errorf("gold pool: %d strong feature rows for %d labels", strong.Rows, len(gold))
	}
	order := rand.New(rand.NewPCG(uint64(seed), 0x601d)).Perm(len(gold))
	return &GoldPool{strong: strong, gold: gold, order: order}, nil
}

// Len is the number of train_weak examples in the pool (0 for nil).
func (p *GoldPool) Len() int {
	if p == nil {
		return 0
	}
	return len(p.gold)
}

// OpenBudget returns a fresh budget of at most n strong-feature labels on
// the pool, with its own count. Only the executor (for a method's
// declaration) and the oversight loop (for its critic) open budgets. A nil
// pool opens a budget with no gold at all.
func (p *GoldPool) OpenBudget(n int) *GoldBudget {
	b := &GoldBudget{limit: max(0, n)}
	if p != nil {
		b.strong, b.gold, b.order = p.strong, p.gold, p.order
	}
	return b
}

// GoldBudget is a method's access to train_weak gold (see the file
// comment): Draw for labels paired with strong features (charged, at most
// the declared budget), WeakSide for labels to refit weak-side models
// (free, recorded). Safe for concurrent use.
type GoldBudget struct {
	strong data.Matrix
	gold   []int
	order  []int
	limit  int

	mu       sync.Mutex
	drawn    int  // the longest prefix of order handed out
	weakSide bool // WeakSide was called
}

// GoldSample is n train_weak examples with their gold and frozen strong
// features, rows aligned. Rows index train_weak (View.TrainWeak), in draw
// order: Draw(n) is always the first n rows of Draw(m) for m >= n.
type GoldSample struct {
	Rows   []int
	Strong data.Matrix // [n, Ds]
	Gold   []int       // [n]
}

// Draw returns n examples of train_weak with their gold labels and strong
// features. It fails when n exceeds what the method declared (its gold=B)
// or train_weak's size, never silently giving fewer.
func (b *GoldBudget) Draw(n int) (GoldSample, error) {
	if b == nil {
		return GoldSample{}, fmt.Errorf("gold budget: no budget in this view (methods reach train_weak gold only through the executor)")
	}
	switch {
	case n < 1:
		return GoldSample{}, fmt.Errorf("gold budget: drawing %d labels", n)
	case n > b.limit:
		return GoldSample{}, fmt.Errorf("gold budget: drawing %d train_weak labels with strong features, but the method declared gold=%d", n, b.limit)
	case n > len(b.order):
		return GoldSample{}, fmt.Errorf("gold budget: gold=%d exceeds train_weak's %d examples", n, len(b.order))
	}
	b.mu.Lock()
	b.drawn = max(b.drawn, n)
	b.mu.Unlock()
	rows := append([]int(nil), b.order[:n]...)
	s := GoldSample{Rows: rows, Strong: b.strong.SelectRows(rows), Gold: make([]int, n)}
	for j, i := range rows {
		s.Gold[j] = b.gold[i]
	}
	return s, nil
}

// WeakSide returns the gold of every train_weak example [Nw], for
// refitting weak-side models: the weak encoder's features
// (View.TrainWeak.Weak) or those of an encoder weaker than the student
// (View.Features). Free (it is the supervisor's own data) and recorded.
func (b *GoldBudget) WeakSide() ([]int, error) {
	if b == nil || b.gold == nil {
		return nil, fmt.Errorf("gold budget: no train_weak gold in this view")
	}
	b.mu.Lock()
	b.weakSide = true
	b.mu.Unlock()
	return append([]int(nil), b.gold...), nil
}

// Limit is the number of strong-feature labels the budget allows.
func (b *GoldBudget) Limit() int {
	if b == nil {
		return 0
	}
	return b.limit
}

// drawnRows reports which train_weak rows have been drawn (strong
// features): the executor trains the student only on those.
func (b *GoldBudget) drawnRows() map[int]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[int]bool, b.drawn)
	for _, i := range b.order[:b.drawn] {
		out[i] = true
	}
	return out
}

// Use is what the budget handed out so far.
func (b *GoldBudget) Use() GoldUse {
	if b == nil {
		return GoldUse{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u := GoldUse{Strong: b.drawn}
	if b.weakSide {
		u.Weak = len(b.gold)
	}
	return u
}

// GoldUse is how much train_weak gold a run read beyond the weak model's
// own training.
type GoldUse struct {
	// Strong counts labels drawn with strong features (charged: the B of
	// the gold-matched controls).
	Strong int
	// Weak counts labels read for weak-side refits (free): all of
	// train_weak, or none.
	Weak int
}

// Labels is the number of distinct train_weak labels read: drawn rows are
// train_weak rows, so with weak-side reads (all of them) it is their count.
func (u GoldUse) Labels() int { return max(u.Strong, u.Weak) }

// Features says what the labels were paired with: "strong", "weak",
// "strong+weak", or "" for none.
func (u GoldUse) Features() string {
	switch {
	case u.Strong > 0 && u.Weak > 0:
		return "strong+weak"
	case u.Strong > 0:
		return "strong"
	case u.Weak > 0:
		return "weak"
	}
	return ""
}

// GoldDeclarer is a method that uses strong-feature gold: DeclaredGold is
// its gold=B, the most its budget allows.
type GoldDeclarer interface {
	DeclaredGold() int
}

// DeclaredGold is m's declared budget, 0 for a method that declares none.
func DeclaredGold(m Method) int {
	if d, ok := m.(GoldDeclarer); ok {
		return d.DeclaredGold()
	}
	return 0
}

// goldParam reads a method's gold=B parameter (default def, >= min).
func goldParam(p Params, def, least int) (int, error) {
	b, err := p.Int("gold", def)
	if err != nil {
		return 0, err
	}
	if b < least {
		return 0, fmt.Errorf("gold=%d: want at least %d labels", b, least)
	}
	return b, nil
}

// WeakSideFeatures wraps a View.Features provider so that it refuses the
// student's own encoder and any encoder at least as strong
// (EncoderWeaker): features of train_weak under such an encoder, paired
// with the free weak-side gold, would be strong-feature gold outside the
// budget. The executor hands every method a view with this wrapper;
// runners may wrap their providers too. A nil provider stays nil.
func WeakSideFeatures(f func(ctx context.Context, encoder string) (data.Matrix, data.Matrix, error), strongEncoder string) func(ctx context.Context, encoder string) (data.Matrix, data.Matrix, error) {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, encoder string) (data.Matrix, data.Matrix, error) {
		if err := weakSideEncoder(encoder, strongEncoder); err != nil {
			return data.Matrix{}, data.Matrix{}, err
		}
		return f(ctx, encoder)
	}
}

// weakSideEncoder fails when enc is the strong encoder or, on a ladder
// that ranks both, not weaker than it.
func weakSideEncoder(enc, strong string) error {
	if strong == "" {
		return nil
	}
	if enc == strong {
		return fmt.Errorf("features of the student's own encoder %q for train_weak: its gold would pair with strong features outside the gold budget (draw them with View.Gold.Draw)", enc)
	}
	if weaker, ranked := EncoderWeaker(enc, strong); ranked && !weaker {
		return fmt.Errorf("encoder %q is at least as strong as the student's %q: only weaker encoders' features are available (strong-feature gold comes through View.Gold.Draw)", enc, strong)
	}
	return nil
}
