package experiment

import (
	"fmt"
	"math"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EncHead names a model of the ladder: a frozen encoder and the head trained
// on its features, written ENC[:HEAD] ("glove", "glove:mlp").
type EncHead struct {
	Encoder string
	Head    string
}

// DefaultHead is the head used when ENC[:HEAD] names none: a linear probe, as
// in the anchors' probe experiments.
const DefaultHead = "linear"

// ParseEncHead parses ENC[:HEAD]. The encoder part may itself contain a colon
// for encoders that take an argument (onnx:DIR), so only a known head name
// after the last colon is taken as the head.
func ParseEncHead(s string) (EncHead, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return EncHead{}, fmt.Errorf("empty model name (want ENC[:HEAD], e.g. glove:linear)")
	}
	if i := strings.LastIndex(s, ":"); i >= 0 {
		enc, head := s[:i], s[i+1:]
		switch head {
		case "linear", "mlp":
			if enc == "" {
				return EncHead{}, fmt.Errorf("%q: missing encoder before ':'", s)
			}
			return EncHead{Encoder: enc, Head: head}, nil
		}
	}
	return EncHead{Encoder: s, Head: DefaultHead}, nil
}

func (e EncHead) String() string { return e.Encoder + ":" + e.Head }

// Spec is one `w2s run`: datasets × one weak → strong pair × methods × seeds.
type Spec struct {
	Datasets []string `yaml:"data"`
	Weak     string   `yaml:"weak"`
	Strong   string   `yaml:"strong"`
	Methods  []string `yaml:"method"`
	Seeds    int      `yaml:"seeds"`
	SeedBase int64    `yaml:"seed_base"`
	// Limit caps the examples used after balancing (0 = all), chosen by seed.
	Limit int `yaml:"limit"`
	// GapThreshold: cells whose ceiling − floor accuracy is below it are "no gap".
	GapThreshold float64 `yaml:"gap_threshold"`
	// Fractions of train_weak, train_strong and test.
	Fractions [3]float64 `yaml:"fractions"`
	// Resamples of the per-cell paired bootstrap.
	Resamples int `yaml:"resamples"`
	// Epochs overrides the heads' default epochs when > 0.
	Epochs int `yaml:"epochs"`
	// FTEpochs and FTLR set the end-to-end fine-tuning of a use-lite-ft
	// student (and ceiling) when > 0: passes over train_strong, and the
	// transformer's Adam learning rate (defaults DefaultFineTuneEpochs and
	// encode.FineTuneConfig's). They are separate from the heads' Epochs.
	FTEpochs int     `yaml:"ft_epochs"`
	FTLR     float64 `yaml:"ft_lr"`
}

// DefaultSpec returns the built-in defaults: the demo's settings.
func DefaultSpec() Spec {
	return Spec{
		Datasets:     []string{"sentiment", "spam"},
		Weak:         "bow",
		Strong:       "glove",
		Methods:      []string{"naive"},
		Seeds:        5,
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
	if _, err := ParseEncHead(s.Weak); err != nil {
		return fmt.Errorf("--weak: %w", err)
	}
	if _, err := ParseEncHead(s.Strong); err != nil {
		return fmt.Errorf("--strong: %w", err)
	}
	if len(s.Methods) == 0 {
		return fmt.Errorf("no method given (--method M[,M...])")
	}
	if s.Seeds < 1 {
		return fmt.Errorf("--seeds must be at least 1, got %d", s.Seeds)
	}
	if s.Limit < 0 {
		return fmt.Errorf("--limit must be >= 0, got %d", s.Limit)
	}
	if s.FTEpochs < 0 || s.FTLR < 0 || math.IsNaN(s.FTLR) || math.IsInf(s.FTLR, 0) {
		return fmt.Errorf("--ft-epochs and --ft-lr must be >= 0 (0: defaults), got %d and %g", s.FTEpochs, s.FTLR)
	}
	if strong, _ := ParseEncHead(s.Strong); (s.FTEpochs > 0 || s.FTLR > 0) && !isFineTuned(strong) {
		return fmt.Errorf("--ft-epochs and --ft-lr apply to fine-tuned strong students only (%s, %sDIR, %sDIR), not %s", FineTunedStrong, ONNXFineTunedPrefix, ONNXCLSFineTunedPrefix, s.Strong)
	}
	if s.GapThreshold < 0 || s.GapThreshold >= 1 {
		return fmt.Errorf("gap threshold must be in [0,1), got %g", s.GapThreshold)
	}
	sum := 0.0
	for _, f := range s.Fractions {
		if f <= 0 {
			return fmt.Errorf("split fractions must be positive, got %v", s.Fractions)
		}
		sum += f
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("split fractions sum to %g > 1", sum)
	}
	if s.Resamples < 100 {
		return fmt.Errorf("resamples must be at least 100 for a 95%% CI, got %d", s.Resamples)
	}
	return nil
}
