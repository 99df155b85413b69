/* Shared by bench/train and bench/infer (header-only): loading
 * backend.onednn and backbone.resnet from the build tree, a built-in
 * torchvision ResNet for when the backbone plugin is absent, FLOP counting
 * from the lowered IR, timing. */
#ifndef AIGTATT_BENCH_COMMON_H
#define AIGTATT_BENCH_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <aigtatt/aigtatt.h>
#include "compute/nn_core.h"
#include "config/cfg.h"
#include "config/params.h"
#include "plugin/registry.h"
#include "util/error.h"
#include "util/rng.h"

static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const aigtatt_component *bench_component(const char *path, const char *name)
{
    if (path && path[0] && aigtatt_registry_load_file(path) != AIGTATT_OK)
        return NULL;
    return aigtatt_registry_find(name);
}

static aigtatt_params *bench_params(const aigtatt_component *c, const char *yaml)
{
    aigtatt_cfg *cfg = NULL;
    if (aigtatt_cfg_load_string(yaml, strlen(yaml), "bench", &cfg) != AIGTATT_OK)
        return NULL;
    aigtatt_params *p = NULL;
    int rc = aigtatt_params_parse(cfg, &c->desc, NULL, &p);
    aigtatt_cfg_free(cfg);
    return rc == AIGTATT_OK ? p : NULL;
}

/* ---- a built-in torchvision ResNet (used only without backbone.resnet) ---- */

static aigtatt_val bench_conv(const aigtatt_nn_api *A, aigtatt_nn *nn, const char *name, aigtatt_val x, int64_t in,
                              int64_t out, int64_t k, int64_t s)
{
    A->push(nn, name);
    int64_t ws[4] = { out, in, k, k };
    aigtatt_val w = A->param(nn, "weight", 4, ws, (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_NORMAL });
    A->pop(nn);
    aigtatt_conv_opts o = { .struct_size = sizeof o, .stride = { s, s }, .padding = { k / 2, k / 2 } };
    return A->conv2d(nn, x, w, AIGTATT_NN_INVALID, &o);
}

static aigtatt_val bench_bn(const aigtatt_nn_api *A, aigtatt_nn *nn, const char *name, aigtatt_val x, int64_t c)
{
    A->push(nn, name);
    aigtatt_nn_init z = { .kind = AIGTATT_INIT_ZEROS }, one = { .kind = AIGTATT_INIT_ONES };
    aigtatt_val w = A->param(nn, "weight", 1, &c, one), b = A->param(nn, "bias", 1, &c, z);
    aigtatt_val rm = A->buffer(nn, "running_mean", AIGTATT_F32, 1, &c, z);
    aigtatt_val rv = A->buffer(nn, "running_var", AIGTATT_F32, 1, &c, one);
    aigtatt_val nb = A->buffer(nn, "num_batches_tracked", AIGTATT_I64, 0, NULL, z);
    A->pop(nn);
    return A->batch_norm(nn, x, w, b, rm, rv, nb, 0.1, 1e-5);
}

static aigtatt_val bench_resnet(const aigtatt_nn_api *A, aigtatt_nn *nn, aigtatt_val x, int depth, int64_t K)
{
    static const int blocks[5][4] = { { 2, 2, 2, 2 }, { 3, 4, 6, 3 }, { 3, 4, 6, 3 }, { 3, 4, 23, 3 }, { 3, 8, 36, 3 } };
    int di = depth == 18 ? 0 : depth == 34 ? 1 : depth == 50 ? 2 : depth == 101 ? 3 : 4;
    int bott = depth >= 50;
    int64_t exp = bott ? 4 : 1, in = 64;
    x = A->unary(nn, AIGTATT_RELU, bench_bn(A, nn, "bn1", bench_conv(A, nn, "conv1", x, 3, 64, 7, 2), 64));
    aigtatt_pool_opts mp = { .struct_size = sizeof mp, .max = 1, .kernel = { 3, 3 }, .stride = { 2, 2 }, .padding = { 1, 1 } };
    x = A->pool2d(nn, x, &mp);
    for (int l = 0; l < 4; l++) {
        char ln[16];
        snprintf(ln, sizeof ln, "layer%d", l + 1);
        A->push(nn, ln);
        int64_t planes = (int64_t)64 << l;
        for (int b = 0; b < blocks[di][l]; b++) {
            char bi[16];
            snprintf(bi, sizeof bi, "%d", b);
            A->push(nn, bi);
            int64_t s = (b == 0 && l > 0) ? 2 : 1;
            aigtatt_val h;
            if (bott) {
                h = A->unary(nn, AIGTATT_RELU, bench_bn(A, nn, "bn1", bench_conv(A, nn, "conv1", x, in, planes, 1, 1), planes));
                h = A->unary(nn, AIGTATT_RELU, bench_bn(A, nn, "bn2", bench_conv(A, nn, "conv2", h, planes, planes, 3, s), planes));
                h = bench_bn(A, nn, "bn3", bench_conv(A, nn, "conv3", h, planes, planes * 4, 1, 1), planes * 4);
            } else {
                h = A->unary(nn, AIGTATT_RELU, bench_bn(A, nn, "bn1", bench_conv(A, nn, "conv1", x, in, planes, 3, s), planes));
                h = bench_bn(A, nn, "bn2", bench_conv(A, nn, "conv2", h, planes, planes, 3, 1), planes);
            }
            aigtatt_val id = x;
            if (s != 1 || in != planes * exp) {
                A->push(nn, "downsample");
                id = bench_bn(A, nn, "1", bench_conv(A, nn, "0", x, in, planes * exp, 1, s), planes * exp);
                A->pop(nn);
            }
            x = A->unary(nn, AIGTATT_RELU, A->binary(nn, AIGTATT_ADD, h, id));
            in = planes * exp;
            A->pop(nn);
        }
        A->pop(nn);
    }
    x = A->global_avg_pool(nn, x);
    int64_t flat[2] = { 0, -1 };
    x = A->reshape(nn, x, 2, flat);
    A->push(nn, "fc");
    double bound = 1.0 / sqrt((double)in);
    aigtatt_val w = A->param(nn, "weight", 2, (int64_t[2]){ K, in }, (aigtatt_nn_init){ .kind = AIGTATT_INIT_KAIMING_UNIFORM });
    aigtatt_val b = A->param(nn, "bias", 1, (int64_t[1]){ K },
                             (aigtatt_nn_init){ .kind = AIGTATT_INIT_UNIFORM, .a = -bound, .b = bound });
    A->pop(nn);
    return A->linear(nn, x, w, b);
}

/* The backbone: backbone.resnet when it loads, else the built-in copy.
 * *which says which. */
static aigtatt_val bench_backbone(aigtatt_nn *nn, aigtatt_val image, int depth, int64_t K, const char **which)
{
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
#ifdef AIGTATT_BENCH_RESNET_PLUGIN
    const aigtatt_component *c = bench_component(AIGTATT_BENCH_RESNET_PLUGIN, "backbone.resnet");
    if (c && c->desc.kind == AIGTATT_KIND_BACKBONE) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "depth: \"%d\"\nembedding_size: %lld\n", depth, (long long)K);
        aigtatt_params *p = bench_params(c, yaml);
        if (p) {
            const aigtatt_backbone_vtable *vt = c->desc.vtable;
            aigtatt_val y = vt->build(p, A, nn, image);
            aigtatt_params_free(p);
            *which = "backbone.resnet plugin";
            return y;
        }
    }
#endif
    *which = "built-in ResNet (backbone.resnet not built)";
    return bench_resnet(A, nn, image, depth, K);
}

/* 2 x multiply-adds of the convolutions, linears and matmuls in the IR
 * (forward and backward): the usual "model FLOPs". */
static double bench_flops(const aigtatt_ir *ir)
{
    double f = 0;
    for (size_t k = 0; k < ir->n_ops; k++) {
        const aigtatt_ir_op *o = &ir->ops[k];
        const aigtatt_ir_value *v = ir->values;
        switch (o->op) {
        case AIGTATT_OP_CONV2D:
        case AIGTATT_OP_CONV2D_BWD_DATA:
        case AIGTATT_OP_CONV2D_BWD_WEIGHT: {
            /* per output element of the forward: C/g * kh * kw MACs */
            const aigtatt_ir_value *w = o->op == AIGTATT_OP_CONV2D_BWD_WEIGHT ? &v[o->out[0]] : &v[o->in[1]];
            const aigtatt_ir_value *y = o->op == AIGTATT_OP_CONV2D ? &v[o->out[0]]
                                      : o->op == AIGTATT_OP_CONV2D_BWD_DATA ? &v[o->in[0]] : &v[o->in[1]];
            double out = (double)y->shape[0] * (double)y->shape[1] * (double)y->shape[2] * (double)y->shape[3];
            f += 2.0 * out * (double)(w->shape[1] * w->shape[2] * w->shape[3]);
            break;
        }
        case AIGTATT_OP_LINEAR: {
            const aigtatt_ir_value *w = &v[o->in[1]], *y = &v[o->out[0]];
            double n = 1;
            for (int d = 0; d < y->ndim; d++)
                n *= (double)y->shape[d];
            f += 2.0 * n * (double)w->shape[1];
            break;
        }
        case AIGTATT_OP_MATMUL: {
            const aigtatt_ir_value *a = &v[o->in[0]], *y = &v[o->out[0]];
            double n = 1;
            for (int d = 0; d < y->ndim; d++)
                n *= (double)y->shape[d];
            f += 2.0 * n * (double)(o->ints[0] ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1]);
            break;
        }
        default:
            break;
        }
    }
    return f;
}

static void bench_fill_normal(float *d, size_t n, uint64_t seed)
{
    aigtatt_rng r;
    aigtatt_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        d[i] = (float)aigtatt_rng_normal(&r);
}

static int bench_set(const aigtatt_backend_vtable *be, void *prog, aigtatt_nn_lowered *low, const char *name,
                     const void *data, size_t nbytes)
{
    int32_t v = aigtatt_nn_lowered_find(low, name);
    if (v < 0) {
        fprintf(stderr, "no value %s\n", name);
        return -1;
    }
    if (be->set(prog, v, data, nbytes) != AIGTATT_OK) {
        fprintf(stderr, "set %s: %s\n", name, aigtatt_last_error());
        return -1;
    }
    return 0;
}

#endif
