package experiment

// Trained weak models and ceilings are shared by every method of a cell
// and by every process of a sweep: what the methods and eval need of them
// (the weak model's predictions on train_strong and test, the ceiling's on
// test) is cached content-addressed under CellRunner.Teachers, keyed by
// the node keys of CellKeys, so a fine-tuned ceiling is trained once per
// (dataset, split, student, settings) whatever runs it. One process trains
// a key while the others wait on a file lock and then read its file.
//
// File layout, written atomically with a trailing sha256 (internal/checkfile):
//
//	magic "superalign teacher v1\n", matrices M uint32,
//	M × (name length uint32, name, rows uint64, cols uint64, float32 × rows·cols)

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/checkfile"
)

const teacherMagic = "superalign teacher v1\n"

// teacher is a trained model's predictions by split name.
type teacher map[string]data.Matrix

// teacher returns the predictions cached under key, computing them with fit
// (and storing them) when there are none. reused reports that they came
// from memory or disk rather than from fit.
func (c *CellRunner) teacher(key string, fit func() (teacher, error)) (t teacher, reused bool, err error) {
	trained := false
	t, err = getOnce(c, &c.teachers, key, func() (teacher, error) {
		dir := c.teacherDir()
		path := filepath.Join(dir, key[:2], key+".pred")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		unlock, err := lockFile(path + ".lock")
		if err != nil {
			return nil, err
		}
		defer unlock()
		t, err := readTeacher(path)
		switch {
		case err == nil:
			return t, nil
		case errors.Is(err, os.ErrNotExist):
		case checkfile.IsCorrupt(err):
			c.logf("%s: %v; training it again", path, err)
		default:
			return nil, err
		}
		trained = true
		if t, err = fit(); err != nil {
			return nil, err
		}
		return t, writeTeacher(path, t)
	})
	return t, !trained, err
}

func (c *CellRunner) teacherDir() string {
	if c.Teachers != "" {
		return c.Teachers
	}
	return DefaultTeacherDir()
}

// writeTeacher stores t at path atomically.
func writeTeacher(path string, t teacher) error {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	_, err := checkfile.Write(path, func(w io.Writer) error {
		var hdr bytes.Buffer
		hdr.WriteString(teacherMagic)
		binary.Write(&hdr, binary.LittleEndian, uint32(len(names)))
		if _, err := w.Write(hdr.Bytes()); err != nil {
			return err
		}
		for _, n := range names {
			m := t[n]
			var head bytes.Buffer
			binary.Write(&head, binary.LittleEndian, uint32(len(n)))
			head.WriteString(n)
			binary.Write(&head, binary.LittleEndian, uint64(m.Rows))
			binary.Write(&head, binary.LittleEndian, uint64(m.Cols))
			if _, err := w.Write(head.Bytes()); err != nil {
				return err
			}
			if err := checkfile.WriteFloats(w, m.Values); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing teacher predictions %s: %w", path, err)
	}
	return nil
}

// readTeacher reads and verifies a file written by writeTeacher.
func readTeacher(path string) (teacher, error) {
	r, err := checkfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	magic := make([]byte, len(teacherMagic))
	if err := r.ReadFull(magic); err != nil {
		return nil, err
	}
	if string(magic) != teacherMagic {
		return nil, checkfile.Corruptf("not a teacher file (bad magic)")
	}
	var buf [8]byte
	if err := r.ReadFull(buf[:4]); err != nil {
		return nil, err
	}
	count := binary.LittleEndian.Uint32(buf[:4])
	if count > 16 {
		return nil, checkfile.Corruptf("%d matrices in a teacher file", count)
	}
	t := teacher{}
	for range count {
		if err := r.ReadFull(buf[:4]); err != nil {
			return nil, err
		}
		n := binary.LittleEndian.Uint32(buf[:4])
		if n > 64 {
			return nil, checkfile.Corruptf("matrix name of %d bytes", n)
		}
		name := make([]byte, n)
		if err := r.ReadFull(name); err != nil {
			return nil, err
		}
		var dims [2]uint64
		for i := range dims {
			if err := r.ReadFull(buf[:]); err != nil {
				return nil, err
			}
			dims[i] = binary.LittleEndian.Uint64(buf[:])
		}
		if dims[0] > 1<<32 || dims[1] > 1<<16 {
			return nil, checkfile.Corruptf("implausible shape [%d, %d]", dims[0], dims[1])
		}
		if err := r.ExpectPayloadAtLeast(int64(4 * dims[0] * dims[1])); err != nil {
			return nil, err
		}
		m := data.NewMatrix(int(dims[0]), int(dims[1]))
		if err := r.ReadFloats(m.Values); err != nil {
			return nil, err
		}
		t[string(name)] = m
	}
	if _, err := r.Verify(); err != nil {
		return nil, err
	}
	return t, nil
}

// lockFile takes an exclusive flock on path, for one process at a time
// across a sweep's SLURM tasks; the returned function releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
