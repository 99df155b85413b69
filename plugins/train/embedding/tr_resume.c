/* The progress record a training checkpoint carries (aigtatt.progress), so
 * that a run stopped by Ctrl-C, a crash or a power cut goes on from its
 * last saved epoch instead of starting over:
 *
 *     v1 <done> <best_epoch> <best_eer>
 *     <loss> <lr> <images/s> <eer> <rank1>      one line per finished epoch
 *
 * The weights, buffers and optimizer state are the checkpoint's tensors;
 * the data order, augmentation and dropout are derived from (seed, epoch,
 * step), so a resumed run computes what the uninterrupted one would have. */
#include "tr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tr_progress_encode(const tr_progress *pr)
{
    size_t cap = 96 + (size_t)pr->done * 128, len = 0;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    len += (size_t)snprintf(t + len, cap - len, "v1 %lld %lld %.17g\n", (long long)pr->done,
                            (long long)pr->best_epoch, pr->best_eer);
    for (int64_t e = 0; e < pr->done; e++) {
        const tr_epoch_row *r = &pr->rows[e];
        len += (size_t)snprintf(t + len, cap - len, "%.17g %.17g %.17g %.17g %.17g\n", r->loss, r->lr, r->ips,
                                r->eer, r->rank1);
    }
    return t;
}

/* The next number of text at *s ("nan" and "inf" included). */
static int number(const char **s, double *v)
{
    char *end;
    *v = strtod(*s, &end);
    if (end == *s)
        return -1;
    *s = end;
    return 0;
}

int tr_progress_decode(const char *text, int64_t epochs, tr_progress *pr, char *why, size_t why_size)
{
    long long done, best;
    double eer;
    int used = 0;
    if (sscanf(text, "v1 %lld %lld %n", &done, &best, &used) != 2 || !used) {
        snprintf(why, why_size, "its progress record is not in a known format");
        return -1;
    }
    const char *s = text + used;
    if (number(&s, &eer)) {
        snprintf(why, why_size, "its progress record has no best EER");
        return -1;
    }
    if (done < 0 || done > epochs || best < -1 || best > done || (best > 0) != isfinite(eer)) {
        snprintf(why, why_size, "its progress record (%lld epochs done, best %lld) does not fit a run of %lld epochs",
                 done, best, (long long)epochs);
        return -1;
    }
    for (long long e = 0; e < done; e++) {
        tr_epoch_row *r = &pr->rows[e];
        if (number(&s, &r->loss) || number(&s, &r->lr) || number(&s, &r->ips) || number(&s, &r->eer) ||
            number(&s, &r->rank1)) {
            snprintf(why, why_size, "its progress record lacks epoch %lld's line", e + 1);
            return -1;
        }
    }
    pr->done = done;
    pr->best_epoch = best;
    pr->best_eer = best > 0 ? eer : INFINITY;
    return 0;
}
