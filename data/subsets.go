package data

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/superalign/superalign/progress"
)

// The K > 2 built-ins relabel the two binary corpora by where each example
// came from, so that multi-class methods and co-supervision have real
// multi-class text tasks: review-source asks which site a review sentence
// was posted on (imdb, yelp, amazon: 3 classes of 1000), spam-subset which
// SpamAssassin folder a mail sits in (easy ham, hard ham, spam: 3900, 250
// and 1876 mails; 20 of the 1896 spam mails have no text once headers and
// markup are stripped). Both keep their class mix: Balance only
// undersamples binary datasets, so hard ham stays the 4% minority it is.
// spam-hardham is the binary task inside spam-subset: hard ham against
// easy ham (250 vs 3900), imbalanced by nature.

// sentimentSources are the UCI fixture files, in reading order.
var sentimentSources = []string{"imdb", "yelp", "amazon"}

// sentence is one review sentence of the UCI fixtures.
type sentence struct {
	text      string
	sentiment int // 0 negative, 1 positive
	source    int // index into sentimentSources
	line      int // 1-based record in its file
}

// readSentences reads the three UCI fixture files in a fixed order. Each
// file ends with one {"text":"","class":null} row, which is skipped and
// counted.
func readSentences(dir string) (out []sentence, skipped int, err error) {
	for si, src := range sentimentSources {
		path := filepath.Join(dir, "test", "fixtures", src+".json")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, 0, err
		}
		var rows []struct {
			Text  string `json:"text"`
			Class *int   `json:"class"`
		}
		if err := json.Unmarshal(b, &rows); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		for i, r := range rows {
			text := strings.TrimSpace(r.Text)
			if r.Class == nil || text == "" {
				skipped++
				continue
			}
			if *r.Class != 0 && *r.Class != 1 {
				return nil, 0, fmt.Errorf("%s: record %d: class %d, want 0 or 1", path, i+1, *r.Class)
			}
			out = append(out, sentence{text: text, sentiment: *r.Class, source: si, line: i + 1})
		}
	}
	return out, skipped, nil
}

// loadReviewSource is the sentiment sentences labelled by source site.
func loadReviewSource(_ context.Context, dir string, log io.Writer) (*Dataset, error) {
	ss, skipped, err := readSentences(dir)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Classes: append([]string(nil), sentimentSources...)}
	for _, s := range ss {
		d.Examples = append(d.Examples, Example{Text: s.text, Label: s.source, Line: s.line})
	}
	if log != nil {
		fmt.Fprintf(log, "data: review-source: %d sentences %v, %d null rows skipped\n", len(d.Examples), d.ClassCounts(), skipped)
	}
	return d, nil
}

// mail is one SpamAssassin message, its folder (easy-ham-1, hard-ham-1,
// spam-2, ...) and its entry in the file list.
type mail struct {
	text, group string
	entry       int // 1-based entry of data/file_list.json
}

// readMails reads the SpamAssassin mails listed in data/file_list.json, as
// mailText, dropping those with no text left after stripping headers and
// markup (counted in empty).
func readMails(ctx context.Context, dir string, log io.Writer, name string) (out []mail, empty int, err error) {
	listPath := filepath.Join(dir, "data", "file_list.json")
	b, err := os.ReadFile(listPath)
	if err != nil {
		return nil, 0, err
	}
	var files []string
	if err := json.Unmarshal(b, &files); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", listPath, err)
	}
	bar := progress.New(log, "data: "+name+": reading mails", len(files), "mails")
	for i, f := range files {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		group, _, _ := strings.Cut(f, "/")
		raw, err := os.ReadFile(filepath.Join(dir, "data", filepath.FromSlash(f)))
		if err != nil {
			return nil, 0, err
		}
		bar.Add(1)
		text := mailText(raw)
		if text == "" {
			empty++
			continue
		}
		out = append(out, mail{text: text, group: group, entry: i + 1})
	}
	bar.Done()
	return out, empty, nil
}

// spamSubsets are the classes of spam-subset, matched against the folder
// name in this order (so "hard-ham-1" is hard ham, not ham).
var spamSubsets = []string{"easy-ham", "hard-ham", "spam"}

// loadSpamSubset is the SpamAssassin corpus labelled by folder kind.
func loadSpamSubset(ctx context.Context, dir string, log io.Writer) (*Dataset, error) {
	ms, empty, err := readMails(ctx, dir, log, "spam-subset")
	if err != nil {
		return nil, err
	}
	d := &Dataset{Classes: append([]string(nil), spamSubsets...)}
	for _, m := range ms {
		label := -1
		for c, prefix := range spamSubsets {
			if strings.HasPrefix(m.group, prefix) {
				label = c
				break
			}
		}
		if label < 0 {
			return nil, fmt.Errorf("%s: entry %d: unknown group %q", filepath.Join(dir, "data", "file_list.json"), m.entry, m.group)
		}
		d.Examples = append(d.Examples, Example{Text: m.text, Label: label, Line: m.entry})
	}
	if log != nil {
		c := d.ClassCounts()
		fmt.Fprintf(log, "data: spam-subset: %d mails (easy ham %d, hard ham %d, spam %d); %d dropped as empty after stripping headers and markup\n",
			len(d.Examples), c[0], c[1], c[2], empty)
	}
	return d, nil
}

// loadSpamHardHam is the SpamAssassin ham alone, labelled easy ham (0) or
// hard ham (1): the corpus's own split of legitimate mail into what a
// filter passes easily and what resembles spam. It is a real imbalanced
// binary task, 250 hard-ham mails among 4150 (6%), for studying weak
// supervision with a rare positive class (--balance none or weight); the
// default --balance undersample cuts it to 250 + 250.
func loadSpamHardHam(ctx context.Context, dir string, log io.Writer) (*Dataset, error) {
	ms, empty, err := readMails(ctx, dir, log, "spam-hardham")
	if err != nil {
		return nil, err
	}
	d := &Dataset{Classes: []string{"easy-ham", "hard-ham"}}
	spam := 0
	for _, m := range ms {
		switch {
		case strings.HasPrefix(m.group, "easy-ham"):
			d.Examples = append(d.Examples, Example{Text: m.text, Label: 0, Line: m.entry})
		case strings.HasPrefix(m.group, "hard-ham"):
			d.Examples = append(d.Examples, Example{Text: m.text, Label: 1, Line: m.entry})
		case strings.HasPrefix(m.group, "spam"):
			spam++
		default:
			return nil, fmt.Errorf("%s: entry %d: unknown group %q", filepath.Join(dir, "data", "file_list.json"), m.entry, m.group)
		}
	}
	if log != nil {
		c := d.ClassCounts()
		fmt.Fprintf(log, "data: spam-hardham: %d ham mails (easy %d, hard %d); %d spam mails left out; %d dropped as empty after stripping headers and markup\n",
			len(d.Examples), c[0], c[1], spam, empty)
	}
	return d, nil
}
