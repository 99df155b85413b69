/* The batch norm kernels of backend.onednn (plugins/backend/onednn/od_bn.c,
 * compiled into this test) called directly on hand-made buffers in every
 * layout they take (plain NCHW, nChw8c, nChw16c, NHWC) and both element
 * types (f32, bf16), against batch norm computed here in double with the
 * offsets written out independently of od_bn_geo_make. That covers what
 * a network on an AVX2 machine never reaches (nChw16c, NHWC and bf16 are
 * what oneDNN picks on AVX-512 and AMX machines).
 *
 * With fewer channel blocks than threads the kernels split each block's
 * images into parts: on 2 threads the 16-channel cases take that path
 * (OMP_NUM_THREADS=16 pushes every blocked case through it).
 *
 * Training forward and backward, with and without the fused ReLU: within
 * 2e-5 (f32) or 1e-2 (bf16: inputs are exact, outputs rounded to 8 bits)
 * of the largest reference value. Inference forward: bit for bit the
 * scalar round-to-nearest-even of x * scale + shift, NaN, overflow and
 * exact ties included, so the vector rounding is checked exactly. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_bn.h"

static double rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

static const int layouts[] = { OD_BN_PLAIN, OD_BN_BLOCK8, OD_BN_BLOCK16, OD_BN_NHWC };

static const char *lname(int l)
{
    return l == OD_BN_PLAIN ? "plain" : l == OD_BN_BLOCK8 ? "nChw8c" : l == OD_BN_BLOCK16 ? "nChw16c" : "NHWC";
}

/* element (n, c, i) of [N, C, HW] in each layout, spelt out */
static size_t off(int lay, int64_t C, int64_t HW, int64_t n, int64_t c, int64_t i)
{
    switch (lay) {
    case OD_BN_PLAIN:
        return (size_t)((n * C + c) * HW + i);
    case OD_BN_BLOCK8:
        return (size_t)(((n * (C / 8) + c / 8) * HW + i) * 8 + c % 8);
    case OD_BN_BLOCK16:
        return (size_t)(((n * (C / 16) + c / 16) * HW + i) * 16 + c % 16);
    default:
        return (size_t)((n * HW + i) * C + c);
    }
}

typedef struct buf {
    void *p;
    int bf16;
} buf;

static buf buf_new(size_t n, int bf16)
{
    buf b = { malloc(n * (bf16 ? 2 : 4)), bf16 };
    cr_assert(b.p);
    return b;
}

static double get(buf b, size_t j)
{
    return b.bf16 ? od_bf16_to_f32(((uint16_t *)b.p)[j]) : ((float *)b.p)[j];
}

static void put(buf b, size_t j, double v)
{
    if (b.bf16)
        ((uint16_t *)b.p)[j] = od_f32_to_bf16((float)v);
    else
        ((float *)b.p)[j] = (float)v;
}

/* one training forward + backward in layout lay; returns the worst
 * error relative to each output's largest reference value */
static void train_case(int lay, int bf16, int relu, int64_t N, int64_t C, int64_t HW, uint64_t seed)
{
    size_t n = (size_t)(N * C * HW);
    buf x = buf_new(n, bf16), y = buf_new(n, bf16), dy = buf_new(n, bf16), dx = buf_new(n, bf16);
    float *w = malloc(sizeof(float) * (size_t)C), *b = malloc(sizeof(float) * (size_t)C);
    float *rm = malloc(sizeof(float) * (size_t)C), *rv = malloc(sizeof(float) * (size_t)C);
    float *sm = malloc(sizeof(float) * (size_t)C), *si = malloc(sizeof(float) * (size_t)C);
    float *dw = malloc(sizeof(float) * (size_t)C), *db = malloc(sizeof(float) * (size_t)C);
    double *X = malloc(sizeof(double) * n), *DY = malloc(sizeof(double) * n);
    uint64_t s = seed;
    for (int64_t c = 0; c < C; c++) {
        w[c] = (float)(1 + 0.5 * rnd(&s));
        b[c] = (float)(0.3 * rnd(&s));
        rm[c] = (float)(0.1 * rnd(&s));
        rv[c] = (float)(1 + 0.2 * rnd(&s));
    }
    /* an offset per channel far from zero: the shifted sums must not
     * cancel */
    for (int64_t nn = 0; nn < N; nn++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < HW; i++) {
                size_t j = off(lay, C, HW, nn, c, i);
                put(x, j, 5.0 * (double)(c % 3) + (1 + c % 4) * rnd(&s));
                put(dy, j, rnd(&s));
                size_t q = (size_t)((nn * C + c) * HW + i);
                X[q] = get(x, j); /* the values the kernel reads */
                DY[q] = get(dy, j);
            }
    od_bn_geo g;
    cr_assert_eq(od_bn_geo_make(&g, N, C, HW, lay, bf16), 0);
    const double eps = 1e-5, factor = 0.1, M = (double)(N * HW);
    float rm0[512], rv0[512];
    cr_assert(C <= 512);
    memcpy(rm0, rm, sizeof(float) * (size_t)C);
    memcpy(rv0, rv, sizeof(float) * (size_t)C);
    cr_assert_eq(od_bn_forward(&g, x.p, y.p, w, b, rm, rv, sm, si, relu, 1, 1, factor, eps), 0);
    cr_assert_eq(od_bn_backward(&g, dy.p, x.p, w, sm, si, relu ? b : NULL, relu, 1, eps, dx.p, dw, db), 0);

    double tol = bf16 ? 1e-2 : 2e-5, ey = 0, edx = 0, edw = 0, edb = 0, est = 0;
    double my = 0, mdx = 0, mdw = 0, mdb = 0;
    for (int64_t c = 0; c < C; c++) {
        double mean = 0, var = 0;
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t i = 0; i < HW; i++)
                mean += X[(nn * C + c) * HW + i];
        mean /= M;
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t i = 0; i < HW; i++) {
                double d = X[(nn * C + c) * HW + i] - mean;
                var += d * d;
            }
        var /= M;
        double inv = 1 / sqrt(var + eps);
        est = fmax(est, fabs(sm[c] - mean) / (1 + fabs(mean)));
        est = fmax(est, fabs(si[c] - inv) / inv);
        est = fmax(est, fabs(rm[c] - (0.9 * rm0[c] + 0.1 * mean)) / (1 + fabs(mean)));
        est = fmax(est, fabs(rv[c] - (0.9 * rv0[c] + 0.1 * var * M / (M - 1))) / (1 + var));
        /* backward of y = relu?(w (x - mean) inv + b) */
        double sdy = 0, sdyx = 0;
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t i = 0; i < HW; i++) {
                size_t q = (size_t)((nn * C + c) * HW + i);
                double yr = w[c] * (X[q] - mean) * inv + b[c];
                int pass = !relu || yr > 0;
                if (relu && !pass)
                    yr = 0;
                double got = get(y, off(lay, C, HW, nn, c, i));
                ey = fmax(ey, fabs(got - yr));
                my = fmax(my, fabs(yr));
                double d = pass ? DY[q] : 0;
                sdy += d;
                sdyx += d * (X[q] - mean);
            }
        double dwr = sdyx * inv, dbr = sdy;
        edw = fmax(edw, fabs(dw[c] - dwr));
        edb = fmax(edb, fabs(db[c] - dbr));
        mdw = fmax(mdw, fabs(dwr));
        mdb = fmax(mdb, fabs(dbr));
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t i = 0; i < HW; i++) {
                size_t q = (size_t)((nn * C + c) * HW + i);
                double yr = w[c] * (X[q] - mean) * inv + b[c];
                double d = (!relu || yr > 0) ? DY[q] : 0;
                double r = w[c] * inv * (d - sdy / M - (X[q] - mean) * inv * inv * sdyx / M);
                edx = fmax(edx, fabs(get(dx, off(lay, C, HW, nn, c, i)) - r));
                mdx = fmax(mdx, fabs(r));
            }
    }
    double e[5] = { ey / my, edx / mdx, edw / mdw, edb / mdb, est };
    const char *what[5] = { "y", "dx", "dw", "db", "statistics" };
    for (int k = 0; k < 5; k++)
        cr_expect(e[k] <= tol, "%s %s relu %d N %lld C %lld HW %lld: %s off by %.3g (tolerance %.3g)", lname(lay),
                  bf16 ? "bf16" : "f32", relu, (long long)N, (long long)C, (long long)HW, what[k], e[k], tol);
    free(x.p), free(y.p), free(dy.p), free(dx.p), free(w), free(b), free(rm), free(rv), free(sm), free(si);
    free(dw), free(db), free(X), free(DY);
}

/* shapes: pixel counts below, at and across the 64-pixel float runs and
 * (NHWC) the threads' row ranges, 24 channels (NHWC in vectors of 8), the
 * plain path's 16-pixel vectors (tails), and multiples of 32 channels
 * (bf16 NHWC in even/odd pairs) */
Test(bn_kernels, train_every_layout_and_type)
{
    static const int64_t shapes[][3] = { { 2, 16, 35 }, { 3, 32, 130 }, { 3, 48, 1 }, { 2, 16, 1100 }, { 2, 24, 50 },
                                         { 2, 96, 70 } };
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int li = 0; li < 4; li++)
            for (int bf16 = 0; bf16 < 2; bf16++)
                for (int relu = 0; relu < 2; relu++) {
                    int64_t C = shapes[si][1];
                    if (layouts[li] == OD_BN_BLOCK16 ? C % 16 : C % 8)
                        continue;
                    train_case(layouts[li], bf16, relu, shapes[si][0], C, shapes[si][2], 7 + si * 31 + li);
                }
}

/* in place (y over x, dx over dy), as the backend's memory plan does */
Test(bn_kernels, in_place_matches_out_of_place)
{
    for (int li = 0; li < 4; li++)
        for (int bf16 = 0; bf16 < 2; bf16++) {
            int64_t N = 2, C = 32, HW = 70;
            size_t n = (size_t)(N * C * HW), es = bf16 ? 2 : 4;
            void *x = malloc(n * es), *y = malloc(n * es), *dy = malloc(n * es), *dx = malloc(n * es);
            float w[32], b[32], sm[32], si[32], dw[32], db[32];
            uint64_t s = 99;
            for (size_t j = 0; j < n; j++) {
                float a = (float)rnd(&s), d = (float)rnd(&s);
                if (bf16) {
                    ((uint16_t *)x)[j] = od_f32_to_bf16(a);
                    ((uint16_t *)dy)[j] = od_f32_to_bf16(d);
                } else {
                    ((float *)x)[j] = a;
                    ((float *)dy)[j] = d;
                }
            }
            for (int c = 0; c < 32; c++) {
                w[c] = (float)(1 + 0.1 * c);
                b[c] = (float)(0.01 * c - 0.1);
            }
            od_bn_geo g;
            cr_assert_eq(od_bn_geo_make(&g, N, C, HW, layouts[li], bf16), 0);
            od_bn_forward(&g, x, y, w, b, NULL, NULL, sm, si, 1, 1, 0, 0, 1e-5);
            od_bn_backward(&g, dy, x, w, sm, si, b, 1, 1, 1e-5, dx, dw, db);
            /* backward first (it reads x), then both in place */
            od_bn_backward(&g, dy, x, w, sm, si, b, 1, 1, 1e-5, dy, NULL, NULL);
            od_bn_forward(&g, x, x, w, b, NULL, NULL, sm, si, 1, 1, 0, 0, 1e-5);
            cr_expect(!memcmp(x, y, n * es), "%s %s: forward in place differs", lname(layouts[li]),
                      bf16 ? "bf16" : "f32");
            cr_expect(!memcmp(dy, dx, n * es), "%s %s: backward in place differs", lname(layouts[li]),
                      bf16 ? "bf16" : "f32");
            free(x), free(y), free(dy), free(dx);
        }
}

/* Inference: y = round(x * scale + shift), scale and shift as the kernel
 * derives them; bit for bit, with NaN, infinities, values that overflow
 * bf16 when rounded and exact ties. */
Test(bn_kernels, inference_rounds_exactly)
{
    const double eps = 1e-5;
    for (int li = 0; li < 4; li++)
        for (int bf16 = 0; bf16 < 2; bf16++)
        for (int64_t C = 16; C <= 64; C += 48) { /* 64: bf16 NHWC in even/odd pairs */
            int64_t N = 2, HW = 37;
            size_t n = (size_t)(N * C * HW), es = bf16 ? 2 : 4;
            float *xs = malloc(sizeof(float) * n);
            void *x = malloc(n * es), *y = malloc(n * es);
            float w[64], b[64], rm[64], rv[64];
            uint64_t s = 5 + (uint64_t)li;
            for (int c = 0; c < C; c++) {
                w[c] = (float)(1 + rnd(&s));
                b[c] = (float)rnd(&s);
                rm[c] = (float)rnd(&s);
                rv[c] = (float)(1.5 + rnd(&s));
            }
            /* channel 3: scale exactly 1 and shift 2^-8 on x in [1, 2),
             * where bf16's spacing is 2^-7: every output is an exact tie */
            /* and the same on channel 4 (an even one: bf16 NHWC pairs
             * channels in the halves of 32-bit words) */
            w[3] = 1, b[3] = 0.00390625f, rm[3] = 0, rv[3] = 1.0f - 1e-5f;
            w[4] = w[3], b[4] = b[3], rm[4] = rm[3], rv[4] = rv[3];
            for (int64_t nn = 0; nn < N; nn++)
                for (int64_t c = 0; c < C; c++)
                    for (int64_t i = 0; i < HW; i++)
                        xs[off(layouts[li], C, HW, nn, c, i)] =
                            (float)(c == 3 || c == 4 ? 1.5 + 0.5 * rnd(&s) : 4 * rnd(&s));
            static const float special[] = { NAN, INFINITY, -INFINITY, 3.3e38f, -3.39e38f, 0.0f, -0.0f };
            for (int64_t nn = 0; nn < N; nn++)
                for (int64_t i = 0; i < 7; i++)
                    xs[off(layouts[li], C, HW, nn, 3, i)] = xs[off(layouts[li], C, HW, nn, 4, i)] = special[i];
            for (size_t j = 0; j < n; j++) {
                if (bf16)
                    ((uint16_t *)x)[j] = od_f32_to_bf16(xs[j]);
                else
                    ((float *)x)[j] = xs[j];
            }
            od_bn_geo g;
            cr_assert_eq(od_bn_geo_make(&g, N, C, HW, layouts[li], bf16), 0);
            od_bn_forward(&g, x, y, w, b, rm, rv, NULL, NULL, 0, 0, 0, 0, eps);
            size_t bad = 0, ties = 0;
            for (int64_t nn = 0; nn < N; nn++)
                for (int64_t c = 0; c < C; c++) {
                    float inv = (float)(1.0 / sqrt((double)rv[c] + eps));
                    float sc = (float)(w[c] * (double)inv), sh = (float)(b[c] - (double)rm[c] * (double)sc);
                    for (int64_t i = 0; i < HW; i++) {
                        size_t j = off(layouts[li], C, HW, nn, c, i);
                        float xv = bf16 ? od_bf16_to_f32(((uint16_t *)x)[j]) : xs[j];
                        volatile float prod = xv * sc;
                        float v = prod + sh;
                        if (bf16) {
                            uint16_t want = od_f32_to_bf16(v), got = ((uint16_t *)y)[j];
                            uint32_t u;
                            memcpy(&u, &v, 4);
                            ties += (u & 0xffff) == 0x8000;
                            bad += want != got;
                        } else {
                            float got = ((float *)y)[j];
                            bad += memcmp(&got, &v, 4) != 0 && !(isnan(got) && isnan(v));
                        }
                    }
                }
            cr_expect_eq(bad, 0, "%s %s, %lld channels: %zu of %zu outputs differ from the scalar rounding",
                         lname(layouts[li]), bf16 ? "bf16" : "f32", (long long)C, bad, n);
            if (bf16)
                cr_expect(ties >= (size_t)(2 * (HW - 7)), "%s: only %zu ties", lname(layouts[li]), ties);
            free(xs), free(x), free(y);
        }
}

/* the scalar conversion itself: round to nearest, ties to even, NaN kept */
Test(bn_kernels, bf16_rounding)
{
    static const struct {
        uint32_t in;
        uint16_t out;
    } t[] = {
        { 0x3f800000, 0x3f80 }, { 0x3f808000, 0x3f80 }, /* tie -> even */
        { 0x3f818000, 0x3f82 },                          /* tie -> even (up) */
        { 0x3f808001, 0x3f81 }, { 0x3f807fff, 0x3f80 }, { 0xbf808001, 0xbf81 },
        { 0x7f7fffff, 0x7f80 }, /* overflow -> inf */
        { 0x7f800000, 0x7f80 }, { 0x7f800001, 0x7fc0 }, /* NaN with low payload stays NaN */
        { 0xffc00000, 0x7fc0 }, { 0x00000001, 0x0000 }, { 0x00008000, 0x0000 }, { 0x00018000, 0x0002 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        float f;
        memcpy(&f, &t[i].in, 4);
        cr_expect_eq(od_f32_to_bf16(f), t[i].out, "0x%08x -> 0x%04x, want 0x%04x", t[i].in, od_f32_to_bf16(f),
                     t[i].out);
    }
    cr_expect_eq(od_bf16_to_f32(0x3f81), 1.0078125f);
}
