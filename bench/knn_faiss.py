"""FAISS reference for the kNN benchmark (bench/knn.sh).

usage: knn_faiss.py WORK REPEAT

Reads WORK/features.npy, go_neighbors.npy, go_neighbors_cos.npy and go.json
(written by `knnbench run`) and builds the same exact kNN graphs with FAISS
flat (brute-force) indexes, self excluded like knn.Build:
  - IndexFlatL2 on the raw rows: the same question as the Go L2 graph;
  - IndexFlatIP on the rows scaled to unit length (the scaling is timed,
    as knn.Build(Cosine) scales too): the cosine graph.
Each at faiss.omp_set_num_threads(1) and (2), REPEAT timed runs each
(index build + search); recall@k of the Go graphs against FAISS's. Writes
WORK/faiss.json. Reference only: never a project dependency (Debian
python3-faiss).
"""
import json
import os
import sys
import time

import faiss
import numpy as np


def drop_self(I, k):
    """The k neighbours of each row without the row itself (a duplicate may
    outrank it; then the row lost is the last)."""
    out = np.empty((I.shape[0], k), dtype=np.int64)
    for i, row in enumerate(I):
        row = row[row != i]
        out[i] = row[:k]
    return out


def recall(a, b, k):
    return float(np.mean([len(set(a[i]) & set(b[i])) / k for i in range(a.shape[0])]))


def graph(X, k, metric):
    if metric == "ip":
        X = X.copy()
        faiss.normalize_L2(X)
        index = faiss.IndexFlatIP(X.shape[1])
    else:
        index = faiss.IndexFlatL2(X.shape[1])
    index.add(X)
    _, I = index.search(X, k + 1)
    return I


def main(work, repeat):
    X = np.ascontiguousarray(np.load(os.path.join(work, "features.npy")), dtype=np.float32)
    cfg = json.load(open(os.path.join(work, "go.json")))
    k = cfg["k"]
    go = {"l2": np.load(os.path.join(work, "go_neighbors.npy")).astype(np.int64),
          "ip": np.load(os.path.join(work, "go_neighbors_cos.npy")).astype(np.int64)}
    res = {"faiss": faiss.__version__}
    for metric in ("l2", "ip"):
        r = {}
        for threads in (1, 2):
            faiss.omp_set_num_threads(threads)
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                I = graph(X, k, metric)
                runs.append(time.perf_counter() - t0)
                print(f"faiss flat {metric} {threads} thread(s): {runs[-1]:.3f}s", file=sys.stderr)
            # knnbench's median (the upper one of an even count), so that
            # both sides of a ratio use the same statistic.
            r[str(threads)] = {"s": sorted(runs)[len(runs) // 2], "runs": runs}
        r["recall"] = recall(go[metric], drop_self(I, k), k)
        res[metric] = r
        print(f"faiss flat {metric}: recall@{k} of Go against FAISS {r['recall']:.6f}", file=sys.stderr)
    with open(os.path.join(work, "faiss.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
