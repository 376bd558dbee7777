package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/superalign/superalign/drift"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
	"github.com/superalign/superalign/store/featcache"
	"github.com/superalign/superalign/student"
)

func cmdDrift(ctx context.Context, args []string) error {
	fs := newFlags("drift", "--scenario NAME|FILE --strategies static,retrain,... --seeds N --out DIR")
	scen := fs.String("scenario", "spam-abrupt", "built-in scenario ("+scenarioNames()+") or a JSONL/CSV stream with text, label and a time or phase column")
	strategies := fs.String("strategies", "all", "re-alignment strategies, comma-separated, or all ("+strings.Join(drift.StrategyNames(), ", ")+")")
	weak := fs.String("weak", "bow", "the weak supervisor: a probe ENC[:HEAD], re-fitted every phase on --sup-gold gold examples")
	strong := fs.String("strong", "glove", "the strong student: ENC[:HEAD] (a probe) or ENC-ft (fine-tuned end to end)")
	seeds := fs.Int("seeds", 5, "number of seeds")
	seedBase := fs.Int64("seed-base", 0, "first seed")
	supGold := fs.Int("sup-gold", 40, "gold examples per phase the weak supervisor is re-fitted on")
	lag := fs.Int("lag", 0, "the supervisor of phase t is fitted on phase t−LAG's gold sample (0: its own)")
	budget := fs.Int("budget", 30, "gold labels per phase a budgeted strategy (triggered, retrain+gold) may buy through the oracle")
	escalate := fs.Int("escalate", 5, "rows the triggered strategy sends to the review desk when it flags drift (each phase's oracle run keeps that much budget for people's decisions)")
	access := fs.String("access", "", "file (mode 0600) the oracle's URL and each review desk's token are written to, for `w2s serve --token-file` (default OUT/oracle-access.json)")
	limit := fs.Int("limit", 0, "at most N examples per phase (0: the scenario's default)")
	epochs := fs.Int("epochs", 0, "override the probes' default epochs (0: defaults)")
	ftEpochs := fs.Int("ft-epochs", 0, "fine-tuned (ENC-ft) strong student: epochs (0: default)")
	ftLR := fs.Float64("ft-lr", 0, "fine-tuned (ENC-ft) strong student: learning rate of the pretrained weights (0: default)")
	out := fs.String("out", "runs/drift", "output directory (results.jsonl, summary.json, report.html, oracle-audit.jsonl, oracle-access.json; streams/ holds finished streams for resuming)")
	export := fs.String("export", "", "write the scenario as a JSONL stream (text, label, phase) to this file and stop")
	quiet := fs.Bool("quiet", false, "only print the table")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	if *seeds < 1 || *supGold < 2 || *lag < 0 || *budget < 0 || *escalate < 0 || *limit < 0 {
		return usageError{fmt.Errorf("--seeds ≥ 1, --sup-gold ≥ 2, --lag, --budget, --escalate and --limit ≥ 0")}
	}
	names, err := drift.ParseStrategies(*strategies)
	if err != nil {
		return usageError{err}
	}
	for _, s := range []string{*weak, *strong} {
		if _, err := student.Parse(s); err != nil {
			return usageError{err}
		}
	}
	var log io.Writer = os.Stderr
	if *quiet {
		log = io.Discard
	}
	sc, err := drift.Load(ctx, *scen, *limit, log)
	if err != nil {
		return err
	}
	if *export != "" {
		var b bytes.Buffer
		if err := drift.WriteFile(sc, &b); err != nil {
			return err
		}
		return atomicfile.WriteFile(*export, b.Bytes())
	}
	cmdline := "w2s drift " + strings.Join(args, " ")
	lock, err := store.BeginRun(*out, cmdline)
	if err != nil {
		return err
	}
	defer lock.Release()
	if *access == "" {
		*access = filepath.Join(*out, "oracle-access.json")
	}
	var sl []int64
	for i := range *seeds {
		sl = append(sl, *seedBase+int64(i))
	}
	cfg := drift.Config{Scenario: sc, Weak: *weak, Strong: *strong, Strategies: names, Seeds: sl,
		SupGold: *supGold, Lag: *lag, Budget: *budget, Escalate: *escalate,
		OracleAudit: experiment.DefaultAuditPath(*out), OnDesk: reachPerson("drift", *access),
		Options: student.Options{HeadEpochs: *epochs, FineTuneEpochs: *ftEpochs, FineTuneLR: *ftLR},
		Cache:   &featcache.Cache{}, Log: log, Dir: *out}
	rows, err := drift.Run(ctx, cfg)
	if err != nil {
		return err
	}
	sums := drift.Summarise(rows, sc.ChangePoint)
	if err := writeDrift(*out, cmdline, rows, sums); err != nil {
		return err
	}
	if err := lock.Finish(); err != nil {
		return err
	}
	fmt.Printf("%s: %s, weak %s re-fitted on %d gold per phase, %d phases (change point: phase %d)\n", sc.Name, sc.Description, *weak, *supGold, len(sc.Phases), sc.ChangePoint+1)
	drift.WriteTable(os.Stdout, sums)
	fmt.Printf("\nwrote %s/{results.jsonl,summary.json,report.html}\n", *out)
	return nil
}

func scenarioNames() string {
	var n []string
	for _, s := range drift.Scenarios() {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}

// writeDrift writes results.jsonl, summary.json and report.html together.
func writeDrift(dir, cmdline string, rows []drift.Row, sums []drift.StrategySummary) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	js, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return err
	}
	var html bytes.Buffer
	if err := report.RenderDrift(&html, report.Meta{Command: cmdline, Version: experiment.Version, Created: time.Now()}, len(rows), sums); err != nil {
		return err
	}
	return atomicfile.Commit(dir,
		atomicfile.File{Name: "results.jsonl", Data: b.Bytes()},
		atomicfile.File{Name: "summary.json", Data: append(js, '\n')},
		atomicfile.File{Name: "report.html", Data: html.Bytes()})
}
