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

/* The array's bytes seen as keys: every access goes through memcpy, so
 * the same memory holds doubles before and after and keys in between
 * without breaking the aliasing rules (compilers turn these into plain
 * loads and stores). */
static uint64_t get_u64(const double *a, size_t i)
{
    uint64_t u;
    memcpy(&u, a + i, sizeof u);
    return u;
}

static void put_u64(double *a, size_t i, uint64_t u)
{
    memcpy(a + i, &u, sizeof u);
}

/* ---- scores that are floats ----------------------------------------- */

/* Cosine scores of float32 embeddings are floats widened to doubles. Then
 * 32-bit keys order them the same way, and n of them fit in half of the
 * array itself: the keys go to its first half, the radix passes bounce
 * between the halves, and the doubles are rebuilt in place. No scratch
 * memory at all, half the traffic and three passes instead of up to six. */
#define FB0 11 /* digit widths: 11 + 11 + 10 = 32 bits */
#define FPASSES 3

static uint32_t fkey_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u >> 31) ? ~u : (u | 0x80000000u);
}

static float float_of(uint32_t k)
{
    uint32_t u = (k >> 31) ? (k & 0x7fffffffu) : ~k;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t get_u32(const unsigned char *b, size_t i)
{
    uint32_t u;
    memcpy(&u, b + 4 * i, sizeof u);
    return u;
}

static void put_u32(unsigned char *b, size_t i, uint32_t u)
{
    memcpy(b + 4 * i, &u, sizeof u);
}

static int sort_floats_in_place(double *a, size_t n)
{
    unsigned char *lo = (unsigned char *)a, *hi = lo + 4 * n;
    size_t (*hist)[1u << FB0] = calloc(FPASSES, sizeof *hist);
    if (!hist)
        return BM_ERR_NOMEM;
    static const int shift[FPASSES] = {0, 11, 22};
    static const uint32_t mask[FPASSES] = {0x7ff, 0x7ff, 0x3ff};
    /* Key i goes to bytes [4i, 4i + 4), which only overlap doubles that
     * were already read (a[i / 2] for i >= 1). */
    for (size_t i = 0; i < n; i++) {
        double d;
        memcpy(&d, lo + 8 * i, sizeof d);
        uint32_t k = fkey_of((float)d);
        put_u32(lo, i, k);
        for (int p = 0; p < FPASSES; p++)
            hist[p][(k >> shift[p]) & mask[p]]++;
    }
    unsigned char *src = lo, *dst = hi;
    uint32_t k0 = get_u32(lo, 0);
    for (int p = 0; p < FPASSES; p++) {
        size_t *h = hist[p];
        if (h[(k0 >> shift[p]) & mask[p]] == n)
            continue; /* a digit every key shares */
        size_t sum = 0;
        for (size_t b = 0; b <= mask[p]; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t k = get_u32(src, i);
            put_u32(dst, h[(k >> shift[p]) & mask[p]]++, k);
        }
        unsigned char *t = src;
        src = dst;
        dst = t;
    }
    if (src != lo)
        memcpy(lo, src, 4 * n);
    /* Back to doubles from the end: a[i] covers keys 2i and 2i + 1, which
     * are consumed already for i >= 1 (key i is read before a[i] is written). */
    for (size_t i = n; i-- > 0;) {
        double d = (double)float_of(get_u32(lo, i));
        memcpy(lo + 8 * i, &d, sizeof d);
    }
    free(hist);
    return BM_OK;
}

int bm_sort_doubles(double *a, size_t n)
{
    if (n < 512) {
        /* Histograms would cost more than the sort itself. */
        qsort(a, n, sizeof *a, cmp_double);
        return BM_OK;
    }
    size_t nf = 0;
    while (nf < n && (double)(float)a[nf] == a[nf])
        nf++;
    if (nf == n)
        return sort_floats_in_place(a, n);
    /* One scratch array of n keys: the keys live in `a` itself, so a sort
     * of 4 x 10^8 scores needs 3.2 GB beside them, not 6.4. */
    uint64_t *t = malloc(n * sizeof *t);
    size_t (*hist)[BUCKETS] = calloc(PASSES, sizeof *hist);
    if (!t || !hist) {
        free(t);
        free(hist);
        return BM_ERR_NOMEM;
    }
    /* One read to build every pass's histogram, and which bits vary
     * among the keys of each sign. */
    uint64_t or_[2] = {0, 0}, and_[2] = {~0ull, ~0ull};
    size_t n_neg = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(a[i]);
        put_u64(a, i, k);
        int neg = !(k >> 63);
        n_neg += (size_t)neg;
        or_[neg] |= k;
        and_[neg] &= k;
        for (int p = 0; p < PASSES; p++)
            hist[p][(k >> (p * BITS)) & (BUCKETS - 1)]++;
    }
    /* A pass is needed only when its digit varies among keys of the same
     * sign: a digit that is constant per sign (the 29 low mantissa bits of
     * floats widened to doubles: zeros, and ones once negatives are
     * flipped) is settled by the sign bit, so that pass cannot change the
     * final order. The top pass holds the sign bit itself and runs
     * whenever both signs occur. */
    uint64_t varies = (or_[0] ^ and_[0]) | (or_[1] ^ and_[1]);
    if (n_neg && n_neg < n)
        varies |= 1ull << 63;
    int in_t = 0; /* where the keys are: a (0) or t (1) */
    for (int p = 0; p < PASSES; p++) {
        size_t *h = hist[p];
        if (!((varies >> (p * BITS)) & (BUCKETS - 1)))
            continue;
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        int sh = p * BITS;
        if (!in_t) {
            for (size_t i = 0; i < n; i++) {
                uint64_t k = get_u64(a, i);
                t[h[(k >> sh) & (BUCKETS - 1)]++] = k;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                uint64_t k = t[i];
                put_u64(a, h[(k >> sh) & (BUCKETS - 1)]++, k);
            }
        }
        in_t = !in_t;
    }
    if (in_t)
        for (size_t i = 0; i < n; i++)
            a[i] = double_of(t[i]);
    else
        for (size_t i = 0; i < n; i++)
            a[i] = double_of(get_u64(a, i));
    free(t);
    free(hist);
    return BM_OK;
}
