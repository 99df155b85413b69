/* Element-wise kernels with NumPy broadcasting, and their gradients. The
 * formulas are PyTorch's (torch/csrc/autograd derivatives and ATen's CPU
 * activation kernels), restated. */
#include "rb_internal.h"

#include <math.h>

static double unary_fwd(aigtatt_unary op, double x)
{
    switch (op) {
    case AIGTATT_RELU:
        return x > 0 ? x : (isnan(x) ? x : 0.0);
    case AIGTATT_RELU6:
        return isnan(x) ? x : fmin(fmax(x, 0.0), 6.0);
    case AIGTATT_HARDSWISH:
        return x * fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
    case AIGTATT_HARDSIGMOID:
        return fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
    case AIGTATT_SILU:
        return x / (1.0 + exp(-x));
    case AIGTATT_GELU:
        return 0.5 * x * (1.0 + erf(x * M_SQRT1_2));
    case AIGTATT_GELU_TANH: {
        const double k = sqrt(2.0 / M_PI);
        return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
    }
    case AIGTATT_SIGMOID:
        return 1.0 / (1.0 + exp(-x));
    case AIGTATT_TANH:
        return tanh(x);
    case AIGTATT_EXP:
        return exp(x);
    case AIGTATT_LOG:
        return log(x);
    case AIGTATT_SQRT:
        return sqrt(x);
    case AIGTATT_NEG:
        return -x;
    case AIGTATT_ABS:
        return fabs(x);
    }
    return NAN;
}

/* `t` is x or y as compute-ir.md says for each function. */
static double unary_bwd(aigtatt_unary op, double g, double t)
{
    switch (op) {
    case AIGTATT_RELU:
        return t > 0 ? g : 0.0;
    case AIGTATT_RELU6:
        return (t > 0 && t < 6) ? g : 0.0;
    case AIGTATT_HARDSWISH:
        return t < -3 ? 0.0 : t <= 3 ? g * (t / 3.0 + 0.5) : g;
    case AIGTATT_HARDSIGMOID:
        return (t > -3 && t < 3) ? g / 6.0 : 0.0;
    case AIGTATT_SILU: {
        double s = 1.0 / (1.0 + exp(-t));
        return g * s * (1.0 + t * (1.0 - s));
    }
    case AIGTATT_GELU: {
        double cdf = 0.5 * (1.0 + erf(t * M_SQRT1_2));
        double pdf = exp(-0.5 * t * t) / sqrt(2.0 * M_PI);
        return g * (cdf + t * pdf);
    }
    case AIGTATT_GELU_TANH: {
        const double k = sqrt(2.0 / M_PI), c = 0.044715;
        double th = tanh(k * (t + c * t * t * t));
        return g * (0.5 * (1.0 + th) + 0.5 * t * (1.0 - th * th) * k * (1.0 + 3.0 * c * t * t));
    }
    case AIGTATT_SIGMOID:
        return g * t * (1.0 - t);
    case AIGTATT_TANH:
        return g * (1.0 - t * t);
    case AIGTATT_EXP:
        return g * t;
    case AIGTATT_LOG:
        return g / t;
    case AIGTATT_SQRT:
        return g / (2.0 * t);
    case AIGTATT_NEG:
        return -g;
    case AIGTATT_ABS:
        return t > 0 ? g : t < 0 ? -g : 0.0;
    }
    return NAN;
}

static double binary_fwd(aigtatt_binary op, double a, double b)
{
    switch (op) {
    case AIGTATT_ADD:
        return a + b;
    case AIGTATT_SUB:
        return a - b;
    case AIGTATT_MUL:
        return a * b;
    case AIGTATT_DIV:
        return a / b;
    case AIGTATT_MAXIMUM:
        return (isnan(a) || isnan(b)) ? NAN : (a > b ? a : b);
    case AIGTATT_MINIMUM:
        return (isnan(a) || isnan(b)) ? NAN : (a < b ? a : b);
    case AIGTATT_GREATER:
        return a > b ? 1.0 : 0.0;
    }
    return NAN;
}

/* torch.maximum's gradient: the larger operand takes it, ties split it. */
static double minmax_bwd(aigtatt_binary op, int which, double g, double a, double b)
{
    double mine = which ? b : a, other = which ? a : b;
    if (mine == other)
        return g * 0.5;
    int wins = op == AIGTATT_MAXIMUM ? mine > other : mine < other;
    return wins ? g : 0.0;
}

int rb_elementwise(rb_prog *p, const rb_op *op)
{
    rb_val *y = rb_out(p, op, 0);
    if (!y)
        return AIGTATT_OK;
    int n = y->ndim;
    const int64_t *sh = y->shape;
    int64_t s0[RB_MAXD], s1[RB_MAXD], s2[RB_MAXD];
    switch (op->op) {
    case AIGTATT_OP_UNARY: {
        rb_val *x = rb_in(p, op, 0);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = unary_fwd((aigtatt_unary)op->ints[0], x->data[i]);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_UNARY_BWD: {
        rb_val *g = rb_in(p, op, 0), *t = rb_in(p, op, 1);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = unary_bwd((aigtatt_unary)op->ints[0], g->data[i], t->data[i]);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_BINARY: {
        rb_val *a = rb_in(p, op, 0), *b = rb_in(p, op, 1);
        rb_bcast_strides(a, n, sh, s0);
        rb_bcast_strides(b, n, sh, s1);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = binary_fwd((aigtatt_binary)op->ints[0], a->data[rb_offset(i, n, sh, s0)],
                                    b->data[rb_offset(i, n, sh, s1)]);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_BINARY_BWD: {
        rb_val *g = rb_in(p, op, 0), *a = rb_in(p, op, 1), *b = rb_in(p, op, 2);
        rb_bcast_strides(a, n, sh, s0);
        rb_bcast_strides(b, n, sh, s1);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = minmax_bwd((aigtatt_binary)op->ints[0], (int)op->ints[1], g->data[i],
                                    a->data[rb_offset(i, n, sh, s0)], b->data[rb_offset(i, n, sh, s1)]);
        return AIGTATT_OK;
    }
    case AIGTATT_OP_AFFINE: {
        rb_val *x = rb_in(p, op, 0);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = x->data[i] * op->reals[0] + op->reals[1];
        return AIGTATT_OK;
    }
    case AIGTATT_OP_CLAMP: {
        rb_val *x = rb_in(p, op, 0);
        for (int64_t i = 0; i < y->numel; i++) {
            double v = x->data[i];
            y->data[i] = isnan(v) ? v : fmin(fmax(v, op->reals[0]), op->reals[1]);
        }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_CLAMP_BWD: {
        rb_val *g = rb_in(p, op, 0), *x = rb_in(p, op, 1);
        for (int64_t i = 0; i < y->numel; i++) {
            double v = x->data[i];
            y->data[i] = (v >= op->reals[0] && v <= op->reals[1]) ? g->data[i] : 0.0;
        }
        return AIGTATT_OK;
    }
    case AIGTATT_OP_WHERE: {
        rb_val *c = rb_in(p, op, 0), *a = rb_in(p, op, 1), *b = rb_in(p, op, 2);
        rb_bcast_strides(c, n, sh, s0);
        rb_bcast_strides(a, n, sh, s1);
        rb_bcast_strides(b, n, sh, s2);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = c->data[rb_offset(i, n, sh, s0)] != 0 ? a->data[rb_offset(i, n, sh, s1)]
                                                               : b->data[rb_offset(i, n, sh, s2)];
        return AIGTATT_OK;
    }
    case AIGTATT_OP_EXPAND: {
        rb_val *x = rb_in(p, op, 0);
        rb_bcast_strides(x, n, sh, s0);
        for (int64_t i = 0; i < y->numel; i++)
            y->data[i] = x->data[rb_offset(i, n, sh, s0)];
        return AIGTATT_OK;
    }
    case AIGTATT_OP_REDUCE_TO: {
        /* The input has the big (broadcast) shape; y the small one. */
        rb_val *g = rb_in(p, op, 0);
        rb_bcast_strides(y, g->ndim, g->shape, s0);
        for (int64_t i = 0; i < g->numel; i++)
            y->data[rb_offset(i, g->ndim, g->shape, s0)] += g->data[i];
        return AIGTATT_OK;
    }
    default:
        return rb_fail("elementwise: opcode %d", (int)op->op);
    }
}
