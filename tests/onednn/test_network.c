/* A small ResNet-like network end to end on backend.onednn and
 * backend.reference from the same lowered IR and the same initial
 * weights: stem conv + BN + ReLU + max pool, a basic residual block, a
 * strided block with a 1x1 downsample, global average pool, linear,
 * cross-entropy, SGD with momentum and weight decay.
 *
 * Training: 6 steps on different batches (SGD with momentum; also Adam,
 * AdamW with amsgrad, Nesterov SGD). The loss of every step must
 * agree within 1e-4 relative, and after the last step every parameter,
 * running statistic and momentum buffer within 1e-4 of its largest
 * magnitude (float accumulation in a different order compounds over the
 * steps; single ops agree to ~1e-7, see test_ops).
 * Inference (BN on running statistics, so convolution + BN + ReLU +
 * residual add are fused and BN folded into the weights): logits within
 * 1e-5.
 * Widths 8 and 16 keep oneDNN's blocked layouts (8 channels per block on
 * AVX2) between the layers; width 6 pads the blocks. With and without
 * fusions, with the native and with oneDNN's batch norm, on 1 and 2
 * threads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compute/ct.h"
#include "odt.h"
#include "util/rng.h"

static const aigtatt_nn_api *A;

static aigtatt_val conv(aigtatt_nn *nn, const char *name, aigtatt_val x, int64_t cin, int64_t cout, int64_t k,
                        int64_t s, int64_t p)
{
    A->push(nn, name);
    int64_t ws[4] = { cout, cin, k, k };
    aigtatt_val w = A->param(nn, "weight", 4, ws, (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_NORMAL });
    A->pop(nn);
    aigtatt_conv_opts o = { .struct_size = sizeof o, .stride = { s, s }, .padding = { p, p } };
    return A->conv2d(nn, x, w, AIGTATT_NN_INVALID, &o);
}

static aigtatt_val bn(aigtatt_nn *nn, const char *name, aigtatt_val x, int64_t c)
{
    A->push(nn, name);
    aigtatt_val w = A->param(nn, "weight", 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ONES });
    aigtatt_val b = A->param(nn, "bias", 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    aigtatt_val rm = A->buffer(nn, "running_mean", AIGTATT_F32, 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    aigtatt_val rv = A->buffer(nn, "running_var", AIGTATT_F32, 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ONES });
    aigtatt_val nb = A->buffer(nn, "num_batches_tracked", AIGTATT_I64, 0, NULL, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    A->pop(nn);
    return A->batch_norm(nn, x, w, b, rm, rv, nb, 0.1, 1e-5);
}

static aigtatt_val block(aigtatt_nn *nn, const char *name, aigtatt_val x, int64_t cin, int64_t cout, int64_t s)
{
    A->push(nn, name);
    aigtatt_val h = A->unary(nn, AIGTATT_RELU, bn(nn, "bn1", conv(nn, "conv1", x, cin, cout, 3, s, 1), cout));
    h = bn(nn, "bn2", conv(nn, "conv2", h, cout, cout, 3, 1, 1), cout);
    aigtatt_val id = x;
    if (s != 1 || cin != cout) {
        A->push(nn, "downsample");
        id = bn(nn, "1", conv(nn, "0", x, cin, cout, 1, s, 0), cout);
        A->pop(nn);
    }
    A->pop(nn);
    return A->unary(nn, AIGTATT_RELU, A->binary(nn, AIGTATT_ADD, h, id));
}

#define N 4
#define HW 16
#define CLASSES 10

static int shared_weight; /* build() adds a weight shared by two convolutions */
/* build() adds y = relu(bn(conv3x3(h)) + h) after layer1: the add's other
 * operand is the convolution's own input */
static int one_conv_residual;

static aigtatt_val build(aigtatt_nn *nn, int64_t w)
{
    A = aigtatt_nn_api_get();
    int64_t is[4] = { N, 3, HW, HW }, ls[1] = { N };
    aigtatt_val x = A->input(nn, "image", AIGTATT_F32, 4, is);
    aigtatt_val labels = A->input(nn, "labels", AIGTATT_I64, 1, ls);
    aigtatt_val h = A->unary(nn, AIGTATT_RELU, bn(nn, "bn1", conv(nn, "conv1", x, 3, w, 3, 1, 1), w));
    aigtatt_pool_opts po = { .struct_size = sizeof po, .max = 1, .kernel = { 3, 3 }, .stride = { 2, 2 }, .padding = { 1, 1 } };
    h = A->pool2d(nn, h, &po);
    A->push(nn, "layer1");
    h = block(nn, "0", h, w, w, 1);
    A->pop(nn);
    if (shared_weight) {
        /* one 3x3 weight read at stride 1 (Winograd when asked) and then at
         * stride 2 (direct): the direct convolution must not move the
         * weight into its blocked layout under the Winograd step */
        A->push(nn, "shared");
        int64_t ws[4] = { w, w, 3, 3 };
        aigtatt_val sw = A->param(nn, "weight", 4, ws, (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_NORMAL });
        A->pop(nn);
        aigtatt_conv_opts s1 = { .struct_size = sizeof s1, .stride = { 1, 1 }, .padding = { 1, 1 } };
        aigtatt_conv_opts s2 = { .struct_size = sizeof s2, .stride = { 2, 2 }, .padding = { 1, 1 } };
        h = A->unary(nn, AIGTATT_RELU, A->conv2d(nn, h, sw, AIGTATT_NN_INVALID, &s1));
        h = A->unary(nn, AIGTATT_RELU, A->conv2d(nn, h, sw, AIGTATT_NN_INVALID, &s2));
    }
    if (one_conv_residual) {
        A->push(nn, "res");
        aigtatt_val r = bn(nn, "bn", conv(nn, "conv", h, w, w, 3, 1, 1), w);
        A->pop(nn);
        h = A->unary(nn, AIGTATT_RELU, A->binary(nn, AIGTATT_ADD, r, h));
    }
    A->push(nn, "layer2");
    h = block(nn, "0", h, w, 2 * w, 2);
    A->pop(nn);
    h = A->global_avg_pool(nn, h);
    int64_t fs[2] = { N, 2 * w };
    h = A->reshape(nn, h, 2, fs);
    A->push(nn, "fc");
    int64_t wsz[2] = { CLASSES, 2 * w }, bsz[1] = { CLASSES };
    aigtatt_val fw = A->param(nn, "weight", 2, wsz, (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_UNIFORM });
    aigtatt_val fb = A->param(nn, "bias", 1, bsz, (aigtatt_nn_init){ .kind = AIGTATT_INIT_UNIFORM, .a = -0.1, .b = 0.1 });
    A->pop(nn);
    aigtatt_val logits = A->linear(nn, h, fw, fb);
    A->output(nn, "logits", logits);
    aigtatt_val loss = A->cross_entropy(nn, logits, labels);
    A->output(nn, "loss", loss);
    return loss;
}

static void batch(int step, double *img, double *labels)
{
    aigtatt_rng r;
    aigtatt_rng_seed(&r, 1000 + (uint64_t)step);
    for (int i = 0; i < N * 3 * HW * HW; i++)
        img[i] = (float)aigtatt_rng_normal(&r);
    for (int i = 0; i < N; i++)
        labels[i] = floor(aigtatt_rng_uniform(&r) * CLASSES);
}

/* Largest relative difference over every persistent value. */
static double compare_state(odt_pair *p, const char **worst_name)
{
    double worst = 0;
    for (size_t i = 0; i < p->ir->n_values; i++) {
        const aigtatt_ir_value *v = &p->ir->values[i];
        if (!v->name || (v->role != AIGTATT_IR_PARAM && v->role != AIGTATT_IR_BUFFER && v->role != AIGTATT_IR_OPT_STATE))
            continue;
        double e = odt_compare(p, v->name, 1e-3);
        if (e > worst) {
            worst = e;
            *worst_name = v->name;
        }
    }
    return worst;
}

/* yaml on one line, for the log */
static const char *label(const char *yaml)
{
    static char buf[128];
    size_t n = 0;
    for (const char *c = yaml; *c && n + 1 < sizeof buf; c++)
        buf[n++] = *c == '\n' ? (c[1] ? ',' : '\0') : *c;
    buf[n] = '\0';
    return buf;
}

static void train_with(int64_t width, const char *yaml, const aigtatt_nn_optim *opt)
{
    void *dev = NULL;
    cr_assert_eq(odt_open(yaml, &dev), 0);
    aigtatt_nn *nn = aigtatt_nn_new(1, 77);
    aigtatt_val loss = build(nn, width);
    const char *err;
    cr_assert_eq(A->status(nn, &err), AIGTATT_OK, "%s", err ? err : "");
    aigtatt_nn_lower_opts o = { .loss = loss, .optim = opt };
    aigtatt_nn_lowered *low = NULL;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &low), AIGTATT_OK);
    odt_pair p;
    char msg[1024];
    int wino = odt_pair_make_counting(&p, low, dev, "_winograd", msg, sizeof msg);
    cr_assert_geq(wino, 0, "%s", msg);
    /* with verbose: true in yaml, the listing shows whether Winograd ran */
    if (strstr(yaml, "winograd"))
        cr_expect_gt(wino, 0, "convolution: winograd, yet no Winograd step");
    double *img = malloc(sizeof(double) * N * 3 * HW * HW), labels[N], lr = 0.05;
    double worst_loss = 0;
    for (int step = 0; step < 6; step++) {
        batch(step, img, labels);
        cr_assert_eq(odt_set(&p, "image", img), 0);
        cr_assert_eq(odt_set(&p, "labels", labels), 0);
        cr_assert_eq(odt_set(&p, "optimizer.lr", &lr), 0);
        cr_assert_eq(odt_run(&p, msg, sizeof msg), 0, "%s", msg);
        double *a, *b;
        int64_t n;
        cr_assert_eq(odt_get(&p, "loss", &a, &b, &n), 0);
        double e = fabs(a[0] - b[0]) / fabs(a[0]);
        cr_log_info("width %lld [%s] step %d: loss reference %.7f onednn %.7f (rel %.2e)", (long long)width, label(yaml),
                    step, a[0], b[0], e);
        worst_loss = e > worst_loss ? e : worst_loss;
        free(a);
        free(b);
    }
    const char *wn = "";
    double ws = compare_state(&p, &wn);
    cr_log_info("width %lld [%s]: worst loss %.2e, worst state %.2e (%s)", (long long)width, label(yaml), worst_loss, ws, wn);
    cr_expect_leq(worst_loss, 1e-4, "loss curve differs by %.3g", worst_loss);
    cr_expect_leq(ws, 1e-4, "%s differs by %.3g after 6 steps", wn, ws);
    free(img);
    odt_pair_free(&p);
    aigtatt_nn_free(nn);
    odt_backend()->close(dev);
}

static void train(int64_t width, const char *yaml)
{
    aigtatt_nn_optim sgd = { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.9, .weight_decay = 5e-4 };
    train_with(width, yaml, &sgd);
}

static void infer(int64_t width, const char *yaml)
{
    void *dev = NULL;
    cr_assert_eq(odt_open(yaml, &dev), 0);
    aigtatt_nn *nn = aigtatt_nn_new(0, 77);
    build(nn, width);
    aigtatt_nn_lower_opts o = { .loss = AIGTATT_NN_INVALID };
    aigtatt_nn_lowered *low = NULL;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &low), AIGTATT_OK);
    odt_pair p;
    char msg[1024];
    int wino = odt_pair_make_counting(&p, low, dev, "_winograd", msg, sizeof msg);
    cr_assert_geq(wino, 0, "%s", msg);
    if (strstr(yaml, "winograd"))
        cr_expect_gt(wino, 0, "convolution: winograd, yet no Winograd step");
    /* running statistics and affine parameters away from their defaults */
    aigtatt_rng r;
    aigtatt_rng_seed(&r, 5);
    for (size_t i = 0; i < p.ir->n_values; i++) {
        const aigtatt_ir_value *v = &p.ir->values[i];
        if (!v->name || v->dtype != AIGTATT_F32 || (v->role != AIGTATT_IR_BUFFER && !strstr(v->name, "bn")))
            continue;
        int64_t n = aigtatt_nn_value_numel(v);
        double *d = malloc(sizeof(double) * (size_t)n);
        for (int64_t j = 0; j < n; j++)
            d[j] = strstr(v->name, "var") ? 0.5 + aigtatt_rng_uniform(&r) : 0.3 * aigtatt_rng_normal(&r) + (strstr(v->name, "weight") ? 1 : 0);
        cr_assert_eq(odt_set(&p, v->name, d), 0);
        free(d);
    }
    double *img = malloc(sizeof(double) * N * 3 * HW * HW), labels[N];
    for (int rep = 0; rep < 2; rep++) {
        batch(rep, img, labels);
        cr_assert_eq(odt_set(&p, "image", img), 0);
        cr_assert_eq(odt_run(&p, msg, sizeof msg), 0, "%s", msg);
        double e = odt_compare(&p, "logits", 1e-3);
        cr_log_info("width %lld [%s] inference %d: logits rel %.2e", (long long)width, label(yaml), rep, e);
        cr_expect(e >= 0 && e <= 1e-5, "logits differ by %.3g", e);
    }
    free(img);
    odt_pair_free(&p);
    aigtatt_nn_free(nn);
    odt_backend()->close(dev);
}

Test(network, train_blocked_fused, .timeout = 300) { train(8, "threads: 2\n"); }
Test(network, train_blocked_unfused, .timeout = 300) { train(16, "threads: 2\nfuse: false\n"); }
Test(network, train_blocked_fused_onednn_bn, .timeout = 300) { train(8, "threads: 2\nnative_bn: false\n"); }
Test(network, train_blocked_unfused_onednn_bn, .timeout = 300) { train(16, "fuse: false\nnative_bn: false\n"); }
Test(network, train_adamw_amsgrad, .timeout = 300)
{
    aigtatt_nn_optim o = { .kind = AIGTATT_NN_OPTIM_ADAMW, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                           .weight_decay = 0.05, .amsgrad = 1 };
    train_with(8, "threads: 2\n", &o);
}
Test(network, train_adam_nesterov_sgd, .timeout = 300)
{
    aigtatt_nn_optim a = { .kind = AIGTATT_NN_OPTIM_ADAM, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 1e-3 };
    train_with(8, "threads: 2\n", &a);
    aigtatt_nn_optim n = { .kind = AIGTATT_NN_OPTIM_SGD, .momentum = 0.9, .dampening = 0.1, .nesterov = 1,
                           .weight_decay = 1e-4, .maximize = 0 };
    n.dampening = 0; /* torch refuses nesterov with dampening */
    train_with(8, "threads: 2\n", &n);
}
Test(network, train_padded_blocks_one_thread, .timeout = 300) { train(6, "threads: 1\n"); }
Test(network, infer_blocked_fused, .timeout = 300) { infer(8, "threads: 2\n"); }
Test(network, infer_blocked_unfused, .timeout = 300) { infer(16, "fuse: false\n"); }
Test(network, infer_padded_blocks_one_thread, .timeout = 300) { infer(6, "threads: 1\n"); }
Test(network, train_blocked_one_thread, .timeout = 300) { train(8, "threads: 1\n"); }
Test(network, infer_blocked_one_thread, .timeout = 300) { infer(16, "threads: 1\n"); }

/* convolution: winograd: the 3x3 stride-1 convolutions of both blocks (8
 * and 16 channels; the stem has 3 and the strided one stride 2, so they
 * stay direct) run on the backend's Winograd kernels, forward, backward
 * data and backward weights, within the same tolerances. */
Test(network, train_winograd, .timeout = 300) { train(8, "threads: 2\nconvolution: winograd\nverbose: true\n"); }
Test(network, train_winograd_unfused_one_thread, .timeout = 300)
{
    train(16, "threads: 1\nfuse: false\nconvolution: winograd\nverbose: true\n");
}
/* the same network with one thing changed at a time (batch norm,
 * threads, fusion, width), so a failure of train_winograd says where */
Test(network, train_winograd_onednn_bn, .timeout = 300)
{
    train(8, "threads: 2\nconvolution: winograd\nnative_bn: false\nverbose: true\n");
}
Test(network, train_winograd_fused_one_thread, .timeout = 300)
{
    train(8, "threads: 1\nconvolution: winograd\nverbose: true\n");
}
Test(network, train_winograd_unfused, .timeout = 300)
{
    train(8, "threads: 2\nfuse: false\nconvolution: winograd\nverbose: true\n");
}
Test(network, train_winograd_wide, .timeout = 300) { train(16, "threads: 2\nconvolution: winograd\nverbose: true\n"); }
Test(network, infer_winograd_unfused, .timeout = 300)
{
    infer(16, "fuse: false\nconvolution: winograd\nverbose: true\n");
}
/* The fused convolution + add writes into the add's other operand when
 * that dies there; here it is also the convolution's input, which a
 * convolution must not overwrite while it reads it. */
Test(network, infer_fused_residual_of_its_own_input, .timeout = 300)
{
    one_conv_residual = 1;
    infer(8, "threads: 2\n");
    infer(16, "threads: 1\n");
    one_conv_residual = 0;
}
Test(network, train_winograd_shared_weight, .timeout = 300)
{
    shared_weight = 1;
    train(8, "threads: 2\nconvolution: winograd\nverbose: true\n");
    shared_weight = 0;
}
