package data

import "fmt"

// Matrix is a dense row-major float32 matrix: features [N, D], soft labels or
// predicted probabilities [N, K]. It is the currency between encoders, heads,
// methods and eval, so that no package needs to know another's tensor type.
type Matrix struct {
	Rows, Cols int
	Values     []float32 // len Rows*Cols, row-major
}

// NewMatrix returns a zeroed matrix of shape [rows, cols].
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Values: make([]float32, rows*cols)}
}

// MatrixFromRows copies equal-length rows into a Matrix. It fails on ragged rows.
func MatrixFromRows(rows [][]float32) (Matrix, error) {
	if len(rows) == 0 {
		return Matrix{}, nil
	}
	cols := len(rows[0])
	m := NewMatrix(len(rows), cols)
	for i, r := range rows {
		if len(r) != cols {
			return Matrix{}, fmt.Errorf("row %d has %d values, row 0 has %d", i, len(r), cols)
		}
		copy(m.Values[i*cols:], r)
	}
	return m, nil
}

// Row returns row i as a slice aliasing the matrix storage: [Cols].
func (m Matrix) Row(i int) []float32 { return m.Values[i*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m Matrix) At(i, j int) float32 { return m.Values[i*m.Cols+j] }

// Set sets element (i, j).
func (m Matrix) Set(i, j int, v float32) { m.Values[i*m.Cols+j] = v }

// SelectRows returns a new matrix holding the given rows, in order: [len(idx), Cols].
func (m Matrix) SelectRows(idx []int) Matrix {
	out := NewMatrix(len(idx), m.Cols)
	for k, i := range idx {
		copy(out.Values[k*m.Cols:(k+1)*m.Cols], m.Row(i))
	}
	return out
}

// Argmax returns, per row, the index of the largest value: [Rows].
// Ties go to the lowest index, so results are deterministic.
func (m Matrix) Argmax() []int {
	out := make([]int, m.Rows)
	for i := range out {
		r := m.Row(i)
		best := 0
		for j := 1; j < len(r); j++ {
			if r[j] > r[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// OneHot turns class indices into a [len(labels), k] matrix of hard targets.
func OneHot(labels []int, k int) Matrix {
	m := NewMatrix(len(labels), k)
	for i, y := range labels {
		m.Set(i, y, 1)
	}
	return m
}
