/* crop.bbox: crops by annotation files, one `x1 y1 x2 y2` box a line in
 * pixels (first box = the main tattoo), the layout public tattoo
 * databases use. Annotations are looked up by the image's original file
 * name (kept in meta.file by image.folder), then by identity. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cb.h"

typedef struct bbox_opts {
    const char *dir;
    int union_mode, on_missing; /* 0 fail, 1 skip, 2 full */
} bbox_opts;

static void strip_ext(char *s)
{
    char *slash = strrchr(s, '/'), *dot = strrchr(s, '.');
    if (dot && (!slash || dot > slash) && dot != s && dot[-1] != '/')
        *dot = '\0';
}

/* Candidate annotation files for `rec`, most specific first. */
static int candidates(const bbox_opts *o, const aigtatt_record *rec, char out[4][4096])
{
    int n = 0;
    char name[2048] = "";
    json_t *meta = rec->meta_json ? json_loads(rec->meta_json, 0, NULL) : NULL;
    const char *file = json_string_value(json_object_get(meta, "file"));
    if (file && !strstr(file, "..")) {
        snprintf(name, sizeof name, "%s", file);
        strip_ext(name);
        snprintf(out[n++], 4096, "%s/%s.txt", o->dir, name);
        const char *base = strrchr(name, '/');
        if (base)
            snprintf(out[n++], 4096, "%s/%s.txt", o->dir, base + 1);
    }
    json_decref(meta);
    if (rec->path) {
        const char *base = strrchr(rec->path, '/');
        snprintf(name, sizeof name, "%s", base ? base + 1 : rec->path);
        strip_ext(name);
        snprintf(out[n++], 4096, "%s/%s/%s.txt", o->dir, rec->identity, name);
    }
    snprintf(out[n++], 4096, "%s/%s.txt", o->dir, rec->identity);
    return n;
}

/* Reads the boxes of `path`; the first, or the union of all. */
static int read_boxes(const char *path, int union_mode, int w, int h, cb_box *box, int *count)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cb_host->set_error("%s: cannot open: %s", path, strerror(errno));
        return AIGTATT_ERR_IO;
    }
    char line[1024];
    size_t lineno = 0;
    int n = 0, rc = AIGTATT_OK;
    cb_box u = {0, 0, 0, 0};
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            cb_host->set_error("%s:%zu: line too long", path, lineno);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '\n' || *s == '\r' || *s == '#')
            continue;
        for (char *c = s; *c; c++)
            if (*c == ',')
                *c = ' ';
        double v[4];
        char *end = s;
        int k = 0;
        for (; k < 4; k++) {
            char *next;
            errno = 0;
            v[k] = strtod(end, &next);
            if (next == end || errno || !isfinite(v[k]))
                break;
            end = next;
        }
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (k < 4 || *end) {
            s[strcspn(s, "\r\n")] = '\0';
            cb_host->set_error("%s:%zu: expected four numbers 'x1 y1 x2 y2', got '%s'", path, lineno, s);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (v[2] <= v[0] || v[3] <= v[1]) {
            cb_host->set_error("%s:%zu: the box %g %g %g %g is empty (want x1 < x2 and y1 < y2)", path, lineno,
                               v[0], v[1], v[2], v[3]);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        if (v[2] <= 0 || v[3] <= 0 || v[0] >= w || v[1] >= h) {
            cb_host->set_error("%s:%zu: the box %g %g %g %g lies outside the %dx%d image", path, lineno, v[0],
                               v[1], v[2], v[3], w, h);
            rc = AIGTATT_ERR_FORMAT;
            break;
        }
        /* Partly outside is common (a tattoo cut by the frame): clip it. */
        cb_box b = {(int)fmax(0, floor(v[0])), (int)fmax(0, floor(v[1])), (int)fmin(w, ceil(v[2])),
                    (int)fmin(h, ceil(v[3]))};
        if (n == 0)
            u = b;
        else if (union_mode) {
            u.x1 = b.x1 < u.x1 ? b.x1 : u.x1;
            u.y1 = b.y1 < u.y1 ? b.y1 : u.y1;
            u.x2 = b.x2 > u.x2 ? b.x2 : u.x2;
            u.y2 = b.y2 > u.y2 ? b.y2 : u.y2;
        }
        n++;
    }
    if (rc == AIGTATT_OK && ferror(f)) {
        cb_host->set_error("%s: read error", path);
        rc = AIGTATT_ERR_IO;
    }
    fclose(f);
    if (rc == AIGTATT_OK && n == 0) {
        cb_host->set_error("%s: no boxes (want one 'x1 y1 x2 y2' a line)", path);
        rc = AIGTATT_ERR_FORMAT;
    }
    if (rc == AIGTATT_OK) {
        *box = u;
        *count = n;
    }
    return rc;
}

static int bbox_find(void *ctx, const aigtatt_record *rec, const char *path, const aigtatt_image *img, cb_box *box,
                     char *meta, size_t meta_size)
{
    const bbox_opts *o = ctx;
    char cand[4][4096];
    int nc = candidates(o, rec, cand), found = -1;
    for (int i = 0; i < nc && found < 0; i++)
        if (access(cand[i], R_OK) == 0)
            found = i;
    if (found < 0) {
        if (o->on_missing == 1) {
            cb_host->log(AIGTATT_LOG_WARN, "%s: no annotation (looked for %s), skipped", path, cand[0]);
            return CB_SKIP;
        }
        if (o->on_missing == 2) {
            *box = (cb_box){0, 0, img->width, img->height};
            snprintf(meta, meta_size, "\"annotation\":null");
            return AIGTATT_OK;
        }
        cb_host->set_error("no annotation for %s: looked for %s%s%s", path, cand[0], nc > 1 ? " ... " : "",
                           nc > 1 ? cand[nc - 1] : "");
        return AIGTATT_ERR_INVALID;
    }
    int count = 0;
    int rc = read_boxes(cand[found], o->union_mode, img->width, img->height, box, &count);
    if (rc)
        return rc;
    const char *base = cand[found] + strlen(o->dir) + 1;
    json_t *s = json_string(base);
    char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    snprintf(meta, meta_size, "\"annotation\":%s,\"boxes\":%d", quoted ? quoted : "null", count);
    free(quoted);
    json_decref(s);
    return AIGTATT_OK;
}

static int bbox_run(aigtatt_run *run)
{
    const aigtatt_params *p = cb_host->run_params(run);
    bbox_opts o;
    o.dir = cb_host->param_string(p, "annotations");
    o.union_mode = !strcmp(cb_host->param_string(p, "box"), "union");
    const char *m = cb_host->param_string(p, "on_missing");
    o.on_missing = !strcmp(m, "skip") ? 1 : !strcmp(m, "full") ? 2 : 0;
    return cb_run(run, bbox_find, &o);
}

static const aigtatt_param_desc bbox_params[] = {
    {.name = "annotations", .type = AIGTATT_PARAM_PATH, .default_value = NULL,
     .doc = "Folder of .txt files, one box 'x1 y1 x2 y2' (pixels, x2/y2 exclusive; spaces or commas) a line; "
            "blank lines and '#' comments are skipped. For an image first read from 'alice/3.jpg' it tries "
            "alice/3.txt, 3.txt, <identity>/<file>.txt, then <identity>.txt."},
    {.name = "box", .type = AIGTATT_PARAM_ENUM, .default_value = "first", .choices = "first|union",
     .doc = "Crop to the first box (the main tattoo) or to the union of every box."},
    {.name = "margin", .type = AIGTATT_PARAM_FLOAT, .default_value = "0", .has_min = 1, .min = 0, .has_max = 1,
     .max = 2, .doc = "Extra space on every side, as a fraction of the box's longer side."},
    {.name = "square", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Make the crop square (the longer side wins)."},
    {.name = "on_missing", .type = AIGTATT_PARAM_ENUM, .default_value = "fail", .choices = "fail|skip|full",
     .doc = "An image without an annotation file stops the node (fail), is dropped (skip) or is kept whole "
            "(full)."},
    {.name = "keep_original", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Copy the originals through as <identity>/original.<ext>, next to the crops."},
    {.name = NULL}};

static const aigtatt_port_desc bbox_in[] = {
    {.name = "images", .type = "images", .doc = "Images with role 'original'."}, {.name = NULL}};
static const aigtatt_port_desc bbox_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/cropped.png (role 'cropped', source = the original, box and annotation file in meta) "
            "and the originals."},
    {.name = NULL}};

static const aigtatt_node_vtable bbox_vt = {.struct_size = sizeof(aigtatt_node_vtable), .run = bbox_run};

const aigtatt_component_desc cb_bbox_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_CROPPER,
    .name = "crop.bbox",
    .version = "1.0.0",
    .summary = "Crops by annotation files with x1 y1 x2 y2 boxes",
    .doc = "For tattoo databases that come with boxes. A malformed line, an empty box or a box outside the "
           "image is an error naming file:line; boxes partly outside are clipped. The cache key covers the "
           "annotation files' names, sizes and modification times, so editing one reruns the node.",
    AIGTATT_PARAMS(bbox_params),
    AIGTATT_PORTS(bbox_in, bbox_out),
    .vtable = &bbox_vt,
};
