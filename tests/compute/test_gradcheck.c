/* Every op's backward against central finite differences: each case of
 * cases.c is lowered in F64 and run on backend.reference, the loss being
 * sum(y * dy) for a fixed random dy, and every element of every parameter
 * is nudged by +-h. Double precision makes the comparison tight: the
 * finite-difference error is about h^2 (truncation) plus 1e-16 |loss| / h
 * (rounding), far below the tolerance. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ct.h"

static double H = 1e-6;
#define TOL 1e-6

static double run_loss(ct_prog *p)
{
    cr_assert_eq(ct_backend()->run(p->prog), AIGTATT_OK);
    int64_t n;
    double *l = ct_get(p, "loss", &n);
    cr_assert(l && n == 1);
    double v = l[0];
    free(l);
    return v;
}

ParameterizedTestParameters(gradcheck, op)
{
    static size_t idx[256];
    size_t n = 0;
    for (size_t i = 0; i < ct_n_cases && n < 256; i++) {
        int trainable = 0;
        for (int k = 0; k < ct_cases[i].n_in; k++)
            trainable |= ct_cases[i].in[k].kind == 'p' || ct_cases[i].in[k].kind == 'q' ||
                         ct_cases[i].in[k].kind == 'z';
        if (trainable)
            idx[n++] = i;
    }
    return cr_make_param_array(size_t, idx, n);
}

ParameterizedTest(size_t *ci, gradcheck, op)
{
    const ct_case *c = &ct_cases[*ci];
    /* CT_H=1e-4 etc. shows how the error scales with h (O(h^2) when right). */
    if (getenv("CT_H"))
        H = atof(getenv("CT_H"));
    ct_prog p;
    char msg[1024];
    cr_assert_eq(ct_prepare(c, 1, &p, msg, sizeof msg), 0, "%s", msg);
    run_loss(&p);
    /* Every analytic gradient is read now, before any nudge. */
    double *grads[6] = { 0 };
    int64_t ngrads[6] = { 0 };
    for (int k = 0; k < c->n_in; k++) {
        char gname[24];
        snprintf(gname, sizeof gname, "grad:in%d", k);
        grads[k] = ct_get(&p, gname, &ngrads[k]);
    }
    double worst = 0;
    for (int k = 0; k < c->n_in; k++) {
        char kind = c->in[k].kind;
        if (kind != 'p' && kind != 'q' && kind != 'z')
            continue;
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        double *x = ct_data(c, k, 7);
        int64_t n = 1, ng = 0;
        for (int d = 0; d < c->in[k].ndim; d++)
            n *= c->in[k].shape[d];
        double *g = grads[k];
        ng = ngrads[k];
        if (!g) { /* no gradient reaches it (a comparison): it must be zero */
            g = calloc((size_t)n, sizeof *g);
            ng = n;
        }
        cr_assert_eq(ng, n);
        double *num = malloc(sizeof(double) * (size_t)n);
        for (int64_t j = 0; j < n; j++) {
            double x0 = x[j];
            x[j] = x0 + H;
            ct_set(&p, name, x);
            double lp = run_loss(&p);
            x[j] = x0 - H;
            ct_set(&p, name, x);
            double lm = run_loss(&p);
            x[j] = x0;
            num[j] = (lp - lm) / (2 * H);
        }
        ct_set(&p, name, x);
        double e = ct_relerr(g, num, n, 1.0);
        if (e > worst)
            worst = e;
        cr_expect(e <= TOL, "%s: d loss / d %s differs from finite differences by %.3g (relative)", c->name, name, e);
        if (e > TOL)
            for (int64_t j = 0; j < n && j < 12; j++)
                cr_log_info("%s[%lld]: analytic %.9g numeric %.9g", name, (long long)j, g[j], num[j]);
        free(num);
        free(g);
        free(x);
    }
    cr_log_info("gradcheck %-26s worst relative error %.2e", c->name, worst);
    ct_release(&p);
}
