package oracle

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldUnreadableOutsideEval compiles, through a go build overlay (no file
// is written into the source tree), a package that tries to read the gold of
// an *eval.Hidden directly, and checks the compiler rejects it: outside
// package eval, gold is reachable only through TrainStrongLabel and
// TestMetrics, which only this package's server calls, under a budget.
// (reflect and unsafe can read any memory of a value one holds; the other
// half of isolation is that methods and the oversight loop are never handed
// an *eval.Hidden — method's TestViewHasNoHiddenGold — and talk to the oracle
// over HTTP.)
func TestGoldUnreadableOutsideEval(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not on PATH: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The control uses the public API and must compile, which shows the
	// overlay works and the failures below are the compiler's verdict.
	attempts := map[string]string{
		"control": `func Leak(h *eval.Hidden) int { return h.K() }`,
		"field":   `func Leak(h *eval.Hidden) []int { return h.trainStrong }`,
		"test":    `func Leak(h *eval.Hidden) []int { return h.test }`,
		"copy":    `func Leak(h *eval.Hidden) []int { var c eval.Hidden = *h; return c.trainStrong }`,
	}
	for name, body := range attempts {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "leak.go")
			code := "package leakprobe\n\nimport \"github.com/superalign/superalign/eval\"\n\n" + body + "\n"
			if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			ov, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(root, "oracle", "leakprobe", "leak.go"): src}})
			ovPath := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(goBin, "build", "-tags", "noxla", "-overlay", ovPath, "./oracle/leakprobe")
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if name == "control" {
				if err != nil {
					t.Fatalf("the control (public API only) does not build: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("a package reading hidden gold directly compiled:\n%s", code)
			}
			if !strings.Contains(string(out), "unexported field") {
				t.Fatalf("build failed for another reason than the unexported gold:\n%s", out)
			}
		})
	}
}
