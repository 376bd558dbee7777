package method

// calibrate=true, a general method option: temperature scaling of the weak
// labels (Guo et al., "On Calibration of Modern Neural Networks", ICML
// 2017) before any method plans on them.
//
// A weak model trained on a few hundred examples is often badly calibrated
// (under-confident on a rare class, over-confident elsewhere), and a
// student fitting its soft labels inherits that: issue 20 saw naive drag
// the student below its supervisor while hard labels did not. Temperature
// scaling fits one number, T, so that softmax(log p / T) minimises the
// log-loss against gold on data the weak model did not train on, and
// keeps every argmax (hard labels do not change).
//
// Held-out data: the only gold the method may pair with weak-side inputs
// is train_weak's (View.Gold.WeakSide: free, recorded as gold_used with
// gold_features "weak"), and the weak model was trained on all of it, so
// its own train_weak predictions are in-sample. The wrapper cross-fits the
// weak probe instead (View.WeakProbe on the weak features, CalibrateFolds
// folds): every train_weak example gets a prediction from a probe that did
// not train on it, T is fitted on those out-of-fold predictions, and the
// cell's weak labels of train_strong are rescaled with it. No strong
// feature and no train_strong or test gold is read.

import (
	"context"
	"fmt"
	"math"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
)

// CalibrateFolds is the number of cross-fitting folds of calibrate=true.
const CalibrateFolds = 5

// Temperature bounds of FitTemperature: T in [1/100, 100].
const (
	minTemperature = 0.01
	maxTemperature = 100.0
)

// calibrated is a method that plans on temperature-scaled weak labels.
type calibrated struct {
	inner Method
}

// Name is the inner method's spec with calibrate=true among its
// parameters, in canonical (sorted) form.
func (c calibrated) Name() string {
	name, p, err := ParseSpec(c.inner.Name())
	if err != nil {
		return c.inner.Name() + ":calibrate=true"
	}
	p.values["calibrate"] = "true"
	return Spec(name, p)
}

// DeclaredGold and Check are the inner method's: calibration reads only
// weak-side gold.
func (c calibrated) DeclaredGold() int { return DeclaredGold(c.inner) }

func (c calibrated) Check(info CellInfo) error {
	if ch, ok := c.inner.(Checker); ok {
		return ch.Check(info)
	}
	return nil
}

// Plan fits the temperature on out-of-fold train_weak predictions, plans
// the inner method on a view whose weak labels are rescaled, and has
// every stage build on that view.
func (c calibrated) Plan(ctx context.Context, v *View) (*Plan, error) {
	gold, err := v.Gold.WeakSide()
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	cfg := v.WeakProbe
	cfg.Seed = seeds.Derive(v.Seed, seeds.Lead("calibrate"))
	oof, err := crossFitLabels(ctx, v.TrainWeak.Weak, data.OneHot(gold, v.K), cfg, CalibrateFolds)
	if err != nil {
		return nil, fmt.Errorf("calibrate: out-of-fold weak predictions: %w", err)
	}
	t, err := FitTemperature(oof, gold)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	labels := ApplyTemperature(v.TrainStrong.WeakLabels, t)
	if v.Log != nil {
		fmt.Fprintf(v.Log, "%s: weak-label temperature %.3f (fitted on %d out-of-fold train_weak predictions)\n", c.Name(), t, len(gold))
	}
	cv := *v
	cv.TrainStrong.WeakLabels = labels
	plan, err := c.inner.Plan(ctx, &cv)
	if err != nil {
		return nil, err
	}
	out := &Plan{Stages: make([]Stage, len(plan.Stages)), Calibration: &Calibration{Temperature: t, WeakLabels: labels}}
	for i, st := range plan.Stages {
		build := st.Build
		out.Stages[i] = Stage{Name: st.Name, Build: func(ctx context.Context, _ *View, prev data.Matrix) (Objective, error) {
			return build(ctx, &cv, prev)
		}}
	}
	return out, nil
}

// Calibration is what calibrate=true did to the weak labels: the fitted
// temperature and the rescaled labels of train_strong [Ns, K] the plan
// trained from (eval scores their calibration and the student's misfit
// against them).
type Calibration struct {
	Temperature float64
	WeakLabels  data.Matrix
}

// logProbFloor keeps log p finite for a zero probability.
const logProbFloor = 1e-7

// FitTemperature returns the temperature T that minimises the mean
// log-loss of ApplyTemperature(probs, T) against gold: probs [N, K] are
// held-out predictions, gold their labels. The loss is convex in 1/T (a
// log-sum-exp of scaled log-probabilities minus a linear term), so a
// golden-section search over log(1/T) finds its minimum; T is kept in
// [0.01, 100]. T > 1 softens over-confident predictions, T < 1 sharpens
// under-confident ones, T = 1 leaves them as they are.
func FitTemperature(probs data.Matrix, gold []int) (float64, error) {
	if probs.Rows != len(gold) || probs.Rows == 0 {
		return 0, fmt.Errorf("temperature: %d predictions for %d labels", probs.Rows, len(gold))
	}
	logp := make([]float64, len(probs.Values))
	for i, p := range probs.Values {
		logp[i] = math.Log(math.Max(float64(p), logProbFloor))
	}
	k := probs.Cols
	loss := func(beta float64) float64 {
		total := 0.0
		for i, y := range gold {
			row := logp[i*k : (i+1)*k]
			hi := math.Inf(-1)
			for _, z := range row {
				hi = math.Max(hi, beta*z)
			}
			s := 0.0
			for _, z := range row {
				s += math.Exp(beta*z - hi)
			}
			total += hi + math.Log(s) - beta*row[y]
		}
		return total / float64(len(gold))
	}
	for _, y := range gold {
		if y < 0 || y >= k {
			return 0, fmt.Errorf("temperature: label %d outside [0, %d)", y, k)
		}
	}
	// Golden section on u = log β, β = 1/T.
	lo, hi := math.Log(1/maxTemperature), math.Log(1/minTemperature)
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := loss(math.Exp(a)), loss(math.Exp(b))
	for hi-lo > 1e-10 {
		if fa <= fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = loss(math.Exp(a))
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = loss(math.Exp(b))
		}
	}
	t := 1 / math.Exp((lo+hi)/2)
	if math.IsNaN(t) {
		return 0, fmt.Errorf("temperature: the log-loss is not finite")
	}
	return t, nil
}

// ApplyTemperature rescales each row of probs [N, K] to softmax(log p / t),
// i.e. p^(1/t) renormalised: the same as dividing the logits by t, for any
// model whose probabilities are a softmax. Argmaxes do not change.
func ApplyTemperature(probs data.Matrix, t float64) data.Matrix {
	out := data.NewMatrix(probs.Rows, probs.Cols)
	for i := range probs.Rows {
		row := probs.Row(i)
		hi := math.Inf(-1)
		z := make([]float64, len(row))
		for j, p := range row {
			z[j] = math.Log(math.Max(float64(p), logProbFloor)) / t
			hi = math.Max(hi, z[j])
		}
		s := 0.0
		for j := range z {
			z[j] = math.Exp(z[j] - hi)
			s += z[j]
		}
		for j := range z {
			out.Set(i, j, float32(z[j]/s))
		}
	}
	return out
}
