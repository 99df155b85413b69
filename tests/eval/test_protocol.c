/* Protocols on embedding sets built so the answer is known: similarity
 * blocks against double-precision dot products, pair counts, separable
 * clusters, the BIVTatt source exclusion, seeded folds (and that they
 * follow identity names, not row positions), and the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biometric/protocol.h"
#include "refrun.h"

/* L identities x K images around well-separated (or noisy) centres. */
static bm_emb make(size_t L, const size_t *K, size_t d, double noise, uint64_t seed)
{
    bm_emb e = {0};
    char err[BM_ERRLEN];
    size_t n = 0;
    for (size_t l = 0; l < L; l++)
        n += K[l];
    cr_assert_eq(bm_alloc_rows(&e, n, err), 0);
    e.d = d;
    e.x = malloc(n * d * sizeof *e.x);
    double *c = malloc(d * sizeof *c);
    size_t i = 0;
    for (size_t l = 0; l < L; l++) {
        for (size_t k = 0; k < d; k++)
            c[k] = ref_normal(&seed);
        for (size_t m = 0; m < K[l]; m++, i++) {
            for (size_t k = 0; k < d; k++)
                e.x[i * d + k] = (float)(c[k] + noise * ref_normal(&seed));
            char b[64];
            snprintf(b, sizeof b, "T%03zu", l);
            e.label[i] = bm_strdup(b);
            snprintf(b, sizeof b, "T%03zu/%zu.jpg", l, m);
            e.path[i] = bm_strdup(b);
        }
    }
    free(c);
    cr_assert_eq(bm_emb_finish(&e, "test", err), 0, "%s", err);
    bm_emb_normalise(&e);
    return e;
}

static bm_emb make_uniform(size_t L, size_t K, size_t d, double noise, uint64_t seed)
{
    size_t *k = malloc(L * sizeof *k);
    for (size_t l = 0; l < L; l++)
        k[l] = K;
    bm_emb e = make(L, k, d, noise, seed);
    free(k);
    return e;
}

static double ddot(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t k = 0; k < d; k++)
        s += (double)a[k] * b[k];
    return s;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(protocol, similarity_blocks_match_double_products)
{
    bm_emb e = make_uniform(9, 7, 77, 0.5, 3);
    size_t n = e.n;
    double *S = malloc(n * n * sizeof *S), *T = malloc(n * n * sizeof *T);
    char err[BM_ERRLEN] = "";
    cr_assert_eq(bm_sim_block(BM_GEMM_BUILTIN, e.x, n, e.x, n, e.d, S, err), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            cr_assert(fabs(S[i * n + j] - ddot(e.x + i * e.d, e.x + j * e.d, e.d)) < 1e-5);
    /* Any split of the rows gives the same bits. */
    cr_assert_eq(bm_sim_block(BM_GEMM_BUILTIN, e.x + 5 * e.d, 3, e.x, n, e.d, T, err), 0);
    cr_expect_eq(memcmp(T, S + 5 * n, 3 * n * sizeof *T), 0);
    if (bm_gemm_have_onednn()) {
        cr_assert_eq(bm_sim_block(BM_GEMM_ONEDNN, e.x, n, e.x, n, e.d, T, err), 0, "%s", err);
        for (size_t i = 0; i < n * n; i++)
            cr_assert(fabs(S[i] - T[i]) < 1e-5);
    }
    free(S);
    free(T);
    bm_emb_free(&e);
}

/* An identity too big for one block of scores (2200 images: 2.4 million
 * genuine pairs) is scored in row blocks; every pair still comes out, in
 * the same a < b order, with the same value. */
Test(protocol, big_identity_genuine_pairs_in_blocks)
{
    size_t K[] = {2200, 3};
    bm_emb e = make(2, K, 4, 0.8, 9);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_ver_cfg vc = {.seed = 1, .impostors = BM_IMP_PER_ID};
    bm_ver_result r;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_assert_eq(r.n_gen, (size_t)2200 * 2199 / 2 + 3);
    double *g = malloc(r.n_gen * sizeof *g);
    size_t ng = 0;
    for (int l = 0; l < 2; l++) {
        size_t idx[2200], c = 0;
        for (size_t i = 0; i < e.n; i++)
            if (e.lab[i] == l)
                idx[c++] = i;
        for (size_t a = 0; a < c; a++)
            for (size_t b = a + 1; b < c; b++)
                g[ng++] = ddot(e.x + idx[a] * e.d, e.x + idx[b] * e.d, e.d);
    }
    qsort(g, ng, sizeof *g, cmpd);
    qsort(r.gen, r.n_gen, sizeof *g, cmpd);
    size_t bad = 0;
    for (size_t i = 0; i < ng; i++)
        bad += !(fabs(r.gen[i] - g[i]) < 1e-5);
    cr_expect_eq(bad, 0, "%zu genuine scores differ", bad);
    free(g);
    bm_ver_result_free(&r);
    bm_emb_free(&e);
}

Test(protocol, verification_pairs_are_complete)
{
    size_t K[] = {3, 1, 4, 2, 5};
    bm_emb e = make(5, K, 16, 0.8, 5);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_ver_cfg vc = {.seed = 1, .impostors = BM_IMP_ALL};
    bm_ver_result r;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    size_t n = e.n, ng = 0, ni = 0;
    double *g = malloc(n * n * sizeof *g), *im = malloc(n * n * sizeof *im);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double s = ddot(e.x + i * e.d, e.x + j * e.d, e.d);
            if (e.lab[i] == e.lab[j])
                g[ng++] = s;
            else
                im[ni++] = s;
        }
    cr_assert_eq(r.n_gen, ng);
    cr_assert_eq(r.n_imp, ni);
    qsort(g, ng, sizeof *g, cmpd);
    qsort(im, ni, sizeof *im, cmpd);
    qsort(r.gen, ng, sizeof *g, cmpd);
    qsort(r.imp, ni, sizeof *im, cmpd);
    for (size_t i = 0; i < ng; i++)
        cr_expect(fabs(r.gen[i] - g[i]) < 1e-5);
    for (size_t i = 0; i < ni; i++)
        cr_expect(fabs(r.imp[i] - im[i]) < 1e-5);
    bm_ver_result_free(&r);

    vc.impostors = BM_IMP_PER_ID;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_expect_eq(r.n_imp, 5 * 4);
    cr_expect_eq(r.n_gen, ng);
    bm_ver_result_free(&r);
    vc.impostors = BM_IMP_SAMPLE;
    vc.sample_pairs = 1000;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_expect_eq(r.n_imp, 1000);
    bm_ver_result_free(&r);
    /* auto falls back to the seed's design beyond max_pairs, and says so;
     * where that design's 5 x 4 pairs do not fit either, to a sample of
     * max_pairs: never more than max_pairs. */
    vc.impostors = BM_IMP_AUTO;
    vc.max_pairs = 25;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_expect_eq(r.used, BM_IMP_PER_ID);
    cr_expect_eq(env.n_warnings, 1);
    bm_ver_result_free(&r);
    vc.max_pairs = 10;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_expect_eq(r.used, BM_IMP_SAMPLE);
    cr_expect_eq(r.n_imp, 10);
    cr_expect_eq(env.n_warnings, 2);
    bm_ver_result_free(&r);
    bm_env_free(&env);
    free(g);
    free(im);
    bm_emb_free(&e);
}

Test(protocol, verification_refuses_and_warns)
{
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_ver_cfg vc = {.seed = 1, .impostors = BM_IMP_ALL};
    bm_ver_result r;
    size_t one[] = {4};
    bm_emb e = make(1, one, 8, 0.5, 1);
    cr_expect_neq(bm_verify(&env, &e, &vc, &r), 0);
    cr_expect(strstr(env.err, "carry the same identity"), "%s", env.err);
    bm_emb_free(&e);
    size_t singles[] = {1, 1, 1};
    e = make(3, singles, 8, 0.5, 1);
    cr_expect_neq(bm_verify(&env, &e, &vc, &r), 0);
    cr_expect(strstr(env.err, "has a single image"), "%s", env.err);
    bm_emb_free(&e);

    /* Labels that fight the embeddings: genuine pairs less alike than
     * impostors. Rows alternate between two tight clusters; labels pair
     * rows across clusters. */
    e = make_uniform(2, 6, 8, 0.05, 9);
    for (size_t i = 0; i < e.n; i++)
        e.lab[i] = (int32_t)(i % 2);
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_expect(r.reversed);
    cr_expect(!r.flipped);
    cr_expect_eq(env.n_warnings, 1);
    cr_expect(strstr(env.warnings[0], "polarity: flip"), "%s", env.warnings[0]);
    double eer_plain = r.st.eer.eer;
    bm_ver_result_free(&r);
    vc.polarity = BM_POL_FLIP;
    cr_assert_eq(bm_verify(&env, &e, &vc, &r), 0, "%s", env.err);
    cr_expect(r.flipped);
    cr_expect_lt(r.st.eer.eer, eer_plain);
    bm_ver_result_free(&r);
    vc.polarity = BM_POL_ERROR;
    cr_expect_neq(bm_verify(&env, &e, &vc, &r), 0);
    cr_expect(strstr(env.err, "look reversed"), "%s", env.err);
    bm_env_free(&env);
    bm_emb_free(&e);
}

static bm_id_cfg idcfg(void)
{
    bm_id_cfg c = {.seed = 11, .folds = 3, .ties = BM_TIES_PESSIMISTIC, .by_identity = 1,
                   .max_rank = 20, .pk = {1, 5}, .n_pk = 2, .enrolled_fraction = 0.5,
                   .open_rank = 1};
    return c;
}

Test(protocol, separable_identities_score_perfectly)
{
    bm_emb e = make_uniform(30, 3, 64, 0.05, 21);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_id_cfg c = idcfg();
    bm_closed_result cr;
    cr_assert_eq(bm_closed_set(&env, &e, &c, &cr), 0, "%s", env.err);
    cr_expect_eq(cr.folds, 3);
    cr_expect_eq(cr.n_gallery, 30);
    cr_expect_eq(cr.n_probes, 30);
    cr_expect_eq(cr.cmc[0].mean, 1.0);
    cr_expect_eq(cr.map.mean, 1.0);
    cr_expect_eq(cr.pk[0].mean, 1.0);
    cr_expect(fabs(cr.pk[1].mean - 0.2) < 1e-12, "one mate among the top 5: %.17g", cr.pk[1].mean);
    bm_closed_result_free(&cr);
    bm_open_result or;
    cr_assert_eq(bm_open_set(&env, &e, &c, &or), 0, "%s", env.err);
    cr_expect_eq(or.n_enrolled, 15);
    cr_expect_eq(or.n_mated, 15);
    cr_expect_eq(or.n_nonmated, 15);
    cr_expect_eq(or.eer.mean, 0.0);
    cr_expect_eq(or.fnir_at_fpir_le[2].mean, 0.0);
    bm_open_result_free(&or);
    bm_env_free(&env);
    bm_emb_free(&e);
}

/* Fake host threads: run the blocks in reverse order. */
static int reverse_for(size_t n, int (*fn)(void *, size_t), void *ctx)
{
    for (size_t i = n; i-- > 0;) {
        int rc = fn(ctx, i);
        if (rc)
            return rc;
    }
    return 0;
}

Test(protocol, folds_are_seeded_and_thread_independent)
{
    bm_emb e = make_uniform(40, 4, 24, 1.2, 8);
    bm_env a = {.gemm = BM_GEMM_BUILTIN}, b = {.gemm = BM_GEMM_BUILTIN, .parallel_for = reverse_for};
    bm_id_cfg c = idcfg();
    bm_closed_result ra, rb;
    cr_assert_eq(bm_closed_set(&a, &e, &c, &ra), 0);
    cr_assert_eq(bm_closed_set(&b, &e, &c, &rb), 0);
    for (size_t r = 0; r < c.max_rank; r++)
        cr_expect_eq(ra.cmc[r].mean, rb.cmc[r].mean);
    cr_expect_eq(ra.map.mean, rb.map.mean);
    cr_expect(ra.cmc[0].mean < 1.0, "noisy enough to be a real test");
    bm_closed_result_free(&rb);
    c.seed = 12;
    cr_assert_eq(bm_closed_set(&a, &e, &c, &rb), 0);
    int differs = 0;
    for (size_t r = 0; r < c.max_rank; r++)
        differs |= ra.cmc[r].mean != rb.cmc[r].mean;
    cr_expect(differs, "another seed draws other folds");
    bm_closed_result_free(&ra);
    bm_closed_result_free(&rb);
    if (bm_gemm_have_onednn()) {
        /* oneDNN: blocks in turn, each block's probes on the threads. */
        bm_env da = {.gemm = BM_GEMM_ONEDNN}, db = {.gemm = BM_GEMM_ONEDNN, .parallel_for = reverse_for};
        cr_assert_eq(bm_closed_set(&da, &e, &c, &ra), 0, "%s", da.err);
        cr_assert_eq(bm_closed_set(&db, &e, &c, &rb), 0, "%s", db.err);
        for (size_t r = 0; r < c.max_rank; r++)
            cr_expect_eq(ra.cmc[r].mean, rb.cmc[r].mean);
        cr_expect_eq(ra.map.mean, rb.map.mean);
        bm_closed_result_free(&ra);
        bm_closed_result_free(&rb);
    }
    bm_open_result oa, ob;
    cr_assert_eq(bm_open_set(&a, &e, &c, &oa), 0);
    cr_assert_eq(bm_open_set(&b, &e, &c, &ob), 0);
    cr_expect_eq(oa.eer.mean, ob.eer.mean);
    cr_expect_eq(oa.fnir_at_fpir[0].mean, ob.fnir_at_fpir[0].mean);
    bm_open_result_free(&oa);
    bm_open_result_free(&ob);
    bm_emb_free(&e);
}

Test(protocol, singletons_policy)
{
    size_t K[] = {2, 1, 3, 1, 2};
    bm_emb e = make(5, K, 16, 0.05, 4);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_id_cfg c = idcfg();
    bm_closed_result cr;
    cr_expect_neq(bm_closed_set(&env, &e, &c, &cr), 0);
    cr_expect(strstr(env.err, "2 identities have one image (first: 'T001')"), "%s", env.err);
    c.singletons = BM_SINGLE_SKIP;
    cr_assert_eq(bm_closed_set(&env, &e, &c, &cr), 0, "%s", env.err);
    cr_expect_eq(cr.n_gallery, 3);
    bm_closed_result_free(&cr);
    c.singletons = BM_SINGLE_DISTRACTOR;
    cr_assert_eq(bm_closed_set(&env, &e, &c, &cr), 0, "%s", env.err);
    cr_expect_eq(cr.n_gallery, 5);
    cr_expect_eq(cr.n_probes, 3);
    bm_closed_result_free(&cr);
    bm_open_result or;
    cr_assert_eq(bm_open_set(&env, &e, &c, &or), 0, "%s", env.err);
    cr_expect_eq(or.n_nonmated, 1 + 2, "the unenrolled one plus both singletons");
    bm_open_result_free(&or);
    /* Each protocol says what it made of them: the closed set enrols
     * them, the open set searches them. */
    cr_assert_eq(env.n_warnings, 3);
    cr_expect(strstr(env.warnings[0], "closed set") && strstr(env.warnings[0], "left out"), "%s",
              env.warnings[0]);
    cr_expect(strstr(env.warnings[1], "closed set") &&
              strstr(env.warnings[1], "used as gallery distractors"), "%s", env.warnings[1]);
    cr_expect(strstr(env.warnings[2], "open set") &&
              strstr(env.warnings[2], "searched as non-mated identities") &&
              !strstr(env.warnings[2], "gallery"), "%s", env.warnings[2]);
    bm_env_free(&env);
    bm_emb_free(&e);
}

/* The rows of `src` in `order` (n of them), plus, with `extra`, one more
 * row of that identity: a new set, finished and normalised like any. */
static bm_emb reordered(const bm_emb *src, const size_t *order, size_t n, const char *extra)
{
    bm_emb e = {0};
    char err[BM_ERRLEN];
    size_t m = n + (extra != NULL), d = src->d;
    cr_assert_eq(bm_alloc_rows(&e, m, err), 0);
    e.d = d;
    e.x = malloc(m * d * sizeof *e.x);
    for (size_t i = 0; i < n; i++) {
        memcpy(e.x + i * d, src->x + order[i] * d, d * sizeof *e.x);
        e.label[i] = bm_strdup(src->label[order[i]]);
        e.path[i] = bm_strdup(src->path[order[i]]);
    }
    if (extra) {
        uint64_t s = 77;
        for (size_t k = 0; k < d; k++)
            e.x[n * d + k] = (float)ref_normal(&s);
        e.label[n] = bm_strdup(extra);
        char p[64];
        snprintf(p, sizeof p, "%s/0.jpg", extra);
        e.path[n] = bm_strdup(p);
    }
    cr_assert_eq(bm_emb_finish(&e, "test", err), 0, "%s", err);
    bm_emb_normalise(&e);
    return e;
}

/* Everything the identification protocols report, for exact comparison. */
typedef struct id_metrics {
    bm_closed_result cr;
    bm_open_result or;
} id_metrics;

static id_metrics identify(const bm_emb *e, const bm_id_cfg *c)
{
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    id_metrics m;
    cr_assert_eq(bm_closed_set(&env, e, c, &m.cr), 0, "%s", env.err);
    cr_assert_eq(bm_open_set(&env, e, c, &m.or), 0, "%s", env.err);
    bm_env_free(&env);
    return m;
}

static void expect_same_id(const id_metrics *a, const id_metrics *b, const char *what)
{
    for (size_t r = 0; r < a->cr.max_rank; r++)
        cr_expect_eq(a->cr.cmc[r].mean, b->cr.cmc[r].mean, "%s: closed-set rank %zu", what, r + 1);
    cr_expect_eq(a->cr.map.mean, b->cr.map.mean, "%s: mAP", what);
    cr_expect_eq(a->cr.pk[1].mean, b->cr.pk[1].mean, "%s: P@5", what);
    cr_expect_eq(a->or.eer.mean, b->or.eer.mean, "%s: open-set EER", what);
    cr_expect_eq(a->or.eer.std, b->or.eer.std, "%s: open-set EER std", what);
    for (int o = 0; o < BM_N_OPS; o++)
        cr_expect_eq(a->or.fnir_at_fpir_le[o].mean, b->or.fnir_at_fpir_le[o].mean,
                     "%s: FNIR at FPIR op %d", what, o);
    cr_expect_eq(a->or.pooled.n, b->or.pooled.n, "%s: pooled curve", what);
}

static void free_id(id_metrics *m)
{
    bm_closed_result_free(&m->cr);
    bm_open_result_free(&m->or);
}

static bm_ver_result verify_with(const bm_emb *e, bm_impostors how)
{
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_ver_cfg vc = {.seed = 5, .impostors = how, .sample_pairs = 2000};
    bm_ver_result r;
    cr_assert_eq(bm_verify(&env, e, &vc, &r), 0, "%s", env.err);
    bm_env_free(&env);
    qsort(r.imp, r.n_imp, sizeof *r.imp, cmpd);
    return r;
}

/* Non-zero when the sorted scores a[0..na) all occur in the sorted b. */
static int sub_multiset(const double *a, size_t na, const double *b, size_t nb)
{
    size_t j = 0;
    for (size_t i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i])
            j++;
        if (j == nb || b[j] != a[i])
            return 0;
        j++;
    }
    return 1;
}

/* The review's case: every draw is keyed by the identity's name and picks
 * among its rows in path order, so the same embeddings with the rows
 * shuffled, or with one more single-image identity that singletons: skip
 * leaves out, give the same folds and the same numbers. ("T010a" sorts
 * among the others, moving every later identity's label index.) */
Test(protocol, draws_follow_identity_names_not_rows)
{
    size_t L = 30, K[30];
    for (size_t l = 0; l < L; l++)
        K[l] = 2 + l % 4;
    bm_emb src = make(L, K, 24, 1.1, 31);
    size_t n = src.n, *ord = malloc(n * sizeof *ord), *shuf = malloc(n * sizeof *shuf);
    uint64_t s = 9;
    for (size_t i = 0; i < n; i++)
        ord[i] = shuf[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(ref_rand(&s) % i), t = shuf[i - 1];
        shuf[i - 1] = shuf[j];
        shuf[j] = t;
    }
    bm_emb base = reordered(&src, ord, n, NULL), mixed = reordered(&src, shuf, n, NULL),
           more = reordered(&src, ord, n, "T010a");
    bm_id_cfg c = idcfg();
    c.singletons = BM_SINGLE_SKIP;
    id_metrics a = identify(&base, &c), b = identify(&mixed, &c), m = identify(&more, &c);
    cr_expect(a.cr.cmc[0].mean < 1.0 && a.or.eer.mean > 0, "noisy enough to be a real test");
    expect_same_id(&a, &b, "rows shuffled");
    expect_same_id(&a, &m, "a left-out identity added");
    free_id(&a);
    free_id(&b);
    free_id(&m);

    /* Verification, per_identity: the same pairs whatever the row order;
     * with one more identity, its own pairs come on top of the same ones. */
    bm_ver_result va = verify_with(&base, BM_IMP_PER_ID), vb = verify_with(&mixed, BM_IMP_PER_ID),
                  vm = verify_with(&more, BM_IMP_PER_ID);
    cr_assert_eq(va.n_imp, vb.n_imp);
    cr_expect_eq(memcmp(va.imp, vb.imp, va.n_imp * sizeof *va.imp), 0, "rows shuffled");
    cr_expect_eq(va.st.eer.eer, vb.st.eer.eer);
    cr_expect_eq(vm.n_imp, (L + 1) * L);
    cr_expect(sub_multiset(va.imp, va.n_imp, vm.imp, vm.n_imp),
              "the other identities' impostor pairs stay when one is added");
    bm_ver_result_free(&va);
    bm_ver_result_free(&vb);
    bm_ver_result_free(&vm);
    /* A seeded sample draws from the grouped order, not file rows. */
    va = verify_with(&base, BM_IMP_SAMPLE);
    vb = verify_with(&mixed, BM_IMP_SAMPLE);
    cr_expect_eq(memcmp(va.imp, vb.imp, va.n_imp * sizeof *va.imp), 0, "sample, rows shuffled");
    bm_ver_result_free(&va);
    bm_ver_result_free(&vb);

    free(ord);
    free(shuf);
    bm_emb_free(&src);
    bm_emb_free(&base);
    bm_emb_free(&mixed);
    bm_emb_free(&more);
}

/* BIVTatt: probes are transformed copies of gallery originals and must
 * find another original of their tattoo. */
Test(protocol, roles_with_source_exclusion)
{
    bm_emb e = {0};
    char err[BM_ERRLEN];
    cr_assert_eq(bm_alloc_rows(&e, 5, err), 0);
    e.d = 3;
    float x[] = {1, 0, 0,      /* A/1 original */
                 0.6f, 0.8f, 0, /* A/2 original */
                 0.9f, 0, 0.43589f, /* B/1 original, close to A/1 */
                 0, 0, 1,      /* B/2 original */
                 1, 0, 0};     /* variation of A/1 */
    e.x = malloc(sizeof x);
    memcpy(e.x, x, sizeof x);
    const char *lab[] = {"A", "A", "B", "B", "A"}, *role[] = {"original", "original", "original",
                                                             "original", "variation"};
    for (int i = 0; i < 5; i++) {
        e.label[i] = bm_strdup(lab[i]);
        e.role[i] = bm_strdup(role[i]);
        char p[32];
        snprintf(p, sizeof p, "%s/%d.jpg", lab[i], i);
        e.path[i] = bm_strdup(p);
    }
    e.source[4] = bm_strdup("A/0.jpg");
    cr_assert_eq(bm_emb_finish(&e, "t", err), 0, "%s", err);
    bm_emb_normalise(&e);
    bm_env env = {.gemm = BM_GEMM_BUILTIN};
    bm_id_cfg c = idcfg();
    c.by_identity = 0;
    c.gallery_role = "original";
    c.probe_role = "variation";
    bm_closed_result r;
    cr_assert_eq(bm_closed_set(&env, &e, &c, &r), 0, "%s", env.err);
    cr_expect_eq(r.cmc[0].mean, 1.0, "its own source is rank 1");
    bm_closed_result_free(&r);
    c.exclude_source = 1;
    cr_assert_eq(bm_closed_set(&env, &e, &c, &r), 0, "%s", env.err);
    cr_expect_eq(r.cmc[0].mean, 0.0, "B/1 (0.9) now beats A/2 (0.6)");
    cr_expect_eq(r.cmc[1].mean, 1.0);
    cr_expect_eq(r.n_gallery, 4);
    bm_closed_result_free(&r);
    c.probe_role = "nothing";
    cr_expect_neq(bm_closed_set(&env, &e, &c, &r), 0);
    cr_expect(strstr(env.err, "0 with role 'nothing'"), "%s", env.err);
    bm_env_free(&env);
    bm_emb_free(&e);
}
