/* Shape ops: reshape, permute, roll, slice, concat, pad. Each is a copy in
 * the IR (a backend may alias where its layouts allow). */
#include "compute/nn_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

aigtatt_val aigtatt_nn_reshape(aigtatt_nn *nn, aigtatt_val x, int ndim, const int64_t *shape)
{
    if (!aigtatt_nn_begin(nn, "reshape") || !aigtatt_nn_check(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    if (ndim < 0 || ndim > NN_MAXD || (ndim > 0 && !shape)) {
        aigtatt_nn_fail(nn, "%d dimensions requested (0..%d allowed)", ndim, NN_MAXD);
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = xs->dtype, .ndim = ndim };
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        int64_t d = shape[i];
        if (d == 0) {
            if (i >= xs->ndim) {
                aigtatt_nn_fail(nn, "dimension %d is 0 (keep) but x has only %d", i, xs->ndim);
                return AIGTATT_NN_INVALID;
            }
            d = xs->d[i];
        }
        if (d == -1) {
            if (infer >= 0) {
                aigtatt_nn_fail(nn, "more than one dimension is -1");
                return AIGTATT_NN_INVALID;
            }
            infer = i;
            continue;
        }
        if (d < 1) {
            aigtatt_nn_fail(nn, "dimension %d is %lld", i, (long long)d);
            return AIGTATT_NN_INVALID;
        }
        s.d[i] = d;
        if (__builtin_mul_overflow(known, d, &known)) {
            aigtatt_nn_fail(nn, "dimension %d (%lld) makes more elements than fit in 64 bits", i, (long long)d);
            return AIGTATT_NN_INVALID;
        }
    }
    int64_t n = aigtatt_nn_numel(xs);
    if (infer >= 0) {
        if (n % known) {
            aigtatt_nn_fail(nn, "cannot infer dimension %d: %lld elements are not a multiple of %lld", infer,
                            (long long)n, (long long)known);
            return AIGTATT_NN_INVALID;
        }
        s.d[infer] = n / known;
    } else if (known != n) {
        char a[128], b[128];
        aigtatt_nn_fail(nn, "cannot reshape %s into %s", aigtatt_nn_dims_str(xs, a, sizeof a),
                        aigtatt_nn_dims_str(&s, b, sizeof b));
        return AIGTATT_NN_INVALID;
    }
    return aigtatt_nn_emit(nn, AIGTATT_OP_RESHAPE, 1, &x, 1, &s, NULL, 0, NULL, 0);
}

aigtatt_val aigtatt_nn_permute(aigtatt_nn *nn, aigtatt_val x, int ndim, const int *perm)
{
    if (!aigtatt_nn_begin(nn, "permute") || !aigtatt_nn_check(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    if (ndim != xs->ndim || (ndim > 0 && !perm)) {
        aigtatt_nn_fail(nn, "the permutation has %d entries for %d dimensions", ndim, xs->ndim);
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = xs->dtype, .ndim = ndim };
    int64_t ints[16] = { 0 };
    int seen[NN_MAXD] = { 0 };
    for (int i = 0; i < ndim; i++) {
        int p = aigtatt_nn_axis(nn, perm[i], ndim, "permutation entry");
        if (p < 0)
            return AIGTATT_NN_INVALID;
        if (seen[p]++) {
            aigtatt_nn_fail(nn, "dimension %d appears twice in the permutation", p);
            return AIGTATT_NN_INVALID;
        }
        ints[i] = p;
        s.d[i] = xs->d[p];
    }
    return aigtatt_nn_emit(nn, AIGTATT_OP_PERMUTE, 1, &x, 1, &s, ints, ndim, NULL, 0);
}

aigtatt_val aigtatt_nn_roll(aigtatt_nn *nn, aigtatt_val x, int n, const int64_t *shifts, const int *dims)
{
    if (!aigtatt_nn_begin(nn, "roll") || !aigtatt_nn_check(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    if (n < 1 || n > NN_MAXD || !shifts || !dims) {
        aigtatt_nn_fail(nn, "needs 1..%d (shift, dim) pairs, got %d", NN_MAXD, n);
        return AIGTATT_NN_INVALID;
    }
    /* ints[d] is the total shift of dimension d in [0, size): repeated dims
     * add up, as torch.roll applies them one after the other. */
    int64_t ints[16] = { 0 };
    for (int i = 0; i < n; i++) {
        int d = aigtatt_nn_axis(nn, dims[i], xs->ndim, "dim");
        if (d < 0)
            return AIGTATT_NN_INVALID;
        int64_t m = xs->d[d];
        ints[d] = ((ints[d] + shifts[i] % m) % m + m) % m;
    }
    nn_shape s = *xs;
    return aigtatt_nn_emit(nn, AIGTATT_OP_ROLL, 1, &x, 1, &s, ints, xs->ndim, NULL, 0);
}

/* Python's slice.indices() for a positive step. */
static int64_t clamp_index(int64_t i, int64_t size)
{
    if (i < 0)
        i += size;
    if (i < 0)
        i = 0;
    if (i > size)
        i = size;
    return i;
}

aigtatt_val aigtatt_nn_slice(aigtatt_nn *nn, aigtatt_val x, int axis, int64_t start, int64_t end, int64_t step)
{
    if (!aigtatt_nn_begin(nn, "slice") || !aigtatt_nn_check(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    int a = aigtatt_nn_axis(nn, axis, xs->ndim, "axis");
    if (a < 0)
        return AIGTATT_NN_INVALID;
    if (step < 1) {
        aigtatt_nn_fail(nn, "step %lld must be >= 1", (long long)step);
        return AIGTATT_NN_INVALID;
    }
    int64_t size = xs->d[a];
    int64_t b = clamp_index(start, size), e = clamp_index(end, size);
    int64_t len = e > b ? (e - b - 1) / step + 1 : 0; /* no overflow for a step near INT64_MAX */
    if (len < 1) {
        aigtatt_nn_fail(nn, "[%lld:%lld:%lld] of a dimension of %lld is empty", (long long)start, (long long)end,
                        (long long)step, (long long)size);
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = *xs;
    s.d[a] = len;
    int64_t ints[3] = { a, b, step };
    return aigtatt_nn_emit(nn, AIGTATT_OP_SLICE, 1, &x, 1, &s, ints, 3, NULL, 0);
}

aigtatt_val aigtatt_nn_concat(aigtatt_nn *nn, int axis, int n, const aigtatt_val *xs)
{
    if (!aigtatt_nn_begin(nn, "concat"))
        return AIGTATT_NN_INVALID;
    if (n < 1 || !xs) {
        aigtatt_nn_fail(nn, "needs at least one value");
        return AIGTATT_NN_INVALID;
    }
    for (int i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "xs[%d]", i);
        if (!aigtatt_nn_check(nn, xs[i], what))
            return AIGTATT_NN_INVALID;
    }
    nn_shape s = nn->v[xs[0]].s;
    int a = aigtatt_nn_axis(nn, axis, s.ndim, "axis");
    if (a < 0)
        return AIGTATT_NN_INVALID;
    for (int i = 1; i < n; i++) {
        const nn_shape *t = &nn->v[xs[i]].s;
        int ok = t->ndim == s.ndim && t->dtype == s.dtype;
        for (int d = 0; ok && d < s.ndim; d++)
            ok = d == a || t->d[d] == s.d[d];
        if (!ok) {
            char sa[128], sb[128];
            aigtatt_nn_fail(nn, "xs[%d] %s %s does not match xs[0] %s %s off axis %d", i,
                            aigtatt_nn_dtype_name(t->dtype), aigtatt_nn_dims_str(t, sa, sizeof sa),
                            aigtatt_nn_dtype_name(s.dtype), aigtatt_nn_dims_str(&s, sb, sizeof sb), a);
            return AIGTATT_NN_INVALID;
        }
        s.d[a] += t->d[a];
    }
    int64_t ints[1] = { a };
    return aigtatt_nn_emit(nn, AIGTATT_OP_CONCAT, n, xs, 1, &s, ints, 1, NULL, 0);
}

aigtatt_val aigtatt_nn_pad(aigtatt_nn *nn, aigtatt_val x, int n, const int64_t *before_after, double value)
{
    if (!aigtatt_nn_begin(nn, "pad") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    if (n < 1 || n > xs->ndim || !before_after) {
        aigtatt_nn_fail(nn, "%d (before, after) pairs for %d dimensions", n, xs->ndim);
        return AIGTATT_NN_INVALID;
    }
    if (isnan(value)) {
        aigtatt_nn_fail(nn, "the pad value is NaN");
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = *xs;
    int64_t ints[16] = { 0 };
    for (int i = 0; i < n; i++) {
        int d = xs->ndim - 1 - i; /* F.pad lists the last dimension first */
        int64_t lo = before_after[2 * i], hi = before_after[2 * i + 1];
        if (lo < 0 || hi < 0 || lo > ((int64_t)1 << 32) || hi > ((int64_t)1 << 32)) {
            aigtatt_nn_fail(nn, "pads (%lld, %lld) must be >= 0", (long long)lo, (long long)hi);
            return AIGTATT_NN_INVALID;
        }
        ints[2 * d] = lo;
        ints[2 * d + 1] = hi;
        s.d[d] += lo + hi;
    }
    double reals[1] = { value };
    return aigtatt_nn_emit(nn, AIGTATT_OP_PAD, 1, &x, 1, &s, ints, 2 * xs->ndim, reals, 1);
}

void aigtatt_nn_grad_shape(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                           aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    nn_shape xs = nn->v[op->in[0]].s;
    switch (op->code) {
    case AIGTATT_OP_RESHAPE:
        gx[0] = aigtatt_nn_reshape(nn, dy, xs.ndim, xs.d);
        return;
    case AIGTATT_OP_PERMUTE: {
        int inv[NN_MAXD];
        for (int i = 0; i < xs.ndim; i++)
            inv[op->ints[i]] = i;
        gx[0] = aigtatt_nn_permute(nn, dy, xs.ndim, inv);
        return;
    }
    case AIGTATT_OP_ROLL: {
        int64_t shifts[NN_MAXD];
        int dims[NN_MAXD];
        for (int d = 0; d < xs.ndim; d++) {
            shifts[d] = -op->ints[d];
            dims[d] = d;
        }
        gx[0] = aigtatt_nn_roll(nn, dy, xs.ndim, shifts, dims);
        return;
    }
    case AIGTATT_OP_SLICE: {
        nn->cur = "slice_bwd";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_SLICE_BWD, 1, &dy, 1, &xs, op->ints, 3, NULL, 0);
        return;
    }
    case AIGTATT_OP_CONCAT: {
        int a = (int)op->ints[0];
        int64_t off = 0;
        for (int i = 0; i < op->n_in; i++) {
            int64_t len = nn->v[op->in[i]].s.d[a];
            if (need[i])
                gx[i] = aigtatt_nn_slice(nn, dy, a, off, off + len, 1);
            off += len;
        }
        return;
    }
    case AIGTATT_OP_PAD: {
        aigtatt_val g = dy;
        for (int d = 0; d < xs.ndim; d++)
            if (op->ints[2 * d] || op->ints[2 * d + 1])
                g = aigtatt_nn_slice(nn, g, d, op->ints[2 * d], op->ints[2 * d] + xs.d[d], 1);
        gx[0] = g;
        return;
    }
    default:
        return;
    }
}
