package encode

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

func TestBowTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"A very, very slow-moving movie.", []string{"a", "very", "very", "slow", "moving", "movie"}},
		{"If it's about emptiness, it works", []string{"if", "its", "about", "emptiness", "it", "works"}},
		{"Don’t stop", []string{"dont", "stop"}},
		{"'quoted' words", []string{"quoted", "words"}},
		{"Café CRÈME 10/10", []string{"café", "crème", "10", "10"}},
		{"Ünïcödé ΑΘΗΝΑ", []string{"ünïcödé", "αθηνα"}},
		{"... !!! --", nil},
		{"", nil},
	}
	for _, c := range cases {
		got := bowTokens(c.in, nil)
		if !slices.Equal(got, c.want) {
			t.Errorf("bowTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func rowNorm(r []float32) float64 {
	var s float64
	for _, x := range r {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestBoWNormsAndDeterminism(t *testing.T) {
	ctx := context.Background()
	b, err := NewBoW(DefaultBoWDim)
	if err != nil {
		t.Fatal(err)
	}
	m1, err := b.Encode(ctx, testenv.ReviewSentences, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m1.Rows != len(testenv.ReviewSentences) || m1.Cols != DefaultBoWDim {
		t.Fatalf("shape [%d,%d]", m1.Rows, m1.Cols)
	}
	for i := range m1.Rows {
		if n := rowNorm(m1.Row(i)); math.Abs(n-1) > 1e-5 {
			t.Errorf("row %d norm %v, want 1", i, n)
		}
	}
	m2, _ := b.Encode(ctx, testenv.ReviewSentences, nil)
	if !slices.Equal(m1.Values, m2.Values) {
		t.Error("two encodings of the same texts differ")
	}
	// IDF depends on the set of texts, not their order: reversed input gives
	// bit-identical rows, reversed.
	rev := slices.Clone(testenv.ReviewSentences)
	slices.Reverse(rev)
	m3, _ := b.Encode(ctx, rev, nil)
	for i := range m1.Rows {
		if !slices.Equal(m1.Row(i), m3.Row(m1.Rows-1-i)) {
			t.Errorf("row %d changes with input order", i)
		}
	}
	if b.Fingerprint() == mustBoW(t, 2048).Fingerprint() {
		t.Error("fingerprint ignores the dimension")
	}
}

func mustBoW(t *testing.T, d int) *BoW {
	t.Helper()
	b, err := NewBoW(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBoWExactValues recomputes one row by hand: tokens, counts, smooth IDF,
// sublinear tf, signed buckets, L2 norm.
func TestBoWExactValues(t *testing.T) {
	texts := []string{"Crust is not good.", "Good good food.", "Not tasty."}
	b := mustBoW(t, DefaultBoWDim)
	m, err := b.Encode(context.Background(), texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Row 1: "good good food" -> good×2, food×1, (good,good)×1, (good,food)×1.
	// df over the 3 texts: good 2, food 1, bigrams 1.
	idf := func(df float64) float64 { return math.Log(4/(1+df)) + 1 }
	feats := []struct {
		key uint64
		w   float64
	}{
		{unigramKey("good"), (1 + math.Log(2)) * idf(2)},
		{unigramKey("food"), idf(1)},
		{bigramKey("good", "good"), idf(1)},
		{bigramKey("good", "food"), idf(1)},
	}
	want := make([]float64, DefaultBoWDim)
	for _, f := range feats {
		s := 1.0
		if f.key>>63 != 0 {
			s = -1
		}
		want[f.key%DefaultBoWDim] += s * f.w
	}
	var ss float64
	for _, v := range want {
		ss += v * v
	}
	for j, v := range want {
		if got := float64(m.At(1, j)); math.Abs(got-v/math.Sqrt(ss)) > 1e-6 {
			t.Fatalf("bucket %d = %v, want %v", j, got, v/math.Sqrt(ss))
		}
	}
}

func TestBoWBigramsAndIDF(t *testing.T) {
	ctx := context.Background()
	b := mustBoW(t, DefaultBoWDim)
	// Same unigrams, different order: only the bigrams tell them apart.
	m, _ := b.Encode(ctx, []string{"the dog bit the man", "the man bit the dog"}, nil)
	var dot float64
	for j := range m.Cols {
		dot += float64(m.At(0, j)) * float64(m.At(1, j))
	}
	if dot > 0.9 || dot < 0.1 {
		t.Errorf("cosine of reordered sentences = %v, want clearly between 0 and 1 (shared unigrams, different bigrams)", dot)
	}
	if unigramKey("good food") == bigramKey("good", "food") || unigramKey("goodfood") == bigramKey("good", "food") {
		t.Error("bigram and unigram hash domains overlap")
	}

	// IDF: in this corpus "movie" is in every text and "wonderful" in one,
	// each once in text 0, so wonderful's bucket must outweigh movie's.
	texts := []string{"the movie was wonderful", "the movie was long", "a movie about a man", "movie night"}
	m, _ = b.Encode(ctx, texts, nil)
	jm, jw := unigramKey("movie")%DefaultBoWDim, unigramKey("wonderful")%DefaultBoWDim
	if jm == jw {
		t.Fatal("test words collide; pick others")
	}
	am, aw := math.Abs(float64(m.At(0, int(jm)))), math.Abs(float64(m.At(0, int(jw))))
	if ratio, want := aw/am, (math.Log(5.0/2)+1)/(math.Log(5.0/5)+1); math.Abs(ratio-want) > 1e-4 {
		t.Errorf("|wonderful|/|movie| = %v, want idf ratio %v", ratio, want)
	}
}

func TestBoWEmptyTextIsZeroRow(t *testing.T) {
	b := mustBoW(t, 64)
	m, err := b.Encode(context.Background(), []string{"", "...!?", "Crust is not good."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0, 0, 1} {
		if n := rowNorm(m.Row(i)); math.Abs(n-want) > 1e-6 {
			t.Errorf("row %d norm %v, want %v", i, n, want)
		}
	}
	if _, err := NewBoW(0); err == nil {
		t.Error("NewBoW(0) accepted")
	}
	if _, err := b.Encode(context.Background(), nil, nil); err != nil {
		t.Errorf("no texts: %v", err)
	}
}

func TestBoWCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := mustBoW(t, 16).Encode(ctx, testenv.ReviewSentences, nil); err == nil {
		t.Error("cancelled context not reported")
	}
}
