package featcache_test

import (
	"context"
	"fmt"
	"math"
	"os"

	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/store/featcache"
)

// Encode three real review sentences with the bag-of-words encoder through
// the feature cache, then read them back from it.
func ExampleCache_Features() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "features")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	enc, err := encode.New(ctx, "bow", nil)
	if err != nil {
		panic(err)
	}
	texts := []string{"Crust is not good.", "Loved this place.", "Not tasty and the texture was just nasty."}
	cache := &featcache.Cache{Dir: dir}
	x, err := cache.Features(ctx, enc, "tiny-reviews-v1", texts, nil)
	if err != nil {
		panic(err)
	}
	var norm float64
	for _, v := range x.Row(0) {
		norm += float64(v) * float64(v)
	}
	again, _ := cache.Features(ctx, enc, "tiny-reviews-v1", texts, nil)
	same := true
	for i := range x.Values {
		same = same && x.Values[i] == again.Values[i]
	}
	fmt.Printf("shape [%d,%d], row 0 norm %.4f, cached copy identical: %v\n", x.Rows, x.Cols, math.Sqrt(norm), same)
	// Output: shape [3,4096], row 0 norm 1.0000, cached copy identical: true
}
