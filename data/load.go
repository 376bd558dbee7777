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
	"unicode/utf8"

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
			if !utf8.Valid(raw) {
				return &InputError{File: b.file, Line: line, Reason: invalidUTF8(raw, "line")}
			}
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

// parseJSONLine reads one object. It walks the top-level keys itself
// because encoding/json keeps the last of two equal keys silently: a
// duplicated key is an error naming it.
func parseJSONLine(t []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	syntax := func(err error) error {
		if nonFinite.Match(t) {
			return errors.New("non-finite number (NaN or Infinity): values must be finite")
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("line is a JSON %s, want an object", tokenType(tok))
	}
	m := map[string]any{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key := kt.(string) // inside an object the decoder yields string keys
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("duplicate key %q: a key may appear once per line (which value is meant?)", clip(key, 40))
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, syntax(err)
		}
		m[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: extra data after the object (one object per line)")
	}
	return m, nil
}

// tokenType names the JSON type a first token starts.
func tokenType(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return string(t)
	case nil:
		return "null"
	}
	return jsonType(tok)
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
	header = slices.Clone(header) // ReuseRecord: the next Read overwrites it
	line1, _ := cr.FieldPos(0)
	cols := map[string]int{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return &InputError{File: b.file, Line: line1, Reason: fmt.Sprintf("header column %d: %s", i+1, invalidUTF8([]byte(h), "name"))}
		}
		h = strings.TrimSpace(h)
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
	var names []string
	seenField := map[string]bool{}
	for _, f := range pf.Schema().Fields() {
		if seenField[f.Name()] {
			return &InputError{File: b.file, Line: 0, Reason: fmt.Sprintf("the schema has two columns named %q: rename or drop one (which is meant?)", f.Name())}
		}
		seenField[f.Name()] = true
	}
	leaf := map[string]int{}
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
	input, err := oneInput(func(c string) bool { _, ok := leaf[c]; return ok })
	if err != nil {
		return &InputError{File: b.file, Line: 0, Reason: fmt.Sprintf("%v in schema (columns: %s)", err, strings.Join(names, ", "))}
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
		if !utf8.Valid(v.ByteArray()) {
			return nil, errors.New(invalidUTF8(v.ByteArray(), "value"))
		}
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
	has := func(c string) bool { _, ok := row[c]; return ok }
	if first {
		b.firstLine = line
		in, err := oneInput(has)
		if err != nil {
			return b.errf(line, "%v", err)
		}
		b.input = in
	} else if in := inputsIn(has); len(in) > 1 {
		_, err := oneInput(has)
		return b.errf(line, "%v", err)
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
		hint := ""
		if _, text := lv.(string); text && isInt {
			hint = " (text that reads as a number is that number, in every format)"
		}
		return b.errf(line, "label %v is %s%s but the first row's (line %d) is %s: use one label type", lv, kindName(isInt), hint, b.firstLine, kindName(b.intLabels))
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

// toLabel types a label by the one rule every format shares (doc.go):
// surrounding whitespace is not part of a label; a label that reads as a
// decimal number — a JSON number, or text such as "1", " 01 ", "+1", "1.0"
// or "1e2" in JSONL, CSV or Parquet — is that number, and must be an
// integer in the int64 range; any other non-empty text is a string label.
// Fractions, booleans, nulls, arrays and objects have no obvious class
// meaning, so they are rejected rather than guessed at.
func toLabel(v any) (isInt bool, i int64, s string, err error) {
	switch t := v.(type) {
	case int64:
		return true, t, "", nil
	case json.Number:
		i, err := parseIntLabel(string(t))
		return err == nil, i, "", err
	case float64:
		if t != math.Trunc(t) || math.IsInf(t, 0) || math.IsNaN(t) {
			return false, 0, "", fmt.Errorf("label %v is a number with a fraction: use an int or a string", t)
		}
		if t < -(1<<63) || t >= 1<<63 {
			return false, 0, "", fmt.Errorf("label %v is an integer outside the int64 range [-2^63, 2^63-1]", t)
		}
		return true, int64(t), "", nil
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return false, 0, "", errors.New("empty label")
		}
		if decimalNumber.MatchString(s) {
			i, err := parseIntLabel(s)
			return err == nil, i, "", err
		}
		return false, 0, s, nil
	case nil:
		return false, 0, "", errors.New("label is null")
	default:
		return false, 0, "", fmt.Errorf("label has unsupported type %s: use an int or a string", jsonType(v))
	}
}

// decimalNumber is the text a label must match to be read as a number.
var decimalNumber = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// parseIntLabel reads a decimal number exactly (no float rounding, no
// huge allocation for a huge exponent) and returns it if it is an integer
// in the int64 range.
func parseIntLabel(text string) (int64, error) {
	m := decimalNumber.FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("label %s is not a usable number", clip(text, 40))
	}
	neg := strings.HasPrefix(text, "-")
	mant := m[1]
	exp := 0
	if m[2] != "" {
		e := strings.TrimLeft(m[2][1:], "+")
		v, err := strconv.Atoi(e)
		if err != nil || v > 1000 || v < -1000 {
			v = 1000 // far outside any int64 either way; sign kept below
			if strings.HasPrefix(e, "-") {
				v = -1000
			}
		}
		exp = v
	}
	// digits × 10^exp with digits an integer without trailing zeros.
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	switch {
	case digits == "":
		return 0, nil
	case exp < 0:
		return 0, fmt.Errorf("label %s is a number with a fraction: use an int or a string", clip(text, 40))
	case len(digits)+exp > 19:
		return 0, fmt.Errorf("label %s is an integer outside the int64 range [-2^63, 2^63-1]", clip(text, 40))
	}
	u, err := strconv.ParseUint(digits+strings.Repeat("0", exp), 10, 64)
	if err != nil || (!neg && u > math.MaxInt64) || (neg && u > 1<<63) {
		return 0, fmt.Errorf("label %s is an integer outside the int64 range [-2^63, 2^63-1]", clip(text, 40))
	}
	if neg {
		return int64(-u), nil // -2^63 wraps to itself, as it should
	}
	return int64(u), nil
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
