#!/usr/bin/env bash
# GPU figures for a lent device machine: the same workloads as the CPU
# sections of BENCH.md (USE-lite embedding and fine-tuning, CNN feature
# extraction), run by the XLA build of w2s on the CUDA plugin, printed
# beside the CPU numbers. Cannot run without a GPU; TestBenchScriptsParse
# checks its syntax.
#
# The device tool carries at most 64 MiB of ignored files, so one workload
# travels at a time. Prepare here (gpu/ is ignored by git):
#   bash bench/gpu.sh pack uselite      # or: pack cnn
# which writes gpu/w2s-xla.gz (stripped XLA binary, ~16 MB) and the pinned
# archives of the assets the workload needs under gpu/cache/assets/ (use-lite
# and sentiment: 26 MB; nsfwjs and mnist: 37 MB). On the device, carrying
# "gpu", run:
#   bash bench/gpu.sh run uselite       # or: run cnn   (about 3 and 2 minutes)
# Assets unpack from their archives there (sha256-checked, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
work=${2:-}

case "$mode" in
pack)
	case "$work" in
	uselite) names="use-lite sentiment" ;;
	cnn) names="nsfwjs mnist" ;;
	*) echo "usage: bench/gpu.sh pack uselite|cnn" >&2; exit 2 ;;
	esac
	make build-xla >&2
	mkdir -p gpu
	strip -o gpu/w2s-xla bin/w2s-xla
	gzip -f gpu/w2s-xla
	rm -rf gpu/cache
	cache=${SUPERALIGN_CACHE:-$HOME/.cache/superalign}
	for n in $names; do
		bin/w2s fetch "$n" >&2
		mkdir -p "gpu/cache/assets/$n"
		find "$cache/assets/$n" -maxdepth 1 -type f \( -name '*.tgz' -o -name '*.zip' -o -name '*.deb' \) -exec cp {} "gpu/cache/assets/$n/" \;
	done
	du -sh gpu
	;;
run)
	[ -f gpu/w2s-xla.gz ] || { echo "gpu/w2s-xla.gz missing: run bench/gpu.sh pack $work here and carry gpu" >&2; exit 2; }
	plugin=${XLA_CUDA_PLUGIN:-$(python3 -c 'import jax_plugins.xla_cuda13 as p, os; print(os.path.join(os.path.dirname(p.__file__), "xla_cuda_plugin.so"))' 2>/dev/null || true)}
	[ -f "$plugin" ] || { echo "no CUDA PJRT plugin (set XLA_CUDA_PLUGIN=/abs/path/xla_cuda_plugin.so)" >&2; exit 2; }
	tmp=$(mktemp -d)
	gunzip -c gpu/w2s-xla.gz > "$tmp/w2s" && chmod +x "$tmp/w2s"
	export GOMLX_NO_AUTO_INSTALL=1 GOMLX_BACKEND="xla:$plugin" SUPERALIGN_CACHE="$PWD/gpu/cache"
	log=${OUT:-$tmp}/gpu-$work.log
	case "$work" in
	uselite)
		# Embedding: 3000 sentences (the first pass compiles); fine-tuning:
		# one epoch of the ceiling and the student, whole and top layer.
		"$tmp/w2s" run --data sentiment --weak bow --strong use-lite --method naive --seeds 1 --out "$tmp/emb" 2>&1 | tee "$log"
		for s in use-lite-ft use-lite-ft-top1; do
			"$tmp/w2s" run --data sentiment --weak bow --strong $s --method naive --seeds 1 --ft-epochs 1 --out "$tmp/$s" 2>&1 | tee -a "$log"
		done
		echo "== GPU (XLA CUDA)"
		grep -E 'use-lite: encoded|epoch 1/1' "$log" || true
		echo "== CPU (BENCH.md, Go backend)"
		grep -E 'Go, warm|step time|epoch over 1000|top layer only' BENCH.md || true
		;;
	cnn)
		"$tmp/w2s" run --data mnist --weak pixels --strong mobilenet-v2 --method naive --seeds 1 --limit 3000 --out "$tmp/cnn" 2>&1 | tee "$log"
		echo "== GPU (XLA CUDA)"
		grep -E 'mobilenet-v2: encoded' "$log" || true
		echo "== CPU (BENCH.md, Go backend)"
		grep -E '^\| mobilenet-v2 ' BENCH.md || true
		;;
	*) echo "usage: bench/gpu.sh run uselite|cnn" >&2; exit 2 ;;
	esac
	;;
*)
	echo "usage: bench/gpu.sh pack|run uselite|cnn" >&2
	exit 2
	;;
esac
