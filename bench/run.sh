#!/usr/bin/env bash
# Head-training benchmark: package train (GoMLX, Go backend) against PyTorch
# CPU and scikit-learn on the same split; writes BENCH.md at the repo root.
#
#   bench/run.sh [FEATURES.npy LABELS.npy]
#
# FEATURES.npy: float32 [N, D]; LABELS.npy: int32/int64 [N] class indices.
# Without arguments a synthetic 10000 x 512 binary task is generated
# (headbench gen). Environment: REPEAT (fits per head, default 3),
# WORK (scratch directory, default a temp dir), OUT (default BENCH.md).
# Python references run with /usr/bin/python3 (Debian python3-torch,
# python3-sklearn, python3-numpy: installed here if missing; never a project
# dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd CGO_ENABLED=0
REPEAT=${REPEAT:-3}
OUT=${OUT:-BENCH.md}
WORK=${WORK:-$(mktemp -d -t headbench.XXXXXX)}
mkdir -p "$WORK"
PY=/usr/bin/python3

if ! "$PY" -c 'import torch, sklearn, numpy' 2>/dev/null; then
	echo "installing python3-torch python3-sklearn python3-numpy (reference only)" >&2
	apt-get install -y python3-torch python3-sklearn python3-numpy >&2
fi

go build -tags noxla -o "$WORK/headbench" ./bench/cmd/headbench

if [ $# -ge 2 ]; then
	FEATURES=$1 LABELS=$2
	SOURCE="$FEATURES, $LABELS"
else
	"$WORK/headbench" gen -out "$WORK" -n 10000 -d 512
	FEATURES=$WORK/features.npy LABELS=$WORK/labels.npy
	SOURCE="synthetic 10000 × 512 binary task (headbench gen: 16-d latent, partly quadratic label), 80/20 split"
fi

echo "== Go (package train, gomlx Go backend)"
"$WORK/headbench" run -features "$FEATURES" -labels "$LABELS" -work "$WORK" -repeat "$REPEAT"
echo "== PyTorch"
"$PY" bench/ref_torch.py "$WORK"
echo "== scikit-learn"
"$PY" bench/ref_sklearn.py "$WORK"

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
AVX512=$(grep -q avx512f /proc/cpuinfo && echo yes || echo no)
MACHINE="- nproc: $(nproc); CPU: $CPU; AVX-512: $AVX512
- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: timings are noisy)
- $(go version); GOEXPERIMENT=simd CGO_ENABLED=0 -tags noxla; GOMAXPROCS=$(nproc)
- torch threads: default (see threads column); $($PY -c 'import torch; print("torch", torch.__version__)')
- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
"$WORK/headbench" report -work "$WORK" -out "$OUT" -machine "$MACHINE" -source "$SOURCE"
echo "wrote $OUT (work files in $WORK)"
