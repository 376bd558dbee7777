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

// A run's datasets are told apart by name in its rows, summaries and saved
// cells, so the names must be unique within the run: two files called
// reviews.jsonl in different folders must not become one "reviews" whose
// seeds are averaged together, and the same content under two names is two
// datasets, each reported (its cells keyed by name as well as content).

// IsBuiltin reports whether entry names a built-in dataset (which Load
// prefers over a file of that name).
func IsBuiltin(entry string) bool {
	for _, b := range builtins {
		if b.info.Name == entry {
			return true
		}
	}
	return false
}

// fileName is the name LoadFile gives a file: its base name without the
// extension.
func fileName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// DisplayNames returns, for each --data entry, the name its rows carry: a
// built-in's name, a file's base name without extension, or, when that name
// is shared with another entry, the file's path as given (cleaned). An
// entry given twice (the same built-in, or paths naming the same file) is
// an error, not a second copy of the results.
func DisplayNames(entries []string) ([]string, error) {
	names := make([]string, len(entries))
	count := map[string]int{}
	stats := make([]os.FileInfo, len(entries))
	for i, e := range entries {
		if IsBuiltin(e) {
			names[i] = e
		} else {
			names[i] = fileName(e)
			stats[i], _ = os.Stat(e) // a missing file is CheckInputs' to report
		}
		for j := range i {
			if entries[j] == e {
				return nil, fmt.Errorf("--data lists %s twice (entries %d and %d): give each dataset once", e, j+1, i+1)
			}
			if stats[i] != nil && stats[j] != nil && os.SameFile(stats[i], stats[j]) {
				// Different names for one file (a link, "a/../a"): say so,
				// or the user sees two names and no duplicate.
				return nil, fmt.Errorf("--data entries %d (%s) and %d (%s) are the same file (a link or another path to it): give each dataset once", j+1, entries[j], i+1, e)
			}
		}
		count[names[i]]++
	}
	for i, e := range entries {
		if count[names[i]] > 1 && !IsBuiltin(e) {
			names[i] = filepath.Clean(e)
		}
	}
	seen := map[string]int{}
	for i, n := range names {
		if j, dup := seen[n]; dup { // only a file path equal to another entry's name is left
			return nil, fmt.Errorf("--data entries %d (%s) and %d (%s) would both be reported as %q: rename one", j+1, entries[j], i+1, entries[i], n)
		}
		seen[n] = i
	}
	return names, nil
}

// CheckInputs validates every --data entry before any work starts, so that
// a bad last file is found before the first one is computed: a file is
// read in full with every check LoadFile makes; a built-in's package is
// fetched if missing and verified. Entries with the same content under
// different names are reported on log (both are run). It returns the
// display names of DisplayNames.
func CheckInputs(ctx context.Context, entries []string, log io.Writer) ([]string, error) {
	names, err := DisplayNames(entries)
	if err != nil {
		return nil, err
	}
	byHash := map[string]int{}
	for i, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if IsBuiltin(e) {
			for _, b := range builtins {
				if b.info.Name == e {
					if _, err := assets.Ensure(ctx, b.info.Package, log); err != nil {
						return nil, fmt.Errorf("data: built-in %q: %w", e, err)
					}
				}
			}
			continue
		}
		if _, err := os.Stat(e); err != nil {
			return nil, fmt.Errorf("data: %q is neither a built-in dataset (%s) nor a readable file: %w", e, builtinNames(), err)
		}
		d, err := LoadFile(e)
		if err != nil {
			return nil, err
		}
		h := d.ContentHash()
		if j, ok := byHash[h]; ok && log != nil {
			fmt.Fprintf(log, "data: note: %s has the same content as %s (sha256 %s); both are run and reported, as %q and %q\n",
				e, entries[j], h[:12], names[i], names[j])
		}
		byHash[h] = i
	}
	return names, nil
}
