/* Shared by bench/train and bench/infer (header-only): loading
 * backend.onednn and backbone.resnet from the build tree, the command
 * line, FLOP counting from the lowered IR, timing. */
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

/* backbone.resnet from the build tree, as torchvision's resnet<depth> with
 * a Linear(in, K) head; NULL-valued on failure (message printed). */
static aigtatt_val bench_backbone(aigtatt_nn *nn, aigtatt_val image, int depth, int64_t K)
{
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    const aigtatt_component *c = bench_component(AIGTATT_BENCH_RESNET_PLUGIN, "backbone.resnet");
    char yaml[128];
    snprintf(yaml, sizeof yaml, "depth: \"%d\"\nembedding_size: %lld\n", depth, (long long)K);
    aigtatt_params *p = c && c->desc.kind == AIGTATT_KIND_BACKBONE ? bench_params(c, yaml) : NULL;
    if (!p) {
        fprintf(stderr, "backbone.resnet: %s\n", aigtatt_last_error());
        return AIGTATT_NN_INVALID;
    }
    const aigtatt_backbone_vtable *vt = c->desc.vtable;
    aigtatt_val y = vt->build(p, A, nn, image);
    aigtatt_params_free(p);
    return y;
}

/* Command line of both benchmarks; `batch` comes in as the default. */
typedef struct bench_args {
    int depth, batch, size, threads, steps, warmup, fuse, verbose, check;
    int native_bn; /* backend.onednn's `native_bn` */
    const char *precision; /* backend.onednn's `precision`: f32 or bf16 */
    const char *conv;      /* backend.onednn's `convolution`: direct, auto or winograd */
    int64_t classes;
    double peak;
} bench_args;

static int bench_parse(int argc, char **argv, bench_args *a)
{
    a->depth = 50, a->size = 224, a->threads = 2, a->steps = 5, a->warmup = 2, a->fuse = 1, a->verbose = 0;
    a->native_bn = 1;
    a->classes = 1000;
    a->peak = 0;
    a->precision = "f32";
    a->conv = "direct";
    a->check = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(o, "--depth")) a->depth = atoi(v), i++;
        else if (!strcmp(o, "--batch")) a->batch = atoi(v), i++;
        else if (!strcmp(o, "--size")) a->size = atoi(v), i++;
        else if (!strcmp(o, "--threads")) a->threads = atoi(v), i++;
        else if (!strcmp(o, "--steps")) a->steps = atoi(v), i++;
        else if (!strcmp(o, "--warmup")) a->warmup = atoi(v), i++;
        else if (!strcmp(o, "--classes")) a->classes = atoll(v), i++;
        else if (!strcmp(o, "--peak")) a->peak = atof(v), i++;
        else if (!strcmp(o, "--no-fuse")) a->fuse = 0;
        else if (!strcmp(o, "--no-native-bn")) a->native_bn = 0;
        else if (!strcmp(o, "--verbose")) a->verbose = 1;
        else if (!strcmp(o, "--precision")) a->precision = v, i++;
        else if (!strcmp(o, "--check")) a->check = 1;
        else if (!strcmp(o, "--conv")) a->conv = v, i++;
        else {
            fprintf(stderr, "usage: %s [--depth N] [--batch N] [--size N] [--threads N] [--steps N] [--warmup N] "
                            "[--classes N] [--peak GFLOPS] [--precision f32|bf16] [--conv direct|auto|winograd] [--check] [--no-fuse] [--no-native-bn] [--verbose]\n", argv[0]);
            return -1;
        }
    }
    return 0;
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

/* backend.onednn's parameters for the command line. */
static aigtatt_params *bench_backend_params(const aigtatt_component *bc, const bench_args *g, const char *precision)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml, "threads: %d\nfuse: %s\nverbose: %s\nprecision: %s\nconvolution: %s\nnative_bn: %s\n",
             g->threads, g->fuse ? "true" : "false", g->verbose ? "true" : "false", precision, g->conv,
             g->native_bn ? "true" : "false");
    return bench_params(bc, yaml);
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
