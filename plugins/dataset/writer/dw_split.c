/* Identity-level splits: every image of a tattoo lands in the same split,
 * so a verification model is never tested on a tattoo it trained on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

typedef struct keyed {
    uint64_t key;
    const char *name;
    size_t index;
} keyed;

static int cmp_keyed(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return strcmp(a->name, b->name);
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
    /* The free identities in the order of a key drawn from the seed and
     * each one's name, not a shuffle of positions: an identity added to
     * the dataset takes its place in the order and moves the split
     * boundaries by one, so at most one identity per boundary changes
     * split instead of all of them being dealt anew. */
    keyed *order = dw_host->alloc((free_n ? free_n : 1) * sizeof *order);
    if (!order) {
        dw_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t m = 0;
    char label[1100];
    for (size_t i = 0; i < n; i++) {
        if (ids[i].preset)
            continue;
        snprintf(label, sizeof label, "split/%.1000s", ids[i].name);
        order[m].key = dw_host->seed_derive(seed, label, 0);
        order[m].name = ids[i].name;
        order[m++].index = i;
    }
    qsort(order, m, sizeof *order, cmp_keyed);
    size_t k = 0;
    for (int s = 0; s < DW_NSPLITS; s++)
        for (size_t c = 0; c < count[s] && k < m; c++)
            ids[order[k++].index].split = s;
    dw_host->free_mem(order);
    return AIGTATT_OK;
}
