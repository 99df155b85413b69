/* safetensors writer and reader round trips: every dtype, empty tensors,
 * scalars, metadata, borrowed and copied data; the writer's bytes against
 * the reference serializer's own test vectors; atomic writes and the
 * writer's refusals. */
#include "tensor/st_test_util.h"

#include <errno.h>

static char dir[256];

static void setup(void)
{
    st_mkdtemp(dir, sizeof dir);
}

static void teardown(void)
{
    st_rmdir(dir);
}

TestSuite(st_roundtrip, .init = setup, .fini = teardown);

static const aigtatt_st_dtype ALL[] = {
    AIGTATT_ST_BOOL, AIGTATT_ST_U8, AIGTATT_ST_I8, AIGTATT_ST_I16, AIGTATT_ST_U16,
    AIGTATT_ST_F16, AIGTATT_ST_BF16, AIGTATT_ST_I32, AIGTATT_ST_U32, AIGTATT_ST_F32,
    AIGTATT_ST_F64, AIGTATT_ST_I64, AIGTATT_ST_U64, AIGTATT_ST_F8_E5M2, AIGTATT_ST_F8_E4M3,
    AIGTATT_ST_F8_E8M0, AIGTATT_ST_F8_E4M3FNUZ, AIGTATT_ST_F8_E5M2FNUZ, AIGTATT_ST_C64,
    AIGTATT_ST_F4, AIGTATT_ST_F6_E2M3, AIGTATT_ST_F6_E3M2,
};
#define N_ALL (sizeof ALL / sizeof ALL[0])

Test(st_roundtrip, dtype_table)
{
    static const struct {
        aigtatt_st_dtype d;
        const char *name;
        size_t bits;
    } want[] = {
        {AIGTATT_ST_BOOL, "BOOL", 8}, {AIGTATT_ST_U8, "U8", 8}, {AIGTATT_ST_I8, "I8", 8},
        {AIGTATT_ST_I16, "I16", 16}, {AIGTATT_ST_U16, "U16", 16}, {AIGTATT_ST_F16, "F16", 16},
        {AIGTATT_ST_BF16, "BF16", 16}, {AIGTATT_ST_I32, "I32", 32}, {AIGTATT_ST_U32, "U32", 32},
        {AIGTATT_ST_F32, "F32", 32}, {AIGTATT_ST_F64, "F64", 64}, {AIGTATT_ST_I64, "I64", 64},
        {AIGTATT_ST_U64, "U64", 64}, {AIGTATT_ST_F8_E5M2, "F8_E5M2", 8},
        {AIGTATT_ST_F8_E4M3, "F8_E4M3", 8}, {AIGTATT_ST_F8_E8M0, "F8_E8M0", 8},
        {AIGTATT_ST_F8_E4M3FNUZ, "F8_E4M3FNUZ", 8}, {AIGTATT_ST_F8_E5M2FNUZ, "F8_E5M2FNUZ", 8},
        {AIGTATT_ST_C64, "C64", 64}, {AIGTATT_ST_F4, "F4", 4}, {AIGTATT_ST_F6_E2M3, "F6_E2M3", 6},
        {AIGTATT_ST_F6_E3M2, "F6_E3M2", 6},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert_str_eq(aigtatt_st_dtype_name(want[i].d), want[i].name);
        cr_assert_eq(aigtatt_st_dtype_parse(want[i].name), want[i].d);
        cr_assert_eq(aigtatt_st_dtype_bits(want[i].d), want[i].bits, "%s", want[i].name);
    }
    cr_assert_null(aigtatt_st_dtype_name(AIGTATT_ST_INVALID));
    cr_assert_null(aigtatt_st_dtype_name((aigtatt_st_dtype)99));
    cr_assert_eq(aigtatt_st_dtype_bits((aigtatt_st_dtype)99), 0);
    cr_assert_eq(aigtatt_st_dtype_parse("f32"), AIGTATT_ST_INVALID);
    cr_assert_eq(aigtatt_st_dtype_parse(NULL), AIGTATT_ST_INVALID);
    cr_assert_eq(aigtatt_st_dtype_parse(""), AIGTATT_ST_INVALID);
}

/* Every dtype, as a [2, 4] tensor of pseudo-random bytes, plus a scalar and
 * an empty tensor of each; read back byte for byte, and each tensor's data
 * aligned to its element size in the file. */
Test(st_roundtrip, every_dtype)
{
    char *path = st_join(dir, "all.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    cr_assert_not_null(w);
    unsigned char bufs[N_ALL][64];
    uint32_t x = 12345;
    for (size_t i = 0; i < N_ALL; i++) {
        for (size_t k = 0; k < sizeof bufs[i]; k++) {
            x = x * 1103515245u + 12345u;
            bufs[i][k] = (unsigned char)(x >> 16);
        }
        const char *dn = aigtatt_st_dtype_name(ALL[i]);
        size_t bits = aigtatt_st_dtype_bits(ALL[i]);
        char name[64];
        uint64_t shape[2] = {2, 4};
        snprintf(name, sizeof name, "t.%s", dn);
        cr_assert_eq(aigtatt_st_writer_add(w, name, ALL[i], 2, shape, bufs[i], 8 * bits / 8, 0),
                     0, "%s", aigtatt_last_error());
        uint64_t empty[3] = {3, 0, 5};
        snprintf(name, sizeof name, "e.%s", dn);
        cr_assert_eq(aigtatt_st_writer_add(w, name, ALL[i], 3, empty, NULL, 0, 0), 0, "%s",
                     aigtatt_last_error());
        if (bits >= 8) {
            snprintf(name, sizeof name, "s.%s", dn);
            cr_assert_eq(aigtatt_st_writer_add(w, name, ALL[i], 0, NULL, bufs[i], bits / 8, 0), 0,
                         "%s", aigtatt_last_error());
        }
    }
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);

    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_str_eq(aigtatt_st_path(st), path);
    cr_assert_eq(aigtatt_st_count(st), N_ALL * 3 - 3);
    for (size_t i = 0; i < N_ALL; i++) {
        const char *dn = aigtatt_st_dtype_name(ALL[i]);
        size_t bits = aigtatt_st_dtype_bits(ALL[i]);
        char name[64];
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        snprintf(name, sizeof name, "t.%s", dn);
        cr_assert_eq(aigtatt_st_find(st, name, &info), 0, "%s", aigtatt_last_error());
        cr_assert_str_eq(info.name, name);
        cr_assert_eq(info.dtype, ALL[i]);
        cr_assert_eq(info.ndim, 2);
        cr_assert_eq(info.shape[0], 2);
        cr_assert_eq(info.shape[1], 4);
        cr_assert_eq(info.numel, 8);
        cr_assert_eq(info.nbytes, bits);
        cr_assert_eq(memcmp(info.data, bufs[i], bits), 0, "%s: bytes differ", name);
        if (bits >= 8) {
            cr_assert_eq((uintptr_t)info.data % (bits / 8), 0, "%s is not aligned", name);
            cr_assert_eq(info.file_offset % (bits / 8), 0);
        }

        snprintf(name, sizeof name, "e.%s", dn);
        cr_assert_eq(aigtatt_st_find(st, name, &info), 0, "%s", aigtatt_last_error());
        cr_assert_eq(info.ndim, 3);
        cr_assert_eq(info.shape[1], 0);
        cr_assert_eq(info.numel, 0);
        cr_assert_eq(info.nbytes, 0);
        cr_assert_not_null(info.data);

        if (bits >= 8) {
            snprintf(name, sizeof name, "s.%s", dn);
            cr_assert_eq(aigtatt_st_find(st, name, &info), 0, "%s", aigtatt_last_error());
            cr_assert_eq(info.ndim, 0);
            cr_assert_null(info.shape);
            cr_assert_eq(info.numel, 1);
            cr_assert_eq(info.nbytes, bits / 8);
            cr_assert_eq(memcmp(info.data, bufs[i], bits / 8), 0);
        }
    }
    /* st_tensor_at lists in order of data offsets, contiguously. */
    uint64_t pos = 0;
    for (size_t i = 0; i < aigtatt_st_count(st); i++) {
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        cr_assert_eq(aigtatt_st_tensor_at(st, i, &info), 0);
        if (i == 0)
            pos = info.file_offset;
        cr_assert_eq(info.file_offset, pos, "tensor %zu (%s) at %llu, expected %llu", i, info.name,
                     (unsigned long long)info.file_offset, (unsigned long long)pos);
        pos += info.nbytes;
    }
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq((uint64_t)sb.st_size, pos);
    aigtatt_st_close(st);
    free(path);
}

/* The reference serializer's test vectors (safetensors/src/tensor.rs,
 * test_serialization, test_serialization_fp4, test_empty,
 * test_serialization_forced_alignement): our writer gives the same bytes. */
static void expect_bytes(aigtatt_st_writer *w, const unsigned char *want, size_t n)
{
    char *path = st_join(dir, "ref.safetensors");
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    size_t got_n;
    unsigned char *got = st_read_bytes(path, &got_n);
    cr_assert_eq(got_n, n, "%zu bytes, expected %zu", got_n, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "byte %zu: %u, expected %u", i, got[i], want[i]);
    free(got);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    aigtatt_st_close(st);
    free(path);
}

Test(st_roundtrip, reference_vectors)
{
    float f[6] = {0, 1, 2, 3, 4, 5};
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    uint64_t s3[3] = {1, 2, 3};
    cr_assert_eq(aigtatt_st_writer_add(w, "attn.0", AIGTATT_ST_F32, 3, s3, f, 24, 0), 0);
    static const unsigned char v1[] = {
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
        116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
        58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
        101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
        0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
    expect_bytes(w, v1, sizeof v1);
    aigtatt_st_writer_free(w);

    w = aigtatt_st_writer_new();
    uint64_t s2[2] = {1, 2};
    unsigned char zero = 0;
    cr_assert_eq(aigtatt_st_writer_add(w, "attn.0", AIGTATT_ST_F4, 2, s2, &zero, 1, 0), 0);
    static const unsigned char v2[] = {
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
        116, 121, 112, 101, 34, 58, 34, 70, 52, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
        91, 49, 44, 50, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116,
        115, 34, 58, 91, 48, 44, 49, 93, 125, 125, 32, 32, 32, 32, 0};
    expect_bytes(w, v2, sizeof v2);
    aigtatt_st_writer_free(w);

    w = aigtatt_st_writer_new();
    static const unsigned char v3[] = {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32};
    expect_bytes(w, v3, sizeof v3);
    cr_assert_eq(aigtatt_st_writer_meta(w, "framework", "pt"), 0);
    static const unsigned char v4[] = {
        40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
        95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
        116, 34, 125, 125, 32, 32, 32, 32, 32};
    expect_bytes(w, v4, sizeof v4);
    aigtatt_st_writer_free(w);

    w = aigtatt_st_writer_new();
    uint64_t s4[4] = {1, 1, 2, 3};
    cr_assert_eq(aigtatt_st_writer_add(w, "attn0", AIGTATT_ST_F32, 4, s4, f, 24, 0), 0);
    static const unsigned char v5[] = {
        72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
        121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
        91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
        115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
        32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
        160, 64};
    expect_bytes(w, v5, sizeof v5);
    aigtatt_st_writer_free(w);
}

/* Tensor order: descending reference Dtype order, then name byte-wise;
 * JSON escapes as serde_json's. */
Test(st_roundtrip, header_order_and_escapes)
{
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    unsigned char z[16] = {0};
    uint64_t one = 1, three = 3;
    cr_assert_eq(aigtatt_st_writer_add(w, "b", AIGTATT_ST_F32, 1, &one, z, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "a", AIGTATT_ST_F32, 1, &one, z, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "c", AIGTATT_ST_U8, 1, &three, z, 3, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "d", AIGTATT_ST_F64, 1, &one, z, 8, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "B", AIGTATT_ST_F32, 1, &one, z, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "m", AIGTATT_ST_BOOL, 1, &one, z, 1, 0), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "\xc3\xa9\"\\\n\x01\x7f/", AIGTATT_ST_I64, 1, &one, z, 8, 0), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "z", "1"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "a", "tab\there"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "a", "tab\t"), 0); /* replaces */
    char *path = st_join(dir, "order.safetensors");
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    size_t n;
    unsigned char *b = st_read_bytes(path, &n);
    const char *want =
        "{\"__metadata__\":{\"a\":\"tab\\t\",\"z\":\"1\"},"
        "\"\xc3\xa9\\\"\\\\\\n\\u0001\x7f/\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]},"
        "\"B\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[24,28]},"
        "\"c\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[28,31]},"
        "\"m\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[31,32]}}";
    size_t wl = strlen(want);
    size_t hl = (wl + 7) / 8 * 8;
    cr_assert_eq(b[0] | (b[1] << 8), hl);
    cr_assert_eq(memcmp(b + 8, want, wl), 0, "header:\n%.*s\nexpected:\n%s", (int)hl, b + 8, want);
    for (size_t i = wl; i < hl; i++)
        cr_assert_eq(b[8 + i], ' ');
    cr_assert_eq(n, 8 + hl + 32);
    free(b);

    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_find(st, "\xc3\xa9\"\\\n\x01\x7f/", NULL), 0);
    cr_assert_str_eq(aigtatt_st_metadata(st, "a"), "tab\t");
    aigtatt_st_close(st);
    free(path);
}

Test(st_roundtrip, metadata)
{
    char *path = st_join(dir, "meta.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    cr_assert_eq(aigtatt_st_writer_meta(w, "format", "pt"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "empty", ""), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "\xc3\xa9t\xc3\xa9", "line\nbreak \"q\" \\"), 0);
    cr_assert_eq(aigtatt_st_writer_meta(w, "__metadata__", "allowed as a metadata key"), 0);
    float v = 1.5f;
    cr_assert_eq(aigtatt_st_writer_add(w, "x", AIGTATT_ST_F32, 0, NULL, &v, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);

    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_metadata_count(st), 4);
    cr_assert_str_eq(aigtatt_st_metadata(st, "format"), "pt");
    cr_assert_str_eq(aigtatt_st_metadata(st, "empty"), "");
    cr_assert_str_eq(aigtatt_st_metadata(st, "\xc3\xa9t\xc3\xa9"), "line\nbreak \"q\" \\");
    cr_assert_null(aigtatt_st_metadata(st, "absent"));
    cr_assert_null(aigtatt_st_metadata(st, NULL));
    cr_assert_null(aigtatt_st_metadata(NULL, "format"));
    const char *k, *val, *prev = "";
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(aigtatt_st_metadata_at(st, i, &k, &val), 0);
        cr_assert(strcmp(prev, k) < 0, "metadata keys in order");
        cr_assert_str_eq(aigtatt_st_metadata(st, k), val);
        prev = k;
    }
    cr_assert_neq(aigtatt_st_metadata_at(st, 4, &k, &val), 0);
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_find(st, "x", &info), 0);
    float got;
    memcpy(&got, info.data, 4);
    cr_assert_eq(got, 1.5f);
    aigtatt_st_close(st);

    /* No metadata at all. */
    w = aigtatt_st_writer_new();
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0);
    aigtatt_st_writer_free(w);
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_metadata_count(st), 0);
    cr_assert_eq(aigtatt_st_count(st), 0);
    cr_assert_null(aigtatt_st_metadata(st, "format"));
    aigtatt_st_close(st);
    free(path);
}

Test(st_roundtrip, borrowed_and_copied)
{
    char *path = st_join(dir, "borrow.safetensors");
    float a[2] = {1, 2}, b[2] = {3, 4};
    uint64_t two = 2;
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    cr_assert_eq(aigtatt_st_writer_add(w, "borrowed", AIGTATT_ST_F32, 1, &two, a, 8, AIGTATT_ST_BORROW), 0);
    cr_assert_eq(aigtatt_st_writer_add(w, "copied", AIGTATT_ST_F32, 1, &two, b, 8, 0), 0);
    a[0] = 10;  /* seen: borrowed */
    b[0] = 30;  /* not seen: copied */
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0);
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    float got[2];
    cr_assert_eq(aigtatt_st_find(st, "borrowed", &info), 0);
    memcpy(got, info.data, 8);
    cr_assert_eq(got[0], 10.0f);
    cr_assert_eq(aigtatt_st_find(st, "copied", &info), 0);
    memcpy(got, info.data, 8);
    cr_assert_eq(got[0], 3.0f);
    aigtatt_st_close(st);
    free(path);
}

/* A file truncated in place while open (`cp new.st model.st` during a
 * run) must not reach the data handed out: with the file mapped, reading
 * a tensor then killed the process with SIGBUS. */
Test(st_roundtrip, truncated_while_open)
{
    char *path = st_join(dir, "shrinks.safetensors");
    enum { N = 1 << 16 };
    float *v = malloc(N * sizeof *v);
    cr_assert_not_null(v);
    for (int i = 0; i < N; i++)
        v[i] = (float)i;
    uint64_t n = N;
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    cr_assert_eq(aigtatt_st_writer_add(w, "v", AIGTATT_ST_F32, 1, &n, v, N * sizeof *v, 0), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st_writer_free(w);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(truncate(path, 64), 0);
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_find(st, "v", &info), 0);
    float last;
    memcpy(&last, (const char *)info.data + (N - 1) * sizeof last, sizeof last);
    cr_assert_eq(last, (float)(N - 1));
    aigtatt_st_close(st);
    free(v);
    free(path);
}

/* The host fills no byte past info->struct_size; too small is refused. */
Test(st_roundtrip, info_struct_size)
{
    char *path = st_join(dir, "info.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    float v = 1;
    cr_assert_eq(aigtatt_st_writer_add(w, "x", AIGTATT_ST_F32, 0, NULL, &v, 4, 0), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0);
    aigtatt_st_writer_free(w);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0);
    struct {
        aigtatt_st_info info;
        unsigned char guard[16];
    } big;
    memset(&big, 0xAB, sizeof big);
    big.info.struct_size = sizeof big.info;
    cr_assert_eq(aigtatt_st_tensor_at(st, 0, &big.info), 0);
    for (size_t i = 0; i < sizeof big.guard; i++)
        cr_assert_eq(big.guard[i], 0xAB);
    cr_assert_str_eq(big.info.name, "x");

    aigtatt_st_info small = {0};
    small.struct_size = offsetof(aigtatt_st_info, data);
    cr_assert_eq(aigtatt_st_tensor_at(st, 0, &small), AIGTATT_ERR_INVALID);
    cr_assert(strstr(aigtatt_last_error(), "AIGTATT_ST_INFO_INIT"));
    cr_assert_eq(aigtatt_st_find(st, "x", &small), AIGTATT_ERR_INVALID);

    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_tensor_at(st, 1, &info), AIGTATT_ERR_INVALID);
    cr_assert(strstr(aigtatt_last_error(), "out of range"));
    cr_assert_eq(aigtatt_st_find(st, "nope", &info), AIGTATT_ERR_INVALID);
    cr_assert(strstr(aigtatt_last_error(), "no tensor 'nope'"), "%s", aigtatt_last_error());
    cr_assert(strstr(aigtatt_last_error(), path));
    cr_assert_eq(aigtatt_st_tensor_at(NULL, 0, &info), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_tensor_at(st, 0, NULL), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_find(st, NULL, &info), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_count(NULL), 0);
    aigtatt_st_close(st);
    aigtatt_st_close(NULL);
    free(path);
}

Test(st_roundtrip, writer_refusals)
{
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    float f[4] = {0};
    uint64_t two = 2, s[2] = {2, 2};
    cr_assert_eq(aigtatt_st_writer_add(w, "a", AIGTATT_ST_F32, 1, &two, f, 8, 0), 0);
    const struct {
        const char *name;
        aigtatt_st_dtype dtype;
        size_t ndim;
        const uint64_t *shape;
        const void *data;
        size_t nbytes;
        unsigned flags;
        const char *msg;
    } bad[] = {
        {"a", AIGTATT_ST_F32, 1, (const uint64_t[]){2}, (const float[2]){0}, 8, 0, "already added"},
        {"", AIGTATT_ST_F32, 0, NULL, (const float[1]){0}, 4, 0, "empty"},
        {"__metadata__", AIGTATT_ST_F32, 0, NULL, (const float[1]){0}, 4, 0, "reserved"},
        {"bad\xff", AIGTATT_ST_F32, 0, NULL, (const float[1]){0}, 4, 0, "not valid UTF-8"},
        {"b", AIGTATT_ST_F32, 1, (const uint64_t[]){2}, (const float[2]){0}, 4, 0, "4 bytes given, but 2 elements of F32 need 8"},
        {"b", (aigtatt_st_dtype)77, 0, NULL, (const float[1]){0}, 4, 0, "unknown dtype"},
        {"b", AIGTATT_ST_F32, 1, NULL, (const float[1]){0}, 4, 0, "NULL shape"},
        {"b", AIGTATT_ST_F32, 0, NULL, NULL, 4, 0, "NULL data"},
        {"b", AIGTATT_ST_F32, 2, (const uint64_t[]){UINT64_C(1) << 62, 8}, (const float[1]){0}, 4, 0, "overflows"},
        {"b", AIGTATT_ST_F32, 1, (const uint64_t[]){UINT64_C(1) << 62}, (const float[1]){0}, 4, 0, "overflows"},
        {"b", AIGTATT_ST_F4, 1, (const uint64_t[]){3}, (const float[1]){0}, 1, 0, "whole number of bytes"},
        {"b", AIGTATT_ST_F32, 0, NULL, (const float[1]){0}, 4, 8, "unknown flags"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aigtatt_clear_error();
        int rc = aigtatt_st_writer_add(w, bad[i].name, bad[i].dtype, bad[i].ndim, bad[i].shape,
                                       bad[i].data, bad[i].nbytes, bad[i].flags);
        cr_assert_eq(rc, AIGTATT_ERR_INVALID, "case %zu accepted", i);
        cr_assert(strstr(aigtatt_last_error(), bad[i].msg), "case %zu: \"%s\" lacks \"%s\"", i,
                  aigtatt_last_error(), bad[i].msg);
    }
    cr_assert_eq(aigtatt_st_writer_add(NULL, "x", AIGTATT_ST_F32, 0, NULL, f, 4, 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_writer_add(w, NULL, AIGTATT_ST_F32, 0, NULL, f, 4, 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_writer_meta(w, "k", "bad\xc0\x80"), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_writer_meta(w, NULL, "v"), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_writer_meta(w, "k", NULL), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_writer_write(w, NULL), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_st_writer_write(NULL, "x"), AIGTATT_ERR_INVALID);
    /* A dimension past 2^63 - 1 could not be read back (JSON integers are
     * int64 in jansson), so it is refused even when the tensor is empty. */
    cr_assert_eq(aigtatt_st_writer_add(w, "z", AIGTATT_ST_F32, 2, (const uint64_t[]){0, UINT64_MAX}, NULL, 0, 0),
                 AIGTATT_ERR_INVALID);
    cr_assert(strstr(aigtatt_last_error(), "dimension 1 is 18446744073709551615"), "%s", aigtatt_last_error());
    /* A shape of 0 with huge other dimensions is fine (0 elements). */
    cr_assert_eq(aigtatt_st_writer_add(w, "z", AIGTATT_ST_F32, 2, (const uint64_t[]){0, INT64_MAX}, NULL, 0, 0), 0,
                 "%s", aigtatt_last_error());
    /* The failed adds changed nothing: the file holds a and z. */
    char *path = st_join(dir, "after.safetensors");
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_count(st), 2);
    aigtatt_st_close(st);
    (void)s;
    aigtatt_st_writer_free(w);
    aigtatt_st_writer_free(NULL);
    free(path);
}

/* Atomic write: parent folders created, no temporary left, an existing file
 * replaced whole, a failed write leaves the old file and no temporary. */
Test(st_roundtrip, atomic_write)
{
    char *sub = st_join(dir, "a/b/c");
    char *path = st_join(sub, "model.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    float f[3] = {1, 2, 3};
    uint64_t three = 3;
    cr_assert_eq(aigtatt_st_writer_add(w, "w", AIGTATT_ST_F32, 1, &three, f, 12, 0), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_writer_meta(w, "v", "2"), 0);
    /* Keep the first version open (mapped) while it is replaced. */
    aigtatt_st *old = NULL;
    cr_assert_eq(aigtatt_st_open(path, &old), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0, "%s", aigtatt_last_error());
    cr_assert_eq(st_count_entries(sub, ".tmp"), 0);
    cr_assert_null(aigtatt_st_metadata(old, "v"));
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_find(old, "w", &info), 0);
    cr_assert_eq(memcmp(info.data, f, 12), 0, "the old mapping still reads the old data");
    aigtatt_st_close(old);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0);
    cr_assert_str_eq(aigtatt_st_metadata(st, "v"), "2");
    aigtatt_st_close(st);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0644);

    /* Writing onto a folder fails; nothing is left behind. */
    char *folder = st_join(dir, "folder.safetensors");
    cr_assert_eq(mkdir(folder, 0755), 0);
    aigtatt_clear_error();
    cr_assert_eq(aigtatt_st_writer_write(w, folder), AIGTATT_ERR_IO);
    cr_assert(strstr(aigtatt_last_error(), folder), "%s", aigtatt_last_error());
    cr_assert_eq(st_count_entries(dir, ".tmp"), 0);
    /* A parent that is a file. */
    char *under_file = st_join(path, "x.safetensors");
    cr_assert_neq(aigtatt_st_writer_write(w, under_file), 0);
    cr_assert(strstr(aigtatt_last_error(), under_file), "%s", aigtatt_last_error());
    /* A bare relative name writes into the working folder. */
    cr_assert_eq(chdir(sub), 0);
    cr_assert_eq(aigtatt_st_writer_write(w, "rel.safetensors"), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_open("rel.safetensors", &st), 0, "%s", aigtatt_last_error());
    aigtatt_st_close(st);
    cr_assert_eq(st_count_entries(sub, ".tmp"), 0);
    aigtatt_st_writer_free(w);
    free(under_file);
    free(folder);
    free(path);
    free(sub);
}

/* Many tensors: find by name is exact for each. */
Test(st_roundtrip, many_tensors)
{
    char *path = st_join(dir, "many.safetensors");
    aigtatt_st_writer *w = aigtatt_st_writer_new();
    enum { N = 2000 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "layer%d.weight", (i * 7919) % N);
        int32_t v = (i * 7919) % N;
        uint64_t one = 1;
        cr_assert_eq(aigtatt_st_writer_add(w, name, AIGTATT_ST_I32, 1, &one, &v, 4, 0), 0);
    }
    cr_assert_eq(aigtatt_st_writer_write(w, path), 0);
    aigtatt_st_writer_free(w);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s", aigtatt_last_error());
    cr_assert_eq(aigtatt_st_count(st), N);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "layer%d.weight", i);
        aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
        cr_assert_eq(aigtatt_st_find(st, name, &info), 0, "%s", name);
        int32_t v;
        memcpy(&v, info.data, 4);
        cr_assert_eq(v, i);
    }
    aigtatt_st_close(st);
    free(path);
    (void)errno;
}
