// Package bench holds the head-training benchmark (cmd/headbench, run.sh)
// and the small .npy reader/writer it shares with the Python references.
//
// Data exchange uses NumPy's .npy format (version 1.0, little-endian, C
// order) because numpy.load reads it with no extra code on the Python side:
// features are float32 [N, D], labels int32 (or int64) [N].
//
// Example:
//
//	err := bench.WriteNPYFloat32("x.npy", m.Values, m.Rows, m.Cols)
//	vals, dims, err := bench.ReadNPYFloat32("x.npy") // dims == []int{m.Rows, m.Cols}
package bench

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var npyMagic = []byte("\x93NUMPY")

// writeNPY writes a header for dtype descr ("<f4", "<i4") and shape, then body.
func writeNPY(path, descr string, dims []int, body func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	w := bufio.NewWriter(f)
	shape := make([]string, len(dims))
	for i, d := range dims {
		shape[i] = strconv.Itoa(d)
	}
	shapeStr := strings.Join(shape, ", ")
	if len(dims) == 1 {
		shapeStr += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shapeStr)
	// Pad with spaces so that magic(6)+version(2)+len(2)+header+"\n" is a multiple of 64.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	_, _ = w.Write(npyMagic)
	_, _ = w.Write([]byte{1, 0})
	_ = binary.Write(w, binary.LittleEndian, uint16(len(header)))
	_, _ = w.WriteString(header)
	if err := body(w); err != nil {
		f.Close()
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("bench: writing %s: %w", path, err)
	}
	return f.Close()
}

// WriteNPYFloat32 writes values (row-major, len = product of dims) as a
// float32 array of shape dims.
func WriteNPYFloat32(path string, values []float32, dims ...int) error {
	return writeNPY(path, "<f4", dims, func(w io.Writer) error { return binary.Write(w, binary.LittleEndian, values) })
}

// WriteNPYInt32 writes values as an int32 array of shape dims.
func WriteNPYInt32(path string, values []int32, dims ...int) error {
	return writeNPY(path, "<i4", dims, func(w io.Writer) error { return binary.Write(w, binary.LittleEndian, values) })
}

var (
	descrRe = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	orderRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRe = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// readNPY parses the header and returns the dtype descr, the shape and a
// reader positioned at the data.
func readNPY(path string) (descr string, dims []int, body *bufio.Reader, f *os.File, err error) {
	f, err = os.Open(path)
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("bench: %w", err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	fail := func(format string, args ...any) (string, []int, *bufio.Reader, *os.File, error) {
		f.Close()
		return "", nil, nil, nil, fmt.Errorf("bench: %s: "+format, append([]any{path}, args...)...)
	}
	pre := make([]byte, 8)
	if _, err := io.ReadFull(r, pre); err != nil || string(pre[:6]) != string(npyMagic) {
		return fail("not a .npy file")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return fail("short header: %v", err)
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return fail("short header: %v", err)
		}
		hlen = int(n)
	default:
		return fail("unsupported .npy version %d", pre[6])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return fail("short header: %v", err)
	}
	h := string(hdr)
	m := descrRe.FindStringSubmatch(h)
	if m == nil {
		return fail("no descr in header %q", h)
	}
	descr = m[1]
	if o := orderRe.FindStringSubmatch(h); o == nil || o[1] != "False" {
		return fail("only C-order arrays are supported")
	}
	s := shapeRe.FindStringSubmatch(h)
	if s == nil {
		return fail("no shape in header %q", h)
	}
	for _, part := range strings.Split(s[1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := strconv.Atoi(part)
		if err != nil {
			return fail("bad shape %q", s[1])
		}
		dims = append(dims, d)
	}
	return descr, dims, r, f, nil
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// ReadNPYFloat32 reads a float32 ("<f4") or float64 ("<f8", converted)
// array and returns its values (row-major) and shape.
func ReadNPYFloat32(path string) ([]float32, []int, error) {
	descr, dims, r, f, err := readNPY(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	n := size(dims)
	out := make([]float32, n)
	switch descr {
	case "<f4":
		err = binary.Read(r, binary.LittleEndian, out)
	case "<f8":
		tmp := make([]float64, n)
		if err = binary.Read(r, binary.LittleEndian, tmp); err == nil {
			for i, v := range tmp {
				if math.Abs(v) > math.MaxFloat32 {
					return nil, nil, fmt.Errorf("bench: %s: value %g overflows float32", path, v)
				}
				out[i] = float32(v)
			}
		}
	default:
		return nil, nil, fmt.Errorf("bench: %s: dtype %q, want <f4 or <f8", path, descr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bench: reading %s: %w", path, err)
	}
	return out, dims, nil
}

// ReadNPYInt reads an int32 ("<i4") or int64 ("<i8") array as []int.
func ReadNPYInt(path string) ([]int, []int, error) {
	descr, dims, r, f, err := readNPY(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	n := size(dims)
	out := make([]int, n)
	switch descr {
	case "<i4":
		tmp := make([]int32, n)
		err = binary.Read(r, binary.LittleEndian, tmp)
		for i, v := range tmp {
			out[i] = int(v)
		}
	case "<i8":
		tmp := make([]int64, n)
		err = binary.Read(r, binary.LittleEndian, tmp)
		for i, v := range tmp {
			out[i] = int(v)
		}
	default:
		return nil, nil, fmt.Errorf("bench: %s: dtype %q, want <i4 or <i8", path, descr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bench: reading %s: %w", path, err)
	}
	return out, dims, nil
}
