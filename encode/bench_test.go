package encode

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/superalign/superalign/assets"
)

// sentimentTexts returns the 3000 real sentences of the UCI Sentiment
// Labelled Sentences set (npm sentiment@5.0.2 test fixtures; each file has
// one null row, skipped).
func sentimentTexts(b testing.TB) []string {
	b.Helper()
	dir, err := assets.Ensure(context.Background(), "sentiment", nil)
	if err != nil {
		b.Fatal(err)
	}
	var texts []string
	for _, f := range []string{"imdb.json", "yelp.json", "amazon.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, "test", "fixtures", f))
		if err != nil {
			b.Fatal(err)
		}
		var rows []*struct{ Text string }
		if err := json.Unmarshal(raw, &rows); err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		for _, r := range rows {
			if r != nil && r.Text != "" {
				texts = append(texts, r.Text)
			}
		}
	}
	return texts
}

func benchEncode(b *testing.B, enc Encoder) {
	texts := sentimentTexts(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := enc.Encode(context.Background(), texts, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts))*float64(b.N)/b.Elapsed().Seconds(), "texts/s")
}

// go test -run '^$' -bench . ./encode/
func BenchmarkBoWEncodeSentiment(b *testing.B) { benchEncode(b, mustBoW(&testing.T{}, DefaultBoWDim)) }

func BenchmarkGloveEncodeSentiment(b *testing.B) { benchEncode(b, realGlove(b)) }

// BenchmarkGloveLoad is the cost of New("glove") in a fresh process once the
// converted file exists: read, verify sha256, decode, build the word index.
func BenchmarkGloveLoad(b *testing.B) {
	realGlove(b)
	noJSON := func(context.Context) (string, error) { b.Fatal("conversion requested"); return "", nil }
	for b.Loop() {
		if _, err := OpenGlove(context.Background(), assets.GloveBinPath(), noJSON, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUSELiteEncodeSentiment embeds the 3000 sentences with USE-lite
// (warm: the first pass compiles the length buckets' graphs). Run it with
// GOMLX_FUSION=0 to time the decomposed graph the fused kernels replace.
func BenchmarkUSELiteEncodeSentiment(b *testing.B) {
	dir, err := USELiteDir(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	u, err := LoadUSELite(dir)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := u.Encode(context.Background(), sentimentTexts(b)[:256], nil); err != nil {
		b.Fatal(err)
	}
	benchEncode(b, u)
}
