/* Photometric ops: the light and the camera's colour response change. Ops
 * that act on each value alone go through a 256-entry table; alpha (a
 * fourth channel) is never touched. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"

static int colour_channels(const aigtatt_image *img) { return img->channels == 4 ? 3 : img->channels; }

/* Applies the same table to every colour channel into a new image. */
static int apply_lut(const aigtatt_image *in, const uint8_t lut[256], aigtatt_image **out)
{
    aigtatt_image *o = ao_new_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    const int c = in->channels, cc = colour_channels(in);
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
    double sum = 0;
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++)
            sum += ao_luma(ao_px(in, x, y), in->channels);
    return sum / ((double)in->width * in->height);
}

static int contrast_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                          aigtatt_image **out, char *js, size_t jn)
{
    double f = ao_log_uniform(rng, AO_F(p, "min"), AO_F(p, "max"));
    int rc = one_value("factor", f, js, jn);
    if (rc)
        return rc;
    /* About the mean, so the overall exposure stays where it was. */
    double m = mean_luma(in);
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = ao_clamp_u8(m + f * (v - m));
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
    aigtatt_image *o = ao_new_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    const int c = in->channels;
    for (int y = 0; y < in->height; y++) {
        const uint8_t *s = ao_px(in, 0, y);
        uint8_t *d = ao_px(o, 0, y);
        for (int x = 0; x < in->width; x++, s += c, d += c) {
            if (c < 3) {
                d[0] = s[0]; /* grey has no hue or tint */
                continue;
            }
            for (int k = 0; k < 3; k++)
                d[k] = ao_clamp_u8(M[k * 3] * s[0] + M[k * 3 + 1] * s[1] + M[k * 3 + 2] * s[2]);
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
    aigtatt_image *o = ao_new_like(in);
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
