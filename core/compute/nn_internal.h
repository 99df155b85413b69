/* Builder internals shared by the op families (conv.c, norm.c, ...),
 * autodiff.c and lower.c.
 *
 * The builder is a list of values and a list of ops. Every op writes one or
 * more new values (consecutive indices), so the op list is already a
 * topological order; autodiff appends the backward ops and lowering
 * appends the optimizer's updates, which write persistent values in place
 * and so have no outputs of their own. */
#ifndef AIGTATT_CORE_NN_INTERNAL_H
#define AIGTATT_CORE_NN_INTERNAL_H

#include <stdarg.h>
#include "compute/nn_core.h"
#include "util/error.h"

#define NN_MAXD AIGTATT_NN_MAX_DIMS

typedef struct nn_shape {
    aigtatt_dtype dtype;
    int ndim;
    int64_t d[NN_MAXD];
} nn_shape;

typedef struct nn_value {
    nn_shape s;
    aigtatt_ir_role role; /* INPUT, PARAM, BUFFER, OPT_STATE, CONSTANT or TEMP */
    char *name;           /* leaves only */
    aigtatt_nn_init init; /* PARAM, BUFFER, OPT_STATE */
    double constant;      /* CONSTANT */
    int32_t op;           /* producing op, -1 for leaves */
} nn_value;

typedef struct nn_op {
    aigtatt_ir_opcode code;
    int n_in, n_out;
    int32_t *in, *out;
    int64_t ints[16];
    double reals[4];
    char *where; /* "conv2d at layer1.0.conv1", for messages */
} nn_op;

typedef struct nn_output {
    char *name;
    aigtatt_val v;
} nn_output;

struct aigtatt_nn {
    int training;
    uint64_t seed;
    char *error;          /* first error, NULL while fine */
    char *prefix;         /* scope path "layer1.0", "" at top */
    size_t prefix_cap;
    size_t *scope_len;    /* prefix length before each push */
    int depth, depth_cap;
    const char *cur;      /* the API function running, for messages */
    const char *grad_of;  /* the op being differentiated, or NULL */
    nn_value *v;
    size_t nv, capv;
    nn_op *ops;
    size_t nops, capops;
    nn_output *outs;
    size_t nouts, capouts;
    int64_t n_random;     /* salts for dropout / stochastic depth */
};

/* ---- builder.c ---- */

/** Records the first error as "<op> at <scope>: <message>". */
void aigtatt_nn_fail(aigtatt_nn *nn, const char *fmt, ...) AIGTATT_PRINTF(2, 3);
/** Starts an API call: returns 0 (and records nothing) when the builder
 *  already failed. */
int aigtatt_nn_begin(aigtatt_nn *nn, const char *opname);
/** Non-zero when `v` is a value of `nn`; otherwise fails naming `what`. */
int aigtatt_nn_check(aigtatt_nn *nn, aigtatt_val v, const char *what);
/** Like check, and the value must be floating point. */
int aigtatt_nn_check_float(aigtatt_nn *nn, aigtatt_val v, const char *what);
/** Normalises a possibly negative axis; -1 (after failing) if out of range. */
int aigtatt_nn_axis(aigtatt_nn *nn, int axis, int ndim, const char *what);
/** Appends an op writing n_out new values with the given shapes; returns
 *  the first output (the others follow it), or INVALID. ints/reals may be
 *  NULL. */
aigtatt_val aigtatt_nn_emit(aigtatt_nn *nn, aigtatt_ir_opcode code, int n_in, const aigtatt_val *in, int n_out,
                            const nn_shape *outs, const int64_t *ints, int n_ints, const double *reals,
                            int n_reals);
/** Appends an op with no outputs (in-place updates of persistent values). */
int aigtatt_nn_emit_update(aigtatt_nn *nn, aigtatt_ir_opcode code, int n_in, const aigtatt_val *in,
                           const int64_t *ints, int n_ints, const double *reals, int n_reals);
/** A new leaf (used by lowering for optimizer state). */
aigtatt_val aigtatt_nn_leaf(aigtatt_nn *nn, aigtatt_ir_role role, const char *full_name, const nn_shape *s,
                            aigtatt_nn_init init);
const nn_shape *aigtatt_nn_shape_of(const aigtatt_nn *nn, aigtatt_val v);
int64_t aigtatt_nn_numel(const nn_shape *s);
int aigtatt_nn_same_dims(const nn_shape *a, const nn_shape *b);
/** "[2, 3, 4]" into buf. */
const char *aigtatt_nn_dims_str(const nn_shape *s, char *buf, size_t size);
const char *aigtatt_nn_dtype_name(aigtatt_dtype t);
/** The float dtype a result takes (the inputs' float type). */
aigtatt_dtype aigtatt_nn_float_dtype(const aigtatt_nn *nn, aigtatt_val v);

/* ---- builder entry points (also used by the gradient rules) ---- */
aigtatt_val aigtatt_nn_constant(aigtatt_nn *nn, double value);
aigtatt_val aigtatt_nn_conv2d(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b,
                              const aigtatt_conv_opts *opts);
aigtatt_val aigtatt_nn_batch_norm(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b, aigtatt_val rm,
                                  aigtatt_val rv, aigtatt_val nbt, double momentum, double eps);
aigtatt_val aigtatt_nn_layer_norm(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b, int ndims,
                                  double eps);
aigtatt_val aigtatt_nn_linear(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b);
aigtatt_val aigtatt_nn_matmul(aigtatt_nn *nn, aigtatt_val a, aigtatt_val b, int ta, int tb);
aigtatt_val aigtatt_nn_pool2d(aigtatt_nn *nn, aigtatt_val x, const aigtatt_pool_opts *opts);
aigtatt_val aigtatt_nn_global_avg_pool(aigtatt_nn *nn, aigtatt_val x);
aigtatt_val aigtatt_nn_unary(aigtatt_nn *nn, aigtatt_unary op, aigtatt_val x);
aigtatt_val aigtatt_nn_binary(aigtatt_nn *nn, aigtatt_binary op, aigtatt_val a, aigtatt_val b);
aigtatt_val aigtatt_nn_affine(aigtatt_nn *nn, aigtatt_val x, double mul, double add);
aigtatt_val aigtatt_nn_clamp(aigtatt_nn *nn, aigtatt_val x, double lo, double hi);
aigtatt_val aigtatt_nn_where(aigtatt_nn *nn, aigtatt_val c, aigtatt_val a, aigtatt_val b);
aigtatt_val aigtatt_nn_reshape(aigtatt_nn *nn, aigtatt_val x, int ndim, const int64_t *shape);
aigtatt_val aigtatt_nn_permute(aigtatt_nn *nn, aigtatt_val x, int ndim, const int *perm);
aigtatt_val aigtatt_nn_roll(aigtatt_nn *nn, aigtatt_val x, int n, const int64_t *shifts, const int *dims);
aigtatt_val aigtatt_nn_slice(aigtatt_nn *nn, aigtatt_val x, int axis, int64_t start, int64_t end, int64_t step);
aigtatt_val aigtatt_nn_concat(aigtatt_nn *nn, int axis, int n, const aigtatt_val *xs);
aigtatt_val aigtatt_nn_pad(aigtatt_nn *nn, aigtatt_val x, int n, const int64_t *before_after, double value);
aigtatt_val aigtatt_nn_reduce(aigtatt_nn *nn, aigtatt_reduce op, aigtatt_val x, int n_axes, const int *axes,
                              int keepdim);
aigtatt_val aigtatt_nn_softmax(aigtatt_nn *nn, aigtatt_val x, int axis);
aigtatt_val aigtatt_nn_l2_normalize(aigtatt_nn *nn, aigtatt_val x, int axis, double eps);
aigtatt_val aigtatt_nn_dropout(aigtatt_nn *nn, aigtatt_val x, double p);
aigtatt_val aigtatt_nn_stochastic_depth(aigtatt_nn *nn, aigtatt_val x, double p);
aigtatt_val aigtatt_nn_one_hot(aigtatt_nn *nn, aigtatt_val labels, int64_t classes);
aigtatt_val aigtatt_nn_cross_entropy(aigtatt_nn *nn, aigtatt_val logits, aigtatt_val labels);

/* Internal ops the gradient rules use. */
/** Broadcasts x to `s` (NumPy rules). */
aigtatt_val aigtatt_nn_expand(aigtatt_nn *nn, aigtatt_val x, const nn_shape *s);
/** Sums a broadcast gradient back to `s`; x itself when the dims match. */
aigtatt_val aigtatt_nn_reduce_to(aigtatt_nn *nn, aigtatt_val g, const nn_shape *s);
/** NumPy broadcast of two shapes into out; 0 (after failing) if they clash. */
int aigtatt_nn_broadcast(aigtatt_nn *nn, const nn_shape *a, const nn_shape *b, nn_shape *out);

/* ---- gradient rules: gy[k] is the gradient of output k (INVALID when
 * none reaches it), need[i] says whether input i wants one; each rule
 * stores input i's gradient contribution, of input i's shape, in gx[i]
 * (INVALID for none). ---- */
typedef void (*nn_grad_rule)(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                             aigtatt_val *gx);
void aigtatt_nn_grad_conv(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx);
void aigtatt_nn_grad_pool(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx);
void aigtatt_nn_grad_norm(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx);
void aigtatt_nn_grad_linalg(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                            aigtatt_val *gx);
void aigtatt_nn_grad_elementwise(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                                 aigtatt_val *gx);
void aigtatt_nn_grad_shape(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                           aigtatt_val *gx);
void aigtatt_nn_grad_reduce(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                            aigtatt_val *gx);
void aigtatt_nn_grad_loss(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx);

/* ---- lower.c ---- */
/** The initialiser of value `v` of a lowered network. */
const aigtatt_nn_init *aigtatt_nn_lowered_init(const aigtatt_nn_lowered *l, int32_t v);

/* ---- autodiff.c ---- */
/** Appends the backward pass of scalar `loss`; grads[i] receives the
 *  gradient of value i for every PARAM (INVALID when the loss does not
 *  depend on it). grads has nn->nv entries as of the call. */
int aigtatt_nn_autodiff(aigtatt_nn *nn, aigtatt_val loss, aigtatt_val *grads);

#endif
