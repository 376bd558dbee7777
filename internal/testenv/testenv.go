// Package testenv holds the conditions under which a test runs: the
// -short suite (go test -short ./...) is offline, needs no root and uses
// only the logic under test and small fixtures the project generates; the
// full suite (make test) runs on the real assets and real systems (a
// single-node SLURM, a browser, node), which it fetches and installs.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// NeedsAssets skips t under -short: it reads assets fetched from package
// registries (what names them), which a -short run never fetches. The
// full suite fetches them first (make test), so there the test runs.
func NeedsAssets(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("reads fetched assets (%s): not under -short", what)
	}
}

// NeedsRoot skips t unless it runs as root and not under -short: it
// installs or starts system services (what names them).
func NeedsRoot(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("installs or starts %s: not under -short", what)
	}
	if os.Geteuid() != 0 {
		t.Skipf("installs or starts %s: needs root", what)
	}
}

// Chromium returns the path of headless Chromium for a browser test,
// installing Debian's package when it is missing and the test runs as
// root; under -short, or when it cannot be had, t is skipped with the
// reason.
func Chromium(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: drives (and may install) headless Chromium, not under -short")
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("browser test skipped: /usr/bin/chromium is missing and installing it needs root (apt-get install -y chromium)")
	}
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "chromium"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			if len(out) > 2000 {
				out = out[len(out)-2000:]
			}
			t.Skipf("browser test skipped: apt-get %s failed: %v\n%s", args[0], err, out)
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("browser test skipped: apt-get installed chromium but /usr/bin/chromium is missing")
	}
	return "/usr/bin/chromium"
}
