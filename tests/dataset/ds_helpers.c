#include "ds_helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image.h"
#include "plugin/registry.h"
#include "util/fs.h"
#include "util/hash.h"

char *ds_tmpdir(void)
{
    char tmpl[] = "/tmp/aigtatt-ds-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void ds_write_bytes(const char *path, const void *data, size_t n)
{
    char *dir = aigtatt_path_dirname(path);
    aigtatt_mkdirs(dir);
    free(dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

char *ds_write(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    ds_write_bytes(p, text, strlen(text));
    return p;
}

char *ds_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

int ds_sh(char **out, const char *fmt, ...)
{
    char cmd[16384], full[16500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        *out = strdup("");
        return -1;
    }
    size_t cap = 4096, len = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    *out = buf;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

const char *ds_cli(void)
{
    const char *b = getenv("AIGTATT_BIN");
    return b ? b : "aigtatt";
}

int ds_run(char **out, const char *dir, const char *yaml, const char *work, const char *extra)
{
    return ds_sh(out, "cd '%s' && '%s' -q run '%s' --plain --workdir '%s/%s' %s", dir, ds_cli(), yaml, dir, work,
                 extra ? extra : "");
}

char *ds_port_dir(const char *dir, const char *work, const char *node, const char *port)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s/latest/nodes/%s/%s", dir, work, node, port);
    char *r = realpath(p, NULL);
    return r ? r : strdup(p);
}

json_t *ds_manifest(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/manifest.jsonl", dir);
    json_t *arr = json_array();
    char *text = ds_read(p);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        if (o)
            json_array_append_new(arr, o);
    }
    free(text);
    return arr;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void hash_dir(aigtatt_sha256 *h, const char *root, const char *rel, const char *skip)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char r2[4096], full[4096];
        snprintf(r2, sizeof r2, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        snprintf(full, sizeof full, "%s/%s", root, r2);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            hash_dir(h, root, r2, skip);
        } else if (!skip || strcmp(names[i], skip)) {
            char *data = NULL;
            size_t size = 0;
            aigtatt_sha256_field(h, r2);
            if (aigtatt_read_file(full, (size_t)1 << 30, &data, &size) == 0)
                aigtatt_sha256_update(h, data, size);
            free(data);
        }
        free(names[i]);
    }
    free(names);
}

void ds_tree_hash(const char *dir, const char *skip, char out[65])
{
    aigtatt_sha256 *h = aigtatt_sha256_new();
    hash_dir(h, dir, "", skip);
    aigtatt_sha256_hex(h, out);
}

void ds_png(const char *path, int w, int h, int bx, int by, int bw, int bh, int variant)
{
    aigtatt_image *img = aigtatt_image_new(w, h, 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * 3;
            p[0] = 214;
            p[1] = 168;
            p[2] = 132;
            int in = x >= bx && x < bx + bw && y >= by && y < by + bh;
            int u = x - bx, v = y - by;
            /* Rings and bars: a different "design" per variant. */
            int cx = bw / 2, cy = bh / 2, r2 = (u - cx) * (u - cx) + (v - cy) * (v - cy);
            int ring = r2 / (16 + 8 * (variant % 4));
            int ink = in && (ring % 5 == 0 || (variant % 3 == 1 && (u / 6) % 4 == 0) ||
                             (variant % 3 == 2 && ((u + v) / 5) % 5 == 0));
            if (ink)
                p[0] = 30, p[1] = 28, p[2] = 34;
        }
    char *dir = aigtatt_path_dirname(path);
    aigtatt_mkdirs(dir);
    free(dir);
    aigtatt_image_save(img, path, 0);
    aigtatt_image_free(img);
}

void ds_load_plugins(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const char *d = getenv("AIGTATT_PLUGIN_DIR");
    if (d)
        aigtatt_registry_scan_dir(d);
}

void ds_rmtree(const char *dir)
{
    if (dir)
        aigtatt_rmtree(dir);
}

int ds_limit_address_space(size_t above)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)above;
    return 0;
#else
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    cr_assert_gt(kb, 0, "no VmSize in /proc/self/status");
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (kb << 10) + above;
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0, "setrlimit(RLIMIT_AS)");
    return 1;
#endif
}
