package assets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/internal/sha"
)

// Names inside a package directory. Temp names start with a dot and a fixed
// prefix so that leftovers of a killed run are recognised and removed.
const (
	contentsDir  = "contents"
	markerFile   = ".complete"
	lockFileName = ".lock"
	tmpFetch     = ".fetch-"
	tmpUnpack    = ".unpack-"
	tmpMarker    = ".complete.tmp-"
)

// testHook, when set (only by this package's tests, in a child process), is
// called at named points of an install so a test can SIGKILL the process
// there and check that the next Ensure recovers.
var testHook func(step string)

func hook(step string) {
	if testHook != nil {
		testHook(step)
	}
}

// Ensure makes sure the named package is fetched, verified and unpacked in
// the cache and returns the directory holding its contents. For npm
// packages the tarball's top folder ("package/") is stripped, for Go
// modules the "module@version/" prefix; Debian packages keep their
// filesystem layout (usr/share/...).
//
// It is idempotent and safe against concurrent callers in other processes
// (a per-package flock) and against being killed at any point (work
// happens under temp names, renamed into place, and a completion marker is
// written last). When the marker is present and the archive still matches
// its pinned sha256, Ensure only re-hashes the archive and stats the files.
func Ensure(ctx context.Context, name string, log io.Writer) (dir string, err error) {
	p, err := Lookup(name)
	if err != nil {
		return "", err
	}
	return ensure(ctx, p, log)
}

func ensure(ctx context.Context, p Package, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	base := pkgDir(p.Name)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("assets: %s: create cache dir: %w", p.Name, err)
	}
	unlock, err := lockDir(ctx, base, p.Name, log)
	if err != nil {
		return "", err
	}
	defer unlock()

	contents := filepath.Join(base, contentsDir)
	archive := filepath.Join(base, p.Archive)
	marker := filepath.Join(base, markerFile)

	reason := checkInstalled(p, base)
	if reason == nil {
		return contents, nil
	}
	if !errors.Is(reason, errNoMarker) {
		fmt.Fprintf(log, "assets: %s: cached copy not usable (%v); reinstalling\n", p.Name, reason)
	}

	// From here on the install is not complete: drop the marker first so a
	// kill below can never leave a marker next to half-replaced contents.
	if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("assets: %s: remove stale marker: %w", p.Name, err)
	}
	if err := removeTemps(base); err != nil {
		return "", fmt.Errorf("assets: %s: remove leftovers of an interrupted run: %w", p.Name, err)
	}

	if err := verifyArchive(archive, p.SHA256); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(log, "assets: %s: cached archive %s failed verification (%v); removing it and fetching again\n", p.Name, archive, err)
			if rerr := os.Remove(archive); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				return "", fmt.Errorf("assets: %s: remove corrupt archive: %w", p.Name, rerr)
			}
		}
		if err := fetch(ctx, p, base, archive, log); err != nil {
			return "", err
		}
	}

	tmp, err := os.MkdirTemp(base, tmpUnpack)
	if err != nil {
		return "", fmt.Errorf("assets: %s: %w", p.Name, err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename below
	fmt.Fprintf(log, "assets: %s: unpacking %s\n", p.Name, p.Archive)
	if err := unpack(ctx, p, archive, tmp); err != nil {
		return "", fmt.Errorf("assets: %s: unpack %s: %w", p.Name, archive, err)
	}
	hook("unpacked")
	if err := os.RemoveAll(contents); err != nil {
		return "", fmt.Errorf("assets: %s: remove old contents: %w", p.Name, err)
	}
	if err := os.Rename(tmp, contents); err != nil {
		return "", fmt.Errorf("assets: %s: move contents into place: %w", p.Name, err)
	}
	hook("renamed")
	files, err := manifest(contents)
	if err != nil {
		return "", fmt.Errorf("assets: %s: list contents: %w", p.Name, err)
	}
	m := markerData{Name: p.Name, Kind: p.Kind, Spec: p.Spec, SHA256: p.SHA256, Archive: p.Archive, Files: files}
	if err := writeMarker(base, m); err != nil {
		return "", fmt.Errorf("assets: %s: write completion marker: %w", p.Name, err)
	}
	fmt.Fprintf(log, "assets: %s: ready in %s (%d files)\n", p.Name, contents, len(files))
	return contents, nil
}

// lockDir takes an exclusive flock on the package's lock file, polling so
// that ctx cancellation is honoured while another process holds it. The
// kernel drops the lock when the holder dies, so a SIGKILLed fetch never
// leaves the package locked.
func lockDir(ctx context.Context, base, name string, log io.Writer) (func(), error) {
	f, err := os.OpenFile(filepath.Join(base, lockFileName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("assets: %s: open lock file: %w", name, err)
	}
	waited := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("assets: %s: lock %s: %w", name, f.Name(), err)
		}
		if !waited {
			fmt.Fprintf(log, "assets: %s: waiting for another process fetching it (lock %s)\n", name, f.Name())
			waited = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("assets: %s: waiting for lock: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// removeTemps deletes temp files and dirs left by a killed run. It runs
// under the lock, so no live process owns them.
func removeTemps(base string) error {
	entries, err := os.ReadDir(base)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, tmpFetch) || strings.HasPrefix(n, tmpUnpack) || strings.HasPrefix(n, tmpMarker) {
			if err := os.RemoveAll(filepath.Join(base, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifyArchive checks a file against its pinned hash; a missing file
// yields an error wrapping fs.ErrNotExist.
func verifyArchive(path, want string) error {
	got, err := sha.File(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("sha256 %s, pinned %s", got, want)
	}
	return nil
}

type fileEntry struct {
	Path string `json:"p"`
	Size int64  `json:"n"`
}

// markerData is the completion marker. It records the pin it was made for
// (so a changed pin invalidates it), the unpacked files with their sizes
// (so a truncated or deleted file is noticed without re-reading it) and a
// checksum over itself (so a damaged marker is never trusted).
type markerData struct {
	Name    string      `json:"name"`
	Kind    string      `json:"kind"`
	Spec    string      `json:"spec"`
	SHA256  string      `json:"sha256"`
	Archive string      `json:"archive"`
	Files   []fileEntry `json:"files"`
	Check   string      `json:"check"`
}

func (m markerData) checksum() string {
	m.Check = ""
	b, _ := json.Marshal(m) // plain structs: cannot fail
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeMarker(base string, m markerData) error {
	m.Check = m.checksum()
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	// atomicfile stages the marker as .complete.tmp-*, which removeTemps
	// clears after a kill.
	return atomicfile.WriteFile(filepath.Join(base, markerFile), b)
}

// errNoMarker means nothing complete is installed: the first fetch, or a
// run that was interrupted before its end.
var errNoMarker = errors.New("no completion marker")

// checkInstalled returns nil when the marker is intact, matches the pin,
// the archive verifies and every recorded file exists with its size.
func checkInstalled(p Package, base string) error {
	b, err := os.ReadFile(filepath.Join(base, markerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return errNoMarker
	}
	if err != nil {
		return err
	}
	var m markerData
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("completion marker unreadable: %v", err)
	}
	if m.Check != m.checksum() {
		return errors.New("completion marker checksum mismatch")
	}
	if m.Name != p.Name || m.Kind != p.Kind || m.Spec != p.Spec || m.SHA256 != p.SHA256 || m.Archive != p.Archive {
		return fmt.Errorf("completion marker is for %s %s (sha256 %s), pinned %s (sha256 %s)", m.Kind, m.Spec, m.SHA256, p.Spec, p.SHA256)
	}
	if err := verifyArchive(filepath.Join(base, p.Archive), p.SHA256); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	contents := filepath.Join(base, contentsDir)
	for _, f := range m.Files {
		st, err := os.Stat(filepath.Join(contents, filepath.FromSlash(f.Path)))
		if err != nil {
			return fmt.Errorf("unpacked file: %w", err)
		}
		if st.Size() != f.Size {
			return fmt.Errorf("unpacked file %s has %d bytes, expected %d", f.Path, st.Size(), f.Size)
		}
	}
	return nil
}

// manifest lists the regular files under dir with their sizes.
func manifest(dir string) ([]fileEntry, error) {
	var out []fileEntry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, fileEntry{Path: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}
