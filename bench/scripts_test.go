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

// pyParse compiles a Python file to an AST without writing a .pyc next to
// it (py_compile would).
const pyParse = "import ast, sys; ast.parse(open(sys.argv[1], encoding='utf-8').read(), sys.argv[1])"

// TestBenchPythonParse checks the syntax of the Python references: they
// only run under `make bench`, so a typo would otherwise surface in the
// middle of a long benchmark run. Skipped where there is no python3.
func TestBenchPythonParse(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	files, err := filepath.Glob("*.py")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Python references found (%v)", err)
	}
	for _, f := range files {
		if out, err := exec.Command(py, "-c", pyParse, f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.py")
	if err := os.WriteFile(bad, []byte("def f(:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if exec.Command(py, "-c", pyParse, bad).Run() == nil {
		t.Error("the Python check accepted a broken def")
	}
}
