/* Top-k candidate lists without the score matrix (search.c): equal to a
 * brute-force sort of full rows for every tie rule, with and without
 * exclusions, by image and by identity; consistent with the ranks of
 * bm_search_row; and within a configured memory cap when the whole matrix
 * would exceed it many times over, both by the library's own accounting
 * and under an address-space limit that makes the whole matrix
 * impossible to allocate. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "biometric/protocol.h"
#include "refrun.h"

/* n rows of dimension d: identity i % n_labels around a random centre,
 * scores quantised by rounding the features (so ties occur) when `coarse`. */
static void make_emb(bm_emb *e, size_t n, size_t d, size_t n_labels, int coarse, double noise,
                     uint64_t seed)
{
    memset(e, 0, sizeof *e);
    char err[BM_ERRLEN];
    cr_assert_eq(bm_alloc_rows(e, n, err), 0, "%s", err);
    e->d = d;
    e->x = malloc(n * d * sizeof *e->x);
    cr_assert_not_null(e->x);
    uint64_t s = seed;
    double *c = malloc(n_labels * d * sizeof *c);
    cr_assert_not_null(c);
    for (size_t i = 0; i < n_labels * d; i++)
        c[i] = ref_normal(&s);
    for (size_t i = 0; i < n; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "L%04zu", i % n_labels);
        e->label[i] = bm_strdup(lab);
        for (size_t k = 0; k < d; k++) {
            double v = c[(i % n_labels) * d + k] + noise * ref_normal(&s);
            e->x[i * d + k] = (float)(coarse ? round(v) : v);
        }
    }
    free(c);
    cr_assert_eq(bm_emb_finish(e, "test", err), 0, "%s", err);
    bm_emb_normalise(e);
}

static bm_ties sort_ties;

static int cmp_cand(const void *a, const void *b)
{
    const bm_cand *x = a, *y = b;
    return bm_cand_before(x, y, sort_ties) ? -1 : bm_cand_before(y, x, sort_ties) ? 1 : 0;
}

static int is_excluded(const bm_excl *ex, size_t p, size_t g)
{
    for (size_t q = ex ? ex->start[p] : 0; ex && q < ex->start[p + 1]; q++)
        if (ex->idx[q] == g)
            return 1;
    return 0;
}

/* The full candidate list of probe p, sorted, from its whole row. */
static size_t brute(const bm_emb *e, const double *row, size_t probe_row, const size_t *gallery,
                    size_t ng, const bm_excl *ex, size_t p, const bm_id_cfg *cfg, bm_cand *out)
{
    int32_t pl = e->lab[probe_row];
    size_t n = 0;
    if (!cfg->by_identity) {
        for (size_t g = 0; g < ng; g++)
            if (!is_excluded(ex, p, g))
                out[n++] = (bm_cand){g, row[g], e->lab[gallery[g]] == pl};
    } else {
        /* Each identity at its best image, the first one reaching it. */
        long *best = malloc(e->n_labels * sizeof *best);
        for (size_t l = 0; l < e->n_labels; l++)
            best[l] = -1;
        for (size_t g = 0; g < ng; g++) {
            if (is_excluded(ex, p, g))
                continue;
            size_t l = (size_t)e->lab[gallery[g]];
            if (best[l] < 0 || row[g] > row[best[l]])
                best[l] = (long)g;
        }
        for (size_t l = 0; l < e->n_labels; l++)
            if (best[l] >= 0)
                out[n++] = (bm_cand){(size_t)best[l], row[best[l]], (int32_t)l == pl};
        free(best);
    }
    sort_ties = cfg->ties;
    qsort(out, n, sizeof *out, cmp_cand);
    return n;
}

/* Checks bm_topk_all against brute force (and against bm_search_row's
 * rank) for `np` probes and `ng` gallery rows of e. */
static void check_topk(const bm_emb *e, const size_t *probes, size_t np, const size_t *gallery,
                       size_t ng, const bm_excl *ex, const bm_id_cfg *cfg, size_t k,
                       size_t block_bytes)
{
    bm_env env = {.gemm = BM_GEMM_BUILTIN, .block_bytes = block_bytes};
    bm_cand *got = malloc(np * k * sizeof *got), *want = malloc(ng * sizeof *want);
    size_t *n_got = malloc(np * sizeof *n_got);
    double *row = malloc(ng * sizeof *row), *scratch = malloc(2 * e->n_labels * sizeof *scratch);
    float *G = malloc(ng * e->d * sizeof *G);
    int32_t *glab = malloc(ng * sizeof *glab);
    cr_assert(got && want && n_got && row && scratch && G && glab);
    for (size_t g = 0; g < ng; g++) {
        memcpy(G + g * e->d, e->x + gallery[g] * e->d, e->d * sizeof *G);
        glab[g] = e->lab[gallery[g]];
    }
    int rc = bm_topk_all(&env, e, probes, np, gallery, ng, ex, cfg, k, got, n_got);
    cr_assert_eq(rc, 0, "%s", env.err);
    if (block_bytes)
        cr_expect_leq(env.peak_block_bytes, block_bytes, "a block of %zu bytes over the cap %zu",
                      env.peak_block_bytes, block_bytes);
    for (size_t p = 0; p < np; p++) {
        /* The row as one product of the same kernel: the same floats. */
        cr_assert_eq(bm_sim_block(BM_GEMM_BUILTIN, e->x + probes[p] * e->d, 1, G, ng, e->d, row,
                                  NULL), 0);
        size_t nw = brute(e, row, probes[p], gallery, ng, ex, p, cfg, want);
        size_t kk = nw < k ? nw : k;
        cr_assert_eq(n_got[p], kk, "probe %zu: %zu candidates, want %zu", p, n_got[p], kk);
        for (size_t i = 0; i < kk; i++) {
            const bm_cand *a = &got[p * k + i], *b = &want[i];
            cr_assert(a->pos == b->pos && a->score == b->score && a->mate == b->mate,
                      "probe %zu, candidate %zu: got (%zu, %.17g, %d), want (%zu, %.17g, %d)", p,
                      i, a->pos, a->score, a->mate, b->pos, b->score, b->mate);
        }
        /* A mate ranked r <= k by the search sits at position r - 1. */
        bm_search s;
        const size_t *exi = ex ? ex->idx + ex->start[p] : NULL;
        size_t nex = ex ? ex->start[p + 1] - ex->start[p] : 0;
        cr_assert_eq(bm_search_row(row, glab, ng, e->lab[probes[p]], exi, nex, cfg->ties,
                                   cfg->by_identity, e->n_labels, scratch, &s), 0);
        if (s.rank >= 1 && s.rank <= kk) {
            const bm_cand *m = &got[p * k + s.rank - 1];
            cr_expect(m->mate && m->pos == s.mate_index && m->score == s.mate_score,
                      "probe %zu: the search ranks its mate %zu at %zu, the list holds (%zu, %d)",
                      p, s.mate_index, s.rank, m->pos, m->mate);
            for (size_t i = 0; i + 1 < s.rank; i++)
                cr_expect(!got[p * k + i].mate, "probe %zu: a mate above rank %zu", p, s.rank);
        }
    }
    free(got);
    free(want);
    free(n_got);
    free(row);
    free(scratch);
    free(G);
    free(glab);
}

Test(topk, equals_brute_force_for_every_tie_rule, .timeout = 120)
{
    bm_emb e;
    make_emb(&e, 400, 6, 60, 1, 1.2, 11); /* coarse: many tied scores */
    size_t probes[150], gallery[250];
    for (size_t i = 0; i < 150; i++)
        probes[i] = i;
    for (size_t i = 0; i < 250; i++)
        gallery[i] = 150 + i;
    /* Exclusions: each probe loses a few gallery items, mates included. */
    bm_excl ex;
    ex.start = calloc(151, sizeof *ex.start);
    ex.idx = malloc(150 * 3 * sizeof *ex.idx);
    uint64_t s = 5;
    for (size_t p = 0; p < 150; p++) {
        ex.start[p + 1] = ex.start[p];
        for (int q = 0; q < 3; q++)
            ex.idx[ex.start[p + 1]++] = (size_t)(ref_rand(&s) % 250);
    }
    static const size_t ks[] = {1, 5, 40, 1000};
    static const size_t caps[] = {0, 8 * 250, 8 * 97, 8};
    for (int t = 0; t < 3; t++)
        for (int id = 0; id < 2; id++)
            for (int x = 0; x < 2; x++)
                for (size_t kk = 0; kk < 4; kk++) {
                    bm_id_cfg cfg = {.ties = (bm_ties)t, .by_identity = id};
                    check_topk(&e, probes, 150, gallery, 250, x ? &ex : NULL, &cfg, ks[kk],
                               caps[kk]);
                }
    free(ex.start);
    free(ex.idx);
    bm_emb_free(&e);
}

Test(topk, rejects_empty_inputs)
{
    bm_emb e;
    make_emb(&e, 10, 4, 5, 0, 1.2, 3);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_id_cfg cfg = {0};
    size_t rows[2] = {0, 1}, n[2];
    bm_cand out[4];
    cr_expect_neq(bm_topk_all(&env, &e, rows, 2, rows, 2, NULL, &cfg, 0, out, n), 0);
    cr_expect_neq(bm_topk_all(&env, &e, rows, 0, rows, 2, NULL, &cfg, 2, out, n), 0);
    cr_expect(strstr(env.err, "top-k") != NULL, "%s", env.err);
    bm_emb_free(&e);
}

/* The whole matrix would take np * ng * 8 bytes; the cap is a tiny
 * fraction of it, smaller even than one gallery row, so the gallery is
 * tiled too. */
Test(topk, stays_under_a_memory_cap_far_below_the_matrix, .timeout = 240)
{
    enum { NP = 3000, NG = 6000, K = 10 };
    const size_t cap = 16 << 10; /* 16 KiB: 2048 scores per block */
    cr_assert_gt((size_t)NP * NG * sizeof(double), 8000 * cap);
    bm_emb e;
    make_emb(&e, NP + NG, 8, 1500, 0, 1.2, 21);
    size_t *probes = malloc(NP * sizeof *probes), *gallery = malloc(NG * sizeof *gallery);
    for (size_t i = 0; i < NP; i++)
        probes[i] = i;
    for (size_t i = 0; i < NG; i++)
        gallery[i] = NP + i;
    for (int id = 0; id < 2; id++) {
        bm_id_cfg cfg = {.ties = BM_TIES_PESSIMISTIC, .by_identity = id};
        /* Brute force on a sample of the probes keeps the test short; the
         * cap is checked on the full run inside check_topk's call. */
        check_topk(&e, probes, 200, gallery, NG, NULL, &cfg, K, cap);
        bm_env env = {.gemm = BM_GEMM_BUILTIN, .block_bytes = cap};
        bm_cand *out = malloc((size_t)NP * K * sizeof *out);
        size_t *n = malloc(NP * sizeof *n);
        cr_assert_eq(bm_topk_all(&env, &e, probes, NP, gallery, NG, NULL, &cfg, K, out, n), 0,
                     "%s", env.err);
        cr_expect_leq(env.peak_block_bytes, cap);
        cr_expect_gt(env.peak_block_bytes, 0);
        for (size_t p = 0; p < NP; p++)
            cr_expect_eq(n[p], (size_t)K);
        free(out);
        free(n);
    }
    free(probes);
    free(gallery);
    bm_emb_free(&e);
}

#if !defined(__SANITIZE_ADDRESS__)
/* Current virtual size of this process, from /proc. */
static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb << 10;
}
#endif

/* Under an address-space limit about 200 MiB above what the process
 * uses, a 10,000 x 10,000 score matrix (800 MB) cannot be allocated; the
 * top-k and the rank search must still finish, with the default block
 * size. Sanitizers reserve terabytes of address space, so there the limit
 * cannot be applied and the test checks the cap accounting only. */
Test(topk, runs_where_the_whole_matrix_cannot_be_allocated, .timeout = 240)
{
    enum { N = 10000, K = 5 };
    bm_emb e;
    make_emb(&e, 2 * N, 16, N, 0, 0.3, 33);
    size_t *probes = malloc(N * sizeof *probes), *gallery = malloc(N * sizeof *gallery);
    bm_cand *out = malloc((size_t)N * K * sizeof *out);
    size_t *n = malloc(N * sizeof *n);
    bm_search *s = malloc(N * sizeof *s);
    cr_assert(probes && gallery && out && n && s);
    /* Row i and row N + i share identity i (labels repeat every N rows). */
    for (size_t i = 0; i < N; i++) {
        probes[i] = N + i;
        gallery[i] = i;
    }
#if defined(__SANITIZE_ADDRESS__)
    int limited = 0;
#else
    struct rlimit rl;
    size_t lim = vm_size() + ((size_t)200 << 20);
    cr_assert_lt(lim, (size_t)N * N * sizeof(double) + vm_size());
    rl.rlim_cur = rl.rlim_max = lim;
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
    /* The limit is real: the whole matrix cannot be had. */
    void *whole = malloc((size_t)N * N * sizeof(double));
    cr_assert_null(whole, "the address-space limit did not hold");
    int limited = 1;
#endif
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_id_cfg cfg = {.ties = BM_TIES_PESSIMISTIC, .by_identity = 1, .max_rank = 20};
    cr_assert_eq(bm_topk_all(&env, &e, probes, N, gallery, N, NULL, &cfg, K, out, n), 0, "%s",
                 env.err);
    cr_expect_leq(env.peak_block_bytes, (size_t)32 << 20);
    cr_assert_eq(bm_search_all(&env, &e, probes, N, gallery, N, NULL, &cfg, s, NULL, NULL), 0,
                 "%s", env.err);
    cr_expect_leq(env.peak_block_bytes, (size_t)32 << 20);
    /* Both agree: a mate at rank r <= K sits at list position r - 1. */
    size_t found = 0;
    for (size_t p = 0; p < N; p++) {
        cr_assert_eq(n[p], (size_t)K);
        if (s[p].rank >= 1 && s[p].rank <= K) {
            found++;
            cr_expect(out[p * K + s[p].rank - 1].mate, "probe %zu", p);
        }
    }
    cr_expect_gt(found, N / 2, "only %zu probes found their mate in the top %d", found, K);
    cr_log_info("10^8 scores searched%s; largest block %zu bytes", limited
                ? " under an address-space limit" : "", env.peak_block_bytes);
    free(probes);
    free(gallery);
    free(out);
    free(n);
    free(s);
    bm_emb_free(&e);
}

/* The closed set's worst searches (for report.html) under the BIVTatt
 * protocol: probes are transformed copies of gallery originals, and their
 * own source is excluded, so it never appears among their candidates;
 * worst first; a mate ranked r <= k sits at candidate r. */
Test(topk, worst_searches_respect_excluded_sources, .timeout = 60)
{
    enum { IDS = 30, D = 12 };
    bm_emb e;
    memset(&e, 0, sizeof e);
    char err[BM_ERRLEN];
    cr_assert_eq(bm_alloc_rows(&e, IDS * 4, err), 0);
    e.d = D;
    e.x = malloc(IDS * 4 * D * sizeof *e.x);
    uint64_t s = 77;
    for (int l = 0; l < IDS; l++) {
        float c[D], o[2][D];
        for (int k = 0; k < D; k++)
            c[k] = (float)ref_normal(&s);
        for (int m = 0; m < 4; m++) {
            size_t r = (size_t)l * 4 + (size_t)m;
            char buf[32];
            snprintf(buf, sizeof buf, "%s%d_%d", m < 2 ? "o" : "v", l, m);
            e.id[r] = bm_strdup(buf);
            snprintf(buf, sizeof buf, "T%02d", l);
            e.label[r] = bm_strdup(buf);
            e.role[r] = bm_strdup(m < 2 ? "original" : "variation");
            for (int k = 0; k < D; k++) {
                if (m < 2)
                    o[m][k] = c[k] + 0.9f * (float)ref_normal(&s);
                /* A variation is its source original, slightly changed. */
                e.x[r * D + k] = m < 2 ? o[m][k] : o[m - 2][k] + 0.1f * (float)ref_normal(&s);
            }
            if (m >= 2) {
                snprintf(buf, sizeof buf, "o%d_%d", l, m - 2);
                e.source[r] = bm_strdup(buf);
            }
        }
    }
    cr_assert_eq(bm_emb_finish(&e, "test", err), 0, "%s", err);
    bm_emb_normalise(&e);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_id_cfg cfg = {.folds = 1, .ties = BM_TIES_PESSIMISTIC, .by_identity = 0, .max_rank = 20,
                     .gallery_role = "original", .probe_role = "variation",
                     .exclude_source = 1, .worst_probes = 6, .worst_top_k = 4};
    bm_closed_result r;
    cr_assert_eq(bm_closed_set(&env, &e, &cfg, &r), 0, "%s", env.err);
    cr_assert_eq(r.n_worst, 6);
    for (size_t i = 0; i < r.n_worst; i++) {
        const bm_worst *w = &r.worst[i];
        if (i)
            cr_expect(w->rank < r.worst[i - 1].rank ||
                      (w->rank == r.worst[i - 1].rank &&
                       w->mate_score >= r.worst[i - 1].mate_score), "not worst first at %zu", i);
        cr_expect_str_eq(e.role[w->probe], "variation");
        cr_expect_str_eq(e.label[w->mate_row], e.label[w->probe]);
        cr_expect_neq(w->mate_row, w->probe);
        cr_expect_str_neq(e.id[w->mate_row], e.source[w->probe], "the mate is the probe's own source");
        cr_expect_eq(w->n_cand, 4);
        for (size_t k = 0; k < w->n_cand; k++) {
            size_t row = w->cand[k].pos;
            cr_expect_str_eq(e.role[row], "original");
            cr_expect_str_neq(e.id[row], e.source[w->probe], "search %zu lists its own source", i);
            cr_expect_eq(w->cand[k].mate, !strcmp(e.label[row], e.label[w->probe]));
            if (k)
                cr_expect_geq(w->cand[k - 1].score, w->cand[k].score);
        }
        if (w->rank <= w->n_cand)
            cr_expect(w->cand[w->rank - 1].mate && w->cand[w->rank - 1].pos == w->mate_row,
                      "search %zu: mate at rank %zu", i, w->rank);
    }
    /* Without exclusion the source itself is every probe's best mate. */
    cfg.exclude_source = 0;
    bm_closed_result r2;
    cr_assert_eq(bm_closed_set(&env, &e, &cfg, &r2), 0, "%s", env.err);
    for (size_t i = 0; i < r2.n_worst; i++)
        cr_expect_str_eq(e.id[r2.worst[i].mate_row], e.source[r2.worst[i].probe]);
    bm_closed_result_free(&r);
    bm_closed_result_free(&r2);
    bm_env_free(&env);
    bm_emb_free(&e);
}
