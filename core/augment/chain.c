/* Augmentation chains: a YAML list of {op: NAME, p: PROB, ...the op's own
 * parameters} entries, each validated against the declaration of its
 * AIGTATT_KIND_AUGMENT_OP component, applied to one image from one seed.
 * augment.pipeline (`ops:`) and train.embedding (`augment:`) both use it
 * through the host table, so the two read the same syntax, report the
 * same errors and sample the same values for the same seed.
 *
 * Seeding (part of augment.pipeline's byte-identity contract, do not
 * change): step i gets its own generator seed_derive(seed, name as
 * written, i), whose first uniform decides whether the step runs (< p)
 * and whose next draws are the op's; a shuffled order comes from
 * seed_derive(seed, "order", 0). */
#include "augment/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "config/params.h"
#include "host/host.h"
#include "image/image.h"
#include "plugin/registry.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/rng.h"

#define CHAIN_MAX 256
#define SAMPLED_MAX 4096

/* One entry of the list, validated against its op's declaration. */
typedef struct chain_step {
    char name[96];                        /* as written: "rotate" */
    const aigtatt_augment_op_vtable *vt;  /* the op's vtable */
    aigtatt_params *params;               /* owned */
    double p;                             /* probability of applying it */
    aigtatt_param_desc *decls;            /* op's declarations + op and p */
    aigtatt_component_desc desc;          /* the op, with decls */
} chain_step;

struct aigtatt_augment_chain {
    chain_step *v;
    size_t n;
};

/* "rotate" -> "augment.rotate"; a name with a dot is a full component name. */
static void full_name(const char *op, char *buf, size_t size)
{
    snprintf(buf, size, strchr(op, '.') ? "%s" : "augment.%s", op);
}

/* The registered op nearest to `op`, written the way the user wrote it
 * (short names for augment.*, full names when `op` has a dot); NULL when
 * none is close. Every loaded op counts, not only the built-in ones. */
static const char *nearest_op(const char *op, char *buf, size_t size)
{
    size_t n = aigtatt_registry_component_count(), m = 0;
    const char **cand = calloc(n ? n : 1, sizeof *cand);
    if (!cand)
        return NULL;
    int dotted = strchr(op, '.') != NULL;
    for (size_t i = 0; i < n; i++) {
        const aigtatt_component *c = aigtatt_registry_component_at(i);
        if (!c || c->desc.kind != AIGTATT_KIND_AUGMENT_OP || !c->desc.name)
            continue;
        const char *nm = c->desc.name;
        if (!dotted && !strncmp(nm, "augment.", 8))
            nm += 8;
        else if (!dotted)
            continue;
        cand[m++] = nm;
    }
    const char *near = aigtatt_nearest(op, cand, m);
    /* as for parameter names: a suggestion must share something */
    if (near && aigtatt_edit_distance(op, near) >= strlen(op))
        near = NULL;
    if (near)
        snprintf(buf, size, "%s", near);
    free(cand);
    return near ? buf : NULL;
}

/* The op's declarations plus the two keys the chain reads itself. */
static int build_decls(chain_step *s, const aigtatt_component_desc *comp)
{
    size_t n = 0, stride = comp->param_desc_size;
    const char *base = (const char *)comp->params;
    while (base && ((const aigtatt_param_desc *)(const void *)(base + n * stride))->name)
        n++;
    s->decls = calloc(n + 3, sizeof *s->decls);
    if (!s->decls) {
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    size_t copy = stride < sizeof *s->decls ? stride : sizeof *s->decls;
    for (size_t i = 0; i < n; i++) {
        memcpy(&s->decls[i], base + i * stride, copy);
        if (!strcmp(s->decls[i].name, "op") || !strcmp(s->decls[i].name, "p")) {
            aigtatt_set_error("%s declares a parameter '%s', which augmentation op lists reserve", comp->name,
                              s->decls[i].name);
            return AIGTATT_ERR_INVALID;
        }
    }
    s->decls[n] = (aigtatt_param_desc){.name = "op", .type = AIGTATT_PARAM_STRING, .default_value = NULL,
                                       .doc = "Which op: its name after 'augment.' (rotate) or a full "
                                              "component name."};
    s->decls[n + 1] = (aigtatt_param_desc){.name = "p", .type = AIGTATT_PARAM_FLOAT, .default_value = "1",
                                           .has_min = 1, .min = 0, .has_max = 1, .max = 1,
                                           .doc = "Probability that the op is applied to an image."};
    s->desc = *comp;
    s->desc.params = s->decls;
    s->desc.param_desc_size = sizeof *s->decls;
    return AIGTATT_OK;
}

static int parse_one(const aigtatt_cfg *item, const char *list_param, chain_step *s)
{
    char at[512];
    if (aigtatt_cfg_type_of(item) != AIGTATT_CFG_MAP) {
        aigtatt_set_error("%s: each entry of '%s' must be a mapping such as {op: rotate, p: 0.5, max_deg: 10}",
                          aigtatt_cfg_where(item, at, sizeof at), list_param);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_cfg *opv = aigtatt_cfg_get(item, "op");
    const char *op = aigtatt_cfg_scalar(opv);
    if (!op || !*op) {
        aigtatt_set_error("%s: this entry of '%s' needs 'op: NAME' (e.g. op: rotate)",
                          aigtatt_cfg_where(item, at, sizeof at), list_param);
        return AIGTATT_ERR_INVALID;
    }
    snprintf(s->name, sizeof s->name, "%s", op);
    char full[128];
    full_name(op, full, sizeof full);
    const aigtatt_component *found = aigtatt_registry_find(full);
    if (!found || found->desc.kind != AIGTATT_KIND_AUGMENT_OP) {
        char nb[128];
        const char *near = nearest_op(op, nb, sizeof nb);
        if (found)
            aigtatt_set_error("%s: %s is not an augmentation op", aigtatt_cfg_where(opv, at, sizeof at), full);
        else if (near)
            aigtatt_set_error("%s: unknown op '%s' (did you mean '%s'?)", aigtatt_cfg_where(opv, at, sizeof at), op,
                              near);
        else
            aigtatt_set_error("%s: unknown op '%s' (no component %s; `aigtatt plugins list` shows the "
                              "augment.* ops)", aigtatt_cfg_where(opv, at, sizeof at), op, full);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_component_desc *comp = &found->desc;
    const aigtatt_augment_op_vtable *vt = comp->vtable;
    if (!vt || vt->struct_size < offsetof(aigtatt_augment_op_vtable, apply) + sizeof vt->apply || !vt->apply) {
        aigtatt_set_error("%s: %s has no usable augment-op vtable", aigtatt_cfg_where(opv, at, sizeof at), full);
        return AIGTATT_ERR_INVALID;
    }
    s->vt = vt;
    int rc = build_decls(s, comp);
    if (rc)
        return rc;
    /* names, types and ranges, with file:line:col and the op's name */
    if ((rc = aigtatt_host_params_parse(item, &s->desc, &s->params)))
        return rc;
    s->p = aigtatt_params_float(s->params, "p");
    if (vt->check && (rc = vt->check(s->params))) {
        char why[1024];
        snprintf(why, sizeof why, "%s", aigtatt_last_error());
        aigtatt_set_error("%s: %s: %s", aigtatt_cfg_where(item, at, sizeof at), full, why);
        return rc;
    }
    return AIGTATT_OK;
}

int aigtatt_augment_chain_parse(const aigtatt_params *node_params, const char *list_param,
                                aigtatt_augment_chain **out)
{
    if (!out || !node_params || !list_param) {
        aigtatt_set_error("augment_chain_parse: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    *out = NULL;
    const aigtatt_cfg *list = aigtatt_params_cfg(node_params, list_param);
    if (list && aigtatt_cfg_type_of(list) != AIGTATT_CFG_SEQ) {
        char at[512];
        aigtatt_set_error("%s: '%s' must be a list of ops such as [{op: rotate, p: 0.5}]",
                          aigtatt_cfg_where(list, at, sizeof at), list_param);
        return AIGTATT_ERR_INVALID;
    }
    size_t n = aigtatt_cfg_len(list);
    if (n == 0) {
        char at[512];
        aigtatt_set_error("%s: '%s' is empty: list at least one op, e.g. [{op: rotate}]",
                          list ? aigtatt_cfg_where(list, at, sizeof at) : list_param, list_param);
        return AIGTATT_ERR_INVALID;
    }
    if (n > CHAIN_MAX) {
        aigtatt_set_error("'%s' lists %zu ops; at most %d are supported", list_param, n, CHAIN_MAX);
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_augment_chain *c = calloc(1, sizeof *c);
    if (c)
        c->v = calloc(n, sizeof *c->v);
    if (!c || !c->v) {
        free(c);
        aigtatt_set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        c->n = i + 1;
        int rc = parse_one(aigtatt_cfg_at(list, i), list_param, &c->v[i]);
        if (rc) {
            aigtatt_augment_chain_free(c);
            return rc;
        }
    }
    *out = c;
    return AIGTATT_OK;
}

size_t aigtatt_augment_chain_len(const aigtatt_augment_chain *chain) { return chain ? chain->n : 0; }

void aigtatt_augment_chain_free(aigtatt_augment_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->v && i < c->n; i++) {
        aigtatt_params_free(c->v[i].params);
        free(c->v[i].decls);
    }
    free(c->v);
    free(c);
}

void aigtatt_augment_chain_uses(const aigtatt_params *node_params, const char *list_param,
                                void (*add)(void *ctx, const char *component), void *ctx)
{
    if (!node_params || !list_param || !add)
        return;
    const aigtatt_cfg *list = aigtatt_params_cfg(node_params, list_param);
    for (size_t i = 0; i < aigtatt_cfg_len(list); i++) {
        const char *op = aigtatt_cfg_scalar(aigtatt_cfg_get(aigtatt_cfg_at(list, i), "op"));
        if (!op || !*op)
            continue;
        char full[128];
        full_name(op, full, sizeof full);
        add(ctx, full);
    }
}

/* ---- applying ------------------------------------------------------------- */

static void json_str(aigtatt_buf *b, const char *s)
{
    aigtatt_buf_append(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            aigtatt_buf_append(b, "\\", 1);
        if ((unsigned char)*s < 0x20)
            aigtatt_buf_printf(b, "\\u%04x", (unsigned char)*s);
        else
            aigtatt_buf_append(b, s, 1);
    }
    aigtatt_buf_append(b, "\"", 1);
}

/* A copy of `src` (when no step ran): the caller always gets its own image. */
static aigtatt_image *copy_image(const aigtatt_image *src)
{
    aigtatt_image *o = aigtatt_image_new_uninit(src->width, src->height, src->channels);
    if (!o)
        return NULL;
    size_t row = (size_t)src->width * (size_t)src->channels;
    for (int32_t y = 0; y < src->height; y++)
        memcpy(o->data + (size_t)y * o->stride, src->data + (size_t)y * src->stride, row);
    return o;
}

int aigtatt_augment_chain_apply(const aigtatt_augment_chain *c, int shuffle, uint64_t seed, const aigtatt_image *src,
                                aigtatt_image **out, char **sampled_json)
{
    if (out)
        *out = NULL;
    if (sampled_json)
        *sampled_json = NULL;
    if (!c || !src || !src->data || !out) {
        aigtatt_set_error("augment_chain_apply: NULL argument");
        return AIGTATT_ERR_INVALID;
    }
    size_t order[CHAIN_MAX], n = c->n < CHAIN_MAX ? c->n : CHAIN_MAX;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (shuffle) {
        aigtatt_rng *r = aigtatt_rng_new(aigtatt_seed_derive(seed, "order", 0));
        if (!r) {
            aigtatt_set_error("out of memory");
            return AIGTATT_ERR_NOMEM;
        }
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(aigtatt_rng_u64(r) % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        aigtatt_rng_free(r);
    }
    const aigtatt_image *cur = src;
    aigtatt_image *owned = NULL;
    aigtatt_buf meta = AIGTATT_BUF_INIT, *m = sampled_json ? &meta : NULL;
    char sampled[SAMPLED_MAX];
    int rc = AIGTATT_OK;
    if (m)
        aigtatt_buf_puts(m, "[");
    for (size_t k = 0; k < n; k++) {
        const chain_step *st = &c->v[order[k]];
        /* Seeded by the step's place in the list, not in the shuffled order. */
        aigtatt_rng *rng = aigtatt_rng_new(aigtatt_seed_derive(seed, st->name, order[k]));
        if (!rng) {
            aigtatt_set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
            goto fail;
        }
        int applied = aigtatt_rng_uniform(rng) < st->p;
        if (m) {
            aigtatt_buf_puts(m, k ? ",{\"op\":" : "{\"op\":");
            json_str(m, st->name);
            aigtatt_buf_printf(m, ",\"applied\":%s", applied ? "true" : "false");
        }
        if (applied) {
            aigtatt_image *next = NULL;
            sampled[0] = '\0';
            rc = st->vt->apply(st->params, rng, cur, &next, sampled, sizeof sampled);
            if (rc == AIGTATT_OK && !next) {
                aigtatt_set_error("op %s returned no image", st->desc.name);
                rc = AIGTATT_ERR;
            }
            if (rc) {
                char why[1024];
                snprintf(why, sizeof why, "%s", aigtatt_last_error());
                aigtatt_set_error("%s: %s", st->desc.name, why);
                aigtatt_image_free(next);
                aigtatt_rng_free(rng);
                goto fail;
            }
            if (m) {
                aigtatt_buf_puts(m, ",\"params\":");
                aigtatt_buf_puts(m, sampled[0] == '{' ? sampled : "{}");
            }
            aigtatt_image_free(owned);
            cur = owned = next;
        }
        if (m)
            aigtatt_buf_puts(m, "}");
        aigtatt_rng_free(rng);
    }
    if (m)
        aigtatt_buf_puts(m, "]");
    if (!owned && !(owned = copy_image(src))) {
        rc = AIGTATT_ERR_NOMEM;
        goto fail;
    }
    if (m) {
        if (meta.failed) {
            aigtatt_set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
            goto fail;
        }
        *sampled_json = aigtatt_buf_take(m);
        if (!*sampled_json) {
            aigtatt_set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
            goto fail;
        }
    }
    *out = owned;
    return AIGTATT_OK;
fail:
    aigtatt_image_free(owned);
    aigtatt_buf_free(&meta);
    return rc;
}
