// Package store owns what a run leaves on disk: the results row contract
// (Row, Summary), the run directory (results.jsonl, summary.json,
// comparisons.json, one atomically written file per finished cell under
// cells/ so a killed run resumes), Parquet export and a SQLite index over
// many runs. Every write goes through WriteFileAtomic: a reader or a rerun
// after SIGKILL sees the old file or the whole new one, never a prefix.
//
//	dir := store.RunDir{Dir: "runs/x"}
//	if row, ok := dir.Done(store.CellKey(hash, seed)); ok { ... reuse ... }
//	err := dir.SaveCell(store.CellKey(hash, seed), row)
//	err = dir.WriteResults(rows, sums) // results.jsonl + summary.json
//	err = dir.WriteComparisons(cmp)    // comparisons.json (an eval.ComparisonReport)
//	err = store.WriteParquet("runs/x/results.parquet", rows)
package store
