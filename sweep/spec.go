package sweep

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/student"
)

// Pair is one weak → strong pair of students, each ENC[:HEAD] or a
// fine-tuned ENC-ft (student.Parse). In YAML it is either "WEAK->STRONG" or
// a mapping {weak: ..., strong: ...}.
type Pair struct {
	Weak   string `yaml:"weak" json:"weak"`
	Strong string `yaml:"strong" json:"strong"`
}

// UnmarshalYAML accepts both pair forms.
func (p *Pair) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		w, s, ok := strings.Cut(n.Value, "->")
		if !ok {
			return fmt.Errorf("line %d: pair %q: want WEAK->STRONG, e.g. bow->glove:mlp", n.Line, n.Value)
		}
		p.Weak, p.Strong = strings.TrimSpace(w), strings.TrimSpace(s)
		return nil
	}
	type plain Pair
	var q plain
	if err := n.Decode(&q); err != nil {
		return err
	}
	*p = Pair(q)
	return nil
}

// Config is a sweep grid, read from sweep.yaml:
//
//	datasets: [sentiment, spam, my.jsonl]
//	pairs: ["bow->glove", "bow->glove:mlp"]
//	methods: [naive, naive-hard, "logconf:coef=0.25|0.5"]
//	seeds: 5
//	limit: 600
//	balance: none       # undersample (default) | none | weight
//	pgr_metric: auroc   # accuracy (default) | auroc | balanced-accuracy | macro-f1
//	ft_epochs: 2        # fine-tuned strong students (ENC-ft) only
//
// A method parameter written v1|v2|... expands to one method spec per value
// (the product over parameters).
type Config struct {
	Datasets []string `yaml:"datasets" json:"datasets"`
	Pairs    []Pair   `yaml:"pairs" json:"pairs"`
	Methods  []string `yaml:"methods" json:"methods"`
	Seeds    int      `yaml:"seeds" json:"seeds"`
	SeedBase int64    `yaml:"seed_base" json:"seed_base"`
	Limit    int      `yaml:"limit" json:"limit"`
	// Balance and PGRMetric are experiment.Spec's (balance:
	// undersample|none|weight; pgr_metric:
	// accuracy|auroc|balanced-accuracy|macro-f1), one for the sweep.
	Balance   string `yaml:"balance" json:"balance,omitempty"`
	PGRMetric string `yaml:"pgr_metric" json:"pgr_metric,omitempty"`
	Epochs    int    `yaml:"epochs" json:"epochs"`
	// FTEpochs and FTLR set the fine-tuning of the pairs whose strong
	// student is fine-tuned (ENC-ft); probe pairs ignore them.
	FTEpochs     int        `yaml:"ft_epochs" json:"ft_epochs,omitempty"`
	FTLR         float64    `yaml:"ft_lr" json:"ft_lr,omitempty"`
	GapThreshold float64    `yaml:"gap_threshold" json:"gap_threshold"`
	Fractions    [3]float64 `yaml:"fractions" json:"fractions"`
	Resamples    int        `yaml:"resamples" json:"resamples"`
}

// LoadConfig reads a sweep.yaml; unknown keys are errors naming the file.
func LoadConfig(path string) (Config, error) {
	def := experiment.DefaultSpec()
	c := Config{Seeds: def.Seeds, GapThreshold: def.GapThreshold, Fractions: def.Fractions, Resamples: def.Resamples}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("reading sweep config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := c.Cells(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ExpandMethod expands value lists in a method spec:
// "logconf:coef=0.25|0.5" gives ["logconf:coef=0.25", "logconf:coef=0.5"].
func ExpandMethod(spec string) ([]string, error) {
	name, rest, ok := strings.Cut(spec, ":")
	if !ok || !strings.Contains(rest, "|") {
		return []string{spec}, nil
	}
	out := []string{name + ":"}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("method %q: parameter %q is not key=value", spec, kv)
		}
		var next []string
		for _, prefix := range out {
			for _, val := range strings.Split(v, "|") {
				sep := ","
				if strings.HasSuffix(prefix, ":") {
					sep = ""
				}
				next = append(next, prefix+sep+k+"="+strings.TrimSpace(val))
			}
		}
		out = next
	}
	return out, nil
}

// Cells expands the grid: datasets × pairs × methods × seeds, ordered so that
// cells sharing a weak model and ceiling (same dataset, pair, seed) are
// adjacent. Method specs are canonicalised (method.New(spec).Name()) and
// duplicates dropped, so every cell is computed once.
func (c Config) Cells() ([]experiment.CellSpec, error) {
	if len(c.Datasets) == 0 || len(c.Pairs) == 0 || len(c.Methods) == 0 {
		return nil, fmt.Errorf("a sweep needs datasets, pairs and methods (got %d, %d, %d)", len(c.Datasets), len(c.Pairs), len(c.Methods))
	}
	if c.Seeds < 1 {
		return nil, fmt.Errorf("seeds must be at least 1, got %d", c.Seeds)
	}
	var methods []string
	seen := map[string]bool{}
	for _, m := range c.Methods {
		specs, err := ExpandMethod(m)
		if err != nil {
			return nil, err
		}
		for _, s := range specs {
			inst, err := method.New(s)
			if err != nil {
				return nil, err
			}
			if !seen[inst.Name()] {
				seen[inst.Name()] = true
				methods = append(methods, inst.Name())
			}
		}
	}
	fineTuned := false
	for _, p := range c.Pairs {
		for _, m := range []string{p.Weak, p.Strong} {
			if _, err := student.Parse(m); err != nil {
				return nil, fmt.Errorf("pair %s->%s: %w", p.Weak, p.Strong, err)
			}
		}
		if s, _ := student.Parse(p.Strong); s.FineTune {
			fineTuned = true
		}
	}
	if !fineTuned && (c.FTEpochs != 0 || c.FTLR != 0) {
		return nil, fmt.Errorf("ft_epochs and ft_lr set the fine-tuning of ENC-ft strong students; no pair has one")
	}
	// Rows tell datasets apart by name, unique within the sweep.
	names, err := data.DisplayNames(c.Datasets)
	if err != nil {
		return nil, err
	}
	var cells []experiment.CellSpec
	for di, d := range c.Datasets {
		for _, p := range c.Pairs {
			ftEpochs, ftLR := 0, 0.0
			if s, _ := student.Parse(p.Strong); s.FineTune {
				ftEpochs, ftLR = c.FTEpochs, c.FTLR
			}
			for s := 0; s < c.Seeds; s++ {
				for _, m := range methods {
					cs := experiment.CellSpec{Dataset: d, Name: names[di], Weak: p.Weak, Strong: p.Strong, Method: m, Seed: c.SeedBase + int64(s),
						Limit: c.Limit, Balance: c.Balance, PGRMetric: c.PGRMetric, Epochs: c.Epochs, FTEpochs: ftEpochs, FTLR: ftLR, GapThreshold: c.GapThreshold,
						Fractions: c.Fractions, Resamples: c.Resamples, EncodeSeeds: [2]int64{c.SeedBase, int64(c.Seeds)}}
					if err := cs.Validate(); err != nil {
						return nil, err
					}
					cells = append(cells, cs)
				}
			}
		}
	}
	return cells, nil
}
