/* C kernels: copies, broadcasts, the statistics oneDNN's normalisations
 * do not produce in the IR's form, and the optimizer updates (in place,
 * rounded to float where torch.optim rounds, like backend.reference). */
#include "od_internal.h"
#include "od_bn.h"

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
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define SGD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SGD_CLONES
#endif

/* The common case of sgd_range() (momentum after the first step, no
 * Nesterov, not maximising) without branches in the loop, so that it
 * vectorises: the same double operations and float roundings, in the same
 * order, as the general loop (no FMA: -ffp-contract=off), so the same bits.
 * A step was 2 ns an element in the general loop, compute-bound in scalar
 * double arithmetic. */
SGD_CLONES static void sgd_momentum_range(float *restrict w, const float *restrict g, float *restrict buf, int64_t a,
                                          int64_t b, double lr, double momentum, double damp1, double wd)
{
    if (wd != 0) {
        for (int64_t i = a; i < b; i++) {
            double d = (float)((double)g[i] + wd * w[i]);
            buf[i] = (float)(momentum * buf[i] + damp1 * d);
            w[i] = (float)(w[i] - lr * (double)buf[i]);
        }
    } else {
        for (int64_t i = a; i < b; i++) {
            double d = g[i];
            buf[i] = (float)(momentum * buf[i] + damp1 * d);
            w[i] = (float)(w[i] - lr * (double)buf[i]);
        }
    }
}

static void sgd_range(float *w, const float *g, float *buf, int64_t a, int64_t b, double lr, int64_t step,
                      double momentum, double dampening, double wd, int nesterov, int maximize)
{
    if (momentum != 0 && step > 1 && !nesterov && !maximize) {
        sgd_momentum_range(w, g, buf, a, b, lr, momentum, 1 - dampening, wd);
        return;
    }
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

/* od_k_adam()'s loop without amsgrad or maximize, the weight decay's
 * branch taken outside: the same double operations and float roundings in
 * the same order, so the same bits, but vectorised (sqrt too: the file is
 * built with -fno-math-errno). decay: 0 none, 1 L2 (Adam), 2 decoupled
 * (AdamW). */
SGD_CLONES static void adam_plain_range(float *restrict w, const float *restrict g, float *restrict m,
                                        float *restrict v, int64_t a, int64_t b, double keep, double wd, int decay,
                                        double b1, double b2, double eps, double step_size, double bc2_sqrt)
{
    const double c1 = 1 - b1, c2 = 1 - b2;
#define ADAM_TAIL                                                                                                    \
    m[i] = (float)(m[i] * b1 + gr * c1);                                                                             \
    v[i] = (float)(v[i] * b2 + gr * gr * c2);                                                                        \
    double denom = (float)(sqrt((double)v[i]) / bc2_sqrt + eps);                                                     \
    w[i] = (float)(w[i] - step_size * m[i] / denom);
    if (decay == 2) {
        for (int64_t i = a; i < b; i++) {
            double gr = g[i];
            w[i] = (float)(w[i] * keep);
            ADAM_TAIL
        }
    } else if (decay == 1) {
        for (int64_t i = a; i < b; i++) {
            double gr = (float)((double)g[i] + wd * w[i]);
            ADAM_TAIL
        }
    } else {
        for (int64_t i = a; i < b; i++) {
            double gr = g[i];
            ADAM_TAIL
        }
    }
#undef ADAM_TAIL
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
    if (!amsgrad && !maximize) {
        int decay = decoupled ? 2 : wd != 0 ? 1 : 0;
#pragma omp parallel if (n >= PAR_MIN)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            adam_plain_range(w, g, m, v, n * t / nt, n * (t + 1) / nt, 1 - lr * wd, wd, decay, b1, b2, eps,
                             step_size, bc2_sqrt);
        }
        p->v[s->i[4]].version++;
        return AIGTATT_OK;
    }
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

/* ---- the backend's own batch norm (od_bn.c) as steps ----
 * i: N, C, HW, layout (OD_BN_*), then per direction below; the element
 * type is x's. */

static int bn_step_geo(od_prog *p, const od_step *s, int tx, od_bn_geo *g)
{
    int bf16 = p->t[tx].md.data_type == dnnl_bf16;
    if (od_bn_geo_make(g, s->i[0], s->i[1], s->i[2], (int)s->i[3], bf16))
        return od_fail(AIGTATT_ERR, "batch norm: %lld channels do not fit layout %lld", (long long)s->i[1],
                       (long long)s->i[3]);
    return AIGTATT_OK;
}

/* t: x, y, w, b, running_mean, running_var, nbt, save_mean, save_invstd;
 * i[4..7]: flags (1 relu, 2 batch stats, 4 update), rm, rv, nbt value
 * indices; f: momentum, eps. */
int od_k_bn_fwd(od_prog *p, od_step *s)
{
    od_bn_geo g;
    if (bn_step_geo(p, s, s->t[0], &g))
        return AIGTATT_ERR;
    const float *w = od_ptr(p, s->t[2]), *b = od_ptr(p, s->t[3]);
    float *rm = od_ptr(p, s->t[4]), *rv = od_ptr(p, s->t[5]);
    float *sm = od_ptr(p, s->t[7]), *si = od_ptr(p, s->t[8]);
    int64_t *nbt = od_ptr(p, s->t[6]);
    int relu = (int)(s->i[4] & 1), bs = (int)(s->i[4] & 2), upd = (int)(s->i[4] & 4);
    double momentum = s->f[0], factor = momentum;
    if (bs && upd && nbt) {
        nbt[0] += 1;
        p->v[s->i[7]].version++;
        if (momentum < 0)
            factor = 1.0 / (double)nbt[0];
    } else if (momentum < 0) {
        factor = 0;
    }
    if (od_bn_forward(&g, od_ptr(p, s->t[0]), od_ptr(p, s->t[1]), w, b, rm, rv, sm, si, relu, bs, upd, factor,
                      s->f[1]))
        return od_fail(AIGTATT_ERR_NOMEM, "batch norm: out of memory");
    if (bs && upd && rm)
        p->v[s->i[5]].version++;
    if (bs && upd && rv)
        p->v[s->i[6]].version++;
    return AIGTATT_OK;
}

/* t: dy, x, w, mean, invstd (or running var), the forward's bias (fused
 * ReLU), dx, dw, db; i[4..5]: train (batch statistics), fused ReLU; f:
 * eps (running stats). */
int od_k_bn_bwd(od_prog *p, od_step *s)
{
    od_bn_geo g;
    if (bn_step_geo(p, s, s->t[1], &g))
        return AIGTATT_ERR;
    if (od_bn_backward(&g, od_ptr(p, s->t[0]), od_ptr(p, s->t[1]), od_ptr(p, s->t[2]), od_ptr(p, s->t[3]),
                       od_ptr(p, s->t[4]), od_ptr(p, s->t[5]), (int)s->i[5], (int)s->i[4], s->f[0],
                       od_ptr(p, s->t[6]), od_ptr(p, s->t[7]), od_ptr(p, s->t[8])))
        return od_fail(AIGTATT_ERR_NOMEM, "batch norm backward: out of memory");
    return AIGTATT_OK;
}
