/* optim.sgd / optim.adam / optim.adamw: the parameters each one maps onto
 * the core's update rule, the checks torch.optim makes, every learning-rate
 * schedule against torch.optim.lr_scheduler step by step, and a few steps
 * of each optimizer (from describe() and lr_at(), as a trainer uses them)
 * on an embedding + ArcFace against torch.optim. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mt.h"
#include "util/error.h"

Test(optim, describe_maps_parameters, .timeout = 60)
{
    mt_setup();
    aigtatt_optim_spec s = mt_describe("optim.sgd", "lr: 0.05\nmomentum: 0.9\nweight_decay: 5e-4\nnesterov: true\n");
    cr_expect(s.kind == AIGTATT_OPTIM_SGD && s.lr == 0.05 && s.momentum == 0.9 && s.weight_decay == 5e-4 &&
              s.nesterov == 1 && s.dampening == 0 && s.maximize == 0 && s.beta1 == 0);
    s = mt_describe("optim.sgd", NULL);
    cr_expect(s.lr == 0.1 && s.momentum == 0 && s.weight_decay == 0 && !s.nesterov, "torch's SGD defaults");
    s = mt_describe("optim.adam", "betas: [0.8, 0.99]\neps: 1e-6\namsgrad: true\nweight_decay: 0.01\n");
    cr_expect(s.kind == AIGTATT_OPTIM_ADAM && s.lr == 0.001 && s.beta1 == 0.8 && s.beta2 == 0.99 && s.eps == 1e-6 &&
              s.amsgrad && s.weight_decay == 0.01);
    s = mt_describe("optim.adamw", NULL);
    cr_expect(s.kind == AIGTATT_OPTIM_ADAMW && s.lr == 0.001 && s.beta1 == 0.9 && s.beta2 == 0.999 &&
              s.eps == 1e-8 && s.weight_decay == 0.01 && !s.amsgrad, "torch's AdamW defaults");
    aigtatt_nn_optim o = mt_optim_from_spec(&s);
    cr_expect(o.kind == AIGTATT_NN_OPTIM_ADAMW && o.beta2 == 0.999);

    /* a caller that knows a shorter spec gets no byte past it */
    struct {
        aigtatt_optim_spec head;
        unsigned char guard[16];
    } small;
    memset(&small, 0xAB, sizeof small);
    small.head.struct_size = offsetof(aigtatt_optim_spec, momentum);
    aigtatt_params *p = mt_params("optim.sgd", "momentum: 0.9\n");
    const aigtatt_optimizer_vtable *v = mt_component("optim.sgd")->desc.vtable;
    cr_assert_eq(v->describe(p, &small.head), AIGTATT_OK);
    cr_expect(small.head.kind == AIGTATT_OPTIM_SGD && small.head.lr == 0.1);
    const unsigned char *rest = (const unsigned char *)&small.head.momentum;
    cr_expect(rest[0] == 0xAB, "describe wrote past struct_size");
    cr_expect_eq(small.head.struct_size, offsetof(aigtatt_optim_spec, momentum));
    mt_params_free(p);
}

Test(optim, checks_as_torch_optim, .timeout = 60)
{
    mt_setup();
    char msg[1024];
    static const struct {
        const char *comp, *yaml, *says;
    } bad[] = {
        { "optim.sgd", "nesterov: true\n", "nesterov" },
        { "optim.sgd", "nesterov: true\nmomentum: 0.9\ndampening: 0.1\n", "dampening" },
        { "optim.sgd", "lr: -1\n", "lr" },
        { "optim.sgd", "schedule: exponential\n", "gamma" },
        { "optim.sgd", "schedule: multistep\n", "milestones" },
        { "optim.sgd", "schedule: multistep\nmilestones: [5, 3]\n", "increasing" },
        { "optim.sgd", "schedule: linear\n", "schedule" },
        { "optim.adam", "betas: [0.9]\n", "betas" },
        { "optim.adam", "betas: [0.9, 1.0]\n", "betas" },
        { "optim.adamw", "betas: [0.9, x]\n", "betas" },
        { "optim.adamw", "momentum: 0.9\n", "momentum" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aigtatt_params *p = mt_params_try(bad[i].comp, bad[i].yaml, msg, sizeof msg);
        cr_expect_null(p, "%s accepted %s", bad[i].comp, bad[i].yaml);
        cr_expect(strstr(msg, bad[i].says), "%s {%s}: the message does not name %s: %s", bad[i].comp, bad[i].yaml,
                  bad[i].says, msg);
        char flat[128];
        snprintf(flat, sizeof flat, "%s", bad[i].yaml);
        for (char *q = flat; *q; q++)
            if (*q == '\n')
                *q = q[1] ? ';' : '\0';
        cr_log_info("%-12s %-40s -> %s", bad[i].comp, flat, msg);
        mt_params_free(p);
    }
    aigtatt_params *p = mt_params("optim.sgd", "schedule: exponential\ngamma: 0.95\n");
    mt_params_free(p);
}

typedef struct sched_case {
    const char *name, *yaml, *json;
    int epochs, spe;
} sched_case;

static const sched_case scases[] = {
    { "constant", "lr: 0.1\n", "\"lr\": 0.1, \"schedule\": \"constant\"", 3, 4 },
    { "step", "lr: 0.1\nschedule: step\nstep_size: 2\ngamma: 0.5\n",
      "\"lr\": 0.1, \"schedule\": \"step\", \"step_size\": 2, \"gamma\": 0.5", 7, 3 },
    { "multistep", "lr: 0.2\nschedule: multistep\nmilestones: [2, 5]\n",
      "\"lr\": 0.2, \"schedule\": \"multistep\", \"milestones\": [2, 5], \"gamma\": 0.1", 7, 2 },
    { "exponential", "lr: 0.1\nschedule: exponential\ngamma: 0.95\n",
      "\"lr\": 0.1, \"schedule\": \"exponential\", \"gamma\": 0.95", 6, 3 },
    { "exponential_per_step", "lr: 0.1\nschedule: exponential\ngamma: 0.9\ninterval: step\n",
      "\"lr\": 0.1, \"schedule\": \"exponential\", \"gamma\": 0.9, \"interval\": \"step\"", 4, 5 },
    { "cosine", "lr: 0.1\nschedule: cosine\neta_min: 0.001\n",
      "\"lr\": 0.1, \"schedule\": \"cosine\", \"eta_min\": 0.001", 8, 3 },
    { "cosine_tmax", "lr: 0.05\nschedule: cosine\nt_max: 5\n", "\"lr\": 0.05, \"schedule\": \"cosine\", \"t_max\": 5",
      5, 2 },
    { "cosine_per_step", "lr: 0.1\nschedule: cosine\ninterval: step\n",
      "\"lr\": 0.1, \"schedule\": \"cosine\", \"interval\": \"step\"", 4, 6 },
    { "warmup_cosine", "lr: 0.1\nschedule: cosine\nwarmup_epochs: 2\nwarmup_start_factor: 0.01\n",
      "\"lr\": 0.1, \"schedule\": \"cosine\", \"warmup_epochs\": 2, \"warmup_start_factor\": 0.01", 7, 3 },
    { "warmup_step_per_step", "lr: 0.3\nschedule: step\nstep_size: 1\ngamma: 0.7\nwarmup_epochs: 1\ninterval: step\n",
      "\"lr\": 0.3, \"schedule\": \"step\", \"step_size\": 1, \"gamma\": 0.7, \"warmup_epochs\": 1, "
      "\"interval\": \"step\"", 4, 4 },
    { "warmup_constant", "lr: 0.1\nwarmup_epochs: 1\n", "\"lr\": 0.1, \"schedule\": \"constant\", \"warmup_epochs\": 1",
      3, 5 },
};
#define NSCHED (sizeof scases / sizeof scases[0])

Test(optim, schedules_match_torch_lr_scheduler, .timeout = 120)
{
    mt_setup();
    char *dir = mt_tmpdir(), path[1024], msg[4096];
    snprintf(path, sizeof path, "%s/sched.json", dir);
    FILE *js = fopen(path, "w");
    fprintf(js, "[");
    static const char *comps[] = { "optim.sgd", "optim.adam", "optim.adamw" };
    double *ours[NSCHED];
    for (size_t i = 0; i < NSCHED; i++) {
        const sched_case *c = &scases[i];
        fprintf(js, "%s{\"name\": \"%s\", %s, \"epochs\": %d, \"steps_per_epoch\": %d}", i ? ",\n" : "", c->name,
                c->json, c->epochs, c->spe);
        /* every component shares the schedules: each case on another one */
        const char *comp = comps[i % 3];
        aigtatt_params *p = mt_params(comp, c->yaml);
        const aigtatt_optimizer_vtable *v = mt_component(comp)->desc.vtable;
        ours[i] = malloc(sizeof(double) * (size_t)(c->epochs * c->spe));
        for (int e = 0; e < c->epochs; e++)
            for (int s = 0; s < c->spe; s++)
                ours[i][e * c->spe + s] = v->lr_at(p, e, s, c->spe, c->epochs);
        /* pure: asking again, out of order, gives the same */
        cr_expect_eq(v->lr_at(p, 1, 0, c->spe, c->epochs), ours[i][c->spe]);
        mt_params_free(p);
    }
    fprintf(js, "]\n");
    fclose(js);
    cr_assert_eq(mt_python("sched", dir, msg, sizeof msg), 0, "%s", msg);
    snprintf(path, sizeof path, "%s/sched_out.safetensors", dir);
    int failed = 0;
    for (size_t i = 0; i < NSCHED; i++) {
        const sched_case *c = &scases[i];
        int64_t n;
        double *ref = mt_st_read(path, c->name, &n);
        cr_assert(ref && n == c->epochs * c->spe, "%s: torch gave no schedule", c->name);
        double e = mt_relerr(ours[i], ref, n, 1e-12);
        char line[512];
        int len = snprintf(line, sizeof line, "%-22s %.1e  lr:", c->name, e);
        for (int64_t k = 0; k < n && len < 400; k += c->spe)
            len += snprintf(line + len, sizeof line - (size_t)len, " %.4g", ours[i][k]);
        cr_log_info("%s", line);
        cr_expect(e <= 1e-9, "%s: lr differs from torch by %.3g (step %s)", c->name, e, "see the log");
        if (e > 1e-9)
            for (int64_t k = 0; k < n; k++)
                if (fabs(ours[i][k] - ref[k]) > 1e-9 * fabs(ref[k]))
                    cr_log_error("%s step %lld: ours %.10g torch %.10g", c->name, (long long)k, ours[i][k], ref[k]);
        failed |= e > 1e-9;
        free(ref);
        free(ours[i]);
    }
    if (!failed)
        mt_rmtree(dir);
    free(dir);
}

/* ---- end to end: describe() + lr_at() driving the core's updates ---- */

#define N 6
#define KD 8
#define CLASSES 4
#define STEPS 8

typedef struct ocase {
    const char *name, *comp, *yaml;
} ocase;

static const ocase ocases[] = {
    { "sgd_nesterov_wd_warmup", "optim.sgd",
      "lr: 0.5\nmomentum: 0.9\nnesterov: true\nweight_decay: 5e-4\nwarmup_epochs: 1\nschedule: cosine\n" },
    { "sgd_dampening_step", "optim.sgd", "lr: 0.3\nmomentum: 0.8\ndampening: 0.2\nschedule: step\nstep_size: 1\n"
                                         "gamma: 0.5\n" },
    { "adam_amsgrad_l2", "optim.adam", "lr: 0.01\nbetas: [0.8, 0.95]\namsgrad: true\nweight_decay: 0.01\n" },
    { "adamw_exponential", "optim.adamw", "lr: 0.02\nweight_decay: 0.1\nschedule: exponential\ngamma: 0.8\n" },
};
#define NOPT (sizeof ocases / sizeof ocases[0])

Test(optim, steps_match_torch_optim, .timeout = 120)
{
    mt_setup();
    char *dir = mt_tmpdir(), path[1024], msg[4096];
    snprintf(path, sizeof path, "%s/optsteps.json", dir);
    FILE *js = fopen(path, "w");
    fprintf(js, "[");
    double losses[NOPT][STEPS];
    double *final_emb[NOPT], *final_w[NOPT];
    static const double labels[N] = { 0, 1, 2, 3, 1, 2 };
    for (size_t i = 0; i < NOPT; i++) {
        const ocase *c = &ocases[i];
        aigtatt_optim_spec sp = mt_describe(c->comp, c->yaml);
        aigtatt_nn_optim o = mt_optim_from_spec(&sp);
        mt_spec s = { .n = N, .k = KD, .loss = "loss.arcface", .loss_yaml = "s: 8\nm: 0.3\n", .classes = CLASSES,
                      .training = 1, .optim = &o, .seed = 5 };
        mt_net net;
        cr_assert_eq(mt_build(&s, &net, msg, sizeof msg), 0, "%s: %s", c->name, msg);
        double emb[N * KD];
        mt_normal(emb, N * KD, 100 + i, 1.0);
        mt_set(&net, "emb", emb);
        mt_set(&net, "labels", labels);
        int64_t nw;
        double *w = mt_get(&net, "loss.weight", &nw);
        snprintf(path, sizeof path, "%s/%s", dir, c->name);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/%s/in.safetensors", dir, c->name);
        mt_st *st = mt_st_new();
        mt_st_add(st, "emb", 'f', 2, (int64_t[2]){ N, KD }, emb);
        mt_st_add(st, "loss.weight", 'f', 2, (int64_t[2]){ CLASSES, KD }, w);
        mt_st_add(st, "labels", 'l', 1, (int64_t[1]){ N }, labels);
        cr_assert_eq(mt_st_write(st, path), 0);
        free(w);
        aigtatt_params *p = mt_params(c->comp, c->yaml);
        const aigtatt_optimizer_vtable *v = mt_component(c->comp)->desc.vtable;
        fprintf(js, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"lr\": [", i ? ",\n" : "", c->name, c->comp + 6);
        for (int k = 0; k < STEPS; k++) {
            /* 4 epochs of 2 steps */
            double lr = v->lr_at(p, k / 2, k % 2, 2, STEPS / 2);
            fprintf(js, "%s%.17g", k ? ", " : "", lr);
            cr_assert_eq(mt_set(&net, "optimizer.lr", &lr), 0);
            cr_assert_eq(mt_run(&net, NULL, msg, sizeof msg), 0, "%s", msg);
            int64_t one;
            double *l = mt_get(&net, "loss", &one);
            losses[i][k] = l[0];
            free(l);
        }
        mt_params_free(p);
        fprintf(js, "], \"h\": {\"momentum\": %.17g, \"dampening\": %.17g, \"weight_decay\": %.17g, \"nesterov\": %d, "
                    "\"maximize\": %d, \"beta1\": %.17g, \"beta2\": %.17g, \"eps\": %.17g, \"amsgrad\": %d}, "
                    "\"loss\": {\"kind\": \"arcface\", \"s\": 8, \"m\": 0.3, \"classes\": %d}}",
                sp.momentum, sp.dampening, sp.weight_decay, sp.nesterov, sp.maximize, sp.beta1, sp.beta2, sp.eps,
                sp.amsgrad, CLASSES);
        int64_t n;
        final_emb[i] = mt_get(&net, "emb", &n);
        final_w[i] = mt_get(&net, "loss.weight", &n);
        mt_free(&net);
    }
    fprintf(js, "]\n");
    fclose(js);
    cr_assert_eq(mt_python("optsteps", dir, msg, sizeof msg), 0, "%s", msg);
    int failed = 0;
    for (size_t i = 0; i < NOPT; i++) {
        const ocase *c = &ocases[i];
        snprintf(path, sizeof path, "%s/%s/out.safetensors", dir, c->name);
        int64_t n;
        double *rl = mt_st_read(path, "losses", &n), *re = mt_st_read(path, "emb", &n),
               *rw = mt_st_read(path, "loss.weight", &n);
        cr_assert(rl && re && rw);
        double el = mt_relerr(losses[i], rl, STEPS, 1e-6), ee = mt_relerr(final_emb[i], re, N * KD, 1e-6),
               ew = mt_relerr(final_w[i], rw, CLASSES * KD, 1e-6);
        cr_log_info("%-24s losses %.2e  final emb %.2e  final centres %.2e  (loss %.4f -> %.4f)", c->name, el, ee, ew,
                    losses[i][0], losses[i][STEPS - 1]);
        cr_expect(el <= 1e-5 && ee <= 1e-5 && ew <= 1e-5, "%s differs from torch.optim", c->name);
        failed |= !(el <= 1e-5 && ee <= 1e-5 && ew <= 1e-5);
        free(rl);
        free(re);
        free(rw);
        free(final_emb[i]);
        free(final_w[i]);
    }
    if (!failed)
        mt_rmtree(dir);
    free(dir);
}
