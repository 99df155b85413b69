/* Parity with PyTorch, op by op, forward and backward: every case of
 * cases.c (except random masks) runs on backend.reference in F32, and
 * tests/compute/ref_ops.py computes the same op with torch 1.13 on the same
 * float32 inputs. Outputs, the gradients of sum(y * dy) and updated buffers
 * (running statistics) must agree within the case's tolerance (1e-5 of the
 * largest reference magnitude unless stated). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ct.h"

typedef struct result {
    double *y;
    int64_t ny;
    double *t[6];   /* gradients or buffers, per input */
    int64_t nt[6];
} result;

static void write_real(FILE *f, double v)
{
    if (isinf(v))
        fprintf(f, v > 0 ? "Infinity" : "-Infinity");
    else
        fprintf(f, "%.17g", v);
}

static int is_param(char k) { return k == 'p' || k == 'q' || k == 'z'; }
static int is_buffer(char k) { return k == 'm' || k == 'v' || k == 'n'; }

/* Runs case c on the reference backend, writes its inputs for PyTorch. */
static void run_ours(const ct_case *c, const char *dir, result *r)
{
    ct_prog p;
    char msg[1024], path[512];
    cr_assert_eq(ct_prepare(c, 0, &p, msg, sizeof msg), 0, "%s", msg);
    snprintf(path, sizeof path, "%s/%s", dir, c->name);
    mkdir(path, 0700);
    for (int k = 0; k < c->n_in; k++) {
        const ct_input *in = &c->in[k];
        double *d = ct_data(c, k, 7);
        int64_t n = 1;
        for (int i = 0; i < in->ndim; i++)
            n *= in->shape[i];
        void *raw = malloc(8 * (size_t)n);
        char type = (in->kind == 'l' || in->kind == 'n') ? 'l' : 'f';
        for (int64_t i = 0; i < n; i++) {
            if (type == 'l')
                ((int64_t *)raw)[i] = (int64_t)d[i];
            else
                ((float *)raw)[i] = (float)d[i];
        }
        snprintf(path, sizeof path, "%s/%s/in%d.npy", dir, c->name, k);
        cr_assert_eq(ct_npy_write(path, type, in->ndim, in->shape, raw), 0);
        free(raw);
        free(d);
    }
    int32_t dyv = aigtatt_nn_lowered_find(p.low, "dy");
    if (dyv >= 0) {
        const aigtatt_ir_value *v = &p.ir->values[dyv];
        int64_t n = aigtatt_nn_value_numel(v);
        double *d = ct_dy(c, n, 7);
        float *raw = malloc(4 * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            raw[i] = (float)d[i];
        snprintf(path, sizeof path, "%s/%s/dy.npy", dir, c->name);
        cr_assert_eq(ct_npy_write(path, 'f', v->ndim, v->shape, raw), 0);
        free(raw);
        free(d);
    }
    cr_assert_eq(ct_backend()->run(p.prog), AIGTATT_OK, "%s: run failed", c->name);
    r->y = ct_get(&p, "y", &r->ny);
    cr_assert(r->y, "%s: no output", c->name);
    for (int k = 0; k < c->n_in; k++) {
        char name[24];
        if (is_param(c->in[k].kind))
            snprintf(name, sizeof name, "grad:in%d", k);
        else if (is_buffer(c->in[k].kind))
            snprintf(name, sizeof name, "in%d", k);
        else
            continue;
        r->t[k] = ct_get(&p, name, &r->nt[k]);
    }
    ct_release(&p);
}

static double compare(const ct_case *c, const char *dir, const char *file, const double *ours, int64_t n,
                      int *failed)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, c->name, file);
    double *ref;
    int64_t m = ct_npy_read(path, &ref, NULL, NULL);
    cr_assert(m >= 0, "%s: PyTorch wrote no %s", c->name, file);
    double *zeros = NULL;
    if (!ours) { /* no gradient reaches this input: ours is zero */
        zeros = calloc((size_t)m, sizeof *zeros);
        ours = zeros;
        n = m;
    }
    cr_assert_eq(m, n, "%s: %s has %lld elements, PyTorch %lld", c->name, file, (long long)n, (long long)m);
    double e = ct_relerr(ours, ref, n, 1e-3);
    double tol = c->tol > 0 ? c->tol : 1e-5;
    if (e > tol) {
        *failed = 1;
        cr_log_error("%s: %s differs from PyTorch by %.3g relative (tolerance %.1g)", c->name, file, e, tol);
        for (int64_t i = 0; i < n && i < 8; i++)
            cr_log_error("  [%lld] ours %.9g torch %.9g", (long long)i, ours[i], ref[i]);
    }
    free(ref);
    free(zeros);
    return e;
}

Test(parity, ops_against_pytorch, .timeout = 280)
{
    char *dir = ct_tmpdir();
    cr_assert(dir);
    result *res = calloc(ct_n_cases, sizeof *res);
    char path[512];
    snprintf(path, sizeof path, "%s/cases.json", dir);
    FILE *js = fopen(path, "w");
    cr_assert(js);
    fprintf(js, "[\n");
    int first = 1;
    for (size_t ci = 0; ci < ct_n_cases; ci++) {
        const ct_case *c = &ct_cases[ci];
        if (c->no_parity)
            continue;
        run_ours(c, dir, &res[ci]);
        fprintf(js, "%s{\"name\": \"%s\", \"op\": \"%s\", \"training\": %s, \"i\": [", first ? "" : ",\n", c->name,
                c->op, c->training ? "true" : "false");
        first = 0;
        for (int k = 0; k < 16; k++)
            fprintf(js, "%s%lld", k ? ", " : "", (long long)c->i[k]);
        fprintf(js, "], \"r\": [");
        for (int k = 0; k < 4; k++) {
            fprintf(js, k ? ", " : "");
            write_real(js, c->r[k]);
        }
        fprintf(js, "], \"inputs\": [");
        for (int k = 0; k < c->n_in; k++)
            fprintf(js, "%s{\"kind\": \"%c\"}", k ? ", " : "", c->in[k].kind);
        fprintf(js, "]}");
    }
    fprintf(js, "\n]\n");
    fclose(js);

    char msg[4096];
    cr_assert_eq(ct_run_reference(dir, msg, sizeof msg), 0, "%s", msg);

    int any_failed = 0;
    double worst_y = 0, worst_g = 0;
    for (size_t ci = 0; ci < ct_n_cases; ci++) {
        const ct_case *c = &ct_cases[ci];
        if (c->no_parity)
            continue;
        int failed = 0;
        result *r = &res[ci];
        double ey = compare(c, dir, "y.npy", r->y, r->ny, &failed), eg = 0;
        for (int k = 0; k < c->n_in; k++) {
            char file[24];
            if (is_param(c->in[k].kind))
                snprintf(file, sizeof file, "grad%d.npy", k);
            else if (is_buffer(c->in[k].kind))
                snprintf(file, sizeof file, "buf%d.npy", k);
            else
                continue;
            double e = compare(c, dir, file, r->t[k], r->nt[k], &failed);
            eg = e > eg ? e : eg;
        }
        cr_log_info("parity %-26s forward %.2e  backward/buffers %.2e", c->name, ey, eg);
        worst_y = ey > worst_y ? ey : worst_y;
        worst_g = eg > worst_g ? eg : worst_g;
        cr_expect(!failed, "%s differs from PyTorch (see the log above)", c->name);
        any_failed |= failed;
        free(r->y);
        for (int k = 0; k < 6; k++)
            free(r->t[k]);
    }
    cr_log_info("parity worst relative error: forward %.2e, backward %.2e", worst_y, worst_g);
    if (!any_failed)
        ct_rmtree(dir);
    else
        cr_log_error("inputs and references kept in %s", dir);
    free(res);
    free(dir);
}
