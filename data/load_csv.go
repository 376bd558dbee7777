package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

func readCSV(r io.Reader, b *builder) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return &InputError{File: b.file, Line: 1, Reason: "empty file: no header row"}
	}
	if err != nil {
		return csvError(b.file, err)
	}
	header = slices.Clone(header) // ReuseRecord: the next Read overwrites it
	line1, _ := cr.FieldPos(0)
	cols := map[string]int{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return &InputError{File: b.file, Line: line1, Reason: fmt.Sprintf("header column %d: %s", i+1, invalidUTF8([]byte(h), "name"))}
		}
		h = strings.TrimSpace(h)
		if err := caseVariant(h); err != nil {
			return &InputError{File: b.file, Line: line1, Reason: fmt.Sprintf("header column %d: %v", i+1, err), Err: err}
		}
		if j, dup := cols[h]; dup && h != "" {
			return &InputError{File: b.file, Line: line1, Reason: fmt.Sprintf("columns %d and %d of the header are both named %q: rename or drop one (which is meant?)", j+1, i+1, h)}
		}
		cols[h] = i
	}
	if _, ok := cols[colLabel]; !ok && !b.inputsOnly {
		return &InputError{File: b.file, Line: 1, Reason: fmt.Sprintf("missing column %q in header (columns: %s)", colLabel, strings.Join(header, ", "))}
	}
	input, err := oneInput(func(c string) bool { _, ok := cols[c]; return ok })
	if err != nil {
		return &InputError{File: b.file, Line: line1, Reason: fmt.Sprintf("%v in header (columns: %s)", err, strings.Join(header, ", "))}
	}
	last := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvError(b.file, err)
		}
		line, _ := cr.FieldPos(0)
		last = line
		for i, f := range rec {
			if !utf8.ValidString(f) {
				fl, _ := cr.FieldPos(i)
				return &InputError{File: b.file, Line: fl, Reason: fmt.Sprintf("column %q: %s", strings.TrimSpace(header[i]), invalidUTF8([]byte(f), "field"))}
			}
		}
		row := map[string]any{}
		cell := rec[cols[input]]
		switch input {
		case colFeatures:
			fs, err := parseFeatureCell(cell)
			if err != nil {
				return &InputError{File: b.file, Line: line, Reason: err.Error(), Err: err}
			}
			row[input] = fs
		default:
			row[input] = cell
		}
		if li, ok := cols[colLabel]; ok {
			row[colLabel] = csvLabel(rec[li])
		}
		if vi, ok := cols[colValue]; ok {
			row[colValue] = csvLabel(rec[vi])
		}
		if err := b.add(line, row); err != nil {
			return err
		}
	}
	if b.n() == 0 {
		return &InputError{File: b.file, Line: last + 1, Reason: "empty file: no data rows after the header"}
	}
	return nil
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{File: file, Line: pe.Line, Reason: "invalid CSV: " + pe.Err.Error(), Err: err}
	}
	return fmt.Errorf("data: read %s: %w", file, err)
}

// csvLabel passes a CSV label cell on as text, for toLabel to type by the
// rule every format shares; a blank cell is CSV's null.
func csvLabel(s string) any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return s
}

// parseFeatureCell reads a CSV features cell written as a JSON array. It
// accepts NaN and Inf tokens so that they are reported as non-finite
// values rather than as a syntax error.
func parseFeatureCell(s string) ([]any, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("column %q must hold a JSON array of numbers like [0.5, 1], got %q", colFeatures, clip(s, 40))
	}
	inner := strings.TrimSpace(s[1 : len(s)-1])
	if inner == "" {
		return []any{}, nil
	}
	parts := strings.Split(inner, ",")
	out := make([]any, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("feature %d (%q) is not a number", i, clip(strings.TrimSpace(p), 20))
		}
		out[i] = f
	}
	return out, nil
}
