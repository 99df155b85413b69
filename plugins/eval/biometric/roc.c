/* scikit-learn's roc_curve and auc, derived from the pyeer curve: both walk
 * the same distinct scores, sklearn from the most genuine-like down. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bm_roc_free(bm_roc *r)
{
    if (!r)
        return;
    free(r->fpr);
    free(r->tpr);
    free(r->thr);
    memset(r, 0, sizeof *r);
}

int bm_roc_from_curve(const bm_curve *c, int drop_intermediate, bm_roc *out)
{
    memset(out, 0, sizeof *out);
    if (c->n == 0 || c->n_imp == 0 || c->n_gen == 0)
        return BM_ERR_INVALID;
    size_t m = c->n;
    /* sklearn's counts at its k-th threshold (descending): tps = genuine
     * scores >= it, fps = impostors >= it; our index m - 1 - k. Genuine
     * misses (open-set) are never true positives and drop out. */
    out->fpr = malloc((m + 1) * sizeof *out->fpr);
    out->tpr = malloc((m + 1) * sizeof *out->tpr);
    out->thr = malloc((m + 1) * sizeof *out->thr);
    if (!out->fpr || !out->tpr || !out->thr) {
        bm_roc_free(out);
        return BM_ERR_NOMEM;
    }
#define TPS(k) ((double)(c->n_gen - c->fnm[m - 1 - (k)]))
#define FPS(k) ((double)c->fm[m - 1 - (k)])
    /* Totals are the counts at the last (lowest) threshold, as sklearn's
     * fps[-1] and tps[-1]. */
    double fps_last = FPS(m - 1), tps_last = TPS(m - 1);
    size_t n = 0;
    out->fpr[n] = 0.0;
    out->tpr[n] = 0.0;
    out->thr[n] = c->polarity == BM_DISTANCE ? -INFINITY : INFINITY;
    n++;
    for (size_t k = 0; k < m; k++) {
        if (drop_intermediate && m > 2 && k > 0 && k + 1 < m) {
            double d2f = (FPS(k + 1) - FPS(k)) - (FPS(k) - FPS(k - 1));
            double d2t = (TPS(k + 1) - TPS(k)) - (TPS(k) - TPS(k - 1));
            if (d2f == 0 && d2t == 0)
                continue;
        }
        out->fpr[n] = FPS(k) / fps_last;
        out->tpr[n] = TPS(k) / tps_last;
        out->thr[n] = c->thr[m - 1 - k];
        n++;
    }
#undef TPS
#undef FPS
    out->n = n;
    return BM_OK;
}

double bm_roc_auc(const bm_roc *r)
{
    if (r->n < 2)
        return 0.0;
    double *t = malloc((r->n - 1) * sizeof *t);
    if (!t)
        return NAN;
    for (size_t k = 0; k + 1 < r->n; k++)
        t[k] = (r->fpr[k + 1] - r->fpr[k]) * (r->tpr[k + 1] + r->tpr[k]) / 2.0;
    double a = bm_sum(t, r->n - 1);
    free(t);
    return a;
}
