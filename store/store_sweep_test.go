package store

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParquetRoundTripAndIndex(t *testing.T) {
	pgr := 0.4
	rows := []Row{
		{Dataset: "sentiment", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", Seed: 0, K: 2, FloorAcc: 0.6, CeilingAcc: 0.7, W2SAcc: 0.64, PGR: &pgr, PGRCILow: &pgr, PGRCIHigh: &pgr, Version: "x"},
		{Dataset: "spam", Weak: "bow:linear", Strong: "glove:linear", Method: "naive", Seed: 1, K: 2, FloorAcc: 0.9, CeilingAcc: 0.905, W2SAcc: 0.9, NoGap: true,
			Balance: "none", PGRMetric: "auroc", FloorScore: 0.95, WeakECE: &pgr, Classes: []string{"ham", "spam"},
			ClassCountsTrainWeak: []int{1384, 625}, ClassCountsTrainStrong: []int{1383, 626}, ClassCountsTest: []int{1383, 625}},
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "results.parquet")
	if err := WriteParquet(p, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("parquet round trip:\n got %+v\nwant %+v", got, rows)
	}
	if err := (RunDir{Dir: dir}).WriteResults(rows, nil); err != nil {
		t.Fatal(err)
	}
	idx, err := OpenIndex(filepath.Join(dir, "index.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	for range 2 { // indexing twice must not duplicate rows
		if err := idx.AddRun(dir); err != nil {
			t.Fatal(err)
		}
	}
	ir, err := idx.Rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(ir) != 2 || ir[0].PGR == nil || *ir[0].PGR != pgr || ir[1].PGR != nil {
		t.Fatalf("index rows %+v", ir)
	}
	if ir[1].Balance != "none" || ir[1].PGRMetric != "auroc" {
		t.Errorf("index row settings %q %q, want none auroc", ir[1].Balance, ir[1].PGRMetric)
	}
}

// TestIndexMigratesOldSchema opens an index made by the first schema (no
// balance, metric, score or gold columns): the columns are added, and a run
// indexed again fills them.
func TestIndexMigratesOldSchema(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.sqlite")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	old := `CREATE TABLE runs (id INTEGER PRIMARY KEY, dir TEXT UNIQUE NOT NULL, indexed_at TEXT NOT NULL, n_rows INTEGER NOT NULL);
CREATE TABLE results (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  dataset TEXT, weak TEXT, strong TEXT, method TEXT, seed INTEGER, n_classes INTEGER, n_test INTEGER,
  floor_acc REAL, ceiling_acc REAL, w2s_acc REAL, pgr REAL, pgr_ci_low REAL, pgr_ci_high REAL, no_gap INTEGER,
  w2s_auroc REAL, agreement REAL, misfit REAL, config_hash TEXT, duration_s REAL, version TEXT,
  PRIMARY KEY (run_id, dataset, weak, strong, method, seed));
INSERT INTO runs VALUES (1, '/old/run', '2026-11-30T00:00:00Z', 1);
INSERT INTO results (run_id, dataset, weak, strong, method, seed, floor_acc, ceiling_acc, w2s_acc) VALUES (1, 'sentiment', 'bow:linear', 'glove:linear', 'naive', 0, 0.6, 0.7, 0.65);`
	if _, err := db.Exec(old); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rows := []Row{{Dataset: "spam", Weak: "bow:linear", Strong: "glove:linear", Method: "selective:gold=20", K: 2, FloorAcc: 0.9, CeilingAcc: 0.95, W2SAcc: 0.93,
		Balance: "weight", PGRMetric: "macro-f1", GoldStrong: 20, Version: "x"}}
	if err := (RunDir{Dir: dir}).WriteResults(rows, nil); err != nil {
		t.Fatal(err)
	}
	idx, err := OpenIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if err := idx.AddRun(dir); err != nil {
		t.Fatal(err)
	}
	ir, err := idx.Rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(ir) != 2 || ir[0].Dir != "/old/run" || ir[0].Balance != "" || ir[1].Balance != "weight" || ir[1].PGRMetric != "macro-f1" || ir[1].GoldStrong != 20 {
		t.Fatalf("index rows after migration %+v", ir)
	}
}
