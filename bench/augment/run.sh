#!/usr/bin/env bash
# Side-by-side benchmark of the augment ops: aigtatt (bench_augment, the
# plugin loaded through the core), albumentations and OpenCV (peer.py), in
# the same run, on the same 512x512 RGB picture, one thread per op, and the
# pipeline on all cores. Prints one table; docs/performance.md holds a copy.
#
#   bench/augment/run.sh [--min-time S] [--rounds R] [--ops a,b,...] [--jobs N]
#
# Each round runs aigtatt and then the peers; a number in the table is the
# best of the rounds for that op and library, so a burst of other work on
# the machine during one round does not decide the comparison.
#
# Environment: BUILD (default build-bench) is the CMake build folder it
# configures and builds (RelWithDebInfo, the project's default);
# BENCH_VENV (default bench/.venv) the Python venv it creates from
# /usr/bin/python3 and fills from bench/augment/requirements.txt;
# AUGMENT_PLUGIN (default: the build's aigtatt_augment.so) the plugin file
# to measure, e.g. one built with a patch from bench/augment/patches/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

min_time=0.5
rounds=3
ops=""
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --min-time) min_time=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) echo "usage: $0 [--min-time S] [--rounds R] [--ops a,b,...] [--jobs N]" >&2; exit 2 ;;
  esac
done

build=${BUILD:-build-bench}
venv=${BENCH_VENV:-bench/.venv}

# ---- build ----------------------------------------------------------------
cmake -S . -B "$build" -DAIGTATT_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_augment -j"$(nproc)" >/dev/null

# ---- Python peers -------------------------------------------------------------
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import albumentations, cv2" 2>/dev/null; then
  echo "run.sh: creating $venv with albumentations and OpenCV" >&2
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bench/augment/requirements.txt
fi

# ---- run both ---------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
opsarg=()
[ -n "$ops" ] && opsarg=(--ops "$ops")

for r in $(seq 1 "$rounds"); do
  echo "== round $r/$rounds: aigtatt" >&2
  "$build/bench/bench_augment" ${AUGMENT_PLUGIN:+--plugin "$AUGMENT_PLUGIN"} \
    --min-time "$min_time" --jobs "$jobs" --write-input "$tmp/input.png" \
    --tsv "$tmp/aigtatt-$r.tsv" "${opsarg[@]}" >&2
  echo "== round $r/$rounds: albumentations / OpenCV" >&2
  "$venv/bin/python" bench/augment/peer.py --input "$tmp/input.png" --min-time "$min_time" --jobs "$jobs" \
    --tsv "$tmp/peer-$r.tsv" "${opsarg[@]}" >&2
done

# ---- one table ------------------------------------------------------------------
"$venv/bin/python" - "$tmp" "$rounds" "$jobs" <<'EOF'
import sys
sys.path.insert(0, "bench/augment")
from peer import NOTES

tmp, rounds, jobs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ours, peer = {}, {}
for r in range(1, rounds + 1):
    for l in open(f"{tmp}/aigtatt-{r}.tsv"):
        if l.strip():
            op, v = l.rstrip("\n").split("\t")
            ours[op] = max(ours.get(op, 0.0), float(v))
    for l in open(f"{tmp}/peer-{r}.tsv"):
        if l.strip():
            lib, op, v = l.rstrip("\n").split("\t")
            peer[(lib, op)] = max(peer.get((lib, op), 0.0), float(v))

def f(v):
    return f"{v:9.1f}" if v is not None else "        -"

def ratio(a, b):
    return f"{a / b:6.2f}x" if a is not None and b else "      -"

print(f"{'op':24s} {'aigtatt':>9s} {'albument.':>9s} {'opencv':>9s} {'vs alb.':>7s} {'vs cv':>7s}")
slower = []
for op, a in ours.items():
    b = peer.get(("albumentations", op))
    c = peer.get(("opencv", op))
    name = op
    if op.startswith("pipeline"):
        name = op.replace(":1", " (1 thread)").replace(":N", f" ({jobs} threads)")
    print(f"{name:24s} {f(a)} {f(b)} {f(c)} {ratio(a, b)} {ratio(a, c)}")
    if b and a < b:
        slower.append(op)
print()
print(f"img/s, best of {rounds} rounds; ratios are aigtatt / peer (above 1: aigtatt is faster).")
print("pipeline: configs/quickstart.yaml's ops that albumentations also has, same order and "
      "probabilities, in one process or a pool of", jobs, "(threads for aigtatt, processes for Python);")
print("pipeline-full: all of quickstart's ops (adds skin and curvature), aigtatt only.")
for op, note in NOTES.items():
    if op in ours:
        print(f"  {op}: {note}")
if slower:
    print("slower than albumentations:", ", ".join(slower))
EOF
