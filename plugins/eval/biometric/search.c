/* Probe x gallery searches in blocks of probe rows: each block's scores
 * are computed, searched and dropped, so memory is one block, not the
 * whole matrix. Every probe writes its own slot of the outputs, so results
 * do not depend on which thread ran what. A block holds at most
 * env->block_bytes of scores, but at least one whole gallery row (ranks,
 * AP and precision@k read a probe's full row); bm_topk_all also tiles the
 * gallery, so its blocks stay under the cap for any gallery size.
 *
 * Threads: with the builtin product, whole blocks (product + searches) run
 * on the host's threads. oneDNN threads each product itself, so there the
 * blocks go one after another and only the per-probe searches of a block
 * are spread over the host's threads. */
#include "protocol.h"

#include <aigtatt/types.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct job {
    bm_env *env;
    const bm_emb *e;
    const size_t *probes;
    size_t np;
    const float *G; /* gathered gallery rows */
    const int32_t *glab;
    size_t ng, rows;
    const bm_excl *excl;
    const bm_id_cfg *cfg;
    bm_search *out;
    double *ap, *pk;
    /* the block being searched row by row (oneDNN path) */
    const double *S;
    size_t p0;
} job;

/* Searches probe p whose scores are `row`; scratch holds
 * 2 * n_labels + ng doubles. */
static int search_one(job *j, size_t p, const double *row, double *scratch)
{
    const bm_emb *e = j->e;
    int32_t pl = e->lab[j->probes[p]];
    const size_t *ex = NULL;
    size_t nex = 0;
    if (j->excl) {
        ex = j->excl->idx + j->excl->start[p];
        nex = j->excl->start[p + 1] - j->excl->start[p];
    }
    int rc = bm_search_row(row, j->glab, j->ng, pl, ex, nex, j->cfg->ties, j->cfg->by_identity,
                           e->n_labels, scratch, &j->out[p]);
    if (rc)
        return rc;
    double *tmp = scratch + 2 * e->n_labels;
    if (j->ap)
        j->ap[p] = bm_average_precision(row, j->glab, j->ng, pl, ex, nex, tmp);
    for (size_t k = 0; j->pk && k < j->cfg->n_pk; k++)
        j->pk[p * j->cfg->n_pk + k] =
            bm_precision_at_k(row, j->glab, j->ng, pl, ex, nex, j->cfg->pk[k], j->cfg->ties, tmp);
    return AIGTATT_OK;
}

static double *new_scratch(const job *j)
{
    return malloc((2 * j->e->n_labels + j->ng) * sizeof(double));
}

/* The scores of probes [p0, p0 + nr) in S (nr x ng). */
static int block_scores(job *j, size_t p0, size_t nr, double *S, char *err)
{
    size_t d = j->e->d;
    float *P = malloc(nr * d * sizeof *P);
    if (!P)
        return AIGTATT_ERR_NOMEM;
    for (size_t r = 0; r < nr; r++)
        memcpy(P + r * d, j->e->x + j->probes[p0 + r] * d, d * sizeof *P);
    int rc = bm_sim_block(j->env->gemm, P, nr, j->G, j->ng, d, S, err);
    free(P);
    return rc;
}

/* Builtin path: one whole block per call. */
static int run_block(void *ctx, size_t b)
{
    job *j = ctx;
    size_t p0 = b * j->rows, nr = j->rows < j->np - p0 ? j->rows : j->np - p0;
    if (j->env->cancelled && j->env->cancelled())
        return AIGTATT_ERR_CANCELLED;
    double *S = malloc(nr * j->ng * sizeof *S), *scratch = new_scratch(j);
    int rc = S && scratch ? block_scores(j, p0, nr, S, NULL) : AIGTATT_ERR_NOMEM;
    for (size_t r = 0; r < nr && rc == AIGTATT_OK; r++)
        rc = search_one(j, p0 + r, S + r * j->ng, scratch);
    free(S);
    free(scratch);
    return rc;
}

/* oneDNN path: one probe row of the current block per call. */
static int run_row(void *ctx, size_t r)
{
    job *j = ctx;
    double *scratch = new_scratch(j);
    if (!scratch)
        return AIGTATT_ERR_NOMEM;
    int rc = search_one(j, j->p0 + r, j->S + r * j->ng, scratch);
    free(scratch);
    return rc;
}

int bm_search_all(bm_env *env, const bm_emb *e, const size_t *probes, size_t np,
                  const size_t *gallery, size_t ng, const bm_excl *excl, const bm_id_cfg *cfg,
                  bm_search *out, double *ap, double *pk)
{
    if (np == 0 || ng == 0) {
        snprintf(env->err, sizeof env->err, "a search needs at least one probe and one gallery "
                 "item (have %zu and %zu)", np, ng);
        return AIGTATT_ERR_INVALID;
    }
    float *G = malloc(ng * e->d * sizeof *G);
    int32_t *glab = malloc(ng * sizeof *glab);
    if (!G || !glab) {
        free(G);
        free(glab);
        snprintf(env->err, sizeof env->err, "out of memory for a gallery of %zu", ng);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t g = 0; g < ng; g++) {
        memcpy(G + g * e->d, e->x + gallery[g] * e->d, e->d * sizeof *G);
        glab[g] = e->lab[gallery[g]];
    }
    size_t rows = bm_block_doubles(env) / ng;
    rows = rows < 1 ? 1 : rows > 256 ? 256 : rows;
    rows = rows < np ? rows : np;
    bm_note_block(env, rows * ng * sizeof(double));
    job j = {env, e, probes, np, G, glab, ng, rows, excl, cfg, out, ap, pk, NULL, 0};
    size_t nb = (np + rows - 1) / rows;
    int rc = AIGTATT_OK;
    if (env->gemm == BM_GEMM_BUILTIN || !bm_gemm_have_onednn()) {
        if (env->parallel_for)
            rc = env->parallel_for(nb, run_block, &j);
        else
            for (size_t b = 0; b < nb && rc == AIGTATT_OK; b++)
                rc = run_block(&j, b);
    } else {
        double *S = malloc(rows * ng * sizeof *S);
        if (!S)
            rc = AIGTATT_ERR_NOMEM;
        for (size_t b = 0; b < nb && rc == AIGTATT_OK; b++) {
            size_t p0 = b * rows, nr = rows < np - p0 ? rows : np - p0;
            if (env->cancelled && env->cancelled()) {
                rc = AIGTATT_ERR_CANCELLED;
                break;
            }
            char err[BM_ERRLEN] = "";
            if ((rc = block_scores(&j, p0, nr, S, err))) {
                if (err[0])
                    snprintf(env->err, sizeof env->err, "%s", err);
                break;
            }
            j.S = S;
            j.p0 = p0;
            if (env->parallel_for)
                rc = env->parallel_for(nr, run_row, &j);
            else
                for (size_t r = 0; r < nr && rc == AIGTATT_OK; r++)
                    rc = run_row(&j, r);
        }
        free(S);
    }
    if (rc == AIGTATT_ERR_NOMEM)
        snprintf(env->err, sizeof env->err, "out of memory while searching %zu probes", np);
    else if (rc == AIGTATT_ERR_CANCELLED)
        snprintf(env->err, sizeof env->err, "cancelled");
    else if (rc && !env->err[0])
        snprintf(env->err, sizeof env->err, "search failed (status %d)", rc);
    free(G);
    free(glab);
    return rc;
}

/* ---- top-k ------------------------------------------------------------- */

int bm_cand_before(const bm_cand *a, const bm_cand *b, bm_ties ties)
{
    if (a->score != b->score)
        return a->score > b->score;
    if (a->mate != b->mate) {
        if (ties == BM_TIES_PESSIMISTIC)
            return !a->mate;
        if (ties == BM_TIES_OPTIMISTIC)
            return a->mate;
    }
    return a->pos < b->pos;
}

/* A probe's bounded list: at most k entries, unordered, with the index of
 * the one that ranks last, so a candidate that cannot enter costs one
 * comparison. */
typedef struct klist {
    bm_cand *c;
    size_t n, worst;
} klist;

static void klist_rescan(klist *l, bm_ties ties)
{
    l->worst = 0;
    for (size_t i = 1; i < l->n; i++)
        if (bm_cand_before(&l->c[l->worst], &l->c[i], ties))
            l->worst = i;
}

/* Images: plain bounded insertion. */
static void klist_add(klist *l, size_t k, const bm_cand *c, bm_ties ties)
{
    if (l->n < k) {
        l->c[l->n++] = *c;
        klist_rescan(l, ties);
    } else if (bm_cand_before(c, &l->c[l->worst], ties)) {
        l->c[l->worst] = *c;
        klist_rescan(l, ties);
    }
}

/* Identities: `lab` of the entries rides along; an identity already listed
 * is raised only by a strictly higher score (its best image is the first
 * one reaching its best, as in rank.c), never listed twice. An identity
 * dropped earlier had a best below everything kept, so it can come back
 * only with a new best, which is then its true best so far. */
static void klist_add_id(klist *l, int32_t *lab, size_t k, const bm_cand *c, int32_t cl,
                         bm_ties ties)
{
    if (l->n == k && !bm_cand_before(c, &l->c[l->worst], ties))
        return;
    for (size_t i = 0; i < l->n; i++)
        if (lab[i] == cl) {
            if (c->score > l->c[i].score) {
                l->c[i] = *c;
                klist_rescan(l, ties);
            }
            return;
        }
    size_t at = l->n < k ? l->n++ : l->worst;
    l->c[at] = *c;
    lab[at] = cl;
    klist_rescan(l, ties);
}

typedef struct tjob {
    bm_env *env;
    const bm_emb *e;
    const size_t *probes, *gallery;
    size_t np, ng, rows, cols, k;
    const float *G;
    const int32_t *glab;
    const bm_excl *excl;
    const bm_id_cfg *cfg;
    bm_cand *out;
    size_t *n_out;
} tjob;

static int excluded_pos(const size_t *ex, size_t nex, size_t g)
{
    for (size_t i = 0; i < nex; i++)
        if (ex[i] == g)
            return 1;
    return 0;
}

/* One block of probe rows against every gallery tile. */
static int topk_block(void *ctx, size_t b)
{
    tjob *j = ctx;
    const bm_emb *e = j->e;
    size_t d = e->d, p0 = b * j->rows, nr = j->rows < j->np - p0 ? j->rows : j->np - p0;
    if (j->env->cancelled && j->env->cancelled())
        return AIGTATT_ERR_CANCELLED;
    float *P = malloc(nr * d * sizeof *P);
    double *S = malloc(nr * j->cols * sizeof *S);
    klist *ls = calloc(nr, sizeof *ls);
    int32_t *lab = malloc(nr * j->k * sizeof *lab);
    int rc = P && S && ls && lab ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    for (size_t r = 0; r < nr && !rc; r++) {
        memcpy(P + r * d, e->x + j->probes[p0 + r] * d, d * sizeof *P);
        ls[r].c = j->out + (p0 + r) * j->k;
    }
    for (size_t g0 = 0; g0 < j->ng && !rc; g0 += j->cols) {
        size_t w = j->cols < j->ng - g0 ? j->cols : j->ng - g0;
        char err[BM_ERRLEN] = "";
        if ((rc = bm_sim_block(j->env->gemm, P, nr, j->G + g0 * d, w, d, S, err)))
            break;
        for (size_t r = 0; r < nr; r++) {
            size_t p = p0 + r;
            int32_t pl = e->lab[j->probes[p]];
            const size_t *ex = NULL;
            size_t nex = 0;
            if (j->excl) {
                ex = j->excl->idx + j->excl->start[p];
                nex = j->excl->start[p + 1] - j->excl->start[p];
            }
            const double *row = S + r * w;
            for (size_t t = 0; t < w; t++) {
                size_t g = g0 + t;
                /* Cheap rejection before the exclusion scan. */
                bm_cand c = {g, row[t], j->glab[g] == pl};
                if (ls[r].n == j->k && !bm_cand_before(&c, &ls[r].c[ls[r].worst], j->cfg->ties))
                    continue;
                if (nex && excluded_pos(ex, nex, g))
                    continue;
                if (j->cfg->by_identity)
                    klist_add_id(&ls[r], lab + r * j->k, j->k, &c, j->glab[g], j->cfg->ties);
                else
                    klist_add(&ls[r], j->k, &c, j->cfg->ties);
            }
        }
    }
    for (size_t r = 0; r < nr && !rc; r++) {
        /* Best first: insertion sort of at most k entries. */
        bm_cand *c = ls[r].c;
        for (size_t i = 1; i < ls[r].n; i++) {
            bm_cand x = c[i];
            size_t q = i;
            for (; q > 0 && bm_cand_before(&x, &c[q - 1], j->cfg->ties); q--)
                c[q] = c[q - 1];
            c[q] = x;
        }
        j->n_out[p0 + r] = ls[r].n;
    }
    free(P);
    free(S);
    free(ls);
    free(lab);
    return rc;
}

int bm_topk_all(bm_env *env, const bm_emb *e, const size_t *probes, size_t np,
                const size_t *gallery, size_t ng, const bm_excl *excl, const bm_id_cfg *cfg,
                size_t k, bm_cand *out, size_t *n_out)
{
    if (np == 0 || ng == 0 || k == 0) {
        snprintf(env->err, sizeof env->err, "top-k needs at least one probe, one gallery item "
                 "and k >= 1 (have %zu, %zu and %zu)", np, ng, k);
        return AIGTATT_ERR_INVALID;
    }
    float *G = malloc(ng * e->d * sizeof *G);
    int32_t *glab = malloc(ng * sizeof *glab);
    if (!G || !glab) {
        free(G);
        free(glab);
        snprintf(env->err, sizeof env->err, "out of memory for a gallery of %zu", ng);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t g = 0; g < ng; g++) {
        memcpy(G + g * e->d, e->x + gallery[g] * e->d, e->d * sizeof *G);
        glab[g] = e->lab[gallery[g]];
    }
    /* Whole gallery rows when a few fit the cap, else tiles of columns. */
    size_t cap = bm_block_doubles(env), rows, cols;
    if (cap >= ng) {
        cols = ng;
        rows = cap / ng;
        rows = rows > 256 ? 256 : rows;
    } else {
        rows = 1;
        cols = cap;
    }
    rows = rows < np ? rows : np;
    bm_note_block(env, rows * cols * sizeof(double));
    tjob j = {env, e, probes, gallery, np, ng, rows, cols, k, G, glab, excl, cfg, out, n_out};
    size_t nb = (np + rows - 1) / rows;
    int rc = AIGTATT_OK;
    /* oneDNN threads each product itself: blocks one after another. */
    if (env->parallel_for && (env->gemm == BM_GEMM_BUILTIN || !bm_gemm_have_onednn()))
        rc = env->parallel_for(nb, topk_block, &j);
    else
        for (size_t b = 0; b < nb && rc == AIGTATT_OK; b++)
            rc = topk_block(&j, b);
    if (rc == AIGTATT_ERR_NOMEM)
        snprintf(env->err, sizeof env->err, "out of memory in the top-%zu search of %zu probes",
                 k, np);
    else if (rc == AIGTATT_ERR_CANCELLED)
        snprintf(env->err, sizeof env->err, "cancelled");
    else if (rc && !env->err[0])
        snprintf(env->err, sizeof env->err, "top-k search failed (status %d)", rc);
    free(G);
    free(glab);
    return rc;
}
