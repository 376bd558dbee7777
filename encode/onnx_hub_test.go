package encode

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/testenv"
)

// hubServer serves the generated model as a Hub repository "acme/tiny-bert"
// at revision main: model.onnx as an LFS file (302 to a CDN path, sha256 in
// X-Linked-Etag), tokenizer.json as a git file (ETag = git blob sha1),
// config.json missing (404). mangle may alter each answer.
type hubServer struct {
	files   map[string][]byte
	mangle  func(w http.ResponseWriter, r *http.Request, name string, body []byte) bool
	ranges  atomic.Int32
	srv     *httptest.Server
	lfsSums map[string]string
}

func newHubServer(t *testing.T, dir string) *hubServer {
	t.Helper()
	h := &hubServer{files: map[string][]byte{}, lfsSums: map[string]string{}}
	for _, f := range []string{"model.onnx", "tokenizer.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		h.files[f] = b
	}
	s := sha256.Sum256(h.files["model.onnx"])
	h.lfsSums["model.onnx"] = hex.EncodeToString(s[:])
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	t.Setenv(assets.HFEndpointEnv, h.srv.URL)
	t.Setenv("HF_ENDPOINT", "")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("SUPERALIGN_CACHE", t.TempDir())
	return h
}

func (h *hubServer) serve(w http.ResponseWriter, r *http.Request) {
	const prefix = "/acme/tiny-bert/resolve/main/"
	if name, ok := strings.CutPrefix(r.URL.Path, "/cdn/"); ok {
		h.send(w, r, name)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, prefix)
	body, found := h.files[name]
	if !ok || !found {
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if h.mangle != nil && h.mangle(w, r, name, body) {
		return
	}
	if sum, lfs := h.lfsSums[name]; lfs {
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("ETag", `"`+sum+`"`)
		http.Redirect(w, r, "/cdn/"+name, http.StatusFound)
		return
	}
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", len(body))
	g.Write(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(g.Sum(nil))+`"`)
	h.send(w, r, name)
}

// send serves a file, honouring "Range: bytes=N-".
func (h *hubServer) send(w http.ResponseWriter, r *http.Request, name string) {
	body := h.files[name]
	if rg := r.Header.Get("Range"); rg != "" {
		h.ranges.Add(1)
		from, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || from > len(body) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)-from))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[from:])
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func TestFetchHF(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	dir := onnxTestDir(t)
	ctx := context.Background()

	t.Run("happy path and encoder", func(t *testing.T) {
		h := newHubServer(t, dir)
		// As sentence-transformers repositories do: the export in onnx/.
		h.files["onnx/model.onnx"], h.lfsSums["onnx/model.onnx"] = h.files["model.onnx"], h.lfsSums["model.onnx"]
		delete(h.files, "model.onnx")
		enc, err := New(ctx, "onnx-cls:hf:acme/tiny-bert", nil)
		if err != nil {
			t.Fatal(err)
		}
		got := filepath.Join(os.Getenv("SUPERALIGN_CACHE"), "hf", "acme", "tiny-bert", "main")
		for f, served := range map[string]string{"model.onnx": "onnx/model.onnx", "tokenizer.json": "tokenizer.json"} {
			b, err := os.ReadFile(filepath.Join(got, f))
			if err != nil || string(b) != string(h.files[served]) {
				t.Errorf("%s: %d bytes, err %v; want the served %d bytes", f, len(b), err, len(h.files[served]))
			}
		}
		if _, err := os.Stat(filepath.Join(got, "config.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("config.json should be absent (404 on the server): %v", err)
		}
		if enc.Name() != "onnx-cls:hf:acme/tiny-bert" || enc.Dim() != 64 {
			t.Errorf("encoder %q dim %d", enc.Name(), enc.Dim())
		}
		local, err := OpenONNX(dir, PoolCLS)
		if err != nil {
			t.Fatal(err)
		}
		if enc.Fingerprint() != local.Fingerprint() {
			t.Errorf("downloaded model's fingerprint differs from the local one")
		}
		// Cached: a dead server does not matter any more.
		h.srv.Close()
		if _, err := assets.FetchHF(ctx, "acme/tiny-bert", nil); err != nil {
			t.Errorf("second fetch with the files cached: %v", err)
		}
	})

	t.Run("checksum mismatch", func(t *testing.T) {
		h := newHubServer(t, dir)
		h.lfsSums["model.onnx"] = strings.Repeat("ab", 32)
		_, err := assets.FetchHF(ctx, "acme/tiny-bert@main", nil)
		if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Fatalf("err = %v, want a checksum mismatch", err)
		}
		base := filepath.Join(os.Getenv("SUPERALIGN_CACHE"), "hf", "acme", "tiny-bert", "main", "model.onnx")
		for _, p := range []string{base, base + ".part"} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind after a mismatch", p)
			}
		}
	})

	t.Run("server error", func(t *testing.T) {
		h := newHubServer(t, dir)
		h.mangle = func(w http.ResponseWriter, _ *http.Request, _ string, _ []byte) bool {
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
			return true
		}
		_, err := assets.FetchHF(ctx, "acme/tiny-bert", nil)
		var he *assets.HFError
		if !errors.As(err, &he) || he.Status != 500 || !strings.Contains(err.Error(), "upstream exploded") {
			t.Fatalf("err = %v, want an assets.HFError with status 500 and the server's message", err)
		}
	})

	t.Run("truncated then resumed", func(t *testing.T) {
		h := newHubServer(t, dir)
		var cut atomic.Bool
		h.mangle = func(w http.ResponseWriter, r *http.Request, name string, body []byte) bool {
			if name != "tokenizer.json" || !cut.CompareAndSwap(false, true) {
				return false
			}
			// Promise the whole file, send 40% of it, drop the connection.
			g := sha1.New()
			fmt.Fprintf(g, "blob %d\x00", len(body))
			g.Write(body)
			w.Header().Set("ETag", `"`+hex.EncodeToString(g.Sum(nil))+`"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:len(body)*2/5])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}
		_, err := assets.FetchHF(ctx, "acme/tiny-bert", nil)
		if err == nil {
			t.Fatal("a truncated download succeeded")
		}
		part := filepath.Join(os.Getenv("SUPERALIGN_CACHE"), "hf", "acme", "tiny-bert", "main", "tokenizer.json")
		if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("truncated file was put in place")
		}
		st, serr := os.Stat(part + ".part")
		if serr != nil || st.Size() == 0 {
			t.Fatalf("no partial file kept to resume: %v", serr)
		}
		d, err := assets.FetchHF(ctx, "acme/tiny-bert", nil)
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		if h.ranges.Load() == 0 {
			t.Errorf("the second fetch did not resume with a Range request")
		}
		b, _ := os.ReadFile(filepath.Join(d, "tokenizer.json"))
		if string(b) != string(h.files["tokenizer.json"]) {
			t.Errorf("resumed file differs from the served one")
		}
	})

	t.Run("no checksum stated", func(t *testing.T) {
		h := newHubServer(t, dir)
		h.mangle = func(w http.ResponseWriter, _ *http.Request, _ string, body []byte) bool {
			w.Write(body) // no ETag, no X-Linked-Etag
			return true
		}
		if _, err := assets.FetchHF(ctx, "acme/tiny-bert", nil); err == nil || !strings.Contains(err.Error(), "no checksum") {
			t.Fatalf("err = %v, want an unverifiable file refused", err)
		}
	})

	t.Run("bad spec", func(t *testing.T) {
		for _, s := range []string{"", "noslash", "a/b/c", "../x/y", "a/b@../../etc"} {
			if _, err := assets.FetchHF(ctx, s, nil); err == nil {
				t.Errorf("assets.FetchHF(%q) accepted", s)
			}
		}
	})
}
