/* Linear and batched matmul as triple loops with double accumulators. */
#include "rb_internal.h"

int rb_linalg(rb_prog *p, const rb_op *op)
{
    rb_val *y = rb_out(p, op, 0);
    if (!y)
        return AIGTATT_OK;
    if (op->op == AIGTATT_OP_LINEAR) {
        rb_val *x = rb_in(p, op, 0), *w = rb_in(p, op, 1), *b = rb_in(p, op, 2);
        int64_t in = w->shape[1], out = w->shape[0], rows = x->numel / in;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < out; o++) {
                double acc = b ? b->data[o] : 0.0;
                for (int64_t i = 0; i < in; i++)
                    acc += x->data[r * in + i] * w->data[o * in + i];
                y->data[r * out + o] = acc;
            }
        return AIGTATT_OK;
    }
    if (op->op != AIGTATT_OP_MATMUL)
        return rb_fail("linalg: opcode %d", (int)op->op);
    rb_val *a = rb_in(p, op, 0), *b = rb_in(p, op, 1);
    int ta = (int)op->ints[0], tb = (int)op->ints[1];
    int na = a->ndim, nb = b->ndim, ny = y->ndim;
    int64_t m = y->shape[ny - 2], n = y->shape[ny - 1];
    int64_t k = ta ? a->shape[na - 2] : a->shape[na - 1];
    int64_t ar = a->shape[na - 2], ac = a->shape[na - 1], br = b->shape[nb - 2], bc = b->shape[nb - 1];
    /* Batch offsets of a and b for each output batch index: broadcast the
     * leading dimensions, counting whole matrices. */
    rb_val ab = *a, bb = *b;
    ab.ndim = na - 2;
    bb.ndim = nb - 2;
    int64_t sa[RB_MAXD], sb[RB_MAXD];
    rb_bcast_strides(&ab, ny - 2, y->shape, sa);
    rb_bcast_strides(&bb, ny - 2, y->shape, sb);
    int64_t batches = rb_prod(y->shape, 0, ny - 2);
    for (int64_t bi = 0; bi < batches; bi++) {
        const double *A = a->data + rb_offset(bi, ny - 2, y->shape, sa) * ar * ac;
        const double *B = b->data + rb_offset(bi, ny - 2, y->shape, sb) * br * bc;
        double *Y = y->data + bi * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = 0;
                for (int64_t q = 0; q < k; q++)
                    acc += (ta ? A[q * ac + i] : A[i * ac + q]) * (tb ? B[j * bc + q] : B[q * bc + j]);
                Y[i * n + j] = acc;
            }
    }
    return AIGTATT_OK;
}
