/* Internal interface of the augmentation plugin (prefix ao_): shared
 * sampling, JSON and pixel helpers for the ops, and their descriptors. */
#ifndef AO_H
#define AO_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/aigtatt.h>
#include <aigtatt/augment.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Bump when any op's output for the same seed changes: it is part of the
 * pipeline's cache key (op versions are not, see ao_pipeline.c). */
#define AO_VERSION "1.3.1"

extern const aigtatt_host *ao_host;

/* ---- sampling ----------------------------------------------------------- */

double ao_uniform(aigtatt_rng *rng, double lo, double hi);
/* Uniform in log space: right for factors (a scale of 0.5 and of 2 are
 * equally far from 1). lo, hi > 0. */
double ao_log_uniform(aigtatt_rng *rng, double lo, double hi);
/* Integer in [lo, hi]. */
int64_t ao_int(aigtatt_rng *rng, int64_t lo, int64_t hi);
/* Checks that parameter lo <= parameter hi. */
int ao_check_range(const aigtatt_params *p, const char *lo, const char *hi);

/* ---- the sampled-values JSON object ------------------------------------- */

typedef struct ao_json {
    char *buf;
    size_t size, len;
    int n, overflow;
} ao_json;

void ao_json_begin(ao_json *j, char *buf, size_t size);
void ao_json_num(ao_json *j, const char *key, double v);
void ao_json_int(ao_json *j, const char *key, int64_t v);
void ao_json_str(ao_json *j, const char *key, const char *v);
/* Closes the object; AIGTATT_ERR_LIMIT (with an error) if it did not fit. */
int ao_json_end(ao_json *j);

/* ---- pixels --------------------------------------------------------------- */

typedef enum ao_border { AO_REFLECT, AO_EDGE, AO_CONSTANT } ao_border;

typedef struct ao_fill {
    ao_border mode;
    uint8_t value[4];
} ao_fill;

/* The border parameters every geometric op declares ("border", "fill"). */
ao_fill ao_fill_from(const aigtatt_params *p);

aigtatt_image *ao_new_like(const aigtatt_image *in);
/* An image whose pixels are left unset (no zeroing pass), for ops that
 * write every byte of their output: the same image the host's image_new()
 * makes, with a buffer from malloc() instead of calloc(). */
aigtatt_image *ao_new_uninit(int w, int h, int c);
aigtatt_image *ao_new_uninit_like(const aigtatt_image *in);
static inline uint8_t *ao_px(const aigtatt_image *img, int x, int y)
{
    return img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->channels;
}
static inline uint8_t ao_clamp_u8(double v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5);
}
static inline double ao_luma(const uint8_t *p, int channels)
{
    return channels >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
}

/* Index of pixel `i` along an axis of `n` pixels under the border mode:
 * itself when inside, mirrored (reflect-101) or clamped (edge) outside;
 * -1 for a constant border. */
int ao_resolve(int i, int n, ao_border mode);

/* Bilinear sample of `in` at pixel-centre coordinates (sx, sy): pixel
 * (0, 0) covers [0,1)x[0,1), its centre is (0.5, 0.5). */
void ao_sample(const aigtatt_image *in, double sx, double sy, const ao_fill *f, uint8_t *out);

/* Projective warp: for each output pixel centre (x, y), samples the input
 * at H * (x, y, 1) (H maps output to input, row-major 3x3). */
void ao_warp(const aigtatt_image *in, aigtatt_image *out, const double H[9], const ao_fill *f);

/* General warp: map(ctx, x, y, &sx, &sy) gives the input point for output
 * pixel centre (x, y); returns 0 to paint the fill instead. */
typedef int (*ao_map_fn)(void *ctx, double x, double y, double *sx, double *sy);
void ao_warp_map(const aigtatt_image *in, aigtatt_image *out, ao_map_fn map, void *ctx, const ao_fill *f);

/* d[i] = sum_j k[j] * src[j][i] for i < n (j = 0..taps-1, summed in that
 * order), vectorised: the inner loop of blurs and other small filters. */
void ao_weighted_rows(float *d, const float *const *src, const float *k, int taps, size_t n);

/* Vector kernels (ao_simd.c): exact, so the same bytes on every CPU. */
/* Whether the CPU runs AVX2 / SSSE3 code (0 in an -DAO_FORCE_SCALAR build,
 * which checks that the plain paths give the same bytes). */
int ao_cpu_avx2(void);
int ao_cpu_ssse3(void);
/* d[i] = lut[s[i]] for i < n. */
void ao_lut_row(const uint8_t *s, uint8_t *d, size_t n, const uint8_t lut[256]);
/* The same for `rows` rows of n bytes (source and destination strides). */
void ao_lut_rows(const uint8_t *s, size_t ss, uint8_t *d, size_t ds, size_t n, int rows, const uint8_t lut[256]);
/* clamp(round(f v + b)) for a byte v in 16-bit fixed point with F fraction
 * bits: t = (256 v * A) >> 16 (A = f 2^(8+F) < 65536), plus B (b 2^F plus
 * the rounding half, |B| < 65536) saturated to 0..65535, then >> F and
 * capped at 255. ao_affine_rows() maps `rows` rows of n bytes so. */
uint8_t ao_affine_byte(uint8_t v, uint32_t A, int32_t B, int F);
void ao_affine_rows(const uint8_t *s, size_t ss, uint8_t *d, size_t ds, size_t n, int rows, uint32_t A, int32_t B,
                    int F);
/* Adds the per-channel sums of an RGB row of w pixels to sum[0..2]. */
void ao_sum_rgb_row(const uint8_t *p, int w, uint64_t sum[3]);
/* RGB rows (w pixels each) through a 14-bit fixed-point 3x3 matrix m
 * (row-major): d = clamp((m * s + 8192) >> 14) per pixel and channel. */
void ao_matrix_rgb(const uint8_t *s, size_t ss, uint8_t *d, size_t ds, int w, int rows, const int32_t m[9]);
/* Bytes to floats; floats to bytes as ao_clamp_u8() rounds them. */
void ao_u8_to_float(const uint8_t *s, float *d, size_t n);
void ao_float_to_u8(const float *s, uint8_t *d, size_t n);
/* d = the row s mirrored left-right (w pixels of c bytes). */
void ao_flip_row(const uint8_t *s, uint8_t *d, int w, int c);

/* Inverts a 3x3 matrix; 0 on success, -1 if singular. */
int ao_mat3_inv(const double m[9], double inv[9]);
/* m = a * b */
void ao_mat3_mul(const double a[9], const double b[9], double m[9]);

/* Separable Gaussian blur of a float plane, in place (reflected borders);
 * sigma <= 0 leaves it. AIGTATT_ERR_NOMEM on failure. */
int ao_blur_plane(float *plane, int w, int h, double sigma);
/* plane = max(plane, its Gaussian blur), in place: ink bleed. */
int ao_bleed_plane(float *plane, int w, int h, double sigma);
/* Gaussian blur of an 8-bit image into a new one (ao_fixed.c: 16-bit
 * fixed point, within one grey level of the exact blur). */
int ao_blur_image(const aigtatt_image *in, double sigma, aigtatt_image **out);
/* Area-averaging resize (for shrinking) and bilinear (for enlarging), in
 * fixed point (ao_fixed.c). */
aigtatt_image *ao_resize_area(const aigtatt_image *in, int w, int h);
aigtatt_image *ao_resize_bilinear(const aigtatt_image *in, int w, int h);

/* Smooth random field in [-1, 1] over a w x h image (bilinear, with
 * smoothstep weights, interpolation of a coarse grid of `cells` x `cells`
 * uniform values): elastic warps, skin blotches. ao_noise_new() draws the
 * grid from `rng` (NULL and the error set when out of memory); a value is
 * computed where it is read, so no plane of the image's size is stored.
 * ao_noise_at() needs 0 <= x < w and 0 <= y < h; ao_noise_row() writes the
 * w values of row y. */
typedef struct ao_noise ao_noise;
ao_noise *ao_noise_new(aigtatt_rng *rng, int w, int h, int cells);
float ao_noise_at(const ao_noise *nz, int x, int y);
void ao_noise_row(const ao_noise *nz, int y, float *row);
void ao_noise_free(ao_noise *nz); /* NULL is allowed */

/* ---- component descriptors -------------------------------------------- */

#define AO_OPS(X) \
    X(rotate) X(scale) X(translate) X(shear) X(perspective) X(aspect) X(flip) X(elastic) X(curvature) \
    X(brightness) X(contrast) X(gamma) X(hue) X(saturation) X(temperature) X(illumination) \
    X(gaussian_blur) X(motion_blur) X(gaussian_noise) X(sensor_noise) X(jpeg) X(downscale) X(occlusion) \
    X(skin)

#define AO_DECLARE(n) extern const aigtatt_component_desc ao_##n##_desc;
AO_OPS(AO_DECLARE)
#undef AO_DECLARE
extern const aigtatt_component_desc ao_pipeline_desc;

/* Defines ao_<id>_desc: an op named "augment.<id>". */
#define AO_DEFINE_OP(id, summary_, doc_, params_, check_, apply_) \
    static const aigtatt_augment_op_vtable ao_##id##_vt = { \
        .struct_size = sizeof(aigtatt_augment_op_vtable), .check = (check_), .apply = (apply_)}; \
    const aigtatt_component_desc ao_##id##_desc = { \
        .struct_size = sizeof(aigtatt_component_desc), .kind = AIGTATT_KIND_AUGMENT_OP, \
        .name = "augment." #id, .version = AO_VERSION, .summary = (summary_), .doc = (doc_), \
        AIGTATT_PARAMS(params_), .vtable = &ao_##id##_vt}

/* Parameter declarations. */
#define AO_FLOAT(nm, def, lo, hi, text) \
    {.name = nm, .type = AIGTATT_PARAM_FLOAT, .default_value = def, .has_min = 1, .min = lo, .has_max = 1, \
     .max = hi, .doc = text}
#define AO_INT(nm, def, lo, hi, text) \
    {.name = nm, .type = AIGTATT_PARAM_INT, .default_value = def, .has_min = 1, .min = lo, .has_max = 1, \
     .max = hi, .doc = text}
#define AO_ENUM(nm, def, ch, text) \
    {.name = nm, .type = AIGTATT_PARAM_ENUM, .default_value = def, .choices = ch, .doc = text}
#define AO_BOOL(nm, def, text) {.name = nm, .type = AIGTATT_PARAM_BOOL, .default_value = def, .doc = text}
#define AO_BORDER_PARAMS \
    AO_ENUM("border", "edge", "reflect|edge|constant", \
            "What fills pixels that come from outside the image: the nearest edge pixel (edge, the " \
            "default: skin stays skin), a mirror image (reflect, which can duplicate ink near the edge) " \
            "or the grey level `fill` (constant)."), \
    AO_INT("fill", "255", 0, 255, "Grey level of the constant border.")
#define AO_END {.name = NULL}

/* Shorthand for the host's getters. */
#define AO_F(p, name) ao_host->param_float((p), (name))
#define AO_I(p, name) ao_host->param_int((p), (name))
#define AO_B(p, name) ao_host->param_bool((p), (name))
#define AO_S(p, name) ao_host->param_string((p), (name))

#endif
