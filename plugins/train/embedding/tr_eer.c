/* The trainer's validation figures: verification EER over every pair and
 * leave-one-out Rank-1, from cosine similarities. The full protocol
 * (pyeer-exact EER, CMC, open set) is eval.biometric's; this one only
 * ranks checkpoints, the way the seed selected its best epoch. */
#include "tr.h"

#include <math.h>
#include <stdlib.h>

typedef struct scored {
    float s;
    int genuine;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

void tr_eer_rank1(const float *emb, const int64_t *labels, size_t n, int64_t k, double *eer, double *rank1)
{
    *eer = NAN;
    *rank1 = NAN;
    if (n < 2)
        return;
    /* a NaN score would sort anywhere and give an EER that looks real */
    for (size_t i = 0; i < n * (size_t)k; i++)
        if (!isfinite(emb[i]))
            return;
    float *u = malloc(sizeof(float) * n * (size_t)k);
    size_t pairs = n * (n - 1) / 2;
    scored *sc = malloc(sizeof *sc * (pairs ? pairs : 1));
    if (!u || !sc) {
        free(u);
        free(sc);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t d = 0; d < k; d++)
            s += (double)emb[i * (size_t)k + (size_t)d] * emb[i * (size_t)k + (size_t)d];
        double inv = s > 0 ? 1.0 / sqrt(s) : 0;
        for (int64_t d = 0; d < k; d++)
            u[i * (size_t)k + (size_t)d] = (float)(emb[i * (size_t)k + (size_t)d] * inv);
    }
    size_t m = 0, gen = 0, hits = 0, probes = 0;
    float *best = malloc(sizeof(float) * n);
    int64_t *best_label = malloc(sizeof(int64_t) * n);
    for (size_t i = 0; best && best_label && i < n; i++) {
        best[i] = -INFINITY;
        best_label[i] = -1;
    }
    for (size_t i = 0; best && best_label && i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double s = 0;
            for (int64_t d = 0; d < k; d++)
                s += (double)u[i * (size_t)k + (size_t)d] * u[j * (size_t)k + (size_t)d];
            sc[m].s = (float)s;
            sc[m].genuine = labels[i] == labels[j];
            gen += (size_t)sc[m].genuine;
            m++;
            if ((float)s > best[i]) {
                best[i] = (float)s;
                best_label[i] = labels[j];
            }
            if ((float)s > best[j]) {
                best[j] = (float)s;
                best_label[j] = labels[i];
            }
        }
    size_t imp = m - gen;
    if (best && best_label) {
        for (size_t i = 0; i < n; i++) {
            /* a probe counts only when it has a mate among the others */
            int mate = 0;
            for (size_t j = 0; j < n && !mate; j++)
                mate = j != i && labels[j] == labels[i];
            if (!mate)
                continue;
            probes++;
            hits += best_label[i] == labels[i];
        }
        if (probes)
            *rank1 = (double)hits / (double)probes;
    }
    if (gen && imp) {
        /* Sweep thresholds from the lowest score up: at threshold t (accept
         * s >= t), FNMR = genuine below t, FMR = impostors at or above t. */
        qsort(sc, m, sizeof *sc, cmp_scored);
        size_t gen_below = 0, imp_below = 0;
        double best_gap = INFINITY;
        for (size_t i = 0; i <= m; i++) {
            if (i == 0 || i == m || sc[i].s != sc[i - 1].s) {
                double fnmr = (double)gen_below / (double)gen, fmr = (double)(imp - imp_below) / (double)imp;
                double gap = fabs(fnmr - fmr);
                if (gap < best_gap) {
                    best_gap = gap;
                    *eer = (fnmr + fmr) / 2;
                }
            }
            if (i < m) {
                gen_below += (size_t)sc[i].genuine;
                imp_below += (size_t)!sc[i].genuine;
            }
        }
    }
    free(best);
    free(best_label);
    free(u);
    free(sc);
}
