package store

// Row is one line of results.jsonl: one cell (dataset × weak × strong × method)
// and one seed. Field names are the output contract of DESIGN.md; add fields,
// never rename them. PGR is nil when ceiling − floor is below the gap threshold
// ("no gap"): JSON null, never a number that could be mistaken for a result.
type Row struct {
	Dataset      string `json:"dataset"`
	Weak         string `json:"weak"`   // ENC:HEAD, e.g. "bow:linear"
	Strong       string `json:"strong"` // ENC:HEAD, e.g. "glove:linear"
	Method       string `json:"method"`
	Seed         int64  `json:"seed"`
	K            int    `json:"n_classes"`
	NTrainWeak   int    `json:"n_train_weak"`
	NTrainStrong int    `json:"n_train_strong"`
	NTest        int    `json:"n_test"`

	FloorAcc   float64 `json:"floor_acc"`
	CeilingAcc float64 `json:"ceiling_acc"`
	W2SAcc     float64 `json:"w2s_acc"`
	// PGR and its paired bootstrap CI over test examples (floor, ceiling and
	// student rescored on the same resample). Nil when NoGap.
	PGR       *float64 `json:"pgr"`
	PGRCILow  *float64 `json:"pgr_ci_low"`
	PGRCIHigh *float64 `json:"pgr_ci_high"`
	NoGap     bool     `json:"no_gap"`
	// W2S − floor accuracy with its paired bootstrap CI: defined even when NoGap.
	GainAcc       float64 `json:"gain_acc"`
	GainAccCILow  float64 `json:"gain_acc_ci_low"`
	GainAccCIHigh float64 `json:"gain_acc_ci_high"`

	FloorAUROC   float64 `json:"floor_auroc"`
	CeilingAUROC float64 `json:"ceiling_auroc"`
	W2SAUROC     float64 `json:"w2s_auroc"`

	// Diagnostics on test: agreement = student and weak model predict the same
	// class; inheritance = P(student wrong | weak wrong); correction =
	// P(student right | weak wrong). Misfit = mean cross-entropy of the
	// student's predictions to the weak soft labels on train_strong (nats).
	Agreement   float64 `json:"agreement"`
	Inheritance float64 `json:"error_inheritance"`
	Correction  float64 `json:"error_correction"`
	Misfit      float64 `json:"misfit"`
	// Accuracy of the weak labels on train_strong against hidden gold.
	WeakLabelAcc float64 `json:"weak_label_acc"`

	ConfigHash string  `json:"config_hash"`
	DurationS  float64 `json:"duration_s"`
	Version    string  `json:"version"`
}

// Summary aggregates the rows of one dataset × weak × strong × method over
// seeds: means with 95% bootstrap CIs across seeds. PGR fields are nil when
// every seed was "no gap"; NSeedsNoGap counts seeds left out of the PGR mean.
type Summary struct {
	Dataset string `json:"dataset"`
	Weak    string `json:"weak"`
	Strong  string `json:"strong"`
	Method  string `json:"method"`
	NSeeds  int    `json:"n_seeds"`

	PGRMean     *float64 `json:"pgr_mean"`
	PGRCILow    *float64 `json:"pgr_ci_low"`
	PGRCIHigh   *float64 `json:"pgr_ci_high"`
	NSeedsNoGap int      `json:"n_seeds_no_gap"`

	W2SAccMean       float64 `json:"w2s_acc_mean"`
	W2SAccCILow      float64 `json:"w2s_acc_ci_low"`
	W2SAccCIHigh     float64 `json:"w2s_acc_ci_high"`
	FloorAccMean     float64 `json:"floor_acc_mean"`
	FloorAccCILow    float64 `json:"floor_acc_ci_low"`
	FloorAccCIHigh   float64 `json:"floor_acc_ci_high"`
	CeilingAccMean   float64 `json:"ceiling_acc_mean"`
	CeilingAccCILow  float64 `json:"ceiling_acc_ci_low"`
	CeilingAccCIHigh float64 `json:"ceiling_acc_ci_high"`

	W2SAUROCMean    float64 `json:"w2s_auroc_mean"`
	AgreementMean   float64 `json:"agreement_mean"`
	MisfitMean      float64 `json:"misfit_mean"`
	InheritanceMean float64 `json:"error_inheritance_mean"`
	CorrectionMean  float64 `json:"error_correction_mean"`
}
