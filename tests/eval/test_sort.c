/* The radix sort of scores (sort.c) against qsort, on the inputs whose
 * passes it skips: floats widened to doubles (low mantissa bits constant
 * per sign), one sign only, shared exponents, ties and signed zeros. */
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

static void check(const char *what, double *a, size_t n)
{
    double *want = malloc(n * sizeof *want);
    memcpy(want, a, n * sizeof *want);
    qsort(want, n, sizeof *want, cmp);
    cr_assert_eq(bm_sort_doubles(a, n), BM_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert(a[i] == want[i], "%s: position %zu holds %.17g, want %.17g", what, i, a[i],
                  want[i]);
    free(want);
}

Test(sort, equals_qsort_where_passes_are_skipped)
{
    enum { N = 20000 };
    double *a = malloc(N * sizeof *a);
    uint64_t s = 42;
    /* Cosine scores as the library makes them: floats, both signs. */
    for (size_t i = 0; i < N; i++)
        a[i] = (float)(0.3 * ref_normal(&s));
    check("float scores, both signs", a, N);
    for (size_t i = 0; i < N; i++)
        a[i] = (float)-fabs(0.3 * ref_normal(&s)) - 1e-3;
    check("float scores, negative", a, N);
    for (size_t i = 0; i < N; i++)
        a[i] = (float)fabs(0.3 * ref_normal(&s)) + 1e-3;
    check("float scores, positive", a, N);
    /* One binade: the exponent digits are shared. */
    for (size_t i = 0; i < N; i++)
        a[i] = 1.0 + ref_uniform(&s);
    check("doubles in [1, 2)", a, N);
    for (size_t i = 0; i < N; i++)
        a[i] = -(1.0 + ref_uniform(&s));
    check("doubles in (-2, -1]", a, N);
    /* Full doubles of both signs and magnitudes, with ties and zeros. */
    for (size_t i = 0; i < N; i++) {
        double v = ref_normal(&s) * pow(10, (double)(ref_rand(&s) % 40) - 20);
        a[i] = i % 7 == 0 ? a[i / 2] : i % 11 == 0 ? 0.0 : v;
    }
    check("mixed doubles with ties", a, N);
    /* Quantised: few distinct values. */
    for (size_t i = 0; i < N; i++)
        a[i] = (double)((int64_t)(ref_rand(&s) % 9) - 4) / 4;
    check("quantised", a, N);
    /* All equal. */
    for (size_t i = 0; i < N; i++)
        a[i] = -0.25;
    check("constant", a, N);
    free(a);
}
