package tfjs

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// ShardGroup is one entry of a model.json "weightsManifest": the shard files
// that hold a run of weights, concatenated in order, and the weights laid out
// back to back across them.
type ShardGroup struct {
	Paths   []string     `json:"paths"`
	Weights []ShardEntry `json:"weights"`
}

// ShardEntry describes one weight in a ShardGroup.
type ShardEntry struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	// Quantization is present for quantised weights; ReadShards rejects
	// them (the layers reader dequantises).
	Quantization map[string]any `json:"quantization,omitempty"`
}

// Tensor is a weight read from the shards. Exactly one of F32 and I32 is
// set, according to DType; both hold Size() values in row-major order.
type Tensor struct {
	Name  string
	Shape []int
	DType string // "float32" or "int32"
	F32   []float32
	I32   []int32
}

// Size is the number of elements, the product of Shape (1 for a scalar).
func (t *Tensor) Size() int { return numElements(t.Shape) }

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// bytesPerElement gives the storage width of the dtypes ReadShards decodes.
var bytesPerElement = map[string]int{"float32": 4, "int32": 4}

// ReadShards reads the weights of groups from the shard files under dir and
// returns them by name, in manifest order as well.
//
// Shard sizes are checked against the manifest before anything is decoded:
// each group's shards, concatenated, must hold exactly the bytes its weights
// need, so a truncated download or a shard from another model fails with an
// error naming the group, the shard and the byte counts rather than
// producing shifted weights.
func ReadShards(dir string, groups []ShardGroup) (map[string]*Tensor, []*Tensor, error) {
	byName := map[string]*Tensor{}
	var ordered []*Tensor
	for gi, g := range groups {
		if len(g.Paths) == 0 {
			return nil, nil, fmt.Errorf("tfjs: weights manifest group %d lists no shard paths", gi)
		}
		need := 0
		for _, w := range g.Weights {
			if w.Quantization != nil {
				return nil, nil, fmt.Errorf("tfjs: weight %q is quantised; ReadShards decodes float32/int32 only", w.Name)
			}
			bpe, ok := bytesPerElement[w.DType]
			if !ok {
				return nil, nil, fmt.Errorf("tfjs: weight %q has unsupported dtype %q (want float32 or int32)", w.Name, w.DType)
			}
			for _, d := range w.Shape {
				if d < 0 {
					return nil, nil, fmt.Errorf("tfjs: weight %q has negative dimension in shape %v", w.Name, w.Shape)
				}
			}
			need += numElements(w.Shape) * bpe
		}
		buf, err := readGroup(dir, gi, g.Paths, need)
		if err != nil {
			return nil, nil, err
		}
		off := 0
		for _, w := range g.Weights {
			n := numElements(w.Shape)
			t := &Tensor{Name: w.Name, Shape: append([]int(nil), w.Shape...), DType: w.DType}
			switch w.DType {
			case "float32":
				t.F32 = make([]float32, n)
				for i := range t.F32 {
					t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[off+4*i:]))
				}
			case "int32":
				t.I32 = make([]int32, n)
				for i := range t.I32 {
					t.I32[i] = int32(binary.LittleEndian.Uint32(buf[off+4*i:]))
				}
			}
			off += 4 * n
			if _, dup := byName[w.Name]; dup {
				return nil, nil, fmt.Errorf("tfjs: weight %q appears twice in the manifest", w.Name)
			}
			byName[w.Name] = t
			ordered = append(ordered, t)
		}
	}
	return byName, ordered, nil
}

// readGroup concatenates one group's shards, checking the total against need.
func readGroup(dir string, gi int, paths []string, need int) ([]byte, error) {
	sizes := make([]int64, len(paths))
	var total int64
	for i, p := range paths {
		if filepath.IsAbs(p) || p != filepath.Clean(p) || len(p) >= 2 && p[:2] == ".." {
			return nil, fmt.Errorf("tfjs: shard path %q in group %d escapes the model directory", p, gi)
		}
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			return nil, fmt.Errorf("tfjs: shard %d of group %d: %w", i+1, gi, err)
		}
		sizes[i] = st.Size()
		total += st.Size()
	}
	if total != int64(need) {
		last := len(paths) - 1
		if total < int64(need) {
			return nil, fmt.Errorf("tfjs: group %d shards are truncated: %d files hold %d bytes, the manifest's weights need %d (%d short; last shard %s is %d bytes)",
				gi, len(paths), total, need, int64(need)-total, paths[last], sizes[last])
		}
		return nil, fmt.Errorf("tfjs: group %d shards do not match the manifest: %d files hold %d bytes, the weights need %d (%d extra; a shard from another model?)",
			gi, len(paths), total, need, total-int64(need))
	}
	buf := make([]byte, need)
	off := 0
	for i, p := range paths {
		f, err := os.Open(filepath.Join(dir, p))
		if err != nil {
			return nil, fmt.Errorf("tfjs: opening shard %s: %w", p, err)
		}
		_, err = io.ReadFull(f, buf[off:off+int(sizes[i])])
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("tfjs: reading shard %s (%d bytes expected): %w", p, sizes[i], err)
		}
		off += int(sizes[i])
	}
	return buf, nil
}
