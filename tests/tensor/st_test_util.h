/* Helpers shared by the safetensors tests (each test_*.c is its own binary,
 * so everything here is static inline). */
#ifndef AIGTATT_TEST_ST_UTIL_H
#define AIGTATT_TEST_ST_UTIL_H

#include <criterion/criterion.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/safetensors.h"
#include "util/error.h"
#include "util/fs.h"

/* A fresh temporary folder, removed by st_rmdir(). */
static inline void st_mkdtemp(char *buf, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, size, "%s/aigtatt-st.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(buf), "cannot create a temporary folder");
}

static inline void st_rmdir(const char *dir)
{
    aigtatt_rmtree(dir);
}

static inline char *st_join(const char *dir, const char *name)
{
    char *p = aigtatt_path_join(dir, name);
    cr_assert_not_null(p);
    return p;
}

static inline void st_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    if (n)
        cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static inline unsigned char *st_read_bytes(const char *path, size_t *n)
{
    char *data = NULL;
    cr_assert_eq(aigtatt_read_file(path, (size_t)1 << 31, &data, n), 0, "%s", aigtatt_last_error());
    return (unsigned char *)data;
}

/* A file of N (little-endian) + `header` (exactly as given) + `data_len`
 * bytes of `fill`. `n_override` replaces N when not UINT64_MAX. */
static inline void st_make_file(const char *path, const char *header, size_t header_len,
                                uint64_t n_override, size_t data_len, unsigned char fill)
{
    size_t total = 8 + header_len + data_len;
    unsigned char *b = malloc(total ? total : 1);
    cr_assert_not_null(b);
    uint64_t n = n_override != UINT64_MAX ? n_override : header_len;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(n >> (8 * i));
    memcpy(b + 8, header, header_len);
    memset(b + 8 + header_len, fill, data_len);
    st_write_bytes(path, b, total);
    free(b);
}

/* Opens `path` expecting failure with status `want_rc` and an error text
 * containing each of the NULL-terminated `needles`. */
static inline void st_expect_refused(const char *path, int want_rc, const char *const *needles)
{
    aigtatt_st *st = (aigtatt_st *)0x1;
    aigtatt_clear_error();
    int rc = aigtatt_st_open(path, &st);
    cr_assert_null(st, "%s: a refused file must leave *out NULL", path);
    cr_assert_eq(rc, want_rc, "%s: status %d, expected %d (%s)", path, rc, want_rc,
                 aigtatt_last_error());
    const char *err = aigtatt_last_error();
    cr_assert(strstr(err, path) != NULL, "the error must name the file: %s", err);
    for (const char *const *n = needles; n && *n; n++)
        cr_assert(strstr(err, *n) != NULL, "error text \"%s\" lacks \"%s\"", err, *n);
}

/* Number of entries in `dir` whose name contains `part`. */
static inline int st_count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

/* ---- the values shared with st_interop.py (see its docstring) ---------- */

static inline uint16_t st_f32_to_f16(float f)
{
    /* Exact for the values used here (multiples of 0.25 in [-2, 2]). */
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    if ((x & 0x7fffffff) == 0)
        return sign;
    int exp = (int)((x >> 23) & 0xff) - 127 + 15;
    uint16_t mant = (uint16_t)((x >> 13) & 0x3ff);
    return (uint16_t)(sign | (uint16_t)(exp << 10) | mant);
}

static inline double st_value_f(uint64_t i)
{
    return (double)((i * 5) % 17) * 0.25 - 2.0;
}

/* Writes element i of `dtype` (little-endian) at p. */
static inline void st_put_value(aigtatt_st_dtype dtype, uint64_t i, unsigned char *p)
{
    int64_t s = (int64_t)((i * 37) % 201) - 100;
    uint64_t u = (i * 37) % 251;
    uint64_t bits = 0;
    size_t w = aigtatt_st_dtype_bits(dtype) / 8;
    switch (dtype) {
    case AIGTATT_ST_F64: { double d = st_value_f(i); memcpy(&bits, &d, 8); break; }
    case AIGTATT_ST_F32: { float f = (float)st_value_f(i); uint32_t b; memcpy(&b, &f, 4); bits = b; break; }
    case AIGTATT_ST_F16: bits = st_f32_to_f16((float)st_value_f(i)); break;
    case AIGTATT_ST_BF16: { float f = (float)st_value_f(i); uint32_t b; memcpy(&b, &f, 4); bits = b >> 16; break; }
    case AIGTATT_ST_BOOL: bits = i % 3 == 0; break;
    case AIGTATT_ST_I8: bits = (uint64_t)s; break;
    case AIGTATT_ST_U8: bits = u; break;
    case AIGTATT_ST_I16: bits = (uint64_t)(s * 300); break;
    case AIGTATT_ST_U16: bits = u * 257; break;
    case AIGTATT_ST_I32: bits = (uint64_t)(s * 65537); break;
    case AIGTATT_ST_U32: bits = u * 16777217u; break;
    case AIGTATT_ST_I64: bits = (uint64_t)(s * INT64_C(4294967311)); break;
    case AIGTATT_ST_U64: bits = u * UINT64_C(0x0101010101010101); break;
    default: cr_assert_fail("no value rule for dtype %d", (int)dtype);
    }
    for (size_t k = 0; k < w; k++)
        p[k] = (unsigned char)(bits >> (8 * k));
}

typedef struct st_spec {
    const char *name;
    aigtatt_st_dtype dtype;
    size_t ndim;
    uint64_t shape[2];
    int in_np, in_pt;
} st_spec;

/* Identical to SPECS in st_interop.py. */
static const st_spec ST_SPECS[] = {
    {"w.f64", AIGTATT_ST_F64, 2, {2, 3}, 1, 1},
    {"w.f32", AIGTATT_ST_F32, 2, {4, 5}, 1, 1},
    {"w.f16", AIGTATT_ST_F16, 1, {3}, 1, 1},
    {"w.bf16", AIGTATT_ST_BF16, 2, {2, 2}, 0, 1},
    {"i64", AIGTATT_ST_I64, 1, {5}, 1, 1},
    {"i32", AIGTATT_ST_I32, 2, {2, 2}, 1, 1},
    {"i16", AIGTATT_ST_I16, 1, {3}, 1, 1},
    {"i8", AIGTATT_ST_I8, 1, {7}, 1, 1},
    {"u8", AIGTATT_ST_U8, 1, {9}, 1, 1},
    {"u16", AIGTATT_ST_U16, 1, {2}, 1, 0},
    {"u32", AIGTATT_ST_U32, 1, {3}, 1, 0},
    {"u64", AIGTATT_ST_U64, 1, {2}, 1, 0},
    {"mask", AIGTATT_ST_BOOL, 1, {5}, 1, 1},
    {"scalar", AIGTATT_ST_F32, 0, {0}, 1, 1},
    {"empty", AIGTATT_ST_F32, 2, {0, 3}, 1, 1},
    {"empty.i64", AIGTATT_ST_I64, 2, {2, 0}, 1, 1},
    {"\xc3\xbcn\xc3\xaf/\xce\xba.weight", AIGTATT_ST_F32, 1, {2}, 1, 1},
    {"z\"q\\b", AIGTATT_ST_F32, 1, {1}, 1, 1},
};
#define ST_N_SPECS (sizeof ST_SPECS / sizeof ST_SPECS[0])

static inline uint64_t st_spec_numel(const st_spec *s)
{
    uint64_t n = 1;
    for (size_t d = 0; d < s->ndim; d++)
        n *= s->shape[d];
    return n;
}

/* The spec's bytes (malloc'ed; *nbytes set). */
static inline unsigned char *st_spec_bytes(const st_spec *s, size_t *nbytes)
{
    uint64_t n = st_spec_numel(s);
    size_t w = aigtatt_st_dtype_bits(s->dtype) / 8;
    *nbytes = (size_t)n * w;
    unsigned char *b = malloc(*nbytes ? *nbytes : 1);
    cr_assert_not_null(b);
    for (uint64_t i = 0; i < n; i++)
        st_put_value(s->dtype, i, b + i * w);
    return b;
}

/* Checks that the open file holds exactly the specs with the flag (`pt` 0:
 * the numpy set, 1: the torch set) and their values. */
static inline void st_check_set(const aigtatt_st *st, int pt)
{
    size_t want = 0;
    for (size_t i = 0; i < ST_N_SPECS; i++) {
        const st_spec *s = &ST_SPECS[i];
        if (!(pt ? s->in_pt : s->in_np))
            continue;
        want++;
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        cr_assert_eq(aigtatt_st_find(st, s->name, &info), 0, "%s", aigtatt_last_error());
        cr_assert_eq(info.dtype, s->dtype, "%s: dtype %d", s->name, (int)info.dtype);
        cr_assert_eq(info.ndim, s->ndim, "%s: ndim %zu", s->name, info.ndim);
        for (size_t d = 0; d < s->ndim; d++)
            cr_assert_eq(info.shape[d], s->shape[d], "%s: shape[%zu]", s->name, d);
        size_t nb;
        unsigned char *b = st_spec_bytes(s, &nb);
        cr_assert_eq(info.nbytes, nb, "%s: %llu bytes", s->name, (unsigned long long)info.nbytes);
        cr_assert_eq(info.numel, st_spec_numel(s));
        cr_assert(nb == 0 || memcmp(info.data, b, nb) == 0, "%s: values differ", s->name);
        free(b);
    }
    cr_assert_eq(aigtatt_st_count(st), want, "%zu tensors, expected %zu", aigtatt_st_count(st),
                 want);
}

/* Adds the specs with the flag to a writer. */
static inline void st_add_set(aigtatt_st_writer *w, int pt)
{
    for (size_t i = 0; i < ST_N_SPECS; i++) {
        const st_spec *s = &ST_SPECS[i];
        if (!(pt ? s->in_pt : s->in_np))
            continue;
        size_t nb;
        unsigned char *b = st_spec_bytes(s, &nb);
        cr_assert_eq(aigtatt_st_writer_add(w, s->name, s->dtype, s->ndim, s->shape, b, nb, 0), 0,
                     "%s", aigtatt_last_error());
        free(b);
    }
}

#endif
