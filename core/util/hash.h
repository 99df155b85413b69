/* SHA-256 (OpenSSL's libcrypto) for cache keys and seed derivation. */
#ifndef AIGTATT_CORE_HASH_H
#define AIGTATT_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct aigtatt_sha256 aigtatt_sha256;

/** A running hash; NULL on OOM. */
aigtatt_sha256 *aigtatt_sha256_new(void);
void aigtatt_sha256_update(aigtatt_sha256 *h, const void *data, size_t n);
/** Adds a string with its length first, so ("ab","c") != ("a","bc"). */
void aigtatt_sha256_field(aigtatt_sha256 *h, const char *s);
/** Finishes into 65 bytes of lowercase hex and frees `h`. */
void aigtatt_sha256_hex(aigtatt_sha256 *h, char out[65]);
/** Finishes into 32 raw bytes and frees `h`. */
void aigtatt_sha256_raw(aigtatt_sha256 *h, unsigned char out[32]);

/** Seed derivation exposed as host->seed_derive. */
uint64_t aigtatt_seed_derive(uint64_t seed, const char *label, uint64_t index);

#endif
