// Package oversight is superalign's scalable-oversight loop: a critic that
// scores weak labels for being wrong and explains itself, an attacker that
// finds inputs exposing the learner's errors, and a learner loop that spends
// a gold budget where they point. Gold of train_strong and test is reached
// only through an *oracle.Client (HTTP, per-run budget, audit log); the
// loop holds a method.View (features, weak labels) and nothing from package
// eval (TestLoopHasNoHiddenGold walks its types). train_weak gold with
// strong features comes from the executor's gold pool, charged to the
// loop's budget (Config.CriticGold).
//
// # Critic
//
// FitCritic fits a three-feature logistic regression that predicts "this
// weak label is wrong" from
//
//	x1 = 1 − weak confidence in the weak label
//	x2 = share of the 10 nearest labelled rows (cosine, strong features,
//	     package knn) whose label differs from the weak label
//	x3 = 1 − a strong probe's probability of the weak label
//
// learning from the critic's train_weak gold (Config.CriticGold examples,
// gold vs. a cross-fitted weak label) and from rows whose gold the loop
// has bought. Each Critique carries the score, the
// weak and probe predictions, the margin and the neighbours with their
// labels; Evidence renders them for the review desk.
//
// # Attacker
//
// Perturb makes rule-based edits with a known effect on the label: negation
// insertion/removal flips a sentiment label ("The movie is great." → "The
// movie is not great."), a synonym swap ("movie" → "film") and sentence
// reordering preserve it. An Attack encodes them once; Run replays them on a
// learner and reports the success rate: the share of edits where the
// prediction does not follow the expected behaviour (a flip that did not
// flip, a preserving edit that changed the answer). Mine ranks unlabelled
// rows by learner–critic disagreement, then low learner margin.
//
// # Loop
//
// Run trains the student on weak labels (round 0), then for each round fits
// the critic, buys the round's share of the budget on the unlabelled rows
// of highest critic score × (uncertainty + 0.1) (or at random, the
// baseline), escalates the attacker's hardest rows to the review desk,
// replaces the known rows' weak labels with one-hot gold (bought or human)
// and retrains. The critic's train_weak gold is part of the budget: the
// critic strategy gives its critic Config.CriticGold labels (half the
// budget in `w2s oversee`) and buys the rest, the random strategy buys
// it all. Worked example (sentiment, bow → glove, 900 examples, seed 0,
// budget 10% = 30 labels, 2 rounds): weak-only student 0.607 test
// accuracy (ceiling 0.747); 30 random labels reach 0.643 after round 1
// and 0.620 after round 2; the critic strategy, 15 train_weak labels for
// the critic and 15 bought, reaches 0.607 and 0.597. Until issue 12 the
// critic learnt from all 300 train_weak labels uncharged and reached
// 0.700: its lead over random was that free gold.
//
// Package experiment (RunOversee) builds the cells, hosts the oracle and
// scores each round against hidden gold into Rows; `w2s oversee` prints the
// Summaries.
package oversight
