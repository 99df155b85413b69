/* Evaluation protocols over an embedding set: verification, closed-set
 * identification (k-fold or explicit gallery/probe roles) and open-set
 * identification (k-fold enrolled / non-enrolled identities). All random
 * choices come from the protocol seed, so a run is reproducible and the
 * folds do not depend on thread scheduling. No host dependency: the node
 * hands in the services it wants used (threads, cancellation, seeds). */
#ifndef BM_PROTOCOL_H
#define BM_PROTOCOL_H

#include "emb.h"
#include "metrics.h"
#include "sim.h"

typedef struct bm_env {
    /* Runs fn(ctx, i) for i < n, possibly in parallel; NULL: a plain loop. */
    int (*parallel_for)(size_t n, int (*fn)(void *ctx, size_t i), void *ctx);
    /* Non-zero once the user asked to stop; NULL: never. */
    int (*cancelled)(void);
    /* Seed of item `index` of stream `label`; NULL: a builtin mix. */
    uint64_t (*seed_derive)(uint64_t seed, const char *label, uint64_t index);
    bm_gemm gemm;
    /* Bytes of scores one block of a probe x gallery product may hold
     * (each thread holds one block at a time); 0: 32 MiB. A search never
     * materialises more of the score matrix than this. */
    size_t block_bytes;
    /* The largest score block a search or top-k allocated, in bytes, for
     * callers (and tests) that check the cap held. */
    size_t peak_block_bytes;
    char err[BM_ERRLEN]; /* the message of a failure */
    /* Warnings for the user, one string each (malloc'd), freed with the
     * results. */
    char **warnings;
    size_t n_warnings;
} bm_env;

void bm_env_warn(bm_env *env, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void bm_env_free(bm_env *env);

/* Doubles one score block may hold under env->block_bytes (at least 1). */
size_t bm_block_doubles(const bm_env *env);
/* Records that a score block of `bytes` was allocated. */
void bm_note_block(bm_env *env, size_t bytes);

/* A seeded generator (splitmix64), one per protocol stream. */
uint64_t bm_rand(uint64_t *state);
size_t bm_rand_below(uint64_t *state, size_t n);
uint64_t bm_derive(const bm_env *env, uint64_t seed, const char *label, uint64_t index);

/* Draws keyed by an identity's name: item `index` of stream
 * "<stream>/<name>". An identity's draws then stay put when the rows are
 * reordered or other identities are added or left out (a position in the
 * label list would move with them). The namer holds the composed label. */
typedef struct bm_namer {
    char *buf;
    size_t cap;
} bm_namer;

/* Room for "<stream>/<name>" for every label name of e and any stream of
 * up to BM_STREAM_MAX characters; AIGTATT_OK or AIGTATT_ERR_NOMEM. */
#define BM_STREAM_MAX 63
int bm_namer_init(bm_namer *nm, const bm_emb *e);
void bm_namer_free(bm_namer *nm);
uint64_t bm_derive_named(const bm_env *env, bm_namer *nm, uint64_t seed, const char *stream,
                         const char *name, uint64_t index);

/* ---- verification --------------------------------------------------- */

typedef enum bm_impostors {
    BM_IMP_AUTO = 0,   /* all pairs up to max_pairs, else per_identity */
    BM_IMP_ALL = 1,    /* every cross-identity pair */
    BM_IMP_PER_ID = 2, /* the seed's: one reference per identity against
                          one probe of every other identity */
    BM_IMP_SAMPLE = 3  /* sample_pairs random cross-identity pairs */
} bm_impostors;

typedef enum bm_polfix {
    BM_POL_WARN = 0, /* warn when genuine scores sit below impostors */
    BM_POL_FLIP = 1, /* ... and evaluate the negated scores */
    BM_POL_ERROR = 2 /* ... and fail */
} bm_polfix;

typedef struct bm_ver_cfg {
    uint64_t seed;
    bm_impostors impostors;
    uint64_t max_pairs;    /* auto's limit on impostor pairs */
    uint64_t sample_pairs; /* for BM_IMP_SAMPLE */
    bm_polfix polarity;
} bm_ver_cfg;

typedef struct bm_ver_result {
    int done;
    bm_impostors used;   /* the impostor protocol actually applied */
    double *gen, *imp;   /* the scores (cosine similarities) */
    size_t n_gen, n_imp;
    int reversed;        /* genuine mean below impostor mean */
    int flipped;         /* scores were negated (BM_POL_FLIP) */
    bm_curve curve;
    bm_verif_stats st;
    bm_roc roc;          /* sklearn roc_curve, drop_intermediate */
    double auc;          /* sklearn auc over roc */
} bm_ver_result;

int bm_verify(bm_env *env, const bm_emb *e, const bm_ver_cfg *cfg, bm_ver_result *out);
void bm_ver_result_free(bm_ver_result *r);

/* ---- identification ------------------------------------------------- */

typedef enum bm_singletons {
    BM_SINGLE_ERROR = 0,     /* an identity with one image is an error */
    BM_SINGLE_SKIP = 1,      /* leave it out (with a warning) */
    BM_SINGLE_DISTRACTOR = 2 /* closed set: put it in every gallery */
} bm_singletons;

#define BM_MAX_PK 8

typedef struct bm_id_cfg {
    uint64_t seed;
    size_t folds;            /* k of the k-fold protocols, >= 1 */
    bm_ties ties;
    int by_identity;         /* candidate lists of identities, not images */
    size_t max_rank;         /* CMC length */
    size_t pk[BM_MAX_PK];    /* precision@k for these k */
    size_t n_pk;
    bm_singletons singletons;
    /* closed set by roles (when gallery_role is set): every row whose role
     * is gallery_role is enrolled, every row whose role is probe_role
     * searched; exclude_source drops from a probe's candidates the gallery
     * rows it was made from (its source equals their id or path). */
    const char *gallery_role, *probe_role;
    int exclude_source;
    /* report: the worst searches of the closed set and how many of their
     * candidates to keep (0: none) */
    size_t worst_probes, worst_top_k;
    /* open set */
    double enrolled_fraction; /* of the identities with >= 2 images */
    size_t open_rank;         /* R: a mate counts only at rank <= R */
} bm_id_cfg;

/* Mean and (population) standard deviation over folds. */
typedef struct bm_ms {
    double mean, std;
} bm_ms;

/* One candidate of a probe's list: `pos` is a gallery position in
 * bm_topk_all's output (an embedding row once bm_closed_set has mapped it),
 * `mate` non-zero when it holds the probe's identity. */
typedef struct bm_cand {
    size_t pos;
    double score;
    int mate;
} bm_cand;

/* One of the worst searches of the closed set (highest rank of the true
 * mate, then lowest mate score), with its first candidates, for the
 * report. Rows are embedding rows. */
typedef struct bm_worst {
    size_t fold;        /* 0-based */
    size_t probe;       /* the probe's row */
    size_t rank;        /* rank of the true mate (1-based) */
    double mate_score, nonmate_score;
    size_t mate_row;    /* the mate's row (its best image by identity) */
    bm_cand *cand;      /* the first candidates, best first (pos = row) */
    size_t n_cand;
} bm_worst;

typedef struct bm_closed_result {
    int done;
    bm_worst *worst;         /* worst searches, worst first */
    size_t n_worst;
    size_t folds, n_gallery, n_probes; /* per fold (the last one's sizes) */
    size_t max_rank;
    bm_ms *cmc;              /* max_rank entries, fractions */
    bm_ms map;
    bm_ms pk[BM_MAX_PK];
    size_t n_no_mate;        /* probes dropped for want of a mate (roles) */
} bm_closed_result;

typedef struct bm_open_result {
    int done;
    size_t folds, n_enrolled, n_mated, n_nonmated; /* per fold */
    size_t rank;
    bm_ms eer, eer_interp;
    bm_ms fnir_at_fpir[BM_N_OPS];    /* pyeer's operating-point rule */
    bm_ms fnir_at_fpir_le[BM_N_OPS]; /* lowest T with FPIR <= op */
    bm_curve pooled;                 /* searches of every fold pooled */
} bm_open_result;

int bm_closed_set(bm_env *env, const bm_emb *e, const bm_id_cfg *cfg, bm_closed_result *out);
int bm_open_set(bm_env *env, const bm_emb *e, const bm_id_cfg *cfg, bm_open_result *out);
void bm_closed_result_free(bm_closed_result *r);
void bm_open_result_free(bm_open_result *r);

/* Probe x gallery searches in blocks (never the whole score matrix):
 * probe p is row probes[p], gallery item g row gallery[g]; excl (may be
 * NULL) lists, CSR-style, gallery positions excluded per probe. ap and pk
 * (may be NULL) receive average precision and precision@k per probe. */
typedef struct bm_excl {
    size_t *start; /* n_probes + 1 offsets into idx */
    size_t *idx;
} bm_excl;

int bm_search_all(bm_env *env, const bm_emb *e, const size_t *probes, size_t np,
                  const size_t *gallery, size_t ng, const bm_excl *excl, const bm_id_cfg *cfg,
                  bm_search *out, double *ap, double *pk);

/* Non-zero when candidate a ranks before b: higher score first; on equal
 * scores the tie rule of rank.c (pessimistic: non-mates first, optimistic:
 * mates first), then the lower gallery position. */
int bm_cand_before(const bm_cand *a, const bm_cand *b, bm_ties ties);

/* The first k candidates of each probe's list, best first, without the
 * score matrix: probe blocks x gallery tiles of at most bm_block_doubles()
 * scores each, every probe keeping a bounded list of its k best so far.
 * Candidates are gallery images, or with cfg->by_identity identities, each
 * at its best image (the lowest gallery position among equal bests), as
 * bm_search_row ranks them. out holds np * k entries (probe p's at
 * out[p * k]); n_out[p] receives how many it got (k, or fewer candidates). */
int bm_topk_all(bm_env *env, const bm_emb *e, const size_t *probes, size_t np,
                const size_t *gallery, size_t ng, const bm_excl *excl, const bm_id_cfg *cfg,
                size_t k, bm_cand *out, size_t *n_out);

#endif
