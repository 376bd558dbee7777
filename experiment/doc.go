// Package experiment runs the weak-to-strong protocol of DESIGN.md: for each
// dataset and seed it balances and splits the data, trains the weak model on
// train_weak gold, labels train_strong with it, trains the ceiling on
// train_strong gold, hands each method a method.View (no hidden gold) and
// scores the students with eval. The weak model, weak labels, floor and
// ceiling of a seed are shared by all methods, so comparisons are paired.
//
// It is the only package that sees a dataset's labels and splits them: the
// train_weak gold goes into the view, the train_strong and test gold into an
// eval.Hidden that methods never receive.
//
// Example: the demo's cell on one dataset, resumable in runs/x.
//
//	spec := experiment.DefaultSpec()
//	spec.Datasets = []string{"sentiment"}
//	spec.Methods = []string{"naive", "logconf"}
//	r := &experiment.Runner{Cache: &encode.Cache{}, Out: store.RunDir{Dir: "runs/x"}, Log: os.Stderr}
//	rows, sums, err := r.Run(ctx, spec) // rows: one per method × seed; sums: PGR means with 95% CIs
//
// CellRunner runs single cells of a sweep (package sweep), sharing trained
// weak models and ceilings across processes through checksummed files.
package experiment
