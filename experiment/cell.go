package experiment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/train"
)

// CellSpec is one student cell of a sweep: one dataset, one weak → strong
// pair, one method and one seed, with the protocol settings of Spec.
type CellSpec struct {
	Dataset      string     `json:"dataset"`
	Weak         string     `json:"weak"`
	Strong       string     `json:"strong"`
	Method       string     `json:"method"`
	Seed         int64      `json:"seed"`
	Limit        int        `json:"limit"`
	Epochs       int        `json:"epochs"`
	GapThreshold float64    `json:"gap_threshold"`
	Fractions    [3]float64 `json:"fractions"`
	Resamples    int        `json:"resamples"`
}

// spec is the one-cell Spec the Runner's helpers take.
func (c CellSpec) spec() Spec {
	return Spec{
		Datasets: []string{c.Dataset}, Weak: c.Weak, Strong: c.Strong, Methods: []string{c.Method},
		Seeds: 1, SeedBase: c.Seed, Limit: c.Limit, GapThreshold: c.GapThreshold,
		Fractions: c.Fractions, Resamples: c.Resamples, Epochs: c.Epochs,
	}
}

// CellKeys are the content keys of a cell's job-graph nodes. Each hashes its
// inputs and the code version, and a node's key includes its parents' keys,
// so changing a teacher changes exactly its descendants' keys.
type CellKeys struct {
	WeakFeatures   string `json:"weak_features"`   // dataset × weak encoder
	StrongFeatures string `json:"strong_features"` // dataset × strong encoder
	Weak           string `json:"weak"`            // weak model + weak labels: dataset × weak × seed
	Ceiling        string `json:"ceiling"`         // ceiling: dataset × strong × seed
	Student        string `json:"student"`         // student: … × method × seed
}

// CellStats says which shared nodes a cell reused from disk or memory.
type CellStats struct {
	WeakReused, CeilingReused bool
}

// CellRunner runs single cells, sharing datasets and features in memory and
// trained weak models and ceilings through files under Shared, so cells run
// by other goroutines or other processes (SLURM tasks) reuse them. Safe for
// concurrent use.
type CellRunner struct {
	Cache  *encode.Cache
	Shared string // directory of persisted heads (e.g. RUN/shared); "" keeps them in memory only
	Log    io.Writer

	once     sync.Mutex
	datasets map[string]*onceVal[*data.Dataset]
	encoders map[string]*onceVal[encode.Encoder]
	feats    map[string]*onceVal[data.Matrix]
	heads    map[string]*onceVal[*train.Head]
}

type onceVal[T any] struct {
	once sync.Once
	v    T
	err  error
}

func getOnce[T any](c *CellRunner, m *map[string]*onceVal[T], key string, f func() (T, error)) (T, error) {
	c.once.Lock()
	if *m == nil {
		*m = map[string]*onceVal[T]{}
	}
	e, ok := (*m)[key]
	if !ok {
		e = &onceVal[T]{}
		(*m)[key] = e
	}
	c.once.Unlock()
	e.once.Do(func() { e.v, e.err = f() })
	return e.v, e.err
}

func (c *CellRunner) runner() *Runner { return &Runner{Cache: c.Cache, Log: c.Log} }

func (c *CellRunner) dataset(ctx context.Context, name string) (*data.Dataset, error) {
	return getOnce(c, &c.datasets, name, func() (*data.Dataset, error) { return data.Load(ctx, name, c.Log) })
}

// fingerprint returns the encoder's fingerprint ("features" for user vectors).
func (c *CellRunner) fingerprint(ctx context.Context, name string) (string, error) {
	if name == "features" {
		return "features", nil
	}
	if encode.IsImageEncoder(name) {
		enc, err := encode.NewImage(ctx, name, c.Log)
		if err != nil {
			return "", err
		}
		return enc.Fingerprint(), nil
	}
	enc, err := getOnce(c, &c.encoders, name, func() (encode.Encoder, error) { return encode.New(ctx, name, c.Log) })
	if err != nil {
		return "", err
	}
	return enc.Fingerprint(), nil
}

// prepared assembles the Runner's per-dataset state, features included.
func (c *CellRunner) prepared(ctx context.Context, cs CellSpec, withFeatures bool) (*prepared, error) {
	weak, err := ParseEncHead(cs.Weak)
	if err != nil {
		return nil, fmt.Errorf("weak: %w", err)
	}
	strong, err := ParseEncHead(cs.Strong)
	if err != nil {
		return nil, fmt.Errorf("strong: %w", err)
	}
	if isFineTuned(strong) {
		return nil, fmt.Errorf("sweep cells: fine-tuned students (%s) are supported by w2s run only; use the frozen encoder with a probe head", strong.Encoder)
	}
	ds, err := c.dataset(ctx, cs.Dataset)
	if err != nil {
		return nil, err
	}
	p := &prepared{ds: ds, hash: ds.ContentHash(), weak: weak, strong: strong}
	if p.weakFP, err = c.fingerprint(ctx, weak.Encoder); err != nil {
		return nil, err
	}
	if p.strFP, err = c.fingerprint(ctx, strong.Encoder); err != nil {
		return nil, err
	}
	if !withFeatures {
		return p, nil
	}
	featKey := p.hash
	if spec := cs.spec(); spec.Limit > 0 && spec.Limit < len(ds.Examples) {
		// As in Runner.prepare: costly per-example encoders encode only the
		// rows this cell's seed uses.
		if p.rows, err = usedRows(spec, ds); err != nil {
			return nil, err
		}
		featKey += "/rows/" + hashInts(p.rows)
	}
	r := c.runner()
	feat := func(enc string) (data.Matrix, error) {
		return getOnce(c, &c.feats, featKey+"|"+enc, func() (data.Matrix, error) {
			x, _, err := r.features(ctx, p, enc)
			return x, err
		})
	}
	if p.weakX, err = feat(weak.Encoder); err != nil {
		return nil, err
	}
	if p.strongX, err = feat(strong.Encoder); err != nil {
		return nil, err
	}
	return p, nil
}

func hashJSON(v any) string {
	b, _ := json.Marshal(v) // maps marshal with sorted keys: stable
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:10])
}

// keys computes the node keys of a cell from p (features not needed).
func (c *CellRunner) keys(cs CellSpec, p *prepared) (CellKeys, train.Config, train.Config) {
	spec := cs.spec()
	r := c.runner()
	weakCfg := r.headConfig(spec, p.weak, subSeed(cs.Seed, "weak-head"))
	strongCfg := r.headConfig(spec, p.strong, subSeed(cs.Seed, "strong-head"))
	var k CellKeys
	k.WeakFeatures = hashJSON(map[string]any{"dataset": p.hash, "encoder": p.weak.Encoder, "fp": p.weakFP})
	k.StrongFeatures = hashJSON(map[string]any{"dataset": p.hash, "encoder": p.strong.Encoder, "fp": p.strFP})
	split := map[string]any{"limit": cs.Limit, "fractions": cs.Fractions, "seed": cs.Seed}
	k.Weak = hashJSON(map[string]any{"protocol": ProtocolVersion, "node": "weak", "features": k.WeakFeatures,
		"head": p.weak.Head, "cfg": weakCfg.Hash(), "split": split})
	k.Ceiling = hashJSON(map[string]any{"protocol": ProtocolVersion, "node": "ceiling", "features": k.StrongFeatures,
		"head": p.strong.Head, "cfg": strongCfg.Hash(), "split": split})
	k.Student = hashJSON(map[string]any{"protocol": ProtocolVersion, "node": "student", "weak": k.Weak,
		"ceiling": k.Ceiling, "method": cs.Method, "gap": cs.GapThreshold, "resamples": cs.Resamples, "version": Version})
	return k, weakCfg, strongCfg
}

// Keys returns the job-graph keys of a cell. It loads the dataset and the
// encoders (for their fingerprints) but computes no features.
func (c *CellRunner) Keys(ctx context.Context, cs CellSpec) (CellKeys, error) {
	if _, err := method.New(cs.Method); err != nil {
		return CellKeys{}, err
	}
	p, err := c.prepared(ctx, cs, false)
	if err != nil {
		return CellKeys{}, err
	}
	k, _, _ := c.keys(cs, p)
	return k, nil
}

// Run computes one cell's row. Its weak model and ceiling come from memory,
// from Shared (checksum-verified) or are trained and persisted atomically;
// the numbers are the same as `w2s run` gives for that cell and seed.
func (c *CellRunner) Run(ctx context.Context, cs CellSpec) (store.Row, CellStats, error) {
	var st CellStats
	spec := cs.spec()
	if err := spec.Validate(); err != nil {
		return store.Row{}, st, err
	}
	m, err := method.New(cs.Method)
	if err != nil {
		return store.Row{}, st, err
	}
	p, err := c.prepared(ctx, cs, true)
	if err != nil {
		return store.Row{}, st, err
	}
	keys, weakCfg, strongCfg := c.keys(cs, p)
	split, err := splitFor(spec, p.ds, cs.Seed)
	if err != nil {
		return store.Row{}, st, err
	}
	k := p.ds.K()
	goldTW := p.ds.Labels(split.TrainWeak)
	goldTS := p.ds.Labels(split.TrainStrong)
	weakTW := p.weakX.SelectRows(split.TrainWeak)
	weakHead, reused, err := c.head(ctx, "weak-"+keys.Weak, func() (*train.Head, error) {
		return train.Fit(ctx, weakTW, data.OneHot(goldTW, k), weakCfg)
	})
	if err != nil {
		return store.Row{}, st, fmt.Errorf("weak model: %w", err)
	}
	st.WeakReused = reused
	strongTS := p.strongX.SelectRows(split.TrainStrong)
	ceilHead, reused, err := c.head(ctx, "ceiling-"+keys.Ceiling, func() (*train.Head, error) {
		return train.Fit(ctx, strongTS, data.OneHot(goldTS, k), strongCfg)
	})
	if err != nil {
		return store.Row{}, st, fmt.Errorf("ceiling: %w", err)
	}
	st.CeilingReused = reused
	r := c.runner()
	cl, hidden, err := r.assembleCell(p, split, weakHead, ceilHead, weakCfg, strongCfg, cs.Seed)
	if err != nil {
		return store.Row{}, st, err
	}
	row, err := r.runMethod(ctx, spec, p, cl, hidden, m, cs.Seed)
	if err != nil {
		return store.Row{}, st, err
	}
	row.ConfigHash = configHash(spec, p, m.Name(), weakCfg, strongCfg)
	return row, st, nil
}

// head returns the head stored under name, training and persisting it once.
// Across processes an flock on NAME.lock makes one of them train while the
// others wait and then read its file.
func (c *CellRunner) head(ctx context.Context, name string, fit func() (*train.Head, error)) (*train.Head, bool, error) {
	trained := false
	h, err := getOnce(c, &c.heads, name, func() (*train.Head, error) {
		if c.Shared == "" {
			trained = true
			return fit()
		}
		if err := os.MkdirAll(c.Shared, 0o755); err != nil {
			return nil, err
		}
		path := filepath.Join(c.Shared, name+".head")
		unlock, err := lockFile(path + ".lock")
		if err != nil {
			return nil, err
		}
		defer unlock()
		if h, err := ReadHeadFile(path); err == nil {
			return h, nil
		} else if !errors.Is(err, os.ErrNotExist) && c.Log != nil {
			fmt.Fprintf(c.Log, "%s: %v; retraining\n", path, err)
		}
		trained = true
		h, err := fit()
		if err != nil {
			return nil, err
		}
		return h, WriteHeadFile(path, h)
	})
	return h, !trained, err
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// headMagic starts a persisted head file: magic, hex sha256 of the payload,
// newline, then the train.Head gob payload.
const headMagic = "superalign-head-v1 "

// WriteHeadFile persists h atomically with a checksum of its payload.
func WriteHeadFile(path string, h *train.Head) error {
	var payload bytes.Buffer
	if err := h.Save(&payload); err != nil {
		return err
	}
	sum := sha256.Sum256(payload.Bytes())
	out := append([]byte(headMagic+hex.EncodeToString(sum[:])+"\n"), payload.Bytes()...)
	return store.WriteFileAtomic(path, out)
}

// ReadHeadFile reads a head written by WriteHeadFile, verifying its checksum.
func ReadHeadFile(path string) (*train.Head, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 || !bytes.HasPrefix(b, []byte(headMagic)) {
		return nil, fmt.Errorf("%s: not a superalign head file", path)
	}
	want := string(b[len(headMagic):nl])
	sum := sha256.Sum256(b[nl+1:])
	if hex.EncodeToString(sum[:]) != want {
		return nil, fmt.Errorf("%s: checksum mismatch (file corrupt)", path)
	}
	h, err := train.Load(bytes.NewReader(b[nl+1:]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}
