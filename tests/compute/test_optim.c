/* Optimizer updates against torch.optim (SGD with momentum, dampening,
 * Nesterov and weight decay; Adam with and without AMSGrad and L2 decay;
 * AdamW): a parameter trained for a few steps on
 *     loss = sum(c * p * p) + sum(d * p)
 * with a changing learning rate (the "optimizer.lr" input), compared after
 * every run's loss and at the end (parameter and optimizer state). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <aigtatt/aigtatt.h>
#include "ct.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/rng.h"

#define STEPS 6
static const double lrs[STEPS] = { 0.1, 0.05, 0.05, 0.02, 0.2, 0.01 };

typedef struct ospec {
    const char *name, *kind;
    aigtatt_nn_optim o;
} ospec;

static const ospec specs[] = {
    { "sgd_plain", "sgd", { .kind = AIGTATT_NN_OPTIM_SGD } },
    { "sgd_momentum", "sgd", { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-2 } },
    { "sgd_nesterov", "sgd", { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = 1 } },
    { "sgd_maximize", "sgd", { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.5, .maximize = 1 } },
    { "adam", "adam", { .kind = AIGTATT_NN_OPTIM_ADAM, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8 } },
    { "adam_amsgrad_l2", "adam", { .kind = AIGTATT_NN_OPTIM_ADAM, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6,
                                   .weight_decay = 1e-2, .amsgrad = 1 } },
    { "adamw", "adamw", { .kind = AIGTATT_NN_OPTIM_ADAMW, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                          .weight_decay = 0.05 } },
};
#define NSPECS (sizeof specs / sizeof specs[0])

static const int64_t shape[2] = { 3, 4 };

static void data(const char *name, int which, double *out)
{
    aigtatt_rng r;
    aigtatt_rng_seed(&r, aigtatt_seed_derive(11, name, (uint64_t)which));
    for (int i = 0; i < 12; i++)
        out[i] = (float)(which == 1 ? 0.5 + aigtatt_rng_uniform(&r) : aigtatt_rng_normal(&r));
}

static void write_f32(const char *dir, const char *name, const char *file, const double *d)
{
    float f[12];
    for (int i = 0; i < 12; i++)
        f[i] = (float)d[i];
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, file);
    cr_assert_eq(ct_npy_write(path, 'f', 2, shape, f), 0);
}

typedef struct outcome {
    double p[12], losses[STEPS];
    double *state[3];
    const char *state_names[3];
    int n_state;
} outcome;

static void run_ours(const ospec *s, const char *dir, outcome *out)
{
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    aigtatt_nn *nn = aigtatt_nn_new(1, 5);
    aigtatt_nn_init zeros = { .kind = AIGTATT_INIT_ZEROS };
    aigtatt_val p = A->param(nn, "p", 2, shape, zeros);
    aigtatt_val c = A->input(nn, "c", AIGTATT_F32, 2, shape), d = A->input(nn, "d", AIGTATT_F32, 2, shape);
    aigtatt_val quad = A->reduce(nn, AIGTATT_REDUCE_SUM,
                                 A->binary(nn, AIGTATT_MUL, A->binary(nn, AIGTATT_MUL, c, p), p), 0, NULL, 0);
    aigtatt_val lin = A->reduce(nn, AIGTATT_REDUCE_SUM, A->binary(nn, AIGTATT_MUL, d, p), 0, NULL, 0);
    aigtatt_val loss = A->binary(nn, AIGTATT_ADD, quad, lin);
    A->output(nn, "loss", loss);
    aigtatt_nn_lower_opts lo = { .loss = loss, .optim = &s->o };
    ct_prog pr = { .nn = nn, .loss = loss };
    cr_assert_eq(aigtatt_nn_lower(nn, &lo, &pr.low), AIGTATT_OK, "%s", aigtatt_last_error());
    pr.ir = aigtatt_nn_lowered_ir(pr.low);
    const aigtatt_backend_vtable *be = ct_backend();
    cr_assert_eq(be->compile(NULL, pr.ir, &pr.prog), AIGTATT_OK);
    cr_assert_eq(aigtatt_nn_init_program(pr.low, 1, be, pr.prog), AIGTATT_OK);

    double pv[12], cv[12], dv[12];
    data(s->name, 0, pv);
    data(s->name, 1, cv);
    data(s->name, 2, dv);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, s->name);
    mkdir(path, 0700);
    write_f32(dir, s->name, "p.npy", pv);
    write_f32(dir, s->name, "c.npy", cv);
    write_f32(dir, s->name, "d.npy", dv);
    ct_set(&pr, "p", pv);
    ct_set(&pr, "c", cv);
    ct_set(&pr, "d", dv);
    for (int k = 0; k < STEPS; k++) {
        cr_assert_eq(ct_set(&pr, "optimizer.lr", &lrs[k]), 0);
        cr_assert_eq(be->run(pr.prog), AIGTATT_OK);
        int64_t n;
        double *l = ct_get(&pr, "loss", &n);
        out->losses[k] = l[0];
        free(l);
    }
    int64_t n;
    double *pf = ct_get(&pr, "p", &n), *step = ct_get(&pr, "optimizer.step", &n);
    memcpy(out->p, pf, sizeof out->p);
    cr_assert_eq(step[0], STEPS, "the step counter reads %g", step[0]);
    free(pf);
    free(step);
    static const char *names[] = { "momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq" };
    for (int i = 0; i < 4; i++) {
        char full[64];
        snprintf(full, sizeof full, "p.%s", names[i]);
        double *st = ct_get(&pr, full, &n);
        if (st) {
            out->state[out->n_state] = st;
            out->state_names[out->n_state++] = names[i];
        }
    }
    ct_release(&pr);
}

static double err_of(const double *a, const double *b, int n)
{
    return ct_relerr(a, b, n, 1e-3);
}

Test(optim, updates_against_torch_optim, .timeout = 120)
{
    char *dir = ct_tmpdir();
    outcome outs[NSPECS];
    memset(outs, 0, sizeof outs);
    char path[512];
    snprintf(path, sizeof path, "%s/optim.json", dir);
    FILE *js = fopen(path, "w");
    fprintf(js, "[\n");
    for (size_t i = 0; i < NSPECS; i++) {
        const ospec *s = &specs[i];
        run_ours(s, dir, &outs[i]);
        const aigtatt_nn_optim *o = &s->o;
        fprintf(js, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"lr\": [", i ? ",\n" : "", s->name, s->kind);
        for (int k = 0; k < STEPS; k++)
            fprintf(js, "%s%.17g", k ? ", " : "", lrs[k]);
        fprintf(js, "], \"h\": {\"momentum\": %.17g, \"dampening\": %.17g, \"weight_decay\": %.17g, "
                    "\"nesterov\": %d, \"maximize\": %d, \"beta1\": %.17g, \"beta2\": %.17g, \"eps\": %.17g, "
                    "\"amsgrad\": %d}}",
                o->momentum, o->dampening, o->weight_decay, o->nesterov, o->maximize, o->beta1, o->beta2, o->eps,
                o->amsgrad);
    }
    fprintf(js, "\n]\n");
    fclose(js);
    char msg[4096];
    cr_assert_eq(ct_run_reference(dir, msg, sizeof msg), 0, "%s", msg);
    int failed = 0;
    for (size_t i = 0; i < NSPECS; i++) {
        const ospec *s = &specs[i];
        double *ref;
        snprintf(path, sizeof path, "%s/%s/p_out.npy", dir, s->name);
        cr_assert_eq(ct_npy_read(path, &ref, NULL, NULL), 12);
        double ep = err_of(outs[i].p, ref, 12);
        free(ref);
        snprintf(path, sizeof path, "%s/%s/losses.npy", dir, s->name);
        cr_assert_eq(ct_npy_read(path, &ref, NULL, NULL), STEPS);
        double el = err_of(outs[i].losses, ref, STEPS);
        free(ref);
        double es = 0;
        for (int k = 0; k < outs[i].n_state; k++) {
            snprintf(path, sizeof path, "%s/%s/%s.npy", dir, s->name, outs[i].state_names[k]);
            cr_assert_eq(ct_npy_read(path, &ref, NULL, NULL), 12, "%s: torch has no %s", s->name,
                         outs[i].state_names[k]);
            double e = err_of(outs[i].state[k], ref, 12);
            es = e > es ? e : es;
            free(ref);
            free(outs[i].state[k]);
        }
        cr_log_info("optim %-16s param %.2e  losses %.2e  state %.2e", s->name, ep, el, es);
        cr_expect(ep <= 1e-5 && el <= 1e-5 && es <= 1e-5,
                  "%s: differs from torch.optim (param %.3g, losses %.3g, state %.3g)", s->name, ep, el, es);
        failed |= !(ep <= 1e-5 && el <= 1e-5 && es <= 1e-5);
    }
    if (!failed)
        ct_rmtree(dir);
    free(dir);
}
