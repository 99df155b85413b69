/* train.embedding / embed.images: shared parts. */
#ifndef TR_H
#define TR_H

#include <aigtatt/aigtatt.h>
#include <aigtatt/augment.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TR_VERSION "1.0.0"
/* train.embedding's own version (its cache key): 1.1 added `augment:` and
 * `augment_shuffle`; 1.2 decodes JPEGs at full size, loads only the
 * backbone from `weights:` and refuses diverged weights; 1.3 composites
 * transparent images over white, validates before saving, resumes stopped
 * runs and keeps no optimizer state in model.safetensors; 1.4 added
 * `weights_keep`; 1.5 `val_fraction` (identities of records without a
 * split held out for validation). */
#define TR_TRAIN_VERSION "1.5.0"
/* embed.images: 1.1.0 added loader_threads; 1.2.0 decodes JPEGs at full
 * size; 1.3.0 composites transparent images over white. */
#define TR_EMBED_VERSION "1.3.0"

extern const aigtatt_host *tr_host;
#define H tr_host

/* One image of the set and its class. */
typedef struct tr_item {
    size_t rec;      /* record index in the input set */
    char *path;      /* absolute file path */
    int64_t label;   /* class index (sorted identity order) */
} tr_item;

/* Images of one or more splits of an "images" input, with identities
 * numbered in sorted order. */
typedef struct tr_items {
    tr_item *v;
    size_t n;
    char **ids;      /* identity names, sorted; n_ids of them */
    size_t n_ids;
} tr_items;

/* Identities of the records without a split (an identity folder read by
 * image.folder) that validation takes: the rest of them train. */
typedef struct tr_holdout {
    char **ids;      /* sorted */
    size_t n;        /* held out */
    size_t of;       /* identities without a split in all */
} tr_holdout;
/* Holds out round(fraction * n) of the n identities that have no record
 * with a split (at least 2, leaving at least 2 to train on; none when
 * n < 4), chosen by `seed` independently of their order. fraction 0:
 * none. */
int tr_holdout_make(const aigtatt_set *set, double fraction, uint64_t seed, tr_holdout *out);
void tr_holdout_free(tr_holdout *h);
/* How many records of `set` have no split. */
size_t tr_unsplit_count(const aigtatt_set *set);

/* Collects the records of `set` whose split is in `splits` (a '|'-list,
 * or "all") and whose role is in `roles` (a '|'-list, or "all"). A record
 * without a split counts as split "val" when `ho` (may be NULL) holds its
 * identity and as "train" when ho holds others; else only for "all". */
int tr_items_collect(const aigtatt_set *set, const char *splits, const char *roles, const tr_holdout *ho,
                     tr_items *out);
void tr_items_free(tr_items *it);
/* Identities of b that a holds too (ids are sorted). */
size_t tr_items_shared_ids(const tr_items *a, const tr_items *b);
/* "COUNT:DIGEST" of the identity names in class order (FNV-1a, 64 bits,
 * hex): a checkpoint records it (aigtatt.identities) so that its class
 * centres are only ever taken up by a run whose classes are the same
 * identities in the same order. Not a security measure. */
void tr_items_digest(const tr_items *it, char *buf, size_t size);
/* AIGTATT_OK when `list` (parameter `param`) is "all" or a '|'-list of the
 * known roles; else an error naming the unknown word. */
int tr_roles_check(const char *param, const char *list);

/* Online augmentation: the host's op chain (train.embedding's `augment:`),
 * borrowed, and whether its order is shuffled per image. */
typedef struct tr_augment {
    const aigtatt_augment_chain *chain;
    int shuffle;
} tr_augment;

/* Loads an image and writes it as normalised CHW floats (ImageNet mean
 * and std) at h x w, resized with an antialiased bilinear (triangle)
 * filter as torchvision's Resize((h, w), antialias=True); `flip` mirrors
 * it horizontally. With `aug` (may be NULL) the decoded RGB image first
 * goes through aug->chain seeded by `aug_seed`, before the resize. */
int tr_load_chw(const char *path, int64_t h, int64_t w, int flip, const tr_augment *aug, uint64_t aug_seed,
                float *out);

/* Batches prepared ahead of compute by a loader thread. */
typedef struct tr_loader tr_loader;
typedef struct tr_batch {
    float *image;    /* batch x 3 x h x w */
    int64_t *labels; /* batch */
    size_t *index;   /* batch item indices (into the items) */
    size_t count;    /* real items (the rest repeat the last one) */
} tr_batch;

/* Starts a loader over `order` (n_order item indices, copied), in batches
 * of `batch` (the last one padded by repetition unless drop_last).
 * flip_p: probability of a horizontal flip per image; `aug` (copied; its
 * chain borrowed until tr_loader_stop; NULL: none): the op chain applied to
 * every image. Both are seeded per (seed, position in `order`), so a batch
 * depends only on the seed, never on timing or the thread. `workers`
 * threads (1..64; the loader thread is one of them) load the images of a
 * batch in parallel. */
int tr_loader_start(const tr_items *it, const size_t *order, size_t n_order, int64_t batch, int drop_last,
                    int64_t h, int64_t w, double flip_p, const tr_augment *aug, uint64_t seed, int workers,
                    tr_loader **out);
/* The next batch (borrowed until the next call), or NULL at the end; a
 * load failure returns NULL with *rc set and the error text. */
const tr_batch *tr_loader_next(tr_loader *l, int *rc);
void tr_loader_stop(tr_loader *l);

/* A building-block parameter ({use: ..., ...}); NULL for an empty mapping,
 * which means "the default block". */
const aigtatt_cfg *tr_block_cfg(const aigtatt_params *p, const char *name);
/* Names the component of block `name` to a node's uses() (for the cache
 * key); the default backend when that block is empty. */
void tr_block_use(const aigtatt_params *p, const char *name, void (*add)(void *ctx, const char *component),
                  void *ctx);

/* Embeds items[order[0..n)] with `m` (built for inference) into emb
 * (n x K rows), batch by batch through a loader of `workers` threads;
 * counts them on `prog` (may be NULL). */
int tr_embed_items(aigtatt_model *m, const tr_items *it, const size_t *order, size_t n, int64_t batch, float *emb,
                   aigtatt_progress *prog, int workers);

/* Verification EER of L2-normalised embeddings (n x k, row-major) with
 * labels: every same-label pair genuine, every other pair impostor; the
 * point where FMR and FNMR cross (their mean there). Rank-1: the share of
 * rows whose nearest other row has the same label. Both NAN without two
 * labels or genuine pairs, or with a NaN or infinite value in emb. */
void tr_eer_rank1(const float *emb, const int64_t *labels, size_t n, int64_t k, double *eer, double *rank1);

/* One epoch's line of history.csv. */
typedef struct tr_epoch_row {
    double loss, lr, ips, eer, rank1;
} tr_epoch_row;

/* Where a run stands after its last saved epoch: what a checkpoint's
 * aigtatt.progress metadata holds, so that a stopped run continues where
 * it was (rows[0..done) are the finished epochs). */
typedef struct tr_progress {
    int64_t done;       /* epochs finished and saved */
    int64_t best_epoch; /* the lowest validation EER's epoch, -1 for none */
    double best_eer;    /* INFINITY for none */
    tr_epoch_row *rows; /* `epochs` rows, owned by the caller */
} tr_progress;

/* The progress as the text of aigtatt.progress (malloc'ed; NULL: no
 * memory). Doubles are written with 17 digits, so they read back exact. */
char *tr_progress_encode(const tr_progress *pr);
/* Parses aigtatt.progress text into pr (rows must hold `epochs`); 0 when it
 * is well formed and done <= epochs, else -1 with the reason in why. */
int tr_progress_decode(const char *text, int64_t epochs, tr_progress *pr, char *why, size_t why_size);

/* Node entry points. */
int tr_train_check(const aigtatt_params *p);
int tr_train_run(aigtatt_run *run);
void tr_train_uses(const aigtatt_params *p, void (*add)(void *ctx, const char *component), void *ctx);
int tr_embed_check(const aigtatt_params *p);
int tr_embed_run(aigtatt_run *run);
void tr_embed_uses(const aigtatt_params *p, void (*add)(void *ctx, const char *component), void *ctx);

#endif
