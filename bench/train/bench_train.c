/* bench_train: images/s of a ResNet training step on backend.onednn:
 * forward, cross-entropy over `classes`, backward, SGD (momentum 0.9,
 * weight decay 1e-4), at 224x224 batch 16 by default, as
 * bench/train/peer.py does with PyTorch.
 *
 *   bench_train [--depth 18|34|50|101|152] [--batch 16] [--size 224]
 *               [--threads 2] [--steps 5] [--warmup 2] [--classes 1000]
 *               [--peak GFLOPS] [--precision f32|bf16] [--no-fuse] [--verbose]
 *
 * Prints one human line and one "RESULT ..." line for run.sh. */
#include "bench_common.h"

int main(int argc, char **argv)
{
    bench_args g = {.batch = 16};
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
    aigtatt_nn *nn = aigtatt_nn_new(1, 42);
    int64_t is[4] = { batch, 3, size, size }, ls[1] = { batch };
    aigtatt_val image = A->input(nn, "image", AIGTATT_F32, 4, is);
    aigtatt_val labels = A->input(nn, "labels", AIGTATT_I64, 1, ls);
    const char *which = "backbone.resnet plugin";
    aigtatt_val logits = bench_backbone(nn, image, depth, classes);
    if (logits < 0)
        return 1;
    aigtatt_val loss = A->cross_entropy(nn, logits, labels);
    A->output(nn, "loss", loss);
    const char *err = NULL;
    if (A->status(nn, &err) != AIGTATT_OK) {
        fprintf(stderr, "build: %s\n", err);
        return 1;
    }
    aigtatt_nn_optim sgd = { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.9, .weight_decay = 1e-4 };
    aigtatt_nn_lower_opts lo = { .loss = loss, .optim = &sgd };
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
    int64_t *lab = malloc((size_t)batch * sizeof *lab);
    bench_fill_normal(img, npx, 1);
    for (int i = 0; i < batch; i++)
        lab[i] = (i * 7919) % classes;
    double lr = 0.01;
    if (bench_set(be, prog, low, "image", img, npx * sizeof *img) || bench_set(be, prog, low, "labels", lab, (size_t)batch * 8) ||
        bench_set(be, prog, low, "optimizer.lr", &lr, sizeof lr))
        return 1;
    int32_t lv = aigtatt_nn_lowered_find(low, "loss");
    double *times = calloc((size_t)(steps + warmup) + 1, sizeof *times), best = 1e30, sum = 0;
    float lval = 0;
    for (int s = 0; s < warmup + steps; s++) {
        double a = bench_now();
        if (be->run(prog) != AIGTATT_OK) {
            fprintf(stderr, "run: %s\n", aigtatt_last_error());
            return 1;
        }
        be->get(prog, lv, &lval, sizeof lval);
        double t = bench_now() - a;
        fprintf(stderr, "  step %d: %.3f s, loss %.4f\n", s, t, lval);
        if (s >= warmup) {
            times[s - warmup] = t;
            sum += t;
            if (t < best)
                best = t;
        }
    }
    /* median */
    for (int i = 0; i < steps; i++)
        for (int j = i + 1; j < steps; j++)
            if (times[j] < times[i]) {
                double x = times[i];
                times[i] = times[j];
                times[j] = x;
            }
    double med = times[steps / 2];
    double flops = bench_flops(ir);
    printf("aigtatt resnet%d train %s batch %d %dx%d, %d threads (%s): median %.3f s/step = %.2f img/s "
           "(best %.2f img/s), %.1f GFLOP/step, %.1f GFLOP/s", depth, g.precision, batch, size, size, threads, which, med,
           batch / med, batch / best, flops / 1e9, flops / med / 1e9);
    if (peak > 0)
        printf(", %.0f%% of %.0f GFLOP/s peak", 100.0 * flops / med / 1e9 / peak, peak);
    printf("; compile %.2f s\n", tcomp);
    printf("RESULT framework=aigtatt mode=train depth=%d batch=%d median_s=%.4f best_s=%.4f img_s=%.3f best_img_s=%.3f "
           "gflop_per_image=%.4f gflops=%.2f precision=%s\n", depth, batch, med, best, batch / med, batch / best,
           flops / batch / 1e9, flops / med / 1e9, g.precision);
    be->release(prog);
    be->close(dev);
    aigtatt_params_free(bp);
    aigtatt_nn_lowered_free(low);
    aigtatt_nn_free(nn);
    free(img);
    free(lab);
    free(times);
    return 0;
}
