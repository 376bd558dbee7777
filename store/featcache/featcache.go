// Package featcache is the content-addressed store of encoded features: an
// encoder's output for one dataset is computed once per machine and read
// back on every later run, keyed so that a change to the data, the weights or
// the preprocessing is a miss, never a stale hit.
//
// A corrupt or truncated entry is reported, removed and rebuilt; entries are
// written atomically (internal/checkfile), so concurrent writers of one key
// are safe. datasetHash is the caller's content hash of the dataset (texts,
// in order); the cache trusts it and checks only that an entry has one row
// per text.
package featcache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/checkfile"
	"github.com/superalign/superalign/progress"
)

// cacheFormatVersion is part of every cache key; bump it when the file
// format or the keying changes so old entries are simply never found.
const cacheFormatVersion = "feat-v1"

// featMagic opens every feature cache file.
var featMagic = [4]byte{'W', '2', 'S', 'F'}

// featFileVersion is the on-disk layout version written in the header.
const featFileVersion = 1

// featHeaderSize: magic [4] + version uint32 + rows uint64 + cols uint64.
const featHeaderSize = 4 + 4 + 8 + 8

// Cache is a content-addressed store of encoded features. An entry is keyed
// by sha256(datasetHash, encoder name, encoder fingerprint, format version),
// so a change to the data, the weights or the preprocessing is a miss, never
// a stale hit. Entries live at Dir/<key[:2]>/<key>.feat.
//
// File layout (little-endian):
//
//	"W2SF" | version uint32 | rows uint64 | cols uint64 | rows*cols float32 | sha256 of all before
//
// The zero Cache uses filepath.Join(assets.CacheDir(), "features").
type Cache struct {
	Dir string
}

// dir returns the cache root, defaulting to the shared cache directory.
func (c *Cache) dir() string {
	if c != nil && c.Dir != "" {
		return c.Dir
	}
	return filepath.Join(assets.CacheDir(), "features")
}

// Key returns the hex cache key of one (dataset, encoder) pair. Fields are
// length-prefixed so that no two different tuples hash the same bytes.
func Key(datasetHash, encName, fingerprint string) string {
	h := sha256.New()
	for _, s := range []string{datasetHash, encName, fingerprint, cacheFormatVersion} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Path returns where the entry with this key is stored.
func (c *Cache) Path(key string) string {
	return filepath.Join(c.dir(), key[:2], key+".feat")
}

// Features returns enc's features for texts [len(texts), enc.Dim()], from the
// cache when a valid entry exists, else by encoding and storing them.
// datasetHash must identify the texts (content hash of the dataset); it is
// trusted, and only the row count is checked against len(texts). A corrupt,
// truncated or mismatched entry is reported on log, removed and rebuilt.
// log may be nil.
func (c *Cache) Features(ctx context.Context, enc encode.Encoder, datasetHash string, texts []string, log io.Writer) (data.Matrix, error) {
	return c.lookup(datasetHash, enc.Name(), enc.Fingerprint(), len(texts), enc.Dim(), "texts", log,
		func(bar *progress.Bar) (data.Matrix, error) { return enc.Encode(ctx, texts, bar) })
}

// lookup is the cache logic shared by text and image encoders: return the
// entry for (datasetHash, name, fingerprint) when it is valid and has shape
// [n, dim] (dim 0: any width), else report, remove, compute and store it.
func (c *Cache) lookup(datasetHash, name, fingerprint string, n, dim int, unit string, log io.Writer, compute func(*progress.Bar) (data.Matrix, error)) (data.Matrix, error) {
	if datasetHash == "" {
		return data.Matrix{}, errors.New("encode: feature cache needs a dataset hash")
	}
	key := Key(datasetHash, name, fingerprint)
	path := c.Path(key)

	m, err := readFeatures(path)
	switch {
	case err == nil && m.Rows == n && (dim == 0 || m.Cols == dim):
		return m, nil
	case err == nil:
		logf(log, "feature cache entry %s corrupt (has [%d,%d], want [%d,%d]); rebuilding\n", key, m.Rows, m.Cols, n, dim)
		os.Remove(path)
	case errors.Is(err, fs.ErrNotExist):
		// plain miss
	case checkfile.IsCorrupt(err):
		logf(log, "feature cache entry %s corrupt (%v); rebuilding\n", key, err)
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return data.Matrix{}, fmt.Errorf("encode: removing corrupt cache entry %s: %w", path, rerr)
		}
	default:
		return data.Matrix{}, fmt.Errorf("encode: reading feature cache %s: %w", path, err)
	}

	start := time.Now()
	bar := progress.New(log, name+": encoding", n, unit)
	m, err = compute(bar)
	if err != nil {
		return data.Matrix{}, fmt.Errorf("encode: %s on %d %s: %w", name, n, unit, err)
	}
	bar.Done()
	if m.Rows != n || (dim != 0 && m.Cols != dim) || len(m.Values) != m.Rows*m.Cols {
		return data.Matrix{}, fmt.Errorf("encode: %s returned [%d,%d] with %d values for %d %s of dim %d",
			name, m.Rows, m.Cols, len(m.Values), n, unit, dim)
	}
	if err := writeFeatures(path, m); err != nil {
		return data.Matrix{}, fmt.Errorf("encode: storing features: %w", err)
	}
	logf(log, "%s: encoded %d %s in %.2fs, cached as %s\n", name, n, unit, time.Since(start).Seconds(), key[:12])
	return m, nil
}

// writeFeatures stores m at path atomically.
func writeFeatures(path string, m data.Matrix) error {
	_, err := checkfile.Write(path, func(w io.Writer) error {
		var hdr [featHeaderSize]byte
		copy(hdr[:4], featMagic[:])
		binary.LittleEndian.PutUint32(hdr[4:], featFileVersion)
		binary.LittleEndian.PutUint64(hdr[8:], uint64(m.Rows))
		binary.LittleEndian.PutUint64(hdr[16:], uint64(m.Cols))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		return checkfile.WriteFloats(w, m.Values)
	})
	return err
}

// readFeatures loads and verifies one entry. Invalid content gives an error
// for which isCorrupt is true; a missing file gives fs.ErrNotExist.
func readFeatures(path string) (data.Matrix, error) {
	r, err := checkfile.Open(path)
	if err != nil {
		return data.Matrix{}, err
	}
	defer r.Close()
	var hdr [featHeaderSize]byte
	if err := r.ReadFull(hdr[:]); err != nil {
		return data.Matrix{}, err
	}
	if [4]byte(hdr[:4]) != featMagic {
		return data.Matrix{}, checkfile.Corruptf("bad magic %q", hdr[:4])
	}
	if v := binary.LittleEndian.Uint32(hdr[4:]); v != featFileVersion {
		return data.Matrix{}, checkfile.Corruptf("file version %d, want %d", v, featFileVersion)
	}
	rows := binary.LittleEndian.Uint64(hdr[8:])
	cols := binary.LittleEndian.Uint64(hdr[16:])
	if rows > 1<<40 || cols > 1<<24 {
		return data.Matrix{}, checkfile.Corruptf("implausible shape [%d,%d]", rows, cols)
	}
	if err := r.ExpectPayload(int64(rows * cols * 4)); err != nil {
		return data.Matrix{}, err
	}
	m := data.NewMatrix(int(rows), int(cols))
	if err := r.ReadFloats(m.Values); err != nil {
		return data.Matrix{}, err
	}
	if _, err := r.Verify(); err != nil {
		return data.Matrix{}, err
	}
	return m, nil
}

func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

// ImageFeatures is Features for image encoders: enc's features for imgs
// [imgs.Len(), D], from the cache when a valid entry exists, else encoded
// and stored. datasetHash must identify the images (the dataset's content
// hash covers in-memory pixels, or image paths for user datasets).
func (c *Cache) ImageFeatures(ctx context.Context, enc encode.ImageEncoder, datasetHash string, imgs encode.ImageBatch, log io.Writer) (data.Matrix, error) {
	if err := imgs.Validate(); err != nil {
		return data.Matrix{}, fmt.Errorf("featcache: %s: %w", enc.Name(), err)
	}
	n := imgs.Len()
	want := enc.Dim()
	if want == 0 && imgs.Paths == nil {
		want = imgs.Shape[1] * imgs.Shape[2] * imgs.Shape[3]
	}
	return c.lookup(datasetHash, enc.Name(), enc.Fingerprint(), n, want, "images", log,
		func(bar *progress.Bar) (data.Matrix, error) { return enc.EncodeImages(ctx, imgs, bar) })
}
