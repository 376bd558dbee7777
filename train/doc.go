// Package train is how every model of superalign is trained: one loop for
// the weak model, the ceiling and every student, probe or fine-tuned.
//
// What is trained is a Net (package student builds them): parameters in a
// GoMLX model.Scope and a forward graph from a fed batch to logits [B, K],
// bound to its examples so the trainer deals only in row indices. What it
// is trained for is an Objective: targets [N, K] (soft or one-hot), an
// optional subset of rows, optional per-example weights and a per-example
// Loss that sees the logits, the targets and the training progress. How is
// a Config: epochs, batch size, a peak learning rate per parameter group
// (a fresh head, a pretrained encoder), decoupled weight decay, a schedule
// (WarmupCosine or Constant), the seed and a checkpoint file.
//
// # Worked example
//
// A weak-to-strong method is an objective. naive trains on the weak
// model's soft labels, a filter keeps some rows, logconf changes the loss:
//
//	net := ...                            // e.g. from student.Probe or student.Tuned
//	o := train.Objective{Targets: weakLabels}          // [N, 2], rows sum to 1
//	o.Rows = kept                                      // conf-filter: the confident half
//	o.Loss = train.Loss{Name: "logconf", PerExample: f, BatchStatistics: true}
//	cfg := train.Config{Epochs: 2, BatchSize: 32, LearningRate: 1e-3, EncoderLR: 3e-5,
//		Schedule: train.Constant, Seed: 7, Checkpoint: "run/ckpt/x.ckpt"}
//	res, err := train.Fit(ctx, net, o, cfg)  // the net's variables now hold the trained values
//	res.EpochLoss                            // mean training loss per epoch
//
// On two Gaussian blobs (TestFitLearns: 200 examples, 4 dimensions, batch
// 16, 4 epochs) the loss falls every epoch and ends below 0.35; training on
// Rows equals training on those rows alone bit for bit, and uniform weights
// of 2 equal no weights (TestRowsAndWeights).
//
// ClassBalanced multiplies an objective's weights by inverse class
// frequency of its targets over its rows (--balance weight): with 6 rows
// of class 0 and 2 of class 1 the weights are 2/3 and 2, each class
// weighs 4 and the total stays 8 (TestClassBalanced).
//
// # The loop
//
// One PCG seeded with Config.Seed draws the net's initialisation and then
// the batch order of every epoch: a fresh permutation, cut into full
// batches (the last one completed with the epoch's first rows, so no batch
// holds padding rows and the graph has one shape). A LengthNet (sentences)
// with Config.GroupByLength gets batches of similar length, which pad
// little, unless the loss declares BatchStatistics (logconf's quantile
// threshold reads the whole batch and must see a random sample of it).
// Each step applies AdamW (β = 0.9, 0.999, ε = 1e-8, bias-corrected,
// decoupled decay); a GradNet differentiates itself (the probes' hand-written
// dense gradients, fast on the Go backend), any other net is differentiated
// by GoMLX. Several steps may run in one graph call (Config.StepsPerCall).
//
// With Config.Checkpoint the whole state (every float variable: weights,
// head, Adam moments; the step and the losses) is saved atomically after
// every epoch and every Config.CheckpointEvery, keyed by the net, the
// objective and the configuration; a Fit with the same key resumes where
// the file left off and gives the same bits as an uninterrupted one
// (TestCheckpointResume kills a fit mid-run and mid-epoch). A finished
// checkpoint trains nothing, which lets a multi-stage method resume after
// its finished stages for free.
//
// Same net, objective, configuration and seed give bit-identical results on
// one machine and backend (internal/backend: the pure-Go backend unless
// $GOMLX_BACKEND names another).
package train
