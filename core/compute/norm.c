/* Normalisations: batch norm, layer norm, softmax and L2 normalise. Batch
 * and layer norm save their statistics as extra outputs for the backward
 * op; lowering drops them when nothing reads them (inference). */
#include "compute/nn_internal.h"

#include <math.h>

static int check_vec(aigtatt_nn *nn, aigtatt_val v, const char *what, int64_t c)
{
    if (v == AIGTATT_NN_INVALID)
        return 1;
    if (!aigtatt_nn_check_float(nn, v, what))
        return 0;
    const nn_shape *s = &nn->v[v].s;
    if (s->ndim != 1 || s->d[0] != c) {
        char b[128];
        aigtatt_nn_fail(nn, "%s %s must be [%lld]", what, aigtatt_nn_dims_str(s, b, sizeof b), (long long)c);
        return 0;
    }
    return 1;
}

aigtatt_val aigtatt_nn_batch_norm(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b, aigtatt_val rm,
                                  aigtatt_val rv, aigtatt_val nbt, double momentum, double eps)
{
    if (!aigtatt_nn_begin(nn, "batch_norm") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    char s1[128];
    if (xs->ndim < 2) {
        aigtatt_nn_fail(nn, "x %s needs a channel dimension (N, C, ...)", aigtatt_nn_dims_str(xs, s1, sizeof s1));
        return AIGTATT_NN_INVALID;
    }
    int64_t c = xs->d[1];
    if (!check_vec(nn, w, "weight", c) || !check_vec(nn, b, "bias", c) || !check_vec(nn, rm, "running_mean", c) ||
        !check_vec(nn, rv, "running_var", c))
        return AIGTATT_NN_INVALID;
    if ((rm == AIGTATT_NN_INVALID) != (rv == AIGTATT_NN_INVALID)) {
        aigtatt_nn_fail(nn, "running_mean and running_var come together");
        return AIGTATT_NN_INVALID;
    }
    if (nbt != AIGTATT_NN_INVALID) {
        if (!aigtatt_nn_check(nn, nbt, "num_batches_tracked"))
            return AIGTATT_NN_INVALID;
        if (nn->v[nbt].s.dtype != AIGTATT_I64 || nn->v[nbt].s.ndim != 0) {
            aigtatt_nn_fail(nn, "num_batches_tracked must be an I64 scalar");
            return AIGTATT_NN_INVALID;
        }
    }
    int update = nn->training && rm != AIGTATT_NN_INVALID;
    /* Running stats are updated in place; a value computed from the graph
     * would be overwritten each run, so only persistent tensors qualify. */
    if (update && (nn->v[rm].role != AIGTATT_IR_BUFFER || nn->v[rv].role != AIGTATT_IR_BUFFER ||
                   (nbt != AIGTATT_NN_INVALID && nn->v[nbt].role != AIGTATT_IR_BUFFER))) {
        aigtatt_nn_fail(nn, "running statistics must be buffers");
        return AIGTATT_NN_INVALID;
    }
    if (!(eps > 0) || !isfinite(eps) || !isfinite(momentum) || momentum > 1) {
        aigtatt_nn_fail(nn, "eps %g must be > 0 and momentum %g at most 1", eps, momentum);
        return AIGTATT_NN_INVALID;
    }
    if (momentum < 0 && update && nbt == AIGTATT_NN_INVALID) {
        aigtatt_nn_fail(nn, "a cumulative average (momentum < 0) needs num_batches_tracked");
        return AIGTATT_NN_INVALID;
    }
    int batch_stats = nn->training || rm == AIGTATT_NN_INVALID;
    if (batch_stats && aigtatt_nn_numel(xs) / c < 2) {
        aigtatt_nn_fail(nn, "expected more than 1 value per channel when training, got input %s",
                        aigtatt_nn_dims_str(xs, s1, sizeof s1));
        return AIGTATT_NN_INVALID;
    }
    nn_shape outs[3] = { *xs, { .dtype = xs->dtype, .ndim = 1, .d = { c } },
                         { .dtype = xs->dtype, .ndim = 1, .d = { c } } };
    aigtatt_val in[6] = { x, w, b, rm, rv, nbt };
    int64_t ints[2] = { batch_stats, update };
    double reals[2] = { momentum, eps };
    return aigtatt_nn_emit(nn, AIGTATT_OP_BATCH_NORM, 6, in, batch_stats ? 3 : 1, outs, ints, 2, reals, 2);
}

aigtatt_val aigtatt_nn_layer_norm(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b, int ndims,
                                  double eps)
{
    if (!aigtatt_nn_begin(nn, "layer_norm") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    if (ndims < 1 || ndims > xs->ndim) {
        aigtatt_nn_fail(nn, "cannot normalise %d trailing dimensions of a %d-d value", ndims, xs->ndim);
        return AIGTATT_NN_INVALID;
    }
    if (!(eps > 0) || !isfinite(eps)) {
        aigtatt_nn_fail(nn, "eps %g must be > 0", eps);
        return AIGTATT_NN_INVALID;
    }
    nn_shape ns = { .dtype = xs->dtype, .ndim = ndims };
    for (int i = 0; i < ndims; i++)
        ns.d[i] = xs->d[xs->ndim - ndims + i];
    aigtatt_val pv[2] = { w, b };
    for (int k = 0; k < 2; k++) {
        if (pv[k] == AIGTATT_NN_INVALID)
            continue;
        if (!aigtatt_nn_check_float(nn, pv[k], k ? "bias" : "weight"))
            return AIGTATT_NN_INVALID;
        if (!aigtatt_nn_same_dims(&nn->v[pv[k]].s, &ns)) {
            char s1[128], s2[128];
            aigtatt_nn_fail(nn, "%s %s must be %s", k ? "bias" : "weight",
                            aigtatt_nn_dims_str(&nn->v[pv[k]].s, s1, sizeof s1), aigtatt_nn_dims_str(&ns, s2, sizeof s2));
            return AIGTATT_NN_INVALID;
        }
    }
    nn_shape stat = { .dtype = xs->dtype, .ndim = xs->ndim - ndims };
    for (int i = 0; i < stat.ndim; i++)
        stat.d[i] = xs->d[i];
    nn_shape outs[3] = { *xs, stat, stat };
    aigtatt_val in[3] = { x, w, b };
    int64_t ints[1] = { ndims };
    double reals[1] = { eps };
    return aigtatt_nn_emit(nn, AIGTATT_OP_LAYER_NORM, 3, in, 3, outs, ints, 1, reals, 1);
}

aigtatt_val aigtatt_nn_softmax(aigtatt_nn *nn, aigtatt_val x, int axis)
{
    if (!aigtatt_nn_begin(nn, "softmax") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    nn_shape s = nn->v[x].s;
    int a = aigtatt_nn_axis(nn, axis, s.ndim, "axis");
    if (a < 0)
        return AIGTATT_NN_INVALID;
    int64_t ints[1] = { a };
    return aigtatt_nn_emit(nn, AIGTATT_OP_SOFTMAX, 1, &x, 1, &s, ints, 1, NULL, 0);
}

aigtatt_val aigtatt_nn_l2_normalize(aigtatt_nn *nn, aigtatt_val x, int axis, double eps)
{
    if (!aigtatt_nn_begin(nn, "l2_normalize") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    nn_shape s = nn->v[x].s;
    int a = aigtatt_nn_axis(nn, axis, s.ndim, "axis");
    if (a < 0)
        return AIGTATT_NN_INVALID;
    if (!(eps >= 0) || !isfinite(eps)) {
        aigtatt_nn_fail(nn, "eps %g must be >= 0", eps);
        return AIGTATT_NN_INVALID;
    }
    int64_t ints[1] = { a };
    double reals[1] = { eps };
    return aigtatt_nn_emit(nn, AIGTATT_OP_L2_NORMALIZE, 1, &x, 1, &s, ints, 1, reals, 1);
}

void aigtatt_nn_grad_norm(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    nn_shape xs = nn->v[op->in[0]].s;
    switch (op->code) {
    case AIGTATT_OP_BATCH_NORM:
    case AIGTATT_OP_LAYER_NORM: {
        int bn = op->code == AIGTATT_OP_BATCH_NORM;
        int64_t c = bn ? xs.d[1] : 0;
        nn_shape outs[3] = { xs, { .dtype = xs.dtype, .ndim = 1, .d = { c } }, { .dtype = xs.dtype, .ndim = 1, .d = { c } } };
        if (!bn) { /* the normalised dimensions, with or without weight */
            int nd = (int)op->ints[0];
            outs[1].ndim = nd;
            for (int i = 0; i < nd; i++)
                outs[1].d[i] = xs.d[xs.ndim - nd + i];
            outs[2] = outs[1];
        }
        aigtatt_val in[5] = { dy, op->in[0], op->in[1], 0, 0 };
        int64_t ints[1];
        double reals[1] = { bn ? op->reals[1] : 0.0 };
        if (bn && !op->ints[0]) { /* inference statistics */
            in[3] = op->in[3];
            in[4] = op->in[4];
            ints[0] = 0;
        } else {
            in[3] = op->out[1];
            in[4] = op->out[2];
            ints[0] = bn ? 1 : op->ints[0];
        }
        nn->cur = bn ? "batch_norm_bwd" : "layer_norm_bwd";
        aigtatt_val g = aigtatt_nn_emit(nn, bn ? AIGTATT_OP_BATCH_NORM_BWD : AIGTATT_OP_LAYER_NORM_BWD, 5, in, 3,
                                        outs, ints, 1, reals, bn ? 1 : 0);
        if (g < 0)
            return;
        for (int k = 0; k < 3; k++)
            if (need[k])
                gx[k] = g + k;
        return;
    }
    case AIGTATT_OP_SOFTMAX: {
        aigtatt_val in[2] = { dy, op->out[0] };
        nn->cur = "softmax_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_SOFTMAX_BWD, 2, in, 1, &xs, op->ints, 1, NULL, 0);
        return;
    }
    case AIGTATT_OP_L2_NORMALIZE: {
        aigtatt_val in[2] = { dy, op->in[0] };
        nn->cur = "l2_normalize_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_L2_NORMALIZE_BWD, 2, in, 1, &xs, op->ints, 1, op->reals, 1);
        return;
    }
    default:
        return;
    }
}
