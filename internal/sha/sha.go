// Package sha computes sha256 sums that stay fast under GOEXPERIMENT=simd on
// AVX-512 machines (see below). Every checksum of the project (asset
// archives, feature cache entries, the converted GloVe file, sweep stamps)
// goes through it.
//
//	sum, err := sha.File("archive.tgz") // hex
//	h := sha.New()                       // a hash.Hash for streaming
package sha

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// Why sha256 goes through these wrappers: with GOEXPERIMENT=simd on an
// AVX-512 machine, the runtime's asynchronous preemption saves and restores
// the full ZMM registers (runtime/preempt_amd64.s) and returns into the
// interrupted code without VZEROUPPER. The interrupted code then runs with
// "dirty upper" AVX state, and legacy-SSE instructions pay the AVX-SSE
// transition penalty until the next VZEROUPPER. The SHA-NI block function
// (crypto/internal/fips140/sha256.blockSHANI) has no VEX form, so one
// preemption during a large Sum256 slowed it ~100× here: 137 MB took 13 s
// instead of 0.12 s (measured 2026-11-27, Go 1.26.8, Xeon with SHA-NI and
// AVX-512). Feeding the hash 64 KiB at a time with a VZEROUPPER before each
// piece bounds the damage of a preemption to the rest of one piece.

// hashChunk is the most a single Write hands to the block function before
// the AVX upper state is cleared again.
const hashChunk = 64 << 10

type cleanHash struct{ hash.Hash }

// Write implements io.Writer.
func (h cleanHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), hashChunk)
		clearUpperState()
		h.Hash.Write(p[:k])
		p = p[k:]
	}
	return n, nil
}

// New returns a sha256 hash safe against the slowdown above.
func New() hash.Hash { return cleanHash{sha256.New()} }

// Sum256 is sha256.Sum256 through New.
func Sum256(b []byte) (s [sha256.Size]byte) {
	h := New()
	h.Write(b)
	copy(s[:], h.Sum(nil))
	return s
}

// File returns the hex sha256 of the file at path.
func File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
