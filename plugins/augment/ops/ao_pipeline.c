/* augment.pipeline: N photo-like variations of every tattoo.
 *
 * For each source image (the cropped tattoo when there is one) its v-th
 * variation (v = 0, 1, ...; the record's meta keeps the seed) is made from
 * its own seed, seed_derive(node seed, source id, v), so a
 * variation never depends on how many came before it, on the thread that
 * made it, or on other identities: the same config and seed give the same
 * bytes. The sampled value of every op is kept in the record's meta.
 *
 * The `ops:` list is the host's augmentation chain (host->augment_chain_*,
 * core/augment/chain.c): parsing, validation, per-op seeding and the
 * sampled-values JSON live there, shared with train.embedding's `augment:`.
 *
 * Cache note: pipeline_uses() names every op to the core, which puts the
 * ops' versions into the node's cache key, so a new version of any op
 * (this plugin's or a third party's) reruns the pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ao_pipe.h"

enum { FROM_AUTO, FROM_ORIGINAL, FROM_CROPPED, FROM_BOTH };

typedef struct ao_source {
    size_t rec;      /* index in the input set */
    size_t ordinal;  /* among the identity's sources: numbers its variations */
} ao_source;

typedef struct ao_job {
    aigtatt_run *run;
    const aigtatt_set *set;
    const char *out_dir;
    aigtatt_augment_chain *chain;
    ao_source *src;
    size_t n_src;
    int64_t variations;
    int shuffle, jpg, quality;
    uint64_t seed;
    aigtatt_progress *progress;
} ao_job;

static int role_is(const aigtatt_record *r, const char *role) { return r->role && !strcmp(r->role, role); }

static int check_records(const aigtatt_set *set)
{
    for (size_t i = 0; i < ao_host->set_count(set); i++) {
        const aigtatt_record *r = ao_host->set_record(set, i);
        if (!r->path || (!role_is(r, "original") && !role_is(r, "cropped")))
            continue;
        if (!ao_safe_name(r->identity)) {
            ao_host->set_error("input record '%s' has identity '%s', which cannot be a folder name", r->id,
                               r->identity ? r->identity : "(none)");
            return AIGTATT_ERR_INVALID;
        }
    }
    return AIGTATT_OK;
}

/* Per record of the set (with a path and an identity): its ordinal and
 * the total among the records of its identity and role, in set order, and
 * whether its identity has a crop. Computed once from the records sorted
 * by (identity, role, set order), so a set of 100 000 images costs a sort,
 * not a scan of the set per record. */
typedef struct ao_groups {
    size_t *ord, *total;
    unsigned char *has_crop;
} ao_groups;

typedef struct by_id {
    const char *id, *role;
    size_t i;
} by_id;

static int cmp_by_id(const void *x, const void *y)
{
    const by_id *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    if (!c)
        c = strcmp(a->role, b->role);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

static void groups_free(ao_groups *g)
{
    free(g->ord);
    free(g->total);
    free(g->has_crop);
}

static int groups_make(const aigtatt_set *set, ao_groups *g)
{
    size_t n = ao_host->set_count(set), m = 0;
    g->ord = calloc(n ? n : 1, sizeof *g->ord);
    g->total = calloc(n ? n : 1, sizeof *g->total);
    g->has_crop = calloc(n ? n : 1, 1);
    by_id *v = malloc((n ? n : 1) * sizeof *v);
    if (!g->ord || !g->total || !g->has_crop || !v) {
        free(v);
        groups_free(g);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = ao_host->set_record(set, i);
        if (r->path && r->identity)
            v[m++] = (by_id){r->identity, r->role ? r->role : "", i};
    }
    qsort(v, m, sizeof *v, cmp_by_id);
    for (size_t s = 0, e; s < m; s = e) {
        int crop = 0;
        for (e = s; e < m && !strcmp(v[e].id, v[s].id); e++)
            crop |= !strcmp(v[e].role, "cropped");
        for (size_t a = s, b; a < e; a = b) {
            for (b = a; b < e && !strcmp(v[b].role, v[a].role); b++)
                ;
            for (size_t k = a; k < b; k++) {
                g->ord[v[k].i] = k - a;
                g->total[v[k].i] = b - a;
                g->has_crop[v[k].i] = (unsigned char)crop;
            }
        }
    }
    free(v);
    return AIGTATT_OK;
}

static int pick_sources(const aigtatt_set *set, int from, ao_source **out, size_t *n_out)
{
    size_t n = ao_host->set_count(set), m = 0;
    ao_source *v = calloc(n ? n : 1, sizeof *v);
    by_id *seen = malloc((n ? n : 1) * sizeof *seen);
    ao_groups g = {0};
    if (!v || !seen || groups_make(set, &g)) {
        free(v);
        free(seen);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = ao_host->set_record(set, i);
        if (!r->path || !r->identity)
            continue;
        int take = 0;
        if (role_is(r, "cropped"))
            take = from != FROM_ORIGINAL;
        else if (role_is(r, "original"))
            take = from == FROM_ORIGINAL || from == FROM_BOTH || (from == FROM_AUTO && !g.has_crop[i]);
        if (!take)
            continue;
        seen[m] = (by_id){r->identity, "", i};
        v[m++].rec = i;
    }
    /* the ordinal among an identity's chosen sources, in set order: the
     * position in its group once sorted by (identity, set order) */
    qsort(seen, m, sizeof *seen, cmp_by_id);
    for (size_t s = 0, e; s < m; s = e)
        for (e = s; e < m && !strcmp(seen[e].id, seen[s].id); e++)
            g.ord[seen[e].i] = e - s;
    for (size_t k = 0; k < m; k++)
        v[k].ordinal = g.ord[v[k].rec];
    free(seen);
    groups_free(&g);
    *out = v;
    *n_out = m;
    return AIGTATT_OK;
}

/* Copies originals and/or crops through, as <identity>/<role>.<ext> (or
 * <role>_<n> when an identity has several), keeping their ids. */
static int copy_through(ao_job *j, int originals, int cropped)
{
    size_t n = ao_host->set_count(j->set);
    ao_groups g = {0};
    int grc = groups_make(j->set, &g);
    if (grc)
        return grc;
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = ao_host->set_record(j->set, i);
        if (!r->path || !((originals && role_is(r, "original")) || (cropped && role_is(r, "cropped"))))
            continue;
        size_t ord = g.ord[i], total = g.total[i];
        char ext[16], rel[512], from[4096], to[4096], dir[4096];
        ao_ext(r->path, ext, sizeof ext);
        if (total > 1)
            snprintf(rel, sizeof rel, "%s/%s_%zu%s", r->identity, r->role, ord + 1, ext);
        else
            snprintf(rel, sizeof rel, "%s/%s%s", r->identity, r->role, ext);
        snprintf(dir, sizeof dir, "%s/%s", j->out_dir, r->identity);
        snprintf(to, sizeof to, "%s/%s", j->out_dir, rel);
        int rc = ao_host->set_path(j->set, i, from, sizeof from);
        if (!rc)
            rc = ao_mkdir(dir);
        if (!rc)
            rc = ao_host->link_file(from, to);
        if (rc) {
            groups_free(&g);
            return rc;
        }
        aigtatt_record c = *r;
        c.struct_size = sizeof c;
        c.path = rel;
        if ((rc = ao_host->output_add(j->run, "images", &c))) {
            groups_free(&g);
            return rc;
        }
    }
    groups_free(&g);
    return AIGTATT_OK;
}

static int one_source(void *ctx, size_t si)
{
    ao_job *j = ctx;
    const ao_source *s = &j->src[si];
    const aigtatt_record *r = ao_host->set_record(j->set, s->rec);
    char path[4096], dir[4096];
    int rc = ao_host->set_path(j->set, s->rec, path, sizeof path);
    if (rc)
        return rc;
    aigtatt_image *img = NULL;
    if ((rc = ao_load_rgb(path, &img)))
        return rc;
    snprintf(dir, sizeof dir, "%s/%s", j->out_dir, r->identity);
    rc = ao_mkdir(dir);
    for (int64_t v = 0; rc == AIGTATT_OK && v < j->variations; v++) {
        if (ao_host->cancelled()) {
            rc = AIGTATT_ERR_CANCELLED;
            break;
        }
        uint64_t k = (uint64_t)s->ordinal * (uint64_t)j->variations + (uint64_t)v + 1;
        uint64_t seed = ao_host->seed_derive(j->seed, r->id, (uint64_t)v);
        aigtatt_image *out = NULL;
        char *ops = NULL, *meta = NULL;
        rc = ao_host->augment_chain_apply(j->chain, j->shuffle, seed, img, &out, &ops);
        if (rc == AIGTATT_OK) {
            int n = snprintf(NULL, 0, "{\"k\":%llu,\"seed\":\"%llu\",\"ops\":%s}", (unsigned long long)k,
                             (unsigned long long)seed, ops);
            meta = n > 0 ? malloc((size_t)n + 1) : NULL;
            if (meta)
                snprintf(meta, (size_t)n + 1, "{\"k\":%llu,\"seed\":\"%llu\",\"ops\":%s}", (unsigned long long)k,
                         (unsigned long long)seed, ops);
        }
        ao_host->free_mem(ops);
        char rel[512], file[4096], id[512];
        snprintf(rel, sizeof rel, "%s/variation_%llu.%s", r->identity, (unsigned long long)k, j->jpg ? "jpg" : "png");
        snprintf(id, sizeof id, "%s/variation_%llu", r->identity, (unsigned long long)k);
        snprintf(file, sizeof file, "%s/%s", j->out_dir, rel);
        if (rc == AIGTATT_OK && !meta) {
            ao_host->set_error("out of memory");
            rc = AIGTATT_ERR_NOMEM;
        }
        if (rc == AIGTATT_OK)
            rc = ao_host->image_save(out, file, j->quality);
        if (rc == AIGTATT_OK) {
            aigtatt_record rec = AIGTATT_RECORD_INIT;
            rec.id = id;
            rec.identity = r->identity;
            rec.role = "variation";
            rec.path = rel;
            rec.source = r->id;
            rec.split = r->split;
            rec.text = r->text;
            rec.meta_json = meta;
            rc = ao_host->output_add(j->run, "images", &rec);
        } else if (rc != AIGTATT_ERR_CANCELLED) {
            char why[1024];
            snprintf(why, sizeof why, "%s", ao_host->last_error());
            ao_host->set_error("variation %llu of '%s': %s", (unsigned long long)k, r->id, why);
        }
        free(meta);
        ao_host->image_free(out);
        ao_host->progress_add(j->progress, rc == AIGTATT_OK, rc != AIGTATT_OK);
    }
    ao_host->image_free(img);
    return rc;
}

static int from_of(const aigtatt_params *p)
{
    const char *f = AO_S(p, "from");
    return !strcmp(f, "original") ? FROM_ORIGINAL : !strcmp(f, "cropped") ? FROM_CROPPED
           : !strcmp(f, "both")   ? FROM_BOTH
                                  : FROM_AUTO;
}

static int pipeline_check(const aigtatt_params *p)
{
    aigtatt_augment_chain *c = NULL;
    int rc = ao_host->augment_chain_parse(p, "ops", &c);
    ao_host->augment_chain_free(c);
    return rc;
}

static void pipeline_uses(const aigtatt_params *p, void (*add)(void *ctx, const char *component), void *ctx)
{
    ao_host->augment_chain_uses(p, "ops", add, ctx);
}

static int pipeline_run(aigtatt_run *run)
{
    const aigtatt_params *p = ao_host->run_params(run);
    ao_job j = {0};
    j.run = run;
    j.variations = AO_I(p, "variations");
    j.shuffle = AO_B(p, "shuffle");
    j.jpg = !strcmp(AO_S(p, "format"), "jpg");
    j.quality = j.jpg ? (int)AO_I(p, "quality") : 0;
    j.seed = ao_host->run_seed(run);
    j.out_dir = ao_host->run_output_dir(run, "images");
    aigtatt_set *set = NULL;
    int rc = ao_host->augment_chain_parse(p, "ops", &j.chain);
    if (rc)
        return rc;
    if ((rc = ao_host->set_open(run, "images", &set)))
        goto out;
    j.set = set;
    if ((rc = check_records(set)) || (rc = pick_sources(set, from_of(p), &j.src, &j.n_src)))
        goto out;
    if (j.n_src == 0) {
        ao_host->set_error("the input has no images to vary (want records with role 'cropped' or "
                           "'original' and a file; from: %s)", AO_S(p, "from"));
        rc = AIGTATT_ERR_INVALID;
        goto out;
    }
    if ((rc = copy_through(&j, AO_B(p, "include_original"), AO_B(p, "include_cropped"))))
        goto out;
    j.progress = ao_host->progress_begin("variations", (uint64_t)j.n_src * (uint64_t)j.variations);
    rc = ao_host->parallel_for(j.n_src, one_source, &j);
    ao_host->progress_end(j.progress);
    if (rc == AIGTATT_OK)
        ao_host->log(AIGTATT_LOG_INFO, "%lld variations of %zu images through %zu ops",
                     (long long)(j.variations * (int64_t)j.n_src), j.n_src,
                     ao_host->augment_chain_len(j.chain));
out:
    free(j.src);
    ao_host->set_close(set);
    ao_host->augment_chain_free(j.chain);
    return rc;
}

static const aigtatt_param_desc pipeline_params[] = {
    AO_INT("variations", "20", 0, 100000, "Variations per source image (the seed study made 20)."),
    {.name = "ops", .type = AIGTATT_PARAM_LIST, .item_type = AIGTATT_PARAM_MAP,
     .default_value = "[{op: skin, p: 0.4}, {op: rotate, p: 0.7}, {op: scale, p: 0.5}, {op: perspective, p: 0.3}, "
                      "{op: curvature, p: 0.3}, {op: brightness, p: 0.5}, {op: contrast, p: 0.5}, "
                      "{op: hue, p: 0.2}, {op: temperature, p: 0.3}, {op: illumination, p: 0.3}, "
                      "{op: gaussian_blur, p: 0.3}, {op: motion_blur, p: 0.15}, {op: sensor_noise, p: 0.4}, "
                      "{op: jpeg, p: 0.4}]",
     .doc = "The ops, applied in order: a list of mappings {op: NAME, p: PROBABILITY, ...the op's own "
            "parameters}. NAME is the part after 'augment.' (rotate, scale, translate, shear, perspective, "
            "aspect, flip, elastic, curvature, brightness, contrast, gamma, hue, saturation, temperature, "
            "illumination, gaussian_blur, motion_blur, gaussian_noise, sensor_noise, jpeg, downscale, "
            "occlusion, skin) or a full component name; `aigtatt plugins info augment.NAME` lists its "
            "parameters."},
    AO_ENUM("from", "auto", "auto|cropped|original|both",
            "Which images to vary: the crop when an identity has one and the original otherwise (auto), only "
            "crops, only originals, or both."),
    AO_BOOL("include_original", "true", "Copy the input's originals through as <identity>/original.<ext>."),
    AO_BOOL("include_cropped", "true", "Copy the input's crops through as <identity>/cropped.<ext>."),
    AO_BOOL("shuffle", "false", "Apply the ops in a random order per variation instead of the listed order."),
    AO_ENUM("format", "png", "png|jpg", "File format of the variations."),
    AO_INT("quality", "95", 1, 100, "JPEG quality when format is jpg."),
    AO_END};

static const aigtatt_port_desc pipeline_in[] = {
    {.name = "images", .type = "images", .doc = "Originals and/or crops, one identity per tattoo."},
    {.name = NULL}};

static const aigtatt_port_desc pipeline_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/variation_<k>.png (role 'variation', source = the image it was made from, meta = "
            "seed and every op's sampled values) plus the copied originals and crops."},
    {.name = NULL}};

static const aigtatt_node_vtable pipeline_vt = {
    .struct_size = sizeof(aigtatt_node_vtable), .check = pipeline_check, .run = pipeline_run,
    .uses = pipeline_uses};

const aigtatt_component_desc ao_pipeline_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_AUGMENTER,
    .name = "augment.pipeline",
    .version = AO_VERSION,
    .summary = "Photo-like variations of every tattoo through a list of random ops",
    .doc = "Applies `ops` to each source image `variations` times. Each op runs with probability p and samples "
           "its values from its declared ranges; the v-th variation of a source (v from 0; its seed is in the "
           "record's meta) is seeded by (node seed, source id, v), so results are byte-identical for the same seed whatever the thread count. Entries of `ops` "
           "are checked against each op's declared parameters, with errors at file:line:col.",
    AIGTATT_PARAMS(pipeline_params),
    AIGTATT_PORTS(pipeline_in, pipeline_out),
    .vtable = &pipeline_vt,
};
