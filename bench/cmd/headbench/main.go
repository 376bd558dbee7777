// Command headbench benchmarks head training (package train) against PyTorch
// and scikit-learn references; bench/run.sh drives it.
//
//	headbench gen    -out DIR [-n 10000] [-d 512] [-seed 1]
//	    writes DIR/features.npy float32 [n, d] and DIR/labels.npy int32 [n]:
//	    a synthetic binary task (see synthetic) for development.
//	headbench run    -features F.npy -labels L.npy -work DIR [-repeat 3]
//	    splits 80/20 (seeded), writes DIR/{xtrain,ytrain,xtest,ytest}.npy and
//	    DIR/config.json for the Python references, trains the linear and MLP
//	    heads and writes DIR/go.json.
//	headbench report -work DIR -out BENCH.md
//	    merges DIR/*.json results into a markdown table.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/superalign/superalign/bench"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/student"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: headbench gen|run|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	case "real":
		err = realFeatures(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "headbench:", err)
		os.Exit(1)
	}
}

// synthetic draws a binary task with features x [n, d] = W·z + noise from a
// 16-dimensional latent z ~ N(0, I), W [d, 16] random with unit-norm columns
// scaled by 2, and the label 1 when z0 + 0.7·(z1² - 1) + 0.3·ε > 0. The
// quadratic term makes the task partly non-linear, so the MLP has something
// to gain over the linear head, as with real embeddings.
func synthetic(n, d int, seed uint64) (data.Matrix, []int) {
	const latent = 16
	rng := rand.New(rand.NewPCG(seed, 99))
	w := make([]float64, d*latent)
	for c := range latent {
		var norm float64
		for j := range d {
			v := rng.NormFloat64()
			w[j*latent+c] = v
			norm += v * v
		}
		for j := range d {
			w[j*latent+c] *= 2 / math.Sqrt(norm)
		}
	}
	x := data.NewMatrix(n, d)
	labels := make([]int, n)
	z := make([]float64, latent)
	for i := range n {
		for c := range z {
			z[c] = rng.NormFloat64()
		}
		if z[0]+0.7*(z[1]*z[1]-1)+0.3*rng.NormFloat64() > 0 {
			labels[i] = 1
		}
		row := x.Row(i)
		for j := range d {
			v := 0.1 * rng.NormFloat64()
			for c, zc := range z {
				v += w[j*latent+c] * zc
			}
			row[j] = float32(v)
		}
	}
	return x, labels
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	n := fs.Int("n", 10000, "examples")
	d := fs.Int("d", 512, "feature dimension")
	seed := fs.Uint64("seed", 1, "seed")
	_ = fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("gen: -out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	x, labels := synthetic(*n, *d, *seed)
	if err := bench.WriteNPYFloat32(filepath.Join(*out, "features.npy"), x.Values, x.Rows, x.Cols); err != nil {
		return err
	}
	l32 := make([]int32, len(labels))
	for i, v := range labels {
		l32[i] = int32(v)
	}
	return bench.WriteNPYInt32(filepath.Join(*out, "labels.npy"), l32, len(l32))
}

// realFeatures writes real features for the benchmark: a built-in dataset
// (default spam, 6026 e-mails) encoded by the hashed TF-IDF bag of words with
// d buckets (default 512), so the heads see the kind of sparse, partly
// redundant features a W2S weak model works on.
func realFeatures(args []string) error {
	fs := flag.NewFlagSet("real", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	name := fs.String("data", "spam", "built-in dataset")
	d := fs.Int("d", 512, "bag-of-words buckets")
	_ = fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("real: -out is required")
	}
	ctx := context.Background()
	ds, err := data.LoadBuiltin(ctx, *name, os.Stderr)
	if err != nil {
		return err
	}
	enc, err := encode.NewBoW(*d)
	if err != nil {
		return err
	}
	texts := make([]string, len(ds.Examples))
	for i, ex := range ds.Examples {
		texts[i] = ex.Text
	}
	x, err := enc.Encode(ctx, texts, nil)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := bench.WriteNPYFloat32(filepath.Join(*out, "features.npy"), x.Values, x.Rows, x.Cols); err != nil {
		return err
	}
	l32 := make([]int32, len(ds.Examples))
	for i, ex := range ds.Examples {
		l32[i] = int32(ex.Label)
	}
	return bench.WriteNPYInt32(filepath.Join(*out, "labels.npy"), l32, len(l32))
}

// Result is one benchmark row, shared with the Python scripts (JSON lines).
type Result struct {
	Model   string  `json:"model"`
	Engine  string  `json:"engine"`
	Seconds float64 `json:"seconds"` // median over repeats
	Runs    int     `json:"runs"`
	TestAcc float64 `json:"test_acc"`
	Threads int     `json:"threads"`
	Notes   string  `json:"notes,omitempty"`
}

// headConfig is the JSON form of the student.ProbeConfig fields the Python
// references need.
type headConfig struct {
	Head                  string
	Hidden, Epochs, Batch int
	LearningRate          float64
	WeightDecay           float64
}

func toHeadConfig(c student.ProbeConfig) headConfig {
	return headConfig{Head: c.Head, Hidden: c.Hidden, Epochs: c.Epochs, Batch: c.BatchSize, LearningRate: c.LearningRate, WeightDecay: c.WeightDecay}
}

// benchConfig is what the Python references need to train the same heads.
type benchConfig struct {
	Linear, MLP    headConfig
	WarmupFraction float64
	Repeat         int
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	featPath := fs.String("features", "", "features .npy float32 [N, D]")
	labelPath := fs.String("labels", "", "labels .npy int32/int64 [N]")
	work := fs.String("work", "", "work directory")
	repeat := fs.Int("repeat", 3, "timed fits per head (median reported)")
	testFrac := fs.Float64("test-frac", 0.2, "held-out fraction")
	seed := fs.Uint64("seed", 1, "split seed")
	_ = fs.Parse(args)
	if *featPath == "" || *labelPath == "" || *work == "" {
		return fmt.Errorf("run: -features, -labels and -work are required")
	}
	vals, dims, err := bench.ReadNPYFloat32(*featPath)
	if err != nil {
		return err
	}
	if len(dims) != 2 {
		return fmt.Errorf("run: features have shape %v, want [N, D]", dims)
	}
	labels, ldims, err := bench.ReadNPYInt(*labelPath)
	if err != nil {
		return err
	}
	if len(ldims) != 1 || ldims[0] != dims[0] {
		return fmt.Errorf("run: labels have shape %v, want [%d]", ldims, dims[0])
	}
	x := data.Matrix{Rows: dims[0], Cols: dims[1], Values: vals}
	k := slices.Max(labels) + 1
	if k < 2 || slices.Min(labels) < 0 {
		return fmt.Errorf("run: labels span [%d, %d], want classes 0..K-1 with K >= 2", slices.Min(labels), k-1)
	}

	perm := rand.New(rand.NewPCG(*seed, 7)).Perm(x.Rows)
	nTest := int(math.Round(*testFrac * float64(x.Rows)))
	testIdx, trainIdx := perm[:nTest], perm[nTest:]
	xTrain, xTest := x.SelectRows(trainIdx), x.SelectRows(testIdx)
	yTrain, yTest := pick(labels, trainIdx), pick(labels, testIdx)
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	for name, m := range map[string]data.Matrix{"xtrain": xTrain, "xtest": xTest} {
		if err := bench.WriteNPYFloat32(filepath.Join(*work, name+".npy"), m.Values, m.Rows, m.Cols); err != nil {
			return err
		}
	}
	for name, y := range map[string][]int{"ytrain": yTrain, "ytest": yTest} {
		y32 := make([]int32, len(y))
		for i, v := range y {
			y32[i] = int32(v)
		}
		if err := bench.WriteNPYInt32(filepath.Join(*work, name+".npy"), y32, len(y32)); err != nil {
			return err
		}
	}
	heads := []student.ProbeConfig{student.DefaultProbeConfig(student.HeadLinear), student.DefaultProbeConfig(student.HeadMLP)}
	cfg := benchConfig{Linear: toHeadConfig(heads[0]), MLP: toHeadConfig(heads[1]), WarmupFraction: 0.05, Repeat: *repeat}
	if err := writeJSON(filepath.Join(*work, "config.json"), cfg); err != nil {
		return err
	}

	var results []Result
	for _, c := range heads {
		var times []float64
		var acc float64
		for r := range *repeat {
			c.Seed = int64(r)
			start := time.Now()
			h, err := student.FitProbeLabels(context.Background(), xTrain, yTrain, k, c)
			if err != nil {
				return err
			}
			times = append(times, time.Since(start).Seconds())
			p, err := h.Predict(xTest)
			if err != nil {
				return err
			}
			acc += accuracy(p.Argmax(), yTest) / float64(*repeat)
		}
		name := fmt.Sprintf("%s (%d epochs)", c.Head, c.Epochs)
		if c.Head == student.HeadMLP {
			name = fmt.Sprintf("mlp %d hidden (%d epochs)", c.Hidden, c.Epochs)
		}
		res := Result{Model: name, Engine: "gomlx Go backend", Seconds: median(times), Runs: *repeat, TestAcc: acc, Threads: runtime.GOMAXPROCS(0),
			Notes: fmt.Sprintf("Adam lr %g, batch %d, wd %g; runs %s", c.LearningRate, c.BatchSize, c.WeightDecay, fmtTimes(times))}
		fmt.Printf("%-28s %-18s %7.3fs  acc %.4f  (runs %v)\n", res.Model, res.Engine, res.Seconds, res.TestAcc, fmtTimes(times))
		results = append(results, res)
	}
	return writeJSONLines(filepath.Join(*work, "go.json"), results)
}

func pick(v []int, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

func accuracy(pred, gold []int) float64 {
	hit := 0
	for i := range pred {
		if pred[i] == gold[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(pred))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtTimes(v []float64) string {
	parts := make([]string, len(v))
	for i, t := range v {
		parts[i] = fmt.Sprintf("%.2f", t)
	}
	return strings.Join(parts, " ")
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func writeJSONLines(path string, rows []Result) error {
	var sb strings.Builder
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		sb.Write(b)
		sb.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	work := fs.String("work", "", "work directory with go.json, torch.json, sklearn.json")
	out := fs.String("out", "BENCH.md", "markdown output")
	machine := fs.String("machine", "", "machine description line(s)")
	source := fs.String("source", "", "description of the data")
	title := fs.String("title", "Head training", "section heading")
	_ = fs.Parse(args)
	var rows []Result
	for _, name := range []string{"go.json", "torch.json", "sklearn.json"} {
		b, err := os.ReadFile(filepath.Join(*work, name))
		if err != nil {
			fmt.Fprintf(os.Stderr, "headbench: report: skipping %s: %v\n", name, err)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var r Result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return fmt.Errorf("report: %s: %w", name, err)
			}
			rows = append(rows, r)
		}
	}
	// Ratio against the PyTorch row of the same model (head kind) with
	// PyTorch's default thread count (its first row).
	torch := map[string]float64{}
	for _, r := range rows {
		if _, seen := torch[modelKind(r.Model)]; !seen && strings.HasPrefix(r.Engine, "PyTorch") {
			torch[modelKind(r.Model)] = r.Seconds
		}
	}
	var sb strings.Builder
	sb.WriteString("## " + *title + "\n\n")
	sb.WriteString("Generated by `bench/run.sh` (`make bench`). Same train/test split, standardisation, optimiser\n")
	sb.WriteString("(Adam with decoupled weight decay, 5% linear warm-up then cosine decay, per step), batch size and\n")
	sb.WriteString("epochs for the Go and PyTorch heads; seconds are the median wall time of whole fits\n")
	sb.WriteString("(standardisation, graph build/compile and training; not data loading or prediction).\n")
	sb.WriteString("Ratio = seconds / seconds of PyTorch with its default threads, same head: above 1 means slower.\n")
	sb.WriteString("Mind the threads column: the Go backend uses every core (GOMAXPROCS); PyTorch is run with its\n")
	sb.WriteString("default thread count (1 for Debian's python3-torch here) and again with all cores.\n\n")
	if *source != "" {
		sb.WriteString("Data: " + *source + "\n\n")
	}
	sb.WriteString("| model | engine | threads | seconds | ratio vs PyTorch | test accuracy | notes |\n")
	sb.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ratio := "–"
		if t, ok := torch[modelKind(r.Model)]; ok && t > 0 {
			ratio = fmt.Sprintf("%.2f×", r.Seconds/t)
		}
		fmt.Fprintf(&sb, "| %s | %s | %d | %.3f | %s | %.4f | %s |\n", r.Model, r.Engine, r.Threads, r.Seconds, ratio, r.TestAcc, r.Notes)
	}
	if *machine != "" {
		sb.WriteString("\nMachine:\n\n" + *machine + "\n")
	}
	return os.WriteFile(*out, []byte(sb.String()), 0o644)
}

// modelKind maps "linear (30 epochs)" / "mlp 256 hidden (20 epochs)" /
// "logistic regression" to the head kind used to pair rows for the ratio.
func modelKind(model string) string {
	switch {
	case strings.HasPrefix(model, "linear"):
		return "linear"
	case strings.HasPrefix(model, "mlp"):
		return "mlp"
	}
	return model
}
