"""scikit-learn reference for the kNN benchmark (bench/knn.sh).

Reads WORK/features.npy, labels.npy, seeds.npy, go_neighbors.npy,
go_spread.npy and go.json (written by `knnbench run`); times
NearestNeighbors(algorithm="brute").kneighbors() (self excluded, like
knn.Build) and LabelSpreading(kernel="knn"); checks the Go neighbours
(recall against scikit-learn's) and the Go label spreading (against the same
Zhou et al. iteration on the Go graph in scipy, and label agreement with
scikit-learn's LabelSpreading); writes WORK/sklearn.json.
Reference only: never a project dependency.
"""
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.neighbors import NearestNeighbors
from sklearn.semi_supervised import LabelSpreading


def main(work, repeat):
    X = np.load(os.path.join(work, "features.npy"))
    y = np.load(os.path.join(work, "labels.npy")).astype(np.int64)
    seeds = np.load(os.path.join(work, "seeds.npy")).astype(np.int64)
    go_nb = np.load(os.path.join(work, "go_neighbors.npy")).astype(np.int64)
    go_f = np.load(os.path.join(work, "go_spread.npy")).astype(np.float64)
    cfg = json.load(open(os.path.join(work, "go.json")))
    n, k, alpha = X.shape[0], cfg["k"], cfg["alpha"]

    # kNN graph.
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
        dist, ind = nn.kneighbors()
        runs.append(time.perf_counter() - t0)
        print(f"sklearn kneighbors: {runs[-1]:.3f}s", file=sys.stderr)
    recall = np.mean([len(set(go_nb[i]) & set(ind[i])) / k for i in range(n)])
    exact_rows = float(np.mean(np.all(go_nb == ind, axis=1)))

    # The same iteration as knn.Spread on the Go graph: W = symmetrised
    # connectivity, S = D^-1/2 W D^-1/2, F <- alpha S F + (1-alpha) Y.
    rows = np.repeat(np.arange(n), k)
    A = sp.csr_matrix((np.ones(n * k), (rows, go_nb.ravel())), shape=(n, n))
    W = ((A + A.T) > 0).astype(np.float64)
    d = np.asarray(W.sum(axis=1)).ravel()
    Dm = sp.diags(1 / np.sqrt(d))
    S = (Dm @ W @ Dm).tocsr()
    C = go_f.shape[1]
    Y = np.zeros((n, C))
    Y[seeds >= 0, seeds[seeds >= 0]] = 1
    t0 = time.perf_counter()
    F = Y.copy()
    for it in range(1000):
        Fn = alpha * (S @ F) + (1 - alpha) * Y
        delta = np.abs(Fn - F).max()
        F = Fn
        if delta < 1e-7:
            break
    scipy_s = time.perf_counter() - t0
    spread_maxdiff = float(np.abs(F - go_f).max())
    unl = seeds < 0
    go_lab = go_f.argmax(1)
    same_as_scipy = float(np.mean(F.argmax(1)[unl] == go_lab[unl]))

    # scikit-learn LabelSpreading: its knn kernel counts the point itself
    # among n_neighbors, so k+1 gives the same k other neighbours; it does
    # not symmetrise the graph (degree from column sums), so labels may
    # differ slightly.
    ls_runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ls = LabelSpreading(kernel="knn", n_neighbors=k + 1, alpha=alpha, max_iter=1000, tol=1e-3)
        ls.fit(X, np.where(seeds >= 0, seeds, -1))
        ls_runs.append(time.perf_counter() - t0)
        print(f"sklearn LabelSpreading.fit: {ls_runs[-1]:.3f}s ({ls.n_iter_} iterations)", file=sys.stderr)
    sk_lab = ls.transduction_
    res = {
        "sklearn": sklearn.__version__,
        "knn_s": float(np.median(runs)), "knn_runs": runs,
        "recall": float(recall), "exact_rows": exact_rows,
        "scipy_spread_s": scipy_s, "spread_maxdiff": spread_maxdiff, "same_as_scipy": same_as_scipy,
        "ls_s": float(np.median(ls_runs)), "ls_runs": ls_runs, "ls_iters": int(ls.n_iter_),
        "ls_agree": float(np.mean(sk_lab[unl] == go_lab[unl])),
        "ls_acc": float(np.mean(sk_lab[unl] == y[unl])),
        "go_acc": float(np.mean(go_lab[unl] == y[unl])),
    }
    json.dump(res, open(os.path.join(work, "sklearn.json"), "w"), indent=2)
    print(json.dumps(res, indent=2), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
