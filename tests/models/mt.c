#include "mt.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/cfg.h"
#include "host/host.h"
#include "tensor/safetensors.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/rng.h"

#ifndef MT_SOURCE_DIR
#define MT_SOURCE_DIR "tests/models"
#endif

/* ---- plugins ---- */

static const char *const mt_plugins[] = { "aigtatt_backend_reference.so", "aigtatt_backbone_resnet.so",
                                          "aigtatt_loss_margin.so", "aigtatt_optim.so" };

void mt_setup(void)
{
    static int done;
    if (done)
        return;
    const char *dir = getenv("AIGTATT_PLUGIN_DIR");
    cr_assert(dir && *dir, "AIGTATT_PLUGIN_DIR is not set (run the test through ctest)");
    for (size_t i = 0; i < sizeof mt_plugins / sizeof mt_plugins[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, mt_plugins[i]);
        cr_assert_eq(aigtatt_registry_load_file(path), AIGTATT_OK, "loading %s: %s", path, aigtatt_last_error());
    }
    /* optional: where it was not built, mt_have_onednn() says so; where it
     * was, it must load (a refused one would hide its parity tests) */
    char path[1024];
    snprintf(path, sizeof path, "%s/aigtatt_backend_onednn.so", dir);
    if (access(path, F_OK) == 0)
        cr_assert_eq(aigtatt_registry_load_file(path), AIGTATT_OK, "loading %s: %s", path, aigtatt_last_error());
    done = 1;
}

int mt_have_onednn(void)
{
    mt_setup();
    return aigtatt_registry_find("backend.onednn") != NULL;
}

const aigtatt_component *mt_component(const char *name)
{
    mt_setup();
    const aigtatt_component *c = aigtatt_registry_find(name);
    cr_assert(c, "component %s is not loaded", name);
    return c;
}

const aigtatt_backend_vtable *mt_backend(void)
{
    return mt_component("backend.reference")->desc.vtable;
}

aigtatt_params *mt_params_try(const char *component, const char *yaml, char *msg, size_t msg_size)
{
    const aigtatt_component *c = mt_component(component);
    aigtatt_cfg *cfg = NULL;
    if (yaml && *yaml && aigtatt_cfg_load_string(yaml, strlen(yaml), "test.yaml", &cfg) != AIGTATT_OK) {
        snprintf(msg, msg_size, "%s", aigtatt_last_error());
        return NULL;
    }
    aigtatt_params *p = NULL;
    int rc = aigtatt_host_get()->params_parse(cfg, &c->desc, &p);
    if (rc == AIGTATT_OK && c->desc.vtable) {
        /* the vtables of building blocks with a check() start like this */
        if (c->desc.kind == AIGTATT_KIND_OPTIMIZER) {
            const aigtatt_optimizer_vtable *v = c->desc.vtable;
            if (v->check)
                rc = v->check(p);
        }
    }
    if (rc != AIGTATT_OK) {
        snprintf(msg, msg_size, "%s", aigtatt_last_error());
        aigtatt_host_get()->params_free(p);
        p = NULL;
    }
    aigtatt_cfg_free(cfg);
    return p;
}

aigtatt_params *mt_params(const char *component, const char *yaml)
{
    char msg[1024];
    aigtatt_params *p = mt_params_try(component, yaml, msg, sizeof msg);
    cr_assert(p, "parameters of %s {%s}: %s", component, yaml ? yaml : "", msg);
    return p;
}

void mt_params_free(aigtatt_params *p) { aigtatt_host_get()->params_free(p); }

/* ---- networks ---- */

double mt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double mt_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

aigtatt_nn_optim mt_optim_from_spec(const aigtatt_optim_spec *s) { return aigtatt_nn_optim_from_spec(s); }

aigtatt_optim_spec mt_describe(const char *name, const char *yaml)
{
    aigtatt_params *p = mt_params(name, yaml);
    const aigtatt_optimizer_vtable *v = mt_component(name)->desc.vtable;
    aigtatt_optim_spec s = { .struct_size = sizeof s };
    cr_assert_eq(v->describe(p, &s), AIGTATT_OK, "%s: %s", name, aigtatt_last_error());
    mt_params_free(p);
    return s;
}

int mt_build(const mt_spec *s, mt_net *net, char *msg, size_t msg_size)
{
    memset(net, 0, sizeof *net);
    double t0 = mt_now();
    const aigtatt_nn_api *A = aigtatt_nn_api_get();
    net->nn = aigtatt_nn_new(s->training, s->seed);
    aigtatt_nn *nn = net->nn;
    aigtatt_val emb;
    if (s->backbone_yaml) {
        aigtatt_params *bp = mt_params("backbone.resnet", s->backbone_yaml);
        const aigtatt_backbone_vtable *bb = mt_component("backbone.resnet")->desc.vtable;
        aigtatt_val image = A->input(nn, "image", AIGTATT_F32, 4, (int64_t[4]){ s->n, 3, s->h, s->w });
        emb = bb->build(bp, A, nn, image);
        mt_params_free(bp);
    } else {
        emb = A->param(nn, "emb", 2, (int64_t[2]){ s->n, s->k }, (aigtatt_nn_init){ .kind = AIGTATT_INIT_ZEROS });
    }
    net->embedding = emb;
    A->output(nn, "embedding", emb);
    net->loss = AIGTATT_NN_INVALID;
    if (s->loss) {
        aigtatt_params *lp = mt_params(s->loss, s->loss_yaml);
        const aigtatt_loss_vtable *lv = mt_component(s->loss)->desc.vtable;
        aigtatt_val labels = A->input(nn, "labels", AIGTATT_I64, 1, (int64_t[1]){ s->n });
        A->push(nn, "loss");
        net->loss = lv->build(lp, A, nn, emb, labels, s->classes);
        A->pop(nn);
        mt_params_free(lp);
    } else if (s->dy_loss) {
        int64_t sh[AIGTATT_NN_MAX_DIMS];
        int nd = A->shape(nn, emb, sh);
        aigtatt_val dy = A->input(nn, "dy", AIGTATT_F32, nd > 0 ? nd : 1, sh);
        net->loss = A->reduce(nn, AIGTATT_REDUCE_SUM, A->binary(nn, AIGTATT_MUL, emb, dy), 0, NULL, 0);
    }
    if (net->loss >= 0)
        A->output(nn, "loss", net->loss);
    const char *err;
    if (A->status(nn, &err) != AIGTATT_OK) {
        snprintf(msg, msg_size, "build: %s", err);
        return -1;
    }
    aigtatt_nn_lower_opts o = { .loss = net->loss, .expose_grads = s->expose_grads, .optim = s->optim,
                                .f64 = s->f64 };
    if (aigtatt_nn_lower(nn, &o, &net->low) != AIGTATT_OK) {
        snprintf(msg, msg_size, "lower: %s", aigtatt_last_error());
        return -1;
    }
    net->ir = aigtatt_nn_lowered_ir(net->low);
    double t1 = mt_now();
    const aigtatt_backend_vtable *be = s->backend ? mt_component(s->backend)->desc.vtable : mt_backend();
    net->be = be;
    if (s->backend_yaml) {
        aigtatt_params *bp = mt_params(s->backend ? s->backend : "backend.reference", s->backend_yaml);
        int rc = be->open(bp, &net->device);
        mt_params_free(bp);
        if (rc != AIGTATT_OK) {
            snprintf(msg, msg_size, "open: %s", aigtatt_last_error());
            return -1;
        }
    }
    if (be->compile(net->device, net->ir, &net->prog) != AIGTATT_OK ||
        aigtatt_nn_init_program(net->low, s->seed, be, net->prog) != AIGTATT_OK) {
        snprintf(msg, msg_size, "compile: %s", aigtatt_last_error());
        return -1;
    }
    net->build_s = t1 - t0;
    net->compile_s = mt_now() - t1;
    return 0;
}

void mt_free(mt_net *net)
{
    if (net->prog)
        net->be->release(net->prog);
    if (net->device)
        net->be->close(net->device);
    aigtatt_nn_lowered_free(net->low);
    aigtatt_nn_free(net->nn);
    memset(net, 0, sizeof *net);
}

int mt_set(mt_net *net, const char *name, const double *data)
{
    int32_t v = aigtatt_nn_lowered_find(net->low, name);
    if (v < 0)
        return -1;
    const aigtatt_ir_value *iv = &net->ir->values[v];
    int64_t n = aigtatt_nn_value_numel(iv);
    size_t nb = aigtatt_nn_value_bytes(iv);
    void *buf = malloc(nb ? nb : 1);
    for (int64_t i = 0; i < n; i++) {
        if (iv->dtype == AIGTATT_F32)
            ((float *)buf)[i] = (float)data[i];
        else if (iv->dtype == AIGTATT_F64)
            ((double *)buf)[i] = data[i];
        else
            ((int64_t *)buf)[i] = (int64_t)data[i];
    }
    int rc = net->be->set(net->prog, v, buf, nb);
    free(buf);
    return rc == AIGTATT_OK ? 0 : -1;
}

double *mt_get(mt_net *net, const char *name, int64_t *n)
{
    int32_t v = aigtatt_nn_lowered_find(net->low, name);
    if (v < 0)
        return NULL;
    const aigtatt_ir_value *iv = &net->ir->values[v];
    *n = aigtatt_nn_value_numel(iv);
    size_t nb = aigtatt_nn_value_bytes(iv);
    void *buf = malloc(nb ? nb : 1);
    double *d = malloc(sizeof(double) * (size_t)(*n ? *n : 1));
    if (net->be->get(net->prog, v, buf, nb) != AIGTATT_OK) {
        free(buf);
        free(d);
        return NULL;
    }
    for (int64_t i = 0; i < *n; i++)
        d[i] = iv->dtype == AIGTATT_F32 ? ((float *)buf)[i]
             : iv->dtype == AIGTATT_F64 ? ((double *)buf)[i]
                                        : (double)((int64_t *)buf)[i];
    free(buf);
    return d;
}

int mt_run(mt_net *net, double *seconds, char *msg, size_t msg_size)
{
    double t0 = mt_now();
    if (net->be->run(net->prog) != AIGTATT_OK) {
        snprintf(msg, msg_size, "run: %s", aigtatt_last_error());
        return -1;
    }
    if (seconds)
        *seconds += mt_now() - t0;
    return 0;
}

static int is_state(const aigtatt_ir_value *v)
{
    return (v->role == AIGTATT_IR_PARAM || v->role == AIGTATT_IR_BUFFER) && v->name;
}

int mt_save_state(mt_net *net, const char *path)
{
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    int rc = w ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    for (size_t i = 0; rc == AIGTATT_OK && i < net->ir->n_values; i++) {
        const aigtatt_ir_value *v = &net->ir->values[i];
        if (!is_state(v))
            continue;
        size_t nb = aigtatt_nn_value_bytes(v);
        void *buf = malloc(nb ? nb : 1);
        uint64_t shape[AIGTATT_NN_MAX_DIMS];
        for (int d = 0; d < v->ndim; d++)
            shape[d] = (uint64_t)v->shape[d];
        rc = net->be->get(net->prog, (int32_t)i, buf, nb);
        if (rc == AIGTATT_OK)
            rc = aigtatt_st_writer_add(w, v->name,
                                       v->dtype == AIGTATT_I64   ? AIGTATT_ST_I64
                                       : v->dtype == AIGTATT_F64 ? AIGTATT_ST_F64
                                                                 : AIGTATT_ST_F32,
                                       (size_t)v->ndim, shape, buf, nb, 0);
        free(buf);
    }
    if (rc == AIGTATT_OK)
        rc = aigtatt_st_writer_write(w, path);
    aigtatt_st_writer_free(w);
    return rc == AIGTATT_OK ? 0 : -1;
}

/* A tensor's F32, F64 or I64 values as new doubles (malloc'd). */
static double *st_doubles(const aigtatt_st_info *info)
{
    double *d = malloc(sizeof(double) * (size_t)(info->numel ? info->numel : 1));
    const unsigned char *p = (const unsigned char *)info->data;
    for (uint64_t i = 0; d && i < info->numel; i++) {
        if (info->dtype == AIGTATT_ST_F32) {
            float f;
            memcpy(&f, p + 4 * i, 4);
            d[i] = f;
        } else if (info->dtype == AIGTATT_ST_F64) {
            memcpy(&d[i], p + 8 * i, 8);
        } else {
            int64_t l;
            memcpy(&l, p + 8 * i, 8);
            d[i] = (double)l;
        }
    }
    return d;
}

int mt_load_state(mt_net *net, const char *path, char *msg, size_t msg_size)
{
    aigtatt_st *st;
    if (aigtatt_st_open(path, &st) != AIGTATT_OK) {
        snprintf(msg, msg_size, "%s", aigtatt_last_error());
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; !bad && i < net->ir->n_values; i++) {
        const aigtatt_ir_value *v = &net->ir->values[i];
        if (!is_state(v))
            continue;
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        if (aigtatt_st_find(st, v->name, &info) != AIGTATT_OK) {
            snprintf(msg, msg_size, "%s: no tensor %s", path, v->name);
            bad = 1;
            break;
        }
        int same = info.ndim == (size_t)v->ndim &&
                   (v->dtype == AIGTATT_I64 ? info.dtype == AIGTATT_ST_I64
                                            : info.dtype == AIGTATT_ST_F32 || info.dtype == AIGTATT_ST_F64);
        for (int d = 0; same && d < v->ndim; d++)
            same = info.shape[d] == (uint64_t)v->shape[d];
        if (!same) {
            snprintf(msg, msg_size, "%s: tensor %s has another dtype or shape", path, v->name);
            bad = 1;
            break;
        }
        double *d = st_doubles(&info);
        if (mt_set(net, v->name, d) != 0) {
            snprintf(msg, msg_size, "set %s: %s", v->name, aigtatt_last_error());
            bad = 1;
        }
        free(d);
    }
    aigtatt_st_close(st);
    return bad ? -1 : 0;
}

/* ---- safetensors of doubles ---- */

struct mt_st {
    aigtatt_st_writer *w;
};

mt_st *mt_st_new(void)
{
    mt_st *s = calloc(1, sizeof *s);
    s->w = aigtatt_st_writer_new();
    return s;
}

void mt_st_add(mt_st *s, const char *name, char type, int ndim, const int64_t *shape, const double *data)
{
    int64_t n = 1;
    uint64_t sh[AIGTATT_NN_MAX_DIMS];
    for (int d = 0; d < ndim; d++) {
        n *= shape[d];
        sh[d] = (uint64_t)shape[d];
    }
    size_t esz = type == 'f' ? 4 : 8;
    unsigned char *buf = malloc(esz * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        if (type == 'f') {
            float f = (float)data[i];
            memcpy(buf + 4 * i, &f, 4);
        } else if (type == 'd') {
            memcpy(buf + 8 * i, &data[i], 8);
        } else {
            int64_t l = (int64_t)data[i];
            memcpy(buf + 8 * i, &l, 8);
        }
    }
    int rc = aigtatt_st_writer_add(s->w, name, type == 'f' ? AIGTATT_ST_F32 : type == 'd' ? AIGTATT_ST_F64 : AIGTATT_ST_I64,
                                   (size_t)ndim, sh, buf, esz * (size_t)n, 0);
    free(buf);
    cr_assert_eq(rc, AIGTATT_OK, "adding %s: %s", name, aigtatt_last_error());
}

int mt_st_write(mt_st *s, const char *path)
{
    int rc = aigtatt_st_writer_write(s->w, path);
    aigtatt_st_writer_free(s->w);
    free(s);
    return rc == AIGTATT_OK ? 0 : -1;
}

aigtatt_st *mt_st_open(const char *path)
{
    aigtatt_st *st;
    return aigtatt_st_open(path, &st) == AIGTATT_OK ? st : NULL;
}

double *mt_st_get(const aigtatt_st *st, const char *name, int64_t *n)
{
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    if (!st || aigtatt_st_find(st, name, &info) != AIGTATT_OK)
        return NULL;
    *n = (int64_t)info.numel;
    return st_doubles(&info);
}

double *mt_st_read(const char *path, const char *name, int64_t *n)
{
    aigtatt_st *st = mt_st_open(path);
    double *d = mt_st_get(st, name, n);
    aigtatt_st_close(st);
    return d;
}

/* ---- the PyTorch side ---- */

struct mt_proc {
    FILE *f;
    char log[1100];
};

mt_proc *mt_python_start(const char *command, const char *dir, char *msg, size_t msg_size)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        snprintf(msg, msg_size, "/usr/bin/python3 is missing: apt-get install -y python3 python3-torch "
                                "python3-torchvision python3-numpy");
        return NULL;
    }
    if (system("/usr/bin/python3 -c 'import torch, torchvision, numpy' >/dev/null 2>&1") != 0) {
        snprintf(msg, msg_size, "PyTorch is missing for /usr/bin/python3: the parity references need Debian's "
                                "packages, apt-get install -y python3-torch python3-torchvision python3-numpy");
        return NULL;
    }
    mt_proc *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    /* output to a file, not the pipe: nobody reads the pipe while the
     * caller computes, and a full pipe would stall the script */
    snprintf(p->log, sizeof p->log, "%s/python.log", dir);
    char cmd[3300];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/ref_models.py' %s '%s' >'%s' 2>&1", MT_SOURCE_DIR, command, dir,
             p->log);
    p->f = popen(cmd, "r");
    if (!p->f) {
        snprintf(msg, msg_size, "cannot run %s", cmd);
        free(p);
        return NULL;
    }
    return p;
}

int mt_python_wait(mt_proc *p, char *msg, size_t msg_size)
{
    if (!p)
        return -1;
    int st = pclose(p->f);
    msg[0] = '\0';
    FILE *lf = fopen(p->log, "r");
    if (lf) {
        size_t n = fread(msg, 1, msg_size - 1, lf);
        msg[n] = '\0';
        fclose(lf);
    }
    if (st != 0 && !msg[0])
        snprintf(msg, msg_size, "ref_models.py failed (status %d)", st);
    free(p);
    return st == 0 ? 0 : -1;
}

int mt_python(const char *command, const char *dir, char *msg, size_t msg_size)
{
    mt_proc *p = mt_python_start(command, dir, msg, msg_size);
    return p ? mt_python_wait(p, msg, msg_size) : -1;
}

char *mt_tmpdir(void)
{
    char tmpl[] = "/tmp/aigtatt-models-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void mt_rmtree(const char *dir)
{
    char cmd[600];
    if (!dir || strncmp(dir, "/tmp/aigtatt-models-", 20) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int mt_write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- numbers ---- */

double mt_relerr(const double *a, const double *b, int64_t n, double floor)
{
    double e = 0, m = floor;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(a[i]) != isnan(b[i]) || isinf(a[i]) != isinf(b[i]))
            d = INFINITY;
        if (d > e)
            e = d;
        if (fabs(b[i]) > m)
            m = fabs(b[i]);
    }
    return e / m;
}

void mt_normal(double *d, int64_t n, uint64_t seed, double scale)
{
    aigtatt_rng r;
    aigtatt_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)(scale * aigtatt_rng_normal(&r));
}

void mt_uniform(double *d, int64_t n, uint64_t seed, double lo, double hi)
{
    aigtatt_rng r;
    aigtatt_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)(lo + (hi - lo) * aigtatt_rng_uniform(&r));
}
