/* YAML text -> config tree, through libyaml's event API so that every node
 * keeps its own file:line:col (the document loader would lose the marks of
 * keys and gives no say over anchors, tags or duplicates). */
#include "config/cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "util/error.h"

struct loader {
    yaml_parser_t parser;
    const char *file; /* counted name; the loader holds one reference */
    const char *text;
    size_t size;
    int status;
};

static void fail_at(struct loader *L, yaml_mark_t m, int status, const char *fmt, ...)
    AIGTATT_PRINTF(4, 5);

/* libyaml marks are 0-based; users and editors count from 1. */
static void fail_at(struct loader *L, yaml_mark_t m, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    aigtatt_set_error("%s:%zu:%zu: %s", L->file, m.line + 1, m.column + 1, msg);
    L->status = status;
}

/* Reader errors (bad UTF-8, control characters) carry only a byte offset;
 * turn it into a line and a character column like the scanner's marks. */
static yaml_mark_t mark_at_offset(const struct loader *L, size_t offset)
{
    yaml_mark_t m = {0};
    if (offset > L->size)
        offset = L->size;
    for (size_t i = 0; i < offset; i++) {
        unsigned char ch = (unsigned char)L->text[i];
        if (ch == '\n') {
            m.line++;
            m.column = 0;
        } else if ((ch & 0xC0) != 0x80) {
            m.column++;
        }
    }
    m.index = offset;
    return m;
}

static void parser_error(struct loader *L)
{
    const yaml_parser_t *p = &L->parser;
    const char *problem = p->problem ? p->problem : "invalid YAML";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        aigtatt_set_error("%s: out of memory while parsing", L->file);
        L->status = AIGTATT_ERR_NOMEM;
        return;
    case YAML_READER_ERROR:
        if (p->problem_value >= 0)
            fail_at(L, mark_at_offset(L, p->problem_offset), AIGTATT_ERR_FORMAT,
                    "%s (byte 0x%02X)", problem, (unsigned)p->problem_value);
        else
            fail_at(L, mark_at_offset(L, p->problem_offset), AIGTATT_ERR_FORMAT, "%s", problem);
        return;
    default:
        if (p->context)
            fail_at(L, p->problem_mark, AIGTATT_ERR_FORMAT, "%s (%s started at %zu:%zu)",
                    problem, p->context, p->context_mark.line + 1, p->context_mark.column + 1);
        else
            fail_at(L, p->problem_mark, AIGTATT_ERR_FORMAT, "%s", problem);
        return;
    }
}

static int next_event(struct loader *L, yaml_event_t *ev)
{
    if (yaml_parser_parse(&L->parser, ev))
        return 0;
    parser_error(L);
    return -1;
}

/* Shows "!!str" the way the user wrote it rather than libyaml's expansion. */
static void show_tag(const char *tag, char *buf, size_t size)
{
    static const char yaml_prefix[] = "tag:yaml.org,2002:";
    if (strncmp(tag, yaml_prefix, sizeof yaml_prefix - 1) == 0)
        snprintf(buf, size, "!!%s", tag + sizeof yaml_prefix - 1);
    else
        snprintf(buf, size, "%s", tag);
}

/* Anchors, aliases and tags would make the tree mean something other than
 * what it shows (shared nodes, retyped scalars); refuse them outright. */
static int check_props(struct loader *L, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    case YAML_ALIAS_EVENT:
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT,
                "anchors and aliases are not supported (found alias '*%s')",
                (const char *)ev->data.alias.anchor);
        return -1;
    default:
        return 0;
    }
    if (anchor) {
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT,
                "anchors and aliases are not supported (found anchor '&%s')",
                (const char *)anchor);
        return -1;
    }
    if (tag) {
        char shown[256];
        show_tag((const char *)tag, shown, sizeof shown);
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT,
                "tags are not supported (found '%s'); write the plain value, quoted if it "
                "must stay a string", shown);
        return -1;
    }
    return 0;
}

/* Our scalars are C strings; an escaped "\0" would silently cut them. */
static int check_nul(struct loader *L, const yaml_event_t *ev)
{
    if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT, "NUL characters are not supported");
        return -1;
    }
    return 0;
}

static aigtatt_cfg *new_node(struct loader *L, aigtatt_cfg_type type, const yaml_event_t *ev)
{
    const char *text = type == AIGTATT_CFG_SCALAR ? (const char *)ev->data.scalar.value : NULL;
    size_t len = type == AIGTATT_CFG_SCALAR ? ev->data.scalar.length : 0;
    aigtatt_cfg *c = aigtatt_cfg_node_new(type, L->file, (int)ev->start_mark.line + 1,
                                          (int)ev->start_mark.column + 1, text, len);
    if (!c) {
        aigtatt_set_error("%s: out of memory while parsing", L->file);
        L->status = AIGTATT_ERR_NOMEM;
    }
    return c;
}

/* Appends to a sequence or mapping under construction; `cap` is the
 * builder's capacity (the tree itself stores only len). */
static int push(struct loader *L, aigtatt_cfg *c, size_t *cap, char *key, aigtatt_cfg *item)
{
    if (c->len == *cap) {
        size_t n = *cap ? *cap * 2 : 4;
        aigtatt_cfg **items = realloc(c->items, n * sizeof *items);
        if (!items)
            goto nomem;
        c->items = items;
        if (c->type == AIGTATT_CFG_MAP) {
            char **keys = realloc(c->keys, n * sizeof *keys);
            if (!keys)
                goto nomem;
            c->keys = keys;
        }
        *cap = n;
    }
    c->items[c->len] = item;
    if (c->type == AIGTATT_CFG_MAP)
        c->keys[c->len] = key;
    c->len++;
    return 0;
nomem:
    aigtatt_set_error("%s: out of memory while parsing", L->file);
    L->status = AIGTATT_ERR_NOMEM;
    return -1;
}

/* Key index of a mapping being built, so duplicate detection stays linear
 * even for the large maps a 1 MiB file can hold. Slots hold index + 1. */
struct key_index {
    size_t *slots;
    size_t cap; /* a power of two, at least twice the keys */
};

static size_t hash_key(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Returns the index of `key` among map's keys, or (size_t)-1. */
static size_t index_find(const struct key_index *ix, const aigtatt_cfg *map, const char *key)
{
    if (!ix->cap)
        return (size_t)-1;
    for (size_t i = hash_key(key) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        if (!ix->slots[i])
            return (size_t)-1;
        if (strcmp(map->keys[ix->slots[i] - 1], key) == 0)
            return ix->slots[i] - 1;
    }
}

static void index_put(struct key_index *ix, const aigtatt_cfg *map, size_t idx)
{
    size_t i = hash_key(map->keys[idx]) & (ix->cap - 1);
    while (ix->slots[i])
        i = (i + 1) & (ix->cap - 1);
    ix->slots[i] = idx + 1;
}

/* Records the pair just pushed (index map->len - 1), rehashing into a
 * table twice as big whenever it would be more than half full. */
static int index_add(struct loader *L, struct key_index *ix, const aigtatt_cfg *map)
{
    if (map->len * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 16;
        size_t *slots = calloc(cap, sizeof *slots);
        if (!slots) {
            aigtatt_set_error("%s: out of memory while parsing", L->file);
            L->status = AIGTATT_ERR_NOMEM;
            return -1;
        }
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
        for (size_t k = 0; k < map->len; k++)
            index_put(ix, map, k);
        return 0;
    }
    index_put(ix, map, map->len - 1);
    return 0;
}

static int parse_node(struct loader *L, yaml_event_t *ev, int depth, aigtatt_cfg **out);

static int parse_seq(struct loader *L, aigtatt_cfg *c, int depth)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(L, &ev) != 0)
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        aigtatt_cfg *item = NULL;
        if (parse_node(L, &ev, depth, &item) != 0)
            return -1;
        if (push(L, c, &cap, NULL, item) != 0) {
            aigtatt_cfg_free(item);
            return -1;
        }
    }
}

static int parse_key(struct loader *L, yaml_event_t *ev, char **key)
{
    const char *what = ev->type == YAML_SEQUENCE_START_EVENT ? "a sequence"
                       : ev->type == YAML_MAPPING_START_EVENT ? "a mapping"
                                                              : NULL;
    *key = NULL;
    if (check_props(L, ev) != 0)
        return -1;
    if (what) {
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT,
                "mapping keys must be scalars (this key is %s)", what);
        return -1;
    }
    if (ev->type != YAML_SCALAR_EVENT) {
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT, "expected a mapping key");
        return -1;
    }
    if (check_nul(L, ev) != 0)
        return -1;
    *key = strdup((const char *)ev->data.scalar.value);
    if (!*key) {
        aigtatt_set_error("%s: out of memory while parsing", L->file);
        L->status = AIGTATT_ERR_NOMEM;
        return -1;
    }
    return 0;
}

static int parse_map(struct loader *L, aigtatt_cfg *c, int depth)
{
    size_t cap = 0;
    struct key_index ix = {0};
    char *key = NULL;
    yaml_event_t ev;
    for (;;) {
        if (next_event(L, &ev) != 0)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        yaml_mark_t key_mark = ev.start_mark;
        int rc = parse_key(L, &ev, &key);
        yaml_event_delete(&ev);
        if (rc != 0)
            goto fail;
        size_t first = index_find(&ix, c, key);
        if (first != (size_t)-1) {
            fail_at(L, key_mark, AIGTATT_ERR_FORMAT,
                    "duplicate key '%s' (first defined at line %d, column %d)", key,
                    c->items[first]->key_line, c->items[first]->key_col);
            goto fail;
        }
        aigtatt_cfg *value = NULL;
        if (next_event(L, &ev) != 0 || parse_node(L, &ev, depth, &value) != 0)
            goto fail;
        value->key_line = (int)key_mark.line + 1;
        value->key_col = (int)key_mark.column + 1;
        if (push(L, c, &cap, key, value) != 0) {
            aigtatt_cfg_free(value);
            goto fail;
        }
        key = NULL; /* owned by the map now */
        if (index_add(L, &ix, c) != 0)
            goto fail;
    }
    free(ix.slots);
    return 0;
fail:
    free(key);
    free(ix.slots);
    return -1;
}

/* Builds the node that starts with `ev` and consumes the events up to its
 * end. `ev` is always deleted. `depth` counts the collections above. */
static int parse_node(struct loader *L, yaml_event_t *ev, int depth, aigtatt_cfg **out)
{
    aigtatt_cfg *c = NULL;
    *out = NULL;
    if (check_props(L, ev) != 0)
        goto fail;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (check_nul(L, ev) != 0 || !(c = new_node(L, AIGTATT_CFG_SCALAR, ev)))
            goto fail;
        c->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        yaml_event_delete(ev);
        *out = c;
        return 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        if (depth + 1 > AIGTATT_CFG_MAX_DEPTH) {
            fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT,
                    "nesting deeper than %d levels is not supported", AIGTATT_CFG_MAX_DEPTH);
            goto fail;
        }
        if (!(c = new_node(L, is_map ? AIGTATT_CFG_MAP : AIGTATT_CFG_SEQ, ev)))
            goto fail;
        yaml_event_delete(ev);
        int rc = is_map ? parse_map(L, c, depth + 1) : parse_seq(L, c, depth + 1);
        if (rc != 0) {
            aigtatt_cfg_free(c);
            return -1;
        }
        *out = c;
        return 0;
    }
    default:
        fail_at(L, ev->start_mark, AIGTATT_ERR_FORMAT, "unexpected YAML event");
        goto fail;
    }
fail:
    aigtatt_cfg_free(c);
    yaml_event_delete(ev);
    return -1;
}

static aigtatt_cfg *empty_map(struct loader *L, yaml_mark_t m)
{
    aigtatt_cfg *c = aigtatt_cfg_node_new(AIGTATT_CFG_MAP, L->file, (int)m.line + 1,
                                          (int)m.column + 1, NULL, 0);
    if (!c) {
        aigtatt_set_error("%s: out of memory while parsing", L->file);
        L->status = AIGTATT_ERR_NOMEM;
    }
    return c;
}

/* stream-start (document-start node document-end)? stream-end */
static int parse_stream(struct loader *L, aigtatt_cfg **out)
{
    aigtatt_cfg *root = NULL;
    yaml_event_t ev;
    if (next_event(L, &ev) != 0)
        return -1;
    yaml_event_delete(&ev); /* STREAM_START */
    if (next_event(L, &ev) != 0)
        return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        /* nothing but comments and blanks: an empty experiment */
        root = empty_map(L, (yaml_mark_t){0});
        yaml_event_delete(&ev);
        *out = root;
        return root ? 0 : -1;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if (next_event(L, &ev) != 0 || parse_node(L, &ev, 0, &root) != 0)
        return -1;
    /* "---" alone is an empty (null) document: the same as an empty file */
    if (root->type == AIGTATT_CFG_SCALAR && !root->quoted && root->scalar[0] == '\0') {
        yaml_mark_t m = {.line = (size_t)root->line - 1, .column = (size_t)root->col - 1};
        aigtatt_cfg_free(root);
        if (!(root = empty_map(L, m)))
            return -1;
    }
    if (next_event(L, &ev) != 0)
        goto fail;
    yaml_event_delete(&ev); /* DOCUMENT_END */
    if (next_event(L, &ev) != 0)
        goto fail;
    if (ev.type != YAML_STREAM_END_EVENT) {
        fail_at(L, ev.start_mark, AIGTATT_ERR_FORMAT,
                "more than one document; a config file holds exactly one");
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    *out = root;
    return 0;
fail:
    aigtatt_cfg_free(root);
    return -1;
}

int aigtatt_cfg_load_string(const char *text, size_t size, const char *name, aigtatt_cfg **out)
{
    struct loader L = {.text = text ? text : "", .size = text ? size : 0, .status = AIGTATT_OK};
    if (!out) {
        aigtatt_set_error("aigtatt_cfg_load_string: NULL output");
        return AIGTATT_ERR_INVALID;
    }
    *out = NULL;
    if (!name)
        name = "<string>";
    if (L.size > AIGTATT_CFG_MAX_BYTES) {
        aigtatt_set_error("%s: %zu bytes is over the limit of %u bytes (1 MiB) for a config",
                          name, L.size, AIGTATT_CFG_MAX_BYTES);
        return AIGTATT_ERR_LIMIT;
    }
    if (!(L.file = aigtatt_cfg_name_new(name))) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    if (!yaml_parser_initialize(&L.parser)) {
        aigtatt_cfg_name_release(L.file);
        aigtatt_set_error("%s: out of memory", name);
        return AIGTATT_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)L.text, L.size);
    if (parse_stream(&L, out) != 0 && L.status == AIGTATT_OK)
        L.status = AIGTATT_ERR_FORMAT;
    yaml_parser_delete(&L.parser);
    aigtatt_cfg_name_release(L.file); /* the nodes hold their own references */
    return L.status;
}

/* Reads at most the limit plus one byte, so an over-size pipe or a file
 * that grows after fstat() is still caught. */
static int read_limited(const char *path, char **data, size_t *size)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int status = AIGTATT_OK;
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        aigtatt_set_error("%s: cannot open: %s", path, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    if (fstat(fileno(f), &st) != 0) {
        aigtatt_set_error("%s: cannot stat: %s", path, strerror(errno));
        status = AIGTATT_ERR_IO;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        aigtatt_set_error("%s: is a folder, not a config file", path);
        status = AIGTATT_ERR_IO;
        goto fail;
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > AIGTATT_CFG_MAX_BYTES)
        goto too_big;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : (S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096);
            if (cap > AIGTATT_CFG_MAX_BYTES + 1)
                cap = AIGTATT_CFG_MAX_BYTES + 1;
            char *p = realloc(buf, cap + 1);
            if (!p) {
                aigtatt_set_error("%s: out of memory", path);
                status = AIGTATT_ERR_NOMEM;
                goto fail;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > AIGTATT_CFG_MAX_BYTES)
            goto too_big;
        if (n == 0) {
            if (ferror(f)) {
                aigtatt_set_error("%s: read error: %s", path, strerror(errno));
                status = AIGTATT_ERR_IO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    if (!buf && !(buf = malloc(1))) {
        aigtatt_set_error("%s: out of memory", path);
        return AIGTATT_ERR_NOMEM;
    }
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return AIGTATT_OK;
too_big:
    aigtatt_set_error("%s: file is over the limit of %u bytes (1 MiB) for a config file", path,
                      AIGTATT_CFG_MAX_BYTES);
    status = AIGTATT_ERR_LIMIT;
fail:
    free(buf);
    fclose(f);
    return status;
}

int aigtatt_cfg_load_file(const char *path, aigtatt_cfg **out)
{
    char *text = NULL;
    size_t size = 0;
    if (!out || !path) {
        aigtatt_set_error("aigtatt_cfg_load_file: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    *out = NULL;
    int rc = read_limited(path, &text, &size);
    if (rc != AIGTATT_OK)
        return rc;
    rc = aigtatt_cfg_load_string(text, size, path, out);
    free(text);
    return rc;
}
