#!/usr/bin/python3
"""The PyTorch side of bench/infer: torchvision ResNet inference in PyTorch's
fastest CPU fp32 setting (eval mode, torch.jit.trace then
torch.jit.optimize_for_inference, which freezes the graph, folds batch
norm into the convolutions and runs them on oneDNN with prepacked weights),
timed like bench_infer. Prints one human line and one RESULT line.

  peer.py --depth 50 --batch 32 --size 224 --threads 2 --steps 5 --warmup 2
          [--classes 1000] [--gflop-per-image G] [--peak GFLOPS] [--eager]
"""
import argparse
import statistics
import sys
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--gflop-per-image", type=float, default=0.0)
    ap.add_argument("--peak", type=float, default=0.0)
    ap.add_argument("--eager", action="store_true", help="plain eager mode instead of the frozen graph")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, "resnet%d" % a.depth)(num_classes=a.classes).eval()
    x = torch.randn(a.batch, 3, a.size, a.size)
    setting = "eager"
    with torch.no_grad():
        if not a.eager:
            model = torch.jit.optimize_for_inference(torch.jit.trace(model, x))
            setting = "jit.trace + optimize_for_inference"
        times = []
        for s in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            model(x)
            t = time.perf_counter() - t0
            print("  batch %d: %.3f s" % (s, t), file=sys.stderr)
            if s >= a.warmup:
                times.append(t)
    med, best = statistics.median(times), min(times)
    g = a.gflop_per_image * a.batch
    line = ("pytorch %s resnet%d inference batch %d %dx%d, %d threads (%s): median %.3f s/batch = %.2f img/s "
            "(best %.2f img/s)" % (torch.__version__, a.depth, a.batch, a.size, a.size, a.threads, setting, med,
                                   a.batch / med, a.batch / best))
    if g:
        line += ", %.1f GFLOP/s" % (g / med)
        if a.peak:
            line += ", %.0f%% of %.0f GFLOP/s peak" % (100 * g / med / a.peak, a.peak)
    print(line)
    print("RESULT framework=pytorch mode=infer depth=%d batch=%d median_s=%.4f best_s=%.4f img_s=%.3f "
          "best_img_s=%.3f gflops=%.2f" % (a.depth, a.batch, med, best, a.batch / med, a.batch / best,
                                           g / med if g else 0.0))


if __name__ == "__main__":
    main()
