#include "refrun.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef BM_TEST_SOURCE_DIR
#define BM_TEST_SOURCE_DIR "."
#endif

void ref_begin(ref_run *r)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(r->dir, sizeof r->dir, "%s/aigtatt-evalref.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(r->dir), "cannot create a temporary folder");
    r->cases = json_array();
}

char *ref_write(ref_run *r, const char *file, const void *data, size_t bytes)
{
    size_t len = strlen(r->dir) + strlen(file) + 2;
    char *p = malloc(len);
    cr_assert_not_null(p);
    snprintf(p, len, "%s/%s", r->dir, file);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "cannot write %s", p);
    cr_assert_eq(fwrite(data, 1, bytes, f), bytes);
    fclose(f);
    return p;
}

void ref_add(ref_run *r, json_t *c)
{
    json_array_append_new(r->cases, c);
}

static char *script_path(void)
{
    const char *src = getenv("AIGTATT_TEST_SOURCE_DIR");
    if (!src || !*src)
        src = BM_TEST_SOURCE_DIR;
    size_t len = strlen(src) + 64;
    char *p = malloc(len);
    snprintf(p, len, "%s/tests/eval/ref_metrics.py", src);
    return p;
}

int ref_exec(ref_run *r, const char *extra_env, char *err, size_t errsz)
{
    char cases[300], errfile[300];
    snprintf(cases, sizeof cases, "%s/cases.json", r->dir);
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", r->dir);
    if (json_dump_file(r->cases, cases, 0) != 0)
        return -1;
    const char *py = getenv("AIGTATT_PYTHON");
    if (!py || !*py)
        py = "python3";
    char *script = script_path();
    char *argv[] = {(char *)py, script, cases, r->dir, NULL};

    /* The environment plus the optional extra entry. */
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = calloc(ne + 2, sizeof *env);
    memcpy(env, environ, ne * sizeof *env);
    if (extra_env)
        env[ne++] = (char *)extra_env;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawnp(&pid, py, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    int status = -1;
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the reference interpreter '%s' (%s); "
                 "set AIGTATT_PYTHON", py, strerror(rc));
        free(script);
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    err[0] = 0;
    if (status != 0) {
        int n = snprintf(err, errsz, "%s %s exited with %d: ", py, script, status);
        FILE *f = fopen(errfile, "r");
        if (f && n >= 0 && (size_t)n < errsz) {
            size_t got = fread(err + n, 1, errsz - (size_t)n - 1, f);
            err[(size_t)n + got] = 0;
        }
        if (f)
            fclose(f);
    }
    free(script);
    return status;
}

void ref_exec_or_fail(ref_run *r)
{
    char err[4096];
    int st = ref_exec(r, NULL, err, sizeof err);
    cr_assert_eq(st, 0, "reference computation (pyeer/scikit-learn) failed: %s", err);
}

json_t *ref_json(ref_run *r, const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s.json", r->dir, name);
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    cr_assert_not_null(j, "no reference result %s: %s", p, e.text);
    return j;
}

double ref_num(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_number(v), "reference result lacks '%s'", key);
    return json_number_value(v);
}

double *ref_array(ref_run *r, const char *name, const char *key, size_t *n)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s.%s.f64", r->dir, name, key);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "no reference array %s", p);
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    rewind(f);
    *n = (size_t)bytes / sizeof(double);
    double *a = malloc(bytes ? (size_t)bytes : 1);
    cr_assert_eq(fread(a, 1, (size_t)bytes, f), (size_t)bytes);
    fclose(f);
    return a;
}

void ref_end(ref_run *r)
{
    json_decref(r->cases);
    r->cases = NULL;
    if (getenv("AIGTATT_KEEP_REF"))
        return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", r->dir);
}

/* ---- parity ---------------------------------------------------------- */

static struct {
    size_t n, exact;
    double max_diff;
} parity;

int ref_close(double a, double b, double tol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return 1;
    return fabs(a - b) <= tol;
}

void ref_check(const char *what, double got, double want)
{
    parity.n++;
    if (got == want || (isnan(got) && isnan(want)))
        parity.exact++;
    else if (isfinite(got) && isfinite(want) && fabs(got - want) > parity.max_diff)
        parity.max_diff = fabs(got - want);
    cr_expect(ref_close(got, want, REF_TOL), "%s: C %.17g, reference %.17g (diff %.3g)",
              what, got, want, got - want);
}

void ref_check_array(const char *what, const double *got, size_t n_got,
                     const double *want, size_t n_want)
{
    cr_assert_eq(n_got, n_want, "%s: C has %zu values, reference %zu", what, n_got, n_want);
    size_t bad = 0;
    for (size_t i = 0; i < n_got; i++) {
        parity.n++;
        if (got[i] == want[i] || (isnan(got[i]) && isnan(want[i]))) {
            parity.exact++;
            continue;
        }
        if (isfinite(got[i]) && isfinite(want[i]) && fabs(got[i] - want[i]) > parity.max_diff)
            parity.max_diff = fabs(got[i] - want[i]);
        if (!ref_close(got[i], want[i], REF_TOL) && bad++ < 5)
            cr_expect(0, "%s[%zu]: C %.17g, reference %.17g", what, i, got[i], want[i]);
    }
    cr_expect_eq(bad, 0, "%s: %zu of %zu values differ by more than %g", what, bad, n_got,
                 REF_TOL);
}

void ref_report(const char *label)
{
    fprintf(stderr, "[parity] %s: %zu values, %zu bit-identical, max |diff| %.3g\n", label,
            parity.n, parity.exact, parity.max_diff);
    memset(&parity, 0, sizeof parity);
}

/* ---- data ------------------------------------------------------------ */

uint64_t ref_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double ref_uniform(uint64_t *s)
{
    return (double)(ref_rand(s) >> 11) * 0x1.0p-53;
}

double ref_normal(uint64_t *s)
{
    double u = ref_uniform(s), v = ref_uniform(s);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}
