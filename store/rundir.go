package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RunDir is the layout of one `w2s run` output directory:
//
//	DIR/results.jsonl     one Row per cell and seed (rewritten atomically at the end)
//	DIR/summary.json      []Summary
//	DIR/comparisons.json  each method against the baseline (eval.Comparison) and
//	                      the A/A null's false positives, when two methods ran
//	DIR/report.html       the report
//	DIR/cells/KEY.json    one finished Row each, written atomically as soon as it
//	                      is done; a rerun skips every KEY present, so a kill at
//	                      any moment loses at most the rows in flight.
type RunDir struct{ Dir string }

// CellKey names a finished row: the cell's config hash and seed.
func CellKey(configHash string, seed int64) string {
	return fmt.Sprintf("%s-s%d", configHash, seed)
}

func (r RunDir) cellPath(key string) string {
	return filepath.Join(r.Dir, "cells", key+".json")
}

// Done returns the finished row for key, if a valid one exists. A file that
// does not parse (which atomic writes should make impossible) counts as not
// done, so the cell is recomputed rather than trusted.
func (r RunDir) Done(key string) (Row, bool) {
	if r.Dir == "" {
		return Row{}, false
	}
	b, err := os.ReadFile(r.cellPath(key))
	if err != nil {
		return Row{}, false
	}
	var row Row
	if err := json.Unmarshal(b, &row); err != nil {
		return Row{}, false
	}
	return row, true
}

// SaveCell records a finished row under key.
func (r RunDir) SaveCell(key string, row Row) error {
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("encoding row %s: %w", key, err)
	}
	return WriteFileAtomic(r.cellPath(key), append(b, '\n'))
}

// WriteResults writes results.jsonl (rows in the given order) and summary.json.
func (r RunDir) WriteResults(rows []Row, sums []Summary) error {
	var buf bytes.Buffer
	for _, row := range rows {
		b, err := json.Marshal(row)
		if err != nil {
			return fmt.Errorf("encoding results row: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := WriteFileAtomic(filepath.Join(r.Dir, "results.jsonl"), buf.Bytes()); err != nil {
		return err
	}
	b, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding summary: %w", err)
	}
	return WriteFileAtomic(filepath.Join(r.Dir, "summary.json"), append(b, '\n'))
}

// WriteComparisons writes DIR/comparisons.json: v as indented JSON (the
// caller's eval comparisons; store does not depend on eval).
func (r RunDir) WriteComparisons(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding comparisons: %w", err)
	}
	return WriteFileAtomic(filepath.Join(r.Dir, "comparisons.json"), append(b, '\n'))
}

// ReadResults reads DIR/results.jsonl (DIR may also name the file itself).
func ReadResults(path string) ([]Row, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "results.jsonl")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var row Row
		if err := json.Unmarshal([]byte(text), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, errors.New(path + ": no results rows")
	}
	return rows, nil
}

// SortRows orders rows by dataset, weak, strong, method, seed: results.jsonl
// then reads the same whatever order cells finished in.
func SortRows(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.Weak != b.Weak {
			return a.Weak < b.Weak
		}
		if a.Strong != b.Strong {
			return a.Strong < b.Strong
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Seed < b.Seed
	})
}
