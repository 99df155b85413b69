/* The pieces under the parity tests: sort, reductions, polarity, input
 * checks, and the reference harness's own ability to fail. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "biometric/metrics.h"
#include "refrun.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(basics, radix_sort_equals_qsort)
{
    uint64_t seed = 1;
    size_t sizes[] = {0, 1, 2, 511, 512, 513, 10000, 200001};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        double *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = ref_rand(&seed) % 6;
            a[i] = r == 0 ? -0.0 : r == 1 ? 0.0 : r == 2 ? round(ref_normal(&seed) * 4) / 4
                 : r == 3 ? -1e300 * ref_uniform(&seed) : ref_normal(&seed) * 1e-300;
        }
        memcpy(b, a, n * sizeof *a);
        cr_assert_eq(bm_sort_doubles(a, n), BM_OK);
        qsort(b, n, sizeof *b, cmp);
        for (size_t i = 0; i < n; i++)
            cr_assert(a[i] == b[i], "n=%zu i=%zu: %g vs %g", n, i, a[i], b[i]);
        free(a);
        free(b);
    }
}

Test(basics, polarity_check_flags_reversed_scores)
{
    cr_expect(!bm_polarity_reversed(0.8, 0.2, BM_SIMILARITY));
    cr_expect(bm_polarity_reversed(0.2, 0.8, BM_SIMILARITY));
    cr_expect(bm_polarity_reversed(0.8, 0.2, BM_DISTANCE));
    cr_expect(!bm_polarity_reversed(0.2, 0.8, BM_DISTANCE));
    /* Flipping a reversed similarity set (reading it as distances) gives
     * the EER of the negated scores. */
    double g[] = {0.1, 0.2, 0.35}, i[] = {0.3, 0.6, 0.7, 0.9}, ng[3], ni[4];
    for (int k = 0; k < 3; k++) ng[k] = -g[k];
    for (int k = 0; k < 4; k++) ni[k] = -i[k];
    bm_curve a, b;
    bm_eer ea, eb;
    cr_assert_eq(bm_curve_build(g, 3, i, 4, 0, BM_DISTANCE, &a), BM_OK);
    cr_assert_eq(bm_curve_build(ng, 3, ni, 4, 0, BM_SIMILARITY, &b), BM_OK);
    bm_curve_eer(&a, &ea);
    bm_curve_eer(&b, &eb);
    cr_expect_eq(ea.eer, eb.eer);
    cr_expect_eq(ea.eer_thr, -eb.eer_thr);
    cr_expect_lt(ea.eer, 0.5);
    bm_curve_free(&a);
    bm_curve_free(&b);
}

Test(basics, bad_inputs_are_refused)
{
    double ok[] = {0.1, 0.2}, bad[] = {0.1, NAN}, inf[] = {INFINITY, 0.0};
    bm_curve c;
    cr_expect_eq(bm_curve_build(ok, 0, ok, 2, 0, BM_SIMILARITY, &c), BM_ERR_INVALID);
    cr_expect_eq(bm_curve_build(ok, 2, ok, 0, 0, BM_SIMILARITY, &c), BM_ERR_INVALID);
    cr_expect_eq(bm_curve_build(bad, 2, ok, 2, 0, BM_SIMILARITY, &c), BM_ERR_INVALID);
    cr_expect_eq(bm_curve_build(ok, 2, inf, 2, 0, BM_SIMILARITY, &c), BM_ERR_INVALID);
    cr_expect_eq(bm_first_nonfinite(bad, 2), 1);
    int32_t gl[] = {0, 5};
    bm_search s;
    cr_expect_eq(bm_search_row(ok, gl, 2, 0, NULL, 0, BM_TIES_PESSIMISTIC, 1, 3, NULL, &s),
                 BM_ERR_INVALID, "a gallery label beyond n_labels");
    cr_expect_eq(bm_openset_curve(&s, 0, &s, 1, 1, &c), BM_ERR_INVALID);
}

Test(basics, numpy_reductions)
{
    /* A naive running sum drops every 1.0 added to 1e16; pairwise
     * summation adds the ones among themselves first. */
    double a[1000];
    for (int i = 0; i < 1000; i++)
        a[i] = i ? 1.0 : 1e16;
    double naive = 0;
    for (int i = 0; i < 1000; i++)
        naive += a[i];
    cr_expect_neq(bm_sum(a, 1000), naive, "pairwise summation must differ from naive here");
    double c[] = {2, 4, 4, 4, 5, 5, 7, 9};
    cr_expect_eq(bm_mean(c, 8), 5.0);
    cr_expect_eq(bm_std(c, 8, NULL), 2.0);
    cr_expect_eq(bm_decidability(1, 0, 0, 0), 1.0);
    cr_expect(isnan(bm_mean(c, 0)));
}

/* The harness must be able to fail: a missing reference library is an
 * error with a pip hint, and a difference beyond 1e-9 is not "close". */
Test(basics, reference_failures_are_reported)
{
    ref_run r;
    ref_begin(&r);
    char err[4096];
    int st = ref_exec(&r, "AIGTATT_REF_FORCE_IMPORT_ERROR=1", err, sizeof err);
    cr_expect_eq(st, 3, "exit status %d: %s", st, err);
    cr_expect(strstr(err, "pip install pyeer scikit-learn") != NULL, "message: %s", err);
    ref_end(&r);
    cr_expect(!ref_close(0.5, 0.5 + 2e-9, REF_TOL));
    cr_expect(ref_close(0.5, 0.5 + 5e-10, REF_TOL));
    cr_expect(!ref_close(NAN, 0.5, REF_TOL));
    cr_expect(ref_close(INFINITY, INFINITY, REF_TOL));
}
