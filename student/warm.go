package student

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/internal/sha"
	"github.com/superalign/superalign/train"
)

// WarmStarter is a Student that can continue from a model it trained
// before instead of a fresh initialisation: fine-tuning the previous
// phase's student on a new phase (package drift). Both students do.
type WarmStarter interface {
	// FitFrom trains like Fit, starting from from's weights. from must be
	// a model this student's kind trained for the same number of classes.
	FitFrom(ctx context.Context, from Model, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error)
}

// FitFrom implements WarmStarter: the head starts from from's parameters
// and keeps from's feature standardisation (re-estimating it on the new
// rows would change what the weights mean).
func (p *Probe) FitFrom(ctx context.Context, from Model, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error) {
	pm, ok := from.(probeModel)
	if !ok {
		return nil, nil, fmt.Errorf("student %s: cannot warm-start from a %T", p.spec, from)
	}
	prev := pm.m
	arch := p.cfg.withDefaults()
	if prev.kind != arch.Head || prev.dim != in.Features.Cols || prev.k != o.Targets.Cols || prev.hidden != arch.Hidden {
		return nil, nil, fmt.Errorf("student %s: warm start from a %s head of %d→%d (hidden %d), want %s %d→%d (hidden %d)",
			p.spec, prev.kind, prev.dim, prev.k, prev.hidden, arch.Head, in.Features.Cols, o.Targets.Cols, arch.Hidden)
	}
	net, err := newProbeNet(p.cfg, in.Features, o.Rows, o.Targets.Cols)
	if err != nil {
		return nil, nil, err
	}
	net.mean, net.invStd = prev.mean, prev.invStd
	net.xs = standardize(in.Features, net.mean, net.invStd)
	net.init = make([][]float32, len(prev.params))
	for i, v := range prev.params {
		net.init[i] = slices.Clone(v)
	}
	res, err := train.Fit(ctx, net, o, cfg)
	if err != nil {
		return nil, nil, err
	}
	m, err := net.model(res)
	if err != nil {
		return nil, nil, err
	}
	return probeModel{m}, res, nil
}

// FitFrom implements WarmStarter: the encoder and head start from from's
// fine-tuned weights.
func (t *Tuned) FitFrom(ctx context.Context, from Model, in Inputs, o train.Objective, cfg train.Config) (Model, *train.Result, error) {
	tm, ok := from.(*TunedModel)
	if !ok {
		return nil, nil, fmt.Errorf("student %s: cannot warm-start from a %T", t.spec, from)
	}
	if tm.k != o.Targets.Cols || tm.enc.Fingerprint() != t.enc.Fingerprint() {
		return nil, nil, fmt.Errorf("student %s: warm start from another encoder or class count", t.spec)
	}
	if tm.top != t.spec.TopLayers {
		// A top-layer fine-tune feeds cached pretrained bottom states: it
		// can only continue a model whose bottom is still pretrained.
		return nil, nil, fmt.Errorf("student %s: warm start from a fine-tune of other layers (top %d, want %d)", t.spec, tm.top, t.spec.TopLayers)
	}
	return t.fit(ctx, in, o, cfg, tm)
}

// warmStart overwrites the freshly created variables with from's values,
// path by path.
func (n *tuneNet) warmStart(params []train.Param) error {
	for _, p := range params {
		path := p.Var.Path()
		src := n.from.store.GetVariable(path)
		if src == nil || !strings.HasPrefix(path, "/") {
			return fmt.Errorf("student: warm start: the previous model has no variable %s", path)
		}
		val, err := src.Value()
		if err != nil {
			return err
		}
		clone, err := val.LocalClone()
		if err != nil {
			return err
		}
		if err := p.Var.SetValue(clone); err != nil {
			return fmt.Errorf("student: warm start: %s: %w", path, err)
		}
	}
	return nil
}

// digest is a sha256 over the model's variables (path and float32 bits),
// so a warm start's checkpoint key names the weights it starts from.
func (m *TunedModel) digest() string {
	var paths []string
	vars := map[string]*model.Variable{}
	for v := range m.store.IterVariables() {
		paths = append(paths, v.Path())
		vars[v.Path()] = v
	}
	slices.Sort(paths)
	h := sha.New()
	var b [4]byte
	for _, p := range paths {
		h.Write([]byte(p + "|"))
		val, err := vars[p].Value()
		if err != nil {
			fmt.Fprintf(h, "err=%v|", err)
			continue
		}
		if val.DType() != dtypes.Float32 {
			continue
		}
		tensors.MustConstFlatData(val, func(flat []float32) {
			for _, f := range flat {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(f))
				h.Write(b[:])
			}
		})
	}
	return hex.EncodeToString(h.Sum(nil))
}
