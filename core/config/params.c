/* A component's declared parameters checked against a YAML mapping, and
 * the typed values the host's param_* getters hand out. */
#include "config/params.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

/* A runaway array without its NULL terminator is a plugin bug; stop early
 * instead of reading the whole address space. */
#define MAX_DECLS 4096

struct param {
    aigtatt_param_desc d; /* the declaration; d.name and d.choices point at
                             our copies below */
    char *name, *choices;
    int is_set;           /* the user gave it (YAML or --set) */
    aigtatt_cfg *tree;    /* our own copy of the value or default; NULL when
                             an optional parameter has no default */
    int b;
    int64_t i;
    double f;
    const char *s; /* STRING, ENUM, PATH: points into tree */
};

struct aigtatt_params {
    char *component;
    size_t n;
    struct param *v;
};

/* What the checks learn about one value, and their complaint if any. */
struct check {
    const struct param *p;
    char msg[1024];
};

static const char *type_name(aigtatt_param_type t)
{
    static const char *names[] = {"?", "bool", "int", "float", "string",
                                  "enum", "path", "list", "map"};
    return t >= AIGTATT_PARAM_BOOL && t <= AIGTATT_PARAM_MAP ? names[t] : "?";
}

static const char *expected(aigtatt_param_type t)
{
    switch (t) {
    case AIGTATT_PARAM_BOOL: return "expected true or false";
    case AIGTATT_PARAM_INT: return "expected an integer";
    case AIGTATT_PARAM_FLOAT: return "expected a number";
    case AIGTATT_PARAM_STRING: return "expected a string";
    case AIGTATT_PARAM_ENUM: return "expected one of the choices";
    case AIGTATT_PARAM_PATH: return "expected a path";
    case AIGTATT_PARAM_LIST: return "expected a list";
    case AIGTATT_PARAM_MAP: return "expected a mapping";
    }
    return "expected a value";
}

/* How a value looks in a message: long text is cut so one bad line stays
 * one readable line. */
static void show(const aigtatt_cfg *v, char *buf, size_t size)
{
    if (v->type == AIGTATT_CFG_MAP) {
        snprintf(buf, size, "a mapping");
    } else if (v->type == AIGTATT_CFG_SEQ) {
        snprintf(buf, size, "a list");
    } else {
        size_t n = strlen(v->scalar);
        int cut = n > 60;
        if (v->quoted)
            snprintf(buf, size, "the quoted string \"%.*s%s\"", cut ? 60 : (int)n, v->scalar,
                     cut ? "..." : "");
        else
            snprintf(buf, size, "'%.*s%s'", cut ? 60 : (int)n, v->scalar, cut ? "..." : "");
    }
}

/* aigtatt_nearest() with one more condition: a suggestion must share
 * something with the word ('z' is one edit from 'x' but no typo of it). */
static const char *suggest(const char *word, const char *const *cand, size_t n)
{
    const char *near = aigtatt_nearest(word, cand, n);
    return near && aigtatt_edit_distance(word, near) < strlen(word) ? near : NULL;
}

static int complain_type(struct check *ck, aigtatt_param_type t, const aigtatt_cfg *v)
{
    char got[160];
    show(v, got, sizeof got);
    int numeric = t == AIGTATT_PARAM_BOOL || t == AIGTATT_PARAM_INT || t == AIGTATT_PARAM_FLOAT;
    snprintf(ck->msg, sizeof ck->msg, "%s, got %s%s", expected(t), got,
             numeric && v->type == AIGTATT_CFG_SCALAR && v->quoted
                 ? " (quoted values are strings; write it without quotes)"
                 : "");
    return -1;
}

/* Shortest text that reads back as the same double. */
static void fmt_num(double x, char *buf, size_t size)
{
    snprintf(buf, size, "%.15g", x);
    if (strtod(buf, NULL) != x)
        snprintf(buf, size, "%.17g", x);
}

static int check_range(struct check *ck, double x, const char *text)
{
    const aigtatt_param_desc *d = &ck->p->d;
    char lo[40], hi[40];
    if ((!d->has_min || x >= d->min) && (!d->has_max || x <= d->max))
        return 0;
    fmt_num(d->min, lo, sizeof lo);
    fmt_num(d->max, hi, sizeof hi);
    if (d->has_min && d->has_max)
        snprintf(ck->msg, sizeof ck->msg, "must be between %s and %s, got %s", lo, hi, text);
    else if (d->has_min)
        snprintf(ck->msg, sizeof ck->msg, "must be at least %s, got %s", lo, text);
    else
        snprintf(ck->msg, sizeof ck->msg, "must be at most %s, got %s", hi, text);
    return -1;
}

/* Strict decimal: optional sign, digits, nothing else; 1 on overflow. */
static int parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    int overflow = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (acc > (limit - d) / 10)
            overflow = 1;
        else
            acc = acc * 10 + d;
    }
    if (overflow)
        return 1;
    *out = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    return 0;
}

/* A decimal or exponent number and nothing else: strtod alone would also
 * take "inf", "nan", hex floats and leading blanks. */
static int float_syntax(const char *s)
{
    size_t digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int parse_float(const char *s, double *out)
{
    if (!float_syntax(s))
        return -1;
    double x = strtod(s, NULL);
    if (!isfinite(x))
        return 1;
    *out = x == 0 ? 0.0 : x; /* -0 and 0 must give the same cache key */
    return 0;
}

/* Choices are "a|b|c"; matched in place, copied only to word a refusal,
 * which lists at most SHOWN_CHOICES of them but suggests from all. */
#define SHOWN_CHOICES 16

static int check_enum(struct check *ck, const char *text)
{
    const char *choices = ck->p->d.choices;
    size_t tl = strlen(text), total = 1;
    for (const char *c = choices;;) {
        size_t n = strcspn(c, "|");
        if (n == tl && strncmp(c, text, n) == 0)
            return 0;
        if (!c[n])
            break;
        c += n + 1;
        total++;
    }
    char *copy = strdup(choices);
    const char **cand = calloc(total, sizeof *cand);
    size_t n = 0;
    aigtatt_buf b = AIGTATT_BUF_INIT;
    for (char *save = NULL, *t = copy && cand ? strtok_r(copy, "|", &save) : NULL; t;
         t = strtok_r(NULL, "|", &save)) {
        if (n < SHOWN_CHOICES)
            aigtatt_buf_printf(&b, "%s'%s'", n ? ", " : "", t);
        cand[n++] = t;
    }
    if (n > SHOWN_CHOICES)
        aigtatt_buf_printf(&b, ", ... (%zu choices)", n);
    const char *near = suggest(text, cand, n);
    char hint[300] = "";
    if (near)
        snprintf(hint, sizeof hint, " (did you mean '%.200s'?)", near);
    snprintf(ck->msg, sizeof ck->msg, "expected one of %s, got '%.60s'%s", aigtatt_buf_str(&b),
             text, hint);
    aigtatt_buf_free(&b);
    free(cand);
    free(copy);
    return -1;
}

/* Checks one scalar-typed value; on success stores it in *p (when `p` is
 * not NULL: list items are only checked) and, for a PATH, rewrites v's
 * text to the absolute path. */
static int check_scalar(struct check *ck, aigtatt_param_type t, aigtatt_cfg *v,
                        const char *base_dir, struct param *p)
{
    if (v->type != AIGTATT_CFG_SCALAR)
        return complain_type(ck, t, v);
    const char *s = v->scalar;
    int64_t i = 0;
    double f = 0;
    int rc;
    switch (t) {
    case AIGTATT_PARAM_BOOL:
        if (v->quoted || (strcasecmp(s, "true") != 0 && strcasecmp(s, "false") != 0))
            return complain_type(ck, t, v);
        if (p)
            p->b = strcasecmp(s, "true") == 0;
        return 0;
    case AIGTATT_PARAM_INT:
        if (v->quoted || (rc = parse_int(s, &i)) < 0)
            return complain_type(ck, t, v);
        if (rc > 0) {
            snprintf(ck->msg, sizeof ck->msg, "integer out of the 64-bit range, got '%.60s'", s);
            return -1;
        }
        if (check_range(ck, (double)i, s) != 0)
            return -1;
        if (p) {
            p->i = i;
            p->f = (double)i;
        }
        return 0;
    case AIGTATT_PARAM_FLOAT:
        if (v->quoted || (rc = parse_float(s, &f)) < 0)
            return complain_type(ck, t, v);
        if (rc > 0) {
            snprintf(ck->msg, sizeof ck->msg, "number out of range, got '%.60s'", s);
            return -1;
        }
        if (check_range(ck, f, s) != 0)
            return -1;
        if (p)
            p->f = f;
        return 0;
    case AIGTATT_PARAM_STRING:
        if (p)
            p->s = s;
        return 0;
    case AIGTATT_PARAM_ENUM:
        if (check_enum(ck, s) != 0)
            return -1;
        if (p)
            p->s = s;
        return 0;
    case AIGTATT_PARAM_PATH: {
        if (!*s) {
            snprintf(ck->msg, sizeof ck->msg, "expected a path, got an empty string");
            return -1;
        }
        /* ~/x means $HOME/x, as in the shell, unless quoted */
        char *home = v->quoted ? strdup(s) : aigtatt_path_home(s);
        char *abs = home ? aigtatt_path_absolute(home, base_dir) : NULL;
        free(home);
        if (!abs) {
            snprintf(ck->msg, sizeof ck->msg, "cannot make '%.60s' absolute", s);
            return -1;
        }
        free(v->scalar);
        v->scalar = abs;
        if (p)
            p->s = abs;
        return 0;
    }
    default:
        snprintf(ck->msg, sizeof ck->msg, "unsupported parameter type %d", (int)t);
        return -1;
    }
}

/* Checks `v` as the value of ck->p. On failure *bad is the node at fault
 * (a list item may be). */
static int check_value(struct check *ck, aigtatt_cfg *v, const char *base_dir, struct param *p,
                       const aigtatt_cfg **bad, size_t *item)
{
    aigtatt_param_type t = p->d.type;
    *bad = v;
    *item = (size_t)-1;
    if (t == AIGTATT_PARAM_MAP)
        return v->type == AIGTATT_CFG_MAP ? 0 : complain_type(ck, t, v);
    if (t != AIGTATT_PARAM_LIST)
        return check_scalar(ck, t, v, base_dir, p);
    if (v->type != AIGTATT_CFG_SEQ)
        return complain_type(ck, t, v);
    aigtatt_param_type it = p->d.item_type;
    for (size_t k = 0; it && k < v->len; k++) {
        aigtatt_cfg *x = v->items[k];
        int rc;
        if (it == AIGTATT_PARAM_LIST)
            rc = x->type == AIGTATT_CFG_SEQ ? 0 : complain_type(ck, it, x);
        else if (it == AIGTATT_PARAM_MAP)
            rc = x->type == AIGTATT_CFG_MAP ? 0 : complain_type(ck, it, x);
        else
            rc = check_scalar(ck, it, x, base_dir, NULL);
        if (rc != 0) {
            *bad = x;
            *item = k;
            return -1;
        }
    }
    return 0;
}

/* "~" or "null" as a default: optional, and no value unless the user
 * gives one (getters return NULL / 0). */
static int null_word(const char *s)
{
    static const char *nulls[] = {"~", "null", "Null", "NULL"};
    for (size_t k = 0; s && k < sizeof nulls / sizeof nulls[0]; k++)
        if (strcmp(s, nulls[k]) == 0)
            return 1;
    return 0;
}

static int is_null_default(const aigtatt_cfg *t) { return aigtatt_cfg_is_null(t); }

static int load_default(const char *comp, struct param *p, const char *base_dir)
{
    const char *text = p->d.default_value;
    char name[512];
    snprintf(name, sizeof name, "%s (default of '%s')", comp, p->d.name);
    int rc;
    /* an empty default of a text parameter is the empty string, not the
     * empty mapping an empty YAML document would be */
    if (!*text && (p->d.type == AIGTATT_PARAM_STRING || p->d.type == AIGTATT_PARAM_ENUM))
        rc = aigtatt_cfg_load_string("''", 2, name, &p->tree);
    else
        rc = aigtatt_cfg_load_string(text, strlen(text), name, &p->tree);
    if (rc != AIGTATT_OK) {
        if (rc == AIGTATT_ERR_NOMEM)
            return rc;
        aigtatt_error_prefix("%s: plugin bug: the default of parameter '%s' is not valid YAML",
                             comp, p->d.name);
        return AIGTATT_ERR_INVALID;
    }
    if (is_null_default(p->tree)) {
        aigtatt_cfg_free(p->tree);
        p->tree = NULL;
        return AIGTATT_OK;
    }
    struct check ck = {.p = p};
    const aigtatt_cfg *bad;
    size_t item;
    if (check_value(&ck, p->tree, base_dir, p, &bad, &item) != 0) {
        if (item != (size_t)-1)
            aigtatt_set_error("%s: plugin bug: the default of parameter '%s' is invalid: "
                              "item %zu: %s", comp, p->d.name, item + 1, ck.msg);
        else
            aigtatt_set_error("%s: plugin bug: the default of parameter '%s' is invalid: %s",
                              comp, p->d.name, ck.msg);
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

static int set_value(const char *comp, struct param *p, const aigtatt_cfg *v, const char *base_dir)
{
    char where[512];
    /* ~ / null for an optional parameter (one whose default is null) is
     * "no value", as if it were left out, not the text "~" */
    if (is_null_default(v) && null_word(p->d.default_value)) {
        p->tree = NULL;
        return AIGTATT_OK;
    }
    if (!(p->tree = aigtatt_cfg_clone(v)))
        return AIGTATT_ERR_NOMEM;
    p->is_set = 1;
    struct check ck = {.p = p};
    const aigtatt_cfg *bad;
    size_t item;
    if (check_value(&ck, p->tree, base_dir, p, &bad, &item) == 0)
        return AIGTATT_OK;
    aigtatt_cfg_where(bad, where, sizeof where);
    if (item != (size_t)-1)
        aigtatt_set_error("%s: item %zu of parameter '%s' of %s: %s", where, item + 1, p->d.name,
                          comp, ck.msg);
    else
        aigtatt_set_error("%s: parameter '%s' of %s: %s", where, p->d.name, comp, ck.msg);
    return AIGTATT_ERR_INVALID;
}

/* Copies the declarations through the plugin's own element size: a plugin
 * built against an older, smaller aigtatt_param_desc still reads right, and
 * fields it does not know stay zero. */
static int read_decls(const aigtatt_component_desc *comp_in, const char *comp, struct param **out,
                      size_t *count)
{
    aigtatt_component_desc cd;
    memset(&cd, 0, sizeof cd);
    size_t cs = comp_in->struct_size < sizeof cd ? comp_in->struct_size : sizeof cd;
    memcpy(&cd, comp_in, cs);
    *out = NULL;
    *count = 0;
    if (!cd.params)
        return AIGTATT_OK;
    size_t stride = cd.param_desc_size;
    if (stride < offsetof(aigtatt_param_desc, type) + sizeof(aigtatt_param_type)) {
        aigtatt_set_error("%s: plugin bug: param_desc_size is %zu (use AIGTATT_PARAMS())", comp,
                          stride);
        return AIGTATT_ERR_INVALID;
    }
    size_t n = 0;
    const char *base = (const char *)cd.params;
    for (;; n++) {
        const char *name;
        memcpy(&name, base + n * stride + offsetof(aigtatt_param_desc, name), sizeof name);
        if (!name)
            break;
        if (n == MAX_DECLS) {
            aigtatt_set_error("%s: plugin bug: more than %d parameters (missing terminator?)",
                              comp, MAX_DECLS);
            return AIGTATT_ERR_INVALID;
        }
    }
    struct param *v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t copy = stride < sizeof v->d ? stride : sizeof v->d;
    for (size_t k = 0; k < n; k++)
        memcpy(&v[k].d, base + k * stride, copy);
    *out = v;
    *count = n;
    return AIGTATT_OK;
}

/* Declarations the plugin got wrong are reported as its bug, before any
 * user value is blamed. */
static int check_decls(const char *comp, const struct param *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const aigtatt_param_desc *d = &v[k].d;
        if (!*d->name || (int)d->type < AIGTATT_PARAM_BOOL || (int)d->type > AIGTATT_PARAM_MAP ||
            (int)d->item_type < 0 || (int)d->item_type > AIGTATT_PARAM_MAP) {
            aigtatt_set_error("%s: plugin bug: parameter %zu ('%s') has no name or an unknown type",
                              comp, k + 1, d->name);
            return AIGTATT_ERR_INVALID;
        }
        int needs_choices = d->type == AIGTATT_PARAM_ENUM ||
                            (d->type == AIGTATT_PARAM_LIST && d->item_type == AIGTATT_PARAM_ENUM);
        if (needs_choices && (!d->choices || !*d->choices)) {
            aigtatt_set_error("%s: plugin bug: enum parameter '%s' declares no choices", comp,
                              d->name);
            return AIGTATT_ERR_INVALID;
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(v[j].d.name, d->name) == 0) {
                aigtatt_set_error("%s: plugin bug: parameter '%s' is declared twice", comp,
                                  d->name);
                return AIGTATT_ERR_INVALID;
            }
        }
    }
    return AIGTATT_OK;
}

static int unknown_key(const aigtatt_cfg *map, size_t k, const char *comp, const struct param *v,
                       size_t n)
{
    char where[512];
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t j = 0; j < n; j++)
        names[j] = v[j].d.name;
    const char *key = map->keys[k];
    const char *near = suggest(key, names, n);
    aigtatt_buf hint = AIGTATT_BUF_INIT;
    if (near) {
        aigtatt_buf_printf(&hint, " (did you mean '%s'?)", near);
    } else if (n == 0) {
        aigtatt_buf_puts(&hint, " (it takes no parameters)");
    } else {
        aigtatt_buf_puts(&hint, " (known: ");
        for (size_t j = 0; j < n; j++)
            aigtatt_buf_printf(&hint, "%s%s", j ? ", " : "", names[j]);
        aigtatt_buf_puts(&hint, ")");
    }
    aigtatt_set_error("%s: unknown parameter '%s' for %s%s",
                      aigtatt_cfg_key_where(map, k, where, sizeof where), key, comp,
                      aigtatt_buf_str(&hint));
    aigtatt_buf_free(&hint);
    free(names);
    return AIGTATT_ERR_INVALID;
}

/* Our own copies of the strings the getters and messages use, so the
 * result does not depend on the descriptor's lifetime either. */
static int own_strings(struct param *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!(v[k].name = strdup(v[k].d.name)) ||
            (v[k].d.choices && !(v[k].choices = strdup(v[k].d.choices)))) {
            aigtatt_set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        v[k].d.name = v[k].name;
        v[k].d.choices = v[k].choices;
    }
    return AIGTATT_OK;
}

static void free_params(struct param *v, size_t n)
{
    for (size_t k = 0; v && k < n; k++) {
        aigtatt_cfg_free(v[k].tree);
        free(v[k].name);
        free(v[k].choices);
    }
    free(v);
}

int aigtatt_params_parse(const aigtatt_cfg *map, const aigtatt_component_desc *comp_desc,
                         const char *base_dir, aigtatt_params **out)
{
    char where[512];
    aigtatt_params *ps = NULL;
    struct param *v = NULL;
    size_t n = 0;
    int rc;
    if (!out || !comp_desc) {
        aigtatt_set_error("aigtatt_params_parse: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    *out = NULL;
    const char *comp = comp_desc->struct_size >= offsetof(aigtatt_component_desc, name) +
                                                     sizeof comp_desc->name &&
                               comp_desc->name
                           ? comp_desc->name
                           : "<component>";
    if (comp_desc->struct_size == 0) {
        aigtatt_set_error("%s: plugin bug: component struct_size is 0", comp);
        return AIGTATT_ERR_INVALID;
    }
    if ((rc = read_decls(comp_desc, comp, &v, &n)) != AIGTATT_OK)
        return rc;
    if ((rc = own_strings(v, n)) != AIGTATT_OK || (rc = check_decls(comp, v, n)) != AIGTATT_OK)
        goto fail;
    if (map && map->type != AIGTATT_CFG_MAP) {
        aigtatt_set_error("%s: parameters of %s must be a mapping", aigtatt_cfg_where(map, where,
                          sizeof where), comp);
        rc = AIGTATT_ERR_INVALID;
        goto fail;
    }
    for (size_t k = 0; map && k < map->len; k++) {
        size_t j = 0;
        while (j < n && strcmp(v[j].d.name, map->keys[k]) != 0)
            j++;
        if (j == n) {
            rc = unknown_key(map, k, comp, v, n);
            goto fail;
        }
    }
    for (size_t k = 0; k < n; k++) {
        const aigtatt_cfg *val = aigtatt_cfg_get(map, v[k].d.name);
        if (val) {
            rc = set_value(comp, &v[k], val, base_dir);
        } else if (v[k].d.default_value) {
            rc = load_default(comp, &v[k], base_dir);
        } else if (map) {
            aigtatt_set_error("%s: missing required parameter '%s' for %s",
                              aigtatt_cfg_where(map, where, sizeof where), v[k].d.name, comp);
            rc = AIGTATT_ERR_INVALID;
        } else {
            aigtatt_set_error("%s: missing required parameter '%s'", comp, v[k].d.name);
            rc = AIGTATT_ERR_INVALID;
        }
        if (rc != AIGTATT_OK)
            goto fail;
    }
    for (size_t k = 0; k < n; k++) {
        /* borrowed from the plugin for this call only */
        v[k].d.default_value = NULL;
        v[k].d.doc = NULL;
    }
    if (!(ps = calloc(1, sizeof *ps)) || !(ps->component = strdup(comp))) {
        aigtatt_set_error("out of memory");
        rc = AIGTATT_ERR_NOMEM;
        goto fail;
    }
    ps->n = n;
    ps->v = v;
    *out = ps;
    return AIGTATT_OK;
fail:
    if (ps) {
        free(ps->component);
        free(ps);
    }
    free_params(v, n);
    return rc;
}

void aigtatt_params_free(aigtatt_params *p)
{
    if (!p)
        return;
    free_params(p->v, p->n);
    free(p->component);
    free(p);
}

/* Getter misuse is a plugin bug, but one that must not take the run down:
 * say so in the log and hand back zero. */
static const struct param *lookup(const aigtatt_params *p, const char *name, const char *getter)
{
    if (!p || !name) {
        aigtatt_log(AIGTATT_LOG_ERROR, "%s(): NULL %s", getter, p ? "name" : "params");
        return NULL;
    }
    for (size_t k = 0; k < p->n; k++)
        if (strcmp(p->v[k].d.name, name) == 0)
            return &p->v[k];
    aigtatt_log(AIGTATT_LOG_ERROR, "%s(): %s declares no parameter '%s'", getter, p->component,
                name);
    return NULL;
}

static const struct param *lookup_typed(const aigtatt_params *p, const char *name,
                                        const char *getter, unsigned types)
{
    const struct param *v = lookup(p, name, getter);
    if (v && !(types & (1u << v->d.type))) {
        aigtatt_log(AIGTATT_LOG_ERROR, "%s(): parameter '%s' of %s is of type %s", getter, name,
                    p->component, type_name(v->d.type));
        return NULL;
    }
    return v;
}

#define BIT(t) (1u << (t))

int aigtatt_params_bool(const aigtatt_params *p, const char *name)
{
    const struct param *v = lookup_typed(p, name, "param_bool", BIT(AIGTATT_PARAM_BOOL));
    return v ? v->b : 0;
}

int64_t aigtatt_params_int(const aigtatt_params *p, const char *name)
{
    const struct param *v = lookup_typed(p, name, "param_int", BIT(AIGTATT_PARAM_INT));
    return v ? v->i : 0;
}

double aigtatt_params_float(const aigtatt_params *p, const char *name)
{
    const struct param *v = lookup_typed(p, name, "param_float",
                                         BIT(AIGTATT_PARAM_FLOAT) | BIT(AIGTATT_PARAM_INT));
    return v ? v->f : 0.0;
}

const char *aigtatt_params_string(const aigtatt_params *p, const char *name)
{
    const struct param *v = lookup_typed(
        p, name, "param_string",
        BIT(AIGTATT_PARAM_STRING) | BIT(AIGTATT_PARAM_ENUM) | BIT(AIGTATT_PARAM_PATH));
    return v && v->tree ? v->s : NULL;
}

const aigtatt_cfg *aigtatt_params_cfg(const aigtatt_params *p, const char *name)
{
    const struct param *v = lookup(p, name, "param_cfg");
    return v ? v->tree : NULL;
}

int aigtatt_params_is_set(const aigtatt_params *p, const char *name)
{
    const struct param *v = lookup(p, name, "param_is_set");
    return v ? v->is_set : 0;
}

/* ---- canonical JSON --------------------------------------------------- */

static json_t *scalar_json(const aigtatt_cfg *c, aigtatt_param_type t)
{
    int64_t i;
    double f;
    switch (t) {
    case AIGTATT_PARAM_BOOL:
        return json_boolean(strcasecmp(c->scalar, "true") == 0);
    case AIGTATT_PARAM_INT:
        if (parse_int(c->scalar, &i) == 0)
            return json_integer((json_int_t)i);
        break;
    case AIGTATT_PARAM_FLOAT:
        if (parse_float(c->scalar, &f) == 0)
            return json_real(f);
        break;
    default:
        break;
    }
    return json_string(c->scalar);
}

/* Scalars inside lists and maps are strings unless the declared item type
 * says what they are (they were validated against it). */
static json_t *tree_json(const aigtatt_cfg *c, aigtatt_param_type item_type)
{
    json_t *j;
    if (c->type == AIGTATT_CFG_SCALAR)
        return json_string(c->scalar);
    if (c->type == AIGTATT_CFG_SEQ) {
        if (!(j = json_array()))
            return NULL;
        for (size_t k = 0; k < c->len; k++) {
            const aigtatt_cfg *x = c->items[k];
            json_t *e = x->type == AIGTATT_CFG_SCALAR && item_type ? scalar_json(x, item_type)
                                                                   : tree_json(x, 0);
            if (!e || json_array_append_new(j, e) != 0) {
                json_decref(j);
                return NULL;
            }
        }
        return j;
    }
    if (!(j = json_object()))
        return NULL;
    for (size_t k = 0; k < c->len; k++) {
        json_t *e = tree_json(c->items[k], 0);
        if (!e || json_object_set_new(j, c->keys[k], e) != 0) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

static json_t *value_json(const struct param *v)
{
    if (!v->tree)
        return json_null();
    switch (v->d.type) {
    case AIGTATT_PARAM_BOOL:
        return json_boolean(v->b);
    case AIGTATT_PARAM_INT:
        return json_integer((json_int_t)v->i);
    case AIGTATT_PARAM_FLOAT:
        return json_real(v->f);
    case AIGTATT_PARAM_STRING:
    case AIGTATT_PARAM_ENUM:
    case AIGTATT_PARAM_PATH:
        return json_string(v->s);
    case AIGTATT_PARAM_LIST:
        return tree_json(v->tree, v->d.item_type);
    case AIGTATT_PARAM_MAP:
        return tree_json(v->tree, 0);
    }
    return NULL;
}

static char *params_json(const aigtatt_params *p, int for_key)
{
    if (!p) {
        aigtatt_set_error("aigtatt_params_canonical_json: NULL params");
        return NULL;
    }
    json_t *obj = json_object();
    if (!obj)
        goto nomem;
    for (size_t k = 0; k < p->n; k++) {
        if (for_key && p->v[k].d.no_key)
            continue;
        json_t *e = value_json(&p->v[k]);
        if (!e) {
            /* json_string() refuses text that is not UTF-8 (a path from
             * getcwd() may be anything) */
            aigtatt_set_error("%s: parameter '%s' cannot be written as JSON: its value is not UTF-8 "
                              "text (rename the file or folder)", p->component, p->v[k].d.name);
            json_decref(obj);
            return NULL;
        }
        if (json_object_set_new(obj, p->v[k].d.name, e) != 0)
            goto nomem;
    }
    /* the precision is pinned so the key cannot change with a jansson
     * default; 17 digits read back as the same double */
    char *s = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(obj);
    if (!s)
        aigtatt_set_error("out of memory writing JSON");
    return s;
nomem:
    json_decref(obj);
    aigtatt_set_error("out of memory writing JSON");
    return NULL;
}

char *aigtatt_params_canonical_json(const aigtatt_params *p)
{
    return params_json(p, 0);
}

char *aigtatt_params_key_json(const aigtatt_params *p)
{
    return params_json(p, 1);
}
