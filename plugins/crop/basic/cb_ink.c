/* crop.ink: finds the tattoo by separating ink from skin (or paper).
 *
 * Ink is darker than the skin around it and often more saturated, and
 * skin is lit unevenly, so the measure is local: each pixel's darkness
 * below an estimate of the bright skin near it (a coarse grid of high
 * percentiles, max-filtered so that large black areas do not become their
 * own background), plus chroma above the image's median. Otsu's threshold,
 * lowered by `sensitivity` for faint lines, splits that measure into ink
 * and skin (never below `min_contrast`, which keeps noise on bare skin from
 * counting as ink). Lone specks are dropped, a closing joins the strokes
 * of one design, and the box of the
 * largest component (or of every sizeable one) is the tattoo. The work is
 * done on a copy no larger than `work_size` pixels a side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cb.h"

typedef struct ink_opts {
    int work_size, min_contrast, union_mode, on_empty; /* 0 full, 1 skip, 2 fail */
    double chroma_weight, close_frac, min_component, sensitivity;
} ink_opts;

static double pct_of_hist(const unsigned *hist, unsigned total, double pct)
{
    unsigned want = (unsigned)(pct * total), acc = 0;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc > want)
            return v;
    }
    return 255;
}

/* Bright-skin estimate per pixel of a w x h luma plane. */
static float *background(const uint8_t *luma, int w, int h)
{
    int bs = (w > h ? w : h) / 16;
    bs = bs < 8 ? 8 : bs;
    int gw = (w + bs - 1) / bs, gh = (h + bs - 1) / bs;
    float *grid = malloc((size_t)gw * gh * sizeof *grid), *grid2 = malloc((size_t)gw * gh * sizeof *grid2);
    float *bg = malloc((size_t)w * h * sizeof *bg);
    if (!grid || !grid2 || !bg) {
        free(grid);
        free(grid2);
        free(bg);
        return NULL;
    }
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            unsigned hist[256] = {0}, n = 0;
            for (int y = gy * bs; y < (gy + 1) * bs && y < h; y++)
                for (int x = gx * bs; x < (gx + 1) * bs && x < w; x++, n++)
                    hist[luma[(size_t)y * w + x]]++;
            grid[gy * gw + gx] = (float)pct_of_hist(hist, n, 0.9);
        }
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            float m = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int x = gx + dx, y = gy + dy;
                    if (x >= 0 && y >= 0 && x < gw && y < gh && grid[y * gw + x] > m)
                        m = grid[y * gw + x];
                }
            grid2[gy * gw + gx] = m;
        }
    for (int y = 0; y < h; y++) {
        double fy = (y + 0.5) / bs - 0.5;
        int y0 = (int)floor(fy);
        double ty = fy - y0;
        int ya = y0 < 0 ? 0 : y0 >= gh ? gh - 1 : y0, yb = y0 + 1 >= gh ? gh - 1 : y0 + 1 < 0 ? 0 : y0 + 1;
        for (int x = 0; x < w; x++) {
            double fx = (x + 0.5) / bs - 0.5;
            int x0 = (int)floor(fx);
            double tx = fx - x0;
            int xa = x0 < 0 ? 0 : x0 >= gw ? gw - 1 : x0, xb = x0 + 1 >= gw ? gw - 1 : x0 + 1 < 0 ? 0 : x0 + 1;
            double top = grid2[ya * gw + xa] * (1 - tx) + grid2[ya * gw + xb] * tx;
            double bot = grid2[yb * gw + xa] * (1 - tx) + grid2[yb * gw + xb] * tx;
            bg[(size_t)y * w + x] = (float)(top * (1 - ty) + bot * ty);
        }
    }
    free(grid);
    free(grid2);
    return bg;
}

/* Drops set pixels with fewer than two set neighbours: lone noise pixels
 * and pairs go, while a stroke one pixel wide stays (an opening would
 * erase the fine lines a fineline tattoo consists of). */
static void despeckle(uint8_t *m, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!(m[(size_t)y * w + x] & 1))
                continue;
            int nb = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if ((dx || dy) && nx >= 0 && ny >= 0 && nx < w && ny < h)
                        nb += m[(size_t)ny * w + nx] & 1;
                }
            if (nb < 2)
                m[(size_t)y * w + x] |= 2; /* marked; cleared below so the scan sees the original */
        }
    for (size_t i = 0; i < (size_t)w * h; i++)
        m[i] = m[i] == 1;
}

static int ink_find(void *ctx, const aigtatt_record *rec, const char *path, const aigtatt_image *img, cb_box *box,
                    char *meta, size_t meta_size)
{
    const ink_opts *o = ctx;
    double scale = 1;
    aigtatt_image *small = cb_shrink(img, o->work_size, &scale);
    if (!small)
        return AIGTATT_ERR_NOMEM;
    const int w = small->width, h = small->height;
    size_t n = (size_t)w * h;
    uint8_t *luma = malloc(n), *chroma = malloc(n), *mask = malloc(n);
    float *bg = NULL;
    cb_comp *comps = NULL;
    size_t nc = 0;
    int rc = AIGTATT_ERR_NOMEM;
    if (!luma || !chroma || !mask)
        goto out;
    unsigned chist[256] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = cb_px(small, x, y);
            int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
            int mn = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
            luma[(size_t)y * w + x] = (uint8_t)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
            chroma[(size_t)y * w + x] = (uint8_t)(mx - mn);
            chist[mx - mn]++;
        }
    double med_chroma = pct_of_hist(chist, (unsigned)n, 0.5);
    if (!(bg = background(luma, w, h)))
        goto out;
    uint64_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) {
        double m = (bg[i] - luma[i]) + o->chroma_weight * fmax(0.0, chroma[i] - med_chroma);
        uint8_t v = m <= 0 ? 0 : m >= 255 ? 255 : (uint8_t)m;
        mask[i] = v; /* the measure for now; the mask below */
        hist[v]++;
    }
    /* Otsu splits solid ink from skin; thin or faded strokes sit between
     * the two classes, so the threshold is lowered by `sensitivity`. */
    int otsu = cb_otsu(hist);
    int t = (int)lround(otsu * (1 - o->sensitivity));
    t = t > o->min_contrast ? t : o->min_contrast;
    for (size_t i = 0; i < n; i++)
        mask[i] = mask[i] > t;
    int rclose = (int)lround(o->close_frac * (w > h ? w : h));
    despeckle(mask, w, h);
    if ((rc = cb_dilate(mask, w, h, rclose)) ||
        (rc = cb_erode(mask, w, h, rclose)) || (rc = cb_components(mask, w, h, &comps, &nc)))
        goto out;
    size_t kept = 0;
    cb_box b = {w, h, 0, 0};
    for (size_t i = 0; i < nc; i++) {
        if (i > 0 && (!o->union_mode || comps[i].area < o->min_component * comps[0].area))
            break;
        kept++;
        b.x1 = comps[i].box.x1 < b.x1 ? comps[i].box.x1 : b.x1;
        b.y1 = comps[i].box.y1 < b.y1 ? comps[i].box.y1 : b.y1;
        b.x2 = comps[i].box.x2 > b.x2 ? comps[i].box.x2 : b.x2;
        b.y2 = comps[i].box.y2 > b.y2 ? comps[i].box.y2 : b.y2;
    }
    snprintf(meta, meta_size, "\"threshold\":%d,\"otsu\":%d,\"components\":%zu,\"kept\":%zu,\"fallback\":%s", t,
             otsu, nc, kept, kept ? "false" : "true");
    rc = AIGTATT_OK;
    if (kept) {
        /* Back to full resolution, rounding outwards; per axis, as the two
         * sides of the reduced copy were rounded separately. */
        const double sx = (double)img->width / w, sy = (double)img->height / h;
        box->x1 = (int)floor(b.x1 * sx);
        box->y1 = (int)floor(b.y1 * sy);
        box->x2 = (int)ceil(b.x2 * sx);
        box->y2 = (int)ceil(b.y2 * sy);
        box->x2 = box->x2 > img->width ? img->width : box->x2;
        box->y2 = box->y2 > img->height ? img->height : box->y2;
    } else if (o->on_empty == 2) {
        cb_host->set_error("%s: no ink found (threshold %d); is there a tattoo in '%s'?", path, t, rec->id);
        rc = AIGTATT_ERR_INVALID;
    } else if (o->on_empty == 1) {
        cb_host->log(AIGTATT_LOG_WARN, "%s: no ink found, skipped", path);
        rc = CB_SKIP;
    } else {
        cb_host->log(AIGTATT_LOG_WARN, "%s: no ink found, keeping the whole image", path);
        *box = (cb_box){0, 0, img->width, img->height};
    }
out:
    if (rc == AIGTATT_ERR_NOMEM)
        cb_host->set_error("out of memory");
    free(luma);
    free(chroma);
    free(mask);
    free(bg);
    free(comps);
    cb_host->image_free(small);
    return rc;
}

static int ink_run(aigtatt_run *run)
{
    const aigtatt_params *p = cb_host->run_params(run);
    ink_opts o;
    o.work_size = (int)cb_host->param_int(p, "work_size");
    o.min_contrast = (int)cb_host->param_int(p, "min_contrast");
    o.union_mode = !strcmp(cb_host->param_string(p, "mode"), "union");
    const char *e = cb_host->param_string(p, "on_empty");
    o.on_empty = !strcmp(e, "skip") ? 1 : !strcmp(e, "fail") ? 2 : 0;
    o.chroma_weight = cb_host->param_float(p, "chroma_weight");
    o.close_frac = cb_host->param_float(p, "close");
    o.min_component = cb_host->param_float(p, "min_component");
    o.sensitivity = cb_host->param_float(p, "sensitivity");
    return cb_run(run, ink_find, &o);
}

static const aigtatt_param_desc ink_params[] = {
    {.name = "margin", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.08", .has_min = 1, .min = 0, .has_max = 1,
     .max = 2, .doc = "Space kept around the tattoo on every side, as a fraction of the box's longer side."},
    {.name = "square", .type = AIGTATT_PARAM_BOOL, .default_value = "false",
     .doc = "Make the crop square (the longer side wins), as most recognition models want."},
    {.name = "mode", .type = AIGTATT_PARAM_ENUM, .default_value = "union", .choices = "union|largest",
     .doc = "Crop to the largest ink region (largest) or to every region at least `min_component` of its size "
            "(union: designs made of separate parts)."},
    {.name = "min_component", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.05", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "In union mode, regions smaller than this fraction of the largest are "
                                    "ignored (stray marks, hair, moles)."},
    {.name = "close", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.03", .has_min = 1, .min = 0, .has_max = 1,
     .max = 0.5, .doc = "Radius of the closing that joins strokes into one region, as a fraction of the image's "
                        "longer side (at work_size)."},
    {.name = "min_contrast", .type = AIGTATT_PARAM_INT, .default_value = "30", .has_min = 1, .min = 0,
     .has_max = 1, .max = 255, .doc = "Least darkness below the surrounding skin (grey levels) that counts as "
                                      "ink, whatever Otsu's threshold says."},
    {.name = "sensitivity", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.5", .has_min = 1, .min = 0,
     .has_max = 1, .max = 1, .doc = "The ink threshold is Otsu's times (1 - sensitivity), never below "
                                   "min_contrast: higher finds fainter and thinner lines."},
    {.name = "chroma_weight", .type = AIGTATT_PARAM_FLOAT, .default_value = "0.5", .has_min = 1, .min = 0,
     .has_max = 1, .max = 4, .doc = "How much colour (saturation above the image's median) counts as ink, "
                                    "for colour tattoos."},
    {.name = "work_size", .type = AIGTATT_PARAM_INT, .default_value = "512", .has_min = 1, .min = 32, .has_max = 1,
     .max = 8192, .doc = "The mask is computed on a copy at most this many pixels a side (faster, and "
                         "insensitive to pores and sensor noise)."},
    {.name = "on_empty", .type = AIGTATT_PARAM_ENUM, .default_value = "full", .choices = "full|skip|fail",
     .doc = "When no ink is found: keep the whole image as the crop (full), drop the image (skip), or stop."},
    {.name = "keep_original", .type = AIGTATT_PARAM_BOOL, .default_value = "true",
     .doc = "Copy the originals through as <identity>/original.<ext>, next to the crops."},
    {.name = NULL}};

static const aigtatt_port_desc crop_in[] = {
    {.name = "images", .type = "images", .doc = "Images with role 'original'."}, {.name = NULL}};
static const aigtatt_port_desc crop_out[] = {
    {.name = "images", .type = "images",
     .doc = "<identity>/cropped.png (role 'cropped', source = the original, bbox in meta) and the originals."},
    {.name = NULL}};

static const aigtatt_node_vtable ink_vt = {.struct_size = sizeof(aigtatt_node_vtable), .run = ink_run};

const aigtatt_component_desc cb_ink_desc = {
    .struct_size = sizeof(aigtatt_component_desc),
    .kind = AIGTATT_KIND_CROPPER,
    .name = "crop.ink",
    .version = "1.0.1",
    .summary = "Crops to the tattoo by separating ink from skin",
    .doc = "Local darkness below the surrounding skin plus colour, Otsu's threshold, despeckling and a closing, "
           "then the largest connected region or the union of the sizeable ones, plus a margin. Works on "
           "designs on white and on tattoos photographed on skin; records the box and threshold in meta.",
    AIGTATT_PARAMS(ink_params),
    AIGTATT_PORTS(crop_in, crop_out),
    .vtable = &ink_vt,
};
