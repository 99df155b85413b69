/* backend.onednn against backend.reference, op by op: every case of
 * tests/compute/cases.c (77 cases: each forward op, and through the loss
 * sum(y * dy) every backward op the autodiff emits for it) is lowered once
 * in F32, compiled on both backends, initialised alike and run twice (the
 * second run goes through the cached weight reorders and the updated
 * running statistics). Outputs, the gradients of every parameter and the
 * updated buffers must agree within
 *
 *   max |onednn - reference| / max(max |reference|, 1e-3) <= 1e-5
 *
 * (the reference accumulates in double, oneDNN in float with its own
 * summation order and polynomial approximations of exp/erf/tanh/log).
 * Dropout and stochastic depth are included: their masks come from the
 * shared counter-based generator, so both backends draw the same ones. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compute/ct.h"
#include "util/error.h"
#include "odt.h"

#define TOL 1e-5
/* precision bf16: inputs, activations and the weights a convolution reads
 * are rounded to 8 significant bits (relative 2^-9 each), sums stay f32. */
#define TOL_BF16 5e-2
static double tol = TOL;

static int is_param(char k) { return k == 'p' || k == 'q' || k == 'z'; }
static int is_buffer(char k) { return k == 'm' || k == 'v' || k == 'n'; }

/* Runs case c; returns the worst relative error over everything compared
 * (or +inf on a failure, with the reason logged). With needle, *steps gets
 * how many steps of the (verbose) device's listing name it. */
static double run_case_counting(const ct_case *c, void *device, double *worst_fwd, double *worst_bwd,
                                const char *needle, int *steps)
{
    char msg[1024];
    aigtatt_nn *nn = aigtatt_nn_new(c->training, 1234);
    aigtatt_val loss = ct_build(c, nn);
    const char *err;
    if (aigtatt_nn_api_get()->status(nn, &err) != AIGTATT_OK) {
        cr_log_error("%s: build: %s", c->name, err);
        aigtatt_nn_free(nn);
        return INFINITY;
    }
    aigtatt_nn_lower_opts o = { .loss = loss, .expose_grads = loss >= 0 };
    aigtatt_nn_lowered *low = NULL;
    if (aigtatt_nn_lower(nn, &o, &low) != AIGTATT_OK) {
        cr_log_error("%s: lower failed", c->name);
        aigtatt_nn_free(nn);
        return INFINITY;
    }
    odt_pair p;
    int made = needle ? odt_pair_make_counting(&p, low, device, needle, msg, sizeof msg)
                      : odt_pair_make(&p, low, device, msg, sizeof msg);
    if (needle && made >= 0)
        *steps = made;
    if (made < 0 || (!needle && made != 0)) {
        cr_log_error("%s: %s", c->name, msg);
        odt_pair_free(&p);
        aigtatt_nn_free(nn);
        return INFINITY;
    }
    for (int k = 0; k < c->n_in; k++) {
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        double *d = ct_data(c, k, 7);
        int rc = odt_set(&p, name, d);
        free(d);
        cr_assert_eq(rc, 0, "%s: set %s", c->name, name);
    }
    int32_t dyv = aigtatt_nn_lowered_find(p.low, "dy");
    if (dyv >= 0) {
        double *d = ct_dy(c, aigtatt_nn_value_numel(&p.ir->values[dyv]), 7);
        odt_set(&p, "dy", d);
        free(d);
    }
    double worst = 0;
    for (int rep = 0; rep < 2; rep++) {
        if (odt_run(&p, msg, sizeof msg) != 0) {
            cr_log_error("%s: %s", c->name, msg);
            worst = INFINITY;
            break;
        }
        double ey = odt_compare(&p, "y", 1e-3), eg = 0;
        if (ey < 0)
            ey = INFINITY;
        for (int k = 0; k < c->n_in; k++) {
            char name[24];
            if (is_param(c->in[k].kind))
                snprintf(name, sizeof name, "grad:in%d", k);
            else if (is_buffer(c->in[k].kind))
                snprintf(name, sizeof name, "in%d", k);
            else
                continue;
            if (aigtatt_nn_lowered_find(p.low, name) < 0)
                continue; /* no gradient reaches it (one_hot, greater) */
            double e = odt_compare(&p, name, 1e-3);
            if (e < 0)
                e = INFINITY;
            if (e > tol)
                cr_log_error("%s: %s differs by %.3g (run %d)", c->name, name, e, rep + 1);
            eg = e > eg ? e : eg;
        }
        if (ey > tol)
            cr_log_error("%s: y differs by %.3g (run %d)", c->name, ey, rep + 1);
        if (ey > *worst_fwd)
            *worst_fwd = ey;
        if (eg > *worst_bwd)
            *worst_bwd = eg;
        double w = ey > eg ? ey : eg;
        worst = w > worst ? w : worst;
        if (rep == 0)
            cr_log_info("onednn %-26s forward %.2e  backward/buffers %.2e", c->name, ey, eg);
    }
    odt_pair_free(&p);
    aigtatt_nn_free(nn);
    return worst;
}

static double run_case(const ct_case *c, void *device, double *worst_fwd, double *worst_bwd)
{
    return run_case_counting(c, device, worst_fwd, worst_bwd, NULL, NULL);
}

static void all_cases(void *device, const char *label)
{
    double wf = 0, wb = 0;
    int failed = 0;
    for (size_t i = 0; i < ct_n_cases; i++) {
        double e = run_case(&ct_cases[i], device, &wf, &wb);
        if (!(e <= tol)) {
            failed++;
            cr_log_error("%s: case %s fails (%.3g > %.0e)", label, ct_cases[i].name, e, tol);
        }
    }
    cr_log_info("%s: %zu cases, worst relative error forward %.2e, backward/buffers %.2e (tolerance %.0e)", label,
                ct_n_cases, wf, wb, tol);
    fprintf(stderr, "[%s] %zu cases, worst relative error forward %.2e, backward/buffers %.2e (tolerance %.0e)\n",
            label, ct_n_cases, wf, wb, tol);
    cr_expect_eq(failed, 0, "%s: %d of %zu cases differ from backend.reference", label, failed, ct_n_cases);
}

Test(onednn, every_op_against_reference, .timeout = 600)
{
    all_cases(NULL, "default device");
}

Test(onednn, every_op_one_thread_no_fusion_onednn_bn, .timeout = 600)
{
    void *dev = NULL;
    cr_assert_eq(odt_open("threads: 1\nfuse: false\nnative_bn: false\n", &dev), 0);
    all_cases(dev, "threads 1, no fusion, oneDNN batch norm");
    odt_backend()->close(dev);
}

/* AIGTATT_ONEDNN_MATMUL_1X1=1: the backward weights of a 1x1 stride-1
 * convolution as one matmul over NHWC pixels (od_ops.c) */
Test(onednn, matmul_1x1_backward_weights)
{
    const ct_case *c = NULL;
    for (size_t i = 0; i < ct_n_cases; i++)
        if (!strcmp(ct_cases[i].name, "conv_1x1"))
            c = &ct_cases[i];
    cr_assert(c, "no conv_1x1 case");
    void *dev = NULL;
    cr_assert_eq(odt_open("verbose: true\n", &dev), 0);
    setenv("AIGTATT_ONEDNN_MATMUL_1X1", "1", 1);
    double wf = 0, wb = 0;
    int steps = 0;
    double e = run_case_counting(c, dev, &wf, &wb, "conv2d_bwd_weight_matmul", &steps);
    unsetenv("AIGTATT_ONEDNN_MATMUL_1X1");
    odt_backend()->close(dev);
    cr_expect_eq(steps, 1, "%d matmul steps for the convolution's backward weights, not 1", steps);
    cr_expect_leq(e, tol, "conv_1x1 with the matmul backward weights differs by %.3g", e);
}

/* AIGTATT_ONEDNN_MATMUL_IM2COL=1: the backward weights of every
 * one-group, undilated convolution as im2col + one matmul (od_ops.c):
 * square and rectangular kernels, strides 1 and 2 (also different per
 * axis), padding, bias; grouped, depthwise and dilated ones stay
 * convolutions */
Test(onednn, matmul_im2col_backward_weights)
{
    static const struct {
        const char *name;
        int steps;
    } want[] = { { "conv_basic", 1 },           { "conv_stride_pad_nobias", 1 }, { "conv_1x1_stride2", 1 },
                 { "conv_1x1", 1 },             { "conv_dilation_groups", 0 },   { "conv_depthwise", 0 },
                 { "conv_dilated_stride", 0 } };
    void *dev = NULL;
    cr_assert_eq(odt_open("verbose: true\n", &dev), 0);
    setenv("AIGTATT_ONEDNN_MATMUL_IM2COL", "1", 1);
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const ct_case *c = NULL;
        for (size_t i = 0; i < ct_n_cases; i++)
            if (!strcmp(ct_cases[i].name, want[w].name))
                c = &ct_cases[i];
        cr_assert(c, "no %s case", want[w].name);
        double wf = 0, wb = 0;
        int steps = -1;
        double e = run_case_counting(c, dev, &wf, &wb, "conv2d_bwd_weight_matmul", &steps);
        cr_expect_eq(steps, want[w].steps, "%s: %d matmul steps for the backward weights, not %d", c->name, steps,
                     want[w].steps);
        cr_expect_leq(e, tol, "%s with im2col + matmul backward weights differs by %.3g", c->name, e);
    }
    unsetenv("AIGTATT_ONEDNN_MATMUL_IM2COL");
    odt_backend()->close(dev);
}

/* An inference network built in `nn` (no loss), compiled on backend.onednn
 * (one thread) and backend.reference; returns the oneDNN device. */
static void *inference_pair(aigtatt_nn *nn, odt_pair *p)
{
    aigtatt_nn_lower_opts o = { .loss = AIGTATT_NN_INVALID };
    aigtatt_nn_lowered *low = NULL;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &low), AIGTATT_OK);
    void *dev = NULL;
    cr_assert_eq(odt_open("threads: 1\n", &dev), 0);
    char msg[1024];
    cr_assert_eq(odt_pair_make(p, low, dev, msg, sizeof msg), 0, "%s", msg);
    return dev;
}

/* relu(a + b) with a [4, 1] and b [1, 6]: neither operand has the sum's
 * shape, so the add is not one oneDNN binary (it broadcasts only its
 * second source) and must not take the ReLU as a post-op either: y =
 * relu(a + b) exactly, not the zeros a skipped ReLU leaves. */
Test(onednn, add_relu_broadcast_both_ways)
{
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    int64_t as[2] = { 4, 1 }, bs[2] = { 1, 6 };
    aigtatt_val a = A->input(nn, "a", AIGTATT_F32, 2, as), b = A->input(nn, "b", AIGTATT_F32, 2, bs);
    A->output(nn, "y", A->unary(nn, AIGTATT_RELU, A->binary(nn, AIGTATT_ADD, a, b)));
    odt_pair p;
    char msg[1024];
    void *dev = inference_pair(nn, &p);
    double av[4] = { -1, 0.5, 2, -3 }, bv[6] = { 1, -1, 0.25, 3, -0.5, 0 };
    cr_assert_eq(odt_set(&p, "a", av), 0);
    cr_assert_eq(odt_set(&p, "b", bv), 0);
    cr_assert_eq(odt_run(&p, msg, sizeof msg), 0, "%s", msg);
    double e = odt_compare(&p, "y", 1e-3);
    cr_expect(e >= 0 && e <= TOL, "relu(a + b) differs from the reference by %.3g", e);
    odt_pair_free(&p);
    aigtatt_nn_free(nn);
    odt_backend()->close(dev);
}

/* Inference folds batch norm into the convolution's weights once and
 * redoes it only when a folded value changes. A weight computed in the
 * graph (reshape of a parameter) has no version of its own: after set()
 * of the parameter the fold must still follow, as the reference does. */
Test(onednn, folded_batch_norm_follows_a_computed_weight)
{
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    int64_t xs[4] = { 2, 8, 6, 6 }, flat[1] = { 8 * 8 * 9 }, ws[4] = { 8, 8, 3, 3 }, c = 8;
    aigtatt_val x = A->input(nn, "x", AIGTATT_F32, 4, xs);
    aigtatt_val wf = A->param(nn, "wflat", 1, flat, (aigtatt_nn_init){ .kind = AIGTATT_INIT_UNIFORM, .a = -0.3, .b = 0.3 });
    aigtatt_conv_opts co = { .struct_size = sizeof co, .stride = { 1, 1 }, .padding = { 1, 1 } };
    aigtatt_val y = A->conv2d(nn, x, A->reshape(nn, wf, 4, ws), AIGTATT_NN_INVALID, &co);
    aigtatt_val g = A->param(nn, "g", 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ONES });
    aigtatt_val b = A->param(nn, "b", 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    aigtatt_val rm = A->buffer(nn, "rm", AIGTATT_F32, 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    aigtatt_val rv = A->buffer(nn, "rv", AIGTATT_F32, 1, &c, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ONES });
    A->output(nn, "y", A->unary(nn, AIGTATT_RELU, A->batch_norm(nn, y, g, b, rm, rv, AIGTATT_NN_INVALID, 0.1, 1e-5)));
    odt_pair p;
    char msg[1024];
    void *dev = inference_pair(nn, &p);
    double *xv = malloc(sizeof(double) * 2 * 8 * 36), *wv = malloc(sizeof(double) * 8 * 8 * 9);
    for (int i = 0; i < 2 * 8 * 36; i++)
        xv[i] = sin(0.37 * i);
    cr_assert_eq(odt_set(&p, "x", xv), 0);
    for (int run = 0; run < 3; run++) {
        for (int i = 0; i < 8 * 8 * 9; i++)
            wv[i] = (run + 1) * 0.05 * cos(0.11 * i + run);
        cr_assert_eq(odt_set(&p, "wflat", wv), 0);
        cr_assert_eq(odt_run(&p, msg, sizeof msg), 0, "%s", msg);
        double e = odt_compare(&p, "y", 1e-3);
        cr_expect(e >= 0 && e <= TOL, "run %d after set(): differs from the reference by %.3g", run + 1, e);
    }
    free(xv);
    free(wv);
    odt_pair_free(&p);
    aigtatt_nn_free(nn);
    odt_backend()->close(dev);
}

Test(onednn, refuses_f64)
{
    const ct_case *c = &ct_cases[0];
    aigtatt_nn *nn = aigtatt_nn_new(0, 1);
    aigtatt_val loss = ct_build(c, nn);
    aigtatt_nn_lower_opts o = { .loss = loss, .expose_grads = 1, .f64 = 1 };
    aigtatt_nn_lowered *low = NULL;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &low), AIGTATT_OK);
    void *prog = NULL;
    cr_expect_neq(odt_backend()->compile(NULL, aigtatt_nn_lowered_ir(low), &prog), AIGTATT_OK);
    cr_expect_null(prog);
    aigtatt_nn_lowered_free(low);
    aigtatt_nn_free(nn);
}

/* precision bf16 where oneDNN has bf16 kernels (AVX-512): every op case
 * against the reference within TOL_BF16. Elsewhere (AVX2) the device is
 * refused with a message that says why and what to use instead. */
Test(onednn, bf16_every_op_or_refused_with_reason, .timeout = 600)
{
    void *dev = NULL;
    if (odt_open("precision: bf16\n", &dev) != 0) {
        const char *m = aigtatt_last_error();
        fprintf(stderr, "[bf16] refused: %s\n", m);
        cr_expect(strstr(m, "precision bf16") && strstr(m, "use precision f32"), "message: %s", m);
        cr_expect(!__builtin_cpu_supports("avx512bf16"), "this CPU has AVX512-BF16, yet bf16 was refused: %s", m);
        return;
    }
    tol = TOL_BF16;
    all_cases(dev, "precision bf16");
    tol = TOL;
    odt_backend()->close(dev);
}
