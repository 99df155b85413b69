#include "util/hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aigtatt_sha256 {
    EVP_MD_CTX *ctx;
};

aigtatt_sha256 *aigtatt_sha256_new(void)
{
    aigtatt_sha256 *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

void aigtatt_sha256_update(aigtatt_sha256 *h, const void *data, size_t n)
{
    EVP_DigestUpdate(h->ctx, data, n);
}

void aigtatt_sha256_field(aigtatt_sha256 *h, const char *s)
{
    uint64_t n = s ? strlen(s) : UINT64_MAX;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(n >> (8 * i));
    EVP_DigestUpdate(h->ctx, len, sizeof len);
    if (s)
        EVP_DigestUpdate(h->ctx, s, strlen(s));
}

void aigtatt_sha256_raw(aigtatt_sha256 *h, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_DigestFinal_ex(h->ctx, out, &n);
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void aigtatt_sha256_hex(aigtatt_sha256 *h, char out[65])
{
    unsigned char raw[32];
    aigtatt_sha256_raw(h, raw);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

uint64_t aigtatt_seed_derive(uint64_t seed, const char *label, uint64_t index)
{
    unsigned char buf[8], raw[32];
    aigtatt_sha256 *h = aigtatt_sha256_new();
    if (!h)
        return seed ^ index; /* only on OOM; still deterministic */
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(seed >> (8 * i));
    aigtatt_sha256_update(h, "aigtatt-seed", 12);
    aigtatt_sha256_update(h, buf, 8);
    aigtatt_sha256_field(h, label ? label : "");
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(index >> (8 * i));
    aigtatt_sha256_update(h, buf, 8);
    aigtatt_sha256_raw(h, raw);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)raw[i] << (8 * i);
    return v;
}
