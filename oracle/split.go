package oracle

import (
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
)

// SplitHidden builds a seed's split the way package experiment does (balance
// binary sets, optionally limit to n examples, split by fractions; zero
// fractions mean thirds) and returns it with the hidden gold of its
// train_strong and test parts, for Server.AddRun. The split carries indices
// only; who holds ds can of course read its labels, so the experimenter's
// process, not a method, should call this.
func SplitHidden(ds *data.Dataset, seed int64, limit int, fractions [3]float64) (data.Split, *eval.Hidden, error) {
	idx := data.BalanceIndices(ds, seed)
	if limit > 0 {
		idx = data.SubsampleIndices(ds, idx, limit, seed)
	}
	sp, err := data.SplitIndices(ds, idx, seed, fractions)
	if err != nil {
		return data.Split{}, nil, fmt.Errorf("oracle: split %s seed %d: %w", ds.Name, seed, err)
	}
	return sp, eval.NewHidden(ds.Labels(sp.TrainStrong), ds.Labels(sp.Test), ds.K()), nil
}
