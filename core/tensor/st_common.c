/* safetensors: the dtype table and helpers shared by the reader and writer. */
#include "tensor/st_internal.h"

#include <stdio.h>
#include <string.h>

/* `rank` is the position in the reference's `Dtype` enum
 * (safetensors/src/tensor.rs: "They MUST be in increasing alignment
 * order"); its serializer orders tensors by it, descending, then by name. */
static const struct {
    aigtatt_st_dtype dtype;
    const char *name;
    unsigned bits;
    int rank;
} DTYPES[] = {
    {AIGTATT_ST_BOOL, "BOOL", 8, 1},
    {AIGTATT_ST_F4, "F4", 4, 2},
    {AIGTATT_ST_F6_E2M3, "F6_E2M3", 6, 3},
    {AIGTATT_ST_F6_E3M2, "F6_E3M2", 6, 4},
    {AIGTATT_ST_U8, "U8", 8, 5},
    {AIGTATT_ST_I8, "I8", 8, 6},
    {AIGTATT_ST_F8_E5M2, "F8_E5M2", 8, 7},
    {AIGTATT_ST_F8_E4M3, "F8_E4M3", 8, 8},
    {AIGTATT_ST_F8_E8M0, "F8_E8M0", 8, 9},
    {AIGTATT_ST_F8_E4M3FNUZ, "F8_E4M3FNUZ", 8, 10},
    {AIGTATT_ST_F8_E5M2FNUZ, "F8_E5M2FNUZ", 8, 11},
    {AIGTATT_ST_I16, "I16", 16, 12},
    {AIGTATT_ST_U16, "U16", 16, 13},
    {AIGTATT_ST_F16, "F16", 16, 14},
    {AIGTATT_ST_BF16, "BF16", 16, 15},
    {AIGTATT_ST_I32, "I32", 32, 16},
    {AIGTATT_ST_U32, "U32", 32, 17},
    {AIGTATT_ST_F32, "F32", 32, 18},
    {AIGTATT_ST_C64, "C64", 64, 19},
    {AIGTATT_ST_F64, "F64", 64, 20},
    {AIGTATT_ST_I64, "I64", 64, 21},
    {AIGTATT_ST_U64, "U64", 64, 22},
};
#define N_DTYPES (sizeof DTYPES / sizeof DTYPES[0])

static int find_dtype(aigtatt_st_dtype dtype)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (DTYPES[i].dtype == dtype)
            return (int)i;
    return -1;
}

const char *aigtatt_st_dtype_name(aigtatt_st_dtype dtype)
{
    int i = find_dtype(dtype);
    return i < 0 ? NULL : DTYPES[i].name;
}

aigtatt_st_dtype aigtatt_st_dtype_parse(const char *name)
{
    if (!name)
        return AIGTATT_ST_INVALID;
    for (size_t i = 0; i < N_DTYPES; i++)
        if (strcmp(DTYPES[i].name, name) == 0)
            return DTYPES[i].dtype;
    return AIGTATT_ST_INVALID;
}

size_t aigtatt_st_dtype_bits(aigtatt_st_dtype dtype)
{
    int i = find_dtype(dtype);
    return i < 0 ? 0 : DTYPES[i].bits;
}

int aigtatt_sti_dtype_rank(aigtatt_st_dtype dtype)
{
    int i = find_dtype(dtype);
    return i < 0 ? 0 : DTYPES[i].rank;
}

size_t aigtatt_sti_utf8_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* no overlong forms */
            else if (c == 0xED)
                hi = 0x9F; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F; /* nothing past U+10FFFF */
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

const char *aigtatt_sti_quote(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    if (size < 16) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '\'';
    size_t limit = size - 8 < 120 ? size - 8 : 120;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (o >= limit) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p >= 0x20 && *p < 0x7F && *p != '\'' && *p != '\\') {
            buf[o++] = (char)*p;
        } else if (*p >= 0x80) {
            /* Keep UTF-8 as is when the whole character is valid. */
            size_t rest = strlen((const char *)p);
            size_t ok = aigtatt_sti_utf8_prefix(p, rest > 4 ? 4 : rest);
            size_t len = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
            if (ok >= len && o + len < limit) {
                memcpy(buf + o, p, len);
                o += len;
                p += len - 1;
            } else {
                o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
            }
        } else {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
        }
    }
    buf[o++] = '\'';
    buf[o] = '\0';
    return buf;
}

int aigtatt_sti_byte_size(aigtatt_st_dtype dtype, size_t ndim, const uint64_t *shape, uint64_t *elements,
                 uint64_t *bytes)
{
    uint64_t n = 1;
    int overflow = 0;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] != 0 && n > UINT64_MAX / shape[i])
            overflow = 1; /* a later 0 does not make it valid: the reference
                             folds with checked_mul and fails at once */
        if (overflow)
            break;
        n *= shape[i];
    }
    if (overflow)
        return 1;
    uint64_t bits = aigtatt_st_dtype_bits(dtype);
    if (bits == 0 || (n != 0 && n > UINT64_MAX / bits))
        return 1;
    if ((n * bits) % 8 != 0)
        return 2;
    *elements = n;
    *bytes = n * bits / 8;
    return 0;
}
