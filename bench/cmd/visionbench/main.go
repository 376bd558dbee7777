// Command visionbench measures CNN feature extraction (package encode's
// nsfwjs encoders on GoMLX's pure-Go backend) against pure-JavaScript TF.js
// in node on the same real Fashion-MNIST images, in the same run, and
// writes the "vision" section of BENCH.md (through bench/vision.sh).
//
//	visionbench run -tfjs NODE_MODULES -out SECTION.md [-mobilenet 32]
//	    [-inception 8] [-inception139 16] [-machine LINES] [-torch PYTHON]
//	    (-torch: also time torchvision's MobileNetV2 and InceptionV3 on the
//	    same images with bench/ref_vision_torch.py, at 1 and 2 threads)
//	visionbench go -encoder NAME [-n 16] [-cpuprofile FILE]
//	    times one encoder alone (profiling aid).
//
// The images are the first N records of the official Fashion-MNIST test
// file. Go is timed on a warm pass (the graph compiled by a first, cold
// pass over the same images; the two passes must agree bit for bit), 28→S
// bilinear resize included; TF.js on its own warm pass after a one-image
// warm-up, its resizeBilinear(halfPixelCenters) excluded. Both sides
// produce the features, which are compared (max |Go − JS| / max |JS|).
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: visionbench run|go [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		mods := fs.String("tfjs", "", "node_modules directory holding @tensorflow/tfjs")
		out := fs.String("out", "", "markdown section to write")
		nMob := fs.Int("mobilenet", 32, "images for mobilenet-v2 (224 px)")
		nMid := fs.Int("mobilenet-mid", 32, "images for mobilenet-v2-mid (224 px, graph model)")
		nInc := fs.Int("inception", 8, "images for inception-v3 (299 px)")
		nInc139 := fs.Int("inception139", 16, "images for inception-v3-139")
		machine := fs.String("machine", "", "machine description lines")
		py := fs.String("torch", "", "python3 with torch and torchvision: also time torchvision (optional)")
		fs.Parse(os.Args[2:])
		err = run(*mods, *out, *machine, *py, []job{
			{"mobilenet-v2", "mobilenet_v2", 224, *nMob},
			{"mobilenet-v2-mid", "mobilenet_v2_mid", 224, *nMid},
			{"inception-v3", "inception_v3", 299, *nInc},
			{"inception-v3-139", "inception_v3", 139, *nInc139},
		})
	case "go":
		fs := flag.NewFlagSet("go", flag.ExitOnError)
		name := fs.String("encoder", "mobilenet-v2", "image encoder")
		n := fs.Int("n", 16, "images")
		prof := fs.String("cpuprofile", "", "write a CPU profile of the warm pass")
		fs.Parse(os.Args[2:])
		err = goOnly(*name, *n, *prof)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "visionbench:", err)
		os.Exit(1)
	}
}

type job struct {
	encoder, dir string
	size, n      int
}

// slowerAtTwoThreads explains a PyTorch that runs slower on 2 threads
// than on 1 for the encoders named.
const slowerAtTwoThreads = `- PyTorch ran slower at 2 threads than at 1 for %s in this run. Its
  OpenMP workers spin at the barrier that ends each parallel op, so two
  threads lose when an op is too small to split (MobileNetV2 runs one
  image per pass) or when the 2 cores are oversubscribed (load average
  above nproc, see Machine) and a worker waits for a peer the kernel has
  descheduled, a time slice per op. Go's goroutines block instead of
  spinning (as do PyTorch's under OMP_WAIT_POLICY=PASSIVE, not set here:
  the figures are PyTorch's defaults). Read "Go / best PyTorch".`

// torchArch is the torchvision architecture of each nsfwjs model.
var torchArch = map[string]string{"mobilenet_v2": "mobilenet_v2", "mobilenet_v2_mid": "mobilenet_v2_140", "inception_v3": "inception_v3"}

type torchResult struct {
	Torch       string `json:"torch"`
	TorchVision string `json:"torchvision"`
	Dim         int    `json:"dim"`
	Threads     map[string]struct {
		S float64 `json:"s"`
	} `json:"threads"`
}

// timeTorch runs bench/ref_vision_torch.py on the same images, with the
// Go encoder's batch size.
func timeTorch(py string, j job, batch int, px []float32, work string) (torchResult, error) {
	in := filepath.Join(work, j.encoder+".torch.f32")
	if err := writeF32(in, px); err != nil {
		return torchResult{}, err
	}
	cmd := exec.Command(py, "bench/ref_vision_torch.py", torchArch[j.dir], in, strconv.Itoa(j.n), strconv.Itoa(j.size), strconv.Itoa(max(1, batch)))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		return torchResult{}, fmt.Errorf("%s: ref_vision_torch.py: %w", j.encoder, err)
	}
	var r torchResult
	if err := json.Unmarshal(stdout, &r); err != nil {
		return torchResult{}, fmt.Errorf("%s: torch output %q: %w", j.encoder, stdout, err)
	}
	return r, nil
}

// testImages returns the first n official test images of Fashion-MNIST as
// [n, 28, 28, 1] float32 in [0,1].
func testImages(ctx context.Context, n int) ([]float32, error) {
	ds, err := data.Load(ctx, "fashion-mnist", nil)
	if err != nil {
		return nil, err
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = 60000 + i // the test file follows the 60,000 training records
	}
	return ds.Pixels(idx)
}

type goResult struct {
	feats              []float32
	dim, batch         int
	node               string // feature node of a graph model
	coldSecs, warmSecs float64
}

// timeGo encodes the images twice with the named encoder: a cold pass
// (graph compilation included) and a timed warm pass.
func timeGo(ctx context.Context, name string, px []float32, n int, prof string) (goResult, error) {
	enc, err := encode.NewImage(ctx, name, os.Stderr)
	if err != nil {
		return goResult{}, err
	}
	imgs := encode.ImageBatch{Pixels: px, Shape: [4]int{n, 28, 28, 1}}
	if p := os.Getenv("VISIONBENCH_COLD_PROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return goResult{}, err
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	t0 := time.Now()
	cold, err := enc.EncodeImages(ctx, imgs, nil)
	if os.Getenv("VISIONBENCH_COLD_PROFILE") != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return goResult{}, err
	}
	coldSecs := time.Since(t0).Seconds()
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return goResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return goResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	t0 = time.Now()
	warm, err := enc.EncodeImages(ctx, imgs, nil)
	if err != nil {
		return goResult{}, err
	}
	warmSecs := time.Since(t0).Seconds()
	for i, v := range warm.Values {
		if v != cold.Values[i] {
			return goResult{}, fmt.Errorf("%s: warm pass differs from cold at %d: %g vs %g", name, i, v, cold.Values[i])
		}
	}
	batch, node := 0, ""
	switch c := enc.(type) {
	case *encode.CNN:
		batch = c.Batch()
	case *encode.GraphCNN:
		batch, node = c.Batch(), c.FeatureNode()
	}
	return goResult{feats: warm.Values, dim: warm.Cols, batch: batch, node: node, coldSecs: coldSecs, warmSecs: warmSecs}, nil
}

func goOnly(name string, n int, prof string) error {
	ctx := context.Background()
	px, err := testImages(ctx, n)
	if err != nil {
		return err
	}
	r, err := timeGo(ctx, name, px, n, prof)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d images, cold %.2fs, warm %.2fs = %.2f images/s\n", name, n, r.coldSecs, r.warmSecs, float64(n)/r.warmSecs)
	return nil
}

type jsResult struct {
	Dim     int     `json:"dim"`
	Seconds float64 `json:"seconds"`
	TFJS    string  `json:"tfjs"`
	Backend string  `json:"backend"`
}

// timeJS runs the TF.js reference on the raw 28×28 images: the parity
// test's encode/testdata/cnn_ref.js at the model's native size, this
// command's ref_resized.js (the same model with its input resized and the
// final pool taken as a global mean, as the Go encoder does) otherwise; for
// a graph model (node set) the parity test's cnn_mid_ref.js, which returns
// that node's output.
func timeJS(mods, modelDir string, j job, native int, node string, px []float32, work string) (jsResult, []float32, error) {
	in, out := filepath.Join(work, j.encoder+".in.f32"), filepath.Join(work, j.encoder+".out.f32")
	if err := writeF32(in, px); err != nil {
		return jsResult{}, nil, err
	}
	script := "encode/testdata/cnn_ref.js"
	if j.size != native {
		script = "bench/cmd/visionbench/ref_resized.js"
	}
	args := []string{script, modelDir, in, out, strconv.Itoa(j.n), strconv.Itoa(j.size), "28"}
	if node != "" {
		script = "encode/testdata/cnn_mid_ref.js"
		args = []string{script, modelDir, node, in, out, strconv.Itoa(j.n), strconv.Itoa(j.size), "28"}
	}
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		return jsResult{}, nil, fmt.Errorf("%s: node %s: %w", j.encoder, script, err)
	}
	var r jsResult
	if err := json.Unmarshal(stdout, &r); err != nil {
		return jsResult{}, nil, fmt.Errorf("%s: node output %q: %w", j.encoder, stdout, err)
	}
	feats, err := readF32(out)
	if err != nil {
		return jsResult{}, nil, err
	}
	if len(feats) != j.n*r.Dim {
		return jsResult{}, nil, fmt.Errorf("%s: node wrote %d values for %d images of dim %d", j.encoder, len(feats), j.n, r.Dim)
	}
	return r, feats, nil
}

func run(mods, out, machine, py string, jobs []job) error {
	if mods == "" || out == "" {
		return fmt.Errorf("-tfjs and -out are required")
	}
	ctx := context.Background()
	pkg, err := assets.Ensure(ctx, "nsfwjs", os.Stderr)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "visionbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	natives := map[string]int{"mobilenet_v2": 224, "mobilenet_v2_mid": 224, "inception_v3": 299}
	var rows, torchRows []string
	var node jsResult
	var tv torchResult
	var slowerAtTwo []string
	for _, j := range jobs {
		if j.n <= 0 {
			continue // skipped on request
		}
		px, err := testImages(ctx, j.n)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "== %s: %d images, Go\n", j.encoder, j.n)
		g, err := timeGo(ctx, j.encoder, px, j.n, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "== %s: %d images, TF.js\n", j.encoder, j.n)
		r, want, err := timeJS(mods, filepath.Join(pkg, "dist", "models", j.dir), j, natives[j.dir], g.node, px, work)
		if err != nil {
			return err
		}
		node = r
		if r.Dim != g.dim {
			return fmt.Errorf("%s: Go dim %d, TF.js dim %d", j.encoder, g.dim, r.Dim)
		}
		var maxDiff, maxRef float64
		for i, w := range want {
			maxDiff = math.Max(maxDiff, math.Abs(float64(g.feats[i]-w)))
			maxRef = math.Max(maxRef, math.Abs(float64(w)))
		}
		goRate, jsRate := float64(j.n)/g.warmSecs, float64(j.n)/r.Seconds
		row := fmt.Sprintf("| %s (%d-d) | %d px | %d | %d | %.2f | %.2f | %.2f | %.1f× | %.2e |",
			j.encoder, g.dim, j.size, j.n, g.batch, goRate, g.coldSecs, jsRate, goRate/jsRate, maxDiff/maxRef)
		fmt.Fprintln(os.Stderr, row)
		rows = append(rows, row)
		if py != "" {
			fmt.Fprintf(os.Stderr, "== %s: %d images, torchvision\n", j.encoder, j.n)
			if tv, err = timeTorch(py, j, g.batch, px, work); err != nil {
				return err
			}
			if tv.Dim != g.dim {
				return fmt.Errorf("%s: Go dim %d, torchvision dim %d", j.encoder, g.dim, tv.Dim)
			}
			one, two := float64(j.n)/tv.Threads["1"].S, float64(j.n)/tv.Threads["2"].S
			if two < one {
				slowerAtTwo = append(slowerAtTwo, j.encoder)
			}
			row := fmt.Sprintf("| %s (%d-d) | %d px | %d | %d | %.2f | %.2f | %.2f | %.2f× | %.2f× |",
				j.encoder, g.dim, j.size, j.n, max(1, g.batch), goRate, one, two, goRate/two, goRate/math.Max(one, two))
			fmt.Fprintln(os.Stderr, row)
			torchRows = append(torchRows, row)
		}
	}
	torchSection := ""
	if len(slowerAtTwo) > 0 {
		torchRows = append(torchRows, "", fmt.Sprintf(slowerAtTwoThreads, strings.Join(slowerAtTwo, ", ")))
	}
	if len(torchRows) > 0 {
		torchSection = fmt.Sprintf(`
### Against torchvision

The same architectures in torchvision %s on PyTorch %s CPU (Debian
python3-torchvision; `+"`bench/ref_vision_torch.py`"+`): MobileNetV2
(width 1.4 for mobilenet-v2-mid) and InceptionV3 up to their pooled
features, on the same images at the same input size and the Go encoder's
batch size, the 28→S bilinear resize timed as on the Go side, under
`+"`torch.inference_mode()`"+`, at `+"`torch.set_num_threads(1)`"+` and `+"`(2)`"+` (a
warm-up batch, then the best of two passes). torchvision's weights are its
random initialisation (no model hub is reachable from this machine; a
dense float32 network runs at the same speed whatever its weights), so
there is no feature parity column; its networks are the float32 originals
(BatchNorm as separate layers), Go's are the nsfwjs ones above. Ratios are
Go images/s over PyTorch's: above 1.0× Go is faster.

| encoder | input | images | batch | Go images/s | PyTorch 1 thread | PyTorch 2 threads | Go / PyTorch 2 threads | Go / best PyTorch |
|---|---|---|---|---|---|---|---|---|
%s
`, tv.TorchVision, tv.Torch, strings.Join(torchRows, "\n"))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `## Vision (CNN feature extraction)

Pretrained nsfwjs@4.4.0 CNNs (TF.js layers models, uint8-quantised) as
frozen feature extractors (layer `+"`flatten_1`"+`; for the graph model
mobilenet-v2-mid its pooled feature node): Go (package `+"`tfjs`"+` layers and
graph interpreters on GoMLX, pure-Go backend: a graph's independent ops at once
while it runs alone, one at a time beside another; BatchNorm and
ReLU folded into the convolutions, %d batches in flight on as many goroutines)
against pure-JavaScript TF.js %s (`+"`@tensorflow/tfjs`"+`, %s backend, node
%s) on the same real Fashion-MNIST images (the first N of the official
test file), same machine, same run. Written by `+"`bench/vision.sh`"+`
(`+"`make bench`"+`). Go images/s is a warm pass (graph compiled by a cold
pass over the same images, whose wall time is also shown) and includes
the 28→S bilinear resize; TF.js runs after a one-image warm-up, with
`+"`predict(batchSize: 16)`"+`, resize excluded. The last column compares the
features the two engines produced for these images.

| encoder | input | images | Go batch | Go images/s | Go cold pass s | TF.js images/s | Go/JS | max abs diff / max abs ref |
|---|---|---|---|---|---|---|---|---|
%s

- inception-v3-139 is InceptionV3 at 139 px with the final 8×8 average
  pool taken as a global average over the 3×3 map (4.6× fewer FLOPs than
  299 px); TF.js runs the same model rebuilt with a 139 px input and the
  global mean (`+"`bench/cmd/visionbench/ref_resized.js`"+`).
- mobilenet-v2-mid is MobileNetV2 with width 1.4, a TF.js graph model
  (fused convolutions; BatchNorm already folded by the converter), run by
  `+"`tfjs.GraphProgram`"+` without the layers interpreter's depthwise tiling.
- Go batch: MobileNetV2 runs one image per pass so that its depthwise
  weights can be tiled to the full feature map (same-shape products are
  ~2.5× cheaper than broadcasting ones on the pure-Go backend); InceptionV3
  runs 16.
- Sample sizes are small to keep the script under ~8 minutes, and the
  machine may be shared (see the load averages): read the rates as rough
  figures, the ratios as sturdier.
%s
Machine:
%s
- load average at the end: %s
`, cnnWorkers(), node.TFJS, node.Backend, nodeVersion(), strings.Join(rows, "\n"), torchSection, machine, loadAvg())
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// cnnWorkers mirrors encode's default (the environment override included)
// for the write-up.
func cnnWorkers() int {
	if v, err := strconv.Atoi(os.Getenv("SUPERALIGN_CNN_WORKERS")); err == nil && v > 0 {
		return v
	}
	return min(runtime.GOMAXPROCS(0), 4)
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ") + " (shared machine: timings are noisy)"
}

func writeF32(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return os.WriteFile(path, b, 0o644)
}

func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes, not a float32 array", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
