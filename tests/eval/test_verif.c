/* Verification metrics against pyeer (error curves, EER, operating points,
 * AUC, d', Youden, MCC) and scikit-learn (roc_curve, auc), value by value
 * within 1e-9, on the score sets issue 4 names. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biometric/metrics.h"
#include "refrun.h"

typedef struct vcase {
    char name[64];
    double *gen, *imp;
    size_t ng, ni;
    bm_polarity pol;
} vcase;

static vcase *vnew(const char *name, size_t ng, size_t ni, bm_polarity pol)
{
    vcase *c = calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->gen = calloc(ng ? ng : 1, sizeof(double));
    c->imp = calloc(ni ? ni : 1, sizeof(double));
    c->ng = ng;
    c->ni = ni;
    c->pol = pol;
    return c;
}

static void vfree(vcase *c)
{
    free(c->gen);
    free(c->imp);
    free(c);
}

static void vadd(ref_run *r, const vcase *c)
{
    char f[128];
    snprintf(f, sizeof f, "%s.gen", c->name);
    char *g = ref_write(r, f, c->gen, c->ng * sizeof(double));
    snprintf(f, sizeof f, "%s.imp", c->name);
    char *i = ref_write(r, f, c->imp, c->ni * sizeof(double));
    ref_add(r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", c->name, "kind", "verif",
                         "gen", g, "imp", i, "polarity",
                         c->pol == BM_DISTANCE ? "distance" : "similarity"));
    free(g);
    free(i);
}

static void vcheck(ref_run *r, const vcase *c)
{
    bm_curve cv;
    bm_verif_stats st;
    cr_assert_eq(bm_curve_build(c->gen, c->ng, c->imp, c->ni, 0, c->pol, &cv), BM_OK);
    cr_assert_eq(bm_verif_stats_compute(&cv, c->gen, c->ng, c->imp, c->ni, &st), BM_OK);
    json_t *j = ref_json(r, c->name);
    char w[160];
#define CHK(val, key)                                             \
    do {                                                          \
        snprintf(w, sizeof w, "%s: %s", c->name, key);            \
        ref_check(w, (val), ref_num(j, key));                     \
    } while (0)
    CHK(st.eer.eer, "eer");
    CHK(st.eer.eer_low, "eer_low");
    CHK(st.eer.eer_high, "eer_high");
    CHK(st.eer.eer_thr, "eer_thr");
    CHK(st.eer.eer_interp, "eer_interp");
    static const char *ops[BM_N_OPS] = {"fmr10", "fmr20", "fmr100", "fmr1000", "zero_fmr"};
    for (int o = 0; o < BM_N_OPS; o++) {
        char k[64];
        CHK(st.fnmr_at_fmr[o], ops[o]);
        snprintf(k, sizeof k, "%s_thr", ops[o]);
        CHK(st.fnmr_at_fmr_thr[o], k);
        snprintf(k, sizeof k, "fnmr_at_fmr_le_%d", o);
        CHK(st.fnmr_at_fmr_le[o], k);
    }
    CHK(st.zero_fnmr, "zero_fnmr");
    CHK(st.zero_fnmr_thr, "zero_fnmr_thr");
    CHK(st.auc_pyeer, "auc_pyeer");
    CHK(st.gmean, "gmean");
    CHK(st.gstd, "gstd");
    CHK(st.imean, "imean");
    CHK(st.istd, "istd");
    CHK(st.decidability, "decidability");
    CHK(st.youden_j, "youden_j");
    CHK(st.youden_thr, "youden_thr");
    CHK(st.mcc, "mcc");
    CHK(st.mcc_thr, "mcc_thr");

    /* The curves themselves. */
    double *fmr = malloc(cv.n * sizeof *fmr), *fnmr = malloc(cv.n * sizeof *fnmr);
    for (size_t k = 0; k < cv.n; k++) {
        fmr[k] = bm_fmr(&cv, k);
        fnmr[k] = bm_fnmr(&cv, k);
    }
    struct {
        const char *key;
        const double *v;
    } arr[] = {{"thr", cv.thr}, {"fmr", fmr}, {"fnmr", fnmr}};
    for (size_t a = 0; a < 3; a++) {
        size_t n;
        double *ref = ref_array(r, c->name, arr[a].key, &n);
        snprintf(w, sizeof w, "%s: %s", c->name, arr[a].key);
        ref_check_array(w, arr[a].v, cv.n, ref, n);
        free(ref);
    }
    free(fmr);
    free(fnmr);

    for (int drop = 1; drop >= 0; drop--) {
        bm_roc roc;
        const char *tag = drop ? "roc_drop" : "roc_all";
        cr_assert_eq(bm_roc_from_curve(&cv, drop, &roc), BM_OK);
        char k[64];
        snprintf(k, sizeof k, "%s_auc", tag);
        CHK(bm_roc_auc(&roc), k);
        const double *mine[3] = {roc.fpr, roc.tpr, roc.thr};
        const char *sfx[3] = {"fpr", "tpr", "thr"};
        for (int a = 0; a < 3; a++) {
            size_t n;
            snprintf(k, sizeof k, "%s_%s", tag, sfx[a]);
            double *ref = ref_array(r, c->name, k, &n);
            snprintf(w, sizeof w, "%s: %s", c->name, k);
            ref_check_array(w, mine[a], roc.n, ref, n);
            free(ref);
        }
        bm_roc_free(&roc);
    }
#undef CHK
    json_decref(j);
    bm_curve_free(&cv);
}

static void fill_normal(uint64_t *s, double *a, size_t n, double mu, double sd, double q)
{
    for (size_t i = 0; i < n; i++) {
        double v = mu + sd * ref_normal(s);
        a[i] = q > 0 ? round(v / q) * q : v;
    }
}

/* Every small and awkward score set in one interpreter start. */
Test(verif, edge_cases_match_pyeer_and_sklearn, .timeout = 120)
{
    uint64_t seed = 42;
    vcase *cs[32];
    size_t n = 0;
    vcase *c;

    c = cs[n++] = vnew("tiny", 1, 1, BM_SIMILARITY);
    c->gen[0] = 0.7, c->imp[0] = 0.3;
    c = cs[n++] = vnew("tiny_reversed", 1, 1, BM_SIMILARITY);
    c->gen[0] = 0.3, c->imp[0] = 0.7;
    c = cs[n++] = vnew("tiny_tied", 1, 1, BM_SIMILARITY);
    c->gen[0] = 0.5, c->imp[0] = 0.5;
    c = cs[n++] = vnew("tiny_distance", 1, 2, BM_DISTANCE);
    c->gen[0] = 0.2, c->imp[0] = 0.9, c->imp[1] = 0.1;
    c = cs[n++] = vnew("all_tied", 7, 13, BM_SIMILARITY);
    for (size_t i = 0; i < 7; i++) c->gen[i] = 0.25;
    for (size_t i = 0; i < 13; i++) c->imp[i] = 0.25;
    c = cs[n++] = vnew("ties_quantized", 300, 3000, BM_SIMILARITY);
    fill_normal(&seed, c->gen, c->ng, 0.6, 0.2, 0.1);
    fill_normal(&seed, c->imp, c->ni, 0.3, 0.2, 0.1);
    c = cs[n++] = vnew("perfect_separation", 200, 2000, BM_SIMILARITY);
    for (size_t i = 0; i < c->ng; i++) c->gen[i] = 0.6 + 0.4 * ref_uniform(&seed);
    for (size_t i = 0; i < c->ni; i++) c->imp[i] = 0.4 * ref_uniform(&seed);
    c = cs[n++] = vnew("touching", 50, 500, BM_SIMILARITY);
    for (size_t i = 0; i < c->ng; i++) c->gen[i] = 0.5 + 0.5 * ref_uniform(&seed);
    for (size_t i = 0; i < c->ni; i++) c->imp[i] = 0.5 * ref_uniform(&seed);
    c->gen[3] = 0.5, c->imp[7] = 0.5;
    c = cs[n++] = vnew("no_overlap_reversed", 40, 400, BM_SIMILARITY);
    for (size_t i = 0; i < c->ng; i++) c->gen[i] = -1 - ref_uniform(&seed);
    for (size_t i = 0; i < c->ni; i++) c->imp[i] = ref_uniform(&seed);
    c = cs[n++] = vnew("reversed_polarity", 500, 5000, BM_SIMILARITY);
    fill_normal(&seed, c->gen, c->ng, 0.3, 0.15, 0);
    fill_normal(&seed, c->imp, c->ni, 0.8, 0.2, 0);
    c = cs[n++] = vnew("distance_polarity", 500, 5000, BM_DISTANCE);
    fill_normal(&seed, c->gen, c->ng, 0.3, 0.15, 0.01);
    fill_normal(&seed, c->imp, c->ni, 0.8, 0.2, 0.01);
    c = cs[n++] = vnew("signed_zeros", 6, 6, BM_SIMILARITY);
    double gz[] = {0.0, -0.0, 1.0, 0.5, -0.0, 2.0}, iz[] = {-0.0, 0.0, -1.0, 0.5, 0.0, -0.5};
    memcpy(c->gen, gz, sizeof gz);
    memcpy(c->imp, iz, sizeof iz);
    c = cs[n++] = vnew("random_continuous", 5000, 45000, BM_SIMILARITY);
    fill_normal(&seed, c->gen, c->ng, 0.5, 0.2, 0);
    fill_normal(&seed, c->imp, c->ni, 0.0, 0.25, 0);
    c = cs[n++] = vnew("more_genuine", 3000, 200, BM_SIMILARITY);
    fill_normal(&seed, c->gen, c->ng, 0.5, 0.2, 0.02);
    fill_normal(&seed, c->imp, c->ni, 0.2, 0.2, 0.02);

    ref_run r;
    ref_begin(&r);
    for (size_t i = 0; i < n; i++)
        vadd(&r, cs[i]);
    ref_exec_or_fail(&r);
    for (size_t i = 0; i < n; i++)
        vcheck(&r, cs[i]);
    ref_report("verification edge cases (14 score sets)");
    ref_end(&r);
    for (size_t i = 0; i < n; i++)
        vfree(cs[i]);
}

/* 10^6 scores rounded to float32, so ties occur as they do with real
 * embeddings' cosine similarities. */
Test(verif, million_scores_match_pyeer_and_sklearn, .timeout = 240)
{
    uint64_t seed = 7;
    vcase *c = vnew("million", 100000, 900000, BM_SIMILARITY);
    for (size_t i = 0; i < c->ng; i++)
        c->gen[i] = (float)(0.55 + 0.15 * ref_normal(&seed));
    for (size_t i = 0; i < c->ni; i++)
        c->imp[i] = (float)(0.15 + 0.15 * ref_normal(&seed));
    ref_run r;
    ref_begin(&r);
    vadd(&r, c);
    ref_exec_or_fail(&r);
    vcheck(&r, c);
    ref_report("verification, 10^6 scores");
    ref_end(&r);
    vfree(c);
}
