/* Vector kernels of the ops. Every kernel here is exact integer (or pure
 * copy/table) arithmetic, so each gives the same bytes as the scalar loop
 * it replaces, whichever instruction set runs it: the AVX2 and SSSE3
 * variants are chosen at run time (__builtin_cpu_supports) and the
 * project's SSE2-only build keeps a plain path. */
#include "ao.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AO_X86 1
#endif

#ifdef AO_X86
/* Build with -DAO_FORCE_SCALAR to take the plain paths everywhere: they
 * must give the same bytes. */
int ao_cpu_avx2(void) {
#ifdef AO_FORCE_SCALAR
    return 0;
#else
    static int v = -1; /* a benign race: every thread computes the same value */
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return v;
#endif
}
int ao_cpu_ssse3(void) {
#ifdef AO_FORCE_SCALAR
    return 0;
#else
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("ssse3") ? 1 : 0;
    }
    return v;
#endif
}
#define have_avx2 ao_cpu_avx2
#define have_ssse3 ao_cpu_ssse3
#else
int ao_cpu_avx2(void) { return 0; }
int ao_cpu_ssse3(void) { return 0; }
#endif

/* ---- 256-entry table -------------------------------------------------------- */

#ifdef AO_X86
/* 16 pshufb lookups (one per high nibble) on the low nibble, then a tree
 * of byte blends on bits 4, 5, 6 and 7 of the value. */
__attribute__((target("avx2"))) static void lut_avx2(const uint8_t *s0, size_t ss, uint8_t *d0, size_t ds, size_t n,
                                                     int rows, const uint8_t lut[256]) {
    __m256i t[16];
    for (int h = 0; h < 16; h++)
        t[h] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(lut + 16 * h)));
    const __m256i lo = _mm256_set1_epi8(0x0f);
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = s0 + (size_t)y * ss;
        uint8_t *d = d0 + (size_t)y * ds;
        size_t i = 0;
        for (; i + 32 <= n; i += 32) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
            const __m256i idx = _mm256_and_si256(v, lo);
            const __m256i m4 = _mm256_slli_epi16(v, 3), m5 = _mm256_slli_epi16(v, 2), m6 = _mm256_slli_epi16(v, 1);
            __m256i r[8];
            for (int h = 0; h < 8; h++)
                r[h] =
                    _mm256_blendv_epi8(_mm256_shuffle_epi8(t[2 * h], idx), _mm256_shuffle_epi8(t[2 * h + 1], idx), m4);
            for (int h = 0; h < 4; h++)
                r[h] = _mm256_blendv_epi8(r[2 * h], r[2 * h + 1], m5);
            r[0] = _mm256_blendv_epi8(r[0], r[1], m6);
            r[1] = _mm256_blendv_epi8(r[2], r[3], m6);
            _mm256_storeu_si256((__m256i *)(void *)(d + i), _mm256_blendv_epi8(r[0], r[1], v));
        }
        for (; i < n; i++)
            d[i] = lut[s[i]];
    }
}
#endif

void ao_lut_rows(const uint8_t *s, size_t ss, uint8_t *d, size_t ds, size_t n, int rows, const uint8_t lut[256]) {
#ifdef AO_X86
    if (have_avx2()) {
        lut_avx2(s, ss, d, ds, n, rows, lut);
        return;
    }
#endif
    for (int y = 0; y < rows; y++, s += ss, d += ds)
        ao_lut_row(s, d, n, lut);
}

void ao_lut_row(const uint8_t *s, uint8_t *d, size_t n, const uint8_t lut[256]) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint8_t a = lut[s[i]], b = lut[s[i + 1]], e = lut[s[i + 2]], f = lut[s[i + 3]];
        d[i] = a;
        d[i + 1] = b;
        d[i + 2] = e;
        d[i + 3] = f;
    }
    for (; i < n; i++)
        d[i] = lut[s[i]];
}

/* ---- affine map of bytes, 16-bit fixed point -------------------------------- */

uint8_t ao_affine_byte(uint8_t v, uint32_t A, int32_t B, int F) {
    const uint32_t t = ((uint32_t)v * 256u * A) >> 16;
    uint32_t u;
    if (B >= 0)
        u = t + (uint32_t)B > 65535u ? 65535u : t + (uint32_t)B;
    else
        u = t < (uint32_t)-B ? 0u : t - (uint32_t)-B;
    u >>= F;
    return (uint8_t)(u > 255 ? 255 : u);
}

#ifdef AO_X86
/* 32 bytes a step: v << 8 as 16-bit lanes (a byte unpack under zero),
 * pmulhuw by A, a saturating add or subtract of |B|, a shift by F and
 * packuswb (which clamps to 255): ao_affine_byte() exactly. */
__attribute__((target("avx2"))) static void affine_avx2(const uint8_t *s0, size_t ss, uint8_t *d0, size_t ds,
                                                        size_t n, int rows, uint32_t A, int32_t B, int F) {
    const __m256i z = _mm256_setzero_si256(), a = _mm256_set1_epi16((short)A);
    const __m256i b = _mm256_set1_epi16((short)(B >= 0 ? B : -B));
    const __m128i f = _mm_cvtsi32_si128(F);
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = s0 + (size_t)y * ss;
        uint8_t *d = d0 + (size_t)y * ds;
        size_t i = 0;
        for (; i + 32 <= n; i += 32) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
            __m256i lo = _mm256_mulhi_epu16(_mm256_unpacklo_epi8(z, v), a);
            __m256i hi = _mm256_mulhi_epu16(_mm256_unpackhi_epi8(z, v), a);
            if (B >= 0) {
                lo = _mm256_adds_epu16(lo, b);
                hi = _mm256_adds_epu16(hi, b);
            } else {
                lo = _mm256_subs_epu16(lo, b);
                hi = _mm256_subs_epu16(hi, b);
            }
            lo = _mm256_srl_epi16(lo, f);
            hi = _mm256_srl_epi16(hi, f);
            _mm256_storeu_si256((__m256i *)(void *)(d + i), _mm256_packus_epi16(lo, hi));
        }
        for (; i < n; i++)
            d[i] = ao_affine_byte(s[i], A, B, F);
    }
}
#endif

void ao_affine_rows(const uint8_t *s, size_t ss, uint8_t *d, size_t ds, size_t n, int rows, uint32_t A, int32_t B,
                    int F) {
#ifdef AO_X86
    if (F >= 1 && have_avx2()) {
        affine_avx2(s, ss, d, ds, n, rows, A, B, F);
        return;
    }
#endif
    for (int y = 0; y < rows; y++, s += ss, d += ds)
        for (size_t i = 0; i < n; i++)
            d[i] = ao_affine_byte(s[i], A, B, F);
}

/* ---- per-channel sums of an RGB row ------------------------------------------- */

#ifdef AO_X86
/* 16-bit sums per byte position of 48-byte blocks (position i is channel
 * i % 3), widened every 256 blocks. Returns the pixels done. */
__attribute__((target("avx2"))) static int sum_rgb_avx2(const uint8_t *p, int w, uint64_t sum[3]) {
    int x = 0;
    while (x + 16 <= w) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0;
        for (int blocks = 0; blocks < 256 && x + 16 <= w; blocks++, x += 16) {
            const uint8_t *q = p + (size_t)x * 3;
            a0 = _mm256_add_epi16(a0, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)q)));
            a1 = _mm256_add_epi16(a1, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(q + 16))));
            a2 = _mm256_add_epi16(a2, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(q + 32))));
        }
        uint16_t t[48];
        _mm256_storeu_si256((__m256i *)(void *)t, a0);
        _mm256_storeu_si256((__m256i *)(void *)(t + 16), a1);
        _mm256_storeu_si256((__m256i *)(void *)(t + 32), a2);
        for (int i = 0; i < 48; i++)
            sum[i % 3] += t[i];
    }
    return x;
}
#endif

void ao_sum_rgb_row(const uint8_t *p, int w, uint64_t sum[3]) {
    uint64_t r = 0, g = 0, b = 0;
    int x = 0;
#ifdef AO_X86
    if (have_avx2())
        x = sum_rgb_avx2(p, w, sum);
#endif
#ifdef __SSE2__
    /* 16 pixels (48 bytes, three vectors) a step: psadbw of all bytes, and of
     * the red and green bytes picked by masks; blue is the rest. */
    if (w - x >= 16) {
        uint8_t mr[48], mg[48];
        for (int i = 0; i < 48; i++) {
            mr[i] = i % 3 == 0 ? 0xff : 0;
            mg[i] = i % 3 == 1 ? 0xff : 0;
        }
        __m128i MR[3], MG[3];
        for (int v = 0; v < 3; v++) {
            MR[v] = _mm_loadu_si128((const __m128i *)(const void *)(mr + 16 * v));
            MG[v] = _mm_loadu_si128((const __m128i *)(const void *)(mg + 16 * v));
        }
        const __m128i z = _mm_setzero_si128();
        __m128i all = z, red = z, green = z;
        for (; x + 16 <= w; x += 16) {
            const uint8_t *q = p + (size_t)x * 3;
            for (int v = 0; v < 3; v++) {
                __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 * v));
                all = _mm_add_epi64(all, _mm_sad_epu8(a, z));
                red = _mm_add_epi64(red, _mm_sad_epu8(_mm_and_si128(a, MR[v]), z));
                green = _mm_add_epi64(green, _mm_sad_epu8(_mm_and_si128(a, MG[v]), z));
            }
        }
        uint64_t t[2];
        _mm_storeu_si128((__m128i *)(void *)t, red);
        r = t[0] + t[1];
        _mm_storeu_si128((__m128i *)(void *)t, green);
        g = t[0] + t[1];
        _mm_storeu_si128((__m128i *)(void *)t, all);
        b = t[0] + t[1] - r - g;
    }
#endif
    for (const uint8_t *q = p + (size_t)x * 3; x < w; x++, q += 3) {
        r += q[0];
        g += q[1];
        b += q[2];
    }
    sum[0] += r;
    sum[1] += g;
    sum[2] += b;
}

/* ---- 3x3 colour matrix, 14-bit fixed point ------------------------------------- */

/* Output byte j of an RGB row (channel k = j % 3 of the pixel at j - k). */
static inline uint8_t mat_byte(const uint8_t *s, size_t j, const int32_t m[9]) {
    const int k = (int)(j % 3);
    const uint8_t *p = s + j - (size_t)k;
    int32_t v = m[3 * k] * p[0] + m[3 * k + 1] * p[1] + m[3 * k + 2] * p[2] + 8192;
    v = v < 0 ? 0 : v > (255 << 14) ? (255 << 14) : v;
    return (uint8_t)(v >> 14);
}

void ao_matrix_rgb(const uint8_t *s0, size_t ss, uint8_t *d0, size_t ds, int w, int rows, const int32_t m[9]) {
    const size_t n = (size_t)w * 3;
#ifdef __SSE2__
    /* Output byte j is sum_o c_o(j) * s[j + o] over o = -2..2, where the
     * coefficients c_o depend on j % 3 only; pmaddwd takes them in pairs
     * (o = -2,-1), (0,1), (2, the rounding constant). Needs |m| < 2^15. */
    int small = 1;
    for (int i = 0; i < 9; i++)
        small &= m[i] > -32768 && m[i] < 32768;
    if (small && n >= 3 + 18) {
        /* coef[phase][pair][group]: 16 outputs from j0 with j0 % 3 == phase. */
        __m128i coef[3][3][4];
        for (int ph = 0; ph < 3; ph++)
            for (int g = 0; g < 4; g++) {
                int32_t cv[3][4];
                for (int l = 0; l < 4; l++) {
                    const int k = (ph + 4 * g + l) % 3;
                    int16_t c[6];
                    for (int o = -2; o <= 2; o++)
                        c[o + 2] = (int16_t)(o + k >= 0 && o + k <= 2 ? m[3 * k + o + k] : 0);
                    c[5] = 8192;
                    for (int pr = 0; pr < 3; pr++)
                        cv[pr][l] = (int32_t)((uint32_t)(uint16_t)c[2 * pr] | (uint32_t)(uint16_t)c[2 * pr + 1] << 16);
                }
                for (int pr = 0; pr < 3; pr++)
                    coef[ph][pr][g] = _mm_setr_epi32(cv[pr][0], cv[pr][1], cv[pr][2], cv[pr][3]);
            }
        for (int y = 0; y < rows; y++) {
            const uint8_t *s = s0 + (size_t)y * ss;
            uint8_t *d = d0 + (size_t)y * ds;
            size_t j = 0;
            for (; j < 3; j++)
                d[j] = mat_byte(s, j, m);
            const __m128i z = _mm_setzero_si128(), one = _mm_set1_epi16(1);
            int ph = 0;
            for (; j + 18 <= n; j += 16, ph = ph == 2 ? 0 : ph + 1) {
                __m128i lo[5], hi[5];
                for (int o = 0; o < 5; o++) {
                    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + j + o - 2));
                    lo[o] = _mm_unpacklo_epi8(v, z);
                    hi[o] = _mm_unpackhi_epi8(v, z);
                }
                const __m128i(*C)[4] = coef[ph];
                __m128i acc[4];
                for (int g = 0; g < 4; g++) {
                    const __m128i *a = g < 2 ? lo : hi;
                    __m128i p0, p1, p2;
                    if (g % 2 == 0) {
                        p0 = _mm_unpacklo_epi16(a[0], a[1]);
                        p1 = _mm_unpacklo_epi16(a[2], a[3]);
                        p2 = _mm_unpacklo_epi16(a[4], one);
                    } else {
                        p0 = _mm_unpackhi_epi16(a[0], a[1]);
                        p1 = _mm_unpackhi_epi16(a[2], a[3]);
                        p2 = _mm_unpackhi_epi16(a[4], one);
                    }
                    __m128i v = _mm_add_epi32(_mm_add_epi32(_mm_madd_epi16(p0, C[0][g]), _mm_madd_epi16(p1, C[1][g])),
                                              _mm_madd_epi16(p2, C[2][g]));
                    acc[g] = _mm_srai_epi32(v, 14);
                }
                __m128i r = _mm_packus_epi16(_mm_packs_epi32(acc[0], acc[1]), _mm_packs_epi32(acc[2], acc[3]));
                _mm_storeu_si128((__m128i *)(void *)(d + j), r);
            }
            for (; j < n; j++)
                d[j] = mat_byte(s, j, m);
        }
        return;
    }
#endif
    for (int y = 0; y < rows; y++)
        for (size_t j = 0; j < n; j++)
            d0[(size_t)y * ds + j] = mat_byte(s0 + (size_t)y * ss, j, m);
}

/* ---- horizontal flip ------------------------------------------------------- */

#ifdef AO_X86
/* 16 RGB pixels (48 bytes) a step: each output vector is two or three
 * pshufb of the source vectors, ORed. Returns the pixels done. */
/* FLIP_MASK[o][v][i]: where output byte 16 o + i of a block of 16 pixels
 * is in source vector v (0x80: not in it). */
#define FM_SRC(b) ((15 - (b) / 3) * 3 + (b) % 3)
#define FM(o, v, i) (FM_SRC(16 * (o) + (i)) / 16 == (v) ? FM_SRC(16 * (o) + (i)) % 16 : 0x80)
#define FM16(o, v)                                                                                                     \
    {                                                                                                                  \
        FM(o, v, 0), FM(o, v, 1), FM(o, v, 2), FM(o, v, 3), FM(o, v, 4), FM(o, v, 5), FM(o, v, 6), FM(o, v, 7),        \
            FM(o, v, 8), FM(o, v, 9), FM(o, v, 10), FM(o, v, 11), FM(o, v, 12), FM(o, v, 13), FM(o, v, 14),            \
            FM(o, v, 15)                                                                                               \
    }
static const uint8_t FLIP_MASK[3][3][16] = {
    {FM16(0, 0), FM16(0, 1), FM16(0, 2)}, {FM16(1, 0), FM16(1, 1), FM16(1, 2)}, {FM16(2, 0), FM16(2, 1), FM16(2, 2)}};
__attribute__((target("ssse3"))) static int flip3_ssse3(const uint8_t *s, uint8_t *d, int w) {
    const uint8_t(*mk)[3][16] = FLIP_MASK;
    __m128i M[3][3];
    for (int o = 0; o < 3; o++)
        for (int v = 0; v < 3; v++)
            M[o][v] = _mm_loadu_si128((const __m128i *)(const void *)mk[o][v]);
    const int blocks = w / 16;
    for (int blk = blocks - 1; blk >= 0; blk--) {
        const int x = 16 * blk;
        const uint8_t *q = s + (size_t)(w - 16 - x) * 3;
        const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)q);
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(q + 16));
        const __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(q + 32));
        for (int o = 0; o < 3; o++) {
            __m128i r = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, M[o][0]), _mm_shuffle_epi8(b, M[o][1])),
                                     _mm_shuffle_epi8(c, M[o][2]));
            _mm_storeu_si128((__m128i *)(void *)(d + (size_t)x * 3 + 16 * o), r);
        }
    }
    return 16 * blocks;
}

/* The same 16-pixel blocks in AVX2, two at a time (32 pixels, 96 bytes):
 * the three output vectors hold output chunks (0, 1), (2, 3) and (4, 5) of
 * 16 bytes; chunks 0 to 2 come from source block A (the later one in the
 * source row), 3 to 5 from block B, each lane by pshufb of the source
 * vectors broadcast to both lanes (or A's in one lane and B's in the
 * other) with FLIP_MASK's lane masks. Blocks from the end of the output
 * row to its start, as above. Returns the pixels done. */
__attribute__((target("avx2"))) static int flip3_avx2(const uint8_t *s, uint8_t *d, int w) {
    const uint8_t(*mk)[3][16] = FLIP_MASK;
    __m256i M01[3], M20[3], M12[3];
    for (int v = 0; v < 3; v++) {
        const __m128i m0 = _mm_loadu_si128((const __m128i *)(const void *)mk[0][v]);
        const __m128i m1 = _mm_loadu_si128((const __m128i *)(const void *)mk[1][v]);
        const __m128i m2 = _mm_loadu_si128((const __m128i *)(const void *)mk[2][v]);
        M01[v] = _mm256_inserti128_si256(_mm256_castsi128_si256(m0), m1, 1);
        M20[v] = _mm256_inserti128_si256(_mm256_castsi128_si256(m2), m0, 1);
        M12[v] = _mm256_inserti128_si256(_mm256_castsi128_si256(m1), m2, 1);
    }
    const int pairs = w / 32;
    for (int pr = pairs - 1; pr >= 0; pr--) {
        const int x = 32 * pr; /* output pixels x .. x + 31 */
        const uint8_t *qa = s + (size_t)(w - 16 - x) * 3, *qb = qa - 48;
        __m256i A[3], B[3];
        for (int v = 0; v < 3; v++) {
            A[v] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(qa + 16 * v)));
            B[v] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(qb + 16 * v)));
        }
        __m256i o0 = _mm256_shuffle_epi8(A[0], M01[0]), o1 = _mm256_shuffle_epi8(_mm256_blend_epi32(A[0], B[0], 0xf0), M20[0]),
                o2 = _mm256_shuffle_epi8(B[0], M12[0]);
        for (int v = 1; v < 3; v++) {
            o0 = _mm256_or_si256(o0, _mm256_shuffle_epi8(A[v], M01[v]));
            o1 = _mm256_or_si256(o1, _mm256_shuffle_epi8(_mm256_blend_epi32(A[v], B[v], 0xf0), M20[v]));
            o2 = _mm256_or_si256(o2, _mm256_shuffle_epi8(B[v], M12[v]));
        }
        uint8_t *o = d + (size_t)x * 3;
        _mm256_storeu_si256((__m256i *)(void *)o, o0);
        _mm256_storeu_si256((__m256i *)(void *)(o + 32), o1);
        _mm256_storeu_si256((__m256i *)(void *)(o + 64), o2);
    }
    return 32 * pairs;
}
#endif

void ao_flip_row(const uint8_t *s, uint8_t *d, int w, int c) {
    int x = 0;
    if (c == 3) {
#ifdef AO_X86
        if (have_avx2())
            x = flip3_avx2(s, d, w);
        if (have_ssse3() && w - x >= 16) /* the block of 16 left over */
            x += flip3_ssse3(s, d + (size_t)x * 3, w - x);
#endif
        for (const uint8_t *q = s + (size_t)(w - 1 - x) * 3; x < w; x++, q -= 3) {
            d[3 * x] = q[0];
            d[3 * x + 1] = q[1];
            d[3 * x + 2] = q[2];
        }
        return;
    }
    if (c == 4) {
#ifdef __SSE2__
        for (; x + 4 <= w; x += 4) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + (size_t)(w - 4 - x) * 4));
            _mm_storeu_si128((__m128i *)(void *)(d + (size_t)x * 4), _mm_shuffle_epi32(v, 0x1b));
        }
#endif
        for (; x < w; x++)
            memcpy(d + (size_t)x * 4, s + (size_t)(w - 1 - x) * 4, 4);
        return;
    }
    for (; x < w; x++)
        memcpy(d + (size_t)x * c, s + (size_t)(w - 1 - x) * c, (size_t)c);
}

/* ---- float rows <-> bytes -------------------------------------------------- */

void ao_u8_to_float(const uint8_t *s, float *d, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128i z = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        const __m128i lo = _mm_unpacklo_epi8(v, z), hi = _mm_unpackhi_epi8(v, z);
        _mm_storeu_ps(d + i, _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, z)));
        _mm_storeu_ps(d + i + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, z)));
        _mm_storeu_ps(d + i + 8, _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, z)));
        _mm_storeu_ps(d + i + 12, _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, z)));
    }
#endif
    for (; i < n; i++)
        d[i] = s[i];
}

/* ao_clamp_u8() of a float, exactly: for v in [0, 255], floor(v + 0.5) is
 * trunc(v) plus one when v - trunc(v) >= 0.5 (both exact in float). */
static inline uint8_t f2u8(float v) {
    v = v > 0 ? v : 0;
    v = v < 255 ? v : 255;
    return (uint8_t)(int)((double)v + 0.5);
}

void ao_float_to_u8(const float *s, uint8_t *d, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128 lo = _mm_setzero_ps(), hi = _mm_set1_ps(255.0f), half = _mm_set1_ps(0.5f);
    for (; i + 16 <= n; i += 16) {
        __m128i t[4];
        for (int q = 0; q < 4; q++) {
            /* max/min with the constant second: a NaN becomes 0 as in f2u8 */
            __m128 v = _mm_loadu_ps(s + i + 4 * (size_t)q);
            v = _mm_and_ps(v, _mm_cmpgt_ps(v, lo));
            v = _mm_min_ps(v, hi);
            __m128i it = _mm_cvttps_epi32(v);
            const __m128 fr = _mm_sub_ps(v, _mm_cvtepi32_ps(it));
            t[q] = _mm_sub_epi32(it, _mm_castps_si128(_mm_cmpge_ps(fr, half)));
        }
        _mm_storeu_si128((__m128i *)(void *)(d + i),
                         _mm_packus_epi16(_mm_packs_epi32(t[0], t[1]), _mm_packs_epi32(t[2], t[3])));
    }
#endif
    for (; i < n; i++)
        d[i] = f2u8(s[i]);
}
