#include "util/rng.h"

#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void aigtatt_rng_seed(aigtatt_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
    r->has_spare = 0;
    r->spare = 0;
}

aigtatt_rng *aigtatt_rng_new(uint64_t seed)
{
    aigtatt_rng *r = malloc(sizeof *r);
    if (r)
        aigtatt_rng_seed(r, seed);
    return r;
}

void aigtatt_rng_free(aigtatt_rng *r) { free(r); }

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t aigtatt_rng_u64(aigtatt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double aigtatt_rng_uniform(aigtatt_rng *r)
{
    return (double)(aigtatt_rng_u64(r) >> 11) * 0x1.0p-53;
}

double aigtatt_rng_normal(aigtatt_rng *r)
{
    /* Marsaglia's polar method: exact, and uses only the uniform stream. */
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * aigtatt_rng_uniform(r) - 1.0;
        v = 2.0 * aigtatt_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    r->spare = v * m;
    r->has_spare = 1;
    return u * m;
}
