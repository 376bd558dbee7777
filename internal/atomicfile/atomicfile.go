// Package atomicfile is the project's one way of putting a file on disk: a
// reader, or a rerun after SIGKILL, sees either the old file or the complete
// new one, never a prefix. Every file is written in full to a temporary file
// in the target directory, synced, renamed over its name (a rename within a
// directory is atomic), and the directory is synced so the rename itself
// survives a crash. Concurrent writers of the same path replace each other
// whole.
//
// Results, cell files, sweep plans, reports, downloaded-asset sidecars,
// generated test models, the checksummed caches (internal/checkfile) and
// the oracle's secret files all go through here.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Shared files (results, reports, caches) are for every user on the
// machine; secrets (WriteSecret) stay with their owner.
const (
	modeShared = 0o644
	modeSecret = 0o600
)

// File is one file of a Commit group: a name inside the directory and its
// whole content.
type File struct {
	Name string
	Data []byte
}

// WriteFile writes data to path atomically, mode 0644.
func WriteFile(path string, data []byte) error {
	return Commit(filepath.Dir(path), File{Name: filepath.Base(path), Data: data})
}

// WriteSecret writes data to path atomically with mode 0600. The temporary
// file is created 0600 and never widened, so the secret is not readable by
// others even for a moment.
func WriteSecret(path string, data []byte) error {
	return commit(filepath.Dir(path), modeSecret, []staged{{filepath.Base(path), bytesFill(data)}})
}

// Stream writes the bytes fill produces to path atomically, mode 0644,
// through a buffered writer: for files too large to hold twice in memory.
func Stream(path string, fill func(w io.Writer) error) error {
	return commit(filepath.Dir(path), modeShared, []staged{{filepath.Base(path), fill}})
}

// Commit writes a group of files into dir that belong together
// (results.jsonl, summary.json and report.html of one run): every file is
// first written in full to a temporary file and synced, and only when all of
// them are on disk are they renamed into place. A write that fails (a full
// disk, a file-size limit) leaves none of the group behind, so a reader
// never sees results without their summary.
func Commit(dir string, files ...File) error {
	s := make([]staged, len(files))
	for i, f := range files {
		s[i] = staged{f.Name, bytesFill(f.Data)}
	}
	return commit(dir, modeShared, s)
}

type staged struct {
	name string
	fill func(io.Writer) error
}

func bytesFill(b []byte) func(io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}

func commit(dir string, mode os.FileMode, files []staged) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmps := make([]string, 0, len(files))
	defer func() {
		for _, t := range tmps {
			os.Remove(t) // no-op for those renamed
		}
	}()
	for _, f := range files {
		t, err := stage(dir, mode, f)
		if t != "" {
			tmps = append(tmps, t)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("renaming into %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return SyncDir(dir)
}

// stage writes f to a synced temporary file in dir and returns its name.
func stage(dir string, mode os.FileMode, f staged) (string, error) {
	path := filepath.Join(dir, f.name)
	tmp, err := os.CreateTemp(dir, "."+f.name+".tmp-*") // created 0600
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	if mode != modeSecret {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		bw := bufio.NewWriterSize(tmp, 1<<20)
		if err = f.fill(bw); err == nil {
			err = bw.Flush()
		}
	}
	if err == nil {
		if err = tmp.Sync(); err != nil {
			err = fmt.Errorf("syncing: %w", err)
		}
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing: %w", cerr)
	}
	if err != nil {
		return name, fmt.Errorf("writing %s: %w", path, err)
	}
	return name, nil
}

// SyncDir makes the renames (and removals) in dir durable. Filesystems that cannot sync a
// directory (EINVAL) are tolerated; other errors are reported.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
