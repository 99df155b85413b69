/* eval: evaluates an embeddings file on its own, through the normal runner.
 * The command writes a one-node experiment (eval.biometric reading FILE)
 * into the workdir and runs it like `aigtatt run`, so caching, the lock,
 * run folders, --set checks and exit codes are the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "graph/experiment.h"
#include "graph/runner.h"
#include "plugin/registry.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/pool.h"
#include "util/term.h"


#define EVAL_NODE "eval"
#define EVAL_COMPONENT "eval.biometric"

static const char eval_help[] =
    "usage: aigtatt eval FILE [--set PARAM=VALUE]... [--workdir DIR] [--force]\n"
    "                         [--jobs N] [--plain]\n"
    "\n"
    "Evaluates the embeddings in FILE with eval.biometric: verification, closed-\n"
    "and open-set identification, plots and report.html. FILE is .safetensors or\n"
    ".npy (N x D, with --set labels=LABELS: path,label lines, one per row) or\n"
    ".csv (path,label,f1..fd).\n"
    "\n"
    "  --set K=V      an eval.biometric parameter (PARAM=VALUE or eval.PARAM=VALUE;\n"
    "                 see `aigtatt plugins info eval.biometric`), or seed=N;\n"
    "                 relative paths are taken from the current folder\n"
    "  --workdir DIR  where results go (default: ./aigtatt-out/eval-<FILE's stem>)\n"
    "  --force        evaluate again even if the result is cached\n"
    "  --jobs N       worker threads\n"
    "  --plain        log lines instead of progress bars\n"
    "\n"
    "The experiment is written to <workdir>/eval.yaml and run as `aigtatt run`\n"
    "would: results in <workdir>/latest/nodes/eval/metrics/ (metrics.json with\n"
    "every rate as a fraction, results.csv, plots/, report.html); the paths of\n"
    "metrics.json and report.html are printed last.\n";

typedef struct eopts {
    const char *file;
    aigtatt_override *sets;
    size_t n_sets;
    const char *workdir;
    int force, jobs, plain;
} eopts;

static void free_eopts(eopts *o)
{
    for (size_t i = 0; o->sets && i < o->n_sets; i++) {
        free((char *)o->sets[i].key);
        free((char *)o->sets[i].value);
    }
    free(o->sets);
}

/* Non-zero when eval.biometric declares `param` as a PATH. */
static int is_path_param(const char *param)
{
    const aigtatt_component *c = aigtatt_registry_find(EVAL_COMPONENT);
    for (size_t i = 0; c && i < c->n_params; i++)
        if (c->params[i].name && !strcmp(c->params[i].name, param))
            return c->params[i].type == AIGTATT_PARAM_PATH;
    return 0;
}

/* The value of an eval.biometric parameter: a relative PATH becomes
 * absolute from the working folder, as a user typing it expects (the
 * experiment file lives in the workdir), and is quoted so that YAML keeps
 * the text as it is. Anything else goes through unchanged. */
static char *set_value(const char *param, const char *v)
{
    if (!*v || !is_path_param(param) || !strcmp(v, "~") || !strcmp(v, "null"))
        return strdup(v);
    char *abs = aigtatt_path_absolute(v, NULL);
    char *q = abs ? malloc(2 * strlen(abs) + 3) : NULL, *p = q;
    if (q) {
        *p++ = '\'';
        for (const char *s = abs; *s; s++) {
            if (*s == '\'')
                *p++ = '\'';
            *p++ = *s;
        }
        *p++ = '\'';
        *p = 0;
    }
    free(abs);
    return q;
}

static int parse(int argc, char **argv, eopts *o)
{
    memset(o, 0, sizeof *o);
    o->sets = calloc((size_t)argc, sizeof *o->sets);
    if (!o->sets)
        return EXIT_FAILED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
#define TAKE(name)                                                                                \
    (!strcmp(a, name) ? (i + 1 < argc ? (val = argv[++i], 1) : -1)                                \
                      : (!strncmp(a, name "=", sizeof(name)) ? (val = a + sizeof(name), 1) : 0))
        int t;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(eval_help, stdout);
            return -1;
        } else if ((t = TAKE("--set")) != 0) {
            if (t < 0)
                return usage_error("eval", "--set needs PARAM=VALUE");
            const char *eq = strchr(val, '=');
            if (!eq || eq == val)
                return usage_error("eval", "--set %s: expected PARAM=VALUE", val);
            char key[256];
            int kl = (int)(eq - val);
            if (kl >= (int)sizeof key - 8)
                return usage_error("eval", "--set %.40s...: parameter name too long", val);
            /* PARAM, eval.PARAM, or a top-level key (seed, name, ...). */
            if (!strncmp(val, EVAL_NODE ".", sizeof EVAL_NODE) || !strncmp(val, "seed=", 5) ||
                !strncmp(val, "name=", 5) || !strncmp(val, "description=", 12))
                snprintf(key, sizeof key, "%.*s", kl, val);
            else if (!strncmp(val, "workdir=", 8))
                return usage_error("eval", "use --workdir DIR rather than --set workdir=");
            else if (memchr(val, '.', (size_t)kl))
                return usage_error("eval", "--set %.*s: the only node is '" EVAL_NODE "' (PARAM=VALUE "
                                   "or " EVAL_NODE ".PARAM=VALUE)", kl, val);
            else
                snprintf(key, sizeof key, EVAL_NODE ".%.*s", kl, val);
            const char *dot = strchr(key, '.');
            aigtatt_override *ov = &o->sets[o->n_sets++];
            ov->key = strdup(key);
            ov->value = dot ? set_value(dot + 1, eq + 1) : strdup(eq + 1);
            if (!ov->key || !ov->value)
                return EXIT_FAILED;
        } else if ((t = TAKE("--workdir")) != 0) {
            if (t < 0)
                return usage_error("eval", "--workdir needs a folder");
            o->workdir = val;
        } else if ((t = TAKE("--jobs")) != 0) {
            char *end;
            long j = t > 0 ? strtol(val, &end, 10) : 0;
            if (t < 0 || *end || j < 1 || j > 1024)
                return usage_error("eval", "--jobs needs a number from 1 to 1024");
            o->jobs = (int)j;
        } else if (!strcmp(a, "--force")) {
            o->force = 1;
        } else if (!strcmp(a, "--plain")) {
            o->plain = 1;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("eval", "unknown option '%s'", a);
        } else if (!o->file) {
            o->file = a;
        } else {
            return usage_error("eval", "unexpected argument '%s' (one embeddings file at a time)", a);
        }
#undef TAKE
    }
    if (!o->file)
        return usage_error("eval", "missing the embeddings FILE (.safetensors, .npy or .csv)");
    return 0;
}

/* FILE's name without folder and extension, reduced to [A-Za-z0-9_-]. */
static void stem_of(const char *file, char *out, size_t n)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t k = 0;
    for (; *b && *b != '.' && k + 1 < n && k < 64; b++) {
        char ch = *b;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-';
        out[k++] = ok ? ch : '_';
    }
    if (k == 0 && n > 1)
        out[k++] = 'x';
    out[k] = 0;
}

/* The one-node experiment as YAML text (malloc'd). */
static char *experiment_yaml(const char *name, const char *file_abs)
{
    size_t n = strlen(file_abs);
    char *q = malloc(2 * n + 1), *p = q;
    if (!q)
        return NULL;
    for (const char *s = file_abs; *s; s++) {
        if (*s == '\'')
            *p++ = '\'';
        *p++ = *s;
    }
    *p = 0;
    const char *fmt = "# Written by `aigtatt eval`. `aigtatt run` runs it too; the --set values\n"
                      "# given to `aigtatt eval` are not in this file: give them again.\n"
                      "name: %s\n"
                      "nodes:\n"
                      "  " EVAL_NODE ":\n"
                      "    use: " EVAL_COMPONENT "\n"
                      "    params:\n"
                      "      embeddings: '%s'\n";
    int len = snprintf(NULL, 0, fmt, name, q);
    char *y = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (y)
        snprintf(y, (size_t)len + 1, fmt, name, q);
    free(q);
    return y;
}

int cmd_eval(int argc, char **argv)
{
    eopts o;
    aigtatt_registry_load_default();
    int rc = parse(argc, argv, &o);
    if (rc) {
        free_eopts(&o);
        return rc < 0 ? EXIT_OK : rc;
    }
    for (const char *s = o.file; *s; s++)
        if ((unsigned char)*s < 0x20) {
            free_eopts(&o);
            return usage_error("eval", "FILE holds a control character");
        }
    if (!aigtatt_path_exists(o.file) || aigtatt_is_dir(o.file)) {
        fprintf(stderr, "aigtatt: error: %s: no such embeddings file\n", o.file);
        free_eopts(&o);
        return EXIT_INVALID;
    }
    if (o.jobs)
        aigtatt_pool_set_jobs(o.jobs);
    if (o.plain)
        aigtatt_progress_set_mode(1);

    char stem[80], name[96];
    stem_of(o.file, stem, sizeof stem);
    snprintf(name, sizeof name, "eval-%s", stem);
    char *file_abs = aigtatt_path_absolute(o.file, NULL);
    char *wd = NULL, *yaml_path = NULL, *yaml = NULL;
    if (o.workdir) {
        wd = aigtatt_path_absolute(o.workdir, NULL);
    } else {
        char rel[128];
        snprintf(rel, sizeof rel, "aigtatt-out/%s", name);
        wd = aigtatt_path_absolute(rel, NULL);
    }
    yaml = file_abs ? experiment_yaml(name, file_abs) : NULL;
    yaml_path = wd ? aigtatt_path_join(wd, "eval.yaml") : NULL;
    aigtatt_experiment *e = NULL;
    if (!file_abs || !wd || !yaml || !yaml_path) {
        fprintf(stderr, "aigtatt: error: out of memory\n");
        rc = EXIT_FAILED;
        goto done;
    }
    if (aigtatt_mkdirs(wd) != AIGTATT_OK ||
        aigtatt_write_file_atomic(yaml_path, yaml, strlen(yaml)) != AIGTATT_OK) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = EXIT_ENV;
        goto done;
    }
    rc = aigtatt_experiment_load(yaml_path, o.sets, o.n_sets, wd, &e);
    if (rc != AIGTATT_OK) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = EXIT_INVALID;
        goto done;
    }
    if (aigtatt_experiment_keys(e) != AIGTATT_OK) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = EXIT_FAILED;
        goto done;
    }
    aigtatt_cancel_install_handlers();
    const char *force[] = {EVAL_NODE};
    aigtatt_run_opts ro = {.force = o.force ? force : NULL, .n_force = o.force ? 1 : 0};
    aigtatt_run_summary s;
    int st = aigtatt_experiment_run(e, &ro, &s);
    if (st == AIGTATT_OK) {
        char p[4200];
        aigtatt_log(AIGTATT_LOG_INFO, "finished: %s; results in %s",
                    s.ran ? "evaluated" : "taken from the cache", s.run_dir);
        snprintf(p, sizeof p, "%s/nodes/" EVAL_NODE "/metrics/metrics.json", s.run_dir);
        printf("metrics: %s\n", p);
        snprintf(p, sizeof p, "%s/nodes/" EVAL_NODE "/metrics/report.html", s.run_dir);
        if (aigtatt_path_exists(p))
            printf("report:  %s\n", p);
        rc = EXIT_OK;
    } else if (st == AIGTATT_ERR_CANCELLED || aigtatt_cancelled()) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = EXIT_INTERRUPTED;
    } else {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = s.run_dir[0] ? EXIT_FAILED : (st == AIGTATT_ERR_INVALID ? EXIT_INVALID : EXIT_ENV);
    }
done:
    aigtatt_experiment_free(e);
    free(file_abs);
    free(wd);
    free(yaml);
    free(yaml_path);
    free_eopts(&o);
    return rc;
}
