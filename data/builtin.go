package data

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/superalign/superalign/assets"
)

// Input kinds a dataset's examples carry, reported as BuiltinInfo.Task so
// callers can pick matching encoders.
const (
	TaskText     = "text"
	TaskFeatures = "features"
	TaskImage    = "image"
)

// BuiltinInfo describes a dataset shipped in a registry package.
type BuiltinInfo struct {
	Name        string // what --data accepts
	Description string
	Package     string // assets package it is read from
	Task        string // TaskText, TaskFeatures or TaskImage
	// Pairwise marks a preference task: its examples are data.Pair.
	Pairwise bool
}

type builtin struct {
	info BuiltinInfo
	load func(ctx context.Context, dir string, log io.Writer) (*Dataset, error)
}

var builtins = []builtin{
	{BuiltinInfo{
		Name:        "sentiment",
		Description: "UCI Sentiment Labelled Sentences: 3000 review sentences (imdb, yelp, amazon; 1000 each), negative/positive, balanced",
		Package:     "sentiment", Task: TaskText,
	}, loadSentiment},
	{BuiltinInfo{
		Name:        "spam",
		Description: "SpamAssassin public corpus: ~6000 e-mails (easy and hard ham vs spam), headers stripped, bodies decoded and capped at 2000 characters",
		Package:     "spam-assassin", Task: TaskText,
	}, loadSpam},
	{BuiltinInfo{
		Name: "spam-value",
		Description: "spam with a value channel: ham vs spam, and every hard-ham mail (legitimate commercial-looking mail, 250 of 4150 ham) carries " +
			"the value 'ham': the user's constraint that it must never be filtered",
		Package: "spam-assassin", Task: TaskText,
	}, loadSpamValue},
	{BuiltinInfo{
		Name:        "review-source",
		Description: "UCI sentiment sentences labelled by source site: imdb, yelp, amazon (3 classes, 1000 each)",
		Package:     "sentiment", Task: TaskText,
	}, loadReviewSource},
	{BuiltinInfo{
		Name:        "spam-subset",
		Description: "SpamAssassin e-mails labelled by corpus subset: easy ham, hard ham, spam (3 classes: 3900/250/1876 mails, class mix kept)",
		Package:     "spam-assassin", Task: TaskText,
	}, loadSpamSubset},
	{BuiltinInfo{
		Name:        "spam-hardham",
		Description: "SpamAssassin legitimate mail: hard ham (spam-like) vs easy ham, 250 vs 3900 mails (6% positives; --balance none keeps the mix)",
		Package:     "spam-assassin", Task: TaskText,
	}, loadSpamHardHam},
	{BuiltinInfo{
		Name:        "review-pairs",
		Description: "preference pairs: two UCI review sentences from one site (imdb, yelp or amazon), the human-labelled positive one preferred; 1500 pairs, position balanced",
		Package:     "sentiment", Task: TaskText, Pairwise: true,
	}, loadReviewPairs},
	{BuiltinInfo{
		Name:        "fashion-mnist",
		Description: "Fashion-MNIST: 70000 28x28 grayscale clothing images (official 60k train + 10k test pooled), 10 classes",
		Package:     "fashion-mnist", Task: TaskImage,
	}, loadIDXPair("usr/share/datasets/fashion-mnist", fashionClasses)},
	{BuiltinInfo{
		Name:        "mnist",
		Description: "MNIST: 70000 28x28 grayscale handwritten digits (official 60k train + 10k test pooled), 10 classes",
		Package:     "mnist", Task: TaskImage,
	}, loadIDXPair("data", digitClasses)},
}

// Builtins lists the built-in datasets.
func Builtins() []BuiltinInfo {
	out := make([]BuiltinInfo, len(builtins))
	for i, b := range builtins {
		out[i] = b.info
	}
	return out
}

func builtinNames() string {
	var n []string
	for _, b := range builtins {
		n = append(n, b.info.Name)
	}
	return strings.Join(n, ", ")
}

// LoadBuiltin fetches (via assets.Ensure, a no-op when cached) and reads a
// built-in dataset.
func LoadBuiltin(ctx context.Context, name string, log io.Writer) (*Dataset, error) {
	for _, b := range builtins {
		if b.info.Name != name {
			continue
		}
		dir, err := assets.Ensure(ctx, b.info.Package, log)
		if err != nil {
			return nil, fmt.Errorf("data: built-in %q: %w", name, err)
		}
		d, err := b.load(ctx, dir, log)
		if err != nil {
			return nil, fmt.Errorf("data: built-in %q: %w", name, err)
		}
		d.Name, d.Source = name, dir
		return d, nil
	}
	return nil, fmt.Errorf("data: unknown built-in dataset %q (built-ins: %s)", name, builtinNames())
}

// Load reads a built-in dataset by name, or else a data file by path.
func Load(ctx context.Context, nameOrPath string, log io.Writer) (*Dataset, error) {
	for _, b := range builtins {
		if b.info.Name == nameOrPath {
			return LoadBuiltin(ctx, nameOrPath, log)
		}
	}
	if _, err := os.Stat(nameOrPath); err != nil {
		return nil, fmt.Errorf("data: %q is neither a built-in dataset (%s) nor a readable file: %w", nameOrPath, builtinNames(), err)
	}
	return LoadFile(nameOrPath)
}

// loadSentiment is the UCI sentences labelled negative/positive.
func loadSentiment(_ context.Context, dir string, log io.Writer) (*Dataset, error) {
	ss, skipped, err := readSentences(dir)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Classes: []string{"negative", "positive"}}
	for _, s := range ss {
		d.Examples = append(d.Examples, Example{Text: s.text, Label: s.sentiment, Line: s.line})
	}
	if log != nil {
		fmt.Fprintf(log, "data: sentiment: %d sentences, %d null rows skipped\n", len(d.Examples), skipped)
	}
	return d, nil
}

// loadSpam reads the SpamAssassin mails listed in data/file_list.json; the
// folder of each file (easy-ham-*, hard-ham-*, spam-*) gives its class.
func loadSpam(ctx context.Context, dir string, log io.Writer) (*Dataset, error) {
	return loadSpamAs(ctx, dir, log, "spam")
}

// loadSpamValue is spam with a real value channel (issue 15): the task is
// ham vs spam as in spam, and each hard-ham mail — legitimate mail that
// looks commercial, the corpus's own subset — carries the value "ham": a
// user who must receive such mail (newsletters, receipts, offers they
// asked for) wants a filter that never flags it, whatever it learned from
// its supervisor.
func loadSpamValue(ctx context.Context, dir string, log io.Writer) (*Dataset, error) {
	return loadSpamAs(ctx, dir, log, "spam-value")
}

func loadSpamAs(ctx context.Context, dir string, log io.Writer, name string) (*Dataset, error) {
	ms, empty, err := readMails(ctx, dir, log, name)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Classes: []string{"ham", "spam"}}
	for _, m := range ms {
		var label int
		switch {
		case strings.Contains(m.group, "ham"):
			label = 0
		case strings.HasPrefix(m.group, "spam"):
			label = 1
		default:
			return nil, fmt.Errorf("%s: entry %d: unknown group %q", filepath.Join(dir, "data", "file_list.json"), m.entry, m.group)
		}
		ex := Example{Text: m.text, Label: label, Line: m.entry}
		if name == "spam-value" && strings.HasPrefix(m.group, "hard-ham") {
			ex.Value = 1 + 0 // must be output as class 0, ham
		}
		d.Examples = append(d.Examples, ex)
	}
	if log != nil {
		c := d.ClassCounts()
		fmt.Fprintf(log, "data: %s: %d mails (ham %d, spam %d); %d dropped as empty after stripping headers and markup\n", name, len(d.Examples), c[0], c[1], empty)
	}
	return d, nil
}
