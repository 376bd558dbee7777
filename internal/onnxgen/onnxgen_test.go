package onnxgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"
	"github.com/gomlx/onnx-gomlx/onnx/parser"
)

func TestConvertNpmVocab(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
		err      bool
	}{
		{[]string{"[PAD]", "▁", "[UNK]", "▁the", "s", "▁!"}, []string{"[PAD]", "[unused0]", "[UNK]", "the", "##s", "!"}, false},
		{[]string{"[CLS]", "▁a", "a"}, []string{"[CLS]", "a", "##a"}, false},
		{[]string{"a", "▁##a"}, nil, true}, // both would be "##a"
		{[]string{"▁x", "▁x"}, nil, true},
	} {
		got, err := ConvertNpmVocab(tc.in)
		if (err != nil) != tc.err || (!tc.err && !slices.Equal(got, tc.want)) {
			t.Errorf("ConvertNpmVocab(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestWriteDir writes a model over a toy vocabulary and reads it back with
// onnx-gomlx and go-huggingface: inputs, output shape, tokenization with
// [CLS]/[SEP] and ## continuations, determinism.
func TestWriteDir(t *testing.T) {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "was", "great", "##ly", "!", "un", "##real"}
	dir := t.TempDir()
	if err := WriteDir(dir, vocab, Config{Hidden: 32, Layers: 1, Heads: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	m, err := parser.ParseFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := m.Inputs()
	if !slices.Equal(ins, []string{"input_ids", "attention_mask", "token_type_ids"}) {
		t.Errorf("inputs %v", ins)
	}
	outs, shapes := m.Outputs()
	if len(outs) != 1 || outs[0] != "last_hidden_state" || shapes[0].Rank() != 3 || shapes[0].Dim(2) != 32 {
		t.Errorf("outputs %v %v, want last_hidden_state [batch, seq, 32]", outs, shapes)
	}
	tok, err := hftokenizer.NewFromFile(nil, filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok.With(api.EncodeOptions{AddSpecialTokens: true})
	if got, want := tok.Encode("The film was GREATLY unreal!"), []int{2, 5, 6, 7, 8, 9, 11, 12, 10, 3}; !slices.Equal(got, want) {
		t.Errorf("tokens %v, want %v", got, want)
	}
	var cfg map[string]any
	raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg["hidden_size"] != 32.0 || cfg["vocab_size"] != 13.0 {
		t.Errorf("config.json %s: %v", raw, err)
	}
	a, _ := BERT(len(vocab), Config{Seed: 3})
	b, _ := BERT(len(vocab), Config{Seed: 3})
	c, _ := BERT(len(vocab), Config{Seed: 4})
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Error("same seed must give the same bytes, another seed other bytes")
	}
	if _, err := BERT(len(vocab), Config{Hidden: 30, Heads: 4}); err == nil {
		t.Error("4 heads over width 30 accepted")
	}
}
