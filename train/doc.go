// Package train fits classification heads (linear or one-hidden-layer MLP)
// on fixed features with GoMLX: the weak supervisor's head, the strong
// ceiling and every W2S student are trained here.
//
// Inputs are data.Matrix values: features x [N, D] and targets [N, K] whose
// rows are probability vectors, so soft labels (a teacher's Predict output)
// and hard labels (data.OneHot, or FitLabels) go through the same code. The
// default loss is soft-label cross-entropy; Config.Loss substitutes another
// function of (logits, targets) built from graph ops, for methods that need
// the student's own predictions, and Config.ProgressLoss one that also reads
// the training progress t/totalSteps (a scalar graph input fed each step),
// for losses with a schedule. LossGradient evaluates such a loss and its
// gradient outside training, for tests against a loss's formula.
//
// # Worked example
//
// A weak teacher labels the strong student's training set with soft labels,
// and the student is fitted to them:
//
//	ctx := context.Background()
//	teacher, err := train.FitLabels(ctx, weakX, goldLabels, 2, train.DefaultConfig("linear"))
//	// weakX [400, 64] features of a weak encoder; goldLabels [400] in {0, 1}.
//	soft, err := teacher.Predict(weakXOnStrongSet) // [2000, 2], rows sum to 1
//
//	cfg := train.DefaultConfig("mlp") // 256 hidden ReLU units, 20 epochs, Adam 3e-3
//	cfg.Seed = 1
//	student, err := train.Fit(ctx, strongX, soft, cfg) // strongX [2000, 384]
//	probs, err := student.Predict(testX)              // [nTest, 2]
//	predicted := probs.Argmax()                       // [nTest] class indices
//
// On a 24-dimensional Gaussian-mixture version of this set-up the students
// reproduce the soft labels to a mean |p - target| of 0.0002 (linear) and
// 0.006 (MLP): see TestSoftLabelFit.
//
// # Training
//
// Minibatch Adam (β = 0.9, 0.999) with decoupled weight decay on weight
// matrices, peak learning rate reached after a linear warm-up over 5% of the
// steps, cosine decay to ~0 at the last step, a fixed number of epochs.
// Features are z-scored with the training set's statistics (kept in the
// Head). Minibatches are a fresh permutation per epoch from a seeded PCG;
// parameters are initialised on the host from the same seed, so the same
// data, Config and Seed give bit-identical heads on one machine and backend
// (tested in-process and across processes).
//
// The training graph runs several optimiser steps per call and is compiled
// once per Fit (twice when the step count is not a multiple of the steps per
// call). The dense layers' gradients are written by hand so that the Go
// backend's fast matrix-product paths are used (see lossAndGradients);
// TestManualGradients checks them against automatic differentiation.
//
// # Backend
//
// The pure-Go backend (github.com/gomlx/compute/gobackend) by default; set
// GOMLX_BACKEND (e.g. "xla:/abs/path/xla_cuda_plugin.so") to use another
// backend, which the binary must register (the XLA one needs a cgo build
// without -tags noxla that imports it). Build and test with
// GOEXPERIMENT=simd CGO_ENABLED=0 and -tags noxla: without GOEXPERIMENT=simd
// the Go backend's kernels are several times slower.
package train
