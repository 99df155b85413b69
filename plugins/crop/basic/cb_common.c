/* What both croppers share: the loop over originals, margins, file names
 * and records. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cb.h"

typedef struct cb_item {
    size_t rec;
    const char *identity, *id; /* borrowed from the set, for sorting */
    size_t ordinal, total;     /* among the identity's originals */
} cb_item;

typedef struct cb_job {
    aigtatt_run *run;
    const aigtatt_set *set;
    const char *out_dir;
    cb_item *items;
    size_t n;
    cb_find_fn find;
    void *ctx;
    double margin;
    int square, keep_original;
    aigtatt_progress *progress;
} cb_job;

static int cmp_item(const void *a, const void *b)
{
    const cb_item *x = a, *y = b;
    int c = strcmp(x->identity, y->identity);
    return c ? c : strcmp(x->id, y->id);
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

cb_box cb_grow(cb_box b, double margin, int square, int w, int h)
{
    double bw = b.x2 - b.x1, bh = b.y2 - b.y1, m = margin * fmax(bw, bh);
    double cx = (b.x1 + b.x2) / 2.0, cy = (b.y1 + b.y2) / 2.0;
    double hw = bw / 2 + m, hh = bh / 2 + m;
    if (square)
        hw = hh = fmax(hw, hh);
    cb_box r = {(int)floor(cx - hw), (int)floor(cy - hh), (int)ceil(cx + hw), (int)ceil(cy + hh)};
    if (square) {
        /* Keep it square where the image allows: shift before clipping. */
        if (r.x1 < 0) { r.x2 -= r.x1; r.x1 = 0; }
        if (r.y1 < 0) { r.y2 -= r.y1; r.y1 = 0; }
        if (r.x2 > w) { r.x1 -= r.x2 - w; r.x2 = w; }
        if (r.y2 > h) { r.y1 -= r.y2 - h; r.y2 = h; }
    }
    r.x1 = r.x1 < 0 ? 0 : r.x1;
    r.y1 = r.y1 < 0 ? 0 : r.y1;
    r.x2 = r.x2 > w ? w : r.x2;
    r.y2 = r.y2 > h ? h : r.y2;
    /* Never empty: a box outside the image becomes its nearest pixel. */
    if (r.x2 <= r.x1) {
        r.x1 = r.x1 >= w ? w - 1 : r.x1;
        r.x2 = r.x1 + 1;
    }
    if (r.y2 <= r.y1) {
        r.y1 = r.y1 >= h ? h - 1 : r.y1;
        r.y2 = r.y1 + 1;
    }
    return r;
}

int cb_load_rgb(const char *path, aigtatt_image **out)
{
    /* Transparent means "no ink", which reads as white paper. */
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3, .over_white = 1};
    return cb_host->image_load(path, &o, out);
}

static int mkdir_ok(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return AIGTATT_OK;
    cb_host->set_error("cannot create folder %s: %s", path, strerror(errno));
    return AIGTATT_ERR_IO;
}

static void ext_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    buf[0] = '\0';
    if (!dot || (slash && dot < slash) || strlen(dot) >= size)
        return;
    size_t i = 0;
    for (; dot[i]; i++)
        buf[i] = (char)(dot[i] >= 'A' && dot[i] <= 'Z' ? dot[i] - 'A' + 'a' : dot[i]);
    buf[i] = '\0';
}

static int one(void *ctx, size_t i)
{
    cb_job *j = ctx;
    const cb_item *it = &j->items[i];
    const aigtatt_record *r = cb_host->set_record(j->set, it->rec);
    if (cb_host->cancelled())
        return AIGTATT_ERR_CANCELLED;
    char path[4096], dir[4096], suffix[32] = "", rel[1024], file[4096], id[1024], ext[16];
    int rc = cb_host->set_path(j->set, it->rec, path, sizeof path);
    if (rc)
        return rc;
    if (it->total > 1)
        snprintf(suffix, sizeof suffix, "_%zu", it->ordinal + 1);
    snprintf(dir, sizeof dir, "%s/%s", j->out_dir, r->identity);
    if ((rc = mkdir_ok(dir)))
        return rc;
    if (j->keep_original) {
        ext_of(r->path, ext, sizeof ext);
        snprintf(rel, sizeof rel, "%s/original%s%s", r->identity, suffix, ext);
        snprintf(file, sizeof file, "%s/%s", j->out_dir, rel);
        if ((rc = cb_host->link_file(path, file)))
            return rc;
        aigtatt_record c = *r;
        c.struct_size = sizeof c;
        c.path = rel;
        if ((rc = cb_host->output_add(j->run, "images", &c)))
            return rc;
    }
    aigtatt_image *img = NULL, *crop = NULL;
    if ((rc = cb_load_rgb(path, &img)))
        return rc;
    cb_box box = {0, 0, img->width, img->height};
    char found[2048] = "";
    rc = j->find(j->ctx, r, path, img, &box, found, sizeof found);
    if (rc == CB_SKIP) {
        cb_host->image_free(img);
        cb_host->progress_add(j->progress, 0, 1);
        return AIGTATT_OK;
    }
    if (rc == AIGTATT_OK) {
        box = cb_grow(box, j->margin, j->square, img->width, img->height);
        crop = cb_host->image_new(box.x2 - box.x1, box.y2 - box.y1, 3);
        rc = crop ? AIGTATT_OK : AIGTATT_ERR_NOMEM;
    }
    if (rc == AIGTATT_OK) {
        for (int y = box.y1; y < box.y2; y++)
            memcpy(cb_px(crop, 0, y - box.y1), cb_px(img, box.x1, y), (size_t)(box.x2 - box.x1) * 3);
        snprintf(rel, sizeof rel, "%s/cropped%s.png", r->identity, suffix);
        snprintf(id, sizeof id, "%s/cropped%s", r->identity, suffix);
        snprintf(file, sizeof file, "%s/%s", j->out_dir, rel);
        rc = cb_host->image_save(crop, file, 0);
    }
    if (rc == AIGTATT_OK) {
        char meta[3072];
        snprintf(meta, sizeof meta, "{\"bbox\":[%d,%d,%d,%d],\"image_size\":[%d,%d]%s%s}", box.x1, box.y1, box.x2,
                 box.y2, img->width, img->height, found[0] ? "," : "", found);
        aigtatt_record rec = AIGTATT_RECORD_INIT;
        rec.id = id;
        rec.identity = r->identity;
        rec.role = "cropped";
        rec.path = rel;
        rec.source = r->id;
        rec.split = r->split;
        rec.text = r->text;
        rec.meta_json = meta;
        rc = cb_host->output_add(j->run, "images", &rec);
    }
    cb_host->image_free(img);
    cb_host->image_free(crop);
    cb_host->progress_add(j->progress, rc == AIGTATT_OK, rc != AIGTATT_OK);
    return rc;
}

int cb_run(aigtatt_run *run, cb_find_fn find, void *ctx)
{
    const aigtatt_params *p = cb_host->run_params(run);
    cb_job j = {0};
    j.run = run;
    j.out_dir = cb_host->run_output_dir(run, "images");
    j.find = find;
    j.ctx = ctx;
    j.margin = cb_host->param_float(p, "margin");
    j.square = cb_host->param_bool(p, "square");
    j.keep_original = cb_host->param_bool(p, "keep_original");
    aigtatt_set *set = NULL;
    int rc = cb_host->set_open(run, "images", &set);
    if (rc)
        return rc;
    j.set = set;
    size_t n = cb_host->set_count(set);
    j.items = calloc(n ? n : 1, sizeof *j.items);
    if (!j.items) {
        cb_host->set_close(set);
        cb_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const aigtatt_record *r = cb_host->set_record(set, i);
        if (!r->path || !r->role || strcmp(r->role, "original"))
            continue;
        if (!safe_name(r->identity)) {
            cb_host->set_error("input record '%s' has identity '%s', which cannot be a folder name", r->id,
                               r->identity ? r->identity : "(none)");
            rc = AIGTATT_ERR_INVALID;
            goto out;
        }
        j.items[j.n].rec = i;
        j.items[j.n].identity = r->identity;
        j.items[j.n++].id = r->id;
    }
    if (j.n == 0) {
        cb_host->set_error("the input has no images with role 'original' to crop");
        rc = AIGTATT_ERR_INVALID;
        goto out;
    }
    /* Number the originals of each identity: cropped, cropped_2, ... */
    qsort(j.items, j.n, sizeof *j.items, cmp_item);
    for (size_t i = 0, start = 0; i <= j.n; i++) {
        if (i < j.n && !strcmp(j.items[i].identity, j.items[start].identity))
            continue;
        for (size_t k = start; k < i; k++) {
            j.items[k].ordinal = k - start;
            j.items[k].total = i - start;
        }
        start = i;
    }
    j.progress = cb_host->progress_begin("crops", j.n);
    rc = cb_host->parallel_for(j.n, one, &j);
    cb_host->progress_end(j.progress);
out:
    free(j.items);
    cb_host->set_close(set);
    return rc;
}
