/* backend.reference internals: every tensor is held as doubles, every
 * kernel is a plain loop computing in double, and each F32 (BF16) result is
 * rounded to float (bfloat16) when it is stored. That gives fp32 storage
 * semantics with double accumulation everywhere (tighter than any fast
 * backend, so it can referee them), and exact float64 when the core lowers
 * in F64 (gradient checks). */
#ifndef RB_INTERNAL_H
#define RB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>
#include <aigtatt/compute.h>

#define RB_MAXD AIGTATT_NN_MAX_DIMS

extern const aigtatt_host *rb_host;
/* The backend named in kernel errors ("backend.reference"; backend.onednn
 * sets its own when it runs these kernels). */
extern const char *rb_who;

typedef struct rb_val {
    aigtatt_dtype dtype;
    int ndim;
    int64_t shape[RB_MAXD];
    int64_t numel;
    aigtatt_ir_role role;
    int32_t first_op, last_op;
    double constant;
    double *data; /* NULL while a temp is not live */
} rb_val;

typedef struct rb_op {
    aigtatt_ir_opcode op;
    int n_in, n_out;
    int32_t *in, *out;
    int64_t ints[16];
    double reals[4];
} rb_op;

typedef struct rb_prog {
    size_t nv, nops;
    rb_val *v;
    rb_op *ops;
    int32_t *idx;
    uint64_t seed;
} rb_prog;

/** Input k of op (NULL when absent). */
static inline rb_val *rb_in(rb_prog *p, const rb_op *op, int k)
{
    return (k < op->n_in && op->in[k] >= 0) ? &p->v[op->in[k]] : NULL;
}
/** Output k of op (NULL when not needed). */
static inline rb_val *rb_out(rb_prog *p, const rb_op *op, int k)
{
    return (k < op->n_out && op->out[k] >= 0) ? &p->v[op->out[k]] : NULL;
}

/** Rounds every element to the value's storage precision. */
void rb_round(rb_val *v);
/** One number rounded to a dtype's precision. */
double rb_round1(aigtatt_dtype t, double x);
/** Element strides of `v` seen as broadcast to the n-d `shape` (0 where
 *  broadcast), right-aligned as NumPy. */
void rb_bcast_strides(const rb_val *v, int n, const int64_t *shape, int64_t *st);
/** Offset of linear index i of `shape` under strides st. */
static inline int64_t rb_offset(int64_t i, int n, const int64_t *shape, const int64_t *st)
{
    int64_t off = 0;
    for (int d = n - 1; d >= 0; d--) {
        off += (i % shape[d]) * st[d];
        i /= shape[d];
    }
    return off;
}
/** Product of shape[a..b). */
int64_t rb_prod(const int64_t *shape, int a, int b);
/** Fails the run with a message (set through the host). */
int rb_fail(const char *fmt, ...) AIGTATT_PRINTF(1, 2);
/* x rounded to bfloat16 (nearest, ties to even), as a float. */
float rb_bf16_round(float f);
/* Runs one op with its kernel family (rb_common.c). */
int rb_dispatch(rb_prog *p, const rb_op *op);

/* Kernel families; each returns an aigtatt_status. */
int rb_elementwise(rb_prog *p, const rb_op *op);
int rb_shape(rb_prog *p, const rb_op *op);
int rb_reduce(rb_prog *p, const rb_op *op);
int rb_conv(rb_prog *p, const rb_op *op);
int rb_norm(rb_prog *p, const rb_op *op);
int rb_linalg(rb_prog *p, const rb_op *op);
int rb_loss(rb_prog *p, const rb_op *op);
int rb_optim(rb_prog *p, const rb_op *op);

#endif
