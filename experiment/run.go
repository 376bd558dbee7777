package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/train"
)

// Version is written into every results row; bump ProtocolVersion whenever a
// change to this file could change the numbers, so config hashes change too.
const (
	Version         = "0.1.0"
	ProtocolVersion = 1
)

// Runner executes specs. Cache holds encoder features; Out, when its Dir is
// set, receives finished rows as they complete so a killed run resumes.
type Runner struct {
	Cache *encode.Cache
	Out   store.RunDir
	Log   io.Writer
}

// prepared is a dataset with both encoders' features for every example.
type prepared struct {
	ds             *data.Dataset
	hash           string
	weak, strong   EncHead
	weakX, strongX data.Matrix // [N, Dw], [N, Ds] over ds.Examples
	weakFP, strFP  string      // encoder fingerprints (weights + preprocessing)
	// rows, when non-nil, are the only examples any seed will use (--limit):
	// costly per-example encoders (image CNNs) encode just these and leave
	// the other rows of weakX/strongX zero.
	rows []int
	// ft, for a fine-tuned strong student (use-lite-ft), is the pretrained
	// model the ceiling and students start from; strongX is then zero-width.
	ft       fineTuner
	ftEpochs int
	ftLR     float64 // 0: encode.FineTuneConfig's default
}

// Run executes every dataset × method × seed of spec and returns the rows
// (sorted) and their summaries. Rows already finished in r.Out are reused.
func (r *Runner) Run(ctx context.Context, spec Spec) ([]store.Row, []store.Summary, error) {
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	weak, _ := ParseEncHead(spec.Weak)
	strong, _ := ParseEncHead(spec.Strong)
	methods := make([]method.Method, len(spec.Methods))
	for i, name := range spec.Methods {
		m, err := method.New(name)
		if err != nil {
			return nil, nil, err
		}
		methods[i] = m
	}
	if isFineTuned(strong) {
		if err := checkFineTune(strong, methods); err != nil {
			return nil, nil, err
		}
	}
	// Rows, summaries and saved cells tell datasets apart by name: unique
	// within the run (a path where two files share a base name).
	names, err := data.DisplayNames(spec.Datasets)
	if err != nil {
		return nil, nil, err
	}
	var rows []store.Row
	for di, name := range spec.Datasets {
		p, err := r.prepare(ctx, name, weak, strong, &spec)
		if err != nil {
			return nil, nil, err
		}
		p.ds.Name = names[di]
		for s := 0; s < spec.Seeds; s++ {
			seed := spec.SeedBase + int64(s)
			got, err := r.runSeed(ctx, spec, p, methods, seed)
			if err != nil {
				return nil, nil, fmt.Errorf("%s seed %d: %w", p.ds.Name, seed, err)
			}
			rows = append(rows, got...)
		}
	}
	store.SortRows(rows)
	if isFineTuned(strong) && r.Out.Dir != "" {
		// Every row is saved: the fine-tuning checkpoints have served.
		if err := os.RemoveAll(r.checkpointDir()); err != nil {
			return nil, nil, fmt.Errorf("removing fine-tuning checkpoints: %w", err)
		}
	}
	return rows, eval.Summarize(rows, spec.SeedBase), nil
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// prepare loads a dataset and encodes it. With spec given and a --limit,
// only the examples some seed of spec uses are encoded by per-example
// encoders.
func (r *Runner) prepare(ctx context.Context, name string, weak, strong EncHead, spec *Spec) (*prepared, error) {
	ds, err := data.Load(ctx, name, r.Log)
	if err != nil {
		return nil, err
	}
	p := &prepared{ds: ds, hash: ds.ContentHash(), weak: weak, strong: strong}
	if spec != nil && spec.Limit > 0 && spec.Limit < len(ds.Examples) {
		if p.rows, err = usedRows(*spec, ds); err != nil {
			return nil, err
		}
	}
	r.logf("%s: %d examples, %d classes %v, counts %v", ds.Name, len(ds.Examples), ds.K(), ds.Classes, ds.ClassCounts())
	if p.weakX, p.weakFP, err = r.features(ctx, p, weak.Encoder); err != nil {
		return nil, err
	}
	if isFineTuned(strong) {
		if err := r.prepareFineTune(ctx, p, spec); err != nil {
			return nil, err
		}
		return p, nil
	}
	if p.strongX, p.strFP, err = r.features(ctx, p, strong.Encoder); err != nil {
		return nil, err
	}
	return p, nil
}

// features returns the encoder's features for every example of p.ds, through
// the cache. The pseudo-encoder "features" passes user-supplied vectors.
func (r *Runner) features(ctx context.Context, p *prepared, name string) (data.Matrix, string, error) {
	if name == "features" {
		rows := make([][]float32, len(p.ds.Examples))
		for i, ex := range p.ds.Examples {
			if ex.Features == nil {
				return data.Matrix{}, "", fmt.Errorf("%s: encoder \"features\" needs a features column (example %d has none)", p.ds.Source, i)
			}
			rows[i] = ex.Features
		}
		m, err := data.MatrixFromRows(rows)
		return m, "features", err
	}
	if encode.IsImageEncoder(name) {
		// Image encoders take in-memory pixels (built-in image sets) or
		// the image paths of a user dataset. They are per-example and
		// costly (a CNN forward pass per image), so only the rows some
		// seed uses are encoded; the cache key names that subset.
		idx, key := p.rows, p.hash
		if idx == nil {
			idx = make([]int, len(p.ds.Examples))
			for i := range idx {
				idx[i] = i
			}
		} else {
			key = p.hash + "/rows/" + hashInts(idx)
		}
		var imgs encode.ImageBatch
		if p.ds.IsImage() {
			px, err := p.ds.Pixels(idx)
			if err != nil {
				return data.Matrix{}, "", err
			}
			s := p.ds.ImageShape
			imgs = encode.ImageBatch{Pixels: px, Shape: [4]int{len(idx), s[0], s[1], s[2]}}
		} else {
			imgs.Paths = make([]string, len(idx))
			for k, i := range idx {
				if p.ds.Examples[i].Image == "" {
					return data.Matrix{}, "", fmt.Errorf("%s: image encoder %q needs images (example %d has no image)", p.ds.Source, name, i)
				}
				imgs.Paths[k] = p.ds.Examples[i].Image
			}
		}
		enc, err := encode.NewImage(ctx, name, r.Log)
		if err != nil {
			return data.Matrix{}, "", err
		}
		m, err := r.Cache.ImageFeatures(ctx, enc, key, imgs, r.Log)
		if err != nil {
			return data.Matrix{}, "", fmt.Errorf("%s features of %s: %w", name, p.ds.Name, err)
		}
		if p.rows != nil {
			m = scatterRows(m, p.rows, len(p.ds.Examples))
		}
		return m, enc.Fingerprint(), nil
	}
	texts := make([]string, len(p.ds.Examples))
	for i, ex := range p.ds.Examples {
		if ex.Text == "" {
			return data.Matrix{}, "", fmt.Errorf("%s: encoder %q needs a text column (example %d has no text)", p.ds.Source, name, i)
		}
		texts[i] = ex.Text
	}
	enc, err := encode.New(ctx, name, r.Log)
	if err != nil {
		return data.Matrix{}, "", err
	}
	m, err := r.Cache.Features(ctx, enc, p.hash, texts, r.Log)
	if err != nil {
		return data.Matrix{}, "", fmt.Errorf("%s features of %s: %w", name, p.ds.Name, err)
	}
	return m, enc.Fingerprint(), nil
}

// usedRows returns, ascending, every example some seed of spec puts in a
// split: the rows worth encoding when --limit leaves the rest unused.
func usedRows(spec Spec, ds *data.Dataset) ([]int, error) {
	used := make([]bool, len(ds.Examples))
	for s := 0; s < spec.Seeds; s++ {
		split, err := splitFor(spec, ds, spec.SeedBase+int64(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ds.Source, err)
		}
		for _, part := range [][]int{split.TrainWeak, split.TrainStrong, split.Test} {
			for _, i := range part {
				used[i] = true
			}
		}
	}
	var rows []int
	for i, u := range used {
		if u {
			rows = append(rows, i)
		}
	}
	return rows, nil
}

// scatterRows places the rows of m [len(rows), D] at their dataset indices
// in a zero matrix [n, D].
func scatterRows(m data.Matrix, rows []int, n int) data.Matrix {
	out := data.NewMatrix(n, m.Cols)
	for k, i := range rows {
		copy(out.Row(i), m.Row(k))
	}
	return out
}

func hashInts(v []int) string {
	h := sha256.New()
	for _, x := range v {
		binary.Write(h, binary.LittleEndian, int64(x))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// subSeed derives an independent seed for one random component of a cell, so
// that e.g. adding a method never changes the weak model's initialisation.
func subSeed(seed int64, component string) int64 {
	h := sha256.New()
	binary.Write(h, binary.LittleEndian, seed)
	h.Write([]byte(component))
	return int64(binary.LittleEndian.Uint64(h.Sum(nil)) >> 1)
}

func (r *Runner) headConfig(spec Spec, model EncHead, seed int64) train.Config {
	cfg := train.DefaultConfig(model.Head)
	if info, ok := encode.Lookup(model.Encoder); ok && info.Sparse {
		cfg.Standardize = false
	}
	if spec.Epochs > 0 {
		cfg.Epochs = spec.Epochs
	}
	cfg.Seed = seed
	return cfg
}

// configHash identifies a cell's inputs and code: the same hash means the
// same numbers, so finished rows can be reused safely.
func configHash(spec Spec, p *prepared, methodName string, weakCfg, strongCfg train.Config) string {
	key := map[string]any{
		"protocol":  ProtocolVersion,
		"dataset":   p.hash,
		"weak":      p.weak.String(),
		"weak_fp":   p.weakFP,
		"strong":    p.strong.String(),
		"strong_fp": p.strFP,
		"weak_cfg":  weakCfg.Hash(),
		"str_cfg":   strongCfg.Hash(),
		"method":    methodName,
		"limit":     spec.Limit,
		"fractions": spec.Fractions,
		"gap":       spec.GapThreshold,
		"resamples": spec.Resamples,
	}
	if p.ft != nil {
		// Only fine-tuned cells carry the key, so probe hashes are unchanged.
		key["fine_tune"] = p.ftHashKey()
	}
	b, _ := json.Marshal(key) // map keys marshal sorted: stable
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// runSeed runs every method of one dataset and seed. The weak model, weak
// labels, floor and ceiling are shared by the methods, as in the anchors'
// protocol, so method comparisons are paired.
func (r *Runner) runSeed(ctx context.Context, spec Spec, p *prepared, methods []method.Method, seed int64) ([]store.Row, error) {
	weakCfg := r.headConfig(spec, p.weak, subSeed(seed, "weak-head"))
	// The ceiling and the student share one initialisation seed: the pair
	// differs only in its labels.
	strongCfg := r.headConfig(spec, p.strong, subSeed(seed, "strong-head"))

	rows := make([]store.Row, len(methods))
	hashes := make([]string, len(methods))
	keys := make([]string, len(methods))
	pending := 0
	for i, m := range methods {
		hashes[i] = configHash(spec, p, m.Name(), weakCfg, strongCfg)
		keys[i] = store.DatasetCellKey(p.ds.Name, hashes[i], seed)
		if row, ok := r.Out.Done(keys[i]); ok {
			rows[i] = row
			r.logf("%s seed %d %s: already done, reusing", p.ds.Name, seed, m.Name())
			continue
		}
		pending++
	}
	if pending == 0 {
		return rows, nil
	}

	start := time.Now()
	split, err := splitFor(spec, p.ds, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.ds.Source, err)
	}
	cell, hidden, err := r.buildCell(ctx, p, split, weakCfg, strongCfg, seed)
	if err != nil {
		return nil, err
	}
	shared := time.Since(start).Seconds()

	for i, m := range methods {
		if rows[i].Method != "" {
			continue
		}
		t0 := time.Now()
		row, err := r.runMethod(ctx, spec, p, cell, hidden, m, seed)
		if err != nil {
			return nil, err
		}
		row.ConfigHash = hashes[i]
		row.DurationS = shared/float64(pending) + time.Since(t0).Seconds()
		if r.Out.Dir != "" {
			if err := r.Out.SaveCell(keys[i], row); err != nil {
				return nil, err
			}
		}
		rows[i] = row
		pgr := "no gap"
		if row.PGR != nil {
			pgr = fmt.Sprintf("%.3f [%.3f, %.3f]", *row.PGR, *row.PGRCILow, *row.PGRCIHigh)
		}
		r.logf("%s seed %d %s: floor %.3f ceiling %.3f w2s %.3f PGR %s (%.1fs)",
			p.ds.Name, seed, m.Name(), row.FloorAcc, row.CeilingAcc, row.W2SAcc, pgr, row.DurationS)
	}
	return rows, nil
}

// splitFor balances (binary sets), limits and splits the dataset for a seed.
func splitFor(spec Spec, ds *data.Dataset, seed int64) (data.Split, error) {
	idx := data.BalanceIndices(ds, seed)
	if spec.Limit > 0 {
		idx = data.SubsampleIndices(ds, idx, spec.Limit, seed)
	}
	return data.SplitIndices(ds, idx, seed, spec.Fractions)
}

// cell holds what the methods of one seed share.
type cell struct {
	view      method.View
	floorTest data.Matrix // weak model on test [nTest, K]
	ceilTest  data.Matrix // ceiling on test [nTest, K]
	strongTS  data.Matrix // strong features of train_strong (for student predictions)
	strongTe  data.Matrix // strong features of test
	ft        *ftCell     // texts for a fine-tuned student (use-lite-ft), else nil
}

// buildCell trains the weak model and the ceiling and assembles the cell.
func (r *Runner) buildCell(ctx context.Context, p *prepared, split data.Split, weakCfg, strongCfg train.Config, seed int64) (*cell, *eval.Hidden, error) {
	k := p.ds.K()
	weakHead, err := train.Fit(ctx, p.weakX.SelectRows(split.TrainWeak), data.OneHot(p.ds.Labels(split.TrainWeak), k), weakCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("weak model: %w", err)
	}
	if p.ft != nil {
		return r.fineTuneCell(ctx, p, split, weakHead, weakCfg, strongCfg, seed)
	}
	ceilHead, err := train.Fit(ctx, p.strongX.SelectRows(split.TrainStrong), data.OneHot(p.ds.Labels(split.TrainStrong), k), strongCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("ceiling: %w", err)
	}
	return r.assembleCell(p, split, weakHead, ceilHead, weakCfg, strongCfg, seed)
}

// assembleCell builds the method view and the eval side of a cell from its
// trained weak model and ceiling (the sweep path loads them from disk). It is
// the one place that splits gold (fineTuneCell, which passes a nil ceilHead
// and fine-tunes the ceiling itself, is the other): train_weak gold goes into the view,
// train_strong and test gold into eval.Hidden, which methods never see.
func (r *Runner) assembleCell(p *prepared, split data.Split, weakHead, ceilHead *train.Head, weakCfg, strongCfg train.Config, seed int64) (*cell, *eval.Hidden, error) {
	k := p.ds.K()
	goldTW := p.ds.Labels(split.TrainWeak)
	hidden := eval.NewHidden(p.ds.Labels(split.TrainStrong), p.ds.Labels(split.Test), k)
	weakTW := p.weakX.SelectRows(split.TrainWeak)
	weakTS := p.weakX.SelectRows(split.TrainStrong)
	weakLabels, err := weakHead.Predict(weakTS)
	if err != nil {
		return nil, nil, fmt.Errorf("weak labels: %w", err)
	}
	floorTest, err := weakHead.Predict(p.weakX.SelectRows(split.Test))
	if err != nil {
		return nil, nil, fmt.Errorf("floor: %w", err)
	}
	strongTS := p.strongX.SelectRows(split.TrainStrong)
	strongTe := p.strongX.SelectRows(split.Test)
	var ceilTest data.Matrix
	if ceilHead != nil {
		if ceilTest, err = ceilHead.Predict(strongTe); err != nil {
			return nil, nil, fmt.Errorf("ceiling predictions: %w", err)
		}
	}
	c := &cell{
		view: method.View{
			K:             k,
			Seed:          seed,
			TrainWeak:     method.LabeledSplit{Weak: weakTW, Strong: p.strongX.SelectRows(split.TrainWeak), Gold: goldTW},
			TrainStrong:   method.WeakSplit{Weak: weakTS, Strong: strongTS, WeakLabels: weakLabels},
			WeakModel:     weakHead,
			Head:          strongCfg,
			WeakHead:      weakCfg,
			WeakEncoder:   p.weak.Encoder,
			StrongEncoder: p.strong.Encoder,
			Features: func(ctx context.Context, encoder string) (data.Matrix, data.Matrix, error) {
				x, _, err := r.features(ctx, p, encoder)
				if err != nil {
					return data.Matrix{}, data.Matrix{}, err
				}
				return x.SelectRows(split.TrainWeak), x.SelectRows(split.TrainStrong), nil
			},
			Log: r.Log,
		},
		floorTest: floorTest,
		ceilTest:  ceilTest,
		strongTS:  strongTS,
		strongTe:  strongTe,
	}
	return c, hidden, nil
}

func (r *Runner) runMethod(ctx context.Context, spec Spec, p *prepared, c *cell, hidden *eval.Hidden, m method.Method, seed int64) (store.Row, error) {
	var studentTest, studentTS data.Matrix
	var sel method.Selection
	if c.ft != nil {
		var err error
		if studentTest, studentTS, err = r.fineTuneStudent(ctx, p, c, m.Name()); err != nil {
			return store.Row{}, err
		}
	} else {
		view := c.view // a copy: a method cannot disturb the next one's view header
		student, err := m.Fit(ctx, &view)
		if err != nil {
			return store.Row{}, err
		}
		if studentTest, err = student.Predict(c.strongTe); err != nil {
			return store.Row{}, fmt.Errorf("%s: student predictions: %w", m.Name(), err)
		}
		if studentTS, err = student.Predict(c.strongTS); err != nil {
			return store.Row{}, fmt.Errorf("%s: student predictions on train_strong: %w", m.Name(), err)
		}
		sel, _ = student.(method.Selection)
	}
	scores, err := hidden.ScoreCell(eval.CellInputs{
		FloorTest:          c.floorTest,
		CeilingTest:        c.ceilTest,
		StudentTest:        studentTest,
		WeakLabels:         c.view.TrainStrong.WeakLabels,
		StudentTrainStrong: studentTS,
		Seed:               subSeed(seed, "bootstrap"),
		GapThreshold:       spec.GapThreshold,
		Resamples:          spec.Resamples,
	})
	if err != nil {
		return store.Row{}, err
	}
	row := store.Row{
		Dataset:      p.ds.Name,
		Weak:         p.weak.String(),
		Strong:       p.strong.String(),
		Method:       m.Name(),
		Seed:         seed,
		K:            c.view.K,
		NTrainWeak:   c.view.TrainWeak.Weak.Rows,
		NTrainStrong: c.view.TrainStrong.Weak.Rows,
		NTest:        hidden.NTest(),
		Version:      Version,
	}
	scores.Fill(&row)
	if sel != nil {
		if err := fillSelection(&row, hidden, sel, c.view.TrainStrong.WeakLabels); err != nil {
			return store.Row{}, fmt.Errorf("%s: %w", m.Name(), err)
		}
	}
	return row, nil
}

// fillSelection scores what a cleaning or selection method did with the weak
// labels against hidden gold: kept fraction with the kept set's precision and
// recall, replaced fraction and how often a replaced weak label was wrong.
// Undefined ratios (nothing kept, nothing replaced) stay nil.
func fillSelection(row *store.Row, hidden *eval.Hidden, sel method.Selection, weakLabels data.Matrix) error {
	kept, replaced := sel.Kept(), sel.Replaced()
	n := weakLabels.Rows
	if len(kept) != n || len(replaced) != n {
		return fmt.Errorf("selection has %d kept and %d replaced flags for %d train_strong examples", len(kept), len(replaced), n)
	}
	ptr := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	frac := func(b []bool) float64 {
		c := 0
		for _, x := range b {
			if x {
				c++
			}
		}
		return float64(c) / float64(len(b))
	}
	prec, rec := hidden.FilterPR(kept, weakLabels)
	row.KeptFrac, row.FilterPrecision, row.FilterRecall = ptr(frac(kept)), ptr(prec), ptr(rec)
	row.ReplacedFrac = ptr(frac(replaced))
	if rightAmongReplaced, _ := hidden.FilterPR(replaced, weakLabels); !math.IsNaN(rightAmongReplaced) {
		row.ReplacedWeakWrong = ptr(1 - rightAmongReplaced)
	}
	return nil
}
