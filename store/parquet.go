package store

import (
	"bytes"
	"fmt"

	"github.com/parquet-go/parquet-go"
)

// parquetRow is Row with Parquet column names equal to the JSON names;
// nil PGR fields become Parquet nulls (optional columns).
type parquetRow struct {
	Dataset       string   `parquet:"dataset"`
	Weak          string   `parquet:"weak"`
	Strong        string   `parquet:"strong"`
	Method        string   `parquet:"method"`
	Seed          int64    `parquet:"seed"`
	K             int64    `parquet:"n_classes"`
	NTrainWeak    int64    `parquet:"n_train_weak"`
	NTrainStrong  int64    `parquet:"n_train_strong"`
	NTest         int64    `parquet:"n_test"`
	FloorAcc      float64  `parquet:"floor_acc"`
	CeilingAcc    float64  `parquet:"ceiling_acc"`
	W2SAcc        float64  `parquet:"w2s_acc"`
	PGR           *float64 `parquet:"pgr,optional"`
	PGRCILow      *float64 `parquet:"pgr_ci_low,optional"`
	PGRCIHigh     *float64 `parquet:"pgr_ci_high,optional"`
	NoGap         bool     `parquet:"no_gap"`
	GainAcc       float64  `parquet:"gain_acc"`
	GainAccCILow  float64  `parquet:"gain_acc_ci_low"`
	GainAccCIHigh float64  `parquet:"gain_acc_ci_high"`
	FloorAUROC    float64  `parquet:"floor_auroc"`
	CeilingAUROC  float64  `parquet:"ceiling_auroc"`
	W2SAUROC      float64  `parquet:"w2s_auroc"`
	Agreement     float64  `parquet:"agreement"`
	Inheritance   float64  `parquet:"error_inheritance"`
	Correction    float64  `parquet:"error_correction"`
	Misfit        float64  `parquet:"misfit"`
	WeakLabelAcc  float64  `parquet:"weak_label_acc"`
	ConfigHash    string   `parquet:"config_hash"`
	DurationS     float64  `parquet:"duration_s"`
	Version       string   `parquet:"version"`
}

func toParquet(r Row) parquetRow {
	return parquetRow{r.Dataset, r.Weak, r.Strong, r.Method, r.Seed, int64(r.K), int64(r.NTrainWeak), int64(r.NTrainStrong),
		int64(r.NTest), r.FloorAcc, r.CeilingAcc, r.W2SAcc, r.PGR, r.PGRCILow, r.PGRCIHigh, r.NoGap, r.GainAcc,
		r.GainAccCILow, r.GainAccCIHigh, r.FloorAUROC, r.CeilingAUROC, r.W2SAUROC, r.Agreement, r.Inheritance,
		r.Correction, r.Misfit, r.WeakLabelAcc, r.ConfigHash, r.DurationS, r.Version}
}

func fromParquet(p parquetRow) Row {
	return Row{Dataset: p.Dataset, Weak: p.Weak, Strong: p.Strong, Method: p.Method, Seed: p.Seed, K: int(p.K),
		NTrainWeak: int(p.NTrainWeak), NTrainStrong: int(p.NTrainStrong), NTest: int(p.NTest), FloorAcc: p.FloorAcc,
		CeilingAcc: p.CeilingAcc, W2SAcc: p.W2SAcc, PGR: p.PGR, PGRCILow: p.PGRCILow, PGRCIHigh: p.PGRCIHigh, NoGap: p.NoGap,
		GainAcc: p.GainAcc, GainAccCILow: p.GainAccCILow, GainAccCIHigh: p.GainAccCIHigh, FloorAUROC: p.FloorAUROC,
		CeilingAUROC: p.CeilingAUROC, W2SAUROC: p.W2SAUROC, Agreement: p.Agreement, Inheritance: p.Inheritance,
		Correction: p.Correction, Misfit: p.Misfit, WeakLabelAcc: p.WeakLabelAcc, ConfigHash: p.ConfigHash,
		DurationS: p.DurationS, Version: p.Version}
}

// WriteParquet writes rows as a Parquet file (columns named as in
// results.jsonl; PGR columns nullable) atomically, for pandas, polars and DuckDB.
func WriteParquet(path string, rows []Row) error {
	out := make([]parquetRow, len(rows))
	for i, r := range rows {
		out[i] = toParquet(r)
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, out); err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// ReadParquet reads a file written by WriteParquet.
func ReadParquet(path string) ([]Row, error) {
	in, err := parquet.ReadFile[parquetRow](path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	rows := make([]Row, len(in))
	for i, p := range in {
		rows[i] = fromParquet(p)
	}
	return rows, nil
}
