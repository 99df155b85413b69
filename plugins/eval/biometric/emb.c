/* Embedding sets: ownership, the checks every protocol relies on, label
 * indexing and normalisation. */
#include "emb.h"

#include <aigtatt/types.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *bm_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int bm_alloc_rows(bm_emb *e, size_t n, char *err)
{
    e->n = n;
    e->id = calloc(n, sizeof *e->id);
    e->path = calloc(n, sizeof *e->path);
    e->label = calloc(n, sizeof *e->label);
    e->source = calloc(n, sizeof *e->source);
    e->role = calloc(n, sizeof *e->role);
    if (!e->id || !e->path || !e->label || !e->source || !e->role) {
        snprintf(err, BM_ERRLEN, "out of memory for %zu rows", n);
        return AIGTATT_ERR_NOMEM;
    }
    return AIGTATT_OK;
}

static void free_strs(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void bm_emb_free(bm_emb *e)
{
    if (!e)
        return;
    free(e->x);
    free_strs(e->id, e->n);
    free_strs(e->path, e->n);
    free_strs(e->label, e->n);
    free_strs(e->source, e->n);
    free_strs(e->role, e->n);
    free(e->lab);
    free(e->label_names);
    memset(e, 0, sizeof *e);
}

int bm_emb_labels_from_folders(bm_emb *e, char *err)
{
    for (size_t i = 0; i < e->n; i++) {
        const char *p = e->path[i];
        const char *slash = p ? strrchr(p, '/') : NULL;
        if (!slash || slash == p) {
            snprintf(err, BM_ERRLEN, "row %zu: the path '%s' has no parent folder to name its "
                     "identity (expected <identity>/<file>)", i + 1, p ? p : "");
            return AIGTATT_ERR_INVALID;
        }
        const char *start = slash - 1;
        while (start > p && start[-1] != '/')
            start--;
        size_t len = (size_t)(slash - start);
        char *l = malloc(len + 1);
        if (!l)
            return AIGTATT_ERR_NOMEM;
        memcpy(l, start, len);
        l[len] = 0;
        free(e->label[i]);
        e->label[i] = l;
    }
    return AIGTATT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Dense label indices in sorted-name order, so that numbering never
 * depends on row order. */
static int index_labels(bm_emb *e, char *err)
{
    char **s = malloc(e->n * sizeof *s);
    e->lab = malloc(e->n * sizeof *e->lab);
    if (!s || !e->lab) {
        free(s);
        snprintf(err, BM_ERRLEN, "out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    memcpy(s, e->label, e->n * sizeof *s);
    qsort(s, e->n, sizeof *s, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < e->n; i++)
        if (u == 0 || strcmp(s[i], s[u - 1]) != 0)
            s[u++] = s[i];
    e->n_labels = u;
    e->label_names = s;
    for (size_t i = 0; i < e->n; i++) {
        char **hit = bsearch(&e->label[i], s, u, sizeof *s, cmp_str);
        e->lab[i] = (int32_t)(hit - s);
    }
    return AIGTATT_OK;
}

int bm_emb_finish(bm_emb *e, const char *what, char *err)
{
    if (e->n == 0 || e->d == 0 || !e->x) {
        snprintf(err, BM_ERRLEN, "%s: no embeddings (the set is empty)", what);
        return AIGTATT_ERR_INVALID;
    }
    for (size_t i = 0; i < e->n; i++) {
        const char *name = e->path[i] ? e->path[i] : "";
        if (!e->label[i] || !*e->label[i]) {
            snprintf(err, BM_ERRLEN, "%s: row %zu (%s) has no identity label", what, i + 1, name);
            return AIGTATT_ERR_INVALID;
        }
        double ss = 0;
        for (size_t j = 0; j < e->d; j++) {
            float v = e->x[i * e->d + j];
            if (!isfinite(v)) {
                snprintf(err, BM_ERRLEN, "%s: row %zu (%s), dimension %zu is %s; embeddings must be "
                         "finite", what, i + 1, name, j + 1, isnan(v) ? "NaN" : "infinite");
                return AIGTATT_ERR_INVALID;
            }
            ss += (double)v * v;
        }
        if (ss == 0) {
            snprintf(err, BM_ERRLEN, "%s: row %zu (%s) is all zeros; a cosine similarity needs a "
                     "non-zero vector", what, i + 1, name);
            return AIGTATT_ERR_INVALID;
        }
        if (!e->id[i]) {
            char buf[32];
            snprintf(buf, sizeof buf, "row%zu", i + 1);
            e->id[i] = bm_strdup(e->path[i] ? e->path[i] : buf);
            if (!e->id[i])
                return AIGTATT_ERR_NOMEM;
        }
    }
    return index_labels(e, err);
}

void bm_emb_normalise(bm_emb *e)
{
    for (size_t i = 0; i < e->n; i++) {
        float *r = e->x + i * e->d;
        double ss = 0;
        for (size_t j = 0; j < e->d; j++)
            ss += (double)r[j] * r[j];
        double inv = 1.0 / sqrt(ss);
        for (size_t j = 0; j < e->d; j++)
            r[j] = (float)(r[j] * inv);
    }
}

size_t *bm_emb_label_counts(const bm_emb *e)
{
    size_t *c = calloc(e->n_labels ? e->n_labels : 1, sizeof *c);
    if (c)
        for (size_t i = 0; i < e->n; i++)
            c[e->lab[i]]++;
    return c;
}

void bm_groups_free(bm_groups *g)
{
    free(g->start);
    free(g->rows);
    g->start = g->rows = NULL;
}

typedef struct row_key {
    int32_t lab;
    const char *id;
    size_t row;
} row_key;

static int cmp_row_key(const void *x, const void *y)
{
    const row_key *a = x, *b = y;
    if (a->lab != b->lab)
        return a->lab < b->lab ? -1 : 1;
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    return (a->row > b->row) - (a->row < b->row);
}

int bm_emb_groups(const bm_emb *e, bm_groups *g)
{
    g->start = calloc(e->n_labels + 1, sizeof *g->start);
    g->rows = malloc((e->n ? e->n : 1) * sizeof *g->rows);
    row_key *k = malloc((e->n ? e->n : 1) * sizeof *k);
    if (!g->start || !g->rows || !k) {
        free(k);
        bm_groups_free(g);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < e->n; i++) {
        k[i] = (row_key){e->lab[i], e->id[i] ? e->id[i] : "", i};
        g->start[e->lab[i] + 1]++;
    }
    for (size_t l = 0; l < e->n_labels; l++)
        g->start[l + 1] += g->start[l];
    /* Sorted by label first, the keys fall into place group by group. */
    qsort(k, e->n, sizeof *k, cmp_row_key);
    for (size_t i = 0; i < e->n; i++)
        g->rows[i] = k[i].row;
    free(k);
    return AIGTATT_OK;
}
