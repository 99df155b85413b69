/* safetensors writer. Produces the bytes of the reference's serializer
 * (safetensors/src/tensor.rs, prepare() and serialize_to_file()):
 *   - tensors sorted by dtype, descending in the reference's Dtype
 *     declaration order (its derived Ord), then by name byte-wise ascending;
 *   - data offsets assigned in that order, back to back from 0;
 *   - the header is serde_json::to_string of the Metadata: compact, with
 *     "__metadata__" first (when present), then each tensor as
 *     {"dtype":..,"shape":[..],"data_offsets":[b,e]}; strings escaped as
 *     serde_json does ('"', '\\', \b \t \n \f \r, other control characters
 *     as \u00XX with lowercase hex, everything else raw UTF-8);
 *   - padded with spaces to a multiple of 8 bytes, that length in the first
 *     8 bytes (little-endian).
 * Only the order of "__metadata__" keys differs: serde writes a Rust
 * HashMap in hash order; we sort the keys byte-wise.
 * The file is written to a temporary name in the destination folder,
 * fsynced, renamed into place and the folder fsynced. */
#include "tensor/st_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

typedef struct wt {
    char *name;
    aigtatt_st_dtype dtype;
    size_t ndim;
    uint64_t *shape;
    const void *data; /* borrowed or == owned */
    void *owned;
    size_t nbytes;
} wt;

typedef struct wmeta {
    char *key, *val;
} wmeta;

struct aigtatt_st_writer {
    wt *t;
    size_t n, cap;
    wmeta *meta;
    size_t n_meta, cap_meta;
};

aigtatt_st_writer *aigtatt_st_writer_new(void)
{
    aigtatt_st_writer *w = calloc(1, sizeof *w);
    if (!w)
        aigtatt_set_error("st_writer_new: out of memory");
    return w;
}

static void free_wt(wt *t)
{
    free(t->name);
    free(t->shape);
    free(t->owned);
}

void aigtatt_st_writer_free(aigtatt_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free_wt(&w->t[i]);
    free(w->t);
    for (size_t i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].val);
    }
    free(w->meta);
    free(w);
}

static int is_utf8(const char *s)
{
    size_t n = strlen(s);
    return aigtatt_sti_utf8_prefix((const unsigned char *)s, n) == n;
}

int aigtatt_st_writer_add(aigtatt_st_writer *w, const char *name, aigtatt_st_dtype dtype,
                          size_t ndim, const uint64_t *shape, const void *data, size_t nbytes,
                          unsigned flags)
{
    char q[ST_QUOTE_SIZE];
    if (!w || !name) {
        aigtatt_set_error("st_writer_add: NULL %s", w ? "name" : "writer");
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_sti_quote(name, q, sizeof q);
    if (!name[0] || !is_utf8(name) || strcmp(name, "__metadata__") == 0) {
        aigtatt_set_error("st_writer_add: tensor name %s is %s", q,
                          !name[0] ? "empty"
                          : strcmp(name, "__metadata__") == 0 ? "reserved"
                                                              : "not valid UTF-8");
        return AIGTATT_ERR_INVALID;
    }
    if (flags & ~AIGTATT_ST_BORROW) {
        aigtatt_set_error("st_writer_add: tensor %s: unknown flags 0x%x", q, flags);
        return AIGTATT_ERR_INVALID;
    }
    if (!aigtatt_st_dtype_name(dtype)) {
        aigtatt_set_error("st_writer_add: tensor %s: unknown dtype %d", q, (int)dtype);
        return AIGTATT_ERR_INVALID;
    }
    if (ndim && !shape) {
        aigtatt_set_error("st_writer_add: tensor %s: NULL shape with %zu dimensions", q, ndim);
        return AIGTATT_ERR_INVALID;
    }
    for (size_t d = 0; d < ndim; d++)
        if (shape[d] > (uint64_t)INT64_MAX) {
            aigtatt_set_error("st_writer_add: tensor %s: dimension %zu is %" PRIu64
                              ", past the largest readable size 2^63 - 1",
                              q, d, shape[d]);
            return AIGTATT_ERR_INVALID;
        }
    uint64_t numel = 0, bytes = 0;
    int rc = aigtatt_sti_byte_size(dtype, ndim, shape, &numel, &bytes);
    if (rc != 0) {
        aigtatt_set_error("st_writer_add: tensor %s: %s", q,
                          rc == 1 ? "the shape's element count or byte size overflows 64 bits"
                                  : "its elements do not fill a whole number of bytes");
        return AIGTATT_ERR_INVALID;
    }
    if (bytes != (uint64_t)nbytes) {
        aigtatt_set_error("st_writer_add: tensor %s: %zu bytes given, but %" PRIu64
                          " elements of %s need %" PRIu64,
                          q, nbytes, numel, aigtatt_st_dtype_name(dtype), bytes);
        return AIGTATT_ERR_INVALID;
    }
    if (nbytes && !data) {
        aigtatt_set_error("st_writer_add: tensor %s: NULL data for %zu bytes", q, nbytes);
        return AIGTATT_ERR_INVALID;
    }
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0) {
            aigtatt_set_error("st_writer_add: tensor %s was already added", q);
            return AIGTATT_ERR_INVALID;
        }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        wt *t = realloc(w->t, cap * sizeof *t);
        if (!t)
            goto nomem;
        w->t = t;
        w->cap = cap;
    }
    wt t = {0};
    t.name = strdup(name);
    t.dtype = dtype;
    t.ndim = ndim;
    t.nbytes = nbytes;
    if (!t.name)
        goto nomem_t;
    if (ndim) {
        t.shape = malloc(ndim * sizeof *t.shape);
        if (!t.shape)
            goto nomem_t;
        memcpy(t.shape, shape, ndim * sizeof *t.shape);
    }
    if (flags & AIGTATT_ST_BORROW) {
        t.data = data;
    } else if (nbytes) {
        t.owned = malloc(nbytes);
        if (!t.owned)
            goto nomem_t;
        memcpy(t.owned, data, nbytes);
        t.data = t.owned;
    }
    w->t[w->n++] = t;
    return AIGTATT_OK;
nomem_t:
    free_wt(&t);
nomem:
    aigtatt_set_error("st_writer_add: tensor %s: out of memory", q);
    return AIGTATT_ERR_NOMEM;
}

int aigtatt_st_writer_meta(aigtatt_st_writer *w, const char *key, const char *value)
{
    if (!w || !key || !value) {
        aigtatt_set_error("st_writer_meta: NULL %s", !w ? "writer" : !key ? "key" : "value");
        return AIGTATT_ERR_INVALID;
    }
    if (!is_utf8(key) || !is_utf8(value)) {
        char q[ST_QUOTE_SIZE];
        aigtatt_set_error("st_writer_meta: the %s of metadata key %s is not valid UTF-8",
                          is_utf8(key) ? "value" : "name", aigtatt_sti_quote(key, q, sizeof q));
        return AIGTATT_ERR_INVALID;
    }
    char *v = strdup(value);
    if (!v)
        goto nomem;
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].val);
            w->meta[i].val = v;
            return AIGTATT_OK;
        }
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? w->cap_meta * 2 : 8;
        wmeta *m = realloc(w->meta, cap * sizeof *m);
        if (!m) {
            free(v);
            goto nomem;
        }
        w->meta = m;
        w->cap_meta = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(v);
        goto nomem;
    }
    w->meta[w->n_meta].key = k;
    w->meta[w->n_meta].val = v;
    w->n_meta++;
    return AIGTATT_OK;
nomem:
    aigtatt_set_error("st_writer_meta: out of memory");
    return AIGTATT_ERR_NOMEM;
}

/* ---- header ----------------------------------------------------------- */

static void json_str(aigtatt_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    aigtatt_buf_append(b, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char u[7];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (*p < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[*p >> 4];
                u[5] = hex[*p & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            aigtatt_buf_append(b, run, (size_t)((const char *)p - run));
            aigtatt_buf_puts(b, esc);
            run = (const char *)p + 1;
        }
    }
    aigtatt_buf_puts(b, run);
    aigtatt_buf_append(b, "\"", 1);
}

static int cmp_wt(const void *a, const void *b)
{
    const wt *x = *(const wt *const *)a, *y = *(const wt *const *)b;
    int rx = aigtatt_sti_dtype_rank(x->dtype), ry = aigtatt_sti_dtype_rank(y->dtype);
    if (rx != ry)
        return rx > ry ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_wmeta(const void *a, const void *b)
{
    return strcmp(((const wmeta *)a)->key, ((const wmeta *)b)->key);
}

/* The header (padded) and the tensors in file order. */
static int build_header(const aigtatt_st_writer *w, const char *path, aigtatt_buf *h,
                        const wt ***order_out, uint64_t *data_len)
{
    const wt **order = malloc((w->n ? w->n : 1) * sizeof *order);
    wmeta *meta = malloc((w->n_meta ? w->n_meta : 1) * sizeof *meta);
    if (!order || !meta) {
        free(order);
        free(meta);
        aigtatt_set_error("%s: out of memory", path);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < w->n; i++)
        order[i] = &w->t[i];
    qsort(order, w->n, sizeof *order, cmp_wt);
    if (w->n_meta)
        memcpy(meta, w->meta, w->n_meta * sizeof *meta);
    qsort(meta, w->n_meta, sizeof *meta, cmp_wmeta);

    aigtatt_buf_append(h, "{", 1);
    int first = 1;
    if (w->n_meta) {
        aigtatt_buf_puts(h, "\"__metadata__\":{");
        for (size_t i = 0; i < w->n_meta; i++) {
            if (i)
                aigtatt_buf_append(h, ",", 1);
            json_str(h, meta[i].key);
            aigtatt_buf_append(h, ":", 1);
            json_str(h, meta[i].val);
        }
        aigtatt_buf_append(h, "}", 1);
        first = 0;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n && !h->failed && h->len <= AIGTATT_ST_MAX_HEADER; i++) {
        const wt *t = order[i];
        if (!first)
            aigtatt_buf_append(h, ",", 1);
        first = 0;
        json_str(h, t->name);
        aigtatt_buf_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", aigtatt_st_dtype_name(t->dtype));
        for (size_t d = 0; d < t->ndim; d++)
            aigtatt_buf_printf(h, d ? ",%" PRIu64 : "%" PRIu64, t->shape[d]);
        aigtatt_buf_printf(h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off,
                           off + t->nbytes);
        off += t->nbytes;
    }
    aigtatt_buf_append(h, "}", 1);
    free(meta);
    while (!h->failed && h->len % 8)
        aigtatt_buf_append(h, " ", 1);
    if (h->failed) {
        free(order);
        aigtatt_set_error("%s: out of memory", path);
        return AIGTATT_ERR_NOMEM;
    }
    if (h->len > AIGTATT_ST_MAX_HEADER) {
        free(order);
        aigtatt_set_error("%s: the header would exceed the format's limit of %u bytes", path,
                          AIGTATT_ST_MAX_HEADER);
        return AIGTATT_ERR_LIMIT;
    }
    *order_out = order;
    *data_len = off;
    return AIGTATT_OK;
}

/* ---- writing ---------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        size_t chunk = size > ((size_t)1 << 30) ? ((size_t)1 << 30) : size;
        ssize_t n = write(fd, p, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

int aigtatt_st_writer_write(const aigtatt_st_writer *w, const char *path)
{
    if (!w || !path || !path[0]) {
        aigtatt_set_error("st_writer_write: %s", !w ? "NULL writer" : "no path");
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_buf h = AIGTATT_BUF_INIT;
    const wt **order = NULL;
    uint64_t data_len = 0;
    int rc = build_header(w, path, &h, &order, &data_len);
    if (rc != AIGTATT_OK) {
        aigtatt_buf_free(&h);
        return rc;
    }
    (void)data_len;

    char *dir = aigtatt_path_dirname(path);
    char *tmp = malloc(strlen(path) + 32);
    if (!dir || !tmp) {
        aigtatt_set_error("%s: out of memory", path);
        rc = AIGTATT_ERR_NOMEM;
        goto done;
    }
    rc = aigtatt_mkdirs(dir);
    if (rc != AIGTATT_OK) {
        aigtatt_error_prefix("%s", path);
        goto done;
    }
    snprintf(tmp, strlen(path) + 32, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        aigtatt_set_error("cannot write %s: %s", path, strerror(errno));
        rc = AIGTATT_ERR_IO;
        goto done;
    }
    /* mkstemp makes 0600; the core publishes files as 0644 (util/fs.c). */
    if (fchmod(fd, 0644) != 0)
        goto io_fail;
    unsigned char n8[8];
    uint64_t n = h.len;
    for (int i = 0; i < 8; i++)
        n8[i] = (unsigned char)(n >> (8 * i));
    if (write_all(fd, n8, 8) != 0 || write_all(fd, h.data, h.len) != 0)
        goto io_fail;
    for (size_t i = 0; i < w->n; i++)
        if (order[i]->nbytes && write_all(fd, order[i]->data, order[i]->nbytes) != 0)
            goto io_fail;
    if (fsync(fd) != 0)
        goto io_fail;
    if (close(fd) != 0) {
        fd = -1;
        goto io_fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto io_fail;
    /* Make the rename itself durable. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = AIGTATT_OK;
    goto done;
io_fail:
    aigtatt_set_error("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    rc = AIGTATT_ERR_IO;
done:
    free(dir);
    free(tmp);
    free(order);
    aigtatt_buf_free(&h);
    return rc;
}
