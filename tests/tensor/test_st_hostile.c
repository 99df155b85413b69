/* Hostile and malformed safetensors files are refused with a message that
 * names the file and, where there is one, the tensor. Covers the reference
 * implementation's own deserialization tests (safetensors/src/tensor.rs)
 * and more. */
#include "tensor/st_test_util.h"

static char dir[256];
static char *path;

static void setup(void)
{
    st_mkdtemp(dir, sizeof dir);
    path = st_join(dir, "x.safetensors");
}

static void teardown(void)
{
    st_rmdir(dir);
    free(path);
}

TestSuite(st_hostile, .init = setup, .fini = teardown);

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A file of header `h` and `data` bytes of zeros. */
static void refused(const char *h, size_t data, int rc, const char *const *needles)
{
    st_make_file(path, h, strlen(h), UINT64_MAX, data, 0);
    st_expect_refused(path, rc, needles);
}

static aigtatt_st *accepted(const char *h, size_t data)
{
    st_make_file(path, h, strlen(h), UINT64_MAX, data, 0);
    aigtatt_st *st = NULL;
    cr_assert_eq(aigtatt_st_open(path, &st), 0, "%s: %s", h, aigtatt_last_error());
    return st;
}

#define T22 "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"

/* ---- the reference's tests ------------------------------------------- */

Test(st_hostile, reference_good_files)
{
    aigtatt_st *st = accepted(T22, 16);
    aigtatt_st_info info = AIGTATT_ST_INFO_INIT;
    cr_assert_eq(aigtatt_st_find(st, "test", &info), 0);
    cr_assert_eq(info.dtype, AIGTATT_ST_I32);
    cr_assert_eq(info.nbytes, 16);
    aigtatt_st_close(st);
    /* test_empty_shapes_allowed */
    st = accepted("{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4);
    cr_assert_eq(aigtatt_st_find(st, "test", &info), 0);
    cr_assert_eq(info.ndim, 0);
    cr_assert_eq(info.numel, 1);
    aigtatt_st_close(st);
    /* test_zero_sized_tensor */
    st = accepted("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0, 0]}}", 0);
    cr_assert_eq(aigtatt_st_find(st, "test", &info), 0);
    cr_assert_eq(info.nbytes, 0);
    aigtatt_st_close(st);
    /* test_whitespace_padded_header: trailing JSON whitespace is fine. */
    aigtatt_st_close(accepted("{}\r \t\n", 0));
    aigtatt_st_close(accepted("{}      ", 0));
    /* Unknown fields in a tensor entry are ignored, as serde does. */
    aigtatt_st_close(accepted("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":[1]}}", 1));
    /* "__metadata__": null is "no metadata" (serde's Option). */
    st = accepted("{\"__metadata__\":null}", 0);
    cr_assert_eq(aigtatt_st_metadata_count(st), 0);
    aigtatt_st_close(st);
    /* Tensors in any order in the header; listed by offset. */
    st = accepted("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]},"
                  "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 3);
    cr_assert_eq(aigtatt_st_tensor_at(st, 0, &info), 0);
    cr_assert_str_eq(info.name, "a");
    cr_assert_eq(aigtatt_st_tensor_at(st, 1, &info), 0);
    cr_assert_str_eq(info.name, "b");
    aigtatt_st_close(st);
    /* Several zero-sized tensors at the same offset. */
    st = accepted("{\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[0, 7],\"data_offsets\":[0,0]},"
                  "\"c\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
    cr_assert_eq(aigtatt_st_count(st), 3);
    aigtatt_st_close(st);
}

Test(st_hostile, header_too_small)
{
    st_write_bytes(path, "", 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("0 bytes, too short"));
    st_write_bytes(path, "\x02\0\0\0\0\0\0", 7);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("7 bytes, too short"));
}

Test(st_hostile, header_too_large)
{
    /* test_header_too_large: N = 0xffffff0000003c */
    const char *h = T22;
    st_make_file(path, h, strlen(h), UINT64_C(0xffffff000000003c), 16, 0);
    st_expect_refused(path, AIGTATT_ERR_LIMIT, NEEDLES("over the limit of 100000000"));
    /* N = 2^64 - 1 */
    st_make_file(path, h, strlen(h), UINT64_MAX - 1, 16, 0);
    st_expect_refused(path, AIGTATT_ERR_LIMIT, NEEDLES("18446744073709551614"));
    /* Just over the limit, with a file too short for it anyway. */
    st_make_file(path, h, strlen(h), 100000001, 16, 0);
    st_expect_refused(path, AIGTATT_ERR_LIMIT, NEEDLES("100000001"));
}

Test(st_hostile, header_beyond_file)
{
    /* test_invalid_header_length: N = 60, nothing after it. */
    st_make_file(path, "", 0, 60, 0, 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("header size 60 runs past the end"));
    /* N one byte past the end. */
    const char *h = T22;
    st_make_file(path, h, strlen(h), strlen(h) + 17, 16, 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("runs past the end of the file"));
    /* Exactly the limit but a short file. */
    st_make_file(path, h, strlen(h), 100000000, 16, 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("runs past the end"));
}

Test(st_hostile, header_not_utf8)
{
    /* test_invalid_header_non_utf8 */
    st_make_file(path, "\xff", 1, UINT64_MAX, 0, 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("does not begin with '{'"));
    refused("{\"t\xff\":{}}", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid UTF-8 (byte 3"));
    refused("{\"ok\":{\"dtype\":\"F\xc0\xb2\"}}", 0, AIGTATT_ERR_FORMAT,
            NEEDLES("not valid UTF-8", "key 'ok'"));
    /* A surrogate encoded in UTF-8 (CESU) and a code point past U+10FFFF. */
    refused("{\"\xed\xa0\x80\":1}", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid UTF-8"));
    refused("{\"\xf4\x90\x80\x80\":1}", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid UTF-8"));
    /* A truncated sequence at the very end. */
    refused("{\"a\":1}\xe2\x82", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid UTF-8 (byte 7"));
}

Test(st_hostile, header_not_json)
{
    /* test_invalid_header_not_json */
    refused("{", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid JSON"));
    refused("{} x", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid JSON"));
    refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}", 4,
            AIGTATT_ERR_FORMAT, NEEDLES("not valid JSON", "key 'a'"));
    refused("[]", 0, AIGTATT_ERR_FORMAT, NEEDLES("does not begin with '{'"));
    refused("\"{}\"", 0, AIGTATT_ERR_FORMAT, NEEDLES("does not begin with '{'"));
    /* NUL bytes, raw and escaped. */
    st_make_file(path, "{\"a\0\":1}", 8, UINT64_MAX, 0, 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("not valid JSON"));
    refused("{\"a\\u0000b\":{}}", 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid JSON"));
    /* Deep nesting. */
    char deep[5000];
    size_t o = 0;
    deep[o++] = '{';
    memcpy(deep + o, "\"a\":", 4);
    o += 4;
    for (int i = 0; i < 2200; i++)
        deep[o++] = '[';
    deep[o] = '\0';
    refused(deep, 0, AIGTATT_ERR_FORMAT, NEEDLES("not valid JSON"));
}

/* The format's rule: the header begins with '{'. The reference's code has
 * accepted leading whitespace since April 2026 (commit 96305fc, "writers may
 * pad the header"); its README still says MUST, and aigtatt keeps to it. */
Test(st_hostile, header_must_begin_with_brace)
{
    refused("\t\n{}\r ", 0, AIGTATT_ERR_FORMAT, NEEDLES("does not begin with '{'"));
    refused(" {}", 0, AIGTATT_ERR_FORMAT, NEEDLES("does not begin with '{'"));
    st_make_file(path, "", 0, UINT64_MAX, 0, 0);
    st_expect_refused(path, AIGTATT_ERR_FORMAT, NEEDLES("does not begin with '{'"));
}

Test(st_hostile, duplicate_keys)
{
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
            2, AIGTATT_ERR_FORMAT, NEEDLES("repeated", "key 'a'"));
    /* The same key spelt with an escape. */
    refused("{\"ab\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            "\"a\\u0062\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
            2, AIGTATT_ERR_FORMAT, NEEDLES("repeated"));
    /* A repeated field inside an entry names the tensor. */
    refused("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1]}}",
            1, AIGTATT_ERR_FORMAT, NEEDLES("repeated", "key 'w'"));
    refused("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, AIGTATT_ERR_FORMAT,
            NEEDLES("repeated", "__metadata__"));
    refused("{\"__metadata__\":{},\"__metadata__\":{}}", 0, AIGTATT_ERR_FORMAT, NEEDLES("repeated"));
}

Test(st_hostile, bad_entries)
{
    refused("{\"w\":1}", 0, AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "not an object"));
    refused("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 'w'", "missing \"dtype\""));
    refused("{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 'w'", "missing \"shape\""));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 'w'", "missing \"data_offsets\""));
    refused("{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "unknown dtype 'F33'"));
    refused("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
            AIGTATT_ERR_FORMAT, NEEDLES("unknown dtype 'f32'"));
    refused("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, AIGTATT_ERR_FORMAT,
            NEEDLES("\"dtype\" is an integer, not a string"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "\"shape\" is an integer, not an array"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "shape entry 0 is a negative integer"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1, 1.0],\"data_offsets\":[0,1]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "shape entry 1 is a non-integer number"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("shape entry 0 is a string"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "two integers"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "two integers"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "two integers"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "data offset begin is a negative integer"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.0]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "data offset end is a non-integer number"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1e0]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "non-integer"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,null]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("data offset end is null"));
    refused("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,0]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'w'", "[1, 0] end before they begin"));
    /* Hostile key text is quoted safely in the message. */
    refused("{\"a\\u001b[31m'\":1}", 0, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 'a\\x1b[31m\\x27'", "not an object"));
}

Test(st_hostile, metadata)
{
    refused("{\"__metadata__\":{\"k\":1}}", 0, AIGTATT_ERR_FORMAT,
            NEEDLES("\"__metadata__\" value of key 'k' is an integer; only strings"));
    refused("{\"__metadata__\":{\"k\":{\"a\":\"b\"}}}", 0, AIGTATT_ERR_FORMAT,
            NEEDLES("key 'k' is an object"));
    refused("{\"__metadata__\":{\"k\":null}}", 0, AIGTATT_ERR_FORMAT, NEEDLES("key 'k' is null"));
    refused("{\"__metadata__\":[\"a\"]}", 0, AIGTATT_ERR_FORMAT,
            NEEDLES("\"__metadata__\" is an array, not an object"));
    refused("{\"__metadata__\":\"x\"}", 0, AIGTATT_ERR_FORMAT, NEEDLES("\"__metadata__\" is a string"));
}

Test(st_hostile, size_mismatch)
{
    /* test_invalid_info: [2, 2] I32 in 4 bytes */
    refused("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0, 4]}}", 4,
            AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 'test'", "[0, 4] hold 4 bytes, but 4 elements of I32 need 16"));
    refused("{\"t\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 't'", "whole number of bytes"));
    aigtatt_st_close(accepted("{\"t\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", 2));
    aigtatt_st_close(accepted("{\"t\":{\"dtype\":\"F6_E3M2\",\"shape\":[4],\"data_offsets\":[0,3]}}", 3));
}

Test(st_hostile, overflow)
{
    /* test_validation_overflow: jansson keeps integers in int64, so the
     * reference's 2^64-2 is "too big" for it; either way it is refused and
     * the message names the tensor. */
    refused("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],"
            "\"data_offsets\":[0,16]}}", 16, AIGTATT_ERR_FORMAT,
            NEEDLES("key 'test'", "too big integer"));
    /* 2 * (2^63 - 1) elements overflows the element count. */
    refused("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],"
            "\"data_offsets\":[0,16]}}", 16, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 'test'", "overflows 64 bits"));
    /* 2^63 elements: fits the count, overflows the byte size. */
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[4294967296,2147483648],"
            "\"data_offsets\":[0,1]}}", 1, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 't'", "overflows 64 bits"));
    /* 2^62 one-byte elements: 2^65 bits overflow (the reference counts
     * bits too, for its 4- and 6-bit types). */
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[4611686018427387904],"
            "\"data_offsets\":[0,1]}}", 1, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 't'", "overflows 64 bits"));
    /* 2^60 one-byte elements: no overflow, but not the 1 byte it claims. */
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[1152921504606846976],"
            "\"data_offsets\":[0,1]}}", 1, AIGTATT_ERR_FORMAT,
            NEEDLES("tensor 't'", "need 1152921504606846976"));
    /* An overflow is an overflow even when a later dimension is 0 (the
     * reference's checked fold stops at the first overflow). */
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,0],"
            "\"data_offsets\":[0,0]}}", 0, AIGTATT_ERR_FORMAT, NEEDLES("overflows 64 bits"));
    /* ...but 0 first is just an empty tensor. */
    aigtatt_st_close(accepted("{\"t\":{\"dtype\":\"U8\",\"shape\":[0,4294967296,4294967296],"
                              "\"data_offsets\":[0,0]}}", 0));
    /* Huge offsets. */
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9223372036854775807,"
            "9223372036854775808]}}", 1, AIGTATT_ERR_FORMAT, NEEDLES("key 't'", "too big integer"));
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9223372036854775806,"
            "9223372036854775807]}}", 1, AIGTATT_ERR_FORMAT, NEEDLES("tensor 't'", "leave a gap"));
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1e300,1]}}", 1,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 't'", "non-integer"));
}

Test(st_hostile, offsets_gap_overlap)
{
    /* test_json_attack: ten tensors all at [0, 16]. */
    char h[2048];
    size_t o = 0;
    o += (size_t)snprintf(h + o, sizeof h - o, "{");
    for (int i = 0; i < 10; i++)
        o += (size_t)snprintf(h + o, sizeof h - o,
                              "%s\"weight_%d\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}",
                              i ? "," : "", i);
    snprintf(h + o, sizeof h - o, "}");
    refused(h, 16, AIGTATT_ERR_FORMAT, NEEDLES("tensor 'weight_", "overlap", "contiguously"));
    /* A gap. */
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}", 3,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'b'", "[2, 3] leave a gap", "ends at 1"));
    /* Not starting at 0. */
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'a'", "leave a gap"));
    /* Overlap. */
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
            "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 3,
            AIGTATT_ERR_FORMAT, NEEDLES("tensor 'b'", "overlap"));
    /* A zero-sized tensor in the middle of another. */
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
            "\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,1]}}", 2,
            AIGTATT_ERR_FORMAT, NEEDLES("overlap"));
}

Test(st_hostile, buffer_not_covered)
{
    /* test_metadata_incomplete_buffer: trailing bytes (a polyglot file)... */
    const char *h = T22;
    size_t hl = strlen(h);
    unsigned char b[200] = {0};
    b[0] = (unsigned char)hl;
    memcpy(b + 8, h, hl);
    memcpy(b + 8 + hl + 16, "extra_bogus_data_for_polyglot_file", 34);
    st_write_bytes(path, b, 8 + hl + 16 + 34);
    st_expect_refused(path, AIGTATT_ERR_FORMAT,
                      NEEDLES("holds 50 bytes but the tensors cover 16", "trailing bytes"));
    /* ...and missing bytes. */
    refused(h, 14, AIGTATT_ERR_FORMAT, NEEDLES("holds 14 bytes but the tensors cover 16", "truncated"));
    /* A tensor whose end lies far past the end of the file. */
    refused("{\"t\":{\"dtype\":\"U8\",\"shape\":[1000000000],\"data_offsets\":[0,1000000000]}}", 4,
            AIGTATT_ERR_FORMAT, NEEDLES("truncated"));
    /* No tensors but data. */
    refused("{}", 8, AIGTATT_ERR_FORMAT, NEEDLES("trailing"));
}

Test(st_hostile, not_a_file)
{
    st_expect_refused(dir, AIGTATT_ERR_IO, NEEDLES("not a regular file"));
    char *missing = st_join(dir, "missing.safetensors");
    st_expect_refused(missing, AIGTATT_ERR_IO, NEEDLES("cannot open", "No such file"));
    free(missing);
    aigtatt_st *st = (aigtatt_st *)0x1;
    cr_assert_eq(aigtatt_st_open(NULL, &st), AIGTATT_ERR_INVALID);
    cr_assert_null(st);
    cr_assert_eq(aigtatt_st_open(path, NULL), AIGTATT_ERR_INVALID);
}

/* The error of a JSON syntax error deep in the file names the tensor whose
 * entry holds it, even past other entries with nested arrays. */
Test(st_hostile, error_names_the_right_key)
{
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            "\"b\\\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]},"
            "\"d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]]}", 3,
            AIGTATT_ERR_FORMAT, NEEDLES("key 'd'"));
    refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            "\"b\\\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2}}", 3,
            AIGTATT_ERR_FORMAT, NEEDLES("key 'b\\x5c\"c'"));
}
