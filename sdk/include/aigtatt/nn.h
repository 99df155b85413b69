/* aigtatt SDK: describing neural networks (since ABI 1.0; the host table
 * carries it as `host->nn`).
 *
 * Backbone and loss plugins describe a network by calling the builder
 * below; they never compute anything themselves. The core turns the
 * description into a static graph (shape inference at each call, automatic
 * differentiation, live ranges, an execution order) and hands that graph,
 * as the plain structs of compute.h, to a backend plugin (backend.reference
 * and backend.onednn today; a CUDA backend implements the same vtable) that
 * compiles and runs it.
 *
 * Values are small integer handles that belong to the builder that made
 * them: a handle from another builder is not detected (it is an index, and
 * may name an unrelated value there), so never keep handles across
 * networks. Errors are sticky, like cairo's: an op
 * given an invalid handle, or that fails its checks, returns
 * AIGTATT_NN_INVALID and records the first error in the builder (naming
 * the op and the scope path, "conv2d at layer1.0.conv1: ..."), which
 * aigtatt_nn_api.status() reports. So a backbone can be written as straight
 * code and checked once at the end.
 *
 * Shapes are concrete: a network is built for one batch size (a backend
 * compiles primitives per shape anyway); build again for another.
 *
 * Parameter and buffer names compose from the scope stack with '.', and must
 * equal torchvision's state_dict keys ("layer1.0.conv1.weight"), so weights
 * move both ways through safetensors files.
 *
 * Semantics follow PyTorch 1.13 op by op (forward and gradient), as noted
 * at each function; docs/compute-ir.md has the details. */
#ifndef AIGTATT_NN_H
#define AIGTATT_NN_H

#include <stddef.h>
#include <stdint.h>
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A network under construction; owned by the host. */
typedef struct aigtatt_nn aigtatt_nn;
/** A value (tensor) of the network; >= 0 when valid. */
typedef int32_t aigtatt_val;
/** The handle every failed op returns, and "no tensor" for optional inputs
 *  (a convolution without bias). */
#define AIGTATT_NN_INVALID ((aigtatt_val)-1)
/** Most dimensions a tensor may have. */
#define AIGTATT_NN_MAX_DIMS 8

/** Element types. Plugins build in F32 (and I64 for labels); F64 appears
 *  when the core lowers a network in double precision (gradient checks,
 *  exact references); BF16 is reserved for a reduced-precision lowering. */
typedef enum aigtatt_dtype {
    AIGTATT_F32 = 1,
    AIGTATT_BF16 = 2,
    AIGTATT_I64 = 3, /* labels, num_batches_tracked, the optimizer's step */
    AIGTATT_F64 = 4
} aigtatt_dtype;

/** How a parameter or buffer starts (matching PyTorch's initialisers so a
 *  fresh aigtatt network is distributed like a fresh torchvision one; the
 *  numbers come from the core's generator, seeded per name). Fans follow
 *  torch.nn.init: fan_in = shape[1] * receptive field, fan_out = shape[0] *
 *  receptive field, receptive field = product of shape[2..]. */
typedef enum aigtatt_nn_init_kind {
    AIGTATT_INIT_ZEROS = 1,
    AIGTATT_INIT_ONES = 2,
    AIGTATT_INIT_CONSTANT = 3,       /* a */
    AIGTATT_INIT_NORMAL = 4,         /* mean a, std b */
    AIGTATT_INIT_UNIFORM = 5,        /* [a, b) */
    AIGTATT_INIT_KAIMING_NORMAL = 6, /* std sqrt(2 / fan_out): mode fan_out, relu (torchvision convs) */
    AIGTATT_INIT_KAIMING_UNIFORM = 7,/* bound 1/sqrt(fan_in): PyTorch's default Linear/Conv weight
                                        init (a = sqrt(5), fan_in) */
    AIGTATT_INIT_TRUNC_NORMAL = 8    /* mean 0, std b, redrawn outside [-a, a]; a = 0 means 2, the
                                        absolute bounds of torch.nn.init.trunc_normal_ (Swin) */
} aigtatt_nn_init_kind;

typedef struct aigtatt_nn_init {
    aigtatt_nn_init_kind kind;
    double a, b;
} aigtatt_nn_init;

/** Convolution settings; zero fields mean stride 1, no padding, dilation 1,
 *  one group. NULL means all defaults. */
typedef struct aigtatt_conv_opts {
    size_t struct_size;
    int64_t stride[2];
    int64_t padding[2];   /* symmetric, like PyTorch's padding=(ph, pw) */
    int64_t dilation[2];
    int64_t groups;       /* = in_channels for depthwise */
} aigtatt_conv_opts;

/** Pooling settings (MaxPool2d / AvgPool2d). */
typedef struct aigtatt_pool_opts {
    size_t struct_size;
    int max;              /* 1 = max pooling, 0 = average */
    int64_t kernel[2];
    int64_t stride[2];    /* 0 = kernel */
    int64_t padding[2];   /* at most half the kernel, as PyTorch requires */
    int ceil_mode;
    int count_include_pad; /* average only; PyTorch's default is 1, so
                              callers set it explicitly */
} aigtatt_pool_opts;

typedef enum aigtatt_unary {
    AIGTATT_RELU = 1, AIGTATT_RELU6, AIGTATT_HARDSWISH, AIGTATT_HARDSIGMOID, AIGTATT_SILU,
    AIGTATT_GELU,       /* exact (erf), PyTorch's default */
    AIGTATT_GELU_TANH,
    AIGTATT_SIGMOID, AIGTATT_TANH, AIGTATT_EXP, AIGTATT_LOG, AIGTATT_SQRT, AIGTATT_NEG, AIGTATT_ABS
} aigtatt_unary;

typedef enum aigtatt_binary {
    AIGTATT_ADD = 1, AIGTATT_SUB, AIGTATT_MUL, AIGTATT_DIV,
    AIGTATT_MAXIMUM, AIGTATT_MINIMUM, /* ties share the gradient half and half, as torch.maximum */
    AIGTATT_GREATER /* 1.0 where a > b, else 0.0; no gradient */
} aigtatt_binary;

typedef enum aigtatt_reduce {
    AIGTATT_REDUCE_SUM = 1, AIGTATT_REDUCE_MEAN,
    AIGTATT_REDUCE_MAX /* torch.amax: tied maxima share the gradient evenly */
} aigtatt_reduce;

/** The builder. Every function taking `nn` is a no-op returning
 *  AIGTATT_NN_INVALID once the builder holds an error. Axes may be negative
 *  (counted from the end), as in PyTorch. Float ops take F32 values. */
typedef struct aigtatt_nn_api {
    size_t struct_size;

    /** Pushes a name scope ("layer1", then "0", gives "layer1.0."); [A-Za-z0-9_]
     *  only. Every push needs its pop before the network is lowered. */
    void (*push)(aigtatt_nn *nn, const char *scope);
    void (*pop)(aigtatt_nn *nn);
    /** The builder's status (AIGTATT_OK or AIGTATT_ERR_INVALID) and first
     *  error text (NULL when fine; owned by `nn`). */
    int (*status)(const aigtatt_nn *nn, const char **message);
    /** Shape of `v` into shape[]; returns ndim (0 for a scalar), or -1 for
     *  an invalid value. */
    int (*shape)(const aigtatt_nn *nn, aigtatt_val v, int64_t shape[AIGTATT_NN_MAX_DIMS]);
    /** Whether the network is built for training (batch norm in batch-stats
     *  mode, dropout on) or inference. */
    int (*training)(const aigtatt_nn *nn);

    /* ---- leaves ---- */
    /** Data set before each run (F32 images, I64 labels). Names are global
     *  (not scoped) and unique. */
    aigtatt_val (*input)(aigtatt_nn *nn, const char *name, aigtatt_dtype dtype, int ndim, const int64_t *shape);
    /** A trainable F32 tensor named scope + name. */
    aigtatt_val (*param)(aigtatt_nn *nn, const char *name, int ndim, const int64_t *shape, aigtatt_nn_init init);
    /** A persistent tensor that is not trained (running stats). */
    aigtatt_val (*buffer)(aigtatt_nn *nn, const char *name, aigtatt_dtype dtype, int ndim, const int64_t *shape,
                          aigtatt_nn_init init);
    /** An F32 scalar (ndim 0), broadcast by the ops that take it. */
    aigtatt_val (*constant)(aigtatt_nn *nn, double value);

    /* ---- layers ---- */
    /** F.conv2d: x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or
     *  INVALID. */
    aigtatt_val (*conv2d)(aigtatt_nn *nn, aigtatt_val x, aigtatt_val weight, aigtatt_val bias,
                          const aigtatt_conv_opts *opts);
    /** F.batch_norm over channel dim 1 of x [N, C, ...]: batch statistics
     *  and a running-stat update (with unbiased variance; momentum < 0
     *  means PyTorch's momentum=None, a cumulative average) when training,
     *  running stats otherwise. weight, bias, the running stats and
     *  num_batches_tracked (I64 scalar) may each be INVALID; without running
     *  stats the batch statistics are used in both modes. */
    aigtatt_val (*batch_norm)(aigtatt_nn *nn, aigtatt_val x, aigtatt_val weight, aigtatt_val bias,
                              aigtatt_val running_mean, aigtatt_val running_var, aigtatt_val num_batches_tracked,
                              double momentum, double eps);
    /** Normalises over the last `ndims` dimensions (biased variance);
     *  weight and bias have those dimensions' shape, or are INVALID. */
    aigtatt_val (*layer_norm)(aigtatt_nn *nn, aigtatt_val x, aigtatt_val weight, aigtatt_val bias, int ndims,
                              double eps);
    /** y = x W^T + b over the last dimension (weight [out, in], bias [out]
     *  or INVALID). */
    aigtatt_val (*linear)(aigtatt_nn *nn, aigtatt_val x, aigtatt_val weight, aigtatt_val bias);
    /** Batched matrix product over the last two dimensions (both operands
     *  have at least two), with NumPy broadcasting of the leading ones;
     *  transpose_* swaps an operand's last two dimensions first. */
    aigtatt_val (*matmul)(aigtatt_nn *nn, aigtatt_val a, aigtatt_val b, int transpose_a, int transpose_b);
    /** MaxPool2d / AvgPool2d on x [N, C, H, W]. Max pooling's gradient goes
     *  to the first maximum of each window, as PyTorch's CPU kernel. */
    aigtatt_val (*pool2d)(aigtatt_nn *nn, aigtatt_val x, const aigtatt_pool_opts *opts);
    /** Mean over H and W, keeping them as 1 (AdaptiveAvgPool2d((1, 1))). */
    aigtatt_val (*global_avg_pool)(aigtatt_nn *nn, aigtatt_val x);

    /* ---- element-wise ---- */
    aigtatt_val (*unary)(aigtatt_nn *nn, aigtatt_unary op, aigtatt_val x);
    /** NumPy broadcasting. */
    aigtatt_val (*binary)(aigtatt_nn *nn, aigtatt_binary op, aigtatt_val a, aigtatt_val b);
    /** y = x * mul + add. */
    aigtatt_val (*affine)(aigtatt_nn *nn, aigtatt_val x, double mul, double add);
    /** torch.clamp; lo or hi may be -INFINITY / INFINITY. The gradient
     *  passes where lo <= x <= hi. */
    aigtatt_val (*clamp)(aigtatt_nn *nn, aigtatt_val x, double lo, double hi);
    /** cond != 0 ? a : b element-wise with broadcasting of all three (cond
     *  is 0/1 from AIGTATT_GREATER); no gradient flows to cond. */
    aigtatt_val (*where)(aigtatt_nn *nn, aigtatt_val cond, aigtatt_val a, aigtatt_val b);

    /* ---- shape ---- */
    /** -1 infers one dimension; 0 keeps the input's. */
    aigtatt_val (*reshape)(aigtatt_nn *nn, aigtatt_val x, int ndim, const int64_t *shape);
    /** Output dimension i is input dimension perm[i] (torch.permute). */
    aigtatt_val (*permute)(aigtatt_nn *nn, aigtatt_val x, int ndim, const int *perm);
    /** torch.roll with n (shift, dim) pairs (n >= 1). */
    aigtatt_val (*roll)(aigtatt_nn *nn, aigtatt_val x, int n, const int64_t *shifts, const int *dims);
    /** x[..., start:end:step, ...] along `axis`, with Python's rules for
     *  negative and out-of-range start/end; step >= 1. */
    aigtatt_val (*slice)(aigtatt_nn *nn, aigtatt_val x, int axis, int64_t start, int64_t end, int64_t step);
    /** torch.cat of n >= 1 values along `axis`. */
    aigtatt_val (*concat)(aigtatt_nn *nn, int axis, int n, const aigtatt_val *xs);
    /** F.pad, constant mode: n (before, after) pairs, the first pair for the
     *  LAST dimension, the next for the one before it, as F.pad's list;
     *  pads are >= 0. */
    aigtatt_val (*pad)(aigtatt_nn *nn, aigtatt_val x, int n, const int64_t *before_after, double value);

    /* ---- reductions and normalisation ---- */
    /** Reduces the given axes (n_axes 0: all of them). */
    aigtatt_val (*reduce)(aigtatt_nn *nn, aigtatt_reduce op, aigtatt_val x, int n_axes, const int *axes,
                          int keepdim);
    aigtatt_val (*softmax)(aigtatt_nn *nn, aigtatt_val x, int axis);
    /** x / max(||x||_2, eps) along `axis` (F.normalize). */
    aigtatt_val (*l2_normalize)(aigtatt_nn *nn, aigtatt_val x, int axis, double eps);

    /* ---- regularisation (identity when not training) ---- */
    /** F.dropout: zeroes with probability p, scales the rest by 1/(1-p).
     *  Masks come from the IR's seed and the optimizer's step (see
     *  docs/compute-ir.md), so every backend draws the same ones. */
    aigtatt_val (*dropout)(aigtatt_nn *nn, aigtatt_val x, double p);
    /** torchvision.ops.stochastic_depth, mode "row". */
    aigtatt_val (*stochastic_depth)(aigtatt_nn *nn, aigtatt_val x, double p);

    /* ---- losses ---- */
    /** labels (I64, any shape) -> F32 [..., classes]; a label outside
     *  [0, classes) fails the run. */
    aigtatt_val (*one_hot)(aigtatt_nn *nn, aigtatt_val labels, int64_t classes);
    /** Mean softmax cross-entropy (F32 scalar) of logits [N, C] against I64
     *  labels [N]; labels equal to -100 are ignored (PyTorch's
     *  ignore_index), others outside [0, C) fail the run. */
    aigtatt_val (*cross_entropy)(aigtatt_nn *nn, aigtatt_val logits, aigtatt_val labels);

    /** Names an output the caller will read ("embedding", "loss"); names
     *  are unique. Returns an aigtatt_status. */
    int (*output)(aigtatt_nn *nn, const char *name, aigtatt_val v);
} aigtatt_nn_api;

#ifdef __cplusplus
}
#endif
#endif
