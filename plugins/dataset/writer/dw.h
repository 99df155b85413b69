/* Internal interface of the dataset writer (prefix dw_). */
#ifndef DW_H
#define DW_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>

extern const aigtatt_host *dw_host;

enum { DW_TRAIN, DW_VAL, DW_TEST, DW_NSPLITS };
extern const char *const dw_split_names[DW_NSPLITS];

/* One identity and the split it goes to. */
typedef struct dw_identity {
    const char *name; /* borrowed from the input set */
    int split;        /* DW_TRAIN.. */
    int preset;       /* the input already said (keep_split) */
} dw_identity;

/* Assigns splits to the identities not preset: ordered by a key drawn
 * from the seed and the identity's name, then the first round(n * train)
 * to train, the next round(n * val) to val, the rest to test (largest
 * remainders, so the counts always add up). Adding an identity moves at
 * most one other across each boundary. */
int dw_assign_splits(dw_identity *ids, size_t n, const double frac[DW_NSPLITS], uint64_t seed);
/* Index of a split name, or -1. */
int dw_split_index(const char *name);

/* A grid of thumbnails: one row per identity, its original, crop and first
 * variations, letterboxed on grey. `paths[r * cols + c]` may be NULL. */
int dw_contact_sheet(const char *out_path, char *const *paths, int rows, int cols, int thumb);

int dw_mkdirs(const char *path);
int dw_link_or_copy(const char *from, const char *to, int allow_link);

#endif
