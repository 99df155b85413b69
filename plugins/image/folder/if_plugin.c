/* image.folder: tattoo images you already have (a public database, your
 * own photos) as an "images" output, one identity per file (flat folder)
 * or per sub-folder. Every file is decoded once to check it, so a corrupt,
 * truncated, empty or oversized file is found here, named, and skipped or
 * fatal as `on_error` says, never half-copied downstream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "if.h"

const aigtatt_host *if_host;

typedef struct if_job {
    aigtatt_run *run;
    const char *root, *out_dir, *role;
    const if_list *files;
    int allow_link, fail_on_error;
    uint64_t max_pixels;
    unsigned char *bad;     /* per file: skipped */
    aigtatt_progress *progress;
} if_job;

/* Whether `s` is UTF-8 text without control characters: what a record's
 * id, identity and JSON meta can carry. A Latin-1 folder name or a tab in
 * a file name is then one bad file (skipped or failed by on_error, named),
 * not a broken record that stops the node. */
static int plain_text(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (c < 0x20 || c == 0x7f || n == 9 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4))
            return 0;
        for (size_t k = 1; k <= n; k++)
            if ((u[k] & 0xc0) != 0x80)
                return 0;
        /* no overlong 3/4-byte forms, no surrogates, nothing above U+10FFFF */
        if ((n == 2 && c == 0xe0 && u[1] < 0xa0) || (n == 2 && c == 0xed && u[1] >= 0xa0) ||
            (n == 3 && c == 0xf0 && u[1] < 0x90) || (n == 3 && c == 0xf4 && u[1] >= 0x90))
            return 0;
        u += n + 1;
    }
    return 1;
}

static int one_file(void *ctx, size_t i)
{
    if_job *j = ctx;
    const if_file *f = &j->files->v[i];
    if (if_host->cancelled())
        return AIGTATT_ERR_CANCELLED;
    char src[4096], dir[4096], rel[1024], to[4096], id[1024], ext[16];
    snprintf(src, sizeof src, "%s/%s", j->root, f->rel);
    int rc = AIGTATT_OK;
    if (!plain_text(f->rel)) {
        if_host->set_error("%s: the name is not UTF-8 text or holds a control character; rename it", src);
        rc = AIGTATT_ERR_INVALID;
    } else if (!if_safe_name(f->identity)) {
        if_host->set_error("%s: the identity '%s' taken from its name cannot be a folder name", src, f->identity);
        rc = AIGTATT_ERR_INVALID;
    } else {
        /* Decode to check: the header alone misses truncated data. DCT
         * scaling makes a big JPEG's check cheap; every byte is still read. */
        aigtatt_image_load_opts o = {.struct_size = sizeof o, .max_pixels = j->max_pixels,
                                     .min_width = 1, .min_height = 1};
        aigtatt_image *img = NULL;
        rc = if_host->image_load(src, &o, &img);
        if_host->image_free(img);
    }
    if (rc != AIGTATT_OK && rc != AIGTATT_ERR_NOMEM && !j->fail_on_error) {
        if_host->log(AIGTATT_LOG_WARN, "skipped: %s", if_host->last_error());
        j->bad[i] = 1;
        if_host->progress_add(j->progress, 0, 1);
        return AIGTATT_OK;
    }
    if (rc)
        return rc;
    if_ext(f->rel, ext, sizeof ext);
    if (f->total > 1) {
        snprintf(id, sizeof id, "%s/%s_%zu", f->identity, j->role, f->ordinal + 1);
    } else {
        snprintf(id, sizeof id, "%s/%s", f->identity, j->role);
    }
    snprintf(rel, sizeof rel, "%s%s", id, ext);
    snprintf(dir, sizeof dir, "%s/%s", j->out_dir, f->identity);
    snprintf(to, sizeof to, "%s/%s", j->out_dir, rel);
    if ((rc = if_mkdir(dir)) || (rc = if_link_or_copy(src, to, j->allow_link)))
        return rc;
    /* The original name, as JSON (names may hold quotes or backslashes). */
    char meta[3000];
    size_t m = (size_t)snprintf(meta, sizeof meta, "{\"file\":\"");
    for (const char *s = f->rel; *s && m + 8 < sizeof meta; s++) {
        if (*s == '"' || *s == '\\')
            meta[m++] = '\\';
        meta[m++] = *s;
    }
    snprintf(meta + m, sizeof meta - m, "\"}");
    aigtatt_record rec = AIGTATT_RECORD_INIT;
    rec.id = id;
    rec.identity = f->identity;
    rec.role = j->role;
    rec.path = rel;
    rec.meta_json = meta;
    rc = if_host->output_add(j->run, "images", &rec);
    if_host->progress_add(j->progress, rc == AIGTATT_OK, rc != AIGTATT_OK);
    return rc;
}

static int if_run(aigtatt_run *run)
{
    const aigtatt_params *p = if_host->run_params(run);
    const char *layout_s = if_host->param_string(p, "layout");
    int layout = !strcmp(layout_s, "flat") ? IF_FLAT : !strcmp(layout_s, "per_identity") ? IF_PER_IDENTITY : IF_AUTO;
    if_job j = {0};
    j.run = run;
    j.root = if_host->param_string(p, "path");
    j.out_dir = if_host->run_output_dir(run, "images");
    j.role = if_host->param_string(p, "role");
    j.allow_link = !strcmp(if_host->param_string(p, "link"), "auto");
    j.fail_on_error = !strcmp(if_host->param_string(p, "on_error"), "fail");
    j.max_pixels = (uint64_t)if_host->param_int(p, "max_pixels");
    size_t limit = (size_t)if_host->param_int(p, "limit");
    if_list files;
    int used = IF_FLAT;
    int rc = if_scan(j.root, layout, &files, &used);
    if (rc)
        return rc;
    /* `limit` keeps the first identities in name order, with all their files. */
    if (limit) {
        size_t ids = 0, n = 0;
        for (; n < files.n; n++) {
            if (files.v[n].ordinal == 0 && ++ids > limit)
                break;
        }
        for (size_t k = n; k < files.n; k++) {
            free(files.v[k].rel);
            free(files.v[k].identity);
        }
        files.n = n;
    }
    if (files.n == 0) {
        if_host->set_error("%s: no .png, .jpg or .jpeg files found (layout: %s)", j.root,
                           used == IF_FLAT ? "flat" : "per_identity");
        if_list_free(&files);
        return AIGTATT_ERR_INVALID;
    }
    j.files = &files;
    j.bad = calloc(files.n, 1);
    if (!j.bad) {
        if_list_free(&files);
        if_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    j.progress = if_host->progress_begin("images", files.n);
    rc = if_host->parallel_for(files.n, one_file, &j);
    if_host->progress_end(j.progress);
    size_t skipped = 0;
    for (size_t i = 0; i < files.n; i++)
        skipped += j.bad[i];
    if (rc == AIGTATT_OK && skipped == files.n) {
        if_host->set_error("%s: every one of the %zu image files was unreadable", j.root, files.n);
        rc = AIGTATT_ERR_FORMAT;
    }
    if (rc == AIGTATT_OK)
        if_host->log(AIGTATT_LOG_INFO, "%zu images from %s (%s layout), %zu unreadable ones skipped",
                     files.n - skipped, j.root, used == IF_FLAT ? "flat" : "per-identity", skipped);
    free(j.bad);
    if_list_free(&files);
    return rc;
}

static const aigtatt_param_desc if_params[] = {
    {.name = "path", .type = AIGTATT_PARAM_PATH, .default_value = NULL,
     .doc = "Folder of images (.png, .jpg, .jpeg). Relative to the experiment file."},
    {.name = "layout", .type = AIGTATT_PARAM_ENUM, .default_value = "auto", .choices = "auto|flat|per_identity",
     .doc = "flat: every file is one identity, named by its stem; per_identity: every sub-folder is one "
            "identity holding one or more images; auto: per_identity if the folder holds only folders, flat "
            "if only files."},
    {.name = "role", .type = AIGTATT_PARAM_ENUM, .default_value = "original", .choices = "original|cropped",
     .doc = "Role of the images: full photos or designs (original), or tattoos already cropped (cropped)."},
    {.name = "on_error", .type = AIGTATT_PARAM_ENUM, .default_value = "skip", .choices = "skip|fail",
     .doc = "A corrupt, truncated, empty, non-image or over-budget file is logged and skipped (skip) or stops "
            "the node (fail). Either way the message names the file."},
    {.name = "link", .type = AIGTATT_PARAM_ENUM, .default_value = "copy", .choices = "auto|copy",
     .doc = "copy: copy the files into the output; auto: hard-link them (no extra space, copies across file "
            "systems), which is safe only if nobody edits the originals in place, since the cached copy is "
            "then the same file."},
    {.name = "max_pixels", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,
     .has_max = 1, .max = 64000000,
     .doc = "Refuse images with more pixels than this; 0 uses the host's budget (64 megapixels). It can only "
            "lower the budget: later nodes (crop, augment, train, embed) decode with the host's, so a larger "
            "image admitted here would stop them."},
    {.name = "limit", .type = AIGTATT_PARAM_INT, .default_value = "0", .has_min = 1, .min = 0,
     .doc = "Use only the first N identities in name order; 0 uses all."},
    {.name = NULL}};

static const aigtatt_port_desc if_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/original.<ext> (or original_<n> for several per identity), role original or cropped, "
            "the source file name in meta."},
    {.name = NULL}};

static const aigtatt_node_vtable if_vt = {.struct_size = sizeof(aigtatt_node_vtable), .run = if_run};

const aigtatt_component_desc if_folder_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_IMAGE_SOURCE,
    .name = "image.folder",
    .version = "1.0.0",
    .summary = "Your own images: a flat folder or one folder per identity",
    .doc = "Brings existing tattoo images into the graph in name order. Files are hard-linked or copied "
           "unchanged (no re-encoding). The cache key covers the folder's files (names, sizes, modification "
           "times), so adding, removing or editing an image reruns the node.",
    AIGTATT_PARAMS(if_params),
    AIGTATT_PORTS(NULL, if_out),
    .vtable = &if_vt,
};

static int if_init(const aigtatt_host *host)
{
    if_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const if_components[] = {&if_folder_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-image-folder", .version = "0.1.0", .license = "MIT",
                      .description = "Images from a folder (flat or one folder per identity)",
                      .components = if_components, .init = if_init);
