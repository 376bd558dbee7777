// Command knnbench benchmarks package knn (exact kNN graph, label
// spreading) against scikit-learn's NearestNeighbors and LabelSpreading on
// the same features; bench/knn.sh drives it.
//
//	knnbench features -out DIR [-data fashion-mnist] [-n 20000] [-seed 1]
//	    writes DIR/features.npy float32 [n, D] and DIR/labels.npy int32 [n]:
//	    the raw pixels (D = 784) of n examples of a built-in image set
//	    (drawn at random, seeded), real data.
//	knnbench synthetic -out DIR [-n 20000] [-d 512] [-k 10] [-seed 1]
//	    the same files for a synthetic Gaussian mixture of k classes
//	    (clearly labelled synthetic in the report).
//	knnbench run -work DIR [-k 10] [-labelled 0.1] [-alpha 0.2] [-repeat 3]
//	    builds the L2 kNN graph of DIR/features.npy (median of -repeat
//	    timings) and the cosine one, and runs label spreading from a seeded
//	    labelled fraction; writes DIR/go_neighbors.npy int32 [n, k],
//	    DIR/go_neighbors_cos.npy int32 [n, k], DIR/go_spread.npy float32
//	    [n, C], DIR/seeds.npy int32 [n] (−1 unlabelled) and DIR/go.json.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/superalign/superalign/bench"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/knn"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: knnbench features|synthetic|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "features":
		err = features(os.Args[2:])
	case "synthetic":
		err = synthetic(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "knnbench:", err)
		os.Exit(1)
	}
}

func features(args []string) error {
	fs := flag.NewFlagSet("features", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	name := fs.String("data", "fashion-mnist", "built-in image dataset")
	n := fs.Int("n", 20000, "examples")
	seed := fs.Int64("seed", 1, "sampling seed")
	fs.Parse(args)
	ds, err := data.LoadBuiltin(context.Background(), *name, os.Stderr)
	if err != nil {
		return err
	}
	idx := rand.New(rand.NewPCG(uint64(*seed), 1)).Perm(len(ds.Examples))[:min(*n, len(ds.Examples))]
	slices.Sort(idx)
	px, err := ds.Pixels(idx)
	if err != nil {
		return fmt.Errorf("%s: %w", *name, err)
	}
	d := len(px) / len(idx)
	labels := make([]int32, len(idx))
	for r, i := range idx {
		labels[r] = int32(ds.Examples[i].Label)
	}
	return write(*out, px, labels, len(idx), d)
}

func synthetic(args []string) error {
	fs := flag.NewFlagSet("synthetic", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	n := fs.Int("n", 20000, "rows")
	d := fs.Int("d", 512, "columns")
	k := fs.Int("k", 10, "classes")
	seed := fs.Int64("seed", 1, "seed")
	fs.Parse(args)
	rng := rand.New(rand.NewPCG(uint64(*seed), 2))
	centres := make([]float32, *k**d)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, *n**d)
	labels := make([]int32, *n)
	for i := range *n {
		c := rng.IntN(*k)
		labels[i] = int32(c)
		for j := range *d {
			x[i**d+j] = centres[c**d+j] + 2*float32(rng.NormFloat64())
		}
	}
	return write(*out, x, labels, *n, *d)
}

func write(dir string, x []float32, labels []int32, n, d int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := bench.WriteNPYFloat32(filepath.Join(dir, "features.npy"), x, n, d); err != nil {
		return err
	}
	return bench.WriteNPYInt32(filepath.Join(dir, "labels.npy"), labels, n)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	work := fs.String("work", "", "work directory")
	k := fs.Int("k", 10, "neighbours")
	labelled := fs.Float64("labelled", 0.1, "fraction of points given their label as a seed")
	alpha := fs.Float64("alpha", 0.2, "spreading alpha (scikit-learn's default)")
	repeat := fs.Int("repeat", 3, "timed repetitions")
	seed := fs.Int64("seed", 1, "seed for the labelled points")
	fs.Parse(args)

	vals, dims, err := bench.ReadNPYFloat32(filepath.Join(*work, "features.npy"))
	if err != nil {
		return err
	}
	lab, _, err := bench.ReadNPYInt(filepath.Join(*work, "labels.npy"))
	if err != nil {
		return err
	}
	x := data.Matrix{Rows: dims[0], Cols: dims[1], Values: vals}
	n := x.Rows
	classes := slices.Max(lab) + 1

	var g *knn.Graph
	var buildS []float64
	for range *repeat {
		t0 := time.Now()
		if g, err = knn.Build(x, *k, knn.L2); err != nil {
			return err
		}
		buildS = append(buildS, time.Since(t0).Seconds())
		fmt.Fprintf(os.Stderr, "knn.Build %d×%d k=%d: %.3fs\n", n, x.Cols, *k, buildS[len(buildS)-1])
	}

	// The cosine graph too: FAISS's IndexFlatIP on unit rows (the kNN
	// reference the issue names) answers the cosine question, not the L2 one.
	var gCos *knn.Graph
	var cosS []float64
	for range *repeat {
		t0 := time.Now()
		if gCos, err = knn.Build(x, *k, knn.Cosine); err != nil {
			return err
		}
		cosS = append(cosS, time.Since(t0).Seconds())
		fmt.Fprintf(os.Stderr, "knn.Build cosine %d×%d k=%d: %.3fs\n", n, x.Cols, *k, cosS[len(cosS)-1])
	}
	if err := bench.WriteNPYInt32(filepath.Join(*work, "go_neighbors_cos.npy"), gCos.Index, n, *k); err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(uint64(*seed), 3))
	seeds := make([]int32, n)
	y := data.NewMatrix(n, classes)
	for i := range seeds {
		seeds[i] = -1
		if rng.Float64() < *labelled {
			seeds[i] = int32(lab[i])
			y.Set(i, lab[i], 1)
		}
	}
	var spreadS []float64
	var f data.Matrix
	iters := 0
	for range *repeat {
		t0 := time.Now()
		s := knn.NewAffinity(g)
		if f, iters, err = knn.Spread(s, y, knn.SpreadConfig{Alpha: *alpha, Tol: 1e-7}); err != nil {
			return err
		}
		spreadS = append(spreadS, time.Since(t0).Seconds())
	}
	fmt.Fprintf(os.Stderr, "knn.Spread: %.3fs (%d iterations)\n", median(spreadS), iters)
	acc := 0
	for i, c := range f.Argmax() {
		if seeds[i] < 0 && c == lab[i] {
			acc++
		}
	}
	unl := 0
	for _, s := range seeds {
		if s < 0 {
			unl++
		}
	}

	if err := bench.WriteNPYInt32(filepath.Join(*work, "go_neighbors.npy"), g.Index, n, *k); err != nil {
		return err
	}
	if err := bench.WriteNPYFloat32(filepath.Join(*work, "go_spread.npy"), f.Values, n, classes); err != nil {
		return err
	}
	if err := bench.WriteNPYInt32(filepath.Join(*work, "seeds.npy"), seeds, n); err != nil {
		return err
	}
	res := map[string]any{
		"n": n, "d": x.Cols, "k": *k, "alpha": *alpha, "labelled": *labelled, "classes": classes,
		"threads": runtime.GOMAXPROCS(0),
		"build_s": median(buildS), "build_runs": buildS,
		"build_cos_s": median(cosS), "build_cos_runs": cosS,
		"spread_s": median(spreadS), "spread_runs": spreadS, "spread_iters": iters,
		"spread_acc": float64(acc) / float64(unl),
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	return os.WriteFile(filepath.Join(*work, "go.json"), b, 0o644)
}
