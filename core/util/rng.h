/* xoshiro256** seeded through splitmix64: fast, small, and the same
 * sequence on every platform, which reproducible datasets need. */
#ifndef AIGTATT_CORE_RNG_H
#define AIGTATT_CORE_RNG_H

#include <aigtatt/host.h>

struct aigtatt_rng {
    uint64_t s[4];
    int has_spare;
    double spare;
};

void aigtatt_rng_seed(aigtatt_rng *r, uint64_t seed);
aigtatt_rng *aigtatt_rng_new(uint64_t seed);
void aigtatt_rng_free(aigtatt_rng *r);
uint64_t aigtatt_rng_u64(aigtatt_rng *r);
double aigtatt_rng_uniform(aigtatt_rng *r);
double aigtatt_rng_normal(aigtatt_rng *r);

#endif
