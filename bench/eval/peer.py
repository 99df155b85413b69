#!/usr/bin/env python3
"""bench/eval/peer.py: the evaluation's metrics through pyeer and
scikit-learn (what the seed study used) and through aigtatt's C library on
the SAME scores, timed side by side, with every value compared.

    peer.py --bench BUILD/bench/bench_eval [--n 1000] [--dim 512] [--keep DIR]

N gallery identities with one image each and N probes (probe i a noisy
view of gallery identity i), 512-d Gaussian embeddings, float32 and
L2-normalised; the N x N cosine scores (computed by numpy in float32, as a
PyTorch pipeline would) are written as float64 files, and:

  * pyeer.eer_info.get_eer_stats(genuine, impostor): the FMR/FNMR curve,
    EER, FMR10/20/100/1000, ZeroFMR, ZeroFNMR, AUC, d', means, deviations;
  * sklearn.metrics.roc_curve (drop_intermediate) and auc;
  * pyeer.cmc_stats.get_cmc_curve, ranks 1..50, on candidate lists sorted
    per probe as pyeer's load_scores_from_file sorts them;

against `bench_eval scores DIR`, which runs bm_curve_build +
bm_verif_stats_compute, bm_roc_from_curve + bm_roc_auc, and bm_search_row
+ bm_cmc (pyeer's tie rule: gallery order) on the same files. Times cover
the metric calls only (no file I/O, no score generation); the C figures
are the best of 3 runs, the Python ones a single run (they take seconds).

Exit status: 0 when every value agrees to 1e-9 (they are expected to be
bit-identical), 1 otherwise, 3 when numpy/pyeer/scikit-learn are missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import numpy as np
    from pyeer.eer_info import get_eer_stats
    from pyeer.cmc_stats import get_cmc_curve
    from sklearn.metrics import auc, roc_curve
except ImportError as e:  # pragma: no cover
    sys.stderr.write("peer.py: %s\ninstall them with: python3 -m pip install pyeer "
                     "scikit-learn\n" % e)
    sys.exit(3)

warnings.simplefilter("ignore")
MAX_RANK = 50
TOL = 1e-9


def make_scores(n, dim, noise, seed):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((n, dim))
    g = (c + noise * rng.standard_normal((n, dim))).astype(np.float32)
    p = (c + noise * rng.standard_normal((n, dim))).astype(np.float32)

    def norm(x):
        return (x / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)

    S = (norm(p) @ norm(g).T).astype(np.float64)  # probes x gallery
    off = ~np.eye(n, dtype=bool)
    return S, np.ascontiguousarray(np.diag(S)), np.ascontiguousarray(S[off])


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t0


def pyeer_cmc(S):
    # pyeer's layout: {query: ([true templates], [(template, score), ...])},
    # candidates sorted by descending score (a stable sort, so ties keep
    # gallery order), as load_scores_from_file builds it.
    n_p, n_g = S.shape
    scores = {}
    for i in range(n_p):
        cands = [("g%d" % j, s) for j, s in enumerate(S[i].tolist())]
        cands.sort(key=lambda c: c[1], reverse=True)
        scores["q%d" % i] = (["g%d" % i], cands)
    return get_cmc_curve(scores, min(MAX_RANK, n_g))


class Compare:
    def __init__(self):
        self.n = self.same = 0
        self.worst = 0.0
        self.bad = []
        self.close = []  # within TOL but not bit-identical

    def one(self, name, a, b):
        a, b = float(a), float(b)
        self.n += 1
        if a == b or (np.isnan(a) and np.isnan(b)):
            self.same += 1
            return
        d = abs(a - b)
        self.worst = max(self.worst, d)
        if d <= TOL:
            self.close.append("%s (by %.3g)" % (name, d))
        else:
            self.bad.append("%s: C %.17g, reference %.17g" % (name, a, b))

    def array(self, name, a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape:
            self.n += 1
            self.bad.append("%s: %d values from C, %d from the reference" % (name, a.size, b.size))
            return
        self.n += a.size
        eq = (a == b) | (np.isnan(a) & np.isnan(b))
        self.same += int(eq.sum())
        if not eq.all():
            d = np.abs(a - b)[~eq]
            self.worst = max(self.worst, float(d.max()))
            if (d <= TOL).all():
                self.close.append("%s: %d values (by up to %.3g)" % (name, d.size, float(d.max())))
            else:
                self.bad.append("%s: %d values differ, the largest by %.3g" % (name, int((d > TOL).sum()),
                                                                                 float(d.max())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", required=True, help="the bench_eval program")
    ap.add_argument("--n", type=int, default=1000, help="gallery = probes (N^2 scores)")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--noise", type=float, default=2.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="keep the score files in this folder")
    a = ap.parse_args()

    tmp = a.keep or tempfile.mkdtemp(prefix="aigtatt-bench-eval.")
    os.makedirs(tmp, exist_ok=True)
    try:
        S, gen, imp = make_scores(a.n, a.dim, a.noise, a.seed)
        n = a.n
        gen.tofile(os.path.join(tmp, "gen.f64"))
        imp.tofile(os.path.join(tmp, "imp.f64"))
        S.tofile(os.path.join(tmp, "matrix.f64"))
        np.arange(n, dtype=np.int32).tofile(os.path.join(tmp, "plabel.i32"))
        np.arange(n, dtype=np.int32).tofile(os.path.join(tmp, "glabel.i32"))
        print("peer: %d x %d = %d scores (%d genuine, %d impostor), %d-d embeddings"
              % (n, n, n * n, gen.size, imp.size, a.dim), flush=True)

        st, t_eer = timed(lambda: get_eer_stats(gen, imp))
        y = np.concatenate([np.ones(gen.size), np.zeros(imp.size)])
        s = np.concatenate([gen, imp])

        def sk():
            fpr, tpr, thr = roc_curve(y, s)
            return fpr, tpr, thr, auc(fpr, tpr)
        (fpr, tpr, thr, sk_auc), t_sk = timed(sk)
        cmc, t_cmc = timed(lambda: pyeer_cmc(S))
        print("python: get_eer_stats %.3f s, roc_curve+auc %.3f s, get_cmc_curve %.3f s"
              % (t_eer, t_sk, t_cmc), flush=True)

        out = subprocess.run([a.bench, "scores", tmp, "--repeat", "3"], capture_output=True,
                             text=True)
        if out.returncode:
            sys.stderr.write(out.stdout + out.stderr)
            return 1
        sys.stdout.write(out.stdout)
        with open(os.path.join(tmp, "c_results.json")) as f:
            c = json.load(f)
        cv, ct = c["values"], c["seconds"]

        def load(name):
            return np.fromfile(os.path.join(tmp, name), dtype=np.float64)

        cmp = Compare()
        pairs = {"eer": st.eer, "eer_low": st.eer_low, "eer_high": st.eer_high,
                 "eer_thr": st.eer_th, "fmr10": st.fmr10, "fmr20": st.fmr20,
                 "fmr100": st.fmr100, "fmr1000": st.fmr1000, "zero_fmr": st.fmr0,
                 "fmr10_thr": st.fmr10_th, "fmr20_thr": st.fmr20_th,
                 "fmr100_thr": st.fmr100_th, "fmr1000_thr": st.fmr1000_th,
                 "zero_fmr_thr": st.fmr0_th, "zero_fnmr": st.fnmr0,
                 "zero_fnmr_thr": st.fnmr0_th, "auc_pyeer": st.auc, "gmean": st.gmean,
                 "gstd": st.gstd, "imean": st.imean, "istd": st.istd,
                 "decidability": st.decidability, "youden_j": st.j_index,
                 "youden_thr": st.j_index_th, "mcc": st.mccoef, "mcc_thr": st.mccoef_th,
                 "roc_auc": sk_auc}
        for k, v in pairs.items():
            cmp.one(k, cv[k], v)
        cmp.array("thresholds", load("c_thr.f64"), st.thrs)
        cmp.array("FMR curve", load("c_fmr.f64"), st.fmr)
        cmp.array("FNMR curve", load("c_fnmr.f64"), st.fnmr)
        cmp.array("ROC fpr", load("c_roc_fpr.f64"), fpr)
        cmp.array("ROC tpr", load("c_roc_tpr.f64"), tpr)
        cmp.array("ROC thresholds", load("c_roc_thr.f64"), thr)
        cmp.array("CMC", load("c_cmc.f64"), cmc)

        c_eer = ct["curve"] + ct["stats"]
        c_roc = ct["curve"] + ct["roc"]  # the C ROC starts from the sorted curve
        rows = [("EER curve + statistics", "pyeer get_eer_stats", t_eer, c_eer),
                ("ROC + AUC", "sklearn roc_curve + auc", t_sk, c_roc),
                ("CMC ranks 1..%d" % min(MAX_RANK, n), "pyeer get_cmc_curve", t_cmc, ct["cmc"])]
        py_all = t_eer + t_sk + t_cmc
        c_all = ct["curve"] + ct["stats"] + ct["roc"] + ct["cmc"]
        print()
        print("%-24s %-26s %12s %12s %10s" % ("metrics", "reference", "reference s", "C s",
                                              "speed-up"))
        for name, ref, tp, tc in rows:
            print("%-24s %-26s %12.4f %12.5f %9.0fx" % (name, ref, tp, tc, tp / tc))
        print("%-24s %-26s %12.4f %12.5f %9.0fx" % ("all of the above", "", py_all, c_all,
                                                     py_all / c_all))
        print()
        print("values: %d compared (%d scalars, curves, ROC, CMC), %d bit-identical, largest "
              "difference %.3g" % (cmp.n, len(pairs), cmp.same, cmp.worst))
        print("target >= 20x faster than pyeer on the same scores: %s (EER %.0fx, CMC %.0fx)"
              % ("met" if min(t_eer / c_eer, t_cmc / ct["cmc"]) >= 20 else "NOT met",
                 t_eer / c_eer, t_cmc / ct["cmc"]))
        if cmp.close:
            print("not bit-identical, within %g: %s" % (TOL, "; ".join(cmp.close)))
        if cmp.bad:
            print("MISMATCH:\n  " + "\n  ".join(cmp.bad))
            return 1
        print("all values identical to pyeer / scikit-learn within %g" % TOL)
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
