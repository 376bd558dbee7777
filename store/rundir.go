package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/superalign/superalign/internal/atomicfile"
)

// RunDir is the layout of one `w2s run` output directory:
//
//	DIR/results.jsonl     one Row per cell and seed   } committed together at the
//	DIR/summary.json      []Summary                   } end (atomicfile.Commit): all or
//	DIR/comparisons.json  each method against the     } none of them
//	                      baseline and the A/A null   }
//	DIR/report.html       the report                  }
//	DIR/cells/KEY.json    one finished Row each, written atomically as soon as it
//	                      is done, with a checksum; a rerun skips every KEY whose
//	                      file is valid, so a kill at any moment loses at most the
//	                      rows in flight
//	DIR/INCOMPLETE        while a run is in flight or after it failed (lock.go)
//	DIR/previous/         the results of the run before
type RunDir struct {
	Dir string
	// Log receives a line for every saved cell that is present but invalid
	// (and therefore recomputed); nil means os.Stderr.
	Log io.Writer
}

func (r RunDir) cellPath(key string) string {
	return filepath.Join(r.Dir, "cells", key+".json")
}

// cellSchema tags the cell file format.
const cellSchema = "superalign-cell/v1"

// cellFile is what a cell file holds: the row with the key it was saved
// under and the sha256 of the row's bytes, so that a truncated, edited or
// misplaced file is caught rather than trusted.
type cellFile struct {
	Schema string          `json:"schema"`
	Key    string          `json:"key"`
	SHA256 string          `json:"sha256"`
	Row    json.RawMessage `json:"row"`
}

// Done returns the finished row for key, if a valid one exists. A file that
// is present but invalid (not this format, another key, a checksum that does
// not match, a row missing required fields: see CheckCell) is reported on
// Log and counts as not done, so the cell is recomputed rather than trusted.
func (r RunDir) Done(key string) (Row, bool) {
	if r.Dir == "" {
		return Row{}, false
	}
	path := r.cellPath(key)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Row{}, false
	}
	if err == nil {
		var row Row
		if row, err = CheckCell(b, key); err == nil {
			return row, true
		}
	}
	w := r.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "store: saved cell %s is not usable (%v); recomputing it\n", path, err)
	return Row{}, false
}

// CheckCell validates the bytes of a cell file saved under key and returns
// its row.
func CheckCell(b []byte, key string) (Row, error) {
	var cf cellFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		return Row{}, fmt.Errorf("not a cell file: %w", err)
	}
	if cf.Schema != cellSchema {
		return Row{}, fmt.Errorf("schema %q, want %q (an older or foreign file)", cf.Schema, cellSchema)
	}
	if cf.Key != key {
		return Row{}, fmt.Errorf("saved under key %q, found as %q", cf.Key, key)
	}
	if got := sha256Hex(cf.Row); got != cf.SHA256 {
		return Row{}, fmt.Errorf("checksum mismatch: the row's sha256 is %s, the file records %s", got[:12], clipHash(cf.SHA256))
	}
	var row Row
	rd := json.NewDecoder(bytes.NewReader(cf.Row))
	rd.DisallowUnknownFields()
	if err := rd.Decode(&row); err != nil {
		return Row{}, fmt.Errorf("row: %w", err)
	}
	if err := row.Check(); err != nil {
		return Row{}, err
	}
	return row, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func clipHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "none"
	}
	return h
}

// Check reports the first required field a results row lacks or holds out
// of range.
func (row Row) Check() error {
	for _, f := range []struct{ name, v string }{
		{"dataset", row.Dataset}, {"weak", row.Weak}, {"strong", row.Strong}, {"method", row.Method},
		{"config_hash", row.ConfigHash}, {"version", row.Version},
	} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("row lacks %s", f.name)
		}
	}
	if row.K < 2 || row.NTrainWeak < 1 || row.NTrainStrong < 1 || row.NTest < 1 {
		return fmt.Errorf("row has %d classes and splits of %d/%d/%d examples", row.K, row.NTrainWeak, row.NTrainStrong, row.NTest)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"floor_acc", row.FloorAcc}, {"ceiling_acc", row.CeilingAcc}, {"w2s_acc", row.W2SAcc},
		{"floor_auroc", row.FloorAUROC}, {"ceiling_auroc", row.CeilingAUROC}, {"w2s_auroc", row.W2SAUROC},
		{"weak_label_acc", row.WeakLabelAcc}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("row has %s %v outside [0,1]", f.name, f.v)
		}
	}
	if !row.NoGap && (row.PGR == nil || row.PGRCILow == nil || row.PGRCIHigh == nil) {
		return errors.New("row has a gap but no PGR")
	}
	return nil
}

// SaveCell records a finished row under key.
func (r RunDir) SaveCell(key string, row Row) error {
	if err := row.Check(); err != nil {
		return fmt.Errorf("row %s: %w", key, err)
	}
	rb, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("encoding row %s: %w", key, err)
	}
	b, err := json.Marshal(cellFile{Schema: cellSchema, Key: key, SHA256: sha256Hex(rb), Row: rb})
	if err != nil {
		return fmt.Errorf("encoding row %s: %w", key, err)
	}
	return atomicfile.WriteFile(r.cellPath(key), append(b, '\n'))
}

// WriteResults writes results.jsonl (rows in the given order), summary.json
// and any extra files (report.html) as one group: all of them or, when a
// write fails, none (atomicfile.Commit).
func (r RunDir) WriteResults(rows []Row, sums []Summary, extra ...File) error {
	var buf bytes.Buffer
	for _, row := range rows {
		b, err := json.Marshal(row)
		if err != nil {
			return fmt.Errorf("encoding results row: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	b, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding summary: %w", err)
	}
	files := append([]atomicfile.File{{Name: "results.jsonl", Data: buf.Bytes()}, {Name: "summary.json", Data: append(b, '\n')}}, extra...)
	return atomicfile.Commit(r.Dir, files...)
}

// File is one file of the results group WriteResults commits: a name in the
// run directory and its whole content. It is internal/atomicfile's, named
// here because store's API hands it out.
type File = atomicfile.File

// JSONFile is v as an indented JSON file of the results group
// (comparisons.json: the caller's eval comparisons; store does not depend
// on eval).
func JSONFile(name string, v any) (File, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return File{}, fmt.Errorf("encoding %s: %w", name, err)
	}
	return File{Name: name, Data: append(b, '\n')}, nil
}

// ReadResults reads DIR/results.jsonl (DIR may also name the file itself).
func ReadResults(path string) ([]Row, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "results.jsonl")
	}
	if why, ok := Incomplete(filepath.Dir(path)); ok {
		return nil, fmt.Errorf("%s: not finished: %s", filepath.Dir(path), why)
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
