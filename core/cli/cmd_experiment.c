/* run, validate and graph: the commands that read an experiment file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "graph/experiment.h"
#include "graph/runner.h"
#include "net/http.h"
#include "net/run_report.h"
#include "net/secret.h"
#include "plugin/registry.h"
#include "util/error.h"
#include "util/pool.h"
#include "util/term.h"

static const char run_help[] =
    "usage: aigtatt run FILE [--set NODE.PARAM=VALUE]... [--force NODE]...\n"
    "                        [--workdir DIR] [--jobs N] [--plain]\n"
    "                        [--max-in-flight N] [--verbose-http]\n"
    "\n"
    "Runs the experiment in FILE. Each node's result is cached under a hash of\n"
    "its component, version, parameters, seed and inputs: unchanged nodes are\n"
    "skipped, a changed node reruns with everything downstream.\n"
    "\n"
    "  --set K=V      override a value: NODE.PARAM=VALUE, or seed=, name=,\n"
    "                 workdir= (VALUE is YAML: 5, true, [a, b], 'text')\n"
    "  --force NODE   rerun NODE and everything downstream even if cached\n"
    "  --workdir DIR  where results go (default: the file's workdir:, else\n"
    "                 ./aigtatt-out/<name>)\n"
    "  --jobs N       worker threads for nodes that work in parallel\n"
    "  --plain        log lines instead of progress bars\n"
    "  --max-in-flight N\n"
    "                 HTTP requests on the wire at once, all nodes and threads\n"
    "                 together (default 8, or $AIGTATT_HTTP_MAX_IN_FLIGHT)\n"
    "  --verbose-http log every HTTP request and answer: method, URL, status,\n"
    "                 time, headers (keys shown as ***), start of the body\n"
    "                 (also AIGTATT_HTTP_VERBOSE=1)\n"
    "\n"
    "API keys come from the environment, else from ./.env, else from a .env\n"
    "beside FILE; $AIGTATT_ENV_FILE, when set, is the only file read (a .env\n"
    "must be readable by you only: chmod 600). The run ends with a summary of\n"
    "each provider node that ran (requests, retries, failures, bytes, usage,\n"
    "cost when priced) and the HTTP totals.\n"
    "\n"
    "Results: <workdir>/latest/nodes/<node>/ (links into <workdir>/cache),\n"
    "<workdir>/latest/lock.json (keys, seeds, resolved parameters, status) and\n"
    "<workdir>/latest/resolved.yaml (the experiment after --set).\n";

static const char validate_help[] =
    "usage: aigtatt validate FILE [--set NODE.PARAM=VALUE]...\n"
    "\n"
    "Checks the experiment without running it: YAML syntax, unknown keys and\n"
    "parameters, types and ranges, components, port types, cycles and dangling\n"
    "references. Errors name file:line:col. Exit 0 when valid, 3 when not.\n";

static const char graph_help[] =
    "usage: aigtatt graph FILE [--set NODE.PARAM=VALUE]...\n"
    "\n"
    "Prints the experiment graph in Graphviz DOT (`| dot -Tsvg > graph.svg`).\n";

typedef struct opts {
    const char *file;
    aigtatt_override *sets;
    size_t n_sets;
    const char **force;
    size_t n_force;
    const char *workdir;
    int jobs;
    int plain;
    int max_in_flight;
    int verbose_http;
} opts;

static int parse(const char *cmd, const char *help, int allow_run_opts, int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->sets = calloc((size_t)argc, sizeof *o->sets);
    o->force = calloc((size_t)argc, sizeof *o->force);
    if (!o->sets || !o->force)
        return EXIT_FAILED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define TAKE(name)                                                                                \
    (!strcmp(a, name) ? (i + 1 < argc ? (val = argv[++i], 1) : -1)                                \
                      : (!strncmp(a, name "=", sizeof(name)) ? (val = a + sizeof(name), 1) : 0))
        int t;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(help, stdout);
            return -1;
        } else if ((t = TAKE("--set")) != 0) {
            if (t < 0)
                return usage_error(cmd, "--set needs NODE.PARAM=VALUE");
            const char *eq = strchr(val, '=');
            if (!eq || eq == val)
                return usage_error(cmd, "--set %s: expected NODE.PARAM=VALUE", val);
            char *key = strndup(val, (size_t)(eq - val));
            o->sets[o->n_sets].key = key;
            o->sets[o->n_sets++].value = eq + 1;
        } else if (allow_run_opts && (t = TAKE("--force")) != 0) {
            if (t < 0)
                return usage_error(cmd, "--force needs a node id");
            o->force[o->n_force++] = val;
        } else if (allow_run_opts && (t = TAKE("--workdir")) != 0) {
            if (t < 0)
                return usage_error(cmd, "--workdir needs a folder");
            o->workdir = val;
        } else if (allow_run_opts && (t = TAKE("--jobs")) != 0) {
            char *end;
            long j = t > 0 ? strtol(val, &end, 10) : 0;
            if (t < 0 || *end || j < 1 || j > 1024)
                return usage_error(cmd, "--jobs needs a number from 1 to 1024");
            o->jobs = (int)j;
        } else if (allow_run_opts && !strcmp(a, "--plain")) {
            o->plain = 1;
        } else if (allow_run_opts && !strcmp(a, "--verbose-http")) {
            o->verbose_http = 1;
        } else if (allow_run_opts && (t = TAKE("--max-in-flight")) != 0) {
            char *end;
            long j = t > 0 ? strtol(val, &end, 10) : 0;
            if (t < 0 || *end || j < 1 || j > 1024)
                return usage_error(cmd, "--max-in-flight needs a number from 1 to 1024");
            o->max_in_flight = (int)j;
        } else if (a[0] == '-' && a[1]) {
            return usage_error(cmd, "unknown option '%s'", a);
        } else if (!o->file) {
            o->file = a;
        } else {
            return usage_error(cmd, "unexpected argument '%s' (one experiment file at a time)", a);
        }
#undef TAKE
    }
    if (!o->file)
        return usage_error(cmd, "missing the experiment FILE");
    return 0;
}

static void free_opts(opts *o)
{
    for (size_t i = 0; o->sets && i < o->n_sets; i++)
        free((char *)o->sets[i].key);
    free(o->sets);
    free(o->force);
}

static int load(opts *o, aigtatt_experiment **e)
{
    aigtatt_registry_load_default();
    int rc = aigtatt_experiment_load(o->file, o->sets, o->n_sets, o->workdir, e);
    if (rc != AIGTATT_OK) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        return rc == AIGTATT_ERR_IO ? EXIT_INVALID : EXIT_INVALID;
    }
    rc = aigtatt_experiment_keys(*e);
    if (rc != AIGTATT_OK) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        aigtatt_experiment_free(*e);
        *e = NULL;
        return rc == AIGTATT_ERR_INVALID ? EXIT_INVALID : EXIT_FAILED;
    }
    return EXIT_OK;
}

int cmd_validate(int argc, char **argv)
{
    opts o;
    int rc = parse("validate", validate_help, 0, argc, argv, &o);
    if (rc) {
        free_opts(&o);
        return rc < 0 ? EXIT_OK : rc;
    }
    aigtatt_experiment *e = NULL;
    rc = load(&o, &e);
    if (rc == EXIT_OK) {
        printf("%s: valid experiment '%s', %zu node%s:", o.file, e->name, e->n_nodes, e->n_nodes == 1 ? "" : "s");
        for (size_t k = 0; k < e->n_nodes; k++)
            printf("%s %s", k ? " ->" : "", e->nodes[e->order[k]].id);
        printf("\n");
    }
    aigtatt_experiment_free(e);
    free_opts(&o);
    return rc;
}

int cmd_graph(int argc, char **argv)
{
    opts o;
    int rc = parse("graph", graph_help, 0, argc, argv, &o);
    if (rc) {
        free_opts(&o);
        return rc < 0 ? EXIT_OK : rc;
    }
    aigtatt_experiment *e = NULL;
    rc = load(&o, &e);
    if (rc == EXIT_OK) {
        char *dot = aigtatt_experiment_dot(e);
        if (dot)
            fputs(dot, stdout);
        else
            rc = EXIT_FAILED;
        free(dot);
    }
    aigtatt_experiment_free(e);
    free_opts(&o);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    opts o;
    int rc = parse("run", run_help, 1, argc, argv, &o);
    if (rc) {
        free_opts(&o);
        return rc < 0 ? EXIT_OK : rc;
    }
    if (o.jobs)
        aigtatt_pool_set_jobs(o.jobs);
    if (o.plain)
        aigtatt_progress_set_mode(1);
    if (!o.max_in_flight) {
        const char *env = getenv("AIGTATT_HTTP_MAX_IN_FLIGHT");
        if (env && *env) {
            char *end;
            long j = strtol(env, &end, 10);
            if (*end || j < 1 || j > 1024) {
                fprintf(stderr, "aigtatt: error: AIGTATT_HTTP_MAX_IN_FLIGHT='%.32s' is not a number from 1 to "
                        "1024\n", env);
                free_opts(&o);
                return EXIT_USAGE;
            }
            o.max_in_flight = (int)j;
        }
    }
    if (o.max_in_flight)
        aigtatt_http_set_max_in_flight(o.max_in_flight);
    if (o.verbose_http)
        aigtatt_http_set_verbose(1);
    aigtatt_experiment *e = NULL;
    rc = load(&o, &e);
    if (rc != EXIT_OK) {
        free_opts(&o);
        return rc;
    }
    /* a --force naming no node is a command-line mistake (exit 2) */
    for (size_t i = 0; i < o.n_force; i++)
        if (aigtatt_experiment_find(e, o.force[i]) < 0) {
            fprintf(stderr, "aigtatt: error: --force %s: no such node in %s\n", o.force[i], e->path);
            aigtatt_experiment_free(e);
            free_opts(&o);
            return EXIT_USAGE;
        }
    /* A .env beside the experiment file is the second place keys are
     * looked for (after ./.env). */
    aigtatt_secret_set_env_dir(e->base_dir);
    aigtatt_cancel_install_handlers();
    aigtatt_run_opts ro = {.force = o.force, .n_force = o.n_force};
    aigtatt_run_summary s;
    int st = aigtatt_experiment_run(e, &ro, &s);
    {
        /* the report logs lines: keep the error text of the run */
        char errsave[4096];
        snprintf(errsave, sizeof errsave, "%s", aigtatt_last_error());
        aigtatt_net_report_run(s.run_dir);
        aigtatt_set_error("%s", errsave);
    }
    if (st == AIGTATT_OK) {
        aigtatt_log(AIGTATT_LOG_INFO, "finished: %zu node%s ran, %zu from cache; results in %s", s.ran,
                    s.ran == 1 ? "" : "s", s.cached, s.run_dir);
        printf("%s\n", s.run_dir);
        rc = EXIT_OK;
    } else if (st == AIGTATT_ERR_CANCELLED || aigtatt_cancelled()) {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = EXIT_INTERRUPTED;
    } else {
        fprintf(stderr, "aigtatt: error: %s\n", aigtatt_last_error());
        rc = s.run_dir[0] ? EXIT_FAILED : (st == AIGTATT_ERR_INVALID ? EXIT_INVALID : EXIT_ENV);
    }
    aigtatt_experiment_free(e);
    free_opts(&o);
    return rc;
}
