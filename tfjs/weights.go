package tfjs

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
)

// Quantisation describes one quantised weight: stored as unsigned integers
// q of the given width, read back as float32(q*Scale + Min) (the TF.js
// converter's affine scheme for "uint8"/"uint16"; dequantised in float64
// then rounded once, as tfjs does the multiply-add in float32 on each
// value — the difference is below float32 resolution).
type Quantisation struct {
	DType string  // "uint8" or "uint16"
	Min   float64 // value of q = 0
	Scale float64 // step between consecutive q
}

// quantisationOf parses a manifest entry's quantization object.
func quantisationOf(w ShardEntry) (*Quantisation, error) {
	if w.Quantization == nil {
		return nil, nil
	}
	q := &Quantisation{}
	dt, _ := w.Quantization["dtype"].(string)
	mn, ok1 := w.Quantization["min"].(float64)
	sc, ok2 := w.Quantization["scale"].(float64)
	if dt != "uint8" && dt != "uint16" {
		return nil, fmt.Errorf("weight %q: quantisation dtype %q (want uint8 or uint16)", w.Name, dt)
	}
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("weight %q: quantisation lacks numeric min and scale (%v)", w.Name, w.Quantization)
	}
	q.DType, q.Min, q.Scale = dt, mn, sc
	return q, nil
}

// ShardReader returns the bytes of one shard given its manifest path.
type ShardReader func(manifestPath string) ([]byte, error)

// MinJSShards reads shard p as the UMD bundle dir/p.min.js (nsfwjs layout).
func MinJSShards(dir string) ShardReader {
	return func(p string) ([]byte, error) {
		if filepath.IsAbs(p) || p != filepath.Clean(p) || len(p) >= 2 && p[:2] == ".." {
			return nil, fmt.Errorf("tfjs: shard path %q escapes the model directory", p)
		}
		return MinJSBytes(filepath.Join(dir, p+".min.js"))
	}
}

// ReadWeights decodes the weights of groups, dequantising uint8/uint16
// entries and reading float32 ones as they are; every result is float32.
// Each group's shards are concatenated and must hold exactly the bytes the
// manifest needs, so a shard of another model fails loudly.
func ReadWeights(groups []ShardGroup, read ShardReader) (map[string]*Tensor, error) {
	out := map[string]*Tensor{}
	for gi, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			b, err := read(p)
			if err != nil {
				return nil, fmt.Errorf("tfjs: group %d: %w", gi, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			q, err := quantisationOf(w)
			if err != nil {
				return nil, fmt.Errorf("tfjs: %w", err)
			}
			if w.DType != "float32" {
				return nil, fmt.Errorf("tfjs: weight %q: dtype %q, only float32 (optionally quantised) is supported", w.Name, w.DType)
			}
			n := numElements(w.Shape)
			width := 4
			if q != nil {
				width = map[string]int{"uint8": 1, "uint16": 2}[q.DType]
			}
			if off+n*width > len(buf) {
				return nil, fmt.Errorf("tfjs: group %d (%v): weight %q needs bytes %d..%d, the shards hold %d", gi, g.Paths, w.Name, off, off+n*width, len(buf))
			}
			t := &Tensor{Name: w.Name, Shape: append([]int(nil), w.Shape...), DType: "float32", F32: make([]float32, n)}
			b := buf[off : off+n*width]
			switch {
			case q == nil:
				for i := range t.F32 {
					t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
				}
			case width == 1:
				for i, v := range b {
					t.F32[i] = float32(float64(v)*q.Scale + q.Min)
				}
			default:
				for i := range t.F32 {
					t.F32[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))*q.Scale + q.Min)
				}
			}
			off += n * width
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("tfjs: weight %q appears twice in the manifest", w.Name)
			}
			out[w.Name] = t
		}
		if off != len(buf) {
			return nil, fmt.Errorf("tfjs: group %d (%v): shards hold %d bytes, the manifest uses %d", gi, g.Paths, len(buf), off)
		}
	}
	return out, nil
}
