package method

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/seeds"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

// calibrationCase is a known case: confidence bins q = 0.6, 0.7, 0.8, 0.9
// of 100 examples each, of which exactly 100·q are class 1, predicted
// with p = σ(logit(q)/t): calibrated for t = 1, over-confident by t for
// t < 1 (sharper), under-confident for t > 1. The log-loss of
// ApplyTemperature(p, T) is minimised where Σ (y − σ(z/T))·z = 0 over the
// rows' logits z; at T = 1/t the rescaled probabilities are q again and
// the sum is Σ_bins z_b·(positives_b − 100·q_b) = 0 exactly: the fitted
// temperature is 1/t.
func calibrationCase(t float64) (data.Matrix, []int) {
	qs := []float64{0.6, 0.7, 0.8, 0.9}
	p := data.NewMatrix(400, 2)
	gold := make([]int, 400)
	for b, q := range qs {
		z := math.Log(q/(1-q)) / t
		p1 := 1 / (1 + math.Exp(-z))
		pos := int(math.Round(100 * q))
		for j := range 100 {
			i := 100*b + j
			p.Set(i, 0, float32(1-p1))
			p.Set(i, 1, float32(p1))
			if j < pos {
				gold[i] = 1
			}
		}
	}
	return p, gold
}

func TestFitTemperature(t *testing.T) {
	for _, tc := range []struct {
		sharpen, want float64
	}{{1, 1}, {0.5, 2}, {2, 0.5}, {0.25, 4}} {
		p, gold := calibrationCase(tc.sharpen)
		got, err := FitTemperature(p, gold)
		if err != nil {
			t.Fatal(err)
		}
		// float32 probabilities limit the logits to ~1e-7 relative.
		if !(math.Abs(got-tc.want) <= 1e-4*tc.want) {
			t.Errorf("predictions sharpened by %v: T = %v, want %v", tc.sharpen, got, tc.want)
		}
		// Rescaled, the predictions are the bins' hit rates again.
		cal := ApplyTemperature(p, got)
		for b, q := range []float64{0.6, 0.7, 0.8, 0.9} {
			if v := float64(cal.At(100*b, 1)); !(math.Abs(v-q) <= 1e-4) {
				t.Errorf("sharpen %v bin %d: calibrated %v, want %v", tc.sharpen, b, v, q)
			}
		}
	}
	// ApplyTemperature: rows sum to 1, argmax kept, T = 1 is the identity.
	p := data.Matrix{Rows: 2, Cols: 3, Values: []float32{0.2, 0.5, 0.3, 0.7, 0.1, 0.2}}
	for _, temp := range []float64{0.3, 1, 5} {
		q := ApplyTemperature(p, temp)
		for i := range 2 {
			s := 0.0
			for _, v := range q.Row(i) {
				s += float64(v)
			}
			if !(math.Abs(s-1) <= 1e-6) {
				t.Errorf("T=%v row %d sums to %v", temp, i, s)
			}
		}
		if !reflect.DeepEqual(q.Argmax(), p.Argmax()) {
			t.Errorf("T=%v changed the argmax", temp)
		}
		if temp == 1 {
			for j, v := range q.Values {
				if !(math.Abs(float64(v-p.Values[j])) <= 1e-6) {
					t.Errorf("T=1 changed value %d: %v → %v", j, p.Values[j], v)
				}
			}
		}
	}
	// p^(1/2) renormalised: (0.2, 0.5, 0.3) → (√.2, √.5, √.3)/Σ.
	q := ApplyTemperature(p, 2)
	s := math.Sqrt(0.2) + math.Sqrt(0.5) + math.Sqrt(0.3)
	if got := float64(q.At(0, 1)); !(math.Abs(got-math.Sqrt(0.5)/s) <= 1e-6) {
		t.Errorf("T=2: %v, want %v", got, math.Sqrt(0.5)/s)
	}
	if _, err := FitTemperature(p, []int{0}); err == nil {
		t.Error("mismatched rows: no error")
	}
	if _, err := FitTemperature(p, []int{0, 3}); err == nil {
		t.Error("label out of range: no error")
	}
}

// TestCalibrateOption: calibrate=true is a general option with a
// canonical name, and on the real sentiment cell it is naive trained on
// the weak labels rescaled by the temperature fitted on the weak probe's
// out-of-fold train_weak predictions, reading train_weak gold weak-side.
func TestCalibrateOption(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for spec, want := range map[string]string{
		"naive:calibrate=true":                   "naive:calibrate=true",
		"naive:calibrate=false":                  "naive",
		"logconf:schedule=linear,calibrate=true": "logconf:calibrate=true,schedule=linear",
		"naive-hard:calibrate=1":                 "naive-hard:calibrate=true",
		"gold-probe:gold=50,calibrate=true":      "gold-probe:calibrate=true,gold=50",
	} {
		m := lvNew(t, spec)
		if m.Name() != want {
			t.Errorf("New(%q).Name() = %q, want %q", spec, m.Name(), want)
		}
		if again := lvNew(t, m.Name()); again.Name() != m.Name() {
			t.Errorf("%q does not round-trip: %q", m.Name(), again.Name())
		}
	}
	if DeclaredGold(lvNew(t, "gold-probe:gold=50,calibrate=true")) != 50 {
		t.Error("calibrate hides the inner method's gold budget")
	}
	if _, err := New("naive:calibrate=yes"); err == nil || !strings.Contains(err.Error(), "true or false") {
		t.Errorf("calibrate=yes: err = %v", err)
	}
	if _, err := New("naive:calibrate=true,coef=1"); err == nil || !strings.Contains(err.Error(), "coef") {
		t.Errorf("an unknown parameter beside calibrate: err = %v", err)
	}

	v := lvView(t)
	tr := probeRun(t, lvNew(t, "naive:calibrate=true"), v)
	if tr.Calibration == nil {
		t.Fatal("no calibration recorded")
	}
	// The temperature by hand: the weak probe cross-fitted on train_weak.
	pool, _ := testGoldFor(v)
	gold, err := pool.OpenBudget(0).WeakSide()
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.WeakProbe
	cfg.Seed = seeds.Derive(v.Seed, seeds.Lead("calibrate"))
	oof, err := crossFitLabels(context.Background(), v.TrainWeak.Weak, data.OneHot(gold, v.K), cfg, CalibrateFolds)
	if err != nil {
		t.Fatal(err)
	}
	temp, err := FitTemperature(oof, gold)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Calibration.Temperature != temp || temp < minTemperature || temp > maxTemperature || temp == 1 {
		t.Errorf("temperature %v, by hand %v", tr.Calibration.Temperature, temp)
	}
	t.Logf("sentiment bow weak model: temperature %.3f", temp)
	labels := ApplyTemperature(v.TrainStrong.WeakLabels, temp)
	if !reflect.DeepEqual(tr.Calibration.WeakLabels.Values, labels.Values) {
		t.Error("recorded labels are not the rescaled weak labels")
	}
	ex := probeExecutor(v)
	m, _, err := ex.Student.Fit(t.Context(), ex.Inputs, train.Objective{Targets: labels}, ex.Config)
	if err != nil {
		t.Fatal(err)
	}
	byHand, err := m.Predict(t.Context(), ex.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.TrainStrong.Values, byHand.Values) {
		t.Error("naive:calibrate=true is not naive on the rescaled labels")
	}
	if tr.Gold.Weak != len(gold) || tr.Gold.Strong != 0 {
		t.Errorf("gold read %+v, want all %d train_weak labels weak-side and none with strong features", tr.Gold, len(gold))
	}
	// Hard labels do not move with a temperature: naive-hard calibrated
	// trains the same student as naive-hard.
	if a, b := lvPredict(t, lvNew(t, "naive-hard"), v), lvPredict(t, lvNew(t, "naive-hard:calibrate=true"), v); !reflect.DeepEqual(a.Values, b.Values) {
		t.Error("calibration changed naive-hard's student")
	}
}

// TestExecutorClassBalanced: with ClassBalanced the executor trains every
// stage on the method's objective weighted by inverse class frequency,
// composed with the method's own weights and gold rows, and a probe config
// with ClassBalanced weights FitProbe the same way.
func TestExecutorClassBalanced(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	v := lvView(t)
	n := v.TrainStrong.WeakLabels.Rows
	// A method with weights of its own (the first half counts double) and
	// gold rows.
	weights := make([]float32, n)
	for i := range weights {
		weights[i] = 1
		if i < n/2 {
			weights[i] = 2
		}
	}
	var drawn GoldSample
	m := plantedMethod{"weighted", 20, func(ctx context.Context, v *View) (Objective, error) {
		s, err := v.Gold.Draw(20)
		if err != nil {
			return Objective{}, err
		}
		drawn = s
		return Objective{Objective: train.Objective{Targets: v.TrainStrong.WeakLabels, Weights: weights},
			GoldRows: &GoldRows{Rows: s.Rows, Targets: data.OneHot(s.Gold, v.K)}}, nil
	}}
	ex := probeExecutor(v)
	ex.ClassBalanced = true
	tr, err := ex.Run(t.Context(), m, v)
	if err != nil {
		t.Fatal(err)
	}
	_, twStrong := testGoldFor(v)
	x, err := concatInputs(ex.Inputs, student.Inputs{Features: twStrong.SelectRows(drawn.Rows)})
	if err != nil {
		t.Fatal(err)
	}
	y := data.NewMatrix(n+20, v.K)
	copy(y.Values, v.TrainStrong.WeakLabels.Values)
	copy(y.Values[n*v.K:], data.OneHot(drawn.Gold, v.K).Values)
	w := append(append([]float32(nil), weights...), make([]float32, 20)...)
	rows := make([]int, n+20)
	for i := range rows {
		rows[i] = i
		if i >= n {
			w[i] = 1
		}
	}
	o, err := train.ClassBalanced(train.Objective{Targets: y, Rows: rows, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	model, _, err := ex.Student.Fit(t.Context(), x, o, ex.Config)
	if err != nil {
		t.Fatal(err)
	}
	byHand, err := model.Predict(t.Context(), ex.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.TrainStrong.Values, byHand.Values) {
		t.Error("the executor's class-balanced student is not the hand-weighted one")
	}
	plain, err := probeExecutor(v).Run(t.Context(), m, v)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(plain.TrainStrong.Values, tr.TrainStrong.Values) {
		t.Error("class balance changed nothing")
	}

	// FitProbe with ClassBalanced is FitProbe's objective weighted.
	cfg := v.WeakProbe
	cfg.ClassBalanced = true
	hard := data.OneHot(v.TrainStrong.WeakLabels.Argmax(), v.K)
	a, err := student.FitProbe(t.Context(), v.TrainStrong.Weak, hard, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := train.ClassBalanced(train.Objective{Targets: hard})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClassBalanced = false
	b, _, err := student.NewProbe(student.Spec{Encoder: "bow", Head: cfg.Head}, cfg).Fit(t.Context(), student.Inputs{Features: v.TrainStrong.Weak}, ob, cfg.Train())
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Predict(v.TrainStrong.Weak)
	pb, _ := b.Predict(t.Context(), student.Inputs{Features: v.TrainStrong.Weak})
	if !reflect.DeepEqual(pa.Values, pb.Values) {
		t.Error("FitProbe with ClassBalanced is not the weighted fit")
	}
}
