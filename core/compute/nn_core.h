/* The core's side of the network builder: creating a builder, lowering a
 * built network to the IR a backend runs (with automatic differentiation
 * and optimizer updates for training), and initial values for its
 * parameters. Plugins see only aigtatt_nn_api (sdk nn.h); the trainer and
 * embedder nodes, through the host, and the tests use this header. */
#ifndef AIGTATT_CORE_NN_CORE_H
#define AIGTATT_CORE_NN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/compute.h>

/** A fresh builder in training (1) or inference (0) mode. `seed` feeds
 *  parameter initialisation and dropout masks. NULL on out-of-memory. */
aigtatt_nn *aigtatt_nn_new(int training, uint64_t seed);
void aigtatt_nn_free(aigtatt_nn *nn);
/** The builder's function table (static); also the host table's `nn`. */
extern const aigtatt_nn_api aigtatt_nn_builder_api;
const aigtatt_nn_api *aigtatt_nn_api_get(void);
/** The host table's `model` functions (model.c; sdk model.h). */
extern const struct aigtatt_model_api aigtatt_model_host_api;

typedef enum aigtatt_nn_optim_kind {
    AIGTATT_NN_OPTIM_NONE = 0,
    AIGTATT_NN_OPTIM_SGD = 1,   /* torch.optim.SGD */
    AIGTATT_NN_OPTIM_ADAM = 2,  /* torch.optim.Adam (L2 weight decay added to the gradient) */
    AIGTATT_NN_OPTIM_ADAMW = 3  /* torch.optim.AdamW (decoupled weight decay) */
} aigtatt_nn_optim_kind;

/** Hyper-parameters fixed at lowering; the learning rate is an F64 input
 *  value named "optimizer.lr", set before each run so schedules need no
 *  recompilation. */
typedef struct aigtatt_nn_optim {
    aigtatt_nn_optim_kind kind;
    double momentum, dampening, weight_decay; /* SGD (weight_decay for all) */
    int nesterov;
    double beta1, beta2, eps;                 /* Adam, AdamW */
    int amsgrad;
    int maximize;
} aigtatt_nn_optim;

struct aigtatt_optim_spec;
/** The lowering options for an optimizer component's rule (what
 *  aigtatt_optimizer_vtable.describe() returned); model.c. */
aigtatt_nn_optim aigtatt_nn_optim_from_spec(const struct aigtatt_optim_spec *s);

typedef struct aigtatt_nn_lower_opts {
    /** A scalar to differentiate (F32, one element), or AIGTATT_NN_INVALID
     *  for a forward-only graph. */
    aigtatt_val loss;
    /** Non-zero: each parameter's gradient becomes an output value named
     *  "grad:<name>" (gradient checks, parity tests). */
    int expose_grads;
    /** Updates appended after the backward pass; NULL or kind NONE: none. */
    const aigtatt_nn_optim *optim;
    /** Non-zero: every F32 value becomes F64 (exact references). */
    int f64;
} aigtatt_nn_lower_opts;

/** A lowered network: the IR plus what the core keeps beside it. */
typedef struct aigtatt_nn_lowered aigtatt_nn_lowered;

/** Lowers the network built so far. The builder must be error-free with
 *  every scope popped. Named outputs are always computed. With a loss,
 *  gradients of every parameter it depends on are derived (parameters it
 *  does not depend on get no update, as in PyTorch when .grad is None).
 *  The builder keeps the backward ops it added, so lower a builder once.
 *  Returns an aigtatt_status with the error text set. */
int aigtatt_nn_lower(aigtatt_nn *nn, const aigtatt_nn_lower_opts *opts, aigtatt_nn_lowered **out);
void aigtatt_nn_lowered_free(aigtatt_nn_lowered *l);
/** The IR, owned by `l`. */
const aigtatt_ir *aigtatt_nn_lowered_ir(const aigtatt_nn_lowered *l);
/** The value named `name` (state_dict key, input, output, "grad:<key>",
 *  "optimizer.lr"), or -1. */
int32_t aigtatt_nn_lowered_find(const aigtatt_nn_lowered *l, const char *name);
/** 1 when `name` is optimizer state as the lowering names it:
 *  "optimizer.step", or "<param>.<suffix>" with one of the optimizers'
 *  per-parameter suffixes (momentum_buffer, exp_avg, exp_avg_sq,
 *  max_exp_avg_sq); then `param` (size bytes, may be NULL) receives
 *  <param>, "" for optimizer.step. 0 otherwise, or when <param> does not
 *  fit. */
int aigtatt_nn_optimizer_state_name(const char *name, char *param, size_t size);
/** Bytes of value `v` in the plain layout set()/get() use. */
size_t aigtatt_nn_value_bytes(const aigtatt_ir_value *v);
/** Elements of value `v`. */
int64_t aigtatt_nn_value_numel(const aigtatt_ir_value *v);

/** Fills `data` (the value's exact size in its dtype) with the initial
 *  contents of persistent value `v` (PARAM, BUFFER, OPT_STATE), drawn from
 *  a generator seeded by (seed, name) so adding a layer never changes the
 *  others. */
int aigtatt_nn_init_value(const aigtatt_nn_lowered *l, int32_t v, uint64_t seed, void *data, size_t nbytes);
/** Initialises every persistent value of a compiled program. */
int aigtatt_nn_init_program(const aigtatt_nn_lowered *l, uint64_t seed, const aigtatt_backend_vtable *be,
                            void *program);

#endif
