/* Convolution (forward, backward data, backward weight) and pooling, as
 * direct loops over NCHW. The backward-data and pooling-backward kernels
 * scatter into the zeroed gradient, which handles stride, dilation,
 * padding and overlapping windows without special cases. */
#include "rb_internal.h"

#include <math.h>

typedef struct conv_geo {
    int64_t n, c, h, w;    /* input */
    int64_t o, oh, ow;     /* output */
    int64_t kh, kw, cg, og; /* kernel, channels per group in and out */
    int64_t sh, sw, ph, pw, dh, dw, g;
} conv_geo;

static void geometry(const rb_op *op, const rb_val *x, const rb_val *w, const rb_val *y, conv_geo *q)
{
    q->n = x->shape[0];
    q->c = x->shape[1];
    q->h = x->shape[2];
    q->w = x->shape[3];
    q->o = y->shape[1];
    q->oh = y->shape[2];
    q->ow = y->shape[3];
    q->kh = w->shape[2];
    q->kw = w->shape[3];
    q->sh = op->ints[0];
    q->sw = op->ints[1];
    q->ph = op->ints[2];
    q->pw = op->ints[3];
    q->dh = op->ints[4];
    q->dw = op->ints[5];
    q->g = op->ints[6];
    q->cg = q->c / q->g;
    q->og = q->o / q->g;
}

/* The outputs o in [0, out) whose input index o * s - p + k lies in
 * [0, n): [*lo, *hi) (empty when none). k is the kernel tap times the
 * dilation. */
static void valid_range(int64_t n, int64_t out, int64_t s, int64_t p, int64_t k, int64_t *lo, int64_t *hi)
{
    int64_t a = p - k, b = n - 1 + p - k; /* o * s in [a, b] */
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = b < 0 ? 0 : b / s + 1;
    if (*hi > out)
        *hi = out;
    if (*hi < *lo)
        *hi = *lo;
}

/* mode 0: y = conv(x, w) + b; 1: dx += dy * w; 2: dw += dy * x.
 * For each kernel tap the rows and columns that stay inside the input are
 * worked out once, so the innermost loop runs along an output row without
 * tests. Each output of the forward and each weight gradient receives its
 * terms in the same order as a loop over (input channel, tap) per output
 * would add them (bit for bit); the input gradient sums its terms in
 * another order, which in double is far below any tolerance here. */
static void conv_loops(int mode, const conv_geo *q, double *x, double *w, double *y)
{
    for (int64_t n = 0; n < q->n; n++)
        for (int64_t o = 0; o < q->o; o++) {
            int64_t g = o / q->og;
            double *yo = &y[(n * q->o + o) * q->oh * q->ow];
            if (mode == 0)
                for (int64_t i = 0; i < q->oh * q->ow; i++)
                    yo[i] = 0;
            for (int64_t ci = 0; ci < q->cg; ci++) {
                int64_t c = g * q->cg + ci;
                double *xc = &x[(n * q->c + c) * q->h * q->w];
                for (int64_t ky = 0; ky < q->kh; ky++) {
                    int64_t y0, y1;
                    valid_range(q->h, q->oh, q->sh, q->ph, ky * q->dh, &y0, &y1);
                    for (int64_t kx = 0; kx < q->kw; kx++) {
                        int64_t x0, x1;
                        valid_range(q->w, q->ow, q->sw, q->pw, kx * q->dw, &x0, &x1);
                        double *wp = &w[((o * q->cg + ci) * q->kh + ky) * q->kw + kx];
                        double wv = *wp, acc = *wp;
                        for (int64_t oy = y0; oy < y1; oy++) {
                            /* xc[xb + ox * sw]: input column ox * sw - pw + kx * dw of row iy */
                            const int64_t iy = oy * q->sh - q->ph + ky * q->dh, sw = q->sw;
                            const int64_t xb = iy * q->w - q->pw + kx * q->dw;
                            double *yr = yo + oy * q->ow;
                            if (mode == 0)
                                for (int64_t ox = x0; ox < x1; ox++)
                                    yr[ox] += xc[xb + ox * sw] * wv;
                            else if (mode == 1)
                                for (int64_t ox = x0; ox < x1; ox++)
                                    xc[xb + ox * sw] += yr[ox] * wv;
                            else
                                for (int64_t ox = x0; ox < x1; ox++)
                                    acc += yr[ox] * xc[xb + ox * sw];
                        }
                        if (mode == 2)
                            *wp = acc;
                    }
                }
            }
        }
}

typedef struct pool_geo {
    int64_t n, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
    int max, ceil_mode, include_pad;
} pool_geo;

/* The window of output (oy, ox), clipped to the input, and the divisor of
 * an average (ATen's avg_pool2d rule: the pool size is clipped to the
 * padded input, then to the input unless padding counts). */
static void window(const pool_geo *q, int64_t oy, int64_t ox, int64_t *y0, int64_t *y1, int64_t *x0, int64_t *x1,
                   double *divisor)
{
    int64_t hs = oy * q->sh - q->ph, ws = ox * q->sw - q->pw;
    int64_t he = hs + q->kh, we = ws + q->kw;
    if (he > q->h + q->ph)
        he = q->h + q->ph;
    if (we > q->w + q->pw)
        we = q->w + q->pw;
    int64_t pool = (he - hs) * (we - ws);
    *y0 = hs < 0 ? 0 : hs;
    *x0 = ws < 0 ? 0 : ws;
    *y1 = he > q->h ? q->h : he;
    *x1 = we > q->w ? q->w : we;
    *divisor = q->include_pad ? (double)pool : (double)((*y1 - *y0) * (*x1 - *x0));
}

/* Max pooling picks the first maximum of the window (a NaN wins), like
 * ATen's CPU kernel; the gradient goes to that element only. */
static int64_t argmax(const pool_geo *q, const double *plane, int64_t oy, int64_t ox)
{
    int64_t hs = oy * q->sh - q->ph, ws = ox * q->sw - q->pw;
    int64_t he = hs + q->kh < q->h ? hs + q->kh : q->h, we = ws + q->kw < q->w ? ws + q->kw : q->w;
    if (hs < 0)
        hs = 0;
    if (ws < 0)
        ws = 0;
    int64_t best = hs * q->w + ws;
    double mv = -INFINITY;
    for (int64_t iy = hs; iy < he; iy++)
        for (int64_t ix = ws; ix < we; ix++) {
            double v = plane[iy * q->w + ix];
            if (v > mv || isnan(v)) {
                mv = v;
                best = iy * q->w + ix;
                if (isnan(v))
                    return best;
            }
        }
    return best;
}

static void pool_geometry(const rb_op *op, const rb_val *x, const rb_val *y, pool_geo *q)
{
    q->n = x->shape[0];
    q->c = x->shape[1];
    q->h = x->shape[2];
    q->w = x->shape[3];
    q->oh = y->shape[2];
    q->ow = y->shape[3];
    q->max = (int)op->ints[0];
    q->kh = op->ints[1];
    q->kw = op->ints[2];
    q->sh = op->ints[3];
    q->sw = op->ints[4];
    q->ph = op->ints[5];
    q->pw = op->ints[6];
    q->ceil_mode = (int)op->ints[7];
    q->include_pad = (int)op->ints[8];
}

int rb_conv(rb_prog *p, const rb_op *op)
{
    rb_val *out = rb_out(p, op, 0);
    if (!out)
        return AIGTATT_OK;
    conv_geo q;
    switch (op->op) {
    case AIGTATT_OP_CONV2D: {
        rb_val *x = rb_in(p, op, 0), *w = rb_in(p, op, 1), *b = rb_in(p, op, 2);
        geometry(op, x, w, out, &q);
        conv_loops(0, &q, x->data, w->data, out->data);
        if (b)
            for (int64_t i = 0; i < out->numel; i++)
                out->data[i] += b->data[(i / (q.oh * q.ow)) % q.o];
        return AIGTATT_OK;
    }
    case AIGTATT_OP_CONV2D_BWD_DATA: {
        rb_val *dy = rb_in(p, op, 0), *w = rb_in(p, op, 1);
        geometry(op, out, w, dy, &q);
        conv_loops(1, &q, out->data, w->data, dy->data);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_CONV2D_BWD_WEIGHT: {
        rb_val *x = rb_in(p, op, 0), *dy = rb_in(p, op, 1);
        geometry(op, x, out, dy, &q);
        conv_loops(2, &q, x->data, out->data, dy->data);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_GLOBAL_AVG_POOL: {
        rb_val *x = rb_in(p, op, 0);
        int64_t hw = x->shape[2] * x->shape[3];
        for (int64_t i = 0; i < out->numel; i++) {
            double s = 0;
            for (int64_t j = 0; j < hw; j++)
                s += x->data[i * hw + j];
            out->data[i] = s / (double)hw;
        }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_POOL2D:
    case AIGTATT_OP_POOL2D_BWD: {
        int bwd = op->op == AIGTATT_OP_POOL2D_BWD;
        rb_val *x = bwd ? rb_in(p, op, 1) : rb_in(p, op, 0), *dy = bwd ? rb_in(p, op, 0) : out;
        pool_geo g;
        pool_geometry(op, x, dy, &g);
        for (int64_t nc = 0; nc < g.n * g.c; nc++) {
            const double *plane = x->data + nc * g.h * g.w;
            double *dplane = bwd ? out->data + nc * g.h * g.w : NULL;
            for (int64_t oy = 0; oy < g.oh; oy++)
                for (int64_t ox = 0; ox < g.ow; ox++) {
                    double *yp = &dy->data[(nc * g.oh + oy) * g.ow + ox];
                    if (g.max) {
                        int64_t a = argmax(&g, plane, oy, ox);
                        if (bwd)
                            dplane[a] += *yp;
                        else
                            *yp = plane[a];
                        continue;
                    }
                    int64_t y0, y1, x0, x1;
                    double div, s = 0;
                    window(&g, oy, ox, &y0, &y1, &x0, &x1, &div);
                    for (int64_t iy = y0; iy < y1; iy++)
                        for (int64_t ix = x0; ix < x1; ix++) {
                            if (bwd)
                                dplane[iy * g.w + ix] += *yp / div;
                            else
                                s += plane[iy * g.w + ix];
                        }
                    if (!bwd)
                        *yp = s / div;
                }
        }
        return AIGTATT_OK;
    }
    default:
        return rb_fail("conv: opcode %d", (int)op->op);
    }
}
