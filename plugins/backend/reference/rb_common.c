/* What backend.reference's vtable and every host of its kernels share
 * (backend.onednn runs them for the ops oneDNN lacks): the host pointer,
 * errors, rounding to the value's dtype, broadcasting strides, and the
 * dispatch from an IR op to its kernel family. */
#include "rb_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const aigtatt_host *rb_host;
const char *rb_who = "backend.reference";

int rb_fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rb_host->set_error("%s: %s", rb_who, msg);
    return AIGTATT_ERR_INVALID;
}

float rb_bf16_round(float f)
{
    if (isnan(f))
        return f;
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    u &= 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

double rb_round1(aigtatt_dtype t, double x)
{
    if (t == AIGTATT_F32)
        return (double)(float)x;
    if (t == AIGTATT_BF16)
        return (double)rb_bf16_round((float)x);
    return x;
}

void rb_round(rb_val *v)
{
    if (!v || !v->data || (v->dtype != AIGTATT_F32 && v->dtype != AIGTATT_BF16))
        return;
    for (int64_t i = 0; i < v->numel; i++)
        v->data[i] = rb_round1(v->dtype, v->data[i]);
}

void rb_bcast_strides(const rb_val *v, int n, const int64_t *shape, int64_t *st)
{
    int64_t s = 1;
    for (int d = n - 1; d >= 0; d--) {
        int k = v->ndim - n + d;
        if (k < 0 || v->shape[k] == 1) {
            st[d] = 0;
        } else {
            st[d] = s;
        }
        if (k >= 0)
            s *= v->shape[k];
        (void)shape;
    }
}

int64_t rb_prod(const int64_t *shape, int a, int b)
{
    int64_t n = 1;
    for (int i = a; i < b; i++)
        n *= shape[i];
    return n;
}

int rb_dispatch(rb_prog *p, const rb_op *op)
{
    switch (op->op) {
    case AIGTATT_OP_UNARY:
    case AIGTATT_OP_BINARY:
    case AIGTATT_OP_AFFINE:
    case AIGTATT_OP_CLAMP:
    case AIGTATT_OP_WHERE:
    case AIGTATT_OP_EXPAND:
    case AIGTATT_OP_REDUCE_TO:
    case AIGTATT_OP_UNARY_BWD:
    case AIGTATT_OP_BINARY_BWD:
    case AIGTATT_OP_CLAMP_BWD:
        return rb_elementwise(p, op);
    case AIGTATT_OP_RESHAPE:
    case AIGTATT_OP_PERMUTE:
    case AIGTATT_OP_ROLL:
    case AIGTATT_OP_SLICE:
    case AIGTATT_OP_SLICE_BWD:
    case AIGTATT_OP_CONCAT:
    case AIGTATT_OP_PAD:
        return rb_shape(p, op);
    case AIGTATT_OP_REDUCE:
    case AIGTATT_OP_REDUCE_MAX_BWD:
    case AIGTATT_OP_SOFTMAX:
    case AIGTATT_OP_SOFTMAX_BWD:
    case AIGTATT_OP_L2_NORMALIZE:
    case AIGTATT_OP_L2_NORMALIZE_BWD:
        return rb_reduce(p, op);
    case AIGTATT_OP_CONV2D:
    case AIGTATT_OP_CONV2D_BWD_DATA:
    case AIGTATT_OP_CONV2D_BWD_WEIGHT:
    case AIGTATT_OP_POOL2D:
    case AIGTATT_OP_POOL2D_BWD:
    case AIGTATT_OP_GLOBAL_AVG_POOL:
        return rb_conv(p, op);
    case AIGTATT_OP_BATCH_NORM:
    case AIGTATT_OP_BATCH_NORM_BWD:
    case AIGTATT_OP_LAYER_NORM:
    case AIGTATT_OP_LAYER_NORM_BWD:
        return rb_norm(p, op);
    case AIGTATT_OP_LINEAR:
    case AIGTATT_OP_MATMUL:
        return rb_linalg(p, op);
    case AIGTATT_OP_ONE_HOT:
    case AIGTATT_OP_CROSS_ENTROPY:
    case AIGTATT_OP_CROSS_ENTROPY_BWD:
    case AIGTATT_OP_DROPOUT:
    case AIGTATT_OP_STOCHASTIC_DEPTH:
        return rb_loss(p, op);
    case AIGTATT_OP_SGD_UPDATE:
    case AIGTATT_OP_ADAM_UPDATE:
    case AIGTATT_OP_INCREMENT:
        return rb_optim(p, op);
    }
    return rb_fail("unknown opcode %d", (int)op->op);
}
