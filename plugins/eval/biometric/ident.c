/* Identification protocols.
 *
 * Closed set, k-fold (the seed's): per fold, every identity with at least
 * two images gives one gallery and one probe image, drawn from the fold's
 * seed; the CMC, mAP and precision@k are averaged over folds.
 * Closed set, roles: rows with the gallery role are enrolled, rows with
 * the probe role searched (one "fold"); optionally without the gallery
 * rows a probe was made from (BIVTatt: a transformed copy must find
 * another original of its tattoo).
 * Open set, k-fold: per fold a seeded share of the identities with two or
 * more images is enrolled (one gallery image each, another image as a
 * mated search); every other identity gives one non-mated search. FPIR and
 * FNIR follow ISO/IEC 19795-1: a mated search is found only with its mate
 * at rank <= R and a score >= T.
 * Every draw for an identity is keyed by its name and picks among its rows
 * in id order (bm_emb_groups), so shuffling the file's rows, or adding an
 * identity that is left out, leaves the other identities' draws alone. */
#include "protocol.h"

#include <aigtatt/types.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bm_closed_result_free(bm_closed_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_worst; i++)
        free(r->worst[i].cand);
    free(r->worst);
    free(r->cmc);
    memset(r, 0, sizeof *r);
}

void bm_open_result_free(bm_open_result *r)
{
    if (!r)
        return;
    bm_curve_free(&r->pooled);
    memset(r, 0, sizeof *r);
}

/* Running mean and population deviation over folds (Welford). */
typedef struct acc {
    double n, mean, m2;
} acc;

static void acc_add(acc *a, double x)
{
    a->n += 1;
    double d = x - a->mean;
    a->mean += d / a->n;
    a->m2 += d * (x - a->mean);
}

static bm_ms acc_get(const acc *a)
{
    bm_ms r = {a->mean, a->n > 0 ? sqrt(a->m2 / a->n) : NAN};
    return r;
}

static size_t count_of(const bm_groups *g, size_t l)
{
    return g->start[l + 1] - g->start[l];
}

/* Checks identities with a single image against the singletons policy;
 * returns how many there are, or (size_t)-1 after setting env->err.
 * `kept_as` says what the protocol makes of them under distractor. */
static size_t check_singletons(bm_env *env, const bm_emb *e, const bm_groups *g,
                               const bm_id_cfg *cfg, const char *proto, const char *kept_as)
{
    size_t n1 = 0, first = 0;
    for (size_t l = 0; l < e->n_labels; l++)
        if (count_of(g, l) < 2 && n1++ == 0)
            first = l;
    if (n1 && cfg->singletons == BM_SINGLE_ERROR) {
        snprintf(env->err, sizeof env->err, "%s: %zu identit%s one image (first: '%s'), but the "
                 "protocol needs two per identity (a gallery and a probe image); set singletons: "
                 "skip or distractor", proto, n1, n1 == 1 ? "y has" : "ies have",
                 e->label_names[first]);
        return (size_t)-1;
    }
    if (n1)
        bm_env_warn(env, "%s: %zu identit%s a single image, %s", proto, n1,
                    n1 == 1 ? "y has" : "ies have",
                    cfg->singletons == BM_SINGLE_SKIP ? "left out" : kept_as);
    return n1;
}

/* Fold statistics of one closed-set search batch. */
static void closed_fold(const bm_id_cfg *cfg, const bm_search *s, size_t np, const double *ap,
                        const double *pk, double *cmc_tmp, acc *cmc, acc *map, acc *pka)
{
    bm_cmc(s, np, cfg->max_rank, cmc_tmp, NULL);
    for (size_t r = 0; r < cfg->max_rank; r++)
        acc_add(&cmc[r], cmc_tmp[r]);
    double sum = 0;
    size_t cnt = 0;
    for (size_t p = 0; p < np; p++)
        if (!isnan(ap[p])) {
            sum += ap[p];
            cnt++;
        }
    acc_add(map, cnt ? sum / (double)cnt : NAN);
    for (size_t k = 0; k < cfg->n_pk; k++) {
        double t = 0;
        for (size_t p = 0; p < np; p++)
            t += pk[p * cfg->n_pk + k];
        acc_add(&pka[k], t / (double)np);
    }
}

/* ---- the worst searches, for the report ------------------------------ */

typedef struct wcand {
    bm_worst w;
    size_t p; /* position among the fold's probes (for its exclusions) */
} wcand;

/* a is worse than b: a higher rank of the true mate, then a lower mate
 * score, then the earlier fold and row (so the choice is reproducible). */
static int worse(const bm_worst *a, const bm_worst *b)
{
    if (a->rank != b->rank)
        return a->rank > b->rank;
    if (a->mate_score != b->mate_score)
        return a->mate_score < b->mate_score;
    if (a->fold != b->fold)
        return a->fold < b->fold;
    return a->probe < b->probe;
}

static int cmp_worse(const void *x, const void *y)
{
    const bm_worst *a = &((const wcand *)x)->w, *b = &((const wcand *)y)->w;
    return worse(a, b) ? -1 : worse(b, a) ? 1 : 0;
}

/* Merges fold f's worst searches into out->worst (at most
 * cfg->worst_probes, worst first) and finds the first candidates of the
 * ones that enter it, without the fold's score matrix. */
static int collect_worst(bm_env *env, const bm_emb *e, const bm_id_cfg *cfg, size_t f,
                         const size_t *probes, size_t np, const size_t *gallery, size_t ng,
                         const bm_excl *excl, const bm_search *s, bm_closed_result *out)
{
    size_t W = cfg->worst_probes, K = cfg->worst_top_k;
    if (W == 0 || K == 0)
        return AIGTATT_OK;
    wcand *c = malloc((np + W) * sizeof *c);
    if (!c)
        return AIGTATT_ERR_NOMEM;
    size_t n = 0;
    for (size_t p = 0; p < np; p++) {
        if (s[p].rank == 0)
            continue;
        bm_worst w = {.fold = f, .probe = probes[p], .rank = s[p].rank,
                      .mate_score = s[p].mate_score, .nonmate_score = s[p].nonmate_score,
                      .mate_row = gallery[s[p].mate_index]};
        c[n++] = (wcand){w, p};
    }
    /* The ones kept so far compete with this fold's (p unused for them). */
    for (size_t i = 0; i < out->n_worst; i++)
        c[n++] = (wcand){out->worst[i], (size_t)-1};
    qsort(c, n, sizeof *c, cmp_worse);
    size_t keep = n < W ? n : W, fresh = 0;
    for (size_t i = 0; i < keep; i++)
        fresh += c[i].p != (size_t)-1;
    int rc = AIGTATT_OK;
    size_t *rows = NULL, *nc = NULL, made = 0;
    bm_cand *cand = NULL;
    bm_worst *w = NULL;
    bm_excl sub = {0};
    if (fresh) {
        size_t nex = 0;
        for (size_t i = 0; excl && i < keep; i++)
            if (c[i].p != (size_t)-1)
                nex += excl->start[c[i].p + 1] - excl->start[c[i].p];
        rows = malloc(fresh * sizeof *rows);
        nc = malloc(fresh * sizeof *nc);
        cand = malloc(fresh * K * sizeof *cand);
        sub.start = calloc(fresh + 1, sizeof *sub.start);
        sub.idx = malloc((nex ? nex : 1) * sizeof *sub.idx);
        if (!rows || !nc || !cand || !sub.start || !sub.idx) {
            rc = AIGTATT_ERR_NOMEM;
            goto fail;
        }
        size_t m = 0;
        for (size_t i = 0; i < keep; i++) {
            if (c[i].p == (size_t)-1)
                continue;
            rows[m] = c[i].w.probe;
            sub.start[m + 1] = sub.start[m];
            for (size_t q = excl ? excl->start[c[i].p] : 0; excl && q < excl->start[c[i].p + 1]; q++)
                sub.idx[sub.start[m + 1]++] = excl->idx[q];
            m++;
        }
        if ((rc = bm_topk_all(env, e, rows, fresh, gallery, ng, excl ? &sub : NULL, cfg, K, cand,
                              nc)))
            goto fail;
        for (size_t i = 0; i < keep; i++) {
            if (c[i].p == (size_t)-1)
                continue;
            bm_cand *own = malloc((nc[made] ? nc[made] : 1) * sizeof *own);
            if (!own) {
                rc = AIGTATT_ERR_NOMEM;
                goto fail;
            }
            for (size_t q = 0; q < nc[made]; q++) {
                own[q] = cand[made * K + q];
                own[q].pos = gallery[own[q].pos]; /* gallery position -> row */
            }
            c[i].w.cand = own;
            c[i].w.n_cand = nc[made];
            made++;
        }
    }
    w = malloc((keep ? keep : 1) * sizeof *w);
    if (!w) {
        rc = AIGTATT_ERR_NOMEM;
        goto fail;
    }
    /* Success: the kept entries replace the list; entries of the old list
     * pushed out by this fold go. */
    for (size_t i = 0; i < keep; i++)
        w[i] = c[i].w;
    for (size_t i = keep; i < n; i++)
        if (c[i].p == (size_t)-1)
            free(c[i].w.cand);
    free(out->worst);
    out->worst = w;
    out->n_worst = keep;
    goto done;
fail:
    /* out->worst is untouched; only this fold's fresh lists go. */
    for (size_t i = 0, m = 0; i < keep && m < made; i++)
        if (c[i].p != (size_t)-1) {
            free(c[i].w.cand);
            m++;
        }
done:
    free(c);
    free(rows);
    free(nc);
    free(cand);
    free(sub.start);
    free(sub.idx);
    return rc;
}

static int match(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

int bm_closed_set(bm_env *env, const bm_emb *e, const bm_id_cfg *cfg, bm_closed_result *out)
{
    memset(out, 0, sizeof *out);
    bm_groups g = {0};
    bm_namer names = {0};
    size_t *probes = NULL, *gallery = NULL;
    bm_search *s = NULL;
    double *ap = NULL, *pk = NULL, *cmc_tmp = NULL;
    acc *cmc = NULL, map = {0}, pka[BM_MAX_PK] = {{0}};
    bm_excl ex = {0};
    int rc = AIGTATT_ERR_NOMEM;
    if (cfg->max_rank == 0 || cfg->folds == 0) {
        snprintf(env->err, sizeof env->err, "closed set: max_rank and folds must be >= 1");
        return AIGTATT_ERR_INVALID;
    }
    if (bm_emb_groups(e, &g) || bm_namer_init(&names, e))
        goto done;
    probes = malloc(e->n * sizeof *probes);
    gallery = malloc(e->n * sizeof *gallery);
    s = malloc(e->n * sizeof *s);
    ap = malloc(e->n * sizeof *ap);
    pk = malloc(e->n * (cfg->n_pk ? cfg->n_pk : 1) * sizeof *pk);
    cmc_tmp = malloc(cfg->max_rank * sizeof *cmc_tmp);
    cmc = calloc(cfg->max_rank, sizeof *cmc);
    out->cmc = malloc(cfg->max_rank * sizeof *out->cmc);
    if (!probes || !gallery || !s || !ap || !pk || !cmc_tmp || !cmc || !out->cmc)
        goto done;
    out->max_rank = cfg->max_rank;

    if (cfg->gallery_role && *cfg->gallery_role) {
        /* Explicit roles: one pass, no folds. */
        size_t np = 0, ng = 0;
        for (size_t i = 0; i < e->n; i++) {
            if (match(e->role[i], cfg->gallery_role))
                gallery[ng++] = i;
            else if (match(e->role[i], cfg->probe_role))
                probes[np++] = i;
        }
        if (!ng || !np) {
            snprintf(env->err, sizeof env->err, "closed set: %zu rows with role '%s' (gallery) and "
                     "%zu with role '%s' (probes); both are needed", ng, cfg->gallery_role, np,
                     cfg->probe_role ? cfg->probe_role : "");
            rc = AIGTATT_ERR_INVALID;
            goto done;
        }
        /* Exclusions: the gallery rows whose id or path is the probe's source. */
        ex.start = calloc(np + 1, sizeof *ex.start);
        size_t cap = np + 1;
        ex.idx = malloc(cap * sizeof *ex.idx);
        if (!ex.start || !ex.idx)
            goto done;
        for (size_t p = 0; p < np; p++) {
            ex.start[p + 1] = ex.start[p];
            const char *src = e->source[probes[p]];
            for (size_t q = 0; cfg->exclude_source && src && q < ng; q++) {
                if (!match(src, e->id[gallery[q]]) && !match(src, e->path[gallery[q]]))
                    continue;
                if (ex.start[p + 1] == cap) {
                    size_t *v = realloc(ex.idx, 2 * cap * sizeof *v);
                    if (!v)
                        goto done;
                    ex.idx = v;
                    cap *= 2;
                }
                ex.idx[ex.start[p + 1]++] = q;
            }
        }
        rc = bm_search_all(env, e, probes, np, gallery, ng, &ex, cfg, s, ap, pk);
        if (!rc)
            rc = collect_worst(env, e, cfg, 0, probes, np, gallery, ng, &ex, s, out);
        if (rc)
            goto done;
        /* Probes without a mate cannot be identified in a closed set. */
        size_t kept = 0;
        for (size_t p = 0; p < np; p++) {
            if (s[p].rank == 0)
                continue;
            s[kept] = s[p];
            ap[kept] = ap[p];
            memmove(pk + kept * cfg->n_pk, pk + p * cfg->n_pk, cfg->n_pk * sizeof *pk);
            kept++;
        }
        out->n_no_mate = np - kept;
        if (!kept) {
            snprintf(env->err, sizeof env->err, "closed set: none of the %zu probes has a mate in "
                     "the gallery", np);
            rc = AIGTATT_ERR_INVALID;
            goto done;
        }
        if (out->n_no_mate)
            bm_env_warn(env, "closed set: %zu of %zu probes have no mate in the gallery%s and are "
                        "left out", out->n_no_mate, np,
                        cfg->exclude_source ? " (after excluding their source images)" : "");
        closed_fold(cfg, s, kept, ap, pk, cmc_tmp, cmc, &map, pka);
        out->folds = 1;
        out->n_gallery = ng;
        out->n_probes = kept;
    } else {
        size_t n1 = check_singletons(env, e, &g, cfg, "closed set (k-fold)",
                                     "used as gallery distractors");
        if (n1 == (size_t)-1) {
            rc = AIGTATT_ERR_INVALID;
            goto done;
        }
        if (e->n_labels - n1 < 2) {
            snprintf(env->err, sizeof env->err, "closed set: %zu identit%s with two or more images; "
                     "identification needs at least two", e->n_labels - n1,
                     e->n_labels - n1 == 1 ? "y" : "ies");
            rc = AIGTATT_ERR_INVALID;
            goto done;
        }
        for (size_t f = 0; f < cfg->folds; f++) {
            size_t np = 0, ng = 0;
            for (size_t l = 0; l < e->n_labels; l++) {
                size_t c = count_of(&g, l);
                const size_t *r = g.rows + g.start[l];
                if (c >= 2) {
                    uint64_t st = bm_derive_named(env, &names, cfg->seed, "closed-set-fold",
                                                  e->label_names[l], f);
                    size_t a = bm_rand_below(&st, c), b = (a + 1 + bm_rand_below(&st, c - 1)) % c;
                    gallery[ng++] = r[a];
                    probes[np++] = r[b];
                } else if (cfg->singletons == BM_SINGLE_DISTRACTOR) {
                    gallery[ng++] = r[0];
                }
            }
            rc = bm_search_all(env, e, probes, np, gallery, ng, NULL, cfg, s, ap, pk);
            if (!rc)
                rc = collect_worst(env, e, cfg, f, probes, np, gallery, ng, NULL, s, out);
            if (rc)
                goto done;
            closed_fold(cfg, s, np, ap, pk, cmc_tmp, cmc, &map, pka);
            out->n_gallery = ng;
            out->n_probes = np;
        }
        out->folds = cfg->folds;
    }
    for (size_t r = 0; r < cfg->max_rank; r++)
        out->cmc[r] = acc_get(&cmc[r]);
    out->map = acc_get(&map);
    for (size_t k = 0; k < cfg->n_pk; k++)
        out->pk[k] = acc_get(&pka[k]);
    out->done = 1;
    rc = AIGTATT_OK;
done:
    if (rc == AIGTATT_ERR_NOMEM && !env->err[0])
        snprintf(env->err, sizeof env->err, "closed set: out of memory");
    bm_groups_free(&g);
    bm_namer_free(&names);
    free(probes);
    free(gallery);
    free(s);
    free(ap);
    free(pk);
    free(cmc_tmp);
    free(cmc);
    free(ex.start);
    free(ex.idx);
    if (rc)
        bm_closed_result_free(out);
    return rc;
}

/* An identity of the open-set split and its fold's draw. */
typedef struct keyed {
    uint64_t key;
    size_t l;
} keyed;

static int cmp_keyed(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->l > b->l) - (a->l < b->l);
}

/* Fold f's order of the identities with two or more images (the first
 * n_enrol are enrolled): each ranked by a draw keyed by its name rather
 * than shuffled by position, so an identity added or removed moves the
 * others only through the boundary, never reshuffles them. Returns how
 * many there are. */
static size_t split_order(const bm_env *env, bm_namer *nm, const bm_emb *e, const bm_groups *g,
                          uint64_t seed, size_t f, keyed *k)
{
    size_t k2 = 0;
    for (size_t l = 0; l < e->n_labels; l++)
        if (count_of(g, l) >= 2)
            k[k2++] = (keyed){bm_derive_named(env, nm, seed, "open-set-split", e->label_names[l], f),
                              l};
    qsort(k, k2, sizeof *k, cmp_keyed);
    return k2;
}

int bm_open_set(bm_env *env, const bm_emb *e, const bm_id_cfg *cfg, bm_open_result *out)
{
    memset(out, 0, sizeof *out);
    bm_groups g = {0};
    bm_namer names = {0};
    keyed *ids = NULL;
    size_t *probes = NULL, *gallery = NULL;
    bm_search *s = NULL, *mated = NULL, *non = NULL;
    acc eer = {0}, eeri = {0}, fa[BM_N_OPS] = {{0}}, fl[BM_N_OPS] = {{0}};
    size_t nm_all = 0, nn_all = 0;
    int rc = AIGTATT_ERR_NOMEM;
    if (cfg->open_rank == 0 || cfg->folds == 0 || !(cfg->enrolled_fraction > 0) ||
        !(cfg->enrolled_fraction < 1)) {
        snprintf(env->err, sizeof env->err, "open set: open_rank and folds must be >= 1 and the "
                 "enrolled fraction strictly between 0 and 1");
        return AIGTATT_ERR_INVALID;
    }
    if (bm_emb_groups(e, &g) || bm_namer_init(&names, e))
        goto done;
    size_t n1 = check_singletons(env, e, &g, cfg, "open set", "searched as non-mated identities");
    if (n1 == (size_t)-1) {
        rc = AIGTATT_ERR_INVALID;
        goto done;
    }
    size_t n2 = e->n_labels - n1;
    /* Singletons can only be non-mated searches; "skip" drops them. */
    size_t pool_non = cfg->singletons == BM_SINGLE_SKIP ? 0 : n1;
    size_t n_enrol = (size_t)llround(cfg->enrolled_fraction * (double)n2);
    if (n_enrol < 1 || n2 - n_enrol + pool_non < 1) {
        snprintf(env->err, sizeof env->err, "open set: %zu identities with two or more images "
                 "(+%zu single-image ones) cannot be split into enrolled and non-enrolled with "
                 "fraction %.3g", n2, pool_non, cfg->enrolled_fraction);
        rc = AIGTATT_ERR_INVALID;
        goto done;
    }
    probes = malloc(e->n_labels * sizeof *probes);
    gallery = malloc(e->n_labels * sizeof *gallery);
    ids = malloc(e->n_labels * sizeof *ids);
    s = malloc(e->n_labels * sizeof *s);
    mated = malloc(cfg->folds * e->n_labels * sizeof *mated);
    non = malloc(cfg->folds * e->n_labels * sizeof *non);
    if (!probes || !gallery || !ids || !s || !mated || !non)
        goto done;
    for (size_t f = 0; f < cfg->folds; f++) {
        size_t k2 = split_order(env, &names, e, &g, cfg->seed, f, ids);
        size_t ng = 0, np = 0;
        for (size_t i = 0; i < k2; i++) {
            size_t l = ids[i].l, c = count_of(&g, l);
            const size_t *r = g.rows + g.start[l];
            uint64_t si = bm_derive_named(env, &names, cfg->seed, "open-set-images",
                                          e->label_names[l], f);
            size_t a = bm_rand_below(&si, c);
            if (i < n_enrol) {
                size_t b = (a + 1 + bm_rand_below(&si, c - 1)) % c;
                gallery[ng++] = r[a];
                probes[np++] = r[b];
            } else {
                probes[np++] = r[a];
            }
        }
        for (size_t l = 0; pool_non && l < e->n_labels; l++)
            if (count_of(&g, l) == 1)
                probes[np++] = g.rows[g.start[l]];
        rc = bm_search_all(env, e, probes, np, gallery, ng, NULL, cfg, s, NULL, NULL);
        if (rc)
            goto done;
        size_t nm = 0, nn = 0;
        for (size_t p = 0; p < np; p++) {
            if (s[p].rank)
                mated[nm_all + nm++] = s[p];
            else
                non[nn_all + nn++] = s[p];
        }
        bm_curve c;
        rc = bm_openset_curve(mated + nm_all, nm, non + nn_all, nn, cfg->open_rank, &c);
        if (rc) {
            snprintf(env->err, sizeof env->err, "open set: cannot build the FPIR/FNIR curve");
            goto done;
        }
        bm_eer ee;
        bm_curve_eer(&c, &ee);
        acc_add(&eer, ee.eer);
        acc_add(&eeri, ee.eer_interp);
        for (int o = 0; o < BM_N_OPS; o++) {
            acc_add(&fa[o], bm_fnmr(&c, bm_curve_fmr_op(&c, bm_fmr_ops[o])));
            size_t le = bm_curve_fmr_le(&c, bm_fmr_ops[o]);
            acc_add(&fl[o], le < c.n ? bm_fnmr(&c, le) : 1.0);
        }
        bm_curve_free(&c);
        nm_all += nm;
        nn_all += nn;
        out->n_enrolled = ng;
        out->n_mated = nm;
        out->n_nonmated = nn;
    }
    rc = bm_openset_curve(mated, nm_all, non, nn_all, cfg->open_rank, &out->pooled);
    if (rc)
        goto done;
    out->folds = cfg->folds;
    out->rank = cfg->open_rank;
    out->eer = acc_get(&eer);
    out->eer_interp = acc_get(&eeri);
    for (int o = 0; o < BM_N_OPS; o++) {
        out->fnir_at_fpir[o] = acc_get(&fa[o]);
        out->fnir_at_fpir_le[o] = acc_get(&fl[o]);
    }
    out->done = 1;
done:
    if (rc == AIGTATT_ERR_NOMEM && !env->err[0])
        snprintf(env->err, sizeof env->err, "open set: out of memory");
    bm_groups_free(&g);
    bm_namer_free(&names);
    free(probes);
    free(gallery);
    free(ids);
    free(s);
    free(mated);
    free(non);
    if (rc)
        bm_open_result_free(out);
    return rc;
}
