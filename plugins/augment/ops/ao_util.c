/* Sampling, JSON and pixel helpers shared by the ops. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"

/* ---- sampling ----------------------------------------------------------- */

double ao_uniform(aigtatt_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * ao_host->rng_uniform(rng);
}

double ao_log_uniform(aigtatt_rng *rng, double lo, double hi)
{
    return exp(ao_uniform(rng, log(lo), log(hi)));
}

int64_t ao_int(aigtatt_rng *rng, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(ao_host->rng_u64(rng) % (uint64_t)(hi - lo + 1));
}

int ao_check_range(const aigtatt_params *p, const char *lo, const char *hi)
{
    if (AO_F(p, lo) > AO_F(p, hi)) {
        ao_host->set_error("'%s' (%g) is above '%s' (%g)", lo, AO_F(p, lo), hi, AO_F(p, hi));
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

static void jput(ao_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(ao_json *j, const char *fmt, ...)
{
    if (j->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, j->size - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= j->size - j->len - 1) {
        j->overflow = 1;
        return;
    }
    j->len += (size_t)n;
}

void ao_json_begin(ao_json *j, char *buf, size_t size)
{
    j->buf = buf;
    j->size = size;
    j->len = 0;
    j->n = 0;
    j->overflow = size < 3;
    jput(j, "{");
}

void ao_json_num(ao_json *j, const char *key, double v)
{
    /* Rounded so the manifest stays readable; the image used the exact value. */
    jput(j, "%s\"%s\":%.6g", j->n++ ? "," : "", key, isfinite(v) ? v : 0.0);
}

void ao_json_int(ao_json *j, const char *key, int64_t v)
{
    jput(j, "%s\"%s\":%lld", j->n++ ? "," : "", key, (long long)v);
}

void ao_json_str(ao_json *j, const char *key, const char *v)
{
    /* Values are the ops' own enum words: no escaping needed. */
    jput(j, "%s\"%s\":\"%s\"", j->n++ ? "," : "", key, v);
}

int ao_json_end(ao_json *j)
{
    jput(j, "}");
    if (j->overflow) {
        if (j->size >= 3)
            memcpy(j->buf, "{}", 3);
        ao_host->set_error("sampled values do not fit in %zu bytes", j->size);
        return AIGTATT_ERR_LIMIT;
    }
    return AIGTATT_OK;
}

/* ---- pixels -------------------------------------------------------------- */

ao_fill ao_fill_from(const aigtatt_params *p)
{
    ao_fill f = {AO_REFLECT, {255, 255, 255, 255}};
    const char *m = AO_S(p, "border");
    f.mode = !strcmp(m, "edge") ? AO_EDGE : !strcmp(m, "constant") ? AO_CONSTANT : AO_REFLECT;
    uint8_t v = (uint8_t)AO_I(p, "fill");
    f.value[0] = f.value[1] = f.value[2] = v;
    f.value[3] = 255;
    return f;
}

aigtatt_image *ao_new_like(const aigtatt_image *in)
{
    return ao_host->image_new(in->width, in->height, in->channels);
}

/* Mirror without repeating the edge (OpenCV's BORDER_REFLECT_101), the
 * usual default of augmentation libraries. */
static int reflect(int i, int n)
{
    if (n == 1)
        return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

static int resolve(int i, int n, ao_border mode)
{
    if (i >= 0 && i < n)
        return i;
    if (mode == AO_REFLECT)
        return reflect(i, n);
    if (mode == AO_EDGE)
        return i < 0 ? 0 : n - 1;
    return -1;
}

void ao_sample(const aigtatt_image *in, double sx, double sy, const ao_fill *f, uint8_t *out)
{
    const int c = in->channels;
    double fx = sx - 0.5, fy = sy - 0.5;
    /* Inside, with all four neighbours: the common case, kept branch-free. */
    if (fx >= 0 && fy >= 0 && fx < in->width - 1 && fy < in->height - 1) {
        int x0 = (int)fx, y0 = (int)fy;
        /* 10-bit fixed-point weights: exact enough for 8-bit pixels, and
         * integer arithmetic is what makes warps cheap at 1024x1024. */
        uint32_t wx = (uint32_t)((fx - x0) * 1024 + 0.5), wy = (uint32_t)((fy - y0) * 1024 + 0.5);
        uint32_t w00 = (1024 - wx) * (1024 - wy), w10 = wx * (1024 - wy), w01 = (1024 - wx) * wy, w11 = wx * wy;
        const uint8_t *p = ao_px(in, x0, y0), *q = p + in->stride;
        for (int k = 0; k < c; k++)
            out[k] = (uint8_t)((w00 * p[k] + w10 * p[c + k] + w01 * q[k] + w11 * q[c + k] + (1u << 19)) >> 20);
        return;
    }
    /* Far outside: no need to interpolate, and no int overflow. */
    if (!(fabs(fx) < 1e7 && fabs(fy) < 1e7)) {
        memcpy(out, f->value, (size_t)c);
        return;
    }
    int x0 = (int)floor(fx), y0 = (int)floor(fy);
    double ax = fx - x0, ay = fy - y0;
    int xs[2] = {resolve(x0, in->width, f->mode), resolve(x0 + 1, in->width, f->mode)};
    int ys[2] = {resolve(y0, in->height, f->mode), resolve(y0 + 1, in->height, f->mode)};
    double acc[4] = {0, 0, 0, 0};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            double w = (i ? ax : 1 - ax) * (j ? ay : 1 - ay);
            const uint8_t *p = xs[i] >= 0 && ys[j] >= 0 ? ao_px(in, xs[i], ys[j]) : f->value;
            for (int k = 0; k < c; k++)
                acc[k] += w * p[k];
        }
    for (int k = 0; k < c; k++)
        out[k] = ao_clamp_u8(acc[k]);
}

void ao_warp(const aigtatt_image *in, aigtatt_image *out, const double H[9], const ao_fill *f)
{
    for (int y = 0; y < out->height; y++) {
        uint8_t *d = ao_px(out, 0, y);
        double cy = y + 0.5;
        for (int x = 0; x < out->width; x++, d += out->channels) {
            double cx = x + 0.5;
            double w = H[6] * cx + H[7] * cy + H[8];
            if (fabs(w) < 1e-12) {
                memcpy(d, f->value, (size_t)out->channels);
                continue;
            }
            double sx = (H[0] * cx + H[1] * cy + H[2]) / w;
            double sy = (H[3] * cx + H[4] * cy + H[5]) / w;
            ao_sample(in, sx, sy, f, d);
        }
    }
}

void ao_warp_map(const aigtatt_image *in, aigtatt_image *out, ao_map_fn map, void *ctx, const ao_fill *f)
{
    for (int y = 0; y < out->height; y++) {
        uint8_t *d = ao_px(out, 0, y);
        for (int x = 0; x < out->width; x++, d += out->channels) {
            double sx, sy;
            if (map(ctx, x + 0.5, y + 0.5, &sx, &sy))
                ao_sample(in, sx, sy, f, d);
            else
                memcpy(d, f->value, (size_t)out->channels);
        }
    }
}

int ao_mat3_inv(const double m[9], double r[9])
{
    double a = m[4] * m[8] - m[5] * m[7], b = m[5] * m[6] - m[3] * m[8], c = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * a + m[1] * b + m[2] * c;
    if (fabs(det) < 1e-15)
        return -1;
    double id = 1.0 / det;
    r[0] = a * id;
    r[1] = (m[2] * m[7] - m[1] * m[8]) * id;
    r[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    r[3] = b * id;
    r[4] = (m[0] * m[8] - m[2] * m[6]) * id;
    r[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    r[6] = c * id;
    r[7] = (m[1] * m[6] - m[0] * m[7]) * id;
    r[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    return 0;
}

void ao_mat3_mul(const double a[9], const double b[9], double m[9])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            m[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
}

/* ---- blur ----------------------------------------------------------------- */

static float *gauss_kernel(double sigma, int *radius)
{
    int r = (int)ceil(3.0 * sigma);
    if (r < 1)
        r = 1;
    float *k = malloc((size_t)(2 * r + 1) * sizeof *k);
    if (!k)
        return NULL;
    double sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = (float)exp(-(double)(i * i) / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] = (float)(k[i] / sum);
    *radius = r;
    return k;
}

/* One 1-D pass over `n` lines of `len` samples, `step` apart. */
static void blur_lines(float *data, int len, int n, size_t line_step, size_t step, const float *k, int r,
                       float *tmp)
{
    for (int l = 0; l < n; l++) {
        float *p = data + (size_t)l * line_step;
        for (int i = 0; i < len; i++)
            tmp[i] = p[(size_t)i * step];
        for (int i = 0; i < len; i++) {
            float acc = 0;
            if (i >= r && i + r < len) {
                const float *t = tmp + i - r;
                for (int j = 0; j <= 2 * r; j++)
                    acc += k[j] * t[j];
            } else {
                for (int j = -r; j <= r; j++)
                    acc += k[j + r] * tmp[resolve(i + j, len, AO_REFLECT)];
            }
            p[(size_t)i * step] = acc;
        }
    }
}

int ao_blur_plane(float *plane, int w, int h, double sigma)
{
    if (sigma <= 0)
        return AIGTATT_OK;
    int r;
    float *k = gauss_kernel(sigma, &r);
    float *tmp = malloc((size_t)(w > h ? w : h) * sizeof *tmp);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    blur_lines(plane, w, h, (size_t)w, 1, k, r, tmp);
    blur_lines(plane, h, w, 1, (size_t)w, k, r, tmp);
    free(k);
    free(tmp);
    return AIGTATT_OK;
}

int ao_blur_image(const aigtatt_image *in, double sigma, aigtatt_image **out)
{
    *out = NULL;
    const int w = in->width, h = in->height, c = in->channels;
    aigtatt_image *o = ao_new_like(in);
    float *plane = malloc((size_t)w * (size_t)h * sizeof *plane);
    if (!o || !plane) {
        ao_host->image_free(o);
        free(plane);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (int k = 0; k < c; k++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                plane[(size_t)y * w + x] = ao_px(in, x, y)[k];
        int rc = ao_blur_plane(plane, w, h, sigma);
        if (rc) {
            free(plane);
            ao_host->image_free(o);
            return rc;
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ao_px(o, x, y)[k] = ao_clamp_u8(plane[(size_t)y * w + x]);
    }
    free(plane);
    *out = o;
    return AIGTATT_OK;
}

/* ---- resizing ---------------------------------------------------------- */

aigtatt_image *ao_resize_area(const aigtatt_image *in, int w, int h)
{
    aigtatt_image *o = ao_host->image_new(w, h, in->channels);
    if (!o)
        return NULL;
    const int c = in->channels;
    const double fx = (double)in->width / w, fy = (double)in->height / h;
    for (int y = 0; y < h; y++) {
        double y0 = y * fy, y1 = (y + 1) * fy;
        for (int x = 0; x < w; x++) {
            double x0 = x * fx, x1 = (x + 1) * fx;
            double acc[4] = {0, 0, 0, 0}, area = 0;
            for (int sy = (int)y0; sy < (int)ceil(y1) && sy < in->height; sy++) {
                double wy = fmin(y1, sy + 1) - fmax(y0, sy);
                for (int sx = (int)x0; sx < (int)ceil(x1) && sx < in->width; sx++) {
                    double wgt = wy * (fmin(x1, sx + 1) - fmax(x0, sx));
                    const uint8_t *p = ao_px(in, sx, sy);
                    for (int k = 0; k < c; k++)
                        acc[k] += wgt * p[k];
                    area += wgt;
                }
            }
            uint8_t *d = ao_px(o, x, y);
            for (int k = 0; k < c; k++)
                d[k] = ao_clamp_u8(area > 0 ? acc[k] / area : 0);
        }
    }
    return o;
}

aigtatt_image *ao_resize_bilinear(const aigtatt_image *in, int w, int h)
{
    aigtatt_image *o = ao_host->image_new(w, h, in->channels);
    if (!o)
        return NULL;
    ao_fill f = {AO_EDGE, {0, 0, 0, 0}};
    const double fx = (double)in->width / w, fy = (double)in->height / h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            ao_sample(in, (x + 0.5) * fx, (y + 0.5) * fy, &f, ao_px(o, x, y));
    return o;
}

float *ao_value_noise(aigtatt_rng *rng, int w, int h, int cells)
{
    if (cells < 1)
        cells = 1;
    int gw = cells + 2, gh = cells + 2;
    float *grid = malloc((size_t)gw * gh * sizeof *grid);
    float *out = malloc((size_t)w * h * sizeof *out);
    if (!grid || !out) {
        free(grid);
        free(out);
        ao_host->set_error("out of memory");
        return NULL;
    }
    for (int i = 0; i < gw * gh; i++)
        grid[i] = (float)ao_uniform(rng, -1, 1);
    for (int y = 0; y < h; y++) {
        double gy = (y + 0.5) / h * cells;
        int iy = (int)gy;
        double ty = gy - iy;
        ty = ty * ty * (3 - 2 * ty); /* smoothstep: no visible grid creases */
        for (int x = 0; x < w; x++) {
            double gx = (x + 0.5) / w * cells;
            int ix = (int)gx;
            double tx = gx - ix;
            tx = tx * tx * (3 - 2 * tx);
            const float *g = grid + (size_t)iy * gw + ix;
            double top = g[0] + (g[1] - g[0]) * tx, bot = g[gw] + (g[gw + 1] - g[gw]) * tx;
            out[(size_t)y * w + x] = (float)(top + (bot - top) * ty);
        }
    }
    free(grid);
    return out;
}
