/* optim.sgd, optim.adam, optim.adamw: torch.optim's update rules and the
 * usual learning-rate schedules (issue 5). See sdk/include/aigtatt/optim.h.
 *
 * The components only translate parameters: describe() gives the update
 * rule that the core appends to a training graph, lr_at() the learning
 * rate of each step (the IR input "optimizer.lr").
 *
 * Schedules (all three components share them), with base = lr, a run of
 * `epochs` epochs of `steps_per_epoch` steps, g the global step index
 * (epoch * steps_per_epoch + step) and W = warmup_epochs * steps_per_epoch:
 *   - warmup: for g < W, lr = base * (f0 + (1 - f0) * g / W), torch's
 *     LinearLR(start_factor=f0, total_iters=W) stepped every step;
 *   - afterwards the schedule runs on t, the time since the warmup in
 *     epochs: t = epoch - warmup_epochs (interval: epoch, torch's
 *     schedulers stepped once per epoch) or (g - W) / steps_per_epoch
 *     (interval: step, the same curve evaluated at every step);
 *       constant     base
 *       step         base * gamma^floor(t / step_size)           (StepLR)
 *       multistep    base * gamma^(milestones passed by t)         (MultiStepLR)
 *       exponential  base * gamma^t                                (ExponentialLR)
 *       cosine       eta_min + (base - eta_min) (1 + cos(pi t / T)) / 2, T = t_max
 *                    or epochs - warmup_epochs; eta_min after T      (CosineAnnealingLR)
 * The closed forms equal torch's chained updates up to rounding. */
#include <aigtatt/aigtatt.h>
#include <aigtatt/optim.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const aigtatt_host *op_host;

/* ---- parameters ---- */

#define OP_SCHEDULE_PARAMS                                                                                           \
    { .name = "schedule", .type = AIGTATT_PARAM_ENUM, .default_value = "constant",                                  \
      .choices = "constant|step|multistep|exponential|cosine",                                                      \
      .doc = "Learning-rate schedule after the warmup: constant, step (x gamma every step_size epochs), multistep " \
             "(x gamma at each of milestones), exponential (x gamma per epoch), cosine (annealing to eta_min "     \
             "over t_max epochs)." },                                                                                \
    { .name = "interval", .type = AIGTATT_PARAM_ENUM, .default_value = "epoch", .choices = "epoch|step",            \
      .doc = "When the schedule moves: once per epoch (torch's schedulers stepped after each epoch) or at every "  \
             "optimizer step, on fractional epochs." },                                                             \
    { .name = "gamma", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.1", .has_min = 1, .min = 0, .has_max = 1,  \
      .max = 1,                                                                                                      \
      .doc = "Decay factor: per step_size epochs (step), per milestone (multistep), per epoch (exponential; must " \
             "be given explicitly, e.g. 0.95)." },                                                                  \
    { .name = "step_size", .type = AIGTATT_PARAM_INT, .default_value = "30", .has_min = 1, .min = 1,               \
      .doc = "Epochs between decays of the step schedule." },                                                       \
    { .name = "milestones", .type = AIGTATT_PARAM_LIST, .default_value = "[]", .item_type = AIGTATT_PARAM_INT,     \
      .doc = "Epochs (after the warmup, increasing) at which the multistep schedule multiplies by gamma." },        \
    { .name = "t_max", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,                    \
      .doc = "Length of the cosine schedule in epochs; 0: the rest of the run after the warmup. After it the " \
             "rate stays at eta_min (torch's CosineAnnealingLR would climb back)." },                \
    { .name = "eta_min", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0,                \
      .doc = "Learning rate at the end of the cosine schedule." },                                                  \
    { .name = "warmup_epochs", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,            \
      .doc = "Epochs of linear warmup before the schedule starts, ramped at every step." },                         \
    { .name = "warmup_start_factor", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.1", .has_min = 1, .min = 0,  \
      .has_max = 1, .max = 1, .doc = "Fraction of lr the warmup starts from, ramping linearly to 1 like torch's LinearLR start_factor " \
              "(whose default is 1/3, not 0.1); 0 starts from lr 0, which torch 1.13 refuses." }

static const aigtatt_param_desc sgd_params[] = {
    { .name = "lr", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.1", .has_min = 1, .min = 0,
      .doc = "Base learning rate." },
    { .name = "momentum", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0,
      .doc = "Momentum factor (torch.optim.SGD; 0.9 is the usual choice)." },
    { .name = "dampening", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0, .has_max = 1,
      .max = 1, .doc = "Dampening of the momentum: buf = momentum * buf + (1 - dampening) * grad." },
    { .name = "weight_decay", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0,
      .doc = "L2 penalty added to the gradient (wd * p), on every parameter as torch.optim does." },
    { .name = "nesterov", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
      .doc = "Nesterov momentum (needs momentum > 0 and dampening 0)." },
    { .name = "maximize", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
      .doc = "Ascend the objective instead of descending it." },
    OP_SCHEDULE_PARAMS,
    { .name = NULL },
};

#define OP_ADAM_PARAMS(lr_default, wd_default, wd_doc)                                                              \
    { .name = "lr", .type = AIGTATT_PARAM_FLOAT, .default_value = lr_default, .has_min = 1, .min = 0,              \
      .doc = "Base learning rate." },                                                                               \
    { .name = "betas", .type = AIGTATT_PARAM_LIST, .default_value = "[0.9, 0.999]",                                 \
      .item_type = AIGTATT_PARAM_FLOAT,                                                                              \
      .doc = "[beta1, beta2]: decay rates of the running averages of the gradient and its square, each in [0, 1)." }, \
    { .name = "eps", .type = AIGTATT_PARAM_FLOAT, .default_value = "1e-8", .has_min = 1, .min = 0,                 \
      .doc = "Added to the denominator for numerical stability." },                                                 \
    { .name = "weight_decay", .type = AIGTATT_PARAM_FLOAT, .default_value = wd_default, .has_min = 1, .min = 0,    \
      .doc = wd_doc },                                                                                               \
    { .name = "amsgrad", .type = AIGTATT_PARAM_BOOL, .default_value = "false",                                       \
      .doc = "Use the maximum of past squared-gradient averages (AMSGrad)." },                                      \
    { .name = "maximize", .type = AIGTATT_PARAM_BOOL, .default_value = "false",                                      \
      .doc = "Ascend the objective instead of descending it." },                                                    \
    OP_SCHEDULE_PARAMS,                                                                                              \
    { .name = NULL }

static const aigtatt_param_desc adam_params[] = {
    OP_ADAM_PARAMS("0.001", "0", "L2 penalty added to the gradient (torch.optim.Adam; use optim.adamw for "
                                 "decoupled decay)."),
};

static const aigtatt_param_desc adamw_params[] = {
    OP_ADAM_PARAMS("0.001", "0.01", "Decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step "
                                    "(torch.optim.AdamW)."),
};

/* ---- helpers ---- */

static int op_fail(const char *fmt, const char *detail)
{
    op_host->set_error(fmt, detail);
    return AIGTATT_ERR_INVALID;
}

/* Reads a LIST parameter of numbers; returns its length (up to cap) or -1
 * when an item is not a number. */
static int op_list(const aigtatt_params *params, const char *name, double *out, int cap)
{
    const aigtatt_cfg *c = op_host->param_cfg(params, name);
    size_t n = op_host->cfg_len(c);
    for (size_t i = 0; i < n && (int)i < cap; i++) {
        const char *s = op_host->cfg_scalar(op_host->cfg_at(c, i));
        char *end;
        if (!s)
            return -1;
        out[i] = strtod(s, &end);
        if (end == s || *end)
            return -1;
    }
    return (int)n;
}

#define OP_MAX_MILESTONES 64

static int op_check_schedule(const aigtatt_params *params)
{
    const char *sched = op_host->param_string(params, "schedule");
    if (sched && !strcmp(sched, "exponential") && !op_host->param_is_set(params, "gamma"))
        return op_fail("%s", "schedule exponential needs gamma, the factor per epoch (e.g. gamma: 0.95)");
    if (sched && !strcmp(sched, "multistep")) {
        double ms[OP_MAX_MILESTONES];
        int n = op_list(params, "milestones", ms, OP_MAX_MILESTONES);
        if (n < 1)
            return op_fail("%s", "schedule multistep needs milestones, a list of epochs (e.g. [20, 30])");
        if (n > OP_MAX_MILESTONES)
            return op_fail("%s", "milestones: at most 64 epochs");
        for (int i = 0; i < n; i++)
            if (ms[i] < 0 || (i > 0 && ms[i] <= ms[i - 1]))
                return op_fail("%s", "milestones must be increasing epochs >= 0");
    }
    return AIGTATT_OK;
}

static int op_read_betas(const aigtatt_params *params, double *b1, double *b2)
{
    double b[3];
    int n = op_list(params, "betas", b, 3);
    if (n != 2)
        return op_fail("%s", "betas must be a list of two numbers [beta1, beta2]");
    if (!(b[0] >= 0 && b[0] < 1) || !(b[1] >= 0 && b[1] < 1))
        return op_fail("%s", "betas must each lie in [0, 1)");
    *b1 = b[0];
    *b2 = b[1];
    return AIGTATT_OK;
}

/* ---- check / describe ---- */

static int sgd_check(const aigtatt_params *params)
{
    if (op_host->param_bool(params, "nesterov") &&
        (op_host->param_float(params, "momentum") <= 0 || op_host->param_float(params, "dampening") != 0))
        return op_fail("%s", "nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)");
    return op_check_schedule(params);
}

static int adam_check(const aigtatt_params *params)
{
    double b1, b2;
    int rc = op_read_betas(params, &b1, &b2);
    return rc != AIGTATT_OK ? rc : op_check_schedule(params);
}

/* Fills the fields of `full` that the caller's struct has room for. */
static int op_deliver(const aigtatt_optim_spec *full, aigtatt_optim_spec *out)
{
    if (!out || out->struct_size < offsetof(aigtatt_optim_spec, kind) + sizeof(out->kind))
        return op_fail("%s", "describe: out->struct_size is not set");
    size_t n = out->struct_size < sizeof *full ? out->struct_size : sizeof *full;
    size_t keep = out->struct_size;
    memcpy(out, full, n);
    out->struct_size = keep;
    return AIGTATT_OK;
}

static int sgd_describe(const aigtatt_params *params, aigtatt_optim_spec *out)
{
    int rc = sgd_check(params);
    if (rc != AIGTATT_OK)
        return rc;
    aigtatt_optim_spec s = {
        .struct_size = sizeof s,
        .kind = AIGTATT_OPTIM_SGD,
        .lr = op_host->param_float(params, "lr"),
        .momentum = op_host->param_float(params, "momentum"),
        .dampening = op_host->param_float(params, "dampening"),
        .weight_decay = op_host->param_float(params, "weight_decay"),
        .nesterov = op_host->param_bool(params, "nesterov"),
        .maximize = op_host->param_bool(params, "maximize"),
    };
    return op_deliver(&s, out);
}

static int adam_describe_kind(const aigtatt_params *params, aigtatt_optim_spec *out, aigtatt_optim_kind kind)
{
    aigtatt_optim_spec s = {
        .struct_size = sizeof s,
        .kind = kind,
        .lr = op_host->param_float(params, "lr"),
        .weight_decay = op_host->param_float(params, "weight_decay"),
        .eps = op_host->param_float(params, "eps"),
        .amsgrad = op_host->param_bool(params, "amsgrad"),
        .maximize = op_host->param_bool(params, "maximize"),
    };
    int rc = op_read_betas(params, &s.beta1, &s.beta2);
    if (rc == AIGTATT_OK)
        rc = op_check_schedule(params);
    return rc != AIGTATT_OK ? rc : op_deliver(&s, out);
}

static int adam_describe(const aigtatt_params *params, aigtatt_optim_spec *out)
{
    return adam_describe_kind(params, out, AIGTATT_OPTIM_ADAM);
}

static int adamw_describe(const aigtatt_params *params, aigtatt_optim_spec *out)
{
    return adam_describe_kind(params, out, AIGTATT_OPTIM_ADAMW);
}

/* ---- schedules ---- */

static double op_lr_at(const aigtatt_params *params, int64_t epoch, int64_t step, int64_t steps_per_epoch,
                       int64_t epochs)
{
    double base = op_host->param_float(params, "lr");
    if (steps_per_epoch < 1)
        steps_per_epoch = 1;
    if (epoch < 0)
        epoch = 0;
    if (step < 0)
        step = 0;
    int64_t warm = op_host->param_int(params, "warmup_epochs");
    double g = (double)epoch * (double)steps_per_epoch + (double)step;
    double W = (double)warm * (double)steps_per_epoch;
    if (g < W) {
        double f0 = op_host->param_float(params, "warmup_start_factor");
        return base * (f0 + (1.0 - f0) * g / W);
    }
    const char *interval = op_host->param_string(params, "interval");
    double t = interval && !strcmp(interval, "step") ? (g - W) / (double)steps_per_epoch : (double)(epoch - warm);
    const char *sched = op_host->param_string(params, "schedule");
    double gamma = op_host->param_float(params, "gamma");
    if (!sched || !strcmp(sched, "constant"))
        return base;
    if (!strcmp(sched, "step"))
        return base * pow(gamma, floor(t / (double)op_host->param_int(params, "step_size")));
    if (!strcmp(sched, "multistep")) {
        double ms[OP_MAX_MILESTONES];
        int n = op_list(params, "milestones", ms, OP_MAX_MILESTONES);
        int passed = 0;
        for (int i = 0; i < n && i < OP_MAX_MILESTONES; i++)
            passed += t >= ms[i];
        return base * pow(gamma, passed);
    }
    if (!strcmp(sched, "exponential"))
        return base * pow(gamma, t);
    if (!strcmp(sched, "cosine")) {
        double eta = op_host->param_float(params, "eta_min");
        int64_t T = op_host->param_int(params, "t_max");
        if (T < 1)
            T = epochs - warm;
        if (T < 1 || t >= (double)T)
            return T < 1 ? base : eta;
        return eta + (base - eta) * (1.0 + cos(M_PI * t / (double)T)) / 2.0;
    }
    return base;
}

/* ---- descriptors ---- */

static const aigtatt_optimizer_vtable sgd_vtable = {
    /* .struct_size = */ sizeof(aigtatt_optimizer_vtable),
    /* .check = */ sgd_check,
    /* .describe = */ sgd_describe,
    /* .lr_at = */ op_lr_at,
};
static const aigtatt_optimizer_vtable adam_vtable = {
    /* .struct_size = */ sizeof(aigtatt_optimizer_vtable),
    /* .check = */ adam_check,
    /* .describe = */ adam_describe,
    /* .lr_at = */ op_lr_at,
};
static const aigtatt_optimizer_vtable adamw_vtable = {
    /* .struct_size = */ sizeof(aigtatt_optimizer_vtable),
    /* .check = */ adam_check,
    /* .describe = */ adamw_describe,
    /* .lr_at = */ op_lr_at,
};

#define OP_SCHEDULE_DOC                                                                                              \
    " Schedules: a linear warmup over warmup_epochs (from warmup_start_factor * lr, every step), then constant, " \
    "step, multistep, exponential or cosine on the epochs after the warmup, changing once per epoch or, with "     \
    "interval: step, at every step."

static const aigtatt_component_desc sgd_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_OPTIMIZER,
    .name = "optim.sgd",
    .version = "1.0.0",
    .summary = "Stochastic gradient descent with momentum, Nesterov and weight decay (torch.optim.SGD)",
    .doc = "torch.optim.SGD exactly: d = g + weight_decay * p; with momentum, buf = d on the first step and "
           "momentum * buf + (1 - dampening) * d after; d = d + momentum * buf (Nesterov) or buf; p -= lr * d."
           OP_SCHEDULE_DOC,
    AIGTATT_PARAMS(sgd_params),
    .vtable = &sgd_vtable,
};

static const aigtatt_component_desc adam_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_OPTIMIZER,
    .name = "optim.adam",
    .version = "1.0.0",
    .summary = "Adam with L2 weight decay and optional AMSGrad (torch.optim.Adam)",
    .doc = "torch.optim.Adam exactly, bias-corrected moments; weight_decay adds wd * p to the gradient."
           OP_SCHEDULE_DOC,
    AIGTATT_PARAMS(adam_params),
    .vtable = &adam_vtable,
};

static const aigtatt_component_desc adamw_component = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_OPTIMIZER,
    .name = "optim.adamw",
    .version = "1.0.0",
    .summary = "Adam with decoupled weight decay (torch.optim.AdamW)",
    .doc = "torch.optim.AdamW exactly: p *= 1 - lr * weight_decay, then the Adam step." OP_SCHEDULE_DOC,
    AIGTATT_PARAMS(adamw_params),
    .vtable = &adamw_vtable,
};

static const aigtatt_component_desc *const op_components[] = { &sgd_component, &adam_component, &adamw_component,
                                                               NULL };

static int op_init(const aigtatt_host *host)
{
    op_host = host;
    return AIGTATT_OK;
}

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-optim", .version = "1.0.0", .license = "MIT",
                      .description = "Optimizers (SGD, Adam, AdamW) and learning-rate schedules",
                      .components = op_components, .init = op_init);
