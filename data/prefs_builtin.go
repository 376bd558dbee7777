package data

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
)

// review-pairs: the built-in preference task. No preference data set ships
// through the registries this project reaches (npm, Debian, the Go module
// proxy), so it is built from real human judgements that do: the UCI
// Sentiment Labelled Sentences (sentiment@5.0.2), 3000 review sentences
// each labelled positive or negative by a person. Within each site (imdb,
// yelp, amazon: the pair's topic), the positive and the negative
// sentences are each shuffled with a fixed seed and the i-th positive is
// paired with the i-th negative, so every sentence is in exactly one pair
// and both sides of a pair come from the same site. The preferred side is
// the one the annotator labelled positive: the preference means "this
// review sentence speaks better of what it reviews". It is a graded
// combination of point-wise labels (the fallback), not a judge
// comparing two responses side by side; pairs have no context beyond their
// shared site and no strength. The position coin puts the preferred side on
// A or B at random (prefs.go).

// reviewPairSeed fixes the pairing and the position coin.
const reviewPairSeed = 0x17_0002

func loadReviewPairs(_ context.Context, dir string, log io.Writer) (*Dataset, error) {
	ss, skipped, err := readSentences(dir)
	if err != nil {
		return nil, err
	}
	coin := rand.New(rand.NewPCG(reviewPairSeed, 1))
	d := &Dataset{Classes: append([]string(nil), PairClasses...)}
	for src := range sentimentSources {
		var pos, neg []sentence
		for _, s := range ss {
			if s.source != src {
				continue
			}
			if s.sentiment == 1 {
				pos = append(pos, s)
			} else {
				neg = append(neg, s)
			}
		}
		shuffle := rand.New(rand.NewPCG(reviewPairSeed, uint64(10+src)))
		shuffle.Shuffle(len(pos), func(i, j int) { pos[i], pos[j] = pos[j], pos[i] })
		shuffle.Shuffle(len(neg), func(i, j int) { neg[i], neg[j] = neg[j], neg[i] })
		for i := 0; i < min(len(pos), len(neg)); i++ {
			if pos[i].text == neg[i].text {
				continue // cannot happen with one label per sentence; kept as a guard
			}
			p := Pair{A: pos[i].text, B: neg[i].text, Topic: sentimentSources[src], Graded: true, GradeA: 1, GradeB: 0}
			label := PairA
			if coin.IntN(2) == 1 {
				p, label = p.Swapped(), 0
			}
			d.Examples = append(d.Examples, Example{Pair: &p, Text: pairText(p), Label: label, Line: pos[i].line})
		}
	}
	if log != nil {
		c := d.ClassCounts()
		fmt.Fprintf(log, "data: review-pairs: %d pairs (A preferred %d, B preferred %d) from %d sentences, %d null rows skipped\n",
			len(d.Examples), c[PairA], c[0], len(ss), skipped)
	}
	return d, nil
}
