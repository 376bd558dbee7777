package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Input column names a user file may use; exactly one input kind per file.
const (
	colText     = "text"
	colFeatures = "features"
	colImage    = "image"
	colLabel    = "label"
)

// LoadFile reads a labelled dataset from a .jsonl/.ndjson, .csv or
// .parquet file, choosing the reader by extension. Every problem is an
// *InputError naming the file, the line (or Parquet row) and the reason.
func LoadFile(path string) (*Dataset, error) {
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
		err = readJSONL(f, b)
	case ".csv":
		err = readCSV(f, b)
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

// nonFinite spots the NaN/Infinity tokens Python's json.dumps writes, so
// such a line gets a reason that says what is wrong instead of "invalid
// character 'N'".
var nonFinite = regexp.MustCompile(`(^|[\[,:\s])-?(NaN|Infinity)\b`)

func readJSONL(r io.Reader, b *builder) error {
	br := bufio.NewReaderSize(r, 1<<20)
	line := 0
	for {
		raw, err := br.ReadBytes('\n')
		if len(raw) > 0 {
			line++
			if t := bytes.TrimSpace(raw); len(t) > 0 {
				row, perr := parseJSONLine(t)
				if perr != nil {
					return &InputError{File: b.file, Line: line, Reason: perr.Error(), Err: perr}
				}
				if err := b.add(line, row); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("data: read %s: %w", b.file, err)
		}
	}
	if b.n() == 0 {
		return &InputError{File: b.file, Line: max(line, 1), Reason: "empty file: no rows"}
	}
	return nil
}

func parseJSONLine(t []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if nonFinite.Match(t) {
			return nil, errors.New("non-finite number (NaN or Infinity): values must be finite")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: extra data after the object (one object per line)")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("line is a JSON %s, want an object", jsonType(v))
	}
	return m, nil
}

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
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		cols[h] = i
	}
	if _, ok := cols[colLabel]; !ok && !b.inputsOnly {
		return &InputError{File: b.file, Line: 1, Reason: fmt.Sprintf("missing column %q in header (columns: %s)", colLabel, strings.Join(header, ", "))}
	}
	input := ""
	for _, c := range []string{colText, colFeatures, colImage} {
		if _, ok := cols[c]; ok {
			input = c
			break
		}
	}
	if input == "" {
		return &InputError{File: b.file, Line: 1, Reason: fmt.Sprintf("missing input column: need %q, %q or %q in header (columns: %s)", colText, colFeatures, colImage, strings.Join(header, ", "))}
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

// csvLabel types a CSV cell, which is always text: integers and decimal
// numbers become numbers (so "1.5" is rejected like a JSON 1.5), anything
// else is a string label; an empty cell counts as null.
func csvLabel(s string) any {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f
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

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// readParquet reads generic rows: it finds the leaf columns of text,
// features (a LIST or repeated float/double), image and label by their
// top-level name and decodes each row's values itself, so any writer's
// list layout works.
func readParquet(f *os.File, b *builder) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("data: stat %s: %w", b.file, err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return &InputError{File: b.file, Line: 0, Reason: "invalid Parquet file: " + err.Error(), Err: err}
	}
	leaf := map[string]int{}
	var names []string
	for i, path := range pf.Schema().Columns() {
		if _, seen := leaf[path[0]]; !seen {
			leaf[path[0]] = i
			names = append(names, path[0])
		}
	}
	labelCol, hasLabel := leaf[colLabel]
	if !hasLabel && !b.inputsOnly {
		return &InputError{File: b.file, Line: 0, Reason: fmt.Sprintf("missing column %q in schema (columns: %s)", colLabel, strings.Join(names, ", "))}
	}
	input := ""
	for _, c := range []string{colText, colFeatures, colImage} {
		if _, ok := leaf[c]; ok {
			input = c
			break
		}
	}
	if input == "" {
		return &InputError{File: b.file, Line: 0, Reason: fmt.Sprintf("missing input column: need %q, %q or %q in schema (columns: %s)", colText, colFeatures, colImage, strings.Join(names, ", "))}
	}
	inCol := leaf[input]
	if !hasLabel {
		labelCol = -1 // matches no column
	}
	rowNum := 0
	buf := make([]parquet.Row, 256)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				rowNum++
				var in, label []parquet.Value
				for _, v := range r {
					switch v.Column() {
					case inCol:
						in = append(in, v)
					case labelCol:
						label = append(label, v)
					}
				}
				row := map[string]any{}
				var cerr error
				if input == colFeatures {
					row[input], cerr = parquetList(in)
				} else {
					row[input], cerr = parquetScalar(in)
				}
				if cerr == nil && hasLabel {
					row[colLabel], cerr = parquetScalar(label)
				}
				if cerr != nil {
					rows.Close()
					return &InputError{File: b.file, Line: rowNum, Reason: cerr.Error(), Err: cerr}
				}
				if aerr := b.add(rowNum, row); aerr != nil {
					rows.Close()
					return aerr
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				rows.Close()
				return &InputError{File: b.file, Line: rowNum + 1, Reason: "reading Parquet rows: " + err.Error(), Err: err}
			}
		}
		rows.Close()
	}
	if b.n() == 0 {
		return &InputError{File: b.file, Line: 0, Reason: "empty file: no rows"}
	}
	return nil
}

// parquetValue converts one physical value to the loader's generic types
// (the same ones the JSON decoder yields), copying byte arrays because the
// reader reuses its buffers.
func parquetValue(v parquet.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean(), nil
	case parquet.Int32:
		return int64(v.Int32()), nil
	case parquet.Int64:
		return v.Int64(), nil
	case parquet.Float:
		return float64(v.Float()), nil
	case parquet.Double:
		return v.Double(), nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray()), nil
	}
	return nil, fmt.Errorf("unsupported Parquet type %v", v.Kind())
}

func parquetScalar(vs []parquet.Value) (any, error) {
	if len(vs) != 1 {
		return nil, fmt.Errorf("expected one value per row, got %d (a repeated column?)", len(vs))
	}
	return parquetValue(vs[0])
}

func parquetList(vs []parquet.Value) (any, error) {
	// An empty or null list is a single null value; a null inside a longer
	// list is a missing feature.
	if len(vs) == 1 && vs[0].IsNull() {
		return []any{}, nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		if v.IsNull() {
			return nil, fmt.Errorf("feature %d is null", i)
		}
		x, err := parquetValue(v)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// builder validates generic rows (from any reader) and accumulates
// examples. The first row fixes the input kind, the label type and the
// feature length; later rows must agree.
type builder struct {
	file, dir string
	// inputsOnly skips labels entirely (LoadInputs).
	inputsOnly bool
	input      string
	firstLine  int
	dim        int
	intLabels  bool
	examples   []Example
	ints       []int64
	strs       []string
}

func (b *builder) n() int { return len(b.examples) }

func (b *builder) errf(line int, format string, args ...any) error {
	return &InputError{File: b.file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

func (b *builder) add(line int, row map[string]any) error {
	first := len(b.examples) == 0
	if first {
		b.firstLine = line
		for _, c := range []string{colText, colFeatures, colImage} {
			if _, ok := row[c]; ok {
				b.input = c
				break
			}
		}
		if b.input == "" {
			return b.errf(line, "missing input column: need %q, %q or %q", colText, colFeatures, colImage)
		}
	}
	ex := Example{Line: line}
	v, ok := row[b.input]
	if !ok {
		return b.errf(line, "missing column %q (the first row, line %d, has it)", b.input, b.firstLine)
	}
	switch b.input {
	case colText, colImage:
		s, ok := v.(string)
		if !ok {
			return b.errf(line, "column %q must be a string, got %s", b.input, jsonType(v))
		}
		if strings.TrimSpace(s) == "" {
			return b.errf(line, "empty %s", b.input)
		}
		if b.input == colText {
			ex.Text = s
		} else {
			// Relative image paths are relative to the data file, so a
			// dataset directory can be moved as a whole.
			if !filepath.IsAbs(s) {
				s = filepath.Join(b.dir, s)
			}
			if _, err := os.Stat(s); err != nil {
				return b.errf(line, "image %s: %v", s, err)
			}
			ex.Image = s
		}
	case colFeatures:
		fs, err := toFeatures(v)
		if err != nil {
			return b.errf(line, "%v", err)
		}
		if first {
			b.dim = len(fs)
		} else if len(fs) != b.dim {
			return b.errf(line, "ragged features: %d values, the first row (line %d) has %d", len(fs), b.firstLine, b.dim)
		}
		ex.Features = fs
	}
	if b.inputsOnly {
		b.examples = append(b.examples, ex)
		return nil
	}
	lv, ok := row[colLabel]
	if !ok {
		return b.errf(line, "missing column %q", colLabel)
	}
	isInt, i, s, err := toLabel(lv)
	if err != nil {
		return b.errf(line, "%v", err)
	}
	if first {
		b.intLabels = isInt
	} else if isInt != b.intLabels {
		return b.errf(line, "label %v is %s but the first row's (line %d) is %s: use one label type", lv, kindName(isInt), b.firstLine, kindName(b.intLabels))
	}
	b.examples = append(b.examples, ex)
	if isInt {
		b.ints = append(b.ints, i)
	} else {
		b.strs = append(b.strs, s)
	}
	return nil
}

func kindName(isInt bool) string {
	if isInt {
		return "an int"
	}
	return "a string"
}

// finish turns raw labels into class indices: classes are the sorted
// distinct values (numerically for ints), so the same data always gets the
// same class order whatever the row order or file format.
func (b *builder) finish() (*Dataset, error) {
	d := &Dataset{Examples: b.examples}
	if b.intLabels {
		vals := slices.Clone(b.ints)
		slices.Sort(vals)
		vals = slices.Compact(vals)
		for _, v := range vals {
			d.Classes = append(d.Classes, strconv.FormatInt(v, 10))
		}
		for k, v := range b.ints {
			d.Examples[k].Label, _ = slices.BinarySearch(vals, v)
		}
	} else {
		vals := slices.Clone(b.strs)
		slices.Sort(vals)
		vals = slices.Compact(vals)
		d.Classes = vals
		for k, v := range b.strs {
			d.Examples[k].Label, _ = slices.BinarySearch(vals, v)
		}
	}
	if len(d.Classes) < 2 {
		return nil, b.errf(b.firstLine, "only one class (%q) in %d rows: a classifier needs at least 2", d.Classes[0], len(d.Examples))
	}
	return d, nil
}

func toFeatures(v any) ([]float32, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("column %q must be an array of numbers, got %s", colFeatures, jsonType(v))
	}
	if len(arr) == 0 {
		return nil, fmt.Errorf("empty %s array", colFeatures)
	}
	out := make([]float32, len(arr))
	for i, x := range arr {
		var f float64
		switch t := x.(type) {
		case json.Number:
			var err error
			f, err = strconv.ParseFloat(string(t), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("feature %d (%s) is not a number", i, t)
			}
		case float64:
			f = t
		case int64:
			f = float64(t)
		default:
			return nil, fmt.Errorf("feature %d is %s, want a number", i, jsonType(x))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("feature %d is %v: values must be finite", i, f)
		}
		if math.Abs(f) > math.MaxFloat32 {
			return nil, fmt.Errorf("feature %d (%g) overflows float32 to Inf: values must be finite", i, f)
		}
		out[i] = float32(f)
	}
	return out, nil
}

// toLabel accepts integers (also integral floats such as 1.0) and
// non-empty strings. Fractions, booleans, nulls, arrays and objects have no
// obvious class meaning, so they are rejected rather than guessed at.
func toLabel(v any) (isInt bool, i int64, s string, err error) {
	var f float64
	switch t := v.(type) {
	case int64:
		return true, t, "", nil
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return true, i, "", nil
		}
		f, err = t.Float64()
		if err != nil {
			return false, 0, "", fmt.Errorf("label %s is not a usable number", t)
		}
	case float64:
		f = t
	case string:
		if strings.TrimSpace(t) == "" {
			return false, 0, "", errors.New("empty label")
		}
		return false, 0, t, nil
	case nil:
		return false, 0, "", errors.New("label is null")
	default:
		return false, 0, "", fmt.Errorf("label has unsupported type %s: use an int or a string", jsonType(v))
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return false, 0, "", fmt.Errorf("label %v is a float with a fraction (unsupported type): use an int or a string", f)
	}
	return true, int64(f), "", nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case string:
		return "string"
	case json.Number, float64, int64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
