package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

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
		if err := caseVariant(f.Name()); err != nil {
			return &InputError{File: b.file, Line: 0, Reason: "schema: " + err.Error(), Err: err}
		}
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
	valueCol, hasValue := leaf[colValue]
	if !hasValue {
		valueCol = -1
	}
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
				var in, label, value []parquet.Value
				for _, v := range r {
					switch v.Column() {
					case inCol:
						in = append(in, v)
					case labelCol:
						label = append(label, v)
					case valueCol:
						value = append(value, v)
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
				if cerr == nil && hasValue {
					row[colValue], cerr = parquetScalar(value)
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
