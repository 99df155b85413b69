/* Embedding matrices from .npy and safetensors files. Both are parsed by
 * hand from their published layouts; every size in a header is checked
 * against the file before it is used. */
#include "emb.h"

#include <aigtatt/types.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS ((size_t)1 << 31)
#define MAX_DIM ((size_t)1 << 20)

static int read_all(const char *file, unsigned char **buf, size_t *len, char *err)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(err, BM_ERRLEN, "%s: cannot open: %s", file, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        snprintf(err, BM_ERRLEN, "%s: cannot seek", file);
        return AIGTATT_ERR_IO;
    }
    long sz = ftell(f);
    rewind(f);
    if (sz < 0) {
        fclose(f);
        snprintf(err, BM_ERRLEN, "%s: cannot tell its size", file);
        return AIGTATT_ERR_IO;
    }
    *buf = malloc((size_t)sz + 1);
    if (!*buf) {
        fclose(f);
        snprintf(err, BM_ERRLEN, "%s: out of memory for %ld bytes", file, sz);
        return AIGTATT_ERR_NOMEM;
    }
    size_t got = fread(*buf, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        free(*buf);
        *buf = NULL;
        snprintf(err, BM_ERRLEN, "%s: read error", file);
        return AIGTATT_ERR_IO;
    }
    (*buf)[sz] = 0;
    *len = (size_t)sz;
    return 0;
}

static float half_to_float(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
    if (e == 0) {
        if (m == 0) {
            u = s;
        } else { /* subnormal: renormalise */
            e = 127 - 15 + 1;
            while (!(m & 0x400)) {
                m <<= 1;
                e--;
            }
            m &= 0x3ff;
            u = s | (e << 23) | (m << 13);
        }
    } else if (e == 31) {
        u = s | 0x7f800000u | (m << 13);
    } else {
        u = s | ((e + 127 - 15) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

typedef enum { DT_F32, DT_F64, DT_F16, DT_BF16 } dtype;

static size_t dt_size(dtype t)
{
    return t == DT_F64 ? 8 : t == DT_F32 ? 4 : 2;
}

/* Element i of a little- or big-endian buffer, as float. */
static float elem(const unsigned char *p, dtype t, int swap, size_t i)
{
    size_t sz = dt_size(t);
    unsigned char b[8];
    for (size_t k = 0; k < sz; k++)
        b[k] = p[i * sz + (swap ? sz - 1 - k : k)];
    switch (t) {
    case DT_F64: {
        double d;
        memcpy(&d, b, 8);
        return (float)d;
    }
    case DT_F32: {
        float f;
        memcpy(&f, b, 4);
        return f;
    }
    case DT_F16: {
        uint16_t h;
        memcpy(&h, b, 2);
        return half_to_float(h);
    }
    case DT_BF16: {
        uint16_t h;
        memcpy(&h, b, 2);
        uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    }
    return 0;
}

static int host_little(void)
{
    uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

static int fill(bm_emb *e, const char *file, const unsigned char *data, dtype t, int swap,
                size_t n, size_t d, int fortran, char *err)
{
    if (n == 0 || d == 0) {
        snprintf(err, BM_ERRLEN, "%s: the matrix is empty (%zu x %zu)", file, n, d);
        return AIGTATT_ERR_INVALID;
    }
    if (n > MAX_ROWS || d > MAX_DIM) {
        snprintf(err, BM_ERRLEN, "%s: %zu x %zu is beyond the supported size", file, n, d);
        return AIGTATT_ERR_LIMIT;
    }
    int rc = bm_alloc_rows(e, n, err);
    if (rc)
        return rc;
    e->d = d;
    e->x = malloc(n * d * sizeof *e->x);
    if (!e->x) {
        snprintf(err, BM_ERRLEN, "%s: out of memory for %zu x %zu floats", file, n, d);
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            e->x[i * d + j] = elem(data, t, swap, fortran ? j * n + i : i * d + j);
    return 0;
}

/* The value text after 'key': in a numpy header dict, or NULL. */
static const char *npy_field(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == ':')
        p++;
    return p;
}

static int read_npy(const char *file, const unsigned char *b, size_t len, bm_emb *e, char *err)
{
    if (len < 10) {
        snprintf(err, BM_ERRLEN, "%s: truncated .npy header", file);
        return AIGTATT_ERR_FORMAT;
    }
    int major = b[6];
    size_t hl, off;
    if (major == 1) {
        hl = (size_t)b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            snprintf(err, BM_ERRLEN, "%s: truncated .npy header", file);
            return AIGTATT_ERR_FORMAT;
        }
        hl = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else {
        snprintf(err, BM_ERRLEN, "%s: unsupported .npy version %d", file, major);
        return AIGTATT_ERR_FORMAT;
    }
    if (hl > len - off) {
        snprintf(err, BM_ERRLEN, "%s: .npy header runs past the end of the file", file);
        return AIGTATT_ERR_FORMAT;
    }
    char *h = malloc(hl + 1);
    if (!h)
        return AIGTATT_ERR_NOMEM;
    memcpy(h, b + off, hl);
    h[hl] = 0;
    int rc = AIGTATT_ERR_FORMAT;
    const char *descr = npy_field(h, "descr"), *fo = npy_field(h, "fortran_order"),
               *shape = npy_field(h, "shape");
    if (!descr || !fo || !shape) {
        snprintf(err, BM_ERRLEN, "%s: .npy header lacks descr, fortran_order or shape", file);
        goto done;
    }
    dtype t;
    int swap = 0;
    char order = descr[1], kind = descr[2];
    if (descr[0] != '\'' || kind != 'f' || (descr[3] != '4' && descr[3] != '8') || descr[4] != '\'') {
        snprintf(err, BM_ERRLEN, "%s: embeddings must be float32 or float64, the file holds %.12s",
                 file, descr);
        goto done;
    }
    t = descr[3] == '4' ? DT_F32 : DT_F64;
    if (order == '>')
        swap = host_little();
    else if (order == '<')
        swap = !host_little();
    int fortran = strncmp(fo, "True", 4) == 0;
    size_t dims[3], nd = 0;
    const char *p = shape;
    if (*p++ != '(')
        goto bad_shape;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || nd == 3)
            goto bad_shape;
        dims[nd++] = (size_t)v;
        p = end;
    }
    if (nd != 2) {
        snprintf(err, BM_ERRLEN, "%s: embeddings must be a 2-D array (rows x dimensions), the "
                 "file holds %zu dimension(s)", file, nd);
        goto done;
    }
    off += hl;
    if (dims[1] && dims[0] > (len - off) / dt_size(t) / dims[1]) {
        snprintf(err, BM_ERRLEN, "%s: %zu x %zu values announced but the file is shorter", file,
                 dims[0], dims[1]);
        goto done;
    }
    rc = fill(e, file, b + off, t, swap, dims[0], dims[1], fortran, err);
    goto done;
bad_shape:
    snprintf(err, BM_ERRLEN, "%s: cannot read the shape in the .npy header", file);
done:
    free(h);
    return rc;
}

static int cmp_span(const void *a, const void *b)
{
    const json_int_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : (x[1] > y[1]) - (x[1] < y[1]);
}

/* Whether the tensors' [begin, end) data_offsets tile [0, data) without a
 * gap or an overlap, as the safetensors format requires. */
static int offsets_tile(json_t *root, size_t data)
{
    size_t n = json_object_size(root), k = 0;
    json_int_t(*span)[2] = malloc((n ? n : 1) * sizeof *span);
    if (!span)
        return 0;
    const char *key;
    json_t *v;
    int ok = 1;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "__metadata__"))
            continue;
        json_t *o = json_object_get(v, "data_offsets");
        if (json_array_size(o) != 2 || !json_is_integer(json_array_get(o, 0)) ||
            !json_is_integer(json_array_get(o, 1))) {
            ok = 0;
            break;
        }
        span[k][0] = json_integer_value(json_array_get(o, 0));
        span[k][1] = json_integer_value(json_array_get(o, 1));
        k++;
    }
    if (ok) {
        qsort(span, k, sizeof *span, cmp_span);
        json_int_t at = 0;
        for (size_t i = 0; ok && i < k; i++) {
            ok = span[i][0] == at && span[i][1] >= span[i][0];
            at = span[i][1];
        }
        ok = ok && (uint64_t)at == (uint64_t)data;
    }
    free(span);
    return ok;
}

static int read_safetensors(const char *file, const unsigned char *b, size_t len,
                            const char *tensor, bm_emb *e, char *err)
{
    uint64_t hl = 0;
    for (int k = 7; k >= 0; k--)
        hl = hl << 8 | b[k];
    if (hl > len - 8) {
        snprintf(err, BM_ERRLEN, "%s: safetensors header length %llu runs past the end of the file",
                 file, (unsigned long long)hl);
        return AIGTATT_ERR_FORMAT;
    }
    json_error_t je;
    /* a key given twice would make the tensor ambiguous: refused, as the
     * reference implementation refuses it */
    json_t *root = json_loadb((const char *)b + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        snprintf(err, BM_ERRLEN, "%s: bad safetensors header: %s", file, je.text);
        json_decref(root);
        return AIGTATT_ERR_FORMAT;
    }
    if (!offsets_tile(root, len - 8 - (size_t)hl)) {
        snprintf(err, BM_ERRLEN, "%s: the tensors' data_offsets leave a gap, overlap or do not cover the %zu-byte "
                 "data section, which safetensors does not allow", file, len - 8 - (size_t)hl);
        json_decref(root);
        return AIGTATT_ERR_FORMAT;
    }
    json_t *t = NULL;
    const char *key;
    json_t *v;
    int rc = AIGTATT_ERR_FORMAT;
    if (tensor) {
        t = json_object_get(root, tensor);
        if (!t) {
            snprintf(err, BM_ERRLEN, "%s: no tensor named '%s'", file, tensor);
            goto done;
        }
    } else if (!(t = json_object_get(root, "embeddings"))) {
        size_t n2 = 0;
        json_object_foreach(root, key, v)
        {
            if (strcmp(key, "__metadata__") && json_array_size(json_object_get(v, "shape")) == 2) {
                t = v;
                n2++;
            }
        }
        if (n2 != 1) {
            snprintf(err, BM_ERRLEN, "%s: %s; name the tensor to use", file,
                     n2 ? "several 2-D tensors and none called 'embeddings'"
                        : "no 2-D tensor");
            goto done;
        }
    }
    const char *dt = json_string_value(json_object_get(t, "dtype"));
    json_t *shape = json_object_get(t, "shape"), *offs = json_object_get(t, "data_offsets");
    dtype ty;
    if (!dt || !strcmp(dt, "F32"))
        ty = DT_F32;
    else if (!strcmp(dt, "F64"))
        ty = DT_F64;
    else if (!strcmp(dt, "F16"))
        ty = DT_F16;
    else if (!strcmp(dt, "BF16"))
        ty = DT_BF16;
    else {
        snprintf(err, BM_ERRLEN, "%s: embeddings must be F32, F64, F16 or BF16, not %s", file, dt);
        goto done;
    }
    if (!dt || json_array_size(shape) != 2 || json_array_size(offs) != 2 ||
        !json_is_integer(json_array_get(shape, 0)) || !json_is_integer(json_array_get(shape, 1))) {
        snprintf(err, BM_ERRLEN, "%s: the tensor must have a dtype, a 2-D shape and data_offsets",
                 file);
        goto done;
    }
    json_int_t n = json_integer_value(json_array_get(shape, 0)),
               d = json_integer_value(json_array_get(shape, 1)),
               b0 = json_integer_value(json_array_get(offs, 0)),
               b1 = json_integer_value(json_array_get(offs, 1));
    size_t data = 8 + (size_t)hl;
    if (n < 0 || d < 0 || b0 < 0 || b1 < b0 || (size_t)b1 > len - data ||
        (d && (size_t)n > SIZE_MAX / (size_t)d / dt_size(ty)) ||
        (size_t)(b1 - b0) != (size_t)n * (size_t)d * dt_size(ty)) {
        snprintf(err, BM_ERRLEN, "%s: data_offsets [%lld, %lld] do not match shape [%lld, %lld] %s "
                 "within a data section of %zu bytes", file, (long long)b0, (long long)b1,
                 (long long)n, (long long)d, dt, len - data);
        goto done;
    }
    /* safetensors data is always little-endian. */
    rc = fill(e, file, b + data + b0, ty, !host_little(), (size_t)n, (size_t)d, 0, err);
done:
    json_decref(root);
    return rc;
}

int bm_emb_read_matrix(const char *file, const char *tensor, bm_emb *e, char *err)
{
    unsigned char *b = NULL;
    size_t len = 0;
    memset(e, 0, sizeof *e);
    int rc = read_all(file, &b, &len, err);
    if (rc)
        return rc;
    if (len >= 6 && !memcmp(b, "\x93NUMPY", 6))
        rc = read_npy(file, b, len, e, err);
    else if (len >= 9 && b[8] == '{')
        rc = read_safetensors(file, b, len, tensor, e, err);
    else {
        snprintf(err, BM_ERRLEN, "%s: neither a .npy nor a safetensors file", file);
        rc = AIGTATT_ERR_FORMAT;
    }
    free(b);
    if (rc)
        bm_emb_free(e);
    return rc;
}
