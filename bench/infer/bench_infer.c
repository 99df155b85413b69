/* bench_infer: images/s of ResNet inference (eval mode: batch norm on
 * running statistics) on backend.onednn at 224x224 batch 32 by default,
 * as bench/infer/peer.py does with PyTorch (torch.jit.trace +
 * torch.jit.optimize_for_inference).
 *
 *   bench_infer [--depth 18|34|50|101|152] [--batch 32] [--size 224]
 *               [--threads 2] [--steps 5] [--warmup 2] [--classes 1000]
 *               [--peak GFLOPS] [--precision f32|bf16] [--no-fuse] [--verbose]
 *
 * Prints one human line and one "RESULT ..." line for run.sh. */
#include "../train/bench_common.h"

/* --check: the same network, weights and batch in f32 with direct
 * convolutions; prints how far the outputs of `prog` (bf16, or Winograd)
 * are from those: the largest difference relative to the largest f32
 * output, and the smallest cosine similarity between the two outputs of
 * one image. */
static int check_against_f32(const bench_args *g, const aigtatt_component *bc, const aigtatt_ir *ir,
                             aigtatt_nn_lowered *low, void *prog, const float *img, size_t npx)
{
    const aigtatt_backend_vtable *be = bc->desc.vtable;
    bench_args direct = *g;
    direct.conv = "direct";
    aigtatt_params *fp = bench_backend_params(bc, &direct, "f32");
    void *fdev = NULL, *fprog = NULL;
    if (!fp || be->open(fp, &fdev) != AIGTATT_OK || be->compile(fdev, ir, &fprog) != AIGTATT_OK ||
        aigtatt_nn_init_program(low, 42, be, fprog) != AIGTATT_OK || bench_set(be, fprog, low, "image", img, npx * 4) ||
        be->run(fprog) != AIGTATT_OK) {
        fprintf(stderr, "f32 reference: %s\n", aigtatt_last_error());
        return 1;
    }
    int32_t lv = aigtatt_nn_lowered_find(low, "logits");
    size_t n = (size_t)g->batch * (size_t)g->classes;
    float *a = malloc(n * sizeof *a), *r = malloc(n * sizeof *r);
    if (!a || !r || be->get(prog, lv, a, n * 4) != AIGTATT_OK || be->get(fprog, lv, r, n * 4) != AIGTATT_OK) {
        fprintf(stderr, "get: %s\n", aigtatt_last_error());
        return 1;
    }
    double maxr = 0, maxd = 0, mincos = 1;
    for (size_t i = 0; i < n; i++) {
        maxr = fmax(maxr, fabs(r[i]));
        maxd = fmax(maxd, fabs((double)a[i] - r[i]));
    }
    for (int b = 0; b < g->batch; b++) {
        double d = 0, na = 0, nr = 0;
        for (int64_t j = 0; j < g->classes; j++) {
            double x = a[(size_t)b * g->classes + j], y = r[(size_t)b * g->classes + j];
            d += x * y, na += x * x, nr += y * y;
        }
        mincos = fmin(mincos, d / sqrt(na * nr + 1e-300));
    }
    printf("check resnet%d %s (convolution %s) vs f32 direct, same weights and batch of %d: max |diff| / max |f32| = "
           "%.3g, min cosine similarity = %.6f\n", g->depth, g->precision, g->conv, g->batch, maxd / fmax(maxr, 1e-30),
           mincos);
    printf("RESULT check depth=%d precision=%s conv=%s rel_maxdiff=%.4g min_cos=%.6f\n", g->depth, g->precision,
           g->conv, maxd / fmax(maxr, 1e-30), mincos);
    free(a);
    free(r);
    be->release(fprog);
    be->close(fdev);
    aigtatt_params_free(fp);
    return 0;
}

int main(int argc, char **argv)
{
    bench_args g = {.batch = 32};
    if (bench_parse(argc, argv, &g))
        return 2;
    const int depth = g.depth, batch = g.batch, size = g.size, threads = g.threads, steps = g.steps,
              warmup = g.warmup;
    const int64_t classes = g.classes;
    const double peak = g.peak;
    const aigtatt_component *bc = bench_component(AIGTATT_BENCH_ONEDNN_PLUGIN, "backend.onednn");
    if (!bc) {
        fprintf(stderr, "%s\n", aigtatt_last_error());
        return 1;
    }
    const aigtatt_backend_vtable *be = bc->desc.vtable;
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    aigtatt_nn *nn = aigtatt_nn_new(0, 42);
    int64_t is[4] = { batch, 3, size, size };
    aigtatt_val image = A->input(nn, "image", AIGTATT_F32, 4, is);
    const char *which = "backbone.resnet plugin";
    aigtatt_val logits = bench_backbone(nn, image, depth, classes);
    if (logits < 0)
        return 1;
    A->output(nn, "logits", logits);
    const char *err = NULL;
    if (A->status(nn, &err) != AIGTATT_OK) {
        fprintf(stderr, "build: %s\n", err);
        return 1;
    }
    aigtatt_nn_lower_opts lo = { .loss = AIGTATT_NN_INVALID };
    aigtatt_nn_lowered *low = NULL;
    if (aigtatt_nn_lower(nn, &lo, &low) != AIGTATT_OK) {
        fprintf(stderr, "lower: %s\n", aigtatt_last_error());
        return 1;
    }
    const aigtatt_ir *ir = aigtatt_nn_lowered_ir(low);
    aigtatt_params *bp = bench_backend_params(bc, &g, g.precision);
    void *dev = NULL, *prog = NULL;
    double t0 = bench_now();
    if (!bp || be->open(bp, &dev) != AIGTATT_OK || be->compile(dev, ir, &prog) != AIGTATT_OK ||
        aigtatt_nn_init_program(low, 42, be, prog) != AIGTATT_OK) {
        fprintf(stderr, "%s\n", aigtatt_last_error());
        return 1;
    }
    double tcomp = bench_now() - t0;
    size_t npx = (size_t)batch * 3 * (size_t)size * (size_t)size;
    float *img = malloc(npx * sizeof *img);
    bench_fill_normal(img, npx, 1);
    if (bench_set(be, prog, low, "image", img, npx * sizeof *img))
        return 1;
    double *times = calloc((size_t)(steps + warmup) + 1, sizeof *times), best = 1e30;
    for (int s = 0; s < warmup + steps; s++) {
        double a = bench_now();
        /* a new batch each time, as an embedding pass would */
        if (bench_set(be, prog, low, "image", img, npx * sizeof *img) || be->run(prog) != AIGTATT_OK) {
            fprintf(stderr, "run: %s\n", aigtatt_last_error());
            return 1;
        }
        double t = bench_now() - a;
        fprintf(stderr, "  batch %d: %.3f s\n", s, t);
        if (s >= warmup) {
            times[s - warmup] = t;
            if (t < best)
                best = t;
        }
    }
    for (int i = 0; i < steps; i++)
        for (int j = i + 1; j < steps; j++)
            if (times[j] < times[i]) {
                double x = times[i];
                times[i] = times[j];
                times[j] = x;
            }
    double med = times[steps / 2];
    double flops = bench_flops(ir);
    printf("aigtatt resnet%d inference %s batch %d %dx%d, %d threads (%s): median %.3f s/batch = %.2f img/s "
           "(best %.2f img/s), %.1f GFLOP/batch, %.1f GFLOP/s", depth, g.precision, batch, size, size, threads, which, med,
           batch / med, batch / best, flops / 1e9, flops / med / 1e9);
    if (peak > 0)
        printf(", %.0f%% of %.0f GFLOP/s peak", 100.0 * flops / med / 1e9 / peak, peak);
    printf("; compile %.2f s\n", tcomp);
    printf("RESULT framework=aigtatt mode=infer depth=%d batch=%d median_s=%.4f best_s=%.4f img_s=%.3f best_img_s=%.3f "
           "gflop_per_image=%.4f gflops=%.2f precision=%s\n", depth, batch, med, best, batch / med, batch / best,
           flops / batch / 1e9, flops / med / 1e9, g.precision);
    int rc = 0;
    if (g.check && (strcmp(g.precision, "f32") != 0 || strcmp(g.conv, "direct") != 0))
        rc = check_against_f32(&g, bc, ir, low, prog, img, npx);
    be->release(prog);
    be->close(dev);
    aigtatt_params_free(bp);
    aigtatt_nn_lowered_free(low);
    aigtatt_nn_free(nn);
    free(img);
    free(times);
    return rc;
}
