// Command w2s is the superalign command line: fetch assets, run weak-to-strong
// experiments, list what exists. `w2s help` and `w2s CMD --help` describe each
// command; package store holds the output contract (store.Row, store.Summary).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"run", "run weak-to-strong cells: datasets × weak → strong × methods × seeds", cmdRun},
		{"fetch", "fetch registry-shipped assets (models, datasets) into the cache", cmdFetch},
		{"embed", "write one embedding per input row with an encoder (uses the feature cache)", cmdEmbed},
		{"drift", "continual alignment: re-align a strong student over phases of drifting values", cmdDrift},
		{"oversee", "learner loop: critic, attacker and gold budget through the oracle", cmdOversee},
		{"sweep", "run a grid of cells locally or as a SLURM job array, resumable", cmdSweep},
		{"cell", "run one planned sweep cell (what a SLURM array task runs)", cmdCell},
		{"report", "re-render report.html and summary.json from results directories", cmdReport},
		{"datasets", "list the built-in datasets", cmdDatasets},
		{"encoders", "list the encoders", cmdEncoders},
		{"methods", "list the weak-to-strong methods", cmdMethods},
		{"oracle", "serve a run's hidden gold behind a budgeted, audited HTTP API", cmdOracle},
		{"serve", "run the human review desk (and runs dashboard) in front of an oracle run", cmdServe},
		{"version", "print the version", cmdVersion},
	}
}

// usageError marks errors in how the command was called: exit status 2.
type usageError struct{ error }

func usage() {
	fmt.Fprintf(os.Stderr, "w2s: weak-to-strong supervision workbench\n\nUsage: w2s COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'w2s COMMAND --help' for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "help" || name == "-h" || name == "--help" {
		usage()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, os.Args[2:])
		if err == nil {
			return
		}
		fmt.Fprintf(os.Stderr, "w2s %s: %v\n", name, err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "w2s: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}
