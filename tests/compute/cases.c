/* The op cases: each is built in C (ct_build) and, for parity, computed by
 * tests/compute/ref_ops.py from the same `op`, i[] and r[]. Shapes are
 * small so finite differences over every element stay fast. */
#include "ct.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Trailing fields of a case default to zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define IN(k, ...) { k, (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), { __VA_ARGS__ }, 0 }
#define LAB(hi, ...) { 'l', (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), { __VA_ARGS__ }, hi }
#define SCALAR(k) { k, 0, { 0 }, 0 }

const ct_case ct_cases[] = {
    /* convolution */
    { "conv_basic", "conv2d", 0, 3, { IN('p', 2, 3, 5, 5), IN('p', 4, 3, 3, 3), IN('p', 4) }, { 1, 1, 1, 1, 1, 1, 1 } },
    { "conv_stride_pad_nobias", "conv2d", 0, 2, { IN('p', 2, 4, 7, 6), IN('p', 6, 4, 3, 2) }, { 2, 1, 1, 0, 1, 1, 1 } },
    { "conv_dilation_groups", "conv2d", 0, 3, { IN('p', 1, 4, 8, 8), IN('p', 6, 2, 3, 3), IN('p', 6) }, { 1, 1, 2, 2, 2, 2, 2 } },
    { "conv_depthwise", "conv2d", 0, 2, { IN('p', 2, 3, 6, 6), IN('p', 3, 1, 3, 3) }, { 2, 2, 1, 1, 1, 1, 3 } },
    { "conv_1x1_stride2", "conv2d", 0, 2, { IN('p', 2, 4, 5, 5), IN('p', 8, 4, 1, 1) }, { 2, 2, 0, 0, 1, 1, 1 } },
    { "conv_1x1", "conv2d", 0, 2, { IN('p', 2, 5, 4, 6), IN('p', 7, 5, 1, 1) }, { 1, 1, 0, 0, 1, 1, 1 } },
    { "conv_dilated_stride", "conv2d", 0, 2, { IN('p', 1, 2, 9, 9), IN('p', 2, 2, 3, 3) }, { 2, 3, 1, 2, 2, 3, 1 } },
    /* batch norm */
    { "bn_train", "batch_norm", 1, 6, { IN('p', 4, 3, 3, 3), IN('p', 3), IN('p', 3), IN('m', 3), IN('v', 3), SCALAR('n') },
      { 0 }, { 0.1, 1e-5 } },
    { "bn_eval", "batch_norm", 0, 5, { IN('p', 4, 3, 3, 3), IN('p', 3), IN('p', 3), IN('m', 3), IN('v', 3) }, { 0 }, { 0.1, 1e-5 } },
    { "bn_train_1d", "batch_norm", 1, 5, { IN('p', 6, 4), IN('p', 4), IN('p', 4), IN('m', 4), IN('v', 4) }, { 0 }, { 0.3, 1e-3 } },
    { "bn_train_no_running", "batch_norm", 1, 3, { IN('p', 3, 2, 2, 2), IN('p', 2), IN('p', 2) }, { 0 }, { 0.1, 1e-5 } },
    { "bn_cumulative", "batch_norm", 1, 6, { IN('p', 2, 3, 2, 2), IN('p', 3), IN('p', 3), IN('m', 3), IN('v', 3), SCALAR('n') },
      { 0 }, { -1, 1e-5 } },
    /* layer norm */
    { "ln_last", "layer_norm", 0, 3, { IN('p', 2, 3, 5), IN('p', 5), IN('p', 5) }, { 1 }, { 1e-5 } },
    { "ln_two_dims", "layer_norm", 0, 3, { IN('p', 2, 3, 4), IN('p', 3, 4), IN('p', 3, 4) }, { 2 }, { 1e-5 } },
    { "ln_no_affine", "layer_norm", 0, 1, { IN('p', 3, 6) }, { 1 }, { 1e-6 } },
    /* linear algebra */
    { "linear", "linear", 0, 3, { IN('p', 3, 5), IN('p', 4, 5), IN('p', 4) } },
    { "linear_3d_nobias", "linear", 0, 2, { IN('p', 2, 3, 5), IN('p', 4, 5) } },
    { "matmul", "matmul", 0, 2, { IN('p', 3, 4), IN('p', 4, 5) }, { 0, 0 } },
    { "matmul_bcast_t", "matmul", 0, 2, { IN('p', 2, 1, 5, 3), IN('p', 3, 4, 5) }, { 1, 1 } },
    { "matmul_ta", "matmul", 0, 2, { IN('p', 4, 3), IN('p', 4, 2) }, { 1, 0 } },
    { "matmul_tb_bcast", "matmul", 0, 2, { IN('p', 2, 3, 4), IN('p', 5, 4) }, { 0, 1 } },
    /* pooling */
    { "maxpool_3s2p1", "pool2d", 0, 1, { IN('z', 2, 2, 7, 7) }, { 1, 3, 3, 2, 2, 1, 1, 0, 0 } },
    { "maxpool_ceil", "pool2d", 0, 1, { IN('z', 1, 2, 6, 6) }, { 1, 3, 3, 2, 2, 0, 0, 1, 0 } },
    { "maxpool_rect", "pool2d", 0, 1, { IN('z', 1, 2, 5, 7) }, { 1, 2, 3, 1, 2, 1, 1, 1, 0 } },
    { "avgpool_pad_include", "pool2d", 0, 1, { IN('p', 2, 2, 5, 5) }, { 0, 3, 3, 2, 2, 1, 1, 0, 1 } },
    { "avgpool_pad_exclude_ceil", "pool2d", 0, 1, { IN('p', 1, 3, 6, 5) }, { 0, 3, 2, 2, 2, 1, 1, 1, 0 } },
    { "avgpool_ceil_include", "pool2d", 0, 1, { IN('p', 1, 2, 6, 6) }, { 0, 3, 3, 2, 2, 1, 1, 1, 1 } },
    { "avgpool_2x2", "pool2d", 0, 1, { IN('p', 2, 3, 4, 4) }, { 0, 2, 2, 2, 2, 0, 0, 0, 1 } },
    { "global_avg_pool", "global_avg_pool", 0, 1, { IN('p', 2, 3, 4, 5) } },
    /* unary */
    { "relu", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_RELU } },
    { "relu6", "unary", 0, 1, { IN('p', 5, 4) }, { AIGTATT_RELU6 }, { 0 } },
    { "hardswish", "unary", 0, 1, { IN('p', 5, 4) }, { AIGTATT_HARDSWISH } },
    { "hardsigmoid", "unary", 0, 1, { IN('p', 5, 4) }, { AIGTATT_HARDSIGMOID } },
    { "silu", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_SILU } },
    { "gelu", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_GELU } },
    { "gelu_tanh", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_GELU_TANH } },
    { "sigmoid", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_SIGMOID } },
    { "tanh", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_TANH } },
    { "exp", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_EXP } },
    { "log", "unary", 0, 1, { IN('q', 3, 4) }, { AIGTATT_LOG } },
    { "sqrt", "unary", 0, 1, { IN('q', 3, 4) }, { AIGTATT_SQRT } },
    { "neg", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_NEG } },
    { "abs", "unary", 0, 1, { IN('p', 3, 4) }, { AIGTATT_ABS } },
    /* binary, with broadcasting both ways */
    { "add_bcast", "binary", 0, 2, { IN('p', 2, 3, 4), IN('p', 3, 1) }, { AIGTATT_ADD } },
    { "sub_bcast", "binary", 0, 2, { IN('p', 4), IN('p', 2, 3, 4) }, { AIGTATT_SUB } },
    { "mul_bcast", "binary", 0, 2, { IN('p', 2, 1, 4), IN('p', 3, 1) }, { AIGTATT_MUL } },
    { "div_bcast", "binary", 0, 2, { IN('p', 2, 3), IN('q', 3) }, { AIGTATT_DIV } },
    { "maximum", "binary", 0, 2, { IN('p', 2, 3), IN('p', 3) }, { AIGTATT_MAXIMUM } },
    { "minimum", "binary", 0, 2, { IN('p', 3, 1), IN('p', 1, 4) }, { AIGTATT_MINIMUM } },
    { "greater", "binary", 0, 2, { IN('p', 2, 3), IN('p', 3) }, { AIGTATT_GREATER } },
    { "mul_same_value", "square", 0, 1, { IN('p', 3, 4) } },
    { "affine", "affine", 0, 1, { IN('p', 3, 4) }, { 0 }, { 1.5, -0.25 } },
    { "clamp", "clamp", 0, 1, { IN('p', 4, 5) }, { 0 }, { -0.5, 0.7 } },
    { "clamp_lo_only", "clamp", 0, 1, { IN('p', 4, 5) }, { 0 }, { -0.3, INFINITY } },
    { "where", "where", 0, 3, { IN('c', 2, 3), IN('p', 2, 3), IN('p', 3) } },
    /* shape */
    { "reshape", "reshape", 0, 1, { IN('p', 2, 3, 4) }, { 3, 4, -1, 2 } },
    { "permute", "permute", 0, 1, { IN('p', 2, 3, 4, 5) }, { 4, 0, 2, 3, 1 } },
    { "roll", "roll", 0, 1, { IN('p', 2, 3, 5) }, { 2, 1, -2, 2, 1 } },
    { "roll_same_dim", "roll", 0, 1, { IN('p', 4, 5) }, { 2, 2, 3, 0, 0 } },
    { "slice_step", "slice", 0, 1, { IN('p', 3, 8) }, { 1, 1, 7, 2 } },
    { "slice_negative", "slice", 0, 1, { IN('p', 5, 4) }, { 0, -3, 100, 1 } },
    { "concat", "concat", 0, 3, { IN('p', 2, 1, 3), IN('p', 2, 4, 3), IN('p', 2, 2, 3) }, { 1 } },
    { "pad", "pad", 0, 1, { IN('p', 2, 3, 4) }, { 2, 1, 2, 0, 1 }, { 0.5 } },
    /* reductions and normalisation */
    { "sum_axes", "reduce", 0, 1, { IN('p', 2, 3, 4) }, { AIGTATT_REDUCE_SUM, 0, 2, 0, 2 } },
    { "mean_keepdim", "reduce", 0, 1, { IN('p', 2, 3, 4) }, { AIGTATT_REDUCE_MEAN, 1, 1, -1 } },
    { "mean_all", "reduce", 0, 1, { IN('p', 3, 4) }, { AIGTATT_REDUCE_MEAN, 0, 0 } },
    { "amax", "reduce", 0, 1, { IN('z', 2, 5, 3) }, { AIGTATT_REDUCE_MAX, 0, 1, 1 } },
    { "softmax", "softmax", 0, 1, { IN('p', 3, 5) }, { -1 } },
    { "softmax_mid_axis", "softmax", 0, 1, { IN('p', 4, 3, 2) }, { 1 } },
    { "l2_normalize", "l2_normalize", 0, 1, { IN('p', 4, 6) }, { 1 }, { 1e-12 } },
    { "l2_normalize_axis0", "l2_normalize", 0, 1, { IN('p', 5, 3) }, { 0 }, { 1e-12 } },
    /* losses and regularisation */
    { "one_hot", "one_hot", 0, 1, { LAB(4, 5) }, { 4 } },
    { "cross_entropy", "cross_entropy", 0, 2, { IN('p', 5, 4), LAB(4, 5) } },
    { "dropout", "dropout", 1, 1, { IN('p', 4, 5) }, { 0 }, { 0.3 }, 1 },
    { "stochastic_depth", "stochastic_depth", 1, 1, { IN('p', 4, 2, 3) }, { 0 }, { 0.5 }, 1 },
    /* composites: gradient accumulation over a residual, and ArcFace */
    { "residual_block", "block", 1, 4, { IN('p', 2, 3, 4, 4), IN('p', 3, 3, 3, 3), IN('p', 3), IN('p', 3) }, { 0 }, { 0.1, 1e-5 } },
    { "arcface", "arcface", 0, 3, { IN('p', 4, 6), IN('p', 5, 6), LAB(5, 4) }, { 5 }, { 8.0, 0.5 } },
};
const size_t ct_n_cases = sizeof ct_cases / sizeof ct_cases[0];

static aigtatt_val build_arcface(const aigtatt_nn_api *A, aigtatt_nn *nn, const aigtatt_val *v, const ct_case *c)
{
    /* cos = <e/|e|, w/|w|>; phi = cos(theta + m) with the usual threshold
     * fallback; logits = s * (one_hot * phi + (1 - one_hot) * cos). */
    double s = c->r[0], m = c->r[1];
    aigtatt_val e = A->l2_normalize(nn, v[0], 1, 1e-12), w = A->l2_normalize(nn, v[1], 1, 1e-12);
    aigtatt_val cosv = A->matmul(nn, e, w, 0, 1);
    aigtatt_val sin2 = A->clamp(nn, A->affine(nn, A->binary(nn, AIGTATT_MUL, cosv, cosv), -1.0, 1.0), 1e-6, 1.0);
    aigtatt_val sinv = A->unary(nn, AIGTATT_SQRT, sin2);
    aigtatt_val phi = A->binary(nn, AIGTATT_SUB, A->affine(nn, cosv, cos(m), 0.0), A->affine(nn, sinv, sin(m), 0.0));
    aigtatt_val th = A->constant(nn, cos(M_PI - m));
    aigtatt_val alt = A->affine(nn, cosv, 1.0, -sin(M_PI - m) * m);
    aigtatt_val phi2 = A->where(nn, A->binary(nn, AIGTATT_GREATER, cosv, th), phi, alt);
    aigtatt_val oh = A->one_hot(nn, v[2], c->i[0]);
    aigtatt_val mixed = A->binary(nn, AIGTATT_ADD, A->binary(nn, AIGTATT_MUL, oh, phi2),
                                  A->binary(nn, AIGTATT_MUL, A->affine(nn, oh, -1.0, 1.0), cosv));
    return A->cross_entropy(nn, A->affine(nn, mixed, s, 0.0), v[2]);
}

static aigtatt_val build_op(const aigtatt_nn_api *A, aigtatt_nn *nn, const aigtatt_val *v, const ct_case *c)
{
    const char *op = c->op;
    const int64_t *i = c->i;
    aigtatt_val opt2 = c->n_in > 2 ? v[2] : AIGTATT_NN_INVALID;
    if (!strcmp(op, "conv2d")) {
        aigtatt_conv_opts o = { .struct_size = sizeof o, .stride = { i[0], i[1] }, .padding = { i[2], i[3] },
                                .dilation = { i[4], i[5] }, .groups = i[6] };
        return A->conv2d(nn, v[0], v[1], opt2, &o);
    }
    if (!strcmp(op, "batch_norm"))
        return A->batch_norm(nn, v[0], v[1], v[2], c->n_in > 3 ? v[3] : -1, c->n_in > 4 ? v[4] : -1,
                             c->n_in > 5 ? v[5] : -1, c->r[0], c->r[1]);
    if (!strcmp(op, "layer_norm"))
        return A->layer_norm(nn, v[0], c->n_in > 1 ? v[1] : -1, opt2, (int)i[0], c->r[0]);
    if (!strcmp(op, "linear"))
        return A->linear(nn, v[0], v[1], opt2);
    if (!strcmp(op, "matmul"))
        return A->matmul(nn, v[0], v[1], (int)i[0], (int)i[1]);
    if (!strcmp(op, "pool2d")) {
        aigtatt_pool_opts o = { .struct_size = sizeof o, .max = (int)i[0], .kernel = { i[1], i[2] },
                                .stride = { i[3], i[4] }, .padding = { i[5], i[6] }, .ceil_mode = (int)i[7],
                                .count_include_pad = (int)i[8] };
        return A->pool2d(nn, v[0], &o);
    }
    if (!strcmp(op, "global_avg_pool"))
        return A->global_avg_pool(nn, v[0]);
    if (!strcmp(op, "unary"))
        return A->unary(nn, (aigtatt_unary)i[0], v[0]);
    if (!strcmp(op, "binary"))
        return A->binary(nn, (aigtatt_binary)i[0], v[0], v[1]);
    if (!strcmp(op, "square"))
        return A->binary(nn, AIGTATT_MUL, v[0], v[0]);
    if (!strcmp(op, "affine"))
        return A->affine(nn, v[0], c->r[0], c->r[1]);
    if (!strcmp(op, "clamp"))
        return A->clamp(nn, v[0], c->r[0], c->r[1]);
    if (!strcmp(op, "where"))
        return A->where(nn, v[0], v[1], v[2]);
    if (!strcmp(op, "reshape"))
        return A->reshape(nn, v[0], (int)i[0], i + 1);
    if (!strcmp(op, "permute")) {
        int perm[8];
        for (int k = 0; k < i[0]; k++)
            perm[k] = (int)i[1 + k];
        return A->permute(nn, v[0], (int)i[0], perm);
    }
    if (!strcmp(op, "roll")) {
        int n = (int)i[0], dims[8];
        for (int k = 0; k < n; k++)
            dims[k] = (int)i[1 + n + k];
        return A->roll(nn, v[0], n, i + 1, dims);
    }
    if (!strcmp(op, "slice"))
        return A->slice(nn, v[0], (int)i[0], i[1], i[2], i[3]);
    if (!strcmp(op, "concat"))
        return A->concat(nn, (int)i[0], c->n_in, v);
    if (!strcmp(op, "pad"))
        return A->pad(nn, v[0], (int)i[0], i + 1, c->r[0]);
    if (!strcmp(op, "reduce")) {
        int axes[8];
        for (int k = 0; k < i[2]; k++)
            axes[k] = (int)i[3 + k];
        return A->reduce(nn, (aigtatt_reduce)i[0], v[0], (int)i[2], axes, (int)i[1]);
    }
    if (!strcmp(op, "softmax"))
        return A->softmax(nn, v[0], (int)i[0]);
    if (!strcmp(op, "l2_normalize"))
        return A->l2_normalize(nn, v[0], (int)i[0], c->r[0]);
    if (!strcmp(op, "one_hot"))
        return A->one_hot(nn, v[0], i[0]);
    if (!strcmp(op, "cross_entropy"))
        return A->cross_entropy(nn, v[0], v[1]);
    if (!strcmp(op, "dropout"))
        return A->dropout(nn, v[0], c->r[0]);
    if (!strcmp(op, "stochastic_depth"))
        return A->stochastic_depth(nn, v[0], c->r[0]);
    if (!strcmp(op, "block")) {
        aigtatt_conv_opts o = { .struct_size = sizeof o, .padding = { 1, 1 } };
        aigtatt_val h = A->conv2d(nn, v[0], v[1], -1, &o);
        h = A->batch_norm(nn, h, v[2], v[3], -1, -1, -1, c->r[0], c->r[1]);
        return A->unary(nn, AIGTATT_RELU, A->binary(nn, AIGTATT_ADD, h, v[0]));
    }
    if (!strcmp(op, "arcface"))
        return build_arcface(A, nn, v, c);
    return AIGTATT_NN_INVALID;
}

aigtatt_val ct_build(const ct_case *c, aigtatt_nn *nn)
{
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    aigtatt_val v[6];
    int trainable = 0;
    aigtatt_nn_init zeros = { .kind = AIGTATT_INIT_ZEROS };
    for (int k = 0; k < c->n_in; k++) {
        const ct_input *in = &c->in[k];
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        switch (in->kind) {
        case 'p':
        case 'q':
        case 'z':
            v[k] = A->param(nn, name, in->ndim, in->shape, zeros);
            trainable = 1;
            break;
        case 'l':
            v[k] = A->input(nn, name, AIGTATT_I64, in->ndim, in->shape);
            break;
        case 'm':
        case 'v':
            v[k] = A->buffer(nn, name, AIGTATT_F32, in->ndim, in->shape, zeros);
            break;
        case 'n':
            v[k] = A->buffer(nn, name, AIGTATT_I64, 0, NULL, zeros);
            break;
        default:
            v[k] = A->input(nn, name, AIGTATT_F32, in->ndim, in->shape);
        }
    }
    aigtatt_val y = build_op(A, nn, v, c);
    A->output(nn, "y", y);
    if (!trainable)
        return AIGTATT_NN_INVALID;
    int64_t shape[AIGTATT_NN_MAX_DIMS];
    int nd = A->shape(nn, y, shape);
    aigtatt_val dy = A->input(nn, "dy", AIGTATT_F32, nd < 0 ? 0 : nd, shape);
    aigtatt_val loss = A->reduce(nn, AIGTATT_REDUCE_SUM, A->binary(nn, AIGTATT_MUL, y, dy), 0, NULL, 0);
    A->output(nn, "loss", loss);
    return loss;
}
