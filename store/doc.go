// Package store owns what a run leaves on disk: the results row contract
// (Row, Summary), the run directory (results.jsonl, summary.json,
// comparisons.json, one atomically written file per finished cell under
// cells/ so a killed run resumes), Parquet export and a SQLite index over
// many runs. Every write goes through internal/atomicfile (WriteFile, Commit): a
// reader or a rerun after SIGKILL sees the old file or the whole new one,
// never a prefix, and files that belong together (results.jsonl,
// summary.json, comparisons.json, report.html) appear all at once or, when
// a write fails (a full disk), not at all.
//
// Saved state is checked before it is trusted: a cell file carries its key
// and the sha256 of its row, and a row must have its required fields; a cell
// file that is empty, null, {}, truncated, edited or of an older format is
// reported and recomputed (RunDir.Done).
//
// One writer per run directory: BeginRun locks DIR against a second process
// (which gets an error naming the holder), marks DIR INCOMPLETE and moves
// the previous results to DIR/previous/ until Finish, so a run that failed
// never shows an earlier run's results as its own.
//
//	lock, err := store.BeginRun("runs/x", "w2s run ...") // before any work
//	defer lock.Release()
//	dir := store.RunDir{Dir: "runs/x"}
//	if row, ok := dir.Done(key); ok { ... reuse ... } // key: the cell's student key
//	err = dir.SaveCell(key, row)
//	err = dir.WriteResults(rows, sums, store.File{Name: "comparisons.json", Data: cmp},
//		store.File{Name: "report.html", Data: page})
//	err = lock.Finish()
//	err = store.WriteParquet("runs/x/results.parquet", rows)
package store
