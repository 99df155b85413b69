/* Shared by safetensors_read.c, safetensors_write.c and st_common.c. */
#ifndef AIGTATT_CORE_ST_INTERNAL_H
#define AIGTATT_CORE_ST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tensor/safetensors.h"

/** The dtype's position in the reference's `Dtype` enum (declaration order,
 *  which its serializer sorts by, descending); 0 for an unknown dtype. */
int aigtatt_sti_dtype_rank(aigtatt_st_dtype dtype);

/** Length of the longest valid UTF-8 prefix of s[0..n) (strict: no overlong
 *  forms, surrogates or code points past U+10FFFF, as Rust's from_utf8). */
size_t aigtatt_sti_utf8_prefix(const unsigned char *s, size_t n);

/** Writes `s` quoted for an error message into buf: printable ASCII as is,
 *  '"' and '\' and other bytes escaped, cut with "..." past about 120 bytes.
 *  Returns buf. */
const char *aigtatt_sti_quote(const char *s, char *buf, size_t size);
#define ST_QUOTE_SIZE 512

/** elements = product of shape, bytes = elements * bits / 8. Returns 0, or
 *  1 when the product or the bit count overflows 64 bits, or 2 when the bit
 *  count is not a whole number of bytes. */
int aigtatt_sti_byte_size(aigtatt_st_dtype dtype, size_t ndim, const uint64_t *shape, uint64_t *elements,
                 uint64_t *bytes);

#endif
