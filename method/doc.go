// Package method holds the weak-to-strong methods: one file per method,
// opening with how the code computes it. Each method's paper, the code it
// follows and how superalign adapts it are written once, in the Info it
// registers; Catalogue (generated) shows them in godoc and METHODS.md on
// GitHub.
//
// A method describes, the runner trains. A method receives a View (frozen
// features of train_weak and train_strong, the weak labels [N, K] and a
// budget of train_weak gold; never the gold of train_strong or test) and
// returns a Plan: one or more stages, each an Objective (targets, rows, weights,
// loss, from package train) for the cell's student; a later stage may read
// the previous stage's predictions on train_strong. The Executor trains
// every stage on the student, a probe on frozen features or a pretrained
// encoder fine-tuned end to end, so every method runs on every student.
// Probes a method trains while it plans (P(IK), kNN graphs, specialists,
// ensemble members, bootstrap rungs) run on the view's frozen features.
// TestViewHasNoHiddenGold keeps the View free of hidden gold.
//
// # Gold accounting
//
// train_weak's gold is the supervisor's, but paired with the student's
// features it is a distilled ceiling, so a method reaches it only through
// View.Gold (gold.go), a budget the executor opens per run:
//
//   - Draw(n) gives n train_weak examples with gold and frozen strong
//     features, at most the method's declared gold=B (DeclaredGold;
//     default 0, 100 for selective, pik-only, pik-random and the
//     controls). The draw is a seeded subset, the same for every method
//     of a cell, so controls are gold-matched. Charged: rows record it as
//     gold_strong, and comparisons set the method against gold-probe:gold=B
//     and naive+gold:gold=B. An objective may train the student on drawn
//     examples (Objective.GoldRows; the executor feeds the student's
//     train_weak inputs and refuses rows not drawn).
//   - WeakSide() gives all of train_weak's gold for refitting weak-side
//     models (ensemble members and weights, co-supervision specialists):
//     free, as the weak model's own training is, since a model on weak
//     features cannot hold the student's knowledge; recorded (gold_used,
//     gold_features "weak") because a better supervisor moves the floor's
//     meaning. The executor's View.Features refuses the student's encoder
//     and stronger ones (WeakSideFeatures, ladder.go), so weak-side gold
//     cannot be paired with strong features.
//
// Methods may also refuse a cell before any work (Check: bootstrap with no
// intermediate encoder, cosupervise with two classes, a budget larger
// than train_weak). The controls of every comparison table are methods
// too (controls.go): the A/A null naive@aa, gold-probe and naive+gold.
//
// Methods are looked up by spec, NAME[:key=value,...]:
//
//	m, err := method.New("s2s:rounds=1")
//	plan, err := m.Plan(ctx, view)   // 2 stages: naive, then relabel and retrain
//	ex := &method.Executor{Student: st, Inputs: trainStrongInputs, Config: cfg,
//		Gold: pool, TrainWeakInputs: trainWeakInputs} // pool: method.NewGoldPool
//	tr, err := ex.Run(ctx, m, view) // trains both stages on st
//	probs, err := tr.Model.Predict(ctx, testInputs) // [nTest, K]
//
// On the sentiment cell of the tests (bow → glove:linear, 300 train_strong
// sentences) s2s:rounds=0 trains naive's student bit for bit, and
// s2s:rounds=1 a different one (TestDegenerateToNaive).
//
// # General options
//
// calibrate=true, accepted by every method (New, calibrate.go), plans the
// method on temperature-scaled weak labels: T is fitted (FitTemperature,
// golden-section on the log-loss, convex in 1/T) on the weak probe's
// 5-fold out-of-fold predictions of train_weak, whose gold comes through
// View.Gold.WeakSide (free, recorded as gold_used with gold_features
// "weak"), and the weak labels of train_strong are rescaled to
// softmax(log p / T) before the method sees them; argmaxes do not change,
// so naive-hard is unaffected. Predictions sharpened by a factor 2 are
// fitted T = 2 exactly (TestFitTemperature); on the sentiment cell of the
// tests the bow weak model is under-confident, T ≈ 0.56.
//
// Under --balance weight the runner sets Executor.ClassBalanced, which
// weights every stage's objective by inverse class frequency of its
// targets (train.ClassBalanced) after the method's own weights and gold
// rows, and View.WeakProbe/StrongProbe.ClassBalanced, which weights the
// probes a method fits while it plans; no method needs code of its own.
//
// Objectives of cleaning and selection methods carry a Selection, so eval
// can score what they kept or replaced against hidden gold. METHODS.md is
// generated from the registry (w2s methods --markdown).
package method
