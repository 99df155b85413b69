/* backend.onednn: batch norm on f32 or bf16 activations (od_bn.h).
 *
 * Each thread owns whole channel blocks (or, with fewer blocks than
 * threads, parts of a block's images, summed afterwards in order), so
 * there is no shared accumulator and no barrier but the parallel loops'
 * own. (oneDNN's batch norm synchronises its threads with spin barriers
 * several times per call, which stalls badly on an oversubscribed
 * machine, and its bf16 kernels in oneDNN 2.6 took 18% of a ResNet-50
 * training step on an AMX machine.)
 * Statistics are shifted by each channel's first element (no E[x^2] -
 * E[x]^2 cancellation). Forward: 2 passes over x (statistics, then y with
 * the ReLU when fused); backward: 2 passes (sums, then dx, with the ReLU's
 * mask recomputed from x when fused).
 *
 * The loops are od_bn_block.h's generic vectors, instantiated per width
 * and element type; the dispatchers below are cloned for AVX-512, AVX2
 * and the baseline and picked at load time, so one source serves every
 * CPU and the tests on an AVX2 machine run the same arithmetic. */
#include "od_bn.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BN_CHUNK 64 /* pixels summed in float before the double sums */

/* The vector helpers are always inlined, so the calling convention for
 * vectors wider than the baseline's registers never applies. */
#pragma GCC diagnostic ignored "-Wpsabi"

float od_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t od_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if (f != f)
        return 0x7fc0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* The NHWC row loops' per-channel float partial sums (od_bn_block.h):
 * cleared at the start of each run of BN_CHUNK rows and added into the
 * double sums at its end, so long reductions lose nothing. */
static inline __attribute__((always_inline)) void bn_partials_clear(float *f1, float *f2, int64_t C)
{
    memset(f1, 0, sizeof(float) * (size_t)C);
    memset(f2, 0, sizeof(float) * (size_t)C);
}

static inline __attribute__((always_inline)) void bn_partials_flush(const float *f1, const float *f2, double *d1,
                                                                    double *d2, int64_t C)
{
    for (int64_t c = 0; c < C; c++) {
        d1[c] += f1[c];
        d2[c] += f2[c];
    }
}

#define W 8
#define BF16 0
#define SUF f8
#include "od_bn_block.h"
#undef SUF
#undef BF16
#define BF16 1
#define SUF h8
#include "od_bn_block.h"
#undef SUF
#undef BF16
#undef W
#define W 16
#define BF16 0
#define SUF f16
#include "od_bn_block.h"
#undef SUF
#undef BF16
#define BF16 1
#define SUF h16
#include "od_bn_block.h"
#undef SUF
#undef BF16
#undef W

int od_bn_geo_make(od_bn_geo *g, int64_t N, int64_t C, int64_t HW, int layout, int bf16)
{
    memset(g, 0, sizeof *g);
    g->N = N;
    g->C = C;
    g->HW = HW;
    g->bf16 = bf16;
    g->n0 = 0;
    g->n1 = N;
    switch (layout) {
    case OD_BN_PLAIN:
        g->L = 1;
        g->sN = C * HW;
        g->sB = HW;
        g->sI = 1;
        return 0;
    case OD_BN_BLOCK8:
    case OD_BN_BLOCK16:
        g->L = layout;
        g->sN = C * HW;
        g->sB = HW * layout;
        g->sI = layout;
        return C % layout ? -1 : 0;
    case OD_BN_NHWC: /* by rows, 16 (or 8) channels a vector */
        g->L = C % 16 ? 8 : 16;
        g->sN = HW * C;
        g->sB = g->L;
        g->sI = C;
        g->rows = 1;
        return C % 8 ? -1 : 0;
    }
    return -1;
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define BN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BN_CLONES
#endif

/* Block cb: L channels (one channel when plain). The arrays hold L
 * entries. */
BN_CLONES static void block_stats(const void *x, const od_bn_geo *g, int64_t cb, float *K, double *s1, double *s2)
{
    if (g->L == 1)
        g->bf16 ? pln_stats_h16(x, g, cb, K, s1, s2) : pln_stats_f16(x, g, cb, K, s1, s2);
    else if (g->L == 8)
        g->bf16 ? blk_stats_h8(x, g, cb, K, s1, s2) : blk_stats_f8(x, g, cb, K, s1, s2);
    else
        g->bf16 ? blk_stats_h16(x, g, cb, K, s1, s2) : blk_stats_f16(x, g, cb, K, s1, s2);
}

BN_CLONES static void block_apply(const void *x, void *y, const od_bn_geo *g, int64_t cb, const float *sc,
                                  const float *sh, int relu)
{
    if (g->L == 1)
        g->bf16 ? pln_apply_h16(x, y, g, cb, sc[0], sh[0], relu) : pln_apply_f16(x, y, g, cb, sc[0], sh[0], relu);
    else if (g->L == 8)
        g->bf16 ? blk_apply_h8(x, y, g, cb, sc, sh, relu) : blk_apply_f8(x, y, g, cb, sc, sh, relu);
    else
        g->bf16 ? blk_apply_h16(x, y, g, cb, sc, sh, relu) : blk_apply_f16(x, y, g, cb, sc, sh, relu);
}

BN_CLONES static void block_bsums(const void *dy, const void *x, int relu, const float *sc, const float *sh,
                                  const od_bn_geo *g, int64_t cb, const float *mean, double *sdy, double *sdyx)
{
    if (g->L == 1)
        g->bf16 ? pln_bsums_h16(dy, x, relu, sc[0], sh[0], g, cb, mean[0], sdy, sdyx)
                : pln_bsums_f16(dy, x, relu, sc[0], sh[0], g, cb, mean[0], sdy, sdyx);
    else if (g->L == 8)
        g->bf16 ? blk_bsums_h8(dy, x, relu, sc, sh, g, cb, mean, sdy, sdyx)
                : blk_bsums_f8(dy, x, relu, sc, sh, g, cb, mean, sdy, sdyx);
    else
        g->bf16 ? blk_bsums_h16(dy, x, relu, sc, sh, g, cb, mean, sdy, sdyx)
                : blk_bsums_f16(dy, x, relu, sc, sh, g, cb, mean, sdy, sdyx);
}

BN_CLONES static void block_dx(const void *dy, const void *x, int relu, const float *sc, const float *sh, void *dx,
                               const od_bn_geo *g, int64_t cb, const float *k1, const float *kx, const float *k0)
{
    if (g->L == 1)
        g->bf16 ? pln_dx_h16(dy, x, relu, sc[0], sh[0], dx, g, cb, k1[0], kx[0], k0[0])
                : pln_dx_f16(dy, x, relu, sc[0], sh[0], dx, g, cb, k1[0], kx[0], k0[0]);
    else if (g->L == 8)
        g->bf16 ? blk_dx_h8(dy, x, relu, sc, sh, dx, g, cb, k1, kx, k0)
                : blk_dx_f8(dy, x, relu, sc, sh, dx, g, cb, k1, kx, k0);
    else
        g->bf16 ? blk_dx_h16(dy, x, relu, sc, sh, dx, g, cb, k1, kx, k0)
                : blk_dx_f16(dy, x, relu, sc, sh, dx, g, cb, k1, kx, k0);
}

/* NHWC by rows (rows r0 .. r1 - 1 of C channels) */

/* bf16 NHWC with C % 32 == 0 runs od_bn_block.h's row2_* loops, whose
 * per-channel arrays are in the paired order (per 32 channels: the even
 * ones, then the odd ones). */
static int pair_rows(const od_bn_geo *g) { return g->bf16 && g->L == 16 && g->C % 32 == 0; }

/* channel c's index in the paired order */
static int64_t pair_perm(int64_t c) { return (c & ~(int64_t)31) + ((c & 1) << 4) + ((c & 31) >> 1); }

static void pair_floats(float *a, int64_t C, float *tmp)
{
    for (int64_t c = 0; c < C; c++)
        tmp[pair_perm(c)] = a[c];
    memcpy(a, tmp, sizeof(float) * (size_t)C);
}

static void unpair_doubles(double *a, int64_t C, double *tmp)
{
    for (int64_t c = 0; c < C; c++)
        tmp[c] = a[pair_perm(c)];
    memcpy(a, tmp, sizeof(double) * (size_t)C);
}

BN_CLONES static void rows_stats(const void *x, const od_bn_geo *g, int64_t r0, int64_t r1, const float *K, float *f1,
                                 float *f2, double *d1, double *d2)
{
    if (pair_rows(g))
        row2_stats_h16(x, g->C, r0, r1, K, f1, f2, d1, d2);
    else if (g->L == 8)
        g->bf16 ? row_stats_h8(x, g->C, r0, r1, K, f1, f2, d1, d2) : row_stats_f8(x, g->C, r0, r1, K, f1, f2, d1, d2);
    else
        g->bf16 ? row_stats_h16(x, g->C, r0, r1, K, f1, f2, d1, d2) : row_stats_f16(x, g->C, r0, r1, K, f1, f2, d1, d2);
}

BN_CLONES static void rows_apply(const void *x, void *y, const od_bn_geo *g, int64_t r0, int64_t r1, const float *sc,
                                 const float *sh, int relu)
{
    if (pair_rows(g))
        row2_apply_h16(x, y, g->C, r0, r1, sc, sh, relu);
    else if (g->L == 8)
        g->bf16 ? row_apply_h8(x, y, g->C, r0, r1, sc, sh, relu) : row_apply_f8(x, y, g->C, r0, r1, sc, sh, relu);
    else
        g->bf16 ? row_apply_h16(x, y, g->C, r0, r1, sc, sh, relu) : row_apply_f16(x, y, g->C, r0, r1, sc, sh, relu);
}

BN_CLONES static void rows_bsums(const void *dy, const void *x, int relu, const float *sc, const float *sh,
                                 const float *mean, const od_bn_geo *g, int64_t r0, int64_t r1, float *f1, float *f2,
                                 double *d1, double *d2)
{
    if (pair_rows(g))
        row2_bsums_h16(dy, x, relu, sc, sh, mean, g->C, r0, r1, f1, f2, d1, d2);
    else if (g->L == 8)
        g->bf16 ? row_bsums_h8(dy, x, relu, sc, sh, mean, g->C, r0, r1, f1, f2, d1, d2)
                : row_bsums_f8(dy, x, relu, sc, sh, mean, g->C, r0, r1, f1, f2, d1, d2);
    else
        g->bf16 ? row_bsums_h16(dy, x, relu, sc, sh, mean, g->C, r0, r1, f1, f2, d1, d2)
                : row_bsums_f16(dy, x, relu, sc, sh, mean, g->C, r0, r1, f1, f2, d1, d2);
}

BN_CLONES static void rows_dx(const void *dy, const void *x, int relu, const float *sc, const float *sh, void *dx,
                              const od_bn_geo *g, int64_t r0, int64_t r1, const float *k1, const float *kx,
                              const float *k0)
{
    if (pair_rows(g))
        row2_dx_h16(dy, x, relu, sc, sh, dx, g->C, r0, r1, k1, kx, k0);
    else if (g->L == 8)
        g->bf16 ? row_dx_h8(dy, x, relu, sc, sh, dx, g->C, r0, r1, k1, kx, k0)
                : row_dx_f8(dy, x, relu, sc, sh, dx, g->C, r0, r1, k1, kx, k0);
    else
        g->bf16 ? row_dx_h16(dy, x, relu, sc, sh, dx, g->C, r0, r1, k1, kx, k0)
                : row_dx_f16(dy, x, relu, sc, sh, dx, g->C, r0, r1, k1, kx, k0);
}

/* y = x * scale + shift with scale and shift from the float mean and
 * invstd the IR saves: the fused backward recomputes the ReLU's mask from
 * x with bit-identical numbers. */
static inline void bn_affine(float mean, float inv, double gw, double gb, float *scale, float *shift)
{
    *scale = (float)(gw * (double)inv);
    *shift = (float)(gb - (double)mean * (double)*scale);
}

/* Channel c's statistics from the sums of (x - K) and (x - K)^2 over M
 * values: scale and shift, the saved mean and invstd, the running update. */
static void channel_forward(int64_t c, double K, double s1, double s2, double M, const float *w, const float *b,
                            float *rm, float *rv, float *sm, float *si, int upd, double factor, double eps,
                            float *scale, float *shift)
{
    double d = s1 / M, mean = K + d, var = s2 / M - d * d;
    if (var < 0)
        var = 0;
    double inv = 1.0 / sqrt(var + eps), gw = w ? w[c] : 1.0, gb = b ? b[c] : 0.0;
    bn_affine((float)mean, (float)inv, gw, gb, scale, shift);
    if (sm)
        sm[c] = (float)mean;
    if (si)
        si[c] = (float)inv;
    if (upd) {
        double unbiased = M > 1 ? var * M / (M - 1) : var;
        if (rm)
            rm[c] = (float)((1 - factor) * rm[c] + factor * mean);
        if (rv)
            rv[c] = (float)((1 - factor) * rv[c] + factor * unbiased);
    }
}

/* inference: scale and shift from the running statistics */
static void channel_eval(int64_t c, const float *w, const float *b, const float *rm, const float *rv, double eps,
                         float *scale, float *shift)
{
    double inv = 1.0 / sqrt((double)rv[c] + eps), gw = w ? w[c] : 1.0, gb = b ? b[c] : 0.0;
    bn_affine(rm[c], (float)inv, gw, gb, scale, shift);
}

/* the forward's scale and shift again (for the fused ReLU's mask) */
static void channel_mask(int64_t c, const float *w, const float *mv, const float *sv, const float *fb, int train,
                         double eps, float *sc, float *sh)
{
    /* in eval the forward normalised with the running variance */
    float inv = train ? sv[c] : (float)(1.0 / sqrt((double)sv[c] + eps));
    bn_affine(mv[c], inv, w ? w[c] : 1.0, fb ? fb[c] : 0.0, sc, sh);
}

/* channel c's dw, db and the coefficients of dx = k1 dy' + kx x + k0 */
static void channel_backward(int64_t c, double sdy, double sdyx, double M, const float *w, const float *mv,
                             const float *sv, int train, double eps, float *dw, float *db, float *k1, float *kx,
                             float *k0)
{
    double inv = train ? (double)sv[c] : 1.0 / sqrt((double)sv[c] + eps), gw = w ? w[c] : 1.0;
    if (dw)
        dw[c] = (float)(sdyx * inv);
    if (db)
        db[c] = (float)sdy;
    double a = gw * inv;
    if (train) { /* dx = a (dy - sdy/M - (x - mean) inv^2 sdyx / M) */
        double b2 = a * inv * inv * sdyx / M;
        *k1 = (float)a;
        *kx = (float)-b2;
        *k0 = (float)(-a * sdy / M + b2 * mv[c]);
    } else {
        *k1 = (float)a;
        *kx = 0.f;
        *k0 = 0.f;
    }
}

/* Per-channel arrays of the rows path: C floats each for K (or mean),
 * scale, shift, k1, kx, k0; per thread 2 C floats and 2 C doubles, and C
 * doubles of scratch after those. */
typedef struct rows_mem {
    float *K, *sc, *sh, *k1, *kx, *k0, *f;
    double *d;
    int T;
} rows_mem;

static int rows_alloc(rows_mem *m, int64_t C)
{
    m->T = omp_get_max_threads();
    m->K = malloc(sizeof(float) * (size_t)C * (6 + 2 * (size_t)m->T));
    /* and C more doubles: unpair_doubles()'s scratch */
    m->d = calloc((size_t)C * (2 * (size_t)m->T + 1), sizeof(double));
    if (!m->K || !m->d) {
        free(m->K);
        free(m->d);
        return -1;
    }
    m->sc = m->K + C, m->sh = m->sc + C, m->k1 = m->sh + C, m->kx = m->k1 + C, m->k0 = m->kx + C;
    m->f = m->k0 + C;
    return 0;
}

/* thread t's share of R rows among nt threads: [*r0, *r1) */
static void rows_range(int64_t R, int t, int nt, int64_t *r0, int64_t *r1)
{
    *r0 = R * t / nt;
    *r1 = R * (t + 1) / nt;
}

/* sums of the threads' partials into d[0 .. 2C) */
static void rows_reduce(rows_mem *m, int64_t C, int nt)
{
    for (int t = 1; t < nt; t++)
        for (int64_t j = 0; j < 2 * C; j++)
            m->d[j] += m->d[(size_t)t * 2 * (size_t)C + (size_t)j];
}

static int forward_rows(const od_bn_geo *g, const void *x, void *y, const float *w, const float *b, float *rm,
                        float *rv, float *sm, float *si, int relu, int bs, int upd, double factor, double eps)
{
    int64_t C = g->C, R = g->N * g->HW;
    int pair = pair_rows(g);
    rows_mem m;
    if (rows_alloc(&m, C))
        return -1;
    if (bs) {
        for (int64_t c = 0; c < C; c++)
            m.K[c] = g->bf16 ? od_bf16_to_f32(((const uint16_t *)x)[c]) : ((const float *)x)[c];
        if (pair)
            pair_floats(m.K, C, m.k1);
        int used = 1;
#pragma omp parallel num_threads(m.T) if (R >= 64)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            int64_t r0, r1;
            rows_range(R, t, nt, &r0, &r1);
            rows_stats(x, g, r0, r1, m.K, m.f + (size_t)t * 2 * (size_t)C, m.f + ((size_t)t * 2 + 1) * (size_t)C,
                       m.d + (size_t)t * 2 * (size_t)C, m.d + ((size_t)t * 2 + 1) * (size_t)C);
            if (t == 0)
                used = nt;
        }
        rows_reduce(&m, C, used);
        if (pair) { /* back to channel order; the partials' space is free now */
            unpair_doubles(m.d, C, m.d + 2 * C);
            unpair_doubles(m.d + C, C, m.d + 2 * C);
            for (int64_t c = 0; c < C; c++)
                m.K[c] = g->bf16 ? od_bf16_to_f32(((const uint16_t *)x)[c]) : ((const float *)x)[c];
        }
        for (int64_t c = 0; c < C; c++)
            channel_forward(c, m.K[c], m.d[c], m.d[C + c], (double)R, w, b, rm, rv, sm, si, upd, factor, eps,
                            &m.sc[c], &m.sh[c]);
    } else {
        for (int64_t c = 0; c < C; c++)
            channel_eval(c, w, b, rm, rv, eps, &m.sc[c], &m.sh[c]);
    }
    if (pair) {
        pair_floats(m.sc, C, m.k1);
        pair_floats(m.sh, C, m.k1);
    }
#pragma omp parallel num_threads(m.T) if (R >= 64)
    {
        int64_t r0, r1;
        rows_range(R, omp_get_thread_num(), omp_get_num_threads(), &r0, &r1);
        rows_apply(x, y, g, r0, r1, m.sc, m.sh, relu);
    }
    free(m.K);
    free(m.d);
    return 0;
}

static int backward_rows(const od_bn_geo *g, const void *dy, const void *x, const float *w, const float *mv,
                         const float *sv, const float *fb, int relu, int train, double eps, void *dx, float *dw,
                         float *db)
{
    int64_t C = g->C, R = g->N * g->HW;
    rows_mem m;
    if (rows_alloc(&m, C))
        return -1;
    for (int64_t c = 0; c < C; c++) {
        m.K[c] = mv[c];
        channel_mask(c, w, mv, sv, fb, train, eps, &m.sc[c], &m.sh[c]);
    }
    int pair = pair_rows(g);
    if (pair) {
        pair_floats(m.K, C, m.k1);
        pair_floats(m.sc, C, m.k1);
        pair_floats(m.sh, C, m.k1);
    }
    int used = 1;
#pragma omp parallel num_threads(m.T) if (R >= 64)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t r0, r1;
        rows_range(R, t, nt, &r0, &r1);
        rows_bsums(dy, x, relu, m.sc, m.sh, m.K, g, r0, r1, m.f + (size_t)t * 2 * (size_t)C,
                   m.f + ((size_t)t * 2 + 1) * (size_t)C, m.d + (size_t)t * 2 * (size_t)C,
                   m.d + ((size_t)t * 2 + 1) * (size_t)C);
        if (t == 0)
            used = nt;
    }
    rows_reduce(&m, C, used);
    if (pair) {
        unpair_doubles(m.d, C, m.d + 2 * C);
        unpair_doubles(m.d + C, C, m.d + 2 * C);
    }
    for (int64_t c = 0; c < C; c++)
        channel_backward(c, m.d[c], m.d[C + c], (double)R, w, mv, sv, train, eps, dw, db, &m.k1[c], &m.kx[c],
                         &m.k0[c]);
    if (pair) {
        pair_floats(m.k1, C, m.f);
        pair_floats(m.kx, C, m.f);
        pair_floats(m.k0, C, m.f);
    }
    if (dx) {
#pragma omp parallel num_threads(m.T) if (R >= 64)
        {
            int64_t r0, r1;
            rows_range(R, omp_get_thread_num(), omp_get_num_threads(), &r0, &r1);
            rows_dx(dy, x, relu, m.sc, m.sh, dx, g, r0, r1, m.k1, m.kx, m.k0);
        }
    }
    free(m.K);
    free(m.d);
    return 0;
}

/* Fewer channel blocks than threads (64 channels in nChw16c on 16
 * threads): each block's images are split into P parts, so nb * P tasks
 * keep the threads busy; the parts' sums are added in part order. 1 when
 * the blocks alone suffice. */
static int64_t image_parts(const od_bn_geo *g, int64_t nb)
{
    int64_t T = omp_get_max_threads();
    if (nb >= T || g->N < 2)
        return 1;
    int64_t P = (T + nb - 1) / nb;
    return P < g->N ? P : g->N;
}

static od_bn_geo part_geo(const od_bn_geo *g, int64_t part, int64_t P)
{
    od_bn_geo q = *g;
    q.n0 = g->N * part / P;
    q.n1 = g->N * (part + 1) / P;
    return q;
}

static int forward_parts(const od_bn_geo *g, int64_t nb, int64_t P, const void *x, void *y, const float *w,
                         const float *b, float *rm, float *rv, float *sm, float *si, int relu, int bs, int upd,
                         double factor, double eps)
{
    int64_t C = g->C, L = g->L;
    double M = (double)(g->N * g->HW);
    float *f = malloc(sizeof(float) * (size_t)C * 3);
    double *d = bs ? malloc(sizeof(double) * (size_t)(C * 2 * P)) : NULL;
    if (!f || (bs && !d)) {
        free(f);
        free(d);
        return -1;
    }
    float *K = f, *sc = f + C, *sh = f + 2 * C;
    if (bs) {
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < nb * P; t++) {
            int64_t cb = t / P, part = t % P;
            od_bn_geo q = part_geo(g, part, P);
            block_stats(x, &q, cb, K + cb * L, d + (part * 2) * C + cb * L, d + (part * 2 + 1) * C + cb * L);
        }
        for (int64_t c = 0; c < C; c++) {
            double s1 = 0, s2 = 0;
            for (int64_t part = 0; part < P; part++) {
                s1 += d[(part * 2) * C + c];
                s2 += d[(part * 2 + 1) * C + c];
            }
            channel_forward(c, K[c], s1, s2, M, w, b, rm, rv, sm, si, upd, factor, eps, &sc[c], &sh[c]);
        }
    } else {
        for (int64_t c = 0; c < C; c++)
            channel_eval(c, w, b, rm, rv, eps, &sc[c], &sh[c]);
    }
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < nb * P; t++) {
        od_bn_geo q = part_geo(g, t % P, P);
        block_apply(x, y, &q, t / P, sc + (t / P) * L, sh + (t / P) * L, relu);
    }
    free(f);
    free(d);
    return 0;
}

static int backward_parts(const od_bn_geo *g, int64_t nb, int64_t P, const void *dy, const void *x, const float *w,
                          const float *mv, const float *sv, const float *fb, int relu, int train, double eps,
                          void *dx, float *dw, float *db)
{
    int64_t C = g->C, L = g->L;
    double M = (double)(g->N * g->HW);
    float *f = malloc(sizeof(float) * (size_t)C * 6);
    double *d = malloc(sizeof(double) * (size_t)(C * 2 * P));
    if (!f || !d) {
        free(f);
        free(d);
        return -1;
    }
    float *mean = f, *sc = f + C, *sh = f + 2 * C, *k1 = f + 3 * C, *kx = f + 4 * C, *k0 = f + 5 * C;
    for (int64_t c = 0; c < C; c++) {
        mean[c] = mv[c];
        channel_mask(c, w, mv, sv, fb, train, eps, &sc[c], &sh[c]);
    }
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < nb * P; t++) {
        int64_t cb = t / P, part = t % P;
        od_bn_geo q = part_geo(g, part, P);
        block_bsums(dy, x, relu, sc + cb * L, sh + cb * L, &q, cb, mean + cb * L, d + (part * 2) * C + cb * L,
                    d + (part * 2 + 1) * C + cb * L);
    }
    for (int64_t c = 0; c < C; c++) {
        double s1 = 0, s2 = 0;
        for (int64_t part = 0; part < P; part++) {
            s1 += d[(part * 2) * C + c];
            s2 += d[(part * 2 + 1) * C + c];
        }
        channel_backward(c, s1, s2, M, w, mv, sv, train, eps, dw, db, &k1[c], &kx[c], &k0[c]);
    }
    if (dx) {
#pragma omp parallel for schedule(static)
        for (int64_t t = 0; t < nb * P; t++) {
            int64_t cb = t / P;
            od_bn_geo q = part_geo(g, t % P, P);
            block_dx(dy, x, relu, sc + cb * L, sh + cb * L, dx, &q, cb, k1 + cb * L, kx + cb * L, k0 + cb * L);
        }
    }
    free(f);
    free(d);
    return 0;
}

int od_bn_forward(const od_bn_geo *g, const void *x, void *y, const float *w, const float *b, float *rm, float *rv,
                  float *sm, float *si, int relu, int bs, int upd, double factor, double eps)
{
    if (g->rows)
        return forward_rows(g, x, y, w, b, rm, rv, sm, si, relu, bs, upd, factor, eps);
    int64_t P = image_parts(g, g->C / g->L);
    if (P > 1)
        return forward_parts(g, g->C / g->L, P, x, y, w, b, rm, rv, sm, si, relu, bs, upd, factor, eps);
    double M = (double)(g->N * g->HW);
    int64_t nb = g->C / g->L;
#pragma omp parallel for schedule(static) if (nb > 1)
    for (int64_t cb = 0; cb < nb; cb++) {
        float scale[16], shift[16];
        if (bs) {
            float K[16];
            double s1[16], s2[16];
            block_stats(x, g, cb, K, s1, s2);
            for (int64_t l = 0; l < g->L; l++)
                channel_forward(cb * g->L + l, K[l], s1[l], s2[l], M, w, b, rm, rv, sm, si, upd, factor, eps,
                                &scale[l], &shift[l]);
        } else {
            for (int64_t l = 0; l < g->L; l++)
                channel_eval(cb * g->L + l, w, b, rm, rv, eps, &scale[l], &shift[l]);
        }
        block_apply(x, y, g, cb, scale, shift, relu);
    }
    return 0;
}

int od_bn_backward(const od_bn_geo *g, const void *dy, const void *x, const float *w, const float *mv,
                   const float *sv, const float *fb, int relu, int train, double eps, void *dx, float *dw, float *db)
{
    if (g->rows)
        return backward_rows(g, dy, x, w, mv, sv, fb, relu, train, eps, dx, dw, db);
    int64_t P = image_parts(g, g->C / g->L);
    if (P > 1)
        return backward_parts(g, g->C / g->L, P, dy, x, w, mv, sv, fb, relu, train, eps, dx, dw, db);
    double M = (double)(g->N * g->HW);
    int64_t nb = g->C / g->L;
#pragma omp parallel for schedule(static) if (nb > 1)
    for (int64_t cb = 0; cb < nb; cb++) {
        double sdy[16], sdyx[16];
        float mean[16], k1[16], kx[16], k0[16], sc[16], sh[16];
        for (int64_t l = 0; l < g->L; l++) {
            mean[l] = mv[cb * g->L + l];
            channel_mask(cb * g->L + l, w, mv, sv, fb, train, eps, &sc[l], &sh[l]);
        }
        block_bsums(dy, x, relu, sc, sh, g, cb, mean, sdy, sdyx);
        for (int64_t l = 0; l < g->L; l++)
            channel_backward(cb * g->L + l, sdy[l], sdyx[l], M, w, mv, sv, train, eps, dw, db, &k1[l], &kx[l],
                             &k0[l]);
        if (dx)
            block_dx(dy, x, relu, sc, sh, dx, g, cb, k1, kx, k0);
    }
    return 0;
}
