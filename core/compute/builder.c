/* The builder's bookkeeping: errors, scopes, leaves, outputs and the op
 * list. The ops themselves live in the op-family files. */
#include "compute/nn_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

aigtatt_nn *aigtatt_nn_new(int training, uint64_t seed)
{
    aigtatt_nn *nn = calloc(1, sizeof *nn);
    if (!nn)
        return NULL;
    nn->training = training ? 1 : 0;
    nn->seed = seed;
    nn->prefix_cap = 64;
    nn->prefix = calloc(1, nn->prefix_cap);
    if (!nn->prefix) {
        free(nn);
        return NULL;
    }
    return nn;
}

void aigtatt_nn_free(aigtatt_nn *nn)
{
    if (!nn)
        return;
    for (size_t i = 0; i < nn->nv; i++)
        free(nn->v[i].name);
    for (size_t i = 0; i < nn->nops; i++) {
        free(nn->ops[i].in);
        free(nn->ops[i].out);
        free(nn->ops[i].where);
    }
    for (size_t i = 0; i < nn->nouts; i++)
        free(nn->outs[i].name);
    free(nn->v);
    free(nn->ops);
    free(nn->outs);
    free(nn->prefix);
    free(nn->scope_len);
    free(nn->error);
    free(nn);
}

/* ---- errors ---- */

void aigtatt_nn_fail(aigtatt_nn *nn, const char *fmt, ...)
{
    if (nn->error)
        return; /* sticky: the first error is the one that explains the rest */
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[1024];
    const char *op = nn->cur ? nn->cur : "builder";
    if (nn->grad_of)
        snprintf(full, sizeof full, "backward of %s: %s: %s", nn->grad_of, op, msg);
    else if (nn->prefix[0])
        snprintf(full, sizeof full, "%s at %s: %s", op, nn->prefix, msg);
    else
        snprintf(full, sizeof full, "%s: %s", op, msg);
    nn->error = dupstr(full);
    if (!nn->error)
        nn->error = dupstr("out of memory");
}

int aigtatt_nn_begin(aigtatt_nn *nn, const char *opname)
{
    if (!nn || nn->error)
        return 0;
    nn->cur = opname;
    return 1;
}

int aigtatt_nn_check(aigtatt_nn *nn, aigtatt_val v, const char *what)
{
    if (v < 0 || (size_t)v >= nn->nv) {
        aigtatt_nn_fail(nn, "%s is not a valid value (%d)", what, (int)v);
        return 0;
    }
    return 1;
}

int aigtatt_nn_check_float(aigtatt_nn *nn, aigtatt_val v, const char *what)
{
    if (!aigtatt_nn_check(nn, v, what))
        return 0;
    aigtatt_dtype t = nn->v[v].s.dtype;
    if (t != AIGTATT_F32 && t != AIGTATT_F64) {
        aigtatt_nn_fail(nn, "%s must be floating point, not %s", what, aigtatt_nn_dtype_name(t));
        return 0;
    }
    return 1;
}

int aigtatt_nn_axis(aigtatt_nn *nn, int axis, int ndim, const char *what)
{
    int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim) {
        aigtatt_nn_fail(nn, "%s %d is out of range for %d dimensions", what, axis, ndim);
        return -1;
    }
    return a;
}

const char *aigtatt_nn_dtype_name(aigtatt_dtype t)
{
    switch (t) {
    case AIGTATT_F32: return "F32";
    case AIGTATT_BF16: return "BF16";
    case AIGTATT_I64: return "I64";
    case AIGTATT_F64: return "F64";
    }
    return "unknown dtype";
}

const char *aigtatt_nn_dims_str(const nn_shape *s, char *buf, size_t size)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int i = 0; i < s->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld", (long long)s->d[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

const nn_shape *aigtatt_nn_shape_of(const aigtatt_nn *nn, aigtatt_val v) { return &nn->v[v].s; }

int64_t aigtatt_nn_numel(const nn_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->d[i];
    return n;
}

int aigtatt_nn_same_dims(const nn_shape *a, const nn_shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i])
            return 0;
    return 1;
}

aigtatt_dtype aigtatt_nn_float_dtype(const aigtatt_nn *nn, aigtatt_val v) { return nn->v[v].s.dtype; }

/* ---- shapes ---- */

/* Dimensions are positive and the element count fits comfortably in
 * int64 and in memory arithmetic (2^48 elements is far beyond any real
 * network, and keeps byte counts of 8-byte elements from overflowing). */
static int check_dims(aigtatt_nn *nn, int ndim, const int64_t *shape, const char *what)
{
    if (ndim < 0 || ndim > NN_MAXD) {
        aigtatt_nn_fail(nn, "%s has %d dimensions (0..%d allowed)", what, ndim, NN_MAXD);
        return 0;
    }
    if (ndim > 0 && !shape) {
        aigtatt_nn_fail(nn, "%s has no shape", what);
        return 0;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) {
            aigtatt_nn_fail(nn, "%s: dimension %d is %lld (must be >= 1)", what, i, (long long)shape[i]);
            return 0;
        }
        if (shape[i] > ((int64_t)1 << 48) / n) {
            aigtatt_nn_fail(nn, "%s is too large", what);
            return 0;
        }
        n *= shape[i];
    }
    return 1;
}

/* ---- values and ops ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

static aigtatt_val new_value(aigtatt_nn *nn, const nn_shape *s, aigtatt_ir_role role)
{
    if (!grow((void **)&nn->v, &nn->capv, nn->nv + 1, sizeof *nn->v)) {
        aigtatt_nn_fail(nn, "out of memory");
        return AIGTATT_NN_INVALID;
    }
    nn_value *v = &nn->v[nn->nv];
    memset(v, 0, sizeof *v);
    v->s = *s;
    v->role = role;
    v->op = -1;
    return (aigtatt_val)nn->nv++;
}

static int new_op(aigtatt_nn *nn, aigtatt_ir_opcode code, int n_in, const aigtatt_val *in, int n_out,
                  const int64_t *ints, int n_ints, const double *reals, int n_reals, nn_op **out)
{
    if (!grow((void **)&nn->ops, &nn->capops, nn->nops + 1, sizeof *nn->ops)) {
        aigtatt_nn_fail(nn, "out of memory");
        return 0;
    }
    nn_op *op = &nn->ops[nn->nops];
    memset(op, 0, sizeof *op);
    op->code = code;
    op->n_in = n_in;
    op->n_out = n_out;
    op->in = malloc(sizeof(int32_t) * (size_t)(n_in > 0 ? n_in : 1));
    op->out = malloc(sizeof(int32_t) * (size_t)(n_out > 0 ? n_out : 1));
    char where[512];
    const char *name = nn->cur ? nn->cur : "op";
    if (nn->grad_of)
        snprintf(where, sizeof where, "%s (backward of %s)", name, nn->grad_of);
    else if (nn->prefix[0])
        snprintf(where, sizeof where, "%s at %s", name, nn->prefix);
    else
        snprintf(where, sizeof where, "%s", name);
    op->where = dupstr(where);
    if (!op->in || !op->out || !op->where) {
        free(op->in);
        free(op->out);
        free(op->where);
        aigtatt_nn_fail(nn, "out of memory");
        return 0;
    }
    for (int i = 0; i < n_in; i++)
        op->in[i] = in[i];
    if (ints)
        memcpy(op->ints, ints, sizeof(int64_t) * (size_t)n_ints);
    if (reals)
        memcpy(op->reals, reals, sizeof(double) * (size_t)n_reals);
    nn->nops++;
    *out = op;
    return 1;
}

aigtatt_val aigtatt_nn_emit(aigtatt_nn *nn, aigtatt_ir_opcode code, int n_in, const aigtatt_val *in, int n_out,
                            const nn_shape *outs, const int64_t *ints, int n_ints, const double *reals,
                            int n_reals)
{
    if (nn->error)
        return AIGTATT_NN_INVALID;
    for (int i = 0; i < n_out; i++)
        if (!check_dims(nn, outs[i].ndim, outs[i].d, "the result"))
            return AIGTATT_NN_INVALID;
    nn_op *op;
    if (!new_op(nn, code, n_in, in, n_out, ints, n_ints, reals, n_reals, &op))
        return AIGTATT_NN_INVALID;
    int32_t opi = (int32_t)(nn->nops - 1);
    aigtatt_val first = AIGTATT_NN_INVALID;
    for (int i = 0; i < n_out; i++) {
        aigtatt_val v = new_value(nn, &outs[i], AIGTATT_IR_TEMP);
        if (v < 0)
            return AIGTATT_NN_INVALID;
        nn->v[v].op = opi;
        nn->ops[opi].out[i] = v;
        if (i == 0)
            first = v;
    }
    return first;
}

int aigtatt_nn_emit_update(aigtatt_nn *nn, aigtatt_ir_opcode code, int n_in, const aigtatt_val *in,
                           const int64_t *ints, int n_ints, const double *reals, int n_reals)
{
    if (nn->error)
        return 0;
    nn_op *op;
    return new_op(nn, code, n_in, in, 0, ints, n_ints, reals, n_reals, &op);
}

/* ---- scopes ---- */

static void nn_push(aigtatt_nn *nn, const char *scope)
{
    if (!aigtatt_nn_begin(nn, "push"))
        return;
    if (!scope || !scope[0]) {
        aigtatt_nn_fail(nn, "empty scope name");
        return;
    }
    for (const char *p = scope; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') {
            aigtatt_nn_fail(nn, "scope name \"%s\" may hold only letters, digits and '_'", scope);
            return;
        }
    size_t len = strlen(nn->prefix), add = strlen(scope) + 1;
    if (len + add + 1 > nn->prefix_cap) {
        size_t cap = (len + add + 1) * 2;
        char *p = realloc(nn->prefix, cap);
        if (!p) {
            aigtatt_nn_fail(nn, "out of memory");
            return;
        }
        nn->prefix = p;
        nn->prefix_cap = cap;
    }
    if (nn->depth == nn->depth_cap) {
        int cap = nn->depth_cap ? nn->depth_cap * 2 : 16;
        size_t *q = realloc(nn->scope_len, sizeof *q * (size_t)cap);
        if (!q) {
            aigtatt_nn_fail(nn, "out of memory");
            return;
        }
        nn->scope_len = q;
        nn->depth_cap = cap;
    }
    nn->scope_len[nn->depth++] = len;
    if (len)
        nn->prefix[len++] = '.';
    memcpy(nn->prefix + len, scope, add);
}

static void nn_pop(aigtatt_nn *nn)
{
    if (!aigtatt_nn_begin(nn, "pop"))
        return;
    if (nn->depth == 0) {
        aigtatt_nn_fail(nn, "pop without a matching push");
        return;
    }
    nn->prefix[nn->scope_len[--nn->depth]] = '\0';
}

static int nn_status(const aigtatt_nn *nn, const char **message)
{
    if (message)
        *message = nn ? nn->error : "no builder";
    return (!nn || nn->error) ? AIGTATT_ERR_INVALID : AIGTATT_OK;
}

static int nn_shape_fn(const aigtatt_nn *nn, aigtatt_val v, int64_t shape[AIGTATT_NN_MAX_DIMS])
{
    if (!nn || v < 0 || (size_t)v >= nn->nv)
        return -1;
    const nn_shape *s = &nn->v[v].s;
    for (int i = 0; i < s->ndim; i++)
        shape[i] = s->d[i];
    return s->ndim;
}

static int nn_training(const aigtatt_nn *nn) { return nn ? nn->training : 0; }

/* ---- leaves ---- */

/* A value's or an output's name: both are looked up by name later (a
 * checkpoint's tensors, the model's inputs and outputs). */
static int name_taken(const aigtatt_nn *nn, const char *name)
{
    for (size_t i = 0; i < nn->nv; i++)
        if (nn->v[i].name && strcmp(nn->v[i].name, name) == 0)
            return 1;
    for (size_t i = 0; i < nn->nouts; i++)
        if (strcmp(nn->outs[i].name, name) == 0)
            return 1;
    return 0;
}

static int check_name(aigtatt_nn *nn, const char *name, const char *what)
{
    if (!name || !name[0]) {
        aigtatt_nn_fail(nn, "%s needs a name", what);
        return 0;
    }
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.') {
            aigtatt_nn_fail(nn, "%s name \"%s\" may hold only letters, digits, '_' and '.'", what, name);
            return 0;
        }
    return 1;
}

aigtatt_val aigtatt_nn_leaf(aigtatt_nn *nn, aigtatt_ir_role role, const char *full_name, const nn_shape *s,
                            aigtatt_nn_init init)
{
    if (full_name && name_taken(nn, full_name)) {
        aigtatt_nn_fail(nn, "the name \"%s\" is already used", full_name);
        return AIGTATT_NN_INVALID;
    }
    char *copy = NULL;
    if (full_name && !(copy = dupstr(full_name))) {
        aigtatt_nn_fail(nn, "out of memory");
        return AIGTATT_NN_INVALID;
    }
    aigtatt_val v = new_value(nn, s, role);
    if (v < 0) {
        free(copy);
        return v;
    }
    nn->v[v].name = copy;
    nn->v[v].init = init;
    return v;
}

static aigtatt_val nn_input(aigtatt_nn *nn, const char *name, aigtatt_dtype dtype, int ndim, const int64_t *shape)
{
    if (!aigtatt_nn_begin(nn, "input") || !check_name(nn, name, "an input"))
        return AIGTATT_NN_INVALID;
    if (dtype != AIGTATT_F32 && dtype != AIGTATT_I64) {
        aigtatt_nn_fail(nn, "input \"%s\": dtype must be F32 or I64", name);
        return AIGTATT_NN_INVALID;
    }
    if (!check_dims(nn, ndim, shape, name))
        return AIGTATT_NN_INVALID;
    nn_shape s = { .dtype = dtype, .ndim = ndim };
    for (int i = 0; i < ndim; i++)
        s.d[i] = shape[i];
    aigtatt_nn_init none = { 0 };
    return aigtatt_nn_leaf(nn, AIGTATT_IR_INPUT, name, &s, none);
}

/* The fans of torch.nn.init._calculate_fan_in_and_fan_out. */
static int check_init(aigtatt_nn *nn, const char *name, aigtatt_dtype dtype, int ndim, aigtatt_nn_init init)
{
    switch (init.kind) {
    case AIGTATT_INIT_ZEROS:
    case AIGTATT_INIT_ONES:
        return 1;
    case AIGTATT_INIT_CONSTANT:
        if (!isfinite(init.a))
            break;
        return 1;
    case AIGTATT_INIT_NORMAL:
    case AIGTATT_INIT_UNIFORM:
    case AIGTATT_INIT_KAIMING_NORMAL:
    case AIGTATT_INIT_KAIMING_UNIFORM:
    case AIGTATT_INIT_TRUNC_NORMAL:
        if (dtype == AIGTATT_I64) {
            aigtatt_nn_fail(nn, "\"%s\": an I64 tensor starts as zeros, ones or a constant", name);
            return 0;
        }
        if (init.kind == AIGTATT_INIT_NORMAL && !(init.b >= 0 && isfinite(init.a) && isfinite(init.b)))
            break;
        if (init.kind == AIGTATT_INIT_UNIFORM && !(init.a <= init.b && isfinite(init.a) && isfinite(init.b)))
            break;
        if (init.kind == AIGTATT_INIT_TRUNC_NORMAL && !(init.b > 0 && init.a >= 0 && isfinite(init.a) &&
                                                        isfinite(init.b) && (init.a == 0 ? 2.0 : init.a) >= 0.05 * init.b))
            break;
        if ((init.kind == AIGTATT_INIT_KAIMING_NORMAL || init.kind == AIGTATT_INIT_KAIMING_UNIFORM) && ndim < 2) {
            aigtatt_nn_fail(nn, "\"%s\": Kaiming init needs at least 2 dimensions for its fans", name);
            return 0;
        }
        return 1;
    }
    aigtatt_nn_fail(nn, "\"%s\": invalid init (kind %d, a %g, b %g)", name, (int)init.kind, init.a, init.b);
    return 0;
}

static aigtatt_val persistent(aigtatt_nn *nn, aigtatt_ir_role role, const char *name, aigtatt_dtype dtype,
                              int ndim, const int64_t *shape, aigtatt_nn_init init)
{
    if (!check_name(nn, name, role == AIGTATT_IR_PARAM ? "a param" : "a buffer"))
        return AIGTATT_NN_INVALID;
    char full[512];
    if (nn->prefix[0])
        snprintf(full, sizeof full, "%s.%s", nn->prefix, name);
    else
        snprintf(full, sizeof full, "%s", name);
    if (!check_dims(nn, ndim, shape, full) || !check_init(nn, full, dtype, ndim, init))
        return AIGTATT_NN_INVALID;
    nn_shape s = { .dtype = dtype, .ndim = ndim };
    for (int i = 0; i < ndim; i++)
        s.d[i] = shape[i];
    return aigtatt_nn_leaf(nn, role, full, &s, init);
}

static aigtatt_val nn_param(aigtatt_nn *nn, const char *name, int ndim, const int64_t *shape, aigtatt_nn_init init)
{
    if (!aigtatt_nn_begin(nn, "param"))
        return AIGTATT_NN_INVALID;
    return persistent(nn, AIGTATT_IR_PARAM, name, AIGTATT_F32, ndim, shape, init);
}

static aigtatt_val nn_buffer(aigtatt_nn *nn, const char *name, aigtatt_dtype dtype, int ndim, const int64_t *shape,
                             aigtatt_nn_init init)
{
    if (!aigtatt_nn_begin(nn, "buffer"))
        return AIGTATT_NN_INVALID;
    if (dtype != AIGTATT_F32 && dtype != AIGTATT_I64) {
        aigtatt_nn_fail(nn, "buffer \"%s\": dtype must be F32 or I64", name ? name : "");
        return AIGTATT_NN_INVALID;
    }
    return persistent(nn, AIGTATT_IR_BUFFER, name, dtype, ndim, shape, init);
}

aigtatt_val aigtatt_nn_constant(aigtatt_nn *nn, double value)
{
    if (nn->error)
        return AIGTATT_NN_INVALID;
    if (isnan(value)) {
        aigtatt_nn_fail(nn, "constant is NaN");
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = AIGTATT_F32, .ndim = 0 };
    aigtatt_nn_init none = { 0 };
    aigtatt_val v = aigtatt_nn_leaf(nn, AIGTATT_IR_CONSTANT, NULL, &s, none);
    if (v >= 0)
        nn->v[v].constant = value;
    return v;
}

static aigtatt_val nn_constant_api(aigtatt_nn *nn, double value)
{
    if (!aigtatt_nn_begin(nn, "constant"))
        return AIGTATT_NN_INVALID;
    return aigtatt_nn_constant(nn, value);
}

static int nn_output_fn(aigtatt_nn *nn, const char *name, aigtatt_val v)
{
    if (!aigtatt_nn_begin(nn, "output"))
        return AIGTATT_ERR_INVALID;
    if (!check_name(nn, name, "an output") || !aigtatt_nn_check(nn, v, name))
        return AIGTATT_ERR_INVALID;
    for (size_t i = 0; i < nn->nouts; i++)
        if (strcmp(nn->outs[i].name, name) == 0) {
            aigtatt_nn_fail(nn, "output \"%s\" is named twice", name);
            return AIGTATT_ERR_INVALID;
        }
    if (name_taken(nn, name) || strncmp(name, "grad:", 5) == 0) {
        aigtatt_nn_fail(nn, "output name \"%s\" is already a value's name", name);
        return AIGTATT_ERR_INVALID;
    }
    if (!grow((void **)&nn->outs, &nn->capouts, nn->nouts + 1, sizeof *nn->outs) ||
        !(nn->outs[nn->nouts].name = dupstr(name))) {
        aigtatt_nn_fail(nn, "out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    nn->outs[nn->nouts++].v = v;
    return AIGTATT_OK;
}

const aigtatt_nn_api aigtatt_nn_builder_api = {
    .struct_size = sizeof(aigtatt_nn_api),
    .push = nn_push,
    .pop = nn_pop,
    .status = nn_status,
    .shape = nn_shape_fn,
    .training = nn_training,
    .input = nn_input,
    .param = nn_param,
    .buffer = nn_buffer,
    .constant = nn_constant_api,
    .conv2d = aigtatt_nn_conv2d,
    .batch_norm = aigtatt_nn_batch_norm,
    .layer_norm = aigtatt_nn_layer_norm,
    .linear = aigtatt_nn_linear,
    .matmul = aigtatt_nn_matmul,
    .pool2d = aigtatt_nn_pool2d,
    .global_avg_pool = aigtatt_nn_global_avg_pool,
    .unary = aigtatt_nn_unary,
    .binary = aigtatt_nn_binary,
    .affine = aigtatt_nn_affine,
    .clamp = aigtatt_nn_clamp,
    .where = aigtatt_nn_where,
    .reshape = aigtatt_nn_reshape,
    .permute = aigtatt_nn_permute,
    .roll = aigtatt_nn_roll,
    .slice = aigtatt_nn_slice,
    .concat = aigtatt_nn_concat,
    .pad = aigtatt_nn_pad,
    .reduce = aigtatt_nn_reduce,
    .softmax = aigtatt_nn_softmax,
    .l2_normalize = aigtatt_nn_l2_normalize,
    .dropout = aigtatt_nn_dropout,
    .stochastic_depth = aigtatt_nn_stochastic_depth,
    .one_hot = aigtatt_nn_one_hot,
    .cross_entropy = aigtatt_nn_cross_entropy,
    .output = nn_output_fn,
};

const aigtatt_nn_api *aigtatt_nn_api_get(void) { return &aigtatt_nn_builder_api; }
