package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"
)

// nonFinite spots the NaN/Infinity tokens Python's json.dumps writes, so
// such a line gets a reason that says what is wrong instead of "invalid
// character 'N'".
var nonFinite = regexp.MustCompile(`(^|[\[,:\s])-?(NaN|Infinity)\b`)

func readJSONL(r io.Reader, b *builder) error {
	return readJSONLRows(r, b, b.add)
}

// readJSONLRows hands each object of a JSONL stream, with its line, to add
// (the classification builder's, or a preference file's).
func readJSONLRows(r io.Reader, b *builder, add func(line int, row map[string]any) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	line, rows := 0, 0
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
				if err := add(line, row); err != nil {
					return err
				}
				rows++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("data: read %s: %w", b.file, err)
		}
	}
	if rows == 0 {
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
		if err := caseVariant(key); err != nil {
			return nil, err
		}
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
