/* Element-wise ops (unary, binary with broadcasting, affine, clamp, where)
 * and the two broadcasting helpers the gradient rules need: expand and
 * reduce_to. */
#include "compute/nn_internal.h"

#include <math.h>

int aigtatt_nn_broadcast(aigtatt_nn *nn, const nn_shape *a, const nn_shape *b, nn_shape *out)
{
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    out->ndim = n;
    out->dtype = a->dtype;
    for (int i = 0; i < n; i++) {
        int ia = a->ndim - n + i, ib = b->ndim - n + i;
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[128], sb[128];
            aigtatt_nn_fail(nn, "shapes %s and %s do not broadcast", aigtatt_nn_dims_str(a, sa, sizeof sa),
                            aigtatt_nn_dims_str(b, sb, sizeof sb));
            return 0;
        }
        out->d[i] = da == 1 ? db : da;
    }
    return 1;
}

static const char *unary_name(aigtatt_unary op)
{
    static const char *names[] = { "?", "relu", "relu6", "hardswish", "hardsigmoid", "silu", "gelu",
                                   "gelu_tanh", "sigmoid", "tanh", "exp", "log", "sqrt", "neg", "abs" };
    return (op >= AIGTATT_RELU && op <= AIGTATT_ABS) ? names[op] : "unary";
}

aigtatt_val aigtatt_nn_unary(aigtatt_nn *nn, aigtatt_unary op, aigtatt_val x)
{
    if (!aigtatt_nn_begin(nn, unary_name(op)))
        return AIGTATT_NN_INVALID;
    if (op < AIGTATT_RELU || op > AIGTATT_ABS) {
        aigtatt_nn_fail(nn, "unknown unary op %d", (int)op);
        return AIGTATT_NN_INVALID;
    }
    if (!aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    nn_shape s = nn->v[x].s;
    int64_t ints[1] = { op };
    return aigtatt_nn_emit(nn, AIGTATT_OP_UNARY, 1, &x, 1, &s, ints, 1, NULL, 0);
}

static const char *binary_name(aigtatt_binary op)
{
    static const char *names[] = { "?", "add", "sub", "mul", "div", "maximum", "minimum", "greater" };
    return (op >= AIGTATT_ADD && op <= AIGTATT_GREATER) ? names[op] : "binary";
}

aigtatt_val aigtatt_nn_binary(aigtatt_nn *nn, aigtatt_binary op, aigtatt_val a, aigtatt_val b)
{
    if (!aigtatt_nn_begin(nn, binary_name(op)))
        return AIGTATT_NN_INVALID;
    if (op < AIGTATT_ADD || op > AIGTATT_GREATER) {
        aigtatt_nn_fail(nn, "unknown binary op %d", (int)op);
        return AIGTATT_NN_INVALID;
    }
    if (!aigtatt_nn_check_float(nn, a, "a") || !aigtatt_nn_check_float(nn, b, "b"))
        return AIGTATT_NN_INVALID;
    nn_shape s;
    if (!aigtatt_nn_broadcast(nn, &nn->v[a].s, &nn->v[b].s, &s))
        return AIGTATT_NN_INVALID;
    aigtatt_val in[2] = { a, b };
    int64_t ints[1] = { op };
    return aigtatt_nn_emit(nn, AIGTATT_OP_BINARY, 2, in, 1, &s, ints, 1, NULL, 0);
}

aigtatt_val aigtatt_nn_affine(aigtatt_nn *nn, aigtatt_val x, double mul, double add)
{
    if (!aigtatt_nn_begin(nn, "affine") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    if (!isfinite(mul) || !isfinite(add)) {
        aigtatt_nn_fail(nn, "mul and add must be finite");
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = nn->v[x].s;
    double reals[2] = { mul, add };
    return aigtatt_nn_emit(nn, AIGTATT_OP_AFFINE, 1, &x, 1, &s, NULL, 0, reals, 2);
}

aigtatt_val aigtatt_nn_clamp(aigtatt_nn *nn, aigtatt_val x, double lo, double hi)
{
    if (!aigtatt_nn_begin(nn, "clamp") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    if (isnan(lo) || isnan(hi) || lo > hi) {
        aigtatt_nn_fail(nn, "bounds [%g, %g] are not an interval", lo, hi);
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = nn->v[x].s;
    double reals[2] = { lo, hi };
    return aigtatt_nn_emit(nn, AIGTATT_OP_CLAMP, 1, &x, 1, &s, NULL, 0, reals, 2);
}

aigtatt_val aigtatt_nn_where(aigtatt_nn *nn, aigtatt_val c, aigtatt_val a, aigtatt_val b)
{
    if (!aigtatt_nn_begin(nn, "where"))
        return AIGTATT_NN_INVALID;
    if (!aigtatt_nn_check_float(nn, c, "cond") || !aigtatt_nn_check_float(nn, a, "a") ||
        !aigtatt_nn_check_float(nn, b, "b"))
        return AIGTATT_NN_INVALID;
    nn_shape t, s;
    if (!aigtatt_nn_broadcast(nn, &nn->v[a].s, &nn->v[b].s, &t) || !aigtatt_nn_broadcast(nn, &nn->v[c].s, &t, &s))
        return AIGTATT_NN_INVALID;
    s.dtype = nn->v[a].s.dtype;
    aigtatt_val in[3] = { c, a, b };
    return aigtatt_nn_emit(nn, AIGTATT_OP_WHERE, 3, in, 1, &s, NULL, 0, NULL, 0);
}

aigtatt_val aigtatt_nn_expand(aigtatt_nn *nn, aigtatt_val x, const nn_shape *s)
{
    if (nn->error)
        return AIGTATT_NN_INVALID;
    nn->cur = "expand";
    const nn_shape *xs = &nn->v[x].s;
    nn_shape b;
    if (!aigtatt_nn_broadcast(nn, xs, s, &b))
        return AIGTATT_NN_INVALID;
    if (!aigtatt_nn_same_dims(&b, s)) {
        aigtatt_nn_fail(nn, "cannot expand to a smaller shape");
        return AIGTATT_NN_INVALID;
    }
    if (aigtatt_nn_same_dims(xs, s))
        return x;
    nn_shape o = *s;
    o.dtype = xs->dtype;
    return aigtatt_nn_emit(nn, AIGTATT_OP_EXPAND, 1, &x, 1, &o, NULL, 0, NULL, 0);
}

aigtatt_val aigtatt_nn_reduce_to(aigtatt_nn *nn, aigtatt_val g, const nn_shape *s)
{
    if (nn->error)
        return AIGTATT_NN_INVALID;
    nn->cur = "reduce_to";
    const nn_shape *gs = &nn->v[g].s;
    if (aigtatt_nn_same_dims(gs, s))
        return g;
    nn_shape b;
    if (!aigtatt_nn_broadcast(nn, s, gs, &b) || !aigtatt_nn_same_dims(&b, gs)) {
        aigtatt_nn_fail(nn, "gradient shape does not broadcast from its input's");
        return AIGTATT_NN_INVALID;
    }
    nn_shape o = *s;
    o.dtype = gs->dtype;
    return aigtatt_nn_emit(nn, AIGTATT_OP_REDUCE_TO, 1, &g, 1, &o, NULL, 0, NULL, 0);
}

/* Which operand UNARY_BWD reads: functions whose derivative is cheapest
 * (or only stable) from the result take y, the rest x. */
static int unary_bwd_uses_y(aigtatt_unary op)
{
    return op == AIGTATT_RELU || op == AIGTATT_RELU6 || op == AIGTATT_SIGMOID || op == AIGTATT_TANH ||
           op == AIGTATT_EXP || op == AIGTATT_SQRT;
}

void aigtatt_nn_grad_elementwise(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                                 aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    aigtatt_val y = op->out[0];
    switch (op->code) {
    case AIGTATT_OP_UNARY: {
        aigtatt_unary u = (aigtatt_unary)op->ints[0];
        if (u == AIGTATT_NEG) {
            gx[0] = aigtatt_nn_affine(nn, dy, -1.0, 0.0);
            return;
        }
        aigtatt_val in[2] = { dy, unary_bwd_uses_y(u) ? y : op->in[0] };
        nn_shape s = nn->v[op->in[0]].s;
        nn->cur = "unary_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_UNARY_BWD, 2, in, 1, &s, op->ints, 1, NULL, 0);
        return;
    }
    case AIGTATT_OP_BINARY: {
        aigtatt_val a = op->in[0], b = op->in[1];
        nn_shape sa = nn->v[a].s, sb = nn->v[b].s;
        switch ((aigtatt_binary)op->ints[0]) {
        case AIGTATT_ADD:
        case AIGTATT_SUB:
            if (need[0])
                gx[0] = aigtatt_nn_reduce_to(nn, dy, &sa);
            if (need[1]) {
                aigtatt_val d = op->ints[0] == AIGTATT_SUB ? aigtatt_nn_affine(nn, dy, -1.0, 0.0) : dy;
                gx[1] = aigtatt_nn_reduce_to(nn, d, &sb);
            }
            return;
        case AIGTATT_MUL:
            if (need[0])
                gx[0] = aigtatt_nn_reduce_to(nn, aigtatt_nn_binary(nn, AIGTATT_MUL, dy, b), &sa);
            if (need[1])
                gx[1] = aigtatt_nn_reduce_to(nn, aigtatt_nn_binary(nn, AIGTATT_MUL, dy, a), &sb);
            return;
        case AIGTATT_DIV: {
            /* d(a/b)/db = -(a/b)/b: reuse y so b is squared nowhere. */
            aigtatt_val t = aigtatt_nn_binary(nn, AIGTATT_DIV, dy, b);
            if (need[0])
                gx[0] = aigtatt_nn_reduce_to(nn, t, &sa);
            if (need[1])
                gx[1] = aigtatt_nn_reduce_to(
                    nn, aigtatt_nn_affine(nn, aigtatt_nn_binary(nn, AIGTATT_MUL, t, y), -1.0, 0.0), &sb);
            return;
        }
        case AIGTATT_MAXIMUM:
        case AIGTATT_MINIMUM:
            for (int k = 0; k < 2; k++) {
                if (!need[k])
                    continue;
                aigtatt_val in[3] = { dy, a, b };
                int64_t ints[2] = { op->ints[0], k };
                nn_shape s = nn->v[dy].s;
                nn->cur = "binary_bwd";
                aigtatt_val g = aigtatt_nn_emit(nn, AIGTATT_OP_BINARY_BWD, 3, in, 1, &s, ints, 2, NULL, 0);
                gx[k] = aigtatt_nn_reduce_to(nn, g, k ? &sb : &sa);
            }
            return;
        case AIGTATT_GREATER:
            return; /* a step function: zero gradient, like torch's comparisons */
        }
        return;
    }
    case AIGTATT_OP_AFFINE:
        gx[0] = aigtatt_nn_affine(nn, dy, op->reals[0], 0.0);
        return;
    case AIGTATT_OP_CLAMP: {
        aigtatt_val in[2] = { dy, op->in[0] };
        nn_shape s = nn->v[op->in[0]].s;
        nn->cur = "clamp_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_CLAMP_BWD, 2, in, 1, &s, NULL, 0, op->reals, 2);
        return;
    }
    case AIGTATT_OP_WHERE: {
        /* Shapes are copied first: emitting may move the value array. */
        nn_shape sa = nn->v[op->in[1]].s, sb = nn->v[op->in[2]].s;
        aigtatt_val zero = aigtatt_nn_constant(nn, 0.0);
        if (need[1])
            gx[1] = aigtatt_nn_reduce_to(nn, aigtatt_nn_where(nn, op->in[0], dy, zero), &sa);
        if (need[2])
            gx[2] = aigtatt_nn_reduce_to(nn, aigtatt_nn_where(nn, op->in[0], zero, dy), &sb);
        return;
    }
    case AIGTATT_OP_EXPAND: {
        nn_shape s = nn->v[op->in[0]].s;
        gx[0] = aigtatt_nn_reduce_to(nn, dy, &s);
        return;
    }
    case AIGTATT_OP_REDUCE_TO: {
        nn_shape s = nn->v[op->in[0]].s;
        gx[0] = aigtatt_nn_expand(nn, dy, &s);
        return;
    }
    default:
        return;
    }
}
