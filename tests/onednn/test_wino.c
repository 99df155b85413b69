/* convolution: winograd (plugins/backend/onednn/od_wino*.c) against
 * backend.reference, which convolves directly in double: forward output,
 * gradient of the input (backward data) and of the weights (backward
 * weights) through the loss sum(y * dy), on shapes that exercise the
 * tiling (outputs not a multiple of 4, padding 0, 1 and 2, channel counts
 * of one and of several blocks, batches of 1 and 2). Inputs and weights
 * are N(0, 1).
 *
 * Tolerance: max |onednn - reference| / max |reference| <= 5e-5. Winograd
 * F(4x4, 3x3) scales by up to 8 and 1/24 in its transforms, so its float
 * rounding is ~10x a direct convolution's (measured: up to 5e-6 here, see the
 * log); the direct path is held to 1e-5 in test_ops.c.
 *
 * The step list (param verbose) must show the three Winograd steps for an
 * eligible convolution and none for one that is not (stride 2, 4
 * channels): the test fails if the option silently does nothing. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compute/ct.h"
#include "odt.h"

#define TOL 5e-5
#define IN(k, ...) { k, (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)), { __VA_ARGS__ }, 0 }

typedef struct wcase {
    ct_case c;
    int winograd_steps; /* expected in the step list */
} wcase;

/* ints: stride h, w, padding h, w, dilation h, w, groups */
static const wcase cases[] = {
    { { .name = "pad1_ragged", .op = "conv2d", .n_in = 2, .in = { IN('p', 2, 8, 9, 7), IN('p', 16, 8, 3, 3) }, .i = { 1, 1, 1, 1, 1, 1, 1 } }, 3 },
    { { .name = "pad0", .op = "conv2d", .n_in = 2, .in = { IN('p', 1, 16, 10, 11), IN('p', 8, 16, 3, 3) }, .i = { 1, 1, 0, 0, 1, 1, 1 } }, 3 },
    { { .name = "pad2", .op = "conv2d", .n_in = 2, .in = { IN('p', 2, 8, 5, 6), IN('p', 24, 8, 3, 3) }, .i = { 1, 1, 2, 2, 1, 1, 1 } }, 3 },
    { { .name = "wide", .op = "conv2d", .n_in = 2, .in = { IN('p', 2, 64, 14, 14), IN('p', 32, 64, 3, 3) }, .i = { 1, 1, 1, 1, 1, 1, 1 } }, 3 },
    { { .name = "tiny_map", .op = "conv2d", .n_in = 2, .in = { IN('p', 3, 16, 2, 3), IN('p', 16, 16, 3, 3) }, .i = { 1, 1, 1, 1, 1, 1, 1 } }, 3 },
    /* not eligible: direct, as before */
    { { .name = "stride2", .op = "conv2d", .n_in = 2, .in = { IN('p', 1, 8, 9, 9), IN('p', 8, 8, 3, 3) }, .i = { 2, 2, 1, 1, 1, 1, 1 } }, 0 },
    { { .name = "bias", .op = "conv2d", .n_in = 3, .in = { IN('p', 2, 8, 6, 7), IN('p', 16, 8, 3, 3), IN('p', 16) }, .i = { 1, 1, 1, 1, 1, 1, 1 } }, 3 },
    /* 72 tiles of 24 channels: the fused schedule forward and backward
     * data (od_wino_lower.c), 16- and 8-column panels, with a bias */
    { { .name = "fused_bias", .op = "conv2d", .n_in = 3, .in = { IN('p', 2, 24, 24, 24), IN('p', 24, 24, 3, 3), IN('p', 24) }, .i = { 1, 1, 1, 1, 1, 1, 1 } }, 3 },
    { { .name = "four_channels", .op = "conv2d", .n_in = 2, .in = { IN('p', 1, 4, 6, 6), IN('p', 8, 4, 3, 3) }, .i = { 1, 1, 1, 1, 1, 1, 1 } }, 0 },
};

static double run(const wcase *w, void *dev)
{
    const ct_case *c = &w->c;
    char msg[1024];
    aigtatt_nn *nn = aigtatt_nn_new(c->training, 4321);
    aigtatt_val loss = ct_build(c, nn);
    aigtatt_nn_lower_opts o = { .loss = loss, .expose_grads = 1 };
    aigtatt_nn_lowered *low = NULL;
    cr_assert_eq(aigtatt_nn_lower(nn, &o, &low), AIGTATT_OK, "%s: lower", c->name);
    odt_pair p;
    int steps = odt_pair_make_counting(&p, low, dev, "_winograd", msg, sizeof msg);
    cr_assert_geq(steps, 0, "%s: compile: %s", c->name, msg);
    cr_expect_eq(steps, w->winograd_steps, "%s: %d Winograd steps, expected %d", c->name, steps, w->winograd_steps);
    for (int k = 0; k < c->n_in; k++) {
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        double *d = ct_data(c, k, 99);
        cr_assert_eq(odt_set(&p, name, d), 0);
        free(d);
    }
    int32_t dyv = aigtatt_nn_lowered_find(p.low, "dy");
    cr_assert_geq(dyv, 0);
    double *d = ct_dy(c, aigtatt_nn_value_numel(&p.ir->values[dyv]), 99);
    odt_set(&p, "dy", d);
    free(d);
    cr_assert_eq(odt_run(&p, msg, sizeof msg), 0, "%s: %s", c->name, msg);
    const char *names[] = { "y", "grad:in0", "grad:in1", "grad:in2" };
    double worst = 0;
    for (int i = 0; i <= c->n_in; i++) {
        double e = odt_compare(&p, names[i], 0);
        cr_expect(e >= 0 && e <= TOL, "%s: %s differs by %.3g", c->name, names[i], e);
        cr_log_info("winograd %-12s %-9s %.2e", c->name, names[i], e);
        worst = e > worst ? e : worst;
    }
    odt_pair_free(&p);
    aigtatt_nn_free(nn);
    return worst;
}

static void all(const char *yaml)
{
    void *dev = NULL;
    cr_assert_eq(odt_open(yaml, &dev), 0);
    double worst = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double e = run(&cases[i], dev);
        worst = e > worst ? e : worst;
    }
    fprintf(stderr, "[winograd] %zu cases, worst relative error %.2e (tolerance %.0e)\n",
            sizeof cases / sizeof cases[0], worst, TOL);
    odt_backend()->close(dev);
}

Test(winograd, against_reference_two_threads, .timeout = 300) { all("threads: 2\nverbose: true\nconvolution: winograd\n"); }
Test(winograd, against_reference_one_thread_unfused, .timeout = 300)
{
    all("threads: 1\nfuse: false\nverbose: true\nconvolution: winograd\n");
}

/* Large batches go through the batch in chunks of images (the
 * temporaries stay under 256 MiB); forced here to one image per pass, which
 * the 2- and 3-image cases split (backward weights sum over the chunks). */
Test(winograd, one_image_per_pass, .timeout = 300)
{
    setenv("AIGTATT_ONEDNN_WINO_TEMP_KB", "1", 1);
    all("threads: 2\nverbose: true\nconvolution: winograd\n");
    unsetenv("AIGTATT_ONEDNN_WINO_TEMP_KB");
}

/* AIGTATT_ONEDNN_WINO_SGEMM=1: the forward's products in oneDNN's sgemm
 * (the switch that measures it against the backend's own kernel) */
Test(winograd, products_in_sgemm, .timeout = 300)
{
    setenv("AIGTATT_ONEDNN_WINO_SGEMM", "1", 1);
    all("threads: 2\nverbose: true\nconvolution: winograd\n");
    unsetenv("AIGTATT_ONEDNN_WINO_SGEMM");
}

/* The listing counts what it should: without the option no step is
 * Winograd (guards the counter itself). */
Test(winograd, direct_has_none)
{
    void *dev = NULL;
    cr_assert_eq(odt_open("verbose: true\n", &dev), 0);
    wcase w = cases[0];
    w.winograd_steps = 0;
    run(&w, dev);
    odt_backend()->close(dev);
}
