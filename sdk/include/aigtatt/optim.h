/* aigtatt SDK: optimizers and learning-rate schedules (components of kind
 * AIGTATT_KIND_OPTIMIZER), for issue 5.
 *
 * An optimizer component does not update anything itself: the core appends
 * the update ops (SGD_UPDATE, ADAM_UPDATE; see docs/compute-ir.md) when it
 * lowers a network for training, and the backend runs them. The component
 * owns the user-facing side: its declared parameters (lr, momentum, betas,
 * weight decay, the schedule ...), describe(), which turns them into the
 * plain update rule below, and lr_at(), which gives the learning rate of
 * every optimizer step. The trainer copies the rule into the core's lowering
 * options and sets the IR input "optimizer.lr" to lr_at() before each step,
 * so a schedule never recompiles the network.
 *
 * The rules are torch.optim's (1.13) exactly, field for field, so a YAML
 * written from a PyTorch recipe means the same thing here.
 *
 * Include this header after aigtatt.h. */
#ifndef AIGTATT_OPTIM_H
#define AIGTATT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct aigtatt_params;

/** The update rule. Values equal the core's aigtatt_nn_optim_kind. */
typedef enum aigtatt_optim_kind {
    AIGTATT_OPTIM_SGD = 1,   /**< torch.optim.SGD */
    AIGTATT_OPTIM_ADAM = 2,  /**< torch.optim.Adam: weight decay is L2, added to the gradient */
    AIGTATT_OPTIM_ADAMW = 3  /**< torch.optim.AdamW: decoupled weight decay, p *= 1 - lr * wd */
} aigtatt_optim_kind;

/** An update rule with its hyper-parameters. Fields a rule does not use are
 *  zero. Fields are only ever appended; the caller sets struct_size to the
 *  size it knows and the component fills no more than that. */
typedef struct aigtatt_optim_spec {
    size_t struct_size;
    aigtatt_optim_kind kind;
    double lr;           /**< base learning rate (lr_at() gives the scheduled one) */
    double momentum;     /**< SGD */
    double dampening;    /**< SGD */
    double weight_decay; /**< all rules (see the kinds) */
    int nesterov;        /**< SGD */
    double beta1, beta2; /**< Adam, AdamW */
    double eps;          /**< Adam, AdamW */
    int amsgrad;         /**< Adam, AdamW */
    int maximize;        /**< all rules: ascend instead of descend */
} aigtatt_optim_spec;

/** The vtable of AIGTATT_KIND_OPTIMIZER components. Fields are only ever
 *  appended; callers check struct_size before using a field. */
typedef struct aigtatt_optimizer_vtable {
    size_t struct_size; /**< sizeof(aigtatt_optimizer_vtable) as built */
    /** Optional (NULL = nothing to check): cross-parameter rules after the
     *  host checked types and ranges (Nesterov needs momentum > 0 and no
     *  dampening, as torch.optim.SGD says; a step schedule needs its
     *  step_size ...). `params` is borrowed. Returns AIGTATT_OK, or a status
     *  after aigtatt_host.set_error() naming the parameter at fault. */
    int (*check)(const struct aigtatt_params *params);
    /** Required: fills *out with the update rule of `params` (borrowed).
     *  out->struct_size must be set by the caller; fields beyond it are not
     *  written. Returns an aigtatt_status. */
    int (*describe)(const struct aigtatt_params *params, aigtatt_optim_spec *out);
    /** Required: the learning rate of the optimizer step that runs at
     *  0-based `epoch` and 0-based `step` within it, for epochs of
     *  `steps_per_epoch` steps (>= 1) in a run of `epochs` epochs (>= 1;
     *  cosine annealing runs to its end unless the schedule says
     *  otherwise). Pure: the same arguments always give the same value, so
     *  a resumed run continues its schedule exactly. */
    double (*lr_at)(const struct aigtatt_params *params, int64_t epoch, int64_t step, int64_t steps_per_epoch,
                    int64_t epochs);
} aigtatt_optimizer_vtable;

#ifdef __cplusplus
}
#endif
#endif
