/* loss.arcface, loss.cosface and loss.softmax against PyTorch
 * implementations of the same formulas (ref_models.py loss): the loss and
 * the gradients of the embedding and of the loss's own parameters, for the
 * normal, threshold-fallback and easy-margin branches of ArcFace and for
 * embeddings pointing exactly at or away from their class centre (cos = +-1,
 * where the unclamped formula gives NaN). Also: the F64 gradients against
 * central differences, parameter names, shapes and initialisation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mt.h"
#include "host/host.h"
#include "util/error.h"

#define N 6
#define KD 8
#define CLASSES 5

typedef struct lcase {
    const char *name, *kind, *yaml;
    double s, m;
    int easy, bias;
    int special;   /* 1: rows at cos = -0.99, +1 and -1 exactly; 2: every row at cos = +1 */
    double tol;    /* gradient tolerance; 0: 1e-5 */
} lcase;

static const lcase cases[] = {
    { "arcface_default", "arcface", "", 64, 0.5, 0, 0, 0, 0 },
    { "arcface_s8", "arcface", "s: 8\nm: 0.3\n", 8, 0.3, 0, 0, 0, 0 },
    { "arcface_threshold", "arcface", "s: 16\nm: 0.5\n", 16, 0.5, 0, 0, 1, 0 },
    { "arcface_easy", "arcface", "s: 16\nm: 0.5\neasy_margin: true\n", 16, 0.5, 1, 0, 1, 0 },
    { "arcface_aligned", "arcface", "s: 64\nm: 0.5\n", 64, 0.5, 0, 0, 2, 0 },
    { "cosface_default", "cosface", "", 64, 0.35, 0, 0, 0, 0 },
    { "cosface_s16", "cosface", "s: 16\nm: 0.2\n", 16, 0.2, 0, 0, 1, 0 },
    { "softmax", "softmax", "", 0, 0, 0, 1, 0, 0 },
    { "softmax_nobias", "softmax", "bias: false\n", 0, 0, 0, 0, 0, 0 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static const double labels[N] = { 0, 3, 1, 4, 3, 2 };

/* Builds case c (F32, or F64 for the gradient check) with its data set;
 * writes the inputs for PyTorch when dir is not NULL. */
static void prepare(const lcase *c, int f64, mt_net *net, const char *dir)
{
    char comp[64], msg[1024];
    snprintf(comp, sizeof comp, "loss.%s", c->kind);
    mt_spec s = { .n = N, .k = KD, .loss = comp, .loss_yaml = c->yaml, .classes = CLASSES, .training = 1,
                  .expose_grads = 1, .seed = 21 };
    (void)f64;
    cr_assert_eq(mt_build(&s, net, msg, sizeof msg), 0, "%s: %s", c->name, msg);
    int64_t nw;
    double *w = mt_get(net, "loss.weight", &nw);
    cr_assert(w && nw == CLASSES * KD, "%s: loss.weight is not [%d, %d]", c->name, CLASSES, KD);
    double emb[N * KD];
    mt_normal(emb, N * KD, 77, 1.0);
    if (c->special == 1) {
        /* row 0: close to the opposite of its centre (cos ~ -0.99, below
         * cos(pi - m)); row 1: exactly its centre (cos = 1); row 2: exactly
         * opposite (cos = -1) */
        for (int j = 0; j < KD; j++) {
            emb[0 * KD + j] = (float)(-2.0 * w[(int)labels[0] * KD + j] + 0.02 * emb[0 * KD + j]);
            emb[1 * KD + j] = (float)(3.0 * w[(int)labels[1] * KD + j]);
            emb[2 * KD + j] = (float)(-1.5 * w[(int)labels[2] * KD + j]);
        }
    } else if (c->special == 2) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < KD; j++)
                emb[i * KD + j] = w[(int)labels[i] * KD + j];
    }
    cr_assert_eq(mt_set(net, "emb", emb), 0);
    cr_assert_eq(mt_set(net, "labels", labels), 0);
    if (dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, c->name);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/%s/in.safetensors", dir, c->name);
        mt_st *st = mt_st_new();
        mt_st_add(st, "emb", 'f', 2, (int64_t[2]){ N, KD }, emb);
        mt_st_add(st, "loss.weight", 'f', 2, (int64_t[2]){ CLASSES, KD }, w);
        mt_st_add(st, "labels", 'l', 1, (int64_t[1]){ N }, labels);
        int64_t nb;
        double *b = mt_get(net, "loss.bias", &nb);
        if (b) {
            mt_st_add(st, "loss.bias", 'f', 1, (int64_t[1]){ CLASSES }, b);
            free(b);
        }
        cr_assert_eq(mt_st_write(st, path), 0);
    }
    free(w);
}

static int all_finite(const double *d, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(d[i]))
            return 0;
    return 1;
}

Test(losses, against_pytorch, .timeout = 120)
{
    mt_setup();
    char *dir = mt_tmpdir(), msg[4096], path[1024];
    mt_net nets[NCASES];
    FILE *js;
    snprintf(path, sizeof path, "%s/loss.json", dir);
    js = fopen(path, "w");
    fprintf(js, "[");
    for (size_t i = 0; i < NCASES; i++) {
        const lcase *c = &cases[i];
        prepare(c, 0, &nets[i], dir);
        cr_assert_eq(mt_run(&nets[i], NULL, msg, sizeof msg), 0, "%s: %s", c->name, msg);
        fprintf(js, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"s\": %.17g, \"m\": %.17g, \"easy_margin\": %s, "
                    "\"classes\": %d}",
                i ? ",\n" : "", c->name, c->kind, c->s, c->m, c->easy ? "true" : "false", CLASSES);
    }
    fprintf(js, "]\n");
    fclose(js);
    cr_assert_eq(mt_python("loss", dir, msg, sizeof msg), 0, "%s", msg);
    int failed = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const lcase *c = &cases[i];
        snprintf(path, sizeof path, "%s/%s/out.safetensors", dir, c->name);
        static const char *names[] = { "loss", "grad:emb", "grad:loss.weight", "grad:loss.bias" };
        double errs[4] = { 0 };
        for (int k = 0; k < 4; k++) {
            int64_t na = 0, nb = 0;
            double *a = mt_get(&nets[i], names[k], &na), *b = mt_st_read(path, names[k], &nb);
            cr_assert_eq(a == NULL, b == NULL, "%s: %s on one side only", c->name, names[k]);
            if (!a)
                continue;
            cr_assert_eq(na, nb);
            cr_expect(all_finite(a, na), "%s: %s is not finite", c->name, names[k]);
            errs[k] = mt_relerr(a, b, na, 1e-6);
            free(a);
            free(b);
        }
        double tol = c->tol > 0 ? c->tol : 1e-5;
        double eg = fmax(fmax(errs[1], errs[2]), errs[3]);
        int64_t nn;
        double *naive = mt_st_read(path, "naive_nonfinite", &nn);
        cr_log_info("%-18s loss %.2e  gradients %.2e%s", c->name, errs[0], eg,
                    naive && naive[0] ? "  (the unclamped formula gives NaN here)" : "");
        free(naive);
        cr_expect(errs[0] <= 1e-5 && eg <= tol, "%s: loss differs by %.3g, gradients by %.3g", c->name, errs[0], eg);
        failed |= !(errs[0] <= 1e-5 && eg <= tol);
        mt_free(&nets[i]);
    }
    if (!failed)
        mt_rmtree(dir);
    free(dir);
}

/* The F64 gradients of each loss against central differences of its F64
 * value, at every entry of the embedding and the class centres. */
Test(losses, gradients_match_finite_differences, .timeout = 120)
{
    mt_setup();
    for (size_t ci = 0; ci < NCASES; ci++) {
        const lcase *c = &cases[ci];
        if (c->special)
            continue; /* kinks of the clamp and the branches are not differentiable */
        char comp[64], msg[1024];
        snprintf(comp, sizeof comp, "loss.%s", c->kind);
        /* F64: the builder is the same; only the lowering differs */
        const aigtatt_nn_api *A = aigtatt_nn_api_get();
        aigtatt_nn *nn = aigtatt_nn_new(1, 21);
        aigtatt_params *lp = mt_params(comp, c->yaml);
        const aigtatt_loss_vtable *lv = mt_component(comp)->desc.vtable;
        aigtatt_val emb = A->param(nn, "emb", 2, (int64_t[2]){ N, KD }, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
        aigtatt_val lab = A->input(nn, "labels", AIGTATT_I64, 1, (int64_t[1]){ N });
        A->push(nn, "loss");
        aigtatt_val loss = lv->build(lp, A, nn, emb, lab, CLASSES);
        A->pop(nn);
        mt_params_free(lp);
        A->output(nn, "loss", loss);
        mt_net net = { .nn = nn, .be = mt_backend() };
        aigtatt_nn_lower_opts o = { .loss = loss, .expose_grads = 1, .f64 = 1 };
        cr_assert_eq(aigtatt_nn_lower(nn, &o, &net.low), AIGTATT_OK, "%s", aigtatt_last_error());
        net.ir = aigtatt_nn_lowered_ir(net.low);
        cr_assert_eq(mt_backend()->compile(NULL, net.ir, &net.prog), AIGTATT_OK);
        cr_assert_eq(aigtatt_nn_init_program(net.low, 21, mt_backend(), net.prog), AIGTATT_OK);
        double e[N * KD];
        mt_normal(e, N * KD, 78, 1.0);
        mt_set(&net, "emb", e);
        mt_set(&net, "labels", labels);
        cr_assert_eq(mt_run(&net, NULL, msg, sizeof msg), 0, "%s", msg);
        static const char *leaves[] = { "emb", "loss.weight", "loss.bias" };
        double worst = 0;
        for (int l = 0; l < 3; l++) {
            int64_t n, ng;
            double *v = mt_get(&net, leaves[l], &n);
            if (!v)
                continue;
            char gname[64];
            snprintf(gname, sizeof gname, "grad:%s", leaves[l]);
            double *g = mt_get(&net, gname, &ng);
            cr_assert(g && ng == n);
            double *num = malloc(sizeof(double) * (size_t)n);
            for (int64_t i = 0; i < n; i++) {
                const double h = 1e-6, x0 = v[i];
                double lp2, lm2;
                int64_t one;
                v[i] = x0 + h;
                mt_set(&net, leaves[l], v);
                mt_run(&net, NULL, msg, sizeof msg);
                double *r = mt_get(&net, "loss", &one);
                lp2 = r[0];
                free(r);
                v[i] = x0 - h;
                mt_set(&net, leaves[l], v);
                mt_run(&net, NULL, msg, sizeof msg);
                r = mt_get(&net, "loss", &one);
                lm2 = r[0];
                free(r);
                v[i] = x0;
                num[i] = (lp2 - lm2) / (2 * h);
            }
            mt_set(&net, leaves[l], v);
            double err = mt_relerr(g, num, n, 1.0);
            worst = fmax(worst, err);
            free(num);
            free(g);
            free(v);
        }
        cr_log_info("%-18s F64 gradients vs central differences %.2e", c->name, worst);
        cr_expect(worst <= 1e-6, "%s: gradient differs from finite differences by %.3g", c->name, worst);
        mt_free(&net);
    }
}

Test(losses, names_shapes_and_parameters, .timeout = 60)
{
    mt_setup();
    char msg[1024];
    static const char *comps[] = { "loss.arcface", "loss.cosface", "loss.softmax" };
    for (int i = 0; i < 3; i++) {
        mt_spec s = { .n = 4, .k = 16, .loss = comps[i], .classes = 10, .training = 1, .seed = 1 };
        mt_net net;
        cr_assert_eq(mt_build(&s, &net, msg, sizeof msg), 0, "%s", msg);
        int32_t w = aigtatt_nn_lowered_find(net.low, "loss.weight");
        cr_assert(w >= 0, "%s has no loss.weight", comps[i]);
        const aigtatt_ir_value *v = &net.ir->values[w];
        cr_expect(v->role == AIGTATT_IR_PARAM && v->ndim == 2 && v->shape[0] == 10 && v->shape[1] == 16,
                  "%s: loss.weight is not a [classes, K] parameter", comps[i]);
        int64_t n;
        double *d = mt_get(&net, "loss.weight", &n), mx = 0;
        for (int64_t k = 0; k < n; k++)
            mx = fmax(mx, fabs(d[k]));
        double bound = i < 2 ? sqrt(6.0 / (10 + 16)) : 1 / sqrt(16.0); /* xavier_uniform_ / nn.Linear */
        cr_expect(mx <= bound && mx > 0.8 * bound, "%s: loss.weight max %g, bound %g", comps[i], mx, bound);
        free(d);
        cr_expect_eq(aigtatt_nn_lowered_find(net.low, "loss.bias") >= 0, i == 2, "%s: loss.bias", comps[i]);
        /* a label out of range fails the run with a message */
        double bad[4] = { 0, 1, 10, 2 }, e[64];
        mt_normal(e, 64, 3, 1.0);
        mt_set(&net, "emb", e);
        mt_set(&net, "labels", bad);
        cr_expect_neq(mt_run(&net, NULL, msg, sizeof msg), 0, "%s accepted label 10 of 10 classes", comps[i]);
        mt_free(&net);
    }
    aigtatt_params *p = mt_params("loss.arcface", NULL);
    cr_expect_eq(aigtatt_host_get()->param_float(p, "s"), 64);
    cr_expect_eq(aigtatt_host_get()->param_float(p, "m"), 0.5);
    cr_expect_eq(aigtatt_host_get()->param_bool(p, "easy_margin"), 0);
    mt_params_free(p);
    p = mt_params("loss.cosface", NULL);
    cr_expect_eq(aigtatt_host_get()->param_float(p, "m"), 0.35);
    mt_params_free(p);
    cr_expect_null(mt_params_try("loss.arcface", "m: -0.1\n", msg, sizeof msg));
    cr_expect_null(mt_params_try("loss.arcface", "scale: 30\n", msg, sizeof msg));
    cr_log_info("unknown parameter: %s", msg);
    /* zero classes: the builder records an error instead of crashing */
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    aigtatt_nn *nn = aigtatt_nn_new(1, 1);
    aigtatt_val e = A->param(nn, "emb", 2, (int64_t[2]){ 2, 4 }, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    aigtatt_val l = A->input(nn, "labels", AIGTATT_I64, 1, (int64_t[1]){ 2 });
    p = mt_params("loss.arcface", NULL);
    cr_expect_eq(((const aigtatt_loss_vtable *)mt_component("loss.arcface")->desc.vtable)->build(p, A, nn, e, l, 0),
                 AIGTATT_NN_INVALID);
    const char *err;
    cr_expect_neq(A->status(nn, &err), AIGTATT_OK);
    cr_log_info("zero classes: %s", err);
    mt_params_free(p);
    aigtatt_nn_free(nn);
}
