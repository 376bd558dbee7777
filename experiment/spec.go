package experiment

import (
	"fmt"
	"math"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/student"
)

// Spec is one `w2s run`: datasets × one weak → strong pair × methods × seeds.
type Spec struct {
	Datasets []string `yaml:"data"`
	// Weak and Strong are student specs (student.Parse): ENC[:HEAD] for a
	// probe on a frozen encoder, ENC-ft for a fine-tuned one.
	Weak     string   `yaml:"weak"`
	Strong   string   `yaml:"strong"`
	Methods  []string `yaml:"method"`
	Seeds    int      `yaml:"seeds"`
	SeedBase int64    `yaml:"seed_base"`
	// Limit caps the examples used after balancing (0 = all), chosen by seed.
	Limit int `yaml:"limit"`
	// Balance is what a binary dataset's class mix gets before the split
	// (data.ParseBalance): "undersample" (the default, also ""), "none"
	// (the natural mix, split stratified) or "weight" (the natural mix,
	// every model's loss weighted by inverse class frequency).
	Balance string `yaml:"balance"`
	// PGRMetric is the test metric PGR is computed on (eval.ParseMetric):
	// "accuracy" (the default, also ""), "auroc", "balanced-accuracy" or
	// "macro-f1".
	PGRMetric string `yaml:"pgr_metric"`
	// GapThreshold: cells whose ceiling − floor accuracy is below it are "no gap".
	GapThreshold float64 `yaml:"gap_threshold"`
	// Fractions of train_weak, train_strong and test.
	Fractions [3]float64 `yaml:"fractions"`
	// Resamples of the per-cell paired bootstrap.
	Resamples int `yaml:"resamples"`
	// Epochs overrides the probes' default epochs when > 0 (the weak model,
	// a probe student and the probes methods train internally).
	Epochs int `yaml:"epochs"`
	// FTEpochs and FTLR set a fine-tuned strong student's passes over
	// train_strong and its encoder's learning rate when > 0 (defaults
	// student.DefaultFineTuneEpochs and student.DefaultFineTuneLR).
	FTEpochs int     `yaml:"ft_epochs"`
	FTLR     float64 `yaml:"ft_lr"`
	// SkipInapplicable leaves a method out of a dataset it refuses
	// (method.Check: bootstrap with no intermediate encoder, cosupervise
	// with two classes, a gold budget larger than train_weak), with a
	// note, instead of failing the run before any work. `--method all`
	// sets it.
	SkipInapplicable bool `yaml:"skip_inapplicable"`
	// Task is what every dataset must be: "preference" (pairs; a file in
	// a preference format, or a built-in preference task), "classification",
	// or "" for whatever each dataset is (data.CheckTask).
	Task string `yaml:"task"`
}

// DefaultSeeds is the default number of seeds: 10, enough for a sign-flip
// test to reach p = 0.002 and so to survive Holm's correction over a table
// of methods (5 seeds cannot go below p = 0.0625). Probe students are cheap;
// a fine-tuned student may be run with fewer, and the comparison table then
// says its tests are underpowered.
const DefaultSeeds = 10

// DefaultSpec returns the built-in defaults.
func DefaultSpec() Spec {
	return Spec{
		Datasets:     []string{"sentiment", "spam"},
		Weak:         "bow",
		Strong:       "glove",
		Methods:      []string{"naive"},
		Seeds:        DefaultSeeds,
		GapThreshold: 0.02,
		Fractions:    [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3},
		Resamples:    1000,
	}
}

// LoadSpecFile overlays a YAML config on spec. Unknown keys are errors, so a
// typo cannot silently fall back to a default.
func LoadSpecFile(path string, spec *Spec) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Validate checks the spec before any work starts.
func (s Spec) Validate() error {
	if len(s.Datasets) == 0 {
		return fmt.Errorf("no dataset given (--data NAME|PATH)")
	}
	if len(s.Methods) == 0 {
		return fmt.Errorf("no method given (--method M[,M...])")
	}
	if s.Seeds < 1 {
		return fmt.Errorf("--seeds must be at least 1, got %d", s.Seeds)
	}
	switch s.Task {
	case "", data.TaskClassification, data.TaskPreference:
	default:
		return fmt.Errorf("--task %q: want %q or %q (or nothing: each dataset's own)", s.Task, data.TaskPreference, data.TaskClassification)
	}
	return s.cell("", "", "", 0).Validate()
}

// cell is the CellSpec of one dataset (named name in the rows), method and
// seed of the run.
func (s Spec) cell(dataset, name, methodSpec string, seed int64) CellSpec {
	return CellSpec{
		Dataset: dataset, Name: name, Weak: s.Weak, Strong: s.Strong, Method: methodSpec, Seed: seed,
		Limit: s.Limit, Balance: s.Balance, PGRMetric: s.PGRMetric, Epochs: s.Epochs, FTEpochs: s.FTEpochs, FTLR: s.FTLR,
		GapThreshold: s.GapThreshold, Fractions: s.Fractions, Resamples: s.Resamples,
		EncodeSeeds: [2]int64{s.SeedBase, int64(s.Seeds)},
	}
}

// CellSpec is one student cell: one dataset, one weak → strong pair, one
// method and one seed, with the protocol settings of Spec. `w2s run`,
// sweeps and `w2s oversee` all compute their rows from cells.
type CellSpec struct {
	Dataset string `json:"dataset"`
	// Name is the dataset's name in rows and summaries, unique within a run
	// or sweep (data.DisplayNames); "" is the dataset's own name. It is part
	// of the row's key, so identical content under two names gives two
	// rows; teachers are shared by content.
	Name   string `json:"name,omitempty"`
	Weak   string `json:"weak"`
	Strong string `json:"strong"`
	Method string `json:"method"`
	Seed   int64  `json:"seed"`
	Limit  int    `json:"limit"`
	// Balance and PGRMetric are Spec's; "" is the default (undersample,
	// accuracy), and keys treat the default spelled out the same, so that
	// runs and plans from before the choice keep their keys.
	Balance      string     `json:"balance,omitempty"`
	PGRMetric    string     `json:"pgr_metric,omitempty"`
	Epochs       int        `json:"epochs"`
	FTEpochs     int        `json:"ft_epochs,omitempty"`
	FTLR         float64    `json:"ft_lr,omitempty"`
	GapThreshold float64    `json:"gap_threshold"`
	Fractions    [3]float64 `json:"fractions"`
	Resamples    int        `json:"resamples"`
	// EncodeSeeds is the run's seed range {first, count}: with a Limit,
	// costly per-example encoders (image CNNs) encode the examples these
	// seeds use, once for the whole run. It changes no number.
	EncodeSeeds [2]int64 `json:"encode_seeds"`
}

// Validate checks the cell's settings (the method, when set, and the
// students are parsed; nothing is loaded).
func (c CellSpec) Validate() error {
	weak, err := student.Parse(c.Weak)
	if err != nil {
		return fmt.Errorf("--weak: %w", err)
	}
	strong, err := student.Parse(c.Strong)
	if err != nil {
		return fmt.Errorf("--strong: %w", err)
	}
	if c.Limit < 0 {
		return fmt.Errorf("--limit must be >= 0, got %d", c.Limit)
	}
	if _, err := data.ParseBalance(c.Balance); err != nil {
		return fmt.Errorf("--balance: %w", err)
	}
	if _, err := eval.ParseMetric(c.PGRMetric); err != nil {
		return fmt.Errorf("--pgr-metric: %w", err)
	}
	if c.Epochs < 0 {
		return fmt.Errorf("--epochs must be >= 0 (0: the probes' defaults), got %d", c.Epochs)
	}
	if c.FTEpochs < 0 || c.FTLR < 0 || math.IsNaN(c.FTLR) || math.IsInf(c.FTLR, 0) {
		return fmt.Errorf("--ft-epochs and --ft-lr must be >= 0 (0: defaults), got %d and %g", c.FTEpochs, c.FTLR)
	}
	if (c.FTEpochs > 0 || c.FTLR > 0) && !strong.FineTune {
		return fmt.Errorf("--ft-epochs and --ft-lr apply to fine-tuned strong students only (ENC-ft: use-lite-ft, onnx-ft:DIR, onnx-cls-ft:DIR), not %s", c.Strong)
	}
	if weak.FineTune && strong.FineTune && (c.FTEpochs > 0 || c.FTLR > 0) {
		return fmt.Errorf("--ft-epochs and --ft-lr set the strong student's fine-tuning; a fine-tuned weak model trains with the defaults")
	}
	if c.GapThreshold < 0 || c.GapThreshold >= 1 {
		return fmt.Errorf("gap threshold must be in [0,1), got %g", c.GapThreshold)
	}
	sum := 0.0
	for _, f := range c.Fractions {
		if f <= 0 {
			return fmt.Errorf("split fractions must be positive, got %v", c.Fractions)
		}
		sum += f
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("split fractions sum to %g > 1", sum)
	}
	if c.Resamples < 100 {
		return fmt.Errorf("resamples must be at least 100 for a 95%% CI, got %d", c.Resamples)
	}
	return nil
}

// balance is the cell's balancing mode, "" read as the default.
func (c CellSpec) balance() string {
	b, _ := data.ParseBalance(c.Balance)
	return b
}

// metric is the cell's PGR metric, "" read as the default.
func (c CellSpec) metric() eval.Metric {
	m, _ := eval.ParseMetric(c.PGRMetric)
	return m
}

// classBalanced reports whether every model of the cell weights its loss
// by inverse class frequency (--balance weight).
func (c CellSpec) classBalanced() bool { return c.balance() == data.BalanceWeight }

// options are the training settings the cell gives its strong student.
func (c CellSpec) strongOptions() student.Options {
	return student.Options{HeadEpochs: c.Epochs, FineTuneEpochs: c.FTEpochs, FineTuneLR: c.FTLR}
}

// weakOptions: --epochs only; a fine-tuned weak model uses the defaults.
func (c CellSpec) weakOptions() student.Options { return student.Options{HeadEpochs: c.Epochs} }
