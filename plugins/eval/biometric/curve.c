/* pyeer's error curves and the statistics it derives from them
 * (eer_stats.py: calculate_roc, get_eer_values, get_fmr_op, get_fnmr_op,
 * calculate_roc_auc, get_youden_index, get_matthews_ccoef), written from
 * their definitions. Every floating-point expression is evaluated in the
 * order numpy evaluates pyeer's, so results are bit-identical. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double bm_fmr_ops[BM_N_OPS] = {0.1, 0.05, 0.01, 0.001, 0.0};

void bm_curve_free(bm_curve *c)
{
    if (!c)
        return;
    free(c->thr);
    free(c->fm);
    free(c->fnm);
    memset(c, 0, sizeof *c);
}

/* A sorted copy, negated for distances so that one walk serves both. */
static double *sorted_copy(const double *a, size_t n, int negate)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = negate ? -a[i] : a[i];
    if (bm_sort_doubles(s, n) != BM_OK) {
        free(s);
        return NULL;
    }
    return s;
}

int bm_curve_build(const double *gen, size_t n_gen, const double *imp, size_t n_imp,
                   uint64_t gen_misses, bm_polarity pol, bm_curve *out)
{
    memset(out, 0, sizeof *out);
    if (n_imp == 0 || n_gen + gen_misses == 0 || (n_gen && !gen) || !imp)
        return BM_ERR_INVALID;
    if (bm_first_nonfinite(gen, n_gen) < n_gen || bm_first_nonfinite(imp, n_imp) < n_imp)
        return BM_ERR_INVALID;
    int neg = pol == BM_DISTANCE;
    double *g = sorted_copy(gen, n_gen, neg), *im = sorted_copy(imp, n_imp, neg);
    size_t cap = n_gen + n_imp;
    out->thr = malloc(cap * sizeof *out->thr);
    out->fm = malloc(cap * sizeof *out->fm);
    out->fnm = malloc(cap * sizeof *out->fnm);
    if (!g || !im || !out->thr || !out->fm || !out->fnm) {
        free(g);
        free(im);
        bm_curve_free(out);
        return BM_ERR_NOMEM;
    }
    /* Walk the union of distinct values ascending. Before value t, i
     * genuine and j impostor scores lie strictly below t: those genuines
     * are rejected, the other impostors accepted (score >= t). */
    size_t i = 0, j = 0, k = 0;
    while (i < n_gen || j < n_imp) {
        double t;
        if (i == n_gen)
            t = im[j];
        else if (j == n_imp)
            t = g[i];
        else
            t = g[i] < im[j] ? g[i] : im[j];
        out->thr[k] = neg ? -t : t;
        out->fnm[k] = (uint64_t)i + gen_misses;
        out->fm[k] = (uint64_t)(n_imp - j);
        k++;
        /* == also merges -0.0 with +0.0, as np.unique does. */
        while (i < n_gen && g[i] == t)
            i++;
        while (j < n_imp && im[j] == t)
            j++;
    }
    free(g);
    free(im);
    /* Give back what distinct values did not use (ties are common). */
    if (k < cap) {
        double *t2 = realloc(out->thr, (k ? k : 1) * sizeof *t2);
        uint64_t *f2 = realloc(out->fm, (k ? k : 1) * sizeof *f2);
        uint64_t *n2 = realloc(out->fnm, (k ? k : 1) * sizeof *n2);
        out->thr = t2 ? t2 : out->thr;
        out->fm = f2 ? f2 : out->fm;
        out->fnm = n2 ? n2 : out->fnm;
    }
    out->n = k;
    out->n_gen = (uint64_t)n_gen + gen_misses;
    out->n_imp = n_imp;
    out->polarity = pol;
    return BM_OK;
}

void bm_curve_eer(const bm_curve *c, bm_eer *out)
{
    memset(out, 0, sizeof *out);
    size_t t2 = c->n;
    for (size_t k = 0; k < c->n; k++)
        if (bm_fmr(c, k) - bm_fnmr(c, k) <= 0) {
            t2 = k;
            break;
        }
    if (t2 == c->n) {
        /* pyeer's "curves do not intersect" answer. */
        out->eer = out->eer_low = out->eer_high = 1.0;
        out->eer_index = 0;
    } else {
        size_t t1 = (bm_fmr(c, t2) - bm_fnmr(c, t2) != 0 && t2 != 0) ? t2 - 1 : t2;
        double f1 = bm_fmr(c, t1), n1 = bm_fnmr(c, t1);
        double f2 = bm_fmr(c, t2), n2 = bm_fnmr(c, t2);
        if (f1 + n1 <= f2 + n2) {
            out->eer_index = t1;
            out->eer_low = n1;
            out->eer_high = f1;
            out->eer = (n1 + f1) / 2;
        } else {
            out->eer_index = t2;
            out->eer_low = f2;
            out->eer_high = n2;
            out->eer = (n2 + f2) / 2;
        }
    }
    out->eer_thr = c->thr[out->eer_index];

    /* Interpolated crossing on the curve closed by (FMR 0, FNMR 1). */
    double dprev = 0, fprev = 0;
    for (size_t k = 0; k <= c->n; k++) {
        double f = k < c->n ? bm_fmr(c, k) : 0.0;
        double r = k < c->n ? bm_fnmr(c, k) : 1.0;
        double d = f - r;
        if (d <= 0) {
            if (d == 0 || k == 0) {
                out->eer_interp = k == 0 ? (f + r) / 2 : f;
            } else {
                double a = dprev / (dprev - d);
                out->eer_interp = fprev + a * (f - fprev);
            }
            break;
        }
        dprev = d;
        fprev = f;
    }
}

size_t bm_curve_fmr_op(const bm_curve *c, double op)
{
    size_t best = 0;
    double bv = INFINITY;
    for (size_t k = 0; k < c->n; k++) {
        double v = fabs(bm_fmr(c, k) - op);
        if (v < bv) {
            bv = v;
            best = k;
        }
    }
    return best;
}

size_t bm_curve_fmr_le(const bm_curve *c, double op)
{
    /* FMR never increases with the index, so the first hit is the lowest
     * threshold, where FNMR is smallest. */
    for (size_t k = 0; k < c->n; k++)
        if (bm_fmr(c, k) <= op)
            return k;
    return c->n;
}

double bm_curve_auc_pyeer(const bm_curve *c, double *scratch)
{
    if (c->n < 2)
        return 0.0;
    double *t = scratch ? scratch : malloc((c->n - 1) * sizeof *t);
    if (!t)
        return NAN;
    for (size_t k = 0; k + 1 < c->n; k++) {
        double x1 = bm_fmr(c, k), x2 = bm_fmr(c, k + 1);
        double y1 = 1 - bm_fnmr(c, k), y2 = 1 - bm_fnmr(c, k + 1);
        t[k] = (x1 - x2) * (y1 + (y2 - y1) / 2);
    }
    double auc = bm_sum(t, c->n - 1);
    if (!scratch)
        free(t);
    return auc;
}

int bm_verif_stats_compute(const bm_curve *c, const double *gen, size_t n_gen,
                           const double *imp, size_t n_imp, bm_verif_stats *out)
{
    memset(out, 0, sizeof *out);
    if (c->n == 0 || n_gen == 0 || n_imp == 0)
        return BM_ERR_INVALID;
    size_t big = c->n;
    if (n_gen > big)
        big = n_gen;
    if (n_imp > big)
        big = n_imp;
    double *scratch = malloc(big * sizeof *scratch);
    if (!scratch)
        return BM_ERR_NOMEM;

    bm_curve_eer(c, &out->eer);

    /* One pass over the curve for everything else, each rate computed
     * once per threshold with the same expressions as the single-purpose
     * functions above (bm_curve_fmr_op, bm_curve_fmr_le,
     * bm_curve_auc_pyeer), so the values are the same bits. */
    size_t opk[BM_N_OPS], lek[BM_N_OPS];
    double opv[BM_N_OPS];
    for (int o = 0; o < BM_N_OPS; o++) {
        opk[o] = 0;
        opv[o] = INFINITY;
        lek[o] = c->n;
    }
    size_t zk = 0, jk = 0, mk = 0;
    double jv = -INFINITY, mv = -INFINITY;
    double gn = (double)c->n_gen, in = (double)c->n_imp;
    double pf = 0, py = 0; /* previous FMR and 1 - FNMR, for the trapezoids */
    for (size_t k = 0; k < c->n; k++) {
        double f = bm_fmr(c, k), r = bm_fnmr(c, k);
        /* pyeer get_fmr_op: first minimum of |FMR - op|; and the lowest
         * threshold with FMR <= op (FMR never increases with k). */
        for (int o = 0; o < BM_N_OPS; o++) {
            double v = fabs(f - bm_fmr_ops[o]);
            if (v < opv[o]) {
                opv[o] = v;
                opk[o] = k;
            }
            if (lek[o] == c->n && f <= bm_fmr_ops[o])
                lek[o] = k;
        }
        /* ZeroFNMR: the last index where FNMR takes its minimum. */
        if (k && c->fnm[k] <= c->fnm[zk])
            zk = k;
        /* Youden's J = 1 - FNMR - FMR, evaluated left to right as numpy. */
        double j = 1 - r - f;
        if (j > jv) {
            jv = j;
            jk = k;
        }
        /* Matthews correlation over counts (pyeer takes each square root
         * separately to avoid overflow; a zero denominator becomes 1). */
        double fm = (double)c->fm[k], fnm = (double)c->fnm[k];
        double tn = in - fm, tp = gn - fnm;
        double num = tp * tn - fm * fnm;
        double den = (sqrt(tp + fm) * sqrt(tp + fnm)) * (sqrt(tn + fm) * sqrt(tn + fnm));
        if (den == 0)
            den = 1;
        double m = num / den;
        if (m > mv) {
            mv = m;
            mk = k;
        }
        /* pyeer's AUC trapezoid between thresholds k - 1 and k. */
        double y = 1 - r;
        if (k)
            scratch[k - 1] = (pf - f) * (py + (y - py) / 2);
        pf = f;
        py = y;
    }
    for (int o = 0; o < BM_N_OPS; o++) {
        size_t k = opk[o];
        out->fnmr_at_fmr[o] = bm_fnmr(c, k);
        out->fnmr_at_fmr_fmr[o] = bm_fmr(c, k);
        out->fnmr_at_fmr_thr[o] = c->thr[k];
        k = lek[o];
        out->fnmr_at_fmr_le[o] = k < c->n ? bm_fnmr(c, k) : 1.0;
    }
    out->zero_fnmr = bm_fmr(c, zk);
    out->zero_fnmr_thr = c->thr[zk];
    out->auc_pyeer = c->n < 2 ? 0.0 : bm_sum(scratch, c->n - 1);
    out->youden_j = jv;
    out->youden_thr = c->thr[jk];

    out->gmean = bm_mean(gen, n_gen);
    out->gstd = bm_std(gen, n_gen, scratch);
    out->imean = bm_mean(imp, n_imp);
    out->istd = bm_std(imp, n_imp, scratch);
    out->decidability = bm_decidability(out->gmean, out->gstd, out->imean, out->istd);
    out->mcc = mv;
    out->mcc_thr = c->thr[mk];
    free(scratch);
    return BM_OK;
}
