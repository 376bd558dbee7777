package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path so that a reader (or a rerun after a
// kill) sees either the old file or the complete new one, never a prefix:
// write a temporary file in the same directory, fsync it, rename it over
// path, then fsync the directory so the rename itself survives a crash.
func WriteFileAtomic(path string, data []byte) error {
	return CommitFiles(filepath.Dir(path), File{Name: filepath.Base(path), Data: data})
}

// File is one file of a CommitFiles group: a name inside the directory and
// its whole content.
type File struct {
	Name string
	Data []byte
}

// CommitFiles writes a group of files into dir that belong together
// (results.jsonl, summary.json and report.html of one run): every file is
// first written in full to a temporary file and synced, and only when all of
// them are on disk are they renamed into place. A write that fails (a full
// disk, a file-size limit) leaves none of the group behind, so a reader
// never sees results without their summary.
func CommitFiles(dir string, files ...File) (err error) {
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
		t, err := stage(dir, f)
		if t != "" {
			tmps = append(tmps, t)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("renaming into %s: %w", filepath.Join(dir, f.Name), err)
		}
	}
	return syncDir(dir)
}

// stage writes f to a synced temporary file in dir and returns its name.
func stage(dir string, f File) (string, error) {
	path := filepath.Join(dir, f.Name)
	tmp, err := os.CreateTemp(dir, "."+f.Name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	// CreateTemp makes 0600 files; results and reports are for sharing.
	err = tmp.Chmod(0o644)
	if err == nil {
		_, err = tmp.Write(f.Data)
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

// syncDir makes the renames in dir durable. Filesystems that cannot sync a
// directory (EINVAL) are tolerated; other errors are reported.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isEINVAL(err) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
