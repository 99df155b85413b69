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

/* Percent with three decimals, or an em dash. */
static void h_pctv(html *h, double v)
{
    if (isfinite(v))
        h_printf(h, "%.3f", 100 * v);
    else
        h_printf(h, "&mdash;");
}

/* A table cell with a rate in percent, mean &plusmn; std over folds when
 * there were several. */
static void h_pct_ms(html *h, bm_ms v, size_t folds)
{
    h_printf(h, "<td>");
    h_pctv(h, v.mean);
    if (folds > 1 && isfinite(v.std)) {
        h_printf(h, " <span class=\"sd\">&plusmn; ");
        h_pctv(h, v.std);
        h_printf(h, "</span>");
    }
    h_printf(h, "</td>");
}

/* One metric row: name, value (printf'd), unit. */
static void h_row(html *h, const char *name, const char *unit, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void h_row(html *h, const char *name, const char *unit, const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    h_printf(h, "<tr><th scope=\"row\">%s</th><td>%s</td><td class=\"unit\">%s</td></tr>", name,
             v, unit);
}

/* A rate as "12.345" for h_row (percent), or an em dash. */
static const char *pct(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.3f", 100 * v);
    else
        snprintf(buf, n, "&mdash;");
    return buf;
}

/* A rate over folds as "12.345 &plusmn; 0.123" for h_row. */
static const char *pct_ms(char *buf, size_t n, bm_ms v, size_t folds)
{
    char a[64], b[64];
    if (folds > 1 && isfinite(v.std))
        snprintf(buf, n, "%s <span class=\"sd\">&plusmn; %s</span>", pct(a, sizeof a, v.mean),
                 pct(b, sizeof b, v.std));
    else
        snprintf(buf, n, "%s", pct(a, sizeof a, v.mean));
    return buf;
}

#define UNIT_PCT "%"
#define UNIT_FRAC "fraction in [0, 1]"
#define UNIT_SIM "cosine similarity in [&minus;1, 1]"
#define THUMB 120 /* thumbnail box, CSS pixels */

typedef struct ctx {
    const bm_report_in *in;
    bm_write_fn write;
    void *wctx;
    html h;
    char *err;
    /* thumbnails by row: NULL not tried, "" no image, else base64 PNG
     * with its size */
    char **thumb;
    int *tw, *th;
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
    h_printf(&c->h, "<figure id=\"plot-%s\"><img alt=\"", name);
    h_text(&c->h, ch->title);
    h_printf(&c->h, "\" width=\"720\" height=\"480\" src=\"data:image/png;base64,");
    h_base64(&c->h, png, np);
    h_printf(&c->h, "\"><figcaption>vector copy: <span class=\"file\">plots/%s.svg</span>"
                    "</figcaption></figure>\n", name);
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

/* ---- tables ----------------------------------------------------------- */

static const char *op_name[BM_N_OPS] = {"10&nbsp;%", "5&nbsp;%", "1&nbsp;%", "0.1&nbsp;%", "0"};
static const char *op_pyeer[BM_N_OPS] = {"FMR10", "FMR20", "FMR100", "FMR1000", "ZeroFMR"};

/* The acceptance rule the verification rates were computed under: with
 * polarity: flip the similarities were evaluated as distances, so every
 * threshold below reads the other way round. */
static const char *acceptance_rule(const bm_ver_result *v)
{
    if (v->flipped)
        return "Genuine similarities average below impostor ones and <code>polarity: flip</code> "
               "is set, so the scores are evaluated as distances: a comparison is accepted when its "
               "score is at most the threshold (identification still ranks the highest similarity "
               "first).";
    if (v->reversed)
        return "A comparison is accepted when its score is at least the threshold. Genuine "
               "similarities average below impostor ones, so labels or embeddings look reversed "
               "(<code>polarity: flip</code> would evaluate them as distances).";
    return "A comparison is accepted when its score is at least the threshold.";
}

static void verification_table(ctx *c)
{
    const bm_ver_result *v = c->in->ver;
    const bm_verif_stats *s = &v->st;
    html *h = &c->h;
    char a[128], b[128], nm[160];
    h_printf(h, "<section id=\"verification\"><h2>Verification</h2><p>%zu genuine pairs (every "
                "same-identity pair) and %zu impostor pairs (%s). %s</p>",
             v->n_gen, v->n_imp, bm_impostors_name(v->used), acceptance_rule(v));
    h_printf(h, "<table class=\"metrics\"><thead><tr><th>Metric</th><th>Value</th><th class=\"u\">Unit</th>"
                "</tr></thead><tbody>");
    h_row(h, "EER (pyeer)", UNIT_PCT, "%s", pct(a, sizeof a, s->eer.eer));
    h_row(h, "EER interval (FMR, FNMR at the EER threshold)", UNIT_PCT, "%s &ndash; %s",
          pct(a, sizeof a, fmin(s->eer.eer_low, s->eer.eer_high)),
          pct(b, sizeof b, fmax(s->eer.eer_low, s->eer.eer_high)));
    h_row(h, "EER threshold", UNIT_SIM, "%.4f", s->eer.eer_thr);
    h_row(h, "EER (interpolated crossing)", UNIT_PCT, "%s", pct(a, sizeof a, s->eer.eer_interp));
    for (int o = 0; o < BM_N_OPS; o++) {
        snprintf(nm, sizeof nm, "FNMR at FMR = %s (%s)", op_name[o], op_pyeer[o]);
        h_row(h, nm, UNIT_PCT, "%s", pct(a, sizeof a, s->fnmr_at_fmr[o]));
    }
    h_row(h, "FMR at FNMR = 0 (ZeroFNMR)", UNIT_PCT, "%s", pct(a, sizeof a, s->zero_fnmr));
    h_row(h, "ROC AUC (scikit-learn)", UNIT_FRAC, "%.5f", v->auc);
    h_row(h, "d&prime; (decidability)", "standard deviations", "%.4f", s->decidability);
    h_row(h, "Genuine scores, mean &plusmn; std", UNIT_SIM, "%.4f &plusmn; %.4f", s->gmean,
          s->gstd);
    h_row(h, "Impostor scores, mean &plusmn; std", UNIT_SIM, "%.4f &plusmn; %.4f", s->imean,
          s->istd);
    h_printf(h, "</tbody></table>\n");
}

static void closed_table(ctx *c)
{
    const bm_report_in *in = c->in;
    const bm_closed_result *r = in->closed;
    html *h = &c->h;
    h_printf(h, "<section id=\"closed-set\"><h2>Closed-set identification</h2><p>%s protocol, %zu "
                "fold%s: a gallery of %zu and %zu probe%s per fold. Candidates are %s; a mate tied "
                "with non-mates ranks %s.%s</p>",
             in->closed_protocol ? in->closed_protocol : "", r->folds, r->folds == 1 ? "" : "s",
             r->n_gallery, r->n_probes, r->n_probes == 1 ? "" : "s",
             in->id_cfg->by_identity ? "identities, each at its best gallery image"
                                     : "gallery images",
             in->id_cfg->ties == BM_TIES_OPTIMISTIC ? "above them"
             : in->id_cfg->ties == BM_TIES_GALLERY_ORDER ? "by gallery order"
                                                          : "below them",
             r->folds > 1 ? " Values are means &plusmn; standard deviations over folds." : "");
    static const size_t rk[] = {1, 5, 10, 20};
    h_printf(h, "<table class=\"metrics wide\"><thead><tr>");
    for (int k = 0; k < 4; k++)
        if (rk[k] <= r->max_rank)
            h_printf(h, "<th>Rank-%zu</th>", rk[k]);
    h_printf(h, "<th>mAP</th>");
    for (size_t k = 0; k < in->id_cfg->n_pk; k++)
        h_printf(h, "<th>P@%zu</th>", in->id_cfg->pk[k]);
    h_printf(h, "<th class=\"u\">Unit</th></tr></thead><tbody><tr>");
    for (int k = 0; k < 4; k++)
        if (rk[k] <= r->max_rank)
            h_pct_ms(h, r->cmc[rk[k] - 1], r->folds);
    h_pct_ms(h, r->map, r->folds);
    for (size_t k = 0; k < in->id_cfg->n_pk; k++)
        h_pct_ms(h, r->pk[k], r->folds);
    h_printf(h, "<td class=\"unit\">" UNIT_PCT "</td></tr></tbody></table>\n");
}

static void open_table(ctx *c)
{
    const bm_open_result *o = c->in->open;
    html *h = &c->h;
    char a[192], nm[160];
    h_printf(h, "<section id=\"open-set\"><h2>Open-set identification</h2><p>%zu fold%s: %zu "
                "enrolled identities, %zu mated and %zu non-mated searches per fold. As in ISO/IEC "
                "19795-1, a mated search counts as found only when its mate is returned at rank "
                "&le; %zu with a score &ge; T; FPIR(T) is the share of non-mated searches with a "
                "candidate scoring &ge; T.%s</p>",
             o->folds, o->folds == 1 ? "" : "s", o->n_enrolled, o->n_mated, o->n_nonmated,
             o->rank, o->folds > 1 ? " Values are means &plusmn; standard deviations over folds."
                                   : "");
    h_printf(h, "<table class=\"metrics\"><thead><tr><th>Metric</th><th>Value</th><th class=\"u\">Unit</th>"
                "</tr></thead><tbody>");
    h_row(h, "EER (FPIR = FNIR, pyeer)", UNIT_PCT, "%s", pct_ms(a, sizeof a, o->eer, o->folds));
    h_row(h, "EER (interpolated crossing)", UNIT_PCT, "%s",
          pct_ms(a, sizeof a, o->eer_interp, o->folds));
    for (int k = 0; k < 4; k++) {
        snprintf(nm, sizeof nm, "FNIR at FPIR = %s", op_name[k]);
        h_row(h, nm, UNIT_PCT, "%s", pct_ms(a, sizeof a, o->fnir_at_fpir[k], o->folds));
    }
    h_printf(h, "</tbody></table>\n");
}

/* ---- the worst searches --------------------------------------------- */

/* Row `row`'s thumbnail, made once; returns NULL when it has no image. */
static const char *thumb(ctx *c, size_t row, int *w, int *hh)
{
    const bm_report_in *in = c->in;
    if (!c->thumb) {
        c->thumb = calloc(in->emb->n, sizeof *c->thumb);
        c->tw = calloc(in->emb->n, sizeof *c->tw);
        c->th = calloc(in->emb->n, sizeof *c->th);
        if (!c->thumb || !c->tw || !c->th) {
            free(c->thumb);
            free(c->tw);
            free(c->th);
            c->thumb = NULL;
            c->tw = c->th = NULL;
            return NULL;
        }
    }
    if (!c->thumb[row]) {
        unsigned char *px = NULL, *png = NULL;
        int iw = 0, ih = 0;
        size_t len = 0;
        html b = {0};
        if (in->image && in->image(in->image_ctx, row, THUMB, &px, &iw, &ih) == 0 &&
            bm_thumb_png(px, iw, ih, THUMB, &png, &len, &c->tw[row], &c->th[row]) == 0) {
            h_base64(&b, png, len);
        }
        free(px);
        free(png);
        c->thumb[row] = b.s && !b.failed ? b.s : (free(b.s), calloc(1, 1));
        if (!c->thumb[row])
            return NULL;
    }
    *w = c->tw[row];
    *hh = c->th[row];
    return c->thumb[row][0] ? c->thumb[row] : NULL;
}

static void tile(ctx *c, size_t row, const char *cls, const char *head, const char *badge)
{
    const bm_emb *e = c->in->emb;
    html *h = &c->h;
    int w = 0, hh = 0;
    const char *b64 = thumb(c, row, &w, &hh);
    h_printf(h, "<div class=\"tile %s\"><div class=\"hd\">%s</div><div class=\"im\">", cls, head);
    if (b64) {
        h_printf(h, "<img width=\"%d\" height=\"%d\" alt=\"", w, hh);
        h_text(h, e->id[row]);
        h_printf(h, "\" src=\"data:image/png;base64,%s\">", b64);
    } else {
        h_printf(h, "<span class=\"noimg\">");
        h_text(h, e->id[row]);
        h_printf(h, "</span>");
    }
    h_printf(h, "</div><div class=\"who\" title=\"");
    h_text(h, e->path[row] ? e->path[row] : e->id[row]);
    h_printf(h, "\">");
    h_text(h, e->label[row]);
    h_printf(h, "</div><div class=\"id\">");
    h_text(h, e->id[row]);
    h_printf(h, "</div>%s</div>", badge ? badge : "");
}

#define MATE_BADGE "<div class=\"badge\">&#10003; true mate</div>"

static void worst_section(ctx *c)
{
    const bm_closed_result *r = c->in->closed;
    const bm_emb *e = c->in->emb;
    html *h = &c->h;
    if (!r->n_worst)
        return;
    h_printf(h, "<h3>The %zu worst searches</h3><p class=\"muted\">Probes whose true mate ranked "
                "lowest (then scored lowest), with their first candidates. The true mate is "
                "framed in green; when it ranked below the candidates shown it follows them. "
                "Scores are cosine similarities.</p>",
             r->n_worst);
    for (size_t i = 0; i < r->n_worst; i++) {
        const bm_worst *w = &r->worst[i];
        h_printf(h, "<div class=\"strip\"><div class=\"sh\"><b>%zu.</b> ", i + 1);
        if (r->folds > 1)
            h_printf(h, "Fold %zu &middot; ", w->fold + 1);
        h_printf(h, "probe <b>");
        h_text(h, e->id[w->probe]);
        h_printf(h, "</b> of <b>");
        h_text(h, e->label[w->probe]);
        h_printf(h, "</b> &middot; true mate at rank <b class=\"%s\">%zu</b> &middot; mate score "
                    "%.4f &middot; best non-mate %.4f</div><div class=\"tiles\">",
                 w->rank == 1 ? "good" : "bad", w->rank, w->mate_score, w->nonmate_score);
        tile(c, w->probe, "probe", "probe", NULL);
        h_printf(h, "<div class=\"arrow\">&rarr;</div>");
        int shown = 0;
        for (size_t k = 0; k < w->n_cand; k++) {
            char head[96];
            snprintf(head, sizeof head, "#%zu &middot; %.4f", k + 1, w->cand[k].score);
            tile(c, w->cand[k].pos, w->cand[k].mate ? "mate" : "cand", head,
                 w->cand[k].mate ? MATE_BADGE : NULL);
            shown |= w->cand[k].mate && w->cand[k].pos == w->mate_row;
        }
        if (!shown) {
            char head[96];
            snprintf(head, sizeof head, "#%zu &middot; %.4f", w->rank, w->mate_score);
            h_printf(h, "<div class=\"arrow\">&hellip;</div>");
            tile(c, w->mate_row, "mate", head, MATE_BADGE);
        }
        h_printf(h, "</div></div>\n");
    }
}

/* ---- page -------------------------------------------------------------- */

static const char css[] =
    ":root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da;"
    "--ok:#1a7f37;--bad:#cf222e}"
    "*{box-sizing:border-box}"
    "html{background:#fff}"
    "body{margin:0;color:var(--ink);font:15px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Noto Sans','DejaVu Sans','Liberation Sans',Arial,sans-serif}"
    "main{max-width:1200px;margin:0 auto;padding:28px 40px 48px}"
    "h1{font-size:28px;line-height:1.2;margin:0 0 6px}"
    "h2{font-size:21px;margin:40px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}"
    "h3{font-size:17px;margin:28px 0 6px}"
    "p{margin:8px 0;max-width:80ch}"
    ".muted,.sub{color:var(--muted)}"
    ".sub{margin:0 0 18px;overflow-wrap:anywhere}"
    ".units{background:#ddf4ff;border:1px solid #54aeff66;border-radius:6px;padding:10px 14px;"
    "font-size:14px;max-width:none}"
    ".cards{display:flex;flex-wrap:wrap;gap:14px;margin:20px 0 8px}"
    ".card{flex:1 1 200px;border:1px solid var(--line);border-radius:10px;padding:12px 16px;"
    "background:var(--soft)}"
    ".card .v{font-size:27px;font-weight:650;font-variant-numeric:tabular-nums}"
    ".card .v small{font-size:16px;font-weight:500;color:var(--muted);margin-left:2px}"
    ".card .k{color:var(--muted);font-size:13px}"
    "table{border-collapse:collapse;margin:14px 0;font-size:14px;font-variant-numeric:tabular-nums}"
    "th,td{border-bottom:1px solid var(--line);padding:6px 16px;text-align:right;"
    "vertical-align:top}"
    "thead th{background:var(--soft);font-weight:600;border-bottom:2px solid var(--line)}"
    "table.metrics th:first-child,table.metrics td:first-child{text-align:left}"
    "table.metrics tbody th{font-weight:500}"
    "table.wide th:first-child,table.wide td:first-child{text-align:right}"
    "td.unit{color:var(--muted);text-align:left;white-space:nowrap}"
    "th.u{text-align:left}"
    ".sd{color:var(--muted);font-size:12px;white-space:nowrap}"
    ".plots{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px;margin:16px 0}"
    "figure{margin:0;border:1px solid var(--line);border-radius:10px;padding:10px;"
    "background:#fff}"
    "figure img{display:block;width:100%;height:auto}"
    "figcaption{font-size:13px;color:var(--muted);text-align:center;margin-top:6px}"
    ".file{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;opacity:.8;"
    "margin-left:6px}"
    ".strip{border:1px solid var(--line);border-radius:10px;padding:12px 14px;margin:14px 0;"
    "background:var(--soft)}"
    ".sh{font-size:14px;margin-bottom:10px}"
    ".good{color:var(--ok)}.bad{color:var(--bad)}"
    ".tiles{display:flex;flex-wrap:wrap;gap:10px 8px;align-items:stretch}"
    ".tile{flex:0 0 136px;width:136px;background:#fff;border:2px solid var(--line);"
    "border-radius:8px;padding:6px;font-size:12px;line-height:1.35}"
    ".tile .hd{font-weight:600;font-variant-numeric:tabular-nums;margin-bottom:4px;"
    "white-space:nowrap}"
    ".tile.probe{border-color:var(--accent)}.tile.probe .hd{color:var(--accent)}"
    ".tile.mate{border-color:var(--ok);box-shadow:0 0 0 3px #1a7f3733}"
    ".im{width:120px;height:120px;display:flex;align-items:center;justify-content:center;"
    "background:#eef1f4;border-radius:4px;overflow:hidden}"
    ".im img{display:block;max-width:120px;max-height:120px}"
    ".noimg{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:11px;"
    "color:var(--muted);padding:6px;overflow-wrap:anywhere;text-align:center;background:#fff}"
    ".who{font-weight:600;margin-top:4px;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}"
    ".id{color:var(--muted);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    ".badge{display:inline-block;margin-top:4px;padding:1px 8px;border-radius:10px;"
    "background:var(--ok);color:#fff;font-weight:600;font-size:11px}"
    ".arrow{align-self:center;color:var(--muted);font-size:20px;width:18px;text-align:center}"
    "ul.warn li{color:#9a6700}"
    "footer{margin-top:40px;color:var(--muted);font-size:12px}";

static void card(html *h, const char *name, double v, int have)
{
    if (!have)
        return;
    h_printf(h, "<div class=\"card\"><div class=\"v\">");
    h_pctv(h, v);
    h_printf(h, "<small>%%</small></div><div class=\"k\">%s</div></div>", name);
}

int bm_write_plots_and_report(const bm_report_in *in, bm_write_fn write, void *wctx, char *err)
{
    ctx c = {in, write, wctx, {0}, err, NULL, NULL, NULL};
    html *h = &c.h;
    int ver = in->ver && in->ver->done, closed = in->closed && in->closed->done,
        open = in->open && in->open->done;
    h_printf(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<meta name=\"color-scheme\" content=\"light\">"
                "<title>Biometric evaluation &middot; aigtatt</title><style>%s</style></head>"
                "<body><main>\n<h1>Biometric evaluation</h1><p class=\"sub\">",
             css);
    h_text(h, in->source);
    h_printf(h, " &middot; %zu embeddings of dimension %zu &middot; %zu identities</p>\n",
             in->emb->n, in->emb->d, in->emb->n_labels);
    h_printf(h, "<div class=\"cards\">");
    char name[128] = "";
    card(h, "Verification EER", ver ? in->ver->st.eer.eer : 0, ver);
    card(h, "FNMR at FMR = 1&nbsp;%", ver ? in->ver->st.fnmr_at_fmr[2] : 0, ver);
    card(h, "Closed-set Rank-1", closed ? in->closed->cmc[0].mean : 0, closed);
    if (open)
        snprintf(name, sizeof name, "Open-set EER (rank &le; %zu)", in->open->rank);
    card(h, name, open ? in->open->eer.mean : 0, open);
    h_printf(h, "</div><p class=\"units\"><b>Units.</b> Rates (EER, FMR, FNMR, FPIR, FNIR, "
                "identification rates, mAP, precision) are shown in <b>percent</b> here; "
                "metrics.json holds them as <b>fractions</b> in [0, 1] (0.05 = 5&nbsp;%%). Scores "
                "and thresholds are cosine similarities of L2-normalised embeddings, in "
                "[&minus;1, 1]; AUC is a fraction.</p>\n");
    int rc = AIGTATT_OK;
    if (ver) {
        verification_table(&c);
        h_printf(h, "<div class=\"plots\">");
        rc = verification_plots(&c);
        h_printf(h, "</div></section>\n");
    }
    if (!rc && closed) {
        closed_table(&c);
        h_printf(h, "<div class=\"plots\">");
        rc = closed_plot(&c);
        h_printf(h, "</div>");
        worst_section(&c);
        h_printf(h, "</section>\n");
    }
    if (!rc && open) {
        open_table(&c);
        h_printf(h, "<div class=\"plots\">");
        rc = open_plot(&c);
        h_printf(h, "</div></section>\n");
    }
    if (in->env && in->env->n_warnings) {
        h_printf(h, "<section id=\"warnings\"><h2>Warnings</h2><ul class=\"warn\">");
        for (size_t i = 0; i < in->env->n_warnings; i++) {
            h_printf(h, "<li>");
            h_text(h, in->env->warnings[i]);
            h_printf(h, "</li>");
        }
        h_printf(h, "</ul></section>\n");
    }
    h_printf(h, "<footer>%s %s &middot; plots also as PNG and SVG under plots/ next to this file; "
                "every number also in metrics.json</footer></main></body></html>\n",
             in->component, in->version);
    if (!rc && h->failed) {
        snprintf(err, BM_ERRLEN, "out of memory while writing report.html");
        rc = AIGTATT_ERR_NOMEM;
    }
    if (!rc && (rc = write(wctx, "report.html", h->s, h->n)))
        snprintf(err, BM_ERRLEN, "cannot write report.html");
    for (size_t i = 0; c.thumb && i < in->emb->n; i++)
        free(c.thumb[i]);
    free(c.thumb);
    free(c.tw);
    free(c.th);
    free(h->s);
    return rc;
}
