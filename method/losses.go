package method

// Shared pieces of the loss-based methods (logconf, entropy, product, window,
// kl, adaptconf): a Method whose plan trains the student on the weak labels
// with its own train.Loss, and the host-side helpers (row confidences,
// auxiliary probes) the label-producing methods (bootstrap, s2s, ensemble)
// use. The graph pieces of the losses are method/internal/lossgraph.

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/method/internal/lossgraph"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// lossMethod trains the student on train_strong's weak labels with a
// custom loss. build is called once per plan with the view, so a loss may
// depend on view-level statistics (window's "midweak" radius).
type lossMethod struct {
	spec  string
	build func(v *View) (train.Loss, error)
}

func (m lossMethod) Name() string { return m.spec }

func (m lossMethod) Plan(_ context.Context, v *View) (*Plan, error) {
	loss, err := m.build(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.spec, err)
	}
	loss.Name = m.spec
	return Single("student", func(_ context.Context, v *View) (Objective, error) {
		return Objective{Objective: train.Objective{Targets: v.TrainStrong.WeakLabels, Loss: loss}}, nil
	}), nil
}

// parseSchedule reads schedule and warmup parameters.
func parseSchedule(p Params, defSchedule string) (schedule string, warmup float64, err error) {
	schedule = p.Str("schedule", defSchedule)
	if schedule != lossgraph.ScheduleStep && schedule != lossgraph.ScheduleLinear {
		return "", 0, fmt.Errorf("schedule=%q: want %q or %q", schedule, lossgraph.ScheduleStep, lossgraph.ScheduleLinear)
	}
	warmup, err = p.Float("warmup", 0.1)
	if err != nil {
		return "", 0, err
	}
	if !(warmup >= 0 && warmup < 1) {
		return "", 0, fmt.Errorf("warmup=%v: want a fraction of training in [0, 1)", warmup)
	}
	return schedule, warmup, nil
}

// medianConfidence is the median over rows of max_k y[i,k] of y [N, K].
func medianConfidence(y data.Matrix) float64 {
	conf := make([]float64, y.Rows)
	for i := range conf {
		for _, v := range y.Row(i) {
			conf[i] = math.Max(conf[i], float64(v))
		}
	}
	sort.Float64s(conf)
	n := len(conf)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return conf[n/2]
	}
	return (conf[n/2-1] + conf[n/2]) / 2
}

// isWeakEncoder reports whether enc names the cell's weak encoder.
func isWeakEncoder(v *View, enc string) bool {
	return enc == "weak" || (v.WeakEncoder != "" && enc == v.WeakEncoder)
}

// parseModels splits "a+b:mlp+c" into probe specs (ENC[:HEAD], "weak"
// is the cell's weak encoder); a fine-tuned form is refused, since rungs
// and members are probes on frozen features.
func parseModels(s string) ([]student.Spec, error) {
	var out []student.Spec
	for _, part := range strings.Split(s, "+") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty model in %q (want ENC[:HEAD] joined by '+')", s)
		}
		var m student.Spec
		if enc, head, ok := strings.Cut(part, ":"); ok && enc == "weak" {
			if head != student.HeadLinear && head != student.HeadMLP {
				return nil, fmt.Errorf("%q: unknown head %q", part, head)
			}
			m = student.Spec{Encoder: enc, Head: head}
		} else if part == "weak" {
			m = student.Spec{Encoder: part, Head: student.HeadLinear}
		} else {
			var err error
			if m, err = student.Parse(part); err != nil {
				return nil, err
			}
			if m.FineTune {
				return nil, fmt.Errorf("%q: rungs and members are probes on frozen features, not fine-tuned encoders", part)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// auxHeadConfig is the training config of an auxiliary probe (a bootstrap
// rung, an ensemble member): the weak model's when refitting it on the weak
// encoder with its head, else the cell's strong probe settings when the head
// kind matches (so --epochs carries over), else that head's defaults; no
// standardisation for sparse pre-scaled encoders, as the runner does.
func auxHeadConfig(v *View, m student.Spec, seed int64) student.ProbeConfig {
	cfg := student.DefaultProbeConfig(m.Head)
	switch {
	case isWeakEncoder(v, m.Encoder) && v.WeakProbe.Head == m.Head:
		cfg = v.WeakProbe // refits of the weak model train as it was trained
	case v.StrongProbe.Head == m.Head:
		cfg = v.StrongProbe
	}
	cfg.Standardize = true
	if info, ok := encode.Lookup(m.Encoder); ok && info.Sparse {
		cfg.Standardize = false
	}
	cfg.Seed = seed
	return cfg
}

// modelFeatures returns model m's features of train_weak and train_strong:
// the view's own weak features for "weak", else View.Features.
func modelFeatures(ctx context.Context, v *View, enc string) (tw, ts data.Matrix, err error) {
	if isWeakEncoder(v, enc) {
		return v.TrainWeak.Weak, v.TrainStrong.Weak, nil
	}
	if v.Features == nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("encoder %q needs View.Features, which this runner does not provide", enc)
	}
	tw, ts, err = v.Features(ctx, enc)
	if err != nil {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("features of %q: %w", enc, err)
	}
	if tw.Rows != v.TrainWeak.Weak.Rows || ts.Rows != v.TrainStrong.Weak.Rows {
		return data.Matrix{}, data.Matrix{}, fmt.Errorf("features of %q have %d/%d rows, want %d/%d", enc, tw.Rows, ts.Rows, v.TrainWeak.Weak.Rows, v.TrainStrong.Weak.Rows)
	}
	return tw, ts, nil
}

var _ Method = lossMethod{}
