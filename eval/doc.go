// Package eval scores weak-to-strong cells. It is the only package that holds
// the hidden gold labels of train_strong and test, in the unexported fields of
// Hidden: code elsewhere can ask for scores but cannot read a label.
//
// # One cell
//
// ScoreCell takes the test predictions of the weak model (floor), of the
// strong head trained on gold (ceiling) and of the student, plus the weak
// labels and the student's predictions on train_strong, and returns
//
//	floor, ceiling, w2s accuracy and AUROC on test
//	PGR = (w2s − floor)/(ceiling − floor), nil ("no gap") when ceiling − floor < 0.02
//	gain = w2s − floor
//	agreement, error inheritance, error correction (test), misfit (train_strong)
//
// with 95% paired-bootstrap CIs for PGR and gain: each resample draws test
// indices with replacement and rescores all three models on the same draw.
//
// PGR is computed on a chosen metric (CellInputs.Metric, `--pgr-metric`):
// accuracy (the default), auroc, balanced-accuracy or macro-f1. Floor,
// ceiling and w2s are then also scored in it (FloorScore, ...), the gap
// threshold applies to its gap, and the bootstrap rescores it on the same
// draws as accuracy (as multiplicities, O(n·K) per draw), so the gain and
// its CI, on accuracy, do not move with the choice. Accuracy is always
// reported alongside. On imbalanced data accuracy rewards the majority
// class: AUROC ranks scores and ignores the mix, balanced accuracy gives a
// constant classifier 1/K whatever the mix. On the hand cell below PGR is
// 0.5 on AUROC and balanced accuracy and 0.5625 on macro-F1
// (TestScoreCellMetric).
//
// The weak labels' expected calibration error on train_strong (ECE:
// top-label confidence in 10 equal-width bins over [0, 1]) is in every
// row; a method that trains on recalibrated weak labels (calibrate=true)
// passes them as TrainedLabels, and gets their ECE and its misfit against
// them.
//
// Worked example (TestScoreCellHand): 10 test examples, gold 0000011111; the
// floor is right on 6, the ceiling on 10, the student on 8. Then
// PGR = (0.8 − 0.6)/(1.0 − 0.6) = 0.5. The floor is wrong on 4 examples, the
// student repeats 2 of those mistakes: inheritance 0.5, correction 0.5.
//
// # Pure metrics
//
// Accuracy, AUROC (binary: Mann–Whitney with ties counting one half; K > 2:
// macro one-vs-rest), BalancedAccuracy (mean recall over the classes in
// gold), MacroF1 (mean F1 over the classes in gold or predicted), ECE, PGR
// and CrossEntropy work on data.Matrix probabilities. Gold 0,0,0,1
// predicted 0,0,1,1 has balanced accuracy 5/6 and macro-F1 11/15; a
// constant majority guess on it, accuracy 0.75 and balanced accuracy 0.5.
// For class-1 scores {0.35, 0.8, 0.4} on positives and {0.1, 0.4} on
// negatives, 4 of the 6 positive–negative pairs are ordered right and 1 is
// tied, so AUROC = 4.5/6 = 0.75.
//
// # Across seeds and methods
//
// Summarize turns results rows into one store.Summary per dataset × weak ×
// strong × method (× balancing mode × PGR metric: rows of two settings are
// never pooled or paired, and the gap, PGR and Δ below are on the rows'
// metric), with Options carrying the bootstrap seed and the gap threshold
// (`w2s run --gap-threshold`):
//
//	accuracies: mean and 95% Student t-interval across seeds (TInterval)
//	gap = ceiling − floor per seed: mean and t-interval
//	PGR = Σ(w2s − floor)/Σ(ceiling − floor) over every seed (a ratio of
//	      means), 95% bootstrap resampling whole seeds (RatioOfMeansCI),
//	      reported only when the gap's lower 95% bound clears the threshold
//
// Worked example (TestSummarizeRatioOfMeans): gains 0.10, 0.04, 0.21 over
// gaps 0.20, 0.10, 0.30 give PGR 0.35/0.60 = 0.583 (the mean of per-seed
// ratios would be 0.533); the gaps' t-interval [−0.048, 0.448] does not
// clear 0.02, so three such seeds read "no gap" and thirty do not.
//
// CompareMethods sets each method against a baseline (naive). The primary
// quantity is the paired Δ of the PGR metric per seed (DeltaScore; on
// accuracy, the default, it is Δaccuracy, reported always as DeltaAcc):
// method − baseline, same split, weak model and ceiling:
//
//	per dataset: mean Δacc with a t-interval; SignFlipTest, exact for up
//	             to ExactSignFlipMax = 20 seeds (Fisher's test on Darwin's
//	             15 differences: p = 1726/32768 = 0.0527), else Monte Carlo
//	             with DefaultPermutationDraws (resolution ≈ 1e-5)
//	pooled:      the mean over datasets of their mean Δacc, a stratified
//	             t-interval (Welch–Satterthwaite df) and a stratified
//	             sign-flip test over every dataset × seed pair
//	Holm:        step-down over the methods of each table, beside the raw p
//	             ((0.01, 0.04, 0.03, 0.005) → (0.03, 0.06, 0.06, 0.02))
//	power:       MinP = 2^(1−n) is the smallest p n seeds allow; a row is
//	             Underpowered when MinP·m > 0.05: 5 seeds (MinP 0.0625) can
//	             never be significant, 10 seeds can with up to 25 methods
//
// A method named with AASuffix ("naive@aa": naive with another student
// seed) is an A/A null; AAFalsePositives counts how often its comparisons
// reject, the table's false-positive rate.
//
// CompareControls sets every method that drew B > 0 train_weak gold labels
// with strong features (store.Row.GoldStrong) against the gold-matched
// controls at the same B (gold-probe: the student on those labels alone;
// naive+gold: naive plus them), with the same statistics and Holm over the
// control comparisons of each table; Verdicts says which methods beat
// naive and, where they drew gold, every control, after correction.
//
// Oversight tables summarise their rounds with the same rule
// (PGROverSeeds, TInterval).
//
// MeanCI (95% percentile bootstrap of a mean) and PairedDiffCI remain as
// diagnostics: across 5 seeds they cover
// about 84%, not 95% (TestTIntervalCoverage). WilcoxonSignedRank, the
// two-sided signed-rank test exact for up to 25 non-zero differences (W =
// 24, p = 0.041259765625 on Darwin's differences, as scipy.stats.wilcoxon),
// no longer pools datasets: with 2 datasets it cannot go below p = 0.5.
//
// Every random draw comes from math/rand/v2's PCG seeded by the caller, so the
// same inputs and seed give the same numbers.
package eval
