/* Seeded randomness for the renderer. Our own generator rather than rand()
 * so that a (prompt, seed) pair gives the same design on every machine and
 * in every thread. */
#include <math.h>
#include "pg.h"

uint64_t pg_mix64(uint64_t x)
{
    /* splitmix64's finaliser: every input bit moves every output bit. */
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t pg_hash_bytes(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    h ^= 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return pg_mix64(h);
}

void pg_rng_seed(pg_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9E3779B97F4A7C15ull;
        r->s[i] = pg_mix64(x);
    }
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t pg_rng_u64(pg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double pg_rnd(pg_rng *r) { return (double)(pg_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

double pg_rrange(pg_rng *r, double lo, double hi) { return lo + (hi - lo) * pg_rnd(r); }

int pg_rint(pg_rng *r, int n) { return n <= 0 ? 0 : (int)(pg_rnd(r) * n); }

int pg_chance(pg_rng *r, double p) { return pg_rnd(r) < p; }

double pg_rnormal(pg_rng *r)
{
    /* Box-Muller; one value per call keeps the stream simple to reason about. */
    double u1 = pg_rnd(r), u2 = pg_rnd(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

int pg_rpick(pg_rng *r, const double *w, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += w[i] > 0 ? w[i] : 0;
    if (sum <= 0)
        return 0;
    double x = pg_rnd(r) * sum;
    for (int i = 0; i < n; i++) {
        double wi = w[i] > 0 ? w[i] : 0;
        if (x < wi)
            return i;
        x -= wi;
    }
    return n - 1;
}
