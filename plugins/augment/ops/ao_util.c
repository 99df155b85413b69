/* Sampling, JSON and pixel helpers shared by the ops. */
#include <stddef.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"

/* ---- sampling ----------------------------------------------------------- */

double ao_uniform(aigtatt_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * ao_host->rng_uniform(rng);
}

double ao_log_uniform(aigtatt_rng *rng, double lo, double hi)
{
    return exp(ao_uniform(rng, log(lo), log(hi)));
}

int64_t ao_int(aigtatt_rng *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(ao_host->rng_u64(rng) % (uint64_t)(hi - lo + 1));
}

int ao_check_range(const aigtatt_params *p, const char *lo, const char *hi)
{
    if (AO_F(p, lo) > AO_F(p, hi)) {
        ao_host->set_error("'%s' (%g) is above '%s' (%g)", lo, AO_F(p, lo), hi, AO_F(p, hi));
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

static void jput(ao_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(ao_json *j, const char *fmt, ...)
{
    if (j->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, j->size - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= j->size - j->len - 1) {
        j->overflow = 1;
        return;
    }
    j->len += (size_t)n;
}

void ao_json_begin(ao_json *j, char *buf, size_t size)
{
    j->buf = buf;
    j->size = size;
    j->len = 0;
    j->n = 0;
    j->overflow = size < 3;
    jput(j, "{");
}

void ao_json_num(ao_json *j, const char *key, double v)
{
    /* The shortest text that reads back as the exact value the image used
     * (15 digits where that suffices, so 10.83 stays 10.83), so a
     * variation can be made again from its manifest bit for bit. */
    v = isfinite(v) ? v : 0.0;
    char t[32];
    snprintf(t, sizeof t, "%.15g", v);
    if (strtod(t, NULL) != v)
        snprintf(t, sizeof t, "%.17g", v);
    jput(j, "%s\"%s\":%s", j->n++ ? "," : "", key, t);
}

void ao_json_int(ao_json *j, const char *key, int64_t v)
{
    jput(j, "%s\"%s\":%lld", j->n++ ? "," : "", key, (long long)v);
}

void ao_json_str(ao_json *j, const char *key, const char *v)
{
    /* Values are the ops' own enum words: no escaping needed. */
    jput(j, "%s\"%s\":\"%s\"", j->n++ ? "," : "", key, v);
}

int ao_json_end(ao_json *j)
{
    jput(j, "}");
    if (j->overflow) {
        if (j->size >= 3)
            memcpy(j->buf, "{}", 3);
        ao_host->set_error("sampled values do not fit in %zu bytes", j->size);
        return AIGTATT_ERR_LIMIT;
    }
    return AIGTATT_OK;
}

/* ---- pixels -------------------------------------------------------------- */

ao_fill ao_fill_from(const aigtatt_params *p)
{
    ao_fill f = {AO_REFLECT, {255, 255, 255, 255}};
    const char *m = AO_S(p, "border");
    f.mode = !strcmp(m, "edge") ? AO_EDGE : !strcmp(m, "constant") ? AO_CONSTANT : AO_REFLECT;
    uint8_t v = (uint8_t)AO_I(p, "fill");
    f.value[0] = f.value[1] = f.value[2] = v;
    f.value[3] = 255;
    return f;
}

aigtatt_image *ao_new_like(const aigtatt_image *in)
{
    return ao_host->image_new(in->width, in->height, in->channels);
}

aigtatt_image *ao_new_uninit(int w, int h, int c)
{
    /* Every op but skin writes each byte of its output, so the host's
     * unzeroed allocation saves a memset per image (flip is memcpy-bound). */
    aigtatt_image *img = ao_host->image_new_uninit(w, h, c);
#ifdef AO_POISON_UNINIT
    /* Test builds: garbage instead of whatever malloc gave, so that an op
     * that reads a byte it did not write shows up as changed output. */
    if (img)
        for (size_t i = 0; i < img->stride * (size_t)img->height; i++)
            img->data[i] = (uint8_t)(0x5a ^ (i * 131));
#endif
    return img;
}

aigtatt_image *ao_new_uninit_like(const aigtatt_image *in) { return ao_new_uninit(in->width, in->height, in->channels); }

/* Mirror without repeating the edge (OpenCV's BORDER_REFLECT_101), the
 * usual default of augmentation libraries. */
static int reflect(int i, int n)
{
    if (n == 1)
        return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

static int resolve(int i, int n, ao_border mode)
{
    if (i >= 0 && i < n)
        return i;
    if (mode == AO_REFLECT)
        return reflect(i, n);
    if (mode == AO_EDGE)
        return i < 0 ? 0 : n - 1;
    return -1;
}

/* The interior bilinear sample with 10-bit weights: (x0, y0) and its three
 * neighbours are inside. Three channels (the pipeline's RGB) unrolled. */
static inline __attribute__((always_inline)) void bilinear_fixed(const aigtatt_image *in, int x0, int y0, uint32_t wx, uint32_t wy, uint8_t *out)
{
    const int c = in->channels;
    const uint32_t w00 = (1024 - wx) * (1024 - wy), w10 = wx * (1024 - wy), w01 = (1024 - wx) * wy, w11 = wx * wy;
    const uint8_t *p = ao_px(in, x0, y0), *q = p + in->stride;
    if (c == 3) {
        out[0] = (uint8_t)((w00 * p[0] + w10 * p[3] + w01 * q[0] + w11 * q[3] + (1u << 19)) >> 20);
        out[1] = (uint8_t)((w00 * p[1] + w10 * p[4] + w01 * q[1] + w11 * q[4] + (1u << 19)) >> 20);
        out[2] = (uint8_t)((w00 * p[2] + w10 * p[5] + w01 * q[2] + w11 * q[5] + (1u << 19)) >> 20);
        return;
    }
    for (int k = 0; k < c; k++)
        out[k] = (uint8_t)((w00 * p[k] + w10 * p[c + k] + w01 * q[k] + w11 * q[c + k] + (1u << 19)) >> 20);
}

int ao_resolve(int i, int n, ao_border mode) { return resolve(i, n, mode); }

void ao_sample(const aigtatt_image *in, double sx, double sy, const ao_fill *f, uint8_t *out)
{
    const int c = in->channels;
    double fx = sx - 0.5, fy = sy - 0.5;
    /* Inside, with all four neighbours: the common case, kept branch-free. */
    if (fx >= 0 && fy >= 0 && fx < in->width - 1 && fy < in->height - 1) {
        int x0 = (int)fx, y0 = (int)fy;
        /* 10-bit fixed-point weights: exact enough for 8-bit pixels, and
         * integer arithmetic is what makes warps cheap at 1024x1024. */
        uint32_t wx = (uint32_t)((fx - x0) * 1024 + 0.5), wy = (uint32_t)((fy - y0) * 1024 + 0.5);
        bilinear_fixed(in, x0, y0, wx, wy, out);
        return;
    }
    /* Far outside: no need to interpolate, and no int overflow. */
    if (!(fabs(fx) < 1e7 && fabs(fy) < 1e7)) {
        memcpy(out, f->value, (size_t)c);
        return;
    }
    int x0 = (int)floor(fx), y0 = (int)floor(fy);
    double ax = fx - x0, ay = fy - y0;
    int xs[2] = {resolve(x0, in->width, f->mode), resolve(x0 + 1, in->width, f->mode)};
    int ys[2] = {resolve(y0, in->height, f->mode), resolve(y0 + 1, in->height, f->mode)};
    double acc[4] = {0, 0, 0, 0};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            double w = (i ? ax : 1 - ax) * (j ? ay : 1 - ay);
            const uint8_t *p = xs[i] >= 0 && ys[j] >= 0 ? ao_px(in, xs[i], ys[j]) : f->value;
            for (int k = 0; k < c; k++)
                acc[k] += w * p[k];
        }
    for (int k = 0; k < c; k++)
        out[k] = ao_clamp_u8(acc[k]);
}

/* One bilinear sample at a 32.32 fixed-point position (fx, fy) already
 * shifted by -0.5 (pixel centres at integers), with 10-bit weights as in
 * ao_sample()'s interior path. Inside: the four neighbours. Outside with an
 * edge border: the same arithmetic on clamped neighbours. Otherwise
 * ao_sample() decides. */
static inline __attribute__((always_inline)) void sample_fixed(const aigtatt_image *in, int64_t fx, int64_t fy,
                                                               const ao_fill *f, uint8_t *d)
{
    const int c = in->channels, W = in->width, Hh = in->height;
    int x0 = (int)(fx >> 32), y0 = (int)(fy >> 32); /* floor */
    const uint32_t wx = (uint32_t)(((fx & 0xffffffff) + (INT64_C(1) << 21)) >> 22);
    const uint32_t wy = (uint32_t)(((fy & 0xffffffff) + (INT64_C(1) << 21)) >> 22);
    int x1 = x0 + 1, y1 = y0 + 1;
    if (x0 < 0 || y0 < 0 || x1 >= W || y1 >= Hh) {
        if (f->mode != AO_EDGE) {
            ao_sample(in, (double)fx / 4294967296.0 + 0.5, (double)fy / 4294967296.0 + 0.5, f, d);
            return;
        }
        x0 = x0 < 0 ? 0 : x0 >= W ? W - 1 : x0;
        x1 = x1 < 0 ? 0 : x1 >= W ? W - 1 : x1;
        y0 = y0 < 0 ? 0 : y0 >= Hh ? Hh - 1 : y0;
        y1 = y1 < 0 ? 0 : y1 >= Hh ? Hh - 1 : y1;
    }
    const uint32_t w00 = (1024 - wx) * (1024 - wy), w10 = wx * (1024 - wy), w01 = (1024 - wx) * wy, w11 = wx * wy;
    const uint8_t *p0 = in->data + (size_t)y0 * in->stride, *q0 = in->data + (size_t)y1 * in->stride;
    const uint8_t *p = p0 + (size_t)x0 * c, *pr = p0 + (size_t)x1 * c, *q = q0 + (size_t)x0 * c,
                  *qr = q0 + (size_t)x1 * c;
    if (c == 3) {
        d[0] = (uint8_t)((w00 * p[0] + w10 * pr[0] + w01 * q[0] + w11 * qr[0] + (1u << 19)) >> 20);
        d[1] = (uint8_t)((w00 * p[1] + w10 * pr[1] + w01 * q[1] + w11 * qr[1] + (1u << 19)) >> 20);
        d[2] = (uint8_t)((w00 * p[2] + w10 * pr[2] + w01 * q[2] + w11 * qr[2] + (1u << 19)) >> 20);
        return;
    }
    for (int k = 0; k < c; k++)
        d[k] = (uint8_t)((w00 * p[k] + w10 * pr[k] + w01 * q[k] + w11 * qr[k] + (1u << 19)) >> 20);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AO_WARP_SIMD 1

/* sample_fixed() for an RGB pixel whose four neighbours are inside and
 * whose 8-byte loads stay inside the rows (x0 + 2 < width), in vector
 * integers: v = (1024-wy) p + wy q per channel (pmaddwd), then
 * (1024 v + wx (v_right - v) + 2^19) >> 20: exactly the scalar sum.
 * Stores 4 bytes (the fourth is the next pixel's, written after). */
__attribute__((target("avx2"))) static inline void bilinear3_vec(const uint8_t *p, size_t stride, uint32_t wx,
                                                                 uint32_t wy, uint8_t *d)
{
    const __m128i z = _mm_setzero_si128();
    const __m128i P = _mm_loadl_epi64((const __m128i *)(const void *)p);
    const __m128i Q = _mm_loadl_epi64((const __m128i *)(const void *)(p + stride));
    const __m128i PQ = _mm_unpacklo_epi8(P, Q);
    const __m128i WY = _mm_set1_epi32((int)((1024 - wy) | (wy << 16)));
    const __m128i v = _mm_madd_epi16(_mm_unpacklo_epi8(PQ, z), WY);
    const __m128i vr = _mm_alignr_epi8(_mm_madd_epi16(_mm_unpackhi_epi8(PQ, z), WY), v, 12);
    __m128i t = _mm_add_epi32(_mm_slli_epi32(v, 10), _mm_mullo_epi32(_mm_sub_epi32(vr, v), _mm_set1_epi32((int)wx)));
    t = _mm_srli_epi32(_mm_add_epi32(t, _mm_set1_epi32(1 << 19)), 20);
    t = _mm_packus_epi16(_mm_packus_epi32(t, t), z);
    const int32_t r = _mm_cvtsi128_si32(t);
    memcpy(d, &r, 4);
}

/* One RGB pixel at (fx, fy) as sample_fixed() gives it. */
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void sample3(const aigtatt_image *in, int64_t fx, int64_t fy,
                                                           const ao_fill *f, uint8_t *d, int last)
{
    const int x0 = (int)(fx >> 32), y0 = (int)(fy >> 32);
    if (!last && (unsigned)x0 < (unsigned)(in->width - 2) && (unsigned)y0 < (unsigned)(in->height - 1)) {
        const uint32_t wx = (uint32_t)(((fx & 0xffffffff) + (INT64_C(1) << 21)) >> 22);
        const uint32_t wy = (uint32_t)(((fy & 0xffffffff) + (INT64_C(1) << 21)) >> 22);
        bilinear3_vec(in->data + (size_t)y0 * in->stride + (size_t)x0 * 3, in->stride, wx, wy, d);
        return;
    }
    sample_fixed(in, fx, fy, f, d);
}

__attribute__((target("avx2"))) static void fixed_row3(const aigtatt_image *in, uint8_t *d, int n, int last,
                                                        const int64_t *fx, const int64_t *fy, const ao_fill *f)
{
    for (int x = 0; x < n; x++, d += 3)
        sample3(in, fx[x], fy[x], f, d, last && x == n - 1);
}

/* The projective source points of pixels x0 .. x0+n-1 of row y, four at a
 * time: the same IEEE operations in the same order as one at a time. */
__attribute__((target("avx2"))) static void persp_points4(const double H[9], int x0, int n, double cy, double *ws,
                                                           double *sxs, double *sys)
{
    const __m256d h0 = _mm256_set1_pd(H[0]), h3 = _mm256_set1_pd(H[3]), h6 = _mm256_set1_pd(H[6]);
    const __m256d b0 = _mm256_set1_pd(H[1] * cy), b3 = _mm256_set1_pd(H[4] * cy), b6 = _mm256_set1_pd(H[7] * cy);
    const __m256d c0 = _mm256_set1_pd(H[2]), c3 = _mm256_set1_pd(H[5]), c6 = _mm256_set1_pd(H[8]);
    const __m256d one = _mm256_set1_pd(1.0), step = _mm256_set1_pd(4.0);
    __m256d cx = _mm256_setr_pd(x0 + 0.5, x0 + 1.5, x0 + 2.5, x0 + 3.5);
    int x = 0;
    for (; x + 4 <= n; x += 4, cx = _mm256_add_pd(cx, step)) {
        const __m256d w = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(h6, cx), b6), c6);
        const __m256d iw = _mm256_div_pd(one, w);
        _mm256_storeu_pd(ws + x, w);
        _mm256_storeu_pd(sxs + x, _mm256_mul_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(h0, cx), b0), c0), iw));
        _mm256_storeu_pd(sys + x, _mm256_mul_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(h3, cx), b3), c3), iw));
    }
    for (; x < n; x++) {
        const double cxs = (x0 + x) + 0.5, w = H[6] * cxs + H[7] * cy + H[8], iw = 1.0 / w;
        ws[x] = w;
        sxs[x] = (H[0] * cxs + H[1] * cy + H[2]) * iw;
        sys[x] = (H[3] * cxs + H[4] * cy + H[5]) * iw;
    }
}

/* The 32.32 fixed-point source points (sx - 0.5) * 2^32 and (sy - 0.5) *
 * 2^32 of n pixels, truncated as a conversion to int64 truncates, when
 * every point is well inside the int64 range of that conversion method
 * (|s| < 2^18: the scaled value is an integer below 2^51, which adding
 * 1.5 * 2^52 puts in the low mantissa bits exactly) and no denominator
 * vanishes; returns 0 (and writes nothing) otherwise. */
__attribute__((target("avx2"))) static int persp_fixed4(const double *ws, const double *sxs, const double *sys, int n,
                                                         int64_t *fxs, int64_t *fys)
{
    const __m256d eps = _mm256_set1_pd(1e-12), big = _mm256_set1_pd(262144.0), half = _mm256_set1_pd(0.5);
    const __m256d one = _mm256_set1_pd(4294967296.0), magic = _mm256_set1_pd(6755399441055744.0);
    const __m256d sign = _mm256_set1_pd(-0.0);
    int x = 0;
    __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    for (; x + 4 <= n; x += 4) {
        const __m256d w = _mm256_loadu_pd(ws + x), sx = _mm256_loadu_pd(sxs + x), sy = _mm256_loadu_pd(sys + x);
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_andnot_pd(sign, w), eps, _CMP_GE_OQ));
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_andnot_pd(sign, sx), big, _CMP_LT_OQ));
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_andnot_pd(sign, sy), big, _CMP_LT_OQ));
    }
    if (_mm256_movemask_pd(ok) != 15)
        return 0;
    for (int t = x; t < n; t++)
        if (!(fabs(ws[t]) >= 1e-12 && fabs(sxs[t]) < 262144.0 && fabs(sys[t]) < 262144.0))
            return 0;
    for (x = 0; x + 4 <= n; x += 4) {
        const __m256d fx = _mm256_round_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(sxs + x), half), one),
                                           _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256d fy = _mm256_round_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(sys + x), half), one),
                                           _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256i mb = _mm256_castpd_si256(magic);
        _mm256_storeu_si256((__m256i *)(void *)(fxs + x),
                            _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(fx, magic)), mb));
        _mm256_storeu_si256((__m256i *)(void *)(fys + x),
                            _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(fy, magic)), mb));
    }
    for (; x < n; x++) {
        fxs[x] = (int64_t)((sxs[x] - 0.5) * 4294967296.0);
        fys[x] = (int64_t)((sys[x] - 0.5) * 4294967296.0);
    }
    return 1;
}

static int warp_simd(const aigtatt_image *in)
{
    return in->channels == 3 && in->width >= 3 && in->height >= 2 && ao_cpu_avx2();
}
#endif

/* Output tiles: TILE_H rows by TILE_W pixels, so that the source pixels a
 * tile reads (a rotated or stretched copy of it) stay in the L1 cache;
 * a whole output row reads a slanted band of many source rows. */
#define TILE_W 64
#define TILE_H 16

void ao_warp(const aigtatt_image *in, aigtatt_image *out, const double H[9], const ao_fill *f)
{
    /* Source points within +-2^30 pixels (any sane transform) go through
     * 32.32 fixed point: an affine H steps along a row by integer adds
     * (exact to 2^-32 pixel), a projective one divides once per pixel
     * (its conversion truncates, an error below 2^-32 pixel).
     * Farther points, and a vanishing denominator, take the old path.
     * Pixels are visited tile by tile; each one's value depends on its own
     * position only, so the order changes no byte. */
    const int c = out->channels, W = out->width, Hh = out->height;
    const double one = 4294967296.0, lim = 1073741824.0;
#ifdef AO_WARP_SIMD
    const int simd = c == 3 && warp_simd(in);
#else
    const int simd = 0;
#endif
    int64_t fxs[TILE_W], fys[TILE_W];
    if (H[6] == 0 && H[7] == 0 && fabs(H[8]) >= 1e-12) {
        const double iw = 1.0 / H[8];
        int ok = 1;
        for (int i = 0; i < 4 && ok; i++) {
            double cx = i & 1 ? W : 0, cy = i & 2 ? Hh : 0;
            ok = fabs((H[0] * cx + H[1] * cy + H[2]) * iw) < lim && fabs((H[3] * cx + H[4] * cy + H[5]) * iw) < lim;
        }
        if (ok) {
            const int64_t dx = (int64_t)llround(H[0] * iw * one), dy = (int64_t)llround(H[3] * iw * one);
            for (int y0 = 0; y0 < Hh; y0 += TILE_H) {
                const int y1 = y0 + TILE_H < Hh ? y0 + TILE_H : Hh;
                int64_t rfx[TILE_H], rfy[TILE_H];
                for (int y = y0; y < y1; y++) {
                    const double cy = y + 0.5;
                    rfx[y - y0] = (int64_t)llround(((H[0] * 0.5 + H[1] * cy + H[2]) * iw - 0.5) * one);
                    rfy[y - y0] = (int64_t)llround(((H[3] * 0.5 + H[4] * cy + H[5]) * iw - 0.5) * one);
                }
                for (int x0 = 0; x0 < W; x0 += TILE_W) {
                    const int n = x0 + TILE_W < W ? TILE_W : W - x0;
                    for (int y = y0; y < y1; y++) {
                        int64_t fx = rfx[y - y0] + (int64_t)x0 * dx, fy = rfy[y - y0] + (int64_t)x0 * dy;
                        uint8_t *d = ao_px(out, x0, y);
#ifdef AO_WARP_SIMD
                        if (simd) {
                            for (int x = 0; x < n; x++, fx += dx, fy += dy) {
                                fxs[x] = fx;
                                fys[x] = fy;
                            }
                            fixed_row3(in, d, n, x0 + n == W, fxs, fys, f);
                            continue;
                        }
#endif
                        for (int x = 0; x < n; x++, d += c, fx += dx, fy += dy)
                            sample_fixed(in, fx, fy, f, d);
                    }
                }
            }
            return;
        }
    }
    /* Projective: a tile row's source points first, in a loop the compiler
     * vectorises (the same IEEE operations per pixel, so the same values
     * as one pixel at a time), then the samples. */
    double ws[TILE_W], sxs[TILE_W], sys[TILE_W];
    uint8_t okp[TILE_W];
    for (int y0 = 0; y0 < Hh; y0 += TILE_H) {
        const int y1 = y0 + TILE_H < Hh ? y0 + TILE_H : Hh;
        for (int x0 = 0; x0 < W; x0 += TILE_W) {
            const int n = x0 + TILE_W < W ? TILE_W : W - x0;
            for (int y = y0; y < y1; y++) {
                uint8_t *d = ao_px(out, x0, y);
                const double cy = y + 0.5;
#ifdef AO_WARP_SIMD
                if (simd)
                    persp_points4(H, x0, n, cy, ws, sxs, sys);
                else
#endif
                for (int x = 0; x < n; x++) {
                    const double cx = (x0 + x) + 0.5, w = H[6] * cx + H[7] * cy + H[8], iw = 1.0 / w;
                    ws[x] = w;
                    sxs[x] = (H[0] * cx + H[1] * cy + H[2]) * iw;
                    sys[x] = (H[3] * cx + H[4] * cy + H[5]) * iw;
                }
#ifdef AO_WARP_SIMD
                if (simd && persp_fixed4(ws, sxs, sys, n, fxs, fys)) {
                    fixed_row3(in, d, n, x0 + n == W, fxs, fys, f);
                    continue;
                }
#endif
                int all = 1;
                for (int x = 0; x < n; x++) {
                    okp[x] = fabs(ws[x]) >= 1e-12 && fabs(sxs[x]) < lim && fabs(sys[x]) < lim;
                    all &= okp[x];
                    fxs[x] = okp[x] ? (int64_t)((sxs[x] - 0.5) * one) : 0;
                    fys[x] = okp[x] ? (int64_t)((sys[x] - 0.5) * one) : 0;
                }
#ifdef AO_WARP_SIMD
                if (simd && all) {
                    fixed_row3(in, d, n, x0 + n == W, fxs, fys, f);
                    continue;
                }
#endif
                for (int x = 0; x < n; x++, d += c) {
                    if (okp[x])
                        sample_fixed(in, fxs[x], fys[x], f, d);
                    else if (fabs(ws[x]) < 1e-12)
                        memcpy(d, f->value, (size_t)c);
                    else
                        ao_sample(in, sxs[x], sys[x], f, d);
                }
            }
        }
    }
    (void)simd;
}

void ao_warp_map(const aigtatt_image *in, aigtatt_image *out, ao_map_fn map, void *ctx, const ao_fill *f)
{
    for (int y = 0; y < out->height; y++) {
        uint8_t *d = ao_px(out, 0, y);
        for (int x = 0; x < out->width; x++, d += out->channels) {
            double sx, sy;
            if (map(ctx, x + 0.5, y + 0.5, &sx, &sy))
                ao_sample(in, sx, sy, f, d);
            else
                memcpy(d, f->value, (size_t)out->channels);
        }
    }
}

int ao_mat3_inv(const double m[9], double r[9])
{
    double a = m[4] * m[8] - m[5] * m[7], b = m[5] * m[6] - m[3] * m[8], c = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * a + m[1] * b + m[2] * c;
    if (fabs(det) < 1e-15)
        return -1;
    double id = 1.0 / det;
    r[0] = a * id;
    r[1] = (m[2] * m[7] - m[1] * m[8]) * id;
    r[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    r[3] = b * id;
    r[4] = (m[0] * m[8] - m[2] * m[6]) * id;
    r[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    r[6] = c * id;
    r[7] = (m[1] * m[6] - m[0] * m[7]) * id;
    r[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    return 0;
}

void ao_mat3_mul(const double a[9], const double b[9], double m[9])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            m[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
}

/* ---- blur ----------------------------------------------------------------- */

static float *gauss_kernel(double sigma, int *radius)
{
    int r = (int)ceil(3.0 * sigma);
    if (r < 1)
        r = 1;
    float *k = malloc((size_t)(2 * r + 1) * sizeof *k);
    if (!k)
        return NULL;
    double sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = (float)exp(-(double)(i * i) / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] = (float)(k[i] / sum);
    *radius = r;
    return k;
}

/* Four floats: GCC and Clang compile the arithmetic to SSE2 on plain
 * x86-64 (and to NEON on ARM), no intrinsics needed. */
typedef float ao_v4 __attribute__((vector_size(16)));

static inline ao_v4 v4_load(const float *p)
{
    ao_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

#ifdef AO_WARP_SIMD
/* The AVX versions of the two loops below: 16 outputs a step in two
 * 8-float registers, the same multiplies and adds in the same order per
 * output (no FMA: the target does not enable it), so the same floats. */
typedef float ao_v8 __attribute__((vector_size(32)));

__attribute__((target("avx2"))) static inline ao_v8 v8_load(const float *p)
{
    ao_v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

__attribute__((target("avx2"))) static size_t weighted_rows_avx(float *d, const float *const *src, const float *k,
                                                               int taps, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        ao_v8 a = v8_load(src[0] + i) * k[0], b = v8_load(src[0] + i + 8) * k[0];
        for (int j = 1; j < taps; j++) {
            a += v8_load(src[j] + i) * k[j];
            b += v8_load(src[j] + i + 8) * k[j];
        }
        memcpy(d + i, &a, sizeof a);
        memcpy(d + i + 8, &b, sizeof b);
    }
    return i;
}

__attribute__((target("avx2"))) static size_t weighted_rows_sym_avx(float *d, const float *const *src, const float *k,
                                                                   int taps, size_t n)
{
    const int r = taps / 2;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        ao_v8 a = v8_load(src[r] + i) * k[r], b = v8_load(src[r] + i + 8) * k[r];
        for (int j = 0; j < r; j++) {
            const float *lo = src[j], *hi = src[taps - 1 - j];
            a += (v8_load(lo + i) + v8_load(hi + i)) * k[j];
            b += (v8_load(lo + i + 8) + v8_load(hi + i + 8)) * k[j];
        }
        memcpy(d + i, &a, sizeof a);
        memcpy(d + i + 8, &b, sizeof b);
    }
    return i;
}

static int have_avx(void) { return ao_cpu_avx2(); }
#endif

/* d[i] = sum_j k[j] * src[j][i] for i < n, eight outputs at a time held in
 * two registers (each sum runs over j in order, as the scalar tail does). */
void ao_weighted_rows(float *d, const float *const *src, const float *k, int taps, size_t n)
{
    size_t i = 0;
#ifdef AO_WARP_SIMD
    if (have_avx())
        i = weighted_rows_avx(d, src, k, taps, n);
#endif
    for (; i + 8 <= n; i += 8) {
        ao_v4 a = v4_load(src[0] + i) * k[0], b = v4_load(src[0] + i + 4) * k[0];
        for (int j = 1; j < taps; j++) {
            a += v4_load(src[j] + i) * k[j];
            b += v4_load(src[j] + i + 4) * k[j];
        }
        memcpy(d + i, &a, sizeof a);
        memcpy(d + i + 4, &b, sizeof b);
    }
    for (; i < n; i++) {
        float acc = src[0][i] * k[0];
        for (int j = 1; j < taps; j++)
            acc += src[j][i] * k[j];
        d[i] = acc;
    }
}

/* As ao_weighted_rows() for a symmetric kernel (k[j] == k[taps-1-j], taps
 * odd): the mirrored rows are added before the multiply, half the work. */
static void weighted_rows_sym(float *d, const float *const *src, const float *k, int taps, size_t n)
{
    const int r = taps / 2;
    size_t i = 0;
#ifdef AO_WARP_SIMD
    if (have_avx())
        i = weighted_rows_sym_avx(d, src, k, taps, n);
#endif
    for (; i + 8 <= n; i += 8) {
        ao_v4 a = v4_load(src[r] + i) * k[r], b = v4_load(src[r] + i + 4) * k[r];
        for (int j = 0; j < r; j++) {
            const float *lo = src[j], *hi = src[taps - 1 - j];
            a += (v4_load(lo + i) + v4_load(hi + i)) * k[j];
            b += (v4_load(lo + i + 4) + v4_load(hi + i + 4)) * k[j];
        }
        memcpy(d + i, &a, sizeof a);
        memcpy(d + i + 4, &b, sizeof b);
    }
    for (; i < n; i++) {
        float acc = src[r][i] * k[r];
        for (int j = 0; j < r; j++)
            acc += (src[j][i] + src[taps - 1 - j][i]) * k[j];
        d[i] = acc;
    }
}

/* The rows a blur reads and writes: get() puts source row y (rowlen
 * floats) into dst; put() stores output row y. */
typedef struct blur_io {
    void (*get)(void *ctx, int y, float *dst);
    void (*put)(void *ctx, int y, const float *src);
    void *ctx;
} blur_io;

/* Separable Gaussian blur of an image of `c` interleaved channels, row by
 * row: each source row is blurred horizontally once, into a ring of the
 * 2r+1 rows the vertical pass needs, and each output row is a weighted sum
 * of those rows. Memory stays at a few rows (no full-size float copies),
 * every pass reads memory in order, and the inner loops vectorise. Output
 * row y is written after every source row up to y+r was read, so the
 * source and the destination may be the same plane. The kernel is
 * symmetric, so mirrored taps are added before the multiply; float
 * rounding then differs from the old scalar sums by about 1e-7, which can
 * move a rare value by one grey level. */
static int blur_rows(int w, int h, int c, double sigma, const blur_io *io)
{
    int r = 0;
    const size_t rowlen = (size_t)w * (size_t)c;
    float *k = gauss_kernel(sigma, &r);
    const int taps = 2 * r + 1;
    float *pad = malloc(((size_t)w + 2 * (size_t)r) * (size_t)c * sizeof *pad);
    float *ring = malloc((size_t)taps * rowlen * sizeof *ring), *line = malloc(rowlen * sizeof *line);
    int *held = malloc((size_t)taps * sizeof *held);
    const float **src = malloc((size_t)taps * sizeof *src);
    const float **hsrc = malloc((size_t)taps * sizeof *hsrc);
    if (!k || !pad || !ring || !line || !held || !src || !hsrc) {
        free(k);
        free(pad);
        free(ring);
        free(line);
        free(held);
        free(src);
        free(hsrc);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (int j = 0; j < taps; j++) {
        held[j] = -1;
        hsrc[j] = pad + (size_t)j * c;
    }
    for (int y = 0; y < h; y++) {
        for (int j = 0; j < taps; j++) {
            int sy = resolve(y + j - r, h, AO_REFLECT), slot = sy % taps;
            float *hrow = ring + (size_t)slot * rowlen;
            if (held[slot] != sy) {
                /* Horizontal pass of source row sy, through a mirror-padded copy. */
                io->get(io->ctx, sy, pad + (size_t)r * c);
                for (int x = -r; x < 0; x++)
                    memcpy(pad + (size_t)(x + r) * c, pad + (size_t)(resolve(x, w, AO_REFLECT) + r) * c,
                           (size_t)c * sizeof *pad);
                for (int x = w; x < w + r; x++)
                    memcpy(pad + (size_t)(x + r) * c, pad + (size_t)(resolve(x, w, AO_REFLECT) + r) * c,
                           (size_t)c * sizeof *pad);
                weighted_rows_sym(hrow, hsrc, k, taps, rowlen);
                held[slot] = sy;
            }
            src[j] = hrow;
        }
        weighted_rows_sym(line, src, k, taps, rowlen);
        io->put(io->ctx, y, line);
    }
    free(k);
    free(pad);
    free(ring);
    free(line);
    free(held);
    free(src);
    free(hsrc);
    return AIGTATT_OK;
}

typedef struct plane_ctx {
    float *plane;
    int w;
} plane_ctx;

static void plane_get(void *vctx, int y, float *dst)
{
    plane_ctx *p = vctx;
    memcpy(dst, p->plane + (size_t)y * p->w, (size_t)p->w * sizeof *dst);
}

static void plane_put(void *vctx, int y, const float *src)
{
    plane_ctx *p = vctx;
    memcpy(p->plane + (size_t)y * p->w, src, (size_t)p->w * sizeof *src);
}

/* Bleed's store: a blurred row only raises the plane (max), so a stroke's
 * halo spreads while its core keeps its density. In place is safe for the
 * same reason as plane_put: row y is stored after every row it reads. */
static void plane_put_max(void *vctx, int y, const float *src)
{
    plane_ctx *p = vctx;
    float *d = p->plane + (size_t)y * p->w;
    for (int x = 0; x < p->w; x++)
        d[x] = fmaxf(d[x], src[x]);
}

int ao_bleed_plane(float *plane, int w, int h, double sigma)
{
    if (sigma <= 0)
        return AIGTATT_OK;
    plane_ctx p = {plane, w};
    blur_io io = {plane_get, plane_put_max, &p};
    return blur_rows(w, h, 1, sigma, &io);
}

int ao_blur_plane(float *plane, int w, int h, double sigma)
{
    if (sigma <= 0)
        return AIGTATT_OK;
    plane_ctx p = {plane, w};
    blur_io io = {plane_get, plane_put, &p};
    return blur_rows(w, h, 1, sigma, &io);
}

/* The smooth field of ao_noise_new(): a grid of uniform values in [-1, 1]
 * with one cell of margin, and per column and per row the grid cell and the
 * smoothstep weight, so that a value costs four loads and three lerps and
 * no full-size plane is ever needed (a 6000x4000 photo would take 96 MB a
 * field). */
struct ao_noise {
    int w, h, gw;
    float *grid;
    int *ix, *iy;
    double *tx, *ty;
};

/* Cell index and smoothstep weight of pixel i of n along an axis of `cells`. */
static void noise_axis(int n, int cells, int *idx, double *t)
{
    for (int i = 0; i < n; i++) {
        double g = (i + 0.5) / n * cells;
        int k = (int)g;
        double f = g - k;
        idx[i] = k;
        t[i] = f * f * (3 - 2 * f); /* smoothstep: no visible grid creases */
    }
}

ao_noise *ao_noise_new(aigtatt_rng *rng, int w, int h, int cells)
{
    if (cells < 1)
        cells = 1;
    ao_noise *nz = calloc(1, sizeof *nz);
    int gw = cells + 2, gh = cells + 2;
    if (nz) {
        nz->w = w;
        nz->h = h;
        nz->gw = gw;
        nz->grid = malloc((size_t)gw * gh * sizeof *nz->grid);
        nz->ix = malloc((size_t)w * sizeof *nz->ix);
        nz->iy = malloc((size_t)h * sizeof *nz->iy);
        nz->tx = malloc((size_t)w * sizeof *nz->tx);
        nz->ty = malloc((size_t)h * sizeof *nz->ty);
    }
    if (!nz || !nz->grid || !nz->ix || !nz->iy || !nz->tx || !nz->ty) {
        ao_noise_free(nz);
        ao_host->set_error("out of memory");
        return NULL;
    }
    for (int i = 0; i < gw * gh; i++)
        nz->grid[i] = (float)ao_uniform(rng, -1, 1);
    noise_axis(w, cells, nz->ix, nz->tx);
    noise_axis(h, cells, nz->iy, nz->ty);
    return nz;
}

float ao_noise_at(const ao_noise *nz, int x, int y)
{
    const float *g = nz->grid + (size_t)nz->iy[y] * nz->gw + nz->ix[x];
    double tx = nz->tx[x];
    double top = g[0] + (g[1] - g[0]) * tx, bot = g[nz->gw] + (g[nz->gw + 1] - g[nz->gw]) * tx;
    return (float)(top + (bot - top) * nz->ty[y]);
}

void ao_noise_row(const ao_noise *nz, int y, float *row)
{
    for (int x = 0; x < nz->w; x++)
        row[x] = ao_noise_at(nz, x, y);
}

void ao_noise_free(ao_noise *nz)
{
    if (!nz)
        return;
    free(nz->grid);
    free(nz->ix);
    free(nz->iy);
    free(nz->tx);
    free(nz->ty);
    free(nz);
}
