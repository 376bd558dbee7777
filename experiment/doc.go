// Package experiment runs the weak-to-strong protocol: one cell, one code
// path, one key scheme for `w2s run`, sweep cells and `w2s oversee`.
//
// A cell (CellRunner.Cell) is one dataset, weak → strong pair and seed: it
// balances (CellSpec.Balance: undersample by default, none keeps the
// natural class mix, weight keeps it and weights the loss of the weak
// model, the ceiling, every student stage and the probes methods fit by
// inverse class frequency) and splits the data (stratified), trains the
// weak student on train_weak gold
// and lets it label train_strong, trains the ceiling (the strong student on
// train_strong gold), and assembles the method.View (frozen features of
// both encoders, weak labels) and the method.Executor that trains the
// cell's strong student, a probe or a fine-tuned encoder, on a method's
// plan. train_weak's gold and strong features go into the executor's
// method.GoldPool, from which each method gets a budget of its declared
// gold=B (rows record gold_used, gold_strong, gold_features), and the
// student's train_weak inputs let objectives train it on drawn examples
// (the gold controls). The gold of train_strong and test goes into an
// eval.Hidden that methods never receive. RunMethod runs one method on a
// cell and scores its student; the methods of a seed share the cell, so
// comparisons are paired.
//
// Rows are scored on CellSpec.PGRMetric (accuracy by default; auroc,
// balanced-accuracy, macro-f1) and record the balancing mode, the metric,
// the class mix of each split and the weak labels' calibration error. The
// two settings enter the keys only when they are not the defaults, so
// every key, config hash and row computed before them stays valid: the
// balancing mode in the split (teachers and below), the metric in the
// setup and the student node (teachers are shared across metrics).
//
// Every expensive piece is computed once: features through the
// content-addressed feature cache; the weak model's and the ceiling's
// predictions through the teacher cache (teachers.go), keyed by the cell's
// job-graph keys (CellKeys) and locked across processes, so a fine-tuned
// ceiling is trained once per (dataset, split, student, settings) by
// whichever run, sweep task or oversight loop needs it first. Fine-tunes
// checkpoint into CellRunner.Checkpoints and resume bit-exactly after a
// kill, inside any stage of any method.
//
// Runner.Run checks every method against every dataset before any work
// (method.Check, with CellRunner.Info): a method that refuses a cell fails
// the run, or is left out of that dataset when Spec.SkipInapplicable (set
// by `--method all`). DefaultSeeds is 10.
//
// Example: the methods of one seed, resumable in runs/x.
//
//	spec := experiment.DefaultSpec()
//	spec.Datasets = []string{"sentiment"}
//	spec.Weak, spec.Strong = "glove", "use-lite-ft"
//	spec.Methods = []string{"naive", "logconf", "s2s"}
//	r := &experiment.Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: "runs/x"}, Log: os.Stderr}
//	rows, sums, err := r.Run(ctx, spec) // rows: one per method × seed; sums: PGR with 95% CIs
//
// On glove → use-lite-ft with 150 sentiment sentences and one epoch every
// registered method that accepts the cell trains its plan on the
// fine-tuned student and a rerun gives the same rows bit for bit
// (TestEveryMethodFineTuned).
package experiment
