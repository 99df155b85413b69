#!/usr/bin/python3
"""The PyTorch side of bench/train: a torchvision ResNet training step in
PyTorch's fastest CPU fp32 setting for training (channels_last model and
input, so its convolutions and batch norms run on oneDNN's channels-last
kernels): forward, cross-entropy, backward, SGD (momentum 0.9, weight decay
1e-4), timed like bench_train. Prints one human line and one RESULT line.

  peer.py --depth 50 --batch 16 --size 224 --threads 2 --steps 5 --warmup 2
          [--classes 1000] [--gflop-per-image G] [--peak GFLOPS]
          [--contiguous]   (NCHW instead of channels_last)
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
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--gflop-per-image", type=float, default=0.0)
    ap.add_argument("--peak", type=float, default=0.0)
    ap.add_argument("--contiguous", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.contiguous_format if a.contiguous else torch.channels_last
    model = getattr(torchvision.models, "resnet%d" % a.depth)(num_classes=a.classes).train()
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    lossf = torch.nn.CrossEntropyLoss()
    x = torch.randn(a.batch, 3, a.size, a.size).contiguous(memory_format=fmt)
    y = torch.arange(a.batch) * 7919 % a.classes
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
        lv = loss.item()
        t = time.perf_counter() - t0
        print("  step %d: %.3f s, loss %.4f" % (s, t, lv), file=sys.stderr)
        if s >= a.warmup:
            times.append(t)
    med, best = statistics.median(times), min(times)
    g = a.gflop_per_image * a.batch
    setting = "channels_last" if not a.contiguous else "NCHW"
    line = ("pytorch %s resnet%d train batch %d %dx%d, %d threads (%s): median %.3f s/step = %.2f img/s "
            "(best %.2f img/s)" % (torch.__version__, a.depth, a.batch, a.size, a.size, a.threads, setting, med,
                                   a.batch / med, a.batch / best))
    if g:
        line += ", %.1f GFLOP/s" % (g / med)
        if a.peak:
            line += ", %.0f%% of %.0f GFLOP/s peak" % (100 * g / med / a.peak, a.peak)
    print(line)
    print("RESULT framework=pytorch mode=train depth=%d batch=%d median_s=%.4f best_s=%.4f img_s=%.3f "
          "best_img_s=%.3f gflops=%.2f" % (a.depth, a.batch, med, best, a.batch / med, a.batch / best,
                                           g / med if g else 0.0))


if __name__ == "__main__":
    main()
