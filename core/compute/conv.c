/* Convolution and pooling on NCHW tensors, with PyTorch's output-size
 * rules (including MaxPool/AvgPool's ceil_mode quirk). */
#include "compute/nn_internal.h"

#include <string.h>

aigtatt_val aigtatt_nn_conv2d(aigtatt_nn *nn, aigtatt_val x, aigtatt_val w, aigtatt_val b,
                              const aigtatt_conv_opts *opts)
{
    if (!aigtatt_nn_begin(nn, "conv2d"))
        return AIGTATT_NN_INVALID;
    if (!aigtatt_nn_check_float(nn, x, "x") || !aigtatt_nn_check_float(nn, w, "weight") ||
        (b != AIGTATT_NN_INVALID && !aigtatt_nn_check_float(nn, b, "bias")))
        return AIGTATT_NN_INVALID;
    /* A caller built against an older, shorter struct gets zeros (the
     * defaults) for the fields it does not know. */
    aigtatt_conv_opts o;
    memset(&o, 0, sizeof o);
    if (opts) {
        size_t n = opts->struct_size < sizeof o ? opts->struct_size : sizeof o;
        memcpy(&o, opts, n);
    }
    int64_t sh = o.stride[0] ? o.stride[0] : 1, sw = o.stride[1] ? o.stride[1] : 1;
    int64_t dh = o.dilation[0] ? o.dilation[0] : 1, dw = o.dilation[1] ? o.dilation[1] : 1;
    int64_t ph = o.padding[0], pw = o.padding[1], g = o.groups ? o.groups : 1;
    if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || ph < 0 || pw < 0 || g < 1 || ph > 1 << 20 || pw > 1 << 20 ||
        dh > 1 << 20 || dw > 1 << 20) {
        aigtatt_nn_fail(nn, "invalid options: stride (%lld, %lld), padding (%lld, %lld), dilation (%lld, %lld), "
                        "groups %lld", (long long)sh, (long long)sw, (long long)ph, (long long)pw, (long long)dh,
                        (long long)dw, (long long)g);
        return AIGTATT_NN_INVALID;
    }
    const nn_shape *xs = &nn->v[x].s, *ws = &nn->v[w].s;
    char s1[128], s2[128];
    if (xs->ndim != 4 || ws->ndim != 4) {
        aigtatt_nn_fail(nn, "x %s and weight %s must both be 4-d (NCHW, OIHW)", aigtatt_nn_dims_str(xs, s1, sizeof s1),
                        aigtatt_nn_dims_str(ws, s2, sizeof s2));
        return AIGTATT_NN_INVALID;
    }
    int64_t c = xs->d[1], oc = ws->d[0];
    if (c % g || oc % g || ws->d[1] != c / g) {
        aigtatt_nn_fail(nn, "x has %lld channels and weight is %s with groups %lld (needs [O, C/groups, kh, kw], "
                        "C and O divisible by groups)", (long long)c, aigtatt_nn_dims_str(ws, s2, sizeof s2),
                        (long long)g);
        return AIGTATT_NN_INVALID;
    }
    if (b != AIGTATT_NN_INVALID && (nn->v[b].s.ndim != 1 || nn->v[b].s.d[0] != oc)) {
        aigtatt_nn_fail(nn, "bias %s does not match %lld output channels",
                        aigtatt_nn_dims_str(&nn->v[b].s, s1, sizeof s1), (long long)oc);
        return AIGTATT_NN_INVALID;
    }
    /* dilated kernel and padded input extents, refused where they overflow */
    int64_t kh, kw, inh, inw;
    int wraps = __builtin_mul_overflow(dh, ws->d[2] - 1, &kh) || __builtin_mul_overflow(dw, ws->d[3] - 1, &kw) ||
                __builtin_mul_overflow(ph, 2, &inh) || __builtin_mul_overflow(pw, 2, &inw) ||
                __builtin_add_overflow(inh, xs->d[2], &inh) || __builtin_add_overflow(inw, xs->d[3], &inw);
    if (wraps) {
        aigtatt_nn_fail(nn, "dilation (%lld, %lld) or padding (%lld, %lld) is out of range for kernel %s",
                        (long long)dh, (long long)dw, (long long)ph, (long long)pw,
                        aigtatt_nn_dims_str(ws, s2, sizeof s2));
        return AIGTATT_NN_INVALID;
    }
    int64_t oh = (inh - kh - 1) / sh + 1;
    int64_t ow = (inw - kw - 1) / sw + 1;
    if (inh < kh + 1 || inw < kw + 1) {
        aigtatt_nn_fail(nn, "kernel %s (dilated) is larger than the padded input %s",
                        aigtatt_nn_dims_str(ws, s2, sizeof s2), aigtatt_nn_dims_str(xs, s1, sizeof s1));
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = xs->dtype, .ndim = 4, .d = { xs->d[0], oc, oh, ow } };
    aigtatt_val in[3] = { x, w, b };
    int64_t ints[7] = { sh, sw, ph, pw, dh, dw, g };
    return aigtatt_nn_emit(nn, AIGTATT_OP_CONV2D, 3, in, 1, &s, ints, 7, NULL, 0);
}

/* torch's pooling_output_shape: the last window must start inside the
 * input or the left padding, which ceil_mode alone would not ensure. */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t p, int ceil_mode)
{
    int64_t num = in + 2 * p - (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    if (ceil_mode && (out - 1) * s >= in + p)
        out--;
    return out;
}

aigtatt_val aigtatt_nn_pool2d(aigtatt_nn *nn, aigtatt_val x, const aigtatt_pool_opts *opts)
{
    if (!aigtatt_nn_begin(nn, "pool2d") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    if (!opts) {
        aigtatt_nn_fail(nn, "no options");
        return AIGTATT_NN_INVALID;
    }
    aigtatt_pool_opts o;
    memset(&o, 0, sizeof o);
    memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    nn->cur = o.max ? "max_pool2d" : "avg_pool2d";
    const nn_shape *xs = &nn->v[x].s;
    char s1[128];
    if (xs->ndim != 4) {
        aigtatt_nn_fail(nn, "x %s must be 4-d (NCHW)", aigtatt_nn_dims_str(xs, s1, sizeof s1));
        return AIGTATT_NN_INVALID;
    }
    int64_t kh = o.kernel[0], kw = o.kernel[1];
    int64_t sh = o.stride[0] ? o.stride[0] : kh, sw = o.stride[1] ? o.stride[1] : kw;
    int64_t ph = o.padding[0], pw = o.padding[1];
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || kh > 1 << 20 || kw > 1 << 20) {
        aigtatt_nn_fail(nn, "invalid kernel (%lld, %lld), stride (%lld, %lld) or padding (%lld, %lld)",
                        (long long)kh, (long long)kw, (long long)sh, (long long)sw, (long long)ph, (long long)pw);
        return AIGTATT_NN_INVALID;
    }
    if (2 * ph > kh || 2 * pw > kw) {
        aigtatt_nn_fail(nn, "padding (%lld, %lld) must be at most half the kernel (%lld, %lld)", (long long)ph,
                        (long long)pw, (long long)kh, (long long)kw);
        return AIGTATT_NN_INVALID;
    }
    int64_t oh = pool_out(xs->d[2], kh, sh, ph, o.ceil_mode), ow = pool_out(xs->d[3], kw, sw, pw, o.ceil_mode);
    if (oh < 1 || ow < 1) {
        aigtatt_nn_fail(nn, "input %s is smaller than the kernel", aigtatt_nn_dims_str(xs, s1, sizeof s1));
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = xs->dtype, .ndim = 4, .d = { xs->d[0], xs->d[1], oh, ow } };
    int64_t ints[9] = { o.max ? 1 : 0, kh, kw, sh, sw, ph, pw, o.ceil_mode ? 1 : 0, o.count_include_pad ? 1 : 0 };
    return aigtatt_nn_emit(nn, AIGTATT_OP_POOL2D, 1, &x, 1, &s, ints, 9, NULL, 0);
}

aigtatt_val aigtatt_nn_global_avg_pool(aigtatt_nn *nn, aigtatt_val x)
{
    if (!aigtatt_nn_begin(nn, "global_avg_pool") || !aigtatt_nn_check_float(nn, x, "x"))
        return AIGTATT_NN_INVALID;
    const nn_shape *xs = &nn->v[x].s;
    char s1[128];
    if (xs->ndim != 4) {
        aigtatt_nn_fail(nn, "x %s must be 4-d (NCHW)", aigtatt_nn_dims_str(xs, s1, sizeof s1));
        return AIGTATT_NN_INVALID;
    }
    nn_shape s = { .dtype = xs->dtype, .ndim = 4, .d = { xs->d[0], xs->d[1], 1, 1 } };
    return aigtatt_nn_emit(nn, AIGTATT_OP_GLOBAL_AVG_POOL, 1, &x, 1, &s, NULL, 0, NULL, 0);
}

void aigtatt_nn_grad_conv(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    aigtatt_val x = op->in[0], w = op->in[1];
    nn_shape xs = nn->v[x].s, ws = nn->v[w].s;
    if (need[0]) {
        aigtatt_val in[2] = { dy, w };
        nn->cur = "conv2d_bwd_data";
        gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_CONV2D_BWD_DATA, 2, in, 1, &xs, op->ints, 7, NULL, 0);
    }
    if (need[1]) {
        aigtatt_val in[2] = { x, dy };
        nn->cur = "conv2d_bwd_weight";
        gx[1] = aigtatt_nn_emit(nn, AIGTATT_OP_CONV2D_BWD_WEIGHT, 2, in, 1, &ws, op->ints, 7, NULL, 0);
    }
    if (need[2])
        gx[2] = aigtatt_nn_reduce(nn, AIGTATT_REDUCE_SUM, dy, 3, (const int[]){ 0, 2, 3 }, 0);
}

void aigtatt_nn_grad_pool(aigtatt_nn *nn, const nn_op *op, const aigtatt_val *gy, const int *need,
                          aigtatt_val *gx)
{
    aigtatt_val dy = gy[0];
    if (dy < 0)
        return;
    nn_shape xs = nn->v[op->in[0]].s;
    if (op->code == AIGTATT_OP_GLOBAL_AVG_POOL) {
        aigtatt_val g = aigtatt_nn_affine(nn, dy, 1.0 / (double)(xs.d[2] * xs.d[3]), 0.0);
        gx[0] = aigtatt_nn_expand(nn, g, &xs);
        return;
    }
    aigtatt_val in[2] = { dy, op->in[0] };
    nn->cur = "pool2d_bwd";
    gx[0] = aigtatt_nn_emit(nn, AIGTATT_OP_POOL2D_BWD, 2, in, 1, &xs, op->ints, 9, NULL, 0);
}
