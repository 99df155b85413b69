/* Images for training and embedding: which records, how an image becomes
 * a normalised tensor, and a loader thread that prepares the next batch
 * while the backend computes the current one. */
#include "tr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int in_list(const char *list, const char *word)
{
    if (!strcmp(list, "all"))
        return 1;
    if (!word)
        return 0;
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, word, n))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

int tr_roles_check(const char *param, const char *list)
{
    if (!strcmp(list, "all"))
        return AIGTATT_OK;
    for (const char *p = list;;) {
        size_t len = strcspn(p, "|");
        if (!((len == 8 && !strncmp(p, "original", 8)) || (len == 7 && !strncmp(p, "cropped", 7)) ||
              (len == 9 && !strncmp(p, "variation", 9)))) {
            H->set_error("'%s' holds '%.*s' in '%s': roles are original, cropped and variation, '|'-separated "
                         "without spaces, or all", param, (int)len, p, list);
            return AIGTATT_ERR_INVALID;
        }
        if (!p[len])
            return AIGTATT_OK;
        p += len + 1;
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

size_t tr_items_shared_ids(const tr_items *a, const tr_items *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_ids; i++)
        n += a->n_ids && bsearch(&b->ids[i], a->ids, a->n_ids, sizeof *a->ids, cmp_str) != NULL;
    return n;
}

void tr_items_digest(const tr_items *it, char *buf, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < it->n_ids; i++)
        for (const unsigned char *c = (const unsigned char *)it->ids[i];; c++) {
            h = (h ^ *c) * 0x100000001b3ull; /* each name with its terminating NUL */
            if (!*c)
                break;
        }
    snprintf(buf, size, "%zu:%016llx", it->n_ids, (unsigned long long)h);
}

void tr_items_free(tr_items *it)
{
    for (size_t i = 0; i < it->n; i++)
        free(it->v[i].path);
    for (size_t i = 0; i < it->n_ids; i++)
        free(it->ids[i]);
    free(it->v);
    free(it->ids);
    memset(it, 0, sizeof *it);
}

/* The order identities are held out in: by a hash of the seed and the
 * name, so adding an identity does not reshuffle the others */
typedef struct keyed {
    uint64_t key;
    char *name;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int no_split(const aigtatt_record *r)
{
    return !r->split || !*r->split;
}

size_t tr_unsplit_count(const aigtatt_set *set)
{
    size_t n = 0;
    for (size_t i = 0; i < H->set_count(set); i++)
        n += no_split(H->set_record(set, i));
    return n;
}

void tr_holdout_free(tr_holdout *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->ids[i]);
    free(h->ids);
    memset(h, 0, sizeof *h);
}

int tr_holdout_make(const aigtatt_set *set, double fraction, uint64_t seed, tr_holdout *out)
{
    memset(out, 0, sizeof *out);
    if (!(fraction > 0))
        return AIGTATT_OK;
    size_t n = H->set_count(set), m = 0, ns = 0;
    const char **names = calloc(n ? n : 1, sizeof *names), **split = calloc(n ? n : 1, sizeof *split);
    if (!names || !split) {
        free(names);
        free(split);
        goto oom;
    }
    /* an identity that also has records with a split keeps them; its
     * unsplit records train, so it is never on both sides */
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = H->set_record(set, i);
        if (!no_split(r) && r->identity && *r->identity)
            split[ns++] = r->identity;
    }
    qsort(split, ns, sizeof *split, cmp_str);
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = H->set_record(set, i);
        if (no_split(r) && r->identity && *r->identity &&
            !bsearch(&r->identity, split, ns, sizeof *split, cmp_str))
            names[m++] = r->identity;
    }
    free(split);
    qsort(names, m, sizeof *names, cmp_str);
    keyed *k = calloc(m ? m : 1, sizeof *k);
    if (!k) {
        free(names);
        goto oom;
    }
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]))
            k[u++] = (keyed){ .key = H->seed_derive(seed, names[i], 0), .name = (char *)names[i] };
    out->of = u;
    /* validation needs two identities, training two more */
    size_t take = 0;
    if (u >= 4) {
        take = (size_t)llround(fraction * (double)u);
        take = take < 2 ? 2 : take > u - 2 ? u - 2 : take;
    }
    qsort(k, u, sizeof *k, cmp_keyed);
    out->ids = calloc(take ? take : 1, sizeof *out->ids);
    for (size_t i = 0; out->ids && i < take; i++) {
        if (!(out->ids[i] = strdup(k[i].name)))
            break;
        out->n++;
    }
    free(k);
    free(names);
    if (!out->ids || out->n < take) {
        tr_holdout_free(out);
        goto oom;
    }
    qsort(out->ids, out->n, sizeof *out->ids, cmp_str);
    return AIGTATT_OK;
oom:
    H->set_error("out of memory");
    return AIGTATT_ERR_NOMEM;
}

/* The split a record counts as: its own, or for one without a split the
 * hold-out's choice */
static const char *split_of(const aigtatt_record *r, const tr_holdout *ho)
{
    if (!no_split(r) || !ho || !ho->of)
        return r->split;
    const char *id = r->identity;
    return ho->n && bsearch(&id, ho->ids, ho->n, sizeof *ho->ids, cmp_str) ? "val" : "train";
}

int tr_items_collect(const aigtatt_set *set, const char *splits, const char *roles, const tr_holdout *ho,
                     tr_items *out)
{
    memset(out, 0, sizeof *out);
    size_t n = H->set_count(set);
    out->v = calloc(n ? n : 1, sizeof *out->v);
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!out->v || !names) {
        free(names);
        H->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = H->set_record(set, i);
        if (!r->path || !r->identity || !*r->identity || !in_list(splits, split_of(r, ho)) ||
            !in_list(roles, r->role))
            continue;
        char path[4096];
        int bad_path = H->set_path(set, i, path, sizeof path) != AIGTATT_OK;
        out->v[m].rec = i;
        out->v[m].path = bad_path ? NULL : strdup(path);
        names[m] = (char *)r->identity;
        if (!out->v[m].path) {
            /* a record left out would silently shrink the data */
            free(names);
            out->n = m;
            tr_items_free(out);
            if (bad_path)
                H->set_error("image record %zu ('%s', identity '%s'): its path does not fit in %zu bytes", i,
                             r->path, r->identity, sizeof path);
            else
                H->set_error("out of memory");
            return bad_path ? AIGTATT_ERR_INVALID : AIGTATT_ERR_NOMEM;
        }
        m++;
    }
    out->n = m;
    /* identities in sorted order, numbered 0.. */
    char **sorted = malloc((m ? m : 1) * sizeof *sorted);
    if (!sorted) {
        free(names);
        tr_items_free(out);
        H->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    memcpy(sorted, names, m * sizeof *sorted);
    qsort(sorted, m, sizeof *sorted, cmp_str);
    out->ids = calloc(m ? m : 1, sizeof *out->ids);
    for (size_t i = 0; out->ids && i < m; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1])) {
            char *id = strdup(sorted[i]);
            if (!id) {
                tr_items_free(out); /* frees and clears ids */
                break;
            }
            out->ids[out->n_ids++] = id;
        }
    for (size_t i = 0; out->ids && i < m; i++) {
        char **hit = bsearch(&names[i], out->ids, out->n_ids, sizeof *out->ids, cmp_str);
        out->v[i].label = hit ? (int64_t)(hit - out->ids) : -1;
    }
    free(sorted);
    free(names);
    if (!out->ids) {
        tr_items_free(out);
        H->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    return AIGTATT_OK;
}

/* ---- one image ------------------------------------------------------ */

/* Triangle-filter weights of a 1-D resize from `in` to `out` samples
 * (PIL's and torchvision's antialiased bilinear): for each output sample,
 * a first input index and `taps` normalised weights. */
typedef struct taps {
    int *first;
    float *w;
    int taps;
} taps;

static int taps_make(int in, int out, taps *t)
{
    double scale = (double)in / out, support = scale > 1 ? scale : 1.0;
    t->taps = (int)ceil(support) * 2 + 1;
    t->first = malloc(sizeof(int) * (size_t)out);
    t->w = calloc((size_t)out * (size_t)t->taps, sizeof(float));
    if (!t->first || !t->w)
        return -1;
    for (int o = 0; o < out; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)floor(center - support + 0.5), hi = (int)floor(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        if (hi - lo > t->taps)
            hi = lo + t->taps;
        double sum = 0;
        for (int j = lo; j < hi; j++) {
            double v = 1.0 - fabs((j - center + 0.5) / support);
            sum += v > 0 ? v : 0;
        }
        t->first[o] = lo;
        for (int j = lo; j < hi; j++) {
            double v = 1.0 - fabs((j - center + 0.5) / support);
            t->w[(size_t)o * (size_t)t->taps + (size_t)(j - lo)] = (float)(sum > 0 && v > 0 ? v / sum : 0);
        }
    }
    return 0;
}

static void taps_free(taps *t)
{
    free(t->first);
    free(t->w);
}

static const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};

int tr_load_chw(const char *path, int64_t h, int64_t w, int flip, const tr_augment *aug, uint64_t aug_seed,
                float *out)
{
    /* Decoded at full size, JPEGs too: a DCT-scaled decode is faster but
     * resamples differently from PIL/torchvision, whose preprocessing
     * pretrained weights and the seed's results assume. A transparent
     * background is composited over white, as crop and augment read it
     * (PIL's convert("RGB") would keep whatever colour it stores, often
     * black), so a design looks the same at every stage. */
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3, .over_white = 1};
    aigtatt_image *img = NULL;
    int rc = H->image_load(path, &o, &img);
    if (rc)
        return rc;
    if (aug && aug->chain) {
        /* on the decoded image, so geometric ops resample full detail and
         * the resize below antialiases what they made */
        aigtatt_image *a = NULL;
        rc = H->augment_chain_apply(aug->chain, aug->shuffle, aug_seed, img, &a, NULL);
        H->image_free(img);
        if (rc) {
            char why[1024];
            snprintf(why, sizeof why, "%s", H->last_error());
            H->set_error("%s: online augmentation: %s", path, why);
            return rc;
        }
        img = a;
        if (img->channels != 3) {
            H->set_error("%s: online augmentation returned %d channels, not RGB", path, (int)img->channels);
            H->image_free(img);
            return AIGTATT_ERR;
        }
    }
    int iw = img->width, ih = img->height;
    taps tx = {0}, ty = {0};
    /* The vertical pass is streamed: each source row, once resized
     * horizontally, is added into the output rows whose window holds it,
     * so memory is the output and one row, not a source-height buffer (a
     * 1x4000000 image needed 10.7 GB at 224x224). Each output value still
     * sums its taps in the same order, so the result is the same bits. */
    size_t plane = (size_t)h * (size_t)w;
    float *acc = calloc(plane * 3, sizeof *acc), *row = malloc(sizeof(float) * (size_t)w * 3);
    if (!acc || !row || taps_make(iw, (int)w, &tx) || taps_make(ih, (int)h, &ty)) {
        free(acc);
        free(row);
        taps_free(&tx);
        taps_free(&ty);
        H->image_free(img);
        H->set_error("%s: out of memory resizing %dx%d to %lldx%lld", path, iw, ih, (long long)w, (long long)h);
        return AIGTATT_ERR_NOMEM;
    }
    int64_t ylo = 0; /* the first output row whose window has not ended */
    for (int r = 0; r < ih; r++) {
        /* horizontal pass: source row r (uint8 RGB) -> float RGB at width w */
        const uint8_t *src = img->data + (size_t)r * img->stride;
        for (int64_t x = 0; x < w; x++) {
            const float *wt = tx.w + (size_t)x * (size_t)tx.taps;
            int f = tx.first[x];
            float a[3] = {0, 0, 0};
            for (int k = 0; k < tx.taps && f + k < iw; k++)
                for (int c = 0; c < 3; c++)
                    a[c] += wt[k] * (float)src[(size_t)(f + k) * 3 + (size_t)c];
            int64_t xo = flip ? w - 1 - x : x;
            for (int c = 0; c < 3; c++)
                row[(size_t)xo * 3 + (size_t)c] = a[c];
        }
        /* vertical pass: tap r - first[y] of every output row y whose
         * window [first[y], first[y] + taps) holds r (first[] only grows) */
        while (ylo < h && ty.first[ylo] + ty.taps <= r)
            ylo++;
        for (int64_t y = ylo; y < h && ty.first[y] <= r; y++) {
            float wk = ty.w[(size_t)y * (size_t)ty.taps + (size_t)(r - ty.first[y])];
            float *d = acc + (size_t)y * (size_t)w * 3;
            for (size_t i = 0; i < (size_t)w * 3; i++)
                d[i] += wk * row[i];
        }
    }
    /* into CHW, normalised */
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                out[(size_t)c * plane + (size_t)y * (size_t)w + (size_t)x] =
                    (acc[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] / 255.0f - mean[c]) / stdv[c];
    free(acc);
    free(row);
    taps_free(&tx);
    taps_free(&ty);
    H->image_free(img);
    return AIGTATT_OK;
}

/* ---- the loader thread ------------------------------------------------ */

#define TR_SLOTS 2
#define TR_MAX_WORKERS 64

struct tr_loader {
    const tr_items *it;
    size_t *order, n_order;
    int64_t batch, h, w;
    size_t n_batches;
    double flip_p;
    int workers; /* threads that load one batch (the loader thread among them) */
    tr_augment aug;
    uint64_t seed;
    tr_batch slot[TR_SLOTS];
    int filled[TR_SLOTS];
    int rc[TR_SLOTS];
    char err[TR_SLOTS][1024];
    size_t consumed;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started;
};

/* One image of a batch, at dataset position pos: decoded, augmented,
 * resized and normalised into dst. The flip and the chain are seeded by
 * the position alone, so which worker loads it does not matter. */
static int load_one(tr_loader *l, size_t pos, size_t idx, float *dst)
{
    int flip = 0;
    if (l->flip_p > 0) {
        aigtatt_rng *r = H->rng_new(H->seed_derive(l->seed, "flip", (uint64_t)pos));
        flip = r && H->rng_uniform(r) < l->flip_p;
        H->rng_free(r);
    }
    uint64_t aug_seed = l->aug.chain ? H->seed_derive(l->seed, "ops", (uint64_t)pos) : 0;
    return tr_load_chw(l->it->v[idx].path, l->h, l->w, flip, l->aug.chain ? &l->aug : NULL, aug_seed, dst);
}

/* The images i = t, t + nt, ... of batch b (padding repeats are copied
 * after all workers are done). */
typedef struct fill_job {
    tr_loader *l;
    tr_batch *s;
    size_t start;
    int t, nt;
    int rc;
    int64_t bad; /* the failing image's place in the batch */
    char err[1024];
} fill_job;

static void *fill_worker(void *arg)
{
    fill_job *j = arg;
    tr_loader *l = j->l;
    size_t per = (size_t)3 * (size_t)l->h * (size_t)l->w;
    for (int64_t i = j->t; i < l->batch; i += j->nt) {
        size_t pos = j->start + (size_t)i;
        if (pos >= l->n_order && i > 0)
            continue;
        if (pos >= l->n_order)
            pos = l->n_order - 1;
        /* Ctrl-C stops between images, not after a whole batch of large
         * ones */
        int rc;
        if (H->cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            H->set_error("cancelled");
        } else {
            rc = load_one(l, pos, j->s->index[i], j->s->image + (size_t)i * per);
        }
        if (rc) {
            j->rc = rc;
            j->bad = i;
            /* the error text is per thread: copy it here */
            snprintf(j->err, sizeof j->err, "%s", H->last_error());
            break;
        }
    }
    return NULL;
}

static int fill(tr_loader *l, size_t b, tr_batch *s, char *err, size_t errsz)
{
    size_t start = b * (size_t)l->batch;
    size_t per = (size_t)3 * (size_t)l->h * (size_t)l->w;
    s->count = 0;
    for (int64_t i = 0; i < l->batch; i++) {
        size_t pos = start + (size_t)i;
        int real = pos < l->n_order;
        if (!real)
            pos = l->n_order - 1; /* pad the last batch by repeating its last image */
        s->count += real;
        s->index[i] = l->order[pos];
        s->labels[i] = l->it->v[s->index[i]].label;
    }
    int nt = l->workers < 1 ? 1 : l->workers;
    if (nt > l->batch)
        nt = (int)l->batch;
    fill_job jobs[TR_MAX_WORKERS];
    pthread_t th[TR_MAX_WORKERS];
    int started[TR_MAX_WORKERS] = {0};
    for (int t = 0; t < nt; t++)
        jobs[t] = (fill_job){.l = l, .s = s, .start = start, .t = t, .nt = nt, .rc = AIGTATT_OK, .bad = -1};
    for (int t = 1; t < nt; t++)
        started[t] = pthread_create(&th[t], NULL, fill_worker, &jobs[t]) == 0;
    fill_worker(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else /* no thread: do its share here */
            fill_worker(&jobs[t]);
    }
    /* the first failing image in batch order, whichever worker met it */
    const fill_job *f = NULL;
    for (int t = 0; t < nt; t++)
        if (jobs[t].rc && (!f || jobs[t].bad < f->bad))
            f = &jobs[t];
    if (f) {
        snprintf(err, errsz, "%s", f->err);
        return f->rc;
    }
    for (int64_t i = 1; i < l->batch; i++)
        if (start + (size_t)i >= l->n_order)
            memcpy(s->image + (size_t)i * per, s->image + (size_t)(i - 1) * per, per * sizeof(float));
    return AIGTATT_OK;
}

static void *loader_main(void *arg)
{
    tr_loader *l = arg;
    for (size_t b = 0; b < l->n_batches; b++) {
        int s = (int)(b % TR_SLOTS);
        pthread_mutex_lock(&l->mu);
        /* a slot is free once the consumer has handed it back */
        while (!l->stop && l->filled[s])
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        pthread_mutex_unlock(&l->mu);
        int rc = fill(l, b, &l->slot[s], l->err[s], sizeof l->err[s]);
        pthread_mutex_lock(&l->mu);
        l->rc[s] = rc;
        l->filled[s] = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        if (rc)
            break;
    }
    return NULL;
}

int tr_loader_start(const tr_items *it, const size_t *order, size_t n_order, int64_t batch, int drop_last,
                    int64_t h, int64_t w, double flip_p, const tr_augment *aug, uint64_t seed, int workers,
                    tr_loader **out)
{
    *out = NULL;
    tr_loader *l = calloc(1, sizeof *l);
    if (!l)
        goto oom;
    l->it = it;
    l->n_order = n_order;
    l->batch = batch;
    l->h = h;
    l->w = w;
    l->flip_p = flip_p;
    l->workers = workers < 1 ? 1 : workers > TR_MAX_WORKERS ? TR_MAX_WORKERS : workers;
    if (aug)
        l->aug = *aug;
    l->seed = seed;
    l->n_batches = drop_last ? n_order / (size_t)batch : (n_order + (size_t)batch - 1) / (size_t)batch;
    l->order = malloc((n_order ? n_order : 1) * sizeof *l->order);
    if (!l->order)
        goto oom;
    memcpy(l->order, order, n_order * sizeof *order);
    size_t per = (size_t)3 * (size_t)h * (size_t)w * (size_t)batch;
    for (int s = 0; s < TR_SLOTS; s++) {
        l->slot[s].image = malloc(per * sizeof(float));
        l->slot[s].labels = malloc((size_t)batch * sizeof(int64_t));
        l->slot[s].index = malloc((size_t)batch * sizeof(size_t));
        if (!l->slot[s].image || !l->slot[s].labels || !l->slot[s].index)
            goto oom;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, loader_main, l)) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        goto oom;
    }
    l->started = 1;
    *out = l;
    return AIGTATT_OK;
oom:
    if (l) {
        for (int s = 0; s < TR_SLOTS; s++) {
            free(l->slot[s].image);
            free(l->slot[s].labels);
            free(l->slot[s].index);
        }
        free(l->order);
        free(l);
    }
    H->set_error("out of memory starting the data loader");
    return AIGTATT_ERR_NOMEM;
}

const tr_batch *tr_loader_next(tr_loader *l, int *rc)
{
    *rc = AIGTATT_OK;
    pthread_mutex_lock(&l->mu);
    if (l->consumed > 0) {
        /* the previous batch is handed back */
        l->filled[(l->consumed - 1) % TR_SLOTS] = 0;
        pthread_cond_broadcast(&l->cv);
    }
    if (l->consumed >= l->n_batches) {
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    int s = (int)(l->consumed % TR_SLOTS);
    while (!l->filled[s])
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    if (l->rc[s]) {
        *rc = l->rc[s];
        H->set_error("%s", l->err[s]);
        return NULL;
    }
    l->consumed++;
    return &l->slot[s];
}

void tr_loader_stop(tr_loader *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->started)
        pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    for (int s = 0; s < TR_SLOTS; s++) {
        free(l->slot[s].image);
        free(l->slot[s].labels);
        free(l->slot[s].index);
    }
    free(l->order);
    free(l);
}

/* ---- what the two nodes share ------------------------------------------ */

const aigtatt_cfg *tr_block_cfg(const aigtatt_params *p, const char *name)
{
    const aigtatt_cfg *c = H->param_cfg(p, name);
    if (c && H->cfg_type(c) == AIGTATT_CFG_MAP && H->cfg_len(c) == 0)
        return NULL;
    return c;
}

void tr_block_use(const aigtatt_params *p, const char *name, void (*add)(void *ctx, const char *component),
                  void *ctx)
{
    const aigtatt_cfg *c = tr_block_cfg(p, name);
    const char *u = c ? H->cfg_scalar(H->cfg_get(c, "use")) : NULL;
    if (u && *u)
        add(ctx, u);
    else if (!c && !strcmp(name, "backend"))
        add(ctx, H->find_component(AIGTATT_KIND_BACKEND, "backend.onednn") ? "backend.onednn" : "backend.reference");
}

int tr_embed_items(aigtatt_model *m, const tr_items *it, const size_t *order, size_t n, int64_t batch, float *emb,
                   aigtatt_progress *prog, int workers)
{
    int64_t k = H->model->embedding_size(m), h = 0, w = 0;
    H->model->input_size(m, &h, &w);
    float *out = malloc(sizeof(float) * (size_t)batch * (size_t)k);
    if (!out) {
        H->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    tr_loader *l = NULL;
    int rc = tr_loader_start(it, order, n, batch, 0, h, w, 0, NULL, 0, workers, &l);
    if (rc) {
        free(out);
        return rc;
    }
    const size_t img_bytes = sizeof(float) * (size_t)batch * 3 * (size_t)h * (size_t)w;
    size_t done = 0;
    const tr_batch *b;
    while ((b = tr_loader_next(l, &rc))) {
        if ((rc = H->model->set_input(m, "image", b->image, img_bytes)) || (rc = H->model->run(m)) ||
            (rc = H->model->get_output(m, "embedding", out, sizeof(float) * (size_t)batch * (size_t)k)))
            break;
        /* the padding rows of the last batch are dropped */
        memcpy(emb + done * (size_t)k, out, sizeof(float) * b->count * (size_t)k);
        done += b->count;
        if (prog)
            H->progress_add(prog, b->count, 0);
        if (H->cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            break;
        }
    }
    free(out);
    tr_loader_stop(l);
    return rc;
}
