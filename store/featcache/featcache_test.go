package featcache

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/progress"
)

// countingEncoder wraps an encoder, counts Encode calls and can pose with a
// different fingerprint.
type countingEncoder struct {
	encode.Encoder
	fp    string
	calls atomic.Int32
}

func (c *countingEncoder) Fingerprint() string {
	if c.fp != "" {
		return c.fp
	}
	return c.Encoder.Fingerprint()
}

func (c *countingEncoder) Encode(ctx context.Context, texts []string, bar *progress.Bar) (data.Matrix, error) {
	c.calls.Add(1)
	return c.Encoder.Encode(ctx, texts, bar)
}

func newCounting(t *testing.T) *countingEncoder {
	b, err := encode.NewBoW(512)
	if err != nil {
		t.Fatal(err)
	}
	return &countingEncoder{Encoder: b}
}

func TestCacheHitMiss(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir()}
	enc := newCounting(t)
	var log bytes.Buffer

	m1, err := c.Features(ctx, enc, "ds-a", testenv.ReviewSentences, &log)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := c.Features(ctx, enc, "ds-a", testenv.ReviewSentences, &log)
	if err != nil {
		t.Fatal(err)
	}
	if enc.calls.Load() != 1 {
		t.Fatalf("Encode called %d times, want 1 (second call should hit)", enc.calls.Load())
	}
	if m1.Rows != m2.Rows || m1.Cols != m2.Cols || !slices.Equal(m1.Values, m2.Values) {
		t.Fatal("cache hit differs from the encoded matrix")
	}
	if _, err := os.Stat(c.Path(Key("ds-a", "bow", enc.Fingerprint()))); err != nil {
		t.Fatalf("entry not at its documented path: %v", err)
	}

	if _, err := c.Features(ctx, enc, "ds-b", testenv.ReviewSentences, &log); err != nil {
		t.Fatal(err)
	}
	if enc.calls.Load() != 2 {
		t.Error("different dataset hash did not miss")
	}
	enc.fp = "other-weights"
	if _, err := c.Features(ctx, enc, "ds-a", testenv.ReviewSentences, &log); err != nil {
		t.Fatal(err)
	}
	if enc.calls.Load() != 3 {
		t.Error("different fingerprint did not miss")
	}
	if strings.Contains(log.String(), "corrupt") {
		t.Errorf("clean runs reported corruption:\n%s", log.String())
	}
	if _, err := c.Features(ctx, enc, "", testenv.ReviewSentences, nil); err == nil {
		t.Error("empty dataset hash accepted")
	}
}

func TestCacheCorruptionRebuilds(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		reason string
	}{
		{"truncated payload", func(b []byte) []byte { return b[:len(b)-100] }, "header implies"},
		{"truncated inside header", func(b []byte) []byte { return b[:40] }, "truncated"},
		{"truncated below checksum size", func(b []byte) []byte { return b[:20] }, "shorter than its checksum"},
		{"empty file", func(b []byte) []byte { return nil }, "shorter than its checksum"},
		{"bit flip in payload", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }, "checksum mismatch"},
		{"bit flip in checksum", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, "checksum mismatch"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"rows field changed", func(b []byte) []byte { b[8]++; return b }, "header implies"},
		{"extra bytes", func(b []byte) []byte { return append(b, 0, 0, 0, 0) }, "header implies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cache{Dir: t.TempDir()}
			enc := newCounting(t)
			want, err := c.Features(ctx, enc, "ds", testenv.ReviewSentences, nil)
			if err != nil {
				t.Fatal(err)
			}
			key := Key("ds", enc.Name(), enc.Fingerprint())
			path := c.Path(key)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			got, err := c.Features(ctx, enc, "ds", testenv.ReviewSentences, &log)
			if err != nil {
				t.Fatal(err)
			}
			if enc.calls.Load() != 2 {
				t.Errorf("damaged entry was not rebuilt (Encode calls %d)", enc.calls.Load())
			}
			msg := "feature cache entry " + key + " corrupt ("
			if !strings.Contains(log.String(), msg) || !strings.Contains(log.String(), tc.reason) || !strings.Contains(log.String(), "); rebuilding") {
				t.Errorf("log %q lacks %q with reason %q", log.String(), msg, tc.reason)
			}
			if !slices.Equal(got.Values, want.Values) {
				t.Error("rebuilt features differ")
			}
			if m, err := readFeatures(path); err != nil || !slices.Equal(m.Values, want.Values) {
				t.Errorf("rebuilt entry not valid on disk: %v", err)
			}
		})
	}
}

func TestCacheRowMismatchRebuilds(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir()}
	enc := newCounting(t)
	if _, err := c.Features(ctx, enc, "ds", testenv.ReviewSentences, nil); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	m, err := c.Features(ctx, enc, "ds", testenv.ReviewSentences[:5], &log)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 5 || enc.calls.Load() != 2 || !strings.Contains(log.String(), "corrupt (has [12,512], want [5,512])") {
		t.Errorf("rows %d, calls %d, log %q", m.Rows, enc.calls.Load(), log.String())
	}
}

func TestCacheConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir()}
	enc := newCounting(t)
	const n = 4
	out := make([]data.Matrix, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i], errs[i] = c.Features(ctx, enc, "ds", testenv.ReviewSentences, nil) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !slices.Equal(out[i].Values, out[0].Values) {
			t.Errorf("writer %d got different features", i)
		}
	}
	entries, _ := os.ReadDir(c.Path(Key("ds", enc.Name(), enc.Fingerprint()))[:len(c.Dir)+3])
	if len(entries) != 1 {
		t.Errorf("%d files in the entry's directory, want 1 (temp files left behind?)", len(entries))
	}
	if _, err := readFeatures(c.Path(Key("ds", enc.Name(), enc.Fingerprint()))); err != nil {
		t.Errorf("entry after concurrent writes: %v", err)
	}
}

func TestKeyIsUnambiguous(t *testing.T) {
	keys := map[string]string{}
	for _, tuple := range [][3]string{
		{"ab", "c", "fp"}, {"a", "bc", "fp"}, {"a", "b", "cfp"}, {"ab", "c", "fp2"}, {"", "abc", "fp"},
	} {
		k := Key(tuple[0], tuple[1], tuple[2])
		if prev, ok := keys[k]; ok {
			t.Errorf("%v and %v share key %s", tuple, prev, k)
		}
		keys[k] = strings.Join(tuple[:], "|")
		if len(k) != 64 {
			t.Errorf("key %q is not hex sha256", k)
		}
	}
}

func TestCacheDefaultDir(t *testing.T) {
	t.Setenv("SUPERALIGN_CACHE", "/tmp/superalign-test-root")
	c := &Cache{}
	key := Key("ds", "bow", "fp")
	if got, want := c.Path(key), "/tmp/superalign-test-root/features/"+key[:2]+"/"+key+".feat"; got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
}

func TestImageFeaturesCache(t *testing.T) {
	ctx := context.Background()
	c := &Cache{Dir: t.TempDir()}
	enc, err := encode.NewImage(ctx, "pixels", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := encode.ImageBatch{Pixels: []float32{0.1, 0.2, 0.3, 0.4}, Shape: [4]int{2, 1, 2, 1}}
	m1, err := c.ImageFeatures(ctx, enc, "h1", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Pixels = []float32{9, 9, 9, 9} // same hash: must be served from the cache
	m2, err := c.ImageFeatures(ctx, enc, "h1", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Rows != 2 || m2.Cols != 2 || m2.At(1, 1) != m1.At(1, 1) || m2.At(1, 1) != 0.4 {
		t.Errorf("cached %+v, first %+v", m2, m1)
	}
}
