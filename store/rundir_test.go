package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validRow is a complete row as a run writes it.
func validRow() Row {
	pgr, lo, hi := 0.5, 0.3, 0.7
	return Row{Dataset: "sentiment", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", Seed: 2, K: 2,
		NTrainWeak: 300, NTrainStrong: 300, NTest: 300, FloorAcc: 0.7, CeilingAcc: 0.8, W2SAcc: 0.75,
		PGR: &pgr, PGRCILow: &lo, PGRCIHigh: &hi, FloorAUROC: 0.75, CeilingAUROC: 0.85, W2SAUROC: 0.8,
		WeakLabelAcc: 0.7, ConfigHash: "0123456789abcdef", Version: "0.1.0"}
}

// TestSavedCellsValidated: a saved cell is trusted only when it is a cell
// file of this format, saved under its key, with a matching checksum and a
// complete row; anything else is reported and recomputed.
func TestSavedCellsValidated(t *testing.T) {
	const key = "0123456789abcdef-s2"
	good := func() []byte {
		dir := t.TempDir()
		if err := (RunDir{Dir: dir}).SaveCell(key, validRow()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "cells", key+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	legacy, _ := json.Marshal(validRow())
	noDataset := validRow()
	noDataset.Dataset = ""
	for _, c := range []struct {
		name, content, reason string
	}{
		{"valid", string(good), ""},
		{"null", "null", "schema"},
		{"empty object", "{}", "schema"},
		{"empty file", "", "not a cell file"},
		{"truncated", string(good[:len(good)/2]), "not a cell file"},
		{"bare row of an older version", string(legacy), "not a cell file"},
		{"other key", strings.Replace(string(good), key, "ffff-s2", 1), "saved under key"},
		{"edited row", strings.Replace(string(good), `"w2s_acc":0.75`, `"w2s_acc":0.95`, 1), "checksum mismatch"},
		{"no checksum", strings.Replace(string(good), `"sha256":"`, `"sha256":"x`, 1), "checksum mismatch"},
		{"missing field, checksum recomputed", string(resealed(t, key, noDataset)), "lacks dataset"},
		{"all-zero row, checksum recomputed", string(resealed(t, key, Row{})), "lacks dataset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "cells"), 0o755)
			if err := os.WriteFile(filepath.Join(dir, "cells", key+".json"), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			row, ok := RunDir{Dir: dir, Log: &log}.Done(key)
			if c.reason == "" {
				if !ok || row.W2SAcc != 0.75 || log.Len() != 0 {
					t.Errorf("valid cell: ok %v, row %+v, log %q", ok, row, log.String())
				}
				return
			}
			if ok {
				t.Fatalf("invalid cell trusted: %+v", row)
			}
			if !strings.Contains(log.String(), c.reason) || !strings.Contains(log.String(), key+".json") || !strings.Contains(log.String(), "recomputing") {
				t.Errorf("report %q, want the file, %q and recomputing", log.String(), c.reason)
			}
		})
	}
	// A missing cell is simply not done, and not reported.
	var log bytes.Buffer
	if _, ok := (RunDir{Dir: t.TempDir(), Log: &log}).Done(key); ok || log.Len() != 0 {
		t.Errorf("missing cell: ok %v, log %q", ok, log.String())
	}
	// A row that is not complete is not saved either.
	if err := (RunDir{Dir: t.TempDir()}).SaveCell(key, Row{}); err == nil {
		t.Error("an empty row was saved")
	}
}

// resealed writes row into a cell file with a correct checksum, as a
// careless hand edit that recomputed it would.
func resealed(t *testing.T, key string, row Row) []byte {
	rb, _ := json.Marshal(row)
	sum := sha256Hex(rb)
	b, _ := json.Marshal(cellFile{Schema: cellSchema, Key: key, SHA256: sum, Row: rb})
	return b
}

// TestRunLock: a second writer is refused with who holds the directory;
// while a run is in flight or after it failed the directory says so and
// holds no results that pass for current; Finish clears the mark.
func TestRunLock(t *testing.T) {
	dir := t.TempDir()
	if err := (RunDir{Dir: dir}).WriteResults([]Row{validRow()}, nil); err != nil {
		t.Fatal(err)
	}
	l, err := BeginRun(dir, "w2s run --data a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BeginRun(dir, "w2s run --data b"); err == nil || !strings.Contains(err.Error(), "in use by another w2s process") ||
		!strings.Contains(err.Error(), "w2s run --data a") {
		t.Errorf("second writer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.jsonl")); err == nil {
		t.Error("the previous run's results.jsonl is still in place during a new run")
	}
	if _, err := os.Stat(filepath.Join(dir, "previous", "results.jsonl")); err != nil {
		t.Errorf("previous results not kept: %v", err)
	}
	if _, err := ReadResults(dir); err == nil || !strings.Contains(err.Error(), "not finished") {
		t.Errorf("reading an unfinished run: %v", err)
	}
	l.Release() // a failed run: released without Finish
	if why, ok := Incomplete(dir); !ok || !strings.Contains(why, "w2s run --data a") {
		t.Errorf("failed run not marked incomplete: %q %v", why, ok)
	}
	l, err = BeginRun(dir, "w2s run --data a")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := (RunDir{Dir: dir}).WriteResults([]Row{validRow()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(); err != nil {
		t.Fatal(err)
	}
	l.Release()
	if _, ok := Incomplete(dir); ok {
		t.Error("finished run still marked incomplete")
	}
	if rows, err := ReadResults(dir); err != nil || len(rows) != 1 {
		t.Errorf("finished run: %d rows, %v", len(rows), err)
	}
	// An --out that cannot be a directory fails before any work.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := BeginRun(filepath.Join(file, "out"), "x"); err == nil {
		t.Error("BeginRun under a regular file succeeded")
	}
}
