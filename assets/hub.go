package assets

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/superalign/superalign/internal/atomicfile"
)

// HFEndpointEnv overrides the Hugging Face Hub address (default
// https://huggingface.co; HF_ENDPOINT is honoured too) — a mirror, or a
// local server in tests.
const HFEndpointEnv = "SUPERALIGN_HF_ENDPOINT"

// hfFiles are the files FetchHF downloads; optional ones may be missing (404).
// A file missing at the root is looked for under alt (sentence-transformers
// repositories keep their export in onnx/model.onnx).
var hfFiles = []struct {
	name     string
	optional bool
	alt      string
}{{"model.onnx", false, "onnx/model.onnx"}, {"tokenizer.json", false, ""}, {"config.json", true, ""}}

var hfRepoRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
var hfRevRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// HFError is a failed Hub download; Status is the HTTP status (0 when the
// failure was not an HTTP answer).
type HFError struct {
	URL    string
	Status int
	Err    error
}

func (e *HFError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("hf: %s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("hf: %s: %v", e.URL, e.Err)
}

func (e *HFError) Unwrap() error { return e.Err }

// hfEndpoint is the Hub address in use.
func hfEndpoint() string {
	for _, k := range []string{HFEndpointEnv, "HF_ENDPOINT"} {
		if v := os.Getenv(k); v != "" {
			return strings.TrimSuffix(v, "/")
		}
	}
	return "https://huggingface.co"
}

// FetchHF downloads model.onnx (or onnx/model.onnx), tokenizer.json and (if present)
// config.json of the Hub repository spec "OWNER/REPO[@REV]" (REV defaults
// to main) from ENDPOINT/OWNER/REPO/resolve/REV/FILE into
// $SUPERALIGN_CACHE/hf/OWNER/REPO/REV/ and returns that directory.
//
// Every file is verified against the checksum the Hub states for it: the
// sha256 in X-Linked-Etag (or a 64-hex ETag) for LFS files, the git blob
// sha1 in ETag otherwise; a file whose checksum the server does not state
// is refused. Downloads go to FILE.part and are renamed into place only
// once verified, so a killed download leaves no file that looks complete;
// the next call resumes the .part with an HTTP Range request. A verified
// file is kept with its checksum in FILE.sum and not downloaded again (nor
// is an optional file the server answered 404 for, marked FILE.absent): a
// branch such as main is fetched once; delete the directory to refresh it.
// $HF_TOKEN, when set, is sent as a bearer token.
func FetchHF(ctx context.Context, spec string, log io.Writer) (string, error) {
	repo, rev, _ := strings.Cut(spec, "@")
	if rev == "" {
		rev = "main"
	}
	if !hfRepoRE.MatchString(repo) || strings.Contains(repo, "..") {
		return "", fmt.Errorf("hf: %q: want OWNER/REPO[@REV]", spec)
	}
	if !hfRevRE.MatchString(rev) || strings.Contains(rev, "..") {
		return "", fmt.Errorf("hf: %q: bad revision %q", spec, rev)
	}
	dir := filepath.Join(CacheDir(), "hf", filepath.FromSlash(repo), filepath.FromSlash(rev))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("hf: %w", err)
	}
	base := hfEndpoint()
	for _, f := range hfFiles {
		dst := filepath.Join(dir, f.name)
		if hfVerified(dst) {
			continue
		}
		if _, err := os.Stat(dst + ".absent"); err == nil && f.optional {
			continue
		}
		u := fmt.Sprintf("%s/%s/resolve/%s/%s", base, repo, url.PathEscape(rev), f.name)
		err := hfDownload(ctx, u, dst, log)
		var he *HFError
		if f.alt != "" && errors.As(err, &he) && he.Status == http.StatusNotFound {
			u = fmt.Sprintf("%s/%s/resolve/%s/%s", base, repo, url.PathEscape(rev), f.alt)
			err = hfDownload(ctx, u, dst, log)
		}
		if f.optional && errors.As(err, &he) && he.Status == http.StatusNotFound {
			// Remember the absence, so a cached repository needs no server.
			if err := atomicfile.WriteFile(dst+".absent", nil); err != nil {
				return "", fmt.Errorf("hf: %w", err)
			}
			continue
		}
		if err != nil {
			return "", err
		}
	}
	return dir, nil
}

// hfVerified reports whether dst exists with a FILE.sum written after its
// verification, and still has that checksum.
func hfVerified(dst string) bool {
	raw, err := os.ReadFile(dst + ".sum")
	if err != nil {
		return false
	}
	kind, want, ok := strings.Cut(strings.TrimSpace(string(raw)), ":")
	if !ok {
		return false
	}
	got, err := hfHashFile(dst, kind)
	return err == nil && got == want
}

func hfHashFile(path, kind string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := hfHasher(kind, st.Size())
	if h == nil {
		return "", fmt.Errorf("unknown checksum kind %q", kind)
	}
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hfHasher is sha256, or git's blob sha1 (sha1 of "blob SIZE\0" + content).
func hfHasher(kind string, size int64) hash.Hash {
	switch kind {
	case "sha256":
		return sha256.New()
	case "gitsha1":
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", size)
		return h
	}
	return nil
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)
var hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// hfChecksum reads the checksum the Hub states in a response's headers.
func hfChecksum(h http.Header) (kind, sum string) {
	clean := func(s string) string {
		return strings.ToLower(strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`))
	}
	if v := clean(h.Get("X-Linked-Etag")); hex64.MatchString(v) {
		return "sha256", v
	}
	v := clean(h.Get("ETag"))
	switch {
	case hex64.MatchString(v):
		return "sha256", v
	case hex40.MatchString(v):
		return "gitsha1", v
	}
	return "", ""
}

var hfClient = &http.Client{
	Timeout: 30 * time.Minute,
	// Redirects are followed by hand: the checksum headers are on the Hub's
	// own answer, not on the CDN's.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// hfDownload fetches u into dst via dst.part (resumed when present),
// verifies it and renames it into place.
func hfDownload(ctx context.Context, u, dst string, log io.Writer) error {
	part := dst + ".part"
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	var kind, want string
	target := u
	var resp *http.Response
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return &HFError{URL: u, Err: err}
		}
		if tok := os.Getenv("HF_TOKEN"); tok != "" && hop == 0 {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if have > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		}
		resp, err = hfClient.Do(req)
		if err != nil {
			return &HFError{URL: u, Err: err}
		}
		if kind == "" {
			kind, want = hfChecksum(resp.Header)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 && hop < 5 {
			loc, err := resp.Location()
			resp.Body.Close()
			if err != nil {
				return &HFError{URL: u, Status: resp.StatusCode, Err: err}
			}
			target = loc.String()
			continue
		}
		break
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		have = 0 // the server sent the whole file
	case http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable:
		// The .part is already complete (or longer than the file): verify it.
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return &HFError{URL: u, Status: resp.StatusCode, Err: fmt.Errorf("%s", strings.TrimSpace(string(msg)))}
	}
	if kind == "" {
		return &HFError{URL: u, Err: errors.New("the server states no checksum (no sha256 X-Linked-Etag or ETag): refusing an unverifiable file")}
	}
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		flag := os.O_CREATE | os.O_WRONLY | os.O_APPEND
		if have == 0 {
			flag |= os.O_TRUNC
		}
		f, err := os.OpenFile(part, flag, 0o644)
		if err != nil {
			return fmt.Errorf("hf: %w", err)
		}
		if log != nil {
			fmt.Fprintf(log, "hf: fetching %s (%s bytes from offset %d)\n", u, strconv.FormatInt(resp.ContentLength, 10), have)
		}
		_, cerr := io.Copy(f, resp.Body)
		serr := f.Sync()
		if err := f.Close(); cerr == nil && serr == nil {
			cerr = err
		}
		if cerr != nil || serr != nil {
			// Keep the .part: the next call resumes it.
			return &HFError{URL: u, Err: fmt.Errorf("download interrupted (kept %s to resume): %w", part, errors.Join(cerr, serr))}
		}
	}
	got, err := hfHashFile(part, kind)
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if got != want {
		os.Remove(part)
		return &HFError{URL: u, Err: fmt.Errorf("%s checksum mismatch: got %s, the Hub states %s (partial file removed)", kind, got, want)}
	}
	if err := os.Rename(part, dst); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if err := atomicfile.WriteFile(dst+".sum", []byte(kind+":"+want+"\n")); err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	return nil
}
