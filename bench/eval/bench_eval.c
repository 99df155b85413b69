/* Speed of the biometric evaluation (a benchmark, not a test).
 *
 *   bench_eval synth [--gallery N] [--probes N] [--dim D] [--threads T]
 *                    [--gemm auto|builtin|onednn] [--noise S] [--seed S]
 *       N gallery identities of one image each and N probes, probe i a
 *       noisy view of gallery i: D-dimensional Gaussian embeddings,
 *       L2-normalised. Prints seconds for the similarity matrix
 *       (gallery x probes cosine scores, kept as genuine + impostor
 *       arrays), the CMC (the blocked search, with its own products; and
 *       the ranks alone, from the stored scores) and the error curves
 *       (pyeer's FMR/FNMR curve, every pyeer statistic, scikit-learn's
 *       ROC and AUC) on all the scores. The defaults are the issue's:
 *       20,000 x 20,000 x 512, 4 x 10^8 scores (8.4 GB resident at the
 *       peak, in the error curves).
 *
 *   bench_eval scores DIR [--repeat R]
 *       The same metrics on scores written by peer.py (DIR/gen.f64,
 *       DIR/imp.f64: float64; DIR/matrix.f64: probes x gallery float64
 *       with DIR/plabel.i32, DIR/glabel.i32), best of R runs each, into
 *       DIR/c_results.json (values and seconds) and DIR/c_*.f64 (curves),
 *       for peer.py to compare with pyeer and scikit-learn.
 *
 * Times are wall-clock seconds (CLOCK_MONOTONIC) around the library calls
 * only: no file or generation time. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "biometric/metrics.h"
#include "biometric/protocol.h"
#include "biometric/sim.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_eval: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

/* ---- a small thread pool for bm_env.parallel_for ---------------------- */

static int n_threads = 1;

typedef struct pf {
    size_t n, next;
    int (*fn)(void *, size_t);
    void *ctx;
    int rc;
    pthread_mutex_t mu;
} pf;

static void *pf_worker(void *arg)
{
    pf *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->rc ? p->n : p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        int rc = p->fn(p->ctx, i);
        if (rc) {
            pthread_mutex_lock(&p->mu);
            if (!p->rc)
                p->rc = rc;
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static int parallel_for(size_t n, int (*fn)(void *, size_t), void *ctx)
{
    pf p = {n, 0, fn, ctx, 0, PTHREAD_MUTEX_INITIALIZER};
    int t = n_threads < (int)n ? n_threads : (int)n;
    pthread_t th[256];
    for (int i = 1; i < t; i++)
        pthread_create(&th[i], NULL, pf_worker, &p);
    pf_worker(&p);
    for (int i = 1; i < t; i++)
        pthread_join(th[i], NULL);
    return p.rc;
}

/* ---- the error-curve metrics, shared by both modes -------------------- */

typedef struct curves {
    bm_curve curve;
    bm_verif_stats st;
    bm_roc roc;
    double auc;
    double t_curve, t_stats, t_roc;
} curves;

static void run_curves(const double *gen, size_t ng, const double *imp, size_t ni, curves *c)
{
    double t0 = now();
    if (bm_curve_build(gen, ng, imp, ni, 0, BM_SIMILARITY, &c->curve))
        die("bm_curve_build failed");
    double t1 = now();
    if (bm_verif_stats_compute(&c->curve, gen, ng, imp, ni, &c->st))
        die("bm_verif_stats_compute failed");
    double t2 = now();
    if (bm_roc_from_curve(&c->curve, 1, &c->roc))
        die("bm_roc_from_curve failed");
    c->auc = bm_roc_auc(&c->roc);
    double t3 = now();
    c->t_curve = t1 - t0;
    c->t_stats = t2 - t1;
    c->t_roc = t3 - t2;
}

static void free_curves(curves *c)
{
    bm_curve_free(&c->curve);
    bm_roc_free(&c->roc);
}

/* ---- synth -------------------------------------------------------------- */

/* A standard normal draw (Box-Muller on splitmix64). */
static double normal(uint64_t *s)
{
    double u1 = ((double)(bm_rand(s) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(bm_rand(s) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

typedef struct simjob {
    const bm_emb *e;
    size_t ng, np, rows;
    bm_gemm gemm;
    double *gen, *imp;
} simjob;

/* Probes [b * rows, ...) against the whole gallery; scores scattered into
 * gen (probe i's mate is gallery i) and imp (row-major, mates left out). */
static int sim_block(void *ctx, size_t b)
{
    simjob *j = ctx;
    size_t p0 = b * j->rows, nr = j->rows < j->np - p0 ? j->rows : j->np - p0, d = j->e->d;
    double *S = malloc(nr * j->ng * sizeof *S);
    if (!S)
        return -2;
    int rc = bm_sim_block(j->gemm, j->e->x + (j->ng + p0) * d, nr, j->e->x, j->ng, d, S, NULL);
    for (size_t r = 0; r < nr && !rc; r++) {
        size_t p = p0 + r;
        const double *row = S + r * j->ng;
        double *o = j->imp + p * (j->ng - 1);
        j->gen[p] = row[p];
        memcpy(o, row, p * sizeof *o);
        memcpy(o + p, row + p + 1, (j->ng - 1 - p) * sizeof *o);
    }
    free(S);
    return rc;
}

typedef struct rankjob {
    const double *gen, *imp;
    const int32_t *glab;
    size_t ng;
    bm_search *out;
} rankjob;

static int rank_row(void *ctx, size_t p)
{
    rankjob *j = ctx;
    double *row = malloc(j->ng * sizeof *row);
    if (!row)
        return -2;
    const double *o = j->imp + p * (j->ng - 1);
    memcpy(row, o, p * sizeof *row);
    row[p] = j->gen[p];
    memcpy(row + p + 1, o + p, (j->ng - 1 - p) * sizeof *row);
    int rc = bm_search_row(row, j->glab, j->ng, (int32_t)p, NULL, 0, BM_TIES_PESSIMISTIC, 0, 0,
                           NULL, &j->out[p]);
    free(row);
    return rc;
}

static int synth(int argc, char **argv)
{
    size_t ng = 20000, np = 20000, d = 512;
    double noise = 2.5;
    uint64_t seed = 1;
    bm_gemm gemm = BM_GEMM_AUTO;
    n_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", a);
        if (!strcmp(a, "--gallery"))
            ng = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--probes"))
            np = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--dim"))
            d = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads"))
            n_threads = atoi(v);
        else if (!strcmp(a, "--noise"))
            noise = atof(v);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--gemm"))
            gemm = !strcmp(v, "builtin") ? BM_GEMM_BUILTIN
                   : !strcmp(v, "onednn") ? BM_GEMM_ONEDNN : BM_GEMM_AUTO;
        else
            die("unknown option %s", a);
        i++;
    }
    if (np > ng || ng < 2 || d < 1 || n_threads < 1 || n_threads > 256)
        die("need 2 <= probes <= gallery, dim >= 1, 1..256 threads");
    if (gemm == BM_GEMM_ONEDNN && !bm_gemm_have_onednn())
        die("this build has no oneDNN");
    const char *gname = gemm == BM_GEMM_BUILTIN || !bm_gemm_have_onednn() ? "builtin" : "oneDNN";
    printf("bench_eval synth: %zu gallery x %zu probes x %zu dims = %.3g scores, %d thread%s, %s "
           "products\n", ng, np, d, (double)ng * (double)np, n_threads, n_threads == 1 ? "" : "s",
           gname);

    /* Rows 0..ng-1: gallery, identity i; rows ng..ng+np-1: probes of
     * identities 0..np-1. */
    bm_emb e = {0};
    char err[BM_ERRLEN];
    size_t n = ng + np;
    if (bm_alloc_rows(&e, n, err))
        die("%s", err);
    e.d = d;
    e.x = xmalloc(n * d * sizeof *e.x);
    uint64_t s = seed;
    float *c = xmalloc(d * sizeof *c);
    for (size_t i = 0; i < ng; i++) {
        char lab[24];
        snprintf(lab, sizeof lab, "id%06zu", i);
        e.label[i] = bm_strdup(lab);
        if (i < np)
            e.label[ng + i] = bm_strdup(lab);
        for (size_t k = 0; k < d; k++)
            c[k] = (float)normal(&s);
        for (size_t k = 0; k < d; k++)
            e.x[i * d + k] = c[k] + (float)(noise * normal(&s));
        for (size_t k = 0; i < np && k < d; k++)
            e.x[(ng + i) * d + k] = c[k] + (float)(noise * normal(&s));
    }
    free(c);
    if (bm_emb_finish(&e, "synth", err))
        die("%s", err);
    bm_emb_normalise(&e);

    /* 1. Similarity: every probe x gallery score, stored. */
    size_t n_imp = np * (ng - 1);
    double *gen = xmalloc(np * sizeof *gen), *imp = xmalloc(n_imp * sizeof *imp);
    /* Fault the pages in first so that the timing is the product's. */
    memset(imp, 0, n_imp * sizeof *imp);
    simjob sj = {&e, ng, np, 256, gemm, gen, imp};
    size_t nb = (np + sj.rows - 1) / sj.rows;
    double t0 = now();
    int rc = 0;
    if (!strcmp(gname, "oneDNN"))
        for (size_t b = 0; b < nb && !rc; b++)
            rc = sim_block(&sj, b); /* oneDNN threads each product */
    else
        rc = parallel_for(nb, sim_block, &sj);
    double t_sim = now() - t0;
    if (rc)
        die("similarity failed (%d)", rc);
    double flops = 2.0 * (double)ng * (double)np * (double)d;
    printf("similarity      %9.3f s   %.3g scores, %.1f GFLOP/s\n", t_sim,
           (double)ng * (double)np, flops / t_sim * 1e-9);

    /* 2. CMC: the blocked search (products again, ranks, never the whole
     * matrix), then the ranks alone from the stored scores. */
    size_t *probes = xmalloc(np * sizeof *probes), *gallery = xmalloc(ng * sizeof *gallery);
    for (size_t i = 0; i < np; i++)
        probes[i] = ng + i;
    for (size_t i = 0; i < ng; i++)
        gallery[i] = i;
    bm_search *sr = xmalloc(np * sizeof *sr);
    bm_env env = {.parallel_for = parallel_for, .gemm = gemm};
    bm_id_cfg cfg = {.ties = BM_TIES_PESSIMISTIC, .by_identity = 0, .max_rank = 50};
    t0 = now();
    if (bm_search_all(&env, &e, probes, np, gallery, ng, NULL, &cfg, sr, NULL, NULL))
        die("search: %s", env.err);
    double cmc[50];
    bm_cmc(sr, np, 50, cmc, NULL);
    double t_search = now() - t0;
    printf("CMC (search)    %9.3f s   blocked products + ranks, largest block %.1f MiB; "
           "Rank-1 %.4f %%, Rank-10 %.4f %%\n", t_search, env.peak_block_bytes / 1048576.0,
           100 * cmc[0], 100 * cmc[9]);
    int32_t *glab = xmalloc(ng * sizeof *glab);
    for (size_t i = 0; i < ng; i++)
        glab[i] = (int32_t)i;
    bm_search *sr2 = xmalloc(np * sizeof *sr2);
    rankjob rj = {gen, imp, glab, ng, sr2};
    t0 = now();
    if (parallel_for(np, rank_row, &rj))
        die("ranks failed");
    double cmc2[50];
    bm_cmc(sr2, np, 50, cmc2, NULL);
    double t_rank = now() - t0;
    printf("CMC (ranks)     %9.3f s   from the stored scores; Rank-1 %.4f %%%s\n", t_rank,
           100 * cmc2[0], memcmp(cmc, cmc2, sizeof cmc) ? " (differs from the search: oneDNN "
                                                           "blocks round differently)" : "");

    /* 3. Error curves over every score. */
    curves cv = {0};
    run_curves(gen, np, imp, n_imp, &cv);
    printf("EER curve       %9.3f s   %zu thresholds (pyeer's FMR/FNMR curve)\n", cv.t_curve,
           cv.curve.n);
    printf("EER statistics  %9.3f s   EER %.4f %%, FMR100 %.4f %%, ZeroFMR %.4f %%, d' %.3f\n",
           cv.t_stats, 100 * cv.st.eer.eer, 100 * cv.st.fnmr_at_fmr[2], 100 * cv.st.fnmr_at_fmr[4],
           cv.st.decidability);
    printf("ROC + AUC       %9.3f s   %zu points (sklearn drop_intermediate), AUC %.6f\n",
           cv.t_roc, cv.roc.n, cv.auc);
    printf("total           %9.3f s   (similarity + CMC search + curves)\n",
           t_sim + t_search + cv.t_curve + cv.t_stats + cv.t_roc);
    free_curves(&cv);
    free(gen);
    free(imp);
    free(probes);
    free(gallery);
    free(sr);
    free(sr2);
    free(glab);
    bm_emb_free(&e);
    return 0;
}

/* ---- scores --------------------------------------------------------------- */

static void *load(const char *dir, const char *name, size_t elem, size_t *n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        die("%s: %s", p, strerror(errno));
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0 || (size_t)sz % elem)
        die("%s: size %ld is not a multiple of %zu", p, sz, elem);
    void *d = xmalloc((size_t)sz);
    if (fread(d, 1, (size_t)sz, f) != (size_t)sz)
        die("%s: short read", p);
    fclose(f);
    *n = (size_t)sz / elem;
    return d;
}

static void save(const char *dir, const char *name, const double *a, size_t n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(a, sizeof *a, n, f) != n)
        die("cannot write %s", p);
    fclose(f);
}

static int scores(int argc, char **argv)
{
    if (argc < 3)
        die("usage: bench_eval scores DIR [--repeat R]");
    const char *dir = argv[2];
    int repeat = argc >= 5 && !strcmp(argv[3], "--repeat") ? atoi(argv[4]) : 3;
    repeat = repeat < 1 ? 1 : repeat;
    size_t ng, ni, nm, npl, ngl;
    double *gen = load(dir, "gen.f64", 8, &ng), *imp = load(dir, "imp.f64", 8, &ni);
    double *S = load(dir, "matrix.f64", 8, &nm);
    int32_t *pl = load(dir, "plabel.i32", 4, &npl), *gl = load(dir, "glabel.i32", 4, &ngl);
    if (nm != npl * ngl)
        die("matrix.f64 holds %zu scores, not %zu x %zu", nm, npl, ngl);
    size_t max_rank = ngl < 50 ? ngl : 50;

    /* Best of `repeat` for each group; the values are the last run's
     * (every run gives the same). */
    curves best = {0};
    double tc = INFINITY, ts = INFINITY, tr = INFINITY;
    for (int r = 0; r < repeat; r++) {
        if (r)
            free_curves(&best);
        memset(&best, 0, sizeof best);
        run_curves(gen, ng, imp, ni, &best);
        tc = fmin(tc, best.t_curve);
        ts = fmin(ts, best.t_stats);
        tr = fmin(tr, best.t_roc);
    }
    best.t_curve = tc;
    best.t_stats = ts;
    best.t_roc = tr;
    /* CMC as pyeer defines it: candidates are gallery images, ties in
     * gallery order (its stable sort). */
    bm_search *sr = xmalloc(npl * sizeof *sr);
    double *cmc = xmalloc(max_rank * sizeof *cmc), t_cmc = INFINITY;
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        for (size_t p = 0; p < npl; p++)
            if (bm_search_row(S + p * ngl, gl, ngl, pl[p], NULL, 0, BM_TIES_GALLERY_ORDER, 0, 0,
                              NULL, &sr[p]))
                die("bm_search_row failed");
        bm_cmc(sr, npl, max_rank, cmc, NULL);
        t_cmc = fmin(t_cmc, now() - t0);
    }

    const bm_verif_stats *st = &best.st;
    json_t *v = json_object();
#define PUT(k, x) json_object_set_new(v, k, json_real(x))
    PUT("eer", st->eer.eer);
    PUT("eer_low", st->eer.eer_low);
    PUT("eer_high", st->eer.eer_high);
    PUT("eer_thr", st->eer.eer_thr);
    static const char *ops[BM_N_OPS] = {"fmr10", "fmr20", "fmr100", "fmr1000", "zero_fmr"};
    for (int o = 0; o < BM_N_OPS; o++) {
        char k[40];
        PUT(ops[o], st->fnmr_at_fmr[o]);
        snprintf(k, sizeof k, "%s_thr", ops[o]);
        PUT(k, st->fnmr_at_fmr_thr[o]);
    }
    PUT("zero_fnmr", st->zero_fnmr);
    PUT("zero_fnmr_thr", st->zero_fnmr_thr);
    PUT("auc_pyeer", st->auc_pyeer);
    PUT("gmean", st->gmean);
    PUT("gstd", st->gstd);
    PUT("imean", st->imean);
    PUT("istd", st->istd);
    PUT("decidability", st->decidability);
    PUT("youden_j", st->youden_j);
    PUT("youden_thr", st->youden_thr);
    PUT("mcc", st->mcc);
    PUT("mcc_thr", st->mcc_thr);
    PUT("roc_auc", best.auc);
#undef PUT
    json_t *t = json_pack("{s:f, s:f, s:f, s:f}", "curve", best.t_curve, "stats", best.t_stats,
                          "roc", best.t_roc, "cmc", t_cmc);
    json_t *root = json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:i}", "values", v, "seconds", t,
                             "n_gen", (json_int_t)ng, "n_imp", (json_int_t)ni, "thresholds",
                             (json_int_t)best.curve.n, "roc_points", (json_int_t)best.roc.n,
                             "repeat", repeat);
    char p[4096];
    snprintf(p, sizeof p, "%s/c_results.json", dir);
    if (json_dump_file(root, p, JSON_INDENT(2) | JSON_REAL_PRECISION(17)))
        die("cannot write %s", p);
    json_decref(root);
    /* Curves for an element-by-element comparison. */
    double *fmr = xmalloc(best.curve.n * sizeof *fmr), *fnmr = xmalloc(best.curve.n * sizeof *fnmr);
    for (size_t k = 0; k < best.curve.n; k++) {
        fmr[k] = bm_fmr(&best.curve, k);
        fnmr[k] = bm_fnmr(&best.curve, k);
    }
    save(dir, "c_thr.f64", best.curve.thr, best.curve.n);
    save(dir, "c_fmr.f64", fmr, best.curve.n);
    save(dir, "c_fnmr.f64", fnmr, best.curve.n);
    save(dir, "c_roc_fpr.f64", best.roc.fpr, best.roc.n);
    save(dir, "c_roc_tpr.f64", best.roc.tpr, best.roc.n);
    save(dir, "c_roc_thr.f64", best.roc.thr, best.roc.n);
    save(dir, "c_cmc.f64", cmc, max_rank);
    printf("C: curve %.4f s, statistics %.4f s, ROC %.4f s, CMC %.4f s (best of %d)\n",
           best.t_curve, best.t_stats, best.t_roc, t_cmc, repeat);
    free(fmr);
    free(fnmr);
    free_curves(&best);
    free(gen);
    free(imp);
    free(S);
    free(pl);
    free(gl);
    free(sr);
    free(cmc);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows when piped */
    if (argc >= 2 && !strcmp(argv[1], "synth"))
        return synth(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "scores"))
        return scores(argc, argv);
    fprintf(stderr, "usage: bench_eval synth [--gallery N] [--probes N] [--dim D] [--threads T] "
                    "[--gemm auto|builtin|onednn]\n"
                    "       bench_eval scores DIR [--repeat R]\n");
    return 2;
}
