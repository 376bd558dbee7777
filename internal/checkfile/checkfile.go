// Package checkfile writes and reads checksummed files atomically:
// "header + payload + sha256(header+payload)", the project's one checksum
// format for files it writes itself, put on disk by internal/atomicfile so
// readers see either the old state or a complete file. The feature cache, the
// converted GloVe table, training checkpoints and cached teacher
// predictions all use it.
package checkfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"

	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/internal/sha"
)

// CorruptError marks a file whose content fails validation (bad magic, wrong
// size, checksum mismatch). Callers delete and rebuild such files; other
// errors (permissions, I/O) are returned as they are.
type CorruptError struct{ reason string }

func (e *CorruptError) Error() string { return e.reason }

// Corruptf builds a CorruptError.
func Corruptf(format string, a ...any) error { return &CorruptError{fmt.Sprintf(format, a...)} }

// IsCorrupt reports whether err says the file content is invalid.
func IsCorrupt(err error) bool {
	var c *CorruptError
	return errors.As(err, &c)
}

// Write writes fill's bytes followed by their sha256 to path, atomically
// (internal/atomicfile). It returns the checksum.
func Write(path string, fill func(w io.Writer) error) (sum [sha256.Size]byte, err error) {
	err = atomicfile.Stream(path, func(w io.Writer) error {
		h := sha.New()
		if err := fill(io.MultiWriter(w, h)); err != nil {
			return err
		}
		copy(sum[:], h.Sum(nil))
		_, err := w.Write(sum[:])
		return err
	})
	return sum, err
}

// Reader reads a checksummed file: everything read through Read is
// hashed, and Verify compares the hash with the trailing 32 bytes.
type Reader struct {
	f    *os.File
	size int64 // whole file, trailer included
	br   *bufio.Reader
	h    hash.Hash
	n    int64 // bytes hashed so far
}

// Open opens a checksummed file for reading; a file shorter than its
// checksum is corrupt.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Size() < sha256.Size {
		f.Close()
		return nil, Corruptf("file is %d bytes, shorter than its checksum", st.Size())
	}
	return &Reader{f: f, size: st.Size(), br: bufio.NewReaderSize(f, 1<<20), h: sha.New()}, nil
}

// Read implements io.Reader over the hashed part; it refuses to read into the
// trailer so that a size field that lies is caught as corruption.
func (c *Reader) Read(p []byte) (int, error) {
	left := c.size - sha256.Size - c.n
	if left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.br.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// ReadFull reads exactly len(p) bytes, reporting a short file as corruption.
func (c *Reader) ReadFull(p []byte) error {
	if _, err := io.ReadFull(c, p); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return Corruptf("file truncated (%d bytes)", c.size)
		}
		return err
	}
	return nil
}

// ExpectPayload checks, before a large allocation, that the file holds
// exactly `more` further payload bytes plus the trailer.
func (c *Reader) ExpectPayload(more int64) error {
	if want := c.n + more + sha256.Size; more < 0 || want != c.size {
		return Corruptf("file is %d bytes, header implies %d", c.size, want)
	}
	return nil
}

// ExpectPayloadAtLeast checks, before an allocation, that the file holds at
// least `more` further payload bytes.
func (c *Reader) ExpectPayloadAtLeast(more int64) error {
	if more < 0 || c.n+more+sha256.Size > c.size {
		return Corruptf("file is %d bytes, too short for the %d bytes its header announces", c.size, more)
	}
	return nil
}

// ReadFloats fills dst with little-endian float32 values.
func (c *Reader) ReadFloats(dst []float32) error {
	buf := make([]byte, 1<<16)
	for len(dst) > 0 {
		k := min(len(dst), len(buf)/4)
		b := buf[:4*k]
		if err := c.ReadFull(b); err != nil {
			return err
		}
		for i := range k {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		dst = dst[k:]
	}
	return nil
}

// Verify checks that the whole payload was read and matches the trailer.
// It returns the checksum.
func (c *Reader) Verify() ([sha256.Size]byte, error) {
	var want, got [sha256.Size]byte
	if c.n != c.size-sha256.Size {
		return got, Corruptf("%d unread payload bytes", c.size-sha256.Size-c.n)
	}
	if _, err := io.ReadFull(c.br, want[:]); err != nil {
		return got, Corruptf("reading checksum: %v", err)
	}
	copy(got[:], c.h.Sum(nil))
	if got != want {
		return got, Corruptf("checksum mismatch: content hashes to %x, file says %x", got[:6], want[:6])
	}
	return got, nil
}

// Close closes the file.
func (c *Reader) Close() error { return c.f.Close() }

// WriteFloats writes v as little-endian float32 values.
func WriteFloats(w io.Writer, v []float32) error {
	buf := make([]byte, 1<<16)
	for len(v) > 0 {
		k := min(len(v), len(buf)/4)
		for i := range k {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v[i]))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		v = v[k:]
	}
	return nil
}
