package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"path/filepath"
	"strings"
)

// ContentHash is the sha256 (hex) of a canonical binary encoding of the
// class names and, per example in order, its input and label. Name, Source
// and Line are left out, so the same data read from JSONL, CSV or Parquet,
// or from another path, hashes the same; run records use it to tell
// whether two results saw the same data.
//
// Encoding: a version tag, K and each class name, N, then per example a
// kind byte ('p' preference pair: context, A, B, strength; 't' text, 'f' features, 'i' image) with the length-prefixed
// text, the float32 bit patterns, or the image path relative to the data
// file's directory, followed by the label index. Lengths and numbers are
// little-endian uint64; strings are length-prefixed so no two different
// datasets share an encoding.
func (d *Dataset) ContentHash() string {
	h := sha256.New()
	putStr(h, "superalign-dataset-v1")
	putU64(h, uint64(len(d.Classes)))
	for _, c := range d.Classes {
		putStr(h, c)
	}
	putU64(h, uint64(len(d.Examples)))
	base := filepath.Dir(d.Source)
	for _, e := range d.Examples {
		switch {
		case e.Pair != nil:
			h.Write([]byte{'p'})
			putStr(h, e.Pair.Context)
			putStr(h, e.Pair.A)
			putStr(h, e.Pair.B)
			putU64(h, math.Float64bits(e.Pair.Strength))
			putStr(h, e.Pair.Topic)
			if e.Pair.Graded {
				putU64(h, math.Float64bits(e.Pair.GradeA))
				putU64(h, math.Float64bits(e.Pair.GradeB))
			}
		case e.Features != nil:
			h.Write([]byte{'f'})
			putU64(h, uint64(len(e.Features)))
			for _, f := range e.Features {
				putU64(h, uint64(math.Float32bits(f)))
			}
		case e.Image != "":
			h.Write([]byte{'i'})
			img := e.Image
			if rel, err := filepath.Rel(base, img); err == nil && !strings.HasPrefix(rel, "..") {
				img = rel
			}
			putStr(h, filepath.ToSlash(img))
		default:
			h.Write([]byte{'t'})
			putStr(h, e.Text)
		}
		putU64(h, uint64(e.Label))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ValueHash is the sha256 (hex) of the value channel (issue 15): per
// example in order, its value (0 for none). It is "" for a dataset without
// a value channel. ContentHash leaves values out, so the features, weak
// models and ceilings of spam and spam-value are one; the value hash enters
// only the keys of what values change (the student rows).
func (d *Dataset) ValueHash() string {
	if !d.HasValue() {
		return ""
	}
	h := sha256.New()
	putStr(h, "superalign-values-v1")
	putU64(h, uint64(len(d.Examples)))
	for _, e := range d.Examples {
		putU64(h, uint64(e.Value))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func putU64(h hash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func putStr(h hash.Hash, s string) {
	putU64(h, uint64(len(s)))
	h.Write([]byte(s))
}
