package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// Version is written into every results row; bump ProtocolVersion whenever a
// change could change the numbers, so keys and config hashes change too.
//
// Protocol 2: one trainer for every student; window's loss divided by the
// batch size (EleutherAI's form) instead of the in-window count; weak models
// and ceilings cached as predictions; fine-tuned students run every method.
//
// Protocol 3 (issue 12): train_weak gold through a budget (selective and
// pik-only self-labels gold-free, P(IK) on gold=100), logconf's linear
// schedule by default, topo-filter's contamination in total, bootstrap's
// default chain the ladder's intermediate encoders.
const (
	Version         = "0.3.0"
	ProtocolVersion = 3
)

// DefaultTeacherDir is where trained weak models' and ceilings'
// predictions are cached: $SUPERALIGN_TEACHERS, or
// $SUPERALIGN_CACHE/teachers (a cluster may point every node at one shared
// directory; flock keeps them from training one key twice).
func DefaultTeacherDir() string {
	if d := os.Getenv("SUPERALIGN_TEACHERS"); d != "" {
		return d
	}
	return filepath.Join(assets.CacheDir(), "teachers")
}

// CellKeys are the content keys of a cell's job-graph nodes. Each hashes its
// inputs and the code version, and a node's key includes its parents' keys,
// so changing a teacher changes exactly its descendants' keys.
type CellKeys struct {
	WeakFeatures   string `json:"weak_features"`   // dataset × weak encoder
	StrongFeatures string `json:"strong_features"` // dataset × strong encoder
	Weak           string `json:"weak"`            // weak model + weak labels: dataset × split × weak student
	Ceiling        string `json:"ceiling"`         // ceiling: dataset × split × strong student
	Student        string `json:"student"`         // student: … × method; names the finished row
	// Setup hashes the cell's settings but the method and the seed; Config,
	// the results rows' config_hash, adds the method.
	Setup  string `json:"setup"`
	Config string `json:"config"`
	// Values is the dataset's value-channel hash, "" without one.
	Values string `json:"values,omitempty"`
}

// CellStats says which shared nodes a cell reused from disk or memory.
type CellStats struct {
	WeakReused, CeilingReused bool
}

// CellRunner builds cells and runs methods on them: the one code path of
// `w2s run`, sweep cells and `w2s oversee`. Datasets, encoders, students
// and features are shared in memory; trained weak models and ceilings are
// shared across processes through the teacher cache (teachers.go).
// Safe for concurrent use.
type CellRunner struct {
	Cache *featcache.Cache
	// Teachers is the teacher cache directory ("" = DefaultTeacherDir).
	Teachers string
	// Checkpoints, when set, receives the training checkpoints of
	// fine-tuned students (ceilings and every method stage), so that a
	// killed run resumes inside a fine-tune; each is removed once what it
	// served is saved.
	Checkpoints string
	Log         io.Writer

	// split, when set, replaces splitFor (a test uses one split for two
	// datasets that differ only in hidden gold).
	split func(cs CellSpec, ds *data.Dataset, seed int64) (data.Split, error)

	mu       sync.Mutex
	datasets map[string]*onceVal[*data.Dataset]
	hashes   map[string]*onceVal[string]
	opened   map[string]*onceVal[encode.Opened]
	students map[string]*onceVal[student.Student]
	feats    map[string]*onceVal[data.Matrix]
	teachers map[string]*onceVal[teacher]
}

type onceVal[T any] struct {
	once sync.Once
	v    T
	err  error
}

func getOnce[T any](c *CellRunner, m *map[string]*onceVal[T], key string, f func() (T, error)) (T, error) {
	c.mu.Lock()
	if *m == nil {
		*m = map[string]*onceVal[T]{}
	}
	e, ok := (*m)[key]
	if !ok {
		e = &onceVal[T]{}
		(*m)[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.v, e.err = f() })
	return e.v, e.err
}

func (c *CellRunner) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

func (c *CellRunner) dataset(ctx context.Context, name string) (*data.Dataset, string, error) {
	ds, err := getOnce(c, &c.datasets, name, func() (*data.Dataset, error) {
		ds, err := data.Load(ctx, name, c.Log)
		if err == nil {
			// The classes as loaded, before any split: a label trimmed or
			// merged by the input rules shows here.
			c.logf("%s: %d examples, %d classes %q, counts %v", ds.Name, len(ds.Examples), ds.K(), ds.Classes, ds.ClassCounts())
		}
		return ds, err
	})
	if err != nil {
		return nil, "", err
	}
	hash, _ := getOnce(c, &c.hashes, name, func() (string, error) { return ds.ContentHash(), nil })
	return ds, hash, nil
}

func (c *CellRunner) open(ctx context.Context, name string) (encode.Opened, error) {
	return getOnce(c, &c.opened, name, func() (encode.Opened, error) { return encode.Open(ctx, name, c.Log) })
}

func (c *CellRunner) student(ctx context.Context, spec student.Spec, opt student.Options) (student.Student, error) {
	key := fmt.Sprintf("%s|%+v", spec, opt)
	return getOnce(c, &c.students, key, func() (student.Student, error) { return student.Open(ctx, spec, opt, c.Log) })
}

// resolve resolves a cell's weak and strong students and the fingerprints
// of their frozen encoders, loading weights but computing no features.
//
// On preference pairs both are pairwise reward models.
func (c *CellRunner) resolve(ctx context.Context, cs CellSpec, pairwise bool) (weak, strong student.Student, weakFP, strongFP string, err error) {
	ws, _ := student.Parse(cs.Weak)
	ss, _ := student.Parse(cs.Strong)
	wo, so := cs.weakOptions(), cs.strongOptions()
	wo.Pairwise, so.Pairwise = pairwise, pairwise
	if weak, err = c.student(ctx, ws, wo); err != nil {
		return nil, nil, "", "", fmt.Errorf("weak: %w", err)
	}
	if strong, err = c.student(ctx, ss, so); err != nil {
		return nil, nil, "", "", fmt.Errorf("strong: %w", err)
	}
	for _, e := range []struct {
		name string
		fp   *string
	}{{ws.Encoder, &weakFP}, {ss.Encoder, &strongFP}} {
		enc, err := c.open(ctx, e.name)
		if err != nil {
			return nil, nil, "", "", err
		}
		*e.fp = enc.Fingerprint()
	}
	return weak, strong, weakFP, strongFP, nil
}

// seeds of a cell's random components: adding a method never changes the
// weak model's initialisation, and the ceiling and every student share one
// seed, so they differ only in their labels.
func weakSeed(seed int64) int64   { return seeds.Derive(seed, "weak-head") }
func strongSeed(seed int64) int64 { return seeds.Derive(seed, "strong-head") }

// trainConfig is a student's training configuration in a cell.
func trainConfig(s student.Student, seed int64) train.Config {
	cfg := s.Config()
	cfg.Seed = seed
	return cfg
}

func hashJSON(v any) string {
	b, _ := json.Marshal(v) // maps marshal with sorted keys: stable
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:10])
}

// keys computes the node keys of a cell.
func keys(cs CellSpec, dsHash string, pairwise bool, valueHash string, weak, strong student.Student, weakFP, strongFP string) CellKeys {
	var k CellKeys
	k.WeakFeatures = hashJSON(map[string]any{"dataset": dsHash, "encoder": weak.Spec().Encoder, "fp": weakFP})
	k.StrongFeatures = hashJSON(map[string]any{"dataset": dsHash, "encoder": strong.Spec().Encoder, "fp": strongFP})
	split := map[string]any{"limit": cs.Limit, "fractions": cs.Fractions, "seed": cs.Seed}
	// The settings of issue 20 enter the keys only when they are not the
	// defaults, so that every key computed before them stays valid: none
	// and weight change the examples (and weight the training) of the weak
	// model and the ceiling, and so every node below them; the PGR metric
	// changes only the scores, so it enters the setup and the student
	// node, not the teachers, which are shared across metrics.
	if b := cs.balance(); b != data.BalanceUndersample {
		split["balance"] = b
	}
	if pairwise {
		// The teachers of a preference cell also predict the best-of-n
		// groups.
		split["best_of_n"] = BestOfN
	}
	node := func(name, features string, s student.Student, seed int64) string {
		return hashJSON(map[string]any{"protocol": ProtocolVersion, "node": name, "features": features, "student": s.Spec().String(),
			"student_fp": s.Fingerprint(), "train": trainConfig(s, seed).String(), "split": split})
	}
	k.Weak = node("weak", k.WeakFeatures, weak, weakSeed(cs.Seed))
	k.Ceiling = node("ceiling", k.StrongFeatures, strong, strongSeed(cs.Seed))
	setup := map[string]any{"protocol": ProtocolVersion, "dataset": dsHash, "name": cs.Name,
		"weak": weak.Spec().String(), "weak_fp": weakFP, "weak_student": weak.Fingerprint(), "weak_train": trainConfig(weak, 0).String(),
		"strong": strong.Spec().String(), "strong_fp": strongFP, "strong_student": strong.Fingerprint(), "strong_train": trainConfig(strong, 0).String(),
		"limit": cs.Limit, "fractions": cs.Fractions, "gap": cs.GapThreshold, "resamples": cs.Resamples}
	if b := cs.balance(); b != data.BalanceUndersample {
		setup["balance"] = b
	}
	if m := cs.metric(); m != eval.MetricAccuracy {
		setup["pgr_metric"] = string(m)
	}
	// A value channel (issue 15) changes what value-aware methods train on
	// and what rows report, not the features or teachers: it enters the
	// setup, and through it the student node, only when present.
	if valueHash != "" {
		setup["values"] = valueHash
		k.Values = valueHash
	}
	k.Setup = hashJSON(setup)
	return withMethod(k, cs)
}

// withMethod completes the method's keys of a cell with keys k: the
// student node and the rows' config hash.
func withMethod(k CellKeys, cs CellSpec) CellKeys {
	k.Student = studentKey(k, cs)
	k.Config = hashJSON(map[string]any{"setup": k.Setup, "method": cs.Method})[:16]
	return k
}

// studentKey is the key of the student node of cs.Method on a cell with
// weak and ceiling keys k: it names the finished row.
func studentKey(k CellKeys, cs CellSpec) string {
	node := map[string]any{"protocol": ProtocolVersion, "node": "student", "weak": k.Weak, "name": cs.Name,
		"ceiling": k.Ceiling, "method": cs.Method, "gap": cs.GapThreshold, "resamples": cs.Resamples, "version": Version}
	if m := cs.metric(); m != eval.MetricAccuracy {
		node["pgr_metric"] = string(m)
	}
	if k.Values != "" {
		node["values"] = k.Values
	}
	return hashJSON(node)
}

// Keys returns the job-graph keys of a cell. It loads the dataset and the
// students (for their fingerprints) but computes no features. A method
// that refuses the cell (method.Check) is an error here, so a sweep plan
// fails before any work.
func (c *CellRunner) Keys(ctx context.Context, cs CellSpec) (CellKeys, error) {
	if err := cs.Validate(); err != nil {
		return CellKeys{}, err
	}
	m, err := method.New(cs.Method)
	if err != nil {
		return CellKeys{}, err
	}
	info, err := c.Info(ctx, cs)
	if err != nil {
		return CellKeys{}, err
	}
	if err := method.Check(m, info); err != nil {
		return CellKeys{}, fmt.Errorf("%s seed %d: %w", cs.Dataset, cs.Seed, err)
	}
	ds, dsHash, err := c.dataset(ctx, cs.Dataset)
	if err != nil {
		return CellKeys{}, err
	}
	weak, strong, weakFP, strongFP, err := c.resolve(ctx, cs, ds.IsPairwise())
	if err != nil {
		return CellKeys{}, err
	}
	return keys(cs, dsHash, ds.IsPairwise(), ds.ValueHash(), weak, strong, weakFP, strongFP), nil
}

// Info is what methods check before any work (method.Check): the cell's
// classes, split sizes and encoders. It loads the dataset and computes
// the split, no features.
func (c *CellRunner) Info(ctx context.Context, cs CellSpec) (method.CellInfo, error) {
	if err := cs.Validate(); err != nil {
		return method.CellInfo{}, err
	}
	ds, _, err := c.dataset(ctx, cs.Dataset)
	if err != nil {
		return method.CellInfo{}, err
	}
	splitOf := splitFor
	if c.split != nil {
		splitOf = c.split
	}
	split, err := splitOf(cs, ds, cs.Seed)
	if err != nil {
		return method.CellInfo{}, fmt.Errorf("%s: %w", ds.Source, err)
	}
	ws, _ := student.Parse(cs.Weak)
	ss, _ := student.Parse(cs.Strong)
	return method.CellInfo{K: ds.K(), NTrainWeak: len(split.TrainWeak), NTrainStrong: len(split.TrainStrong),
		WeakEncoder: ws.Encoder, StrongEncoder: ss.Encoder, Pairwise: ds.IsPairwise()}, nil
}

// Cell is what the methods of one dataset, pair, seed and protocol share:
// the split, the weak model's labels, the floor and ceiling, the view
// methods plan on, the executor that trains their students, and the hidden
// gold only eval reads.
type Cell struct {
	spec      CellSpec
	keys      CellKeys
	ds        *data.Dataset
	weak      student.Student
	strong    student.Student
	view      method.View
	hidden    *eval.Hidden
	floorTest data.Matrix // weak model on test [Nt, K]
	ceilTest  data.Matrix // ceiling on test [Nt, K]
	exec      method.Executor
	test      student.Inputs // the strong student's test inputs
	testTexts []string       // for the attacker (inputs only)
	// trainStrongTexts are shown at the review desk (inputs only).
	trainStrongTexts []string
	// classCounts are the examples per class of train_weak, train_strong
	// and test: the class mix the rows report.
	classCounts [3][]int
	stats       CellStats
	// Preference pairs with graded responses: the best-of-n groups (gold
	// best hidden in bon), the weak model's and the ceiling's predictions
	// on them, and the student's inputs for them.
	bon               *eval.BestOfN
	floorBoN, ceilBoN data.Matrix
	bonIn             student.Inputs
}

// Cell builds the cell of cs (cs.Method is ignored): features through the
// cache, weak model and ceiling through the teacher cache.
//
// It is the one place that splits gold: train_weak gold goes into the
// executor's gold pool (methods draw from it through their budget),
// train_strong gold trains the ceiling, and the gold of train_strong and
// test goes into an eval.Hidden that methods never receive.
func (c *CellRunner) Cell(ctx context.Context, cs CellSpec) (*Cell, error) {
	if err := cs.Validate(); err != nil {
		return nil, err
	}
	ds, dsHash, err := c.dataset(ctx, cs.Dataset)
	if err != nil {
		return nil, err
	}
	weak, strong, weakFP, strongFP, err := c.resolve(ctx, cs, ds.IsPairwise())
	if err != nil {
		return nil, err
	}
	cell := &Cell{spec: cs, ds: ds, weak: weak, strong: strong, keys: keys(cs, dsHash, ds.IsPairwise(), ds.ValueHash(), weak, strong, weakFP, strongFP)}
	var rows []int
	if cs.Limit > 0 && cs.Limit < len(ds.Examples) {
		if rows, err = usedRows(cs, ds); err != nil {
			return nil, err
		}
	}
	weakX, err := c.features(ctx, ds, dsHash, rows, weak.Spec().Encoder)
	if err != nil {
		return nil, err
	}
	strongX, err := c.features(ctx, ds, dsHash, rows, strong.Spec().Encoder)
	if err != nil {
		return nil, err
	}
	splitOf := splitFor
	if c.split != nil {
		splitOf = c.split
	}
	split, err := splitOf(cs, ds, cs.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ds.Source, err)
	}
	k := ds.K()
	goldTW := ds.Labels(split.TrainWeak)
	inputs := func(s student.Student, x data.Matrix, idx []int) (student.Inputs, error) {
		switch {
		case s.Reads() == student.ReadsFeatures:
			return student.Inputs{Features: x.SelectRows(idx)}, nil
		case s.Reads() == student.ReadsImages:
			imgs, err := imageBatch(ds, idx)
			if err != nil {
				return student.Inputs{}, fmt.Errorf("student %s reads images: %w", s.Spec(), err)
			}
			return student.Inputs{Images: imgs}, nil
		}
		if ds.IsPairwise() {
			a, b := ds.PairTexts(idx)
			return student.Inputs{Texts: a, TextsB: b}, nil
		}
		texts := ds.Texts(idx)
		for j, t := range texts {
			if t == "" {
				return student.Inputs{}, fmt.Errorf("%s: student %s reads texts (example %d has none)", ds.Source, s.Spec(), idx[j])
			}
		}
		return student.Inputs{Texts: texts}, nil
	}

	// The weak model: trained on train_weak gold (the supervisor's own
	// labels), it labels train_strong and sets the floor on test.
	weakIn := make(map[string]student.Inputs, 3)
	for name, idx := range map[string][]int{"train_weak": split.TrainWeak, "train_strong": split.TrainStrong, "test": split.Test} {
		if weakIn[name], err = inputs(weak, weakX, idx); err != nil {
			return nil, err
		}
	}
	weakPredict := map[string]student.Inputs{"train_strong": weakIn["train_strong"], "test": weakIn["test"]}
	var strongBoN student.Inputs
	if ds.IsPairwise() {
		cands, best := bestOfNGroups(ds, split.Test, BestOfN, cs.Seed)
		if len(best) > 0 {
			if cell.bon, err = eval.NewBestOfN(BestOfN, best); err != nil {
				return nil, err
			}
			bonInputs := func(s student.Student) (student.Inputs, error) {
				var sides data.Matrix
				if s.Reads() == student.ReadsFeatures {
					if sides, err = c.pairSides(ctx, ds, dsHash, s.Spec().Encoder); err != nil {
						return student.Inputs{}, err
					}
				}
				return bestOfNInputs(s, ds, sides, cands, BestOfN), nil
			}
			if weakPredict["best_of_n"], err = bonInputs(weak); err != nil {
				return nil, err
			}
			if strongBoN, err = bonInputs(strong); err != nil {
				return nil, err
			}
			cell.bonIn = strongBoN
		}
	}
	weakPred, reused, err := c.teacher(cell.keys.Weak, func() (teacher, error) {
		c.logf("%s seed %d: training the weak model (%s on %d train_weak examples)", ds.Name, cs.Seed, weak.Spec(), len(split.TrainWeak))
		return c.fitTeacher(ctx, weak, weakIn["train_weak"], data.OneHot(goldTW, k), cs.classBalanced(), weakSeed(cs.Seed),
			"weak-"+cell.keys.Weak, fmt.Sprintf("%s seed %d weak model (%s)", ds.Name, cs.Seed, weak.Spec()),
			weakPredict)
	})
	if err != nil {
		return nil, fmt.Errorf("weak model: %w", err)
	}
	cell.stats.WeakReused = reused

	// The ceiling: the strong student trained on train_strong gold.
	strongTS, err := inputs(strong, strongX, split.TrainStrong)
	if err != nil {
		return nil, err
	}
	if cell.test, err = inputs(strong, strongX, split.Test); err != nil {
		return nil, err
	}
	ceilPredict := map[string]student.Inputs{"test": cell.test}
	if cell.bon != nil {
		ceilPredict["best_of_n"] = strongBoN
	}
	ceilPred, reused, err := c.teacher(cell.keys.Ceiling, func() (teacher, error) {
		c.logf("%s seed %d: training the ceiling (%s on %d train_strong examples, gold labels)", ds.Name, cs.Seed, strong.Spec(), len(split.TrainStrong))
		return c.fitTeacher(ctx, strong, strongTS, data.OneHot(ds.Labels(split.TrainStrong), k), cs.classBalanced(), strongSeed(cs.Seed),
			"ceiling-"+cell.keys.Ceiling, fmt.Sprintf("%s seed %d ceiling (%s)", ds.Name, cs.Seed, strong.Spec()),
			ceilPredict)
	})
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	cell.stats.CeilingReused = reused
	cell.floorTest, cell.ceilTest = weakPred["test"], ceilPred["test"]
	if cell.bon != nil {
		cell.floorBoN, cell.ceilBoN = weakPred["best_of_n"], ceilPred["best_of_n"]
		if cell.floorBoN.Rows == 0 || cell.ceilBoN.Rows == 0 {
			return nil, fmt.Errorf("%s seed %d: cached teacher predictions lack the best-of-n groups", ds.Name, cs.Seed)
		}
	}
	// The student's train_weak inputs, for objectives that train it on the
	// gold examples a method drew from its budget (gold-probe, naive+gold).
	strongTW, err := inputs(strong, strongX, split.TrainWeak)
	if err != nil {
		return nil, err
	}
	// train_weak gold with its strong features: the executor's pool, from
	// which each method gets a budget of its declared gold=B.
	gold, err := method.NewGoldPool(strongX.SelectRows(split.TrainWeak), goldTW, seeds.Derive(cs.Seed, "gold-budget"))
	if err != nil {
		return nil, err
	}
	cell.hidden = eval.NewHidden(ds.Labels(split.TrainStrong), ds.Labels(split.Test), k)
	if ds.HasValue() {
		if err := cell.hidden.SetTestValues(ds.Values(split.Test)); err != nil {
			return nil, fmt.Errorf("%s: %w", ds.Source, err)
		}
	}
	cell.testTexts, cell.trainStrongTexts = ds.Texts(split.Test), ds.Texts(split.TrainStrong)
	cell.classCounts = [3][]int{ds.ClassCountsOf(split.TrainWeak), ds.ClassCountsOf(split.TrainStrong), ds.ClassCountsOf(split.Test)}

	pairwise := ds.IsPairwise()
	strongProbe := student.ProbeFor(student.Spec{Encoder: strong.Spec().Encoder, Head: strong.Spec().Head}, student.Options{HeadEpochs: cs.Epochs, Pairwise: pairwise})
	if p, ok := strong.(*student.Probe); ok {
		strongProbe = p.Probe()
	}
	strongProbe.Seed = strongSeed(cs.Seed)
	weakProbe := student.ProbeFor(student.Spec{Encoder: weak.Spec().Encoder, Head: weak.Spec().Head}, student.Options{HeadEpochs: cs.Epochs, Pairwise: pairwise})
	weakProbe.Seed = weakSeed(cs.Seed)
	// --balance weight: the probes methods fit while they plan are
	// weighted as the cell's weak model, ceiling and students are.
	strongProbe.ClassBalanced, weakProbe.ClassBalanced = cs.classBalanced(), cs.classBalanced()
	cell.view = method.View{
		K:           k,
		Seed:        cs.Seed,
		TrainWeak:   method.SupervisorSplit{Weak: weakX.SelectRows(split.TrainWeak)},
		TrainStrong: method.WeakSplit{Weak: weakX.SelectRows(split.TrainStrong), Strong: strongX.SelectRows(split.TrainStrong), WeakLabels: weakPred["train_strong"]},
		Student:     strong.Spec(), StrongProbe: strongProbe, WeakProbe: weakProbe,
		WeakEncoder: weak.Spec().Encoder, StrongEncoder: strong.Spec().Encoder,
		// Weak-side encoders only: the executor wraps it again for every
		// method; wrapped here too for whoever else reads the view.
		Features: method.WeakSideFeatures(func(ctx context.Context, encoder string) (data.Matrix, data.Matrix, error) {
			x, err := c.features(ctx, ds, dsHash, rows, encoder)
			if err != nil {
				return data.Matrix{}, data.Matrix{}, err
			}
			return x.SelectRows(split.TrainWeak), x.SelectRows(split.TrainStrong), nil
		}, strong.Spec().Encoder),
		Log: c.Log,
	}
	if ds.HasValue() {
		if cell.view.Value, err = weakValue(ctx, ds.Values(split.TrainWeak), cell.view.TrainWeak.Weak, cell.view.TrainStrong.Weak, weakProbe, cs.Seed); err != nil {
			return nil, fmt.Errorf("%s seed %d: weak value supervisor: %w", ds.Name, cs.Seed, err)
		}
		c.logf("%s seed %d: weak value supervisor (%s) flags %d of %d train_strong examples for class %q", ds.Name, cs.Seed, weak.Spec(),
			countAbove(cell.view.Value.TrainStrong, 0.5), len(split.TrainStrong), ds.Classes[cell.view.Value.Class])
	}
	cfg := trainConfig(strong, strongSeed(cs.Seed))
	if strong.Reads() != student.ReadsFeatures {
		cfg.Log = c.Log
	}
	cell.exec = method.Executor{Student: strong, Inputs: strongTS, Config: cfg, Key: cell.keys.Ceiling, Gold: gold, TrainWeakInputs: strongTW,
		ClassBalanced: cs.classBalanced()}
	if c.checkpoints(strong) {
		cell.exec.CheckpointDir = c.Checkpoints
	}
	return cell, nil
}

// weakValue trains the weak value supervisor: a probe with the weak
// model's configuration on the weak features of train_weak, fitted to its
// value labels (constrained or not; inverse-frequency weighted, since
// constraints are rare), and returns its probabilities on train_strong.
// Its training data are the supervisor's own, as the weak model's gold
// is. One value class per dataset: a constraint is "must be class c".
func weakValue(ctx context.Context, values []int, xw, xs data.Matrix, cfg student.ProbeConfig, seed int64) (*method.WeakValue, error) {
	class := -1
	flags := make([]int, len(values))
	for i, v := range values {
		if v < 0 {
			continue
		}
		if class >= 0 && v != class {
			return nil, fmt.Errorf("train_weak has value constraints for two classes (%d and %d): value-aware training supports one", class, v)
		}
		class, flags[i] = v, 1
	}
	out := &method.WeakValue{Class: class, TrainStrong: make([]float32, xs.Rows)}
	nFlag := countAbove(intsToFloats(flags), 0.5)
	if nFlag == 0 || nFlag == len(flags) {
		// Nothing (or everything) to tell apart: the supervisor knows no
		// constraint. Class 0 is a placeholder no flag refers to.
		if class < 0 {
			out.Class = 0
		}
		for i := range out.TrainStrong {
			out.TrainStrong[i] = float32(nFlag / max(1, len(flags)))
		}
		return out, nil
	}
	cfg.ClassBalanced = true
	cfg.Seed = seeds.Derive(seed, "weak-value")
	p, err := student.FitProbeLabels(ctx, xw, flags, 2, cfg)
	if err != nil {
		return nil, err
	}
	pred, err := p.Predict(xs)
	if err != nil {
		return nil, err
	}
	for i := range out.TrainStrong {
		out.TrainStrong[i] = pred.Row(i)[1]
	}
	return out, nil
}

func intsToFloats(xs []int) []float32 {
	out := make([]float32, len(xs))
	for i, x := range xs {
		out[i] = float32(x)
	}
	return out
}

func countAbove(xs []float32, t float32) int {
	n := 0
	for _, x := range xs {
		if x > t {
			n++
		}
	}
	return n
}

// checkpoints reports whether fits of s are checkpointed: fine-tunes take
// minutes; a probe trains in about a second, less than a checkpoint's
// write and read would save.
func (c *CellRunner) checkpoints(s student.Student) bool {
	return c.Checkpoints != "" && s.Reads() != student.ReadsFeatures
}

// fitTeacher trains s on in with hard targets (weighted by inverse class
// frequency when balanced) and returns its predictions on the named
// inputs; file names its checkpoint, label its log lines.
func (c *CellRunner) fitTeacher(ctx context.Context, s student.Student, in student.Inputs, targets data.Matrix, balanced bool, seed int64, file, label string, predict map[string]student.Inputs) (teacher, error) {
	cfg := trainConfig(s, seed)
	if c.checkpoints(s) {
		cfg.Checkpoint = filepath.Join(c.Checkpoints, file+".ckpt")
	}
	if s.Reads() != student.ReadsFeatures {
		cfg.Log, cfg.Name = c.Log, label
	}
	obj := train.Objective{Targets: targets}
	if balanced {
		var err error
		if obj, err = train.ClassBalanced(obj); err != nil {
			return nil, err
		}
	}
	m, _, err := s.Fit(ctx, in, obj, cfg)
	if err != nil {
		return nil, err
	}
	out := teacher{}
	for split, x := range predict {
		if out[split], err = m.Predict(ctx, x); err != nil {
			return nil, fmt.Errorf("predicting %s: %w", split, err)
		}
	}
	if cfg.Checkpoint != "" {
		// The predictions are about to be stored: the checkpoint has served.
		defer removeCheckpoints(cfg.Checkpoint)
	}
	return out, nil
}

func removeCheckpoints(paths ...string) {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "removing checkpoint %s: %v\n", p, err)
		}
	}
}

// Run computes cell cs with its method and hands the row to save; the
// method's training checkpoints are removed once save succeeds.
func (c *CellRunner) Run(ctx context.Context, cs CellSpec, save func(key string, row *store.Row) error) (store.Row, CellStats, error) {
	m, err := method.New(cs.Method)
	if err != nil {
		return store.Row{}, CellStats{}, err
	}
	cell, err := c.Cell(ctx, cs)
	if err != nil {
		return store.Row{}, CellStats{}, err
	}
	row, checkpoints, err := c.RunMethod(ctx, cell, m, save)
	if err == nil {
		removeCheckpoints(checkpoints...)
	}
	return row, cell.stats, err
}

// RunMethod trains m's plan on the cell's student, scores it against the
// hidden gold and hands the row, under its student key, to save (which may
// be nil, and may complete the row, e.g. with its duration). It returns the
// plan's checkpoint files for the caller to remove once it needs them no
// more: methods of one cell whose stages train the same objective (naive
// and s2s's first round) share one, so a caller running several methods
// of a cell removes them after the last.
func (c *CellRunner) RunMethod(ctx context.Context, cell *Cell, m method.Method, save func(key string, row *store.Row) error) (store.Row, []string, error) {
	cs := cell.spec
	cs.Method = m.Name()
	k := withMethod(cell.keys, cs)
	view := cell.view // a copy: a method cannot disturb the next one's view header
	exec := cell.exec
	tr, err := exec.Run(ctx, m, &view)
	if err != nil {
		return store.Row{}, nil, err
	}
	studentTest, err := tr.Model.Predict(ctx, cell.test)
	if err != nil {
		return store.Row{}, nil, fmt.Errorf("%s: student predictions on test: %w", m.Name(), err)
	}
	in := eval.CellInputs{
		FloorTest:          cell.floorTest,
		CeilingTest:        cell.ceilTest,
		StudentTest:        studentTest,
		WeakLabels:         cell.view.TrainStrong.WeakLabels,
		StudentTrainStrong: tr.TrainStrong,
		Seed:               seeds.Derive(cs.Seed, "bootstrap"),
		GapThreshold:       cs.GapThreshold,
		Resamples:          cs.Resamples,
		Metric:             cs.metric(),
	}
	if tr.Calibration != nil {
		in.TrainedLabels = tr.Calibration.WeakLabels
	}
	scores, err := cell.hidden.ScoreCell(in)
	if err != nil {
		return store.Row{}, nil, err
	}
	name := cs.Name
	if name == "" {
		name = cell.ds.Name
	}
	row := store.Row{
		Dataset:                name,
		Weak:                   cell.weak.Spec().String(),
		Strong:                 cell.strong.Spec().String(),
		Method:                 m.Name(),
		Seed:                   cs.Seed,
		K:                      cell.view.K,
		NTrainWeak:             cell.view.TrainWeak.Weak.Rows,
		NTrainStrong:           cell.view.TrainStrong.Weak.Rows,
		NTest:                  cell.hidden.NTest(),
		FineTuned:              cell.strong.Spec().FineTune,
		StrongTrain:            cell.exec.Config.String(),
		Stages:                 tr.Stages,
		GoldUsed:               tr.Gold.Labels(),
		GoldStrong:             tr.Gold.Strong,
		GoldFeatures:           tr.Gold.Features(),
		ConfigHash:             k.Config,
		Version:                Version,
		Balance:                cs.balance(),
		Classes:                append([]string(nil), cell.ds.Classes...),
		ClassCountsTrainWeak:   cell.classCounts[0],
		ClassCountsTrainStrong: cell.classCounts[1],
		ClassCountsTest:        cell.classCounts[2],
	}
	scores.Fill(&row)
	if cell.ds.IsPairwise() {
		var studentBoN data.Matrix
		if cell.bon != nil {
			if studentBoN, err = tr.Model.Predict(ctx, cell.bonIn); err != nil {
				return store.Row{}, nil, fmt.Errorf("%s: student predictions on the best-of-n groups: %w", m.Name(), err)
			}
		}
		if err := pairScores(&row, cell, studentTest, studentBoN); err != nil {
			return store.Row{}, nil, fmt.Errorf("%s: %w", m.Name(), err)
		}
	}
	conf, err := cell.hidden.Conformity(cell.floorTest, studentTest)
	if err != nil {
		return store.Row{}, nil, fmt.Errorf("%s: conformity: %w", m.Name(), err)
	}
	conf.Fill(&row)
	if tr.Calibration != nil {
		t := tr.Calibration.Temperature
		row.WeakTemperature = &t
	}
	if tr.Selection != nil {
		if err := fillSelection(&row, cell.hidden, *tr.Selection, cell.view.TrainStrong.WeakLabels); err != nil {
			return store.Row{}, nil, fmt.Errorf("%s: %w", m.Name(), err)
		}
	}
	if save != nil {
		if err := save(k.Student, &row); err != nil {
			return store.Row{}, nil, err
		}
	}
	return row, tr.Checkpoints, nil
}

// fillSelection scores what a cleaning or selection method did with the weak
// labels against hidden gold: kept fraction with the kept set's precision and
// recall, replaced fraction and how often a replaced weak label was wrong.
// Undefined ratios (nothing kept, nothing replaced) stay nil.
func fillSelection(row *store.Row, hidden *eval.Hidden, sel method.Selection, weakLabels data.Matrix) error {
	kept, replaced := sel.Kept, sel.Replaced
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
