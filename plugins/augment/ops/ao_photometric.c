/* Photometric ops: the light and the camera's colour response change. Ops
 * that act on each value alone go through a 256-entry table; alpha (a
 * fourth channel) is never touched. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int colour_channels(const aigtatt_image *img) { return img->channels == 4 ? 3 : img->channels; }

/* Applies the same table to every colour channel into a new image. Without
 * alpha every byte of a row is a colour value, so a row is one flat loop. */
static int apply_lut(const aigtatt_image *in, const uint8_t lut[256], aigtatt_image **out)
{
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    const int c = in->channels, cc = colour_channels(in);
    if (c == cc) {
        ao_lut_rows(in->data, in->stride, o->data, o->stride, (size_t)in->width * (size_t)c, in->height, lut);
        *out = o;
        return AIGTATT_OK;
    }
    for (int y = 0; y < in->height; y++) {
        const uint8_t *s = ao_px(in, 0, y);
        uint8_t *d = ao_px(o, 0, y);
        for (int x = 0; x < in->width; x++, s += c, d += c)
            for (int k = 0; k < c; k++)
                d[k] = k < cc ? lut[s[k]] : s[k];
    }
    *out = o;
    return AIGTATT_OK;
}

static int one_value(const char *key, double v, char *js, size_t jn)
{
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, key, v);
    return ao_json_end(&j);
}

/* ---- brightness ---------------------------------------------------------- */

static int brightness_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                            aigtatt_image **out, char *js, size_t jn)
{
    double m = AO_F(p, "max_delta");
    double d = ao_uniform(rng, -m, m);
    int rc = one_value("delta", d, js, jn);
    if (rc)
        return rc;
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = ao_clamp_u8(v + d * 255);
#ifdef __SSE2__
    /* For an integer v, clamp(round(v + 255 d)) is v + round(255 d) with
     * 8-bit saturation: the same bytes as the table, 16 at a time. */
    if (in->channels != 4) {
        aigtatt_image *o = ao_new_uninit_like(in);
        if (!o)
            return AIGTATT_ERR_NOMEM;
        const int add = (int)floor(d * 255 + 0.5);
        const __m128i k = _mm_set1_epi8((char)(uint8_t)(add < 0 ? (-add > 255 ? 255 : -add) : (add > 255 ? 255 : add)));
        const size_t n = (size_t)in->width * (size_t)in->channels;
        for (int y = 0; y < in->height; y++) {
            const uint8_t *s = ao_px(in, 0, y);
            uint8_t *o_row = ao_px(o, 0, y);
            size_t i = 0;
            for (; i + 16 <= n; i += 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                v = add < 0 ? _mm_subs_epu8(v, k) : _mm_adds_epu8(v, k);
                _mm_storeu_si128((__m128i *)(void *)(o_row + i), v);
            }
            for (; i < n; i++)
                o_row[i] = lut[s[i]];
        }
        *out = o;
        return AIGTATT_OK;
    }
#endif
    return apply_lut(in, lut, out);
}

static const aigtatt_param_desc brightness_params[] = {
    AO_FLOAT("max_delta", "0.2", 0, 1, "Largest change as a fraction of full scale, added to every value; "
                                       "uniform in [-max_delta, max_delta]."),
    AO_END};

AO_DEFINE_OP(brightness, "Adds a uniform brightness offset",
             "Over- or under-exposure. Samples `delta` (fraction of 255).", brightness_params, NULL,
             brightness_apply);

/* ---- contrast ------------------------------------------------------------- */

static int contrast_check(const aigtatt_params *p) { return ao_check_range(p, "min", "max"); }

static double mean_luma(const aigtatt_image *in)
{
    /* BT.601 weights in 16-bit fixed point (they sum to 65536), integer sums. */
    uint64_t sum = 0;
    const int c = in->channels;
    for (int y = 0; y < in->height; y++) {
        const uint8_t *p = ao_px(in, 0, y);
        /* Per-channel sums first (the weighted sum is linear): no multiply
         * per pixel. */
        uint64_t rgb[3] = {0, 0, 0};
        if (c == 3)
            ao_sum_rgb_row(p, in->width, rgb);
        else if (c > 3)
            for (int x = 0; x < in->width; x++, p += c) {
                rgb[0] += p[0];
                rgb[1] += p[1];
                rgb[2] += p[2];
            }
        else
            for (int x = 0; x < in->width; x++, p += c)
                rgb[0] += p[0];
        const uint64_t r = rgb[0], g = rgb[1], b = rgb[2];
        sum += c >= 3 ? 19595u * r + 38470u * g + 7471u * b : 65536u * r;
    }
    return (double)sum / 65536.0 / ((double)in->width * in->height);
}

static int contrast_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                          aigtatt_image **out, char *js, size_t jn)
{
    double f = ao_log_uniform(rng, AO_F(p, "min"), AO_F(p, "max"));
    int rc = one_value("factor", f, js, jn);
    if (rc)
        return rc;
    /* About the mean, so the overall exposure stays where it was:
     * clamp(round(f v + m (1 - f))) in 16-bit fixed point with F fraction
     * bits, F as large as f allows (8 up to f = 1, 7 up to 2, ...; 4 at
     * f = 10): within 2^(1-F) of a grey level of the exact value before
     * the rounding, so a rare value lands one level off. */
    const double m = mean_luma(in);
    int F = 8;
    while (F > 1 && f * (double)(1 << F) > 255.99)
        F--;
    const uint32_t A = (uint32_t)fmin(65535.0, floor(f * (double)(1 << (8 + F)) + 0.5));
    const double bb = floor(m * (1 - f) * (double)(1 << F) + 0.5) + (double)(1 << (F - 1));
    const int32_t B = (int32_t)fmax(-65535.0, fmin(65535.0, bb));
    if (in->channels != 4) {
        aigtatt_image *o = ao_new_uninit_like(in);
        if (!o)
            return AIGTATT_ERR_NOMEM;
        ao_affine_rows(in->data, in->stride, o->data, o->stride, (size_t)in->width * (size_t)in->channels,
                       in->height, A, B, F);
        *out = o;
        return AIGTATT_OK;
    }
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = ao_affine_byte((uint8_t)v, A, B, F);
    return apply_lut(in, lut, out);
}

static const aigtatt_param_desc contrast_params[] = {
    AO_FLOAT("min", "0.7", 0.05, 10, "Smallest contrast factor (below 1 flattens)."),
    AO_FLOAT("max", "1.4", 0.05, 10, "Largest contrast factor; log-uniform in [min, max]."),
    AO_END};

AO_DEFINE_OP(contrast, "Scales contrast about the mean grey",
             "Samples `factor`.", contrast_params, contrast_check, contrast_apply);

/* ---- gamma ------------------------------------------------------------------ */

static int gamma_check(const aigtatt_params *p) { return ao_check_range(p, "min", "max"); }

static int gamma_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                       char *js, size_t jn)
{
    double g = ao_log_uniform(rng, AO_F(p, "min"), AO_F(p, "max"));
    int rc = one_value("gamma", g, js, jn);
    if (rc)
        return rc;
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = ao_clamp_u8(255.0 * pow(v / 255.0, g));
    return apply_lut(in, lut, out);
}

static const aigtatt_param_desc gamma_params[] = {
    AO_FLOAT("min", "0.7", 0.1, 10, "Smallest gamma (below 1 brightens the mid-tones)."),
    AO_FLOAT("max", "1.5", 0.1, 10, "Largest gamma; log-uniform in [min, max]."),
    AO_END};

AO_DEFINE_OP(gamma, "Gamma curve on every value",
             "A different tone curve (camera, screen, scan). Samples `gamma`: out = 255 (in/255)^gamma.",
             gamma_params, gamma_check, gamma_apply);

/* ---- hue ----------------------------------------------------------------------- */

/* Rotation about the grey axis of RGB (the hue-rotate matrix of CSS
 * filters): greys stay grey, luma is nearly kept. */
static void hue_matrix(double deg, double M[9])
{
    double c = cos(deg * M_PI / 180), s = sin(deg * M_PI / 180);
    double m[9] = {0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928,
                   0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140, 0.072 - c * 0.072 - s * 0.283,
                   0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072};
    memcpy(M, m, sizeof m);
}

static int apply_matrix(const aigtatt_image *in, const double M[9], aigtatt_image **out)
{
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    const int c = in->channels;
    /* 14-bit fixed point: |M| < 8 keeps every sum inside int32, and the
     * rounding error (< 0.03 of a grey level) is below the 8-bit step. */
    int32_t m[9];
    for (int i = 0; i < 9; i++)
        m[i] = (int32_t)lrint(fmax(-8.0, fmin(8.0, M[i])) * 16384);
    if (c == 3) {
        ao_matrix_rgb(in->data, in->stride, o->data, o->stride, in->width, in->height, m);
        *out = o;
        return AIGTATT_OK;
    }
    for (int y = 0; y < in->height; y++) {
        const uint8_t *s = ao_px(in, 0, y);
        uint8_t *d = ao_px(o, 0, y);
        if (c < 3) {
            memcpy(d, s, (size_t)in->width * (size_t)c); /* grey has no hue or tint */
            continue;
        }
        for (int x = 0; x < in->width; x++, s += c, d += c) {
            const int32_t r = s[0], g = s[1], b = s[2];
            int32_t v0 = m[0] * r + m[1] * g + m[2] * b + 8192;
            int32_t v1 = m[3] * r + m[4] * g + m[5] * b + 8192;
            int32_t v2 = m[6] * r + m[7] * g + m[8] * b + 8192;
            v0 = v0 < 0 ? 0 : v0 > (255 << 14) ? (255 << 14) : v0;
            v1 = v1 < 0 ? 0 : v1 > (255 << 14) ? (255 << 14) : v1;
            v2 = v2 < 0 ? 0 : v2 > (255 << 14) ? (255 << 14) : v2;
            d[0] = (uint8_t)(v0 >> 14);
            d[1] = (uint8_t)(v1 >> 14);
            d[2] = (uint8_t)(v2 >> 14);
            if (c == 4)
                d[3] = s[3];
        }
    }
    *out = o;
    return AIGTATT_OK;
}

static int hue_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                     char *js, size_t jn)
{
    double m = AO_F(p, "max_deg");
    double deg = ao_uniform(rng, -m, m);
    int rc = one_value("deg", deg, js, jn);
    if (rc)
        return rc;
    double M[9];
    hue_matrix(deg, M);
    return apply_matrix(in, M, out);
}

static const aigtatt_param_desc hue_params[] = {
    AO_FLOAT("max_deg", "15", 0, 180, "Largest hue rotation in degrees, uniform in [-max_deg, max_deg]."),
    AO_END};

AO_DEFINE_OP(hue, "Rotates hues", "White balance and ink colour drift. Samples `deg`.", hue_params, NULL,
             hue_apply);

/* ---- saturation --------------------------------------------------------------- */

static int saturation_check(const aigtatt_params *p) { return ao_check_range(p, "min", "max"); }

static int saturation_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                            aigtatt_image **out, char *js, size_t jn)
{
    double f = ao_uniform(rng, AO_F(p, "min"), AO_F(p, "max"));
    int rc = one_value("factor", f, js, jn);
    if (rc)
        return rc;
    /* Mixes each pixel with its own luma: f = 0 is greyscale. */
    double l[3] = {0.299, 0.587, 0.114}, M[9];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            M[r * 3 + c] = (1 - f) * l[c] + (r == c ? f : 0);
    return apply_matrix(in, M, out);
}

static const aigtatt_param_desc saturation_params[] = {
    AO_FLOAT("min", "0.6", 0, 5, "Smallest saturation factor (0 is greyscale)."),
    AO_FLOAT("max", "1.4", 0, 5, "Largest saturation factor; uniform in [min, max]."),
    AO_END};

AO_DEFINE_OP(saturation, "Scales colour saturation", "Samples `factor`.", saturation_params, saturation_check,
             saturation_apply);

/* ---- temperature ----------------------------------------------------------- */

static int temperature_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                             aigtatt_image **out, char *js, size_t jn)
{
    double m = AO_F(p, "max_shift");
    double t = ao_uniform(rng, -m, m);
    int rc = one_value("shift", t, js, jn);
    if (rc)
        return rc;
    /* Warm light (t > 0) adds red and takes blue, green moves a little. */
    double M[9] = {1 + t, 0, 0, 0, 1 + 0.1 * t, 0, 0, 0, 1 - t};
    return apply_matrix(in, M, out);
}

static const aigtatt_param_desc temperature_params[] = {
    AO_FLOAT("max_shift", "0.12", 0, 0.5, "Largest colour-temperature shift: red gains 1+shift and blue "
                                         "1-shift, shift uniform in [-max_shift, max_shift]."),
    AO_END};

AO_DEFINE_OP(temperature, "Warmer or cooler light",
             "Incandescent versus daylight versus shade. Samples `shift` (positive: warmer).", temperature_params,
             NULL, temperature_apply);

/* ---- illumination ----------------------------------------------------------- */

static int illumination_check(const aigtatt_params *p) { return ao_check_range(p, "min_strength", "max_strength"); }

static int illumination_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                              aigtatt_image **out, char *js, size_t jn)
{
    const char *shape = AO_S(p, "shape");
    int radial = !strcmp(shape, "radial");
    if (!strcmp(shape, "random"))
        radial = ao_host->rng_uniform(rng) < 0.5;
    double s = ao_uniform(rng, AO_F(p, "min_strength"), AO_F(p, "max_strength"));
    const double w = in->width, h = in->height, diag = sqrt(w * w + h * h);
    double ang = 0, cx = 0, cy = 0, rad = 1;
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_str(&j, "shape", radial ? "radial" : "linear");
    ao_json_num(&j, "strength", s);
    if (radial) {
        cx = ao_uniform(rng, 0, w);
        cy = ao_uniform(rng, 0, h);
        rad = ao_uniform(rng, 0.4, 1.0) * diag;
        ao_json_num(&j, "cx", cx);
        ao_json_num(&j, "cy", cy);
        ao_json_num(&j, "radius", rad);
    } else {
        ang = ao_uniform(rng, 0, 360);
        ao_json_num(&j, "angle_deg", ang);
    }
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    const double dx = cos(ang * M_PI / 180), dy = sin(ang * M_PI / 180);
    /* Projections of the corners bound the linear ramp to [0, 1]. */
    double lo = fmin(fmin(0, dx * w), fmin(dy * h, dx * w + dy * h));
    double hi = fmax(fmax(0, dx * w), fmax(dy * h, dx * w + dy * h));
    const int c = in->channels, cc = colour_channels(in);
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++) {
            double t;
            if (radial) {
                double d = hypot(x + 0.5 - cx, y + 0.5 - cy) / rad;
                t = fmin(1.0, d * d);
            } else {
                t = ((x + 0.5) * dx + (y + 0.5) * dy - lo) / (hi - lo);
            }
            double g = 1 - s * t;
            const uint8_t *sp = ao_px(in, x, y);
            uint8_t *d = ao_px(o, x, y);
            for (int k = 0; k < c; k++)
                d[k] = k < cc ? ao_clamp_u8(sp[k] * g) : sp[k];
        }
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc illumination_params[] = {
    AO_ENUM("shape", "random", "linear|radial|random",
            "A light falling off across the image (linear), around a bright spot (radial), or either."),
    AO_FLOAT("min_strength", "0.1", 0, 1, "Least darkening at the dark end (fraction of the value)."),
    AO_FLOAT("max_strength", "0.5", 0, 1, "Most darkening; uniform in [min_strength, max_strength]."),
    AO_END};

AO_DEFINE_OP(illumination, "Uneven lighting: a gradient or a spot",
             "Multiplies by a smooth light map: a linear ramp at a random angle or a radial fall-off around "
             "a random centre. Samples `shape`, `strength` and `angle_deg` or `cx`, `cy`, `radius`.",
             illumination_params, illumination_check, illumination_apply);
