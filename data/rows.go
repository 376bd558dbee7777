package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

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
	// values holds each example's raw value-channel entry (nil: none),
	// typed like the labels and mapped to a class in finish.
	values []any
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
	val, err := b.value(line, row, isInt)
	if err != nil {
		return err
	}
	b.examples = append(b.examples, ex)
	b.values = append(b.values, val)
	if isInt {
		b.ints = append(b.ints, i)
	} else {
		b.strs = append(b.strs, s)
	}
	return nil
}

// value reads the optional value channel of a row: absent, null or blank
// is no constraint; anything else must read as a label of the file's label
// type (the rule of toLabel), and finish checks it names a class.
func (b *builder) value(line int, row map[string]any, intLabels bool) (any, error) {
	v, ok := row[colValue]
	if !ok || v == nil {
		return nil, nil
	}
	if s, text := v.(string); text && strings.TrimSpace(s) == "" {
		return nil, nil
	}
	isInt, i, s, err := toLabel(v)
	if err != nil {
		return nil, b.errf(line, "column %q: %v (a value is a class the output must be, or blank for none)", colValue, err)
	}
	if isInt != intLabels {
		return nil, b.errf(line, "value %v is %s but the labels are %s: a value names a class", v, kindName(isInt), kindName(intLabels))
	}
	if isInt {
		return i, nil
	}
	return s, nil
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
	for k, v := range b.values {
		if v == nil {
			continue
		}
		name := fmt.Sprint(v)
		c := slices.Index(d.Classes, name)
		if c < 0 {
			return nil, b.errf(d.Examples[k].Line, "value %q is not a class of the labels (%s): a value names the class the output must be", clip(name, 40), strings.Join(d.Classes, ", "))
		}
		d.Examples[k].Value = c + 1
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
