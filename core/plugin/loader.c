/* Plugin loading. The descriptor is read and checked before any plugin
 * function runs; a refused plugin never takes the others down. */
#include "plugin/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

/* The smallest descriptor sizes this host accepts: the ABI 1.0 layouts,
 * each up to the end of its last 1.0 field, so that appending a field (as
 * ABI 1.1 did to aigtatt_param_desc) never refuses an older plugin. */
#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
#define MIN_PLUGIN_DESC_SIZE END_OF(aigtatt_plugin_desc, init)
#define MIN_COMPONENT_DESC_SIZE END_OF(aigtatt_component_desc, vtable)
#define MIN_NODE_VTABLE_SIZE offsetof(aigtatt_node_vtable, uses)
#define MIN_PARAM_DESC_SIZE END_OF(aigtatt_param_desc, doc)
#define MIN_PORT_DESC_SIZE END_OF(aigtatt_port_desc, doc)
#define MAX_ITEMS 4096 /* components, params or ports in one list */

static aigtatt_plugin_rec **plugins;
static size_t n_plugins;
static aigtatt_component **components;
static size_t n_components;
static int defaults_loaded;
static aigtatt_buf searched = AIGTATT_BUF_INIT;

const char *aigtatt_kind_name(aigtatt_kind kind)
{
    switch (kind) {
    case AIGTATT_KIND_PROMPT_SOURCE: return "prompt_source";
    case AIGTATT_KIND_IMAGE_SOURCE: return "image_source";
    case AIGTATT_KIND_CROPPER: return "cropper";
    case AIGTATT_KIND_AUGMENTER: return "augmenter";
    case AIGTATT_KIND_TRAINER: return "trainer";
    case AIGTATT_KIND_EMBEDDER: return "embedder";
    case AIGTATT_KIND_EVALUATOR: return "evaluator";
    case AIGTATT_KIND_REPORTER: return "reporter";
    case AIGTATT_KIND_STEP: return "step";
    case AIGTATT_KIND_AUGMENT_OP: return "augment_op";
    case AIGTATT_KIND_BACKBONE: return "backbone";
    case AIGTATT_KIND_LOSS: return "loss";
    case AIGTATT_KIND_OPTIMIZER: return "optimizer";
    case AIGTATT_KIND_BACKEND: return "backend";
    case AIGTATT_KIND_METRIC: return "metric";
    }
    return NULL;
}

static void free_component(aigtatt_component *c)
{
    if (!c)
        return;
    free(c->params);
    free(c->inputs);
    free(c->outputs);
    free(c);
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
            return 0;
    return s[0] != '.' && s[strlen(s) - 1] != '.';
}

/* Copies a name-NULL-terminated array of `elem` bytes per element (as the
 * plugin was built) into zero-extended host structs of `host_size`. */
static void *copy_array(const void *src, size_t elem, size_t host_size, size_t *count,
                        const char *what, const char *comp)
{
    *count = 0;
    if (!src)
        return calloc(1, host_size);
    size_t n = 0;
    const char *p = src;
    while (*(const char *const *)(p + n * elem) != NULL) {
        if (++n > MAX_ITEMS) {
            aigtatt_set_error("component %s: %s list has no NULL-name terminator", comp, what);
            return NULL;
        }
    }
    char *dst = calloc(n + 1, host_size);
    if (!dst) {
        aigtatt_set_error("out of memory");
        return NULL;
    }
    size_t c = elem < host_size ? elem : host_size;
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * host_size, p + i * elem, c);
    *count = n;
    return dst;
}

static int check_params(aigtatt_component *c)
{
    const char *cn = c->desc.name;
    for (size_t i = 0; i < c->n_params; i++) {
        const aigtatt_param_desc *p = &c->params[i];
        if (!valid_name(p->name) || strchr(p->name, '.')) {
            aigtatt_set_error("component %s: parameter name '%s' is not a valid name ([a-z0-9_])", cn, p->name);
            return AIGTATT_ERR_INVALID;
        }
        if (p->type < AIGTATT_PARAM_BOOL || p->type > AIGTATT_PARAM_MAP) {
            aigtatt_set_error("component %s: parameter '%s' has unknown type %d", cn, p->name, (int)p->type);
            return AIGTATT_ERR_INVALID;
        }
        if (p->type == AIGTATT_PARAM_ENUM && (!p->choices || !*p->choices)) {
            aigtatt_set_error("component %s: enum parameter '%s' declares no choices", cn, p->name);
            return AIGTATT_ERR_INVALID;
        }
        if (!p->doc || !*p->doc) {
            aigtatt_set_error("component %s: parameter '%s' has no doc text", cn, p->name);
            return AIGTATT_ERR_INVALID;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->params[j].name, p->name)) {
                aigtatt_set_error("component %s: parameter '%s' is declared twice", cn, p->name);
                return AIGTATT_ERR_INVALID;
            }
    }
    return AIGTATT_OK;
}

static int check_ports(const aigtatt_component *c, const aigtatt_port_desc *ports, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (!valid_name(ports[i].name) || strchr(ports[i].name, '.') || !valid_name(ports[i].type)) {
            aigtatt_set_error("component %s: %s port '%s' has an invalid name or type", c->desc.name, what,
                              ports[i].name);
            return AIGTATT_ERR_INVALID;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ports[j].name, ports[i].name)) {
                aigtatt_set_error("component %s: %s port '%s' is declared twice", c->desc.name, what,
                                  ports[i].name);
                return AIGTATT_ERR_INVALID;
            }
    }
    return AIGTATT_OK;
}

/* Reads and checks one component descriptor into a host copy. */
static int read_component(const aigtatt_component_desc *src, aigtatt_component **out)
{
    *out = NULL;
    if (src->struct_size < MIN_COMPONENT_DESC_SIZE) {
        aigtatt_set_error("a component descriptor is undersized (%zu bytes, at least %zu expected)",
                          src->struct_size, MIN_COMPONENT_DESC_SIZE);
        return AIGTATT_ERR_INVALID;
    }
    if (src->struct_size > sizeof(aigtatt_component_desc)) {
        aigtatt_set_error("a component descriptor is oversized (%zu bytes, this host knows %zu)",
                          src->struct_size, sizeof(aigtatt_component_desc));
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_component *c = calloc(1, sizeof *c);
    if (!c)
        return AIGTATT_ERR_NOMEM;
    memcpy(&c->desc, src, src->struct_size);
    const char *cn = c->desc.name;
    if (!valid_name(cn)) {
        aigtatt_set_error("component name '%s' is not valid (lower-case letters, digits, '_' and '.')",
                          cn ? cn : "(null)");
        goto fail;
    }
    if (!aigtatt_kind_name(c->desc.kind)) {
        aigtatt_set_error("component %s has unknown kind %d", cn, (int)c->desc.kind);
        goto fail;
    }
    if (!c->desc.version || !*c->desc.version || !c->desc.summary) {
        aigtatt_set_error("component %s lacks a version or summary", cn);
        goto fail;
    }
    if (c->desc.params && (c->desc.param_desc_size < MIN_PARAM_DESC_SIZE ||
                           c->desc.param_desc_size > sizeof(aigtatt_param_desc))) {
        aigtatt_set_error("component %s: parameter descriptors have size %zu, expected %zu", cn,
                          c->desc.param_desc_size, sizeof(aigtatt_param_desc));
        goto fail;
    }
    if ((c->desc.inputs || c->desc.outputs) && (c->desc.port_desc_size < MIN_PORT_DESC_SIZE ||
                                                 c->desc.port_desc_size > sizeof(aigtatt_port_desc))) {
        aigtatt_set_error("component %s: port descriptors have size %zu, expected %zu", cn,
                          c->desc.port_desc_size, sizeof(aigtatt_port_desc));
        goto fail;
    }
    c->params = copy_array(c->desc.params, c->desc.param_desc_size, sizeof(aigtatt_param_desc),
                           &c->n_params, "parameter", cn);
    c->inputs = copy_array(c->desc.inputs, c->desc.port_desc_size, sizeof(aigtatt_port_desc),
                           &c->n_inputs, "input", cn);
    c->outputs = copy_array(c->desc.outputs, c->desc.port_desc_size, sizeof(aigtatt_port_desc),
                            &c->n_outputs, "output", cn);
    if (!c->params || !c->inputs || !c->outputs)
        goto fail;
    if (check_params(c) || check_ports(c, c->inputs, c->n_inputs, "input") ||
        check_ports(c, c->outputs, c->n_outputs, "output"))
        goto fail;
    if (!c->desc.vtable) {
        aigtatt_set_error("component %s has no vtable", cn);
        goto fail;
    }
    if (AIGTATT_KIND_IS_NODE(c->desc.kind)) {
        size_t vs = *(const size_t *)c->desc.vtable;
        if (vs < MIN_NODE_VTABLE_SIZE || vs > sizeof(aigtatt_node_vtable)) {
            aigtatt_set_error("component %s: node vtable has size %zu, expected %zu", cn, vs,
                              sizeof(aigtatt_node_vtable));
            goto fail;
        }
        memcpy(&c->node, c->desc.vtable, vs);
        if (!c->node.run) {
            aigtatt_set_error("component %s: node vtable has no run function", cn);
            goto fail;
        }
        if (c->n_outputs == 0) {
            aigtatt_set_error("component %s is a graph node without outputs", cn);
            goto fail;
        }
    }
    *out = c;
    return AIGTATT_OK;
fail:
    free_component(c);
    return AIGTATT_ERR_INVALID;
}

static int add_plugin(aigtatt_plugin_rec *p)
{
    aigtatt_plugin_rec **np = realloc(plugins, (n_plugins + 1) * sizeof *np);
    if (!np)
        return AIGTATT_ERR_NOMEM;
    plugins = np;
    plugins[n_plugins++] = p;
    return AIGTATT_OK;
}

static const aigtatt_component *find_in(aigtatt_component **list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i]->desc.name, name))
            return list[i];
    return NULL;
}

/* Checks the folder and file permissions: code that others can replace
 * must not be run. */
static int check_permissions(const char *path)
{
    char *dir = aigtatt_path_dirname(path);
    struct stat st;
    int rc = AIGTATT_OK;
    if (dir && stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
        aigtatt_set_error("its folder %s is writable by other users; refusing to load code from it "
                          "(chmod o-w %s)", dir, dir);
        rc = AIGTATT_ERR_INVALID;
    } else if (dir && stat(dir, &st) == 0 && (st.st_mode & S_IWOTH)) {
        aigtatt_set_error("its folder %s is writable by other users (sticky); refusing to load code from it",
                          dir);
        rc = AIGTATT_ERR_INVALID;
    } else if (stat(path, &st) != 0) {
        aigtatt_set_error("cannot stat it: %s", strerror(errno));
        rc = AIGTATT_ERR_IO;
    } else if (st.st_mode & S_IWOTH) {
        aigtatt_set_error("the file is writable by other users; refusing to load it (chmod o-w %s)", path);
        rc = AIGTATT_ERR_INVALID;
    }
    free(dir);
    return rc;
}

static void remember_names(aigtatt_plugin_rec *p)
{
    const aigtatt_component_desc *const *list = p->desc.components;
    size_t n = 0;
    while (list && list[n] && n < MAX_ITEMS)
        n++;
    p->component_names = calloc(n ? n : 1, sizeof(char *));
    if (!p->component_names)
        return;
    for (size_t i = 0; i < n; i++)
        if (list[i]->struct_size >= offsetof(aigtatt_component_desc, version) && list[i]->name)
            p->component_names[p->n_component_names++] = strdup(list[i]->name);
}

int aigtatt_registry_load_file(const char *path_in)
{
    char *path = aigtatt_path_absolute(path_in, NULL);
    aigtatt_plugin_rec *p = calloc(1, sizeof *p);
    if (!path || !p) {
        free(path);
        free(p);
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    p->path = path;
    for (size_t i = 0; i < n_plugins; i++)
        if (!strcmp(plugins[i]->path, path)) { /* same file seen twice in the path */
            free(path);
            free(p);
            return plugins[i]->ok ? AIGTATT_OK : AIGTATT_ERR_INVALID;
        }

    aigtatt_component **comps = NULL;
    size_t n_comps = 0;
    void *handle = NULL;
    int initialised = 0;
    int rc = check_permissions(path);
    if (rc != AIGTATT_OK)
        goto refuse;

    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *e = dlerror();
        aigtatt_set_error("cannot be loaded: %s", e ? e : "unknown dlopen error");
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    dlerror();
    const aigtatt_plugin_desc *d = dlsym(handle, AIGTATT_PLUGIN_SYMBOL);
    if (!d) {
        aigtatt_set_error("it exports no '%s' symbol: not an aigtatt plugin (define it with "
                          "AIGTATT_PLUGIN_DEFINE)", AIGTATT_PLUGIN_SYMBOL);
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    if (d->struct_size < MIN_PLUGIN_DESC_SIZE) {
        aigtatt_set_error("its descriptor is undersized (%zu bytes, at least %zu expected): "
                          "not built with the aigtatt SDK", d->struct_size, MIN_PLUGIN_DESC_SIZE);
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    if (d->abi_major != AIGTATT_ABI_MAJOR) {
        aigtatt_set_error("it was built for plugin ABI %d.%d, this aigtatt speaks ABI %d.%d; "
                          "rebuild it against this SDK", d->abi_major, d->abi_minor,
                          AIGTATT_ABI_MAJOR, AIGTATT_ABI_MINOR);
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    if (d->abi_minor > AIGTATT_ABI_MINOR) {
        aigtatt_set_error("it needs plugin ABI %d.%d, newer than this aigtatt's %d.%d; "
                          "upgrade aigtatt", d->abi_major, d->abi_minor, AIGTATT_ABI_MAJOR,
                          AIGTATT_ABI_MINOR);
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    if (d->struct_size > sizeof(aigtatt_plugin_desc)) {
        aigtatt_set_error("its descriptor is oversized (%zu bytes for ABI %d.%d, expected %zu)",
                          d->struct_size, d->abi_major, d->abi_minor, sizeof(aigtatt_plugin_desc));
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    memcpy(&p->desc, d, d->struct_size);
    if (!p->desc.name || !*p->desc.name || !p->desc.version || !p->desc.components) {
        aigtatt_set_error("its descriptor lacks a name, version or component list");
        rc = AIGTATT_ERR_INVALID;
        goto refuse;
    }
    remember_names(p);

    for (size_t i = 0; p->desc.components[i]; i++) {
        if (i >= MAX_ITEMS) {
            aigtatt_set_error("its component list has no NULL terminator");
            rc = AIGTATT_ERR_INVALID;
            goto refuse;
        }
        aigtatt_component *c;
        rc = read_component(p->desc.components[i], &c);
        if (rc != AIGTATT_OK)
            goto refuse;
        aigtatt_component **nc = realloc(comps, (n_comps + 1) * sizeof *nc);
        if (!nc) {
            free_component(c);
            rc = AIGTATT_ERR_NOMEM;
            goto refuse;
        }
        comps = nc;
        comps[n_comps++] = c;
        if (find_in(comps, n_comps - 1, c->desc.name)) {
            aigtatt_set_error("it declares component %s twice", c->desc.name);
            rc = AIGTATT_ERR_INVALID;
            goto refuse;
        }
        const aigtatt_component *other = find_in(components, n_components, c->desc.name);
        if (other) {
            aigtatt_set_error("component %s is already provided by %s", c->desc.name, other->plugin->path);
            rc = AIGTATT_ERR_INVALID;
            goto refuse;
        }
    }
    if (p->desc.init) {
        aigtatt_clear_error();
        initialised = 1;
        rc = p->desc.init(aigtatt_host_get());
        if (rc != AIGTATT_OK) {
            aigtatt_error_prefix("its init function failed (status %d)", rc);
            goto refuse;
        }
    }
    aigtatt_component **all = realloc(components, (n_components + n_comps) * sizeof *all);
    if (!all || add_plugin(p) != AIGTATT_OK) {
        if (all)
            components = all;
        aigtatt_set_error("out of memory");
        rc = AIGTATT_ERR_NOMEM;
        goto refuse;
    }
    components = all;
    p->ok = 1;
    for (size_t i = 0; i < n_comps; i++) {
        comps[i]->plugin = p;
        components[n_components++] = comps[i];
    }
    free(comps);
    return AIGTATT_OK;

refuse:
    for (size_t i = 0; i < n_comps; i++)
        free_component(comps[i]);
    free(comps);
    aigtatt_error_prefix("plugin %s refused", path);
    p->problem = strdup(aigtatt_last_error());
    /* Once init ran the plugin may hold threads or registrations: keep it
     * mapped. Before that nothing of it ran but constructors. */
    if (handle && !initialised)
        dlclose(handle);
    if (add_plugin(p) != AIGTATT_OK) {
        free(p->problem);
        for (size_t i = 0; i < p->n_component_names; i++)
            free(p->component_names[i]);
        free(p->component_names);
        free(p->path);
        free(p);
    }
    aigtatt_log(AIGTATT_LOG_WARN, "%s", aigtatt_last_error());
    return rc ? rc : AIGTATT_ERR_INVALID;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void aigtatt_registry_scan_dir(const char *dir)
{
    if (searched.len)
        aigtatt_buf_puts(&searched, ", ");
    aigtatt_buf_puts(&searched, dir);
    DIR *d = opendir(dir);
    if (!d) {
        aigtatt_log(AIGTATT_LOG_DEBUG, "plugin folder %s: %s", dir, strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 3 && !strcmp(e->d_name + l - 3, ".so")) {
            char **nn = realloc(names, (n + 1) * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            names[n] = strdup(e->d_name);
            if (names[n])
                n++;
        }
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *full = aigtatt_path_join(dir, names[i]);
        if (full)
            aigtatt_registry_load_file(full);
        free(full);
        free(names[i]);
    }
    free(names);
}

static char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return aigtatt_path_dirname(buf);
}

void aigtatt_registry_load_default(void)
{
    if (defaults_loaded)
        return;
    defaults_loaded = 1;
    char *bin = exe_dir();
    char *build_bin = aigtatt_path_absolute(AIGTATT_BUILD_BIN_DIR, NULL);
    if (bin && build_bin && !strcmp(bin, build_bin)) {
        aigtatt_registry_scan_dir(AIGTATT_BUILD_PLUGIN_DIR);
    } else if (bin) {
        /* Installed: <prefix>/bin/aigtatt and <prefix>/lib/aigtatt/plugins. */
        char *prefix = aigtatt_path_absolute("..", bin);
        char *dir = prefix ? aigtatt_path_join(prefix, AIGTATT_INSTALL_PLUGIN_RELDIR) : NULL;
        if (dir)
            aigtatt_registry_scan_dir(dir);
        free(dir);
        free(prefix);
    }
    free(bin);
    free(build_bin);
    const char *env = getenv("AIGTATT_PLUGIN_PATH");
    if (env && *env) {
        char *copy = strdup(env);
        char *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok; tok = strtok_r(NULL, ":", &save))
            aigtatt_registry_scan_dir(tok);
        free(copy);
    }
}

void aigtatt_registry_reset(void)
{
    for (size_t i = 0; i < n_components; i++)
        free_component(components[i]);
    free(components);
    components = NULL;
    n_components = 0;
    for (size_t i = 0; i < n_plugins; i++) {
        aigtatt_plugin_rec *p = plugins[i];
        for (size_t j = 0; j < p->n_component_names; j++)
            free(p->component_names[j]);
        free(p->component_names);
        free(p->problem);
        free(p->path);
        free(p);
    }
    free(plugins);
    plugins = NULL;
    n_plugins = 0;
    defaults_loaded = 0;
    aigtatt_buf_free(&searched);
}

static int cmp_comp(const void *a, const void *b)
{
    return strcmp((*(aigtatt_component *const *)a)->desc.name, (*(aigtatt_component *const *)b)->desc.name);
}

const aigtatt_component *aigtatt_registry_find(const char *name)
{
    return name ? find_in(components, n_components, name) : NULL;
}

size_t aigtatt_registry_component_count(void) { return n_components; }

const aigtatt_component *aigtatt_registry_component_at(size_t i)
{
    if (i >= n_components)
        return NULL;
    qsort(components, n_components, sizeof *components, cmp_comp);
    return components[i];
}

size_t aigtatt_registry_plugin_count(void) { return n_plugins; }
const aigtatt_plugin_rec *aigtatt_registry_plugin_at(size_t i) { return i < n_plugins ? plugins[i] : NULL; }
const char *aigtatt_registry_searched(void) { return searched.len ? aigtatt_buf_str(&searched) : "(nothing)"; }

void aigtatt_registry_explain_missing(const char *name)
{
    for (size_t i = 0; i < n_plugins; i++) {
        const aigtatt_plugin_rec *p = plugins[i];
        if (p->ok)
            continue;
        for (size_t j = 0; j < p->n_component_names; j++)
            if (p->component_names[j] && !strcmp(p->component_names[j], name)) {
                aigtatt_set_error("component '%s' is unavailable: %s", name, p->problem);
                return;
            }
    }
    const char **names = calloc(n_components ? n_components : 1, sizeof *names);
    for (size_t i = 0; names && i < n_components; i++)
        names[i] = components[i]->desc.name;
    const char *near = names ? aigtatt_nearest(name, names, n_components) : NULL;
    size_t refused = 0;
    for (size_t i = 0; i < n_plugins; i++)
        refused += !plugins[i]->ok;
    char extra[256] = "";
    if (refused)
        snprintf(extra, sizeof extra, "; %zu plugin(s) were refused, see `aigtatt plugins list`", refused);
    if (near)
        aigtatt_set_error("unknown component '%s' (did you mean '%s'?)%s", name, near, extra);
    else
        aigtatt_set_error("unknown component '%s'; plugin folders searched: %s%s", name,
                          aigtatt_registry_searched(), extra);
    free(names);
}
