package main

import (
	"context"
	"fmt"
	"os"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/oracle"
)

// cmdOracle serves the hidden gold of one run (a dataset split for one seed,
// built as `w2s run` builds it) behind the oracle's HTTP API until
// interrupted. It prints the base URL, the run id, the run token (for the
// learner) and the desk token (for `w2s serve`).
func cmdOracle(ctx context.Context, args []string) error {
	fs := newFlags("oracle", "--data NAME|FILE [--seed S] [--budget N] [--addr HOST:PORT] [--audit FILE]")
	dataName := fs.String("data", "sentiment", "built-in dataset name or data file (JSONL, CSV, Parquet) whose gold is served")
	seed := fs.Int64("seed", 1, "seed of the balance and split (same as w2s run's seed)")
	limit := fs.Int("limit", 0, "cap on examples after balancing (0 = all), as w2s run --limit")
	budget := fs.Int("budget", 0, "gold labels of train_strong the run may obtain (bought or decided by a reviewer)")
	addr := fs.String("addr", "127.0.0.1:8765", "listen address; keep it on localhost unless the network is trusted")
	audit := fs.String("audit", "oracle-audit.jsonl", "audit log, appended to (JSONL)")
	name := fs.String("run", "", "run id (default DATA-sSEED)")
	access := fs.String("access", "", "also write the oracle's URL and the run's desk token to this file (mode 0600), for w2s serve --token-file")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	if *budget < 0 {
		return usageError{fmt.Errorf("--budget %d: must be >= 0", *budget)}
	}
	ds, err := data.Load(ctx, *dataName, os.Stderr)
	if err != nil {
		return err
	}
	_, hidden, err := oracle.SplitHidden(ds, *seed, *limit, [3]float64{})
	if err != nil {
		return err
	}
	run := *name
	if run == "" {
		run = fmt.Sprintf("%s-s%d", ds.Name, *seed)
	}
	srv, err := oracle.NewServer(oracle.Config{Addr: *addr, AuditPath: *audit})
	if err != nil {
		return err
	}
	defer srv.Close()
	tok, err := srv.AddRun(run, hidden, *budget)
	if err != nil {
		return err
	}
	desk, err := srv.DeskToken(run)
	if err != nil {
		return err
	}
	base, err := srv.Start()
	if err != nil {
		return err
	}
	if *access != "" {
		if err := oracle.WriteAccess(*access, oracle.Access{Oracle: base, Runs: []oracle.AccessRun{{Run: run, DeskToken: desk}}}); err != nil {
			return err
		}
	}
	info, err := oracle.NewClient(base, run, tok).Info(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("oracle   %s\nrun      %s\ntoken    %s\ndesk     %s\nbudget   %d of %d train_strong, test %d\nevaluate %d answers, rounded to %g\naudit    %s\n",
		base, run, tok, desk, *budget, hidden.NTrainStrong(), hidden.NTest(), info.Evaluations, info.Resolution, *audit)
	if *access != "" {
		fmt.Printf("access   %s (w2s serve --run %s --token-file %s)\n", *access, run, *access)
	}
	<-ctx.Done()
	return srv.Close()
}
