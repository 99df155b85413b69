/* Radix sort of doubles: error curves over 10^8 scores are dominated by
 * sorting, and a comparison sort is several times slower there. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#define BITS 11
#define BUCKETS (1u << BITS)
#define PASSES 6 /* 6 x 11 bits >= 64 */

/* Maps a double onto an unsigned key with the same order: flip every bit
 * of negatives, only the sign bit of positives. */
static uint64_t key_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

static double double_of(uint64_t k)
{
    uint64_t u = (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bm_sort_doubles(double *a, size_t n)
{
    if (n < 512) {
        /* Histograms would cost more than the sort itself. */
        qsort(a, n, sizeof *a, cmp_double);
        return BM_OK;
    }
    uint64_t *k = malloc(n * sizeof *k), *t = malloc(n * sizeof *t);
    size_t (*hist)[BUCKETS] = calloc(PASSES, sizeof *hist);
    if (!k || !t || !hist) {
        free(k);
        free(t);
        free(hist);
        return BM_ERR_NOMEM;
    }
    /* One read to build every pass's histogram. */
    for (size_t i = 0; i < n; i++) {
        k[i] = key_of(a[i]);
        for (int p = 0; p < PASSES; p++)
            hist[p][(k[i] >> (p * BITS)) & (BUCKETS - 1)]++;
    }
    for (int p = 0; p < PASSES; p++) {
        size_t *h = hist[p];
        /* A digit shared by all keys (high exponent bits, usually) leaves
         * the order unchanged; skip the pass. */
        if (h[(k[0] >> (p * BITS)) & (BUCKETS - 1)] == n)
            continue;
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            t[h[(k[i] >> (p * BITS)) & (BUCKETS - 1)]++] = k[i];
        uint64_t *sw = k;
        k = t;
        t = sw;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = double_of(k[i]);
    free(k);
    free(t);
    free(hist);
    return BM_OK;
}
