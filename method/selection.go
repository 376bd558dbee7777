package method

// Selection says, per train_strong example, what a label-cleaning or
// label-selection method (conf-filter, knn-filter, logreg-filter,
// topo-filter, knn-relabel, selective, graph-smooth, pik-only,
// cosupervise) did with the weak label, so eval can score the selection
// against hidden gold (FilterPR) and results rows can report the fraction
// replaced. Both slices are [N train_strong], aligned with
// View.TrainStrong, and must not be modified.
type Selection struct {
	// Kept reports which train_strong examples the student was trained on.
	Kept []bool
	// Replaced reports which examples were trained on a label from another
	// source than the weak model (a neighbour mean, a strong self-label, a
	// specialist teacher). Smoothing that only refines a weak label
	// (graph-smooth, selective outside P(IK)) does not count as replaced.
	Replaced []bool
}
