package assets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/progress"
)

// FetchError says which package could not be fetched, by which command,
// what the command printed last and what the user can do about it.
type FetchError struct {
	Package string // registry name
	Command string // the command line or HTTP request that failed
	Stderr  string // tail of its stderr (or the HTTP status and body)
	Hint    string // what to do
	Err     error  // underlying cause
}

func (e *FetchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "assets: fetching %q failed: %s: %v", e.Package, e.Command, e.Err)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		fmt.Fprintf(&b, "\n  stderr (tail):\n    %s", strings.ReplaceAll(s, "\n", "\n    "))
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n  hint: %s", e.Hint)
	}
	return b.String()
}

func (e *FetchError) Unwrap() error { return e.Err }

// tail keeps the last n lines of s, because registry clients print their
// real complaint at the end after pages of progress notices.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > 4000 {
		out = out[len(out)-4000:]
	}
	return out
}

// offlineHint is the common second half of every hint: the archive can
// always be supplied by hand, since it is verified against the pin anyway.
func offlineHint(p Package, archive string) string {
	return fmt.Sprintf("or place the archive at %s (sha256 %s) and run again", archive, p.SHA256)
}

// fetch downloads p's archive into a temp dir under base, verifies it
// against the pin and renames it to archive. A mismatching download is
// deleted before the error is returned.
func fetch(ctx context.Context, p Package, base, archive string, log io.Writer) error {
	tmp, err := os.MkdirTemp(base, tmpFetch)
	if err != nil {
		return fmt.Errorf("assets: %s: %w", p.Name, err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "assets: %s: fetching %s %s (%.1f MB)\n", p.Name, p.Kind, p.Spec, float64(p.Size)/1e6)
	var got string
	switch p.Kind {
	case KindNpm:
		got, err = fetchNpm(ctx, p, tmp, archive)
	case KindDebian:
		got, err = fetchDebian(ctx, p, tmp, archive)
	case KindGoMod:
		got, err = fetchGoMod(ctx, p, tmp, archive, log)
	default:
		err = fmt.Errorf("assets: %s: unknown kind %q", p.Name, p.Kind)
	}
	if err != nil {
		return err
	}
	hook("fetched")
	if err := verifyArchive(got, p.SHA256); err != nil {
		os.Remove(got)
		return fmt.Errorf("assets: %s: downloaded archive of %s %s does not match its pin: %w; the registry served different bytes (a republished or tampered package, or a wrong pin); the file was removed", p.Name, p.Kind, p.Spec, err)
	}
	f, err := os.Open(got)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("assets: %s: sync archive: %w", p.Name, err)
	}
	if err := os.Rename(got, archive); err != nil {
		return fmt.Errorf("assets: %s: move archive into place: %w", p.Name, err)
	}
	return atomicfile.SyncDir(base)
}

// runTool runs a registry client in dir and turns a failure into a
// FetchError carrying its stderr tail.
func runTool(ctx context.Context, p Package, dir, hint string, name string, args ...string) error {
	cmdline := name + " " + strings.Join(args, " ")
	if _, err := exec.LookPath(name); err != nil {
		return &FetchError{Package: p.Name, Command: cmdline, Err: err, Hint: fmt.Sprintf("install %s, %s", name, hint)}
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout = &stderr // both streams: npm prints errors on stderr, apt on either
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return &FetchError{Package: p.Name, Command: cmdline, Stderr: tail(stderr.String(), 15), Hint: hint, Err: err}
	}
	return nil
}

// single returns the one file matching pattern in dir: the registry
// clients name their output themselves.
func single(p Package, dir, pattern, cmd string) (string, error) {
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return "", err
	}
	if len(m) != 1 {
		return "", &FetchError{Package: p.Name, Command: cmd, Err: fmt.Errorf("expected one %s file in %s, found %d", pattern, dir, len(m))}
	}
	return m[0], nil
}

// fetchNpm uses `npm pack`, which downloads the published tarball without
// installing it, so no package scripts run.
func fetchNpm(ctx context.Context, p Package, tmp, archive string) (string, error) {
	hint := "check network access to the npm registry (`npm config get registry`; proxies via HTTPS_PROXY), " + offlineHint(p, archive)
	args := []string{"pack", "--ignore-scripts", "--pack-destination", tmp, p.Spec}
	if err := runTool(ctx, p, tmp, hint, "npm", args...); err != nil {
		return "", err
	}
	return single(p, tmp, "*.tgz", "npm "+strings.Join(args, " "))
}

// fetchDebian uses `apt-get download`, which fetches the .deb of the
// pinned version into the current directory without installing it.
func fetchDebian(ctx context.Context, p Package, tmp, archive string) (string, error) {
	hint := "check network access to the Debian mirror and run `apt-get update` so the index lists " + p.Spec + ", " + offlineHint(p, archive)
	var args []string
	if os.Geteuid() == 0 {
		// As root apt drops to the _apt user, which cannot write into a
		// cache under /root; downloading as root avoids a spurious failure.
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	args = append(args, "download", p.Spec)
	if err := runTool(ctx, p, tmp, hint, "apt-get", args...); err != nil {
		return "", err
	}
	return single(p, tmp, "*.deb", "apt-get "+strings.Join(args, " "))
}

// goProxy returns the first usable entry of $GOPROXY (default
// proxy.golang.org). "direct" is skipped because a module zip cannot be
// fetched from a VCS without the go command; "off" stops the search.
func goProxy() (string, error) {
	v := os.Getenv("GOPROXY")
	if v == "" {
		return "https://proxy.golang.org", nil
	}
	for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' }) {
		e = strings.TrimSpace(e)
		switch e {
		case "", "direct":
			continue
		case "off":
			return "", errors.New("GOPROXY=off disables the module proxy")
		}
		return strings.TrimRight(e, "/"), nil
	}
	return "https://proxy.golang.org", nil
}

// escapeModule applies the module proxy's case encoding: each upper-case
// letter becomes '!' followed by its lower-case form, so that paths stay
// distinct on case-insensitive file systems.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// splitSpec splits "module@version".
func splitSpec(spec string) (mod, ver string, err error) {
	i := strings.LastIndex(spec, "@")
	if i <= 0 || i == len(spec)-1 {
		return "", "", fmt.Errorf("spec %q is not module@version", spec)
	}
	return spec[:i], spec[i+1:], nil
}

// fetchGoMod downloads the module zip from the proxy over HTTP (or reads it
// from a file:// proxy, which GOPROXY also allows).
func fetchGoMod(ctx context.Context, p Package, tmp, archive string, log io.Writer) (string, error) {
	mod, ver, err := splitSpec(p.Spec)
	if err != nil {
		return "", fmt.Errorf("assets: %s: %w", p.Name, err)
	}
	proxy, err := goProxy()
	if err != nil {
		return "", &FetchError{Package: p.Name, Command: "GOPROXY", Err: err, Hint: "set GOPROXY to a module proxy, " + offlineHint(p, archive)}
	}
	u := proxy + "/" + escapeModule(mod) + "/@v/" + escapeModule(ver) + ".zip"
	hint := "check network access to the Go module proxy (" + proxy + "; set GOPROXY), " + offlineHint(p, archive)
	cmd := "GET " + u
	body, err := openURL(ctx, u)
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			fe.Package, fe.Command, fe.Hint = p.Name, cmd, hint
			return "", fe
		}
		return "", &FetchError{Package: p.Name, Command: cmd, Hint: hint, Err: err}
	}
	defer body.Close()
	out := filepath.Join(tmp, p.Archive)
	f, err := os.Create(out)
	if err != nil {
		return "", fmt.Errorf("assets: %s: %w", p.Name, err)
	}
	bar := progress.New(log, "assets: "+p.Name, int(p.Size), "bytes")
	_, err = io.Copy(io.MultiWriter(f, barWriter{bar}), body)
	bar.Done()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", &FetchError{Package: p.Name, Command: cmd, Hint: hint, Err: fmt.Errorf("reading body: %w", err)}
	}
	return out, nil
}

// openURL opens an http(s) or file URL.
func openURL(ctx context.Context, raw string) (io.ReadCloser, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return os.Open(u.Path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		resp.Body.Close()
		return nil, &FetchError{Err: fmt.Errorf("HTTP %s", resp.Status), Stderr: tail(string(b), 10)}
	}
	return resp.Body, nil
}

// barWriter feeds byte counts to a progress bar.
type barWriter struct{ b *progress.Bar }

func (w barWriter) Write(p []byte) (int, error) {
	w.b.Add(len(p))
	return len(p), nil
}
