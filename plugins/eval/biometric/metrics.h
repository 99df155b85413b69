/* Biometric metrics: error curves, EER, operating points, ROC/AUC, CMC,
 * retrieval precision and open-set identification rates.
 *
 * Pure C11 with no dependency on the host table, so the same code runs in
 * the eval.biometric plugin, in tests and in benchmarks.
 *
 * Units: every rate in this library is a FRACTION in [0, 1] (never a
 * percentage); names ending in _frac say so where it could be misread.
 * Scores are doubles; "similarity" means a higher score is more alike,
 * "distance" means a lower score is more alike.
 *
 * Definitions follow pyeer 0.5.6 (eer_stats.py) and scikit-learn 1.x
 * (metrics.roc_curve / metrics.auc) exactly, so that values agree with them
 * to the last bit on the same inputs; see docs in each function. */
#ifndef BM_METRICS_H
#define BM_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Status codes; the values match aigtatt_status on purpose. */
enum {
    BM_OK = 0,
    BM_ERR_NOMEM = -2,
    BM_ERR_INVALID = -4
};

typedef enum bm_polarity {
    BM_SIMILARITY = 0, /* accept when score >= threshold */
    BM_DISTANCE = 1    /* accept when score <= threshold (pyeer ds_scores) */
} bm_polarity;

/* ---- stats.c: numpy-compatible reductions --------------------------- */

/* Sum with numpy's pairwise algorithm (blocks of 8 accumulators, 128-item
 * leaves), which is what np.sum/np.mean use on a contiguous float64 array;
 * the result is bit-identical to numpy's and its error grows as O(log n). */
double bm_sum(const double *a, size_t n);
/* np.mean(a): bm_sum(a) / n. NaN for n == 0. */
double bm_mean(const double *a, size_t n);
/* np.std(a) (population, ddof = 0), computed as numpy does: two passes,
 * squared deviations from the mean summed pairwise. Needs n doubles of
 * scratch (NULL: allocated); NaN for n == 0 or on allocation failure. */
double bm_std(const double *a, size_t n, double *scratch);
/* Decidability d' = |mg - mi| / sqrt((sg^2 + si^2) / 2), as pyeer: 1 when
 * both deviations are zero. */
double bm_decidability(double gmean, double gstd, double imean, double istd);

/* Index of the first non-finite value, or n when all are finite. */
size_t bm_first_nonfinite(const double *a, size_t n);

/* ---- sort.c --------------------------------------------------------- */

/* Sorts n finite doubles ascending in place, in O(n) for n >= 512 (LSD
 * radix on the IEEE bit pattern). When every value is a float widened to
 * a double (cosine scores of float32 embeddings), 32-bit keys are sorted
 * inside the array itself with no scratch memory; otherwise 64-bit keys
 * need one scratch array of n. -0.0 and +0.0 compare equal and their
 * relative order is unspecified; callers compare with ==.
 * BM_ERR_NOMEM if the scratch buffer cannot be allocated. */
int bm_sort_doubles(double *a, size_t n);

/* ---- curve.c: pyeer error curves ------------------------------------ */

/* The error curves over pyeer's threshold set: every distinct score of the
 * union of genuine and impostor scores, ascending for similarity scores
 * and descending for distances (pyeer negates distances, then negates the
 * thresholds back). At threshold t a comparison is accepted when
 * score >= t (similarity) or score <= t (distance):
 *   fm[k]  = impostor scores accepted at thr[k]
 *   fnm[k] = genuine scores rejected at thr[k], plus `gen_misses`
 * The rates are fm/n_imp and fnm/n_gen (fractions), each one division, as
 * pyeer's fm / inumber and fnm / gnumber. No threshold above the highest
 * score is added (pyeer does not add one), so FMR may never reach 0. */
typedef struct bm_curve {
    size_t n;        /* number of thresholds */
    double *thr;     /* thresholds, in score units */
    uint64_t *fm;    /* false matches (impostors accepted) at thr[k] */
    uint64_t *fnm;   /* false non-matches (genuines rejected) at thr[k] */
    uint64_t n_gen;  /* genuine comparisons, misses included */
    uint64_t n_imp;  /* impostor comparisons */
    bm_polarity polarity;
} bm_curve;

static inline double bm_fmr(const bm_curve *c, size_t k)
{
    return (double)c->fm[k] / (double)c->n_imp;
}
static inline double bm_fnmr(const bm_curve *c, size_t k)
{
    return (double)c->fnm[k] / (double)c->n_gen;
}

/* Builds the curve in one merge walk after radix-sorting copies of
 * the scores. `gen_misses` counts genuine attempts that are rejected at
 * every threshold (open-set searches whose mate is beyond the rank limit);
 * 0 for verification. Needs n_imp >= 1 and n_gen + gen_misses >= 1 and
 * finite scores, else BM_ERR_INVALID. Free with bm_curve_free(). */
int bm_curve_build(const double *gen, size_t n_gen, const double *imp, size_t n_imp,
                   uint64_t gen_misses, bm_polarity pol, bm_curve *out);
void bm_curve_free(bm_curve *c);

/* The FMR operating points of pyeer (FMR10, FMR20, FMR100, FMR1000,
 * ZeroFMR): target FMR as a fraction. */
#define BM_N_OPS 5
extern const double bm_fmr_ops[BM_N_OPS]; /* 0.1, 0.05, 0.01, 0.001, 0 */

typedef struct bm_eer {
    /* pyeer's EER: the first threshold index t2 with FMR - FNMR <= 0 and
     * its predecessor t1; of the two, the one with the smaller FMR + FNMR
     * (t1 on a tie) gives EER = (FMR + FNMR) / 2 and the interval
     * [eer_low, eer_high] (pyeer's order of the pair is kept). When FMR
     * stays above FNMR everywhere (all scores tied at the top), pyeer
     * answers 1, 1, 1 at index 0, and so does this. */
    double eer, eer_low, eer_high, eer_thr;
    size_t eer_index;
    /* The crossing of the piecewise-linear DET curve (linear axes) with
     * FMR = FNMR, on the curve closed by its end point (FMR 0, FNMR 1)
     * above the highest score: the interpolated EER. */
    double eer_interp;
} bm_eer;

typedef struct bm_verif_stats {
    bm_eer eer;
    /* pyeer get_fmr_op: FNMR at the first threshold minimising
     * |FMR - op|, op from bm_fmr_ops (so FMR there may exceed op). */
    double fnmr_at_fmr[BM_N_OPS];
    double fnmr_at_fmr_thr[BM_N_OPS];
    double fnmr_at_fmr_fmr[BM_N_OPS]; /* the FMR actually reached there */
    /* ISO-style conservative reading: FNMR at the lowest threshold whose
     * FMR <= op (1 when no threshold reaches it). */
    double fnmr_at_fmr_le[BM_N_OPS];
    /* pyeer ZeroFNMR: FMR at the last threshold where FNMR is minimal. */
    double zero_fnmr, zero_fnmr_thr;
    /* pyeer calculate_roc_auc: trapezoids over the (FMR, 1 - FNMR) points
     * of the threshold set, without end points (differs from sklearn's). */
    double auc_pyeer;
    double gmean, gstd, imean, istd; /* np.mean / np.std (ddof 0) */
    double decidability;             /* d', see bm_decidability */
    double youden_j, youden_thr;     /* max of 1 - FNMR - FMR, first index */
    double mcc, mcc_thr;             /* pyeer get_matthews_ccoef */
} bm_verif_stats;

/* EER by pyeer's rule and the interpolated crossing. */
void bm_curve_eer(const bm_curve *c, bm_eer *out);
/* pyeer get_fmr_op for one op: index of the first minimum of |FMR - op|. */
size_t bm_curve_fmr_op(const bm_curve *c, double op);
/* Lowest-threshold index with FMR <= op, or c->n when none. */
size_t bm_curve_fmr_le(const bm_curve *c, double op);
/* pyeer's trapezoid AUC over the curve (0 for one threshold). Needs n
 * doubles of scratch (NULL: allocated); NaN on allocation failure. */
double bm_curve_auc_pyeer(const bm_curve *c, double *scratch);

/* Everything pyeer's get_eer_stats reports, from the curve and the raw
 * scores (for means and deviations; pass the scores the curve was built
 * from, misses excluded). BM_ERR_NOMEM on allocation failure. */
int bm_verif_stats_compute(const bm_curve *c, const double *gen, size_t n_gen,
                           const double *imp, size_t n_imp, bm_verif_stats *out);

/* Polarity check: for scores declared as `declared`, non-zero when the
 * genuine mean lies on the impostor side (gmean < imean for similarity,
 * gmean > imean for distance), i.e. the scores look reversed. */
int bm_polarity_reversed(double gmean, double imean, bm_polarity declared);

/* ---- roc.c: scikit-learn roc_curve / auc ---------------------------- */

/* sklearn.metrics.roc_curve(y, s) with genuine = positive class and, for
 * distances, s = -score (thresholds reported back in score units). Points
 * run from (0, 0) at threshold +inf (-inf for distances) through every
 * distinct score from the most to the least genuine-like. With
 * drop_intermediate, a point is dropped when both the false- and the
 * true-positive counts have a zero second difference there (sklearn's
 * rule: it lies on a straight segment between equal steps); the first and
 * last points are always kept, and nothing is dropped with <= 2 points.
 * Rates are fractions. */
typedef struct bm_roc {
    size_t n;
    double *fpr, *tpr, *thr;
} bm_roc;

int bm_roc_from_curve(const bm_curve *c, int drop_intermediate, bm_roc *out);
void bm_roc_free(bm_roc *r);
/* sklearn.metrics.auc(fpr, tpr): trapezoids summed as numpy does. */
double bm_roc_auc(const bm_roc *r);

/* ---- rank.c: closed-set identification and retrieval ---------------- */

/* How a mate tied with non-mates is ranked.
 *  PESSIMISTIC: every non-mate with a score >= the mate's is ranked above
 *               it (the default: a tie never helps).
 *  OPTIMISTIC:  only non-mates with a strictly higher score are above.
 *  GALLERY_ORDER: ties are broken by gallery position, as pyeer's stable
 *               descending sort in cmc_stats.py does. */
typedef enum bm_ties {
    BM_TIES_PESSIMISTIC = 0,
    BM_TIES_OPTIMISTIC = 1,
    BM_TIES_GALLERY_ORDER = 2
} bm_ties;

/* One search of a probe against the gallery (similarity scores; negate
 * distances first). */
typedef struct bm_search {
    double mate_score;    /* best mated score; -INFINITY when no mate */
    double nonmate_score; /* best non-mated score; -INFINITY when none */
    size_t rank;          /* 1-based rank of the first mate; 0 = no mate */
    size_t mate_index;    /* gallery index of that mate (when rank > 0) */
} bm_search;

/* A probe's search. row[g] is its score against gallery item g, glabel[g]
 * the gallery identity (0 <= glabel < n_labels). Gallery items listed in
 * `excl` are not candidates (a probe's own source image, or itself).
 * by_identity == 0: the candidate list holds gallery images, so a
 * non-mated identity with several images above the mate pushes it down
 * several places. by_identity != 0: the list holds identities, each at
 * its best image's score (ISO/IEC 19795-1 candidate lists of enrolees);
 * `scratch` must then hold 2 * n_labels doubles (else may be NULL); for
 * GALLERY_ORDER an identity's place among ties is its best image's lowest
 * gallery index. */
int bm_search_row(const double *row, const int32_t *glabel, size_t n_gallery,
                  int32_t plabel, const size_t *excl, size_t n_excl,
                  bm_ties ties, int by_identity, size_t n_labels, double *scratch,
                  bm_search *out);

/* CMC for ranks 1..max_rank: cmc[r - 1] = (searches with 1 <= rank <= r)
 * / n, a fraction, each one division (no running sum). Searches without a
 * mate (rank 0) count as never identified; their number goes to
 * *n_no_mate when it is not NULL. */
void bm_cmc(const bm_search *s, size_t n, size_t max_rank, double *cmc, size_t *n_no_mate);

/* Average precision of one probe's ranked retrieval as
 * sklearn.metrics.average_precision_score(is_mate, row) over the
 * non-excluded gallery: sum over distinct scores of (recall step) x
 * (precision of everything scoring >= it); ties are grouped, not ordered.
 * Returns NaN when the probe has no mate (leave it out of the mean).
 * `scratch` holds n_gallery doubles (NULL: allocated; NaN on failure). */
double bm_average_precision(const double *row, const int32_t *glabel, size_t n_gallery,
                            int32_t plabel, const size_t *excl, size_t n_excl,
                            double *scratch);

/* Fraction of the first k candidates that are mates, the candidates
 * ordered by score with ties resolved by `ties` (k is cut to the number of
 * candidates). `scratch` holds n_gallery doubles (NULL: allocated; NaN on
 * failure). NaN when k == 0 or there is no candidate. */
double bm_precision_at_k(const double *row, const int32_t *glabel, size_t n_gallery,
                         int32_t plabel, const size_t *excl, size_t n_excl,
                         size_t k, bm_ties ties, double *scratch);

/* ---- openset.c: ISO/IEC 19795-1 open-set identification ------------- */

/* Open-set curves over the threshold set of pyeer (the distinct scores):
 *   FPIR(T) = non-mated searches whose best candidate scores >= T,
 *             over all non-mated searches;
 *   FNIR(T) = mated searches whose mate is NOT at rank <= max_rank with a
 *             score >= T, over all mated searches.
 * In bm_curve terms, fm counts false positive identifications, fnm false
 * negative identifications, and mated searches with the mate beyond
 * max_rank (or absent) are misses at every threshold. */
int bm_openset_curve(const bm_search *mated, size_t n_mated,
                     const bm_search *nonmated, size_t n_nonmated,
                     size_t max_rank, bm_curve *out);

#endif
