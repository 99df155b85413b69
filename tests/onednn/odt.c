#include "odt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <aigtatt/aigtatt.h>
#include "config/cfg.h"
#include "config/params.h"
#include "plugin/registry.h"
#include "util/error.h"
#include "../compute/ct.h"

#ifndef ODT_PLUGIN
#error "ODT_PLUGIN (the path of the built plugin) is required"
#endif

static const aigtatt_component *component(void)
{
    static const aigtatt_component *c;
    if (!c) {
        if (aigtatt_registry_load_file(ODT_PLUGIN) != AIGTATT_OK) {
            fprintf(stderr, "cannot load %s: %s\n", ODT_PLUGIN, aigtatt_last_error());
            return NULL;
        }
        c = aigtatt_registry_find("backend.onednn");
    }
    return c;
}

const aigtatt_backend_vtable *odt_backend(void)
{
    const aigtatt_component *c = component();
    return c ? c->desc.vtable : NULL;
}

int odt_open(const char *yaml, void **device)
{
    const aigtatt_component *c = component();
    if (!c)
        return -1;
    aigtatt_cfg *cfg = NULL;
    const char *text = yaml ? yaml : "{}";
    if (aigtatt_cfg_load_string(text, strlen(text), "test", &cfg) != AIGTATT_OK)
        return -1;
    aigtatt_params *params = NULL;
    int rc = aigtatt_params_parse(cfg, &c->desc, NULL, &params);
    aigtatt_cfg_free(cfg);
    if (rc != AIGTATT_OK)
        return -1;
    rc = odt_backend()->open(params, device);
    aigtatt_params_free(params);
    return rc == AIGTATT_OK ? 0 : -1;
}

int odt_pair_make(odt_pair *p, aigtatt_nn_lowered *low, void *device, char *msg, size_t msg_size)
{
    memset(p, 0, sizeof *p);
    p->low = low;
    p->ir = aigtatt_nn_lowered_ir(low);
    const aigtatt_backend_vtable *rb = ct_backend(), *od = odt_backend();
    if (!od) {
        snprintf(msg, msg_size, "backend.onednn did not load");
        return -1;
    }
    if (rb->compile(NULL, p->ir, &p->ref) != AIGTATT_OK || aigtatt_nn_init_program(low, 11, rb, p->ref) != AIGTATT_OK) {
        snprintf(msg, msg_size, "reference compile: %s", aigtatt_last_error());
        return -1;
    }
    if (od->compile(device, p->ir, &p->dnn) != AIGTATT_OK || aigtatt_nn_init_program(low, 11, od, p->dnn) != AIGTATT_OK) {
        snprintf(msg, msg_size, "onednn compile: %s", aigtatt_last_error());
        return -1;
    }
    return 0;
}

int odt_pair_make_counting(odt_pair *p, aigtatt_nn_lowered *low, void *device, const char *needle, char *msg,
                           size_t msg_size)
{
    fflush(stderr);
    FILE *log = tmpfile();
    int saved = dup(2);
    if (!log || saved < 0) {
        snprintf(msg, msg_size, "cannot capture stderr");
        if (log)
            fclose(log);
        return -1;
    }
    dup2(fileno(log), 2);
    int rc = odt_pair_make(p, low, device, msg, msg_size);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (rc != 0) {
        fclose(log);
        return -1;
    }
    rewind(log);
    char line[512];
    int n = 0;
    /* ODT_SHOW_STEPS=1 passes the step listing on (to read a failure) */
    int show = getenv("ODT_SHOW_STEPS") && atoi(getenv("ODT_SHOW_STEPS"));
    while (fgets(line, sizeof line, log)) {
        if (strstr(line, "backend.onednn: step") && strstr(line, needle))
            n++;
        if (show)
            fputs(line, stderr);
    }
    fclose(log);
    return n;
}

void odt_pair_free(odt_pair *p)
{
    if (p->ref)
        ct_backend()->release(p->ref);
    if (p->dnn)
        odt_backend()->release(p->dnn);
    aigtatt_nn_lowered_free(p->low);
    memset(p, 0, sizeof *p);
}

static int set_one(const aigtatt_backend_vtable *be, void *prog, const aigtatt_ir_value *iv, int32_t v,
                   const double *data)
{
    int64_t n = aigtatt_nn_value_numel(iv);
    size_t nb = aigtatt_nn_value_bytes(iv);
    void *buf = malloc(nb + 1);
    for (int64_t i = 0; i < n; i++) {
        if (iv->dtype == AIGTATT_F32)
            ((float *)buf)[i] = (float)data[i];
        else if (iv->dtype == AIGTATT_F64)
            ((double *)buf)[i] = data[i];
        else
            ((int64_t *)buf)[i] = (int64_t)data[i];
    }
    int rc = be->set(prog, v, buf, nb);
    free(buf);
    return rc;
}

int odt_set(odt_pair *p, const char *name, const double *data)
{
    int32_t v = aigtatt_nn_lowered_find(p->low, name);
    if (v < 0)
        return -1;
    const aigtatt_ir_value *iv = &p->ir->values[v];
    if (set_one(ct_backend(), p->ref, iv, v, data) != AIGTATT_OK ||
        set_one(odt_backend(), p->dnn, iv, v, data) != AIGTATT_OK)
        return -1;
    return 0;
}

int odt_run(odt_pair *p, char *msg, size_t msg_size)
{
    if (ct_backend()->run(p->ref) != AIGTATT_OK) {
        snprintf(msg, msg_size, "reference run: %s", aigtatt_last_error());
        return -1;
    }
    if (odt_backend()->run(p->dnn) != AIGTATT_OK) {
        snprintf(msg, msg_size, "onednn run: %s", aigtatt_last_error());
        return -1;
    }
    return 0;
}

static double *get_one(const aigtatt_backend_vtable *be, void *prog, const aigtatt_ir_value *iv, int32_t v)
{
    int64_t n = aigtatt_nn_value_numel(iv);
    size_t nb = aigtatt_nn_value_bytes(iv);
    void *buf = malloc(nb + 1);
    double *d = malloc(sizeof(double) * (size_t)(n + 1));
    if (be->get(prog, v, buf, nb) != AIGTATT_OK) {
        free(buf);
        free(d);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        d[i] = iv->dtype == AIGTATT_F32 ? ((float *)buf)[i]
             : iv->dtype == AIGTATT_F64 ? ((double *)buf)[i]
                                        : (double)((int64_t *)buf)[i];
    free(buf);
    return d;
}

int odt_get(odt_pair *p, const char *name, double **ref, double **dnn, int64_t *n)
{
    *ref = *dnn = NULL;
    int32_t v = aigtatt_nn_lowered_find(p->low, name);
    if (v < 0)
        return -1;
    const aigtatt_ir_value *iv = &p->ir->values[v];
    *n = aigtatt_nn_value_numel(iv);
    *ref = get_one(ct_backend(), p->ref, iv, v);
    *dnn = get_one(odt_backend(), p->dnn, iv, v);
    if (!*ref || !*dnn) {
        free(*ref);
        free(*dnn);
        *ref = *dnn = NULL;
        return -1;
    }
    return 0;
}

double odt_compare(odt_pair *p, const char *name, double floor)
{
    double *a, *b;
    int64_t n;
    if (odt_get(p, name, &a, &b, &n) != 0)
        return -1;
    double e = ct_relerr(b, a, n, floor);
    free(a);
    free(b);
    return e;
}
