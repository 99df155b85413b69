#!/usr/bin/env python3
"""Reference values for tests/eval/test_metrics.c, computed with pyeer and
scikit-learn (the libraries the seed study used), so that the C metrics are
checked against them rather than against themselves.

Usage: ref_metrics.py CASES.json OUTDIR

CASES.json is a list of cases written by the C test; every array travels as
a raw little-endian file (float64 scores, int32 labels, int64 indices). For
each case NAME the script writes OUTDIR/NAME.json (scalars; floats keep all
17 digits through json's repr) and OUTDIR/NAME.<array>.f64 for curves.

Needs: numpy, pyeer, scikit-learn (pip install pyeer scikit-learn). A
missing package is an error (exit status 3), never a skip.
"""
import importlib.util
import json
import os
import sys
import warnings

REQUIRED = ("numpy", "pyeer", "sklearn")
PIP_HINT = ("Install them into the interpreter named by AIGTATT_PYTHON with:\n"
            "    python3 -m pip install pyeer scikit-learn\n")


def die_import(err):
    sys.stderr.write("ref_metrics.py: cannot import the reference libraries (%s).\n%s"
                     % (err, PIP_HINT))
    sys.exit(3)


# Check every package up front (cheaply: scikit-learn takes seconds to
# import), and import the heavy modules only in the cases that need them.
if os.environ.get("AIGTATT_REF_FORCE_IMPORT_ERROR"):
    die_import("forced by AIGTATT_REF_FORCE_IMPORT_ERROR")
for _mod in REQUIRED:
    if importlib.util.find_spec(_mod) is None:
        die_import("no module named '%s'" % _mod)
try:
    import numpy as np
    from pyeer.eer_stats import calculate_roc, get_eer_values, get_fmr_op
    from pyeer.cmc_stats import get_cmc_curve
except ImportError as e:
    die_import(e)


def sklearn_metrics():
    try:
        import sklearn.metrics
        return sklearn.metrics
    except ImportError as e:
        die_import(e)


warnings.simplefilter("ignore")  # pyeer warns on reversed polarity; expected

OPS = [0.1, 0.05, 0.01, 0.001, 0.0]


def load(path, dtype):
    return np.fromfile(path, dtype=dtype)


def save(outdir, name, key, arr):
    np.asarray(arr, dtype=np.float64).tofile(os.path.join(outdir, "%s.%s.f64" % (name, key)))


def eer_interp(fmr, fnmr):
    """Crossing of the piecewise-linear DET curve with FMR == FNMR, on the
    curve closed by (FMR 0, FNMR 1); written independently of the C code."""
    f = np.concatenate([fmr, [0.0]])
    r = np.concatenate([fnmr, [1.0]])
    d = f - r
    k = int(np.nonzero(d <= 0)[0][0])
    if d[k] == 0 or k == 0:
        return float((f[k] + r[k]) / 2) if k == 0 else float(f[k])
    a = d[k - 1] / (d[k - 1] - d[k])
    return float(f[k - 1] + a * (f[k] - f[k - 1]))


def fnmr_at_fmr_le(fmr, fnmr, op):
    idx = np.nonzero(fmr <= op)[0]
    return float(fnmr[idx[0]]) if len(idx) else 1.0


def verif(case, outdir):
    name = case["name"]
    gen = load(case["gen"], np.float64)
    imp = load(case["imp"], np.float64)
    ds = case["polarity"] == "distance"
    try:
        from pyeer.eer_info import get_eer_stats
    except ImportError as e:
        die_import(e)
    skm = sklearn_metrics()
    st = get_eer_stats(gen, imp, ds_scores=ds)
    res = {
        "eer": st.eer, "eer_low": st.eer_low, "eer_high": st.eer_high,
        "eer_thr": st.eer_th,
        "fmr10": st.fmr10, "fmr20": st.fmr20, "fmr100": st.fmr100,
        "fmr1000": st.fmr1000, "zero_fmr": st.fmr0,
        "fmr10_thr": st.fmr10_th, "fmr20_thr": st.fmr20_th,
        "fmr100_thr": st.fmr100_th, "fmr1000_thr": st.fmr1000_th,
        "zero_fmr_thr": st.fmr0_th,
        "zero_fnmr": st.fnmr0, "zero_fnmr_thr": st.fnmr0_th,
        "auc_pyeer": st.auc, "gmean": st.gmean, "gstd": st.gstd,
        "imean": st.imean, "istd": st.istd, "decidability": st.decidability,
        "youden_j": st.j_index, "youden_thr": st.j_index_th,
        "mcc": st.mccoef, "mcc_thr": st.mccoef_th,
        "eer_interp": eer_interp(st.fmr, st.fnmr),
    }
    for o, op in enumerate(OPS):
        res["fnmr_at_fmr_le_%d" % o] = fnmr_at_fmr_le(st.fmr, st.fnmr, op)
    save(outdir, name, "thr", st.thrs)
    save(outdir, name, "fmr", st.fmr)
    save(outdir, name, "fnmr", st.fnmr)

    # scikit-learn: genuine is the positive class; distances are negated
    # so that a higher value means "more genuine".
    y = np.concatenate([np.ones(len(gen)), np.zeros(len(imp))])
    s = np.concatenate([gen, imp])
    sign = -1.0 if ds else 1.0
    for drop in (True, False):
        fpr, tpr, thr = skm.roc_curve(y, sign * s, drop_intermediate=drop)
        tag = "roc_drop" if drop else "roc_all"
        save(outdir, name, tag + "_fpr", fpr)
        save(outdir, name, tag + "_tpr", tpr)
        save(outdir, name, tag + "_thr", sign * thr)
        res[tag + "_auc"] = float(skm.auc(fpr, tpr))
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(res, f)


def searches(case):
    """Mate score, pessimistic image-level rank and best non-mate score of
    every probe, straight from the definition."""
    g = load(case["glabel"], np.int32)
    p = load(case["plabel"], np.int32)
    S = load(case["scores"], np.float64).reshape(len(p), len(g))
    out = []
    for i in range(len(p)):
        mate = g == p[i]
        nm = S[i][~mate]
        best_nm = float(nm.max()) if len(nm) else -np.inf
        if mate.any():
            m = float(S[i][mate].max())
            out.append((m, 1 + int((nm >= m).sum()), best_nm))
        else:
            out.append((-np.inf, 0, best_nm))
    return out


def openset(case, outdir):
    name = case["name"]
    R = int(case["max_rank"])
    srch = searches(case)
    mated = [s for s in srch if s[1] > 0]
    nonmated = np.array([s[2] for s in srch if s[1] == 0])
    found = np.array([s[0] for s in mated if s[1] <= R])
    misses = len(mated) - len(found)
    # pyeer's curve on the found mates, then every miss added as a false
    # negative at every threshold (ISO/IEC 19795-1: found only at rank <= R
    # with score >= T).
    thr, fm, fnm = calculate_roc(found, nonmated, rates=False)
    fpir = fm / len(nonmated)
    fnir = (fnm + misses) / len(mated)
    # Cross-check the curve against the plain definition at each threshold.
    for k in range(0, len(thr), max(1, len(thr) // 50)):
        T = thr[k]
        assert fpir[k] == (nonmated >= T).sum() / len(nonmated)
        assert fnir[k] == (len(mated) - (found >= T).sum()) / len(mated)
    ind, low, high, eer = get_eer_values(fpir, fnir)
    res = {"eer": eer, "eer_low": low, "eer_high": high, "eer_thr": thr[ind],
           "eer_interp": eer_interp(fpir, fnir), "n_found": len(found),
           "n_mated": len(mated), "n_nonmated": len(nonmated)}
    for o, op in enumerate(OPS):
        i, v = get_fmr_op(fpir, fnir, op)
        res["fnir_at_fpir_%d" % o] = v
        res["fnir_at_fpir_thr_%d" % o] = thr[i]
        res["fnir_at_fpir_le_%d" % o] = fnmr_at_fmr_le(fpir, fnir, op)
    save(outdir, name, "thr", thr)
    save(outdir, name, "fpir", fpir)
    save(outdir, name, "fnir", fnir)
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(res, f)


def cmc_pyeer(case, outdir):
    """pyeer's CMC (stable descending sort: ties keep gallery order); valid
    for one mated gallery image per probe, where pyeer counts searches."""
    name = case["name"]
    g = load(case["glabel"], np.int32)
    p = load(case["plabel"], np.int32)
    S = load(case["scores"], np.float64).reshape(len(p), len(g))
    scores = {}
    for i in range(len(p)):
        cands = [("g%d" % j, float(S[i, j])) for j in range(len(g))]
        cands.sort(key=lambda c: c[1], reverse=True)
        true = ["g%d" % j for j in range(len(g)) if g[j] == p[i]]
        scores["q%d" % i] = (true, cands)
    save(outdir, name, "cmc", get_cmc_curve(scores, int(case["max_rank"])))
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump({}, f)


def ap(case, outdir):
    name = case["name"]
    g = load(case["glabel"], np.int32)
    p = load(case["plabel"], np.int32)
    ex = load(case["excl"], np.int64)
    S = load(case["scores"], np.float64).reshape(len(p), len(g))
    average_precision_score = sklearn_metrics().average_precision_score
    aps = []
    for i in range(len(p)):
        keep = np.ones(len(g), bool)
        if ex[i] >= 0:
            keep[ex[i]] = False
        y = (g == p[i])[keep]
        aps.append(average_precision_score(y, S[i][keep]) if y.any() else np.nan)
    save(outdir, name, "ap", aps)
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump({"map": float(np.nanmean(aps))}, f)


def export_matrix(case, outdir):
    """Writes a float64 matrix in the layouts the embedding readers accept:
    numpy's own .npy writer (float32, float64, big-endian, Fortran order)
    and safetensors written from its published layout (8-byte little-endian
    header length, JSON header, little-endian data)."""
    name = case["name"]
    X = load(case["matrix"], np.float64).reshape(int(case["rows"]), int(case["cols"]))
    base = os.path.join(outdir, name)
    np.save(base + ".f4.npy", X.astype("<f4"))
    np.save(base + ".f8.npy", X.astype("<f8"))
    np.save(base + ".be.npy", X.astype(">f4"))
    np.save(base + ".fortran.npy", np.asfortranarray(X.astype("<f4")))
    for dt, np_dt in (("F32", "<f4"), ("F64", "<f8"), ("F16", "<f2")):
        data = X.astype(np_dt).tobytes()
        hdr = {"__metadata__": {"format": "pt"}, "other": {"dtype": "F32", "shape": [2],
               "data_offsets": [0, 8]},
               "embeddings": {"dtype": dt, "shape": list(X.shape),
                              "data_offsets": [8, 8 + len(data)]}}
        h = json.dumps(hdr).encode()
        h += b" " * (-len(h) % 8)
        with open(base + "." + dt + ".safetensors", "wb") as f:
            f.write(len(h).to_bytes(8, "little") + h + b"\0" * 8 + data)
    with open(base + ".json", "w") as f:
        json.dump({}, f)


def cosine_eer(case, outdir):
    """pyeer on cosine similarities computed by numpy from an embeddings
    CSV (float32, L2-normalised), all same-identity pairs as genuine and
    all cross-identity pairs as impostors."""
    try:
        from pyeer.eer_info import get_eer_stats
    except ImportError as e:
        die_import(e)
    labels, rows = [], []
    with open(case["csv"]) as f:
        next(f)
        for line in f:
            parts = line.strip().split(",")
            labels.append(parts[1])
            rows.append([float(v) for v in parts[2:]])
    X = np.array(rows, dtype=np.float32)
    X = (X / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)
    S = (X @ X.T).astype(np.float64)
    lab = np.array(labels)
    iu = np.triu_indices(len(lab), 1)
    same = lab[iu[0]] == lab[iu[1]]
    st = get_eer_stats(S[iu][same], S[iu][~same])
    with open(os.path.join(outdir, case["name"] + ".json"), "w") as f:
        json.dump({"eer": st.eer, "fmr100": st.fmr100, "fmr10": st.fmr10,
                   "n_gen": int(same.sum()), "n_imp": int((~same).sum())}, f)


KINDS = {"verif": verif, "export_matrix": export_matrix, "cosine_eer": cosine_eer, "openset": openset, "cmc_pyeer": cmc_pyeer, "ap": ap}


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: ref_metrics.py CASES.json OUTDIR\n")
        return 2
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    for case in cases:
        KINDS[case["kind"]](case, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
