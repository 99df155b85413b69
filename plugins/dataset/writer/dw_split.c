/* Identity-level splits: every image of a tattoo lands in the same split,
 * so a verification model is never tested on a tattoo it trained on. */
#include <math.h>
#include <string.h>
#include "dw.h"

const char *const dw_split_names[DW_NSPLITS] = {"train", "val", "test"};

int dw_split_index(const char *name)
{
    for (int i = 0; name && i < DW_NSPLITS; i++)
        if (!strcmp(name, dw_split_names[i]))
            return i;
    return -1;
}

int dw_assign_splits(dw_identity *ids, size_t n, const double frac[DW_NSPLITS], uint64_t seed)
{
    size_t free_n = 0;
    for (size_t i = 0; i < n; i++)
        free_n += !ids[i].preset;
    /* Largest-remainder rounding of the quotas. */
    size_t count[DW_NSPLITS], given = 0;
    double rem[DW_NSPLITS];
    for (int s = 0; s < DW_NSPLITS; s++) {
        double q = frac[s] * (double)free_n;
        count[s] = (size_t)floor(q);
        rem[s] = q - floor(q);
        given += count[s];
    }
    while (given < free_n) {
        int best = 0;
        for (int s = 1; s < DW_NSPLITS; s++)
            if (rem[s] > rem[best])
                best = s;
        count[best]++;
        rem[best] = -1;
        given++;
    }
    /* Shuffle the free identities' order (they arrive sorted by name). */
    size_t *order = dw_host->alloc((free_n ? free_n : 1) * sizeof *order);
    aigtatt_rng *rng = dw_host->rng_new(seed);
    if (!order || !rng) {
        dw_host->free_mem(order);
        dw_host->rng_free(rng);
        dw_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!ids[i].preset)
            order[m++] = i;
    for (size_t i = m; i > 1; i--) {
        size_t j = (size_t)(dw_host->rng_u64(rng) % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    size_t k = 0;
    for (int s = 0; s < DW_NSPLITS; s++)
        for (size_t c = 0; c < count[s] && k < m; c++)
            ids[order[k++]].split = s;
    dw_host->rng_free(rng);
    dw_host->free_mem(order);
    return AIGTATT_OK;
}
