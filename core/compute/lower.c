/* Lowering: from the builder's graph to the IR a backend runs.
 *
 * 1. With a loss: automatic differentiation appends the backward ops.
 * 2. With an optimizer: the step counter, per-parameter state and one
 *    update op per trained parameter are appended.
 * 3. Requested outputs that are leaves, or already another output, get a
 *    copy so every output value has one name.
 * 4. Ops that contribute to no output and update nothing are dropped
 *    (backward ops of inference, statistics nobody reads); values are
 *    renumbered, roles and live ranges assigned. */
#include "compute/nn_internal.h"
#include "util/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aigtatt_nn_lowered {
    aigtatt_ir ir;
    aigtatt_ir_value *values;
    aigtatt_ir_op *ops;
    int32_t *idx;       /* the in/out lists of every op */
    char **names;       /* owned names, one per value (NULL for none) */
    aigtatt_nn_init *init;
};

int64_t aigtatt_nn_value_numel(const aigtatt_ir_value *v)
{
    int64_t n = 1;
    for (int i = 0; i < v->ndim; i++)
        n *= v->shape[i];
    return n;
}

size_t aigtatt_nn_value_bytes(const aigtatt_ir_value *v)
{
    size_t e = v->dtype == AIGTATT_BF16 ? 2 : v->dtype == AIGTATT_F32 ? 4 : 8;
    return (size_t)aigtatt_nn_value_numel(v) * e;
}

void aigtatt_nn_lowered_free(aigtatt_nn_lowered *l)
{
    if (!l)
        return;
    if (l->names)
        for (size_t i = 0; i < l->ir.n_values; i++)
            free(l->names[i]);
    free(l->names);
    free(l->values);
    free(l->ops);
    free(l->idx);
    free(l->init);
    free(l);
}

const aigtatt_ir *aigtatt_nn_lowered_ir(const aigtatt_nn_lowered *l) { return &l->ir; }

int32_t aigtatt_nn_lowered_find(const aigtatt_nn_lowered *l, const char *name)
{
    for (size_t i = 0; i < l->ir.n_values; i++)
        if (l->names[i] && strcmp(l->names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

const aigtatt_nn_init *aigtatt_nn_lowered_init(const aigtatt_nn_lowered *l, int32_t v) { return &l->init[v]; }

/* ---- optimizer ---- */

/* The per-parameter state tensors, "<param>.<suffix>" like torch's
 * optimizer state names; aigtatt_nn_optimizer_state_name() recognises
 * them in a checkpoint. */
#define OPT_MOMENTUM "momentum_buffer"
#define OPT_EXP_AVG "exp_avg"
#define OPT_EXP_AVG_SQ "exp_avg_sq"
#define OPT_MAX_EXP_AVG_SQ "max_exp_avg_sq"
static const char *const opt_suffixes[] = {OPT_MOMENTUM, OPT_EXP_AVG, OPT_EXP_AVG_SQ, OPT_MAX_EXP_AVG_SQ};

int aigtatt_nn_optimizer_state_name(const char *name, char *param, size_t size)
{
    if (!name)
        return 0;
    if (!strcmp(name, "optimizer.step")) {
        if (param && size)
            param[0] = 0;
        return 1;
    }
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return 0;
    for (size_t i = 0; i < sizeof opt_suffixes / sizeof *opt_suffixes; i++)
        if (!strcmp(dot + 1, opt_suffixes[i])) {
            size_t n = (size_t)(dot - name);
            if (param) {
                if (n >= size)
                    return 0;
                memcpy(param, name, n);
                param[n] = 0;
            }
            return 1;
        }
    return 0;
}

static aigtatt_val state(aigtatt_nn *nn, const char *param, const char *suffix, const nn_shape *s)
{
    char name[600];
    snprintf(name, sizeof name, "%s.%s", param, suffix);
    aigtatt_nn_init zeros = { .kind = AIGTATT_INIT_ZEROS };
    return aigtatt_nn_leaf(nn, AIGTATT_IR_OPT_STATE, name, s, zeros);
}

static int check_optim(aigtatt_nn *nn, const aigtatt_nn_optim *o)
{
    int ok = 1;
    if (o->kind == AIGTATT_NN_OPTIM_SGD) {
        ok = o->momentum >= 0 && o->weight_decay >= 0 && o->dampening >= 0 && o->dampening <= 1 &&
             (!o->nesterov || (o->momentum > 0 && o->dampening == 0));
    } else if (o->kind == AIGTATT_NN_OPTIM_ADAM || o->kind == AIGTATT_NN_OPTIM_ADAMW) {
        ok = o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1 && o->eps >= 0 && o->weight_decay >= 0;
    } else {
        ok = 0;
    }
    if (!ok)
        aigtatt_nn_fail(nn, "invalid optimizer settings (kind %d, momentum %g, dampening %g, nesterov %d, "
                        "weight_decay %g, betas (%g, %g), eps %g); Nesterov needs momentum and no dampening",
                        (int)o->kind, o->momentum, o->dampening, o->nesterov, o->weight_decay, o->beta1, o->beta2,
                        o->eps);
    return ok;
}

static int append_optimizer(aigtatt_nn *nn, const aigtatt_nn_optim *o, const aigtatt_val *grads, size_t nv0,
                            aigtatt_val *step_out)
{
    nn->cur = "optimizer";
    if (!check_optim(nn, o))
        return 0;
    nn_shape scalar_f64 = { .dtype = AIGTATT_F64, .ndim = 0 }, scalar_i64 = { .dtype = AIGTATT_I64, .ndim = 0 };
    aigtatt_nn_init none = { 0 }, zeros = { .kind = AIGTATT_INIT_ZEROS };
    aigtatt_val lr = aigtatt_nn_leaf(nn, AIGTATT_IR_INPUT, "optimizer.lr", &scalar_f64, none);
    aigtatt_val step = aigtatt_nn_leaf(nn, AIGTATT_IR_OPT_STATE, "optimizer.step", &scalar_i64, zeros);
    if (lr < 0 || step < 0)
        return 0;
    *step_out = step;
    /* The step counts from 1 in the updates, like torch's state['step']. */
    int64_t one = 1;
    aigtatt_nn_emit_update(nn, AIGTATT_OP_INCREMENT, 1, &step, &one, 1, NULL, 0);
    for (size_t p = 0; p < nv0 && !nn->error; p++) {
        if (grads[p] < 0)
            continue;
        nn_shape s = nn->v[p].s;
        char *pname = nn->v[p].name;
        if (o->kind == AIGTATT_NN_OPTIM_SGD) {
            aigtatt_val buf = o->momentum != 0 ? state(nn, pname, OPT_MOMENTUM, &s) : AIGTATT_NN_INVALID;
            aigtatt_val in[5] = { (aigtatt_val)p, grads[p], buf, lr, step };
            int64_t ints[2] = { o->nesterov ? 1 : 0, o->maximize ? 1 : 0 };
            double reals[3] = { o->momentum, o->dampening, o->weight_decay };
            aigtatt_nn_emit_update(nn, AIGTATT_OP_SGD_UPDATE, 5, in, ints, 2, reals, 3);
        } else {
            aigtatt_val m = state(nn, pname, OPT_EXP_AVG, &s), v = state(nn, pname, OPT_EXP_AVG_SQ, &s);
            aigtatt_val vmax = o->amsgrad ? state(nn, pname, OPT_MAX_EXP_AVG_SQ, &s) : AIGTATT_NN_INVALID;
            aigtatt_val in[7] = { (aigtatt_val)p, grads[p], m, v, vmax, lr, step };
            int64_t ints[3] = { o->kind == AIGTATT_NN_OPTIM_ADAMW, o->amsgrad ? 1 : 0, o->maximize ? 1 : 0 };
            double reals[4] = { o->beta1, o->beta2, o->eps, o->weight_decay };
            aigtatt_nn_emit_update(nn, AIGTATT_OP_ADAM_UPDATE, 7, in, ints, 3, reals, 4);
        }
    }
    return !nn->error;
}

/* ---- lowering ---- */

typedef struct req {
    char *name;
    aigtatt_val v;
} req;

static int fail_status(aigtatt_nn *nn)
{
    aigtatt_set_error("%s", nn->error ? nn->error : "out of memory");
    return nn->error ? AIGTATT_ERR_INVALID : AIGTATT_ERR_NOMEM;
}

static aigtatt_ir_role final_role(const nn_value *v, int is_output)
{
    if (v->role == AIGTATT_IR_TEMP && is_output)
        return AIGTATT_IR_OUTPUT;
    return v->role;
}

int aigtatt_nn_lower(aigtatt_nn *nn, const aigtatt_nn_lower_opts *opts, aigtatt_nn_lowered **out)
{
    *out = NULL;
    aigtatt_nn_lower_opts o = { .loss = AIGTATT_NN_INVALID };
    if (opts)
        o = *opts;
    if (!nn || nn->error) {
        aigtatt_set_error("%s", nn && nn->error ? nn->error : "no network");
        return AIGTATT_ERR_INVALID;
    }
    nn->cur = "lower";
    if (nn->depth) {
        aigtatt_nn_fail(nn, "scope \"%s\" was pushed and never popped", nn->prefix);
        return fail_status(nn);
    }
    int optim = o.optim && o.optim->kind != AIGTATT_NN_OPTIM_NONE;
    if (o.loss != AIGTATT_NN_INVALID) {
        if (!aigtatt_nn_check_float(nn, o.loss, "loss"))
            return fail_status(nn);
        if (aigtatt_nn_numel(&nn->v[o.loss].s) != 1) {
            char b[128];
            aigtatt_nn_fail(nn, "the loss must be a single number, not %s",
                            aigtatt_nn_dims_str(&nn->v[o.loss].s, b, sizeof b));
            return fail_status(nn);
        }
    } else if (optim || o.expose_grads) {
        aigtatt_nn_fail(nn, "gradients and updates need a loss");
        return fail_status(nn);
    }

    int rc = AIGTATT_ERR_NOMEM;
    size_t nv0 = nn->nv;
    aigtatt_val *grads = NULL;
    req *reqs = NULL;
    size_t nreq = 0;
    char *needed_val = NULL, *needed_op = NULL;
    char **outname = NULL;
    int32_t *vmap = NULL;
    aigtatt_nn_lowered *l = NULL;

    aigtatt_val step = AIGTATT_NN_INVALID;
    if (o.loss != AIGTATT_NN_INVALID) {
        if (!(grads = malloc(sizeof *grads * (nv0 ? nv0 : 1))))
            goto fail;
        if (aigtatt_nn_autodiff(nn, o.loss, grads) != AIGTATT_OK)
            goto fail_nn;
        if (optim && !append_optimizer(nn, o.optim, grads, nv0, &step))
            goto fail_nn;
    }

    /* Requested outputs: the named ones, then the exposed gradients. */
    size_t maxreq = nn->nouts + (o.expose_grads ? nv0 : 0);
    if (!(reqs = calloc(maxreq ? maxreq : 1, sizeof *reqs)))
        goto fail;
    for (size_t i = 0; i < nn->nouts; i++) {
        reqs[nreq].v = nn->outs[i].v;
        if (!(reqs[nreq++].name = strdup(nn->outs[i].name)))
            goto fail;
    }
    if (o.expose_grads)
        for (size_t p = 0; p < nv0; p++) {
            if (!grads || grads[p] < 0)
                continue;
            char name[600];
            snprintf(name, sizeof name, "grad:%s", nn->v[p].name);
            reqs[nreq].v = grads[p];
            if (!(reqs[nreq++].name = strdup(name)))
                goto fail;
        }
    /* One name per output value: leaves and repeats get a copy. */
    nn->cur = "output";
    for (size_t i = 0; i < nreq; i++) {
        int repeat = nn->v[reqs[i].v].op < 0;
        for (size_t j = 0; j < i && !repeat; j++)
            repeat = reqs[j].v == reqs[i].v;
        if (repeat) {
            nn_shape s = nn->v[reqs[i].v].s;
            aigtatt_val c = aigtatt_nn_emit(nn, AIGTATT_OP_RESHAPE, 1, &reqs[i].v, 1, &s, NULL, 0, NULL, 0);
            if (c < 0)
                goto fail_nn;
            reqs[i].v = c;
        }
    }
    /* The random ops draw from the optimizer's step when there is one. */
    for (size_t k = 0; k < nn->nops; k++)
        if (nn->ops[k].code == AIGTATT_OP_DROPOUT || nn->ops[k].code == AIGTATT_OP_STOCHASTIC_DEPTH)
            nn->ops[k].in[1] = step;

    size_t nv = nn->nv, nops = nn->nops;
    needed_val = calloc(nv, 1);
    needed_op = calloc(nops ? nops : 1, 1);
    outname = calloc(nv, sizeof *outname);
    vmap = malloc(sizeof *vmap * nv);
    if (!needed_val || !needed_op || !outname || !vmap)
        goto fail;
    for (size_t i = 0; i < nreq; i++) {
        needed_val[reqs[i].v] = 1;
        outname[reqs[i].v] = reqs[i].name;
    }
    for (size_t k = nops; k-- > 0;) {
        const nn_op *op = &nn->ops[k];
        int need = op->n_out == 0; /* in-place updates are wanted for themselves */
        for (int j = 0; j < op->n_out && !need; j++)
            need = needed_val[op->out[j]];
        if (!need)
            continue;
        needed_op[k] = 1;
        for (int i = 0; i < op->n_in; i++)
            if (op->in[i] >= 0)
                needed_val[op->in[i]] = 1;
    }

    /* Values: every persistent leaf and input (checkpoints and callers
     * address them by name even when unused), then what the kept ops
     * read or what is read after the run. */
    size_t n_values = 0, n_ops = 0, n_idx = 0;
    for (size_t i = 0; i < nv; i++) {
        const nn_value *v = &nn->v[i];
        int keep = v->op < 0 ? (v->role != AIGTATT_IR_CONSTANT || needed_val[i]) : (needed_op[v->op] && needed_val[i]);
        vmap[i] = keep ? (int32_t)n_values++ : -1;
    }
    for (size_t k = 0; k < nops; k++)
        if (needed_op[k]) {
            n_ops++;
            n_idx += (size_t)(nn->ops[k].n_in + nn->ops[k].n_out);
        }

    if (!(l = calloc(1, sizeof *l)) || !(l->values = calloc(n_values ? n_values : 1, sizeof *l->values)) ||
        !(l->names = calloc(n_values ? n_values : 1, sizeof *l->names)) ||
        !(l->init = calloc(n_values ? n_values : 1, sizeof *l->init)) ||
        !(l->ops = calloc(n_ops ? n_ops : 1, sizeof *l->ops)) || !(l->idx = malloc(sizeof *l->idx * (n_idx ? n_idx : 1))))
        goto fail;
    l->ir.n_values = n_values; /* so a failure below frees the names */
    for (size_t i = 0; i < nv; i++) {
        if (vmap[i] < 0)
            continue;
        const nn_value *v = &nn->v[i];
        aigtatt_ir_value *w = &l->values[vmap[i]];
        w->dtype = (o.f64 && v->s.dtype == AIGTATT_F32) ? AIGTATT_F64 : v->s.dtype;
        w->ndim = v->s.ndim;
        for (int d = 0; d < v->s.ndim; d++)
            w->shape[d] = v->s.d[d];
        w->role = final_role(v, outname[i] != NULL);
        const char *name = outname[i] ? outname[i] : v->name;
        if (name && !(l->names[vmap[i]] = strdup(name)))
            goto fail;
        w->name = l->names[vmap[i]];
        w->first_op = -1;
        w->last_op = -1;
        w->constant = v->constant;
        l->init[vmap[i]] = v->init;
    }
    size_t at = 0, oi = 0;
    for (size_t k = 0; k < nops; k++) {
        if (!needed_op[k])
            continue;
        const nn_op *op = &nn->ops[k];
        aigtatt_ir_op *w = &l->ops[oi];
        w->op = op->code;
        w->n_in = op->n_in;
        w->n_out = op->n_out;
        int32_t *in = l->idx + at, *outs = l->idx + at + op->n_in;
        for (int i = 0; i < op->n_in; i++) {
            in[i] = op->in[i] >= 0 ? vmap[op->in[i]] : -1;
            if (in[i] >= 0)
                l->values[in[i]].last_op = (int32_t)oi;
        }
        for (int j = 0; j < op->n_out; j++) {
            outs[j] = vmap[op->out[j]];
            if (outs[j] >= 0)
                l->values[outs[j]].first_op = (int32_t)oi;
        }
        w->in = in;
        w->out = outs;
        memcpy(w->ints, op->ints, sizeof w->ints);
        memcpy(w->reals, op->reals, sizeof w->reals);
        at += (size_t)(op->n_in + op->n_out);
        oi++;
    }
    for (size_t i = 0; i < n_values; i++) {
        aigtatt_ir_role r = l->values[i].role;
        if (r != AIGTATT_IR_TEMP && r != AIGTATT_IR_CONSTANT)
            l->values[i].last_op = (int32_t)n_ops; /* read after the run, or persistent */
    }
    l->ir.struct_size = sizeof l->ir;
    l->ir.values = l->values;
    l->ir.value_size = sizeof(aigtatt_ir_value);
    l->ir.n_ops = n_ops;
    l->ir.ops = l->ops;
    l->ir.op_size = sizeof(aigtatt_ir_op);
    l->ir.seed = aigtatt_seed_derive(nn->seed, "aigtatt-dropout", 0);
    *out = l;
    l = NULL;
    rc = AIGTATT_OK;
    goto done;

fail_nn:
    rc = fail_status(nn);
    goto done;
fail:
    aigtatt_set_error("out of memory while lowering the network");
done:
    aigtatt_nn_lowered_free(l);
    for (size_t i = 0; i < nreq; i++)
        free(reqs[i].name);
    free(reqs);
    free(grads);
    free(needed_val);
    free(needed_op);
    free(outname);
    free(vmap);
    return rc;
}
