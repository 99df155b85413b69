/* Shape kernels: copies with index arithmetic. */
#include "rb_internal.h"

#include <string.h>

static void strides(const rb_val *v, int64_t *st)
{
    int64_t s = 1;
    for (int d = v->ndim - 1; d >= 0; d--) {
        st[d] = s;
        s *= v->shape[d];
    }
}

int rb_shape(rb_prog *p, const rb_op *op)
{
    rb_val *y = rb_out(p, op, 0), *x = rb_in(p, op, 0);
    if (!y)
        return AIGTATT_OK;
    switch (op->op) {
    case AIGTATT_OP_RESHAPE:
        memcpy(y->data, x->data, sizeof(double) * (size_t)y->numel);
        return AIGTATT_OK;
    case AIGTATT_OP_PERMUTE: {
        int64_t xs[RB_MAXD], st[RB_MAXD];
        strides(x, xs);
        for (int d = 0; d < y->ndim; d++)
            st[d] = xs[op->ints[d]]; /* output dim d walks input dim perm[d] */
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = x->data[rb_offset(i, y->ndim, y->shape, st)];
        return AIGTATT_OK;
    }
    case AIGTATT_OP_ROLL: {
        /* y[j] = x[(j - shift) mod size] in every rolled dimension */
        int64_t xs[RB_MAXD];
        strides(x, xs);
        for (int64_t i = 0; i < y->numel; i++) {
            int64_t r = i, off = 0;
            for (int d = y->ndim - 1; d >= 0; d--) {
                int64_t n = y->shape[d], j = r % n;
                r /= n;
                off += ((j - op->ints[d] + n) % n) * xs[d];
            }
            y->data[i] = x->data[off];
        }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_SLICE:
    case AIGTATT_OP_SLICE_BWD: {
        /* The big side is x for SLICE and y for SLICE_BWD (which starts zeroed). */
        int a = (int)op->ints[0];
        int64_t start = op->ints[1], step = op->ints[2];
        rb_val *big = op->op == AIGTATT_OP_SLICE ? x : y, *small = op->op == AIGTATT_OP_SLICE ? y : x;
        int64_t outer = rb_prod(big->shape, 0, a), inner = rb_prod(big->shape, a + 1, big->ndim);
        int64_t nb = big->shape[a], ns = small->shape[a];
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < ns; j++) {
                double *bp = big->data + (o * nb + start + j * step) * inner;
                double *sp = small->data + (o * ns + j) * inner;
                if (op->op == AIGTATT_OP_SLICE)
                    memcpy(sp, bp, sizeof(double) * (size_t)inner);
                else
                    memcpy(bp, sp, sizeof(double) * (size_t)inner);
            }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_CONCAT: {
        int a = (int)op->ints[0];
        int64_t outer = rb_prod(y->shape, 0, a), inner = rb_prod(y->shape, a + 1, y->ndim), at = 0;
        for (int k = 0; k < op->n_in; k++) {
            rb_val *xk = rb_in(p, op, k);
            int64_t len = xk->shape[a];
            for (int64_t o = 0; o < outer; o++)
                memcpy(y->data + (o * y->shape[a] + at) * inner, xk->data + o * len * inner,
                       sizeof(double) * (size_t)(len * inner));
            at += len;
        }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_PAD: {
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = op->reals[0];
        int64_t ys[RB_MAXD];
        strides(y, ys);
        for (int64_t i = 0; i < x->numel; i++) {
            int64_t r = i, off = 0;
            for (int d = x->ndim - 1; d >= 0; d--) {
                off += (r % x->shape[d] + op->ints[2 * d]) * ys[d];
                r /= x->shape[d];
            }
            y->data[off] = x->data[i];
        }
        return AIGTATT_OK;
    }
    default:
        return rb_fail("shape: opcode %d", (int)op->op);
    }
}
