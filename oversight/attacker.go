package oversight

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/student"
)

// Perturbation kinds.
const (
	KindNegate  = "negate"  // insert or remove a negation: flips a sentiment label
	KindSynonym = "synonym" // swap a word for a synonym: label-preserving
	KindReorder = "reorder" // reverse the order of sentences: label-preserving
)

// Perturbation is a rule-based edit of a text whose effect on the label is
// known in advance, so no gold is needed to judge the learner's answer.
type Perturbation struct {
	Source     int    `json:"source"` // index of the original text
	Kind       string `json:"kind"`
	Text       string `json:"text"`
	ExpectFlip bool   `json:"expect_flip"` // the label should change (binary tasks)
}

// auxiliaries after which "not" negates the clause.
var auxiliaries = map[string]bool{
	"is": true, "was": true, "are": true, "were": true, "am": true, "be": true,
	"do": true, "does": true, "did": true, "can": true, "could": true, "will": true,
	"would": true, "should": true, "has": true, "have": true, "had": true, "may": true, "might": true, "must": true,
}

// contractions undone by negation removal.
var contractions = map[string]string{
	"isn't": "is", "wasn't": "was", "aren't": "are", "weren't": "were", "don't": "do",
	"doesn't": "does", "didn't": "did", "can't": "can", "couldn't": "could", "won't": "will",
	"wouldn't": "would", "shouldn't": "should", "hasn't": "has", "haven't": "have", "hadn't": "had",
}

// synonyms are swaps that keep a sentence's sentiment (and its meaning, to
// first order). Both polarity words and neutral ones are included, so a
// learner that keys on a surface form rather than its meaning is exposed.
var synonyms = map[string]string{
	"movie": "film", "film": "movie", "good": "fine", "great": "excellent", "excellent": "great",
	"bad": "poor", "poor": "bad", "terrible": "awful", "awful": "terrible", "boring": "dull",
	"dull": "boring", "funny": "amusing", "nice": "pleasant", "very": "really", "really": "truly",
	"love": "adore", "loved": "adored", "hate": "detest", "hated": "detested", "food": "meal",
	"phone": "handset", "place": "spot", "service": "staff", "quality": "build", "worst": "poorest",
	"best": "finest", "waste": "squandering", "disappointed": "let down", "recommend": "endorse",
	"amazing": "wonderful", "wonderful": "amazing", "beautiful": "lovely", "horrible": "dreadful",
	"fantastic": "superb", "delicious": "tasty", "story": "plot", "actors": "cast", "works": "functions",
	"product": "item", "price": "cost", "fast": "quick", "slow": "sluggish", "friendly": "kind",
}

// Perturb returns the rule-based perturbations of one text: at most one of
// each kind. negationFlips says whether a negation changes the label (true
// for sentiment); when false negations are not produced.
func Perturb(text string, negationFlips bool) []Perturbation {
	words := strings.Fields(text)
	var out []Perturbation
	if negationFlips {
		if t, ok := negate(words); ok {
			out = append(out, Perturbation{Kind: KindNegate, Text: t, ExpectFlip: true})
		}
	}
	for i, w := range words {
		core, pre, post := trimPunct(w)
		if s, ok := synonyms[strings.ToLower(core)]; ok {
			if core != "" && core[0] >= 'A' && core[0] <= 'Z' {
				s = strings.ToUpper(s[:1]) + s[1:]
			}
			nw := append([]string(nil), words...)
			nw[i] = pre + s + post
			out = append(out, Perturbation{Kind: KindSynonym, Text: strings.Join(nw, " ")})
			break
		}
	}
	if sents := sentences(text); len(sents) >= 2 {
		for i, j := 0, len(sents)-1; i < j; i, j = i+1, j-1 {
			sents[i], sents[j] = sents[j], sents[i]
		}
		if t := strings.Join(sents, " "); t != strings.Join(strings.Fields(text), " ") {
			out = append(out, Perturbation{Kind: KindReorder, Text: t})
		}
	}
	return out
}

// negate removes the first negation ("not", "never", "no", an n't
// contraction) or, when there is none, inserts "not" after the first
// auxiliary verb. It reports false when neither applies.
func negate(words []string) (string, bool) {
	for i, w := range words {
		core, pre, post := trimPunct(w)
		lc := strings.ToLower(core)
		switch {
		case lc == "not" || lc == "never":
			nw := append(append([]string(nil), words[:i]...), words[i+1:]...)
			if pre+post != "" && i > 0 { // keep punctuation that hung on the removed word
				nw[i-1] += post
			}
			return strings.Join(nw, " "), len(nw) > 0
		case contractions[lc] != "":
			nw := append([]string(nil), words...)
			nw[i] = pre + contractions[lc] + post
			return strings.Join(nw, " "), true
		}
	}
	for i, w := range words {
		core, _, post := trimPunct(w)
		if auxiliaries[strings.ToLower(core)] && post == "" {
			nw := append(append(append([]string(nil), words[:i+1]...), "not"), words[i+1:]...)
			return strings.Join(nw, " "), true
		}
	}
	return "", false
}

// trimPunct splits leading and trailing punctuation off a word.
func trimPunct(w string) (core, pre, post string) {
	isP := func(r rune) bool { return strings.ContainsRune(`.,!?;:"()[]`, r) }
	core = strings.TrimLeftFunc(w, isP)
	pre = w[:len(w)-len(core)]
	c2 := strings.TrimRightFunc(core, isP)
	post = core[len(c2):]
	return c2, pre, post
}

// sentences splits on '.', '!' and '?' followed by a space, keeping the marks.
func sentences(text string) []string {
	var out []string
	start := 0
	f := strings.Join(strings.Fields(text), " ")
	for i := 0; i < len(f); i++ {
		if (f[i] == '.' || f[i] == '!' || f[i] == '?') && (i+1 == len(f) || f[i+1] == ' ') {
			if s := strings.TrimSpace(f[start : i+1]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(f[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// Attack is a fixed set of perturbations of some texts, turned once into the
// learner's inputs (frozen features for a probe, the texts themselves for a
// fine-tuned encoder), so the same probes can be replayed on every round's
// learner. Texts are inputs only: no label is used to build or judge it.
type Attack struct {
	Perturbations []Perturbation
	orig          student.Inputs // the originals
	pert          student.Inputs // the perturbed texts
}

// NewAttack perturbs texts and turns originals and perturbations into the
// learner's inputs with inputs.
func NewAttack(ctx context.Context, texts []string, inputs func(ctx context.Context, texts []string) (student.Inputs, error), negationFlips bool) (*Attack, error) {
	a := &Attack{}
	var ptexts []string
	for i, t := range texts {
		for _, p := range Perturb(t, negationFlips) {
			p.Source = i
			a.Perturbations = append(a.Perturbations, p)
			ptexts = append(ptexts, p.Text)
		}
	}
	if len(ptexts) == 0 {
		return nil, fmt.Errorf("oversight: none of %d texts admits a perturbation", len(texts))
	}
	var err error
	if a.orig, err = inputs(ctx, texts); err != nil {
		return nil, fmt.Errorf("oversight: attack originals: %w", err)
	}
	if a.pert, err = inputs(ctx, ptexts); err != nil {
		return nil, fmt.Errorf("oversight: attack perturbations: %w", err)
	}
	return a, nil
}

// AttackStats is how often the learner's prediction does not follow the
// expected label behaviour: for a flipping perturbation, the prediction stays;
// for a preserving one, it changes. Rates are NaN for kinds with no probes.
type AttackStats struct {
	Success float64            `json:"success"` // over all perturbations
	ByKind  map[string]float64 `json:"by_kind"`
	N       int                `json:"n"`
}

// Run replays the attack on a learner.
func (a *Attack) Run(ctx context.Context, learner student.Model) (AttackStats, error) {
	po, err := learner.Predict(ctx, a.orig)
	if err != nil {
		return AttackStats{}, fmt.Errorf("oversight: attack originals: %w", err)
	}
	pp, err := learner.Predict(ctx, a.pert)
	if err != nil {
		return AttackStats{}, fmt.Errorf("oversight: attack perturbations: %w", err)
	}
	yo, yp := po.Argmax(), pp.Argmax()
	hits, counts := map[string]int{}, map[string]int{}
	total := 0
	for i, pt := range a.Perturbations {
		changed := yp[i] != yo[pt.Source]
		counts[pt.Kind]++
		if changed != pt.ExpectFlip {
			hits[pt.Kind]++
			total++
		}
	}
	st := AttackStats{Success: float64(total) / float64(len(a.Perturbations)), ByKind: map[string]float64{}, N: len(a.Perturbations)}
	for k, n := range counts {
		st.ByKind[k] = float64(hits[k]) / float64(n)
	}
	return st, nil
}

// Mine ranks unlabelled train_strong rows by how likely they expose the
// learner's errors (hardest first): rows where the learner agrees with a weak
// label the critic doubts (critic score > 0.5) come first, then every row by
// low learner margin. critic may be nil (margin only). Rows in skip are left out.
func Mine(student data.Matrix, weakLabels data.Matrix, critic []float64, skip Known) []int {
	sl := student.Argmax()
	wl := weakLabels.Argmax()
	type cand struct {
		i    int
		hard float64
	}
	var cs []cand
	for i := 0; i < student.Rows; i++ {
		if _, ok := skip[i]; ok {
			continue
		}
		_, _, margin := top2(student.Row(i))
		h := 1 - margin // low margin: the learner is unsure
		if critic != nil && critic[i] > 0.5 && sl[i] == wl[i] {
			h += 1 + critic[i] // learner–critic disagreement
		}
		cs = append(cs, cand{i, h})
	}
	sort.SliceStable(cs, func(a, b int) bool {
		if cs[a].hard != cs[b].hard {
			return cs[a].hard > cs[b].hard
		}
		return cs[a].i < cs[b].i
	})
	out := make([]int, len(cs))
	for j, c := range cs {
		out[j] = c.i
	}
	return out
}

// uncertainty is 1 − the top-1/top-2 margin of a probability row.
func uncertainty(p []float32) float64 {
	_, _, m := top2(p)
	return math.Max(0, 1-m)
}
