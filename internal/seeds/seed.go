// Package seeds derives the independent random streams of a run from its
// seeds. Every component that draws random numbers (a head's
// initialisation, a method's folds, a bootstrap) takes its own seed, derived
// from the cell's seed and the component's name, so that adding a method, a
// rung or a fold never changes another component's numbers.
package seeds

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/fnv"
)

// Derive returns a non-negative seed: the first 8 bytes (little-endian) of
// sha256(base as 8 little-endian bytes ‖ name), shifted right by one bit.
//
// name is hashed exactly as given. Callers that name a component by several
// parts join them with Lead or Trail; the two placements of the NUL
// separator are both in use, and switching one for the other would change
// every number of the components it seeds (ProtocolVersion).
func Derive(base int64, name string) int64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(base))
	h.Write(b[:])
	h.Write([]byte(name))
	return int64(binary.LittleEndian.Uint64(h.Sum(nil)) >> 1)
}

// Lead joins parts with a NUL before each: ("a", "b") → "\x00a\x00b".
func Lead(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += 1 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(append(b, 0), p...)
	}
	return string(b)
}

// Trail joins parts with a NUL after each: ("a", "b") → "a\x00b\x00".
func Trail(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(append(b, p...), 0)
	}
	return string(b)
}

// Group returns the seed of one group of a summary (its bootstrap and
// sign-flip draws) from the run's seed and the group's name parts, so that a
// group's interval does not change when other groups join or leave the run.
//
// It is FNV-64a of the parts, each followed by a NUL, XORed with base times
// the 64-bit golden ratio: not Derive, because every reported interval and
// p-value was drawn with it; moving it onto Derive changes them all and
// needs a ProtocolVersion bump.
func Group(base int64, parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte(Trail(parts...)))
	return int64(h.Sum64() ^ uint64(base)*0x9E3779B97F4A7C15)
}
