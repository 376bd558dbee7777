#!/usr/bin/env bash
# Vision benchmark: images per second of the Go CNN encoders (package
# encode: mobilenet-v2, mobilenet-v2-mid, inception-v3, inception-v3-139 on GoMLX's pure-Go
# backend) against pure-JavaScript TF.js in node (the parity test's
# reference, encode/testdata/cnn_ref.js) on the same real Fashion-MNIST
# images, same machine, same run, with the features of both compared; and
# against torchvision's MobileNetV2 and InceptionV3 (bench/ref_vision_torch.py,
# random-init weights: no model hub is reachable) at 1 and 2 threads.
# Replaces the "vision" section of BENCH.md (other scripts own the others).
#
#   bench/vision.sh [MOBILENET_N [INCEPTION_N [INCEPTION139_N [MID_N]]]]   # default 32 8 16 32
#
# About 7 minutes on 2 quiet cores, mostly TF.js on InceptionV3 at 299 px;
# 11-12 minutes when other jobs load them (load average 6-9).
# Environment: WORK (scratch dir), OUT (default BENCH.md). TF.js is
# installed with npm into $SUPERALIGN_CACHE/js/tfjs-4.22.0 on first use
# (the directory the parity test uses), offline afterwards. PyTorch runs
# with /usr/bin/python3 (Debian python3-torch, python3-torchvision,
# python3-numpy: installed here if missing; never a project dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd CGO_ENABLED=0
N_MOB=${1:-32}
N_INC=${2:-8}
N_INC139=${3:-16}
N_MID=${4:-32}
OUT=${OUT:-BENCH.md}
WORK=${WORK:-$(mktemp -d -t visionbench.XXXXXX)}
mkdir -p "$WORK"
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, torchvision, numpy' 2>/dev/null; then
	echo "installing python3-torch python3-torchvision python3-numpy (reference only)" >&2
	apt-get install -y -qq python3-torch python3-torchvision python3-numpy >&2
fi
CACHE=${SUPERALIGN_CACHE:-$HOME/.cache/superalign}
REF=$CACHE/js/tfjs-4.22.0
if [ ! -f "$REF/node_modules/@tensorflow/tfjs/package.json" ]; then
	mkdir -p "$REF"
	npm install --no-audit --no-fund --prefix "$REF" @tensorflow/tfjs@4.22.0 >&2
fi

go build -tags noxla -o "$WORK/visionbench" ./bench/cmd/visionbench
go build -tags noxla -o "$WORK/mdsection" ./bench/cmd/mdsection
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MACHINE="- nproc: $(nproc); CPU: $CPU; AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)
- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)
- $(go version); GOEXPERIMENT=simd CGO_ENABLED=0 -tags noxla; date: $(date -u '+%Y-%m-%d %H:%M UTC')"
"$WORK/visionbench" run -tfjs "$REF/node_modules" -out "$WORK/vision.md" \
	-mobilenet "$N_MOB" -mobilenet-mid "$N_MID" -inception "$N_INC" -inception139 "$N_INC139" -machine "$MACHINE" -torch "$PY"
[ -s "$OUT" ] || printf '# Benchmarks\n\nEach section is written by its own script (`make bench` runs them all); ratios compare engines on the same machine in the same run.\n\n' > "$OUT"
"$WORK/mdsection" -name vision -in "$WORK/vision.md" -out "$OUT"
echo "wrote the vision section of $OUT (work files in $WORK)"
