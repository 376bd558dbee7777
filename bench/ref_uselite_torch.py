"""PyTorch reference for the USE-lite benchmark (bench/uselite.sh).

usage: ref_uselite_torch.py WORK OUT.json [REPEAT]

Reads WORK/tokens.json and WORK/go_emb.npy (written by `usebench tokens`):
the Go tokenizer's ids of each sentence, the model directory Go loaded and
Go's embeddings. Builds the Go port's forward pass (encode/uselite.go:
embedding x2 + sinusoidal timing signal, two pre-norm transformer layers,
masked mean, tanh dense, L2 normalisation) in PyTorch from the same TF.js
weight shards, checks its embeddings against Go's, then times, at
torch.set_num_threads(1) and (2):
  - embedding all sentences with Go's batch plan (encodeBatches);
  - a fine-tune step as student.Tuned takes it: linear head x10 on the
    unit embedding (zero start), soft cross-entropy, Adam(W) with encoder
    lr 3e-5 and head lr 1e-3, no weight decay, batch 32, over the first
    256 sentences sorted by length and padded to Go's length buckets
    (train's lengthBatchOrder with 256 texts sorts the whole epoch);
  - the same with only the top layer trained (use-lite-ft-top1): the
    bottom (embedding + layer 0) runs once, without gradients.
Reference only: never a project dependency (Debian python3-torch).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

PRE = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
MOD = "module/Encoder_en/KonaTransformer/Encode/"
STACK = PRE + "TransformerStack/"
# Go's useLengthBuckets and useBatchRows (encode/uselite.go).
BUCKETS = [4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128]
BATCH_ROWS = 64
HEAD_SCALE = 10.0  # encode.useHeadScale
ENCODER_LR, HEAD_LR, FT_BATCH = 3e-5, 1e-3, 32  # student/finetune.go defaults


def load_weights(model_dir):
    """Every weight of the TF.js graph model by name (float32/int32 numpy)."""
    m = json.load(open(os.path.join(model_dir, "model.json")))
    out = {}
    for group in m["weightsManifest"]:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            assert "quantization" not in w, w["name"]
            dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            out[w["name"]] = np.frombuffer(buf, dt, n, off).reshape(w["shape"]).copy()
            off += 4 * n
    return out


class USELite(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        T = lambda a: torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a, np.float32)))
        mat = lambda a: a.reshape(a.shape[-2], a.shape[-1])  # [(1, 1,) in, out] -> [in, out]
        self.emb = T(w["module/Embeddings_en"])
        self.register_buffer("timing", torch.from_numpy(w[STACK + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1"].reshape(1, -1).copy()))
        self.heads = int(w[STACK + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2"].ravel()[0])
        self.ln_eps = float(w[STACK + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x"].ravel()[0])
        self.l2_eps = float(w["module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y"].ravel()[0])
        self.mask_bias = float(w[STACK + "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y"].ravel()[0])
        self.layers = torch.nn.ModuleList()
        for l in range(2):
            p, m, s = (f"{x}Layer_{l}/TransformerLayer/" for x in (PRE, MOD, STACK))
            ly = torch.nn.Module()
            ly.ln1_s = T(w[p + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"])
            ly.ln1_b = T(w[p + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"])
            ly.qkv_w = T(mat(w[m + "MultiheadAttention/qkv_transform_single/kernel/part_0"]))
            ly.qkv_b = T(w[p + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat"])
            ly.out_w = T(mat(w[m + "MultiheadAttention/output_transform_single/kernel/part_0"]))
            ly.out_b = T(w[p + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat"])
            ly.has_dense = (p + "dense/kernel/ConcatPartitions/concat") in w
            if ly.has_dense:
                ly.dense_w = T(mat(w[p + "dense/kernel/ConcatPartitions/concat"]))
                ly.dense_b = T(w[p + "dense/bias/ConcatPartitions/concat"])
            ly.ln2_s = T(w[p + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat"])
            ly.ln2_b = T(w[p + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat"])
            ly.ffn1_w = T(mat(w[s + "FFN/conv1/Tensordot/Reshape_1"]))
            ly.ffn1_b = T(w[p + "FFN/conv1/bias/ConcatPartitions/concat"])
            ly.ffn2_w = T(mat(w[s + "FFN/conv2/Tensordot/Reshape_1"]))
            ly.ffn2_b = T(w[p + "FFN/conv2/bias/ConcatPartitions/concat"])
            ly.scale = float(w[s + "MultiheadAttention/mul/y"].ravel()[0])
            self.layers.append(ly)
        self.tanh_w = T(mat(w["module/Encoder_en/hidden_layers/tanh_layer_0/weights"]))
        self.tanh_b = T(w["module/Encoder_en/hidden_layers/tanh_layer_0/bias"])

    def bottom(self, ids, mask, n):
        L = ids.shape[1]
        pos = torch.arange(L, dtype=torch.float32).unsqueeze(1)
        ang = pos * self.timing
        timing = torch.cat([torch.sin(ang), torch.cos(ang)], 1)
        e = self.emb[ids]
        x = (e + e + timing.unsqueeze(0)) * mask.unsqueeze(-1)
        for ly in self.layers[:n]:
            x = self.layer(ly, x, mask)
        return x

    def top(self, x, mask, n):
        for ly in self.layers[n:]:
            x = self.layer(ly, x, mask)
        count = mask.sum(1).clamp_min(1.0)
        pooled = (x * mask.unsqueeze(-1)).sum(1) / count.unsqueeze(-1)
        y = torch.tanh(pooled @ self.tanh_w + self.tanh_b)
        return y / torch.sqrt((y * y).sum(1, keepdim=True).clamp_min(self.l2_eps))

    def forward(self, ids, mask):
        return self.top(self.bottom(ids, mask, 0), mask, 0)

    def layer(self, ly, x, mask):
        B, L, W = x.shape
        H, hd = self.heads, W // self.heads
        m3 = mask.unsqueeze(-1)
        bias = ((1 - mask) * self.mask_bias)[:, None, None, :]
        h = F.layer_norm(x, (W,), ly.ln1_s, ly.ln1_b, self.ln_eps)
        q, k, v = (h @ ly.qkv_w + ly.qkv_b).split(W, dim=2)
        sh = lambda t: t.reshape(B, L, H, hd).transpose(1, 2)
        att = torch.softmax((sh(q) * ly.scale) @ sh(k).transpose(2, 3) + bias, -1)
        ctx = (att @ sh(v)).transpose(1, 2).reshape(B, L, W)
        o = ctx @ ly.out_w + ly.out_b
        res = (x @ ly.dense_w + ly.dense_b) * m3 if ly.has_dense else x
        x = o + res
        h = F.layer_norm(x, (x.shape[2],), ly.ln2_s, ly.ln2_b, self.ln_eps)
        f = torch.relu(h @ ly.ffn1_w + ly.ffn1_b) @ ly.ffn2_w + ly.ffn2_b
        return f * m3 + x


def bucket(n):
    for b in BUCKETS:
        if n <= b:
            return b
    return BUCKETS[-1]


def next_pow2(n):
    return 1 << (n - 1).bit_length()


def encode_batches(toks):
    """Go's encodeBatches: longest first, at most 64 rows within a bucket,
    a bucket's partial batch topped up to a power of two (at least 8)."""
    order = sorted(range(len(toks)), key=lambda i: -len(toks[i]))  # stable, like sort.SliceStable
    out, s = [], 0
    while s < len(order):
        l = bucket(max(1, len(toks[order[s]])))
        e = s
        while e < len(order) and e - s < BATCH_ROWS and bucket(max(1, len(toks[order[e]]))) == l:
            e += 1
        if e - s < BATCH_ROWS:
            e = min(len(order), s + max(8, next_pow2(e - s)))
        out.append(order[s:e])
        s = e
    return out


def pad(toks, rows, b):
    """ids [b, L] and mask [b, L], L the bucket of the longest (Go's PadTokens)."""
    L = bucket(max([1] + [len(toks[i]) for i in rows]))
    ids = torch.zeros(b, L, dtype=torch.long)
    mask = torch.zeros(b, L)
    for r, i in enumerate(rows):
        ids[r, :len(toks[i])] = torch.tensor(toks[i], dtype=torch.long)
        mask[r, :len(toks[i])] = 1
    return ids, mask


def embed(model, toks, plan):
    out = torch.zeros(len(toks), 512)
    with torch.inference_mode():
        for rows in plan:
            ids, mask = pad(toks, rows, max(8, next_pow2(len(rows))))
            out[rows] = model(ids, mask)[:len(rows)]
    return out


def ft_batches(toks, n):
    order = sorted(range(n), key=lambda i: len(toks[i]))
    return [pad(toks, order[s:s + FT_BATCH], len(order[s:s + FT_BATCH])) + (order[s:s + FT_BATCH],)
            for s in range(0, n, FT_BATCH)]


def time_finetune(weights, toks, n, top):
    """ms per step over a warm epoch (a first epoch warms the allocator)."""
    model = USELite(weights)
    head_w = torch.nn.Parameter(torch.zeros(2, 512))
    head_b = torch.nn.Parameter(torch.zeros(2))
    targets = torch.zeros(n, 2)
    targets[torch.arange(n), torch.arange(n) % 2] = 1  # usebench's arbitrary labels
    batches = ft_batches(toks, n)
    bottom_s = 0.0
    if top:
        # use-lite-ft-top1: embedding and layer 0 frozen, run once per fit.
        t0 = time.perf_counter()
        with torch.no_grad():
            hidden = [model.bottom(ids, mask, 1) for ids, mask, _ in batches]
        bottom_s = time.perf_counter() - t0
        enc = [p for name, p in model.named_parameters() if name.startswith("layers.1.") or name.startswith("tanh_")]
        for name, p in model.named_parameters():
            p.requires_grad_(any(p is q for q in enc))
    else:
        enc = list(model.parameters())
    opt = torch.optim.AdamW([{"params": enc, "lr": ENCODER_LR}, {"params": [head_w, head_b], "lr": HEAD_LR}],
                            betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    def step(j):
        ids, mask, rows = batches[j]
        pooled = model.top(hidden[j], mask, 1) if top else model(ids, mask)
        logits = HEAD_SCALE * pooled @ head_w.T + head_b
        loss = -(targets[rows] * torch.log_softmax(logits, -1)).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for j in range(len(batches)):
        step(j)
    t0 = time.perf_counter()
    for j in range(len(batches)):
        step(j)
    return 1000 * (time.perf_counter() - t0) / len(batches), bottom_s


def main(work, out_path, repeat):
    tok = json.load(open(os.path.join(work, "tokens.json")))
    toks = tok["ids"]
    go_emb = np.load(os.path.join(work, "go_emb.npy"))
    weights = load_weights(tok["model_dir"])
    plan = encode_batches(toks)
    ft_n = min(256, len(toks))

    torch.set_num_threads(2)
    ref = embed(USELite(weights), toks, plan).numpy()
    diff = float(np.abs(ref - go_emb).max())
    cos = float((1 - (ref * go_emb).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(go_emb, axis=1)).max())
    print(f"parity vs Go: max abs diff {diff:.3g}, max cosine distance {cos:.3g}", file=sys.stderr)

    res = {"torch": torch.__version__, "n": len(toks), "ft_n": ft_n,
           "parity": {"max_abs_diff": diff, "max_cos_dist": cos}, "threads": {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        model = USELite(weights)
        embed(model, toks, plan[:2])  # warm-up
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            embed(model, toks, plan)
            runs.append(time.perf_counter() - t0)
        ft_ms, _ = time_finetune(weights, toks, ft_n, top=False)
        top_ms, bottom_s = time_finetune(weights, toks, ft_n, top=True)
        r = {"embed_s": min(runs), "embed_runs": runs, "ft_step_ms": ft_ms, "top_step_ms": top_ms, "top_bottom_s": bottom_s}
        res["threads"][str(threads)] = r
        print(f"torch {threads} thread(s): embed {len(toks) / min(runs):.1f} sentences/s, "
              f"fine-tune step {ft_ms:.0f} ms, top layer {top_ms:.0f} ms (bottom pass {bottom_s:.2f} s)", file=sys.stderr)
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2)
