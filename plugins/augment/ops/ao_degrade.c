/* Degradation ops: what a phone camera, a compressor or the world does to
 * a picture of a tattoo. Sizes in pixels refer to the image as handed in
 * (512 to 1024 pixels a side in the shipped configs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"

/* ---- gaussian_blur --------------------------------------------------------- */

static int gblur_check(const aigtatt_params *p) { return ao_check_range(p, "min_sigma", "max_sigma"); }

static int gaussian_blur_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                               aigtatt_image **out, char *js, size_t jn)
{
    double s = ao_uniform(rng, AO_F(p, "min_sigma"), AO_F(p, "max_sigma"));
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "sigma", s);
    int rc = ao_json_end(&j);
    return rc ? rc : ao_blur_image(in, s, out);
}

static const aigtatt_param_desc gaussian_blur_params[] = {
    AO_FLOAT("min_sigma", "0.3", 0, 50, "Smallest blur radius (Gaussian sigma) in pixels."),
    AO_FLOAT("max_sigma", "2", 0, 50, "Largest sigma; uniform in [min_sigma, max_sigma]."),
    AO_END};

AO_DEFINE_OP(gaussian_blur, "Out-of-focus blur",
             "Separable Gaussian blur with mirrored borders. Samples `sigma` in pixels.", gaussian_blur_params,
             gblur_check, gaussian_blur_apply);

/* ---- motion_blur ------------------------------------------------------------ */

static int mblur_check(const aigtatt_params *p) { return ao_check_range(p, "min_len", "max_len"); }

static int motion_blur_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                             aigtatt_image **out, char *js, size_t jn)
{
    double len = ao_uniform(rng, AO_F(p, "min_len"), AO_F(p, "max_len"));
    double ang = ao_uniform(rng, 0, 180);
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "length", len);
    ao_json_num(&j, "angle_deg", ang);
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    /* A straight streak: the mean of n samples one pixel apart along it.
     * Every output pixel samples at the same offsets, so the bilinear
     * weights of all n samples fold into one small kernel of integer taps
     * (about 2n of them), applied to a mirror-padded float copy row by row. */
    int n = (int)ceil(len);
    if (n < 1)
        n = 1;
    const double dx = cos(ang * M_PI / 180), dy = sin(ang * M_PI / 180);
    const int W = in->width, Hh = in->height, c = in->channels;
    const int R = (int)ceil(len / 2) + 2, G = 2 * R + 1;
    const size_t prow = (size_t)(W + 2 * R) * (size_t)c, orow = (size_t)W * (size_t)c;
    double *kern = calloc((size_t)G * G, sizeof *kern);
    /* A ring of the G mirror-padded float rows one output row reads, not a
     * padded copy of the whole image (12 bytes a pixel for RGB). */
    float *pad = malloc(prow * (size_t)G * sizeof *pad);
    float *acc = malloc(orow * sizeof *acc);
    /* n samples touch at most 4n cells; a tap is (kernel row, offset in it) */
    size_t *tap_off = malloc(4 * (size_t)n * sizeof *tap_off);
    int *tap_row = malloc(4 * (size_t)n * sizeof *tap_row);
    float *tap_w = malloc(4 * (size_t)n * sizeof *tap_w);
    const float **tap_src = malloc(4 * (size_t)n * sizeof *tap_src);
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!kern || !pad || !acc || !tap_off || !tap_row || !tap_w || !tap_src || !o) {
        free(tap_src);
        free(tap_row);
        free(kern);
        free(pad);
        free(acc);
        free(tap_off);
        free(tap_w);
        ao_host->image_free(o);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        double t = n == 1 ? 0 : (i / (double)(n - 1) - 0.5) * len;
        double ox = t * dx, oy = t * dy, fx = floor(ox), fy = floor(oy), ax = ox - fx, ay = oy - fy;
        int kx = (int)fx + R, ky = (int)fy + R;
        kern[ky * G + kx] += (1 - ax) * (1 - ay) / n;
        kern[ky * G + kx + 1] += ax * (1 - ay) / n;
        kern[(ky + 1) * G + kx] += (1 - ax) * ay / n;
        kern[(ky + 1) * G + kx + 1] += ax * ay / n;
    }
    /* The non-zero taps, in row order. */
    int n_taps = 0;
    for (int i = 0; i < G * G; i++)
        if (kern[i] != 0) {
            tap_row[n_taps] = i / G;
            tap_off[n_taps] = (size_t)(i % G) * c;
            tap_w[n_taps++] = (float)kern[i];
        }
    /* Padded row r (source row r - R, mirrored) lives in ring slot r % G;
     * output row y reads padded rows y .. y + G - 1. */
    for (int r = 0; r < Hh + 2 * R; r++) {
        const uint8_t *s = ao_px(in, 0, ao_resolve(r - R, Hh, AO_REFLECT));
        float *prow_y = pad + (size_t)(r % G) * prow;
        ao_u8_to_float(s, prow_y + (size_t)R * c, orow);
        for (int x = -R; x < 0; x++)
            memcpy(prow_y + (size_t)(x + R) * c, prow_y + (size_t)(ao_resolve(x, W, AO_REFLECT) + R) * c,
                   (size_t)c * sizeof *prow_y);
        for (int x = W; x < W + R; x++)
            memcpy(prow_y + (size_t)(x + R) * c, prow_y + (size_t)(ao_resolve(x, W, AO_REFLECT) + R) * c,
                   (size_t)c * sizeof *prow_y);
        int y = r - (G - 1); /* the output row whose last padded row this is */
        if (y < 0)
            continue;
        for (int t = 0; t < n_taps; t++)
            tap_src[t] = pad + (size_t)((y + tap_row[t]) % G) * prow + tap_off[t];
        ao_weighted_rows(acc, tap_src, tap_w, n_taps, orow);
        ao_float_to_u8(acc, ao_px(o, 0, y), orow);
    }
    free(kern);
    free(pad);
    free(acc);
    free(tap_off);
    free(tap_row);
    free(tap_w);
    free(tap_src);
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc motion_blur_params[] = {
    AO_FLOAT("min_len", "3", 0, 200, "Shortest streak in pixels."),
    AO_FLOAT("max_len", "12", 0, 200, "Longest streak; uniform in [min_len, max_len], at a uniform angle."),
    AO_END};

AO_DEFINE_OP(motion_blur, "Camera-shake streak",
             "Averages along a straight line. Samples `length` in pixels and `angle_deg`.", motion_blur_params,
             mblur_check, motion_blur_apply);

/* ---- noise ----------------------------------------------------------------------- */

/* Standard normals for the noise ops, drawn in bulk from the op's own
 * generator: Marsaglia and Tsang's ziggurat (128 layers), two normals from
 * each 64-bit draw of rng_u64 (7 bits pick the layer, 25 the signed
 * position), with the rare wedge and tail draws taking more values from
 * the same stream: no call through the host table per value, and no log,
 * sqrt or division but in the rare slow cases (the host's rng_normal() is
 * the polar method). */
typedef struct zig {
    uint32_t kn[128];
    float wn[128], fn[128];
    aigtatt_rng *rng;
    uint64_t bits; /* the unused half of the last draw */
    int have;
} zig;

static void zig_init(zig *z, aigtatt_rng *rng)
{
    const double m1 = 16777216.0; /* 2^24: positions are signed 25-bit */
    const double vn = 9.91256303526217e-3;
    double dn = 3.442619855899, tn = dn, q = vn / exp(-0.5 * dn * dn);
    z->kn[0] = (uint32_t)((dn / q) * m1);
    z->kn[1] = 0;
    z->wn[0] = (float)(q / m1);
    z->wn[127] = (float)(dn / m1);
    z->fn[0] = 1.0f;
    z->fn[127] = (float)exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(vn / dn + exp(-0.5 * dn * dn)));
        z->kn[i + 1] = (uint32_t)((dn / tn) * m1);
        tn = dn;
        z->fn[i] = (float)exp(-0.5 * dn * dn);
        z->wn[i] = (float)(dn / m1);
    }
    z->rng = rng;
    z->have = 0;
}

static inline uint32_t zig_u32(zig *z)
{
    if (z->have) {
        z->have = 0;
        return (uint32_t)(z->bits >> 32);
    }
    z->bits = ao_host->rng_u64(z->rng);
    z->have = 1;
    return (uint32_t)z->bits;
}

/* Uniform in (0, 1). */
static double zig_uni(zig *z) { return ((double)zig_u32(z) + 0.5) * (1.0 / 4294967296.0); }

static float zig_slow(zig *z, int32_t hz, uint32_t iz)
{
    const double r = 3.442619855899;
    for (;;) {
        const double x = hz * (double)z->wn[iz];
        if (iz == 0) { /* the tail beyond r */
            double t, u;
            do {
                t = -log(zig_uni(z)) / r;
                u = -log(zig_uni(z));
            } while (u + u < t * t);
            return (float)(hz > 0 ? r + t : -r - t);
        }
        if (z->fn[iz] + zig_uni(z) * (z->fn[iz - 1] - z->fn[iz]) < exp(-0.5 * x * x))
            return (float)x;
        const uint32_t u = zig_u32(z);
        hz = (int32_t)u >> 7;
        iz = u & 127;
        if ((uint32_t)(hz < 0 ? -hz : hz) < z->kn[iz])
            return (float)hz * z->wn[iz];
    }
}

static inline float zig_normal(zig *z)
{
    const uint32_t u = zig_u32(z);
    const int32_t hz = (int32_t)u >> 7;
    const uint32_t iz = u & 127;
    if ((uint32_t)(hz < 0 ? -hz : hz) < z->kn[iz])
        return (float)hz * z->wn[iz];
    return zig_slow(z, hz, iz);
}

/* Adds zero-mean Gaussian noise whose deviation at value v is
 * sqrt(shot^2 * v/255 + read^2); `chroma` of the variance is drawn per
 * channel, the rest is shared (luminance noise). The deviation is a table
 * of the 256 values; each output is round(v + sd(v) * noise) clamped to
 * 0..255, in float. */
static int add_noise(const aigtatt_image *in, aigtatt_rng *rng, double shot, double read, double chroma,
                     aigtatt_image **out)
{
    aigtatt_image *o = ao_new_uninit_like(in);
    const int c = in->channels, cc = c == 4 ? 3 : c;
    const size_t rowlen = (size_t)in->width * (size_t)c;
    float *nrow = o ? malloc(rowlen * sizeof *nrow) : NULL;
    zig *z = nrow ? malloc(sizeof *z) : NULL;
    if (!z) {
        free(nrow);
        ao_host->image_free(o);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    zig_init(z, rng);
    const float wc = (float)sqrt(chroma), ws = (float)sqrt(1 - chroma);
    float sd[256];
    for (int v = 0; v < 256; v++)
        sd[v] = (float)sqrt(shot * shot * v / 255.0 + read * read);
    for (int y = 0; y < in->height; y++) {
        const uint8_t *s = ao_px(in, 0, y);
        uint8_t *d = ao_px(o, 0, y);
        /* The noise of the row first (shared, then per channel, pixel by
         * pixel), then a loop the compiler vectorises. */
        for (size_t i = 0; i < rowlen; i += (size_t)c) {
            const float shared = ws > 0 ? ws * zig_normal(z) : 0.0f;
            for (int k = 0; k < cc; k++)
                nrow[i + (size_t)k] = (wc > 0 ? wc * zig_normal(z) : 0.0f) + shared;
            if (c == 4)
                nrow[i + 3] = 0.0f;
        }
        for (size_t i = 0; i < rowlen; i++) {
            float v = (float)s[i] + sd[s[i]] * nrow[i] + 0.5f;
            v = v > 0.0f ? v : 0.0f;
            v = v < 255.0f ? v : 255.0f;
            d[i] = (uint8_t)(int)v;
        }
        if (c == 4)
            for (int x = 0; x < in->width; x++)
                d[(size_t)x * 4 + 3] = s[(size_t)x * 4 + 3];
    }
    free(nrow);
    free(z);
    *out = o;
    return AIGTATT_OK;
}

static int gnoise_check(const aigtatt_params *p) { return ao_check_range(p, "min_sigma", "max_sigma"); }

static int gaussian_noise_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                                aigtatt_image **out, char *js, size_t jn)
{
    double s = ao_uniform(rng, AO_F(p, "min_sigma"), AO_F(p, "max_sigma"));
    int per_channel = AO_B(p, "per_channel");
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "sigma", s);
    int rc = ao_json_end(&j);
    return rc ? rc : add_noise(in, rng, 0, s, per_channel ? 1.0 : 0.0, out);
}

static const aigtatt_param_desc gaussian_noise_params[] = {
    AO_FLOAT("min_sigma", "2", 0, 128, "Smallest noise deviation, in grey levels (0..255)."),
    AO_FLOAT("max_sigma", "10", 0, 128, "Largest deviation; uniform in [min_sigma, max_sigma]."),
    AO_BOOL("per_channel", "true", "Independent noise per colour channel (true) or one grey noise for all."),
    AO_END};

AO_DEFINE_OP(gaussian_noise, "Additive Gaussian noise", "Samples `sigma` in grey levels.", gaussian_noise_params,
             gnoise_check, gaussian_noise_apply);

static int sensor_noise_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                              aigtatt_image **out, char *js, size_t jn)
{
    double shot = ao_uniform(rng, 0, AO_F(p, "max_shot"));
    double read = ao_uniform(rng, 0, AO_F(p, "max_read"));
    double chroma = AO_F(p, "chroma");
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "shot", shot);
    ao_json_num(&j, "read", read);
    int rc = ao_json_end(&j);
    return rc ? rc : add_noise(in, rng, shot, read, chroma, out);
}

static const aigtatt_param_desc sensor_noise_params[] = {
    AO_FLOAT("max_shot", "12", 0, 128, "Largest photon (shot) noise deviation at full white, in grey levels; "
                                       "it grows with the square root of brightness."),
    AO_FLOAT("max_read", "4", 0, 128, "Largest signal-independent (read) noise deviation, in grey levels."),
    AO_FLOAT("chroma", "0.4", 0, 1, "Share of the noise variance that differs per channel (colour speckle); "
                                    "the rest is grey."),
    AO_END};

AO_DEFINE_OP(sensor_noise, "Camera sensor noise (shot + read)",
             "Poisson-Gaussian noise: dim areas are cleaner in absolute terms, bright ones noisier, as on a "
             "phone sensor. Samples `shot` and `read`, each uniform from 0 to its maximum.",
             sensor_noise_params, NULL, sensor_noise_apply);

/* ---- downscale ------------------------------------------------------------------ */

static int downscale_check(const aigtatt_params *p) { return ao_check_range(p, "min_factor", "max_factor"); }

static int downscale_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                           aigtatt_image **out, char *js, size_t jn)
{
    double f = ao_uniform(rng, AO_F(p, "min_factor"), AO_F(p, "max_factor"));
    const char *interp = AO_S(p, "interp");
    int nearest = !strcmp(interp, "nearest");
    if (!strcmp(interp, "random"))
        nearest = ao_host->rng_uniform(rng) < 0.5;
    int w = (int)lround(in->width * f), h = (int)lround(in->height * f);
    w = w < 1 ? 1 : w;
    h = h < 1 ? 1 : h;
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_num(&j, "factor", f);
    ao_json_str(&j, "interp", nearest ? "nearest" : "bilinear");
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    aigtatt_image *small = ao_resize_area(in, w, h);
    if (!small)
        return AIGTATT_ERR_NOMEM;
    aigtatt_image *o;
    if (nearest) {
        o = ao_new_uninit_like(in);
        for (int y = 0; o && y < in->height; y++)
            for (int x = 0; x < in->width; x++) {
                int sx = (int)((x + 0.5) * w / in->width), sy = (int)((y + 0.5) * h / in->height);
                memcpy(ao_px(o, x, y), ao_px(small, sx, sy), (size_t)in->channels);
            }
    } else {
        o = ao_resize_bilinear(small, in->width, in->height);
    }
    ao_host->image_free(small);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc downscale_params[] = {
    AO_FLOAT("min_factor", "0.25", 0.01, 1, "Smallest intermediate size as a fraction of the original."),
    AO_FLOAT("max_factor", "0.75", 0.01, 1, "Largest intermediate size; uniform in [min_factor, max_factor]."),
    AO_ENUM("interp", "bilinear", "bilinear|nearest|random", "How the small image is enlarged again."),
    AO_END};

AO_DEFINE_OP(downscale, "Loses resolution: shrink, then enlarge back",
             "A far-away or low-resolution capture at the original size. Samples `factor` and `interp`.",
             downscale_params, downscale_check, downscale_apply);

/* ---- occlusion ------------------------------------------------------------------- */

static int occlusion_check(const aigtatt_params *p)
{
    int rc = ao_check_range(p, "min_area", "max_area");
    return rc ? rc : ao_check_range(p, "min_count", "max_count");
}

static int occlusion_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in,
                           aigtatt_image **out, char *js, size_t jn)
{
    int n = (int)ao_int(rng, AO_I(p, "min_count"), AO_I(p, "max_count"));
    const char *shape_p = AO_S(p, "shape"), *fill_p = AO_S(p, "fill");
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    memcpy(o->data, in->data, (size_t)in->height * in->stride);
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_int(&j, "count", n);
    const int W = in->width, H = in->height, c = in->channels;
    for (int i = 0; i < n; i++) {
        double area = ao_uniform(rng, AO_F(p, "min_area"), AO_F(p, "max_area")) * W * H;
        double aspect = ao_log_uniform(rng, 1 / 3.0, 3.0);
        double rw = sqrt(area * aspect), rh = sqrt(area / aspect);
        double cx = ao_uniform(rng, 0, W), cy = ao_uniform(rng, 0, H);
        int ellipse = !strcmp(shape_p, "ellipse") || (!strcmp(shape_p, "random") && ao_host->rng_uniform(rng) < 0.5);
        int noise = !strcmp(fill_p, "noise") || (!strcmp(fill_p, "random") && ao_host->rng_uniform(rng) < 0.5);
        uint8_t colour[4] = {(uint8_t)ao_int(rng, 0, 255), (uint8_t)ao_int(rng, 0, 255), (uint8_t)ao_int(rng, 0, 255),
                             255};
        char key[32];
#define KEY(name) (snprintf(key, sizeof key, "%s_%d", name, i + 1), key)
        ao_json_num(&j, KEY("cx"), cx);
        ao_json_num(&j, KEY("cy"), cy);
        ao_json_num(&j, KEY("w"), rw);
        ao_json_num(&j, KEY("h"), rh);
        ao_json_str(&j, KEY("shape"), ellipse ? "ellipse" : "rect");
        ao_json_str(&j, KEY("fill"), noise ? "noise" : "colour");
        if (!noise) {
            char rgb[8];
            snprintf(rgb, sizeof rgb, "#%02x%02x%02x", colour[0], colour[1], colour[2]);
            ao_json_str(&j, KEY("colour"), rgb);
        }
#undef KEY
        int x0 = (int)fmax(0, floor(cx - rw / 2)), x1 = (int)fmin(W, ceil(cx + rw / 2));
        int y0 = (int)fmax(0, floor(cy - rh / 2)), y1 = (int)fmin(H, ceil(cy + rh / 2));
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                if (ellipse) {
                    double u = (x + 0.5 - cx) / (rw / 2), v = (y + 0.5 - cy) / (rh / 2);
                    if (u * u + v * v > 1)
                        continue;
                }
                uint8_t *d = ao_px(o, x, y);
                for (int k = 0; k < c; k++)
                    d[k] = k == 3 ? d[k] : noise ? (uint8_t)(ao_host->rng_u64(rng) >> 56) : colour[c == 1 ? 0 : k];
            }
    }
    int rc = ao_json_end(&j);
    if (rc) {
        ao_host->image_free(o);
        return rc;
    }
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc occlusion_params[] = {
    AO_INT("min_count", "1", 0, 16, "Fewest occluders."),
    AO_INT("max_count", "2", 0, 16, "Most occluders; the count is uniform in [min_count, max_count]."),
    AO_FLOAT("min_area", "0.02", 0, 1, "Smallest occluder as a fraction of the image area."),
    AO_FLOAT("max_area", "0.1", 0, 1, "Largest occluder; uniform in [min_area, max_area], aspect log-uniform "
                                      "in [1/3, 3], centre anywhere in the image."),
    AO_ENUM("shape", "random", "rect|ellipse|random", "Occluder shape."),
    AO_ENUM("fill", "random", "colour|noise|random", "A flat random colour (clothing, a sticker) or random "
                                                     "noise."),
    AO_END};

AO_DEFINE_OP(occlusion, "Hides parts of the tattoo",
             "Partial occlusion by clothing, hands, hair or stickers. Samples the count and, per occluder, "
             "`cx_<i>`, `cy_<i>`, `w_<i>`, `h_<i>`, `shape_<i>` and `fill_<i>`.",
             occlusion_params, occlusion_check, occlusion_apply);
