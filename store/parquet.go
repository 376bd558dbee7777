package store

import (
	"bytes"
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/superalign/superalign/internal/atomicfile"
)

// WriteParquet writes rows as a Parquet file (columns named as in
// results.jsonl; PGR columns nullable) atomically, for pandas, polars and DuckDB.
func WriteParquet(path string, rows []Row) error {
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// ReadParquet reads a file written by WriteParquet. Parquet has no nil
// list, only an empty one: the class-mix lists of rows that have none
// (written before issue 20) come back nil, as results.jsonl gives them.
func ReadParquet(path string) ([]Row, error) {
	rows, err := parquet.ReadFile[Row](path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	for i := range rows {
		r := &rows[i]
		if len(r.Classes) == 0 {
			r.Classes = nil
		}
		for _, l := range []*[]int{&r.ClassCountsTrainWeak, &r.ClassCountsTrainStrong, &r.ClassCountsTest} {
			if len(*l) == 0 {
				*l = nil
			}
		}
	}
	return rows, nil
}
