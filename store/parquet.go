package store

import (
	"bytes"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// WriteParquet writes rows as a Parquet file (columns named as in
// results.jsonl; PGR columns nullable) atomically, for pandas, polars and DuckDB.
func WriteParquet(path string, rows []Row) error {
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// ReadParquet reads a file written by WriteParquet.
func ReadParquet(path string) ([]Row, error) {
	rows, err := parquet.ReadFile[Row](path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return rows, nil
}
