/* Verification protocol: genuine = every same-identity pair; impostor =
 * every cross-identity pair, the seed's one-reference-per-identity design,
 * or a seeded sample. Scores are cosine similarities of the normalised
 * embeddings. */
#include "protocol.h"

#include <aigtatt/types.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_DOUBLES ((size_t)4 << 20)

void bm_ver_result_free(bm_ver_result *r)
{
    if (!r)
        return;
    free(r->gen);
    free(r->imp);
    bm_curve_free(&r->curve);
    bm_roc_free(&r->roc);
    memset(r, 0, sizeof *r);
}

/* Every same-identity pair, identity by identity, in id order. A big
 * identity (a catch-all folder of 20 000 images) is scored in blocks of
 * rows against the rows after them, so memory stays near BLOCK_DOUBLES
 * scores instead of its whole c x c matrix. */
static int genuine_pairs(bm_env *env, const bm_emb *e, const bm_groups *g, double *gen)
{
    size_t k = 0, big = 0;
    for (size_t l = 0; l < e->n_labels; l++)
        if (g->start[l + 1] - g->start[l] > big)
            big = g->start[l + 1] - g->start[l];
    size_t rows = big ? BLOCK_DOUBLES / big : 1;
    rows = rows < 1 ? 1 : rows > big ? big : rows;
    float *X = malloc((big ? big : 1) * e->d * sizeof *X);
    double *S = malloc((big ? rows * big : 1) * sizeof *S);
    int rc = X && S ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    for (size_t l = 0; l < e->n_labels && rc == AIGTATT_OK; l++) {
        size_t c = g->start[l + 1] - g->start[l];
        if (c < 2)
            continue;
        for (size_t a = 0; a < c; a++)
            memcpy(X + a * e->d, e->x + g->rows[g->start[l] + a] * e->d, e->d * sizeof *X);
        for (size_t a0 = 0; a0 < c && rc == AIGTATT_OK; a0 += rows) {
            size_t a1 = a0 + rows < c ? a0 + rows : c, w = c - a0;
            if (env->cancelled && env->cancelled()) {
                rc = AIGTATT_ERR_CANCELLED;
                break;
            }
            rc = bm_sim_block(env->gemm, X + a0 * e->d, a1 - a0, X + a0 * e->d, w, e->d, S, env->err);
            for (size_t a = a0; a < a1 && rc == AIGTATT_OK; a++)
                for (size_t b = a + 1; b < c; b++)
                    gen[k++] = S[(a - a0) * w + (b - a0)];
        }
    }
    free(X);
    free(S);
    return rc;
}

typedef struct all_job {
    bm_env *env;
    const bm_emb *e;
    size_t rows;
    const size_t *imp_off; /* where row i's impostors start */
    double *imp;
} all_job;

/* Rows [i0, i1) against rows (i, n): the cross-identity pairs j > i. */
static int all_block(void *ctx, size_t b)
{
    all_job *j = ctx;
    const bm_emb *e = j->e;
    size_t n = e->n, i0 = b * j->rows, i1 = i0 + j->rows < n ? i0 + j->rows : n;
    if (j->env->cancelled && j->env->cancelled())
        return AIGTATT_ERR_CANCELLED;
    size_t w = n - i0;
    double *S = malloc((i1 - i0) * w * sizeof *S);
    if (!S)
        return AIGTATT_ERR_NOMEM;
    int rc = bm_sim_block(j->env->gemm, e->x + i0 * e->d, i1 - i0, e->x + i0 * e->d, w, e->d, S,
                          NULL);
    for (size_t i = i0; i < i1 && rc == AIGTATT_OK; i++) {
        double *o = j->imp + j->imp_off[i];
        const double *row = S + (i - i0) * w;
        for (size_t jj = i + 1; jj < n; jj++)
            if (e->lab[jj] != e->lab[i])
                *o++ = row[jj - i0];
    }
    free(S);
    return rc;
}

static int impostors_all(bm_env *env, const bm_emb *e, double *imp)
{
    size_t n = e->n;
    size_t *off = malloc((n + 1) * sizeof *off), *rem = calloc(e->n_labels, sizeof *rem);
    if (!off || !rem) {
        free(off);
        free(rem);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        rem[e->lab[i]]++;
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        rem[e->lab[i]]--; /* same-identity rows after i */
        off[i + 1] = off[i] + (n - 1 - i) - rem[e->lab[i]];
    }
    free(rem);
    size_t rows = BLOCK_DOUBLES / n;
    rows = rows < 1 ? 1 : rows > 256 ? 256 : rows;
    all_job j = {env, e, rows, off, imp};
    size_t nb = (n + rows - 1) / rows;
    int rc = AIGTATT_OK;
    int threaded = env->parallel_for && !(env->gemm != BM_GEMM_BUILTIN && bm_gemm_have_onednn());
    if (threaded)
        rc = env->parallel_for(nb, all_block, &j);
    else
        for (size_t b = 0; b < nb && rc == AIGTATT_OK; b++)
            rc = all_block(&j, b);
    free(off);
    return rc;
}

/* The seed's design: per identity one reference and one probe image
 * (distinct when it has two), drawn from the seed; every reference against
 * the probe of every other identity. The draws are keyed by the identity's
 * name (see ident.c), so its pairs with the others do not change when rows
 * are reordered or identities added. */
static int impostors_per_id(bm_env *env, const bm_emb *e, const bm_groups *g, uint64_t seed,
                            double *imp)
{
    size_t L = e->n_labels, d = e->d;
    float *R = malloc(L * d * sizeof *R), *P = malloc(L * d * sizeof *P);
    size_t rows = BLOCK_DOUBLES / L;
    rows = rows < 1 ? 1 : rows > 256 ? 256 : rows;
    double *S = malloc(rows * L * sizeof *S);
    bm_namer nm = {0};
    int rc = R && P && S && !bm_namer_init(&nm, e) ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    for (size_t l = 0; l < L && rc == AIGTATT_OK; l++) {
        size_t c = g->start[l + 1] - g->start[l];
        uint64_t s = bm_derive_named(env, &nm, seed, "verification-impostor-images",
                                     e->label_names[l], 0);
        size_t r = bm_rand_below(&s, c), p = c > 1 ? (r + 1 + bm_rand_below(&s, c - 1)) % c : r;
        memcpy(R + l * d, e->x + g->rows[g->start[l] + r] * d, d * sizeof *R);
        memcpy(P + l * d, e->x + g->rows[g->start[l] + p] * d, d * sizeof *P);
    }
    size_t k = 0;
    for (size_t a0 = 0; a0 < L && rc == AIGTATT_OK; a0 += rows) {
        size_t na = L - a0 < rows ? L - a0 : rows;
        rc = bm_sim_block(env->gemm, R + a0 * d, na, P, L, d, S, env->err);
        for (size_t a = 0; a < na && rc == AIGTATT_OK; a++)
            for (size_t b = 0; b < L; b++)
                if (b != a0 + a)
                    imp[k++] = S[a * L + b];
        if (rc == AIGTATT_OK && env->cancelled && env->cancelled())
            rc = AIGTATT_ERR_CANCELLED;
    }
    bm_namer_free(&nm);
    free(R);
    free(P);
    free(S);
    return rc;
}

static double dot(const float *a, const float *b, size_t d)
{
    float s = 0;
    for (size_t k = 0; k < d; k++)
        s += a[k] * b[k];
    return s;
}

/* Draws positions in the grouped order (label, then id), not file rows,
 * so that the sample does not depend on the order of the rows. */
static void impostors_sample(bm_env *env, const bm_emb *e, const bm_groups *g, uint64_t seed,
                             size_t m, double *imp)
{
    uint64_t s = bm_derive(env, seed, "verification-impostor-sample", 0);
    for (size_t k = 0; k < m; k++) {
        size_t i, j;
        do {
            i = g->rows[bm_rand_below(&s, e->n)];
            j = g->rows[bm_rand_below(&s, e->n)];
        } while (e->lab[i] == e->lab[j]);
        imp[k] = dot(e->x + i * e->d, e->x + j * e->d, e->d);
    }
}

int bm_verify(bm_env *env, const bm_emb *e, const bm_ver_cfg *cfg, bm_ver_result *out)
{
    memset(out, 0, sizeof *out);
    if (e->n_labels < 2) {
        snprintf(env->err, sizeof env->err, "verification needs impostor pairs, but all %zu "
                 "embeddings carry the same identity", e->n);
        return AIGTATT_ERR_INVALID;
    }
    bm_groups g = {0};
    int rc = bm_emb_groups(e, &g);
    if (rc)
        goto fail_nomem;
    uint64_t n_gen = 0, n_pairs = (uint64_t)e->n * (e->n - 1) / 2;
    for (size_t l = 0; l < e->n_labels; l++) {
        uint64_t c = g.start[l + 1] - g.start[l];
        n_gen += c * (c - 1) / 2;
    }
    if (n_gen == 0) {
        snprintf(env->err, sizeof env->err, "verification needs genuine pairs, but each of the "
                 "%zu identities has a single image", e->n_labels);
        rc = AIGTATT_ERR_INVALID;
        goto done;
    }
    uint64_t n_all = n_pairs - n_gen, L = e->n_labels;
    bm_impostors m = cfg->impostors;
    uint64_t n_sample = cfg->sample_pairs;
    if (m == BM_IMP_AUTO) {
        /* never more than max_pairs: the seed's design while its L (L - 1)
         * pairs fit (with mostly one image per identity they are about as
         * many as all pairs, or more), else a sample */
        m = n_all <= cfg->max_pairs ? BM_IMP_ALL : L * (L - 1) <= cfg->max_pairs ? BM_IMP_PER_ID : BM_IMP_SAMPLE;
        if (m == BM_IMP_SAMPLE && n_sample > cfg->max_pairs)
            n_sample = cfg->max_pairs;
        if (m == BM_IMP_PER_ID)
            bm_env_warn(env, "verification: %llu impostor pairs exceed max_pairs (%llu); using one "
                        "reference per identity against one probe of every other identity "
                        "(%llu pairs)", (unsigned long long)n_all,
                        (unsigned long long)cfg->max_pairs, (unsigned long long)(L * (L - 1)));
        else if (m == BM_IMP_SAMPLE)
            bm_env_warn(env, "verification: %llu impostor pairs, and the %llu of one reference per "
                        "identity, exceed max_pairs (%llu); scoring a seeded sample of %llu",
                        (unsigned long long)n_all, (unsigned long long)(L * (L - 1)),
                        (unsigned long long)cfg->max_pairs, (unsigned long long)n_sample);
    }
    uint64_t n_imp = m == BM_IMP_ALL ? n_all : m == BM_IMP_PER_ID ? L * (L - 1) : n_sample;
    if (n_imp == 0) {
        snprintf(env->err, sizeof env->err, "verification: no impostor pairs to score");
        rc = AIGTATT_ERR_INVALID;
        goto done;
    }
    out->used = m;
    out->gen = malloc(n_gen * sizeof *out->gen);
    out->imp = malloc(n_imp * sizeof *out->imp);
    if (!out->gen || !out->imp)
        goto fail_nomem;
    out->n_gen = n_gen;
    out->n_imp = n_imp;
    if ((rc = genuine_pairs(env, e, &g, out->gen)))
        goto done;
    if (m == BM_IMP_ALL)
        rc = impostors_all(env, e, out->imp);
    else if (m == BM_IMP_PER_ID)
        rc = impostors_per_id(env, e, &g, cfg->seed, out->imp);
    else
        impostors_sample(env, e, &g, cfg->seed, n_imp, out->imp);
    if (rc)
        goto done;

    double gm = bm_mean(out->gen, n_gen), im = bm_mean(out->imp, n_imp);
    out->reversed = bm_polarity_reversed(gm, im, BM_SIMILARITY);
    if (out->reversed) {
        const char *what = cfg->polarity == BM_POL_FLIP ? "evaluating the negated scores "
                           "(polarity: flip; verification only: identification still ranks the "
                           "highest similarity first)" : "set polarity: flip to evaluate the negated scores";
        if (cfg->polarity == BM_POL_ERROR) {
            snprintf(env->err, sizeof env->err, "verification: the mean genuine similarity (%.4f) "
                     "is below the mean impostor similarity (%.4f): labels or embeddings look "
                     "reversed", gm, im);
            rc = AIGTATT_ERR_INVALID;
            goto done;
        }
        bm_env_warn(env, "verification: the mean genuine similarity (%.4f) is below the mean "
                    "impostor similarity (%.4f): the scores behave like distances, or labels are "
                    "wrong; %s", gm, im, what);
        out->flipped = cfg->polarity == BM_POL_FLIP;
    }
    rc = bm_curve_build(out->gen, n_gen, out->imp, n_imp, 0,
                        out->flipped ? BM_DISTANCE : BM_SIMILARITY, &out->curve);
    if (!rc)
        rc = bm_verif_stats_compute(&out->curve, out->gen, n_gen, out->imp, n_imp, &out->st);
    if (!rc)
        rc = bm_roc_from_curve(&out->curve, 1, &out->roc);
    if (rc == BM_ERR_NOMEM)
        goto fail_nomem;
    out->auc = bm_roc_auc(&out->roc);
    out->done = 1;
    goto done;
fail_nomem:
    rc = AIGTATT_ERR_NOMEM;
    snprintf(env->err, sizeof env->err, "verification: out of memory");
done:
    bm_groups_free(&g);
    if (rc)
        bm_ver_result_free(out);
    return rc;
}
