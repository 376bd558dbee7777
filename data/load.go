package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Input column names a user file may use; exactly one input kind per file.
const (
	colText     = "text"
	colFeatures = "features"
	colImage    = "image"
	colLabel    = "label"
	// colValue is the optional value channel: a class the output must be
	// (same type as the labels), or empty/null for no constraint.
	colValue = "value"
)

// LoadFile reads a labelled dataset from a .jsonl/.ndjson, .csv or
// .parquet file, choosing the reader by extension. Every problem is an
// *InputError naming the file, the line (or Parquet row) and the reason.
//
// A file with preference columns (chosen/rejected, or a/b/preferred) is a
// preference file, read by LoadPairs.
func LoadFile(path string) (*Dataset, error) {
	if sniffPairFormat(path) != "" {
		return LoadPairs(path)
	}
	b, err := readFile(path, false)
	if err != nil {
		return nil, err
	}
	d, err := b.finish()
	if err != nil {
		return nil, err
	}
	d.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	d.Source = path
	return d, nil
}

// LoadInputs reads the inputs of a file in any format LoadFile takes, with
// the same validation, but the label column is optional and ignored: it
// feeds `w2s embed`, which needs no labels. Examples come back in file order
// with Label 0.
func LoadInputs(path string) ([]Example, error) {
	b, err := readFile(path, true)
	if err != nil {
		return nil, err
	}
	if len(b.examples) == 0 {
		return nil, &InputError{File: path, Line: 0, Reason: "no rows"}
	}
	return b.examples, nil
}

func readFile(path string, inputsOnly bool) (*builder, error) {
	ext := strings.ToLower(filepath.Ext(path))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	defer f.Close()
	b := &builder{file: path, dir: filepath.Dir(path), inputsOnly: inputsOnly}
	switch ext {
	case ".jsonl", ".ndjson":
		err = readJSONL(skipBOM(f), b)
	case ".csv":
		err = readCSV(skipBOM(f), b)
	case ".parquet":
		err = readParquet(f, b)
	default:
		return nil, fmt.Errorf("data: %s: unknown extension %q (want .jsonl, .ndjson, .csv or .parquet)", path, ext)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// utf8BOM is the byte order mark some editors write at the start of a UTF-8
// file. Text formats skip it there, and only there.
const utf8BOM = "\ufeff"

// skipBOM returns a reader of r without a leading UTF-8 BOM.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 1<<20)
	if head, err := br.Peek(len(utf8BOM)); err == nil && string(head) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	return br
}

// invalidUTF8 describes where b, a line, field or value, stops being UTF-8.
func invalidUTF8(b []byte, what string) string {
	off := 0
	for off < len(b) {
		r, size := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	return fmt.Sprintf("invalid UTF-8 at byte %d of the %s (byte 0x%02x): save the file as UTF-8", off+1, what, b[off])
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// caseVariant rejects a column whose name differs from one the loaders
// read only in case or surrounding space ("Label", "TEXT"): such a column
// would be ignored while its author believes it is read, and a second
// exact "label" beside it would silently win.
func caseVariant(name string) error {
	for _, c := range []string{colText, colFeatures, colImage, colLabel, colValue} {
		if name != c && strings.EqualFold(strings.TrimSpace(name), c) {
			return fmt.Errorf("column %q is read only when named exactly %q (names are case-sensitive): rename it", clip(name, 40), c)
		}
	}
	return nil
}

// inputsIn lists the input columns present, in a fixed order.
func inputsIn(has func(string) bool) []string {
	var in []string
	for _, c := range []string{colText, colFeatures, colImage} {
		if has(c) {
			in = append(in, c)
		}
	}
	return in
}

// oneInput returns the one input column present: none, or two at once
// (text and features, say), is an error rather than a silent choice.
func oneInput(has func(string) bool) (string, error) {
	in := inputsIn(has)
	switch len(in) {
	case 0:
		return "", fmt.Errorf("missing input column: need %q, %q or %q", colText, colFeatures, colImage)
	case 1:
		return in[0], nil
	}
	return "", fmt.Errorf("input columns %q and %q both present: a file has exactly one input column (which is meant?)", in[0], in[1])
}
