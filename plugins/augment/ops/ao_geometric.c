/* Geometric ops: the camera and the body move, the tattoo stays the same.
 * Every affine or projective op builds the matrix that maps an output
 * pixel back to the input and resamples once (bilinear), so chaining ops
 * in a pipeline costs one interpolation each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"

/* Resamples `in` through H (output -> input) into a new image. */
static int warp_new(const aigtatt_image *in, const double H[9], const aigtatt_params *p, aigtatt_image **out)
{
    *out = ao_new_uninit_like(in);
    if (!*out)
        return AIGTATT_ERR_NOMEM;
    ao_fill f = ao_fill_from(p);
    ao_warp(in, *out, H, &f);
    return AIGTATT_OK;
}

/* H for "apply the 2x2 forward matrix A about the image centre", inverted. */
static int about_centre(const aigtatt_image *in, const double A[4], double H[9])
{
    double cx = in->width / 2.0, cy = in->height / 2.0;
    double F[9] = {A[0], A[1], cx - A[0] * cx - A[1] * cy, A[2], A[3], cy - A[2] * cx - A[3] * cy, 0, 0, 1};
    if (ao_mat3_inv(F, H)) {
        ao_host->set_error("the sampled transform is singular");
        return AIGTATT_ERR_INVALID;
    }
    return AIGTATT_OK;
}

/* ---- rotate ---------------------------------------------------------------- */

static int rotate_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                        char *js, size_t jn)
{
    double max = AO_F(p, "max_deg");
    double deg = ao_uniform(rng, -max, max);
    double t = deg * M_PI / 180;
    /* Positive angles turn the picture counter-clockwise as seen on screen. */
    double A[4] = {cos(t), sin(t), -sin(t), cos(t)}, H[9];
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "deg", deg);
    int rc = ao_json_end(&j);
    if (!rc)
        rc = about_centre(in, A, H);
    return rc ? rc : warp_new(in, H, p, out);
}

static const aigtatt_param_desc rotate_params[] = {
    AO_FLOAT("max_deg", "15", 0, 180, "Largest rotation in degrees; the angle is uniform in [-max_deg, max_deg]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(rotate, "Rotates about the centre by a uniform angle",
             "An in-plane camera roll. Samples `deg`. The image keeps its size: what moves out of frame is cut and the border is filled, so keep crops' margin above the largest shift.", rotate_params, NULL, rotate_apply);

/* ---- scale ------------------------------------------------------------------ */

static int scale_check(const aigtatt_params *p) { return ao_check_range(p, "min", "max"); }

static int scale_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                       char *js, size_t jn)
{
    double s = ao_log_uniform(rng, AO_F(p, "min"), AO_F(p, "max"));
    double A[4] = {s, 0, 0, s}, H[9];
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "factor", s);
    int rc = ao_json_end(&j);
    if (!rc)
        rc = about_centre(in, A, H);
    return rc ? rc : warp_new(in, H, p, out);
}

static const aigtatt_param_desc scale_params[] = {
    AO_FLOAT("min", "0.8", 0.05, 20, "Smallest zoom factor (below 1 zooms out)."),
    AO_FLOAT("max", "1.2", 0.05, 20, "Largest zoom factor; the factor is log-uniform in [min, max]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(scale, "Zooms in or out about the centre",
             "The camera's distance changes. Samples `factor`. The image keeps its size: what moves out of frame is cut and the border is filled, so keep crops' margin above the largest shift.", scale_params,
             scale_check, scale_apply);

/* ---- translate ------------------------------------------------------------- */

static int translate_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                           aigtatt_image **out, char *js, size_t jn)
{
    double m = AO_F(p, "max_frac");
    double fx = ao_uniform(rng, -m, m), fy = ao_uniform(rng, -m, m);
    double tx = fx * in->width, ty = fy * in->height;
    double H[9] = {1, 0, -tx, 0, 1, -ty, 0, 0, 1};
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "dx", tx);
    ao_json_num(&j, "dy", ty);
    int rc = ao_json_end(&j);
    return rc ? rc : warp_new(in, H, p, out);
}

static const aigtatt_param_desc translate_params[] = {
    AO_FLOAT("max_frac", "0.1", 0, 1, "Largest shift as a fraction of the width (x) and height (y), each "
                                      "uniform in [-max_frac, max_frac]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(translate, "Shifts the image",
             "An off-centre framing. Samples `dx` and `dy` in pixels (positive: right, down). The image keeps its size: what moves out of frame is cut and the border is filled, so keep crops' margin above the largest shift.", translate_params,
             NULL, translate_apply);

/* ---- shear ------------------------------------------------------------------ */

static int shear_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                       char *js, size_t jn)
{
    double m = AO_F(p, "max_deg");
    double sx = ao_uniform(rng, -m, m), sy = ao_uniform(rng, -m, m);
    double A[4] = {1, tan(sx * M_PI / 180), tan(sy * M_PI / 180), 1}, H[9];
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "x_deg", sx);
    ao_json_num(&j, "y_deg", sy);
    int rc = ao_json_end(&j);
    if (!rc)
        rc = about_centre(in, A, H);
    return rc ? rc : warp_new(in, H, p, out);
}

static const aigtatt_param_desc shear_params[] = {
    AO_FLOAT("max_deg", "10", 0, 45, "Largest shear angle in degrees along each axis, uniform in "
                                     "[-max_deg, max_deg]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(shear, "Shears along x and y", "A skewed view. Samples `x_deg` and `y_deg`. The image keeps its size: what moves out of frame is cut and the border is filled, so keep crops' margin above the largest shift.", shear_params, NULL,
             shear_apply);

/* ---- perspective ----------------------------------------------------------- */

/* Solves the 8x8 system of the homography taking points a[i] to b[i]
 * (4 points, x/y interleaved) by Gaussian elimination. */
static int homography(const double a[8], const double b[8], double H[9])
{
    double M[8][9];
    for (int i = 0; i < 4; i++) {
        double x = a[2 * i], y = a[2 * i + 1], u = b[2 * i], v = b[2 * i + 1];
        double r1[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
        double r2[9] = {0, 0, 0, x, y, 1, -v * x, -v * y, v};
        memcpy(M[2 * i], r1, sizeof r1);
        memcpy(M[2 * i + 1], r2, sizeof r2);
    }
    for (int c = 0; c < 8; c++) {
        int piv = c;
        for (int r = c + 1; r < 8; r++)
            if (fabs(M[r][c]) > fabs(M[piv][c]))
                piv = r;
        if (fabs(M[piv][c]) < 1e-12)
            return -1;
        if (piv != c)
            for (int k = 0; k < 9; k++) {
                double t = M[c][k];
                M[c][k] = M[piv][k];
                M[piv][k] = t;
            }
        for (int r = 0; r < 8; r++) {
            if (r == c)
                continue;
            double f = M[r][c] / M[c][c];
            for (int k = c; k < 9; k++)
                M[r][k] -= f * M[c][k];
        }
    }
    for (int i = 0; i < 8; i++)
        H[i] = M[i][8] / M[i][i];
    H[8] = 1;
    return 0;
}

static int perspective_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                             aigtatt_image **out, char *js, size_t jn)
{
    double m = AO_F(p, "max_frac"), w = in->width, h = in->height;
    double src[8] = {0, 0, w, 0, w, h, 0, h}, dst[8];
    static const char *const keys[8] = {"tl_x", "tl_y", "tr_x", "tr_y", "br_x", "br_y", "bl_x", "bl_y"};
    ao_json j;
    ao_json_begin(&j, js, jn);
    for (int i = 0; i < 8; i++) {
        double d = ao_uniform(rng, -m, m) * (i % 2 ? h : w);
        dst[i] = src[i] + d;
        ao_json_num(&j, keys[i], d);
    }
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    double H[9];
    /* Output corners come from the input corners: map dst -> src. */
    if (homography(dst, src, H)) {
        ao_host->set_error("the sampled perspective is degenerate");
        return AIGTATT_ERR_INVALID;
    }
    return warp_new(in, H, p, out);
}

static const aigtatt_param_desc perspective_params[] = {
    AO_FLOAT("max_frac", "0.08", 0, 0.3, "Largest move of each corner, as a fraction of the width (x) or "
                                         "height (y), uniform in [-max_frac, max_frac]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(perspective, "Tilts the view with a random homography",
             "Each corner moves independently, as when the camera is not square to the skin. Samples the "
             "corner offsets in pixels (tl_x, tl_y, tr_x, ...). The image keeps its size: what moves out of frame is cut and the border is filled, so keep crops' margin above the largest shift.",
             perspective_params, NULL, perspective_apply);

/* ---- aspect ---------------------------------------------------------------- */

static int aspect_check(const aigtatt_params *p) { return ao_check_range(p, "min_ratio", "max_ratio"); }

static int aspect_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                        char *js, size_t jn)
{
    double r = ao_log_uniform(rng, AO_F(p, "min_ratio"), AO_F(p, "max_ratio"));
    /* Stretch x by sqrt(r) and squeeze y by as much: the area is kept. */
    double A[4] = {sqrt(r), 0, 0, 1 / sqrt(r)}, H[9];
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "ratio", r);
    int rc = ao_json_end(&j);
    if (!rc)
        rc = about_centre(in, A, H);
    return rc ? rc : warp_new(in, H, p, out);
}

static const aigtatt_param_desc aspect_params[] = {
    AO_FLOAT("min_ratio", "0.8", 0.1, 10, "Smallest width/height stretch."),
    AO_FLOAT("max_ratio", "1.25", 0.1, 10, "Largest width/height stretch; log-uniform in [min_ratio, max_ratio]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(aspect, "Stretches one axis and squeezes the other",
             "Changes the aspect ratio at constant area, as a foreshortened or stretched limb does. Samples "
             "`ratio` (x stretch over y stretch). The image keeps its size: what moves out of frame is cut and the border is filled, so keep crops' margin above the largest shift.",
             aspect_params, aspect_check, aspect_apply);

/* ---- flip ------------------------------------------------------------------- */

static int flip_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                      char *js, size_t jn)
{
    const char *axis = AO_S(p, "axis");
    int horiz = !strcmp(axis, "horizontal");
    if (!strcmp(axis, "random"))
        horiz = ao_host->rng_uniform(rng) < 0.5;
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_str(&j, "axis", horiz ? "horizontal" : "vertical");
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    const int w = in->width, h = in->height, c = in->channels;
    for (int y = 0; y < h; y++) {
        uint8_t *d = ao_px(o, 0, y);
        if (!horiz) {
            memcpy(d, ao_px(in, 0, h - 1 - y), (size_t)w * (size_t)c);
            continue;
        }
        ao_flip_row(ao_px(in, 0, y), d, w, c);
    }
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc flip_params[] = {
    AO_ENUM("axis", "horizontal", "horizontal|vertical|random",
            "Mirror left-right (horizontal), top-bottom (vertical), or either with equal odds (random). "
            "Note that a mirrored tattoo is, strictly, another design."),
    AO_END};

AO_DEFINE_OP(flip, "Mirrors the image", "Samples `axis`.", flip_params, NULL, flip_apply);

/* ---- elastic ----------------------------------------------------------------- */

typedef struct elastic_ctx {
    const ao_noise *dx, *dy;
    double alpha;
} elastic_ctx;

static int elastic_map(void *ctx, double x, double y, double *sx, double *sy)
{
    const elastic_ctx *e = ctx;
    int ix = (int)x, iy = (int)y;
    /* Rounded to float as the displacement planes were before they became
     * fields computed on the fly: the same seed keeps the same bytes. */
    *sx = x + (float)(ao_noise_at(e->dx, ix, iy) * e->alpha);
    *sy = y + (float)(ao_noise_at(e->dy, ix, iy) * e->alpha);
    return 1;
}

static int elastic_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                         char *js, size_t jn)
{
    const int w = in->width, h = in->height;
    double alpha = ao_uniform(rng, 0, AO_F(p, "max_alpha")) * (w > h ? w : h);
    int cells = (int)AO_I(p, "cells");
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "alpha_px", alpha);
    ao_json_int(&j, "cells", cells);
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    ao_noise *dx = ao_noise_new(rng, w, h, cells);
    ao_noise *dy = dx ? ao_noise_new(rng, w, h, cells) : NULL;
    aigtatt_image *o = dy ? ao_new_uninit_like(in) : NULL;
    if (!o) {
        ao_noise_free(dx);
        ao_noise_free(dy);
        return AIGTATT_ERR_NOMEM;
    }
    elastic_ctx e = {dx, dy, alpha};
    ao_fill f = ao_fill_from(p);
    ao_warp_map(in, o, elastic_map, &e, &f);
    ao_noise_free(dx);
    ao_noise_free(dy);
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc elastic_params[] = {
    AO_FLOAT("max_alpha", "0.02", 0, 0.25, "Largest displacement as a fraction of the longer side; the "
                                           "strength is uniform in [0, max_alpha]."),
    AO_INT("cells", "4", 1, 64, "Smoothness: the displacement field varies over this many cells per side "
                                "(fewer is smoother, like skin; more is wobblier)."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(elastic, "Smooth random warp, like skin stretching",
             "A smooth displacement field (interpolated random grid) bends the lines of the design the way "
             "skin stretches over muscle. Samples `alpha_px` (the strength in pixels) and `cells`.",
             elastic_params, NULL, elastic_apply);

/* ---- curvature -------------------------------------------------------------- */

/* The design wraps a cylinder (a forearm, a calf) seen from the front: a
 * point at arc length s from the axis shows at u = R sin(s/R). */
typedef struct curve_ctx {
    double R, c, half, squeeze;
    int vertical;
} curve_ctx;

static int curve_map(void *ctx, double x, double y, double *sx, double *sy)
{
    const curve_ctx *k = ctx;
    double u = (k->vertical ? x : y) - k->c;
    double s = k->R * asin(fmax(-1.0, fmin(1.0, u / k->R))) * k->squeeze;
    *sx = k->vertical ? k->c + s : x;
    *sy = k->vertical ? y : k->c + s;
    return 1;
}

static int curvature_check(const aigtatt_params *p) { return ao_check_range(p, "min_strength", "max_strength"); }

static int curvature_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                           aigtatt_image **out, char *js, size_t jn)
{
    double k = ao_uniform(rng, AO_F(p, "min_strength"), AO_F(p, "max_strength"));
    const char *axis = AO_S(p, "axis");
    int vertical = !strcmp(axis, "vertical");
    if (!strcmp(axis, "random"))
        vertical = ao_host->rng_uniform(rng) < 0.5;
    double shade = ao_uniform(rng, 0, AO_F(p, "max_shade"));
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "strength", k);
    ao_json_str(&j, "axis", vertical ? "vertical" : "horizontal");
    ao_json_num(&j, "shade", shade);
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    curve_ctx c = {0};
    c.vertical = vertical;
    int n = vertical ? in->width : in->height;
    c.half = n / 2.0;
    c.c = c.half;
    if (k < 1e-6) {
        c.R = 1e12;
        c.squeeze = 1;
    } else {
        /* strength = half-width / radius; squeeze keeps the whole design in view. */
        c.R = c.half / k;
        c.squeeze = k / asin(k);
    }
    ao_fill f = ao_fill_from(p);
    ao_warp_map(in, o, curve_map, &c, &f);
    /* Light falls off towards the limb's edges (Lambert, cos of the normal). */
    if (shade > 0 && k > 1e-6)
        for (int y = 0; y < o->height; y++)
            for (int x = 0; x < o->width; x++) {
                double u = ((vertical ? x : y) + 0.5 - c.c) / c.R;
                double cosn = sqrt(fmax(0.0, 1 - u * u));
                double g = 1 - shade * (1 - cosn);
                uint8_t *d = ao_px(o, x, y);
                for (int ch = 0; ch < (o->channels == 4 ? 3 : o->channels); ch++)
                    d[ch] = ao_clamp_u8(d[ch] * g);
            }
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc curvature_params[] = {
    AO_FLOAT("min_strength", "0.2", 0, 0.95, "Least curvature: half the image width over the limb's radius."),
    AO_FLOAT("max_strength", "0.7", 0, 0.95, "Most curvature; uniform in [min_strength, max_strength]. 0.9 "
                                            "is a thin wrist filling the frame."),
    AO_ENUM("axis", "random", "vertical|horizontal|random",
            "Direction of the limb's axis in the picture (vertical: the design wraps left-right)."),
    AO_FLOAT("max_shade", "0.3", 0, 1, "Largest darkening towards the limb's edges, uniform in [0, max_shade]."),
    AO_BORDER_PARAMS, AO_END};

AO_DEFINE_OP(curvature, "Wraps the design around a limb (cylinder)",
             "Body-curvature warp: the design lies on a cylinder seen from the front, so it is compressed and "
             "darker towards the limb's edges. Samples `strength`, `axis` and `shade`.",
             curvature_params, curvature_check, curvature_apply);
