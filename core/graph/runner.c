#define _XOPEN_SOURCE 700 /* nftw */
#include "graph/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/pool.h"

typedef struct run_port {
    const char *port;
    char *dir;
    aigtatt_set_writer *writer; /* outputs only */
} run_port;

struct aigtatt_run {
    const aigtatt_experiment *exp;
    const aigtatt_node *node;
    run_port *in;
    size_t n_in;
    run_port *out;
    size_t n_out;
    char *state_dir;
    int forced; /* --force named it or something upstream */
    char **spent; /* run_remove_after_publish(), in order */
    size_t n_spent;
};

/* ---- host functions on the running node ------------------------------ */

const char *aigtatt_run_node_id(const aigtatt_run *run) { return run ? run->node->id : NULL; }
uint64_t aigtatt_run_seed(const aigtatt_run *run) { return run ? run->node->seed : 0; }
const char *aigtatt_run_key(const aigtatt_run *run) { return run ? run->node->key : NULL; }
int aigtatt_run_forced(const aigtatt_run *run) { return run ? run->forced : 0; }
const aigtatt_params *aigtatt_run_params(const aigtatt_run *run) { return run ? run->node->params : NULL; }

static const run_port *find(const run_port *ports, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(ports[i].port, name))
            return &ports[i];
    return NULL;
}

const char *aigtatt_run_input_dir(const aigtatt_run *run, const char *port)
{
    const run_port *p = run ? find(run->in, run->n_in, port) : NULL;
    return p ? p->dir : NULL;
}

const char *aigtatt_run_output_dir(const aigtatt_run *run, const char *port)
{
    const run_port *p = run ? find(run->out, run->n_out, port) : NULL;
    return p ? p->dir : NULL;
}

int aigtatt_run_set_open(const aigtatt_run *run, const char *port, aigtatt_set **out)
{
    *out = NULL;
    const run_port *p = run ? find(run->in, run->n_in, port) : NULL;
    if (!p) {
        aigtatt_set_error("set_open: node has no connected input '%s'", port ? port : "(null)");
        return AIGTATT_ERR_INVALID;
    }
    return aigtatt_set_read(p->dir, out);
}

int aigtatt_run_output_add(aigtatt_run *run, const char *port, const aigtatt_record *rec)
{
    const run_port *p = run ? find(run->out, run->n_out, port) : NULL;
    if (!p) {
        aigtatt_set_error("output_add: node has no output '%s'", port ? port : "(null)");
        return AIGTATT_ERR_INVALID;
    }
    return aigtatt_set_writer_add(p->writer, rec);
}

const char *aigtatt_run_state_dir(const aigtatt_run *run_c)
{
    aigtatt_run *run = (aigtatt_run *)run_c;
    if (!run)
        return NULL;
    if (!run->state_dir) {
        char *dir = aigtatt_path_join(run->exp->workdir, "state");
        if (!dir || aigtatt_mkdirs(dir) != AIGTATT_OK) {
            free(dir);
            return NULL;
        }
        run->state_dir = dir;
    }
    return run->state_dir;
}

/* Whether `path` names something below `dir` by its spelling: `dir` and a
 * slash, then at least one component, none of them "." or "..", and no
 * newline (the spent record keeps a path a line). */
static int strictly_under(const char *path, const char *dir)
{
    size_t dl = strlen(dir);
    if (strncmp(path, dir, dl) || path[dl] != '/' || !path[dl + 1] || strchr(path, '\n'))
        return 0;
    for (const char *c = path + dl + 1; *c;) {
        size_t n = strcspn(c, "/");
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        c += n;
        c += *c == '/';
    }
    return 1;
}

int aigtatt_run_remove_after_publish(aigtatt_run *run, const char *path)
{
    /* nodes may mark from parallel_for workers */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    const char *state = aigtatt_run_state_dir(run);
    int rc = AIGTATT_OK;
    if (!path || !state || !strictly_under(path, state)) {
        aigtatt_set_error("run_remove_after_publish: '%s' is not under the state folder %s (spell it from "
                          "run_state_dir(), without . or .. components)", path ? path : "(null)",
                          state ? state : "(none)");
        rc = AIGTATT_ERR_INVALID;
    } else {
        char *copy = strdup(path);
        char **grown = copy ? realloc(run->spent, (run->n_spent + 1) * sizeof *grown) : NULL;
        if (!grown) {
            free(copy);
            aigtatt_set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
        } else {
            run->spent = grown;
            run->spent[run->n_spent++] = copy;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* What a node marked spent goes, files and then (empty) folders in the
 * order marked; a failure only costs disk, so it is a warning. */
static void remove_paths(char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i];
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        int bad = S_ISDIR(st.st_mode) ? rmdir(p) != 0 && errno != ENOTEMPTY && errno != EEXIST : unlink(p) != 0;
        if (bad)
            aigtatt_log(AIGTATT_LOG_WARN, "cannot remove %s, which the published node no longer needs: %s", p,
                        strerror(errno));
    }
}

/* The spent list outlives the process in <workdir>/state/.spent/<key>:
 * written before the publishing rename (the published folder's path, then
 * the marked paths, a line each), removed after the paths are. A run that
 * starts and finds a record whose folder is published finishes the
 * removal (settle_spent): a kill right after the rename, or a killed
 * `--force` run whose node the next run takes from the cache, would
 * otherwise leave the work there for good. Without the folder the record
 * waits: the node runs again and takes the work up. */
static char *spent_record_path(const char *workdir, const char *key)
{
    char name[128];
    snprintf(name, sizeof name, "state/.spent/%.64s", key);
    return aigtatt_path_join(workdir, name);
}

static int write_spent_record(const char *record, const char *final_dir, const aigtatt_run *r)
{
    aigtatt_buf b = AIGTATT_BUF_INIT;
    aigtatt_buf_printf(&b, "%s\n", final_dir);
    for (size_t i = 0; i < r->n_spent; i++)
        aigtatt_buf_printf(&b, "%s\n", r->spent[i]);
    int rc = b.failed ? AIGTATT_ERR_NOMEM : AIGTATT_OK;
    char *dir = rc ? NULL : strdup(record);
    if (dir)
        *strrchr(dir, '/') = '\0';
    if (!rc)
        rc = !dir ? AIGTATT_ERR_NOMEM : aigtatt_mkdirs(dir);
    if (!rc)
        rc = aigtatt_write_file_atomic(record, b.data, b.len);
    free(dir);
    aigtatt_buf_free(&b);
    return rc;
}

/* A record whose published folder exists: remove its paths, then it. */
static void settle_spent(const char *workdir)
{
    char *dir = aigtatt_path_join(workdir, "state/.spent"), *state = aigtatt_path_join(workdir, "state");
    DIR *d = dir ? opendir(dir) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *record = aigtatt_path_join(dir, e->d_name);
        FILE *f = record ? fopen(record, "r") : NULL;
        char **paths = NULL, line[4200];
        size_t n = 0;
        int published = 0, ok = f != NULL;
        for (int first = 1; ok && fgets(line, sizeof line, f); first = 0) {
            line[strcspn(line, "\n")] = '\0';
            if (first) {
                published = aigtatt_path_exists(line);
                continue;
            }
            if (!state || !strictly_under(line, state))
                continue; /* a record edited by hand: only state/ is ours to clean */
            char **g = realloc(paths, (n + 1) * sizeof *g);
            ok = g && (g[n] = strdup(line)) != NULL;
            if (g)
                paths = g;
            n += ok;
        }
        if (f)
            fclose(f);
        if (ok && published) {
            aigtatt_log(AIGTATT_LOG_INFO, "removing %zu path(s) a published node no longer needs (%s)", n, record);
            remove_paths(paths, n);
            unlink(record);
        }
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
        free(paths);
        free(record);
    }
    if (d)
        closedir(d);
    free(dir);
    free(state);
}

/* ---- layout ------------------------------------------------------------ */

static char *entry_dir(const aigtatt_experiment *e, const aigtatt_node *n)
{
    char *s = NULL;
    size_t len = strlen(e->workdir) + strlen(n->id) + 64;
    s = malloc(len);
    if (s)
        snprintf(s, len, "%s/cache/%s/%.16s", e->workdir, n->id, n->key);
    return s;
}

static int entry_complete(const char *dir, const char *key)
{
    char *meta = aigtatt_path_join(dir, "node.json");
    json_t *j = meta ? json_load_file(meta, 0, NULL) : NULL;
    const char *k = json_string_value(json_object_get(j, "key"));
    int ok = k && !strcmp(k, key);
    json_decref(j);
    free(meta);
    return ok;
}

/* Removes build folders that a killed run left behind. Runs under the
 * workdir lock, so no other run owns them. */
static void remove_stale(const char *workdir)
{
    char *cache = aigtatt_path_join(workdir, "cache");
    DIR *d = cache ? opendir(cache) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *nd = aigtatt_path_join(cache, e->d_name);
        DIR *d2 = nd ? opendir(nd) : NULL;
        struct dirent *e2;
        while (d2 && (e2 = readdir(d2)) != NULL) {
            if (!strncmp(e2->d_name, ".tmp-", 5) || !strncmp(e2->d_name, ".old-", 5)) {
                char *t = aigtatt_path_join(nd, e2->d_name);
                if (t) {
                    aigtatt_log(AIGTATT_LOG_INFO, "removing unfinished output %s from an interrupted run", t);
                    aigtatt_rmtree(t);
                }
                free(t);
            }
        }
        if (d2)
            closedir(d2);
        free(nd);
    }
    if (d)
        closedir(d);
    free(cache);
}

/* Whether `name` is the temporary of an atomic write that never reached
 * its rename: "<name>.tmp.XXXXXX" (util/fs.c and safetensors_write.c,
 * mkstemp) or "<name>.tmp.<pid>.<n>" (image/image.c). */
static int is_atomic_tmp(const char *name)
{
    const char *t = NULL;
    for (const char *q = strstr(name, ".tmp."); q; q = strstr(q + 1, ".tmp."))
        t = q + 5;
    if (!t || t == name + 5)
        return 0;
    size_t n = strlen(t);
    if (n == 6 && strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 6)
        return 1;
    size_t d1 = strspn(t, "0123456789");
    return d1 > 0 && t[d1] == '.' && t[d1 + 1] && strspn(t + d1 + 1, "0123456789") == strlen(t + d1 + 1);
}

static int stale_state_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    if (type == FTW_F && is_atomic_tmp(path + ftw->base)) {
        aigtatt_log(AIGTATT_LOG_INFO, "removing %s, an unfinished write of an interrupted run", path);
        unlink(path);
    }
    return 0;
}

/* Nodes keep resumable work under <workdir>/state, and a kill during one
 * of their atomic writes leaves its temporary behind (a training
 * checkpoint's is ~100 MB); nothing would ever take it up. The rest of
 * the folder is the nodes' own. */
static void remove_stale_state(const char *workdir)
{
    char *state = aigtatt_path_join(workdir, "state");
    if (state && aigtatt_path_exists(state))
        nftw(state, stale_state_file, 16, FTW_PHYS);
    free(state);
}

static int lock_workdir(const char *workdir, int *fd_out)
{
    char *path = aigtatt_path_join(workdir, ".aigtatt-run.lock");
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd < 0) {
        aigtatt_set_error("cannot create %s: %s", path ? path : workdir, strerror(errno));
        free(path);
        return AIGTATT_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        aigtatt_set_error("another aigtatt run is using %s; wait for it or choose another --workdir", workdir);
        close(fd);
        free(path);
        return AIGTATT_ERR_IO;
    }
    free(path);
    *fd_out = fd;
    return AIGTATT_OK;
}

static char *make_run_dir(const char *workdir)
{
    char stamp[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    char *runs = aigtatt_path_join(workdir, "runs");
    if (!runs || aigtatt_mkdirs(runs) != AIGTATT_OK) {
        free(runs);
        return NULL;
    }
    for (int i = 0; i < 1000; i++) {
        char name[96];
        if (i)
            snprintf(name, sizeof name, "%s-%d", stamp, i);
        else
            snprintf(name, sizeof name, "%s", stamp);
        char *dir = aigtatt_path_join(runs, name);
        if (dir && mkdir(dir, 0755) == 0) {
            free(runs);
            return dir;
        }
        int again = dir && errno == EEXIST;
        free(dir);
        if (!again)
            break;
    }
    aigtatt_set_error("cannot create a run folder in %s: %s", runs, strerror(errno));
    free(runs);
    return NULL;
}

/* Replaces symlink `link` atomically. */
static void set_symlink(const char *target, const char *link)
{
    size_t n = strlen(link) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return;
    snprintf(tmp, n, "%s.tmp-%d", link, (int)getpid());
    unlink(tmp);
    if (symlink(target, tmp) == 0 && rename(tmp, link) != 0)
        unlink(tmp);
    free(tmp);
}

/* ---- node metadata and the lock file ------------------------------------ */

static json_t *node_json(const aigtatt_experiment *e, const aigtatt_node *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "node", json_string(n->id));
    json_object_set_new(o, "component", json_string(n->comp->desc.name));
    json_object_set_new(o, "component_version", json_string(n->comp->desc.version));
    json_object_set_new(o, "plugin", json_string(n->comp->plugin ? n->comp->plugin->desc.name : ""));
    json_object_set_new(o, "key", json_string(n->key));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)n->seed);
    /* As text: JSON numbers lose precision above 2^53 in many readers. */
    json_object_set_new(o, "seed", json_string(seed));
    char *pj = aigtatt_params_canonical_json(n->params);
    json_object_set_new(o, "params", pj ? json_loads(pj, 0, NULL) : json_null());
    free(pj);
    if (n->uses)
        json_object_set_new(o, "uses", json_loads(n->uses, 0, NULL));
    json_t *ins = json_object();
    for (size_t i = 0; i < n->n_inputs; i++) {
        const aigtatt_input_ref *r = &n->inputs[i];
        char ref[256];
        snprintf(ref, sizeof ref, "%s.%s", r->node, r->out_port);
        json_t *in = json_object();
        json_object_set_new(in, "from", json_string(ref));
        json_object_set_new(in, "key", json_string(e->nodes[r->node_index].key));
        json_object_set_new(ins, r->port, in);
    }
    json_object_set_new(o, "inputs", ins);
    return o;
}

/* Sets `key` of mapping `map` to `text`: a double-quoted scalar (JSON's
 * string syntax is YAML's), or a plain one when `plain`. */
static int set_text(aigtatt_cfg *map, const char *key, const char *text, int plain)
{
    json_t *j = json_string(text);
    char *q = j && !plain ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    const char *src = plain ? text : q;
    aigtatt_cfg *v = NULL;
    int rc = src ? aigtatt_cfg_load_string(src, strlen(src), "resolved", &v) : AIGTATT_ERR_INVALID;
    free(q);
    return rc == AIGTATT_OK ? aigtatt_cfg_map_set(map, key, v) : rc;
}

/* The experiment as this run resolved it, runnable from the run folder:
 * overrides applied, and what depended on the file's place or defaults
 * written out (name, seed, the absolute workdir, PATH parameters made
 * absolute), so `aigtatt run runs/<stamp>/resolved.yaml` repeats the run
 * into the same workdir and finds its cache. */
static char *resolved_yaml(const aigtatt_experiment *e)
{
    aigtatt_cfg *r = aigtatt_cfg_clone(e->root);
    if (!r)
        return NULL;
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)e->seed);
    /* a name taken from the file's ("sweep.v2") may not be a valid name:
     * the absolute workdir below keeps the run's place without it */
    size_t nl = strlen(e->name);
    if (aigtatt_cfg_get(e->root, "name") ||
        (nl && nl <= 64 &&
         strspn(e->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == nl))
        set_text(r, "name", e->name, 0);
    set_text(r, "seed", seed, 1);
    set_text(r, "workdir", e->workdir, 0);
    aigtatt_cfg *nodes = (aigtatt_cfg *)aigtatt_cfg_get(r, "nodes");
    for (size_t k = 0; nodes && k < e->n_nodes; k++) {
        const aigtatt_node *n = &e->nodes[k];
        aigtatt_cfg *nm = (aigtatt_cfg *)aigtatt_cfg_get(nodes, n->id);
        for (size_t i = 0; nm && i < n->comp->n_params; i++) {
            const aigtatt_param_desc *d = &n->comp->params[i];
            const char *v = d->type == AIGTATT_PARAM_PATH ? aigtatt_params_string(n->params, d->name) : NULL;
            if (!v || !*v || !aigtatt_params_is_set(n->params, d->name))
                continue;
            aigtatt_cfg *pm = (aigtatt_cfg *)aigtatt_cfg_get(nm, "params");
            if (pm && aigtatt_cfg_type_of(pm) == AIGTATT_CFG_MAP)
                set_text(pm, d->name, v, 0);
        }
    }
    char *yaml = aigtatt_cfg_to_yaml(r);
    aigtatt_cfg_free(r);
    return yaml;
}

/* A cached node's lock entry shows the parameters that made its outputs,
 * from the cache entry's node.json: they differ from this run's in the
 * parameters left out of the key (no_key: thread counts, intervals). */
static void cached_params(const aigtatt_experiment *e, const aigtatt_node *n, json_t *o)
{
    char *dir = entry_dir(e, n);
    char *path = dir ? aigtatt_path_join(dir, "node.json") : NULL;
    json_t *made = path ? json_load_file(path, 0, NULL) : NULL;
    json_t *p = made ? json_object_get(made, "params") : NULL;
    if (p)
        json_object_set(o, "params", p);
    json_decref(made);
    free(path);
    free(dir);
}

static int write_json(const char *path, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t len = strlen(text);
    char *t2 = realloc(text, len + 2);
    if (t2) {
        text = t2;
        text[len++] = '\n';
        text[len] = '\0';
    }
    int rc = aigtatt_write_file_atomic(path, text, len);
    free(text);
    return rc;
}

/* ---- running one node ----------------------------------------------------- */

static void free_run(aigtatt_run *r)
{
    for (size_t i = 0; i < r->n_in; i++)
        free(r->in[i].dir);
    for (size_t i = 0; i < r->n_out; i++) {
        free(r->out[i].dir);
        aigtatt_set_writer_free(r->out[i].writer);
    }
    free(r->in);
    free(r->out);
    free(r->state_dir);
    for (size_t i = 0; i < r->n_spent; i++)
        free(r->spent[i]);
    free(r->spent);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *node_where(const aigtatt_node *n)
{
    static _Thread_local char buf[512];
    return aigtatt_cfg_where(n->cfg, buf, sizeof buf);
}

static int run_node(aigtatt_experiment *e, aigtatt_node *n, const char *final_dir, int replace, int forced,
                    double *secs)
{
    aigtatt_run r = {.exp = e, .node = n, .forced = forced};
    char *record = NULL; /* the spent list's record, when the node marked any */
    int published = 0;
    char *parent = aigtatt_path_dirname(final_dir);
    size_t tl = strlen(parent ? parent : "") + 64;
    char *tmp = malloc(tl);
    int rc = AIGTATT_ERR_NOMEM;
    if (!parent || !tmp)
        goto done;
    snprintf(tmp, tl, "%s/.tmp-%.16s-%d", parent, n->key, (int)getpid());
    aigtatt_rmtree(tmp);
    rc = aigtatt_mkdirs(tmp);
    if (rc)
        goto done;
    rc = AIGTATT_ERR_NOMEM;
    r.in = calloc(n->n_inputs + 1, sizeof *r.in);
    r.out = calloc(n->comp->n_outputs + 1, sizeof *r.out);
    if (!r.in || !r.out)
        goto done;
    for (size_t i = 0; i < n->n_inputs; i++) {
        const aigtatt_input_ref *ref = &n->inputs[i];
        char *up = entry_dir(e, &e->nodes[ref->node_index]);
        r.in[r.n_in].port = ref->port;
        r.in[r.n_in].dir = up ? aigtatt_path_join(up, ref->out_port) : NULL;
        free(up);
        if (!r.in[r.n_in++].dir)
            goto done;
    }
    for (size_t i = 0; i < n->comp->n_outputs; i++) {
        run_port *p = &r.out[r.n_out++];
        p->port = n->comp->outputs[i].name;
        p->dir = aigtatt_path_join(tmp, p->port);
        p->writer = p->dir ? aigtatt_set_writer_new(p->dir) : NULL;
        if (!p->writer)
            goto done;
        rc = aigtatt_mkdirs(p->dir);
        if (rc)
            goto done;
    }

    double t0 = now_s();
    aigtatt_clear_error();
    aigtatt_log_set_context(n->id);
    rc = n->comp->node.run(&r);
    aigtatt_log_set_context(NULL);
    *secs = now_s() - t0;
    /* A node that returns AIGTATT_OK declares its outputs complete (the
     * SDK's cancelled() contract: loops that stop early return
     * AIGTATT_ERR_CANCELLED), so it is published even when Ctrl-C came while
     * it was saving them: a trainer that had finished its last epoch would
     * otherwise lose the whole run. The run stops before the next node. */
    if (rc != AIGTATT_OK) {
        if (!*aigtatt_last_error())
            aigtatt_set_error("failed with status %d and no message", rc);
        goto done;
    }
    for (size_t i = 0; i < r.n_out && rc == AIGTATT_OK; i++)
        rc = aigtatt_set_writer_finish(r.out[i].writer);
    if (rc)
        goto done;

    json_t *meta = node_json(e, n);
    json_object_set_new(meta, "seconds", json_real(*secs));
    json_t *counts = json_object();
    for (size_t i = 0; i < r.n_out; i++)
        json_object_set_new(counts, r.out[i].port, json_integer((json_int_t)aigtatt_set_writer_count(r.out[i].writer)));
    json_object_set_new(meta, "records", counts);
    char *mp = aigtatt_path_join(tmp, "node.json");
    rc = mp ? write_json(mp, meta) : AIGTATT_ERR_NOMEM;
    free(mp);
    json_decref(meta);
    if (rc)
        goto done;

    if (r.n_spent) {
        record = spent_record_path(e->workdir, n->key);
        rc = record ? write_spent_record(record, final_dir, &r) : AIGTATT_ERR_NOMEM;
        if (rc)
            goto done;
    }
    /* Fault injection for the tests: a kill between the node's return and
     * the publication of its outputs. */
    const char *kill_at = getenv("AIGTATT_TEST_KILL_BEFORE_PUBLISH");
    if (kill_at && !strcmp(kill_at, n->id))
        raise(SIGKILL);

    /* Publish: the final name appears in one rename. */
    if (replace && aigtatt_path_exists(final_dir)) {
        char *old = malloc(tl);
        if (!old) {
            rc = AIGTATT_ERR_NOMEM;
            goto done;
        }
        snprintf(old, tl, "%s/.old-%.16s-%d", parent, n->key, (int)getpid());
        aigtatt_rmtree(old);
        if (rename(final_dir, old) != 0) {
            aigtatt_set_error("cannot move %s aside: %s", final_dir, strerror(errno));
            free(old);
            rc = AIGTATT_ERR_IO;
            goto done;
        }
        if (rename(tmp, final_dir) != 0) {
            aigtatt_set_error("cannot publish %s: %s", final_dir, strerror(errno));
            rename(old, final_dir);
            free(old);
            rc = AIGTATT_ERR_IO;
            goto done;
        }
        published = 1;
        aigtatt_rmtree(old);
        free(old);
    } else if (rename(tmp, final_dir) != 0) {
        aigtatt_set_error("cannot publish %s: %s", final_dir, strerror(errno));
        rc = AIGTATT_ERR_IO;
        goto done;
    } else {
        published = 1;
    }
    /* Fault injection for the tests: a kill right after the publication,
     * before what the node marked spent is removed. */
    const char *kill_after = getenv("AIGTATT_TEST_KILL_AFTER_PUBLISH");
    if (kill_after && !strcmp(kill_after, n->id))
        raise(SIGKILL);
    rc = AIGTATT_OK;
done:
    if (published) {
        remove_paths(r.spent, r.n_spent);
        if (record && unlink(record) != 0)
            aigtatt_log(AIGTATT_LOG_WARN, "cannot remove %s: %s", record, strerror(errno));
    } else if (record) {
        unlink(record); /* not published: the work stays for the next run */
    }
    free(record);
    if (rc != AIGTATT_OK && tmp) {
        char saved[4096];
        snprintf(saved, sizeof saved, "%s", aigtatt_last_error());
        aigtatt_rmtree(tmp);
        aigtatt_set_error("%s", saved);
    }
    free_run(&r);
    free(tmp);
    free(parent);
    return rc;
}

static int is_forced(const aigtatt_experiment *e, const aigtatt_node *n, const char *const *force, size_t nf,
                     const unsigned char *forced)
{
    for (size_t i = 0; i < nf; i++)
        if (!strcmp(force[i], n->id))
            return 1;
    for (size_t i = 0; i < n->n_inputs; i++)
        if (forced[n->inputs[i].node_index])
            return 1;
    (void)e;
    return 0;
}

int aigtatt_experiment_run(aigtatt_experiment *e, const aigtatt_run_opts *opts, aigtatt_run_summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < opts->n_force; i++)
        if (aigtatt_experiment_find(e, opts->force[i]) < 0) {
            aigtatt_set_error("--force %s: no such node in %s", opts->force[i], e->path);
            return AIGTATT_ERR_INVALID;
        }
    int rc = aigtatt_mkdirs(e->workdir);
    if (rc)
        return rc;
    int lock_fd = -1;
    rc = lock_workdir(e->workdir, &lock_fd);
    if (rc)
        return rc;
    remove_stale(e->workdir);
    remove_stale_state(e->workdir);
    settle_spent(e->workdir);

    unsigned char *forced = calloc(e->n_nodes + 1, 1);
    const char **status = calloc(e->n_nodes + 1, sizeof *status);
    double *secs = calloc(e->n_nodes + 1, sizeof *secs);
    char *run_dir = make_run_dir(e->workdir);
    json_t *lock = json_object();
    if (!forced || !status || !secs || !run_dir) {
        rc = run_dir ? AIGTATT_ERR_NOMEM : AIGTATT_ERR_IO;
        goto out;
    }
    snprintf(s->run_dir, sizeof s->run_dir, "%s", run_dir);
    char *yaml = resolved_yaml(e);
    char *yp = aigtatt_path_join(run_dir, "resolved.yaml");
    if (yaml && yp)
        aigtatt_write_file_atomic(yp, yaml, strlen(yaml));
    free(yaml);
    free(yp);
    char *nodes_dir = aigtatt_path_join(run_dir, "nodes");
    if (nodes_dir)
        aigtatt_mkdirs(nodes_dir);

    rc = AIGTATT_OK;
    for (size_t k = 0; k < e->n_nodes; k++) {
        size_t idx = e->order[k];
        aigtatt_node *n = &e->nodes[idx];
        if (rc == AIGTATT_OK && aigtatt_cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            aigtatt_set_error("interrupted before node '%s'; the nodes before it are complete and cached", n->id);
            s->interrupted = 1;
        }
        if (rc != AIGTATT_OK) {
            status[idx] = "skipped";
            s->skipped++;
            continue;
        }
        forced[idx] = (unsigned char)is_forced(e, n, opts->force, opts->n_force, forced);
        char *dir = entry_dir(e, n);
        char *parent = dir ? aigtatt_path_dirname(dir) : NULL;
        if (!dir || !parent || aigtatt_mkdirs(parent) != AIGTATT_OK) {
            free(dir);
            free(parent);
            rc = AIGTATT_ERR_IO;
            status[idx] = "failed";
            s->failed++;
            continue;
        }
        free(parent);
        if (!forced[idx] && entry_complete(dir, n->key)) {
            aigtatt_log(AIGTATT_LOG_INFO, "[%s] %s: cached (%.12s), skipped", n->id, n->comp->desc.name, n->key);
            status[idx] = "cached";
            s->cached++;
        } else {
            aigtatt_log(AIGTATT_LOG_INFO, "[%s] %s %s: running%s", n->id, n->comp->desc.name,
                        n->comp->desc.version, forced[idx] ? " (forced)" : "");
            rc = run_node(e, n, dir, 1, forced[idx], &secs[idx]);
            if (rc == AIGTATT_OK) {
                aigtatt_log(AIGTATT_LOG_INFO, "[%s] done in %.2f s", n->id, secs[idx]);
                status[idx] = "ran";
                s->ran++;
            } else if (rc == AIGTATT_ERR_CANCELLED || aigtatt_cancelled()) {
                rc = AIGTATT_ERR_CANCELLED;
                aigtatt_set_error("interrupted while running node '%s'; its partial output was removed", n->id);
                status[idx] = "interrupted";
                s->interrupted = 1;
                s->failed++;
            } else {
                aigtatt_error_prefix("node '%s' (%s) at %s", n->id, n->comp->desc.name, node_where(n));
                status[idx] = "failed";
                s->failed++;
            }
        }
        if (nodes_dir && (!strcmp(status[idx], "ran") || !strcmp(status[idx], "cached"))) {
            char *link = aigtatt_path_join(nodes_dir, n->id);
            char target[4096];
            snprintf(target, sizeof target, "../../../cache/%s/%.16s", n->id, n->key);
            if (link)
                set_symlink(target, link);
            free(link);
        }
        free(dir);
    }
    free(nodes_dir);

    /* The lock file: what this run resolved and what happened. */
    char errsave[4096];
    snprintf(errsave, sizeof errsave, "%s", aigtatt_last_error());
    json_object_set_new(lock, "aigtatt_version", json_string(AIGTATT_VERSION_STRING));
    json_object_set_new(lock, "experiment", json_string(e->path));
    json_object_set_new(lock, "name", json_string(e->name));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)e->seed);
    json_object_set_new(lock, "seed", json_string(seed));
    json_object_set_new(lock, "status", json_string(rc == AIGTATT_OK ? "ok" : rc == AIGTATT_ERR_CANCELLED ?
                                                    "interrupted" : "failed"));
    if (rc != AIGTATT_OK)
        json_object_set_new(lock, "error", json_string(errsave));
    json_t *jn = json_object();
    for (size_t k = 0; k < e->n_nodes; k++) {
        size_t idx = e->order[k];
        json_t *o = node_json(e, &e->nodes[idx]);
        if (status[idx] && !strcmp(status[idx], "cached"))
            cached_params(e, &e->nodes[idx], o);
        json_object_set_new(o, "status", json_string(status[idx] ? status[idx] : "skipped"));
        if (status[idx] && !strcmp(status[idx], "ran"))
            json_object_set_new(o, "seconds", json_real(secs[idx]));
        json_object_del(o, "node");
        json_object_set_new(jn, e->nodes[idx].id, o);
    }
    json_object_set_new(lock, "nodes", jn);
    char *lp = aigtatt_path_join(run_dir, "lock.json");
    char *wl = aigtatt_path_join(e->workdir, "aigtatt.lock");
    if (lp)
        write_json(lp, lock);
    if (wl)
        write_json(wl, lock);
    free(lp);
    free(wl);
    char *latest = aigtatt_path_join(e->workdir, "latest");
    /* relative to the workdir: runs/<this run> (the workdir's own path may
     * hold a "/runs/" too) */
    const char *base = strrchr(run_dir, '/');
    char rel[512];
    if (latest && base && snprintf(rel, sizeof rel, "runs/%s", base + 1) < (int)sizeof rel)
        set_symlink(rel, latest);
    free(latest);
    aigtatt_set_error("%s", errsave);
out:
    json_decref(lock);
    free(run_dir);
    free(forced);
    free(status);
    free(secs);
    close(lock_fd); /* releases the flock */
    return rc;
}
