package method

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/train"
)

// View is everything a weak-to-strong method may see: what a real experimenter
// holds. It deliberately has no field for the gold labels of train_strong or
// test; those live only in package eval (eval.Hidden), so a method cannot
// reach them by construction. A test walks this type to keep it that way.
type View struct {
	K    int   // number of classes
	Seed int64 // the cell's seed; methods derive every random choice from it

	// TrainWeak is the supervisor's own training data: its gold labels were
	// made by the supervisor's makers, so an experimenter has them.
	TrainWeak LabeledSplit
	// TrainStrong is where the student learns: inputs and weak labels only.
	TrainStrong WeakSplit

	// WeakModel is the trained weak supervisor: probabilities [N,K] from weak features [N,Dw].
	WeakModel Predictor
	// Head is the strong head configuration the cell asks for (seeded already).
	Head train.Config
	// WeakHead is the configuration the weak model was trained with, for
	// methods that refit weak models (ensembles, cross-fitting).
	WeakHead train.Config
	// WeakEncoder and StrongEncoder name the cell's encoders ("bow",
	// "glove"), so methods that build ladders can refer to them and refuse
	// to turn the strong encoder into a supervisor.
	WeakEncoder, StrongEncoder string
	// Features gives another encoder's features for train_weak and
	// train_strong, rows aligned with TrainWeak and TrainStrong: [Nw, D] and
	// [Ns, D]. Methods that need more rungs of the ladder than the cell's
	// weak and strong encoders (bootstrapping chains, ensembles of weak
	// supervisors) call it. Inputs only, never labels. Nil when the runner
	// cannot provide features.
	Features func(ctx context.Context, encoder string) (trainWeak, trainStrong data.Matrix, err error)
	// Log receives progress and notes; may be io.Discard.
	Log io.Writer
}

// LabeledSplit holds a split's features under both encoders and its gold labels.
type LabeledSplit struct {
	Weak   data.Matrix // [N, Dw] weak encoder features
	Strong data.Matrix // [N, Ds] strong encoder features
	Gold   []int       // [N] class indices
}

// WeakSplit holds a split's features and the weak supervisor's soft labels.
type WeakSplit struct {
	Weak       data.Matrix // [N, Dw]
	Strong     data.Matrix // [N, Ds]
	WeakLabels data.Matrix // [N, K] weak model probabilities (rows sum to 1)
}

// Predictor maps features to class probabilities: [N, D] -> [N, K].
type Predictor interface {
	Predict(x data.Matrix) (data.Matrix, error)
}

// Method trains a student on strong features from a View. The returned
// predictor takes strong features.
type Method interface {
	Name() string
	Fit(ctx context.Context, v *View) (Predictor, error)
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
func New(spec string) (Method, error) {
	name, params, err := ParseSpec(spec)
	if err != nil {
		return nil, err
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
	return m, nil
}

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
