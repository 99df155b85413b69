/* Winograd F(4x4, 3x3) convolutions on f32 activations in oneDNN's blocked
 * layouts (nChw8c, nChw16c): forward, backward data and backward weights.
 *
 * Why: oneDNN 2.6 offers Winograd only on AVX-512; on AVX2 every 3x3
 * convolution runs direct, and a direct 3x3 convolution cannot go faster
 * than the FMA units allow. F(4x4, 3x3) computes a 4x4 block of outputs
 * from a 6x6 block of inputs with 36 multiplies per channel pair instead of
 * 144. The 36 products of all tiles and channels are 36 independent
 * matrix products: the forward's (and backward data's) in the backend's
 * own 6 x 16 register-blocked kernel, either fused with the transforms
 * block by block of tiles (V and M stay in cache) or in three passes over
 * all tiles; the backward weights' in oneDNN's sgemm. The transforms are
 * vectorised over 8 channels.
 *
 * The transforms are Lavin & Gray's (interpolation points 0, +-1, +-2,
 * infinity):
 *   Y  = A^T [ (G g G^T) .* (B^T d B) ] A
 *   dg = G^T [ sum over tiles (B^T d B) .* (A dY A^T) ] G
 * and backward data is the forward convolution of dY with the kernel
 * flipped in space and its two channel axes swapped.
 *
 * Accuracy: the transforms scale by up to 8 (A) and 1/24 (G), so results
 * differ from a direct convolution by a few float roundings more (relative
 * errors ~1e-6 to 1e-5 on ResNet activations; tests/onednn/test_wino.c
 * measures them). That is why it is an option (`convolution: winograd`),
 * not the default. */
#include "od_wino.h"

#include <immintrin.h>
#include <omp.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32)));

static inline v8 ld(const float *p)
{
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st(float *p, v8 v) { memcpy(p, &v, sizeof v); }

static inline v8 splat(float f) { return (v8){ f, f, f, f, f, f, f, f }; }

/* Offset of (n, c, h, w) in a blocked layout with channel block b and C
 * channels (C a multiple of b). */
static inline int64_t boff(int64_t b, int64_t C, int64_t H, int64_t W, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return (((n * (C / b) + c / b) * H + h) * W + w) * b + c % b;
}

/* ---- the three 1-D transforms (applied to columns, then rows) ---- */

/* r = B^T d, six to six */
#define BT6(d, r)                                                                  \
    do {                                                                           \
        v8 four = splat(4.f), five = splat(5.f), two = splat(2.f);                 \
        r[0] = four * d[0] - five * d[2] + d[4];                                   \
        r[1] = d[3] + d[4] - four * (d[1] + d[2]);                                 \
        r[2] = four * (d[1] - d[2]) + d[4] - d[3];                                 \
        r[3] = two * (d[3] - d[1]) + d[4] - d[2];                                  \
        r[4] = two * (d[1] - d[3]) + d[4] - d[2];                                  \
        r[5] = four * d[1] - five * d[3] + d[5];                                   \
    } while (0)

/* o = A^T m, six to four */
#define AT4(m, o)                                                                  \
    do {                                                                           \
        v8 a12 = m[1] + m[2], s12 = m[1] - m[2], a34 = m[3] + m[4], s34 = m[3] - m[4]; \
        o[0] = m[0] + a12 + a34;                                                   \
        o[1] = s12 + splat(2.f) * s34;                                             \
        o[2] = a12 + splat(4.f) * a34;                                             \
        o[3] = s12 + splat(8.f) * s34 + m[5];                                      \
    } while (0)

/* z = A y, four to six (the adjoint of A^T) */
#define A6(y, z)                                                                   \
    do {                                                                           \
        v8 e02 = y[0] + y[2], o13 = y[1] + y[3];                                   \
        v8 e4 = y[0] + splat(4.f) * y[2], o8 = splat(2.f) * y[1] + splat(8.f) * y[3]; \
        z[0] = y[0];                                                               \
        z[1] = e02 + o13;                                                          \
        z[2] = e02 - o13;                                                          \
        z[3] = e4 + o8;                                                            \
        z[4] = e4 - o8;                                                            \
        z[5] = y[3];                                                               \
    } while (0)

/* u = G g, three to six, and g = G^T u, six to three: the weights'. */
#define G6(g, u)                                                                   \
    do {                                                                           \
        v8 s02 = g[0] + g[2];                                                      \
        v8 q_ = splat(1.f / 24) * g[0] + splat(1.f / 6) * g[2], h_ = splat(1.f / 12) * g[1]; \
        u[0] = splat(0.25f) * g[0];                                                \
        u[1] = splat(-1.f / 6) * (s02 + g[1]);                                     \
        u[2] = splat(-1.f / 6) * (s02 - g[1]);                                     \
        u[3] = q_ + h_;                                                             \
        u[4] = q_ - h_;                                                             \
        u[5] = g[2];                                                               \
    } while (0)

#define GT3(u, g)                                                                  \
    do {                                                                           \
        v8 a12 = u[1] + u[2], a34 = u[3] + u[4];                                   \
        g[0] = splat(0.25f) * u[0] - splat(1.f / 6) * a12 + splat(1.f / 24) * a34; \
        g[1] = splat(1.f / 6) * (u[2] - u[1]) + splat(1.f / 12) * (u[3] - u[4]);  \
        g[2] = splat(1.f / 6) * (a34 - a12) + u[5];                                \
    } while (0)

void od_wino_geometry(od_wino_geo *g, int64_t N, int64_t C, int64_t K, int64_t H, int64_t W, int64_t pad, int bin,
                      int bout)
{
    g->N = N;
    g->C = C;
    g->K = K;
    g->H = H;
    g->W = W;
    g->pad = pad;
    g->OH = H + 2 * pad - 2;
    g->OW = W + 2 * pad - 2;
    g->TH = (g->OH + 3) / 4;
    g->TW = (g->OW + 3) / 4;
    g->T = N * g->TH * g->TW;
    g->bin = bin;
    g->bout = bout;
}

/* ---- weights ---- */

void od_wino_weights(const float *w, int64_t K, int64_t C, int flip, int packed, float *U)
{
    /* forward: U[e][c][k] from w[k][c]; flip (backward data): U[e][k][c]
     * from w[k][c] turned 180 degrees, so that the same forward code maps
     * dY (K channels) to dX (C channels). Eight consecutive entries of a
     * row of U at a time (eight k, or eight c). */
    int64_t rows = flip ? K : C, cols = flip ? C : K, E = rows * cols;
    /* packed: U[e] is stored as panels of 16 columns (the last one 8 wide
     * when cols is not a multiple of 16), each rows x 16 with its rows one
     * after another, so od_wino_gemm reads it in order; unpacked: plain
     * rows x cols (oneDNN's sgemm). The loops go panel by panel either way,
     * so each thread writes whole runs: the writes, 36 C K floats, are what
     * this costs. */
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t q0 = 0; q0 < cols; q0 += 16)
        for (int64_t r = 0; r < rows; r++) {
            int64_t pw = cols - q0 < 16 ? cols - q0 : 16;
            for (int64_t q = q0; q < q0 + pw; q += 8) {
                v8 g[9], t[6][3];
                for (int i = 0; i < 9; i++)
                    for (int l = 0; l < 8; l++) {
                        int64_t k = flip ? r : q + l, c = flip ? q + l : r;
                        g[i][l] = w[(k * C + c) * 9 + (flip ? 8 - i : i)];
                    }
                for (int j = 0; j < 3; j++) { /* columns: G g */
                    v8 col[3] = { g[j], g[3 + j], g[6 + j] }, o[6];
                    G6(col, o);
                    for (int i = 0; i < 6; i++)
                        t[i][j] = o[i];
                }
                /* unpacked: plain rows x cols */
                float *u = packed ? U + q0 * rows + r * pw + (q - q0) : U + r * cols + q;
                for (int i = 0; i < 6; i++) { /* rows: (G g) G^T */
                    v8 o[6];
                    G6(t[i], o);
                    for (int j = 0; j < 6; j++)
                        st(u + (i * 6 + j) * E, o[j]);
                }
            }
        }
}

void od_wino_weights_grad(const float *dU, int64_t K, int64_t C, float *dw)
{
    int64_t E = C * K;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t c = 0; c < C; c++)
        for (int64_t k = 0; k < K; k += 8) {
            v8 t[6][3], g[3][3];
            const float *u = dU + c * K + k;
            for (int i = 0; i < 6; i++) { /* rows: dU G */
                v8 row[6], o[3];
                for (int j = 0; j < 6; j++)
                    row[j] = ld(u + (i * 6 + j) * E);
                GT3(row, o);
                for (int j = 0; j < 3; j++)
                    t[i][j] = o[j];
            }
            for (int j = 0; j < 3; j++) { /* columns: G^T (dU G) */
                v8 col[6] = { t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j] }, o[3];
                GT3(col, o);
                for (int i = 0; i < 3; i++)
                    g[i][j] = o[i];
            }
            for (int l = 0; l < 8; l++)
                for (int i = 0; i < 9; i++)
                    dw[((k + l) * C + c) * 9 + i] = g[i / 3][i % 3][l];
        }
}

/* ---- activations ---- */

/* The transformed 6x6 input block of tile t, channels c..c+7 of every
 * block of 8: v[e * es + c] = (B^T d B)[e]. The block starts at
 * (4 ty - pad, 4 tx - pad); outside the image it reads zeros. */
static inline void input_tile(const od_wino_geo *g, const float *x, int64_t t, float *v, int64_t es)
{
    int64_t C = g->C, tiles = g->TH * g->TW;
    int64_t n = t / tiles, ty = t % tiles / g->TW, tx = t % g->TW;
    int64_t h0 = ty * 4 - g->pad, w0 = tx * 4 - g->pad;
    for (int64_t c = 0; c < C; c += 8) {
        v8 d[6][6], r[6][6];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                int64_t h = h0 + i, w = w0 + j;
                d[i][j] = h >= 0 && h < g->H && w >= 0 && w < g->W ? ld(x + boff(g->bin, C, g->H, g->W, n, c, h, w))
                                                                    : splat(0.f);
            }
        for (int j = 0; j < 6; j++) {
            v8 col[6] = { d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j] }, o[6];
            BT6(col, o);
            for (int i = 0; i < 6; i++)
                r[i][j] = o[i];
        }
        for (int i = 0; i < 6; i++) {
            v8 o[6];
            BT6(r[i], o);
            for (int j = 0; j < 6; j++)
                st(v + (int64_t)(i * 6 + j) * es + c, o[j]);
        }
    }
}

/* V[e][t][c] = (B^T d B)[e] for the 6x6 input block of every tile t. */
void od_wino_input(const od_wino_geo *g, const float *x, float *V, int64_t rows)
{
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < rows; t++)
        if (t < g->T)
            input_tile(g, x, t, V + t * g->C, rows * g->C);
        else /* rows past the last tile (od_wino_multiply's padding) */
            for (int e = 0; e < 36; e++)
                memset(V + (e * rows + t) * g->C, 0, (size_t)g->C * sizeof(float));
}

/* y's 4x4 block of tile t from m[e * es + k] (the tile's row of M),
 * plus the bias; rows and columns past the output are dropped. */
static inline void output_tile(const od_wino_geo *g, const float *m, int64_t es, const float *bias, float *y,
                               int64_t t)
{
    int64_t K = g->K, tiles = g->TH * g->TW;
    int64_t n = t / tiles, ty = t % tiles / g->TW, tx = t % g->TW;
    for (int64_t k = 0; k < K; k += 8) {
        v8 r[4][6], b = bias ? ld(bias + k) : splat(0.f);
        for (int j = 0; j < 6; j++) {
            v8 col[6], o[4];
            for (int i = 0; i < 6; i++)
                col[i] = ld(m + (int64_t)(i * 6 + j) * es + k);
            AT4(col, o);
            for (int i = 0; i < 4; i++)
                r[i][j] = o[i];
        }
        for (int i = 0; i < 4; i++) {
            int64_t h = ty * 4 + i;
            if (h >= g->OH)
                break;
            v8 o[4];
            AT4(r[i], o);
            for (int j = 0; j < 4; j++) {
                int64_t w = tx * 4 + j;
                if (w >= g->OW)
                    break;
                st(y + boff(g->bout, K, g->OH, g->OW, n, k, h, w), o[j] + b);
            }
        }
    }
}

void od_wino_output(const od_wino_geo *g, const float *M, int64_t rows, const float *bias, float *y)
{
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < g->T; t++)
        output_tile(g, M + t * g->K, rows * g->K, bias, y, t);
}

/* Mg[e][t][k] = (A dY A^T)[e] for the 4x4 block of dY at tile t (zeros past
 * the output). */
void od_wino_grad_output(const od_wino_geo *g, const float *dy, float *Mg)
{
    int64_t K = g->K, T = g->T, tiles = g->TH * g->TW, K8 = K / 8;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t t = 0; t < T; t++)
        for (int64_t k8 = 0; k8 < K8; k8++) {
            int64_t n = t / tiles, ty = t % tiles / g->TW, tx = t % g->TW, k = k8 * 8;
            v8 d[4][4], r[6][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    int64_t h = ty * 4 + i, w = tx * 4 + j;
                    d[i][j] = h < g->OH && w < g->OW ? ld(dy + boff(g->bout, K, g->OH, g->OW, n, k, h, w))
                                                     : splat(0.f);
                }
            for (int j = 0; j < 4; j++) {
                v8 col[4] = { d[0][j], d[1][j], d[2][j], d[3][j] }, o[6];
                A6(col, o);
                for (int i = 0; i < 6; i++)
                    r[i][j] = o[i];
            }
            float *m = Mg + t * K + k;
            for (int i = 0; i < 6; i++) {
                v8 o[6];
                A6(r[i], o);
                for (int j = 0; j < 6; j++)
                    st(m + (int64_t)(i * 6 + j) * T * K, o[j]);
            }
        }
}

/* ---- the products of the forward: the backend's own kernel ----
 *
 * Why not oneDNN's sgemm, as the backward weights use: these products are
 * T x C by C x K with C and K small (64-512), where sgemm's packing of V
 * costs as much as the product; with U packed once by od_wino_weights the
 * kernel below reads both operands in order. And the forward can then
 * run fused, block by block of tiles, with V and M in cache. */

/* a b + c in one rounding: the build keeps -ffp-contract=off (the
 * transforms' rounding is what the tests pin), so the products ask for
 * FMA by name */
static inline v8 fma8(v8 a, v8 b, v8 c) { return (v8)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c); }

/* Six rows of an NV-vector-wide (8 NV columns) block of a product:
 * m[j][0..8 NV) = sum over i < n of a[j * lda + i] b[i * ldb + 0..8 NV).
 * The 6 x NV sums stay in registers for the whole loop; each step is six
 * broadcasts of a, NV loads of b and 6 NV multiply-adds, which keeps both
 * FMA units of an AVX2 core busy (85-90% of their peak on one core with
 * the operands in L1/L2). */
#define OD_WINO_MK(NAME, NV)                                                                                        \
    static inline __attribute__((always_inline)) void NAME(int64_t n, const float *a, int64_t lda, const float *b, \
                                                           int64_t ldb, float *m, int64_t ldm)                      \
    {                                                                                                               \
        v8 acc[6][NV];                                                                                              \
        for (int j = 0; j < 6; j++)                                                                                 \
            for (int q = 0; q < NV; q++)                                                                            \
                acc[j][q] = splat(0.f);                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                                           \
            v8 bv[NV];                                                                                              \
            for (int q = 0; q < NV; q++)                                                                            \
                bv[q] = ld(b + i * ldb + 8 * q);                                                                    \
            for (int j = 0; j < 6; j++) {                                                                           \
                v8 x = splat(a[j * lda + i]);                                                                       \
                for (int q = 0; q < NV; q++)                                                                        \
                    acc[j][q] = fma8(x, bv[q], acc[j][q]);                                                          \
            }                                                                                                       \
        }                                                                                                           \
        for (int j = 0; j < 6; j++)                                                                                 \
            for (int q = 0; q < NV; q++)                                                                            \
                st(m + j * ldm + 8 * q, acc[j][q]);                                                                 \
    }
OD_WINO_MK(mk6x16, 2)
OD_WINO_MK(mk6x8, 1)

void od_wino_gemm(int64_t rows, int64_t C, int64_t K, const float *V, int64_t ldv, const float *U, float *M,
                  int64_t ldm)
{
    /* one panel of U (C x 16, read in order) stays in L1/L2 while every
     * row of V goes past it */
    int64_t k = 0;
    for (; k + 16 <= K; k += 16)
        for (int64_t r = 0; r < rows; r += 6)
            mk6x16(C, V + r * ldv, ldv, U + k * C, 16, M + r * ldm + k, ldm);
    if (k < K)
        for (int64_t r = 0; r < rows; r += 6)
            mk6x8(C, V + r * ldv, ldv, U + k * C, 8, M + r * ldm + k, ldm);
}

int od_wino_multiply_grad(const od_wino_geo *g, const float *V, const float *Mg, float *dU, int accumulate)
{
    /* oneDNN's sgemm: it beat the backend's own kernel here (C x T by
     * T x K with T in the thousands, where its packing pays) */
    int64_t T = g->T, C = g->C, K = g->K;
    float beta = accumulate ? 1.f : 0.f;
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (int e = 0; e < 36; e++)
        bad |= dnnl_sgemm('T', 'N', C, K, T, 1.f, V + e * T * C, C, Mg + e * T * K, K, beta, dU + e * C * K, K) !=
               dnnl_success;
    return bad ? -1 : 0;
}

/* M = V U for all tiles at once, the 36 products spread over the threads
 * (each reads its U[e] once): V and M have Tp rows per e, Tp = T rounded up
 * to 6, the rows past T zeros in V. */
int od_wino_multiply(const od_wino_geo *g, const float *V, const float *U, float *M, int threads, int sgemm)
{
    int64_t Tp = od_wino_rows(g), C = g->C, K = g->K;
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(| : bad)
    for (int e = 0; e < 36; e++) {
        if (sgemm)
            bad |= dnnl_sgemm('N', 'N', Tp, K, C, 1.f, V + e * Tp * C, C, U + e * C * K, K, 0.f, M + e * Tp * K, K) !=
                   dnnl_success;
        else
            od_wino_gemm(Tp, C, K, V + e * Tp * C, C, U + e * C * K, M + e * Tp * K, K);
    }
    return bad ? -1 : 0;
}

int64_t od_wino_block_tiles(const od_wino_geo *g)
{
    /* V and M of a block (36 x rows x (C + K) floats) within half of a
     * 512 KiB L2 ... */
    int64_t tb = ((int64_t)256 << 10) / (36 * 4 * (g->C + g->K));
    /* ... but U (36 C K floats) is read once per block, so where it is
     * large, blocks get long enough for each of its values to serve at
     * least 24 tiles */
    if (tb < 24 && (int64_t)36 * g->C * g->K * 4 > ((int64_t)1 << 20))
        tb = 24;
    tb = (tb + 5) / 6 * 6;
    return tb < 6 ? 6 : tb;
}

int64_t od_wino_fused_floats(const od_wino_geo *g, int64_t tb) { return 36 * tb * (g->C + g->K); }

void od_wino_forward_fused(const od_wino_geo *g, const float *x, const float *U, const float *bias, float *y,
                           float *scratch, int64_t tb, int threads)
{
    int64_t T = g->T, C = g->C, K = g->K, per = od_wino_fused_floats(g, tb);
#pragma omp parallel num_threads(threads)
    {
        int id = omp_get_thread_num(), nth = omp_get_num_threads();
        float *Vb = scratch + id * per, *Mb = Vb + 36 * tb * C;
        int64_t t0 = T * id / nth, t1 = T * (id + 1) / nth;
        for (int64_t b = t0; b < t1; b += tb) {
            int64_t nb = t1 - b < tb ? t1 - b : tb, nr = (nb + 5) / 6 * 6;
            for (int64_t j = 0; j < nb; j++)
                input_tile(g, x, b + j, Vb + j * C, nr * C);
            if (nr > nb) /* rows past the last tile: zeros, never read back */
                for (int e = 0; e < 36; e++)
                    memset(Vb + (e * nr + nb) * C, 0, (size_t)((nr - nb) * C) * sizeof(float));
            for (int e = 0; e < 36; e++)
                od_wino_gemm(nr, C, K, Vb + e * nr * C, C, U + e * C * K, Mb + e * nr * K, K);
            for (int64_t j = 0; j < nb; j++)
                output_tile(g, Mb + j * K, nr * K, bias, y, b + j);
        }
    }
}
