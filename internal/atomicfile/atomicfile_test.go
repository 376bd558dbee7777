package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCommitAllOrNothing: when the last file of a group cannot be
// written (here a file-size limit, as a full disk would), none of the group
// replaces what was there, and no temporary file is left.
func TestCommitAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	if err := Commit(dir, File{"results.jsonl", []byte("old rows\n")}, File{"summary.json", []byte("old summary\n")}); err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 64 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot limit file size: %v", err)
	}
	err := Commit(dir, File{"results.jsonl", []byte("new rows\n")}, File{"summary.json", []byte("new summary\n")},
		File{"report.html", bytes.Repeat([]byte("x"), 1<<20)})
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil || !strings.Contains(err.Error(), "report.html") {
		t.Fatalf("err = %v, want a failure writing report.html", err)
	}
	for name, want := range map[string]string{"results.jsonl": "old rows\n", "summary.json": "old summary\n"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want {
			t.Errorf("%s = %q after a failed commit, want the old %q", name, b, want)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "results.jsonl" && e.Name() != "summary.json" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
