#include "graph/records.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

#define MAX_MANIFEST_BYTES ((size_t)1 << 31)

void aigtatt_record_normalise(const aigtatt_record *in, aigtatt_record *out)
{
    memset(out, 0, sizeof *out);
    size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
    memcpy(out, in, n);
    out->struct_size = sizeof *out;
}

static void free_record(aigtatt_record *r)
{
    free((char *)r->id);
    free((char *)r->identity);
    free((char *)r->role);
    free((char *)r->path);
    free((char *)r->text);
    free((char *)r->source);
    free((char *)r->split);
    free((char *)r->meta_json);
}

void aigtatt_set_free(aigtatt_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        free_record(&set->recs[i]);
    free(set->recs);
    free(set->dir);
    free(set);
}

static int field(json_t *obj, const char *key, const char **out, const char *file, size_t line)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return AIGTATT_OK;
    if (!json_is_string(v)) {
        aigtatt_set_error("%s:%zu: field '%s' must be a string", file, line, key);
        return AIGTATT_ERR_FORMAT;
    }
    *out = strdup(json_string_value(v));
    return *out ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
}

int aigtatt_set_read(const char *dir, aigtatt_set **out)
{
    *out = NULL;
    aigtatt_set *s = calloc(1, sizeof *s);
    char *path = aigtatt_path_join(dir, AIGTATT_MANIFEST_NAME);
    char *text = NULL;
    size_t size = 0, cap = 0;
    int rc = AIGTATT_ERR_NOMEM;
    if (!s || !path)
        goto fail;
    s->dir = aigtatt_path_absolute(dir, NULL);
    if (!s->dir)
        goto fail;
    if (!aigtatt_path_exists(path)) {
        free(path);
        *out = s;
        return AIGTATT_OK;
    }
    rc = aigtatt_read_file(path, MAX_MANIFEST_BYTES, &text, &size);
    if (rc != AIGTATT_OK)
        goto fail;
    size_t line = 0;
    for (char *p = text; p < text + size;) {
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        char *end = nl ? nl : text + size;
        line++;
        if (end == p) {
            p = end + 1;
            continue;
        }
        json_error_t jerr;
        json_t *obj = json_loadb(p, (size_t)(end - p), 0, &jerr);
        if (!obj || !json_is_object(obj)) {
            aigtatt_set_error("%s:%zu: not a JSON object%s%s", path, line, obj ? "" : ": ", obj ? "" : jerr.text);
            json_decref(obj);
            rc = AIGTATT_ERR_FORMAT;
            goto fail;
        }
        if (s->n == cap) {
            cap = cap ? cap * 2 : 64;
            aigtatt_record *nr = realloc(s->recs, cap * sizeof *nr);
            if (!nr) {
                json_decref(obj);
                rc = AIGTATT_ERR_NOMEM;
                goto fail;
            }
            s->recs = nr;
        }
        aigtatt_record *r = &s->recs[s->n++];
        memset(r, 0, sizeof *r);
        r->struct_size = sizeof *r;
        rc = field(obj, "id", &r->id, path, line);
        if (!rc) rc = field(obj, "identity", &r->identity, path, line);
        if (!rc) rc = field(obj, "role", &r->role, path, line);
        if (!rc) rc = field(obj, "path", &r->path, path, line);
        if (!rc) rc = field(obj, "text", &r->text, path, line);
        if (!rc) rc = field(obj, "source", &r->source, path, line);
        if (!rc) rc = field(obj, "split", &r->split, path, line);
        json_t *meta = json_object_get(obj, "meta");
        if (!rc && meta && !json_is_null(meta)) {
            if (!json_is_object(meta)) {
                aigtatt_set_error("%s:%zu: field 'meta' must be an object", path, line);
                rc = AIGTATT_ERR_FORMAT;
            } else {
                r->meta_json = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
            }
        }
        if (!rc && !r->id) {
            aigtatt_set_error("%s:%zu: record has no 'id'", path, line);
            rc = AIGTATT_ERR_FORMAT;
        }
        json_decref(obj);
        if (rc)
            goto fail;
        p = end + 1;
    }
    free(text);
    free(path);
    *out = s;
    return AIGTATT_OK;
fail:
    free(text);
    free(path);
    aigtatt_set_free(s);
    return rc;
}

struct aigtatt_set_writer {
    char *dir;
    aigtatt_record *recs;
    size_t n, cap;
    pthread_mutex_t lock;
};

aigtatt_set_writer *aigtatt_set_writer_new(const char *dir)
{
    aigtatt_set_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->dir = strdup(dir);
    if (!w->dir) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    return w;
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

/* A manifest path must stay inside the port folder. */
static int safe_relative(const char *p)
{
    if (!*p || p[0] == '/')
        return 0;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || (len == 2 && s[0] == '.' && s[1] == '.') || (len == 1 && s[0] == '.'))
            return 0;
        s += len + (e ? 1 : 0);
    }
    return 1;
}

int aigtatt_set_writer_add(aigtatt_set_writer *w, const aigtatt_record *in)
{
    if (!in || in->struct_size < offsetof(aigtatt_record, meta_json)) {
        aigtatt_set_error("output_add: record is NULL or its struct_size is not set");
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_record r;
    aigtatt_record_normalise(in, &r);
    if (!r.id || !*r.id) {
        aigtatt_set_error("output_add: record has no id");
        return AIGTATT_ERR_INVALID;
    }
    if (r.path && !safe_relative(r.path)) {
        aigtatt_set_error("output_add: record '%s' has path '%s', which is not a relative path inside "
                          "the output folder", r.id, r.path);
        return AIGTATT_ERR_INVALID;
    }
    if (r.meta_json) {
        json_error_t jerr;
        json_t *m = json_loads(r.meta_json, 0, &jerr);
        int ok = m && json_is_object(m);
        json_decref(m);
        if (!ok) {
            aigtatt_set_error("output_add: record '%s': meta_json is not a JSON object", r.id);
            return AIGTATT_ERR_INVALID;
        }
    }
    int oom = 0;
    aigtatt_record c = {.struct_size = sizeof c};
    c.id = dup_or_null(r.id, &oom);
    c.identity = dup_or_null(r.identity, &oom);
    c.role = dup_or_null(r.role, &oom);
    c.path = dup_or_null(r.path, &oom);
    c.text = dup_or_null(r.text, &oom);
    c.source = dup_or_null(r.source, &oom);
    c.split = dup_or_null(r.split, &oom);
    c.meta_json = dup_or_null(r.meta_json, &oom);
    pthread_mutex_lock(&w->lock);
    if (!oom && w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        aigtatt_record *nr = realloc(w->recs, cap * sizeof *nr);
        if (nr) {
            w->recs = nr;
            w->cap = cap;
        } else {
            oom = 1;
        }
    }
    if (!oom)
        w->recs[w->n++] = c;
    pthread_mutex_unlock(&w->lock);
    if (oom) {
        free_record(&c);
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    return AIGTATT_OK;
}

size_t aigtatt_set_writer_count(const aigtatt_set_writer *w) { return w->n; }

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const aigtatt_record *)a)->id, ((const aigtatt_record *)b)->id);
}

static void put(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int aigtatt_set_writer_finish(aigtatt_set_writer *w)
{
    if (w->n == 0)
        return AIGTATT_OK;
    qsort(w->recs, w->n, sizeof *w->recs, cmp_id);
    aigtatt_buf b = AIGTATT_BUF_INIT;
    int rc = AIGTATT_OK;
    for (size_t i = 0; i < w->n && rc == AIGTATT_OK; i++) {
        const aigtatt_record *r = &w->recs[i];
        if (i > 0 && !strcmp(r->id, w->recs[i - 1].id)) {
            aigtatt_set_error("output: two records share the id '%s'", r->id);
            rc = AIGTATT_ERR_INVALID;
            break;
        }
        if (r->path) {
            char *full = aigtatt_path_join(w->dir, r->path);
            struct stat st;
            int ok = full && stat(full, &st) == 0 && S_ISREG(st.st_mode);
            free(full);
            if (!ok) {
                aigtatt_set_error("output: record '%s' names file '%s', which the node did not write", r->id,
                                  r->path);
                rc = AIGTATT_ERR_INVALID;
                break;
            }
        }
        json_t *o = json_object();
        put(o, "id", r->id);
        put(o, "identity", r->identity);
        put(o, "role", r->role);
        put(o, "path", r->path);
        put(o, "text", r->text);
        put(o, "source", r->source);
        put(o, "split", r->split);
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(o);
        if (!line) {
            rc = AIGTATT_ERR_NOMEM;
            break;
        }
        if (r->meta_json) {
            /* The plugin's own text (validated as an object when added), so
             * numbers keep the digits it chose; only line breaks, which JSONL
             * cannot hold, make it go through jansson again. */
            char *meta = NULL;
            if (strpbrk(r->meta_json, "\r\n")) {
                json_t *m = json_loads(r->meta_json, 0, NULL);
                meta = m ? json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
                json_decref(m);
            }
            line[strlen(line) - 1] = '\0'; /* drop the closing brace */
            aigtatt_buf_puts(&b, line);
            aigtatt_buf_puts(&b, strlen(line) > 1 ? ",\"meta\":" : "\"meta\":");
            aigtatt_buf_puts(&b, meta ? meta : r->meta_json);
            aigtatt_buf_puts(&b, "}\n");
            free(meta);
        } else {
            aigtatt_buf_puts(&b, line);
            aigtatt_buf_puts(&b, "\n");
        }
        free(line);
    }
    if (rc == AIGTATT_OK && b.failed)
        rc = AIGTATT_ERR_NOMEM;
    if (rc == AIGTATT_OK) {
        char *path = aigtatt_path_join(w->dir, AIGTATT_MANIFEST_NAME);
        rc = path ? aigtatt_write_file_atomic(path, b.data, b.len) : AIGTATT_ERR_NOMEM;
        free(path);
    }
    aigtatt_buf_free(&b);
    return rc;
}

void aigtatt_set_writer_free(aigtatt_set_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free_record(&w->recs[i]);
    free(w->recs);
    free(w->dir);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
