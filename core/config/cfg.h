/* The config tree: YAML read with libyaml's event API into scalars,
 * sequences and mappings that remember file:line:col.
 *
 * Refused with a precise "file:line:col: message": anchors and aliases,
 * tags, duplicate keys, non-scalar keys, nesting deeper than 64, files over
 * 1 MiB, more than one document, and libyaml's own syntax errors. */
#ifndef AIGTATT_CORE_CFG_H
#define AIGTATT_CORE_CFG_H

#include <stddef.h>
#include <aigtatt/host.h>

#define AIGTATT_CFG_MAX_DEPTH 64
#define AIGTATT_CFG_MAX_BYTES (1u << 20)

struct aigtatt_cfg {
    aigtatt_cfg_type type;
    char *scalar;          /* SCALAR: the text (never NULL for a scalar) */
    int quoted;            /* SCALAR: written quoted or as a block, so it is
                              a string even if it looks like a number */
    const char *file;      /* shared, owned by the root (aigtatt_cfg_doc) */
    int line, col;         /* 1-based position of the node's first character */
    size_t len;            /* SEQ: items; MAP: pairs */
    char **keys;           /* MAP: keys, len of them */
    struct aigtatt_cfg **items; /* SEQ items or MAP values, len of them */
    int key_line, key_col; /* MAP values: where their key stood (for errors
                              about the key, e.g. an unknown parameter) */
};

/** Parses a YAML file. On failure returns a status, sets an error naming
 *  file:line:col, and leaves *out NULL. An empty document gives an empty
 *  mapping. The root owns every node; free it with aigtatt_cfg_free(). */
int aigtatt_cfg_load_file(const char *path, aigtatt_cfg **out);
/** Same for text in memory; `name` stands for the file in messages
 *  (e.g. "--set designs.width"). */
int aigtatt_cfg_load_string(const char *text, size_t size, const char *name, aigtatt_cfg **out);
/** Frees a tree returned by a load function (only roots). NULL is a no-op. */
void aigtatt_cfg_free(aigtatt_cfg *root);
/** A deep copy of `node` that is a root of its own (own file name copy). */
aigtatt_cfg *aigtatt_cfg_clone(const aigtatt_cfg *node);

/** Replaces (or adds) `key` in mapping `map` with `value`, which becomes
 *  owned by map's root (value must be a root from a load function or
 *  aigtatt_cfg_clone; its file name is kept alive). 0 or a status. Like
 *  jansson's *_set_new, it takes `value` even on failure (map not a mapping,
 *  no memory) and frees it then. The key's location becomes the value's, so
 *  errors about a --set key name the --set text. */
int aigtatt_cfg_map_set(aigtatt_cfg *map, const char *key, aigtatt_cfg *value);
/** Non-zero if the trees have the same shape, keys, scalar texts and quoted
 *  flags (locations are ignored). Two NULLs are equal. */
int aigtatt_cfg_equal(const aigtatt_cfg *a, const aigtatt_cfg *b);

/* Accessors with the semantics of the host table functions. */
aigtatt_cfg_type aigtatt_cfg_type_of(const aigtatt_cfg *c);
size_t aigtatt_cfg_len(const aigtatt_cfg *c);
const aigtatt_cfg *aigtatt_cfg_at(const aigtatt_cfg *c, size_t i);
const char *aigtatt_cfg_key_at(const aigtatt_cfg *c, size_t i);
const aigtatt_cfg *aigtatt_cfg_get(const aigtatt_cfg *c, const char *key);
const char *aigtatt_cfg_scalar(const aigtatt_cfg *c);
/** Non-zero if `c` is YAML's null written plainly: ~, null, Null or NULL
 *  (a quoted "~" is the text). */
int aigtatt_cfg_is_null(const aigtatt_cfg *c);
const char *aigtatt_cfg_where(const aigtatt_cfg *c, char *buf, size_t size);
/** Like aigtatt_cfg_where but for the key of pair `i` of mapping `c`. */
const char *aigtatt_cfg_key_where(const aigtatt_cfg *c, size_t i, char *buf, size_t size);

/** Writes the tree as YAML text (block style, keys in stored order,
 *  scalars quoted where needed so it reads back identically). For the
 *  resolved config written into the run folder. */
char *aigtatt_cfg_to_yaml(const aigtatt_cfg *c);

/* For config/ itself (the loader builds trees with these). File names are
 * reference counted so that nodes grafted from another text keep theirs
 * alive without a pointer to their root. */

/** A new counted file name (one reference, the caller's); NULL on OOM. */
const char *aigtatt_cfg_name_new(const char *name);
/** Drops one reference to a name from aigtatt_cfg_name_new(). */
void aigtatt_cfg_name_release(const char *file);
/** A zeroed node of `type` at file:line:col taking a reference on `file`
 *  (a counted name); a SCALAR gets a copy of `scalar`. NULL on OOM. */
aigtatt_cfg *aigtatt_cfg_node_new(aigtatt_cfg_type type, const char *file, int line, int col,
                                  const char *scalar, size_t scalar_len);

#endif
