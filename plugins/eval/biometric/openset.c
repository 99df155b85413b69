/* Open-set identification per ISO/IEC 19795-1: FPIR over non-mated
 * searches, FNIR over mated ones, a mated search succeeding only when its
 * mate comes back at rank <= R *and* with a score >= T. The curve is a
 * bm_curve whose genuine side holds the found mates' scores and counts the
 * other mated searches as misses at every threshold. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

int bm_openset_curve(const bm_search *mated, size_t n_mated,
                     const bm_search *nonmated, size_t n_nonmated,
                     size_t max_rank, bm_curve *out)
{
    if (n_mated == 0 || n_nonmated == 0 || max_rank == 0)
        return BM_ERR_INVALID;
    double *gen = malloc(n_mated * sizeof *gen);
    double *imp = malloc(n_nonmated * sizeof *imp);
    int rc = BM_ERR_NOMEM;
    if (!gen || !imp)
        goto done;
    size_t found = 0;
    for (size_t i = 0; i < n_mated; i++)
        if (mated[i].rank >= 1 && mated[i].rank <= max_rank)
            gen[found++] = mated[i].mate_score;
    rc = BM_ERR_INVALID;
    for (size_t i = 0; i < n_nonmated; i++) {
        /* A non-mated search has no mate by definition and needs at least
         * one candidate. */
        if (nonmated[i].rank != 0 || !isfinite(nonmated[i].nonmate_score))
            goto done;
        imp[i] = nonmated[i].nonmate_score;
    }
    rc = bm_curve_build(gen, found, imp, n_nonmated, (uint64_t)(n_mated - found),
                        BM_SIMILARITY, out);
done:
    free(gen);
    free(imp);
    return rc;
}
