package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
)

func cmdRun(ctx context.Context, args []string) error {
	def := experiment.DefaultSpec()
	fs := newFlags("run", "--data NAME|PATH[,...] --weak ENC[:HEAD] --strong ENC[:HEAD] --method M[,M...] --seeds N --out DIR")
	dataFlag := fs.String("data", strings.Join(def.Datasets, ","), "datasets: built-in names or JSONL/CSV/Parquet paths, comma-separated")
	weak := fs.String("weak", def.Weak, "weak supervisor ENC[:HEAD] (heads: linear, mlp)")
	strong := fs.String("strong", def.Strong, "strong student ENC[:HEAD]")
	methods := fs.String("method", strings.Join(def.Methods, ","), "methods, comma-separated, or 'all' (see w2s methods)")
	seeds := fs.Int("seeds", def.Seeds, "number of seeds")
	seedBase := fs.Int64("seed-base", def.SeedBase, "first seed")
	limit := fs.Int("limit", 0, "use at most N examples per dataset after balancing (0: all)")
	epochs := fs.Int("epochs", 0, "override the heads' default epochs (0: defaults)")
	ftEpochs := fs.Int("ft-epochs", 0, "use-lite-ft: fine-tuning epochs of the ceiling and students (0: default)")
	ftLR := fs.Float64("ft-lr", 0, "use-lite-ft: Adam learning rate of the transformer (0: default)")
	gap := fs.Float64("gap-threshold", def.GapThreshold, "report \"no gap\" instead of a PGR when ceiling − floor is below this")
	out := fs.String("out", "runs/latest", "output directory (results.jsonl, summary.json, report.html)")
	config := fs.String("config", "", "YAML file with the same keys (data, weak, strong, method, seeds, limit, ...); flags given explicitly override it")
	quiet := fs.Bool("quiet", false, "only print the final table")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	spec := def
	if *config != "" {
		if err := experiment.LoadSpecFile(*config, &spec); err != nil {
			return usageError{err}
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["data"] || *config == "" {
		spec.Datasets = splitList(*dataFlag)
	}
	if set["weak"] || *config == "" {
		spec.Weak = *weak
	}
	if set["strong"] || *config == "" {
		spec.Strong = *strong
	}
	if set["method"] || *config == "" {
		spec.Methods = splitMethods(*methods)
	}
	if set["seeds"] || *config == "" {
		spec.Seeds = *seeds
	}
	if set["seed-base"] {
		spec.SeedBase = *seedBase
	}
	if set["limit"] {
		spec.Limit = *limit
	}
	if set["epochs"] {
		spec.Epochs = *epochs
	}
	if set["ft-epochs"] {
		spec.FTEpochs = *ftEpochs
	}
	if set["ft-lr"] {
		spec.FTLR = *ftLR
	}
	if set["gap-threshold"] {
		spec.GapThreshold = *gap
	}
	if len(spec.Methods) == 1 && spec.Methods[0] == "all" {
		spec.Methods = method.Names()
	}
	if err := spec.Validate(); err != nil {
		return usageError{err}
	}

	var log io.Writer = os.Stderr
	if *quiet {
		log = io.Discard
	}
	// Every input and the output directory are checked before any work: a
	// bad last file or an unwritable --out must not surface after the first
	// datasets were computed. The lock keeps a second run out of --out.
	if _, err := data.CheckInputs(ctx, spec.Datasets, log); err != nil {
		return err
	}
	lock, err := store.BeginRun(*out, "w2s run "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	defer lock.Release()
	runner := &experiment.Runner{
		Cache: &encode.Cache{},
		Out:   store.RunDir{Dir: *out},
		Log:   log,
	}
	start := time.Now()
	rows, sums, err := runner.Run(ctx, spec)
	if err != nil {
		return err
	}
	meta := report.Meta{
		Title:   "superalign: " + strings.Join(spec.Datasets, ", ") + " — " + spec.Weak + " → " + spec.Strong,
		Command: "w2s run " + strings.Join(args, " "),
		Version: experiment.Version,
		Created: time.Now().UTC(),
	}
	page, _, err := report.SweepPage(meta, rows, spec.SeedBase, "")
	if err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	if err := runner.Out.WriteResults(rows, sums, store.File{Name: "report.html", Data: page}); err != nil {
		return err
	}
	if err := lock.Finish(); err != nil {
		return err
	}
	printSummaries(os.Stdout, sums)
	printComparisons(os.Stdout, eval.CompareMethods(rows, report.Baseline(rows), spec.SeedBase))
	fmt.Printf("\n%d rows in %.1fs; wrote %s, %s, %s\n", len(rows), time.Since(start).Seconds(),
		filepath.Join(*out, "results.jsonl"), filepath.Join(*out, "summary.json"), filepath.Join(*out, "report.html"))
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitMethods splits a --method list. Commas also separate a method's
// parameters (logconf:coef=0.5,schedule=linear), so a piece of the form
// key=value with no colon continues the previous method.
func splitMethods(s string) []string {
	var out []string
	for _, p := range splitList(s) {
		if len(out) > 0 && strings.Contains(p, "=") && !strings.Contains(p, ":") {
			out[len(out)-1] += "," + p
			continue
		}
		out = append(out, p)
	}
	return out
}

// printSummaries prints the results table: every PGR with its 95% CI across
// seeds, or "no gap" when the ceiling does not clear the floor.
func printSummaries(w io.Writer, sums []store.Summary) {
	tw := tabwriterFor(w)
	fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tMETHOD\tSEEDS\tFLOOR\tCEILING\tW2S\tPGR [95% CI]")
	for _, s := range sums {
		pgr := fmt.Sprintf("no gap (%d/%d seeds)", s.NSeedsNoGap, s.NSeeds)
		if s.NoGap {
			pgr = fmt.Sprintf("no gap (mean ceiling − floor %+.3f)", s.CeilingAccMean-s.FloorAccMean)
		}
		if s.PGRMean != nil {
			pgr = fmt.Sprintf("%.3f [%.3f, %.3f]", *s.PGRMean, *s.PGRCILow, *s.PGRCIHigh)
			if s.NSeedsNoGap > 0 {
				pgr += fmt.Sprintf(" (%d no-gap seeds left out)", s.NSeedsNoGap)
			}
		}
		fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.Dataset, s.Weak, s.Strong, s.Method, s.NSeeds,
			ci(s.FloorAccMean, s.FloorAccCILow, s.FloorAccCIHigh),
			ci(s.CeilingAccMean, s.CeilingAccCILow, s.CeilingAccCIHigh),
			ci(s.W2SAccMean, s.W2SAccCILow, s.W2SAccCIHigh), pgr)
	}
	tw.Flush()
}

func ci(mean, lo, hi float64) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", mean, lo, hi) }

func cmdReport(ctx context.Context, args []string) error {
	fs := newFlags("report", reportUsage)
	baseline := fs.String("baseline", "", "method the comparison table is relative to (default: naive when present, else the first method)")
	out := fs.String("out", "", "HTML file to write (default: DIR/report.html for one DIR, ./report.html for several)")
	png := fs.Bool("png", false, "also write the plots as PNG files (pgr.png, accuracy.png, gap.png) next to the page")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{fmt.Errorf("give at least one run directory")}
	}
	wrote, sums, err := reportRuns(fs.Args(), *out, *baseline, *png, "w2s report "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	printSummaries(os.Stdout, sums)
	fmt.Printf("\nwrote %s\n", strings.Join(wrote, ", "))
	return nil
}

func tabwriterFor(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// printComparisons prints each method's paired PGR difference from the
// baseline per dataset (bootstrap CI over seeds) and, across datasets, the
// mean difference with the Wilcoxon signed-rank test. Nothing when one
// method ran.
func printComparisons(w io.Writer, comps []eval.Comparison) {
	if len(comps) == 0 {
		return
	}
	num := func(f string, x float64) string {
		if math.IsNaN(x) {
			return "–"
		}
		return fmt.Sprintf(f, x)
	}
	fmt.Fprintf(w, "\nPaired PGR difference from %s (positive: better than %s)\n", comps[0].Baseline, comps[0].Baseline)
	tw := tabwriterFor(w)
	fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tMETHOD\tN\tΔPGR [95% CI]\tWILCOXON p")
	for _, c := range comps {
		// No pairs (every seed "no gap"), or a pooled row over one dataset,
		// carry no comparison: leave them out rather than print a point CI.
		if c.N == 0 || (c.AcrossDatasets && c.N < 2) {
			continue
		}
		ds := c.Dataset
		if c.AcrossDatasets {
			ds = "all datasets"
		}
		fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%d\t%s [%s, %s]\t%s\n", ds, c.Weak, c.Strong, c.Method, c.N,
			num("%+.3f", c.MeanDiff), num("%+.3f", c.CILow), num("%+.3f", c.CIHigh), num("%.3f", c.WilcoxonP))
	}
	tw.Flush()
}
