package data

import "fmt"

// InputError is a problem with one place of a user's data file. Line is the
// 1-based line for JSONL and CSV (the header is line 1) and the 1-based row
// for Parquet, where 0 stands for the file's schema as a whole.
type InputError struct {
	File   string
	Line   int
	Reason string
	Err    error // underlying parse error, if any
}

func (e *InputError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

func (e *InputError) Unwrap() error { return e.Err }
