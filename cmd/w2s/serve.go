package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/superalign/superalign/oracle"
	"github.com/superalign/superalign/web"
)

// reviewerFlags collects repeated --reviewer NAME=TOKEN flags.
type reviewerFlags map[string]string

func (r reviewerFlags) String() string { return fmt.Sprintf("%d reviewers", len(r)) }

func (r reviewerFlags) Set(v string) error {
	name, tok, ok := strings.Cut(v, "=")
	if !ok || name == "" || len(tok) < 8 {
		return fmt.Errorf("want NAME=TOKEN with a token of at least 8 characters, got %q", v)
	}
	r[tok] = name
	return nil
}

// cmdServe runs the human review desk in front of an oracle run until
// interrupted.
func cmdServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "--oracle URL --run R --token DESKTOKEN [--reviewer NAME=TOKEN ...] [--runs DIR]")
	oracleURL := fs.String("oracle", "", "base URL of the oracle (w2s oracle prints it)")
	run := fs.String("run", "", "run id at the oracle")
	token := fs.String("token", os.Getenv("W2S_DESK_TOKEN"), "the run's desk token (default $W2S_DESK_TOKEN)")
	addr := fs.String("addr", "127.0.0.1:8766", "listen address of the desk; localhost by default")
	runs := fs.String("runs", "", "runs directory for the dashboard (optional)")
	logPath := fs.String("log", "review-decisions.jsonl", "decision log, appended to (JSONL)")
	reviewers := reviewerFlags{}
	fs.Var(reviewers, "reviewer", "NAME=TOKEN of a reviewer (repeatable); without any, one token is generated and printed")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	if *oracleURL == "" || *run == "" || *token == "" {
		return usageError{fmt.Errorf("--oracle, --run and --token are required")}
	}
	c := oracle.NewClient(*oracleURL, *run, *token)
	c.SetAgent("desk")
	info, err := c.Info(ctx)
	if err != nil {
		return fmt.Errorf("oracle %s run %s: %w", *oracleURL, *run, err)
	}
	if info.Role != "desk" {
		return usageError{fmt.Errorf("--token is the run's %s token; give the desk token, which cannot buy gold", info.Role)}
	}
	if len(reviewers) == 0 {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("reviewer token: %w", err)
		}
		tok := hex.EncodeToString(b)
		reviewers[tok] = "reviewer"
		fmt.Printf("reviewer token (name \"reviewer\"): %s\n", tok)
	}
	desk, err := web.NewDesk(c, web.DeskOptions{Addr: *addr, Reviewers: reviewers, RunsDir: *runs, DecisionLog: *logPath})
	if err != nil {
		return err
	}
	base, err := desk.Start()
	if err != nil {
		return err
	}
	fmt.Printf("review desk %s (run %s, %d classes)\n", base, *run, info.K)
	<-ctx.Done()
	return desk.Close()
}
