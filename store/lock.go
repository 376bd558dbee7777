package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/superalign/superalign/internal/atomicfile"
)

// One writer per run directory. BeginRun takes an exclusive lock on
// DIR/.w2s-lock (flock: the kernel drops it when the holder dies, so a
// SIGKILLed run never leaves the directory locked), marks the directory
// INCOMPLETE and moves the previous run's results to DIR/previous/, so that
// while a run is in flight, and after it failed, nothing in DIR passes for
// its results. Finish removes the marker once the new results are committed.

const (
	lockFile = ".w2s-lock"
	// IncompleteFile marks a run directory whose run has not finished.
	IncompleteFile = "INCOMPLETE"
	previousDir    = "previous"
)

// resultFiles are what a finished run leaves at the top of its directory.
var resultFiles = []string{"results.jsonl", "summary.json", "report.html", "results.parquet"}

// RunLock is a run's hold on its output directory.
type RunLock struct {
	dir string
	f   *os.File
}

// BeginRun checks that dir can hold a run's output (creating it), locks it
// against a second writer, marks it INCOMPLETE and moves earlier results to
// dir/previous/. command is recorded for the message a second process gets
// and in the marker. Call Release when done (deferred), and Finish after
// the results are written.
func BeginRun(dir, command string) (*RunLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 1024))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("output directory %s is in use by another w2s process (%s): one run writes a directory at a time; wait for it to finish or choose another --out",
				dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	l := &RunLock{dir: dir, f: f}
	started := time.Now().UTC().Format(time.RFC3339)
	holder := fmt.Sprintf("pid %d, started %s: %s", os.Getpid(), started, command)
	// Who holds the lock is for the message a second process gets; failing
	// to record it costs that message its detail, not the run.
	if l.f.Truncate(0) == nil {
		l.f.WriteAt([]byte(holder+"\n"), 0)
	}
	marker := fmt.Sprintf("The run writing this directory has not finished: %s.\n"+
		"If it is no longer running, it failed or was killed; run the same command again to resume it\n"+
		"(finished cells under cells/ are reused). Results of the run before it, if any, are in previous/.\n", holder)
	if err := atomicfile.WriteFile(filepath.Join(dir, IncompleteFile), []byte(marker)); err != nil {
		l.Release()
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	if err := l.movePrevious(); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// movePrevious moves the results of an earlier run to dir/previous/.
func (l *RunLock) movePrevious() error {
	prev := filepath.Join(l.dir, previousDir)
	for _, name := range resultFiles {
		src := filepath.Join(l.dir, name)
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		if err := os.MkdirAll(prev, 0o755); err != nil {
			return fmt.Errorf("keeping the previous results of %s: %w", l.dir, err)
		}
		if err := os.Rename(src, filepath.Join(prev, name)); err != nil {
			return fmt.Errorf("keeping the previous results of %s: %w", l.dir, err)
		}
	}
	return atomicfile.SyncDir(l.dir)
}

// Finish marks the run complete: its results are written.
func (l *RunLock) Finish() error {
	if err := os.Remove(filepath.Join(l.dir, IncompleteFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("marking %s complete: %w", l.dir, err)
	}
	return atomicfile.SyncDir(l.dir)
}

// Release lets another process write the directory. The INCOMPLETE marker
// stays unless Finish ran.
func (l *RunLock) Release() {
	if l == nil || l.f == nil {
		return
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// Incomplete returns the INCOMPLETE marker's first line when dir holds an
// unfinished run.
func Incomplete(dir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, IncompleteFile))
	if err != nil {
		return "", false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return first, true
}
