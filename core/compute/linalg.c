/* Linear and batched matmul. The gradients are matmuls again (with the
 * transpose flags doing the work), so a backend needs one GEMM family. */
#include "compute/nn_internal.h"

aigtatt_val aigtatt_nn_linear(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b)
{
    if (!aigtatt_nn_begin(nn, "linear"))
        return AIGTATT_NN_INVALID;
    if (!aigtatt_nn_check_float(nn, x, "x") || !aigtatt_nn_check_float(nn, w, "weight") ||
        (b != AIGTATT_NN_INVALID && !aigtatt_nn_check_float(nn, b, "bias")))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s, *ws = &nn->v[w].s;
    char s1[128], s2[128];
    if (xs->ndim < 1 || ws->ndim != 2 || ws->d[1] != xs->d[xs->ndim - 1]) {
        aigtatt_nn_fail(nn, "x %s does not fit weight %s ([out, in] with in = x's last dimension)",
                        aigtatt_nn_dims_str(xs, s1, sizeof s1), aigtatt_nn_dims_str(ws, s2, sizeof s2));
        return AIGTATT_NN_INVALID;
    }
    if (b != AIGTATT_NN_INVALID && (nn->v[b].s.ndim != 1 || nn->v[b].s.d[0] != ws->d[0])) {
        aigtatt_nn_fail(nn, "bias %s does not match %lld outputs", aigtatt_nn_dims_str(&nn->v[b].s, s1, sizeof s1),
                        (long long)ws->d[0]);
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = *xs;
    s.d[s.ndim - 1] = ws->d[0];
    aigtatt_val in[3] = { x, w, b };
    return aigtatt_nn_emit(nn, AIGTATT_OP_LINEAR, 3, in, 1, &s, NULL, 0, NULL, 0);
}

aigtatt_val aigtatt_nn_matmul(aigtatt_nn *nn, aigtatt_val a, aigtatt_val b, int ta, int tb)
{
    if (!aigtatt_nn_begin(nn, "matmul"))
        return AIGTATT_NN_INVALID;
    if (!aigtatt_nn_check_float(nn, a, "a") || !aigtatt_nn_check_float(nn, b, "b"))
        return AIGTATT_NN_INVALID;
    const nn_shape *as = &nn->v[a].s, *bs = &nn->v[b].s;
    char s1[128], s2[128];
    if (as->ndim < 2 || bs->ndim < 2) {
        aigtatt_nn_fail(nn, "operands need at least 2 dimensions, got %s and %s",
                        aigtatt_nn_dims_str(as, s1, sizeof s1), aigtatt_nn_dims_str(bs, s2, sizeof s2));
        return AIGTATT_NN_INVALID;
    }
    int na = as->ndim, nb = bs->ndim;
    int64_t m = ta ? as->d[na - 1] : as->d[na - 2], ka = ta ? as->d[na - 2] : as->d[na - 1];
    int64_t kb = tb ? bs->d[nb - 1] : bs->d[nb - 2], n = tb ? bs->d[nb - 2] : bs->d[nb - 1];
    if (ka != kb) {
        aigtatt_nn_fail(nn, "inner dimensions differ: %s%s x %s%s", aigtatt_nn_dims_str(as, s1, sizeof s1),
                        ta ? "^T" : "", aigtatt_nn_dims_str(bs, s2, sizeof s2), tb ? "^T" : "");
        return AIGTATT_NN_INVALID;
    }
    nn_shape ba = *as, bb = *bs, s;
    ba.ndim -= 2;
    bb.ndim -= 2;
    if (!aigtatt_nn_broadcast(nn, &ba, &bb, &s))
        return AIGTATT_NN_INVALID;
    if (s.ndim + 2 > NN_MAXD) {
        aigtatt_nn_fail(nn, "too many dimensions");
        return AIGTATT_NN_INVALID;
    }
    s.d[s.ndim++] = m;
    s.d[s.ndim++] = n;
    aigtatt_val in[2] = { a, b };
    int64_t ints[2] = { ta ? 1 : 0, tb ? 1 : 0 };
    return aigtatt_nn_emit(nn, AIGTATT_OP_MATMUL, 2, in, 1, &s, ints, 2, NULL, 0);
}

void aigtatt_nn_grad_linalg(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                            aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    if (op->code == AIGTATT_OP_LINEAR) {
        aigtatt_val x = op->in[0], w = op->in[1];
        nn_shape xs = nn->v[x].s, ys = nn->v[dy].s;
        int64_t in_f = xs.d[xs.ndim - 1], out_f = ys.d[ys.ndim - 1];
        int64_t rows = aigtatt_nn_numel(&xs) / in_f;
        int64_t dy2s[2] = { rows, out_f }, x2s[2] = { rows, in_f };
        aigtatt_val dy2 = aigtatt_nn_reshape(nn, dy, 2, dy2s);
        if (need[0])
            gx[0] = aigtatt_nn_reshape(nn, aigtatt_nn_matmul(nn, dy2, w, 0, 0), xs.ndim, xs.d);
        if (need[1])
            gx[1] = aigtatt_nn_matmul(nn, dy2, aigtatt_nn_reshape(nn, x, 2, x2s), 1, 0);
        if (need[2])
            gx[2] = aigtatt_nn_reduce(nn, AIGTATT_REDUCE_SUM, dy2, 1, (const int[]){ 0 }, 0);
        return;
    }
    /* y = op(a) op(b) with op() an optional transpose:
     *   d op(a) = dy op(b)^T,  d op(b) = op(a)^T dy,
     * then transposed back when the operand was transposed, and summed over
     * broadcast batch dimensions. */
    aigtatt_val a = op->in[0], b = op->in[1];
    int ta = (int)op->ints[0], tb = (int)op->ints[1];
    nn_shape as = nn->v[a].s, bs = nn->v[b].s;
    if (need[0]) {
        aigtatt_val g = ta ? aigtatt_nn_matmul(nn, b, dy, tb, 1) : aigtatt_nn_matmul(nn, dy, b, 0, !tb);
        gx[0] = aigtatt_nn_reduce_to(nn, g, &as);
    }
    if (need[1]) {
        aigtatt_val g = tb ? aigtatt_nn_matmul(nn, dy, a, 1, ta) : aigtatt_nn_matmul(nn, a, dy, !ta, 0);
        gx[1] = aigtatt_nn_reduce_to(nn, g, &bs);
    }
}
