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
// Worked example (TestScoreCellHand): 10 test examples, gold 0000011111; the
// floor is right on 6, the ceiling on 10, the student on 8. Then
// PGR = (0.8 − 0.6)/(1.0 − 0.6) = 0.5. The floor is wrong on 4 examples, the
// student repeats 2 of those mistakes: inheritance 0.5, correction 0.5.
//
// # Pure metrics
//
// Accuracy, AUROC (binary: Mann–Whitney with ties counting one half; K > 2:
// macro one-vs-rest), PGR and CrossEntropy work on data.Matrix probabilities.
// For class-1 scores {0.35, 0.8, 0.4} on positives and {0.1, 0.4} on
// negatives, 4 of the 6 positive–negative pairs are ordered right and 1 is
// tied, so AUROC = 4.5/6 = 0.75.
//
// # Across seeds and methods
//
// MeanCI is a 95% percentile bootstrap of a mean (across seeds: one value per
// seed). PairedDiffCI resamples pairs, so that what a seed shares between two
// methods cancels. WilcoxonSignedRank is the two-sided signed-rank test, exact
// for up to 25 non-zero differences. For Darwin's 15 plant-height differences
// it gives W = 24, p = 0.041259765625, as scipy.stats.wilcoxon does.
//
// Summarize turns results rows into one store.Summary per dataset × weak ×
// strong × method; CompareMethods sets each method against a baseline per
// dataset (paired by seed) and across datasets (Wilcoxon).
//
// Every random draw comes from math/rand/v2's PCG seeded by the caller, so the
// same inputs and seed give the same numbers.
package eval
