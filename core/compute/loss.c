/* Losses and regularisation: one_hot, cross_entropy, dropout and
 * stochastic depth. Dropout-like ops write their mask as a second output,
 * so the backward pass is a plain multiplication. */
#include "compute/nn_internal.h"

#include <math.h>

aigtatt_val aigtatt_nn_one_hot(aigtatt_nn *nn, aigtatt_val labels, int64_t classes)
{
    if (!aigtatt_nn_begin(nn, "one_hot") || !aigtatt_nn_check(nn, labels, "labels"))
        return AIGTATT_NN_INVALID;
    nn_shape s = nn->v[labels].s;
    if (s.dtype != AIGTATT_I64) {
        aigtatt_nn_fail(nn, "labels must be I64, not %s", aigtatt_nn_dtype_name(s.dtype));
        return AIGTATT_NN_INVALID;
    }
    if (classes < 1 || s.ndim >= NN_MAXD) {
        aigtatt_nn_fail(nn, "needs at least one class and fewer than %d label dimensions", NN_MAXD);
        return AIGTATT_NN_INVALID;
    }
    s.dtype = AIGTATT_F32;
    s.d[s.ndim++] = classes;
    int64_t ints[1] = { classes };
    return aigtatt_nn_emit(nn, AIGTATT_OP_ONE_HOT, 1, &labels, 1, &s, ints, 1, NULL, 0);
}

aigtatt_val aigtatt_nn_cross_entropy(aigtatt_nn *nn, aigtatt_val logits, aigtatt_val labels)
{
    if (!aigtatt_nn_begin(nn, "cross_entropy") || !aigtatt_nn_check_float(nn, logits, "logits") ||
        !aigtatt_nn_check(nn, labels, "labels"))
        return AIGTATT_NN_INVALID;
    const nn_shape *ls = &nn->v[logits].s, *ys = &nn->v[labels].s;
    char s1[128], s2[128];
    if (ys->dtype != AIGTATT_I64 || ls->ndim != 2 || ys->ndim != 1 || ys->d[0] != ls->d[0]) {
        aigtatt_nn_fail(nn, "needs F32 logits [N, C] and I64 labels [N], got %s and %s %s",
                        aigtatt_nn_dims_str(ls, s1, sizeof s1), aigtatt_nn_dtype_name(ys->dtype),
                        aigtatt_nn_dims_str(ys, s2, sizeof s2));
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = ls->dtype, .ndim = 0 };
    aigtatt_val in[2] = { logits, labels };
    int64_t ints[1] = { -100 };
    return aigtatt_nn_emit(nn, AIGTATT_OP_CROSS_ENTROPY, 2, in, 1, &s, ints, 1, NULL, 0);
}

static aigtatt_val random_op(aigtatt_nn *nn, aigtatt_ir_opcode code, aigtatt_val x, double p)
{
    if (!aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    if (!(p >= 0 && p <= 1)) {
        aigtatt_nn_fail(nn, "probability %g is outside [0, 1]", p);
        return AIGTATT_NN_INVALID;
    }
    if (!nn->training || p == 0)
        return x; /* identity, as in PyTorch's eval mode */
    nn_shape xs = nn->v[x].s, ms = xs;
    if (code == AIGTATT_OP_STOCHASTIC_DEPTH) {
        if (xs.ndim < 1) {
            aigtatt_nn_fail(nn, "x needs a batch dimension");
            return AIGTATT_NN_INVALID;
        }
        for (int i = 1; i < ms.ndim; i++)
            ms.d[i] = 1;
    }
    nn_shape outs[2] = { xs, ms };
    /* in[1] is the step counter the lowering connects (the optimizer's). */
    aigtatt_val in[2] = { x, AIGTATT_NN_INVALID };
    int64_t ints[1] = { ++nn->n_random };
    double reals[1] = { p };
    return aigtatt_nn_emit(nn, code, 2, in, 2, outs, ints, 1, reals, 1);
}

aigtatt_val aigtatt_nn_dropout(aigtatt_nn *nn, aigtatt_val x, double p)
{
    if (!aigtatt_nn_begin(nn, "dropout"))
        return AIGTATT_NN_INVALID;
    return random_op(nn, AIGTATT_OP_DROPOUT, x, p);
}

aigtatt_val aigtatt_nn_stochastic_depth(aigtatt_nn *nn, aigtatt_val x, double p)
{
    if (!aigtatt_nn_begin(nn, "stochastic_depth"))
        return AIGTATT_NN_INVALID;
    return random_op(nn, AIGTATT_OP_STOCHASTIC_DEPTH, x, p);
}

void aigtatt_nn_grad_loss(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    switch (op->code) {
    case AIGTATT_OP_CROSS_ENTROPY: {
        if (!need[0])
            return;
        aigtatt_val in[3] = { dy, op->in[0], op->in[1] };
        nn_shape s = nn->v[op->in[0]].s;
        nn->cur = "cross_entropy_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_CROSS_ENTROPY_BWD, 3, in, 1, &s, op->ints, 1, NULL, 0);
        return;
    }
    case AIGTATT_OP_DROPOUT:
    case AIGTATT_OP_STOCHASTIC_DEPTH:
        gx[0] = aigtatt_nn_binary(nn, AIGTATT_MUL, dy, op->out[1]);
        return;
    default:
        return; /* one_hot: labels have no gradient */
    }
}
