package store

import (
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
}
