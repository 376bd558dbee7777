#!/usr/bin/env bash
# Where a USE-lite fine-tune step's time goes: CPU profiles of
# student.BenchmarkFineTuneWhole (whole-model fine-tune epochs over 64 yelp
# sentences, 2 steps of 32) with the backend as shipped (independent ops at
# the same time) and with ops one at a time (GOMLX_BACKEND=go:ops_sequential,
# the configuration before the worker-pool work-around), grouped by op family
# of the GoMLX Go backend. Replaces the "profile" section of BENCH.md.
#
#   bench/profile.sh
#
# Environment: WORK (scratch dir), OUT (default BENCH.md), STEPS (benchmark
# epochs per run, default 3), REPEAT (timed runs per mode, default 3). Needs the USE-lite asset (w2s fetch use-lite).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd CGO_ENABLED=0
OUT=${OUT:-BENCH.md}
STEPS=${STEPS:-3}
REPEAT=${REPEAT:-3}
WORK=${WORK:-$(mktemp -d -t profbench.XXXXXX)}
mkdir -p "$WORK"
go test -c -tags noxla -o "$WORK/student.test" ./student/
go build -tags noxla -o "$WORK/mdsection" ./bench/cmd/mdsection

# families FILE: "family cpu_seconds" lines from a profile's flat samples.
# Order matters: the matmul package's own transposes and SIMD broadcasts
# are matrix-product work.
families() {
	go tool pprof -top -nodefraction=0 -nodecount=100000 "$WORK/student.test" "$1" 2>/dev/null |
		awk '
		function secs(v) { if (v ~ /ms$/) return substr(v, 1, length(v)-2)/1000; if (v ~ /us$/) return substr(v, 1, length(v)-2)/1e6; return substr(v, 1, length(v)-1)+0 }
		$1 ~ /^[0-9.]+(s|ms|us)$/ && NF >= 6 {
			name = $6
			f = "other"
			if (name ~ /dot\/matmul\.|archsimd\./) f = "matrix products"
			else if (name ~ /Transpose/) f = "transposes"
			else if (name ~ /Reduce/) f = "reductions"
			else if (name ~ /ops\.exec(Mul|Add|Sub|Div|Max|Min|Sqrt|Rsqrt|Sign|Neg|Abs|Exp|Log|Tanh|Logistic|Square|Pow|Where|Select|Equal|Greater|Less|Compare|ConvertDType|Erf|Cos|Sin|Clamp|Bitwise|Logical|Not)/) f = "elementwise"
			else if (name ~ /runtime\.mem(move|clr)|execPad|execSlice|execConcatenate|execBroadcast|execGather|execIota|execReshape|Copy|fillBuffer|BufferFromFlat/) f = "copies, pads, slices, gathers"
			else if (name ~ /^runtime\.(gc|scan|mark|sweep|heap|mallocgc|greyobject|findObject|wbBuf|bulkBarrier)/) f = "Go garbage collection and allocation"
			else if (name ~ /^runtime\./) f = "Go scheduler and other runtime"
			sum[f] += secs($1)
		}
		END { for (f in sum) printf "%s\t%.3f\n", f, sum[f] }'
}

# finetune_bench MODE [FLAGS]: the benchmark's output with ops at once
# (MODE parallel, the backend as shipped) or one at a time (sequential).
finetune_bench() {
	local cfg=""
	[ "$1" = sequential ] && cfg="go:ops_sequential"
	(cd student && GOMLX_BACKEND=$cfg "$WORK/student.test" -test.run '^$' -test.bench 'FineTuneWhole$' \
		-test.benchtime "${STEPS}x" "${@:2}")
}

# Wall time first, without the profiler (its signals slow the parallel
# executor more than the sequential one): the modes alternate REPEAT times
# so that drift in the machine's load hits both; the median is reported.
declare -A STEPMS STEPALL CPU UTIL
for mode in parallel sequential; do : > "$WORK/$mode.steps"; done
for _ in $(seq "$REPEAT"); do
	for mode in parallel sequential; do
		# ns per benchmark op = one epoch of 2 steps
		finetune_bench "$mode" > "$WORK/run.txt"
		cat "$WORK/run.txt" >&2
		awk '/^BenchmarkFineTuneWhole/ { printf "%.0f\n", $3 / 2 / 1e6 }' "$WORK/run.txt" >> "$WORK/$mode.steps"
	done
done
for mode in parallel sequential; do
	STEPMS[$mode]=$(sort -n "$WORK/$mode.steps" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	STEPALL[$mode]=$(sort -n "$WORK/$mode.steps" | paste -sd, -)
done
for mode in parallel sequential; do
	echo "== fine-tune profile: ops $mode" >&2
	finetune_bench "$mode" -test.cpuprofile "$WORK/$mode.prof" >&2
	families "$WORK/$mode.prof" > "$WORK/$mode.families"
	CPU[$mode]=$(awk -F'\t' '{ s += $2 } END { printf "%.3f", s }' "$WORK/$mode.families")
	# "Duration: 12.92s, Total samples = 19.67s (152.21%)": cores kept busy
	UTIL[$mode]=$(go tool pprof -top -nodecount=1 "$WORK/student.test" "$WORK/$mode.prof" 2>/dev/null |
		sed -n 's/.*Total samples = .*(\([0-9.]*\)%).*/\1/p')
done

{
	echo "## Where a fine-tune step's time goes"
	echo
	echo "\`bench/profile.sh\`: \`student.BenchmarkFineTuneWhole\` (whole-model USE-lite fine-tune epochs over 64 yelp"
	echo "sentences, 2 steps of 32, after a first fit that compiles the graphs; GoMLX pure-Go backend,"
	echo "GOMAXPROCS=$(nproc)) with ops one at a time (\`GOMLX_BACKEND=go:ops_sequential\`, the configuration before"
	echo "\`internal/backend\` lifted the worker pool's limit) and with independent ops at once (the backend as"
	echo "shipped). Wall time per step: median of $REPEAT unprofiled runs of $STEPS epochs per mode, the modes"
	echo "alternating. Shares: CPU profiles of one more run per mode (which include the compiling first fit),"
	echo "samples grouped by the backend's op family (the flat time of each function)."
	echo
	echo "| op family | ops one at a time: share of CPU | independent ops at once: share of CPU |"
	echo "|---|---:|---:|"
	for f in "matrix products" "transposes" "elementwise" "reductions" "copies, pads, slices, gathers" \
		"Go garbage collection and allocation" "Go scheduler and other runtime" "other"; do
		awk -F'\t' -v f="$f" -v ts="${CPU[sequential]}" -v tp="${CPU[parallel]}" \
			-v fs="$WORK/sequential.families" -v fp="$WORK/parallel.families" 'BEGIN {
			while ((getline l < fs) > 0) { split(l, a, "\t"); if (a[1] == f) s = a[2] }
			while ((getline l < fp) > 0) { split(l, a, "\t"); if (a[1] == f) p = a[2] }
			printf "| %s | %.0f%% | %.0f%% |\n", f, 100*s/ts, 100*p/tp }'
	done
	echo "| **cores kept busy** (CPU samples / wall time) | ${UTIL[sequential]}% | ${UTIL[parallel]}% |"
	echo "| **wall time per step, median (runs), ms** | ${STEPMS[sequential]} (${STEPALL[sequential]}) | ${STEPMS[parallel]} (${STEPALL[parallel]}) |"
	echo
	echo "- with independent ops at once a step takes $(awk -v s="${STEPMS[sequential]}" -v p="${STEPMS[parallel]}" 'BEGIN { printf "%.2f", s/p }')× less wall time for the same work (the"
	echo "  families' shares barely move): one op at a time, only the matrix products used both cores; the"
	echo "  transposes, elementwise ops, reductions and copies (one core each) now overlap across independent ops"
	echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (profiles taken under load put time in \`runtime.asyncPreempt\`: measure on a quiet machine)"
	echo "- $(go version); GOEXPERIMENT=simd CGO_ENABLED=0 -tags noxla; date: $(date -u '+%Y-%m-%d %H:%M UTC')"
} > "$WORK/profile.md"
[ -s "$OUT" ] || printf '# Benchmarks\n\nEach section is written by its own script (`make bench` runs them all); ratios compare engines on the same machine in the same run.\n\n' > "$OUT"
"$WORK/mdsection" -name profile -in "$WORK/profile.md" -out "$OUT"
echo "wrote the profile section of $OUT (profiles in $WORK)"
