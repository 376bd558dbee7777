package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
)

// features returns the frozen encoder's features for every example of ds
// [N, D], through the content-addressed cache (memoised per process). The
// pseudo-encoder "features" passes the dataset's own vectors. Image
// encoders are per-example and costly (a CNN forward pass per image), so
// with rows set only those examples are encoded (the cache key names the
// subset) and the others are left zero.
func (c *CellRunner) features(ctx context.Context, ds *data.Dataset, dsHash string, rows []int, name string) (data.Matrix, error) {
	key := dsHash + "|" + name
	if rows != nil && encode.IsImageEncoder(name) {
		key += "|rows/" + hashInts(rows)
	}
	return getOnce(c, &c.feats, key, func() (data.Matrix, error) {
		enc, err := c.open(ctx, name)
		if err != nil {
			return data.Matrix{}, err
		}
		switch {
		case ds.IsPairwise():
			return c.pairFeatures(ctx, ds, dsHash, name)
		case enc.Image != nil:
			return c.imageFeatures(ctx, ds, dsHash, rows, enc.Image)
		case enc.Text != nil:
			texts := make([]string, len(ds.Examples))
			for i, ex := range ds.Examples {
				if ex.Text == "" {
					return data.Matrix{}, fmt.Errorf("%s: encoder %q needs a text column (example %d has no text)", ds.Source, name, i)
				}
				texts[i] = ex.Text
			}
			m, err := c.Cache.Features(ctx, enc.Text, dsHash, texts, c.Log)
			if err != nil {
				return data.Matrix{}, fmt.Errorf("%s features of %s: %w", name, ds.Name, err)
			}
			return m, nil
		}
		vecs := make([][]float32, len(ds.Examples))
		for i, ex := range ds.Examples {
			if ex.Features == nil {
				return data.Matrix{}, fmt.Errorf("%s: encoder %q needs a features column (example %d has none)", ds.Source, encode.UserFeatures, i)
			}
			vecs[i] = ex.Features
		}
		return data.MatrixFromRows(vecs)
	})
}

// pairFeatures returns φ(A) − φ(B) for every pair of ds: both sides
// are encoded (pairSides) and subtracted, so a linear reward head on the
// difference scores the two sides with one reward, and swapping a pair
// negates its row exactly.
func (c *CellRunner) pairFeatures(ctx context.Context, ds *data.Dataset, dsHash, name string) (data.Matrix, error) {
	m, err := c.pairSides(ctx, ds, dsHash, name)
	if err != nil {
		return data.Matrix{}, err
	}
	n := len(ds.Examples)
	out := data.NewMatrix(n, m.Cols)
	for i := 0; i < n; i++ {
		ra, rb, o := m.Row(i), m.Row(n+i), out.Row(i)
		for j := range o {
			o[j] = ra[j] - rb[j]
		}
	}
	return out, nil
}

// imageFeatures encodes the images of ds (the rows examples, or all),
// in-memory pixels of built-in image sets or the image paths of a user
// dataset.
func (c *CellRunner) imageFeatures(ctx context.Context, ds *data.Dataset, dsHash string, rows []int, enc encode.ImageEncoder) (data.Matrix, error) {
	idx, key := rows, dsHash
	if idx == nil {
		idx = make([]int, len(ds.Examples))
		for i := range idx {
			idx[i] = i
		}
	} else {
		key = dsHash + "/rows/" + hashInts(idx)
	}
	imgs, err := imageBatch(ds, idx)
	if err != nil {
		return data.Matrix{}, fmt.Errorf("image encoder %q: %w", enc.Name(), err)
	}
	m, err := c.Cache.ImageFeatures(ctx, enc, key, imgs, c.Log)
	if err != nil {
		return data.Matrix{}, fmt.Errorf("%s features of %s: %w", enc.Name(), ds.Name, err)
	}
	if rows != nil {
		m = scatterRows(m, rows, len(ds.Examples))
	}
	return m, nil
}

// imageBatch returns the images of examples idx of ds: in-memory pixels
// of a built-in image set, or the image paths of a user dataset.
func imageBatch(ds *data.Dataset, idx []int) (encode.ImageBatch, error) {
	if ds.IsImage() {
		px, err := ds.Pixels(idx)
		if err != nil {
			return encode.ImageBatch{}, err
		}
		s := ds.ImageShape
		return encode.ImageBatch{Pixels: px, Shape: [4]int{len(idx), s[0], s[1], s[2]}}, nil
	}
	imgs := encode.ImageBatch{Paths: make([]string, len(idx))}
	for k, i := range idx {
		if ds.Examples[i].Image == "" {
			return encode.ImageBatch{}, fmt.Errorf("%s: example %d has no image", ds.Source, i)
		}
		imgs.Paths[k] = ds.Examples[i].Image
	}
	return imgs, nil
}

// scatterRows places the rows of m [len(rows), D] at their dataset indices
// in a zero matrix [n, D].
func scatterRows(m data.Matrix, rows []int, n int) data.Matrix {
	out := data.NewMatrix(n, m.Cols)
	for k, i := range rows {
		copy(out.Row(i), m.Row(k))
	}
	return out
}

// usedRows returns, ascending, every example some seed of the range
// {first, count} puts in a split: the rows worth encoding when --limit
// leaves the rest unused.
func usedRows(cs CellSpec, ds *data.Dataset) ([]int, error) {
	used := make([]bool, len(ds.Examples))
	first, count := cs.EncodeSeeds[0], cs.EncodeSeeds[1]
	if count < 1 {
		first, count = cs.Seed, 1
	}
	for s := first; s < first+count; s++ {
		split, err := splitFor(cs, ds, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ds.Source, err)
		}
		for _, part := range [][]int{split.TrainWeak, split.TrainStrong, split.Test} {
			for _, i := range part {
				used[i] = true
			}
		}
	}
	var rows []int
	for i, u := range used {
		if u {
			rows = append(rows, i)
		}
	}
	return rows, nil
}

// splitFor balances (binary sets, by cs.Balance: undersampled by default,
// the natural mix for none and weight), limits and splits the dataset for a
// seed. Every step is stratified, so the class mix of what is kept is the
// mix of every part within one example per class.
func splitFor(cs CellSpec, ds *data.Dataset, seed int64) (data.Split, error) {
	idx, err := data.KeptIndices(ds, cs.Balance, seed)
	if err != nil {
		return data.Split{}, err
	}
	if cs.Limit > 0 {
		idx = data.SubsampleIndices(ds, idx, cs.Limit, seed)
	}
	return data.SplitIndices(ds, idx, seed, cs.Fractions)
}

func hashInts(v []int) string {
	h := sha256.New()
	for _, x := range v {
		binary.Write(h, binary.LittleEndian, int64(x))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
