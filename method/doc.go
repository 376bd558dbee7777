// Package method holds the weak-to-strong methods: one file per method, each
// opening with the paper it implements and how it is adapted.
//
// A method describes, the runner trains. A method receives a View (frozen
// features of train_weak and train_strong, the weak labels [N, K] and
// train_weak gold; never the gold of train_strong or test) and returns a
// Plan: one or more stages, each an Objective (targets, rows, weights,
// loss, from package train) for the cell's student; a later stage may read
// the previous stage's predictions on train_strong. The Executor trains
// every stage on the student, a probe on frozen features or a pretrained
// encoder fine-tuned end to end, so every method runs on every student.
// Probes a method trains while it plans (P(IK), kNN graphs, specialists,
// ensemble members, bootstrap rungs) run on the view's frozen features.
// TestViewHasNoHiddenGold keeps the View free of hidden gold.
//
// Methods are looked up by spec, NAME[:key=value,...]:
//
//	m, err := method.New("s2s:rounds=1")
//	plan, err := m.Plan(ctx, view)   // 2 stages: naive, then relabel and retrain
//	ex := &method.Executor{Student: st, Inputs: trainStrongInputs, Config: cfg}
//	tr, err := ex.Run(ctx, m, view) // trains both stages on st
//	probs, err := tr.Model.Predict(ctx, testInputs) // [nTest, K]
//
// On the sentiment cell of the tests (bow → glove:linear, 300 train_strong
// sentences) s2s:rounds=0 trains naive's student bit for bit, and
// s2s:rounds=1 a different one (TestDegenerateToNaive).
//
// Objectives of cleaning and selection methods carry a Selection, so eval
// can score what they kept or replaced against hidden gold. METHODS.md is
// generated from the registry (w2s methods --markdown).
package method
