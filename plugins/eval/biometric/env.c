/* Protocol services: warnings, seeded generators, block scheduling. */
#include "protocol.h"

#include <aigtatt/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bm_env_warn(bm_env *env, const char *fmt, ...)
{
    char buf[BM_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = realloc(env->warnings, (env->n_warnings + 1) * sizeof *w);
    if (!w)
        return;
    env->warnings = w;
    if ((w[env->n_warnings] = bm_strdup(buf)) != NULL)
        env->n_warnings++;
}

void bm_env_free(bm_env *env)
{
    for (size_t i = 0; i < env->n_warnings; i++)
        free(env->warnings[i]);
    free(env->warnings);
    env->warnings = NULL;
    env->n_warnings = 0;
}

size_t bm_block_doubles(const bm_env *env)
{
    size_t b = env && env->block_bytes ? env->block_bytes : (size_t)32 << 20;
    return b / sizeof(double) ? b / sizeof(double) : 1;
}

void bm_note_block(bm_env *env, size_t bytes)
{
    /* Blocks are planned before any thread starts, so no race here. */
    if (env && bytes > env->peak_block_bytes)
        env->peak_block_bytes = bytes;
}

uint64_t bm_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

size_t bm_rand_below(uint64_t *s, size_t n)
{
    /* Rejection keeps the draw unbiased for any n. */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, r;
    do
        r = bm_rand(s);
    while (r >= lim);
    return (size_t)(r % n);
}

uint64_t bm_derive(const bm_env *env, uint64_t seed, const char *label, uint64_t index)
{
    if (env && env->seed_derive)
        return env->seed_derive(seed, label, index);
    /* FNV-1a of the label folded with the seed and index, then mixed. */
    uint64_t h = 1469598103934665603ull ^ seed;
    for (const char *p = label; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    uint64_t s = h ^ (index * 0xd1b54a32d192ed03ull);
    return bm_rand(&s);
}

int bm_namer_init(bm_namer *nm, const bm_emb *e)
{
    size_t longest = 0;
    for (size_t l = 0; l < e->n_labels; l++) {
        size_t n = strlen(e->label_names[l]);
        longest = n > longest ? n : longest;
    }
    nm->cap = BM_STREAM_MAX + 1 + longest + 1;
    nm->buf = malloc(nm->cap);
    return nm->buf ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
}

void bm_namer_free(bm_namer *nm)
{
    free(nm->buf);
    nm->buf = NULL;
    nm->cap = 0;
}

uint64_t bm_derive_named(const bm_env *env, bm_namer *nm, uint64_t seed, const char *stream,
                         const char *name, uint64_t index)
{
    /* Streams are the protocols' own constants, so this never truncates. */
    snprintf(nm->buf, nm->cap, "%.*s/%s", BM_STREAM_MAX, stream, name);
    return bm_derive(env, seed, nm->buf, index);
}
