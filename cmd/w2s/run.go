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
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

func cmdRun(ctx context.Context, args []string) error {
	def := experiment.DefaultSpec()
	fs := newFlags("run", "--data NAME|PATH[,...] --weak ENC[:HEAD] --strong ENC[:HEAD]|ENC-ft --method M[,M...] --seeds N --out DIR")
	flags := defineRunFlags(fs, def)
	out := fs.String("out", "runs/latest", "output directory (results.jsonl, summary.json, report.html)")
	quiet := fs.Bool("quiet", false, "only print the final table")
	dry := fs.Bool("dry-run", false, "check the settings and the dataset files, print what would run; run nothing")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	spec, err := flags.spec(fs, def)
	if err != nil {
		return usageError{err}
	}
	if err := expandMethods(&spec); err != nil {
		return usageError{err}
	}
	if err := spec.Validate(); err != nil {
		return usageError{err}
	}
	if *dry {
		return dryRun(ctx, os.Stdout, spec)
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
	if err := data.CheckTask(spec.Datasets, spec.Task); err != nil {
		return err
	}
	lock, err := store.BeginRun(*out, "w2s run "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	defer lock.Release()
	runner := &experiment.Runner{
		Cache: &featcache.Cache{},
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
	opt := eval.Options{Seed: spec.SeedBase, GapThreshold: spec.GapThreshold}
	page, _, comps, err := report.SweepPage(meta, rows, opt, "")
	if err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	files := []store.File{{Name: "report.html", Data: page}}
	wrote := []string{filepath.Join(*out, "results.jsonl"), filepath.Join(*out, "summary.json"), filepath.Join(*out, "report.html")}
	if len(comps) > 0 {
		f, err := store.JSONFile("comparisons.json", comparisonReport(rows, comps, report.Baseline(rows), opt))
		if err != nil {
			return err
		}
		files = append(files, f)
		wrote = append(wrote, filepath.Join(*out, "comparisons.json"))
	}
	if err := runner.Out.WriteResults(rows, sums, files...); err != nil {
		return err
	}
	if err := lock.Finish(); err != nil {
		return err
	}
	printSummaries(os.Stdout, sums)
	printPreference(os.Stdout, sums)
	printComparisons(os.Stdout, comps)
	if rep := comparisonReport(rows, comps, report.Baseline(rows), opt); len(rep.Controls) > 0 || len(rep.Verdicts) > 0 {
		printControls(os.Stdout, rep)
	}
	fmt.Printf("\n%d rows in %.1fs; wrote %s\n", len(rows), time.Since(start).Seconds(), strings.Join(wrote, ", "))
	return nil
}

// runFlags are the flags of w2s run that set its Spec.
type runFlags struct {
	data, weak, strong, methods, balance, pgrMetric, config, task *string
	seeds, limit, epochs, ftEpochs                                *int
	seedBase                                                      *int64
	ftLR, gap                                                     *float64
}

func defineRunFlags(fs *flag.FlagSet, def experiment.Spec) runFlags {
	return runFlags{
		data:      fs.String("data", strings.Join(def.Datasets, ","), "datasets: built-in names or JSONL/CSV/Parquet paths, comma-separated"),
		weak:      fs.String("weak", def.Weak, "weak supervisor ENC[:HEAD] (heads: linear, mlp)"),
		strong:    fs.String("strong", def.Strong, "strong student: ENC[:HEAD] (a probe on the frozen encoder) or ENC-ft (fine-tuned end to end: use-lite-ft, onnx-ft:DIR; use-lite-ft-top1: only the top layer)"),
		methods:   fs.String("method", strings.Join(def.Methods, ","), "methods, comma-separated, or 'all' (see w2s methods)"),
		seeds:     fs.Int("seeds", def.Seeds, "number of seeds"),
		seedBase:  fs.Int64("seed-base", def.SeedBase, "first seed"),
		limit:     fs.Int("limit", 0, "use at most N examples per dataset after balancing (0: all)"),
		balance:   fs.String("balance", data.BalanceUndersample, "binary datasets' class mix: undersample (the majority, to the minority's count), none (keep the natural mix; splits are stratified) or weight (keep it and weight every model's loss by inverse class frequency)"),
		pgrMetric: fs.String("pgr-metric", string(eval.MetricAccuracy), "test metric floor, ceiling, w2s and PGR are computed on: accuracy, auroc (K > 2: macro one-vs-rest), balanced-accuracy or macro-f1 (accuracy is reported alongside)"),
		epochs:    fs.Int("epochs", 0, "override the probes' default epochs (0: defaults)"),
		ftEpochs:  fs.Int("ft-epochs", 0, "fine-tuned (ENC-ft) strong student: epochs of the ceiling and every student (0: default)"),
		ftLR:      fs.Float64("ft-lr", 0, "fine-tuned (ENC-ft) strong student: learning rate of the pretrained weights (0: default)"),
		gap:       fs.Float64("gap-threshold", def.GapThreshold, "report \"no gap\" instead of a PGR when ceiling − floor is below this"),
		task:      fs.String("task", "", "preference: every --data entry must be preference pairs (reward models; see README, Preference data), classification: none may be; empty: each dataset's own kind"),
		config:    fs.String("config", "", "YAML file with the same keys (data, weak, strong, method, seeds, limit, ...); flags given explicitly override it"),
	}
}

// spec is the run's Spec: the defaults, or the config file when one is
// given, with every flag given explicitly on top.
func (f runFlags) spec(fs *flag.FlagSet, def experiment.Spec) (experiment.Spec, error) {
	spec := def
	if *f.config != "" {
		if err := experiment.LoadSpecFile(*f.config, &spec); err != nil {
			return spec, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	// data, weak, strong, method and seeds come from the flags whenever
	// there is no config file (their defaults are the Spec's); the rest only
	// when given.
	noConfig := *f.config == ""
	for _, o := range []struct {
		flag   string
		always bool
		apply  func()
	}{
		{"data", true, func() { spec.Datasets = splitList(*f.data) }},
		{"weak", true, func() { spec.Weak = *f.weak }},
		{"strong", true, func() { spec.Strong = *f.strong }},
		{"method", true, func() { spec.Methods = splitMethods(*f.methods) }},
		{"seeds", true, func() { spec.Seeds = *f.seeds }},
		{"seed-base", false, func() { spec.SeedBase = *f.seedBase }},
		{"limit", false, func() { spec.Limit = *f.limit }},
		{"balance", false, func() { spec.Balance = *f.balance }},
		{"pgr-metric", false, func() { spec.PGRMetric = *f.pgrMetric }},
		{"epochs", false, func() { spec.Epochs = *f.epochs }},
		{"ft-epochs", false, func() { spec.FTEpochs = *f.ftEpochs }},
		{"ft-lr", false, func() { spec.FTLR = *f.ftLR }},
		{"gap-threshold", false, func() { spec.GapThreshold = *f.gap }},
		{"task", false, func() { spec.Task = *f.task }},
	} {
		if set[o.flag] || (o.always && noConfig) {
			o.apply()
		}
	}
	return spec, nil
}

// expandMethods turns "all" into every method but those kept out of it
// (kl: naive up to a constant), the controls and the A/A null included (a
// method that refuses a dataset is left out of it with a note), and adds
// the baseline and gold-matched controls of the methods that draw gold.
func expandMethods(spec *experiment.Spec) error {
	if len(spec.Methods) == 1 && spec.Methods[0] == "all" {
		spec.Methods = method.AllNames()
		spec.SkipInapplicable = true
	}
	withControls, added, err := method.WithControls(spec.Methods)
	if err != nil {
		return err
	}
	if len(added) > 0 {
		fmt.Fprintf(os.Stderr, "adding the baseline and gold-matched controls of the methods that draw gold: %s\n", strings.Join(added, ", "))
		spec.Methods = withControls
	}
	return nil
}

// dryRun prints what a run of spec would compute, after reading every
// dataset file in full (built-in datasets are named, not fetched).
func dryRun(ctx context.Context, w io.Writer, spec experiment.Spec) error {
	var files []string
	for _, d := range spec.Datasets {
		if !data.IsBuiltin(d) {
			files = append(files, d)
		}
	}
	if _, err := data.CheckInputs(ctx, files, nil); err != nil {
		return err
	}
	if err := data.CheckTask(spec.Datasets, spec.Task); err != nil {
		return err
	}
	fmt.Fprintf(w, "datasets: %s\npair: %s → %s\nmethods: %s\nseeds: %d from %d\n",
		strings.Join(spec.Datasets, ", "), spec.Weak, spec.Strong, strings.Join(spec.Methods, ", "), spec.Seeds, spec.SeedBase)
	fmt.Fprintf(w, "%d cells (datasets × methods × seeds); nothing run\n", len(spec.Datasets)*len(spec.Methods)*spec.Seeds)
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

// goldNote is a GOLD cell: train_weak labels read and what they were
// paired with ("100 strong", "600 weak"), "–" for none.
func goldNote(used int, features string) string {
	if used == 0 {
		return "–"
	}
	return fmt.Sprintf("%d %s", used, features)
}

// comparisonReport is comparisons.json: the comparisons with the baseline,
// the A/A tallies, the comparisons with the gold-matched controls and the
// verdicts of both.
func comparisonReport(rows []store.Row, comps []eval.Comparison, baseline string, opt eval.Options) eval.ComparisonReport {
	rep := eval.NewComparisonReport(comps, baseline, opt)
	rep.Controls = eval.CompareControls(rows, opt)
	rep.Verdicts = eval.Verdicts(rows, comps, rep.Controls)
	return rep
}

// printControls prints the gold-drawing methods' paired Δaccuracy from
// their gold-matched controls (Holm over the control comparisons of each
// table), then which methods beat naive and, where they drew gold, every
// control at their budget, after correction.
func printControls(w io.Writer, rep eval.ComparisonReport) {
	num := func(f string, x float64) string {
		if math.IsNaN(x) {
			return "–"
		}
		return fmt.Sprintf(f, x)
	}
	if len(rep.Controls) > 0 {
		fmt.Fprintf(w, "\nPaired Δ%s from the gold-matched controls (same B train_weak gold labels; positive: better than the control); Holm over the control comparisons of each table\n", rep.Controls[0].PGRMetric.Label())
		tw := tabwriterFor(w)
		fmt.Fprintf(tw, "DATASET\tWEAK → STRONG\tMETHOD\tCONTROL\tN\tΔ%s [95%% t-CI]\tp\tp HOLM (m)\n", strings.ToUpper(rep.Controls[0].PGRMetric.Label()))
		for _, c := range rep.Controls {
			if c.N == 0 {
				continue
			}
			ds, n := c.Dataset, fmt.Sprint(c.N)
			if c.AcrossDatasets {
				ds, n = "all datasets", fmt.Sprintf("%d (%d datasets)", c.N, c.NDatasets)
			}
			fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%s\t%s\t%s [%s, %s]\t%s\t%s (%d)\n", ds, c.Weak, c.Strong, c.Method, c.Baseline, n,
				num("%+.3f", c.DeltaScore), num("%+.3f", c.DeltaScoreCILow), num("%+.3f", c.DeltaScoreCIHigh), num("%.4f", c.P), num("%.4f", c.PHolm), c.HolmFamily)
		}
		tw.Flush()
	}
	var honest []string
	for _, v := range rep.Verdicts {
		if !v.BeatsNaive || !v.BeatsControls {
			continue
		}
		ds := v.Dataset
		if ds == "" {
			ds = "all datasets"
		}
		what := "no gold drawn"
		if v.GoldStrong > 0 {
			what = fmt.Sprintf("and %s at B = %d", strings.Join(v.Controls, ", "), v.GoldStrong)
		}
		honest = append(honest, fmt.Sprintf("%s %s (%s)", ds, v.Method, what))
	}
	fmt.Fprintf(w, "\nBeats naive after Holm (p ≤ %.2f)%s: ", eval.Alpha, " and, where it drew gold, every gold-matched control")
	if len(honest) == 0 {
		fmt.Fprintln(w, "none")
		return
	}
	fmt.Fprintln(w, strings.Join(honest, "; "))
}

// printSummaries prints the results table, one per balancing mode and PGR
// metric (a line before each says which): floor, ceiling and w2s with 95%
// t-intervals across seeds, the weak–strong gap, the ratio-of-means PGR
// with its seed-bootstrap CI or "no gap" with the reason (the gap's lower
// bound against the threshold), and the weak labels' calibration error;
// on another metric than accuracy the accuracies follow. Then each
// dataset's class mix per split.
func printSummaries(w io.Writer, sums []store.Summary) {
	type setting struct{ balance, metric string }
	var order []setting
	groups := map[setting][]store.Summary{}
	for _, s := range sums {
		k := setting{s.Balance, s.PGRMetric}
		if k.balance == "" {
			k.balance = data.BalanceUndersample
		}
		if k.metric == "" {
			k.metric = string(eval.MetricAccuracy)
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	for gi, k := range order {
		if gi > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", report.SettingNote(k.balance, k.metric))
		onAccuracy := k.metric == string(eval.MetricAccuracy)
		label := strings.ToUpper(eval.Metric(k.metric).Label())
		tw := tabwriterFor(w)
		head := "DATASET\tWEAK → STRONG\tMETHOD\tGOLD\tSEEDS\tFLOOR\tCEILING\tW2S\tGAP\tPGR [95% CI]\tWEAK ECE"
		if !onAccuracy {
			head = fmt.Sprintf("DATASET\tWEAK → STRONG\tMETHOD\tGOLD\tSEEDS\tFLOOR %[1]s\tCEILING %[1]s\tW2S %[1]s\tGAP\tPGR ON %[1]s [95%% CI]\tWEAK ECE\tACCURACY FLOOR/CEILING/W2S", label)
		}
		fmt.Fprintln(tw, head)
		for _, s := range groups[k] {
			pgr := "no gap (" + report.GapNote(s) + ")"
			if s.PGRMean != nil {
				pgr = fmt.Sprintf("%.3f %s", *s.PGRMean, ciPtr(s.PGRCILow, s.PGRCIHigh))
			}
			ece := "–"
			if s.WeakECEMean != nil {
				ece = fmt.Sprintf("%.3f", *s.WeakECEMean)
				if s.TrainedECEMean != nil && s.WeakTemperatureMean != nil {
					ece += fmt.Sprintf(" → %.3f (T %.2f)", *s.TrainedECEMean, *s.WeakTemperatureMean)
				}
			}
			floor, ceiling, w2s := ci(s.FloorAccMean, s.FloorAccCILow, s.FloorAccCIHigh), ci(s.CeilingAccMean, s.CeilingAccCILow, s.CeilingAccCIHigh), ci(s.W2SAccMean, s.W2SAccCILow, s.W2SAccCIHigh)
			extra := ""
			if !onAccuracy {
				extra = fmt.Sprintf("\t%.3f/%.3f/%.3f", s.FloorAccMean, s.CeilingAccMean, s.W2SAccMean)
				floor, ceiling, w2s = ci(s.FloorScoreMean, s.FloorScoreCILow, s.FloorScoreCIHigh), ci(s.CeilingScoreMean, s.CeilingScoreCILow, s.CeilingScoreCIHigh), ci(s.W2SScoreMean, s.W2SScoreCILow, s.W2SScoreCIHigh)
			}
			fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s%s\n", s.Dataset, s.Weak, s.Strong, s.Method, goldNote(s.GoldUsed, s.GoldFeatures), s.NSeeds,
				floor, ceiling, w2s, fmt.Sprintf("%.3f %s", s.GapMean, ciPtr(s.GapCILow, s.GapCIHigh)), pgr, ece, extra)
		}
		tw.Flush()
	}
	printClassMix(w, sums)
}

// printClassMix prints the examples per class of each split, once per
// dataset and balancing mode (the first seed's: stratified splits give
// every seed the same counts).
func printClassMix(w io.Writer, sums []store.Summary) {
	seen := map[string]bool{}
	var lines []string
	for _, s := range sums {
		if len(s.ClassCountsTest) == 0 {
			continue
		}
		key := s.Dataset + "\x00" + s.Balance
		if seen[key] {
			continue
		}
		seen[key] = true
		lines = append(lines, fmt.Sprintf("  %s (balance %s; %s): train_weak %s, train_strong %s, test %s", s.Dataset, s.Balance, strings.Join(s.Classes, "/"),
			report.ClassMix(s.ClassCountsTrainWeak), report.ClassMix(s.ClassCountsTrainStrong), report.ClassMix(s.ClassCountsTest)))
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nClass mix per split (examples per class; two classes: the minority's share):\n%s\n", strings.Join(lines, "\n"))
	}
}

// ciPtr formats an interval whose bounds may be missing: "[–]" with one
// seed (no across-seed spread), "[unbounded]" for a PGR bootstrap bound at
// ±∞.
func ciPtr(lo, hi *float64) string {
	if lo == nil || hi == nil {
		return "[–]"
	}
	return fmt.Sprintf("[%.3f, %.3f]", *lo, *hi)
}

func ci(mean, lo, hi float64) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", mean, lo, hi) }

func cmdReport(ctx context.Context, args []string) error {
	fs := newFlags("report", reportUsage)
	baseline := fs.String("baseline", "", "method the comparison table is relative to (default: naive when present, else the first method)")
	out := fs.String("out", "", "HTML file to write (default: DIR/report.html for one DIR, ./report.html for several)")
	png := fs.Bool("png", false, "also write the plots as PNG files (pgr.png, accuracy.png, gap.png) next to the page")
	gap := fs.Float64("gap-threshold", 0, "smallest lower 95% bound of the weak–strong gap for a summary PGR (0: the run's own, recorded in summary.json or the sweep plan)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{fmt.Errorf("give at least one run directory")}
	}
	if *gap < 0 || *gap >= 1 {
		return usageError{fmt.Errorf("--gap-threshold must be in [0,1), got %g", *gap)}
	}
	wrote, sums, err := reportRuns(fs.Args(), *out, *baseline, *gap, *png, "w2s report "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	printSummaries(os.Stdout, sums)
	fmt.Printf("\nwrote %s\n", strings.Join(wrote, ", "))
	return nil
}

func tabwriterFor(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// printComparisons prints each method's paired Δaccuracy from the baseline
// per dataset (t-interval over seeds, sign-flip p, Holm-adjusted p over the
// methods of the table) and pooled over datasets (stratified), then the
// underpowered notes and the A/A null's false positives. Nothing when one
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
	base := comps[0].Baseline
	metric := comps[0].PGRMetric
	mixed := false
	for _, c := range comps {
		mixed = mixed || c.PGRMetric != metric || c.Balance != comps[0].Balance
	}
	onAccuracy := !mixed && (metric == "" || metric == eval.MetricAccuracy)
	delta := "Δ" + metric.Label()
	if mixed {
		delta = "Δ of each row's PGR metric (SETTING column)"
	}
	fmt.Fprintf(w, "\nPaired %s from %s (positive: better than %s); p: two-sided sign-flip test on it; Holm over the m methods of each table\n", delta, base, base)
	tw := tabwriterFor(w)
	switch {
	case onAccuracy:
		fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tMETHOD\tN\tΔACC [95% t-CI]\tΔPGR\tp\tp HOLM (m)\tNOTE")
	case mixed:
		fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tSETTING\tMETHOD\tN\tΔ [95% t-CI]\tΔPGR\tp\tp HOLM (m)\tΔACC\tNOTE")
	default:
		fmt.Fprintf(tw, "DATASET\tWEAK → STRONG\tMETHOD\tN\tΔ%s [95%% t-CI]\tΔPGR\tp\tp HOLM (m)\tΔACC\tNOTE\n", strings.ToUpper(metric.Label()))
	}
	var notes []string
	noted := map[string]bool{}
	for _, c := range comps {
		if c.N == 0 {
			continue // every seed unpaired: nothing to compare
		}
		ds, n := c.Dataset, fmt.Sprint(c.N)
		if c.AcrossDatasets {
			ds, n = "all datasets", fmt.Sprintf("%d (%d datasets)", c.N, c.NDatasets)
		}
		dpgr := "no gap"
		if c.DeltaPGR != nil {
			dpgr = fmt.Sprintf("%+.3f", *c.DeltaPGR)
		}
		p := num("%.4f", c.P)
		if !c.PExact {
			p += fmt.Sprintf(" (MC %d)", c.PDraws)
		}
		var flags []string
		if eval.IsAANull(c.Method) {
			flags = append(flags, "A/A null")
		}
		if c.Underpowered {
			flags = append(flags, "underpowered")
			scope := fmt.Sprintf("%s, %s → %s", ds, c.Weak, c.Strong)
			if note := scope + ": " + report.PowerNote(c); !noted[note] {
				noted[note] = true
				notes = append(notes, note)
			}
		}
		if onAccuracy {
			fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%s\t%s [%s, %s]\t%s\t%s\t%s (%d)\t%s\n", ds, c.Weak, c.Strong, c.Method, n,
				num("%+.3f", c.DeltaAcc), num("%+.3f", c.DeltaAccCILow), num("%+.3f", c.DeltaAccCIHigh), dpgr,
				p, num("%.4f", c.PHolm), c.HolmFamily, strings.Join(flags, ", "))
			continue
		}
		setting := ""
		if mixed {
			setting = report.Setting(c.Balance, string(c.PGRMetric)) + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s → %s\t%s%s\t%s\t%s [%s, %s]\t%s\t%s\t%s (%d)\t%s\t%s\n", ds, c.Weak, c.Strong, setting, c.Method, n,
			num("%+.3f", c.DeltaScore), num("%+.3f", c.DeltaScoreCILow), num("%+.3f", c.DeltaScoreCIHigh), dpgr,
			p, num("%.4f", c.PHolm), c.HolmFamily, num("%+.3f", c.DeltaAcc), strings.Join(flags, ", "))
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s; no outcome can reach p ≤ %.2f after Holm (more seeds: 10 for probe students)\n", n, eval.Alpha)
	}
	for _, a := range eval.AAFalsePositives(comps, eval.Alpha) {
		fmt.Fprintln(w, report.AANote(a))
	}
}
