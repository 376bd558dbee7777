package student

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/onnxgen"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

type labelled struct {
	texts  []string
	labels []int
}

// yelpLabelled reads every 7th labelled yelp sentence of the sentiment
// dataset (the raw fixture, so the test does not depend on the loader).
func yelpLabelled(t testing.TB) labelled {
	t.Helper()
	dir, err := assets.Ensure(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "test", "fixtures", "yelp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Text  string `json:"text"`
		Class int    `json:"class"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	var out labelled
	for i := 0; i < len(rows); i += 7 {
		if rows[i].Text != "" {
			out.texts = append(out.texts, rows[i].Text)
			out.labels = append(out.labels, rows[i].Class)
		}
	}
	return out
}

func useLite(t *testing.T) *encode.USELite {
	t.Helper()
	enc, err := encode.Open(context.Background(), "use-lite", nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.Text.(*encode.USELite)
}

func trainingAccuracy(t *testing.T, m Model, in Inputs, labels []int) int {
	t.Helper()
	p, err := m.Predict(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, c := range p.Argmax() {
		if c == labels[i] {
			right++
		}
	}
	return right
}

// TestTunedLearns fine-tunes USE-lite end to end on 64 labelled yelp
// sentences for 2 epochs: the loss starts at most ln 2 (zero head) and
// falls, the transformer's own embeddings moved (gradients flow through
// it, not only into the head), the data are fitted, and a rerun with the
// same seed gives the same losses.
func TestTunedLearns(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	ctx := context.Background()
	u := useLite(t)
	all := yelpLabelled(t)
	in := Inputs{Texts: all.texts[:64]}
	targets := data.OneHot(all.labels[:64], 2)
	s := NewTuned(u)
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.EncoderLR, cfg.LearningRate, cfg.Seed = 2, 16, 1e-4, 3e-3, 7
	m, res, err := s.Fit(ctx, in, train.Objective{Targets: targets}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %v, epoch times %v", res.EpochLoss, res.EpochTime)
	if !(res.EpochLoss[1] < res.EpochLoss[0]) || res.EpochLoss[0] > 0.7 {
		t.Errorf("losses %v: want a first epoch ≤ ln 2 and a fall", res.EpochLoss)
	}
	if right := trainingAccuracy(t, m, in, all.labels[:64]); right < 48 {
		t.Errorf("training accuracy %d/64 after fine-tuning, want ≥ 48", right)
	}
	before, err := u.Weight(0) // the token embeddings
	if err != nil {
		t.Fatal(err)
	}
	after, err := m.(*TunedModel).Weight("w00")
	if err != nil {
		t.Fatal(err)
	}
	moved := 0.0
	for i := range before {
		moved = math.Max(moved, math.Abs(float64(after[i]-before[i])))
	}
	if moved < 1e-5 {
		t.Errorf("fine-tuning moved the token embeddings by at most %g: no gradient through the transformer?", moved)
	}
	short := cfg
	short.Epochs, short.BatchSize, short.Seed = 1, 8, 3
	sub := Inputs{Texts: all.texts[:16]}
	_, r1, err := s.Fit(ctx, sub, train.Objective{Targets: targets.SelectRows(seq(16))}, short)
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := s.Fit(ctx, sub, train.Objective{Targets: targets.SelectRows(seq(16))}, short)
	if err != nil {
		t.Fatal(err)
	}
	if r1.EpochLoss[0] != r2.EpochLoss[0] {
		t.Errorf("same seed, losses %v and %v", r1.EpochLoss, r2.EpochLoss)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestTunedONNX fine-tunes the generated BERT (internal/onnxgen, the real
// uncased vocabulary) end to end on 64 labelled sentences: the loss falls
// and every weight moves, including the word embeddings, which the graph
// reaches only through its Identity (tied-weight) node.
func TestTunedONNX(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	ctx := context.Background()
	dir, err := onnxgen.CachedDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spec := MustParse("onnx-ft:" + dir)
	s, err := Open(ctx, spec, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := yelpLabelled(t)
	in := Inputs{Texts: all.texts[:64]}
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.EncoderLR, cfg.LearningRate, cfg.Seed = 6, 8, 1e-3, 1e-2, 5
	m, res, err := s.Fit(ctx, in, train.Objective{Targets: data.OneHot(all.labels[:64], 2)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %v", res.EpochLoss)
	if !(res.EpochLoss[5] < res.EpochLoss[0]-0.1) {
		t.Errorf("losses %v: want a fall of at least 0.1", res.EpochLoss)
	}
	o := s.(*Tuned).Encoder().(*encode.ONNXEncoder)
	for _, name := range []string{"embeddings.word_embeddings.weight", "encoder.layer.1.output.dense.weight"} {
		path := findVariable(t, o, name)
		before, err := o.Weight(path)
		if err != nil {
			t.Fatal(err)
		}
		after, err := m.(*TunedModel).Weight(path)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0.0
		for i := range before {
			moved = math.Max(moved, math.Abs(float64(after[i]-before[i])))
		}
		if moved < 1e-4 {
			t.Errorf("%s moved by at most %g: no gradient reached it", path, moved)
		}
	}
	if right := trainingAccuracy(t, m, in, all.labels[:64]); right < 44 {
		t.Errorf("training accuracy %d/64 after fine-tuning, want ≥ 44", right)
	}
}

// findVariable returns the path of the ONNX weight whose name ends in
// suffix.
func findVariable(t *testing.T, o *encode.ONNXEncoder, suffix string) string {
	t.Helper()
	for _, p := range o.WeightPaths() {
		if strings.HasSuffix(p, suffix) {
			return p
		}
	}
	t.Fatalf("no weight ending in %q among %v", suffix, o.WeightPaths())
	return ""
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		name string
		err  string
	}{
		{"glove", Spec{"glove", "linear", false, 0}, "glove:linear", ""},
		{"glove:mlp", Spec{"glove", "mlp", false, 0}, "glove:mlp", ""},
		{" use-lite ", Spec{"use-lite", "linear", false, 0}, "use-lite:linear", ""},
		{"use-lite-ft", Spec{"use-lite", "linear", true, 0}, "use-lite-ft:linear", ""},
		{"use-lite-ft:linear", Spec{"use-lite", "linear", true, 0}, "use-lite-ft:linear", ""},
		{"onnx:/models/bert", Spec{"onnx:/models/bert", "linear", false, 0}, "onnx:/models/bert:linear", ""},
		{"onnx:/models/bert:mlp", Spec{"onnx:/models/bert", "mlp", false, 0}, "onnx:/models/bert:mlp", ""},
		{"onnx-ft:/models/bert", Spec{"onnx:/models/bert", "linear", true, 0}, "onnx-ft:/models/bert:linear", ""},
		{"onnx-cls-ft:hf:o/r", Spec{"onnx-cls:hf:o/r", "linear", true, 0}, "onnx-cls-ft:hf:o/r:linear", ""},
		{"features", Spec{"features", "linear", false, 0}, "features:linear", ""},
		{"use-lite-ft-top1", Spec{"use-lite", "linear", true, 1}, "use-lite-ft-top1:linear", ""},
		{"use-lite-ft-top2:linear", Spec{"use-lite", "linear", true, 2}, "use-lite-ft-top2:linear", ""},
		{"onnx-ft-top3:/models/bert", Spec{"onnx:/models/bert", "linear", true, 3}, "onnx-ft-top3:/models/bert:linear", ""},
		{"mobilenet-v2@block13", Spec{"mobilenet-v2@block13", "linear", false, 0}, "mobilenet-v2@block13:linear", ""},
		{"inception-v3-139@mixed5:mlp", Spec{"inception-v3-139@mixed5", "mlp", false, 0}, "inception-v3-139@mixed5:mlp", ""},
		{"mobilenet-v2-96-ft", Spec{"mobilenet-v2-96", "linear", true, 0}, "mobilenet-v2-96-ft:linear", ""},
		{"mobilenet-v2-96-ft-top2", Spec{"mobilenet-v2-96", "linear", true, 2}, "mobilenet-v2-96-ft-top2:linear", ""},
		{"mobilenet-v2@block99", Spec{}, "", "no block"},
		{"mobilenet-v2-mid@block99", Spec{}, "", "no block"},
		{"use-lite-ft-top0", Spec{}, "", "positive number of layers"},
		{"use-lite-ft-top", Spec{}, "", "positive number of layers"},
		{"use-lite-ft-topx", Spec{}, "", "positive number of layers"},
		{"use-lite-ft:mlp", Spec{}, "", "linear head"},
		{":mlp", Spec{}, "", "missing encoder"},
		{"", Spec{}, "", "empty model name"},
		{"glov", Spec{}, "", `unknown encoder "glov"`},
		{"glov-ft", Spec{}, "", `unknown encoder "glov"`},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || got.String() != tc.name {
			t.Errorf("Parse(%q) = %+v (%q), %v; want %+v (%q)", tc.in, got, got.String(), err, tc.want, tc.name)
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q.String()) = %+v, %v: not a fixed point", tc.in, again, err)
		}
	}
}

// TestOpenRefusals: fine-tuning settings on a probe, and fine-tuning an
// encoder without a trainable graph, are refused before any work.
func TestOpenRefusals(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, MustParse("glove"), Options{FineTuneEpochs: 2}, nil); err == nil || !strings.Contains(err.Error(), "fine-tuned students only") {
		t.Errorf("probe with --ft-epochs: %v", err)
	}
	if _, err := Open(ctx, MustParse("bow-ft"), Options{}, nil); err == nil || !strings.Contains(err.Error(), "cannot be fine-tuned") {
		t.Errorf("bow-ft: %v", err)
	}
}

// TestTunedFitFrom fine-tunes the generated BERT, then warm-starts a
// second fine-tune from it with vanishing learning rates: its predictions
// are the first model's, not the pretrained encoder's with a zero head
// (which predicts ½ everywhere), and its weights are the first model's.
func TestTunedFitFrom(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	ctx := context.Background()
	dir, err := onnxgen.CachedDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, MustParse("onnx-ft:"+dir), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := yelpLabelled(t)
	in := Inputs{Texts: all.texts[:32]}
	o := train.Objective{Targets: data.OneHot(all.labels[:32], 2)}
	cfg := s.Config()
	cfg.Epochs, cfg.BatchSize, cfg.EncoderLR, cfg.LearningRate, cfg.Seed = 3, 8, 1e-3, 1e-2, 5
	first, _, err := s.Fit(ctx, in, o, cfg)
	if err != nil {
		t.Fatal(err)
	}
	still := cfg
	still.Epochs, still.EncoderLR, still.LearningRate = 1, 1e-12, 1e-12
	warm, _, err := s.(WarmStarter).FitFrom(ctx, first, in, o, still)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := first.Predict(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := warm.Predict(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	far := 0.0
	for i := range p1.Values {
		if d := math.Abs(float64(p1.Values[i] - p2.Values[i])); d > 1e-4 {
			t.Fatalf("prediction %d: %v after the warm start, %v before", i, p2.Values[i], p1.Values[i])
		}
		far = math.Max(far, math.Abs(float64(p1.Values[i])-0.5))
	}
	if far < 0.01 {
		t.Errorf("the first model predicts ½ everywhere (max |p−½| %g): the test would not tell a warm start from a cold one", far)
	}
	if _, _, err := s.(WarmStarter).FitFrom(ctx, first, in, train.Objective{Targets: data.OneHot(all.labels[:32], 3)}, still); err == nil {
		t.Error("warm start to 3 classes from a 2-class model: no error")
	}
}
