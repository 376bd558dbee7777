package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// Index is a SQLite database over many run directories: one row per run in
// `runs` and every results row in `results` (columns as in results.jsonl plus
// run_id), for the report and the dashboard to query across runs.
type Index struct{ db *sql.DB }

const indexSchema = `
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, dir TEXT UNIQUE NOT NULL, indexed_at TEXT NOT NULL, n_rows INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS results (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  dataset TEXT, weak TEXT, strong TEXT, method TEXT, seed INTEGER, n_classes INTEGER, n_test INTEGER,
  floor_acc REAL, ceiling_acc REAL, w2s_acc REAL, pgr REAL, pgr_ci_low REAL, pgr_ci_high REAL, no_gap INTEGER,
  w2s_auroc REAL, agreement REAL, misfit REAL, config_hash TEXT, duration_s REAL, version TEXT,
  balance TEXT, pgr_metric TEXT, floor_score REAL, ceiling_score REAL, w2s_score REAL, gold_used INTEGER, gold_strong INTEGER,
  PRIMARY KEY (run_id, dataset, weak, strong, method, seed));
CREATE INDEX IF NOT EXISTS results_cell ON results(dataset, weak, strong, method);`

// addedColumns are the results columns later than the first schema. An
// index created before them gets them by ALTER TABLE, NULL in rows indexed
// earlier until their run is indexed again, so no index has to be rebuilt
// by hand. The two settings (balance, pgr_metric) say which class mix and
// metric a row's floor, ceiling, w2s and PGR are on: rows from runs with
// different settings are not comparable.
var addedColumns = [][2]string{{"balance", "TEXT"}, {"pgr_metric", "TEXT"}, {"floor_score", "REAL"}, {"ceiling_score", "REAL"},
	{"w2s_score", "REAL"}, {"gold_used", "INTEGER"}, {"gold_strong", "INTEGER"}}

// resultsColumns names the values AddRun inserts, in order.
const resultsColumns = `run_id, dataset, weak, strong, method, seed, n_classes, n_test, floor_acc, ceiling_acc, w2s_acc, pgr, pgr_ci_low,
  pgr_ci_high, no_gap, w2s_auroc, agreement, misfit, config_hash, duration_s, version,
  balance, pgr_metric, floor_score, ceiling_score, w2s_score, gold_used, gold_strong`

// OpenIndex opens (creating if needed) the index database at path.
func OpenIndex(path string) (*Index, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, fmt.Errorf("opening index %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	for _, pragma := range []string{"PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON"} {
		if _, err := db.Exec(pragma); err != nil {
			db.Close()
			return nil, fmt.Errorf("index %s: %s: %w", path, pragma, err)
		}
	}
	if _, err := db.Exec(indexSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("index %s: creating schema: %w", path, err)
	}
	if err := addMissingColumns(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	return &Index{db: db}, nil
}

// addMissingColumns brings an index made by an earlier schema up to date.
func addMissingColumns(db *sql.DB) error {
	q, err := db.Query(`SELECT name FROM pragma_table_info('results')`)
	if err != nil {
		return fmt.Errorf("reading the results columns: %w", err)
	}
	have := map[string]bool{}
	for q.Next() {
		var name string
		if err := q.Scan(&name); err != nil {
			q.Close()
			return err
		}
		have[name] = true
	}
	q.Close()
	if err := q.Err(); err != nil {
		return err
	}
	for _, c := range addedColumns {
		if !have[c[0]] {
			if _, err := db.Exec(`ALTER TABLE results ADD COLUMN ` + c[0] + ` ` + c[1]); err != nil {
				return fmt.Errorf("adding column %s: %w", c[0], err)
			}
		}
	}
	return nil
}

// Close closes the database.
func (x *Index) Close() error { return x.db.Close() }

// AddRun (re)indexes DIR/results.jsonl in one transaction: a run indexed
// twice replaces its rows, so the index never holds duplicates.
func (x *Index) AddRun(dir string) error {
	rows, err := ReadResults(dir)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	tx, err := x.db.Begin()
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM runs WHERE dir = ?`, abs); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	res, err := tx.Exec(`INSERT INTO runs(dir, indexed_at, n_rows) VALUES (?, ?, ?)`, abs, time.Now().UTC().Format(time.RFC3339), len(rows))
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	id, _ := res.LastInsertId()
	stmt, err := tx.Prepare(`INSERT INTO results (` + resultsColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.Exec(id, r.Dataset, r.Weak, r.Strong, r.Method, r.Seed, r.K, r.NTest, r.FloorAcc, r.CeilingAcc,
			r.W2SAcc, r.PGR, r.PGRCILow, r.PGRCIHigh, r.NoGap, r.W2SAUROC, r.Agreement, r.Misfit, r.ConfigHash, r.DurationS, r.Version,
			r.Balance, r.PGRMetric, r.FloorScore, r.CeilingScore, r.W2SScore, r.GoldUsed, r.GoldStrong); err != nil {
			return fmt.Errorf("index: %s: row %s/%s/%s seed %d: %w", dir, r.Dataset, r.Weak, r.Method, r.Seed, err)
		}
	}
	return tx.Commit()
}

// IndexedRow is one results row as the index returns it.
type IndexedRow struct {
	Dir                           string
	Dataset, Weak, Strong, Method string
	Seed                          int64
	FloorAcc, CeilingAcc, W2SAcc  float64
	PGR                           *float64
	// Balance and PGRMetric are the run's settings; "" for a row indexed
	// before the index had them.
	Balance, PGRMetric string
	GoldStrong         int
}

// Rows returns every indexed row, ordered by run directory and cell.
func (x *Index) Rows() ([]IndexedRow, error) {
	q, err := x.db.Query(`SELECT r.dir, s.dataset, s.weak, s.strong, s.method, s.seed, s.floor_acc, s.ceiling_acc, s.w2s_acc, s.pgr,
		COALESCE(s.balance, ''), COALESCE(s.pgr_metric, ''), COALESCE(s.gold_strong, 0)
		FROM results s JOIN runs r ON r.id = s.run_id ORDER BY r.dir, s.dataset, s.weak, s.strong, s.method, s.seed`)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer q.Close()
	var out []IndexedRow
	for q.Next() {
		var r IndexedRow
		if err := q.Scan(&r.Dir, &r.Dataset, &r.Weak, &r.Strong, &r.Method, &r.Seed, &r.FloorAcc, &r.CeilingAcc, &r.W2SAcc, &r.PGR,
			&r.Balance, &r.PGRMetric, &r.GoldStrong); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		out = append(out, r)
	}
	return out, q.Err()
}
