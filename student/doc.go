// Package student is what superalign trains: the weak model, the ceiling
// and every weak-to-strong student are Students, trained by the one loop of
// package train.
//
// A student is named by a Spec, parsed in one place (Parse):
//
//	glove, glove:linear     a linear probe on GloVe's frozen features
//	use-lite:mlp            a one-hidden-layer MLP probe on USE-lite's features
//	use-lite-ft             USE-lite fine-tuned end to end with a linear head
//	onnx-ft:DIR             a user's ONNX encoder fine-tuned end to end
//
// Two implementations share the Student interface:
//
//   - Probe: a linear or MLP head on frozen features (the caller's cached
//     features, Inputs.Features), z-scored with the training rows'
//     statistics; its net differentiates itself by hand for the Go
//     backend's fast matrix products (train.GradNet).
//   - Tuned: a pretrained encoder (encode.Tunable: USE-lite, ONNX models)
//     with a linear head on its pooled output, trained end to end on the
//     raw texts (Inputs.Texts); the encoder's weights learn at
//     Config.EncoderLR, the zero-initialised head at Config.LearningRate, in
//     batches grouped by length when the loss allows.
//
// Student.Fit binds a fresh net to the inputs, runs train.Fit and returns a
// Model that predicts class probabilities. Methods and the experiment
// layer never need to know which kind they hold: a method returns
// train.Objectives, and the runner fits them on the cell's student.
//
// # Worked example
//
//	spec, _ := student.Parse("use-lite-ft")
//	s, err := student.Open(ctx, spec, student.Options{FineTuneEpochs: 2}, os.Stderr)
//	cfg := s.Config()  // epochs=2 batch=32 lr=0.001 encoder_lr=3e-05 schedule=constant
//	cfg.Seed = 7
//	m, res, err := s.Fit(ctx, student.Inputs{Texts: trainTexts},
//		train.Objective{Targets: weakLabels}, cfg)
//	probs, err := m.Predict(ctx, student.Inputs{Texts: testTexts}) // [N, 2]
//
// For a probe the same three calls take Inputs{Features: x}; the methods'
// own auxiliary probes use the shortcut FitProbe(ctx, x, targets, cfg).
// Fine-tuning USE-lite on 64 labelled yelp sentences for 2 epochs takes its
// training loss below ln 2 and fits at least 48 of them, and moves the
// transformer's own weights (TestTunedLearns); a probe on a 24-dimensional
// Gaussian mixture reproduces soft labels to a mean |p − target| of 0.0002
// (linear) and 0.006 (MLP) (TestSoftLabelFit).
//
// Probes trained here are bit-identical to those of the heads that lived
// in package train before: the same initialisation, batch order, AdamW
// steps and hash (TestProbeConfigHash keeps the golden value).
package student
