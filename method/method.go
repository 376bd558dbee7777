package method

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// View is everything a weak-to-strong method may see: what a real experimenter
// holds. It deliberately has no field for the gold labels of train_strong or
// test; those live only in package eval (eval.Hidden), so a method cannot
// reach them by construction. A test walks this type to keep it that way.
//
// The features in the view are always frozen pretrained features, also when
// the student is fine-tuned: the probes a method uses internally (kNN
// graphs, P(IK), specialists, ensemble members, bootstrap rungs) run on
// them, while the runner trains the student itself.
type View struct {
	K    int   // number of classes
	Seed int64 // the cell's seed; methods derive every random choice from it

	// TrainWeak is the supervisor's own training data: its weak features.
	// Its gold labels were made by the supervisor's makers, so an
	// experimenter has them, but a method reaches them only through Gold.
	TrainWeak SupervisorSplit
	// TrainStrong is where the student learns: inputs and weak labels only.
	TrainStrong WeakSplit
	// Gold is the method's budget of train_weak gold (gold.go): Draw gives
	// up to the method's declared gold=B labels with their strong features
	// (charged), WeakSide every label for refitting weak-side models
	// (free, recorded). The executor opens it per run; nil outside one.
	Gold *GoldBudget

	// Student is the student the runner will train on the plan's
	// objectives (a probe or a fine-tuned encoder). Methods may read it;
	// they never train it.
	Student student.Spec
	// StrongProbe configures a probe on the frozen strong features,
	// seeded with the cell's student seed: the strong probes a method
	// trains itself (self-labels, critics) use it. For a probe student it
	// is the student's own configuration.
	StrongProbe student.ProbeConfig
	// WeakProbe is the weak supervisor's probe configuration, for methods
	// that refit weak models (ensembles, cross-fitting).
	WeakProbe student.ProbeConfig
	// WeakEncoder and StrongEncoder name the cell's frozen encoders
	// ("bow", "use-lite"), so methods that build ladders can refer to them
	// and refuse to turn the strong encoder into a supervisor.
	WeakEncoder, StrongEncoder string
	// Features gives another encoder's features for train_weak and
	// train_strong, rows aligned with TrainWeak and TrainStrong: [Nw, D] and
	// [Ns, D]. Methods that need more rungs of the ladder than the cell's
	// weak and strong encoders (bootstrapping chains, ensembles of weak
	// supervisors) call it. Inputs only, never labels. Nil when the runner
	// cannot provide features. In the executor's view it refuses the
	// student's encoder and any encoder at least as strong
	// (WeakSideFeatures), so that no train_weak strong features reach a
	// method outside its gold budget.
	Features func(ctx context.Context, encoder string) (trainWeak, trainStrong data.Matrix, err error)
	// Value is the value channel as a method may see it (issue 15): the
	// weak value supervisor's labels of train_strong. Nil when the dataset
	// has no value channel.
	Value *WeakValue
	// Log receives progress and notes; may be io.Discard.
	Log io.Writer
}

// WeakValue is a weak value supervisor's view of train_strong: Class is
// the class a value-constrained example must be output as ("ham": this
// mail must never be filtered), and TrainStrong [Ns] the supervisor's
// probability that each example carries the constraint. The supervisor is
// a probe on the weak encoder's features trained on train_weak's value
// labels (the supervisor's own data, like the weak model's gold), so it is
// weak too: it misses constrained examples and flags others.
type WeakValue struct {
	Class       int
	TrainStrong []float32
}

// SupervisorSplit holds train_weak's frozen weak features. Its gold and
// its strong features come only through View.Gold.
type SupervisorSplit struct {
	Weak data.Matrix // [N, Dw] weak encoder features
}

// WeakSplit holds a split's frozen features and the weak supervisor's soft
// labels.
type WeakSplit struct {
	Weak       data.Matrix // [N, Dw]
	Strong     data.Matrix // [N, Ds]
	WeakLabels data.Matrix // [N, K] weak model probabilities (rows sum to 1)
}

// Method is a weak-to-strong method: it describes how the student learns
// from weak supervision as a Plan of training stages, and never trains the
// student itself. The runner (Executor) trains every stage on the cell's
// student, a probe or a fine-tuned encoder alike, which is why every
// method runs on every student. A method may train auxiliary probes on the
// view's frozen features while it plans.
type Method interface {
	Name() string
	Plan(ctx context.Context, v *View) (*Plan, error)
}

// Plan is one or more training stages of the student. Each stage trains a
// fresh student; a later stage may read the previous one's predictions
// (self-distillation, co-supervision).
type Plan struct {
	Stages []Stage
	// Calibration, when set, says the stages trained from recalibrated
	// weak labels (calibrate=true) in place of View.TrainStrong.WeakLabels.
	Calibration *Calibration
}

// Stage is one training of the student.
type Stage struct {
	// Name labels the stage in logs ("round 1", "4 teachers").
	Name string
	// Build returns the stage's objective. prev holds the previous stage's
	// student predictions on train_strong [Ns, K]; it is the zero Matrix in
	// the first stage.
	Build func(ctx context.Context, v *View, prev data.Matrix) (Objective, error)
}

// Objective is a stage's training objective (targets over train_strong,
// rows, weights, loss) with what the stage changes of the student's
// training.
type Objective struct {
	// Objective is over train_strong: Targets [Ns, K], Rows, Weights
	// [Ns], Loss. With GoldRows set, a non-nil empty Rows trains on the
	// gold rows alone (gold-probe).
	train.Objective
	// GoldRows, when set, adds train_weak examples the method drew from
	// its gold budget to the student's training set: the executor appends
	// the student's inputs of those examples (features or texts) to
	// train_strong's, with these targets and weight 1, under the same
	// loss. Every row must have been drawn (View.Gold.Draw), so the
	// student never trains on train_weak gold outside the budget.
	GoldRows *GoldRows
	// Epochs, when set, maps the student's configured epochs to this
	// stage's (co-supervision keeps the steps when it keeps fewer rows).
	Epochs func(base int) int
	// Reseed, when set, derives the stage's initialisation seed from the
	// cell's student seed; nil trains from the seed the ceiling and naive
	// use, so a stage that equals naive trains the same student.
	Reseed func(base int64) int64
	// Selection says what the objective did with each weak label, for
	// scoring against hidden gold (filters, relabelling); nil otherwise.
	Selection *Selection
}

// GoldRows are train_weak examples the student trains on, with targets.
type GoldRows struct {
	Rows    []int       // train_weak rows (GoldSample.Rows)
	Targets data.Matrix // [len(Rows), K]
}

// Single is the plan of one stage.
func Single(name string, build func(ctx context.Context, v *View) (Objective, error)) *Plan {
	return &Plan{Stages: []Stage{{Name: name, Build: func(ctx context.Context, v *View, _ data.Matrix) (Objective, error) {
		return build(ctx, v)
	}}}}
}

// Info describes a registered method for `w2s methods` and METHODS.md.
// METHODS.md is generated from these fields (w2s methods --markdown), so
// they must say everything a reader needs.
type Info struct {
	Name        string
	Description string // what it does, one or two sentences
	Reference   string // paper and, where one exists, the public code it follows
	Params      string // hyper-parameters with defaults: "coef=0.5 (aux weight); schedule=step|linear (step)"
	Adaptation  string // what differs from the original, and why
	// Gold says which train_weak gold the method reads (gold.go): "none";
	// "budget: gold=B (default), for ..." for strong-feature gold;
	// "weak-side: ..." for free refits of weak models.
	Gold string
	// NotInAll, when set, keeps the method out of `--method all` and says
	// why (kl: naive up to a constant).
	NotInAll string
}

// CellInfo is what a method may check before any work: the cell's shape
// and encoders.
type CellInfo struct {
	K                          int
	NTrainWeak, NTrainStrong   int
	WeakEncoder, StrongEncoder string
	// Pairwise says the examples are preference pairs (pairwise.go).
	Pairwise bool
}

// Checker is a method that refuses some cells (bootstrap without an
// intermediate encoder, cosupervise with two classes).
type Checker interface {
	Check(c CellInfo) error
}

// Check reports whether m can run on cell c, before any work: its own
// Checker, and a declared gold budget that fits in train_weak.
func Check(m Method, c CellInfo) error {
	if b := DeclaredGold(m); b > c.NTrainWeak {
		return fmt.Errorf("%s: gold=%d exceeds train_weak's %d examples", m.Name(), b, c.NTrainWeak)
	}
	if c.Pairwise {
		if err := checkPairwise(m); err != nil {
			return err
		}
	}
	if ch, ok := m.(Checker); ok {
		if err := ch.Check(c); err != nil {
			return fmt.Errorf("%s: %w", m.Name(), err)
		}
	}
	return nil
}

type entry struct {
	info Info
	make func(Params) (Method, error)
}

var (
	registryMu sync.RWMutex
	registry   = map[string]entry{}
)

// Register adds a method constructor under info.Name. It panics on a
// duplicate name, since two methods answering to one name would make results
// ambiguous. The constructor receives the hyper-parameters written after the
// name (see Params) and must reject keys it does not know, so a typo never
// silently falls back to a default.
func Register(info Info, make func(Params) (Method, error)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[info.Name]; dup {
		panic("method: duplicate registration of " + info.Name)
	}
	registry[info.Name] = entry{info, make}
}

// New returns a fresh instance of the method named by spec, NAME or
// NAME:key=value[,key=value...] (e.g. "logconf:schedule=linear,coef=0.5").
// The returned method's Name() is expected to give spec back in canonical
// form, so results rows name exactly what ran.
//
// One parameter is general, handled here for every method: calibrate=true
// plans the method on temperature-scaled weak labels (calibrate.go), and
// calibrate=false is the method as it is.
func New(spec string) (Method, error) {
	name, params, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	calibrate, err := params.take("calibrate")
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", spec, err)
	}
	registryMu.RLock()
	e, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown method %q (known: %v)", name, Names())
	}
	m, err := e.make(params)
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", spec, err)
	}
	if calibrate {
		return calibrated{inner: m}, nil
	}
	return m, nil
}

// GeneralOptions documents the parameters every method takes (New).
const GeneralOptions = "calibrate=true: the method plans on the weak labels of train_strong rescaled by a temperature (Guo et al. 2017) fitted on the weak model's " +
	"out-of-fold train_weak predictions (5-fold cross-fit of the weak probe on weak features; argmaxes unchanged); reads train_weak gold weak-side (free, recorded); " +
	"rows record the temperature (weak_temperature) and the calibration error of the labels trained on (trained_ece)"

// Names lists registered methods, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return names()
}

func names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AllNames lists the methods `--method all` runs: every registered method
// but those with Info.NotInAll, sorted. It includes the controls and the
// A/A null naive@aa.
func AllNames() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []string
	for _, n := range names() {
		if registry[n].info.NotInAll == "" {
			out = append(out, n)
		}
	}
	return out
}

// Infos lists registered methods' descriptions, sorted by name.
func Infos() []Info {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []Info
	for _, n := range names() {
		out = append(out, registry[n].info)
	}
	return out
}
