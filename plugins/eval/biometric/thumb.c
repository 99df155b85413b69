/* Thumbnails for report.html: an RGBA image scaled down to fit a square
 * box by area averaging (each output pixel is the exact, coverage-weighted
 * mean of the source pixels under it), in linear light and with
 * premultiplied alpha, so that fine lines neither darken nor bleed the
 * colour of transparent pixels; then encoded as PNG by cairo. */
#include "plot.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct membuf {
    unsigned char *d;
    size_t n, cap;
    int failed;
} membuf;

static cairo_status_t sink(void *ctx, const unsigned char *data, unsigned int len)
{
    membuf *m = ctx;
    if (m->n + len > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 16384) + len;
        unsigned char *d = realloc(m->d, cap);
        if (!d) {
            m->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        m->d = d;
        m->cap = cap;
    }
    memcpy(m->d + m->n, data, len);
    m->n += len;
    return CAIRO_STATUS_SUCCESS;
}

static int surface_png(cairo_surface_t *surf, unsigned char **png, size_t *len)
{
    membuf m = {0};
    if (cairo_surface_write_to_png_stream(surf, sink, &m) != CAIRO_STATUS_SUCCESS || m.failed) {
        free(m.d);
        return -1;
    }
    *png = m.d;
    *len = m.n;
    return 0;
}

static float srgb_to_lin(int v)
{
    double c = v / 255.0;
    return (float)(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4));
}

static int lin_to_srgb(double l)
{
    if (!(l > 0))
        return 0;
    if (l >= 1)
        return 255;
    double c = l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055;
    return (int)lround(c * 255);
}

/* Coverage of source cells [i, i + 1) by destination cell k of n over a
 * source of length m: span [k m / n, (k + 1) m / n). */
typedef struct span {
    int first, count; /* source cells */
    float *w;         /* their weights, summing to 1 */
} span;

static int spans(int m, int n, span *sp, float *wbuf)
{
    double scale = (double)m / n;
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        double a = k * scale, b = (k + 1) * scale;
        int i0 = (int)floor(a), i1 = (int)ceil(b);
        if (i1 > m)
            i1 = m;
        sp[k].first = i0;
        sp[k].count = i1 - i0;
        sp[k].w = wbuf + at;
        for (int i = i0; i < i1; i++) {
            double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
            wbuf[at++] = (float)((hi - lo) / scale);
        }
    }
    return 0;
}

int bm_thumb_png(const unsigned char *rgba, int sw, int sh, int box, unsigned char **png,
                 size_t *len, int *tw_out, int *th_out)
{
    *png = NULL;
    *len = 0;
    if (!rgba || sw < 1 || sh < 1 || box < 1)
        return -1;
    double s = fmin(1.0, fmin((double)box / sw, (double)box / sh));
    int tw = (int)lround(sw * s), th = (int)lround(sh * s);
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    /* Each destination cell covers at most ceil(scale) + 1 source cells. */
    size_t wx = (size_t)tw * ((size_t)(sw / tw) + 2), wy = (size_t)th * ((size_t)(sh / th) + 2);
    span *sx = malloc((size_t)tw * sizeof *sx), *sy = malloc((size_t)th * sizeof *sy);
    float *wbx = malloc(wx * sizeof *wbx), *wby = malloc(wy * sizeof *wby);
    /* Horizontal pass: sh rows of tw premultiplied linear pixels. */
    float *tmp = malloc((size_t)sh * (size_t)tw * 4 * sizeof *tmp);
    float lut[256];
    int rc = -1, opaque = 1;
    cairo_surface_t *surf = NULL;
    if (!sx || !sy || !wbx || !wby || !tmp)
        goto done;
    for (int i = 0; i < 256; i++)
        lut[i] = srgb_to_lin(i);
    spans(sw, tw, sx, wbx);
    spans(sh, th, sy, wby);
    for (int y = 0; y < sh; y++) {
        const unsigned char *row = rgba + (size_t)y * (size_t)sw * 4;
        for (int x = 0; x < tw; x++) {
            float acc[4] = {0, 0, 0, 0};
            for (int q = 0; q < sx[x].count; q++) {
                const unsigned char *p = row + (size_t)(sx[x].first + q) * 4;
                float w = sx[x].w[q], a = p[3] / 255.0f;
                acc[0] += w * a * lut[p[0]];
                acc[1] += w * a * lut[p[1]];
                acc[2] += w * a * lut[p[2]];
                acc[3] += w * a;
                opaque &= p[3] == 255;
            }
            memcpy(tmp + ((size_t)y * (size_t)tw + (size_t)x) * 4, acc, sizeof acc);
        }
    }
    surf = cairo_image_surface_create(opaque ? CAIRO_FORMAT_RGB24 : CAIRO_FORMAT_ARGB32, tw, th);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS)
        goto done;
    cairo_surface_flush(surf);
    unsigned char *dst = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    for (int y = 0; y < th; y++) {
        uint32_t *out = (uint32_t *)(void *)(dst + (size_t)y * (size_t)stride);
        for (int x = 0; x < tw; x++) {
            double acc[4] = {0, 0, 0, 0};
            for (int q = 0; q < sy[y].count; q++) {
                const float *p = tmp + ((size_t)(sy[y].first + q) * (size_t)tw + (size_t)x) * 4;
                double w = sy[y].w[q];
                for (int c = 0; c < 4; c++)
                    acc[c] += w * p[c];
            }
            /* Cairo stores premultiplied sRGB: un-premultiply in linear
             * light, encode, premultiply the 8-bit values again. */
            double a = acc[3] > 1 ? 1 : acc[3];
            int A = (int)lround(a * 255), ch[3];
            for (int c = 0; c < 3; c++) {
                int v = a > 0 ? lin_to_srgb(acc[c] / a) : 0;
                ch[c] = opaque ? v : (int)lround(v * A / 255.0);
            }
            if (opaque)
                A = 255;
            out[x] = (uint32_t)A << 24 | (uint32_t)ch[0] << 16 | (uint32_t)ch[1] << 8 |
                     (uint32_t)ch[2];
        }
    }
    cairo_surface_mark_dirty(surf);
    if (surface_png(surf, png, len) == 0) {
        rc = 0;
        if (tw_out)
            *tw_out = tw;
        if (th_out)
            *th_out = th;
    }
done:
    if (surf)
        cairo_surface_destroy(surf);
    free(sx);
    free(sy);
    free(wbx);
    free(wby);
    free(tmp);
    return rc;
}
