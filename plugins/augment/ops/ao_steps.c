/* The `ops:` list of augment.pipeline: look-up, validation and the chain
 * applied to one variation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ao_pipe.h"

#define AO_SAMPLED_MAX 4096

/* ---- text buffer ------------------------------------------------------------- */

static void text_put(ao_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 512;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *d = realloc(t->data, cap);
        if (!d) {
            t->failed = 1;
            return;
        }
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

void ao_text_puts(ao_text *t, const char *s) { text_put(t, s, strlen(s)); }

void ao_text_printf(ao_text *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        t->failed = 1;
    else
        text_put(t, buf, (size_t)n);
}

void ao_text_json_str(ao_text *t, const char *s)
{
    text_put(t, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            text_put(t, "\\", 1);
        if ((unsigned char)*s < 0x20)
            ao_text_printf(t, "\\u%04x", (unsigned char)*s);
        else
            text_put(t, s, 1);
    }
    text_put(t, "\"", 1);
}

void ao_text_free(ao_text *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* ---- parsing ------------------------------------------------------------------ */

static const char *const ao_builtin_ops[] = {
#define AO_NAME(n) #n,
    AO_OPS(AO_NAME)
#undef AO_NAME
        NULL};

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[lb];
}

static const char *nearest_op(const char *name)
{
    const char *best = NULL;
    size_t bd = 3;
    for (int i = 0; ao_builtin_ops[i]; i++) {
        size_t d = edit_distance(name, ao_builtin_ops[i]);
        if (d < bd) {
            bd = d;
            best = ao_builtin_ops[i];
        }
    }
    return best;
}

static const char *where(const aigtatt_cfg *c, char *buf, size_t size)
{
    return ao_host->cfg_where(c, buf, size);
}

/* The op's declarations plus the two keys the pipeline reads itself. */
static int build_decls(ao_step *s, const aigtatt_component_desc *comp)
{
    size_t n = 0, stride = comp->param_desc_size;
    const char *base = (const char *)comp->params;
    while (base && ((const aigtatt_param_desc *)(const void *)(base + n * stride))->name)
        n++;
    s->decls = calloc(n + 3, sizeof *s->decls);
    if (!s->decls) {
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t copy = stride < sizeof *s->decls ? stride : sizeof *s->decls;
    for (size_t i = 0; i < n; i++) {
        memcpy(&s->decls[i], base + i * stride, copy);
        if (!strcmp(s->decls[i].name, "op") || !strcmp(s->decls[i].name, "p")) {
            ao_host->set_error("%s declares a parameter '%s', which augment.pipeline reserves", comp->name,
                               s->decls[i].name);
            return AIGTATT_ERR_INVALID;
        }
    }
    s->decls[n] = (aigtatt_param_desc){.name = "op", .type = AIGTATT_PARAM_STRING, .default_value = NULL,
                                       .doc = "Which op: its name after 'augment.' (rotate) or a full "
                                              "component name."};
    s->decls[n + 1] = (aigtatt_param_desc){.name = "p", .type = AIGTATT_PARAM_FLOAT, .default_value = "1",
                                           .has_min = 1, .min = 0, .has_max = 1, .max = 1,
                                           .doc = "Probability that the op is applied to a variation."};
    s->desc = *comp;
    s->desc.params = s->decls;
    s->desc.param_desc_size = sizeof *s->decls;
    return AIGTATT_OK;
}

static int parse_one(const aigtatt_cfg *item, ao_step *s)
{
    char at[512];
    if (ao_host->cfg_type(item) != AIGTATT_CFG_MAP) {
        ao_host->set_error("%s: each entry of 'ops' must be a mapping such as {op: rotate, p: 0.5, max_deg: 10}",
                           where(item, at, sizeof at));
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_cfg *opv = ao_host->cfg_get(item, "op");
    const char *op = ao_host->cfg_scalar(opv);
    if (!op || !*op) {
        ao_host->set_error("%s: this entry of 'ops' needs 'op: NAME' (e.g. op: rotate)", where(item, at, sizeof at));
        return AIGTATT_ERR_INVALID;
    }
    snprintf(s->name, sizeof s->name, "%s", op);
    char full[128];
    snprintf(full, sizeof full, strchr(op, '.') ? "%s" : "augment.%s", op);
    const aigtatt_component_desc *comp = ao_host->find_component(AIGTATT_KIND_AUGMENT_OP, full);
    if (!comp) {
        const char *near = nearest_op(op);
        if (ao_host->find_component(0, full))
            ao_host->set_error("%s: %s is not an augmentation op", where(opv, at, sizeof at), full);
        else if (near)
            ao_host->set_error("%s: unknown op '%s' (did you mean '%s'?)", where(opv, at, sizeof at), op, near);
        else
            ao_host->set_error("%s: unknown op '%s' (no component %s; `aigtatt plugins list` shows the "
                               "augment.* ops)", where(opv, at, sizeof at), op, full);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_augment_op_vtable *vt = comp->vtable;
    if (!vt || vt->struct_size < offsetof(aigtatt_augment_op_vtable, apply) + sizeof vt->apply || !vt->apply) {
        ao_host->set_error("%s: %s has no usable augment-op vtable", where(opv, at, sizeof at), full);
        return AIGTATT_ERR_INVALID;
    }
    s->vt = vt;
    int rc = build_decls(s, comp);
    if (rc)
        return rc;
    /* The host checks names, types and ranges and names file:line:col. */
    if ((rc = ao_host->params_parse(item, &s->desc, &s->params)))
        return rc;
    s->p = ao_host->param_float(s->params, "p");
    if (vt->check && (rc = vt->check(s->params))) {
        char why[1024];
        snprintf(why, sizeof why, "%s", ao_host->last_error());
        ao_host->set_error("%s: %s: %s", where(item, at, sizeof at), full, why);
        return rc;
    }
    return AIGTATT_OK;
}

int ao_steps_parse(const aigtatt_params *node_params, ao_steps *out)
{
    memset(out, 0, sizeof *out);
    const aigtatt_cfg *list = ao_host->param_cfg(node_params, "ops");
    size_t n = ao_host->cfg_len(list);
    if (n == 0) {
        char at[512];
        ao_host->set_error("%s: 'ops' is empty: list at least one op, e.g. [{op: rotate}]",
                           list ? where(list, at, sizeof at) : "ops");
        return AIGTATT_ERR_INVALID;
    }
    if (n > 256) {
        ao_host->set_error("'ops' lists %zu ops; at most 256 are supported", n);
        return AIGTATT_ERR_INVALID;
    }
    out->v = calloc(n, sizeof *out->v);
    if (!out->v) {
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        out->n = i + 1;
        int rc = parse_one(ao_host->cfg_at(list, i), &out->v[i]);
        if (rc) {
            ao_steps_free(out);
            return rc;
        }
    }
    return AIGTATT_OK;
}

void ao_steps_free(ao_steps *s)
{
    for (size_t i = 0; s->v && i < s->n; i++) {
        ao_host->params_free(s->v[i].params);
        free(s->v[i].decls);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- applying ------------------------------------------------------------------ */

int ao_steps_apply(const ao_steps *s, int shuffle, uint64_t seed, const aigtatt_image *src, aigtatt_image **out,
                   ao_text *meta)
{
    *out = NULL;
    size_t order[256], n = s->n < 256 ? s->n : 256;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (shuffle) {
        aigtatt_rng *r = ao_host->rng_new(ao_host->seed_derive(seed, "order", 0));
        if (!r)
            return AIGTATT_ERR_NOMEM;
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(ao_host->rng_u64(r) % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        ao_host->rng_free(r);
    }
    const aigtatt_image *cur = src;
    aigtatt_image *owned = NULL;
    char sampled[AO_SAMPLED_MAX];
    ao_text_puts(meta, ",\"ops\":[");
    for (size_t k = 0; k < n; k++) {
        const ao_step *st = &s->v[order[k]];
        /* Seeded by the step's place in the list, not in the shuffled order. */
        aigtatt_rng *rng = ao_host->rng_new(ao_host->seed_derive(seed, st->name, order[k]));
        if (!rng) {
            ao_host->image_free(owned);
            return AIGTATT_ERR_NOMEM;
        }
        int applied = ao_host->rng_uniform(rng) < st->p;
        ao_text_puts(meta, k ? ",{\"op\":" : "{\"op\":");
        ao_text_json_str(meta, st->name);
        ao_text_printf(meta, ",\"applied\":%s", applied ? "true" : "false");
        if (applied) {
            aigtatt_image *next = NULL;
            sampled[0] = '\0';
            int rc = st->vt->apply(st->params, rng, cur, &next, sampled, sizeof sampled);
            if (rc == AIGTATT_OK && !next) {
                ao_host->set_error("op %s returned no image", st->desc.name);
                rc = AIGTATT_ERR;
            }
            if (rc) {
                char why[1024];
                snprintf(why, sizeof why, "%s", ao_host->last_error());
                ao_host->set_error("%s: %s", st->desc.name, why);
                ao_host->rng_free(rng);
                ao_host->image_free(owned);
                return rc;
            }
            ao_text_puts(meta, ",\"params\":");
            ao_text_puts(meta, sampled[0] == '{' ? sampled : "{}");
            ao_host->image_free(owned);
            cur = owned = next;
        }
        ao_text_puts(meta, "}");
        ao_host->rng_free(rng);
    }
    ao_text_puts(meta, "]");
    if (!owned) {
        /* Nothing was applied: the variation is a copy of its source. */
        owned = ao_host->image_new(src->width, src->height, src->channels);
        if (!owned)
            return AIGTATT_ERR_NOMEM;
        memcpy(owned->data, src->data, (size_t)src->height * src->stride);
    }
    *out = owned;
    return AIGTATT_OK;
}
