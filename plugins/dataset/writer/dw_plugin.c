/* dataset.write: the dataset as the seed study laid it out,
 *   <split>/<Tattoo-ID>/{original,cropped,variation_k}.png
 * with an identity-level train/val/test split, dataset.jsonl (one line per
 * image: path, identity, role, split, source, prompt and the sampled
 * parameters), splits.json and a contact sheet. Its "images" output carries
 * the split in every record, so downstream nodes train and evaluate on the
 * right identities. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dw.h"

const aigtatt_host *dw_host;

typedef struct dw_item {
    size_t rec;
    size_t ident; /* index into the identity list */
    char *rel;    /* output path under the port folder */
} dw_item;

static int cmp_item_rel(const void *a, const void *b)
{
    return strcmp(((const dw_item *)a)->rel, ((const dw_item *)b)->rel);
}
static int cmp_ident(const void *a, const void *b)
{
    return strcmp(((const dw_identity *)a)->name, ((const dw_identity *)b)->name);
}

static int safe_name(const char *s)
{
    if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 200)
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

static int role_wanted(const aigtatt_params *p, const char *role)
{
    const aigtatt_cfg *roles = dw_host->param_cfg(p, "roles");
    for (size_t i = 0; role && i < dw_host->cfg_len(roles); i++)
        if (!strcmp(dw_host->cfg_scalar(dw_host->cfg_at(roles, i)), role))
            return 1;
    return 0;
}

static int dw_check(const aigtatt_params *p)
{
    double t = dw_host->param_float(p, "train"), v = dw_host->param_float(p, "val"),
           s = dw_host->param_float(p, "test");
    if (fabs(t + v + s - 1) > 1e-6) {
        dw_host->set_error("train + val + test must add up to 1, got %g + %g + %g = %g", t, v, s, t + v + s);
        return AIGTATT_ERR_INVALID;
    }
    const aigtatt_cfg *roles = dw_host->param_cfg(p, "roles");
    if (dw_host->cfg_len(roles) == 0) {
        dw_host->set_error("'roles' is empty: nothing would be written");
        return AIGTATT_ERR_INVALID;
    }
    for (size_t i = 0; i < dw_host->cfg_len(roles); i++) {
        const aigtatt_cfg *r = dw_host->cfg_at(roles, i);
        const char *w = dw_host->cfg_scalar(r);
        if (!w || (strcmp(w, "original") && strcmp(w, "cropped") && strcmp(w, "variation"))) {
            char at[256];
            dw_host->set_error("%s: 'roles' holds '%s'; the roles are original, cropped and variation",
                               dw_host->cfg_where(r, at, sizeof at), w ? w : "(not a word)");
            return AIGTATT_ERR_INVALID;
        }
    }
    return AIGTATT_OK;
}

static size_t find_ident(const dw_identity *ids, size_t n, const char *name)
{
    dw_identity key = {.name = name};
    const dw_identity *f = bsearch(&key, ids, n, sizeof *ids, cmp_ident);
    return f ? (size_t)(f - ids) : (size_t)-1;
}

static json_t *line_json(const aigtatt_record *r, const char *rel, const char *split)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(rel));
    json_object_set_new(o, "identity", json_string(r->identity));
    json_object_set_new(o, "role", json_string(r->role));
    json_object_set_new(o, "split", json_string(split));
    json_object_set_new(o, "id", json_string(r->id));
    if (r->source)
        json_object_set_new(o, "source", json_string(r->source));
    if (r->text)
        json_object_set_new(o, "prompt", json_string(r->text));
    /* 17 digits when written back: the recorded values read back exact */
    json_t *meta = r->meta_json ? json_loads(r->meta_json, 0, NULL) : NULL;
    json_object_set_new(o, "params", meta ? meta : json_object());
    return o;
}

/* Trailing number of "variation_12.png" (0 if none), to sort a row. */
static long variation_k(const char *path)
{
    const char *u = strrchr(path, '_');
    return u ? strtol(u + 1, NULL, 10) : 0;
}

static int write_sheet(const aigtatt_params *p, const aigtatt_set *set, const dw_item *items, size_t n_items,
                       size_t n_ids, const char *out_dir)
{
    int rows = (int)dw_host->param_int(p, "contact_sheet");
    int nvar = (int)dw_host->param_int(p, "sheet_variations"), thumb = (int)dw_host->param_int(p, "thumb");
    rows = (size_t)rows > n_ids ? (int)n_ids : rows;
    if (rows <= 0)
        return AIGTATT_OK;
    int cols = 2 + nvar;
    char **paths = calloc((size_t)rows * cols, sizeof *paths);
    long *best_k = calloc((size_t)rows * cols, sizeof *best_k);
    int rc = AIGTATT_ERR_NOMEM;
    if (!paths || !best_k)
        goto out;
    /* Rows are the first identities by name; columns original, crop, then
     * the lowest-numbered variations. */
    for (size_t i = 0; i < n_items; i++) {
        if (items[i].ident >= (size_t)rows)
            continue;
        const aigtatt_record *r = dw_host->set_record(set, items[i].rec);
        int col = -1;
        if (!strcmp(r->role, "original"))
            col = 0;
        else if (!strcmp(r->role, "cropped"))
            col = 1;
        else if (!strcmp(r->role, "variation")) {
            long k = variation_k(items[i].rel);
            /* Insert into the sorted variation columns of this row. */
            for (int c = 2; c < cols; c++) {
                size_t at = items[i].ident * (size_t)cols + (size_t)c;
                if (!paths[at] || k < best_k[at]) {
                    free(paths[(items[i].ident + 1) * (size_t)cols - 1]);
                    memmove(&paths[at + 1], &paths[at], (size_t)(cols - 1 - c) * sizeof *paths);
                    memmove(&best_k[at + 1], &best_k[at], (size_t)(cols - 1 - c) * sizeof *best_k);
                    paths[at] = NULL;
                    best_k[at] = k;
                    col = c;
                    break;
                }
            }
        }
        if (col < 0)
            continue;
        size_t at = items[i].ident * (size_t)cols + (size_t)col;
        if (col < 2 && paths[at])
            continue; /* several originals: the first one */
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", out_dir, items[i].rel);
        paths[at] = strdup(full);
        if (!paths[at])
            goto out;
    }
    char sheet[4096];
    snprintf(sheet, sizeof sheet, "%s/contact_sheet.png", out_dir);
    rc = dw_contact_sheet(sheet, paths, rows, cols, thumb);
out:
    if (rc == AIGTATT_ERR_NOMEM)
        dw_host->set_error("out of memory");
    for (int i = 0; paths && i < rows * cols; i++)
        free(paths[i]);
    free(paths);
    free(best_k);
    return rc;
}

static int dw_run(aigtatt_run *run)
{
    const aigtatt_params *p = dw_host->run_params(run);
    int rc = dw_check(p);
    if (rc)
        return rc;
    const double frac[DW_NSPLITS] = {dw_host->param_float(p, "train"), dw_host->param_float(p, "val"),
                                      dw_host->param_float(p, "test")};
    const int keep = dw_host->param_bool(p, "keep_split");
    const int allow_link = !strcmp(dw_host->param_string(p, "link"), "auto");
    const char *out_dir = dw_host->run_output_dir(run, "images");
    aigtatt_set *set = NULL;
    if ((rc = dw_host->set_open(run, "images", &set)))
        return rc;
    size_t n = dw_host->set_count(set), n_items = 0, n_ids = 0;
    dw_item *items = calloc(n ? n : 1, sizeof *items);
    dw_identity *ids = calloc(n ? n : 1, sizeof *ids);
    char **rels = calloc(n ? n : 1, sizeof *rels);
    json_t *lines = json_array();
    rc = AIGTATT_ERR_NOMEM;
    if (!items || !ids || !rels || !lines)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = dw_host->set_record(set, i);
        if (!r->path || !role_wanted(p, r->role))
            continue;
        if (!safe_name(r->identity)) {
            dw_host->set_error("input record '%s' has identity '%s', which cannot be a folder name", r->id,
                               r->identity ? r->identity : "(none)");
            rc = AIGTATT_ERR_INVALID;
            goto out;
        }
        items[n_items++].rec = i;
        ids[n_ids++].name = r->identity;
    }
    if (n_items == 0) {
        dw_host->set_error("the input has no images with the roles to write");
        rc = AIGTATT_ERR_INVALID;
        goto out;
    }
    qsort(ids, n_ids, sizeof *ids, cmp_ident);
    size_t u = 0;
    for (size_t i = 0; i < n_ids; i++)
        if (u == 0 || strcmp(ids[u - 1].name, ids[i].name))
            ids[u++] = ids[i];
    n_ids = u;
    /* Splits already in the input win (keep_split), but must agree. */
    for (size_t i = 0; i < n_items; i++) {
        const aigtatt_record *r = dw_host->set_record(set, items[i].rec);
        items[i].ident = find_ident(ids, n_ids, r->identity);
        int s = keep ? dw_split_index(r->split) : -1;
        dw_identity *id = &ids[items[i].ident];
        if (s < 0)
            continue;
        if (id->preset && id->split != s) {
            dw_host->set_error("identity '%s' has records in both '%s' and '%s'; a tattoo must stay in one split",
                               id->name, dw_split_names[id->split], dw_split_names[s]);
            rc = AIGTATT_ERR_INVALID;
            goto out;
        }
        id->preset = 1;
        id->split = s;
    }
    if ((rc = dw_assign_splits(ids, n_ids, frac, dw_host->run_seed(run))))
        goto out;
    rc = AIGTATT_ERR_NOMEM;
    for (size_t i = 0; i < n_items; i++) {
        const aigtatt_record *r = dw_host->set_record(set, items[i].rec);
        const char *base = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
        char rel[1024];
        snprintf(rel, sizeof rel, "%s/%s/%s", dw_split_names[ids[items[i].ident].split], r->identity, base);
        if (!(items[i].rel = rels[i] = strdup(rel)))
            goto out;
    }
    /* Path order for the files and dataset.jsonl; two images may not land
     * on one file name, which sorting makes easy to check before writing. */
    qsort(items, n_items, sizeof *items, cmp_item_rel);
    for (size_t i = 1; i < n_items; i++)
        if (!strcmp(items[i - 1].rel, items[i].rel)) {
            dw_host->set_error("two input images would both be written as %s; their identity and file name "
                               "clash", items[i].rel);
            rc = AIGTATT_ERR_INVALID;
            goto out;
        }
    aigtatt_progress *prog = dw_host->progress_begin("files", n_items);
    rc = AIGTATT_OK;
    for (size_t i = 0; i < n_items && rc == AIGTATT_OK; i++) {
        const aigtatt_record *r = dw_host->set_record(set, items[i].rec);
        const char *split = dw_split_names[ids[items[i].ident].split];
        char from[4096], to[4096], dir[4096];
        snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, split, r->identity);
        snprintf(to, sizeof to, "%s/%s", out_dir, items[i].rel);
        if (dw_host->cancelled())
            rc = AIGTATT_ERR_CANCELLED;
        if (!rc)
            rc = dw_host->set_path(set, items[i].rec, from, sizeof from);
        if (!rc)
            rc = dw_mkdirs(dir);
        if (!rc)
            rc = dw_link_or_copy(from, to, allow_link);
        if (!rc) {
            aigtatt_record c = *r;
            c.struct_size = sizeof c;
            c.path = items[i].rel;
            c.split = split;
            rc = dw_host->output_add(run, "images", &c);
        }
        if (!rc && json_array_append_new(lines, line_json(r, items[i].rel, split)))
            rc = AIGTATT_ERR_NOMEM;
        dw_host->progress_add(prog, rc == AIGTATT_OK, rc != AIGTATT_OK);
    }
    dw_host->progress_end(prog);
    if (rc)
        goto out;
    if ((rc = write_sheet(p, set, items, n_items, n_ids, out_dir)))
        goto out;
    rc = AIGTATT_ERR_NOMEM;
    /* dataset.jsonl: items were sorted by path, so are its lines. */
    size_t nl = json_array_size(lines);
    char *text = NULL;
    size_t len = 0, cap = 0;
    int oom = 0;
    for (size_t i = 0; i < nl && !oom; i++) {
        char *l = json_dumps(json_array_get(lines, i), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        size_t ll = l ? strlen(l) : 0;
        if (!l || len + ll + 2 > cap) {
            size_t nc = cap ? cap * 2 : 1 << 16;
            while (nc < len + ll + 2)
                nc *= 2;
            char *t = l ? realloc(text, nc) : NULL;
            if (!t)
                oom = 1;
            else {
                text = t;
                cap = nc;
            }
        }
        if (!oom) {
            memcpy(text + len, l, ll);
            len += ll;
            text[len++] = '\n';
        }
        free(l);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/dataset.jsonl", out_dir);
    rc = oom ? AIGTATT_ERR_NOMEM : dw_host->write_file(path, text ? text : "", len);
    free(text);
    if (rc)
        goto out;
    /* splits.json: which identity went where, and the counts. */
    json_t *sj = json_object(), *counts = json_object(), *lists = json_object();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)dw_host->run_seed(run));
    json_object_set_new(sj, "seed", json_string(seed));
    for (int s = 0; s < DW_NSPLITS; s++) {
        json_t *l = json_array();
        size_t images = 0;
        for (size_t i = 0; i < n_ids; i++)
            if (ids[i].split == s)
                json_array_append_new(l, json_string(ids[i].name));
        for (size_t i = 0; i < n_items; i++)
            images += ids[items[i].ident].split == s;
        json_t *c = json_object();
        json_object_set_new(c, "fraction", json_real(frac[s]));
        json_object_set_new(c, "identities", json_integer((json_int_t)json_array_size(l)));
        json_object_set_new(c, "images", json_integer((json_int_t)images));
        json_object_set_new(counts, dw_split_names[s], c);
        json_object_set_new(lists, dw_split_names[s], l);
    }
    json_object_set_new(sj, "counts", counts);
    json_object_set_new(sj, "identities", lists);
    char *st = json_dumps(sj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(sj);
    snprintf(path, sizeof path, "%s/splits.json", out_dir);
    rc = st ? dw_host->write_file(path, st, strlen(st)) : AIGTATT_ERR_NOMEM;
    free(st);
    if (rc == AIGTATT_OK) {
        size_t c[DW_NSPLITS] = {0, 0, 0};
        for (size_t i = 0; i < n_ids; i++)
            c[ids[i].split]++;
        dw_host->log(AIGTATT_LOG_INFO, "%zu images of %zu identities: %zu train, %zu val, %zu test identities",
                     n_items, n_ids, c[0], c[1], c[2]);
        /* said where it happens: downstream it shows as "no images to
         * embed" or "no validation" */
        for (int s = 0; s < DW_NSPLITS; s++)
            if (c[s] == 0 && dw_host->param_float(p, dw_split_names[s]) > 0)
                dw_host->log(AIGTATT_LOG_WARN, "the %s split is empty: %g of %zu identities rounds to none; "
                             "give it a larger fraction or add identities", dw_split_names[s],
                             dw_host->param_float(p, dw_split_names[s]), n_ids);
    }
out:
    if (rc == AIGTATT_ERR_NOMEM)
        dw_host->set_error("out of memory");
    for (size_t i = 0; rels && i < n_items; i++)
        free(rels[i]);
    free(rels);
    free(items);
    free(ids);
    json_decref(lines);
    dw_host->set_close(set);
    return rc;
}

#define FRACTION(nm, def, what) \
    {.name = nm, .type = AIGTATT_PARAM_FLOAT, .default_value = def, .has_min = 1, .min = 0, .has_max = 1, \
     .max = 1, .doc = "Fraction of identities in the " what " split; train + val + test = 1."}

static const aigtatt_param_desc dw_params[] = {
    FRACTION("train", "0.8", "training"),
    FRACTION("val", "0.1", "validation"),
    FRACTION("test", "0.1", "test"),
    {.name = "keep_split", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Identities whose records already carry a split keep it; only the others are drawn."},
    {.name = "roles", .type = AIGTATT_PARAM_LIST, .item_type = AIGTATT_PARAM_STRING,
     .default_value = "[original, cropped, variation]",
     .doc = "Which roles to write (the seed study wrote all three)."},
    {.name = "link", .type = AIGTATT_PARAM_ENUM, .default_value = "auto", .choices = "auto|copy",
     .doc = "auto: hard-link the images (no extra space; copies across file systems); copy: always copy."},
    {.name = "contact_sheet", .type = AIGTATT_PARAM_INT, .default_value = "12", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1000, .doc = "Rows (identities, by name) of contact_sheet.png; 0 writes none."},
    {.name = "sheet_variations", .type = AIGTATT_PARAM_INT, .default_value = "6", .has_min = 1, .min = 0,
     .has_max = 1, .max = 100, .doc = "Variations shown per row after the original and the crop."},
    {.name = "thumb", .type = AIGTATT_PARAM_INT, .default_value = "128", .has_min = 1, .min = 16, .has_max = 1,
     .max = 1024, .doc = "Size of a contact-sheet cell in pixels."},
    {.name = NULL}};

static const aigtatt_port_desc dw_in[] = {
    {.name = "images", .type = "images", .doc = "Originals, crops and variations."}, {.name = NULL}};
static const aigtatt_port_desc dw_out[] = {
    {.name = "images", .type = "images",
     .doc = "The same records at <split>/<identity>/<file>, with `split` set; the folder also holds "
            "dataset.jsonl, splits.json and contact_sheet.png."},
    {.name = NULL}};

static const aigtatt_node_vtable dw_vt = {.struct_size = sizeof(aigtatt_node_vtable), .check = dw_check,
                                          .run = dw_run};

static const aigtatt_component_desc dw_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_STEP,
    .name = "dataset.write",
    /* 1.1.0: identities ordered by a key drawn from the seed and the name,
     * not a shuffle of positions, so the splits differ from 1.0.0's */
    .version = "1.1.0",
    .summary = "Writes the dataset: <split>/<identity>/{original,cropped,variation_k}.png, manifest, split",
    .doc = "The seed study's layout with an identity-level train/val/test split (identities ordered by a key "
           "drawn from the seed and their name, counts by largest remainder, so adding identities moves at most "
           "one other across each split boundary), dataset.jsonl with one line per image (path, identity, "
           "role, split, source, prompt, params = the sampled augmentation parameters), splits.json and a "
           "contact sheet to look at.",
    AIGTATT_PARAMS(dw_params),
    AIGTATT_PORTS(dw_in, dw_out),
    .vtable = &dw_vt,
};

static int dw_init(const aigtatt_host *host)
{
    dw_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const dw_components[] = {&dw_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-dataset-writer", .version = "0.1.0", .license = "MIT",
                      .description = "Writes synthetic tattoo datasets in the seed study's layout",
                      .components = dw_components, .init = dw_init);
