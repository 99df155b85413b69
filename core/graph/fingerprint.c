#include "graph/fingerprint.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error.h"
#include "util/fs.h"

/* A bound on the entries walked, so a parameter pointing at "/" cannot
 * stall validation; beyond it the folder is keyed by what was seen. */
#define MAX_ENTRIES 2000000

static void add_stat(aigtatt_sha256 *h, const char *rel, const struct stat *st)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%c %lld %lld.%09ld", S_ISDIR(st->st_mode) ? 'd' : S_ISREG(st->st_mode) ? 'f' : 'o',
             S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, (long long)st->st_mtim.tv_sec,
             S_ISDIR(st->st_mode) ? 0L : st->st_mtim.tv_nsec);
    aigtatt_sha256_field(h, rel);
    aigtatt_sha256_field(h, buf);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Symlinked folders are followed this deep at most (a link to its own
 * parent would otherwise recurse until the path is too long). */
#define MAX_DEPTH 64

/* The folder left out by name: the experiment's own workdir. */
typedef struct skip {
    const char *path;
} skip;

/* Whether folder `dir` is a workdir: this experiment's (by name), or any
 * that aigtatt has run in (it holds the run lock, whatever path reaches
 * it). Their runs and caches change with every run, so walking them would
 * rerun the node each time and let two experiments invalidate each other. */
static int is_workdir(const char *dir, const skip *sk)
{
    if (sk->path && !strcmp(dir, sk->path))
        return 1;
    char *lock = aigtatt_path_join(dir, ".aigtatt-run.lock");
    struct stat ls;
    int r = lock && lstat(lock, &ls) == 0;
    free(lock);
    return r;
}

static void walk(aigtatt_sha256 *h, const char *abs, const char *rel, const skip *sk, size_t *count, int depth)
{
    DIR *d = opendir(abs);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if ((names[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (++*count <= MAX_ENTRIES) {
            char *child = aigtatt_path_join(abs, names[i]);
            char *crel = rel[0] ? aigtatt_path_join(rel, names[i]) : strdup(names[i]);
            struct stat st;
            /* what a symlink points to, as the readers (image.folder)
             * follow it; a dangling one as itself */
            if (child && crel && (stat(child, &st) == 0 || lstat(child, &st) == 0) &&
                !(S_ISDIR(st.st_mode) && is_workdir(child, sk))) {
                /* Folders count only through what they hold: their own
                 * times change whenever an entry comes or goes (a workdir
                 * being made, say), which the walk sees anyway. */
                if (!S_ISDIR(st.st_mode))
                    add_stat(h, crel, &st);
                else if (depth < MAX_DEPTH)
                    walk(h, child, crel, sk, count, depth + 1);
            }
            free(child);
            free(crel);
        }
        free(names[i]);
    }
    free(names);
}

void aigtatt_fingerprint_path(aigtatt_sha256 *h, const char *path, const char *exclude)
{
    struct stat st;
    aigtatt_sha256_field(h, "path-fingerprint-v1");
    if (stat(path, &st) != 0) {
        aigtatt_sha256_field(h, "missing");
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_stat(h, "", &st);
    } else {
        /* a folder, like the ones below it, only through what it holds
         * (its own tag: a file's key is as it always was) */
        aigtatt_sha256_field(h, "folder-v2");
        size_t count = 0;
        skip sk = {.path = exclude};
        walk(h, path, "", &sk, &count, 0);
        if (count > MAX_ENTRIES)
            aigtatt_log(AIGTATT_LOG_WARN, "%s holds over %d entries; only the first are part of the cache key",
                        path, MAX_ENTRIES);
    }
}
