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
	name, tok, ok := strings.Cut(strings.TrimSpace(v), "=")
	name, tok = strings.TrimSpace(name), strings.TrimSpace(tok)
	if !ok || name == "" || len(tok) < 8 {
		// The value is not echoed: it may hold a token.
		return fmt.Errorf("want NAME=TOKEN with a token of at least 8 characters")
	}
	if prev, dup := r[tok]; dup && prev != name {
		return fmt.Errorf("reviewers %q and %q have the same token", prev, name)
	}
	r[tok] = name
	return nil
}

// addFrom adds NAME=TOKEN entries separated by newlines or commas (blank
// lines and # comments skipped); where names the source for errors.
func (r reviewerFlags) addFrom(text, where string) error {
	n := 0
	for i, line := range strings.FieldsFunc(text, func(c rune) bool { return c == '\n' || c == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := r.Set(line); err != nil {
			return fmt.Errorf("%s: entry %d: %w", where, i+1, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no NAME=TOKEN entries", where)
	}
	return nil
}

// deskToken finds the run's desk token: --token (visible in the process
// list; kept for scripts), else --token-file (a file holding the token, or
// an access file written by w2s oversee or w2s oracle --access, from which
// the token of --run is taken), else $W2S_DESK_TOKEN.
func deskToken(flagToken, file, run string) (string, error) {
	if flagToken != "" {
		return flagToken, nil
	}
	if file != "" {
		b, err := oracle.ReadSecretFile(file)
		if err != nil {
			return "", err
		}
		if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
			a, err := oracle.ReadAccess(file)
			if err != nil {
				return "", err
			}
			tok, err := a.DeskToken(run)
			if err != nil {
				return "", fmt.Errorf("%s: %w", file, err)
			}
			return tok, nil
		} else if t != "" {
			return t, nil
		}
		return "", fmt.Errorf("%s: empty token file", file)
	}
	return os.Getenv("W2S_DESK_TOKEN"), nil
}

// cmdServe runs the human review desk in front of an oracle run until
// interrupted.
func cmdServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "--oracle URL --run R --token-file FILE [--reviewers-file FILE] [--runs DIR]")
	oracleURL := fs.String("oracle", "", "base URL of the oracle (w2s oracle and w2s oversee print it; default: the access file's)")
	run := fs.String("run", "", "run id at the oracle")
	token := fs.String("token", "", "the run's desk token; prefer --token-file or $W2S_DESK_TOKEN, since a command line is visible to every user")
	tokenFile := fs.String("token-file", "", "file (mode 0600) holding the desk token, or the access file w2s oversee writes (OUT/oracle-access.json)")
	reviewersFile := fs.String("reviewers-file", "", "file (mode 0600) of reviewer NAME=TOKEN lines; also $W2S_REVIEWERS (NAME=TOKEN,...)")
	addr := fs.String("addr", "127.0.0.1:8766", "listen address of the desk; localhost by default")
	runs := fs.String("runs", "", "runs directory for the dashboard (optional)")
	logPath := fs.String("log", "review-decisions.jsonl", "decision log, appended to (JSONL)")
	reviewers := reviewerFlags{}
	fs.Var(reviewers, "reviewer", "NAME=TOKEN of a reviewer (repeatable; visible in the process list, prefer --reviewers-file); without any reviewer, one token is generated and printed")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %v", fs.Args())}
	}
	if *run == "" {
		return usageError{fmt.Errorf("--run is required")}
	}
	tok, err := deskToken(*token, *tokenFile, *run)
	if err != nil {
		return usageError{err}
	}
	if *oracleURL == "" && *tokenFile != "" {
		if a, err := oracle.ReadAccess(*tokenFile); err == nil {
			*oracleURL = a.Oracle
		}
	}
	if *oracleURL == "" || tok == "" {
		return usageError{fmt.Errorf("--oracle and a desk token (--token-file, $W2S_DESK_TOKEN or --token) are required")}
	}
	if *reviewersFile != "" {
		b, err := oracle.ReadSecretFile(*reviewersFile)
		if err != nil {
			return usageError{err}
		}
		if err := reviewers.addFrom(string(b), *reviewersFile); err != nil {
			return usageError{err}
		}
	}
	if env := os.Getenv("W2S_REVIEWERS"); env != "" {
		if err := reviewers.addFrom(env, "$W2S_REVIEWERS"); err != nil {
			return usageError{err}
		}
	}
	c := oracle.NewClient(*oracleURL, *run, tok)
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
