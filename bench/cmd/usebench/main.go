// Command usebench measures USE-lite sentence embedding in Go (package
// encode, GoMLX on backend.Get()) and the FLOP rate it reaches against a
// measured matmul peak on the same backend; bench/uselite.sh runs it next
// to the JavaScript reference and writes the "uselite" section of BENCH.md.
//
//	usebench sentences -n N -out FILE.json
//	    writes N sentiment sentences (evenly spaced over the 3000) as a JSON
//	    array, the input of both engines.
//	usebench tokens -in FILE.json -out DIR
//	    writes DIR/tokens.json (the Go tokenizer's ids of each sentence,
//	    clipped as Encode clips them) and DIR/go_emb.npy (Go's embeddings,
//	    float32 [N, 512]): the PyTorch reference (bench/ref_uselite_torch.py)
//	    reads the ids from here rather than re-implementing the tokenizer,
//	    and checks its embeddings against Go's.
//	usebench run -in FILE.json -js JS.json -out SECTION.md [-repeat 2] [-torch TORCH.json]
//	    embeds the sentences (one cold pass that compiles the graphs, then
//	    -repeat warm passes, best reported), checks the embeddings against
//	    the reference's in JS.json (max cosine distance), measures the matmul
//	    peak, times fine-tuning steps and writes a markdown section; with
//	    -torch, a table of Go against the PyTorch reference's timings.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/bench"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/student"
	"github.com/superalign/superalign/train"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: usebench sentences|tokens|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sentences":
		fs := flag.NewFlagSet("sentences", flag.ExitOnError)
		n := fs.Int("n", 1000, "number of sentences")
		out := fs.String("out", "", "output JSON file")
		fs.Parse(os.Args[2:])
		err = writeSentences(*n, *out)
	case "tokens":
		fs := flag.NewFlagSet("tokens", flag.ExitOnError)
		in := fs.String("in", "", "sentences JSON")
		out := fs.String("out", "", "output directory")
		fs.Parse(os.Args[2:])
		err = writeTokens(*in, *out)
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		in := fs.String("in", "", "sentences JSON")
		js := fs.String("js", "", "reference output JSON (uselite_ref.js)")
		out := fs.String("out", "", "markdown section to write")
		repeat := fs.Int("repeat", 2, "warm passes")
		machine := fs.String("machine", "", "machine description lines")
		torch := fs.String("torch", "", "PyTorch reference output JSON (ref_uselite_torch.py), optional")
		fs.Parse(os.Args[2:])
		err = run(*in, *js, *out, *repeat, *machine, *torch)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "usebench:", err)
		os.Exit(1)
	}
}

func readSentences(in string) ([]string, error) {
	var sentences []string
	raw, err := os.ReadFile(in)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &sentences); err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	return sentences, nil
}

func writeTokens(in, out string) error {
	sentences, err := readSentences(in)
	if err != nil {
		return err
	}
	ctx := context.Background()
	u, dir, err := loadUSELite(ctx)
	if err != nil {
		return err
	}
	emb, err := u.Encode(ctx, sentences, nil)
	if err != nil {
		return err
	}
	// The model directory travels with the ids so that the reference loads
	// the very weights Go loaded.
	raw, _ := json.Marshal(map[string]any{"model_dir": dir, "ids": u.Tokenize(sentences)})
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "tokens.json"), raw, 0o644); err != nil {
		return err
	}
	return bench.WriteNPYFloat32(filepath.Join(out, "go_emb.npy"), emb.Values, emb.Rows, emb.Cols)
}

func writeSentences(n int, out string) error {
	dir, err := assets.Ensure(context.Background(), "sentiment", os.Stderr)
	if err != nil {
		return err
	}
	var all []string
	for _, f := range []string{"imdb", "yelp", "amazon"} {
		raw, err := os.ReadFile(filepath.Join(dir, "test", "fixtures", f+".json"))
		if err != nil {
			return err
		}
		var rows []struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &rows); err != nil {
			return fmt.Errorf("%s.json: %w", f, err)
		}
		for _, r := range rows {
			if r.Text != "" {
				all = append(all, r.Text)
			}
		}
	}
	n = min(n, len(all))
	pick := make([]string, n)
	for i := range pick {
		pick[i] = all[i*len(all)/n]
	}
	raw, _ := json.Marshal(pick)
	return os.WriteFile(out, raw, 0o644)
}

// matmulPeak times [n, n]·[n, n]ᵀ products on the backend and returns the
// best rate in FLOP/s.
func matmulPeak() (float64, error) {
	be, err := backend.Get()
	if err != nil {
		return 0, err
	}
	const n = 1024
	exec, err := NewExec(be, func(a, b *Node) *Node {
		return DotGeneral(a, []int{1}, nil, b, []int{1}, nil)
	})
	if err != nil {
		return 0, err
	}
	a := tensors.FromShape(shapes.Make(dtypes.Float32, n, n))
	tensors.MustMutableFlatData(a, func(f []float32) {
		for i := range f {
			f[i] = float32(i%7) * 0.1
		}
	})
	best := math.Inf(1)
	// Best of 15: on a shared machine the minimum is the closest to what
	// the cores can do alone.
	for i := 0; i < 16; i++ {
		t0 := time.Now()
		r, err := exec.Call1(a, a)
		if err != nil {
			return 0, err
		}
		r.FinalizeAll()
		if i > 0 { // the first call compiles
			best = min(best, time.Since(t0).Seconds())
		}
	}
	return 2 * n * n * n / best, nil
}

type jsResult struct {
	Embeddings [][]float64 `json:"embeddings"`
	Seconds    float64     `json:"seconds"`
	LoadSecs   float64     `json:"load_seconds"`
}

// torchResult is what bench/ref_uselite_torch.py writes: per thread
// count, the embedding pass and the fine-tune steps of the same
// architecture on the same weights and token ids.
type torchResult struct {
	Torch  string `json:"torch"`
	N      int    `json:"n"`
	FtN    int    `json:"ft_n"`
	Parity struct {
		MaxAbsDiff float64 `json:"max_abs_diff"`
		MaxCosDist float64 `json:"max_cos_dist"`
	} `json:"parity"`
	Threads map[string]struct {
		EmbedS    float64 `json:"embed_s"`
		FtStepMs  float64 `json:"ft_step_ms"`
		TopStepMs float64 `json:"top_step_ms"`
		TopBottom float64 `json:"top_bottom_s"`
	} `json:"threads"`
}

// torchTable is the Go-against-PyTorch table: each workload at PyTorch's
// 1 and 2 threads, and the speed ratio against the faster of the two.
func torchTable(b *strings.Builder, t torchResult, n int, goEmbedS, goStepMs, goTopMs, goTopBottom float64) {
	one, two := t.Threads["1"], t.Threads["2"]
	fmt.Fprintf(b, "\n### Against PyTorch (same architecture, same weights, same token ids)\n\n")
	fmt.Fprintf(b, "PyTorch %s CPU (Debian python3-torch) runs `bench/ref_uselite_torch.py`: the Go port's forward pass written in PyTorch, loading the same TF.js weight shards, fed the Go tokenizer's ids (`usebench tokens`), embedding with Go's batch plan (longest first, at most 64 rows within one length bucket, partial batches padded to a power of two) and fine-tuning as `student.Tuned` does (linear head ×10 on the unit embedding, zero start, soft cross-entropy, Adam(W) with encoder lr 3e-5, head lr 1e-3, no weight decay, batch 32, the %d sentences sorted by length and padded to Go's length buckets; ms per step over a warm epoch). `torch.set_num_threads(1)` and `(2)`; Go uses GOMAXPROCS=%d. Last column: Go's speed over the faster PyTorch (rate ratio, or PyTorch time / Go time): above 1.0× Go is faster.\n\n", t.Torch, t.FtN, runtime.GOMAXPROCS(0))
	fmt.Fprintf(b, "| workload | Go | PyTorch 1 thread | PyTorch 2 threads | Go / best PyTorch |\n|---|---:|---:|---:|---:|\n")
	rate := func(s float64) float64 { return float64(n) / s }
	fmt.Fprintf(b, "| embedding, %d sentences (sentences/s) | %.1f | %.1f | %.1f | %.2f× |\n", n, rate(goEmbedS), rate(one.EmbedS), rate(two.EmbedS), math.Min(one.EmbedS, two.EmbedS)/goEmbedS)
	fmt.Fprintf(b, "| fine-tune step, whole model (ms) | %.0f | %.0f | %.0f | %.2f× |\n", goStepMs, one.FtStepMs, two.FtStepMs, math.Min(one.FtStepMs, two.FtStepMs)/goStepMs)
	fmt.Fprintf(b, "| fine-tune step, top layer only (ms) | %.0f | %.0f | %.0f | %.2f× |\n", goTopMs, one.TopStepMs, two.TopStepMs, math.Min(one.TopStepMs, two.TopStepMs)/goTopMs)
	fmt.Fprintf(b, "| top layer only: bottom pass over %d sentences (s) | %.2f | %.2f | %.2f | %.2f× |\n\n", t.FtN, goTopBottom, one.TopBottom, two.TopBottom, math.Min(one.TopBottom, two.TopBottom)/goTopBottom)
	fmt.Fprintf(b, "- parity: PyTorch embeddings against Go's on these %d sentences: max abs difference %.2g, max cosine distance %.2g\n", t.N, t.Parity.MaxAbsDiff, t.Parity.MaxCosDist)
	if two.EmbedS > one.EmbedS || two.FtStepMs > one.FtStepMs {
		fmt.Fprintf(b, "- PyTorch ran slower at 2 threads than at 1 in this run. Its OpenMP workers spin at the barrier that ends each parallel op; with the 2 cores oversubscribed (load average above nproc, see Machine) a worker often waits there for a peer the kernel has descheduled, a time slice per op. Go's goroutines block instead of spinning (as do PyTorch's under OMP_WAIT_POLICY=PASSIVE, not set here: the figures are PyTorch's defaults). On such a run the 2-thread column measures the machine's load more than PyTorch: take it from a quiet run\n")
	}
	fmt.Fprintf(b, "- Go's bottom-pass figure includes the top-layer fit's set-up (wall time minus its two epochs); PyTorch's is the bottom forward alone\n")
}

func run(in, jsPath, out string, repeat int, machine, torchPath string) error {
	sentences, err := readSentences(in)
	if err != nil {
		return err
	}
	var torch *torchResult
	if torchPath != "" {
		raw, err := os.ReadFile(torchPath)
		if err != nil {
			return err
		}
		torch = new(torchResult)
		if err := json.Unmarshal(raw, torch); err != nil {
			return fmt.Errorf("%s: %w", torchPath, err)
		}
	}
	var js jsResult
	raw, err := os.ReadFile(jsPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &js); err != nil {
		return fmt.Errorf("%s: %w", jsPath, err)
	}
	ctx := context.Background()
	t0 := time.Now()
	u, _, err := loadUSELite(ctx)
	if err != nil {
		return err
	}
	load := time.Since(t0).Seconds()
	t0 = time.Now()
	emb, err := u.Encode(ctx, sentences, nil)
	if err != nil {
		return err
	}
	cold := time.Since(t0).Seconds()
	warm := math.Inf(1)
	for range repeat {
		t0 = time.Now()
		if _, err := u.Encode(ctx, sentences, nil); err != nil {
			return err
		}
		warm = min(warm, time.Since(t0).Seconds())
	}
	worst := 0.0
	for i := range min(len(sentences), len(js.Embeddings)) {
		var dot, na, nb float64
		for j, b := range js.Embeddings[i] {
			a := float64(emb.Values[i*encode.USELiteDim+j])
			dot, na, nb = dot+a*b, na+a*a, nb+b*b
		}
		worst = math.Max(worst, 1-dot/math.Sqrt(na*nb))
	}
	// Fine-tuning step time: 2 epochs over 256 sentences, batch 32 (labels
	// arbitrary: only the time is measured); epoch 1 compiles the graphs.
	ftN := min(256, len(sentences))
	targets := data.NewMatrix(ftN, 2)
	for i := range ftN {
		targets.Values[2*i+i%2] = 1
	}
	tuned := student.NewTuned(u)
	cfg := tuned.Config()
	cfg.Epochs, cfg.Seed, cfg.Log = 2, 1, os.Stderr
	_, res, err := tuned.Fit(ctx, student.Inputs{Texts: sentences[:ftN]}, train.Objective{Targets: targets}, cfg)
	if err != nil {
		return err
	}
	ftEpoch := res.EpochTime[1].Seconds()
	ftSteps := float64((ftN + 31) / 32)
	// The same with only the top layer trained (use-lite-ft-top1): the
	// bottom layer runs once per text before the first step.
	top, err := student.Open(ctx, student.MustParse("use-lite-ft-top1"), student.Options{}, nil)
	if err != nil {
		return err
	}
	t0 = time.Now()
	_, topRes, err := top.Fit(ctx, student.Inputs{Texts: sentences[:ftN]}, train.Objective{Targets: targets}, cfg)
	if err != nil {
		return err
	}
	topWall := time.Since(t0).Seconds()
	topEpoch := topRes.EpochTime[1].Seconds()
	topBottom := topWall - topRes.EpochTime[0].Seconds() - topEpoch // the bottom pass and set-up
	executed, useful := u.FLOPs(sentences)
	peak, err := matmulPeak()
	if err != nil {
		return err
	}
	n := float64(len(sentences))
	var b strings.Builder
	fmt.Fprintf(&b, "## USE-lite sentence embedding\n\n")
	fmt.Fprintf(&b, "%d sentiment sentences (evenly spaced over the 3000), embedded by the Go port (package encode, GoMLX Go backend via backend.Get(), sorted by length and cut into batches of at most 64 within one length bucket) and by the JavaScript reference (@energetic-ai/embeddings@0.2.0, TF.js in node %s, batches of 64), one after the other in the same run. Times exclude model loading; Go's cold pass includes graph compilation.\n\n", len(sentences), nodeVersion())
	fmt.Fprintf(&b, "| engine | seconds | sentences/s | vs JS |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| JavaScript (TF.js, node) | %.2f | %.1f | 1.0× |\n", js.Seconds, n/js.Seconds)
	fmt.Fprintf(&b, "| Go, cold (compiles graphs) | %.2f | %.1f | %.1f× |\n", cold, n/cold, js.Seconds/cold)
	fmt.Fprintf(&b, "| Go, warm (best of %d) | %.2f | %.1f | %.1f× |\n\n", repeat, warm, n/warm, js.Seconds/warm)
	fmt.Fprintf(&b, "- parity: max cosine distance Go vs JavaScript over these sentences %.2g\n", worst)
	fmt.Fprintf(&b, "- matmul FLOPs: %.1f G executed (padded batches), %.1f G useful (own lengths): padding overhead %.0f%%\n", executed/1e9, useful/1e9, 100*(executed/useful-1))
	fmt.Fprintf(&b, "- Go warm rate: %.1f GFLOP/s executed (%.1f useful) against a measured 1024³ float32 matmul peak of %.1f GFLOP/s on the same backend: %.0f%% of peak\n", executed/warm/1e9, useful/warm/1e9, peak/1e9, 100*executed/warm/peak)
	fmt.Fprintf(&b, "\n| fine-tuning (Go, end to end: student.Tuned on train.Fit, AdamW, batch 32, length-grouped) | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| step time (warm epoch, %d sentences) | %.0f ms |\n", ftN, 1000*ftEpoch/ftSteps)
	fmt.Fprintf(&b, "| sentences/s trained | %.1f |\n", float64(ftN)/ftEpoch)
	fmt.Fprintf(&b, "| epoch over 1000 sentences (a w2s train_strong third), extrapolated | %.1f s |\n", 1000*ftEpoch/float64(ftN))
	fmt.Fprintf(&b, "| top layer only (use-lite-ft-top1): step time (warm epoch) | %.0f ms (%.1f× faster) |\n", 1000*topEpoch/ftSteps, ftEpoch/topEpoch)
	fmt.Fprintf(&b, "| top layer only: bottom layer's pass over the %d sentences, once per fit | %.2f s |\n\n", ftN, topBottom)
	fmt.Fprintf(&b, "- model load (tfjs shards + vocab + fingerprint): %.2f s; GOMAXPROCS=%d\n", load, runtime.GOMAXPROCS(0))
	if torch != nil {
		torchTable(&b, *torch, len(sentences), warm, 1000*ftEpoch/ftSteps, 1000*topEpoch/ftSteps, topBottom)
	}
	if machine != "" {
		if torch != nil { // the PyTorch table's notes end the list above
			fmt.Fprintf(&b, "\nMachine:\n\n")
		}
		fmt.Fprintf(&b, "%s\n", machine)
	}
	fmt.Print(b.String())
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func nodeVersion() string {
	if v := os.Getenv("NODE_VERSION"); v != "" {
		return v
	}
	return "20"
}

// loadUSELite fetches (if needed) and loads the pretrained USE-lite; dir
// is its model directory.
func loadUSELite(ctx context.Context) (u *encode.USELite, dir string, err error) {
	if dir, err = encode.USELiteDir(ctx, os.Stderr); err != nil {
		return nil, "", err
	}
	u, err = encode.LoadUSELite(dir)
	return u, dir, err
}
