/* C kernels: copies, broadcasts, the statistics oneDNN's normalisations
 * do not produce in the IR's form, and the optimizer updates (in place,
 * rounded to float where torch.optim rounds, like backend.reference). */
#include "od_internal.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#define PAR_MIN 32768 /* elements below which threads cost more than they give */

int od_k_copy(od_prog *p, od_step *s)
{
    memcpy(od_ptr(p, s->t[1]), od_ptr(p, s->t[0]), (size_t)s->i[0]);
    return AIGTATT_OK;
}

int od_k_expand(od_prog *p, od_step *s)
{
    const float *x = od_ptr(p, s->t[0]);
    float *y = od_ptr(p, s->t[1]);
    const int64_t *dims = s->aux, *st = dims + OD_MAXD;
    int n = (int)s->i[0];
    int64_t total = s->i[1];
    if (n == 0) {
        y[0] = x[0];
        return AIGTATT_OK;
    }
    int64_t inner = dims[n - 1], outer = total / inner, sl = st[n - 1];
#pragma omp parallel for if (total >= PAR_MIN) schedule(static)
    for (int64_t r = 0; r < outer; r++) {
        int64_t off = 0, q = r;
        for (int d = n - 2; d >= 0; d--) {
            off += (q % dims[d]) * st[d];
            q /= dims[d];
        }
        float *yr = y + r * inner;
        if (sl == 0) {
            float v = x[off];
            for (int64_t j = 0; j < inner; j++)
                yr[j] = v;
        } else {
            for (int64_t j = 0; j < inner; j++)
                yr[j] = x[off + j * sl];
        }
    }
    return AIGTATT_OK;
}

/* After oneDNN's training batch norm: save_invstd from the biased
 * variance, then PyTorch's running-stat update with the unbiased one. */
int od_k_bn_stats(od_prog *p, od_step *s)
{
    const float *mean = od_ptr(p, s->t[0]), *var = od_ptr(p, s->t[1]);
    float *inv = od_ptr(p, s->t[2]), *rm = od_ptr(p, s->t[3]), *rv = od_ptr(p, s->t[4]);
    int64_t *nbt = od_ptr(p, s->t[5]);
    int upd = (int)s->i[0];
    int64_t C = s->i[1], M = s->i[2];
    double momentum = s->f[0], eps = s->f[1];
    if (upd && nbt) {
        nbt[0] += 1;
        p->v[s->i[5]].version++;
    }
    double factor = momentum >= 0 ? momentum : (nbt ? 1.0 / (double)nbt[0] : 0.0);
    for (int64_t c = 0; c < C; c++) {
        if (inv)
            inv[c] = (float)(1.0 / sqrt((double)var[c] + eps));
        if (!upd)
            continue;
        double unbiased = M > 1 ? (double)var[c] * (double)M / (double)(M - 1) : (double)var[c];
        if (rm)
            rm[c] = (float)((1 - factor) * rm[c] + factor * mean[c]);
        if (rv)
            rv[c] = (float)((1 - factor) * rv[c] + factor * unbiased);
    }
    if (upd && rm)
        p->v[s->i[3]].version++;
    if (upd && rv)
        p->v[s->i[4]].version++;
    return AIGTATT_OK;
}

int od_k_var_from_invstd(od_prog *p, od_step *s)
{
    const float *inv = od_ptr(p, s->t[0]);
    float *var = od_ptr(p, s->t[1]);
    double eps = s->f[0];
    for (int64_t c = 0; c < s->i[0]; c++) {
        double i = inv[c];
        var[c] = (float)(1.0 / (i * i) - eps);
    }
    return AIGTATT_OK;
}

int od_k_ln_stats(od_prog *p, od_step *s)
{
    const float *var = od_ptr(p, s->t[0]);
    float *r = od_ptr(p, s->t[1]);
    for (int64_t i = 0; i < s->i[0]; i++)
        r[i] = (float)(1.0 / sqrt((double)var[i] + s->f[0]));
    return AIGTATT_OK;
}

static double lr_of(od_prog *p, od_step *s, int t, int f64)
{
    const void *d = od_ptr(p, s->t[t]);
    return f64 ? *(const double *)d : (double)*(const float *)d;
}

/* torch.optim.SGD (see rb_optim.c for the rounding points), over several
 * tensors at once: the elements of all of them are split evenly between
 * the threads. */
static void sgd_range(float *w, const float *g, float *buf, int64_t a, int64_t b, double lr, int64_t step,
                      double momentum, double dampening, double wd, int nesterov, int maximize)
{
    for (int64_t i = a; i < b; i++) {
        double d = maximize ? -(double)g[i] : (double)g[i];
        if (wd != 0)
            d = (float)(d + wd * w[i]);
        if (momentum != 0) {
            double bb = step <= 1 ? d : momentum * buf[i] + (1 - dampening) * d;
            buf[i] = (float)bb;
            d = nesterov ? (float)(d + momentum * buf[i]) : buf[i];
        }
        w[i] = (float)(w[i] - lr * d);
    }
}

int od_k_sgd(od_prog *p, od_step *s)
{
    const int64_t *aux = s->aux;
    int n = (int)s->i[0];
    double lr = lr_of(p, s, 0, (int)s->i[5]);
    int64_t step = *(const int64_t *)od_ptr(p, s->t[1]), total = 0;
    for (int j = 0; j < n; j++)
        total += aux[6 * j + 3];
    int nthr = total >= PAR_MIN ? p->dev->threads : 1;
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t lo = total * t / nt, hi = total * (t + 1) / nt, base = 0;
        for (int j = 0; j < n && base < hi; j++) {
            int64_t len = aux[6 * j + 3], a = lo > base ? lo - base : 0, b = hi - base < len ? hi - base : len;
            if (a < b)
                sgd_range(od_ptr(p, (int)aux[6 * j]), od_ptr(p, (int)aux[6 * j + 1]), od_ptr(p, (int)aux[6 * j + 2]),
                          a, b, lr, step, s->f[0], s->f[1], s->f[2], (int)s->i[1], (int)s->i[2]);
            base += len;
        }
    }
    for (int j = 0; j < n; j++) {
        p->v[aux[6 * j + 4]].version++;
        if (aux[6 * j + 5] >= 0)
            p->v[aux[6 * j + 5]].version++;
    }
    return AIGTATT_OK;
}

/* torch.optim.Adam / AdamW. */
int od_k_adam(od_prog *p, od_step *s)
{
    float *w = od_ptr(p, s->t[0]), *m = od_ptr(p, s->t[2]), *v = od_ptr(p, s->t[3]), *vmax = od_ptr(p, s->t[4]);
    const float *g = od_ptr(p, s->t[1]);
    double lr = lr_of(p, s, 5, (int)s->i[5]);
    double step = (double)*(const int64_t *)od_ptr(p, s->t[6]);
    double b1 = s->f[0], b2 = s->f[1], eps = s->f[2], wd = s->f[3];
    int decoupled = (int)s->i[1], amsgrad = (int)s->i[2], maximize = (int)s->i[3];
    double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
    double step_size = lr / bc1, bc2_sqrt = sqrt(bc2);
    int64_t n = s->i[0];
#pragma omp parallel for if (n >= PAR_MIN) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double gr = maximize ? -(double)g[i] : (double)g[i];
        if (decoupled)
            w[i] = (float)(w[i] * (1 - lr * wd));
        else if (wd != 0)
            gr = (float)(gr + wd * w[i]);
        m[i] = (float)(m[i] * b1 + gr * (1 - b1));
        v[i] = (float)(v[i] * b2 + gr * gr * (1 - b2));
        double second = v[i];
        if (amsgrad) {
            vmax[i] = fmaxf(vmax[i], v[i]);
            second = vmax[i];
        }
        double denom = (float)(sqrt(second) / bc2_sqrt + eps);
        w[i] = (float)(w[i] - step_size * m[i] / denom);
    }
    /* parameter and moments changed */
    p->v[s->i[4]].version++;
    return AIGTATT_OK;
}

int od_k_increment(od_prog *p, od_step *s)
{
    int64_t *v = od_ptr(p, s->t[0]);
    for (int64_t i = 0; i < s->i[1]; i++)
        v[i] += s->i[0];
    p->v[s->i[2]].version++;
    return AIGTATT_OK;
}

/* Inference: a batch norm on running statistics folded into the preceding
 * convolution. w' = w * s, b' = (b - mean) * s + beta, s = gamma /
 * sqrt(var + eps), computed in double and rounded once. t: w, b, gamma,
 * beta, mean, var -> w', b'. */
int od_k_fold_bn(od_prog *p, od_step *s)
{
    const float *w = od_ptr(p, s->t[0]), *b = od_ptr(p, s->t[1]), *gam = od_ptr(p, s->t[2]), *bet = od_ptr(p, s->t[3]);
    const float *mean = od_ptr(p, s->t[4]), *var = od_ptr(p, s->t[5]);
    float *wf = od_ptr(p, s->t[6]), *bf = od_ptr(p, s->t[7]);
    int64_t O = s->i[0], per = s->i[1];
    double eps = s->f[0];
    for (int64_t o = 0; o < O; o++) {
        double sc = (gam ? gam[o] : 1.0) / sqrt((double)var[o] + eps);
        for (int64_t j = 0; j < per; j++)
            wf[o * per + j] = (float)(w[o * per + j] * sc);
        bf[o] = (float)(((b ? b[o] : 0.0) - mean[o]) * sc + (bet ? bet[o] : 0.0));
    }
    return AIGTATT_OK;
}

/* ---- native batch norm on nChw8c (B = 8) or plain (B = 1) data ----
 *
 * Element (n, c, i) of x [N, C, HW] is at ((n*CB + c/B)*HW + i)*B + c%B.
 * Each thread owns whole channel blocks, so there is no reduction across
 * threads and no barrier but the parallel loop's own (oneDNN's batch norm
 * synchronises its threads with spin barriers several times per call,
 * which stalls badly on an oversubscribed machine). Statistics accumulate
 * in double, shifted by each channel's first element (no E[x^2] - E[x]^2
 * cancellation). Forward: 2 passes over x (statistics, then y, with the
 * ReLU applied when fused); backward: 2 passes (sums, then dx, with the
 * ReLU's mask from its output when fused). */

typedef struct bn_geo {
    int64_t N, C, HW, B, CB;
} bn_geo;

static bn_geo bn_geometry(const od_step *s)
{
    bn_geo g = { s->i[0], s->i[1], s->i[2], s->i[3], s->i[1] / s->i[3] };
    return g;
}

#define OD_CLONES /* the portable loops (AVX2 versions below take over on CPUs that have it) */

#include <immintrin.h>

static int has_avx2(void)
{
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return v;
}

/* The AVX2 versions of the nChw8c (B = 8) loops: one channel block is one
 * 8-float vector; sums in double (two 4-lane halves). The ReLU mask is
 * x * sc + sh > 0 computed as a multiply then an add, exactly as the
 * scalar loops (built without contraction) compute it. */
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static void bn8_stats(const float *x, const bn_geo *g, int64_t cb, const float *K, double *s1, double *s2)
{
    __m256d a1l = _mm256_setzero_pd(), a1h = a1l, a2l = a1l, a2h = a1l;
    __m256d kl = _mm256_cvtps_pd(_mm_loadu_ps(K)), kh = _mm256_cvtps_pd(_mm_loadu_ps(K + 4));
    for (int64_t n = 0; n < g->N; n++) {
        const float *p = x + (n * g->CB + cb) * g->HW * 8;
        for (int64_t i = 0; i < g->HW; i++) {
            __m256 v = _mm256_loadu_ps(p + i * 8);
            __m256d dl = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), kl);
            __m256d dh = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), kh);
            a1l = _mm256_add_pd(a1l, dl);
            a1h = _mm256_add_pd(a1h, dh);
            a2l = _mm256_fmadd_pd(dl, dl, a2l);
            a2h = _mm256_fmadd_pd(dh, dh, a2h);
        }
    }
    _mm256_storeu_pd(s1, a1l);
    _mm256_storeu_pd(s1 + 4, a1h);
    _mm256_storeu_pd(s2, a2l);
    _mm256_storeu_pd(s2 + 4, a2h);
}

AVX2 static void bn8_apply(const float *x, float *y, const bn_geo *g, int64_t cb, const float *scale,
                           const float *shift, int relu)
{
    __m256 sc = _mm256_loadu_ps(scale), sh = _mm256_loadu_ps(shift), z = _mm256_setzero_ps();
    for (int64_t n = 0; n < g->N; n++) {
        int64_t off = (n * g->CB + cb) * g->HW * 8;
        for (int64_t i = 0; i < g->HW; i++) {
            __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + off + i * 8), sc), sh);
            if (relu)
                v = _mm256_and_ps(v, _mm256_cmp_ps(v, z, _CMP_GT_OQ));
            _mm256_storeu_ps(y + off + i * 8, v);
        }
    }
}

AVX2 static void bn8_bsums(const float *dy, const float *x, int relu, const float *sc, const float *sh,
                           const bn_geo *g, int64_t cb, const float *mean, double *sdy, double *sdyx)
{
    __m256d a1l = _mm256_setzero_pd(), a1h = a1l, a2l = a1l, a2h = a1l;
    __m256d ml = _mm256_cvtps_pd(_mm_loadu_ps(mean)), mh = _mm256_cvtps_pd(_mm_loadu_ps(mean + 4));
    __m256 vsc = _mm256_loadu_ps(sc), vsh = _mm256_loadu_ps(sh), z = _mm256_setzero_ps();
    for (int64_t n = 0; n < g->N; n++) {
        int64_t off = (n * g->CB + cb) * g->HW * 8;
        for (int64_t i = 0; i < g->HW; i++) {
            __m256 xv = _mm256_loadu_ps(x + off + i * 8), d = _mm256_loadu_ps(dy + off + i * 8);
            if (relu)
                d = _mm256_and_ps(d, _mm256_cmp_ps(_mm256_add_ps(_mm256_mul_ps(xv, vsc), vsh), z, _CMP_GT_OQ));
            __m256d dl = _mm256_cvtps_pd(_mm256_castps256_ps128(d)), dh = _mm256_cvtps_pd(_mm256_extractf128_ps(d, 1));
            __m256d xl = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(xv)), ml);
            __m256d xh = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)), mh);
            a1l = _mm256_add_pd(a1l, dl);
            a1h = _mm256_add_pd(a1h, dh);
            a2l = _mm256_fmadd_pd(dl, xl, a2l);
            a2h = _mm256_fmadd_pd(dh, xh, a2h);
        }
    }
    _mm256_storeu_pd(sdy, a1l);
    _mm256_storeu_pd(sdy + 4, a1h);
    _mm256_storeu_pd(sdyx, a2l);
    _mm256_storeu_pd(sdyx + 4, a2h);
}

AVX2 static void bn8_dx(const float *dy, const float *x, int relu, const float *sc, const float *sh, float *dx,
                        const bn_geo *g, int64_t cb, const float *k1, const float *kx, const float *k0)
{
    __m256 vsc = _mm256_loadu_ps(sc), vsh = _mm256_loadu_ps(sh), z = _mm256_setzero_ps();
    __m256 v1 = _mm256_loadu_ps(k1), vx = _mm256_loadu_ps(kx), v0 = _mm256_loadu_ps(k0);
    for (int64_t n = 0; n < g->N; n++) {
        int64_t off = (n * g->CB + cb) * g->HW * 8;
        for (int64_t i = 0; i < g->HW; i++) {
            __m256 xv = _mm256_loadu_ps(x + off + i * 8), d = _mm256_loadu_ps(dy + off + i * 8);
            if (relu)
                d = _mm256_and_ps(d, _mm256_cmp_ps(_mm256_add_ps(_mm256_mul_ps(xv, vsc), vsh), z, _CMP_GT_OQ));
            _mm256_storeu_ps(dx + off + i * 8, _mm256_fmadd_ps(v1, d, _mm256_fmadd_ps(vx, xv, v0)));
        }
    }
}

/* y = x * scale + shift with scale and shift from the float mean and
 * invstd the IR saves: the fused backward recomputes the ReLU's mask from
 * x with bit-identical numbers (the plugin builds with -ffp-contract=off). */
static inline void bn_affine(float mean, float inv, double gw, double gb, float *scale, float *shift)
{
    *scale = (float)(gw * (double)inv);
    *shift = (float)(gb - (double)mean * (double)*scale);
}

/* sums of (x - K) and (x - K)^2 over channel block cb, B lanes */
OD_CLONES static void bn_block_stats(const float *x, const bn_geo *g, int64_t cb, const float *K, double *s1,
                                     double *s2)
{
    int64_t B = g->B;
    if (B == 8 && has_avx2()) {
        bn8_stats(x, g, cb, K, s1, s2);
        return;
    }
    for (int64_t l = 0; l < B; l++)
        s1[l] = s2[l] = 0;
    for (int64_t n = 0; n < g->N; n++) {
        const float *p = x + (n * g->CB + cb) * g->HW * B;
        if (B == 8) {
            double a1[8] = { 0 }, a2[8] = { 0 };
            for (int64_t i = 0; i < g->HW; i++)
                for (int l = 0; l < 8; l++) {
                    double d = (double)p[i * 8 + l] - (double)K[l];
                    a1[l] += d;
                    a2[l] += d * d;
                }
            for (int l = 0; l < 8; l++) {
                s1[l] += a1[l];
                s2[l] += a2[l];
            }
        } else {
            double a1 = 0, a2 = 0;
            for (int64_t i = 0; i < g->HW * B; i++) {
                double d = (double)p[i] - (double)K[0];
                a1 += d;
                a2 += d * d;
            }
            s1[0] += a1;
            s2[0] += a2;
        }
    }
}

/* y = max?(x * scale + shift) over channel block cb */
OD_CLONES static void bn_block_apply(const float *x, float *y, const bn_geo *g, int64_t cb, const float *scale,
                                     const float *shift, int relu)
{
    int64_t B = g->B;
    if (B == 8 && has_avx2()) {
        bn8_apply(x, y, g, cb, scale, shift, relu);
        return;
    }
    for (int64_t n = 0; n < g->N; n++) {
        int64_t off = (n * g->CB + cb) * g->HW * B;
        const float *p = x + off;
        float *q = y + off;
        if (B == 8) {
            for (int64_t i = 0; i < g->HW; i++)
                for (int l = 0; l < 8; l++) {
                    float v = p[i * 8 + l] * scale[l] + shift[l];
                    q[i * 8 + l] = relu ? (v > 0.f ? v : 0.f) : v;
                }
        } else {
            float sc = scale[0], sh = shift[0];
            for (int64_t i = 0; i < g->HW; i++) {
                float v = p[i] * sc + sh;
                q[i] = relu ? (v > 0.f ? v : 0.f) : v;
            }
        }
    }
}

/* t: x, y, w, b, running_mean, running_var, nbt, save_mean, save_invstd;
 * i: N, C, HW, B, flags (1 relu, 2 batch stats, 4 update), rm, rv, nbt
 * value indices; f: momentum, eps. */
int od_k_bn_fwd(od_prog *p, od_step *s)
{
    bn_geo g = bn_geometry(s);
    const float *x = od_ptr(p, s->t[0]), *w = od_ptr(p, s->t[2]), *b = od_ptr(p, s->t[3]);
    float *y = od_ptr(p, s->t[1]), *rm = od_ptr(p, s->t[4]), *rv = od_ptr(p, s->t[5]);
    float *sm = od_ptr(p, s->t[7]), *si = od_ptr(p, s->t[8]);
    int64_t *nbt = od_ptr(p, s->t[6]);
    int relu = (int)(s->i[4] & 1), bs = (int)(s->i[4] & 2), upd = (int)(s->i[4] & 4);
    double momentum = s->f[0], eps = s->f[1], M = (double)(g.N * g.HW);
    double factor = momentum;
    if (bs && upd && nbt) {
        nbt[0] += 1;
        p->v[s->i[7]].version++;
        if (momentum < 0)
            factor = 1.0 / (double)nbt[0];
    } else if (momentum < 0) {
        factor = 0;
    }
#pragma omp parallel for schedule(static) if (g.CB > 1)
    for (int64_t cb = 0; cb < g.CB; cb++) {
        float scale[8], shift[8];
        if (bs) {
            float K[8];
            double s1[8], s2[8];
            for (int64_t l = 0; l < g.B; l++)
                K[l] = x[cb * g.HW * g.B + l];
            bn_block_stats(x, &g, cb, K, s1, s2);
            for (int64_t l = 0; l < g.B; l++) {
                int64_t c = cb * g.B + l;
                double d = s1[l] / M, mean = (double)K[l] + d, var = s2[l] / M - d * d;
                if (var < 0)
                    var = 0;
                double inv = 1.0 / sqrt(var + eps), gw = w ? w[c] : 1.0, gb = b ? b[c] : 0.0;
                bn_affine((float)mean, (float)inv, gw, gb, &scale[l], &shift[l]);
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
        } else {
            for (int64_t l = 0; l < g.B; l++) {
                int64_t c = cb * g.B + l;
                double inv = 1.0 / sqrt((double)rv[c] + eps), gw = w ? w[c] : 1.0, gb = b ? b[c] : 0.0;
                bn_affine(rm[c], (float)inv, gw, gb, &scale[l], &shift[l]);
            }
        }
        bn_block_apply(x, y, &g, cb, scale, shift, relu);
    }
    if (bs && upd && rm)
        p->v[s->i[5]].version++;
    if (bs && upd && rv)
        p->v[s->i[6]].version++;
    return AIGTATT_OK;
}

/* sums of dy' and dy' * (x - mean) over channel block cb; dy' is dy where
 * the fused ReLU passed (x * sc + sh > 0, as the forward computed it) when
 * relu, else dy */
OD_CLONES static void bn_block_bsums(const float *dy, const float *x, int relu, const float *sc, const float *sh,
                                     const bn_geo *g, int64_t cb, const float *mean, double *sdy, double *sdyx)
{
    int64_t B = g->B;
    if (B == 8 && has_avx2()) {
        bn8_bsums(dy, x, relu, sc, sh, g, cb, mean, sdy, sdyx);
        return;
    }
    for (int64_t l = 0; l < B; l++)
        sdy[l] = sdyx[l] = 0;
    for (int64_t n = 0; n < g->N; n++) {
        int64_t off = (n * g->CB + cb) * g->HW * B;
        if (B == 8) {
            double a1[8] = { 0 }, a2[8] = { 0 };
            for (int64_t i = 0; i < g->HW; i++)
                for (int l = 0; l < 8; l++) {
                    int64_t j = off + i * 8 + l;
                    float v = x[j] * sc[l] + sh[l];
                    double d = (relu && !(v > 0.f)) ? 0.0 : (double)dy[j];
                    a1[l] += d;
                    a2[l] += d * ((double)x[j] - (double)mean[l]);
                }
            for (int l = 0; l < 8; l++) {
                sdy[l] += a1[l];
                sdyx[l] += a2[l];
            }
        } else {
            double a1 = 0, a2 = 0;
            for (int64_t i = 0; i < g->HW; i++) {
                int64_t j = off + i;
                float v = x[j] * sc[0] + sh[0];
                double d = (relu && !(v > 0.f)) ? 0.0 : (double)dy[j];
                a1 += d;
                a2 += d * ((double)x[j] - (double)mean[0]);
            }
            sdy[0] += a1;
            sdyx[0] += a2;
        }
    }
}

/* dx = k1 * dy' + kx * x + k0 over channel block cb */
OD_CLONES static void bn_block_dx(const float *dy, const float *x, int relu, const float *sc, const float *sh,
                                  float *dx, const bn_geo *g, int64_t cb, const float *k1, const float *kx,
                                  const float *k0)
{
    int64_t B = g->B;
    if (B == 8 && has_avx2()) {
        bn8_dx(dy, x, relu, sc, sh, dx, g, cb, k1, kx, k0);
        return;
    }
    for (int64_t n = 0; n < g->N; n++) {
        int64_t off = (n * g->CB + cb) * g->HW * B;
        if (B == 8) {
            for (int64_t i = 0; i < g->HW; i++)
                for (int l = 0; l < 8; l++) {
                    int64_t j = off + i * 8 + l;
                    float v = x[j] * sc[l] + sh[l];
                    float d = (relu && !(v > 0.f)) ? 0.f : dy[j];
                    dx[j] = k1[l] * d + kx[l] * x[j] + k0[l];
                }
        } else {
            for (int64_t i = 0; i < g->HW; i++) {
                int64_t j = off + i;
                float v = x[j] * sc[0] + sh[0];
                float d = (relu && !(v > 0.f)) ? 0.f : dy[j];
                dx[j] = k1[0] * d + kx[0] * x[j] + k0[0];
            }
        }
    }
}

/* t: dy, x, w, mean, invstd (or running var), the forward's bias (fused
 * ReLU), dx, dw, db; i: N, C, HW, B, train (batch statistics), fused
 * ReLU; f: eps (running stats). */
int od_k_bn_bwd(od_prog *p, od_step *s)
{
    bn_geo g = bn_geometry(s);
    const float *dy = od_ptr(p, s->t[0]), *x = od_ptr(p, s->t[1]), *w = od_ptr(p, s->t[2]);
    const float *mv = od_ptr(p, s->t[3]), *sv = od_ptr(p, s->t[4]), *fb = od_ptr(p, s->t[5]);
    int relu = (int)s->i[5];
    float *dx = od_ptr(p, s->t[6]), *dw = od_ptr(p, s->t[7]), *db = od_ptr(p, s->t[8]);
    int train = (int)s->i[4];
    double M = (double)(g.N * g.HW), eps = s->f[0];
#pragma omp parallel for schedule(static) if (g.CB > 1)
    for (int64_t cb = 0; cb < g.CB; cb++) {
        double sdy[8], sdyx[8];
        float mean[8], k1[8], kx[8], k0[8], sc[8], sh[8];
        for (int64_t l = 0; l < g.B; l++) {
            int64_t c = cb * g.B + l;
            mean[l] = mv[c];
            bn_affine(mv[c], sv[c], w ? w[c] : 1.0, fb ? fb[c] : 0.0, &sc[l], &sh[l]);
        }
        bn_block_bsums(dy, x, relu, sc, sh, &g, cb, mean, sdy, sdyx);
        for (int64_t l = 0; l < g.B; l++) {
            int64_t c = cb * g.B + l;
            double inv = train ? (double)sv[c] : 1.0 / sqrt((double)sv[c] + eps), gw = w ? w[c] : 1.0;
            if (dw)
                dw[c] = (float)(sdyx[l] * inv);
            if (db)
                db[c] = (float)sdy[l];
            double a = gw * inv;
            if (train) { /* dx = a (dy - sdy/M - (x - mean) inv^2 sdyx / M) */
                double b2 = a * inv * inv * sdyx[l] / M;
                k1[l] = (float)a;
                kx[l] = (float)-b2;
                k0[l] = (float)(-a * sdy[l] / M + b2 * mean[l]);
            } else {
                k1[l] = (float)a;
                kx[l] = 0.f;
                k0[l] = 0.f;
            }
        }
        if (dx)
            bn_block_dx(dy, x, relu, sc, sh, dx, &g, cb, k1, kx, k0);
    }
    return AIGTATT_OK;
}
