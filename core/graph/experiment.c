/* Reading an experiment file into a checked, ordered graph. */
#include "graph/experiment.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "graph/fingerprint.h"
#include "util/hash.h"

#define FORMAT_VERSION 1

static const char *const top_keys[] = {"aigtatt", "name", "description", "seed", "workdir", "nodes"};
static const char *const node_keys[] = {"use", "params", "inputs", "doc"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *where(const aigtatt_cfg *c)
{
    static _Thread_local char buf[512];
    return aigtatt_cfg_where(c, buf, sizeof buf);
}

static const char *key_where(const aigtatt_cfg *map, size_t i)
{
    static _Thread_local char buf[512];
    return aigtatt_cfg_key_where(map, i, buf, sizeof buf);
}

static int check_keys(const aigtatt_cfg *map, const char *const *allowed, size_t n, const char *what)
{
    for (size_t i = 0; i < aigtatt_cfg_len(map); i++) {
        const char *k = aigtatt_cfg_key_at(map, i);
        size_t j;
        for (j = 0; j < n; j++)
            if (!strcmp(k, allowed[j]))
                break;
        if (j < n)
            continue;
        const char *near = aigtatt_nearest(k, allowed, n);
        aigtatt_buf b = AIGTATT_BUF_INIT;
        for (j = 0; j < n; j++)
            aigtatt_buf_printf(&b, "%s%s", j ? ", " : "", allowed[j]);
        if (near)
            aigtatt_set_error("%s: unknown key '%s' in %s (did you mean '%s'?)", key_where(map, i), k, what, near);
        else
            aigtatt_set_error("%s: unknown key '%s' in %s (allowed: %s)", key_where(map, i), k, what,
                              aigtatt_buf_str(&b));
        aigtatt_buf_free(&b);
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static const aigtatt_cfg *want_scalar(const aigtatt_cfg *map, const char *key, int required, const char *what)
{
    const aigtatt_cfg *v = aigtatt_cfg_get(map, key);
    if (!v) {
        if (required)
            aigtatt_set_error("%s: %s needs '%s'", where(map), what, key);
        return NULL;
    }
    if (aigtatt_cfg_type_of(v) != AIGTATT_CFG_SCALAR) {
        aigtatt_set_error("%s: '%s' must be a single value, not a %s", where(v), key,
                          aigtatt_cfg_type_of(v) == AIGTATT_CFG_MAP ? "mapping" : "list");
        return NULL;
    }
    return v;
}

static int valid_node_id(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return 0;
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Whether any scalar of `c` holds a '#'. */
static int cfg_has_hash(const aigtatt_cfg *c)
{
    if (c->type == AIGTATT_CFG_SCALAR)
        return strchr(c->scalar, '#') != NULL;
    for (size_t k = 0; k < c->len; k++)
        if (cfg_has_hash(c->items[k]))
            return 1;
    return 0;
}

/* A '#' at the start or after a blank starts a YAML comment: on a command
 * line it almost always belongs to the value ("tattoo #3", "#ffffff"), so
 * a value it would cut is refused rather than silently shortened. */
static int comment_cuts(const char *text, const aigtatt_cfg *parsed)
{
    for (const char *p = text; *p; p++)
        if (*p == '#' && (p == text || p[-1] == ' ' || p[-1] == '\t'))
            return !parsed || !cfg_has_hash(parsed);
    return 0;
}

/* Applies `--set key=value` overrides to the tree before validation, so an
 * override is checked exactly like the file. */
static int apply_overrides(aigtatt_cfg *root, const aigtatt_override *ov, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[256];
        snprintf(name, sizeof name, "--set %s", ov[i].key);
        aigtatt_cfg *value = NULL;
        int rc = aigtatt_cfg_load_string(ov[i].value, strlen(ov[i].value), name, &value);
        if (rc != AIGTATT_OK)
            return AIGTATT_ERR_INVALID;
        if (comment_cuts(ov[i].value, value)) {
            aigtatt_set_error("--set %s=%s: '#' would start a YAML comment and cut the value; quote it: "
                              "--set '%s=\"%s\"'", ov[i].key, ov[i].value, ov[i].key, ov[i].value);
            aigtatt_cfg_free(value);
            return AIGTATT_ERR_INVALID;
        }
        /* An empty value (or blanks only) is the empty string, not an
         * empty mapping. */
        if (!ov[i].value[strspn(ov[i].value, " \t")]) {
            aigtatt_cfg_free(value);
            rc = aigtatt_cfg_load_string("''", 2, name, &value);
            if (rc != AIGTATT_OK)
                return rc;
        }
        const char *dot = strchr(ov[i].key, '.');
        if (!dot) {
            size_t j;
            for (j = 0; j < N_OF(top_keys); j++)
                if (!strcmp(ov[i].key, top_keys[j]) && strcmp(ov[i].key, "nodes"))
                    break;
            if (j == N_OF(top_keys)) {
                aigtatt_set_error("--set %s: expected NODE.PARAM=VALUE, or one of seed, name, workdir, "
                                  "description", ov[i].key);
                aigtatt_cfg_free(value);
                return AIGTATT_ERR_INVALID;
            }
            rc = aigtatt_cfg_map_set(root, ov[i].key, value);
            if (rc != AIGTATT_OK)
                return rc;
            continue;
        }
        char node_id[128];
        snprintf(node_id, sizeof node_id, "%.*s", (int)(dot - ov[i].key), ov[i].key);
        const char *param = dot + 1;
        aigtatt_cfg *nodes = (aigtatt_cfg *)aigtatt_cfg_get(root, "nodes");
        aigtatt_cfg *node = (aigtatt_cfg *)aigtatt_cfg_get(nodes, node_id);
        if (!node || aigtatt_cfg_type_of(node) != AIGTATT_CFG_MAP) {
            const char **ids = calloc(aigtatt_cfg_len(nodes) + 1, sizeof *ids);
            for (size_t k = 0; ids && k < aigtatt_cfg_len(nodes); k++)
                ids[k] = aigtatt_cfg_key_at(nodes, k);
            const char *near = ids ? aigtatt_nearest(node_id, ids, aigtatt_cfg_len(nodes)) : NULL;
            if (near)
                aigtatt_set_error("--set %s: no node '%s' (did you mean '%s'?)", ov[i].key, node_id, near);
            else
                aigtatt_set_error("--set %s: no node '%s' in the experiment", ov[i].key, node_id);
            free(ids);
            aigtatt_cfg_free(value);
            return AIGTATT_ERR_INVALID;
        }
        if (!*param || strchr(param, '.')) {
            aigtatt_set_error("--set %s: expected NODE.PARAM=VALUE", ov[i].key);
            aigtatt_cfg_free(value);
            return AIGTATT_ERR_INVALID;
        }
        aigtatt_cfg *params = (aigtatt_cfg *)aigtatt_cfg_get(node, "params");
        if (!params) {
            aigtatt_cfg *empty = NULL;
            rc = aigtatt_cfg_load_string("{}", 2, name, &empty);
            if (rc == AIGTATT_OK)
                rc = aigtatt_cfg_map_set(node, "params", empty);
            if (rc != AIGTATT_OK) {
                aigtatt_cfg_free(value);
                return rc;
            }
            params = (aigtatt_cfg *)aigtatt_cfg_get(node, "params");
        }
        if (aigtatt_cfg_type_of(params) != AIGTATT_CFG_MAP) {
            aigtatt_set_error("%s: 'params' of node '%s' must be a mapping", where(params), node_id);
            aigtatt_cfg_free(value);
            return AIGTATT_ERR_INVALID;
        }
        rc = aigtatt_cfg_map_set(params, param, value);
        if (rc != AIGTATT_OK)
            return rc;
    }
    return AIGTATT_OK;
}

static int parse_inputs(aigtatt_experiment *e, aigtatt_node *n, const aigtatt_cfg *inputs)
{
    if (!inputs)
        return AIGTATT_OK;
    if (aigtatt_cfg_type_of(inputs) != AIGTATT_CFG_MAP) {
        aigtatt_set_error("%s: 'inputs' of node '%s' must map input ports to nodes (port: node or "
                          "port: node.output)", where(inputs), n->id);
        return AIGTATT_ERR_INVALID;
    }
    size_t len = aigtatt_cfg_len(inputs);
    n->inputs = calloc(len ? len : 1, sizeof *n->inputs);
    if (!n->inputs)
        return AIGTATT_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        const char *port = aigtatt_cfg_key_at(inputs, i);
        const aigtatt_cfg *v = aigtatt_cfg_at(inputs, i);
        aigtatt_input_ref *r = &n->inputs[n->n_inputs++];
        r->where = v;
        r->port = strdup(port);
        if (aigtatt_cfg_type_of(v) != AIGTATT_CFG_SCALAR) {
            aigtatt_set_error("%s: input '%s' of node '%s' must name a node (or node.output)", where(v), port,
                              n->id);
            return AIGTATT_ERR_INVALID;
        }
        const char *s = aigtatt_cfg_scalar(v);
        const char *dot = strchr(s, '.');
        r->node = dot ? strndup(s, (size_t)(dot - s)) : strdup(s);
        r->out_port = dot ? strdup(dot + 1) : NULL;
        if (!r->port || !r->node || (dot && !r->out_port))
            return AIGTATT_ERR_NOMEM;
    }
    (void)e;
    return AIGTATT_OK;
}

static const aigtatt_port_desc *find_port(const aigtatt_port_desc *ports, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ports[i].name, name))
            return &ports[i];
    return NULL;
}

static void port_names(aigtatt_buf *b, const aigtatt_port_desc *ports, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aigtatt_buf_printf(b, "%s%s (%s)", i ? ", " : "", ports[i].name, ports[i].type);
    if (!n)
        aigtatt_buf_puts(b, "none");
}

/* Resolves references and checks port types. */
static int link_inputs(aigtatt_experiment *e, aigtatt_node *n)
{
    const aigtatt_component *c = n->comp;
    for (size_t i = 0; i < n->n_inputs; i++) {
        aigtatt_input_ref *r = &n->inputs[i];
        const aigtatt_port_desc *in = find_port(c->inputs, c->n_inputs, r->port);
        if (!in) {
            const char **names = calloc(c->n_inputs + 1, sizeof *names);
            for (size_t k = 0; names && k < c->n_inputs; k++)
                names[k] = c->inputs[k].name;
            const char *near = names ? aigtatt_nearest(r->port, names, c->n_inputs) : NULL;
            aigtatt_buf b = AIGTATT_BUF_INIT;
            port_names(&b, c->inputs, c->n_inputs);
            aigtatt_set_error("%s: %s has no input port '%s'%s%s%s (its inputs: %s)", where(r->where),
                              c->desc.name, r->port, near ? " (did you mean '" : "", near ? near : "",
                              near ? "'?)" : "", aigtatt_buf_str(&b));
            aigtatt_buf_free(&b);
            free(names);
            return AIGTATT_ERR_INVALID;
        }
        long up = aigtatt_experiment_find(e, r->node);
        if (up < 0) {
            const char **ids = calloc(e->n_nodes + 1, sizeof *ids);
            for (size_t k = 0; ids && k < e->n_nodes; k++)
                ids[k] = e->nodes[k].id;
            const char *near = ids ? aigtatt_nearest(r->node, ids, e->n_nodes) : NULL;
            if (near)
                aigtatt_set_error("%s: input '%s' of node '%s' refers to unknown node '%s' (did you mean '%s'?)",
                                  where(r->where), r->port, n->id, r->node, near);
            else
                aigtatt_set_error("%s: input '%s' of node '%s' refers to unknown node '%s'", where(r->where),
                                  r->port, n->id, r->node);
            free(ids);
            return AIGTATT_ERR_INVALID;
        }
        r->node_index = (size_t)up;
        const aigtatt_component *uc = e->nodes[up].comp;
        const aigtatt_port_desc *out = NULL;
        if (r->out_port) {
            out = find_port(uc->outputs, uc->n_outputs, r->out_port);
            if (!out) {
                aigtatt_buf b = AIGTATT_BUF_INIT;
                port_names(&b, uc->outputs, uc->n_outputs);
                aigtatt_set_error("%s: node '%s' (%s) has no output '%s' (its outputs: %s)", where(r->where),
                                  r->node, uc->desc.name, r->out_port, aigtatt_buf_str(&b));
                aigtatt_buf_free(&b);
                return AIGTATT_ERR_INVALID;
            }
        } else {
            /* "node" alone names its only output, or the one of the wanted type. */
            for (size_t k = 0; k < uc->n_outputs; k++)
                if (!strcmp(uc->outputs[k].type, in->type)) {
                    if (out) {
                        aigtatt_set_error("%s: node '%s' has several '%s' outputs; write %s.<output>",
                                          where(r->where), r->node, in->type, r->node);
                        return AIGTATT_ERR_INVALID;
                    }
                    out = &uc->outputs[k];
                }
            if (!out && uc->n_outputs == 1)
                out = &uc->outputs[0];
            if (!out) {
                aigtatt_buf b = AIGTATT_BUF_INIT;
                port_names(&b, uc->outputs, uc->n_outputs);
                aigtatt_set_error("%s: input '%s' of node '%s' wants '%s', but node '%s' (%s) gives %s",
                                  where(r->where), r->port, n->id, in->type, r->node, uc->desc.name,
                                  aigtatt_buf_str(&b));
                aigtatt_buf_free(&b);
                return AIGTATT_ERR_INVALID;
            }
            r->out_port = strdup(out->name);
            if (!r->out_port)
                return AIGTATT_ERR_NOMEM;
        }
        if (strcmp(out->type, in->type)) {
            aigtatt_set_error("%s: type mismatch: input '%s' of node '%s' (%s) takes '%s', but %s.%s is '%s'",
                              where(r->where), r->port, n->id, c->desc.name, in->type, r->node, out->name,
                              out->type);
            return AIGTATT_ERR_INVALID;
        }
    }
    for (size_t k = 0; k < c->n_inputs; k++) {
        if (c->inputs[k].optional)
            continue;
        size_t i;
        for (i = 0; i < n->n_inputs; i++)
            if (!strcmp(n->inputs[i].port, c->inputs[k].name))
                break;
        if (i == n->n_inputs) {
            aigtatt_set_error("%s: node '%s' (%s) needs input '%s' (%s): add `inputs: {%s: <node>}`",
                              where(n->cfg), n->id, c->desc.name, c->inputs[k].name, c->inputs[k].type,
                              c->inputs[k].name);
            return AIGTATT_ERR_INVALID;
        }
    }
    return AIGTATT_OK;
}

/* Depth-first topological sort; a cycle is reported as a path. */
static int visit(aigtatt_experiment *e, size_t i, int *state, size_t *stack, size_t depth, size_t *n_order)
{
    if (state[i] == 2)
        return AIGTATT_OK;
    stack[depth] = i;
    if (state[i] == 1) {
        aigtatt_buf b = AIGTATT_BUF_INIT;
        size_t start = 0;
        for (size_t k = 0; k < depth; k++)
            if (stack[k] == i)
                start = k;
        for (size_t k = start; k <= depth; k++)
            aigtatt_buf_printf(&b, "%s%s", k > start ? " -> " : "", e->nodes[stack[k]].id);
        aigtatt_set_error("%s: the graph has a cycle: %s", where(e->nodes[i].cfg), aigtatt_buf_str(&b));
        aigtatt_buf_free(&b);
        return AIGTATT_ERR_INVALID;
    }
    state[i] = 1;
    /* Inputs in port-name order, so the run order does not depend on how
     * the YAML lists them. */
    aigtatt_node *n = &e->nodes[i];
    for (size_t k = 0; k < n->n_inputs; k++) {
        int rc = visit(e, n->inputs[k].node_index, state, stack, depth + 1, n_order);
        if (rc)
            return rc;
    }
    state[i] = 2;
    e->order[(*n_order)++] = i;
    return AIGTATT_OK;
}

static int topo_sort(aigtatt_experiment *e)
{
    int *state = calloc(e->n_nodes + 1, sizeof *state);
    size_t *stack = calloc(e->n_nodes + 2, sizeof *stack);
    e->order = calloc(e->n_nodes + 1, sizeof *e->order);
    int rc = AIGTATT_ERR_NOMEM;
    if (state && stack && e->order) {
        size_t n_order = 0;
        rc = AIGTATT_OK;
        for (size_t i = 0; i < e->n_nodes && rc == AIGTATT_OK; i++)
            rc = visit(e, i, state, stack, 0, &n_order);
    }
    free(state);
    free(stack);
    return rc;
}

static int load_nodes(aigtatt_experiment *e)
{
    const aigtatt_cfg *nodes = aigtatt_cfg_get(e->root, "nodes");
    if (!nodes) {
        aigtatt_set_error("%s: the experiment has no 'nodes:' section", where(e->root));
        return AIGTATT_ERR_INVALID;
    }
    if (aigtatt_cfg_type_of(nodes) != AIGTATT_CFG_MAP || aigtatt_cfg_len(nodes) == 0) {
        aigtatt_set_error("%s: 'nodes' must map node ids to nodes (id: {use: component, ...})", where(nodes));
        return AIGTATT_ERR_INVALID;
    }
    size_t len = aigtatt_cfg_len(nodes);
    e->nodes = calloc(len, sizeof *e->nodes);
    if (!e->nodes)
        return AIGTATT_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        aigtatt_node *n = &e->nodes[e->n_nodes++];
        const char *id = aigtatt_cfg_key_at(nodes, i);
        n->id = strdup(id);
        n->cfg = aigtatt_cfg_at(nodes, i);
        if (!n->id)
            return AIGTATT_ERR_NOMEM;
        if (!valid_node_id(id)) {
            aigtatt_set_error("%s: node id '%s' may hold only letters, digits, '_' and '-'", key_where(nodes, i),
                              id);
            return AIGTATT_ERR_INVALID;
        }
        if (aigtatt_cfg_type_of(n->cfg) != AIGTATT_CFG_MAP) {
            aigtatt_set_error("%s: node '%s' must be a mapping with 'use:'", where(n->cfg), id);
            return AIGTATT_ERR_INVALID;
        }
        if (check_keys(n->cfg, node_keys, N_OF(node_keys), "a node"))
            return AIGTATT_ERR_INVALID;
        const aigtatt_cfg *use = want_scalar(n->cfg, "use", 1, "a node");
        if (!use)
            return AIGTATT_ERR_INVALID;
        n->comp = aigtatt_registry_find(aigtatt_cfg_scalar(use));
        if (!n->comp) {
            aigtatt_registry_explain_missing(aigtatt_cfg_scalar(use));
            aigtatt_error_prefix("%s: node '%s'", where(use), id);
            return AIGTATT_ERR_INVALID;
        }
        if (!AIGTATT_KIND_IS_NODE(n->comp->desc.kind)) {
            aigtatt_set_error("%s: %s is a building block (%s), not a graph node; it is used inside a node",
                              where(use), n->comp->desc.name, aigtatt_kind_name(n->comp->desc.kind));
            return AIGTATT_ERR_INVALID;
        }
        const aigtatt_cfg *params = aigtatt_cfg_get(n->cfg, "params");
        if (params && aigtatt_cfg_type_of(params) != AIGTATT_CFG_MAP) {
            aigtatt_set_error("%s: 'params' of node '%s' must be a mapping", where(params), id);
            return AIGTATT_ERR_INVALID;
        }
        /* The message starts with file:line:col of the value, or, for a
         * node without `params:` missing a required one, gets the node's. */
        if (aigtatt_params_parse(params, &n->comp->desc, e->base_dir, &n->params) != AIGTATT_OK) {
            if (!params)
                aigtatt_error_prefix("%s: node '%s'", where(n->cfg), id);
            return AIGTATT_ERR_INVALID;
        }
        /* Declared parameters are checked; now the component's own rules. */
        if (n->comp->node.check) {
            aigtatt_clear_error();
            aigtatt_log_set_context(n->id);
            int rc = n->comp->node.check(n->params);
            aigtatt_log_set_context(NULL);
            if (rc != AIGTATT_OK) {
                aigtatt_error_prefix("%s: node '%s' (%s)", where(params ? params : n->cfg), id,
                                     n->comp->desc.name);
                return AIGTATT_ERR_INVALID;
            }
        }
        n->seed = aigtatt_seed_derive(e->seed, n->id, 0);
        int rc = parse_inputs(e, n, aigtatt_cfg_get(n->cfg, "inputs"));
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < e->n_nodes; i++) {
        int rc = link_inputs(e, &e->nodes[i]);
        if (rc)
            return rc;
    }
    return topo_sort(e);
}

static char *file_stem(const char *path)
{
    const char *s = strrchr(path, '/');
    s = s ? s + 1 : path;
    const char *dot = strrchr(s, '.');
    return dot && dot != s ? strndup(s, (size_t)(dot - s)) : strdup(s);
}

int aigtatt_experiment_load(const char *path, const aigtatt_override *overrides, size_t n_overrides,
                            const char *workdir, aigtatt_experiment **out)
{
    *out = NULL;
    aigtatt_experiment *e = calloc(1, sizeof *e);
    if (!e)
        return AIGTATT_ERR_NOMEM;
    int rc = aigtatt_cfg_load_file(path, &e->root);
    if (rc != AIGTATT_OK)
        goto fail;
    rc = AIGTATT_ERR_INVALID;
    e->path = aigtatt_path_absolute(path, NULL);
    e->base_dir = e->path ? aigtatt_path_dirname(e->path) : NULL;
    if (!e->path || !e->base_dir) {
        rc = AIGTATT_ERR_NOMEM;
        goto fail;
    }
    if (aigtatt_cfg_type_of(e->root) != AIGTATT_CFG_MAP) {
        aigtatt_set_error("%s: an experiment file must be a mapping (aigtatt:, name:, seed:, nodes:)",
                          where(e->root));
        goto fail;
    }
    if (apply_overrides(e->root, overrides, n_overrides) != AIGTATT_OK)
        goto fail;
    if (check_keys(e->root, top_keys, N_OF(top_keys), "the experiment"))
        goto fail;
    const aigtatt_cfg *v = aigtatt_cfg_get(e->root, "aigtatt");
    if (v) {
        uint64_t fmt;
        if (aigtatt_cfg_type_of(v) != AIGTATT_CFG_SCALAR || parse_u64(aigtatt_cfg_scalar(v), &fmt) ||
            fmt != FORMAT_VERSION) {
            aigtatt_set_error("%s: 'aigtatt' is the experiment format version; this aigtatt reads version %d",
                              where(v), FORMAT_VERSION);
            goto fail;
        }
    }
    v = aigtatt_cfg_get(e->root, "seed");
    if (v) {
        if (aigtatt_cfg_type_of(v) != AIGTATT_CFG_SCALAR || v->quoted ||
            parse_u64(aigtatt_cfg_scalar(v), &e->seed)) {
            aigtatt_set_error("%s: 'seed' must be a non-negative integer below 2^64", where(v));
            goto fail;
        }
    }
    if (aigtatt_cfg_get(e->root, "name")) {
        v = want_scalar(e->root, "name", 1, "the experiment");
        if (!v)
            goto fail;
        e->name = strdup(aigtatt_cfg_scalar(v));
        if (!valid_node_id(e->name)) {
            aigtatt_set_error("%s: 'name' may hold only letters, digits, '_' and '-' (it names a folder)",
                              where(v));
            goto fail;
        }
    } else {
        e->name = file_stem(e->path);
    }
    if (aigtatt_cfg_get(e->root, "description")) {
        v = want_scalar(e->root, "description", 1, "the experiment");
        if (!v)
            goto fail;
        e->description = strdup(aigtatt_cfg_scalar(v));
    }
    if (workdir) {
        e->workdir = aigtatt_path_absolute(workdir, NULL);
    } else if (aigtatt_cfg_get(e->root, "workdir") && !aigtatt_cfg_is_null(aigtatt_cfg_get(e->root, "workdir"))) {
        v = want_scalar(e->root, "workdir", 1, "the experiment");
        if (!v)
            goto fail;
        /* ~/runs is $HOME/runs, as in the shell, unless quoted */
        char *home = v->quoted ? strdup(aigtatt_cfg_scalar(v)) : aigtatt_path_home(aigtatt_cfg_scalar(v));
        e->workdir = home ? aigtatt_path_absolute(home, e->base_dir) : NULL;
        free(home);
    } else {
        char *rel = aigtatt_path_join("aigtatt-out", e->name);
        e->workdir = rel ? aigtatt_path_absolute(rel, NULL) : NULL;
        free(rel);
    }
    if (!e->workdir) {
        rc = AIGTATT_ERR_NOMEM;
        goto fail;
    }
    rc = load_nodes(e);
    if (rc != AIGTATT_OK)
        goto fail;
    *out = e;
    return AIGTATT_OK;
fail:
    aigtatt_experiment_free(e);
    return rc ? rc : AIGTATT_ERR_INVALID;
}

void aigtatt_experiment_free(aigtatt_experiment *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_nodes; i++) {
        aigtatt_node *n = &e->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            free(n->inputs[k].port);
            free(n->inputs[k].node);
            free(n->inputs[k].out_port);
        }
        free(n->inputs);
        aigtatt_params_free(n->params);
        free(n->uses);
        free(n->id);
    }
    free(e->nodes);
    free(e->order);
    free(e->name);
    free(e->description);
    free(e->workdir);
    free(e->path);
    free(e->base_dir);
    aigtatt_cfg_free(e->root);
    free(e);
}

long aigtatt_experiment_find(const aigtatt_experiment *e, const char *id)
{
    for (size_t i = 0; i < e->n_nodes; i++)
        if (e->nodes[i].id && !strcmp(e->nodes[i].id, id))
            return (long)i;
    return -1;
}

typedef struct uses_list {
    char **names;
    size_t n, cap;
    int oom;
} uses_list;

static void uses_add(void *ctx, const char *name)
{
    uses_list *u = ctx;
    if (u->oom || !name)
        return;
    for (size_t i = 0; i < u->n; i++)
        if (!strcmp(u->names[i], name))
            return;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        char **nn = realloc(u->names, cap * sizeof *nn);
        if (!nn) {
            u->oom = 1;
            return;
        }
        u->names = nn;
        u->cap = cap;
    }
    if (!(u->names[u->n] = strdup(name)))
        u->oom = 1;
    else
        u->n++;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Building blocks the node looks up (augment ops, ...) are part of its key:
 * a new version of an op must rerun the node that uses it. */
/* Also keeps them as n->uses, so that node.json and lock.json say which
 * building blocks (and versions) made the outputs: `backend: {}` names
 * none, the key holds the one the build chose. */
static int hash_uses(aigtatt_sha256 *h, aigtatt_node *n)
{
    free(n->uses);
    n->uses = NULL;
    if (!n->comp->node.uses)
        return AIGTATT_OK;
    uses_list u = {0};
    n->comp->node.uses(n->params, uses_add, &u);
    if (u.n > 1)
        qsort(u.names, u.n, sizeof *u.names, cmp_str);
    json_t *j = json_object();
    for (size_t i = 0; i < u.n; i++) {
        const aigtatt_component *c = aigtatt_registry_find(u.names[i]);
        const char *ver = c ? c->desc.version : "(missing)";
        aigtatt_sha256_field(h, u.names[i]);
        aigtatt_sha256_field(h, ver);
        if (j)
            json_object_set_new(j, u.names[i], json_string(ver));
        free(u.names[i]);
    }
    n->uses = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!n->uses)
        u.oom = 1;
    free(u.names);
    if (u.oom) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    return AIGTATT_OK;
}

static int cmp_inputs(const void *a, const void *b)
{
    return strcmp(((const aigtatt_input_ref *)a)->port, ((const aigtatt_input_ref *)b)->port);
}

int aigtatt_experiment_keys(aigtatt_experiment *e)
{
    for (size_t k = 0; k < e->n_nodes; k++) {
        aigtatt_node *n = &e->nodes[e->order[k]];
        aigtatt_sha256 *h = aigtatt_sha256_new();
        if (!h) {
            aigtatt_set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        char *json = aigtatt_params_key_json(n->params);
        if (!json) {
            /* keeps the reason: a value that is not UTF-8 (a folder name
             * in Latin-1, say) cannot be part of the JSON key */
            char dummy[65];
            aigtatt_sha256_hex(h, dummy);
            aigtatt_error_prefix("node '%s'", n->id);
            return AIGTATT_ERR_INVALID;
        }
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)n->seed);
        aigtatt_sha256_field(h, "aigtatt-node-key-v1");
        aigtatt_sha256_field(h, n->comp->desc.name);
        aigtatt_sha256_field(h, n->comp->desc.version);
        aigtatt_sha256_field(h, json);
        aigtatt_sha256_field(h, seed);
        /* Files and folders named by PATH parameters: their state, not just
         * their names, so edited user data reruns the node. */
        for (size_t i = 0; i < n->comp->n_params; i++) {
            if (n->comp->params[i].type != AIGTATT_PARAM_PATH)
                continue;
            const char *v = aigtatt_params_string(n->params, n->comp->params[i].name);
            if (v && *v)
                aigtatt_fingerprint_path(h, v, e->workdir);
        }
        if (hash_uses(h, n) != AIGTATT_OK) {
            char dummy[65];
            aigtatt_sha256_hex(h, dummy);
            free(json);
            return AIGTATT_ERR_NOMEM;
        }
        /* Sorted by port so that reordering `inputs:` keeps the key. */
        if (n->n_inputs > 1)
            qsort(n->inputs, n->n_inputs, sizeof *n->inputs, cmp_inputs);
        for (size_t i = 0; i < n->n_inputs; i++) {
            aigtatt_sha256_field(h, n->inputs[i].port);
            aigtatt_sha256_field(h, e->nodes[n->inputs[i].node_index].key);
            aigtatt_sha256_field(h, n->inputs[i].out_port);
        }
        aigtatt_sha256_hex(h, n->key);
        free(json);
    }
    return AIGTATT_OK;
}

static void dot_escape(aigtatt_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            aigtatt_buf_append(b, "\\", 1);
        aigtatt_buf_append(b, s, 1);
    }
}

char *aigtatt_experiment_dot(const aigtatt_experiment *e)
{
    aigtatt_buf b = AIGTATT_BUF_INIT;
    aigtatt_buf_puts(&b, "digraph \"");
    dot_escape(&b, e->name);
    aigtatt_buf_puts(&b, "\" {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    for (size_t k = 0; k < e->n_nodes; k++) {
        const aigtatt_node *n = &e->nodes[e->order[k]];
        aigtatt_buf_puts(&b, "  \"");
        dot_escape(&b, n->id);
        aigtatt_buf_puts(&b, "\" [label=\"");
        dot_escape(&b, n->id);
        aigtatt_buf_puts(&b, "\\n");
        dot_escape(&b, n->comp->desc.name);
        aigtatt_buf_printf(&b, "\", tooltip=\"%s\"];\n", aigtatt_kind_name(n->comp->desc.kind));
    }
    for (size_t k = 0; k < e->n_nodes; k++) {
        const aigtatt_node *n = &e->nodes[e->order[k]];
        for (size_t i = 0; i < n->n_inputs; i++) {
            const aigtatt_input_ref *r = &n->inputs[i];
            const aigtatt_component *uc = e->nodes[r->node_index].comp;
            const char *type = "";
            for (size_t j = 0; j < uc->n_outputs; j++)
                if (!strcmp(uc->outputs[j].name, r->out_port))
                    type = uc->outputs[j].type;
            aigtatt_buf_puts(&b, "  \"");
            dot_escape(&b, r->node);
            aigtatt_buf_puts(&b, "\" -> \"");
            dot_escape(&b, n->id);
            aigtatt_buf_puts(&b, "\" [label=\"");
            dot_escape(&b, type);
            if (strcmp(r->port, type)) {
                aigtatt_buf_puts(&b, " → ");
                dot_escape(&b, r->port);
            }
            aigtatt_buf_puts(&b, "\"];\n");
        }
    }
    aigtatt_buf_puts(&b, "}\n");
    return b.failed ? (aigtatt_buf_free(&b), NULL) : aigtatt_buf_take(&b);
}
