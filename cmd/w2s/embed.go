package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/store/featcache"
)

func cmdEmbed(ctx context.Context, args []string) error {
	fs := newFlags("embed", "--encoder NAME --in FILE --out FILE.jsonl")
	encName := fs.String("encoder", "", "encoder (see w2s encoders)")
	in := fs.String("in", "", "input: JSONL, CSV or Parquet with a text column (label optional, ignored)")
	out := fs.String("out", "", "output JSONL: one {\"embedding\": [...]} line per input row, in input order")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if *encName == "" || *in == "" || *out == "" {
		return usageError{fmt.Errorf("--encoder, --in and --out are required")}
	}
	examples, err := data.LoadInputs(*in)
	if err != nil {
		return err
	}
	texts := make([]string, len(examples))
	for i, ex := range examples {
		if ex.Text == "" {
			return fmt.Errorf("%s:%d: encoder %q needs a text column", *in, ex.Line, *encName)
		}
		texts[i] = ex.Text
	}
	enc, err := encode.New(ctx, *encName, os.Stderr)
	if err != nil {
		return err
	}
	// The cache key hashes the inputs alone: no labels are involved.
	key := (&data.Dataset{Examples: examples}).ContentHash()
	m, err := (&featcache.Cache{}).Features(ctx, enc, key, texts, os.Stderr)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for i := 0; i < m.Rows; i++ {
		b, err := json.Marshal(struct {
			Embedding []float32 `json:"embedding"`
		}{m.Row(i)})
		if err != nil {
			return fmt.Errorf("encoding row %d: %w", i, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := atomicfile.WriteFile(*out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d × %d embeddings to %s\n", m.Rows, m.Cols, *out)
	return nil
}
