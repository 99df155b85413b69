#!/bin/sh
# bench/train/run.sh [BUILD_DIR]: builds bench_train and runs it side by side
# with PyTorch (peer.py: torchvision, channels_last, /usr/bin/python3) on
# the same machine: a ResNet training step (forward, cross-entropy,
# backward, SGD with momentum) at 224x224, batch 16, 2 threads, fp32.
# Each depth runs ROUNDS times alternating which framework goes first; the
# table keeps each side's best median over the rounds (the machine may be
# shared), and prints the ratio, GFLOP/s (2 FLOPs per multiply-add of the
# convolutions and linears, forward and backward, counted from the IR) and
# the share of the fp32 peak.
# Environment: DEPTHS (default "18 50"), BATCH (16), SIZE (224), THREADS (2),
# STEPS (5), WARMUP (2), ROUNDS (2), PRECISION (aigtatt's: f32 or bf16),
# CONV (aigtatt's convolution algorithm: direct, auto or winograd), PEAK (GFLOP/s; default:
# measured by fma_peak, else threads x nominal clock x 32 FLOPs/cycle for AVX2+FMA, 64 with
# AVX-512), PYTHON (/usr/bin/python3),
# JOBS (build), NO_BUILD (1: run the binaries already in BUILD_DIR).
# On a machine with more cores than THREADS both sides are pinned to the
# same cores (common.sh); the last line gives the hypervisor's steal time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-bench-nn}
py=${PYTHON:-/usr/bin/python3}
depths=${DEPTHS:-18 50}
batch=${BATCH:-16}
size=${SIZE:-224}
threads=${THREADS:-2}
steps=${STEPS:-5}
warmup=${WARMUP:-2}
rounds=${ROUNDS:-2}
mode=train
bin=bench_train
peer=$here/peer.py
. "$root/bench/train/common.sh"
