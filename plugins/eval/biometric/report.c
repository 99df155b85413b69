/* Plots and report.html. The HTML embeds the PNGs as data URIs and needs
 * nothing else (no script, no external style), so it opens anywhere. */
#include "report.h"
#include "plot.h"

#include <aigtatt/types.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THIN 200000 /* points handed to a plot at most; it thins further */

typedef struct html {
    char *s;
    size_t n, cap;
    int failed;
} html;

static void h_printf(html *h, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(h->s ? h->s + h->n : NULL, h->s ? h->cap - h->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            h->failed = 1;
            return;
        }
        if (h->s && h->n + (size_t)k < h->cap) {
            h->n += (size_t)k;
            return;
        }
        size_t cap = (h->cap ? h->cap * 2 : 65536) + (size_t)k;
        char *s = realloc(h->s, cap);
        if (!s) {
            h->failed = 1;
            return;
        }
        h->s = s;
        h->cap = cap;
    }
}

static void h_text(html *h, const char *t)
{
    for (; t && *t; t++) {
        switch (*t) {
        case '<': h_printf(h, "&lt;"); break;
        case '>': h_printf(h, "&gt;"); break;
        case '&': h_printf(h, "&amp;"); break;
        case '"': h_printf(h, "&quot;"); break;
        default: h_printf(h, "%c", *t);
        }
    }
}

static void h_base64(html *h, const unsigned char *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *buf = malloc(4 * ((n + 2) / 3) + 1);
    if (!buf) {
        h->failed = 1;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        buf[o++] = tab[v >> 18 & 63];
        buf[o++] = tab[v >> 12 & 63];
        buf[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        buf[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    buf[o] = 0;
    h_printf(h, "%s", buf);
    free(buf);
}

/* A percentage with its unit, or an em dash. */
static void h_pct(html *h, double v)
{
    if (isfinite(v))
        h_printf(h, "<td>%.3f %%</td>", 100 * v);
    else
        h_printf(h, "<td>&mdash;</td>");
}

typedef struct ctx {
    const bm_report_in *in;
    bm_write_fn write;
    void *wctx;
    html h;
    char *err;
} ctx;

/* Renders one chart to plots/<name>.{png,svg} and into the HTML. */
static int chart(ctx *c, const char *name, const bm_chart *ch, const bm_series *s, size_t ns)
{
    unsigned char *png = NULL, *svg = NULL;
    size_t np = 0, nsv = 0;
    char path[128];
    if (bm_plot(ch, s, ns, 0, &png, &np) || bm_plot(ch, s, ns, 1, &svg, &nsv)) {
        free(png);
        snprintf(c->err, BM_ERRLEN, "cannot draw the %s plot (cairo)", name);
        return AIGTATT_ERR;
    }
    snprintf(path, sizeof path, "plots/%s.png", name);
    int rc = c->write(c->wctx, path, png, np);
    snprintf(path, sizeof path, "plots/%s.svg", name);
    if (!rc)
        rc = c->write(c->wctx, path, svg, nsv);
    if (rc)
        snprintf(c->err, BM_ERRLEN, "cannot write %s", path);
    h_printf(&c->h, "<figure><img alt=\"");
    h_text(&c->h, ch->title);
    h_printf(&c->h, "\" width=\"720\" height=\"480\" src=\"data:image/png;base64,");
    h_base64(&c->h, png, np);
    h_printf(&c->h, "\"><figcaption>");
    h_text(&c->h, ch->title);
    h_printf(&c->h, " (<a href=\"plots/%s.svg\">SVG</a>)</figcaption></figure>\n", name);
    free(png);
    free(svg);
    return rc;
}

/* A thinned copy of a curve: x, y as chosen. */
typedef enum { C_FMR, C_FNMR, C_THR } col;

static double get(const bm_curve *cv, size_t k, col w)
{
    return w == C_FMR ? bm_fmr(cv, k) : w == C_FNMR ? bm_fnmr(cv, k) : cv->thr[k];
}

static size_t thin(const bm_curve *cv, col xw, col yw, double **x, double **y)
{
    size_t n = cv->n < THIN ? cv->n : THIN;
    *x = malloc(n * sizeof **x);
    *y = malloc(n * sizeof **y);
    if (!*x || !*y)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = n == cv->n ? i : (size_t)((double)i * (double)(cv->n - 1) / (double)(n - 1));
        (*x)[i] = get(cv, k, xw);
        (*y)[i] = get(cv, k, yw);
    }
    return n;
}

static int verification_plots(ctx *c)
{
    const bm_ver_result *v = c->in->ver;
    double *x = NULL, *y = NULL, *x2 = NULL, *y2 = NULL;
    int rc = AIGTATT_ERR_NOMEM;
    size_t n = thin(&v->curve, C_FMR, C_FNMR, &x, &y);
    if (!n)
        goto done;
    bm_series det = {x, y, n, "verification", 0.12, 0.35, 0.7, 0};
    bm_chart dc = {.title = "DET: verification", .xlabel = "False match rate (FMR)",
                   .ylabel = "False non-match rate (FNMR)", .x0 = 1e-4, .x1 = 0.6, .y0 = 1e-4,
                   .y1 = 0.6, .xaxis = BM_AXIS_PROBIT, .yaxis = BM_AXIS_PROBIT, .diagonal = 1};
    if ((rc = chart(c, "verification_det", &dc, &det, 1)))
        goto done;
    bm_series roc = {v->roc.fpr, v->roc.tpr, v->roc.n, "verification", 0.12, 0.35, 0.7, 0};
    bm_chart rc_ = {.title = "ROC: verification", .xlabel = "False positive rate (FMR)",
                    .ylabel = "True positive rate (1 - FNMR)", .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1,
                    .diagonal = 1, .legend_low = 1};
    if ((rc = chart(c, "verification_roc", &rc_, &roc, 1)))
        goto done;
    free(x);
    free(y);
    x = y = NULL;
    /* FMR and FNMR against threshold. */
    n = thin(&v->curve, C_THR, C_FMR, &x, &y);
    size_t n2 = thin(&v->curve, C_THR, C_FNMR, &x2, &y2);
    rc = AIGTATT_ERR_NOMEM;
    if (!n || !n2)
        goto done;
    double lo = v->curve.thr[0], hi = v->curve.thr[v->curve.n - 1];
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (!(hi > lo))
        hi = lo + 1;
    bm_series er[] = {{x, y, n, "FMR", 0.8, 0.2, 0.2, 0}, {x2, y2, n2, "FNMR", 0.12, 0.35, 0.7, 0}};
    bm_chart ec = {.title = "Error rates against threshold",
                   .xlabel = "Threshold (cosine similarity)", .ylabel = "Rate", .x0 = lo,
                   .x1 = hi, .y0 = 0, .y1 = 1};
    if ((rc = chart(c, "verification_rates", &ec, er, 2)))
        goto done;
    /* Score histograms as densities over 60 shared bins. */
    enum { BINS = 60 };
    double gx[BINS + 1], gy[BINS + 1], iy[BINS + 1], w = (hi - lo) / BINS, top = 0;
    uint64_t gc[BINS] = {0}, ic[BINS] = {0};
    for (size_t i = 0; i < v->n_gen; i++) {
        long b = (long)((v->gen[i] - lo) / w);
        gc[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
    }
    for (size_t i = 0; i < v->n_imp; i++) {
        long b = (long)((v->imp[i] - lo) / w);
        ic[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
    }
    for (int b = 0; b <= BINS; b++) {
        gx[b] = lo + w * b;
        int k = b < BINS ? b : BINS - 1;
        gy[b] = (double)gc[k] / ((double)v->n_gen * w);
        iy[b] = (double)ic[k] / ((double)v->n_imp * w);
        top = fmax(top, fmax(gy[b], iy[b]));
    }
    bm_series hs[] = {{gx, gy, BINS + 1, "genuine", 0.12, 0.55, 0.25, 1},
                      {gx, iy, BINS + 1, "impostor", 0.8, 0.2, 0.2, 1}};
    bm_chart hc = {.title = "Score distributions", .xlabel = "Cosine similarity",
                   .ylabel = "Density", .x0 = lo, .x1 = hi, .y0 = 0,
                   .y1 = top > 0 ? top * 1.05 : 1};
    rc = chart(c, "score_histogram", &hc, hs, 2);
done:
    if (rc == AIGTATT_ERR_NOMEM)
        snprintf(c->err, BM_ERRLEN, "out of memory while plotting");
    free(x);
    free(y);
    free(x2);
    free(y2);
    return rc;
}

static int closed_plot(ctx *c)
{
    const bm_closed_result *r = c->in->closed;
    double *x = malloc(r->max_rank * sizeof *x), *y = malloc(r->max_rank * sizeof *y), lo = 1;
    if (!x || !y) {
        free(x);
        free(y);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t k = 0; k < r->max_rank; k++) {
        x[k] = (double)(k + 1);
        y[k] = r->cmc[k].mean;
        lo = fmin(lo, y[k]);
    }
    bm_series s = {x, y, r->max_rank, "closed set", 0.12, 0.35, 0.7, 1};
    bm_chart ch = {.title = "CMC: closed-set identification", .xlabel = "Rank",
                   .ylabel = "Identification rate", .x0 = 1,
                   .x1 = r->max_rank > 1 ? (double)r->max_rank : 2, .y0 = floor(lo * 10) / 10,
                   .y1 = 1, .legend_low = 1};
    if (ch.y0 >= 1)
        ch.y0 = 0.9;
    int rc = chart(c, "cmc", &ch, &s, 1);
    free(x);
    free(y);
    return rc;
}

static int open_plot(ctx *c)
{
    double *x = NULL, *y = NULL;
    size_t n = thin(&c->in->open->pooled, C_FMR, C_FNMR, &x, &y);
    int rc = AIGTATT_ERR_NOMEM;
    if (n) {
        char title[96];
        snprintf(title, sizeof title, "DET: open-set identification (rank <= %zu)",
                 c->in->open->rank);
        bm_series s = {x, y, n, "open set", 0.45, 0.2, 0.6, 0};
        bm_chart ch = {.title = title, .xlabel = "False positive identification rate (FPIR)",
                       .ylabel = "False negative identification rate (FNIR)", .x0 = 1e-3,
                       .x1 = 0.6, .y0 = 1e-3, .y1 = 0.99, .xaxis = BM_AXIS_PROBIT,
                       .yaxis = BM_AXIS_PROBIT, .diagonal = 1};
        rc = chart(c, "open_set_det", &ch, &s, 1);
    }
    free(x);
    free(y);
    return rc;
}

static void tables(ctx *c)
{
    const bm_report_in *in = c->in;
    html *h = &c->h;
    static const char *opn[BM_N_OPS] = {"10 %", "5 %", "1 %", "0.1 %", "0"};
    if (in->ver && in->ver->done) {
        const bm_verif_stats *s = &in->ver->st;
        h_printf(h, "<h2>Verification</h2><p>%zu genuine and %zu impostor pairs (impostors: %s).</p>"
                    "<table><tr><th>EER (pyeer)</th><th>EER (interpolated)</th>",
                 in->ver->n_gen, in->ver->n_imp, bm_impostors_name(in->ver->used));
        for (int o = 0; o < BM_N_OPS; o++)
            h_printf(h, "<th>FNMR at FMR %s</th>", opn[o]);
        h_printf(h, "<th>ROC AUC</th><th>d'</th></tr><tr>");
        h_pct(h, s->eer.eer);
        h_pct(h, s->eer.eer_interp);
        for (int o = 0; o < BM_N_OPS; o++)
            h_pct(h, s->fnmr_at_fmr[o]);
        h_printf(h, "<td>%.5f</td><td>%.4f</td></tr></table>", in->ver->auc, s->decidability);
        h_printf(h, "<p>Genuine similarity %.4f &plusmn; %.4f, impostor %.4f &plusmn; %.4f.</p>\n",
                 s->gmean, s->gstd, s->imean, s->istd);
    }
    if (in->closed && in->closed->done) {
        const bm_closed_result *r = in->closed;
        h_printf(h, "<h2>Closed-set identification</h2><p>%s protocol, %zu fold(s), gallery of %zu, "
                    "%zu probes per fold; ties %s; candidates are %s.</p><table><tr>",
                 in->closed_protocol ? in->closed_protocol : "", r->folds, r->n_gallery,
                 r->n_probes, bm_ties_name(in->id_cfg->ties),
                 in->id_cfg->by_identity ? "identities" : "images");
        static const size_t rk[] = {1, 5, 10, 20};
        for (int k = 0; k < 4; k++)
            if (rk[k] <= r->max_rank)
                h_printf(h, "<th>Rank-%zu</th>", rk[k]);
        h_printf(h, "<th>mAP</th>");
        for (size_t k = 0; k < in->id_cfg->n_pk; k++)
            h_printf(h, "<th>P@%zu</th>", in->id_cfg->pk[k]);
        h_printf(h, "</tr><tr>");
        for (int k = 0; k < 4; k++)
            if (rk[k] <= r->max_rank)
                h_pct(h, r->cmc[rk[k] - 1].mean);
        h_pct(h, r->map.mean);
        for (size_t k = 0; k < in->id_cfg->n_pk; k++)
            h_pct(h, r->pk[k].mean);
        h_printf(h, "</tr></table>\n");
    }
    if (in->open && in->open->done) {
        const bm_open_result *o = in->open;
        h_printf(h, "<h2>Open-set identification</h2><p>%zu fold(s): %zu enrolled, %zu mated and %zu "
                    "non-mated searches per fold; a mate counts only at rank &le; %zu with a score "
                    "&ge; T (ISO/IEC 19795-1).</p><table><tr><th>EER</th>",
                 o->folds, o->n_enrolled, o->n_mated, o->n_nonmated, o->rank);
        for (int k = 0; k < 4; k++)
            h_printf(h, "<th>FNIR at FPIR %s</th>", opn[k]);
        h_printf(h, "</tr><tr>");
        h_pct(h, o->eer.mean);
        for (int k = 0; k < 4; k++)
            h_pct(h, o->fnir_at_fpir[k].mean);
        h_printf(h, "</tr></table>\n");
    }
    if (in->env && in->env->n_warnings) {
        h_printf(h, "<h2>Warnings</h2><ul>");
        for (size_t i = 0; i < in->env->n_warnings; i++) {
            h_printf(h, "<li>");
            h_text(h, in->env->warnings[i]);
            h_printf(h, "</li>");
        }
        h_printf(h, "</ul>\n");
    }
}

int bm_write_plots_and_report(const bm_report_in *in, bm_write_fn write, void *wctx, char *err)
{
    ctx c = {in, write, wctx, {0}, err};
    html *h = &c.h;
    h_printf(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>aigtatt evaluation</title><style>"
                "body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
                "table{border-collapse:collapse;margin:1em 0}"
                "th,td{border:1px solid #bbb;padding:4px 10px;text-align:right}"
                "th{background:#eef}figure{display:inline-block;margin:1em 0}"
                "figcaption{text-align:center;color:#555}</style></head><body>\n"
                "<h1>Biometric evaluation</h1><p>");
    h_text(h, in->source);
    h_printf(h, ": %zu embeddings of dimension %zu, %zu identities. Rates are shown in percent; "
                "metrics.json holds them as fractions.</p>\n",
             in->emb->n, in->emb->d, in->emb->n_labels);
    tables(&c);
    int rc = AIGTATT_OK;
    if (in->ver && in->ver->done)
        rc = verification_plots(&c);
    if (!rc && in->closed && in->closed->done)
        rc = closed_plot(&c);
    if (!rc && in->open && in->open->done)
        rc = open_plot(&c);
    h_printf(h, "<p><small>%s %s</small></p></body></html>\n", in->component, in->version);
    if (!rc && h->failed) {
        snprintf(err, BM_ERRLEN, "out of memory while writing report.html");
        rc = AIGTATT_ERR_NOMEM;
    }
    if (!rc && (rc = write(wctx, "report.html", h->s, h->n)))
        snprintf(err, BM_ERRLEN, "cannot write report.html");
    free(h->s);
    return rc;
}
