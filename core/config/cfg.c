/* The config tree itself: nodes, counted file names, accessors, clone,
 * grafting (--set) and comparison. The YAML reader is in yaml_load.c, the
 * writer in cfg_emit.c. */
#include "config/cfg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* A node's `file` points at `text`; the count lives just before it, so a
 * node grafted from a --set string keeps its own name alive without the
 * tree needing parent or root pointers. */
struct cfg_name {
    size_t refs;
    char text[];
};

static struct cfg_name *name_of(const char *file)
{
    return (struct cfg_name *)(void *)((char *)(uintptr_t)file - offsetof(struct cfg_name, text));
}

const char *aigtatt_cfg_name_new(const char *name)
{
    size_t n = strlen(name);
    struct cfg_name *nm = malloc(sizeof *nm + n + 1);
    if (!nm)
        return NULL;
    nm->refs = 1;
    memcpy(nm->text, name, n + 1);
    return nm->text;
}

static void name_ref(const char *file) { name_of(file)->refs++; }

void aigtatt_cfg_name_release(const char *file)
{
    if (!file)
        return;
    struct cfg_name *nm = name_of(file);
    if (--nm->refs == 0)
        free(nm);
}

aigtatt_cfg *aigtatt_cfg_node_new(aigtatt_cfg_type type, const char *file, int line, int col,
                                  const char *scalar, size_t scalar_len)
{
    aigtatt_cfg *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = type;
    c->line = c->key_line = line;
    c->col = c->key_col = col;
    if (type == AIGTATT_CFG_SCALAR) {
        c->scalar = malloc(scalar_len + 1);
        if (!c->scalar) {
            free(c);
            return NULL;
        }
        if (scalar_len)
            memcpy(c->scalar, scalar, scalar_len);
        c->scalar[scalar_len] = '\0';
    }
    c->file = file;
    name_ref(file);
    return c;
}

void aigtatt_cfg_free(aigtatt_cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->len; i++) {
        if (c->keys)
            free(c->keys[i]);
        if (c->items)
            aigtatt_cfg_free(c->items[i]);
    }
    free(c->keys);
    free(c->items);
    free(c->scalar);
    aigtatt_cfg_name_release(c->file);
    free(c);
}

/* Clone state: every distinct source name maps to one fresh copy, so the
 * clone shares nothing with the original (it may be freed or used on
 * another thread independently). */
struct clone_names {
    const char **from, **to;
    size_t n, cap;
};

static const char *clone_name(struct clone_names *cn, const char *file)
{
    for (size_t i = 0; i < cn->n; i++)
        if (cn->from[i] == file)
            return cn->to[i];
    if (cn->n == cn->cap) {
        size_t cap = cn->cap ? cn->cap * 2 : 4;
        const char **f = realloc(cn->from, cap * sizeof *f);
        if (!f)
            return NULL;
        cn->from = f;
        const char **t = realloc(cn->to, cap * sizeof *t);
        if (!t)
            return NULL;
        cn->to = t;
        cn->cap = cap;
    }
    const char *copy = aigtatt_cfg_name_new(file);
    if (!copy)
        return NULL;
    cn->from[cn->n] = file;
    cn->to[cn->n++] = copy;
    return copy;
}

static aigtatt_cfg *clone_node(const aigtatt_cfg *src, struct clone_names *cn)
{
    const char *file = clone_name(cn, src->file);
    if (!file)
        return NULL;
    const char *text = src->type == AIGTATT_CFG_SCALAR ? src->scalar : NULL;
    aigtatt_cfg *c = aigtatt_cfg_node_new(src->type, file, src->line, src->col, text,
                                          text ? strlen(text) : 0);
    if (!c)
        return NULL;
    c->quoted = src->quoted;
    c->key_line = src->key_line;
    c->key_col = src->key_col;
    if (src->len == 0)
        return c;
    c->items = calloc(src->len, sizeof *c->items);
    if (!c->items)
        goto fail;
    if (src->type == AIGTATT_CFG_MAP) {
        c->keys = calloc(src->len, sizeof *c->keys);
        if (!c->keys)
            goto fail;
    }
    /* len grows with each copied pair so a failure frees exactly those */
    for (size_t i = 0; i < src->len; i++) {
        aigtatt_cfg *item = clone_node(src->items[i], cn);
        char *key = NULL;
        if (item && c->keys && !(key = strdup(src->keys[i]))) {
            aigtatt_cfg_free(item);
            item = NULL;
        }
        if (!item)
            goto fail;
        c->items[i] = item;
        if (c->keys)
            c->keys[i] = key;
        c->len = i + 1;
    }
    return c;
fail:
    aigtatt_cfg_free(c);
    return NULL;
}

aigtatt_cfg *aigtatt_cfg_clone(const aigtatt_cfg *node)
{
    if (!node)
        return NULL;
    struct clone_names cn = {0};
    aigtatt_cfg *c = clone_node(node, &cn);
    /* the nodes hold their own references; drop the table's */
    for (size_t i = 0; i < cn.n; i++)
        aigtatt_cfg_name_release(cn.to[i]);
    free(cn.from);
    free(cn.to);
    if (!c)
        aigtatt_set_error("out of memory copying a config tree");
    return c;
}

int aigtatt_cfg_map_set(aigtatt_cfg *map, const char *key, aigtatt_cfg *value)
{
    char where[512];
    if (!map || !key || !value) {
        aigtatt_cfg_free(value);
        aigtatt_set_error("aigtatt_cfg_map_set: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    if (map->type != AIGTATT_CFG_MAP) {
        aigtatt_set_error("%s: cannot set '%s': not a mapping",
                          aigtatt_cfg_where(map, where, sizeof where), key);
        aigtatt_cfg_free(value);
        return AIGTATT_ERR_INVALID;
    }
    value->key_line = value->line;
    value->key_col = value->col;
    for (size_t i = 0; i < map->len; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            aigtatt_cfg_free(map->items[i]);
            map->items[i] = value;
            return AIGTATT_OK;
        }
    }
    char *k = strdup(key);
    char **keys = k ? realloc(map->keys, (map->len + 1) * sizeof *keys) : NULL;
    if (keys)
        map->keys = keys;
    aigtatt_cfg **items = keys ? realloc(map->items, (map->len + 1) * sizeof *items) : NULL;
    if (!items) {
        free(k);
        aigtatt_cfg_free(value);
        aigtatt_set_error("out of memory setting '%s'", key);
        return AIGTATT_ERR_NOMEM;
    }
    map->items = items;
    map->keys[map->len] = k;
    map->items[map->len] = value;
    map->len++;
    return AIGTATT_OK;
}

int aigtatt_cfg_equal(const aigtatt_cfg *a, const aigtatt_cfg *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type || a->len != b->len)
        return 0;
    if (a->type == AIGTATT_CFG_SCALAR)
        return a->quoted == b->quoted && strcmp(a->scalar, b->scalar) == 0;
    for (size_t i = 0; i < a->len; i++) {
        if (a->type == AIGTATT_CFG_MAP && strcmp(a->keys[i], b->keys[i]) != 0)
            return 0;
        if (!aigtatt_cfg_equal(a->items[i], b->items[i]))
            return 0;
    }
    return 1;
}

aigtatt_cfg_type aigtatt_cfg_type_of(const aigtatt_cfg *c) { return c ? c->type : 0; }

size_t aigtatt_cfg_len(const aigtatt_cfg *c)
{
    return c && c->type != AIGTATT_CFG_SCALAR ? c->len : 0;
}

const aigtatt_cfg *aigtatt_cfg_at(const aigtatt_cfg *c, size_t i)
{
    if (!c || c->type == AIGTATT_CFG_SCALAR || i >= c->len)
        return NULL;
    return c->items[i];
}

const char *aigtatt_cfg_key_at(const aigtatt_cfg *c, size_t i)
{
    if (!c || c->type != AIGTATT_CFG_MAP || i >= c->len)
        return NULL;
    return c->keys[i];
}

const aigtatt_cfg *aigtatt_cfg_get(const aigtatt_cfg *c, const char *key)
{
    if (!c || !key || c->type != AIGTATT_CFG_MAP)
        return NULL;
    for (size_t i = 0; i < c->len; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->items[i];
    return NULL;
}

const char *aigtatt_cfg_scalar(const aigtatt_cfg *c)
{
    return c && c->type == AIGTATT_CFG_SCALAR ? c->scalar : NULL;
}

int aigtatt_cfg_is_null(const aigtatt_cfg *c)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL"};
    if (!c || c->type != AIGTATT_CFG_SCALAR || c->quoted)
        return 0;
    for (size_t k = 0; k < sizeof nulls / sizeof nulls[0]; k++)
        if (strcmp(c->scalar, nulls[k]) == 0)
            return 1;
    return 0;
}

const char *aigtatt_cfg_where(const aigtatt_cfg *c, char *buf, size_t size)
{
    if (!buf || size == 0)
        return "";
    if (!c)
        snprintf(buf, size, "<unknown>");
    else
        snprintf(buf, size, "%s:%d:%d", c->file ? c->file : "<unknown>", c->line, c->col);
    return buf;
}

const char *aigtatt_cfg_key_where(const aigtatt_cfg *c, size_t i, char *buf, size_t size)
{
    if (!c || c->type != AIGTATT_CFG_MAP || i >= c->len)
        return aigtatt_cfg_where(c, buf, size);
    if (!buf || size == 0)
        return "";
    const aigtatt_cfg *v = c->items[i];
    snprintf(buf, size, "%s:%d:%d", v->file ? v->file : "<unknown>", v->key_line, v->key_col);
    return buf;
}
