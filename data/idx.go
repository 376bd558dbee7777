package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

// IDX is one decoded IDX file (the MNIST container format): a big-endian
// header of magic 0x0000 | type byte | rank byte, then rank uint32 sizes,
// then the row-major payload. Only unsigned bytes (type 0x08), the type of
// every MNIST-family file, are supported.
type IDX struct {
	Dims []int  // e.g. [60000 28 28] for images, [60000] for labels
	Data []byte // len = product of Dims
}

// maxIDXBytes bounds the payload a header may claim, so a corrupt header
// cannot make the reader allocate gigabytes (70k 28×28 images are 55 MB).
const maxIDXBytes = 1 << 30

// ReadIDXFile reads a plain or gzip-compressed (".gz") IDX file.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	x, err := ReadIDX(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// ReadIDX decodes an IDX stream of unsigned bytes.
func ReadIDX(r io.Reader) (*IDX, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("idx header: %w", err)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("idx header: magic %02x%02x, want 0000", hdr[0], hdr[1])
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("idx header: element type 0x%02x, only unsigned byte (0x08) is supported", hdr[2])
	}
	rank := int(hdr[3])
	if rank == 0 || rank > 4 {
		return nil, fmt.Errorf("idx header: rank %d, want 1..4", rank)
	}
	dims := make([]int, rank)
	n := 1
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("idx header: dimension %d: %w", i, err)
		}
		dims[i] = int(binary.BigEndian.Uint32(b[:]))
		if dims[i] == 0 {
			return nil, fmt.Errorf("idx header: dimension %d is 0", i)
		}
		n *= dims[i]
		if n > maxIDXBytes {
			return nil, fmt.Errorf("idx header: dimensions %v exceed %d bytes", dims[:i+1], maxIDXBytes)
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("idx payload: want %d bytes for dimensions %v: %w", n, dims, err)
	}
	return &IDX{Dims: dims, Data: buf}, nil
}
