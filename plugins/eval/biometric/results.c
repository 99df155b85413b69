/* metrics.json and the CSV files. Every rate is a fraction; the JSON says
 * so at its top and in each key's name where a percentage could be
 * guessed. Non-finite numbers become null (JSON has no NaN). */
#include "results.h"

#include <aigtatt/types.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *op_key[BM_N_OPS] = {"0.1", "0.05", "0.01", "0.001", "0"};

const char *bm_impostors_name(bm_impostors m)
{
    switch (m) {
    case BM_IMP_ALL: return "all";
    case BM_IMP_PER_ID: return "per_identity";
    case BM_IMP_SAMPLE: return "sample";
    default: return "auto";
    }
}

const char *bm_ties_name(bm_ties t)
{
    return t == BM_TIES_OPTIMISTIC ? "optimistic"
           : t == BM_TIES_GALLERY_ORDER ? "gallery_order" : "pessimistic";
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *ms(bm_ms v)
{
    return json_pack("{s:o, s:o}", "mean", num(v.mean), "std", num(v.std));
}

static json_t *verification_json(const bm_report_in *in)
{
    const bm_ver_result *v = in->ver;
    const bm_verif_stats *s = &v->st;
    json_t *fa = json_object(), *fl = json_object();
    for (int o = 0; o < BM_N_OPS; o++) {
        json_object_set_new(fa, op_key[o],
                            json_pack("{s:o, s:o, s:o}", "fnmr", num(s->fnmr_at_fmr[o]), "fmr",
                                      num(s->fnmr_at_fmr_fmr[o]), "threshold",
                                      num(s->fnmr_at_fmr_thr[o])));
        json_object_set_new(fl, op_key[o], num(s->fnmr_at_fmr_le[o]));
    }
    /* One key at a time: a long json_pack format is too easy to miscount. */
    json_t *j = json_object();
    json_object_set_new(j, "impostors", json_string(bm_impostors_name(v->used)));
    json_object_set_new(j, "genuine_pairs", json_integer((json_int_t)v->n_gen));
    json_object_set_new(j, "impostor_pairs", json_integer((json_int_t)v->n_imp));
    json_object_set_new(j, "eer", num(s->eer.eer));
    json_object_set_new(j, "eer_low", num(s->eer.eer_low));
    json_object_set_new(j, "eer_high", num(s->eer.eer_high));
    json_object_set_new(j, "eer_threshold", num(s->eer.eer_thr));
    json_object_set_new(j, "eer_interpolated", num(s->eer.eer_interp));
    json_object_set_new(j, "fnmr_at_fmr", fa);
    json_object_set_new(j, "fnmr_at_fmr_le", fl);
    json_object_set_new(j, "zero_fnmr", json_pack("{s:o, s:o}", "fmr", num(s->zero_fnmr),
                                                  "threshold", num(s->zero_fnmr_thr)));
    json_object_set_new(j, "auc_roc", num(v->auc));
    json_object_set_new(j, "auc_pyeer", num(s->auc_pyeer));
    json_object_set_new(j, "decidability", num(s->decidability));
    json_object_set_new(j, "genuine", json_pack("{s:o, s:o}", "mean", num(s->gmean), "std",
                                                num(s->gstd)));
    json_object_set_new(j, "impostor", json_pack("{s:o, s:o}", "mean", num(s->imean), "std",
                                                 num(s->istd)));
    json_object_set_new(j, "youden", json_pack("{s:o, s:o}", "j", num(s->youden_j), "threshold",
                                               num(s->youden_thr)));
    json_object_set_new(j, "mcc", json_pack("{s:o, s:o}", "mcc", num(s->mcc), "threshold",
                                            num(s->mcc_thr)));
    json_object_set_new(j, "polarity", json_pack("{s:b, s:b}", "reversed", v->reversed,
                                                 "flipped", v->flipped));
    /* pyeer's report names, for readers of the seed's tables. */
    json_object_set_new(j, "pyeer",
                        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "EER", num(s->eer.eer),
                                  "FMR10", num(s->fnmr_at_fmr[0]), "FMR20",
                                  num(s->fnmr_at_fmr[1]), "FMR100", num(s->fnmr_at_fmr[2]),
                                  "FMR1000", num(s->fnmr_at_fmr[3]), "ZeroFMR",
                                  num(s->fnmr_at_fmr[4]), "ZeroFNMR", num(s->zero_fnmr)));
    return j;
}

/* A row's id and identity, as the report names it. */
static json_t *row_json(const bm_emb *e, size_t row)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(e->id[row] ? e->id[row] : ""));
    json_object_set_new(j, "identity", json_string(e->label[row]));
    if (e->path[row])
        json_object_set_new(j, "path", json_string(e->path[row]));
    return j;
}

static json_t *worst_json(const bm_report_in *in)
{
    const bm_closed_result *c = in->closed;
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_worst; i++) {
        const bm_worst *w = &c->worst[i];
        json_t *o = row_json(in->emb, w->probe), *cl = json_array();
        json_object_set_new(o, "fold", json_integer((json_int_t)w->fold + 1));
        json_object_set_new(o, "mate_rank", json_integer((json_int_t)w->rank));
        json_object_set_new(o, "mate_score", num(w->mate_score));
        json_object_set_new(o, "best_nonmate_score", num(w->nonmate_score));
        json_object_set_new(o, "mate", row_json(in->emb, w->mate_row));
        for (size_t k = 0; k < w->n_cand; k++) {
            json_t *cj = row_json(in->emb, w->cand[k].pos);
            json_object_set_new(cj, "score", num(w->cand[k].score));
            json_object_set_new(cj, "is_mate", json_boolean(w->cand[k].mate));
            json_array_append_new(cl, cj);
        }
        json_object_set_new(o, "candidates", cl);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *closed_json(const bm_report_in *in)
{
    const bm_closed_result *c = in->closed;
    const bm_id_cfg *cfg = in->id_cfg;
    json_t *ranks = json_object(), *cmc = json_array(), *cmcs = json_array(), *pk = json_object();
    static const size_t shown[] = {1, 5, 10, 20};
    for (size_t i = 0; i < 4; i++)
        if (shown[i] <= c->max_rank) {
            char k[16];
            snprintf(k, sizeof k, "%zu", shown[i]);
            json_object_set_new(ranks, k, ms(c->cmc[shown[i] - 1]));
        }
    for (size_t r = 0; r < c->max_rank; r++) {
        json_array_append_new(cmc, num(c->cmc[r].mean));
        json_array_append_new(cmcs, num(c->cmc[r].std));
    }
    for (size_t k = 0; k < cfg->n_pk; k++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", cfg->pk[k]);
        json_object_set_new(pk, key, ms(c->pk[k]));
    }
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
                          "protocol", in->closed_protocol ? in->closed_protocol : "", "folds",
                          (json_int_t)c->folds, "gallery_size", (json_int_t)c->n_gallery,
                          "probes", (json_int_t)c->n_probes, "probes_without_mate",
                          (json_int_t)c->n_no_mate, "ties", bm_ties_name(cfg->ties),
                          "candidates", cfg->by_identity ? "identities" : "images", "rank",
                          ranks, "cmc", cmc, "cmc_std", cmcs, "map", ms(c->map),
                          "precision_at_k", pk);
    /* The searches report.html shows, worst first (ranks and scores as
     * the protocol found them; folds count from 1). */
    if (j && c->n_worst)
        json_object_set_new(j, "worst_searches", worst_json(in));
    return j;
}

static json_t *open_json(const bm_report_in *in)
{
    const bm_open_result *o = in->open;
    json_t *fa = json_object(), *fl = json_object();
    for (int k = 0; k < BM_N_OPS; k++) {
        json_object_set_new(fa, op_key[k], ms(o->fnir_at_fpir[k]));
        json_object_set_new(fl, op_key[k], ms(o->fnir_at_fpir_le[k]));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:o, s:o, s:s}", "folds",
                     (json_int_t)o->folds, "rank_limit", (json_int_t)o->rank, "enrolled",
                     (json_int_t)o->n_enrolled, "mated_searches", (json_int_t)o->n_mated,
                     "nonmated_searches", (json_int_t)o->n_nonmated, "enrolled_fraction",
                     in->id_cfg->enrolled_fraction, "eer", ms(o->eer), "eer_interpolated",
                     ms(o->eer_interp), "fnir_at_fpir", fa, "fnir_at_fpir_le", fl, "definition",
                     "ISO/IEC 19795-1: FPIR(T) = non-mated searches with a candidate scoring >= T; "
                     "FNIR(T) = mated searches whose mate is not at rank <= rank_limit with a "
                     "score >= T");
}

char *bm_metrics_json(const bm_report_in *in)
{
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:I, s:I, s:I}}", "units",
        "Every rate is a fraction in [0, 1] (0.05 means 5%); scores and thresholds are cosine "
        "similarities of L2-normalised embeddings, in [-1, 1]; mean/std are over folds.",
        "component", in->component, "version", in->version, "input", "source",
        in->source ? in->source : "", "rows", (json_int_t)in->emb->n, "dimension",
        (json_int_t)in->emb->d, "identities", (json_int_t)in->emb->n_labels);
    if (!root)
        return NULL;
    if (in->ver && in->ver->done)
        json_object_set_new(root, "verification", verification_json(in));
    if (in->closed && in->closed->done)
        json_object_set_new(root, "closed_set", closed_json(in));
    if (in->open && in->open->done)
        json_object_set_new(root, "open_set", open_json(in));
    json_t *w = json_array();
    for (size_t i = 0; in->env && i < in->env->n_warnings; i++)
        json_array_append_new(w, json_string(in->env->warnings[i]));
    json_object_set_new(root, "warnings", w);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    return s;
}

/* ---- CSV ------------------------------------------------------------ */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)k;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void sb_field(sbuf *b, const char *t)
{
    if (!strpbrk(t, ",\"\r\n")) {
        sb_printf(b, "%s", t);
        return;
    }
    sb_printf(b, "\"");
    for (const char *p = t; *p; p++)
        sb_printf(b, *p == '"' ? "\"\"" : "%c", *p);
    sb_printf(b, "\"");
}

static void sb_num(sbuf *b, double x, int percent)
{
    if (isfinite(x))
        sb_printf(b, ",%.17g", percent ? 100.0 * x : x);
    else
        sb_printf(b, ",");
}

static int flush(sbuf *b, bm_write_fn write, void *ctx, const char *name, char *err)
{
    int rc = b->failed ? AIGTATT_ERR_NOMEM : write(ctx, name, b->s ? b->s : "", b->n);
    if (rc && err)
        snprintf(err, BM_ERRLEN, "cannot write %s", name);
    free(b->s);
    memset(b, 0, sizeof *b);
    return rc;
}

/* Rows of a curve, thinned to at most `cap` evenly spaced indices (the
 * first and last always kept). */
static size_t pick(size_t i, size_t n, size_t cap)
{
    if (n <= cap || cap < 2)
        return i;
    return (size_t)((double)i * (double)(n - 1) / (double)(cap - 1) + 0.5);
}

static void curve_csv(sbuf *b, const bm_curve *c, size_t cap, const char *h1, const char *h2)
{
    sb_printf(b, "threshold,%s,%s\n", h1, h2);
    size_t rows = c->n <= cap || cap < 2 ? c->n : cap;
    for (size_t i = 0; i < rows; i++) {
        size_t k = pick(i, c->n, cap);
        sb_printf(b, "%.17g,%.17g,%.17g\n", c->thr[k], bm_fmr(c, k), bm_fnmr(c, k));
    }
}

int bm_write_reports(const bm_report_in *in, bm_write_fn write, void *ctx, char *err)
{
    char *js = bm_metrics_json(in);
    if (!js) {
        snprintf(err, BM_ERRLEN, "cannot build metrics.json (out of memory)");
        return AIGTATT_ERR_NOMEM;
    }
    size_t jl = strlen(js);
    js[jl] = '\n'; /* json_dumps leaves room for the terminator */
    int rc = write(ctx, "metrics.json", js, jl + 1);
    free(js);
    if (rc) {
        snprintf(err, BM_ERRLEN, "cannot write metrics.json");
        return rc;
    }

    /* The seed's table, one row. */
    sbuf b = {0};
    int pc = in->csv_percent;
    const bm_ver_result *v = in->ver && in->ver->done ? in->ver : NULL;
    const bm_open_result *o = in->open && in->open->done ? in->open : NULL;
    const bm_closed_result *c = in->closed && in->closed->done ? in->closed : NULL;
    sb_printf(&b, "Backbone,Emb_size,Margin,EER_Ver,FMR10,FMR20,FMR100,EER_Ident,FNIR10,FNIR20,"
                  "FNIR100,Rank-1,Rank-10,Rank-20\n");
    sb_field(&b, in->backbone ? in->backbone : "");
    sb_printf(&b, ",%zu,", in->emb->d);
    sb_field(&b, in->margin ? in->margin : "");
    sb_num(&b, v ? v->st.eer.eer : NAN, pc);
    for (int k = 0; k < 3; k++)
        sb_num(&b, v ? v->st.fnmr_at_fmr[k] : NAN, pc);
    sb_num(&b, o ? o->eer.mean : NAN, pc);
    for (int k = 0; k < 3; k++)
        sb_num(&b, o ? o->fnir_at_fpir[k].mean : NAN, pc);
    static const size_t rk[] = {1, 10, 20};
    for (int k = 0; k < 3; k++)
        sb_num(&b, c && rk[k] <= c->max_rank ? c->cmc[rk[k] - 1].mean : NAN, pc);
    sb_printf(&b, "\n");
    if ((rc = flush(&b, write, ctx, "results.csv", err)))
        return rc;

    if (v) {
        curve_csv(&b, &v->curve, in->curve_points, "fmr", "fnmr");
        if ((rc = flush(&b, write, ctx, "verification_det.csv", err)))
            return rc;
        sb_printf(&b, "threshold,fpr,tpr\n");
        size_t rows = v->roc.n <= in->curve_points ? v->roc.n : in->curve_points;
        for (size_t i = 0; i < rows; i++) {
            size_t k = pick(i, v->roc.n, in->curve_points);
            sb_printf(&b, "%.17g,%.17g,%.17g\n", v->roc.thr[k], v->roc.fpr[k], v->roc.tpr[k]);
        }
        if ((rc = flush(&b, write, ctx, "verification_roc.csv", err)))
            return rc;
    }
    if (c) {
        sb_printf(&b, "rank,identification_rate,std\n");
        for (size_t r = 0; r < c->max_rank; r++)
            sb_printf(&b, "%zu,%.17g,%.17g\n", r + 1, c->cmc[r].mean, c->cmc[r].std);
        if ((rc = flush(&b, write, ctx, "cmc.csv", err)))
            return rc;
    }
    if (o) {
        curve_csv(&b, &o->pooled, in->curve_points, "fpir", "fnir");
        if ((rc = flush(&b, write, ctx, "open_set_det.csv", err)))
            return rc;
    }
    return AIGTATT_OK;
}
