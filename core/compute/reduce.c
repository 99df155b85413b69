/* Sum, mean and max over a set of axes (a bit mask in the IR). */
#include "compute/nn_internal.h"

aigtatt_val aigtatt_nn_reduce(aigtatt_nn *nn, aigtatt_reduce op, aigtatt_val x, int n_axes, const int *axes,
                              int keepdim)
{
    static const char *names[] = { "reduce", "sum", "mean", "amax" };
    if (!aigtatt_nn_begin(nn, (op >= AIGTATT_REDUCE_SUM && op <= AIGTATT_REDUCE_MAX) ? names[op] : "reduce"))
        return AIGTATT_NN_INVALID;
    if (op < AIGTATT_REDUCE_SUM || op > AIGTATT_REDUCE_MAX) {
        aigtatt_nn_fail(nn, "unknown reduction %d", (int)op);
        return AIGTATT_NN_INVALID;
    }
    if (!aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    if (n_axes < 0 || n_axes > xs->ndim || (n_axes > 0 && !axes)) {
        aigtatt_nn_fail(nn, "%d axes for %d dimensions", n_axes, xs->ndim);
        return AIGTATT_NN_INVALID;
    }
    int64_t mask = 0;
    if (n_axes == 0)
        mask = ((int64_t)1 << xs->ndim) - 1;
    for (int i = 0; i < n_axes; i++) {
        int a = aigtatt_nn_axis(nn, axes[i], xs->ndim, "axis");
        if (a < 0)
            return AIGTATT_NN_INVALID;
        if (mask & ((int64_t)1 << a)) {
            aigtatt_nn_fail(nn, "axis %d appears twice", a);
            return AIGTATT_NN_INVALID;
        }
        mask |= (int64_t)1 << a;
    }
    nn_shape s = { .dtype = xs->dtype, .ndim = 0 };
    for (int d = 0; d < xs->ndim; d++) {
        if (!(mask & ((int64_t)1 << d)))
            s.d[s.ndim++] = xs->d[d];
        else if (keepdim)
            s.d[s.ndim++] = 1;
    }
    int64_t ints[2] = { op, mask };
    return aigtatt_nn_emit(nn, AIGTATT_OP_REDUCE, 1, &x, 1, &s, ints, 2, NULL, 0);
}

void aigtatt_nn_grad_reduce(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                            aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    nn_shape xs = nn->v[op->in[0]].s;
    int64_t mask = op->ints[1];
    if (op->ints[0] == AIGTATT_REDUCE_MAX) {
        aigtatt_val in[3] = { dy, op->in[0], op->out[0] };
        nn->cur = "amax_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_REDUCE_MAX_BWD, 3, in, 1, &xs, op->ints, 2, NULL, 0);
        return;
    }
    /* Put the reduced axes back as 1s, then broadcast. */
    nn_shape keep = xs;
    int64_t count = 1;
    for (int d = 0; d < xs.ndim; d++)
        if (mask & ((int64_t)1 << d)) {
            count *= xs.d[d];
            keep.d[d] = 1;
        }
    aigtatt_val g = aigtatt_nn_same_dims(&nn->v[dy].s, &keep) ? dy : aigtatt_nn_reshape(nn, dy, keep.ndim, keep.d);
    if (op->ints[0] == AIGTATT_REDUCE_MEAN)
        g = aigtatt_nn_affine(nn, g, 1.0 / (double)count, 0.0);
    gx[0] = aigtatt_nn_expand(nn, g, &xs);
}
