"""scikit-learn reference for bench/run.sh: LogisticRegression (lbfgs, C=1,
max_iter=1000) on the same standardised split. It is a different optimiser
(full-batch quasi-Newton to convergence), listed for accuracy and as the
usual baseline, not as a like-for-like timing.

Usage: /usr/bin/python3 bench/ref_sklearn.py WORKDIR   (writes WORKDIR/sklearn.json)
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def main():
    work = sys.argv[1]
    cfg = json.load(open(os.path.join(work, "config.json")))
    xtr = np.load(os.path.join(work, "xtrain.npy"))
    ytr = np.load(os.path.join(work, "ytrain.npy"))
    xte = np.load(os.path.join(work, "xtest.npy"))
    yte = np.load(os.path.join(work, "ytest.npy"))
    times, accs, iters = [], [], []
    for _ in range(cfg["Repeat"]):
        start = time.perf_counter()
        scaler = StandardScaler().fit(xtr)
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(xtr), ytr)
        times.append(time.perf_counter() - start)
        accs.append(float((clf.predict(scaler.transform(xte)) == yte).mean()))
        iters.append(int(np.max(clf.n_iter_)))
    row = {"model": "logistic regression", "engine": "sklearn %s lbfgs" % sklearn.__version__,
           "seconds": statistics.median(times), "runs": len(times), "test_acc": sum(accs) / len(accs),
           "threads": os.cpu_count(), "notes": "C=1, %d lbfgs iterations, BLAS default threads; not the same optimiser" % iters[0]}
    print("%-28s %-18s %7.3fs  acc %.4f" % (row["model"], row["engine"], row["seconds"], row["test_acc"]))
    with open(os.path.join(work, "sklearn.json"), "w") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
