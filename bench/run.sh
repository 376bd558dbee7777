#!/usr/bin/env bash
# Head-training benchmark: package train (GoMLX, Go backend) against PyTorch
# CPU and scikit-learn on the same splits, in the same run; replaces the
# "heads" section of BENCH.md (other benchmark scripts own other sections).
#
#   bench/run.sh [FEATURES.npy LABELS.npy]
#
# Without arguments it runs two data sets: a synthetic 10000 × 512 binary
# task (the size the foundation issue names) and real features: the 6026
# SpamAssassin e-mails as 512-bucket hashed TF-IDF (headbench real). With
# arguments: FEATURES.npy float32 [N, D], LABELS.npy int32/int64 [N].
# Environment: REPEAT (fits per head, default 3), WORK (scratch dir), OUT
# (default BENCH.md). Python references run with /usr/bin/python3 (Debian
# python3-torch, python3-sklearn, python3-numpy: installed here if missing;
# never a project dependency).
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
	apt-get update -qq >&2 && apt-get install -y -qq python3-torch python3-sklearn python3-numpy >&2
fi

go build -tags noxla -o "$WORK/headbench" ./bench/cmd/headbench
go build -tags noxla -o "$WORK/mdsection" ./bench/cmd/mdsection

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
AVX512=$(grep -q avx512f /proc/cpuinfo && echo yes || echo no)
machine() {
	echo "- nproc: $(nproc); CPU: $CPU; AVX-512: $AVX512
- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: timings are noisy)
- $(go version); GOEXPERIMENT=simd CGO_ENABLED=0 -tags noxla; GOMAXPROCS=$(nproc)
- $($PY -c 'import torch; print("torch", torch.__version__)'); date: $(date -u '+%Y-%m-%d %H:%M UTC')"
}

# bench_one NAME TITLE SOURCE FEATURES LABELS: one table into $WORK/NAME.md.
bench_one() {
	local name=$1 title=$2 source=$3 features=$4 labels=$5 dir=$WORK/$1
	mkdir -p "$dir"
	echo "== $title: Go (package train, gomlx Go backend)"
	"$WORK/headbench" run -features "$features" -labels "$labels" -work "$dir" -repeat "$REPEAT"
	echo "== $title: PyTorch"
	"$PY" bench/ref_torch.py "$dir"
	echo "== $title: scikit-learn"
	"$PY" bench/ref_sklearn.py "$dir"
	"$WORK/headbench" report -work "$dir" -out "$WORK/$name.md" -title "$title" -source "$source" -machine "$(machine)"
}

if [ $# -ge 2 ]; then
	bench_one user "Head training: $1" "$1, $2" "$1" "$2"
	cat "$WORK/user.md" > "$WORK/heads.md"
else
	"$WORK/headbench" gen -out "$WORK/gen" -n 10000 -d 512
	bench_one synthetic "Head training: synthetic 10000 × 512" \
		"synthetic 10000 × 512 binary task (headbench gen: 16-d latent, partly quadratic label), 80/20 split" \
		"$WORK/gen/features.npy" "$WORK/gen/labels.npy"
	"$WORK/headbench" real -out "$WORK/real" -data spam -d 512
	bench_one spam "Head training: real features, spam 6026 × 512" \
		"SpamAssassin 6026 e-mails (ham 4150 / spam 1876), hashed TF-IDF bag of words with 512 buckets (encode.NewBoW), 80/20 split" \
		"$WORK/real/features.npy" "$WORK/real/labels.npy"
	cat "$WORK/synthetic.md" <(echo) "$WORK/spam.md" > "$WORK/heads.md"
fi
[ -s "$OUT" ] || printf '# Benchmarks\n\nEach section is written by its own script (`make bench` runs them all); ratios compare engines on the same machine in the same run.\n\n' > "$OUT"
"$WORK/mdsection" -name heads -in "$WORK/heads.md" -out "$OUT"
echo "wrote the heads section of $OUT (work files in $WORK)"
