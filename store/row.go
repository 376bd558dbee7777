package store

// Row is one line of results.jsonl (and one row of results.parquet, with
// the same column names; nil pointers are Parquet nulls): one cell (dataset
// × weak × strong × method) and one seed. Field names are the output contract users and tools rely on; add fields,
// never rename them. PGR is nil when ceiling − floor is below the gap threshold
// ("no gap"): JSON null, never a number that could be mistaken for a result.
type Row struct {
	Dataset      string `json:"dataset" parquet:"dataset"`
	Weak         string `json:"weak" parquet:"weak"`     // ENC:HEAD, e.g. "bow:linear"
	Strong       string `json:"strong" parquet:"strong"` // ENC:HEAD, e.g. "glove:linear"
	Method       string `json:"method" parquet:"method"`
	Seed         int64  `json:"seed" parquet:"seed"`
	K            int    `json:"n_classes" parquet:"n_classes"`
	NTrainWeak   int    `json:"n_train_weak" parquet:"n_train_weak"`
	NTrainStrong int    `json:"n_train_strong" parquet:"n_train_strong"`
	NTest        int    `json:"n_test" parquet:"n_test"`

	FloorAcc   float64 `json:"floor_acc" parquet:"floor_acc"`
	CeilingAcc float64 `json:"ceiling_acc" parquet:"ceiling_acc"`
	W2SAcc     float64 `json:"w2s_acc" parquet:"w2s_acc"`
	// PGR and its paired bootstrap CI over test examples (floor, ceiling and
	// student rescored on the same resample). Nil when NoGap.
	PGR       *float64 `json:"pgr" parquet:"pgr,optional"`
	PGRCILow  *float64 `json:"pgr_ci_low" parquet:"pgr_ci_low,optional"`
	PGRCIHigh *float64 `json:"pgr_ci_high" parquet:"pgr_ci_high,optional"`
	NoGap     bool     `json:"no_gap" parquet:"no_gap"`
	// W2S − floor accuracy with its paired bootstrap CI: defined even when NoGap.
	GainAcc       float64 `json:"gain_acc" parquet:"gain_acc"`
	GainAccCILow  float64 `json:"gain_acc_ci_low" parquet:"gain_acc_ci_low"`
	GainAccCIHigh float64 `json:"gain_acc_ci_high" parquet:"gain_acc_ci_high"`

	FloorAUROC   float64 `json:"floor_auroc" parquet:"floor_auroc"`
	CeilingAUROC float64 `json:"ceiling_auroc" parquet:"ceiling_auroc"`
	W2SAUROC     float64 `json:"w2s_auroc" parquet:"w2s_auroc"`

	// Diagnostics on test: agreement = student and weak model predict the same
	// class; inheritance = P(student wrong | weak wrong); correction =
	// P(student right | weak wrong). Misfit = mean cross-entropy of the
	// student's predictions to the weak soft labels on train_strong (nats).
	Agreement   float64 `json:"agreement" parquet:"agreement"`
	Inheritance float64 `json:"error_inheritance" parquet:"error_inheritance"`
	Correction  float64 `json:"error_correction" parquet:"error_correction"`
	Misfit      float64 `json:"misfit" parquet:"misfit"`
	// Accuracy of the weak labels on train_strong against hidden gold.
	WeakLabelAcc float64 `json:"weak_label_acc" parquet:"weak_label_acc"`

	// Selection diagnostics of label-cleaning and selection methods (nil for
	// methods that train on every weak label unchanged), scored against
	// hidden gold in eval: the fraction of train_strong kept, the precision
	// (fraction of kept weak labels that are right) and recall (fraction of
	// right weak labels kept) of the kept set, the fraction of labels
	// replaced from another source, and how often a replaced weak label was
	// in fact wrong.
	KeptFrac          *float64 `json:"kept_frac" parquet:"kept_frac,optional"`
	FilterPrecision   *float64 `json:"filter_precision" parquet:"filter_precision,optional"`
	FilterRecall      *float64 `json:"filter_recall" parquet:"filter_recall,optional"`
	ReplacedFrac      *float64 `json:"replaced_frac" parquet:"replaced_frac,optional"`
	ReplacedWeakWrong *float64 `json:"replaced_weak_wrong" parquet:"replaced_weak_wrong,optional"`

	// Competence and conformity (issue 15), on test, scored in eval.
	// Competence is the accuracy and AUROC above. Conformity: how often the
	// student outputs the weak model's class where the weak model is right
	// (ConformRight) and where it is wrong (ConformWrong, error
	// inheritance as agreement); nil when the weak model has no test
	// example of that kind. With a value channel: the fraction of
	// value-constrained test examples on which the student (ValueRespect)
	// and the weak model (WeakValueRespect) output the required class, over
	// NValueTest examples; nil without one.
	ConformRight     *float64 `json:"conform_right" parquet:"conform_right,optional"`
	ConformWrong     *float64 `json:"conform_wrong" parquet:"conform_wrong,optional"`
	ValueRespect     *float64 `json:"value_respect" parquet:"value_respect,optional"`
	WeakValueRespect *float64 `json:"weak_value_respect" parquet:"weak_value_respect,optional"`
	NValueTest       int      `json:"n_value_test,omitempty" parquet:"n_value_test,optional"`
	// The misfit inequality of Charikar, Pabbaraju and Shiragur (NeurIPS
	// 2024), in squared loss on test probabilities: GainSq = d(gold, weak)
	// − d(gold, student), MisfitSq = d(student, weak), d the mean squared
	// distance between probability vectors (gold one-hot); MisfitHolds
	// says GainSq ≥ MisfitSq, what the theorem predicts for a student that
	// is the projection of the weak model onto a convex strong class.
	GainSq      float64 `json:"gain_sq" parquet:"gain_sq"`
	MisfitSq    float64 `json:"misfit_sq" parquet:"misfit_sq"`
	MisfitHolds bool    `json:"misfit_holds" parquet:"misfit_holds"`

	// FineTuned says the strong student's encoder was trained end to end;
	// StrongTrain is its training configuration (epochs, batch, learning
	// rates, schedule, seed) and Stages the number of students the
	// method's plan trained (s2s rounds + 1, co-supervision levels).
	FineTuned   bool   `json:"fine_tuned" parquet:"fine_tuned"`
	StrongTrain string `json:"strong_train" parquet:"strong_train"`
	Stages      int    `json:"stages" parquet:"stages"`

	// Gold accounting (issue 12): the train_weak gold labels the method
	// read beyond the weak model's own training. GoldUsed counts distinct
	// labels; GoldFeatures says what they were paired with: "strong" (the
	// student's features or inputs: drawn from the method's gold=B budget,
	// charged), "weak" (weak-side refits: ensemble members, co-supervision
	// specialists; free, the supervisor's own data), "strong+weak", or ""
	// for none. GoldStrong counts the strong-feature labels: the B the
	// gold-matched controls (gold-probe, naive+gold) are compared at.
	GoldUsed     int    `json:"gold_used" parquet:"gold_used"`
	GoldFeatures string `json:"gold_features" parquet:"gold_features"`
	GoldStrong   int    `json:"gold_strong" parquet:"gold_strong"`

	ConfigHash string  `json:"config_hash" parquet:"config_hash"`
	DurationS  float64 `json:"duration_s" parquet:"duration_s"`
	Version    string  `json:"version" parquet:"version"`

	// Fields added with issue 20 (imbalanced data); rows written before
	// lack them, and readers take "" as the defaults.
	//
	// Balance is how the dataset's class mix was treated before the split
	// (data.ParseBalance): "undersample" (the default), "none" or
	// "weight".
	Balance string `json:"balance" parquet:"balance"`
	// PGRMetric is the test metric that PGR, its CI and no_gap are
	// computed on (eval.Metric): "accuracy" (the default), "auroc",
	// "balanced-accuracy" or "macro-f1"; FloorScore, CeilingScore and
	// W2SScore are floor, ceiling and w2s in it on test (the accuracies
	// again for "accuracy").
	PGRMetric    string  `json:"pgr_metric" parquet:"pgr_metric"`
	FloorScore   float64 `json:"floor_score" parquet:"floor_score"`
	CeilingScore float64 `json:"ceiling_score" parquet:"ceiling_score"`
	W2SScore     float64 `json:"w2s_score" parquet:"w2s_score"`
	// WeakECE is the weak labels' expected calibration error on
	// train_strong against hidden gold (top-label confidence, 10
	// equal-width bins; eval.ECE). With calibrate=true, WeakTemperature is
	// the temperature fitted on the weak model's out-of-fold train_weak
	// predictions and TrainedECE the ECE of the calibrated labels the
	// student trained on (nil otherwise; misfit is then measured against
	// them).
	WeakECE         *float64 `json:"weak_ece" parquet:"weak_ece,optional"`
	WeakTemperature *float64 `json:"weak_temperature" parquet:"weak_temperature,optional"`
	TrainedECE      *float64 `json:"trained_ece" parquet:"trained_ece,optional"`
	// Preference pairs (issue 17). Task is "preference" (empty for
	// classification); floor, ceiling and w2s are then pairwise accuracies
	// (class "A" is "A preferred"). FloorECE, CeilingECE and W2SECE are
	// the reward models' calibration: the ECE of their P(A ≻ B) on the
	// test pairs. BestOfN is n and BoNGroups the number of best-of-n
	// groups built from graded test pairs (eval.BestOfN); BoNFloor,
	// BoNCeiling and BoNW2S are how often the weak model, the ceiling and
	// the student pick the gold-best of n candidates (chance 1/n). nil
	// where the data have no per-response grades.
	Task       string   `json:"task,omitempty" parquet:"task,optional"`
	FloorECE   *float64 `json:"floor_ece,omitempty" parquet:"floor_ece,optional"`
	CeilingECE *float64 `json:"ceiling_ece,omitempty" parquet:"ceiling_ece,optional"`
	W2SECE     *float64 `json:"w2s_ece,omitempty" parquet:"w2s_ece,optional"`
	BestOfN    int      `json:"best_of_n,omitempty" parquet:"best_of_n,optional"`
	BoNGroups  int      `json:"bon_groups,omitempty" parquet:"bon_groups,optional"`
	BoNFloor   *float64 `json:"bon_floor,omitempty" parquet:"bon_floor,optional"`
	BoNCeiling *float64 `json:"bon_ceiling,omitempty" parquet:"bon_ceiling,optional"`
	BoNW2S     *float64 `json:"bon_w2s,omitempty" parquet:"bon_w2s,optional"`
	// Classes names the classes in label order, and the ClassCounts*
	// fields give each split's examples per class in that order: the
	// class mix every score above was computed under.
	Classes                []string `json:"classes" parquet:"classes,list"`
	ClassCountsTrainWeak   []int    `json:"class_counts_train_weak" parquet:"class_counts_train_weak,list"`
	ClassCountsTrainStrong []int    `json:"class_counts_train_strong" parquet:"class_counts_train_strong,list"`
	ClassCountsTest        []int    `json:"class_counts_test" parquet:"class_counts_test,list"`
}

// Summary aggregates the rows of one dataset × weak × strong × method
// (and balancing mode and PGR metric) over seeds (eval.Summarize). Accuracy intervals are 95% Student t-intervals
// across seeds (one value per seed); with one seed there is no spread
// across seeds and the interval is the point.
//
// PGR is the ratio of means Σ(w2s − floor)/Σ(ceiling − floor) over all
// seeds, which equals (mean w2s − mean floor)/(mean ceiling − mean floor),
// with a 95% bootstrap interval that resamples whole seeds and drops none.
// It is reported only when the gap (ceiling − floor per seed) clears
// GapThreshold with its lower 95% t-bound; otherwise NoGap holds and the
// PGR fields are nil. With one seed there is no across-seed bound: that
// seed's own gap decides and its CI is the paired bootstrap over test
// examples of the results row.
//
// Fields added with issue 12: gap_mean, gap_ci_low, gap_ci_high,
// gap_threshold, pgr_bootstrap_no_gap. Fields whose meaning changed:
// pgr_mean (a ratio of means, was a mean of per-seed ratios over the seeds
// with a gap), pgr_ci_* (seed bootstrap of that ratio), the accuracy
// *_ci_* (t-intervals, were percentile bootstrap), n_seeds_no_gap (seeds
// below the threshold on their own; none is left out any more) and no_gap
// (decided by the gap's lower bound, was by its mean).
type Summary struct {
	Dataset string `json:"dataset"`
	Weak    string `json:"weak"`
	Strong  string `json:"strong"`
	Method  string `json:"method"`
	NSeeds  int    `json:"n_seeds"`

	// The weak–strong gap, ceiling − floor in PGRMetric (accuracy by
	// default): mean over seeds and
	// its 95% t-interval (nil with one seed), and the threshold its lower
	// bound had to clear for a PGR to be reported.
	GapMean      float64  `json:"gap_mean"`
	GapCILow     *float64 `json:"gap_ci_low"`
	GapCIHigh    *float64 `json:"gap_ci_high"`
	GapThreshold float64  `json:"gap_threshold"`
	// NoGap: the gap's lower bound does not clear the threshold, so no PGR
	// is reported even if single seeds had a gap.
	NoGap     bool     `json:"no_gap"`
	PGRMean   *float64 `json:"pgr_mean"`
	PGRCILow  *float64 `json:"pgr_ci_low"`  // nil also when the bound is unbounded (see PGRBootstrapNoGap)
	PGRCIHigh *float64 `json:"pgr_ci_high"` // idem
	// PGRBootstrapNoGap counts the bootstrap resamples whose pooled gap was
	// not positive (their ratio is ±∞, not dropped).
	PGRBootstrapNoGap int `json:"pgr_bootstrap_no_gap"`
	// NSeedsNoGap counts seeds whose own gap was below the threshold
	// (results rows with no_gap); they stay in the ratio of means.
	NSeedsNoGap int `json:"n_seeds_no_gap"`

	W2SAccMean       float64 `json:"w2s_acc_mean"`
	W2SAccCILow      float64 `json:"w2s_acc_ci_low"`
	W2SAccCIHigh     float64 `json:"w2s_acc_ci_high"`
	FloorAccMean     float64 `json:"floor_acc_mean"`
	FloorAccCILow    float64 `json:"floor_acc_ci_low"`
	FloorAccCIHigh   float64 `json:"floor_acc_ci_high"`
	CeilingAccMean   float64 `json:"ceiling_acc_mean"`
	CeilingAccCILow  float64 `json:"ceiling_acc_ci_low"`
	CeilingAccCIHigh float64 `json:"ceiling_acc_ci_high"`

	// GoldUsed, GoldStrong and GoldFeatures are the rows' gold accounting
	// (store.Row), the largest over seeds and the features of the first
	// seed (a method reads the same amount in every seed).
	GoldUsed     int    `json:"gold_used"`
	GoldStrong   int    `json:"gold_strong"`
	GoldFeatures string `json:"gold_features"`

	W2SAUROCMean    float64 `json:"w2s_auroc_mean"`
	AgreementMean   float64 `json:"agreement_mean"`
	MisfitMean      float64 `json:"misfit_mean"`
	InheritanceMean float64 `json:"error_inheritance_mean"`
	CorrectionMean  float64 `json:"error_correction_mean"`

	// Fields added with issue 20. Balance and PGRMetric are the rows'
	// (summaries never pool rows that differ in them; "undersample" and
	// "accuracy" for rows written before). The gap fields, the PGR fields
	// and no_gap are on PGRMetric; the *Score* fields are floor, ceiling
	// and w2s in it (mean and t-interval across seeds, equal to the
	// accuracy fields for accuracy).
	Balance            string  `json:"balance"`
	PGRMetric          string  `json:"pgr_metric"`
	FloorScoreMean     float64 `json:"floor_score_mean"`
	FloorScoreCILow    float64 `json:"floor_score_ci_low"`
	FloorScoreCIHigh   float64 `json:"floor_score_ci_high"`
	CeilingScoreMean   float64 `json:"ceiling_score_mean"`
	CeilingScoreCILow  float64 `json:"ceiling_score_ci_low"`
	CeilingScoreCIHigh float64 `json:"ceiling_score_ci_high"`
	W2SScoreMean       float64 `json:"w2s_score_mean"`
	W2SScoreCILow      float64 `json:"w2s_score_ci_low"`
	W2SScoreCIHigh     float64 `json:"w2s_score_ci_high"`
	// Calibration means over the seeds that have them (nil for none):
	// the weak labels' ECE on train_strong, and with calibrate=true the
	// fitted temperature and the calibrated labels' ECE.
	WeakECEMean         *float64 `json:"weak_ece_mean"`
	WeakTemperatureMean *float64 `json:"weak_temperature_mean"`
	TrainedECEMean      *float64 `json:"trained_ece_mean"`
	// Preference summarises reward-model rows (Row.Task "preference");
	// nil for classification.
	Preference *PreferenceSummary `json:"preference,omitempty"`
	// The class mix of the first seed's splits (stratified splits give
	// every seed the same counts): class names and examples per class.
	Classes                []string `json:"classes"`
	ClassCountsTrainWeak   []int    `json:"class_counts_train_weak"`
	ClassCountsTrainStrong []int    `json:"class_counts_train_strong"`
	ClassCountsTest        []int    `json:"class_counts_test"`
}

// PreferenceSummary aggregates the preference fields of a setting's rows
// over seeds: the reward models' mean calibration error on test pairs and
// the best-of-n pick rates with 95% t-intervals across seeds, and the
// student's gain over the weak model's pick rate (paired per seed).
type PreferenceSummary struct {
	FloorECEMean   float64 `json:"floor_ece_mean"`
	CeilingECEMean float64 `json:"ceiling_ece_mean"`
	W2SECEMean     float64 `json:"w2s_ece_mean"`
	// BestOfN is n (0 when no seed had best-of-n groups; the fields below
	// are then zero); BoNGroups the groups of the first seed.
	BestOfN          int     `json:"best_of_n"`
	BoNGroups        int     `json:"bon_groups"`
	BoNFloorMean     float64 `json:"bon_floor_mean"`
	BoNFloorCILow    float64 `json:"bon_floor_ci_low"`
	BoNFloorCIHigh   float64 `json:"bon_floor_ci_high"`
	BoNCeilingMean   float64 `json:"bon_ceiling_mean"`
	BoNCeilingCILow  float64 `json:"bon_ceiling_ci_low"`
	BoNCeilingCIHigh float64 `json:"bon_ceiling_ci_high"`
	BoNW2SMean       float64 `json:"bon_w2s_mean"`
	BoNW2SCILow      float64 `json:"bon_w2s_ci_low"`
	BoNW2SCIHigh     float64 `json:"bon_w2s_ci_high"`
	BoNGainMean      float64 `json:"bon_gain_mean"`
	BoNGainCILow     float64 `json:"bon_gain_ci_low"`
	BoNGainCIHigh    float64 `json:"bon_gain_ci_high"`
}
