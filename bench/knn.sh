#!/usr/bin/env bash
# kNN benchmark: package knn (graph + label spreading) against FAISS flat
# indexes (IndexFlatL2, IndexFlatIP on unit rows; 1 and 2 threads) and
# scikit-learn's NearestNeighbors and LabelSpreading on the same features in
# the same run;
# writes (or replaces) the "# kNN benchmark" section of BENCH.md, leaving the
# head-training table alone.
#
#   bench/knn.sh
#
# Data: 20000 real Fashion-MNIST images as raw pixels (784 columns, the
# built-in dataset, fetched through assets), and a synthetic 20000 × 512
# Gaussian mixture (labelled synthetic). Environment: REPEAT (timed runs per
# engine, default 2), K (neighbours, default 10), WORK (scratch directory),
# OUT (default BENCH.md). Python references run with /usr/bin/python3
# (Debian python3-faiss, python3-sklearn, python3-scipy, python3-numpy:
# installed here if missing; never a project dependency). 8.5 minutes on
# 2 cores shared with other jobs (load average 8); less on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd CGO_ENABLED=0
REPEAT=${REPEAT:-2}
K=${K:-10}
OUT=${OUT:-BENCH.md}
WORK=${WORK:-$(mktemp -d -t knnbench.XXXXXX)}
mkdir -p "$WORK"
PY=/usr/bin/python3

if ! "$PY" -c 'import faiss, sklearn, scipy, numpy' 2>/dev/null; then
	echo "installing python3-faiss python3-sklearn python3-scipy python3-numpy (reference only)" >&2
	apt-get install -y python3-faiss python3-sklearn python3-scipy python3-numpy >&2
fi

go build -tags noxla -o "$WORK/knnbench" ./bench/cmd/knnbench

"$WORK/knnbench" features -out "$WORK/fmnist" -data fashion-mnist -n 20000
"$WORK/knnbench" synthetic -out "$WORK/synth" -n 20000 -d 512
for d in fmnist synth; do
	echo "== $d: Go" >&2
	"$WORK/knnbench" run -work "$WORK/$d" -k "$K" -repeat "$REPEAT"
	echo "== $d: FAISS" >&2
	"$PY" bench/knn_faiss.py "$WORK/$d" "$REPEAT"
	echo "== $d: scikit-learn" >&2
	"$PY" bench/knn_sklearn.py "$WORK/$d" "$REPEAT"
done

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
AVX512=$(grep -q avx512f /proc/cpuinfo && echo yes || echo no)
cat >"$WORK/machine.txt" <<EOM
- nproc: $(nproc); CPU: $CPU; AVX-512: $AVX512
- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: timings are noisy)
- $(go version); GOEXPERIMENT=simd CGO_ENABLED=0 -tags noxla; GOMAXPROCS=$(nproc)
- $("$PY" -c 'import faiss, sklearn, scipy, numpy; print("faiss", faiss.__version__, "scikit-learn", sklearn.__version__, "scipy", scipy.__version__, "numpy", numpy.__version__)')
- date: $(date -u '+%Y-%m-%d %H:%M UTC')
EOM
# knn_report.py appends to an existing file: start afresh when WORK is reused.
rm -f "$WORK/knn.md"
"$PY" bench/knn_report.py "$WORK/knn.md" "$WORK/machine.txt" \
	"$WORK/fmnist:Fashion-MNIST raw pixels, 20000 images drawn at random (real data)" \
	"$WORK/synth:synthetic Gaussian mixture, 10 classes (synthetic)"
go build -tags noxla -o "$WORK/mdsection" ./bench/cmd/mdsection
[ -s "$OUT" ] || printf '# Benchmarks\n\n' > "$OUT"
"$WORK/mdsection" -name knn -in "$WORK/knn.md" -out "$OUT"
echo "wrote the knn section of $OUT (work files in $WORK)"
