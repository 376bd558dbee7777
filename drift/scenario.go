package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
)

// Scenario is a stream of phases over one set of texts. Each phase draws
// its own examples (Phase.Pool, disjoint across phases) and has its own
// values: the gold label of example i under phase p's values is gold[p][i].
// The gold is unexported: only this package's evaluation side and the
// per-phase oracle read it, so a strategy, which sees a View, cannot.
type Scenario struct {
	Name        string
	Description string
	// Data holds the texts (and the content hash the feature cache keys
	// on). Its Example.Label is the source dataset's label (a subset kind,
	// a site), not a phase's gold: nothing given to a strategy reads it.
	Data    *data.Dataset
	Classes []string // the task's classes, what gold indexes
	Phases  []Phase
	// ChangePoint is the first phase whose values or inputs differ from
	// phase 0's: detection delay is counted from it.
	ChangePoint int
	gold        [][]int // [phase][example] → class under that phase's values
	// times, when set, is each example's time (a year): WriteFile then
	// writes a time column instead of the phase.
	times []float64
}

// Phase is one period of the stream.
type Phase struct {
	Name string
	Pool []int // examples of Data drawn in this phase, in a fixed order
}

// Gold is the label of example i under phase p's values (package-internal:
// the evaluation side and the oracle).
func (s *Scenario) goldOf(p, i int) int { return s.gold[p][i] }

// stable reports whether example i has one label under every phase's
// values: forgetting and backward transfer are measured on such examples
// only, since on the others the old answer is now wrong by design.
func (s *Scenario) stable(i int) bool {
	for p := 1; p < len(s.gold); p++ {
		if s.gold[p][i] != s.gold[0][i] {
			return false
		}
	}
	return true
}

// Check verifies the scenario's shape: at least two phases, every phase
// with examples of at least two classes, pools disjoint.
func (s *Scenario) Check() error {
	if len(s.Phases) < 2 {
		return fmt.Errorf("drift: scenario %s has %d phase(s), need at least 2", s.Name, len(s.Phases))
	}
	seen := map[int]int{}
	for p, ph := range s.Phases {
		classes := map[int]bool{}
		for _, i := range ph.Pool {
			if q, ok := seen[i]; ok {
				return fmt.Errorf("drift: scenario %s: example %d is in phases %d and %d", s.Name, i, q, p)
			}
			seen[i] = p
			classes[s.gold[p][i]] = true
		}
		if len(classes) < 2 {
			return fmt.Errorf("drift: scenario %s: phase %q has examples of %d class(es), need at least 2", s.Name, ph.Name, len(classes))
		}
	}
	return nil
}

// ScenarioInfo describes a built-in scenario.
type ScenarioInfo struct{ Name, Description string }

// Scenarios lists the built-in scenarios.
func Scenarios() []ScenarioInfo {
	return []ScenarioInfo{
		{"spam-abrupt", "abrupt value change: SpamAssassin ham/spam in 4 phases; from phase 2 on the user also wants hard ham (spam-like legitimate mail) filtered"},
		{"sentiment-gradual", "gradual drift: review sentiment in 5 phases moving imdb → imdb+yelp → yelp → yelp+amazon → amazon"},
		{"sotu", "real temporal drift: State of the Union passages (3 sentences), Democratic vs Republican president, in 5 eras 1853-1900, 1901-32, 1933-68, 1969-2000, 2001-21"},
	}
}

// Load builds the built-in scenario name, or reads a scenario file
// (drift.ReadFile) when name is a path. perPhase caps the examples a phase
// draws (0: the scenario's default).
func Load(ctx context.Context, name string, perPhase int, log io.Writer) (*Scenario, error) {
	var s *Scenario
	var err error
	switch name {
	case "spam-abrupt":
		s, err = spamAbrupt(ctx, perPhase, log)
	case "sentiment-gradual":
		s, err = sentimentGradual(ctx, perPhase, log)
	case "sotu":
		s, err = sotu(ctx, perPhase, log)
	default:
		if _, statErr := os.Stat(name); statErr != nil {
			var names []string
			for _, i := range Scenarios() {
				names = append(names, i.Name)
			}
			return nil, fmt.Errorf("drift: %q is neither a built-in scenario (%s) nor a readable file: %w", name, strings.Join(names, ", "), statErr)
		}
		s, err = ReadFile(name, perPhase)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// scenarioRand is the one random stream of scenario construction: fixed,
// not the run's seed, so a scenario is the same stream in every run and
// seeds vary only the splits and initialisations.
func scenarioRand(name string) *rand.Rand {
	h := uint64(14695981039346656037)
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(h, 0xd71f7))
}

// take removes up to n items from the front of *from.
func take(from *[]int, n int) []int {
	n = min(n, len(*from))
	out := slices.Clone((*from)[:n])
	*from = (*from)[n:]
	return out
}

func shuffled(r *rand.Rand, idx []int) []int {
	out := slices.Clone(idx)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// spamAbrupt: the spam-subset mails (easy ham, hard ham, spam) as a binary
// ham/spam task in 4 phases. In phase 1 (index 0) hard ham is ham, as the
// corpus labels it; from phase 2 (index 1) on the user's values change:
// hard ham, legitimate but spam-like mail (newsletters, promotions), is to
// be filtered too. Easy ham and spam keep their labels: they are the part
// on which forgetting is measured. Each phase draws 200 easy ham, 200 spam
// and a quarter of the 250 hard-ham mails (perPhase scales all three).
func spamAbrupt(ctx context.Context, perPhase int, log io.Writer) (*Scenario, error) {
	d, err := data.LoadBuiltin(ctx, "spam-subset", log)
	if err != nil {
		return nil, err
	}
	const phases, change = 4, 1
	byKind := make([][]int, 3) // easy ham, hard ham, spam
	for i, ex := range d.Examples {
		byKind[ex.Label] = append(byKind[ex.Label], i)
	}
	r := scenarioRand("spam-abrupt")
	for k := range byKind {
		byKind[k] = shuffled(r, byKind[k])
	}
	easy, hard, spam := 200, len(byKind[1])/phases, 200
	if perPhase > 0 {
		total := easy + hard + spam
		easy, hard, spam = perPhase*easy/total, max(4, perPhase*hard/total), perPhase*spam/total
	}
	s := &Scenario{Name: "spam-abrupt", Data: d, Classes: []string{"keep", "filter"}, ChangePoint: change,
		Description: "SpamAssassin, 4 phases; hard ham becomes unwanted from phase 2"}
	for p := range phases {
		pool := append(append(take(&byKind[0], easy), take(&byKind[1], hard)...), take(&byKind[2], spam)...)
		s.Phases = append(s.Phases, Phase{Name: fmt.Sprintf("phase %d", p+1), Pool: shuffled(r, pool)})
		g := make([]int, len(d.Examples))
		for i, ex := range d.Examples {
			switch ex.Label {
			case 0:
				g[i] = 0
			case 1:
				if p >= change {
					g[i] = 1
				}
			case 2:
				g[i] = 1
			}
		}
		s.gold = append(s.gold, g)
	}
	return s, nil
}

// sentimentGradual: the UCI review sentences, sentiment labels unchanged,
// while the stream's source moves imdb → yelp → amazon through mixed
// phases (covariate drift: what "positive" looks like changes).
func sentimentGradual(ctx context.Context, perPhase int, log io.Writer) (*Scenario, error) {
	d, err := data.LoadBuiltin(ctx, "review-source", log)
	if err != nil {
		return nil, err
	}
	s0, err := data.LoadBuiltin(ctx, "sentiment", nil)
	if err != nil {
		return nil, err
	}
	if len(s0.Examples) != len(d.Examples) {
		return nil, fmt.Errorf("drift: sentiment (%d) and review-source (%d) disagree in length", len(s0.Examples), len(d.Examples))
	}
	n := 400
	if perPhase > 0 {
		n = perPhase
	}
	bySrc := make([][]int, 3)
	for i, ex := range d.Examples {
		if ex.Text != s0.Examples[i].Text {
			return nil, fmt.Errorf("drift: sentiment and review-source differ at sentence %d", i)
		}
		bySrc[ex.Label] = append(bySrc[ex.Label], i)
	}
	r := scenarioRand("sentiment-gradual")
	for k := range bySrc {
		bySrc[k] = shuffled(r, bySrc[k])
	}
	mixes := [][3]float64{{1, 0, 0}, {.5, .5, 0}, {0, 1, 0}, {0, .5, .5}, {0, 0, 1}}
	names := []string{"imdb", "imdb+yelp", "yelp", "yelp+amazon", "amazon"}
	g := make([]int, len(d.Examples))
	for i := range g {
		g[i] = s0.Examples[i].Label
	}
	s := &Scenario{Name: "sentiment-gradual", Data: d, Classes: s0.Classes, ChangePoint: 1,
		Description: "review sentiment, source imdb → yelp → amazon over 5 phases"}
	for p, mix := range mixes {
		var pool []int
		for src, w := range mix {
			pool = append(pool, take(&bySrc[src], int(w*float64(n)+0.5))...)
		}
		s.Phases = append(s.Phases, Phase{Name: names[p], Pool: shuffled(r, pool)})
		s.gold = append(s.gold, g)
	}
	return s, nil
}

// sotuEras are the phases of the sotu scenario (inclusive years).
var sotuEras = [][2]int{{1853, 1900}, {1901, 1932}, {1933, 1968}, {1969, 2000}, {2001, 2021}}

var sentenceEnd = regexp.MustCompile(`[.!?]["”’)]?\s+`)

// passages cuts an address into passages of three sentences (the texts
// have no paragraph breaks), dropping those under 150 characters.
func passages(text string) []string {
	var sents []string
	last := 0
	for _, m := range sentenceEnd.FindAllStringIndex(text, -1) {
		sents = append(sents, strings.TrimSpace(text[last:m[1]]))
		last = m[1]
	}
	if t := strings.TrimSpace(text[last:]); t != "" {
		sents = append(sents, t)
	}
	var out []string
	for i := 0; i+3 <= len(sents); i += 3 {
		p := strings.Join(sents[i:i+3], " ")
		if len(p) >= 150 {
			out = append(out, p)
		}
	}
	return out
}

// sotu: passages of State of the Union addresses labelled by the
// president's party (Democratic 0, Republican 1), one phase per era. The
// label's meaning is fixed; what each party says about the world is not
// (the parties' platforms realigned over the 20th century), so a
// supervisor and a student aligned on one era drift out of line in the
// next. Each era draws up to 150 passages per party (perPhase splits
// evenly between the parties).
func sotu(ctx context.Context, perPhase int, log io.Writer) (*Scenario, error) {
	dir, err := assets.Ensure(ctx, "sotu", log)
	if err != nil {
		return nil, fmt.Errorf("drift: sotu: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "data", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	perClass := 150
	if perPhase > 0 {
		perClass = max(2, perPhase/2)
	}
	type passage struct {
		text       string
		era, party int
		year       int
	}
	var all []passage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var a struct {
			Year  int    `json:"year"`
			Party string `json:"party"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		party := map[string]int{"Democratic": 0, "Republican": 1}
		pa, ok := party[a.Party]
		if !ok {
			continue
		}
		era := -1
		for e, span := range sotuEras {
			if a.Year >= span[0] && a.Year <= span[1] {
				era = e
			}
		}
		if era < 0 {
			continue
		}
		for _, t := range passages(a.Text) {
			all = append(all, passage{t, era, pa, a.Year})
		}
	}
	r := scenarioRand("sotu")
	d := &data.Dataset{Name: "sotu", Source: dir, Classes: []string{"Democratic", "Republican"}}
	s := &Scenario{Name: "sotu", Data: d, Classes: d.Classes, ChangePoint: 1,
		Description: "State of the Union passages, party by era"}
	for e, span := range sotuEras {
		var pool []int
		for pa := range 2 {
			var cand []int
			for i, p := range all {
				if p.era == e && p.party == pa {
					cand = append(cand, i)
				}
			}
			cand = shuffled(r, cand)
			for _, i := range cand[:min(perClass, len(cand))] {
				pool = append(pool, len(d.Examples))
				d.Examples = append(d.Examples, data.Example{Text: all[i].text, Label: pa, Line: i + 1})
				s.times = append(s.times, float64(all[i].year))
			}
		}
		s.Phases = append(s.Phases, Phase{Name: fmt.Sprintf("%d-%d", span[0], span[1]), Pool: shuffled(r, pool)})
	}
	g := make([]int, len(d.Examples))
	for i, ex := range d.Examples {
		g[i] = ex.Label
	}
	for range s.Phases {
		s.gold = append(s.gold, g)
	}
	if log != nil {
		fmt.Fprintf(log, "drift: sotu: %d passages in %d eras\n", len(d.Examples), len(s.Phases))
	}
	return s, nil
}
