#include "provider/ph.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char ph_dir[256];
fake_api *ph_fa;

void ph_setup(void)
{
    snprintf(ph_dir, sizeof ph_dir, "/tmp/aigtatt-prov-XXXXXX");
    cr_assert_not_null(mkdtemp(ph_dir));
    ph_fa = fa_start();
    cr_assert_not_null(ph_fa, "the fake API did not start");
}

void ph_teardown(void)
{
    fa_stop(ph_fa);
    ph_fa = NULL;
    char *out;
    if (!getenv("AIGTATT_TEST_KEEP"))
        ph_sh(&out, "rm -rf %s", ph_dir);
    else
        ph_sh(&out, "true");
    free(out);
}

void ph_write(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", ph_dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

void ph_prompts(int n)
{
    static const char *const words[] = {"a wolf", "a rose", "a koi", "a skull", "a compass", "a swallow",
                                        "a dagger", "a moth", "a lotus", "a raven"};
    char text[8192] = "";
    for (int i = 0; i < n; i++) {
        char line[160];
        snprintf(line, sizeof line, "In the style of TOK, a unique, intricate tattoo on the forearm describing %s "
                 "number %d\n", words[i % 10], i + 1);
        strcat(text, line);
    }
    ph_write("prompts.txt", text);
}

char *ph_read(const char *rel, size_t *len)
{
    char p[1024];
    if (rel[0] == '/')
        snprintf(p, sizeof p, "%s", rel);
    else
        snprintf(p, sizeof p, "%s/%s", ph_dir, rel);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t r = fread(b, 1, (size_t)n, f);
    fclose(f);
    b[r] = 0;
    if (len)
        *len = r;
    return b;
}

const char *ph_base(void)
{
    static char b[128];
    snprintf(b, sizeof b, "http://127.0.0.1:%d/v1", fa_port(ph_fa, 0));
    return b;
}

static int run_sh(char **out, const char *cmd)
{
    char full[20000];
    snprintf(full, sizeof full, "cd %s && ( %s ) 2>&1", ph_dir, cmd);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p);
    size_t cap = 8192, len = 0, r;
    char *buf = malloc(cap);
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int ph_sh(char **out, const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return run_sh(out, cmd);
}

int ph_cli(char **out, double *secs, const char *envs, const char *fmt, ...)
{
    const char *bin = getenv("AIGTATT_BIN");
    cr_assert(bin && *bin, "AIGTATT_BIN is not set (run through ctest)");
    char args[8192], cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    /* No key or .env of the developer's leaks in: only what the test sets. */
    snprintf(cmd, sizeof cmd, "env -u OPENAI_API_KEY -u REPLICATE_API_TOKEN -u AIGTATT_ENV_FILE "
             "-u AIGTATT_HTTP_VERBOSE -u AIGTATT_HTTP_MAX_IN_FLIGHT %s %s %s", envs ? envs : "", bin, args);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = run_sh(out, cmd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (secs)
        *secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return rc;
}

json_t *ph_manifest(const char *rel)
{
    char *text = ph_read(rel, NULL);
    if (!text)
        return NULL;
    json_t *arr = json_array();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j, "bad manifest line in %s: %s", rel, line);
        json_array_append_new(arr, j);
    }
    free(text);
    return arr;
}

int ph_tree_has(const char *rel, const char *needle)
{
    char *out;
    int rc = ph_sh(&out, "grep -r -l -a -F -e '%s' '%s'", needle, rel);
    free(out);
    return rc == 0;
}

unsigned long long ph_node_seed(const char *workdir, const char *node)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s/latest/lock.json", ph_dir, workdir);
    json_t *j = json_load_file(p, 0, NULL);
    cr_assert_not_null(j, "no %s", p);
    json_t *n = json_object_get(json_object_get(j, "nodes"), node);
    json_t *s = json_object_get(n, "seed");
    unsigned long long v = 0;
    if (json_is_string(s))
        v = strtoull(json_string_value(s), NULL, 10);
    else if (json_is_integer(s))
        v = (unsigned long long)json_integer_value(s);
    else
        cr_assert_fail("no seed for %s in %s", node, p);
    json_decref(j);
    return v;
}
