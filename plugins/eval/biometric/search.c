/* Probe x gallery searches in blocks of probe rows: each block's scores
 * are computed, searched and dropped, so memory is one block, not the
 * whole matrix. Every probe writes its own slot of the outputs, so results
 * do not depend on which thread ran what.
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

#define BLOCK_DOUBLES ((size_t)4 << 20) /* 32 MiB of scores per block */

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
    size_t rows = BLOCK_DOUBLES / ng;
    rows = rows < 1 ? 1 : rows > 256 ? 256 : rows;
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
