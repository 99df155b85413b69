# Shared by bench/train/run.sh and bench/infer/run.sh (sourced; expects
# here root build py depths batch size threads steps warmup rounds mode bin
# peer). PRECISION (f32 or bf16) is aigtatt's; the peer always runs fp32,
# the issue's baseline.
# NO_BUILD=1: use what is already in BUILD_DIR (a build copied to a machine
# without the build dependencies).
if [ "${NO_BUILD:-0}" != 1 ]; then
    cmake -S "$root" -B "$build" -DAIGTATT_TESTS=OFF -DAIGTATT_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" --target "$bin" fma_peak -j"${JOBS:-2}"
fi
exe=$(find "$build" -name "$bin" -type f -perm -u+x | head -n 1)
[ -n "$exe" ] || { echo "run.sh: $bin was not built" >&2; exit 1; }

flags=$(grep -m1 '^flags' /proc/cpuinfo)
mhz=$(awk -F: '/cpu MHz/ {printf "%d", $2; exit}' /proc/cpuinfo)
fpc=16
case "$flags" in *avx2*) case "$flags" in *fma*) fpc=32 ;; esac ;; esac
case "$flags" in *avx512f*) fpc=64 ;; esac
nominal=$(awk -v t="$threads" -v m="$mhz" -v f="$fpc" 'BEGIN {printf "%.0f", t * m * f / 1000}')
# The peak is measured (fma_peak) where it was built: the nominal clock
# understates what the cores run at.
fma=$(find "$build" -name fma_peak -type f -perm -u+x | head -n 1)
measured=$([ -n "$fma" ] && "$fma" "$threads" 2>/dev/null || echo "")
peak=${PEAK:-${measured:-$nominal}}
isa=$(echo "$flags" | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' ')
blas=$("$py" -c 'import torch, os
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() and "/" in l})
print(", ".join(os.path.realpath(x) for x in libs) or "none mapped")' 2>/dev/null || echo "?")
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), ${mhz} MHz, $isa"
echo "== fp32 peak for $threads threads: $peak GFLOP/s (measured by fma_peak: ${measured:-not built}; nominal clock x $fpc FLOPs/cycle/core: $nominal); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== peer: $("$py" -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)'), BLAS: $blas (convolutions go through oneDNN)"
precision=${PRECISION:-f32}
conv=${CONV:-direct}
export OMP_NUM_THREADS="$threads"
# On a machine with more cores than threads both sides run pinned to the
# same CPUs, one per physical core, threads bound, so neither gets two
# hyperthreads of one core or moves between cores mid-run. (Pinned, a
# lent 16-core machine still varied 1.6x between rounds with no steal
# time: the steal printed at the end tells a shared host apart.)
pin=""
if [ "$(getconf _NPROCESSORS_ONLN)" -gt "$threads" ] && command -v taskset >/dev/null && command -v lscpu >/dev/null; then
    cpus=$(lscpu -p=CPU,CORE | grep -v '^#' | awk -F, '!s[$2]++ {print $1}' | head -n "$threads" | paste -sd, -)
    if [ "$(echo "$cpus" | tr ',' '\n' | grep -c .)" -eq "$threads" ]; then
        pin="taskset -c $cpus"
        export OMP_PROC_BIND=true OMP_PLACES=threads
        echo "== both sides pinned to CPUs $cpus"
    fi
fi
# the hypervisor's steal time over the run (a shared host shows up here)
steal0=$(awk '$1 == "cpu" {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for d in $depths; do
    r=0
    while [ "$r" -lt "$rounds" ]; do
        ours() {
            out=$($pin "$exe" --depth "$d" --batch "$batch" --size "$size" --threads "$threads" --steps "$steps" \
                  --warmup "$warmup" --peak "$peak" --precision "$precision" --conv "$conv" 2>/dev/null)
            echo "$out" | grep -v '^RESULT'
            echo "$out" | grep '^RESULT' >>"$results"
        }
        theirs() {
            g=$(grep "framework=aigtatt mode=$mode depth=$d " "$results" | tail -n 1 | sed 's/.*gflop_per_image=\([^ ]*\).*/\1/')
            out=$($pin "$py" "$peer" --depth "$d" --batch "$batch" --size "$size" --threads "$threads" --steps "$steps" \
                  --warmup "$warmup" --peak "$peak" --gflop-per-image "${g:-0}" 2>/dev/null)
            echo "$out" | grep -v '^RESULT'
            echo "$out" | grep '^RESULT' >>"$results"
        }
        if [ $((r % 2)) -eq 1 ]; then theirs; ours; else ours; theirs; fi
        r=$((r + 1))
    done
done
echo
echo "| model | aigtatt ($precision, $conv) img/s | PyTorch (fp32) img/s | ratio | aigtatt GFLOP/s | % of peak | PyTorch GFLOP/s | % of peak |"
echo "|---|---|---|---|---|---|---|---|"
for d in $depths; do
    awk -v d="$d" -v mode="$mode" -v peak="$peak" '
        function val(k,   i, a) { for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } return "" }
        $0 ~ "mode=" mode " depth=" d " " {
            f = val("framework"); s = val("img_s") + 0; g = val("gflops") + 0
            if (s > best[f]) { best[f] = s; gf[f] = g }
        }
        END {
            a = best["aigtatt"]; t = best["pytorch"]
            printf "| resnet%s | %.2f | %.2f | %.2fx | %.1f | %.0f%% | %.1f | %.0f%% |\n", d, a, t, (t > 0 ? a / t : 0),
                   gf["aigtatt"], 100 * gf["aigtatt"] / peak, gf["pytorch"], 100 * gf["pytorch"] / peak
        }' "$results"
done
steal=$(awk -v a="$steal0" '$1 == "cpu" {split(a, s, " "); t = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 - s[2];
    printf "%.1f%%", (t > 0 ? 100 * ($9 - s[1]) / t : 0)}' /proc/stat)
echo "(best median over $rounds rounds; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); steal time during the run: $steal)"
