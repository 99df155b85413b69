#include "ct.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aigtatt/aigtatt.h>
#include "host/host.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/rng.h"

extern const aigtatt_plugin_desc aigtatt_plugin;

const aigtatt_backend_vtable *ct_backend(void)
{
    static int ready;
    if (!ready) {
        aigtatt_plugin.init(aigtatt_host_get());
        ready = 1;
    }
    return aigtatt_plugin.components[0]->vtable;
}

/* ---- .npy ---- */

int ct_npy_write(const char *path, char type, int ndim, const int64_t *shape, const void *data)
{
    char dict[256];
    size_t n = (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                                type == 'f' ? "<f4" : type == 'd' ? "<f8" : "<i8");
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += (size_t)snprintf(dict + n, sizeof dict - n, "%lld,%s", (long long)shape[i], i + 1 < ndim ? " " : "");
        count *= shape[i];
    }
    n += (size_t)snprintf(dict + n, sizeof dict - n, "), }");
    size_t total = 10 + n + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    unsigned short hl = (unsigned short)(n + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hl & 0xff, f);
    fputc(hl >> 8, f);
    fwrite(dict, 1, n, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    size_t esz = type == 'f' ? 4 : 8;
    fwrite(data, esz, (size_t)count, f);
    return fclose(f) == 0 ? 0 : -1;
}

int64_t ct_npy_read(const char *path, double **out, int *ndim, int64_t *shape)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char head[10];
    if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return -1;
    }
    size_t hl = head[8] | (size_t)head[9] << 8;
    char *dict = calloc(1, hl + 1);
    if (!dict || fread(dict, 1, hl, f) != hl) {
        free(dict);
        fclose(f);
        return -1;
    }
    char type = strstr(dict, "<f4") ? 'f' : strstr(dict, "<f8") ? 'd' : strstr(dict, "<i8") ? 'l' : 0;
    const char *s = strstr(dict, "'shape': (");
    int nd = 0;
    int64_t dims[8], count = 1;
    if (s) {
        s += 10;
        while (*s && *s != ')') {
            char *end;
            long long v = strtoll(s, &end, 10);
            if (end == s) {
                s++;
                continue;
            }
            dims[nd++] = v;
            count *= v;
            s = end;
        }
    }
    free(dict);
    if (!type || !s) {
        fclose(f);
        return -1;
    }
    size_t esz = type == 'f' ? 4 : 8;
    unsigned char *raw = malloc(esz * (size_t)count + 1);
    double *d = malloc(sizeof(double) * (size_t)count + 1);
    if (!raw || !d || fread(raw, esz, (size_t)count, f) != (size_t)count) {
        free(raw);
        free(d);
        fclose(f);
        return -1;
    }
    fclose(f);
    for (int64_t i = 0; i < count; i++) {
        if (type == 'f') {
            float v;
            memcpy(&v, raw + 4 * i, 4);
            d[i] = v;
        } else if (type == 'd') {
            memcpy(&d[i], raw + 8 * i, 8);
        } else {
            int64_t v;
            memcpy(&v, raw + 8 * i, 8);
            d[i] = (double)v;
        }
    }
    free(raw);
    if (ndim)
        *ndim = nd;
    if (shape)
        for (int i = 0; i < nd; i++)
            shape[i] = dims[i];
    *out = d;
    return count;
}

/* ---- data ---- */

static int64_t numel(const ct_input *in)
{
    int64_t n = 1;
    for (int i = 0; i < in->ndim; i++)
        n *= in->shape[i];
    return n;
}

double *ct_data(const ct_case *c, int k, uint64_t seed)
{
    const ct_input *in = &c->in[k];
    int64_t n = numel(in);
    double *d = malloc(sizeof(double) * (size_t)n);
    aigtatt_rng r;
    aigtatt_rng_seed(&r, aigtatt_seed_derive(seed, c->name, (uint64_t)k));
    if (in->kind == 'z') {
        /* distinct values 0.07 apart in a random order */
        for (int64_t i = 0; i < n; i++)
            d[i] = (double)i;
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)(aigtatt_rng_uniform(&r) * (double)(i + 1));
            double t = d[i];
            d[i] = d[j];
            d[j] = t;
        }
        for (int64_t i = 0; i < n; i++)
            d[i] = (float)((d[i] - (double)n / 2) * 0.07);
        return d;
    }
    for (int64_t i = 0; i < n; i++) {
        double u = aigtatt_rng_uniform(&r), v;
        switch (in->kind) {
        case 'q':
        case 'v':
            v = 0.5 + 1.5 * u;
            break;
        case 'c':
            v = u < 0.5 ? 0 : 1;
            break;
        case 'l':
            v = floor(u * (double)in->hi);
            break;
        case 'n':
            v = 3;
            break;
        default:
            v = aigtatt_rng_normal(&r);
        }
        d[i] = (float)v;
    }
    return d;
}

double *ct_dy(const ct_case *c, int64_t n, uint64_t seed)
{
    double *d = malloc(sizeof(double) * (size_t)n);
    aigtatt_rng r;
    aigtatt_rng_seed(&r, aigtatt_seed_derive(seed, c->name, 99));
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)aigtatt_rng_normal(&r);
    return d;
}

/* ---- programs ---- */

int ct_set(ct_prog *p, const char *name, const double *data)
{
    int32_t v = aigtatt_nn_lowered_find(p->low, name);
    if (v < 0)
        return -1;
    const aigtatt_ir_value *iv = &p->ir->values[v];
    int64_t n = aigtatt_nn_value_numel(iv);
    size_t nb = aigtatt_nn_value_bytes(iv);
    void *buf = malloc(nb);
    for (int64_t i = 0; i < n; i++) {
        if (iv->dtype == AIGTATT_F32)
            ((float *)buf)[i] = (float)data[i];
        else if (iv->dtype == AIGTATT_F64)
            ((double *)buf)[i] = data[i];
        else
            ((int64_t *)buf)[i] = (int64_t)data[i];
    }
    int rc = ct_backend()->set(p->prog, v, buf, nb);
    free(buf);
    return rc;
}

double *ct_get(ct_prog *p, const char *name, int64_t *n)
{
    int32_t v = aigtatt_nn_lowered_find(p->low, name);
    if (v < 0)
        return NULL;
    const aigtatt_ir_value *iv = &p->ir->values[v];
    *n = aigtatt_nn_value_numel(iv);
    size_t nb = aigtatt_nn_value_bytes(iv);
    void *buf = malloc(nb);
    double *d = malloc(sizeof(double) * (size_t)*n);
    if (ct_backend()->get(p->prog, v, buf, nb) != AIGTATT_OK) {
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

int ct_prepare(const ct_case *c, int f64, ct_prog *p, char *msg, size_t msg_size)
{
    memset(p, 0, sizeof *p);
    p->nn = aigtatt_nn_new(c->training, 1234);
    p->loss = ct_build(c, p->nn);
    const char *err;
    if (aigtatt_nn_api_get()->status(p->nn, &err) != AIGTATT_OK) {
        snprintf(msg, msg_size, "%s: build: %s", c->name, err);
        return -1;
    }
    aigtatt_nn_lower_opts o = { .loss = p->loss, .expose_grads = p->loss >= 0, .f64 = f64 };
    if (aigtatt_nn_lower(p->nn, &o, &p->low) != AIGTATT_OK) {
        snprintf(msg, msg_size, "%s: lower: %s", c->name, aigtatt_last_error());
        return -1;
    }
    p->ir = aigtatt_nn_lowered_ir(p->low);
    const aigtatt_backend_vtable *be = ct_backend();
    if (be->compile(NULL, p->ir, &p->prog) != AIGTATT_OK ||
        aigtatt_nn_init_program(p->low, 1, be, p->prog) != AIGTATT_OK) {
        snprintf(msg, msg_size, "%s: compile: %s", c->name, aigtatt_last_error());
        return -1;
    }
    for (int k = 0; k < c->n_in; k++) {
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        double *d = ct_data(c, k, 7);
        int rc = ct_set(p, name, d);
        free(d);
        if (rc != 0) {
            snprintf(msg, msg_size, "%s: set %s: %s", c->name, name, aigtatt_last_error());
            return -1;
        }
    }
    int32_t dy = aigtatt_nn_lowered_find(p->low, "dy");
    if (dy >= 0) {
        double *d = ct_dy(c, aigtatt_nn_value_numel(&p->ir->values[dy]), 7);
        ct_set(p, "dy", d);
        free(d);
    }
    return 0;
}

void ct_release(ct_prog *p)
{
    if (p->prog)
        ct_backend()->release(p->prog);
    aigtatt_nn_lowered_free(p->low);
    aigtatt_nn_free(p->nn);
    memset(p, 0, sizeof *p);
}

double ct_relerr(const double *a, const double *b, int64_t n, double floor)
{
    double e = 0, m = floor;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(a[i]) != isnan(b[i]))
            d = INFINITY;
        if (d > e)
            e = d;
        if (fabs(b[i]) > m)
            m = fabs(b[i]);
    }
    return e / m;
}

/* ---- the PyTorch side ---- */

#include <unistd.h>

#ifndef CT_SOURCE_DIR
#define CT_SOURCE_DIR "tests/compute"
#endif

int ct_run_reference(const char *dir, char *msg, size_t msg_size)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        snprintf(msg, msg_size, "/usr/bin/python3 is missing: apt-get install -y python3 python3-torch "
                                "python3-torchvision python3-numpy");
        return -1;
    }
    if (system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) {
        snprintf(msg, msg_size, "PyTorch is missing for /usr/bin/python3: the parity references need Debian's "
                                "packages, apt-get install -y python3-torch python3-torchvision python3-numpy");
        return -1;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/ref_ops.py' '%s' 2>&1", CT_SOURCE_DIR, dir);
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(msg, msg_size, "cannot run %s", cmd);
        return -1;
    }
    size_t n = 0;
    msg[0] = '\0';
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (n + l < msg_size) { /* keep the first lines: the traceback's start */
            memcpy(msg + n, line, l + 1);
            n += l;
        }
    }
    int st = pclose(f);
    if (st != 0) {
        if (!msg[0])
            snprintf(msg, msg_size, "ref_ops.py failed (status %d)", st);
        return -1;
    }
    return 0;
}

char *ct_tmpdir(void)
{
    char tmpl[] = "/tmp/aigtatt-compute-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void ct_rmtree(const char *dir)
{
    char cmd[600];
    if (!dir || strncmp(dir, "/tmp/aigtatt-compute-", 21) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
