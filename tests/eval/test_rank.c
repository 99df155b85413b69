/* Identification metrics: ranks and CMC against a brute-force sort written
 * here, pyeer's CMC, scikit-learn's average precision, and open-set
 * FPIR/FNIR against pyeer's curve on the ISO/IEC 19795-1 definition. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biometric/metrics.h"
#include "refrun.h"

/* ---- brute force: sort every candidate list ---------------------------- */

typedef struct cand {
    double s;
    size_t idx;
    int mate;
} cand;

static bm_ties g_ties;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    switch (g_ties) {
    case BM_TIES_PESSIMISTIC:
        if (x->mate != y->mate)
            return x->mate - y->mate; /* non-mates first */
        break;
    case BM_TIES_OPTIMISTIC:
        if (x->mate != y->mate)
            return y->mate - x->mate; /* mates first */
        break;
    case BM_TIES_GALLERY_ORDER:
        break;
    }
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int in_list(size_t g, const size_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (e[i] == g)
            return 1;
    return 0;
}

/* The sorted candidate list of one probe (images, or identities at their
 * best image); returns its length. */
static size_t bf_list(const double *row, const int32_t *gl, size_t ng, int32_t pl,
                      const size_t *ex, size_t nex, int by_id, size_t nl, bm_ties ties,
                      cand *out)
{
    size_t n = 0;
    if (!by_id) {
        for (size_t g = 0; g < ng; g++)
            if (!in_list(g, ex, nex))
                out[n++] = (cand){row[g], g, gl[g] == pl};
    } else {
        for (size_t l = 0; l < nl; l++) {
            int have = 0;
            cand best = {0, 0, (int32_t)l == pl};
            for (size_t g = 0; g < ng; g++) {
                if ((size_t)gl[g] != l || in_list(g, ex, nex))
                    continue;
                if (!have || row[g] > best.s) {
                    best.s = row[g];
                    best.idx = g;
                    have = 1;
                }
            }
            if (have)
                out[n++] = best;
        }
    }
    g_ties = ties;
    qsort(out, n, sizeof *out, cand_cmp);
    return n;
}

/* ---- random galleries --------------------------------------------------- */

typedef struct scene {
    size_t np, ng, nl;
    double *S;        /* np x ng */
    int32_t *pl, *gl; /* probe and gallery labels */
    size_t *ex;       /* up to 2 exclusions per probe */
    size_t *nex;
} scene;

static scene make_scene(uint64_t seed, size_t np, size_t ng, size_t nl, double q, int excl)
{
    scene s = {np, ng, nl, NULL, NULL, NULL, NULL, NULL};
    s.S = malloc(np * ng * sizeof *s.S);
    s.pl = malloc(np * sizeof *s.pl);
    s.gl = malloc(ng * sizeof *s.gl);
    s.ex = malloc(2 * np * sizeof *s.ex);
    s.nex = calloc(np, sizeof *s.nex);
    for (size_t g = 0; g < ng; g++)
        s.gl[g] = (int32_t)(ref_rand(&seed) % nl);
    for (size_t p = 0; p < np; p++) {
        s.pl[p] = (int32_t)(ref_rand(&seed) % nl);
        for (size_t g = 0; g < ng; g++) {
            double v = (s.gl[g] == s.pl[p] ? 0.35 : 0.0) + 0.2 * ref_normal(&seed);
            s.S[p * ng + g] = q > 0 ? round(v / q) * q : v;
        }
        if (excl)
            for (size_t e = 0, ne = ref_rand(&seed) % 3; e < ne; e++)
                s.ex[2 * p + s.nex[p]++] = ref_rand(&seed) % ng;
    }
    return s;
}

static void free_scene(scene *s)
{
    free(s->S);
    free(s->pl);
    free(s->gl);
    free(s->ex);
    free(s->nex);
}

Test(rank, ranks_and_cmc_equal_brute_force)
{
    size_t checked = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        scene s = make_scene(seed, 70, 90, 25, seed % 2 ? 0.05 : 0.0, 1);
        cand *list = malloc(s.ng * sizeof *list);
        bm_search *res = malloc(s.np * sizeof *res);
        double *scratch = malloc(2 * s.nl * sizeof *scratch);
        for (int by_id = 0; by_id <= 1; by_id++)
            for (int t = 0; t < 3; t++) {
                for (size_t p = 0; p < s.np; p++) {
                    const double *row = s.S + p * s.ng;
                    bm_search *r = &res[p];
                    cr_assert_eq(bm_search_row(row, s.gl, s.ng, s.pl[p], s.ex + 2 * p,
                                               s.nex[p], (bm_ties)t, by_id, s.nl, scratch, r),
                                 BM_OK);
                    size_t n = bf_list(row, s.gl, s.ng, s.pl[p], s.ex + 2 * p, s.nex[p],
                                       by_id, s.nl, (bm_ties)t, list);
                    size_t rank = 0;
                    double best_nm = -INFINITY, best_m = -INFINITY;
                    for (size_t i = 0; i < n; i++) {
                        if (list[i].mate && !rank) {
                            rank = i + 1;
                            best_m = list[i].s;
                            cr_expect_eq(r->mate_index, list[i].idx);
                        }
                        if (!list[i].mate && list[i].s > best_nm)
                            best_nm = list[i].s;
                    }
                    cr_expect_eq(r->rank, rank, "seed %llu probe %zu ties %d by_id %d: rank %zu, "
                                 "brute force %zu", (unsigned long long)seed, p, t, by_id,
                                 r->rank, rank);
                    cr_expect_eq(r->mate_score, best_m);
                    cr_expect_eq(r->nonmate_score, best_nm);
                    checked++;
                }
                /* CMC from the brute-force ranks, one division per rank. */
                size_t R = 30, none;
                double cmc[30];
                bm_cmc(res, s.np, R, cmc, &none);
                size_t none_bf = 0;
                for (size_t p = 0; p < s.np; p++)
                    none_bf += res[p].rank == 0;
                cr_expect_eq(none, none_bf);
                for (size_t k = 1; k <= R; k++) {
                    size_t c = 0;
                    for (size_t p = 0; p < s.np; p++)
                        c += res[p].rank >= 1 && res[p].rank <= k;
                    cr_expect_eq(cmc[k - 1], (double)c / (double)s.np, "CMC rank %zu", k);
                }
            }
        free(list);
        free(res);
        free(scratch);
        free_scene(&s);
    }
    fprintf(stderr, "[parity] ranks vs brute force: %zu searches, all equal\n", checked);
}

Test(rank, precision_at_k_equals_brute_force)
{
    size_t checked = 0;
    for (uint64_t seed = 11; seed <= 14; seed++) {
        scene s = make_scene(seed, 40, 60, 12, 0.1, 1);
        cand *list = malloc(s.ng * sizeof *list);
        for (int t = 0; t < 3; t++)
            for (size_t p = 0; p < s.np; p++) {
                const double *row = s.S + p * s.ng;
                size_t n = bf_list(row, s.gl, s.ng, s.pl[p], s.ex + 2 * p, s.nex[p], 0, 0,
                                   (bm_ties)t, list);
                size_t ks[] = {1, 2, 3, 5, 10, 20, 59, 60, 100};
                for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                    size_t k = ks[ki], kk = k < n ? k : n, m = 0;
                    for (size_t i = 0; i < kk; i++)
                        m += (size_t)list[i].mate;
                    double got = bm_precision_at_k(row, s.gl, s.ng, s.pl[p], s.ex + 2 * p,
                                                   s.nex[p], k, (bm_ties)t, NULL);
                    cr_expect_eq(got, (double)m / (double)kk, "P@%zu ties %d probe %zu: %g vs %g",
                                 k, t, p, got, (double)m / (double)kk);
                    checked++;
                }
            }
        free(list);
        free_scene(&s);
    }
    fprintf(stderr, "[parity] precision@k vs brute force: %zu values, all equal\n", checked);
}

static char *write_scene(ref_run *r, const char *name, const char *what, const void *d,
                         size_t bytes)
{
    char f[128];
    snprintf(f, sizeof f, "%s.%s", name, what);
    return ref_write(r, f, d, bytes);
}

static json_t *scene_case(ref_run *r, const char *name, const char *kind, const scene *s)
{
    char *S = write_scene(r, name, "scores", s->S, s->np * s->ng * sizeof(double));
    char *p = write_scene(r, name, "plabel", s->pl, s->np * sizeof(int32_t));
    char *g = write_scene(r, name, "glabel", s->gl, s->ng * sizeof(int32_t));
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "kind", kind, "scores", S,
                          "plabel", p, "glabel", g);
    free(S);
    free(p);
    free(g);
    return c;
}

/* pyeer's CMC: one gallery image per identity, ties broken by gallery
 * order (its stable sort), every probe mated. */
Test(rank, cmc_matches_pyeer_gallery_order, .timeout = 120)
{
    uint64_t seed = 5;
    scene s = make_scene(seed, 150, 60, 60, 0.05, 0);
    for (size_t g = 0; g < s.ng; g++)
        s.gl[g] = (int32_t)g;
    for (size_t p = 0; p < s.np; p++) {
        s.pl[p] = (int32_t)(ref_rand(&seed) % s.ng);
        for (size_t g = 0; g < s.ng; g++) {
            double v = (s.gl[g] == s.pl[p] ? 0.2 : 0.0) + 0.2 * ref_normal(&seed);
            s.S[p * s.ng + g] = round(v / 0.05) * 0.05;
        }
    }
    const size_t R = 40;
    ref_run r;
    ref_begin(&r);
    json_t *c = scene_case(&r, "cmc", "cmc_pyeer", &s);
    json_object_set_new(c, "max_rank", json_integer((json_int_t)R));
    ref_add(&r, c);
    ref_exec_or_fail(&r);
    bm_search *res = malloc(s.np * sizeof *res);
    for (size_t p = 0; p < s.np; p++)
        cr_assert_eq(bm_search_row(s.S + p * s.ng, s.gl, s.ng, s.pl[p], NULL, 0,
                                   BM_TIES_GALLERY_ORDER, 0, 0, NULL, &res[p]), BM_OK);
    double cmc[40];
    bm_cmc(res, s.np, R, cmc, NULL);
    size_t n;
    double *ref = ref_array(&r, "cmc", "cmc", &n);
    /* pyeer accumulates rounded steps; ours divides once per rank. */
    ref_check_array("pyeer CMC", cmc, R, ref, n);
    ref_report("CMC vs pyeer (gallery-order ties)");
    free(ref);
    free(res);
    ref_end(&r);
    free_scene(&s);
}

Test(rank, average_precision_matches_sklearn, .timeout = 120)
{
    scene s = make_scene(21, 60, 150, 20, 0.05, 0);
    int64_t *ex = malloc(s.np * sizeof *ex);
    uint64_t seed = 99;
    for (size_t p = 0; p < s.np; p++)
        ex[p] = p % 3 ? (int64_t)(ref_rand(&seed) % s.ng) : -1;
    ref_run r;
    ref_begin(&r);
    json_t *c = scene_case(&r, "ap", "ap", &s);
    char *e = write_scene(&r, "ap", "excl", ex, s.np * sizeof *ex);
    json_object_set_new(c, "excl", json_string(e));
    free(e);
    ref_add(&r, c);
    ref_exec_or_fail(&r);
    double *ap = malloc(s.np * sizeof *ap), sum = 0;
    size_t cnt = 0;
    for (size_t p = 0; p < s.np; p++) {
        size_t x = (size_t)ex[p];
        ap[p] = bm_average_precision(s.S + p * s.ng, s.gl, s.ng, s.pl[p], ex[p] >= 0 ? &x : NULL,
                                     ex[p] >= 0, NULL);
        if (!isnan(ap[p])) {
            sum += ap[p];
            cnt++;
        }
    }
    size_t n;
    double *ref = ref_array(&r, "ap", "ap", &n);
    ref_check_array("average precision per probe", ap, s.np, ref, n);
    json_t *j = ref_json(&r, "ap");
    ref_check("mAP", sum / (double)cnt, ref_num(j, "map"));
    ref_report("average precision vs sklearn");
    json_decref(j);
    free(ref);
    free(ap);
    free(ex);
    ref_end(&r);
    free_scene(&s);
}

/* Open-set identification: 40 enrolled identities (1-3 images each), 20
 * never enrolled; FPIR/FNIR curves, EER and FNIR at FPIR operating points
 * for ranks 1 and 5. */
Test(rank, openset_matches_pyeer_iso_definition, .timeout = 120)
{
    uint64_t seed = 3;
    size_t ng = 0, np = 400;
    int32_t gl[200];
    for (int32_t l = 0; l < 40; l++)
        for (uint64_t k = 0, nk = 1 + ref_rand(&seed) % 3; k < nk; k++)
            gl[ng++] = l;
    scene s = {np, ng, 60, malloc(np * ng * sizeof(double)), malloc(np * sizeof(int32_t)),
               malloc(ng * sizeof(int32_t)), NULL, NULL};
    memcpy(s.gl, gl, ng * sizeof *gl);
    for (size_t p = 0; p < np; p++) {
        s.pl[p] = (int32_t)(ref_rand(&seed) % 60);
        for (size_t g = 0; g < ng; g++) {
            double v = (s.gl[g] == s.pl[p] ? 0.45 : 0.0) + 0.18 * ref_normal(&seed);
            s.S[p * ng + g] = round(v / 0.01) * 0.01;
        }
    }
    static const size_t ranks[] = {1, 5};
    ref_run r;
    ref_begin(&r);
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "open_r%zu", ranks[i]);
        json_t *c = scene_case(&r, name, "openset", &s);
        json_object_set_new(c, "max_rank", json_integer((json_int_t)ranks[i]));
        ref_add(&r, c);
    }
    ref_exec_or_fail(&r);

    bm_search *mated = malloc(np * sizeof *mated), *non = malloc(np * sizeof *non);
    size_t nm = 0, nn = 0;
    for (size_t p = 0; p < np; p++) {
        bm_search x;
        cr_assert_eq(bm_search_row(s.S + p * ng, s.gl, ng, s.pl[p], NULL, 0, BM_TIES_PESSIMISTIC,
                                   0, 0, NULL, &x), BM_OK);
        if (x.rank)
            mated[nm++] = x;
        else
            non[nn++] = x;
    }
    for (int i = 0; i < 2; i++) {
        char name[32], w[96];
        snprintf(name, sizeof name, "open_r%zu", ranks[i]);
        bm_curve cv;
        cr_assert_eq(bm_openset_curve(mated, nm, non, nn, ranks[i], &cv), BM_OK);
        json_t *j = ref_json(&r, name);
        cr_assert_eq((double)nm, ref_num(j, "n_mated"));
        cr_assert_eq((double)nn, ref_num(j, "n_nonmated"));
        bm_eer e;
        bm_curve_eer(&cv, &e);
        snprintf(w, sizeof w, "%s eer", name);
        ref_check(w, e.eer, ref_num(j, "eer"));
        ref_check(w, e.eer_low, ref_num(j, "eer_low"));
        ref_check(w, e.eer_high, ref_num(j, "eer_high"));
        ref_check(w, e.eer_thr, ref_num(j, "eer_thr"));
        ref_check(w, e.eer_interp, ref_num(j, "eer_interp"));
        for (int o = 0; o < BM_N_OPS; o++) {
            char k[48];
            size_t ix = bm_curve_fmr_op(&cv, bm_fmr_ops[o]);
            snprintf(k, sizeof k, "fnir_at_fpir_%d", o);
            snprintf(w, sizeof w, "%s %s", name, k);
            ref_check(w, bm_fnmr(&cv, ix), ref_num(j, k));
            snprintf(k, sizeof k, "fnir_at_fpir_thr_%d", o);
            ref_check(w, cv.thr[ix], ref_num(j, k));
            size_t le = bm_curve_fmr_le(&cv, bm_fmr_ops[o]);
            snprintf(k, sizeof k, "fnir_at_fpir_le_%d", o);
            ref_check(w, le < cv.n ? bm_fnmr(&cv, le) : 1.0, ref_num(j, k));
        }
        double *fpir = malloc(cv.n * sizeof *fpir), *fnir = malloc(cv.n * sizeof *fnir);
        for (size_t k = 0; k < cv.n; k++) {
            fpir[k] = bm_fmr(&cv, k);
            fnir[k] = bm_fnmr(&cv, k);
        }
        const char *keys[] = {"thr", "fpir", "fnir"};
        const double *mine[] = {cv.thr, fpir, fnir};
        for (int a = 0; a < 3; a++) {
            size_t n;
            double *ref = ref_array(&r, name, keys[a], &n);
            snprintf(w, sizeof w, "%s %s", name, keys[a]);
            ref_check_array(w, mine[a], cv.n, ref, n);
            free(ref);
        }
        free(fpir);
        free(fnir);
        json_decref(j);
        bm_curve_free(&cv);
    }
    ref_report("open-set FPIR/FNIR vs pyeer (ranks 1 and 5)");
    free(mated);
    free(non);
    ref_end(&r);
    free(s.S);
    free(s.pl);
    free(s.gl);
}
