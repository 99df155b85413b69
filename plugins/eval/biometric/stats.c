/* numpy-compatible reductions, so means, deviations and AUCs agree with
 * pyeer and scikit-learn to the last bit rather than to a tolerance. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

/* numpy's pairwise_sum for float64 (loops_utils.h.src): below 8 items a
 * plain loop, up to 128 items eight interleaved accumulators combined as a
 * balanced tree, above that a split at a multiple of 8 near the middle.
 * The compiler must not reassociate (no -ffast-math on this file). */
static double pairwise(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
        for (i = 0; i < 8; i++)
            r[i] = a[i];
        for (i = 8; i < n - (n % 8); i += 8)
            for (size_t j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

double bm_sum(const double *a, size_t n)
{
    /* np.add.reduce starts from the identity 0.0, then adds the block. */
    return 0.0 + pairwise(a, n);
}

double bm_mean(const double *a, size_t n)
{
    if (n == 0)
        return NAN;
    return bm_sum(a, n) / (double)n;
}

double bm_std(const double *a, size_t n, double *scratch)
{
    if (n == 0)
        return NAN;
    double *tmp = scratch ? scratch : malloc(n * sizeof *tmp);
    if (!tmp)
        return NAN;
    double m = bm_mean(a, n);
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - m;
        tmp[i] = d * d;
    }
    double v = bm_sum(tmp, n) / (double)n;
    if (!scratch)
        free(tmp);
    return sqrt(v);
}

double bm_decidability(double gmean, double gstd, double imean, double istd)
{
    if (gstd == 0 && istd == 0)
        return 1.0;
    return fabs(gmean - imean) / sqrt(0.5 * (gstd * gstd + istd * istd));
}

size_t bm_first_nonfinite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return i;
    return n;
}

int bm_polarity_reversed(double gmean, double imean, bm_polarity declared)
{
    return declared == BM_DISTANCE ? gmean > imean : gmean < imean;
}
