package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/oversight"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
)

// criticShareSpec maps the --critic-share flag to OverseeSpec.CriticShare,
// whose zero value means the default: a flag of 0 (none) becomes -1.
func criticShareSpec(flag float64) float64 {
	if flag == 0 {
		return -1
	}
	return flag
}

func cmdOversee(ctx context.Context, args []string) error {
	fs := newFlags("oversee", "--data NAME --weak ENC[:HEAD] --strong ENC[:HEAD]|ENC-ft --budgets 0,1,2,5,10 --rounds 4 --seeds 3 --out DIR")
	dataFlag := fs.String("data", "sentiment", "dataset: built-in name or JSONL/CSV/Parquet path")
	weak := fs.String("weak", "bow", "weak supervisor ENC[:HEAD]")
	strong := fs.String("strong", "glove", "strong student: ENC[:HEAD] (a probe) or ENC-ft (fine-tuned end to end, retrained every round)")
	meth := fs.String("method", "naive", "student method spec (see w2s methods)")
	budgets := fs.String("budgets", "0,1,2,5,10", "gold budgets in percent of train_strong, comma-separated")
	rounds := fs.Int("rounds", 4, "rounds of critic → attacker → buy gold → retrain after the weak-only round")
	seeds := fs.Int("seeds", 3, "number of seeds")
	seedBase := fs.Int64("seed-base", 0, "first seed")
	limit := fs.Int("limit", 0, "use at most N examples after balancing (0: all)")
	balance := fs.String("balance", data.BalanceUndersample, "binary datasets' class mix: undersample, none or weight (as for w2s run)")
	pgrMetric := fs.String("pgr-metric", string(eval.MetricAccuracy), "test metric gap and PGR are on: accuracy, auroc, balanced-accuracy or macro-f1 (accuracy is reported alongside; the oracle answers the loop in accuracy)")
	epochs := fs.Int("epochs", 0, "override the probes' default epochs (0: defaults)")
	ftEpochs := fs.Int("ft-epochs", 0, "fine-tuned (ENC-ft) strong student: epochs (0: default)")
	ftLR := fs.Float64("ft-lr", 0, "fine-tuned (ENC-ft) strong student: learning rate of the pretrained weights (0: default)")
	escalate := fs.Int("escalate", 5, "items escalated to the review desk per round")
	criticShare := fs.Float64("critic-share", experiment.DefaultCriticShare, "fraction of each budget the critic strategy spends on train_weak gold for its critic (the oracle sells the rest; 0: none)")
	attackN := fs.Int("attack-texts", 200, "test texts the attacker perturbs")
	out := fs.String("out", "runs/oversee", "output directory (results.jsonl, summary.json, oracle-audit.jsonl, oracle-access.json)")
	access := fs.String("access", "", "file (mode 0600) the oracle's URL and each run's desk token are written to, for `w2s serve --token-file` (default OUT/oracle-access.json)")
	gap := fs.Float64("gap-threshold", eval.DefaultGapThreshold, "report \"no gap\" instead of a PGR when the lower 95% bound of ceiling − floor is below this")
	quiet := fs.Bool("quiet", false, "only print the tables")
	config := fs.String("config", "", "YAML file whose keys are these flags' names (budgets: [0, 1, 2]); flags given explicitly override it")
	dry := fs.Bool("dry-run", false, "check the settings and a dataset file, print what would run; run nothing")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	if *config != "" {
		if err := applyConfigFile(fs, *config); err != nil {
			return usageError{err}
		}
	}
	if !(*gap > 0) {
		return usageError{fmt.Errorf("--gap-threshold must be positive, got %g", *gap)}
	}
	if !(*criticShare >= 0 && *criticShare <= 1) {
		return usageError{fmt.Errorf("--critic-share must be in [0,1], got %g", *criticShare)}
	}
	var fracs []float64
	for _, b := range splitList(*budgets) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(b, "%"), 64)
		if err != nil || v < 0 || v > 100 {
			return usageError{fmt.Errorf("--budgets: %q is not a percentage in [0,100]", b)}
		}
		fracs = append(fracs, v/100)
	}
	spec := experiment.OverseeSpec{Dataset: *dataFlag, Weak: *weak, Strong: *strong, Method: *meth, Budgets: fracs,
		Rounds: *rounds, Seeds: *seeds, SeedBase: *seedBase, Limit: *limit, Balance: *balance, PGRMetric: *pgrMetric, Epochs: *epochs, FTEpochs: *ftEpochs, FTLR: *ftLR,
		EscalateK: *escalate, CriticShare: criticShareSpec(*criticShare), AttackTexts: *attackN, GapThreshold: *gap, AuditPath: experiment.DefaultAuditPath(*out),
		Checkpoints: filepath.Join(*out, "checkpoints")}
	if err := spec.Validate(); err != nil {
		return usageError{err}
	}
	if *dry {
		if !data.IsBuiltin(spec.Dataset) {
			if _, err := data.CheckInputs(ctx, []string{spec.Dataset}, nil); err != nil {
				return err
			}
		}
		fmt.Printf("dataset: %s\npair: %s → %s\nmethod: %s\nbudgets: %v of train_strong\nrounds: %d after the weak-only round\nseeds: %d from %d\nbalance: %s\nPGR metric: %s\nnothing run\n",
			spec.Dataset, spec.Weak, spec.Strong, spec.Method, spec.Budgets, spec.Rounds, spec.Seeds, spec.SeedBase, *balance, *pgrMetric)
		return nil
	}
	var log io.Writer = os.Stderr
	if *quiet {
		log = io.Discard
	}
	if _, err := data.CheckInputs(ctx, []string{spec.Dataset}, log); err != nil {
		return err
	}
	lock, err := store.BeginRun(*out, "w2s oversee "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	defer lock.Release()
	if *access == "" {
		*access = filepath.Join(*out, "oracle-access.json")
	}
	spec.OnOracleRun = reachPerson("oversee", *access)
	rows, err := experiment.RunOversee(ctx, &featcache.Cache{}, spec, log)
	if err != nil {
		return err
	}
	sums := oversight.Summarize(rows, spec.SeedBase, spec.GapThreshold)
	if err := writeOversee(*out, rows, sums); err != nil {
		return err
	}
	if err := lock.Finish(); err != nil {
		return err
	}
	fmt.Printf("\n%s, %s → %s, %s, %d seeds: last round per budget (95%% t-intervals over seeds; PGR a ratio of means with a seed bootstrap)\n", spec.Dataset, spec.Weak, spec.Strong, spec.Method, spec.Seeds)
	if err := oversight.WriteTable(os.Stdout, sums, true); err != nil {
		return err
	}
	fmt.Printf("\nper round:\n")
	if err := oversight.WriteTable(os.Stdout, sums, false); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s\n", filepath.Join(*out, "results.jsonl"))
	return nil
}

// reachPerson returns the hook that tells a person how to review each run
// (of the oversight loop, or a drift stream's phase) as it gets a desk:
// the oracle's URL, the run and its desk token go to the access file (mode
// 0600, rewritten with every run) and to stderr, with the command that
// starts the review desk without putting the token on a command line. It
// prints even with --quiet: without it no person can decide the items the
// loop escalates.
func reachPerson(cmd, path string) func(url, run, deskToken string) error {
	var a oracle.Access
	return func(url, run, deskToken string) error {
		a.Oracle = url
		a.Runs = append(a.Runs, oracle.AccessRun{Run: run, DeskToken: deskToken})
		if err := oracle.WriteAccess(path, a); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: oracle %s run %s: desk token %s\n  review with: w2s serve --oracle %s --run %s --token-file %s\n",
			cmd, url, run, deskToken, url, run, path)
		return nil
	}
}

// writeOversee writes results.jsonl and summary.json as one group (both or
// neither). NaN means (no value) are written as null.
func writeOversee(dir string, rows []oversight.Row, sums []oversight.Summary) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("results row: %w", err)
		}
	}
	js, err := json.MarshalIndent(oversight.SummariesJSON(sums), "", "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return atomicfile.Commit(dir, atomicfile.File{Name: "results.jsonl", Data: b.Bytes()}, atomicfile.File{Name: "summary.json", Data: append(js, '\n')})
}
