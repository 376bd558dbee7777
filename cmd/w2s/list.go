package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/method"
)

// newFlags makes a FlagSet whose --help prints the command's summary first.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: w2s %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; --help returns errHelp so the caller exits 0.
func parse(fs *flag.FlagSet, args []string) (bool, error) {
	err := fs.Parse(args)
	if err == flag.ErrHelp {
		return true, nil
	}
	if err != nil {
		return false, usageError{err}
	}
	return false, nil
}

func table() *tabwriter.Writer { return tabwriterFor(os.Stdout) }

func cmdDatasets(ctx context.Context, args []string) error {
	fs := newFlags("datasets", "")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	w := table()
	fmt.Fprintln(w, "NAME\tTASK\tPACKAGE\tDESCRIPTION")
	for _, b := range data.Builtins() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", b.Name, b.Task, b.Package, b.Description)
	}
	fmt.Fprintln(w, "PATH\tyour data\t-\tJSONL, CSV or Parquet with text|features|image and label columns")
	return w.Flush()
}

func cmdEncoders(ctx context.Context, args []string) error {
	fs := newFlags("encoders", "")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	w := table()
	fmt.Fprintln(w, "NAME\tKIND\tDIM\tDESCRIPTION")
	for _, e := range encode.Infos() {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", e.Name, e.Kind, e.Dim, e.Description)
	}
	fmt.Fprintln(w, "features\tvectors\t-\tthe dataset's own features column, passed through")
	fmt.Fprintln(w, "\nHeads (ENC:HEAD): linear (default), mlp")
	return w.Flush()
}

func cmdMethods(ctx context.Context, args []string) error {
	fs := newFlags("methods", "")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	w := table()
	fmt.Fprintln(w, "NAME\tDESCRIPTION\tREFERENCE")
	for _, m := range method.Infos() {
		fmt.Fprintf(w, "%s\t%s\t%s\n", m.Name, m.Description, m.Reference)
	}
	return w.Flush()
}

func cmdVersion(ctx context.Context, args []string) error {
	fmt.Println("w2s", experiment.Version)
	return nil
}

func cmdFetch(ctx context.Context, args []string) error {
	fs := newFlags("fetch", "[NAME...]   (no name: the assets the demo needs; 'all': every asset)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	names := fs.Args()
	switch {
	case len(names) == 0:
		names = []string{"sentiment", "spam-assassin", "glove"}
	case len(names) == 1 && names[0] == "all":
		names = nil
		for _, p := range assets.Registry() {
			names = append(names, p.Name)
		}
	}
	for _, n := range names {
		dir, err := assets.Ensure(ctx, n, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\n", n, dir)
	}
	return nil
}
