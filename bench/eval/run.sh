#!/bin/sh
# bench/eval/run.sh [BUILD_DIR]: builds bench_eval and runs, side by side,
#   1. the C benchmark at the issue's size: 20,000 gallery x 20,000 probes
#      of 512-d embeddings (4 x 10^8 scores; peaks at about 8.5 GB of memory);
#   2. peer.py: pyeer and scikit-learn against the C library on the same
#      scores, at sizes they can handle (10^6 scores, then 10^7), with
#      every value compared.
# Environment: BENCH_N (default 20000), BENCH_DIM (512), BENCH_THREADS (all
# cores), PEER_SIZES (default "1000 3162": N for N x N scores),
# AIGTATT_PYTHON (python3 with numpy, pyeer, scikit-learn), JOBS (build).
# BUILD_DIR defaults to build-bench; a build whose top level does not
# include bench/ gets it with -DAIGTATT_BENCH=ON.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench}
py=${AIGTATT_PYTHON:-python3}
n=${BENCH_N:-20000}
dim=${BENCH_DIM:-512}
threads=${BENCH_THREADS:-$(nproc)}
sizes=${PEER_SIZES:-1000 3162}

cmake -S "$root" -B "$build" -DAIGTATT_TESTS=OFF -DAIGTATT_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_eval -j"${JOBS:-2}"
bench=$(find "$build" -name bench_eval -type f -perm -u+x | head -n 1)
[ -n "$bench" ] || { echo "run.sh: bench_eval was not built" >&2; exit 1; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "== C library at full size"
"$bench" synth --gallery "$n" --probes "$n" --dim "$dim" --threads "$threads"
status=0
for s in $sizes; do
    echo
    echo "== pyeer / scikit-learn vs C on the same $s x $s scores"
    "$py" "$root/bench/eval/peer.py" --bench "$bench" --n "$s" --dim "$dim" || status=1
done
exit $status
