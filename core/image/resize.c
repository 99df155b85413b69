/* Antialiased bilinear resizing, following PIL's Image.resize(BILINEAR)
 * (libImaging/Resample.c) so that images prepared here match what a
 * Python/torchvision pipeline would feed a model:
 *   - separable: a horizontal pass, its result rounded to 8 bits, then a
 *     vertical pass;
 *   - output pixel i covers source [i*scale, (i+1)*scale) with its centre
 *     at (i + 0.5) * scale; the triangle filter's support is widened by
 *     the downscale factor, so every source pixel contributes when
 *     shrinking (no aliasing), and it is plain bilinear when enlarging;
 *   - weights near the borders are renormalised to sum to one;
 *   - weights become 22-bit fixed point, so the result is exact integer
 *     arithmetic and the same on every machine;
 *   - RGBA is filtered premultiplied by alpha and un-premultiplied after
 *     (PIL converts RGBA to RGBa for this), so fully transparent pixels do
 *     not bleed their colour into the visible ones. */
#include "image/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/codec.h"
#include "util/error.h"

#define PRECISION_BITS (32 - 8 - 2)

typedef struct coeffs {
    size_t ksize;    /* weights per output pixel (the widest window) */
    int *bounds;     /* per output pixel: first source index, count */
    int32_t *k;      /* out_size * ksize fixed-point weights */
} coeffs;

static void coeffs_free(coeffs *c)
{
    free(c->bounds);
    free(c->k);
}

static double triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static int coeffs_make(int in_size, int out_size, coeffs *c)
{
    memset(c, 0, sizeof *c);
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    double inv = 1.0 / filterscale;
    /* size_t: a huge shrink (a 2^31-pixel row to 1) overflows int here. */
    c->ksize = (size_t)ceil(support) * 2 + 1;
    double *w = calloc(c->ksize, sizeof *w);
    c->bounds = malloc((size_t)out_size * 2 * sizeof *c->bounds);
    c->k = c->ksize > SIZE_MAX / sizeof *c->k / (size_t)out_size
               ? NULL
               : calloc((size_t)out_size, c->ksize * sizeof *c->k);
    if (!w || !c->bounds || !c->k) {
        free(w);
        coeffs_free(c);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        /* (int) truncates toward zero like PIL; negatives clamp to 0 anyway. */
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        if ((size_t)xmax > c->ksize)
            xmax = (int)c->ksize;
        double sum = 0.0;
        for (int x = 0; x < xmax; x++) {
            w[x] = triangle((x + xmin - center + 0.5) * inv);
            sum += w[x];
        }
        int32_t *k = c->k + (size_t)xx * c->ksize;
        for (int x = 0; x < xmax; x++) {
            double v = sum != 0.0 ? w[x] / sum : w[x];
            /* Round half away from zero, as PIL does. */
            k[x] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                                   : 0.5 + v * (1 << PRECISION_BITS));
        }
        c->bounds[2 * xx] = xmin;
        c->bounds[2 * xx + 1] = xmax;
    }
    free(w);
    return 0;
}

static inline uint8_t clip8(int64_t v)
{
    v >>= PRECISION_BITS;
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* Rows of `src` (ch channels, src_stride) -> rows of `dst` with out_w
 * pixels. */
static void pass_horizontal(const uint8_t *src, size_t src_stride, int rows, int ch,
                            uint8_t *dst, size_t dst_stride, int out_w, const coeffs *c)
{
    for (int y = 0; y < rows; y++) {
        const uint8_t *s = src + (size_t)y * src_stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        for (int xx = 0; xx < out_w; xx++) {
            int xmin = c->bounds[2 * xx], n = c->bounds[2 * xx + 1];
            const int32_t *k = c->k + (size_t)xx * c->ksize;
            for (int b = 0; b < ch; b++) {
                int64_t ss = INT64_C(1) << (PRECISION_BITS - 1);
                const uint8_t *p = s + (size_t)xmin * ch + b;
                for (int x = 0; x < n; x++)
                    ss += (int64_t)p[(size_t)x * ch] * k[x];
                d[(size_t)xx * ch + b] = clip8(ss);
            }
        }
    }
}

static void pass_vertical(const uint8_t *src, size_t src_stride, size_t row_bytes,
                          uint8_t *dst, size_t dst_stride, int out_h, const coeffs *c)
{
    for (int yy = 0; yy < out_h; yy++) {
        int ymin = c->bounds[2 * yy], n = c->bounds[2 * yy + 1];
        const int32_t *k = c->k + (size_t)yy * c->ksize;
        const uint8_t *s = src + (size_t)ymin * src_stride;
        uint8_t *d = dst + (size_t)yy * dst_stride;
        for (size_t x = 0; x < row_bytes; x++) {
            int64_t ss = INT64_C(1) << (PRECISION_BITS - 1);
            for (int y = 0; y < n; y++)
                ss += (int64_t)s[(size_t)y * src_stride + x] * k[y];
            d[x] = clip8(ss);
        }
    }
}

/* x * a / 255, rounded, in integers (PIL's MULDIV255). */
static inline uint8_t mul_div255(unsigned x, unsigned a)
{
    unsigned t = x * a + 128;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

static void premultiply(aigtatt_image *img)
{
    for (int32_t y = 0; y < img->height; y++) {
        uint8_t *p = img->data + (size_t)y * img->stride;
        for (int32_t x = 0; x < img->width; x++, p += 4) {
            p[0] = mul_div255(p[0], p[3]);
            p[1] = mul_div255(p[1], p[3]);
            p[2] = mul_div255(p[2], p[3]);
        }
    }
}

static void unpremultiply(aigtatt_image *img)
{
    for (int32_t y = 0; y < img->height; y++) {
        uint8_t *p = img->data + (size_t)y * img->stride;
        for (int32_t x = 0; x < img->width; x++, p += 4) {
            unsigned a = p[3];
            if (a == 0 || a == 255)
                continue;
            for (int b = 0; b < 3; b++) {
                unsigned v = (255u * p[b]) / a;
                p[b] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

static aigtatt_image *copy_image(const aigtatt_image *img)
{
    return aigtatt_image_convert(img, img->channels);
}

aigtatt_image *aigtatt_image_resize(const aigtatt_image *img, int32_t w, int32_t h)
{
    if (!aigtatt_image_check(img, "image resize"))
        return NULL;
    if (w <= 0 || h <= 0) {
        aigtatt_set_error("image resize: invalid target size %dx%d", (int)w, (int)h);
        return NULL;
    }
    if (w == img->width && h == img->height)
        return copy_image(img);

    const int ch = img->channels;
    int need_h = w != img->width, need_v = h != img->height;
    coeffs ch_x = {0}, ch_y = {0};
    aigtatt_image *pre = NULL, *tmp = NULL, *out = NULL;
    const aigtatt_image *src = img;

    if ((need_h && coeffs_make(img->width, w, &ch_x) != 0) ||
        (need_v && coeffs_make(img->height, h, &ch_y) != 0)) {
        aigtatt_set_error("image resize: out of memory");
        goto fail;
    }
    if (ch == 4) {
        pre = copy_image(img);
        if (!pre)
            goto fail;
        premultiply(pre);
        src = pre;
    }
    out = aigtatt_image_new(w, h, ch);
    if (!out)
        goto fail;
    if (need_h && need_v) {
        tmp = aigtatt_image_new(w, img->height, ch);
        if (!tmp)
            goto fail;
        pass_horizontal(src->data, src->stride, img->height, ch, tmp->data, tmp->stride, w,
                        &ch_x);
        pass_vertical(tmp->data, tmp->stride, (size_t)w * ch, out->data, out->stride, h, &ch_y);
    } else if (need_h) {
        pass_horizontal(src->data, src->stride, img->height, ch, out->data, out->stride, w,
                        &ch_x);
    } else {
        pass_vertical(src->data, src->stride, (size_t)w * ch, out->data, out->stride, h, &ch_y);
    }
    if (ch == 4)
        unpremultiply(out);
    aigtatt_image_free(pre);
    aigtatt_image_free(tmp);
    coeffs_free(&ch_x);
    coeffs_free(&ch_y);
    return out;

fail:
    aigtatt_image_free(pre);
    aigtatt_image_free(tmp);
    aigtatt_image_free(out);
    coeffs_free(&ch_x);
    coeffs_free(&ch_y);
    return NULL;
}
