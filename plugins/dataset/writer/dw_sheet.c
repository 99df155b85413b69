/* The contact sheet: a grid PNG so that a person can look at a dataset of
 * thousands of images in one glance. */
#include <math.h>
#include <string.h>
#include "dw.h"

static uint8_t *px(const aigtatt_image *img, int x, int y)
{
    return img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->channels;
}

/* Draws `img` into the cell at (cx, cy), fitted inside thumb x thumb by
 * area averaging (box filter: no aliasing on fine line work). */
static void paste(aigtatt_image *sheet, const aigtatt_image *img, int cx, int cy, int thumb)
{
    double s = fmin((double)thumb / img->width, (double)thumb / img->height);
    int w = (int)fmax(1, lround(img->width * s)), h = (int)fmax(1, lround(img->height * s));
    int ox = cx + (thumb - w) / 2, oy = cy + (thumb - h) / 2;
    const int c = img->channels;
    for (int y = 0; y < h; y++) {
        int y0 = (int)(y / s), y1 = (int)ceil((y + 1) / s);
        y1 = y1 > img->height ? img->height : y1;
        y1 = y1 <= y0 ? y0 + 1 : y1;
        for (int x = 0; x < w; x++) {
            int x0 = (int)(x / s), x1 = (int)ceil((x + 1) / s);
            x1 = x1 > img->width ? img->width : x1;
            x1 = x1 <= x0 ? x0 + 1 : x1;
            unsigned long acc[3] = {0, 0, 0}, n = 0;
            for (int sy = y0; sy < y1; sy++)
                for (int sx = x0; sx < x1; sx++, n++) {
                    const uint8_t *p = px(img, sx, sy);
                    for (int k = 0; k < 3; k++)
                        acc[k] += p[c >= 3 ? k : 0];
                }
            uint8_t *d = px(sheet, ox + x, oy + y);
            for (int k = 0; k < 3; k++)
                d[k] = (uint8_t)((acc[k] + n / 2) / n);
        }
    }
}

int dw_contact_sheet(const char *out_path, char *const *paths, int rows, int cols, int thumb)
{
    const int gap = 4;
    aigtatt_image *sheet = dw_host->image_new(cols * (thumb + gap) + gap, rows * (thumb + gap) + gap, 3);
    if (!sheet)
        return AIGTATT_ERR_NOMEM;
    memset(sheet->data, 96, (size_t)sheet->height * sheet->stride);
    int rc = AIGTATT_OK;
    for (int r = 0; r < rows && rc == AIGTATT_OK; r++)
        for (int c = 0; c < cols; c++) {
            const char *p = paths[r * cols + c];
            if (!p)
                continue;
            /* DCT scaling: a thumbnail never needs a full-size JPEG decode. */
            /* RGB, transparency over white: as every other stage shows it */
            aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3, .min_width = thumb,
                                         .min_height = thumb, .over_white = 1};
            aigtatt_image *img = NULL;
            if ((rc = dw_host->image_load(p, &o, &img)))
                break;
            paste(sheet, img, gap + c * (thumb + gap), gap + r * (thumb + gap), thumb);
            dw_host->image_free(img);
        }
    if (rc == AIGTATT_OK)
        rc = dw_host->image_save(sheet, out_path, 0);
    dw_host->image_free(sheet);
    return rc;
}
