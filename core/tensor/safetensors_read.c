/* safetensors reader: read the file into memory, validate the header as the
 * reference implementation does (safetensors/src/tensor.rs, read_metadata and
 * Metadata::validate), and hand out pointers into that copy. Not mmap: a
 * file truncated in place while mapped (`cp new.st model.st` during a run)
 * kills the process with SIGBUS at the next access; a copy cannot change. */
#include "tensor/st_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

typedef struct st_tensor {
    char *name;
    aigtatt_st_dtype dtype;
    size_t ndim;
    uint64_t *shape;
    uint64_t numel;
    uint64_t begin, end;
} st_tensor;

typedef struct st_meta {
    char *key, *val;
} st_meta;

struct aigtatt_st {
    char *path;
    void *map;
    size_t map_len;
    const unsigned char *data; /* start of the data buffer */
    uint64_t data_len;
    uint64_t data_pos;         /* file offset of the data buffer */
    st_tensor *t;              /* in order of data offsets */
    size_t n;
    const st_tensor **by_name; /* sorted by name */
    st_meta *meta;             /* sorted by key */
    size_t n_meta;
};

/* The first version of aigtatt_st_info ends with file_offset. */
#define ST_INFO_MIN_SIZE (offsetof(aigtatt_st_info, file_offset) + sizeof(uint64_t))

/* ---- error helpers ---------------------------------------------------- */

static int fail(const aigtatt_st *st, int rc, const char *fmt, ...) AIGTATT_PRINTF(3, 4);
static int fail(const aigtatt_st *st, int rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    aigtatt_set_error("%s: %s", st->path, msg);
    return rc;
}

/* The top-level key whose value contains byte `pos` of the header, found by
 * a small scan (the header is valid JSON up to where jansson stopped), so
 * that a parse error inside a tensor's entry names the tensor. The raw text
 * between the quotes goes into buf; "" when there is none. */
static void key_at(const char *h, size_t n, size_t pos, char *buf, size_t size)
{
    int depth = 0, expect_key = 0;
    size_t key_b = 0, key_e = 0, cur_b = 0, cur_e = 0;
    int have = 0;
    buf[0] = '\0';
    if (pos > n)
        pos = n;
    for (size_t i = 0; i < pos; i++) {
        char c = h[i];
        if (c == '"') {
            size_t b = ++i;
            while (i < n && h[i] != '"') {
                if (h[i] == '\\')
                    i++;
                i++;
            }
            if (depth == 1 && expect_key) {
                cur_b = b;
                cur_e = i < n ? i : n;
                key_b = cur_b;
                key_e = cur_e;
                have = 1;
                expect_key = 0;
            }
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
            if (depth == 1 && c == '{')
                expect_key = 1;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = 1;
        }
    }
    if (!have)
        return;
    size_t len = key_e - key_b;
    if (len > size - 1)
        len = size - 1;
    memcpy(buf, h + key_b, len);
    buf[len] = '\0';
}

/* ---- header parsing --------------------------------------------------- */

static int get_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v))
        return -1;
    json_int_t x = json_integer_value(v);
    if (x < 0)
        return -1;
    *out = (uint64_t)x;
    return 0;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return json_integer_value(v) < 0 ? "a negative integer" : "an integer";
    case JSON_REAL: return "a non-integer number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static int parse_tensor(aigtatt_st *st, const char *key, const json_t *v, st_tensor *t)
{
    char q[ST_QUOTE_SIZE];
    aigtatt_sti_quote(key, q, sizeof q);
    if (!json_is_object(v))
        return fail(st, AIGTATT_ERR_FORMAT, "tensor %s: its entry is %s, not an object", q,
                    json_kind(v));
    const json_t *jd = json_object_get(v, "dtype");
    const json_t *js = json_object_get(v, "shape");
    const json_t *jo = json_object_get(v, "data_offsets");
    if (!jd || !js || !jo)
        return fail(st, AIGTATT_ERR_FORMAT, "tensor %s: missing \"%s\"", q,
                    !jd ? "dtype" : !js ? "shape" : "data_offsets");
    if (!json_is_string(jd))
        return fail(st, AIGTATT_ERR_FORMAT, "tensor %s: \"dtype\" is %s, not a string", q,
                    json_kind(jd));
    t->dtype = aigtatt_st_dtype_parse(json_string_value(jd));
    if (t->dtype == AIGTATT_ST_INVALID) {
        char qd[ST_QUOTE_SIZE];
        return fail(st, AIGTATT_ERR_FORMAT, "tensor %s: unknown dtype %s", q,
                    aigtatt_sti_quote(json_string_value(jd), qd, sizeof qd));
    }
    if (!json_is_array(js))
        return fail(st, AIGTATT_ERR_FORMAT, "tensor %s: \"shape\" is %s, not an array", q,
                    json_kind(js));
    t->ndim = json_array_size(js);
    if (t->ndim) {
        t->shape = malloc(t->ndim * sizeof *t->shape);
        if (!t->shape)
            return fail(st, AIGTATT_ERR_NOMEM, "out of memory");
    }
    for (size_t d = 0; d < t->ndim; d++) {
        const json_t *e = json_array_get(js, d);
        if (get_u64(e, &t->shape[d]) != 0)
            return fail(st, AIGTATT_ERR_FORMAT,
                        "tensor %s: shape entry %zu is %s, not a non-negative integer", q, d,
                        json_kind(e));
    }
    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return fail(st, AIGTATT_ERR_FORMAT,
                    "tensor %s: \"data_offsets\" must be an array of two integers [begin, end]", q);
    for (size_t k = 0; k < 2; k++) {
        const json_t *e = json_array_get(jo, k);
        if (get_u64(e, k ? &t->end : &t->begin) != 0)
            return fail(st, AIGTATT_ERR_FORMAT,
                        "tensor %s: data offset %s is %s, not a non-negative integer", q,
                        k ? "end" : "begin", json_kind(e));
    }
    if (t->end < t->begin)
        return fail(st, AIGTATT_ERR_FORMAT,
                    "tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin", q,
                    t->begin, t->end);
    uint64_t bytes = 0;
    int rc = aigtatt_sti_byte_size(t->dtype, t->ndim, t->shape, &t->numel, &bytes);
    if (rc == 1)
        return fail(st, AIGTATT_ERR_FORMAT,
                    "tensor %s: the element count or byte size of its shape overflows 64 bits", q);
    if (rc == 2)
        return fail(st, AIGTATT_ERR_FORMAT,
                    "tensor %s: its %s elements do not fill a whole number of bytes", q,
                    aigtatt_st_dtype_name(t->dtype));
    if (t->end - t->begin != bytes)
        return fail(st, AIGTATT_ERR_FORMAT,
                    "tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                    " bytes, but %" PRIu64 " elements of %s need %" PRIu64,
                    q, t->begin, t->end, t->end - t->begin, t->numel,
                    aigtatt_st_dtype_name(t->dtype), bytes);
    return AIGTATT_OK;
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const st_meta *)a)->key, ((const st_meta *)b)->key);
}

static int parse_metadata(aigtatt_st *st, const json_t *m)
{
    if (json_is_null(m))
        return AIGTATT_OK;
    if (!json_is_object(m))
        return fail(st, AIGTATT_ERR_FORMAT, "\"__metadata__\" is %s, not an object of strings",
                    json_kind(m));
    size_t n = json_object_size(m);
    st->meta = calloc(n ? n : 1, sizeof *st->meta);
    if (!st->meta)
        return fail(st, AIGTATT_ERR_NOMEM, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        char q[ST_QUOTE_SIZE];
        if (!json_is_string(v))
            return fail(st, AIGTATT_ERR_FORMAT,
                        "\"__metadata__\" value of key %s is %s; only strings are allowed",
                        aigtatt_sti_quote(k, q, sizeof q), json_kind(v));
        st_meta *e = &st->meta[st->n_meta++];
        e->key = strdup(k);
        e->val = strdup(json_string_value(v));
        if (!e->key || !e->val)
            return fail(st, AIGTATT_ERR_NOMEM, "out of memory");
    }
    qsort(st->meta, st->n_meta, sizeof *st->meta, cmp_meta);
    return AIGTATT_OK;
}

static int cmp_offsets(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp((*(const st_tensor *const *)a)->name, (*(const st_tensor *const *)b)->name);
}

static int parse_header(aigtatt_st *st, const char *h, size_t n)
{
    if (n == 0 || h[0] != '{')
        return fail(st, AIGTATT_ERR_FORMAT,
                    "the header does not begin with '{' (not a safetensors file?)");
    size_t ok = aigtatt_sti_utf8_prefix((const unsigned char *)h, n);
    if (ok != n) {
        char key[ST_QUOTE_SIZE] = "", q[ST_QUOTE_SIZE];
        key_at(h, n, ok, key, 200);
        if (key[0])
            return fail(st, AIGTATT_ERR_FORMAT,
                        "the header is not valid UTF-8 (byte %zu, in the entry of key %s)", ok,
                        aigtatt_sti_quote(key, q, sizeof q));
        return fail(st, AIGTATT_ERR_FORMAT, "the header is not valid UTF-8 (byte %zu)", ok);
    }
    json_error_t err;
    json_t *root = json_loadb(h, n, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        char key[ST_QUOTE_SIZE] = "", q[ST_QUOTE_SIZE];
        key_at(h, n, (size_t)err.position, key, 200);
        const char *what = strstr(err.text, "duplicate object key") ? "a key is repeated"
                                                                    : "the header is not valid JSON";
        if (key[0])
            return fail(st, AIGTATT_ERR_FORMAT, "%s: %s (byte %d, in the entry of key %s)", what,
                        err.text, err.position, aigtatt_sti_quote(key, q, sizeof q));
        return fail(st, AIGTATT_ERR_FORMAT, "%s: %s (byte %d)", what, err.text, err.position);
    }
    int rc = AIGTATT_OK;
    if (!json_is_object(root)) {
        rc = fail(st, AIGTATT_ERR_FORMAT, "the header is not a JSON object");
        goto out;
    }
    size_t total = json_object_size(root);
    st->t = calloc(total ? total : 1, sizeof *st->t);
    if (!st->t) {
        rc = fail(st, AIGTATT_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            rc = parse_metadata(st, v);
        } else {
            st_tensor *t = &st->t[st->n++];
            t->name = strdup(key);
            rc = t->name ? parse_tensor(st, key, v, t) : fail(st, AIGTATT_ERR_NOMEM, "out of memory");
        }
        if (rc != AIGTATT_OK)
            goto out;
    }

    /* Contiguity, in order of offsets, as Metadata::validate. */
    qsort(st->t, st->n, sizeof *st->t, cmp_offsets);
    uint64_t pos = 0;
    for (size_t i = 0; i < st->n; i++) {
        const st_tensor *t = &st->t[i];
        if (t->begin != pos) {
            char q[ST_QUOTE_SIZE];
            rc = fail(st, AIGTATT_ERR_FORMAT,
                      "tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 "] %s: the previous tensor "
                      "ends at %" PRIu64 " (tensors must cover the data buffer contiguously)",
                      aigtatt_sti_quote(t->name, q, sizeof q), t->begin, t->end,
                      t->begin > pos ? "leave a gap" : "overlap", pos);
            goto out;
        }
        pos = t->end;
    }
    if (pos != st->data_len) {
        rc = fail(st, AIGTATT_ERR_FORMAT,
                  "the data buffer holds %" PRIu64 " bytes but the tensors cover %" PRIu64
                  " (%s)",
                  st->data_len, pos,
                  pos < st->data_len ? "trailing bytes after the last tensor"
                                     : "the file is truncated");
        goto out;
    }

    st->by_name = malloc((st->n ? st->n : 1) * sizeof *st->by_name);
    if (!st->by_name) {
        rc = fail(st, AIGTATT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < st->n; i++)
        st->by_name[i] = &st->t[i];
    qsort(st->by_name, st->n, sizeof *st->by_name, cmp_names);
out:
    json_decref(root);
    return rc;
}

/* ---- public functions ------------------------------------------------- */

int aigtatt_st_open(const char *path, aigtatt_st **out)
{
    if (out)
        *out = NULL;
    if (!path || !out) {
        aigtatt_set_error("st_open: NULL %s", path ? "out" : "path");
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_st *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        aigtatt_set_error("%s: out of memory", path);
        return AIGTATT_ERR_NOMEM;
    }
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = fail(st, AIGTATT_ERR_IO, "cannot open: %s", strerror(errno));
        goto bad;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = fail(st, AIGTATT_ERR_IO, "cannot stat: %s", strerror(errno));
        close(fd);
        goto bad;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = fail(st, AIGTATT_ERR_IO, "not a regular file");
        close(fd);
        goto bad;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size < 8) {
        rc = fail(st, AIGTATT_ERR_FORMAT,
                  "the file is %" PRIu64 " bytes, too short for the 8-byte header size", size);
        close(fd);
        goto bad;
    }
    if (size > SIZE_MAX) {
        rc = fail(st, AIGTATT_ERR_LIMIT, "the file is too large to read");
        close(fd);
        goto bad;
    }
    st->map_len = (size_t)size;
    st->map = malloc(st->map_len);
    if (!st->map) {
        rc = fail(st, AIGTATT_ERR_NOMEM, "out of memory reading %" PRIu64 " bytes", size);
        close(fd);
        goto bad;
    }
    size_t got = 0;
    while (got < st->map_len) {
        ssize_t r = read(fd, (char *)st->map + got, st->map_len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            rc = r < 0 ? fail(st, AIGTATT_ERR_IO, "cannot read: %s", strerror(e))
                       : fail(st, AIGTATT_ERR_IO, "the file shrank while it was read (%zu of %" PRIu64 " bytes)",
                              got, size);
            goto bad;
        }
        got += (size_t)r;
    }
    close(fd);
    const unsigned char *b = st->map;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | b[i];
    if (n > AIGTATT_ST_MAX_HEADER) {
        rc = fail(st, AIGTATT_ERR_LIMIT,
                  "the header size %" PRIu64 " is over the limit of %u bytes", n,
                  AIGTATT_ST_MAX_HEADER);
        goto bad;
    }
    if (n > size - 8) {
        rc = fail(st, AIGTATT_ERR_FORMAT,
                  "the header size %" PRIu64 " runs past the end of the file (%" PRIu64 " bytes)",
                  n, size);
        goto bad;
    }
    st->data_pos = 8 + n;
    st->data = b + st->data_pos;
    st->data_len = size - st->data_pos;
    rc = parse_header(st, (const char *)b + 8, (size_t)n);
    if (rc != AIGTATT_OK)
        goto bad;
    *out = st;
    return AIGTATT_OK;
bad:
    aigtatt_st_close(st);
    return rc;
}

void aigtatt_st_close(aigtatt_st *st)
{
    if (!st)
        return;
    free(st->map);
    for (size_t i = 0; i < st->n; i++) {
        free(st->t[i].name);
        free(st->t[i].shape);
    }
    free(st->t);
    free(st->by_name);
    for (size_t i = 0; i < st->n_meta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].val);
    }
    free(st->meta);
    free(st->path);
    free(st);
}

size_t aigtatt_st_count(const aigtatt_st *st)
{
    return st ? st->n : 0;
}

static void fill(const aigtatt_st *st, const st_tensor *t, aigtatt_st_info *info)
{
    aigtatt_st_info v = {0};
    v.struct_size = info->struct_size;
    v.name = t->name;
    v.dtype = t->dtype;
    v.ndim = t->ndim;
    v.shape = t->ndim ? t->shape : NULL;
    v.numel = t->numel;
    v.nbytes = t->end - t->begin;
    v.data = st->data + t->begin;
    v.file_offset = st->data_pos + t->begin;
    size_t n = info->struct_size < sizeof v ? info->struct_size : sizeof v;
    memcpy(info, &v, n);
}

static int check_info(const char *fn, const aigtatt_st_info *info)
{
    if (info->struct_size < ST_INFO_MIN_SIZE) {
        aigtatt_set_error("%s: info->struct_size is %zu; set it with AIGTATT_ST_INFO_INIT", fn,
                          info->struct_size);
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

int aigtatt_st_tensor_at(const aigtatt_st *st, size_t i, aigtatt_st_info *info)
{
    if (!st || !info) {
        aigtatt_set_error("st_tensor_at: NULL %s", st ? "info" : "file");
        return AIGTATT_ERR_INVALID;
    }
    if (check_info("st_tensor_at", info) != AIGTATT_OK)
        return AIGTATT_ERR_INVALID;
    if (i >= st->n) {
        aigtatt_set_error("%s: tensor index %zu out of range (%zu tensors)", st->path, i, st->n);
        return AIGTATT_ERR_INVALID;
    }
    fill(st, &st->t[i], info);
    return AIGTATT_OK;
}

int aigtatt_st_find(const aigtatt_st *st, const char *name, aigtatt_st_info *info)
{
    if (!st || !name) {
        aigtatt_set_error("st_find: NULL %s", st ? "name" : "file");
        return AIGTATT_ERR_INVALID;
    }
    if (info && check_info("st_find", info) != AIGTATT_OK)
        return AIGTATT_ERR_INVALID;
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const st_tensor *t = st->by_name[mid];
        int c = strcmp(t->name, name);
        if (c == 0) {
            if (info)
                fill(st, t, info);
            return AIGTATT_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    char q[ST_QUOTE_SIZE];
    aigtatt_set_error("%s: no tensor %s", st->path, aigtatt_sti_quote(name, q, sizeof q));
    return AIGTATT_ERR_INVALID;
}

const char *aigtatt_st_metadata(const aigtatt_st *st, const char *key)
{
    if (!st || !key)
        return NULL;
    size_t lo = 0, hi = st->n_meta;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->meta[mid].key, key);
        if (c == 0)
            return st->meta[mid].val;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t aigtatt_st_metadata_count(const aigtatt_st *st)
{
    return st ? st->n_meta : 0;
}

int aigtatt_st_metadata_at(const aigtatt_st *st, size_t i, const char **key, const char **value)
{
    if (!st || i >= st->n_meta) {
        aigtatt_set_error("st_metadata_at: %s", st ? "index out of range" : "NULL file");
        return AIGTATT_ERR_INVALID;
    }
    if (key)
        *key = st->meta[i].key;
    if (value)
        *value = st->meta[i].val;
    return AIGTATT_OK;
}

const char *aigtatt_st_path(const aigtatt_st *st)
{
    return st ? st->path : NULL;
}
