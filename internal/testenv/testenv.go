// Package testenv holds the conditions under which a test runs: the
// -short suite (go test -short ./...) is offline, needs no root and uses
// only the logic under test and small fixtures the project generates; the
// full suite (make test) runs on the real assets and real systems (a
// single-node SLURM, a browser, node), which it fetches and installs.
package testenv

import (
	"os"
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
