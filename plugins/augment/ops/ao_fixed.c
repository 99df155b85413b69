/* Fixed-point 8-bit image filters: the Gaussian blur of augment.gaussian_blur
 * and the area / bilinear resizes of augment.downscale. Every result is
 * exact integer arithmetic, so the AVX2 loops (chosen at run time) and the
 * plain loops give the same bytes; the plain loops are the definition.
 *
 * Blur: separable, reflect-101 borders. The horizontal pass takes 8-bit
 * pixels to 16-bit values with 8 fraction bits (weights with 14 fraction
 * bits, pmaddwd on pairs of taps), the vertical pass takes those to bytes
 * (weights with 16 fraction bits, pmulhuw; mirrored rows are averaged
 * first, pavgw). The error against the exact double-precision blur of the
 * same kernel is below 0.05 of a grey level before the final rounding, so
 * an output byte is that blur's rounded value or, near a half, one off.
 *
 * Resize: area averaging for shrinking (vertical pass first, 14-bit
 * weights, then the horizontal pass on the few output rows) and bilinear
 * for enlarging (horizontal pass per input row into 16-bit values with 8
 * fraction bits, 8-bit position weights, then a vertical blend of two such
 * rows with pmulhuw). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AO_FX_X86 1
#endif

/* Mirror without repeating the edge (reflect-101). */
static int reflect101(int i, int n)
{
    if (n == 1)
        return 0;
    const int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* ---- the kernel ------------------------------------------------------------- */

/* One side k[0..r] of the Gaussian of `sigma` truncated at r = ceil(3
 * sigma) and normalised over the window, in fixed point with `bits`
 * fraction bits, summing exactly to 1 << bits (k[0] + 2 sum k[d]): the
 * tail sums T_d = sum_{e >= d} g_e are rounded and differenced, so the
 * rounding errors do not pile up. Returns the radius with the zero taps
 * at the ends dropped (0: the kernel is the identity). */
static int kernel_fixed(double sigma, int r, int bits, int32_t *k)
{
    double *g = malloc((size_t)(r + 2) * sizeof *g);
    if (!g)
        return -1;
    double sum = 0;
    for (int d = 0; d <= r; d++) {
        g[d] = exp(-(double)d * d / (2 * sigma * sigma));
        sum += d ? 2 * g[d] : g[d];
    }
    const double one = (double)(1 << bits) / sum;
    double tail = 0;
    int32_t prev = 0;
    for (int d = r; d >= 1; d--) {
        tail += g[d];
        const int32_t q = (int32_t)floor(tail * one + 0.5);
        k[d] = q - prev;
        prev = q;
    }
    k[0] = (1 << bits) - 2 * prev;
    free(g);
    int rr = r;
    while (rr > 0 && k[rr] == 0)
        rr--;
    return rr;
}

/* ---- blur: horizontal pass --------------------------------------------------- */

/* d[i] = (k0 p[i] + sum_d k[d] (p[i - d c] + p[i + d c]) + 32) >> 6 for i < n:
 * p has r c readable bytes before and after (the mirrored border), k has
 * 14 fraction bits, d holds 8. */
static void hpass_scalar(const uint8_t *p, uint16_t *d, size_t i, size_t n, int c, const int32_t *k, int r)
{
    for (; i < n; i++) {
        int32_t acc = k[0] * p[i] + 32;
        for (int t = 1; t <= r; t++)
            acc += k[t] * (p[i - (size_t)(t * c)] + p[i + (size_t)(t * c)]);
        d[i] = (uint16_t)(acc >> 6);
    }
}

#ifdef AO_FX_X86
__attribute__((target("avx2"))) static inline __m256i ld16(const uint8_t *p) { return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p)); }

/* 16 values a step: the centre and the sums of mirrored taps as 16-bit
 * lanes, taken in pairs by pmaddwd (an odd one out is paired with the
 * rounding constant). Returns the values done. */
__attribute__((target("avx2"))) static size_t hpass_avx2(const uint8_t *p, uint16_t *d, size_t n, int c,
                                                         const int32_t *k, int r)
{
    __m256i K[128];
    const int terms = r + 1, pairs = (terms + 1) / 2;
    for (int q = 0; q < pairs; q++) {
        const int a = 2 * q, b = 2 * q + 1;
        const int32_t ka = k[a], kb = b < terms ? k[b] : 32;
        K[q] = _mm256_set1_epi32((int32_t)((uint32_t)ka | (uint32_t)kb << 16));
    }
    const __m256i one = _mm256_set1_epi16(1), rnd = _mm256_set1_epi32(terms % 2 ? 0 : 32);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i lo[2] = {rnd, rnd}, hi[2] = {rnd, rnd};
        for (int q = 0; q < pairs; q++) {
            const int a = 2 * q, b = 2 * q + 1;
            for (int u = 0; u < 2; u++) {
                const uint8_t *q0 = p + i + 16 * u;
                const __m256i va = a == 0 ? ld16(q0)
                                          : _mm256_add_epi16(ld16(q0 - (size_t)(a * c)), ld16(q0 + (size_t)(a * c)));
                const __m256i vb = b < terms ? _mm256_add_epi16(ld16(q0 - (size_t)(b * c)), ld16(q0 + (size_t)(b * c)))
                                             : one;
                lo[u] = _mm256_add_epi32(lo[u], _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), K[q]));
                hi[u] = _mm256_add_epi32(hi[u], _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), K[q]));
            }
        }
        /* unpacklo/hi then packus within each 128-bit lane: the order is kept */
        for (int u = 0; u < 2; u++)
            _mm256_storeu_si256((__m256i *)(void *)(d + i + 16 * u),
                                _mm256_packus_epi32(_mm256_srai_epi32(lo[u], 6), _mm256_srai_epi32(hi[u], 6)));
    }
    for (; i + 16 <= n; i += 16) {
        const uint8_t *q0 = p + i;
        __m256i lo = rnd, hi = rnd;
        for (int q = 0; q < pairs; q++) {
            const int a = 2 * q, b = 2 * q + 1;
            const __m256i va = a == 0 ? ld16(q0)
                                      : _mm256_add_epi16(ld16(q0 - (size_t)(a * c)), ld16(q0 + (size_t)(a * c)));
            const __m256i vb = b < terms ? _mm256_add_epi16(ld16(q0 - (size_t)(b * c)), ld16(q0 + (size_t)(b * c)))
                                         : one;
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), K[q]));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), K[q]));
        }
        const __m256i v = _mm256_packus_epi32(_mm256_srai_epi32(lo, 6), _mm256_srai_epi32(hi, 6));
        _mm256_storeu_si256((__m256i *)(void *)(d + i), v);
    }
    return i;
}
#endif

/* ---- blur: vertical pass ------------------------------------------------------ */

/* out[i] = (sum + 128 + bias) >> 8 with sum = mulhi(h_0, kv0) + sum_d
 * mulhi(avg(h_-d, h_d), 2 kv[d]) in 16 bits (mulhi: the high 16 bits of
 * the 32-bit product, avg: (a + b + 1) >> 1); kv has 16 fraction bits and
 * kv0 < 65536 (r = 0 is the identity: sum = h_0). bias (r / 2) makes up
 * for the truncations, so a flat area keeps its value exactly. */
static inline uint8_t vpass_one(const uint16_t *const *rows, size_t i, const uint32_t *kv, int r)
{
    uint32_t acc;
    if (r == 0)
        acc = rows[0][i];
    else {
        acc = ((uint32_t)rows[r][i] * kv[0]) >> 16;
        for (int d = 1; d <= r; d++) {
            const uint32_t avg = ((uint32_t)rows[r - d][i] + rows[r + d][i] + 1) >> 1;
            acc += (avg * (2 * kv[d])) >> 16;
        }
        acc &= 0xffff;
    }
    return (uint8_t)((acc + 128 + (uint32_t)(r / 2)) >> 8);
}

#ifdef AO_FX_X86
/* U (1 to 4) vectors of 16 values: the sum of vpass_one() before the
 * rounding, for the values from i. */
#define VP_LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
vpass_acc(const uint16_t *const *rows, size_t i, const __m256i *K, int r, int U, __m256i *acc)
{
    if (r == 0) {
        for (int u = 0; u < U; u++)
            acc[u] = VP_LD(rows[0] + i + 16 * (size_t)u);
        return;
    }
    for (int u = 0; u < U; u++)
        acc[u] = _mm256_mulhi_epu16(VP_LD(rows[r] + i + 16 * (size_t)u), K[0]);
    for (int d = 1; d <= r; d++) {
        const uint16_t *pa = rows[r - d] + i, *pb = rows[r + d] + i;
        for (int u = 0; u < U; u++)
            acc[u] = _mm256_add_epi16(
                acc[u], _mm256_mulhi_epu16(_mm256_avg_epu16(VP_LD(pa + 16 * u), VP_LD(pb + 16 * u)), K[d]));
    }
}

__attribute__((target("avx2"))) static size_t vpass_avx2(const uint16_t *const *rows, uint8_t *out, size_t n,
                                                         const uint32_t *kv, int r)
{
    __m256i K[160];
    if (r > 159)
        return 0;
    K[0] = _mm256_set1_epi16((short)kv[0]);
    for (int d = 1; d <= r; d++)
        K[d] = _mm256_set1_epi16((short)(2 * kv[d]));
    const __m256i add = _mm256_set1_epi16((short)(128 + r / 2));
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256i acc[4];
        vpass_acc(rows, i, K, r, 4, acc);
        for (int u = 0; u < 4; u++)
            acc[u] = _mm256_srli_epi16(_mm256_add_epi16(acc[u], add), 8);
        _mm256_storeu_si256((__m256i *)(void *)(out + i),
                            _mm256_permute4x64_epi64(_mm256_packus_epi16(acc[0], acc[1]), 0xd8));
        _mm256_storeu_si256((__m256i *)(void *)(out + i + 32),
                            _mm256_permute4x64_epi64(_mm256_packus_epi16(acc[2], acc[3]), 0xd8));
    }
    for (; i + 32 <= n; i += 32) {
        __m256i acc[2];
        vpass_acc(rows, i, K, r, 2, acc);
        for (int u = 0; u < 2; u++)
            acc[u] = _mm256_srli_epi16(_mm256_add_epi16(acc[u], add), 8);
        _mm256_storeu_si256((__m256i *)(void *)(out + i),
                            _mm256_permute4x64_epi64(_mm256_packus_epi16(acc[0], acc[1]), 0xd8));
    }
    return i;
}
#endif

/* ---- blur ----------------------------------------------------------------------- */

int ao_blur_image(const aigtatt_image *in, double sigma, aigtatt_image **out)
{
    *out = NULL;
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o) {
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    const int w = in->width, h = in->height, c = in->channels;
    const size_t n = (size_t)w * (size_t)c;
    if (!(sigma > 0)) {
        for (int y = 0; y < h; y++)
            memcpy(ao_px(o, 0, y), ao_px(in, 0, y), n);
        *out = o;
        return AIGTATT_OK;
    }
    int r = (int)ceil(3.0 * sigma);
    if (r < 1)
        r = 1;
    int32_t *kh = malloc((size_t)(r + 1) * sizeof *kh), *kv32 = malloc((size_t)(r + 1) * sizeof *kv32);
    uint32_t *kv = malloc((size_t)(r + 1) * sizeof *kv);
    int rh = kh ? kernel_fixed(sigma, r, 14, kh) : -1;
    int rv = kv32 ? kernel_fixed(sigma, r, 16, kv32) : -1;
    const int taps = 2 * (rv < 0 ? 0 : rv) + 1;
    /* The mirrored source row: rh pixels each side, and 32 bytes of slack. */
    uint8_t *pad = malloc(((size_t)w + 2 * (size_t)(rh < 0 ? 0 : rh)) * (size_t)c + 32);
    uint16_t *ring = malloc((size_t)taps * n * sizeof *ring);
    int *held = malloc((size_t)taps * sizeof *held);
    const uint16_t **rows = malloc((size_t)taps * sizeof *rows);
    int rc = AIGTATT_OK;
    if (!kh || !kv || !kv32 || rh < 0 || rv < 0 || !pad || !ring || !held || !rows) {
        ao_host->set_error("out of memory");
        rc = AIGTATT_ERR_NOMEM;
        goto done;
    }
    for (int d = 0; d <= rv; d++)
        kv[d] = (uint32_t)kv32[d]; /* kv[0] < 65536 when rv > 0 */
    for (int j = 0; j < taps; j++)
        held[j] = -1;
#ifdef AO_FX_X86
    const int simd = ao_cpu_avx2();
#endif
    for (int y = 0; y < h; y++) {
        for (int j = 0; j < taps; j++) {
            const int sy = reflect101(y + j - rv, h), slot = sy % taps;
            uint16_t *hrow = ring + (size_t)slot * n;
            if (held[slot] != sy) {
                const uint8_t *s = ao_px(in, 0, sy);
                uint8_t *p = pad + (size_t)rh * c;
                memcpy(p, s, n);
                for (int x = 1; x <= rh; x++) {
                    memcpy(p - (size_t)x * c, s + (size_t)reflect101(-x, w) * c, (size_t)c);
                    memcpy(p + n + (size_t)(x - 1) * c, s + (size_t)reflect101(w - 1 + x, w) * c, (size_t)c);
                }
                size_t i = 0;
#ifdef AO_FX_X86
                if (simd && rh < 255)
                    i = hpass_avx2(p, hrow, n, c, kh, rh);
#endif
                hpass_scalar(p, hrow, i, n, c, kh, rh);
                held[slot] = sy;
            }
            rows[j] = hrow;
        }
        uint8_t *d = ao_px(o, 0, y);
        size_t i = 0;
#ifdef AO_FX_X86
        if (simd)
            i = vpass_avx2(rows, d, n, kv, rv);
#endif
        for (; i < n; i++)
            d[i] = vpass_one(rows, i, kv, rv);
    }
done:
    free(kh);
    free(kv);
    free(kv32);
    free(pad);
    free(ring);
    free(held);
    free(rows);
    if (rc) {
        ao_host->image_free(o);
        return rc;
    }
    *out = o;
    return AIGTATT_OK;
}

/* ---- area resize ------------------------------------------------------------------ */

/* Output i along an axis covers input [i f, (i + 1) f) with f = n_in / n_out;
 * input cell s gets the share of that span it overlaps, as 14-bit weights
 * that sum to exactly 16384 (a rounded running sum, differenced).
 * first[i]: the first input cell, cnt[i]: how many, their weights from
 * w[off[i]]. */
typedef struct fx_axis {
    int *first, *cnt;
    size_t *off;
    int32_t *w;
} fx_axis;

static void fx_axis_free(fx_axis *a)
{
    free(a->first);
    free(a->cnt);
    free(a->off);
    free(a->w);
}

static int fx_area_axis(int n_in, int n_out, fx_axis *a)
{
    const double f = (double)n_in / n_out;
    const size_t per = (size_t)ceil(f) + 2;
    a->first = malloc((size_t)n_out * sizeof *a->first);
    a->cnt = malloc((size_t)n_out * sizeof *a->cnt);
    a->off = malloc((size_t)n_out * sizeof *a->off);
    a->w = malloc((size_t)n_out * per * sizeof *a->w);
    if (!a->first || !a->cnt || !a->off || !a->w) {
        fx_axis_free(a);
        return -1;
    }
    size_t used = 0;
    for (int i = 0; i < n_out; i++) {
        const double x0 = i * f, x1 = i + 1 == n_out ? n_in : (i + 1) * f;
        int s0 = (int)x0, m = 0;
        if (s0 >= n_in)
            s0 = n_in - 1;
        a->first[i] = s0;
        a->off[i] = used;
        int32_t prev = 0;
        for (int s = s0; s < n_in && (double)s < x1 && (size_t)m < per; s++, m++) {
            const double e = fmin(x1, s + 1.0);
            const int32_t q = e >= x1 ? 16384 : (int32_t)floor((e - x0) / (x1 - x0) * 16384 + 0.5);
            a->w[used + (size_t)m] = q - prev;
            prev = q;
        }
        if (m == 0) { /* cannot happen for n_out <= n_in; keep the sum at 1 */
            a->w[used] = 16384;
            m = 1;
        } else if (prev != 16384) {
            a->w[used + (size_t)m - 1] += 16384 - prev;
        }
        a->cnt[i] = m;
        used += (size_t)m;
    }
    return 0;
}

/* t[i] = (sum_j w[j] rows[j][i] + 32) >> 6 for i < n: 8-bit rows, 14-bit
 * weights, 16-bit result with 8 fraction bits. */
static void area_v_scalar(const uint8_t *const *rows, const int32_t *w, int m, uint16_t *t, size_t i, size_t n)
{
    for (; i < n; i++) {
        int32_t acc = 32;
        for (int j = 0; j < m; j++)
            acc += w[j] * rows[j][i];
        t[i] = (uint16_t)(acc >> 6);
    }
}

#ifdef AO_FX_X86
__attribute__((target("avx2"))) static size_t area_v_avx2(const uint8_t *const *rows, const int32_t *w, int m,
                                                          uint16_t *t, size_t n)
{
    const int pairs = (m + 1) / 2;
    const __m256i one = _mm256_set1_epi16(1), rnd = _mm256_set1_epi32(m % 2 ? 0 : 32);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i lo = rnd, hi = rnd;
        for (int q = 0; q < pairs; q++) {
            const int a = 2 * q, b = a + 1;
            const __m256i K = _mm256_set1_epi32((int32_t)((uint32_t)w[a] | (uint32_t)(b < m ? w[b] : 32) << 16));
            const __m256i va = ld16(rows[a] + i), vb = b < m ? ld16(rows[b] + i) : one;
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), K));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), K));
        }
        _mm256_storeu_si256((__m256i *)(void *)(t + i),
                            _mm256_packus_epi32(_mm256_srai_epi32(lo, 6), _mm256_srai_epi32(hi, 6)));
    }
    return i;
}
#endif

aigtatt_image *ao_resize_area(const aigtatt_image *in, int w, int h)
{
    /* The area average of a box is the average along x of the averages
     * along y: for each output row, the input rows it covers are averaged
     * (16-bit values with 8 fraction bits), then that row's columns. */
    aigtatt_image *o = ao_new_uninit(w, h, in->channels);
    if (!o)
        return NULL;
    const int c = in->channels, iw = in->width;
    const size_t irow = (size_t)iw * (size_t)c;
    fx_axis ax = {0}, ay = {0};
    uint16_t *t = malloc(irow * sizeof *t);
    const uint8_t **rows = malloc(((size_t)ceil((double)in->height / h) + 2) * sizeof *rows);
    if (!t || !rows || fx_area_axis(iw, w, &ax) || fx_area_axis(in->height, h, &ay)) {
        free(t);
        free(rows);
        fx_axis_free(&ax);
        fx_axis_free(&ay);
        ao_host->image_free(o);
        ao_host->set_error("out of memory");
        return NULL;
    }
#ifdef AO_FX_X86
    const int simd = ao_cpu_avx2();
#endif
    for (int y = 0; y < h; y++) {
        const int m = ay.cnt[y];
        const int32_t *wy = ay.w + ay.off[y];
        for (int j = 0; j < m; j++)
            rows[j] = ao_px(in, 0, ay.first[y] + j);
        size_t i = 0;
#ifdef AO_FX_X86
        if (simd)
            i = area_v_avx2(rows, wy, m, t, irow);
#endif
        area_v_scalar(rows, wy, m, t, i, irow);
        /* Columns: (sum_j w[j] t[...] + 2^21) >> 22; at most 65280 * 16384
         * before the shift, inside 32 bits. */
        uint8_t *d = ao_px(o, 0, y);
        for (int x = 0; x < w; x++, d += c) {
            const int32_t *wx = ax.w + ax.off[x];
            const uint16_t *p = t + (size_t)ax.first[x] * c;
            const int mx = ax.cnt[x];
            if (c == 3) {
                uint32_t a0 = 1u << 21, a1 = 1u << 21, a2 = 1u << 21;
                for (int j = 0; j < mx; j++, p += 3) {
                    const uint32_t k = (uint32_t)wx[j];
                    a0 += k * p[0];
                    a1 += k * p[1];
                    a2 += k * p[2];
                }
                d[0] = (uint8_t)(a0 >> 22);
                d[1] = (uint8_t)(a1 >> 22);
                d[2] = (uint8_t)(a2 >> 22);
                continue;
            }
            for (int k = 0; k < c; k++) {
                uint32_t acc = 1u << 21;
                for (int j = 0; j < mx; j++)
                    acc += (uint32_t)wx[j] * p[(size_t)j * c + k];
                d[k] = (uint8_t)(acc >> 22);
            }
        }
    }
    free(t);
    free(rows);
    fx_axis_free(&ax);
    fx_axis_free(&ay);
    return o;
}

/* ---- bilinear resize ------------------------------------------------------------- */

/* Output row i = (mulhi(a, (256 - t) << 8) + mulhi(b, t << 8) + 128) >> 8 with
 * a, b 16-bit values with 8 fraction bits and t the 8-bit weight of b;
 * t == 0: (a + 128) >> 8. */
static void blend_scalar(const uint16_t *a, const uint16_t *b, uint32_t t, uint8_t *d, size_t i, size_t n)
{
    if (t == 0) {
        for (; i < n; i++)
            d[i] = (uint8_t)((a[i] + 128u) >> 8);
        return;
    }
    const uint32_t wa = (256 - t) << 8, wb = t << 8;
    for (; i < n; i++) {
        const uint32_t v = (((uint32_t)a[i] * wa) >> 16) + (((uint32_t)b[i] * wb) >> 16);
        d[i] = (uint8_t)((v + 128) >> 8);
    }
}

#ifdef AO_FX_X86
__attribute__((target("avx2"))) static size_t blend_avx2(const uint16_t *a, const uint16_t *b, uint32_t t,
                                                         uint8_t *d, size_t n)
{
    const __m256i wa = _mm256_set1_epi16((short)(t ? (256 - t) << 8 : 0)), wb = _mm256_set1_epi16((short)(t << 8));
    const __m256i rnd = _mm256_set1_epi16(128);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v[2];
        for (int h = 0; h < 2; h++) {
            const size_t o = i + 16 * (size_t)h;
            const __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)(a + o));
            __m256i s;
            if (t == 0)
                s = va;
            else
                s = _mm256_add_epi16(_mm256_mulhi_epu16(va, wa),
                                     _mm256_mulhi_epu16(_mm256_loadu_si256((const __m256i *)(const void *)(b + o)), wb));
            v[h] = _mm256_srli_epi16(_mm256_add_epi16(s, rnd), 8);
        }
        _mm256_storeu_si256((__m256i *)(void *)(d + i),
                            _mm256_permute4x64_epi64(_mm256_packus_epi16(v[0], v[1]), 0xd8));
    }
    return i;
}
#endif

/* Source position of output pixel centre i of n_out along an axis of n_in
 * pixels: s = (i + 0.5) n_in / n_out - 0.5, as the index of the left
 * neighbour (clamped to the edge) and the right one's weight in 1/256. */
static void linear_pos(int i, int n_in, int n_out, int *i0, int *i1, uint32_t *t)
{
    const double s = (i + 0.5) * ((double)n_in / n_out) - 0.5, fl = floor(s);
    int a = (int)fl;
    uint32_t q = (uint32_t)floor((s - fl) * 256 + 0.5);
    if (q == 256) {
        a++;
        q = 0;
    }
    int b = a + 1;
    a = a < 0 ? 0 : a >= n_in ? n_in - 1 : a;
    b = b < 0 ? 0 : b >= n_in ? n_in - 1 : b;
    if (a == b)
        q = 0;
    *i0 = a;
    *i1 = b;
    *t = q;
}

aigtatt_image *ao_resize_bilinear(const aigtatt_image *in, int w, int h)
{
    /* Pixel centres map to (i + 0.5) * in/out; neighbours outside repeat
     * the edge. Each input row that an output row needs is enlarged along
     * x once (kept in a ring of two), then each output row blends two. */
    aigtatt_image *o = ao_new_uninit(w, h, in->channels);
    if (!o)
        return NULL;
    const int c = in->channels, iw = in->width, ih = in->height;
    const size_t orow = (size_t)w * (size_t)c;
    int *xs = malloc((size_t)w * 2 * sizeof *xs);
    uint32_t *tx = malloc((size_t)w * sizeof *tx);
    uint16_t *ring = malloc(2 * orow * sizeof *ring);
    if (!xs || !tx || !ring) {
        free(xs);
        free(tx);
        free(ring);
        ao_host->image_free(o);
        ao_host->set_error("out of memory");
        return NULL;
    }
    for (int x = 0; x < w; x++)
        linear_pos(x, iw, w, &xs[2 * x], &xs[2 * x + 1], &tx[x]);
    int held[2] = {-1, -1};
#ifdef AO_FX_X86
    const int simd = ao_cpu_avx2();
#endif
    for (int y = 0; y < h; y++) {
        int y0, y1;
        uint32_t ty;
        linear_pos(y, ih, h, &y0, &y1, &ty);
        const uint16_t *r[2];
        for (int k = 0; k < 2; k++) {
            const int sy = k ? y1 : y0, slot = sy & 1;
            uint16_t *row = ring + (size_t)slot * orow;
            r[k] = row;
            if (held[slot] == sy)
                continue;
            held[slot] = sy;
            /* v = a (256 - t) + b t: exact, at most 255 * 256 */
            const uint8_t *s = ao_px(in, 0, sy);
            if (c == 3) {
                for (int x = 0; x < w; x++, row += 3) {
                    const uint8_t *a = s + (size_t)xs[2 * x] * 3, *b = s + (size_t)xs[2 * x + 1] * 3;
                    const uint32_t t = tx[x], u = 256 - t;
                    row[0] = (uint16_t)(a[0] * u + b[0] * t);
                    row[1] = (uint16_t)(a[1] * u + b[1] * t);
                    row[2] = (uint16_t)(a[2] * u + b[2] * t);
                }
            } else {
                for (int x = 0; x < w; x++, row += c) {
                    const uint8_t *a = s + (size_t)xs[2 * x] * c, *b = s + (size_t)xs[2 * x + 1] * c;
                    const uint32_t t = tx[x], u = 256 - t;
                    for (int k2 = 0; k2 < c; k2++)
                        row[k2] = (uint16_t)(a[k2] * u + b[k2] * t);
                }
            }
        }
        uint8_t *d = ao_px(o, 0, y);
        size_t i = 0;
#ifdef AO_FX_X86
        if (simd)
            i = blend_avx2(r[0], r[1], ty, d, orow);
#endif
        blend_scalar(r[0], r[1], ty, d, i, orow);
    }
    free(xs);
    free(tx);
    free(ring);
    return o;
}
