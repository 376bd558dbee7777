// Package drift is continual superalignment: re-aligning a strong student
// while the values it is aligned to drift, under a weak supervisor that is
// re-fitted each phase on a small gold sample and a gold budget bought
// through a per-phase oracle.
//
// A Scenario is a stream of phases over real data, each with its own
// hidden gold (spam-abrupt: hard ham becomes unwanted from phase 2;
// sentiment-gradual: imdb → yelp → amazon; sotu: State of the Union
// passages, party by era; a user file with a time or phase column). A
// Strategy sees, at phase t, a View built from phases 0..t only: the
// student's inputs, the weak labels each phase's supervisor gave, the
// previous student's predictions and a Purse that sells gold of phase t's
// training rows. It returns an Update: keep the student or train a fresh
// one for a train.Objective, which the runner trains on the strong student
// (probe or fine-tuned) with train.Fit through student.Student. Gold of
// test splits and of other phases stays in the runner's unexported truth.
//
// The Purse is the project's oracle: for each phase of a budgeted stream
// the runner registers a label-only run (that phase's training rows under
// its values, nothing else) with an oracle.Server it starts or is given
// (Config.Oracle), and the purse buys through an oracle.Client over HTTP,
// charged and audited there, closed when the step returns. The triggered
// strategy also escalates its next most disputed rows (Config.Escalate) to
// the run's review desk, whose budget keeps that many units for people's
// decisions; Config.OnDesk tells a person where the desk is. At later
// phases the purse hands the strategy the decisions (oracle Decisions) as
// gold; rows count escalated and human labels. The strategy side (view.go,
// strategy*.go) shares the package with the runner, so
// internal/isolation's DriftStrategyPolicy checks it names nothing of the
// runner's files but the Purse and none of their unexported members.
//
// Rows are per (phase, strategy, seed); Summarise turns them into stream
// metrics (average accuracy, backward transfer and forgetting on the
// examples whose values never change, plasticity, detection delay, gold
// spent, cumulative regret against the per-phase ceiling) with Student t
// intervals across seeds, and paired differences against retrain.
package drift
