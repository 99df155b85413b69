/* Internal interface of the crop plugin (prefix cb_). */
#ifndef CB_H
#define CB_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>

extern const aigtatt_host *cb_host;
extern const aigtatt_component_desc cb_ink_desc;
extern const aigtatt_component_desc cb_bbox_desc;

/* A box in pixels, x2/y2 exclusive. */
typedef struct cb_box {
    int x1, y1, x2, y2;
} cb_box;

static inline uint8_t *cb_px(const aigtatt_image *img, int x, int y)
{
    return img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->channels;
}

/* ---- the node skeleton shared by both croppers (cb_common.c) ----------- */

/* Finds the box of one image; `img` is RGB. Writes what it found out as a
 * JSON object's members (no braces) into `meta`, e.g. "\"threshold\":42".
 * Returns AIGTATT_OK, or a status with an error naming the file. A
 * cropper that wants the record skipped returns CB_SKIP (after logging). */
#define CB_SKIP 1
typedef int (*cb_find_fn)(void *ctx, const aigtatt_record *rec, const char *path, const aigtatt_image *img,
                          cb_box *box, char *meta, size_t meta_size);

/* Runs a cropper: for every record with role "original", loads the image,
 * asks `find` for the box, adds the margin, saves <identity>/cropped.png
 * (cropped_<n> when an identity has several originals) and its record;
 * copies the originals through when the node's `keep_original` is set. */
int cb_run(aigtatt_run *run, cb_find_fn find, void *ctx);

/* Grows `b` by `margin` times its longer side on every side, optionally to
 * a square, and clamps it to w x h. */
cb_box cb_grow(cb_box b, double margin, int square, int w, int h);

/* Loads RGB, compositing alpha over white. */
int cb_load_rgb(const char *path, aigtatt_image **out);

/* ---- masks (cb_mask.c) ------------------------------------------------- */

/* Area-average shrink of an RGB image to fit max_side (a copy if smaller). */
aigtatt_image *cb_shrink(const aigtatt_image *in, int max_side, double *scale);
/* Otsu's threshold of a 256-bin histogram. */
int cb_otsu(const uint64_t hist[256]);
/* Binary dilation / erosion with a (2r+1)^2 square, in place. */
int cb_dilate(uint8_t *m, int w, int h, int r);
int cb_erode(uint8_t *m, int w, int h, int r);

typedef struct cb_comp {
    size_t area;
    cb_box box;
} cb_comp;
/* 8-connected components of mask `m`; *out holds *n of them, largest
 * first. */
int cb_components(const uint8_t *m, int w, int h, cb_comp **out, size_t *n);

#endif
