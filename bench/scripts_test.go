package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBenchScriptsParse checks every bench script's syntax with bash -n:
// gpu.sh in particular only runs on a lent GPU machine, so a typo would
// otherwise surface there, on borrowed time.
func TestBenchScriptsParse(t *testing.T) {
	scripts, err := filepath.Glob("*.sh")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no bench scripts found (%v)", err)
	}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
	// A script with a syntax error must fail the check, or the test
	// proves nothing.
	bad := filepath.Join(t.TempDir(), "bad.sh")
	if err := os.WriteFile(bad, []byte("if true; then\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if exec.Command("bash", "-n", bad).Run() == nil {
		t.Error("bash -n accepted an unterminated if")
	}
}
