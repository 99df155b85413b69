/* aigtatt SDK: the compiled graph a backend runs, and the backend vtable
 * (since ABI 1.0).
 *
 * The core lowers a built network (nn.h) into this IR: forward ops, the
 * backward ops automatic differentiation adds, and optimizer updates, in
 * execution order, with every value's shape, role and live range. A backend
 * (kind AIGTATT_KIND_BACKEND) compiles it once (primitives per shape,
 * memory formats of its choice, buffers reused by live range) and runs it
 * many times. Data crosses the boundary only through set()/get() in plain
 * row-major layout on the host (F32 as float, F64 as double, I64 as
 * int64_t, BF16 as uint16_t), so no backend type leaks into the core. */
#ifndef AIGTATT_COMPUTE_H
#define AIGTATT_COMPUTE_H

#include <stddef.h>
#include <stdint.h>
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct aigtatt_params;

/** What a value is for. */
typedef enum aigtatt_ir_role {
    AIGTATT_IR_INPUT = 1,      /* set before each run (images, labels, the learning rate) */
    AIGTATT_IR_PARAM = 2,      /* trainable; persists across runs */
    AIGTATT_IR_BUFFER = 3,     /* persists; not trained (running stats) */
    AIGTATT_IR_OPT_STATE = 4,  /* persists; optimizer moments and step */
    AIGTATT_IR_CONSTANT = 5,   /* a scalar known at compile time (`constant`) */
    AIGTATT_IR_TEMP = 6,       /* lives from first_op to last_op only */
    AIGTATT_IR_OUTPUT = 7      /* written by an op, read after a run */
} aigtatt_ir_role;

/** Operations. Forward ops mirror the builder; backward ops are added by
 *  automatic differentiation; updates by the optimizer. The inputs,
 *  outputs and attributes (ints[], reals[]) of each op are documented in
 *  docs/compute-ir.md. Only ever appended. */
typedef enum aigtatt_ir_opcode {
    AIGTATT_OP_CONV2D = 1, AIGTATT_OP_BATCH_NORM, AIGTATT_OP_LAYER_NORM, AIGTATT_OP_LINEAR,
    AIGTATT_OP_MATMUL, AIGTATT_OP_POOL2D, AIGTATT_OP_GLOBAL_AVG_POOL, AIGTATT_OP_UNARY,
    AIGTATT_OP_BINARY, AIGTATT_OP_AFFINE, AIGTATT_OP_CLAMP, AIGTATT_OP_WHERE, AIGTATT_OP_RESHAPE,
    AIGTATT_OP_PERMUTE, AIGTATT_OP_ROLL, AIGTATT_OP_SLICE, AIGTATT_OP_CONCAT, AIGTATT_OP_PAD,
    AIGTATT_OP_REDUCE, AIGTATT_OP_SOFTMAX, AIGTATT_OP_L2_NORMALIZE, AIGTATT_OP_DROPOUT,
    AIGTATT_OP_STOCHASTIC_DEPTH, AIGTATT_OP_ONE_HOT, AIGTATT_OP_CROSS_ENTROPY,
    AIGTATT_OP_EXPAND /* broadcast to the output's shape (NumPy rules) */,
    AIGTATT_OP_CONV2D_BWD_DATA = 101, AIGTATT_OP_CONV2D_BWD_WEIGHT, AIGTATT_OP_BATCH_NORM_BWD,
    AIGTATT_OP_LAYER_NORM_BWD, AIGTATT_OP_POOL2D_BWD, AIGTATT_OP_UNARY_BWD, AIGTATT_OP_SOFTMAX_BWD,
    AIGTATT_OP_L2_NORMALIZE_BWD, AIGTATT_OP_CROSS_ENTROPY_BWD,
    AIGTATT_OP_REDUCE_TO /* sum a broadcast gradient back to the output's shape */,
    AIGTATT_OP_BINARY_BWD /* maximum / minimum */, AIGTATT_OP_CLAMP_BWD, AIGTATT_OP_SLICE_BWD,
    AIGTATT_OP_REDUCE_MAX_BWD,
    AIGTATT_OP_SGD_UPDATE = 201, AIGTATT_OP_ADAM_UPDATE,
    AIGTATT_OP_INCREMENT /* adds ints[0] to an I64 value in place (the optimizer's step) */
} aigtatt_ir_opcode;

typedef struct aigtatt_ir_value {
    aigtatt_dtype dtype;
    int32_t ndim;       /* 0 for a scalar */
    int64_t shape[AIGTATT_NN_MAX_DIMS];
    aigtatt_ir_role role;
    const char *name;   /* state_dict key, input or output name ("grad:" + key for
                           exposed gradients, "<key>.exp_avg" etc. for optimizer
                           state); NULL for temps and constants */
    int32_t first_op;   /* index of the one op that writes it; -1 for values set
                           from outside (inputs, params, buffers, optimizer state,
                           constants) */
    int32_t last_op;    /* index of the last op that reads it; n_ops when it is read
                           after the run (outputs, persistent roles); -1 if never */
    double constant;    /* AIGTATT_IR_CONSTANT */
} aigtatt_ir_value;

typedef struct aigtatt_ir_op {
    aigtatt_ir_opcode op;
    int32_t n_in, n_out;
    const int32_t *in;   /* n_in value indices; -1 = absent optional input */
    const int32_t *out;  /* n_out value indices; -1 = not needed, need not be written */
    int64_t ints[16];    /* op-specific integer attributes */
    double reals[4];     /* op-specific real attributes */
} aigtatt_ir_op;

/** A compiled graph, owned by the core for the duration of compile().
 *  Values and ops are in execution order; every op reads only values that
 *  are set from outside or written by an earlier op. Ops never write their
 *  inputs, except the documented in-place updates of persistent values
 *  (running stats, parameters, optimizer state). */
typedef struct aigtatt_ir {
    size_t struct_size;
    size_t n_values;
    const aigtatt_ir_value *values;
    size_t value_size;  /* sizeof(aigtatt_ir_value) as the core knows it */
    size_t n_ops;
    const aigtatt_ir_op *ops;
    size_t op_size;     /* sizeof(aigtatt_ir_op) as the core knows it */
    uint64_t seed;      /* for dropout / stochastic depth masks */
} aigtatt_ir;

/** The vtable of AIGTATT_KIND_BACKEND components. Every function returns an
 *  aigtatt_status and sets the error text on failure. */
typedef struct aigtatt_backend_vtable {
    size_t struct_size;
    /** Opens a device (engine, stream, threads) with the component's
     *  validated parameters. */
    int (*open)(const struct aigtatt_params *params, void **device);
    void (*close)(void *device);
    /** Compiles `ir` (borrowed for the call) into a program. */
    int (*compile)(void *device, const aigtatt_ir *ir, void **program);
    void (*release)(void *program);
    /** Copies plain row-major host data into value `v` (inputs, params,
     *  buffers, optimizer state); nbytes must be the value's exact size.
     *  Every persistent value reads as zeros until set. */
    int (*set)(void *program, int32_t v, const void *data, size_t nbytes);
    /** Copies value `v` (outputs, inputs, params, buffers, optimizer state;
     *  not temps) out in plain layout; nbytes must be its exact size. */
    int (*get)(void *program, int32_t v, void *data, size_t nbytes);
    /** Runs every op once, in order. A failure (a label out of range)
     *  leaves outputs undefined but persistent values usable. */
    int (*run)(void *program);
} aigtatt_backend_vtable;

/** The vtable of AIGTATT_KIND_BACKBONE components. */
typedef struct aigtatt_backbone_vtable {
    size_t struct_size;
    /** Describes the network on `image` (F32 [N, 3, H, W], normalised with
     *  ImageNet mean/std) and returns its embedding [N, K] (the seed's head:
     *  the final classifier replaced by Linear(in, K)). Names follow
     *  torchvision's state_dict. Errors are sticky in `nn`. */
    aigtatt_val (*build)(const struct aigtatt_params *params, const aigtatt_nn_api *api, aigtatt_nn *nn,
                         aigtatt_val image);
} aigtatt_backbone_vtable;

/** The vtable of AIGTATT_KIND_LOSS components. */
typedef struct aigtatt_loss_vtable {
    size_t struct_size;
    /** Returns the scalar loss of `embedding` [N, K] against I64 `labels`
     *  [N] over `classes` identities; its own weights (ArcFace's class
     *  centres) are params named under the current scope. */
    aigtatt_val (*build)(const struct aigtatt_params *params, const aigtatt_nn_api *api, aigtatt_nn *nn,
                         aigtatt_val embedding, aigtatt_val labels, int64_t classes);
} aigtatt_loss_vtable;

#ifdef __cplusplus
}
#endif
#endif
