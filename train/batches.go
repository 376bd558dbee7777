package train

import (
	"math/rand/v2"
	"sort"
)

// batchOrder returns the positions (into the training rows) of every step,
// concatenated, epochs × ceil(n/batch) batches of exactly batch positions:
// per epoch a fresh permutation of 0..n-1 cut into batches, the last one
// completed with the first positions of the same permutation. Completing
// rather than padding keeps every batch full, so a loss that reads batch
// statistics never sees a padding row and the graph has one shape.
func batchOrder(rng *rand.Rand, n, batch, epochs int) []int32 {
	out := make([]int32, 0, epochs*epochSize(n, batch))
	for range epochs {
		out = append(out, epochPositions(rng, n, batch)...)
	}
	return out
}

// epochSize is the number of positions an epoch feeds: whole batches.
func epochSize(n, batch int) int { return (n + batch - 1) / batch * batch }

// epochPositions is one epoch of batchOrder: a fresh permutation of
// 0..n-1 completed to whole batches with its own first positions.
func epochPositions(rng *rand.Rand, n, batch int) []int32 {
	perm := make([]int32, n, epochSize(n, batch))
	for i := range perm {
		perm[i] = int32(i)
	}
	rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	return append(perm, perm[:epochSize(n, batch)-n]...)
}

// lengthPool is how many batches' worth of shuffled examples are sorted by
// length together: large enough that a batch's members have similar
// lengths, small enough that the batches of an epoch still mix the data.
const lengthPool = 8

// lengthBatchOrder is batchOrder with batches of similar length: each
// epoch's permutation is completed to whole batches as in batchOrder, cut
// into pools of lengthPool batches, each pool sorted by length (stable) and
// cut into batches, and the epoch's batches are shuffled. Padding a batch
// to its longest member then costs little. length[p] is the cost of
// position p.
func lengthBatchOrder(rng *rand.Rand, length []int, batch, epochs int) []int32 {
	n := len(length)
	stepsPerEpoch := epochSize(n, batch) / batch
	out := make([]int32, 0, epochs*epochSize(n, batch))
	for range epochs {
		epoch := epochPositions(rng, n, batch)
		pool := lengthPool * batch
		for s := 0; s < len(epoch); s += pool {
			chunk := epoch[s:min(s+pool, len(epoch))]
			sort.SliceStable(chunk, func(a, b int) bool { return length[chunk[a]] < length[chunk[b]] })
		}
		order := rng.Perm(stepsPerEpoch)
		for _, b := range order {
			out = append(out, epoch[b*batch:(b+1)*batch]...)
		}
	}
	return out
}
