// Package method holds the weak-to-strong methods: one file per method, each
// opening with the paper it implements and its adaptation to heads on frozen
// features. A method receives a View (features of train_weak and
// train_strong, the weak labels [N, K], the weak model and train_weak gold;
// never the gold of train_strong or test) and returns a Predictor over strong
// features. TestViewHasNoHiddenGold keeps the View free of hidden gold.
//
// Methods are looked up by spec, NAME[:key=value,...]:
//
//	m, err := method.New("logconf:schedule=linear")
//	student, err := m.Fit(ctx, view)      // view built by package experiment
//	probs, err := student.Predict(xTest)  // [nTest, Ds] -> [nTest, K]
//
// Students of cleaning and selection methods also implement Selection, so
// eval can score what they kept or replaced against hidden gold.
// METHODS.md is generated from the registry (w2s methods --markdown).
package method
