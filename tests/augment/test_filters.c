/* The fixed-point filters of the augmentation plugin against exact
 * double-precision references: augment.gaussian_blur is the Gaussian of
 * the sampled sigma (the kernel OpenCV's GaussianBlur uses for that sigma
 * and ksize 2 ceil(3 sigma) + 1, mirrored borders as BORDER_REFLECT_101),
 * augment.downscale an area shrink then a bilinear enlargement, and
 * augment.contrast the linear map about the mean luma; each within one
 * grey level, rarely off by one, and flat pictures stay exactly flat. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aigtatt/augment.h>
#include "config/cfg.h"
#include "host/host.h"
#include "image/image.h"
#include "plugin/registry.h"
#include "util/error.h"

static const aigtatt_host *H;

static void setup(void)
{
    const char *d = getenv("AIGTATT_PLUGIN_DIR");
    if (d)
        aigtatt_registry_scan_dir(d);
    H = aigtatt_host_get();
    cr_assert_not_null(H->find_component(AIGTATT_KIND_AUGMENT_OP, "augment.gaussian_blur"),
                       "augment plugin not found in AIGTATT_PLUGIN_DIR");
}
TestSuite(filters, .init = setup);

/* Runs augment.<name> with parameters `yaml` once; returns the output and
 * puts the sampled JSON into js. */
static aigtatt_image *run(const char *name, const char *yaml, uint64_t seed, const aigtatt_image *in, char *js,
                          size_t jn)
{
    char full[64];
    snprintf(full, sizeof full, "augment.%s", name);
    const aigtatt_component_desc *comp = H->find_component(AIGTATT_KIND_AUGMENT_OP, full);
    cr_assert_not_null(comp);
    const aigtatt_augment_op_vtable *vt = comp->vtable;
    aigtatt_cfg *cfg = NULL;
    aigtatt_params *params = NULL;
    cr_assert_eq(aigtatt_cfg_load_string(yaml, strlen(yaml), "ops.yaml", &cfg), AIGTATT_OK);
    cr_assert_eq(H->params_parse(cfg, comp, &params), AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_rng *rng = H->rng_new(seed);
    aigtatt_image *out = NULL;
    int rc = vt->apply(params, rng, in, &out, js, jn);
    H->rng_free(rng);
    H->params_free(params);
    aigtatt_cfg_free(cfg);
    cr_assert_eq(rc, AIGTATT_OK, "%s failed: %s", full, aigtatt_last_error());
    cr_assert_eq(out->width, in->width);
    cr_assert_eq(out->height, in->height);
    cr_assert_eq(out->channels, in->channels);
    return out;
}

/* A picture with smooth gradients, hard edges, fine lines and noise. */
static aigtatt_image *picture(int w, int h, int c, unsigned salt)
{
    aigtatt_image *img = aigtatt_image_new(w, h, c);
    uint32_t s = 2463534242u + salt;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                double v = 128 + 80 * sin(x * 0.21 + k) * cos(y * 0.13 - 2 * k);
                if ((x / 5 + y / 4) % 3 == 0)
                    v = k == 1 ? 250 : 10;
                if (x % 17 == 3)
                    v = 0;
                v += (double)(s % 21) - 10;
                img->data[(size_t)y * img->stride + (size_t)x * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return img;
}

static int reflect101(int i, int n)
{
    if (n == 1)
        return 0;
    const int p = 2 * (n - 1);
    i %= p;
    if (i < 0)
        i += p;
    return i < n ? i : p - i;
}

static uint8_t round_u8(double v) { return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)floor(v + 0.5); }

/* The exact blur: OpenCV's getGaussianKernel(2r + 1, sigma) in double,
 * separable, reflect-101 borders, rounded once at the end. */
static aigtatt_image *exact_blur(const aigtatt_image *in, double sigma)
{
    const int w = in->width, h = in->height, c = in->channels;
    int r = (int)ceil(3 * sigma);
    if (r < 1)
        r = 1;
    double *k = malloc((size_t)(2 * r + 1) * sizeof *k), sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = exp(-(double)i * i / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    double *t = calloc((size_t)w * h * c, sizeof *t);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                double a = 0;
                for (int i = -r; i <= r; i++)
                    a += k[i + r] * in->data[(size_t)y * in->stride + (size_t)reflect101(x + i, w) * c + ch];
                t[((size_t)y * w + x) * c + ch] = a;
            }
    aigtatt_image *o = aigtatt_image_new(w, h, c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                double a = 0;
                for (int i = -r; i <= r; i++)
                    a += k[i + r] * t[((size_t)reflect101(y + i, h) * w + x) * c + ch];
                o->data[(size_t)y * o->stride + (size_t)x * c + ch] = round_u8(a);
            }
    free(k);
    free(t);
    return o;
}

/* Largest and mean absolute difference, and the share of bytes that differ. */
static void compare(const aigtatt_image *a, const aigtatt_image *b, int *max, double *mean, double *share)
{
    size_t n = 0, diff = 0;
    double s = 0;
    *max = 0;
    for (int y = 0; y < a->height; y++)
        for (size_t i = 0; i < (size_t)a->width * a->channels; i++, n++) {
            const int d = abs((int)a->data[(size_t)y * a->stride + i] - (int)b->data[(size_t)y * b->stride + i]);
            *max = d > *max ? d : *max;
            s += d;
            diff += d != 0;
        }
    *mean = s / (double)n;
    *share = (double)diff / (double)n;
}

Test(filters, gaussian_blur_is_the_exact_gaussian_within_one_level)
{
    static const double sigmas[] = {0.3, 0.5, 0.8, 1.2, 2.0, 3.7, 9.0};
    static const int shapes[][3] = {{97, 61, 3}, {40, 33, 1}, {19, 23, 4}, {128, 7, 3}, {5, 70, 3}};
    for (size_t si = 0; si < sizeof sigmas / sizeof *sigmas; si++)
        for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
            aigtatt_image *in = picture(shapes[sh][0], shapes[sh][1], shapes[sh][2], (unsigned)sh);
            char yaml[96], js[256];
            snprintf(yaml, sizeof yaml, "{min_sigma: %g, max_sigma: %g}", sigmas[si], sigmas[si]);
            aigtatt_image *out = run("gaussian_blur", yaml, 7, in, js, sizeof js);
            aigtatt_image *ref = exact_blur(in, sigmas[si]);
            int mx;
            double mean, share;
            compare(out, ref, &mx, &mean, &share);
            cr_assert(mx <= 1 && share < 0.05, "sigma %g on %dx%dx%d: max diff %d, %.2f%% of bytes differ",
                      sigmas[si], shapes[sh][0], shapes[sh][1], shapes[sh][2], mx, 100 * share);
            aigtatt_image_free(out);
            aigtatt_image_free(ref);
            aigtatt_image_free(in);
        }
}

static aigtatt_image *flat(int w, int h, int c, uint8_t v)
{
    aigtatt_image *img = aigtatt_image_new(w, h, c);
    memset(img->data, v, (size_t)h * img->stride);
    return img;
}

static int all_equal(const aigtatt_image *img, uint8_t v)
{
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < (size_t)img->width * img->channels; i++)
            if (img->data[(size_t)y * img->stride + i] != v)
                return 0;
    return 1;
}

Test(filters, flat_pictures_stay_flat)
{
    static const uint8_t values[] = {0, 1, 77, 128, 254, 255};
    static const char *ops[][2] = {
        {"gaussian_blur", "{min_sigma: 0.3, max_sigma: 2}"},
        {"gaussian_blur", "{min_sigma: 20, max_sigma: 50}"},
        {"downscale", "{min_factor: 0.25, max_factor: 0.75}"},
        {"downscale", "{min_factor: 0.01, max_factor: 0.05}"},
        {"contrast", "{min: 0.05, max: 10}"},
    };
    for (size_t v = 0; v < sizeof values; v++)
        for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
            for (uint64_t seed = 1; seed <= 3; seed++) {
                aigtatt_image *in = flat(67, 45, 3, values[v]);
                char js[256];
                aigtatt_image *out = run(ops[o][0], ops[o][1], seed, in, js, sizeof js);
                cr_assert(all_equal(out, values[v]), "%s %s changed a flat %u picture (%s)", ops[o][0], ops[o][1],
                          values[v], js);
                aigtatt_image_free(out);
                aigtatt_image_free(in);
            }
}

/* ---- downscale ------------------------------------------------------------- */

/* Area average onto w x h (exact overlaps), rounded to bytes, then
 * bilinear back to the input size (centre-aligned, edge pixels repeated),
 * rounded: in double. */
static aigtatt_image *exact_downscale(const aigtatt_image *in, int w, int h)
{
    const int W = in->width, Hh = in->height, c = in->channels;
    aigtatt_image *small = aigtatt_image_new(w, h, c);
    const double fx = (double)W / w, fy = (double)Hh / h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int sy = (int)(y * fy); sy < Hh && sy < (y + 1) * fy; sy++) {
                    const double wy = fmin((y + 1) * fy, sy + 1.0) - fmax(y * fy, (double)sy);
                    for (int sx = (int)(x * fx); sx < W && sx < (x + 1) * fx; sx++) {
                        const double wx = fmin((x + 1) * fx, sx + 1.0) - fmax(x * fx, (double)sx);
                        acc += wx * wy * in->data[(size_t)sy * in->stride + (size_t)sx * c + ch];
                    }
                }
                small->data[(size_t)y * small->stride + (size_t)x * c + ch] = round_u8(acc / (fx * fy));
            }
    aigtatt_image *o = aigtatt_image_new(W, Hh, c);
    for (int y = 0; y < Hh; y++) {
        const double s = (y + 0.5) * h / Hh - 0.5, t = s - floor(s);
        const int y0 = (int)floor(s), a = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0, b = y0 + 1 >= h ? h - 1 : y0 + 1 < 0 ? 0 : y0 + 1;
        for (int x = 0; x < W; x++) {
            const double sx = (x + 0.5) * w / W - 0.5, u = sx - floor(sx);
            const int x0 = (int)floor(sx), l = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0,
                      r = x0 + 1 >= w ? w - 1 : x0 + 1 < 0 ? 0 : x0 + 1;
            for (int ch = 0; ch < c; ch++) {
#define P(xx, yy) (double)small->data[(size_t)(yy) * small->stride + (size_t)(xx) * c + ch]
                const double v = (1 - t) * ((1 - u) * P(l, a) + u * P(r, a)) + t * ((1 - u) * P(l, b) + u * P(r, b));
#undef P
                o->data[(size_t)y * o->stride + (size_t)x * c + ch] = round_u8(v);
            }
        }
    }
    aigtatt_image_free(small);
    return o;
}

Test(filters, downscale_is_an_area_shrink_then_a_bilinear_enlargement)
{
    static const double factors[] = {0.25, 0.4, 0.5, 0.63, 0.75, 1.0};
    static const int shapes[][3] = {{96, 64, 3}, {77, 51, 3}, {40, 40, 1}, {33, 21, 4}};
    for (size_t fi = 0; fi < sizeof factors / sizeof *factors; fi++)
        for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
            aigtatt_image *in = picture(shapes[sh][0], shapes[sh][1], shapes[sh][2], 11 + (unsigned)sh);
            char yaml[128], js[256];
            snprintf(yaml, sizeof yaml, "{min_factor: %g, max_factor: %g, interp: bilinear}", factors[fi],
                     factors[fi]);
            aigtatt_image *out = run("downscale", yaml, 3, in, js, sizeof js);
            const int w = (int)lround(in->width * factors[fi]), h = (int)lround(in->height * factors[fi]);
            aigtatt_image *ref = exact_downscale(in, w < 1 ? 1 : w, h < 1 ? 1 : h);
            int mx;
            double mean, share;
            compare(out, ref, &mx, &mean, &share);
            /* One level from the small picture's rounding, one from the
             * enlargement's 1/256-pixel positions. */
            cr_assert(mx <= 2 && mean < 0.1, "factor %g on %dx%dx%d: max diff %d, mean %.3f", factors[fi],
                      shapes[sh][0], shapes[sh][1], shapes[sh][2], mx, mean);
            if (factors[fi] == 1.0)
                cr_assert_eq(mx, 0, "factor 1 must give the picture back");
            aigtatt_image_free(out);
            aigtatt_image_free(ref);
            aigtatt_image_free(in);
        }
}

/* ---- contrast ------------------------------------------------------------------ */

Test(filters, contrast_is_the_linear_map_about_the_mean_luma)
{
    static const int shapes[][3] = {{97, 61, 3}, {40, 33, 1}, {19, 23, 4}};
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
        for (uint64_t seed = 1; seed <= 12; seed++) {
            aigtatt_image *in = picture(shapes[sh][0], shapes[sh][1], shapes[sh][2], 5 + (unsigned)sh);
            char js[256];
            aigtatt_image *out = run("contrast", "{min: 0.3, max: 5}", seed, in, js, sizeof js);
            const char *p = strstr(js, "\"factor\":");
            cr_assert_not_null(p, "%s", js);
            const double f = strtod(p + 9, NULL);
            const int c = in->channels;
            double sum = 0;
            for (int y = 0; y < in->height; y++)
                for (int x = 0; x < in->width; x++) {
                    const uint8_t *q = in->data + (size_t)y * in->stride + (size_t)x * c;
                    sum += c >= 3 ? (19595.0 * q[0] + 38470.0 * q[1] + 7471.0 * q[2]) / 65536 : q[0];
                }
            const double m = sum / ((double)in->width * in->height);
            size_t n = 0, off = 0;
            for (int y = 0; y < in->height; y++)
                for (int x = 0; x < in->width; x++)
                    for (int k = 0; k < c; k++, n++) {
                        const size_t i = (size_t)y * in->stride + (size_t)x * c + (size_t)k;
                        const int want = k == 3 ? in->data[i] : round_u8(m + f * (in->data[i] - m));
                        const int d = abs(want - (int)out->data[i]);
                        cr_assert(d <= 1, "factor %g: %u -> %u, want %d", f, in->data[i], out->data[i], want);
                        off += d != 0;
                    }
            /* the factor in the JSON has 6 digits: a few more values at a half */
            cr_assert((double)off / (double)n < 0.05, "factor %g: %zu of %zu values one level off", f, off, n);
            aigtatt_image_free(out);
            aigtatt_image_free(in);
        }
}
