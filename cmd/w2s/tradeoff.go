package main

// w2s tradeoff (issue 15): the competence–conformity optimisers of
// method/competence.go swept over λ, run as one `w2s run` (the same cells,
// keys, resumable rows), then analysed into fronts, hypervolumes and
// paired differences (eval.TradeoffOf) and drawn in the report.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

func init() {
	commands = append(commands, command{"tradeoff", "sweep the competence–conformity optimisers over lambda: Pareto fronts, hypervolumes, paired differences", cmdTradeoff})
}

// tradeoffMethods is the method list of a sweep: every optimiser at every
// λ, written as the method's canonical spec.
func tradeoffMethods(optimisers []string, lambdas []float64, extra string) ([]string, error) {
	var out []string
	for _, o := range optimisers {
		for _, l := range lambdas {
			spec := o + ":lambda=" + strconv.FormatFloat(l, 'g', -1, 64)
			if extra != "" {
				spec += "," + extra
			}
			m, err := method.New(spec)
			if err != nil {
				return nil, err
			}
			out = append(out, m.Name())
		}
	}
	return out, nil
}

func parseLambdas(s string) ([]float64, error) {
	var out []float64
	for _, f := range splitList(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v < 0 || v > 1 {
			return nil, fmt.Errorf("--lambdas: %q is not a weight in [0, 1]", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--lambdas: give at least one weight")
	}
	return out, nil
}

func cmdTradeoff(ctx context.Context, args []string) error {
	def := experiment.DefaultSpec()
	fs := newFlags("tradeoff", "--data NAME|PATH[,...] --weak ENC[:HEAD] --strong ENC[:HEAD]|ENC-ft --lambdas 0,0.25,... --seeds N --out DIR")
	flags := defineRunFlags(fs, def)
	lambdas := fs.String("lambdas", "0,0.25,0.5,0.75,1", "conformity weights λ to sweep, comma-separated, each in [0, 1]")
	opts := fs.String("optimisers", strings.Join(method.Optimisers, ","), "optimisers to sweep: "+strings.Join(method.Optimisers, ", "))
	params := fs.String("params", "", "extra parameters for every optimiser, e.g. supervisors=weak+bow (diverse supervision)")
	axis := fs.String("axis", eval.AxisAuto, "conformity axis of the fronts: auto (value respect on value-channel data, else agreement), agreement or value")
	out := fs.String("out", "runs/tradeoff", "output directory (results.jsonl, summary.json, tradeoff.json, report.html)")
	png := fs.Bool("png", false, "also write the fronts as PNG files (tradeoff-N.png) next to the page")
	quiet := fs.Bool("quiet", false, "only print the final tables")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "method" })
	if explicit {
		return usageError{fmt.Errorf("--method: tradeoff runs the optimisers (--optimisers) at each λ (--lambdas)")}
	}
	ls, err := parseLambdas(*lambdas)
	if err != nil {
		return usageError{err}
	}
	optimisers := splitList(*opts)
	for _, o := range optimisers {
		known := false
		for _, k := range method.Optimisers {
			known = known || o == k
		}
		if !known {
			return usageError{fmt.Errorf("--optimisers: unknown optimiser %q (known: %s)", o, strings.Join(method.Optimisers, ", "))}
		}
	}
	if *axis != eval.AxisAuto && *axis != eval.AxisAgreement && *axis != eval.AxisValue {
		return usageError{fmt.Errorf("--axis: %q (want auto, agreement or value)", *axis)}
	}
	spec, err := flags.spec(fs, def)
	if err != nil {
		return usageError{err}
	}
	if spec.Methods, err = tradeoffMethods(optimisers, ls, *params); err != nil {
		return usageError{err}
	}
	if err := spec.Validate(); err != nil {
		return usageError{err}
	}
	var log io.Writer = os.Stderr
	if *quiet {
		log = io.Discard
	}
	if _, err := data.CheckInputs(ctx, spec.Datasets, log); err != nil {
		return err
	}
	command := "w2s tradeoff " + strings.Join(args, " ")
	lock, err := store.BeginRun(*out, command)
	if err != nil {
		return err
	}
	defer lock.Release()
	runner := &experiment.Runner{Cache: &featcache.Cache{}, Out: store.RunDir{Dir: *out}, Log: log}
	start := time.Now()
	rows, _, err := runner.Run(ctx, spec)
	if err != nil {
		return err
	}
	baseline := "simultaneous"
	t, err := eval.TradeoffOf(rows, optimisers, baseline, *axis, spec.SeedBase)
	if err != nil {
		return err
	}
	meta := report.Meta{
		Title:   "superalign tradeoff: " + strings.Join(spec.Datasets, ", ") + " — " + spec.Weak + " → " + spec.Strong,
		Command: command, Version: experiment.Version, Created: time.Now().UTC(),
	}
	opt := eval.Options{Seed: spec.SeedBase, GapThreshold: spec.GapThreshold}
	page, sums, _, err := report.TradeoffPage(meta, rows, opt, t)
	if err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	tj, err := store.JSONFile("tradeoff.json", t)
	if err != nil {
		return err
	}
	if err := runner.Out.WriteResults(rows, sums, store.File{Name: "report.html", Data: page}, tj); err != nil {
		return err
	}
	if err := lock.Finish(); err != nil {
		return err
	}
	wrote := []string{"results.jsonl", "summary.json", "tradeoff.json", "report.html"}
	if *png {
		imgs, err := report.TradeoffPNGs(t)
		if err != nil {
			return err
		}
		for _, im := range imgs {
			if err := atomicfile.WriteFile(filepath.Join(*out, im.Name), im.Data); err != nil {
				return err
			}
			wrote = append(wrote, im.Name)
		}
	}
	printTradeoff(os.Stdout, t)
	fmt.Printf("\n%d rows in %.1fs; wrote %s in %s\n", len(rows), time.Since(start).Seconds(), strings.Join(wrote, ", "), *out)
	return nil
}

// tradeoffOfRows is the trade-off analysis of the optimisers present in
// rows (as w2s tradeoff computes it: simultaneous the baseline, the
// conformity axis chosen per pair), and whether there are any.
func tradeoffOfRows(rows []store.Row, seed int64) (eval.Tradeoff, bool, error) {
	present := map[string]bool{}
	for _, r := range rows {
		name, _, _ := strings.Cut(r.Method, ":")
		present[name] = true
	}
	var opts []string
	for _, o := range method.Optimisers {
		if present[o] {
			opts = append(opts, o)
		}
	}
	if len(opts) == 0 {
		return eval.Tradeoff{}, false, nil
	}
	t, err := eval.TradeoffOf(rows, opts, "simultaneous", eval.AxisAuto, seed)
	return t, err == nil, err
}

func ciStr(mean float64, lo, hi *float64) string {
	if lo == nil || hi == nil {
		return fmt.Sprintf("%.3f [–]", mean)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", mean, *lo, *hi)
}

func optStr(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *p)
}

// printTradeoff prints the points, hypervolumes and paired differences.
func printTradeoff(w io.Writer, t eval.Tradeoff) {
	tw := tabwriterFor(w)
	fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tOPTIMISER\tλ\tN\tCOMPETENCE (acc) [95% t-CI]\tCONFORMITY [95% t-CI]\tAXIS\tCONFORM|WEAK RIGHT\tCONFORM|WEAK WRONG\tFRONT")
	for _, f := range t.Fronts {
		for _, p := range f.Points {
			front := ""
			if p.OnFront {
				front = "*"
			}
			fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%g\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Dataset, f.Weak, f.Strong, f.Optimiser, p.Lambda, p.N,
				ciStr(p.Competence, p.CompetenceLo, p.CompetenceHi), ciStr(p.Conformity, p.ConformityLo, p.ConformityHi), f.Axis,
				optStr(p.ConformRight), optStr(p.ConformWrong), front)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriterFor(w)
	fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tOPTIMISER\tSEEDS\tHYPERVOLUME [95% t-CI]")
	for _, f := range t.Fronts {
		fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%d\t%s\n", f.Dataset, f.Weak, f.Strong, f.Optimiser, len(f.HVs), ciStr(f.Hypervolume, f.HypervolumeLo, f.HypervolumeHi))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriterFor(w)
	fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tΔ HYPERVOLUME\tN\tMEAN [95% t-CI]\tp (sign-flip)\tp HOLM\tNOTE")
	for _, d := range t.Diffs {
		note := ""
		if d.MinP > 0.05 {
			note = fmt.Sprintf("underpowered: smallest attainable p %.4f", d.MinP)
		}
		fmt.Fprintf(tw, "%s\t%s → %s\t%s − %s\t%d\t%s\t%.4f\t%.4f\t%s\n", d.Dataset, d.Weak, d.Strong, d.A, d.B, d.N, ciStr(d.Mean, d.Lo, d.Hi), d.P, d.PHolm, note)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmisfit inequality (gain ≥ misfit, squared loss on test; Charikar et al. 2024): held on %d of %d rows\n", t.Misfit.Holds, t.Misfit.Rows)
}

// competenceNotes is METHODS.md's section on the competence–conformity
// optimisers (issue 15): competence, conformity, the value channel and gap
// annealing, a paragraph each.
const competenceNotes = `
## Competence and conformity (issue 15)

Kim et al., "Research on Superalignment Should Advance Now with Parallel Optimization of Competence and Conformity"
(arXiv 2503.07660; v2 "… Alternating Competence and Conformity Optimization"), a position paper without code or numbers,
argues that a model more capable than its supervisor must be optimised for task competence and for value conformity, at
once or in turn, keeping an appropriate gap between its capability and its supervisor's and diversifying its supervision.
The four optimisers ` + "`simultaneous`, `alternating`, `sequential` and `anneal`" + ` make that executable; ` + "`w2s tradeoff`" + ` sweeps them
over λ (the weight of conformity) and reports their fronts.

**Competence** is what the student can do: its test accuracy (and AUROC) against hidden gold. As a training signal it is the
student's own confident predictions — hardened to one-hot, in the loss at the weak labels' batch prior as logconf does, or
between stages as the previous student's argmax — because a student that trusts itself where it is confident is how
weak-to-strong generalisation goes beyond its supervisor (Burns et al.'s auxiliary confidence loss is the nearest relative).

**Conformity** is how the student follows its supervision. Rows report it split by whether the supervisor is right: following
a right supervisor is conformity (` + "`conform_right`" + `), following a wrong one is error inheritance (` + "`conform_wrong`" + `), both on test,
and, with a value channel, ` + "`value_respect`" + `: the share of value-constrained test examples the student gives the required class.
The fronts put competence against value respect on value-channel data, else against agreement with the weak supervisor. All of
these read gold, so they are computed in eval only. Rows also check the misfit inequality of Charikar, Pabbaraju and
Shiragur (NeurIPS 2024): gain over the weak model ≥ misfit, in squared loss on test (` + "`gain_sq`, `misfit_sq`, `misfit_holds`" + `).

**The value channel** is a per-example constraint beside the task label: the class the output must be, such as "this mail must
never be filtered" (value ` + "`ham`" + `). Files may add a ` + "`value`" + ` column (a class, or blank/null for none); the built-in ` + "`spam-value`" + `
gives every SpamAssassin hard-ham mail (legitimate mail that looks commercial) the value ham. Methods never see the value
labels of train_strong or test: a weak value supervisor — a probe on the weak encoder trained on train_weak's value labels,
inverse-frequency weighted since constraints are rare — gives each train_strong example a probability of being constrained,
and the conformity targets move towards the required class by that probability.

**Gap annealing** keeps the gap between supervisor and student small at every step: ` + "`anneal`" + ` climbs a ladder of supervisors of
rising capacity (the encoders between the weak and the strong one, e.g. glove for bow → use-lite; ` + "`weak:mlp`" + ` where none lies
between; then a probe on the student's frozen encoder when the student is fine-tuned), each cross-fitted on the previous one's
labels, the last supervising the student as ` + "`simultaneous`" + ` does. Diverse supervision is the ` + "`supervisors=`" + ` parameter of every
optimiser: weak supervisors of different families (` + "`weak+bow`" + `) mixed by out-of-fold likelihood, as ` + "`ensemble`" + ` mixes them.
`
