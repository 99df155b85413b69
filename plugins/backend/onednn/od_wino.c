/* Winograd F(4x4, 3x3) convolutions on f32 activations in oneDNN's blocked
 * layouts (nChw8c, nChw16c): forward, backward data and backward weights.
 *
 * Why: oneDNN 2.6 offers Winograd only on AVX-512; on AVX2 every 3x3
 * convolution runs direct, and a direct 3x3 convolution cannot go faster
 * than the FMA units allow. F(4x4, 3x3) computes a 4x4 block of outputs
 * from a 6x6 block of inputs with 36 multiplies per channel pair instead of
 * 144. The 36 products of all tiles and channels are 36 independent
 * matrix products, done by oneDNN's sgemm; the transforms around them are
 * passes over memory, vectorised over 8 channels.
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

void od_wino_weights(const float *w, int64_t K, int64_t C, int flip, float *U)
{
    /* forward: U[e][c][k] from w[k][c]; flip (backward data): U[e][k][c]
     * from w[k][c] turned 180 degrees, so that the same forward code maps
     * dY (K channels) to dX (C channels). Eight consecutive entries of a
     * row of U at a time (eight k, or eight c). */
    int64_t rows = flip ? K : C, cols = flip ? C : K, E = rows * cols;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t r = 0; r < rows; r++)
        for (int64_t q = 0; q < cols; q += 8) {
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
            float *u = U + r * cols + q;
            for (int i = 0; i < 6; i++) { /* rows: (G g) G^T */
                v8 o[6];
                G6(t[i], o);
                for (int j = 0; j < 6; j++)
                    st(u + (i * 6 + j) * E, o[j]);
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

/* V[e][t][c] = (B^T d B)[e] for the 6x6 input block of tile t, channels
 * c..c+7. The block starts at (4 ty - pad, 4 tx - pad); outside the image
 * it reads zeros. */
void od_wino_input(const od_wino_geo *g, const float *x, float *V)
{
    int64_t C = g->C, T = g->T, tiles = g->TH * g->TW, C8 = C / 8;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t t = 0; t < T; t++)
        for (int64_t c8 = 0; c8 < C8; c8++) {
            int64_t n = t / tiles, ty = t % tiles / g->TW, tx = t % g->TW, c = c8 * 8;
            int64_t h0 = ty * 4 - g->pad, w0 = tx * 4 - g->pad;
            v8 d[6][6], r[6][6];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) {
                    int64_t h = h0 + i, w = w0 + j;
                    d[i][j] = h >= 0 && h < g->H && w >= 0 && w < g->W
                                  ? ld(x + boff(g->bin, C, g->H, g->W, n, c, h, w))
                                  : splat(0.f);
                }
            for (int j = 0; j < 6; j++) {
                v8 col[6] = { d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j] }, o[6];
                BT6(col, o);
                for (int i = 0; i < 6; i++)
                    r[i][j] = o[i];
            }
            float *v = V + t * C + c;
            for (int i = 0; i < 6; i++) {
                v8 o[6];
                BT6(r[i], o);
                for (int j = 0; j < 6; j++)
                    st(v + (int64_t)(i * 6 + j) * T * C, o[j]);
            }
        }
}

/* y's 4x4 block of tile t from M[e][t][k], plus the bias; rows and
 * columns past the output are dropped. */
void od_wino_output(const od_wino_geo *g, const float *M, const float *bias, float *y)
{
    int64_t K = g->K, T = g->T, tiles = g->TH * g->TW, K8 = K / 8;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t t = 0; t < T; t++)
        for (int64_t k8 = 0; k8 < K8; k8++) {
            int64_t n = t / tiles, ty = t % tiles / g->TW, tx = t % g->TW, k = k8 * 8;
            const float *m = M + t * K + k;
            v8 r[4][6], b = bias ? ld(bias + k) : splat(0.f);
            for (int j = 0; j < 6; j++) {
                v8 col[6], o[4];
                for (int i = 0; i < 6; i++)
                    col[i] = ld(m + (int64_t)(i * 6 + j) * T * K);
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

/* ---- the 36 products ---- */

int od_wino_multiply(const od_wino_geo *g, const float *V, const float *U, float *M)
{
    int64_t T = g->T, C = g->C, K = g->K;
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (int e = 0; e < 36; e++)
        bad |= dnnl_sgemm('N', 'N', T, K, C, 1.f, V + e * T * C, C, U + e * C * K, K, 0.f, M + e * T * K, K) !=
               dnnl_success;
    return bad ? -1 : 0;
}

int od_wino_multiply_grad(const od_wino_geo *g, const float *V, const float *Mg, float *dU, int accumulate)
{
    int64_t T = g->T, C = g->C, K = g->K;
    float beta = accumulate ? 1.f : 0.f;
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (int e = 0; e < 36; e++)
        bad |= dnnl_sgemm('T', 'N', C, K, T, 1.f, V + e * T * C, C, Mg + e * T * K, K, beta, dU + e * C * K, K) !=
               dnnl_success;
    return bad ? -1 : 0;
}
