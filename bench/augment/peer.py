#!/usr/bin/env python3
"""The Python peers of bench_augment: the same ops at the same size with
albumentations and with OpenCV (+NumPy) written by hand, timed the same way.

    peer.py --input PNG [--min-time S] [--ops a,b,...] [--jobs N]
            [--pipeline-images N] [--tsv FILE]

Timing protocol (as bench_augment.c): per op, 3 untimed warm-up calls, then
calls until --min-time seconds of the process's CPU time passed (at least
5); each call samples new values. The pipeline rows use wall time. One thread: cv2.setNumThreads(1) and the BLAS/OpenMP variables set
to 1 before NumPy loads. The pipeline row runs an albumentations Compose of
the ops both libraries have from configs/quickstart.yaml's list (same
order and probabilities) in a multiprocessing pool of --jobs workers.

TSV lines: "<library>\t<op>\t<img/s>" (library: albumentations or opencv).
The op parameters mirror the OPS table of bench_augment.c; where the two
libraries' semantics differ from aigtatt's, the NOTES below say how.
"""
import argparse
import math
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
import albumentations as A  # noqa: E402

cv2.setNumThreads(1)
REPL = cv2.BORDER_REPLICATE  # aigtatt's border: edge
LIN = cv2.INTER_LINEAR

# Differences from the aigtatt op, shown under the table by run.sh.
NOTES = {
    "perspective": "albumentations: corner offsets ~ |N(0, 0.05)| and a resize back (keep_size); "
    "aigtatt/OpenCV: uniform +-8% per corner",
    "aspect": "albumentations: Affine with independent x/y scale in [0.894, 1.118] "
    "(aigtatt couples them to keep the area)",
    "elastic": "albumentations: Gaussian-smoothed random field (sigma 50); "
    "aigtatt/OpenCV: 4x4-cell smooth value noise + remap",
    "contrast": "albumentations: RandomBrightnessContrast contrast only",
    "hue": "albumentations/OpenCV: HSV hue shift of +-8 units (+-16 deg); aigtatt: RGB hue rotation +-15 deg",
    "saturation": "albumentations/OpenCV: HSV saturation shift of +-30; aigtatt: blend with luma x0.6..1.4",
    "temperature": "albumentations: PlanckianJitter (black-body curve); aigtatt/OpenCV: per-channel gains",
    "illumination": "albumentations: Illumination(linear, darken 0.1..0.2, its maximum); aigtatt: 0.1..0.5",
    "motion_blur": "albumentations/OpenCV: line kernel 3..13 px + filter2D; aigtatt: mean of bilinear samples",
    "sensor_noise": "albumentations: ISONoise (HLS colour + luminance noise); "
    "OpenCV/NumPy: aigtatt's shot+read formula",
    "occlusion": "albumentations: CoarseDropout 1..2 holes of 10-35% per side, random colour",
}


def alb(t):
    return lambda img: t(image=img)["image"]


# ---- albumentations ---------------------------------------------------------


def albumentations_ops():
    return {
        "rotate": alb(A.Rotate(limit=15, interpolation=LIN, border_mode=REPL, p=1)),
        "scale": alb(A.Affine(scale=(0.8, 1.2), interpolation=LIN, border_mode=REPL, p=1)),
        "translate": alb(A.Affine(translate_percent=(-0.1, 0.1), interpolation=LIN, border_mode=REPL, p=1)),
        "shear": alb(A.Affine(shear={"x": (-10, 10), "y": (-10, 10)}, interpolation=LIN, border_mode=REPL, p=1)),
        "perspective": alb(A.Perspective(scale=(0.05, 0.05), keep_size=True, interpolation=LIN,
                                         border_mode=REPL, p=1)),
        "aspect": alb(A.Affine(scale={"x": (0.894, 1.118), "y": (0.894, 1.118)}, keep_ratio=False,
                               interpolation=LIN, border_mode=REPL, p=1)),
        "flip": alb(A.HorizontalFlip(p=1)),
        "elastic": alb(A.ElasticTransform(alpha=1000, sigma=50, interpolation=LIN, border_mode=REPL, p=1)),
        "brightness": alb(A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0,
                                                     brightness_by_max=True, p=1)),
        "contrast": alb(A.RandomBrightnessContrast(brightness_limit=0, contrast_limit=(-0.3, 0.4), p=1)),
        "gamma": alb(A.RandomGamma(gamma_limit=(70, 150), p=1)),
        "hue": alb(A.HueSaturationValue(hue_shift_limit=8, sat_shift_limit=0, val_shift_limit=0, p=1)),
        "saturation": alb(A.HueSaturationValue(hue_shift_limit=0, sat_shift_limit=30, val_shift_limit=0, p=1)),
        "temperature": alb(A.PlanckianJitter(mode="blackbody", p=1)),
        "illumination": alb(A.Illumination(mode="linear", intensity_range=(0.1, 0.2), effect_type="darken", p=1)),
        "gaussian_blur": alb(A.GaussianBlur(blur_limit=0, sigma_limit=(0.3, 2.0), p=1)),
        "motion_blur": alb(A.MotionBlur(blur_limit=(3, 13), allow_shifted=False, p=1)),
        "gaussian_noise": alb(A.GaussNoise(std_range=(2 / 255, 10 / 255), mean_range=(0, 0), per_channel=True, p=1)),
        "sensor_noise": alb(A.ISONoise(p=1)),
        "jpeg": alb(A.ImageCompression(compression_type="jpeg", quality_range=(30, 90), p=1)),
        "downscale": alb(A.Downscale(scale_range=(0.25, 0.75),
                                     interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": LIN}, p=1)),
        "occlusion": alb(A.CoarseDropout(num_holes_range=(1, 2), hole_height_range=(0.1, 0.35),
                                         hole_width_range=(0.1, 0.35), fill="random_uniform", p=1)),
    }


def albumentations_pipeline():
    """configs/quickstart.yaml's list without skin and curvature (no peer)."""
    return A.Compose([
        A.Rotate(limit=15, interpolation=LIN, border_mode=REPL, p=0.7),
        A.Affine(scale=(0.85, 1.15), interpolation=LIN, border_mode=REPL, p=0.5),
        A.Perspective(scale=(0.04, 0.04), keep_size=True, border_mode=REPL, p=0.3),
        A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0, p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0, contrast_limit=(-0.3, 0.4), p=0.5),
        A.PlanckianJitter(p=0.3),
        A.Illumination(mode="linear", intensity_range=(0.1, 0.2), effect_type="darken", p=0.3),
        A.GaussianBlur(blur_limit=0, sigma_limit=(0.3, 1.5), p=0.3),
        A.ISONoise(p=0.4),
        A.ImageCompression(compression_type="jpeg", quality_range=(40, 90), p=0.4),
    ])


# ---- OpenCV (+NumPy) by hand ------------------------------------------------

RNG = np.random.default_rng(1)


def U(lo, hi):
    return float(RNG.uniform(lo, hi))


def logU(lo, hi):
    return math.exp(U(math.log(lo), math.log(hi)))


def affine_about_centre(img, a, b, c, d):
    h, w = img.shape[:2]
    cx, cy = w / 2, h / 2
    M = np.array([[a, b, cx - a * cx - b * cy], [c, d, cy - c * cx - d * cy]], np.float64)
    return cv2.warpAffine(img, M, (w, h), flags=LIN, borderMode=REPL)


def cv_rotate(img):
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), U(-15, 15), 1.0)
    return cv2.warpAffine(img, M, (w, h), flags=LIN, borderMode=REPL)


def cv_scale(img):
    s = logU(0.8, 1.2)
    return affine_about_centre(img, s, 0, 0, s)


def cv_translate(img):
    h, w = img.shape[:2]
    M = np.float64([[1, 0, U(-0.1, 0.1) * w], [0, 1, U(-0.1, 0.1) * h]])
    return cv2.warpAffine(img, M, (w, h), flags=LIN, borderMode=REPL)


def cv_shear(img):
    sx, sy = math.tan(math.radians(U(-10, 10))), math.tan(math.radians(U(-10, 10)))
    return affine_about_centre(img, 1, sx, sy, 1)


def cv_perspective(img):
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[U(-0.08, 0.08) * w, U(-0.08, 0.08) * h] for _ in range(4)])
    return cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), flags=LIN, borderMode=REPL)


def cv_aspect(img):
    r = math.sqrt(logU(0.8, 1.25))
    return affine_about_centre(img, r, 0, 0, 1 / r)


def cv_flip(img):
    return cv2.flip(img, 1)


def cv_elastic(img):
    h, w = img.shape[:2]
    alpha = U(0, 0.02) * max(w, h)
    grid = RNG.uniform(-1, 1, (2, 6, 6)).astype(np.float32)
    dx = cv2.resize(grid[0], (w, h), interpolation=cv2.INTER_CUBIC) * alpha
    dy = cv2.resize(grid[1], (w, h), interpolation=cv2.INTER_CUBIC) * alpha
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, xs + dx, ys + dy, LIN, borderMode=REPL)


def cv_curvature(img):
    h, w = img.shape[:2]
    k = U(0.2, 0.7)
    shade = U(0, 0.3)
    half = w / 2
    R = half / k
    u = np.arange(w, dtype=np.float64) + 0.5 - half
    s = R * np.arcsin(np.clip(u / R, -1, 1)) * (k / math.asin(k))
    mx = np.broadcast_to((half + s - 0.5).astype(np.float32), (h, w))
    my = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    out = cv2.remap(img, np.ascontiguousarray(mx), np.ascontiguousarray(my), LIN, borderMode=REPL)
    g = (1 - shade * (1 - np.sqrt(np.maximum(0, 1 - (u / R) ** 2)))).astype(np.float32)
    return cv2.multiply(out, np.broadcast_to(g[None, :, None], out.shape).astype(np.float32), dtype=cv2.CV_8U)


def lut(img, table):
    return cv2.LUT(img, np.clip(table, 0, 255).round().astype(np.uint8))


V = np.arange(256, dtype=np.float64)


def cv_brightness(img):
    return lut(img, V + U(-0.2, 0.2) * 255)


def cv_contrast(img):
    f = logU(0.7, 1.4)
    m = cv2.mean(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))[0]
    return lut(img, m + f * (V - m))


def cv_gamma(img):
    return lut(img, 255 * (V / 255) ** logU(0.7, 1.5))


def cv_hsv_shift(img, dh, ds):
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    h, s, v = cv2.split(hsv)
    if dh:
        h = cv2.LUT(h, ((np.arange(256) + dh) % 180).astype(np.uint8))
    if ds:
        s = lut(s, V + ds)
    return cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2RGB)


def cv_hue(img):
    return cv_hsv_shift(img, int(round(U(-8, 8))), 0)


def cv_saturation(img):
    return cv_hsv_shift(img, 0, U(-30, 30))


def cv_temperature(img):
    t = U(-0.12, 0.12)
    return cv2.transform(img, np.float32([[1 + t, 0, 0], [0, 1 + 0.1 * t, 0], [0, 0, 1 - t]]))


def cv_illumination(img):
    h, w = img.shape[:2]
    s, a = U(0.1, 0.5), math.radians(U(0, 360))
    dx, dy = math.cos(a), math.sin(a)
    xs = (np.arange(w, dtype=np.float32) + 0.5) * dx
    ys = (np.arange(h, dtype=np.float32) + 0.5) * dy
    ramp = xs[None, :] + ys[:, None]
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    g = 1 - s * ramp
    return cv2.multiply(img, cv2.merge([g, g, g]), dtype=cv2.CV_8U)


def cv_gaussian_blur(img):
    return cv2.GaussianBlur(img, (0, 0), U(0.3, 2.0))


def cv_motion_blur(img):
    n = int(round(U(3, 12))) | 1
    k = np.zeros((n, n), np.float32)
    a = math.radians(U(0, 180))
    c = (n - 1) / 2
    p0 = (int(round(c - c * math.cos(a))), int(round(c - c * math.sin(a))))
    p1 = (int(round(c + c * math.cos(a))), int(round(c + c * math.sin(a))))
    cv2.line(k, p0, p1, 1.0, 1)
    return cv2.filter2D(img, -1, k / k.sum())


def cv_gaussian_noise(img):
    noise = np.empty(img.shape, np.float32)
    cv2.randn(noise, 0, U(2, 10))
    return cv2.add(img, noise, dtype=cv2.CV_8U)


def cv_sensor_noise(img):
    shot, read, chroma = U(0, 12), U(0, 4), 0.4
    f = img.astype(np.float32)
    sd = np.sqrt(shot * shot * f / 255 + read * read)
    shared = RNG.standard_normal(img.shape[:2], dtype=np.float32)[:, :, None]
    per = RNG.standard_normal(img.shape, dtype=np.float32)
    n = math.sqrt(chroma) * per + math.sqrt(1 - chroma) * shared
    return cv2.add(f, sd * n, dtype=cv2.CV_8U)


def cv_jpeg(img):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(RNG.integers(30, 91))])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def cv_downscale(img):
    h, w = img.shape[:2]
    f = U(0.25, 0.75)
    small = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=LIN)


def cv_occlusion(img):
    out = img.copy()
    h, w = img.shape[:2]
    for _ in range(int(RNG.integers(1, 3))):
        area = U(0.02, 0.1) * w * h
        asp = logU(1 / 3, 3)
        rw, rh = math.sqrt(area * asp), math.sqrt(area / asp)
        cx, cy = U(0, w), U(0, h)
        x0, x1 = max(0, int(cx - rw / 2)), min(w, int(math.ceil(cx + rw / 2)))
        y0, y1 = max(0, int(cy - rh / 2)), min(h, int(math.ceil(cy + rh / 2)))
        out[y0:y1, x0:x1] = RNG.integers(0, 256, 3, dtype=np.uint8)
    return out


OPENCV_OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("cv_") and callable(fn)}
OPENCV_OPS.pop("hsv_shift")

# ---- timing -------------------------------------------------------------------


def time_op(fn, img, min_time):
    """Images per CPU second of the process (time.process_time: all its threads), as
    bench_augment.c counts: other work on the machine does not count."""
    for _ in range(3):
        fn(img)
    n = 0
    t0 = time.process_time()
    while True:
        fn(img)
        n += 1
        t = time.process_time()
        if n >= 5 and t - t0 >= min_time:
            return n / (t - t0)


_PIPE = None
_IMG = None


def _pipe_init(path):
    global _PIPE, _IMG
    cv2.setNumThreads(1)
    _PIPE = albumentations_pipeline()
    _IMG = load(path)


def _pipe_run(n):
    for _ in range(n):
        _PIPE(image=_IMG)
    return n


def time_pipeline(path, jobs, n):
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(jobs, initializer=_pipe_init, initargs=(path,)) as pool:
        pool.map(_pipe_run, [2] * jobs)  # warm-up
        chunk = 4
        t0 = time.perf_counter()
        pool.map(_pipe_run, [chunk] * max(1, n // chunk), chunksize=1)
        return (max(1, n // chunk) * chunk) / (time.perf_counter() - t0)


def load(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit(f"peer.py: cannot read {path}")
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--ops")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--pipeline-images", type=int, default=0)
    ap.add_argument("--tsv")
    args = ap.parse_args()
    want = set(args.ops.split(",")) if args.ops else None
    img = load(args.input)
    rows = []
    alb_ops = albumentations_ops()
    print(f"albumentations {A.__version__}, OpenCV {cv2.__version__}, NumPy {np.__version__}; "
          f"{img.shape[1]}x{img.shape[0]} RGB, one thread (img/s)")
    order = list(OPENCV_OPS)
    for op in order:
        if want and op not in want:
            continue
        a = time_op(alb_ops[op], img, args.min_time) if op in alb_ops else None
        o = time_op(OPENCV_OPS[op], img, args.min_time)
        rows.append(("albumentations", op, a))
        rows.append(("opencv", op, o))
        print(f"  {op:16s} {a if a else float('nan'):10.1f} {o:10.1f}", flush=True)
    if not want or "pipeline" in want:
        pipe = albumentations_pipeline()
        one = time_op(lambda im: pipe(image=im), img, 0.5)
        n = args.pipeline_images or max(16, int(one * args.min_time * 3 * args.jobs))
        r1 = time_pipeline(args.input, 1, max(8, n // args.jobs))
        rn = time_pipeline(args.input, args.jobs, n)
        rows.append(("albumentations", "pipeline:1", r1))
        rows.append(("albumentations", "pipeline:N", rn))
        print(f"albumentations pipeline (quickstart ops both have): 1 process {r1:.1f}, "
              f"{args.jobs} processes {rn:.1f} img/s")
    if args.tsv:
        with open(args.tsv, "w") as f:
            for lib, op, v in rows:
                if v is not None:
                    f.write(f"{lib}\t{op}\t{v:.3f}\n")


if __name__ == "__main__":
    main()
