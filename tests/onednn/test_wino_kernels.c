/* The Winograd kernels of backend.onednn (plugins/backend/onednn/od_wino.c,
 * compiled into this test) called directly on hand-made blocked buffers,
 * against convolutions computed here in double: the channel-block layouts
 * the backend cannot reach on an AVX2 machine (nChw16c, as oneDNN picks on
 * AVX-512, and 16-in / 8-out), plus nChw8c, for the forward, the backward
 * data (the turned kernel, padding 2 - pad) and the backward weights.
 * Tolerance 5e-5 of the largest reference value, as test_wino.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_wino.h"

#define TOL 5e-5

static double rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

/* plain [N][C][H][W] <-> nChw{b}c */
static size_t boff(int b, int64_t C, int64_t H, int64_t W, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return (size_t)((((n * (C / b) + c / b) * H + h) * W + w) * b + c % b);
}

static float *to_blocked(const double *x, int b, int64_t N, int64_t C, int64_t H, int64_t W)
{
    float *y = malloc(sizeof(float) * (size_t)(N * C * H * W));
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++)
                    y[boff(b, C, H, W, n, c, h, w)] = (float)x[((n * C + c) * H + h) * W + w];
    return y;
}

/* y[n][k] = sum x[n][c] (*) w[k][c], 3x3, stride 1, padding pad */
static double *conv_ref(const double *x, const double *w, int64_t N, int64_t C, int64_t K, int64_t H, int64_t W,
                        int64_t pad, int64_t *OH, int64_t *OW)
{
    *OH = H + 2 * pad - 2;
    *OW = W + 2 * pad - 2;
    double *y = calloc((size_t)(N * K * *OH * *OW), sizeof *y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t i = 0; i < *OH; i++)
                for (int64_t j = 0; j < *OW; j++) {
                    double s = 0;
                    for (int64_t c = 0; c < C; c++)
                        for (int a = 0; a < 3; a++)
                            for (int b = 0; b < 3; b++) {
                                int64_t h = i + a - pad, v = j + b - pad;
                                if (h >= 0 && h < H && v >= 0 && v < W)
                                    s += x[((n * C + c) * H + h) * W + v] * w[((k * C + c) * 3 + a) * 3 + b];
                            }
                    y[((n * K + k) * *OH + i) * *OW + j] = s;
                }
    return y;
}

static double *random_d(int64_t n, uint64_t seed)
{
    double *d = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        d[i] = rnd(&seed);
    return d;
}

/* largest |got - want| over the largest |want|; got blocked (b) or plain */
static double rel_err(const float *got, int b, const double *want, int64_t N, int64_t C, int64_t H, int64_t W)
{
    double md = 0, mr = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    double r = want[((n * C + c) * H + h) * W + w];
                    double g = b ? got[boff(b, C, H, W, n, c, h, w)] : got[((n * C + c) * H + h) * W + w];
                    double d = fabs(g - r);
                    md = d > md || d != d ? d : md; /* a NaN stays */
                    mr = fmax(mr, fabs(r));
                }
    return md / fmax(mr, 1e-30);
}

static void skip_without_avx2(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        cr_skip_test("no AVX2+FMA: the kernels are not used on this CPU");
}

/* out = the Winograd convolution of `in` (geometry g) with wf[K][C][3][3],
 * turned and transposed with flip (backward data), as the backend runs it:
 * fused in blocks of tb tiles on `threads` threads, or (tb 0) in three
 * passes over all tiles, or (tb -1) three passes with oneDNN's sgemm */
static void wino_forward(const od_wino_geo *g, const float *wf, int64_t K, int64_t C, int flip, const float *in,
                         float *out, int64_t tb, int threads)
{
    float *U = malloc(sizeof(float) * (size_t)od_wino_u_floats(g));
    /* NaN in every output first: a tile the schedule skips shows */
    for (int64_t i = 0; i < g->N * g->K * g->OH * g->OW; i++)
        out[i] = NAN;
    od_wino_weights(wf, K, C, flip, tb >= 0, U);
    if (tb > 0) {
        float *S = malloc(sizeof(float) * (size_t)(threads * od_wino_fused_floats(g, tb)));
        od_wino_forward_fused(g, in, U, NULL, out, S, tb, threads);
        free(S);
    } else {
        float *V = malloc(sizeof(float) * (size_t)od_wino_v_floats(g)),
              *M = malloc(sizeof(float) * (size_t)od_wino_m_floats(g));
        od_wino_input(g, in, V, od_wino_rows(g));
        cr_assert_eq(od_wino_multiply(g, V, U, M, threads, tb < 0), 0);
        od_wino_output(g, M, od_wino_rows(g), NULL, out);
        free(V), free(M);
    }
    free(U);
}

/* the largest difference between two outputs of the same convolution */
static float max_diff(const float *a, const float *b, int64_t n)
{
    float d = 0;
    for (int64_t i = 0; i < n; i++) {
        float e = fabsf(a[i] - b[i]);
        d = e > d || e != e ? e : d; /* a NaN stays */
    }
    return d;
}

/* The other schedules of the same convolution (geometry g, flip as in
 * wino_forward) against `got`, what the default one gave: blocks of 6
 * tiles on 3 threads (ranges that end inside a block, a last block shorter
 * than 6) and the three passes add the same terms in the same order, so
 * they give the same bits; oneDNN's sgemm (AIGTATT_ONEDNN_WINO_SGEMM) adds
 * them its own way and is held to the double-precision result `want`. */
static void schedules_agree(const od_wino_geo *g, const float *wf, int64_t K, int64_t C, int flip, const float *in,
                            const float *got, const double *want, int bout, const char *what)
{
    int64_t n = g->N * g->K * g->OH * g->OW;
    float *o = malloc(sizeof(float) * (size_t)n);
    wino_forward(g, wf, K, C, flip, in, o, 6, 3);
    cr_expect_eq(max_diff(got, o, n), 0.f, "%s: blocks of 6 tiles give another result", what);
    wino_forward(g, wf, K, C, flip, in, o, 0, 2);
    cr_expect_eq(max_diff(got, o, n), 0.f, "%s: three passes give another result", what);
    wino_forward(g, wf, K, C, flip, in, o, -1, 2);
    double e = rel_err(o, bout, want, g->N, g->K, g->OH, g->OW);
    cr_expect_leq(e, TOL, "%s with sgemm differs by %.3g", what, e);
    free(o);
}

/* forward and backward data of one convolution, input block bin, output
 * block bout */
static void forward_and_data(int64_t N, int64_t C, int64_t K, int64_t H, int64_t W, int64_t pad, int bin, int bout)
{
    skip_without_avx2();
    double *x = random_d(N * C * H * W, 1), *w = random_d(K * C * 9, 2);
    int64_t OH, OW;
    double *y = conv_ref(x, w, N, C, K, H, W, pad, &OH, &OW);
    float *wf = malloc(sizeof(float) * (size_t)(K * C * 9));
    for (int64_t i = 0; i < K * C * 9; i++)
        wf[i] = (float)w[i];
    /* forward */
    od_wino_geo g;
    od_wino_geometry(&g, N, C, K, H, W, pad, bin, bout);
    float *xb = to_blocked(x, bin, N, C, H, W), *yb = malloc(sizeof(float) * (size_t)(N * K * OH * OW));
    wino_forward(&g, wf, K, C, 0, xb, yb, od_wino_block_tiles(&g), 2);
    double ef = rel_err(yb, bout, y, N, K, OH, OW);
    schedules_agree(&g, wf, K, C, 0, xb, yb, y, bout, "forward");
    /* backward data: dx[n][c] = sum dy[n][k] (*) turned w[k][c], with dy = y
     * (any data will do); the reference turns the kernel and swaps its axes */
    double *wt = malloc(sizeof(double) * (size_t)(K * C * 9));
    for (int64_t k = 0; k < K; k++)
        for (int64_t c = 0; c < C; c++)
            for (int i = 0; i < 9; i++)
                wt[(c * K + k) * 9 + i] = w[(k * C + c) * 9 + 8 - i];
    int64_t DH, DW;
    double *dx = conv_ref(y, wt, N, K, C, OH, OW, 2 - pad, &DH, &DW);
    cr_assert(DH == H && DW == W);
    od_wino_geo gd;
    od_wino_geometry(&gd, N, K, C, OH, OW, 2 - pad, bout, bin);
    float *dyb = to_blocked(y, bout, N, K, OH, OW), *dxb = malloc(sizeof(float) * (size_t)(N * C * H * W));
    wino_forward(&gd, wf, K, C, 1, dyb, dxb, 0, 1);
    double ed = rel_err(dxb, bin, dx, N, C, H, W);
    schedules_agree(&gd, wf, K, C, 1, dyb, dxb, dx, bin, "backward data");
    cr_log_info("N%lld C%lld K%lld %lldx%lld pad %lld blocks %d/%d: forward %.2e, backward data %.2e", (long long)N,
                (long long)C, (long long)K, (long long)H, (long long)W, (long long)pad, bin, bout, ef, ed);
    cr_expect_leq(ef, TOL, "forward differs by %.3g", ef);
    cr_expect_leq(ed, TOL, "backward data differs by %.3g", ed);
    free(x), free(w), free(y), free(wf), free(xb), free(yb), free(wt), free(dx), free(dyb), free(dxb);
}

/* backward weights: dw[k][c][a][b] = sum over n, i, j of dy[n][k][i][j]
 * x[n][c][i + a - pad][j + b - pad] */
static void weights(int64_t N, int64_t C, int64_t K, int64_t H, int64_t W, int64_t pad, int bin, int bout)
{
    skip_without_avx2();
    int64_t OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
    double *x = random_d(N * C * H * W, 3), *dy = random_d(N * K * OH * OW, 4);
    double *dw = calloc((size_t)(K * C * 9), sizeof *dw);
    for (int64_t k = 0; k < K; k++)
        for (int64_t c = 0; c < C; c++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                    double s = 0;
                    for (int64_t n = 0; n < N; n++)
                        for (int64_t i = 0; i < OH; i++)
                            for (int64_t j = 0; j < OW; j++) {
                                int64_t h = i + a - pad, v = j + b - pad;
                                if (h >= 0 && h < H && v >= 0 && v < W)
                                    s += dy[((n * K + k) * OH + i) * OW + j] * x[((n * C + c) * H + h) * W + v];
                            }
                    dw[((k * C + c) * 3 + a) * 3 + b] = s;
                }
    od_wino_geo g;
    od_wino_geometry(&g, N, C, K, H, W, pad, bin, bout);
    float *xb = to_blocked(x, bin, N, C, H, W), *dyb = to_blocked(dy, bout, N, K, OH, OW);
    float *V = malloc(sizeof(float) * (size_t)od_wino_v_floats(&g)), *Mg = malloc(sizeof(float) * (size_t)od_wino_m_floats(&g)),
          *dU = malloc(sizeof(float) * (size_t)od_wino_u_floats(&g)), *dwf = malloc(sizeof(float) * (size_t)(K * C * 9));
    od_wino_input(&g, xb, V, g.T);
    od_wino_grad_output(&g, dyb, Mg);
    cr_assert_eq(od_wino_multiply_grad(&g, V, Mg, dU, 0), 0);
    od_wino_weights_grad(dU, K, C, dwf);
    double e = rel_err(dwf, 0, dw, K, C, 3, 3);
    cr_log_info("N%lld C%lld K%lld %lldx%lld pad %lld blocks %d/%d: backward weights %.2e", (long long)N, (long long)C,
                (long long)K, (long long)H, (long long)W, (long long)pad, bin, bout, e);
    cr_expect_leq(e, TOL, "backward weights differ by %.3g", e);
    free(x), free(dy), free(dw), free(xb), free(dyb), free(V), free(Mg), free(dU), free(dwf);
}

Test(wino_kernels, nchw16c_forward_and_data) { forward_and_data(2, 32, 32, 9, 7, 1, 16, 16); }
Test(wino_kernels, nchw16c_in_nchw8c_out) { forward_and_data(1, 32, 24, 6, 10, 0, 16, 8); }
Test(wino_kernels, nchw8c_pad2) { forward_and_data(2, 16, 8, 5, 6, 2, 8, 8); }
Test(wino_kernels, nchw16c_weights) { weights(2, 32, 32, 5, 6, 2, 16, 16); }
Test(wino_kernels, nchw16c_8c_weights) { weights(3, 16, 24, 11, 9, 1, 16, 8); }
Test(wino_kernels, nchw8c_weights_pad0) { weights(2, 8, 16, 10, 7, 0, 8, 8); }
/* 50 tiles: blocks of 24 on two threads, columns 16 + 16 + 8 */
Test(wino_kernels, nchw8c_many_tiles) { forward_and_data(2, 40, 40, 20, 19, 1, 8, 8); }
Test(wino_kernels, nchw8c_many_tiles_weights) { weights(2, 40, 40, 20, 19, 1, 8, 8); }
