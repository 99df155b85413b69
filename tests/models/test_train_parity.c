/* Training parity: ResNet-18 + ArcFace (s 64, m 0.5) trained with
 * optim.sgd (momentum 0.9, weight decay 5e-4, one epoch of warmup, then a
 * cosine schedule, all from the component's describe() and lr_at()) for 20
 * steps from the same initial weights on the same batches, here on
 * backend.reference and in PyTorch (torchvision's resnet18, the same
 * ArcFace, torch.optim.SGD):
 *   - lowered in F64 against torch in float64: both sides compute the same
 *     arithmetic in double, so the loss curves and the final parameters and
 *     running statistics agree to rounding, amplified by the training's
 *     own sensitivity (measured 1.7e-8 and 6.8e-8; limits 1e-6 and 1e-5);
 *   - in F32 against torch in float32: the first loss to 1e-5; after that
 *     the curves drift apart, because on a freshly initialised ResNet with
 *     train-mode batch norm over a few images the gradients themselves are
 *     ill-conditioned (torch float32 and torch float64 differ by up to 10%
 *     in some gradients at step 0 here), so our F32 curve is measured
 *     against the float64 one and must stay within three times torch float32's
 *     own distance from it (measured 2026-11-28: ours 0.43 on
 *     backend.reference and 0.27 on backend.onednn, torch float32 0.20, over
 *     20 steps; earlier torch 0.32; limit 3x, as torch's float32 curve
 *     depends on its CPU kernels).
 *
 * The F32 training runs on backend.onednn too, under the same two limits.
 *
 * The suite runs 32x32 images (4 per batch, 4 identities, 2 batches
 * cycled: 10 epochs of 2 steps), because the reference backend needs about
 * 30 s of CPU for one 224x224 training step of ResNet-18 at batch 2; the
 * issue's 224x224 version is the same test with
 *     MT_TRAIN_SIZE=224 MT_TRAIN_BATCH=8 ctest -R models_train_parity
 * (over an hour on the reference backend; raise the timeouts). MT_TRAIN_STEPS
 * and MT_TRAIN_DEPTH change the other numbers. Under AddressSanitizer the
 * default is 3 steps. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt.h"

#define K 128
#define CLASSES 4
#define NBATCHES 2
#define MAXSTEPS 200

static int64_t env_int(const char *name, int64_t def)
{
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : def;
}

static const char *const sgd_yaml = "lr: 0.02\nmomentum: 0.9\nweight_decay: 5e-4\nschedule: cosine\n"
                                    "warmup_epochs: 1\nwarmup_start_factor: 0.25\n";

/* Trains `steps` steps from the weights in `weights`; losses[] gets the
 * curve. F64 lowers the same network in double. backend: NULL for
 * backend.reference, or "backend.onednn" (on 2 threads; under the
 * sanitizers on one, which starts no OpenMP team for LeakSanitizer to trip
 * over). */
static void train(const char *yaml, int64_t n, int64_t size, int f64, const char *backend, const char *weights,
                  double *const *x, double (*lab)[64], int64_t steps, const double *lrs, double *losses,
                  double *run_s, mt_net *net)
{
    char msg[2048];
    aigtatt_optim_spec sp = mt_describe("optim.sgd", sgd_yaml);
    aigtatt_nn_optim o = mt_optim_from_spec(&sp);
#if defined(__SANITIZE_ADDRESS__)
    const char *byaml = backend ? "threads: 1" : NULL;
#else
    const char *byaml = backend ? "threads: 2" : NULL;
#endif
    mt_spec s = { .backbone_yaml = yaml, .n = n, .h = size, .w = size, .loss = "loss.arcface", .classes = CLASSES,
                  .training = 1, .optim = &o, .f64 = f64, .seed = 2024, .backend = backend,
                  .backend_yaml = byaml };
    cr_assert_eq(mt_build(&s, net, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(mt_load_state(net, weights, msg, sizeof msg), 0, "%s", msg);
    for (int64_t k = 0; k < steps; k++) {
        int b = (int)(k % NBATCHES);
        cr_assert_eq(mt_set(net, "optimizer.lr", &lrs[k]), 0);
        cr_assert_eq(mt_set(net, "image", x[b]), 0);
        cr_assert_eq(mt_set(net, "labels", lab[b]), 0);
        cr_assert_eq(mt_run(net, run_s, msg, sizeof msg), 0, "step %lld: %s", (long long)k, msg);
        int64_t one;
        double *l = mt_get(net, "loss", &one);
        losses[k] = l[0];
        free(l);
    }
}

static double curve_err(const double *a, const double *b, int64_t n)
{
    double w = 0;
    for (int64_t k = 0; k < n; k++) {
        double e = fabs(a[k] - b[k]) / fmax(fabs(b[k]), 1e-6);
        if (!(e <= w))
            w = e;
    }
    return w;
}

Test(train_parity, resnet18_arcface_sgd_loss_curve, .timeout = 600)
{
    mt_setup();
#if defined(__SANITIZE_ADDRESS__)
    const int64_t default_steps = 3; /* the sanitizers look for memory errors, not drift */
#else
    const int64_t default_steps = 20;
#endif
    int64_t size = env_int("MT_TRAIN_SIZE", 32), n = env_int("MT_TRAIN_BATCH", 4);
    int64_t steps = env_int("MT_TRAIN_STEPS", default_steps), depth = env_int("MT_TRAIN_DEPTH", 18);
    cr_assert(steps >= 1 && steps <= MAXSTEPS && n >= 2 && n <= 64 && size >= 32);
    char *dir = mt_tmpdir(), path[1024], weights[1024], msg[4096], yaml[128];
    snprintf(yaml, sizeof yaml, "depth: %lld\nembedding_size: %d\n", (long long)depth, K);
    double c0 = mt_cpu(), t0 = mt_now();

    /* the initial weights: our initialisation, in a file both sides load */
    {
        mt_spec s = { .backbone_yaml = yaml, .n = n, .h = size, .w = size, .loss = "loss.arcface",
                      .classes = CLASSES, .training = 1, .seed = 2024 };
        mt_net init;
        cr_assert_eq(mt_build(&s, &init, msg, sizeof msg), 0, "%s", msg);
        snprintf(weights, sizeof weights, "%s/weights.safetensors", dir);
        cr_assert_eq(mt_save_state(&init, weights), 0);
        mt_free(&init);
    }

    /* identities: a random pattern each; an image is its identity's pattern
     * plus noise, so the network has something to learn */
    int64_t per = 3 * size * size;
    double *base = malloc(sizeof(double) * (size_t)(CLASSES * per));
    mt_normal(base, CLASSES * per, 31, 1.0);
    double *x[NBATCHES], lab[NBATCHES][64];
    mt_st *bt = mt_st_new();
    for (int b = 0; b < NBATCHES; b++) {
        x[b] = malloc(sizeof(double) * (size_t)(n * per));
        mt_normal(x[b], n * per, 40 + b, 0.5);
        for (int64_t i = 0; i < n; i++) {
            lab[b][i] = (double)((i + b) % CLASSES);
            for (int64_t j = 0; j < per; j++)
                x[b][i * per + j] = (float)(x[b][i * per + j] + base[(int64_t)lab[b][i] * per + j]);
        }
        char name[32];
        snprintf(name, sizeof name, "x%d", b);
        mt_st_add(bt, name, 'f', 4, (int64_t[4]){ n, 3, size, size }, x[b]);
        snprintf(name, sizeof name, "labels%d", b);
        mt_st_add(bt, name, 'l', 1, (int64_t[1]){ n }, lab[b]);
    }
    free(base);
    snprintf(path, sizeof path, "%s/batches.safetensors", dir);
    cr_assert_eq(mt_st_write(bt, path), 0);

    /* the schedule, from the component as a trainer asks it */
    aigtatt_params *p = mt_params("optim.sgd", sgd_yaml);
    const aigtatt_optimizer_vtable *ov = mt_component("optim.sgd")->desc.vtable;
    int64_t epochs = (steps + NBATCHES - 1) / NBATCHES;
    double lrs[MAXSTEPS], l32[MAXSTEPS], l64[MAXSTEPS], run32 = 0, run64 = 0;
    for (int64_t k = 0; k < steps; k++)
        lrs[k] = ov->lr_at(p, k / NBATCHES, k % NBATCHES, NBATCHES, epochs);
    mt_params_free(p);
    aigtatt_optim_spec sp = mt_describe("optim.sgd", sgd_yaml);

    /* PyTorch trains its side while we train ours */
    char *spec = malloc(8192);
    int len = snprintf(spec, 8192, "{\"depth\": %lld, \"K\": %d, \"classes\": %d, \"s\": %.17g, \"m\": %.17g, "
                                   "\"momentum\": %.17g, \"weight_decay\": %.17g, \"nesterov\": %d, "
                                   "\"nbatches\": %d, \"threads\": 1, \"dtypes\": [\"float32\", \"float64\"], "
                                   "\"lr\": [",
                       (long long)depth, K, CLASSES, 64.0, 0.5, sp.momentum, sp.weight_decay, sp.nesterov, NBATCHES);
    for (int64_t k = 0; k < steps; k++)
        len += snprintf(spec + len, 8192 - (size_t)len, "%s%.17g", k ? ", " : "", lrs[k]);
    snprintf(spec + len, 8192 - (size_t)len, "]}\n");
    cr_assert_eq(mt_write_text(dir, "train.json", spec), 0);
    free(spec);
    double t1 = mt_now();
    mt_proc *torch = mt_python_start("train", dir, msg, sizeof msg);
    cr_assert(torch, "%s", msg);

    mt_net net32, net64;
    double c1 = mt_cpu();
    train(yaml, n, size, 0, NULL, weights, x, lab, steps, lrs, l32, &run32, &net32);
    double cpu32 = mt_cpu() - c1;
    mt_free(&net32);
    c1 = mt_cpu();
    train(yaml, n, size, 1, NULL, weights, x, lab, steps, lrs, l64, &run64, &net64);
    double cpu64 = mt_cpu() - c1;
    /* the same F32 training on backend.onednn, what train.embedding runs */
    double lod[MAXSTEPS], runod = 0;
    int with_onednn = mt_have_onednn();
    if (with_onednn) {
        mt_net netod;
        train(yaml, n, size, 0, "backend.onednn", weights, x, lab, steps, lrs, lod, &runod, &netod);
        mt_free(&netod);
    }
    for (int b = 0; b < NBATCHES; b++)
        free(x[b]);
    double ours_cpu = mt_cpu() - c0, ours_wall = mt_now() - t0;

    cr_assert_eq(mt_python_wait(torch, msg, sizeof msg), 0, "%s", msg);
    double torch_wall = mt_now() - t1;

    snprintf(path, sizeof path, "%s/out.safetensors", dir);
    int64_t nl;
    double *t32 = mt_st_read(path, "losses.float32", &nl), *t64 = mt_st_read(path, "losses.float64", &nl);
    cr_assert(t32 && t64 && nl == steps);
    char curve[6000];
    int cl = 0;
    for (int64_t k = 0; k < steps && cl < 5800; k++)
        cl += snprintf(curve + cl, sizeof curve - (size_t)cl,
                       "\n  step %2lld lr %.5f  F64: ours %.10f torch %.10f (%.0e)  F32: ours %.6f oneDNN %.6f torch "
                       "%.6f", (long long)k, lrs[k], l64[k], t64[k], fabs(l64[k] - t64[k]) / fabs(t64[k]), l32[k],
                       with_onednn ? lod[k] : NAN, t32[k]);
    double e64 = curve_err(l64, t64, steps), e32_truth = curve_err(l32, t64, steps);
    double et32_truth = curve_err(t32, t64, steps), e32_first = fabs(l32[0] - t32[0]) / fabs(t32[0]);
    double eod_truth = with_onednn ? curve_err(lod, t64, steps) : 0,
           eod_first = with_onednn ? fabs(lod[0] - t32[0]) / fabs(t32[0]) : 0;

    /* the F64 runs' final state: every parameter and running statistic */
    double wp = 0;
    char wname[160] = "";
    aigtatt_st *ref = mt_st_open(path); /* read once, not once per tensor */
    cr_assert(ref, "cannot read %s", path);
    for (size_t i = 0; i < net64.ir->n_values; i++) {
        const aigtatt_ir_value *v = &net64.ir->values[i];
        if (v->role != AIGTATT_IR_PARAM && v->role != AIGTATT_IR_BUFFER)
            continue;
        char key[200];
        snprintf(key, sizeof key, "float64/%s", v->name);
        int64_t na, nb;
        double *a = mt_get(&net64, v->name, &na), *b = mt_st_get(ref, key, &nb);
        cr_assert(a && b && na == nb, "%s", key);
        double e = mt_relerr(a, b, na, 1e-12);
        if (!(e <= wp)) {
            wp = e;
            snprintf(wname, sizeof wname, "%s", v->name);
        }
        free(a);
        free(b);
    }
    aigtatt_st_close(ref);
    mt_free(&net64);
    cr_log_info("resnet%lld + arcface (s 64, m 0.5) + optim.sgd, %lld steps of batch %lld at %lldx%lld:%s",
                (long long)depth, (long long)steps, (long long)n, (long long)size, (long long)size, curve);
    cr_log_info("F64 (exact on both sides): loss curve %.2e, final parameters and running stats %.2e (%s)", e64, wp,
                wname);
    cr_log_info("F32: first loss vs torch float32 %.1e; loss curve vs the float64 curve: ours %.2e, torch float32 %.2e",
                e32_first, e32_truth, et32_truth);
    if (with_onednn)
        cr_log_info("F32 on backend.onednn: first loss vs torch float32 %.1e; loss curve vs the float64 curve %.2e "
                    "(%.3f s per step)", eod_first, eod_truth, runod / (double)steps);
    else
        cr_log_warn("backend.onednn is not built: only backend.reference trained");
    cr_log_info("timings: ours %.1f s CPU (F32 %.1f s, F64 %.1f s; %.2f s per step) %.1f s wall; torch (both dtypes) "
                "(alongside ours) done after %.1f s wall", ours_cpu, cpu32, cpu64, run32 / (double)steps, ours_wall, torch_wall);
    if (steps >= 10)
        cr_expect(l64[steps - 1] < 0.7 * l64[0], "the loss did not go down: %g -> %g", l64[0], l64[steps - 1]);
    int ok = 1;
    ok &= e64 <= 1e-6;
    cr_expect(e64 <= 1e-6, "F64 loss curves differ by %.3g", e64);
    ok &= wp <= 1e-5;
    cr_expect(wp <= 1e-5, "F64 final state differs by %.3g (%s)", wp, wname);
    ok &= e32_first <= 1e-5;
    cr_expect(e32_first <= 1e-5, "the first F32 loss differs from torch's by %.3g", e32_first);
    ok &= e32_truth <= fmax(3 * et32_truth, 1e-4);
    cr_expect(e32_truth <= fmax(3 * et32_truth, 1e-4),
              "our F32 curve is %.3g from the float64 one, torch's float32 only %.3g", e32_truth, et32_truth);
    ok &= eod_first <= 1e-5 && eod_truth <= fmax(3 * et32_truth, 1e-4);
    cr_expect(eod_first <= 1e-5, "the first oneDNN F32 loss differs from torch's by %.3g", eod_first);
    cr_expect(eod_truth <= fmax(3 * et32_truth, 1e-4),
              "the oneDNN F32 curve is %.3g from the float64 one, torch's float32 only %.3g", eod_truth, et32_truth);
    free(t32);
    free(t64);
    if (ok)
        mt_rmtree(dir);
    else
        cr_log_warn("kept %s", dir);
    free(dir);
}
