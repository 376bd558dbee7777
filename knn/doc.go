// Package knn is the exact k-nearest-neighbour engine of superalign: a kNN
// graph over float32 features built from one blocked matrix product (cosine
// or Euclidean), label spreading over that graph, and the strongly
// connected components of the directed graph. Methods in package method use
// it for kNN relabelling and filtering, TopoCC filtering and the graph
// smoothing of selective weak-to-strong generalisation.
//
// # Building a graph
//
// Build(x [N, D], k, metric) computes all N² distances tile by tile
// (128 query rows against 64 database rows, kept in L2, with an AVX2+FMA
// 2×4 register kernel when GOEXPERIMENT=simd on amd64 and a plain loop
// elsewhere) and keeps each row's k nearest other rows in a bounded heap.
// Ties go to the smaller index, so the graph is the same at any thread count.
//
// # Worked example
//
// Five points on a line, x = 0, 1, 2, 10, 11, k = 1, L2:
//
//	x := data.MatrixFromRows([][]float32{{0}, {1}, {2}, {10}, {11}})
//	g, _ := knn.Build(x, 1, knn.L2)
//	// g.Neighbors(0) = [1]; g.Neighbors(1) = [0] (0 and 2 tie at 1: smaller index);
//	// g.Neighbors(2) = [1]; g.Neighbors(3) = [4]; g.Neighbors(4) = [3]
//
// The directed graph has edges 0→1, 1→0, 2→1, 3→4, 4→3, so
// StronglyConnected finds {0,1}, {2} and {3,4} (numbered 0, 1, 2): point 2 points into the
// first cluster but nothing points back.
//
// Label spreading (Zhou et al. 2004) symmetrises the graph into W (edges
// 0–1, 1–2, 3–4), normalises S = D^-1/2 W D^-1/2 and iterates
// F ← αSF + (1−α)Y. With Y marking point 0 as class A and point 4 as
// class B, F's argmax labels 0, 1, 2 as A and 3, 4 as B: labels flow along
// edges and never cross between the two clusters. The iteration converges
// to (1−α)(I−αS)^-1 Y, which SpreadClosedForm computes directly on small
// graphs; the tests hold the two within 1e-6. See Example.
package knn
