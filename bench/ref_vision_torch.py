"""torchvision reference for the vision benchmark (bench/vision.sh, run by
`visionbench run -torch`).

usage: ref_vision_torch.py ARCH IN.f32 N SIZE BATCH

ARCH is mobilenet_v2, mobilenet_v2_140 (width 1.4, mobilenet-v2-mid's
architecture) or inception_v3. IN.f32 holds N Fashion-MNIST images
[N, 28, 28, 1] float32 in [0, 1], the ones the Go encoder reads. Each pass
resizes them to SIZE px (bilinear), repeats the grey channel to RGB and runs
the network up to its pooled features (1280, 1792 or 2048 wide), BATCH
images at a time, under torch.inference_mode(); the 28->SIZE resize is
timed, as on the Go side. At torch.set_num_threads(1) and (2): a warm-up
batch, then the best of two passes over the N images. Prints JSON.

The weights are torchvision's random initialisation: no model hub is
reachable here, and the speed of a dense float32 network does not depend on
its weight values. Reference only: never a project dependency (Debian
python3-torch, python3-torchvision).
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision


def features(arch):
    if arch == "inception_v3":
        m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)
        m.fc = torch.nn.Identity()  # pooled 2048-d (dropout is off in eval)
        return m, 2048
    width = 1.4 if arch == "mobilenet_v2_140" else 1.0
    m = torchvision.models.mobilenet_v2(weights=None, width_mult=width)
    m.classifier = torch.nn.Identity()  # pooled last_channel features
    return m, m.last_channel


def main(arch, path, n, size, batch):
    px = torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(n, 28, 28, 1)).permute(0, 3, 1, 2).contiguous()
    model, dim = features(arch)
    model.eval()

    def run(imgs):
        with torch.inference_mode():
            for s in range(0, imgs.shape[0], batch):
                x = F.interpolate(imgs[s:s + batch], size=(size, size), mode="bilinear", align_corners=False)
                y = model(x.expand(-1, 3, -1, -1))
        return y

    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "dim": dim, "threads": {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        y = run(px[:batch])  # warm-up
        assert y.shape[1] == dim, y.shape
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            run(px)
            runs.append(time.perf_counter() - t0)
        out["threads"][str(threads)] = {"s": min(runs), "runs": runs}
        print(f"torchvision {arch} {size} px, {threads} thread(s): {n / min(runs):.2f} images/s", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
