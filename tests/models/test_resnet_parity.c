/* backbone.resnet against torchvision on the same weights and batch:
 * our initial weights (batch norms perturbed so that eval mode is not
 * trivially the identity) go into a safetensors file that torchvision's
 * resnetD loads with strict=True; both run the same 224x224 batch, on
 * backend.reference and on backend.onednn (what training and embedding
 * use; where it is built).
 *   - eval mode: embeddings within 1e-4 of the largest torch float32 value;
 *   - train mode: the embeddings and the updated running statistics within
 *     1e-4 of torch float64, and the gradient of every parameter of
 *     sum(embedding * dy) no further from float64 than 1e-3 or twice torch
 *     float32's own distance, whichever is larger (relative to each
 *     tensor's largest value). Train-mode batch norm over two images makes
 *     the gradients of the deep networks ill-conditioned: float32 rounding
 *     alone moves them, in torch as in ours. Measured 2026-11-28 (all
 *     logged): ResNet-18 torch float32 6.6e-6 from float64, ours 8.3e-7
 *     (reference) and 5.2e-6 (oneDNN), so the 1e-3 limit holds there;
 *     ResNet-50 torch 0.13, ours 0.08 and 0.13; ResNet-101 torch 0.21, ours
 *     0.17 and 0.22. The exactness of the algorithm is what the float64 test
 *     shows: both sides in double, limits 1e-9 and 1e-8.
 * The reference backend is exact but single-threaded, so the batch is 2
 * images; CMake builds one binary per depth (MT_PARITY_DEPTH), and PyTorch
 * computes its side meanwhile (ResNet-101: about a minute on 2 cores;
 * MT_RESNET101=0 skips it). Under AddressSanitizer the images are 64x64
 * (MT_PARITY_SIZE overrides the size): the sanitizers look for memory
 * errors, and 224x224 would take over ten minutes there. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt.h"

#define K 128

/* Moves the batch norms away from their fresh values (weight 1, bias 0,
 * mean 0, variance 1), deterministically per tensor. */
static void perturb_batch_norms(mt_net *net)
{
    for (size_t i = 0; i < net->ir->n_values; i++) {
        const aigtatt_ir_value *v = &net->ir->values[i];
        if ((v->role != AIGTATT_IR_PARAM && v->role != AIGTATT_IR_BUFFER) || v->ndim != 1 ||
            v->dtype != AIGTATT_F32 || !strncmp(v->name, "fc.", 3))
            continue;
        int64_t n = v->shape[0];
        double *d = malloc(sizeof(double) * (size_t)n);
        const char *leaf = strrchr(v->name, '.') + 1;
        if (!strcmp(leaf, "weight"))
            mt_uniform(d, n, i, 0.5, 1.5);
        else if (!strcmp(leaf, "running_var"))
            mt_uniform(d, n, i, 0.5, 2.0);
        else
            mt_normal(d, n, i, 0.1); /* bias, running_mean */
        cr_assert_eq(mt_set(net, v->name, d), 0);
        free(d);
    }
}

typedef struct worst {
    double err;
    char name[128];
} worst;

static void track(worst *w, const char *name, double e)
{
    if (e > w->err || isnan(e)) {
        w->err = e;
        snprintf(w->name, sizeof w->name, "%s", name);
    }
}

/* One backend's pass: eval and train networks with the weights file,
 * run on the batch x and the upstream gradient dy. */
typedef struct side {
    mt_net eval, train;
    double t_eval, t_train, c_eval, c_train;
} side;

static void run_side(side *sd, const char *backend, const char *yaml, int64_t n, int64_t size, int f64,
                     const char *weights, const double *x, const double *dy)
{
    char msg[4096];
    memset(sd, 0, sizeof *sd);
    /* oneDNN on 2 threads; under the sanitizers on one, which starts no
     * OpenMP team (LeakSanitizer's tracer cannot stop one at exit) */
#if defined(__SANITIZE_ADDRESS__)
    const char *byaml = backend ? "threads: 1" : NULL;
#else
    const char *byaml = backend ? "threads: 2" : NULL;
#endif
    mt_spec st = { .backbone_yaml = yaml, .n = n, .h = size, .w = size, .dy_loss = 1, .training = 1,
                   .expose_grads = 1, .f64 = f64, .seed = 12, .backend = backend, .backend_yaml = byaml };
    cr_assert_eq(mt_build(&st, &sd->train, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(mt_load_state(&sd->train, weights, msg, sizeof msg), 0, "%s", msg);
    mt_spec se = { .backbone_yaml = yaml, .n = n, .h = size, .w = size, .training = 0, .f64 = f64, .seed = 13,
                   .backend = backend, .backend_yaml = byaml };
    cr_assert_eq(mt_build(&se, &sd->eval, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(mt_load_state(&sd->eval, weights, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(mt_set(&sd->eval, "image", x), 0);
    cr_assert_eq(mt_set(&sd->train, "image", x), 0);
    cr_assert_eq(mt_set(&sd->train, "dy", dy), 0);
    double c0 = mt_cpu();
    cr_assert_eq(mt_run(&sd->eval, &sd->t_eval, msg, sizeof msg), 0, "%s", msg);
    sd->c_eval = mt_cpu() - c0;
    c0 = mt_cpu();
    cr_assert_eq(mt_run(&sd->train, &sd->t_train, msg, sizeof msg), 0, "%s", msg);
    sd->c_train = mt_cpu() - c0;
}

/* One side against torch's reference file: logs the distances and
 * expects them within the limits; 1 when all hold. */
static int compare_side(side *sd, const char *label, int depth, int64_t n, int64_t size, int f64, aigtatt_st *ref)
{
    /* embeddings: eval against torch in our precision, train against float64 */
    int64_t na, nb, nc;
    double *a = mt_get(&sd->eval, "embedding", &na),
           *b = mt_st_get(ref, f64 ? "eval64.embedding" : "eval.embedding", &nb);
    cr_assert(a && b && na == nb);
    double e_eval = mt_relerr(a, b, na, 1e-6);
    free(a);
    free(b);
    a = mt_get(&sd->train, "embedding", &na);
    b = mt_st_get(ref, "train.embedding", &nb);
    double *c = mt_st_get(ref, "train64.embedding", &nc);
    cr_assert(a && b && c && na == nb && na == nc);
    double e_train = mt_relerr(a, c, na, 1e-6), e_train32 = mt_relerr(a, b, na, 1e-6);
    free(a);
    free(b);
    free(c);

    /* gradients and running statistics against torch float64, with torch
     * float32's own distance from it as the yardstick */
    worst w64 = { 0 }, w32 = { 0 }, wt = { 0 }, wb = { 0 }, wb32 = { 0 };
    int ngrads = 0, nbufs = 0;
    const aigtatt_ir *ir = sd->train.ir;
    for (size_t i = 0; i < ir->n_values; i++) {
        const aigtatt_ir_value *v = &ir->values[i];
        char k32[160], k64[160];
        if (v->role == AIGTATT_IR_PARAM) {
            snprintf(k32, sizeof k32, "grad:%s", v->name);
            snprintf(k64, sizeof k64, "grad64:%s", v->name);
            a = mt_get(&sd->train, k32, &na);
        } else if (v->role == AIGTATT_IR_BUFFER) {
            snprintf(k32, sizeof k32, "%s", v->name);
            snprintf(k64, sizeof k64, "buf64:%s", v->name);
            a = mt_get(&sd->train, v->name, &na);
        } else {
            continue;
        }
        b = mt_st_get(ref, k32, &nb);
        c = mt_st_get(ref, k64, &nc);
        cr_assert(a, "%s has no %s", label, k32);
        cr_assert(b && c && na == nb && na == nc, "torch has no %s", k64);
        if (v->role == AIGTATT_IR_PARAM) {
            track(&w64, v->name, mt_relerr(a, c, na, 1e-12));
            track(&w32, v->name, mt_relerr(a, b, na, 1e-12));
            track(&wt, v->name, mt_relerr(b, c, na, 1e-12));
            ngrads++;
        } else {
            track(&wb, v->name, mt_relerr(a, c, na, 1e-12));
            track(&wb32, v->name, mt_relerr(a, b, na, 1e-12));
            nbufs++;
        }
        free(a);
        free(b);
        free(c);
    }
    cr_log_info("resnet%d %s %lldx%lldx%lld: eval embedding %.2e; train embedding %.2e (float32 %.2e); running "
                "stats (%d) %.2e (%s; float32 %.2e)", depth, label, (long long)n, (long long)size, (long long)size,
                e_eval, e_train, e_train32, nbufs, wb.err, wb.name, wb32.err);
    cr_log_info("resnet%d %s gradients (%d) against torch float64: ours %.2e (%s), torch float32 %.2e (%s); ours "
                "against torch float32 %.2e", depth, label, ngrads, w64.err, w64.name, wt.err, wt.name, w32.err);
    cr_log_info("resnet%d %s timings: eval forward %.1f s CPU (%.1f s wall), train forward+backward %.1f s CPU "
                "(%.1f s wall)", depth, label, sd->c_eval, sd->t_eval, sd->c_train, sd->t_train);
    /* F64: the same arithmetic on both sides; F32: the 1e-4 for
     * embeddings, and gradients no further from float64 than 1e-3 or twice
     * torch float32's own distance, whichever is larger (train-mode batch
     * norm over two images makes some gradients ill-conditioned: float32
     * rounding of the activations alone moves them, in torch as in ours) */
    double lim_emb = f64 ? 1e-9 : 1e-4, lim_buf = f64 ? 1e-9 : 1e-4;
    double lim_grad = f64 ? 1e-8 : fmax(1e-3, 2 * wt.err);
    cr_expect(e_eval <= lim_emb, "resnet%d %s eval embeddings differ by %.3g", depth, label, e_eval);
    cr_expect(e_train <= lim_emb, "resnet%d %s train embeddings differ by %.3g", depth, label, e_train);
    cr_expect(w64.err <= lim_grad, "resnet%d %s gradient of %s is %.3g from float64 (limit %.3g; torch float32: %.3g)",
              depth, label, w64.name, w64.err, lim_grad, wt.err);
    cr_expect(wb.err <= lim_buf, "resnet%d %s running statistic %s differs by %.3g", depth, label, wb.name, wb.err);
    return e_eval <= lim_emb && e_train <= lim_emb && w64.err <= lim_grad && wb.err <= lim_buf;
}

/* One comparison. f64: both networks lowered in double, against torch in
 * float64 only (exact arithmetic on both sides). In float32, backend.onednn
 * (what training and embedding run on) is held to the same limits as
 * backend.reference. */
static void parity(int depth, int64_t n, int64_t size, int f64)
{
    mt_setup();
    char *dir = mt_tmpdir(), weights[1024], path[1024], msg[4096], yaml[128];
    snprintf(yaml, sizeof yaml, "depth: %d\nembedding_size: %d\n", depth, K);
    double t0 = mt_now();
    const char *tag = f64 ? "F64" : "F32";

    /* the weights: our initialisation with perturbed batch norms */
    {
        mt_spec si = { .backbone_yaml = yaml, .n = n, .h = size, .w = size, .training = 0, .seed = 11 };
        mt_net init;
        cr_assert_eq(mt_build(&si, &init, msg, sizeof msg), 0, "%s", msg);
        perturb_batch_norms(&init);
        snprintf(weights, sizeof weights, "%s/weights.safetensors", dir);
        cr_assert_eq(mt_save_state(&init, weights), 0);
        mt_free(&init);
    }
    int64_t nx = n * 3 * size * size, ndy = n * K;
    double *x = malloc(sizeof(double) * (size_t)nx), *dy = malloc(sizeof(double) * (size_t)ndy);
    mt_normal(x, nx, 5, 1.0);
    mt_normal(dy, ndy, 6, 1.0);
    mt_st *in = mt_st_new();
    mt_st_add(in, "x", 'f', 4, (int64_t[4]){ n, 3, size, size }, x);
    mt_st_add(in, "dy", 'f', 2, (int64_t[2]){ n, K }, dy);
    snprintf(path, sizeof path, "%s/inputs.safetensors", dir);
    cr_assert_eq(mt_st_write(in, path), 0);

    /* PyTorch computes its side while we compute ours */
    char spec[256];
    snprintf(spec, sizeof spec, "{\"depth\": %d, \"K\": %d, \"threads\": 1, \"float64\": true}", depth, K);
    cr_assert_eq(mt_write_text(dir, "resnet.json", spec), 0);
    double t1 = mt_now();
    mt_proc *torch = mt_python_start("resnet", dir, msg, sizeof msg);
    cr_assert(torch, "%s", msg);
    double t_build = mt_now() - t0;
    side refb, od;
    run_side(&refb, NULL, yaml, n, size, f64, weights, x, dy);
    int with_onednn = !f64 && mt_have_onednn();
    if (with_onednn)
        run_side(&od, "backend.onednn", yaml, n, size, 0, weights, x, dy);
    free(x);
    free(dy);
    cr_assert_eq(mt_python_wait(torch, msg, sizeof msg), 0, "%s", msg);
    double t_torch = mt_now() - t1;
    cr_log_info("resnet%d %s: weights %.1f s; torch (start, load, float32 and float64 passes, alongside ours) "
                "done after %.1f s wall", depth, tag, t_build, t_torch);

    snprintf(path, sizeof path, "%s/out.safetensors", dir);
    aigtatt_st *ref = mt_st_open(path); /* read once: it holds every gradient twice */
    cr_assert(ref, "cannot read %s", path);
    char label[64];
    snprintf(label, sizeof label, "%s backend.reference", tag);
    int ok = compare_side(&refb, label, depth, n, size, f64, ref);
    mt_free(&refb.train);
    mt_free(&refb.eval);
    if (with_onednn) {
        ok &= compare_side(&od, "F32 backend.onednn", depth, n, size, 0, ref);
        mt_free(&od.train);
        mt_free(&od.eval);
    } else if (!f64) {
        cr_log_warn("backend.onednn is not built: only backend.reference compared");
    }
    aigtatt_st_close(ref);
    if (ok)
        mt_rmtree(dir);
    else
        cr_log_warn("kept %s", dir);
    free(dir);
}

static int64_t size(void)
{
    const char *e = getenv("MT_PARITY_SIZE");
    if (e && *e)
        return strtoll(e, NULL, 10);
#if defined(__SANITIZE_ADDRESS__)
    return 64;
#else
    return 224;
#endif
}

/* CMake builds this file once per depth (MT_PARITY_DEPTH), so each depth
 * has a test binary, and a time limit, of its own. */
#ifndef MT_PARITY_DEPTH
#define MT_PARITY_DEPTH 18
#endif

/* MT_RESNET101=0 skips ResNet-101 (its tests then report as skipped) for
 * a quicker local run; the suite runs it. */
static void skip_unless_enabled(void)
{
    if (MT_PARITY_DEPTH != 101)
        return;
    const char *e = getenv("MT_RESNET101");
    if (e && !strcmp(e, "0"))
        cr_skip_test("resnet101 parity is skipped (MT_RESNET101=0)");
}

Test(resnet_parity, f32_like_torchvision, .timeout = 1500)
{
    skip_unless_enabled();
    parity(MT_PARITY_DEPTH, 2, size(), 0);
}

/* Exact parity of the algorithm: 64x64 keeps the double-precision pass
 * cheap and still runs every layer (layer4 at 2x2). */
Test(resnet_parity, f64_like_torchvision_float64, .timeout = 600)
{
    skip_unless_enabled();
    parity(MT_PARITY_DEPTH, 2, 64, 1);
}
