/* Reductions over an axis mask, softmax and L2 normalisation, with their
 * gradients. Sums run in double. */
#include "rb_internal.h"

#include <math.h>

/* Strides mapping an index of x to the reduced value it belongs to: the
 * output is x's shape with the masked axes set to 1 (keepdim or not, the
 * element order is the same). */
static void keep_strides(const rb_val *x, int64_t mask, int64_t *st)
{
    int64_t s = 1;
    for (int d = x->ndim - 1; d >= 0; d--) {
        if (mask & ((int64_t)1 << d)) {
            st[d] = 0;
        } else {
            st[d] = s;
            s *= x->shape[d];
        }
    }
}

/* Axis `a` of v as (outer, len, inner). */
static void split(const rb_val *v, int a, int64_t *outer, int64_t *len, int64_t *inner)
{
    *outer = rb_prod(v->shape, 0, a);
    *len = v->shape[a];
    *inner = rb_prod(v->shape, a + 1, v->ndim);
}

int rb_reduce(rb_prog *p, const rb_op *op)
{
    rb_val *y = rb_out(p, op, 0), *x = rb_in(p, op, 0);
    if (!y)
        return AIGTATT_OK;
    int64_t st[RB_MAXD];
    switch (op->op) {
    case AIGTATT_OP_REDUCE: {
        aigtatt_reduce r = (aigtatt_reduce)op->ints[0];
        keep_strides(x, op->ints[1], st);
        int64_t count = x->numel / y->numel;
        if (r == AIGTATT_REDUCE_MAX)
            for (int64_t i = 0; i < y->numel; i++)
                y->data[i] = -INFINITY;
        for (int64_t i = 0; i < x->numel; i++) {
            double *o = &y->data[rb_offset(i, x->ndim, x->shape, st)], v = x->data[i];
            if (r == AIGTATT_REDUCE_MAX) {
                if (v > *o || isnan(v))
                    *o = isnan(*o) ? *o : v;
            } else {
                *o += v;
            }
        }
        if (r == AIGTATT_REDUCE_MEAN)
            for (int64_t i = 0; i < y->numel; i++)
                y->data[i] /= (double)count;
        return AIGTATT_OK;
    }
    case AIGTATT_OP_REDUCE_MAX_BWD: {
        /* in: dy (reduced), x, y (reduced); ties share dy evenly (amax). */
        rb_val *g = x, *xv = rb_in(p, op, 1), *m = rb_in(p, op, 2);
        keep_strides(xv, op->ints[1], st);
        double *cnt = rb_host->alloc_zero((size_t)m->numel, sizeof(double));
        if (!cnt)
            return rb_fail("out of memory");
        for (int64_t i = 0; i < xv->numel; i++) {
            int64_t o = rb_offset(i, xv->ndim, xv->shape, st);
            if (xv->data[i] == m->data[o])
                cnt[o] += 1;
        }
        for (int64_t i = 0; i < xv->numel; i++) {
            int64_t o = rb_offset(i, xv->ndim, xv->shape, st);
            y->data[i] = xv->data[i] == m->data[o] ? g->data[o] / cnt[o] : 0.0;
        }
        rb_host->free_mem(cnt);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_SOFTMAX:
    case AIGTATT_OP_SOFTMAX_BWD:
    case AIGTATT_OP_L2_NORMALIZE:
    case AIGTATT_OP_L2_NORMALIZE_BWD: {
        int64_t outer, len, inner;
        split(y, (int)op->ints[0], &outer, &len, &inner);
        rb_val *t = rb_in(p, op, 1); /* y for softmax_bwd, x for l2_normalize_bwd */
        double eps = op->reals[0];
        for (int64_t o = 0; o < outer; o++)
            for (int64_t in = 0; in < inner; in++) {
                int64_t base = o * len * inner + in;
#define AT(v, j) ((v)->data[base + (j) * inner])
                if (op->op == AIGTATT_OP_SOFTMAX) {
                    double mx = -INFINITY, s = 0;
                    for (int64_t j = 0; j < len; j++)
                        mx = fmax(mx, AT(x, j));
                    for (int64_t j = 0; j < len; j++)
                        s += exp(AT(x, j) - mx);
                    for (int64_t j = 0; j < len; j++)
                        AT(y, j) = exp(AT(x, j) - mx) / s;
                } else if (op->op == AIGTATT_OP_SOFTMAX_BWD) {
                    /* dx = y (dy - sum(dy y)) */
                    double s = 0;
                    for (int64_t j = 0; j < len; j++)
                        s += AT(x, j) * AT(t, j);
                    for (int64_t j = 0; j < len; j++)
                        AT(y, j) = AT(t, j) * (AT(x, j) - s);
                } else if (op->op == AIGTATT_OP_L2_NORMALIZE) {
                    double s = 0;
                    for (int64_t j = 0; j < len; j++)
                        s += AT(x, j) * AT(x, j);
                    double d = fmax(sqrt(s), eps);
                    for (int64_t j = 0; j < len; j++)
                        AT(y, j) = AT(x, j) / d;
                } else {
                    /* With the norm above eps: dx = dy/n - x sum(dy x)/n^3;
                     * clamped to eps the denominator is a constant. */
                    double s = 0, dot = 0;
                    for (int64_t j = 0; j < len; j++) {
                        s += AT(t, j) * AT(t, j);
                        dot += AT(x, j) * AT(t, j);
                    }
                    double nrm = sqrt(s);
                    if (nrm > eps) {
                        for (int64_t j = 0; j < len; j++)
                            AT(y, j) = AT(x, j) / nrm - AT(t, j) * dot / (nrm * nrm * nrm);
                    } else {
                        for (int64_t j = 0; j < len; j++)
                            AT(y, j) = AT(x, j) / eps;
                    }
                }
#undef AT
            }
        return AIGTATT_OK;
    }
    default:
        return rb_fail("reduce: opcode %d", (int)op->op);
    }
}
