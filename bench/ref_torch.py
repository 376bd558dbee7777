"""PyTorch CPU reference for bench/run.sh: the same heads, optimiser and
schedule as package train, on the split written by `headbench run`.

Usage: /usr/bin/python3 bench/ref_torch.py WORKDIR   (writes WORKDIR/torch.json)

Matches train.Fit: z-scored features (training-set mean/std), weights
uniform(+-1/sqrt(fan_in)) and zero biases, AdamW (betas 0.9/0.999, eps 1e-8)
with weight decay on weight matrices only, per-step learning rate with linear
warm-up over 5% of steps then cosine decay, a fresh permutation per epoch
whose last batch is completed with the epoch's first rows, soft-label
cross-entropy (here on one-hot targets). Torch runs with its default thread
count, reported in the output.
"""
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch


def schedule(peak, t, warmup, total):
    if t < warmup:
        return peak * (t + 1) / warmup
    progress = (t - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def fit(cfg, warmup_fraction, xtr, ytr, k, seed):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    n, d = xtr.shape
    start = time.perf_counter()
    mean = xtr.mean(0)
    std = xtr.std(0, unbiased=False)
    std[std < 1e-7] = 1
    x = (xtr - mean) / std
    targets = torch.nn.functional.one_hot(ytr, k).float()
    if cfg["Head"] == "linear":
        model = torch.nn.Linear(d, k)
    else:
        model = torch.nn.Sequential(torch.nn.Linear(d, cfg["Hidden"]), torch.nn.ReLU(), torch.nn.Linear(cfg["Hidden"], k))
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            bound = 1 / math.sqrt(m.in_features)
            torch.nn.init.uniform_(m.weight, -bound, bound)
            torch.nn.init.zeros_(m.bias)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg["WeightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg["LearningRate"], betas=(0.9, 0.999), eps=1e-8)
    batch = min(cfg["Batch"], n)
    steps_per_epoch = (n + batch - 1) // batch
    total = cfg["Epochs"] * steps_per_epoch
    warmup = max(1, round(warmup_fraction * total))
    t = 0
    for _ in range(cfg["Epochs"]):
        perm = torch.randperm(n, generator=g)
        perm = torch.cat([perm, perm[: steps_per_epoch * batch - n]])
        for s in range(steps_per_epoch):
            idx = perm[s * batch:(s + 1) * batch]
            for group in opt.param_groups:
                group["lr"] = schedule(cfg["LearningRate"], t, warmup, total)
            logits = model(x[idx])
            loss = -(targets[idx] * torch.log_softmax(logits, -1)).sum(-1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            t += 1
    seconds = time.perf_counter() - start
    return model, mean, std, seconds


def main():
    work = sys.argv[1]
    cfg = json.load(open(os.path.join(work, "config.json")))
    xtr = torch.from_numpy(np.load(os.path.join(work, "xtrain.npy")))
    ytr = torch.from_numpy(np.load(os.path.join(work, "ytrain.npy")).astype(np.int64))
    xte = torch.from_numpy(np.load(os.path.join(work, "xtest.npy")))
    yte = np.load(os.path.join(work, "ytest.npy"))
    k = int(max(ytr.max().item(), yte.max())) + 1
    rows = []
    default_threads = torch.get_num_threads()
    # Default threads first (what a user gets); then all cores, when that
    # differs, for a like-for-like comparison with the Go backend.
    for threads in sorted({default_threads, os.cpu_count() or 1}, key=lambda t: t != default_threads):
        torch.set_num_threads(threads)
        rows += run_heads(cfg, xtr, ytr, xte, yte, k, "default" if threads == default_threads else "set")
    with open(os.path.join(work, "torch.json"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def run_heads(cfg, xtr, ytr, xte, yte, k, how):
    rows = []
    for head in ("Linear", "MLP"):
        c = cfg[head]
        times, accs = [], []
        for r in range(cfg["Repeat"]):
            model, mean, std, seconds = fit(c, cfg["WarmupFraction"], xtr, ytr, k, r)
            with torch.no_grad():
                pred = model((xte - mean) / std).argmax(-1).numpy()
            times.append(seconds)
            accs.append(float((pred == yte).mean()))
        name = "linear (%d epochs)" % c["Epochs"] if c["Head"] == "linear" else "mlp %d hidden (%d epochs)" % (c["Hidden"], c["Epochs"])
        row = {"model": name, "engine": "PyTorch %s CPU" % torch.__version__, "seconds": statistics.median(times),
               "runs": len(times), "test_acc": sum(accs) / len(accs), "threads": torch.get_num_threads(),
               "notes": "AdamW lr %g, batch %d, wd %g; %s threads; runs %s" % (c["LearningRate"], c["Batch"], c["WeightDecay"], how, " ".join("%.2f" % s for s in times))}
        print("%-28s %-18s %d threads %7.3fs  acc %.4f  (runs %s)" % (name, row["engine"], row["threads"], row["seconds"], row["test_acc"], " ".join("%.2f" % s for s in times)))
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
