/* Embeddings and labels as CSV text. Fields may be double-quoted (with ""
 * for a quote) so that paths can hold commas; a tab-separated file works
 * too. Every error names file:line. */
#include "emb.h"

#include <aigtatt/types.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fields {
    char **v;
    size_t n, cap;
} fields;

/* Splits `line` in place (quotes removed). Returns 0, or -1 on an
 * unterminated quote, -2 without memory. */
static int split(char *line, char sep, fields *f)
{
    f->n = 0;
    char *p = line;
    for (;;) {
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 64;
            char **v = realloc(f->v, cap * sizeof *v);
            if (!v)
                return -2;
            f->v = v;
            f->cap = cap;
        }
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != sep)
                p++; /* text after a closing quote is ignored */
        } else {
            while (*p && *p != sep)
                *out++ = *p++;
        }
        char end = *p;
        *out = 0;
        f->v[f->n++] = start;
        if (!end)
            return 0;
        p++;
    }
}

static char *chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    if (!strncmp(s, "\xEF\xBB\xBF", 3))
        return s + 3;
    return s;
}

static int is_number(const char *s)
{
    char *end;
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end == 0;
}

/* The first row is a header when its third field is not a number, or,
 * since pandas names feature columns 0, 1, ..., when its first field is
 * "path" (as the label files' header) or its second "label" or
 * "identity". */
static int is_header(const fields *f)
{
    return !is_number(f->v[2]) || !strcmp(f->v[0], "path") || !strcmp(f->v[1], "label") ||
           !strcmp(f->v[1], "identity");
}

/* A tab in the first row means tab-separated (paths may hold commas, and
 * CSV rarely holds tabs). */
static char detect_sep(const char *line)
{
    return strchr(line, '\t') ? '\t' : ',';
}

typedef struct growing {
    float *x;
    size_t n, cap_rows, d;
    char **path, **label;
} growing;

static int grow(growing *g)
{
    size_t cap = g->cap_rows ? g->cap_rows * 2 : 1024;
    float *x = realloc(g->x, cap * g->d * sizeof *x);
    if (!x)
        return -1;
    g->x = x;
    char **p = realloc(g->path, cap * sizeof *p);
    if (!p)
        return -1;
    g->path = p;
    char **l = realloc(g->label, cap * sizeof *l);
    if (!l)
        return -1;
    g->label = l;
    g->cap_rows = cap;
    return 0;
}

int bm_emb_read_csv(const char *file, bm_emb *e, char *err)
{
    memset(e, 0, sizeof *e);
    FILE *fp = fopen(file, "r");
    if (!fp) {
        snprintf(err, BM_ERRLEN, "%s: cannot open: %s", file, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    growing g = {0};
    fields f = {0};
    char *buf = NULL;
    size_t cap = 0, lineno = 0, d_line = 0;
    char sep = 0;
    int rc = AIGTATT_OK;
    while (getline(&buf, &cap, fp) >= 0) {
        lineno++;
        char *line = chomp(buf);
        if (!*line || *line == '#')
            continue;
        if (!sep)
            sep = detect_sep(line);
        int s = split(line, sep, &f);
        if (s == -2) {
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        if (s == -1) {
            snprintf(err, BM_ERRLEN, "%s:%zu: unterminated quoted field", file, lineno);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (f.n < 3) {
            snprintf(err, BM_ERRLEN, "%s:%zu: %zu column(s); expected path,label,f1,...,fd", file,
                     lineno, f.n);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (g.n == 0 && !g.d && is_header(&f))
            continue; /* the header row */
        size_t d = f.n - 2;
        if (!g.d) {
            g.d = d;
            d_line = lineno;
        } else if (d != g.d) {
            snprintf(err, BM_ERRLEN, "%s:%zu: %zu features, but line %zu has %zu; every embedding "
                     "must have the same dimension", file, lineno, d, d_line, g.d);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (g.n == g.cap_rows && grow(&g)) {
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        for (size_t j = 0; j < d; j++) {
            const char *t = f.v[j + 2];
            char *end;
            errno = 0;
            double v = strtod(t, &end);
            while (*end == ' ')
                end++;
            if (end == t || *end) {
                snprintf(err, BM_ERRLEN, "%s:%zu: feature %zu ('%.40s') is not a number", file,
                         lineno, j + 1, t);
                rc = AIGTATT_ERR_FORMAT;
                break;
            }
            if (!isfinite(v) || !isfinite((float)v)) {
                snprintf(err, BM_ERRLEN, "%s:%zu: feature %zu is %s; embeddings must be finite",
                         file, lineno, j + 1, isnan(v) ? "NaN" : "infinite or beyond float range");
                rc = AIGTATT_ERR_FORMAT;
                break;
            }
            g.x[g.n * g.d + j] = (float)v;
        }
        if (rc)
            break;
        g.path[g.n] = bm_strdup(f.v[0]);
        g.label[g.n] = bm_strdup(f.v[1]);
        g.n++;
        if (!g.path[g.n - 1] || !g.label[g.n - 1]) {
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
    }
    fclose(fp);
    free(buf);
    free(f.v);
    if (rc == AIGTATT_ERR_NOMEM)
        snprintf(err, BM_ERRLEN, "%s: out of memory after %zu rows", file, g.n);
    if (!rc && g.n == 0) {
        snprintf(err, BM_ERRLEN, "%s: no embedding rows", file);
        rc = AIGTATT_ERR_INVALID;
    }
    if (!rc)
        rc = bm_alloc_rows(e, g.n, err);
    if (!rc) {
        e->d = g.d;
        e->x = g.x;
        g.x = NULL;
        for (size_t i = 0; i < g.n; i++) {
            e->path[i] = g.path[i];
            e->label[i] = g.label[i];
        }
    } else {
        for (size_t i = 0; i < g.n; i++) {
            free(g.path[i]);
            free(g.label[i]);
        }
        bm_emb_free(e);
    }
    free(g.x);
    free(g.path);
    free(g.label);
    return rc;
}

int bm_emb_read_labels(const char *file, bm_emb *e, char *err)
{
    FILE *fp = fopen(file, "r");
    if (!fp) {
        snprintf(err, BM_ERRLEN, "%s: cannot open the label file: %s", file, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    fields f = {0};
    char *buf = NULL;
    size_t cap = 0, lineno = 0, row = 0, width = 0;
    char sep = 0;
    int rc = AIGTATT_OK;
    while (rc == AIGTATT_OK && getline(&buf, &cap, fp) >= 0) {
        lineno++;
        char *line = chomp(buf);
        if (!*line || *line == '#')
            continue;
        if (!sep)
            sep = detect_sep(line);
        int s = split(line, sep, &f);
        if (s) {
            snprintf(err, BM_ERRLEN, "%s:%zu: %s", file, lineno,
                     s == -1 ? "unterminated quoted field" : "out of memory");
            rc = s == -1 ? AIGTATT_ERR_FORMAT : AIGTATT_ERR_NOMEM;
            break;
        }
        if (row == 0 && !width && !strcmp(f.v[0], "path"))
            continue; /* header */
        if (!width)
            width = f.n;
        if (f.n != width || f.n > 4) {
            snprintf(err, BM_ERRLEN, "%s:%zu: %zu columns; expected %s", file, lineno, f.n,
                     width == 1 ? "1 (label)" : "the same as the first row: path,label[,source[,role]]");
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (row >= e->n) {
            row++;
            continue; /* counted for the message below */
        }
        const char *label = f.n == 1 ? f.v[0] : f.v[1];
        if (!*label) {
            snprintf(err, BM_ERRLEN, "%s:%zu: empty identity label", file, lineno);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        free(e->label[row]);
        e->label[row] = bm_strdup(label);
        if (f.n >= 2) {
            free(e->path[row]);
            e->path[row] = bm_strdup(f.v[0]);
        }
        if (f.n >= 3 && *f.v[2])
            e->source[row] = bm_strdup(f.v[2]);
        if (f.n >= 4 && *f.v[3])
            e->role[row] = bm_strdup(f.v[3]);
        row++;
    }
    fclose(fp);
    free(buf);
    free(f.v);
    if (!rc && row != e->n) {
        snprintf(err, BM_ERRLEN, "%s: %zu label rows, but the embeddings have %zu rows; the label "
                 "file must have one line per embedding, in the same order", file, row, e->n);
        rc = AIGTATT_ERR_INVALID;
    }
    return rc;
}
