/* The augmentation ops, loaded in-process: every sampled value stays in its
 * declared range, the same seed gives the same bytes, and each op does to
 * the picture what its doc says. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aigtatt/augment.h>
#include "config/cfg.h"
#include "ds_helpers.h"
#include "host/host.h"
#include "image/image.h"
#include "plugin/registry.h"
#include "util/error.h"

static const aigtatt_host *H;

static void setup(void)
{
    ds_load_plugins();
    H = aigtatt_host_get();
    cr_assert_not_null(H->find_component(AIGTATT_KIND_AUGMENT_OP, "augment.rotate"),
                       "augment plugin not found in AIGTATT_PLUGIN_DIR");
}
TestSuite(ops, .init = setup);

typedef struct op_call {
    const aigtatt_component_desc *comp;
    const aigtatt_augment_op_vtable *vt;
    aigtatt_params *params;
    aigtatt_cfg *cfg;
} op_call;

/* Parses `yaml` (a mapping) as the parameters of augment.<name>. */
static int op_open(op_call *c, const char *name, const char *yaml)
{
    char full[64];
    snprintf(full, sizeof full, "augment.%s", name);
    c->comp = H->find_component(AIGTATT_KIND_AUGMENT_OP, full);
    cr_assert_not_null(c->comp, "no %s", full);
    c->vt = c->comp->vtable;
    cr_assert(c->vt->struct_size >= sizeof(aigtatt_augment_op_vtable));
    c->cfg = NULL;
    cr_assert_eq(aigtatt_cfg_load_string(yaml, strlen(yaml), "ops.yaml", &c->cfg), AIGTATT_OK);
    c->params = NULL;
    int rc = H->params_parse(c->cfg, c->comp, &c->params);
    if (rc == AIGTATT_OK && c->vt->check)
        rc = c->vt->check(c->params);
    return rc;
}

static void op_close(op_call *c)
{
    H->params_free(c->params);
    aigtatt_cfg_free(c->cfg);
}

/* Applies once with a generator seeded `seed`; returns the sampled JSON. */
static json_t *apply(op_call *c, uint64_t seed, const aigtatt_image *in, aigtatt_image **out)
{
    aigtatt_rng *rng = H->rng_new(seed);
    char js[4096];
    memset(js, 'x', sizeof js);
    int rc = c->vt->apply(c->params, rng, in, out, js, sizeof js);
    H->rng_free(rng);
    cr_assert_eq(rc, AIGTATT_OK, "%s failed: %s", c->comp->name, aigtatt_last_error());
    cr_assert_not_null(*out);
    cr_assert_eq((*out)->width, in->width);
    cr_assert_eq((*out)->height, in->height);
    cr_assert_eq((*out)->channels, in->channels);
    json_error_t err;
    json_t *j = json_loads(js, 0, &err);
    cr_assert(j && json_is_object(j), "%s: sampled values are not a JSON object: %.80s", c->comp->name, js);
    return j;
}

/* A 64x48 RGB test picture: gradients, a dark disc and a grid of lines. */
static aigtatt_image *picture(void)
{
    aigtatt_image *img = aigtatt_image_new(64, 48, 3);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * 3;
            int disc = (x - 30) * (x - 30) + (y - 22) * (y - 22) < 120;
            int line = x % 11 == 3 || y % 9 == 4;
            p[0] = (uint8_t)(disc ? 20 : line ? 60 : 120 + x);
            p[1] = (uint8_t)(disc ? 25 : line ? 50 : 80 + 2 * y);
            p[2] = (uint8_t)(disc ? 30 : line ? 90 : 200 - x);
        }
    return img;
}

static aigtatt_image *flat(int w, int h, uint8_t r, uint8_t g, uint8_t b)
{
    aigtatt_image *img = aigtatt_image_new(w, h, 3);
    for (int i = 0; i < w * h; i++) {
        img->data[3 * i] = r;
        img->data[3 * i + 1] = g;
        img->data[3 * i + 2] = b;
    }
    return img;
}

static int same(const aigtatt_image *a, const aigtatt_image *b)
{
    return a->width == b->width && a->height == b->height &&
           !memcmp(a->data, b->data, (size_t)a->height * a->stride);
}

static double mean_abs_diff(const aigtatt_image *a, const aigtatt_image *b)
{
    double s = 0;
    size_t n = (size_t)a->height * a->stride;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)a->data[i] - b->data[i]);
    return s / (double)n;
}

static double variance(const aigtatt_image *a)
{
    double s = 0, s2 = 0;
    size_t n = (size_t)a->height * a->stride;
    for (size_t i = 0; i < n; i++) {
        s += a->data[i];
        s2 += (double)a->data[i] * a->data[i];
    }
    return s2 / n - (s / n) * (s / n);
}

/* ---- ranges and reproducibility, for every op --------------------------- */

typedef struct range_case {
    const char *op, *yaml;
    const char *key[3];
    double lo[3], hi[3];
} range_case;

#define W 64.0
#define HH 48.0
static const range_case cases[] = {
    {"rotate", "{max_deg: 20}", {"deg"}, {-20}, {20}},
    {"scale", "{min: 0.7, max: 1.3}", {"factor"}, {0.7}, {1.3}},
    {"translate", "{max_frac: 0.2}", {"dx", "dy"}, {-0.2 * W, -0.2 * HH}, {0.2 * W, 0.2 * HH}},
    {"shear", "{max_deg: 15}", {"x_deg", "y_deg"}, {-15, -15}, {15, 15}},
    {"perspective", "{max_frac: 0.1}", {"tl_x", "br_y"}, {-0.1 * W, -0.1 * HH}, {0.1 * W, 0.1 * HH}},
    {"aspect", "{min_ratio: 0.7, max_ratio: 1.4}", {"ratio"}, {0.7}, {1.4}},
    {"flip", "{axis: random}", {NULL}, {0}, {0}},
    {"elastic", "{max_alpha: 0.05, cells: 3}", {"alpha_px"}, {0}, {0.05 * W}},
    {"curvature", "{min_strength: 0.3, max_strength: 0.8}", {"strength", "shade"}, {0.3, 0}, {0.8, 0.3}},
    {"brightness", "{max_delta: 0.3}", {"delta"}, {-0.3}, {0.3}},
    {"contrast", "{min: 0.5, max: 1.5}", {"factor"}, {0.5}, {1.5}},
    {"gamma", "{min: 0.5, max: 2}", {"gamma"}, {0.5}, {2}},
    {"hue", "{max_deg: 40}", {"deg"}, {-40}, {40}},
    {"saturation", "{min: 0.2, max: 2}", {"factor"}, {0.2}, {2}},
    {"temperature", "{max_shift: 0.2}", {"shift"}, {-0.2}, {0.2}},
    {"illumination", "{min_strength: 0.2, max_strength: 0.6}", {"strength"}, {0.2}, {0.6}},
    {"gaussian_blur", "{min_sigma: 0.5, max_sigma: 3}", {"sigma"}, {0.5}, {3}},
    {"motion_blur", "{min_len: 3, max_len: 9}", {"length", "angle_deg"}, {3, 0}, {9, 180}},
    {"gaussian_noise", "{min_sigma: 3, max_sigma: 9}", {"sigma"}, {3}, {9}},
    {"sensor_noise", "{max_shot: 10, max_read: 5}", {"shot", "read"}, {0, 0}, {10, 5}},
    {"jpeg", "{min_quality: 10, max_quality: 50}", {"quality"}, {10}, {50}},
    {"downscale", "{min_factor: 0.2, max_factor: 0.5}", {"factor"}, {0.2}, {0.5}},
    {"occlusion", "{min_count: 1, max_count: 3, min_area: 0.05, max_area: 0.2}", {"count", "w_1"}, {1, 0},
     {3, W}},
    {"skin", "{min_tone: 2, max_tone: 5, min_opacity: 0.6}", {"tone", "opacity", "bleed"}, {2, 0.6, 0},
     {5, 1, 1.5}},
};

Test(ops, every_op_samples_inside_its_ranges_and_changes_the_picture)
{
    aigtatt_image *in = picture();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        op_call call;
        cr_assert_eq(op_open(&call, cases[c].op, cases[c].yaml), AIGTATT_OK, "%s: %s", cases[c].op,
                     aigtatt_last_error());
        int changed = 0;
        for (uint64_t seed = 1; seed <= 40; seed++) {
            aigtatt_image *out = NULL;
            json_t *j = apply(&call, seed, in, &out);
            for (int k = 0; k < 3 && cases[c].key[k]; k++) {
                json_t *v = json_object_get(j, cases[c].key[k]);
                cr_assert(json_is_number(v), "%s: no number '%s'", cases[c].op, cases[c].key[k]);
                double x = json_number_value(v);
                /* The JSON rounds to 6 significant digits. */
                double tol = 1e-5 * fmax(1, fabs(x));
                cr_assert(x >= cases[c].lo[k] - tol && x <= cases[c].hi[k] + tol, "%s: %s = %g outside [%g, %g]",
                          cases[c].op, cases[c].key[k], x, cases[c].lo[k], cases[c].hi[k]);
            }
            changed += !same(in, out);
            json_decref(j);
            aigtatt_image_free(out);
        }
        cr_assert_geq(changed, 36, "%s changed the picture for only %d of 40 seeds", cases[c].op, changed);
        op_close(&call);
    }
    aigtatt_image_free(in);
}

Test(ops, same_seed_same_bytes_other_seed_other_samples)
{
    aigtatt_image *in = picture();
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        op_call call;
        cr_assert_eq(op_open(&call, cases[c].op, cases[c].yaml), AIGTATT_OK);
        aigtatt_image *a = NULL, *b = NULL, *d = NULL;
        json_t *ja = apply(&call, 99, in, &a), *jb = apply(&call, 99, in, &b), *jd = apply(&call, 100, in, &d);
        cr_assert(same(a, b), "%s: same seed, different pixels", cases[c].op);
        cr_assert(json_equal(ja, jb), "%s: same seed, different samples", cases[c].op);
        if (strcmp(cases[c].op, "flip"))
            cr_assert(!json_equal(ja, jd), "%s: seeds 99 and 100 sampled the same", cases[c].op);
        json_decref(ja);
        json_decref(jb);
        json_decref(jd);
        aigtatt_image_free(a);
        aigtatt_image_free(b);
        aigtatt_image_free(d);
        op_close(&call);
    }
    aigtatt_image_free(in);
}

/* ---- what each op does ----------------------------------------------------- */

static json_t *run1(const char *op, const char *yaml, uint64_t seed, const aigtatt_image *in, aigtatt_image **out)
{
    op_call c;
    cr_assert_eq(op_open(&c, op, yaml), AIGTATT_OK, "%s", aigtatt_last_error());
    json_t *j = apply(&c, seed, in, out);
    op_close(&c);
    return j;
}

static const uint8_t *px(const aigtatt_image *img, int x, int y)
{
    return img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->channels;
}

Test(ops, zero_ranges_are_the_identity)
{
    aigtatt_image *in = picture();
    const char *ops[][2] = {{"rotate", "{max_deg: 0}"},     {"scale", "{min: 1, max: 1}"},
                            {"translate", "{max_frac: 0}"}, {"shear", "{max_deg: 0}"},
                            {"brightness", "{max_delta: 0}"}, {"hue", "{max_deg: 0}"},
                            {"gamma", "{min: 1, max: 1}"},  {"perspective", "{max_frac: 0}"}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        aigtatt_image *out = NULL;
        json_decref(run1(ops[i][0], ops[i][1], 5, in, &out));
        cr_assert_leq(mean_abs_diff(in, out), 0.02, "%s %s moved the picture", ops[i][0], ops[i][1]);
        aigtatt_image_free(out);
    }
    aigtatt_image_free(in);
}

Test(ops, flip_mirrors_exactly)
{
    aigtatt_image *in = picture(), *out = NULL;
    json_t *j = run1("flip", "{axis: horizontal}", 1, in, &out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "axis")), "horizontal");
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++)
            cr_assert(!memcmp(px(out, x, y), px(in, in->width - 1 - x, y), 3));
    json_decref(j);
    aigtatt_image_free(out);
    j = run1("flip", "{axis: vertical}", 1, in, &out);
    for (int y = 0; y < in->height; y++)
        cr_assert(!memcmp(px(out, 0, y), px(in, 0, in->height - 1 - y), (size_t)in->width * 3));
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

Test(ops, rotate_turns_by_the_sampled_angle)
{
    /* A bright dot right of the centre moves to where the angle says. */
    aigtatt_image *in = flat(101, 101, 0, 0, 0), *out = NULL;
    for (int y = 48; y <= 52; y++)
        for (int x = 78; x <= 82; x++)
            memset(in->data + (size_t)y * in->stride + (size_t)x * 3, 255, 3);
    json_t *j = run1("rotate", "{max_deg: 90, border: constant, fill: 0}", 3, in, &out);
    double deg = json_number_value(json_object_get(j, "deg")), sx = 0, sy = 0, m = 0;
    for (int y = 0; y < 101; y++)
        for (int x = 0; x < 101; x++) {
            double v = px(out, x, y)[0];
            sx += v * (x + 0.5);
            sy += v * (y + 0.5);
            m += v;
        }
    double t = deg * M_PI / 180, ex = 50.5 + 30 * cos(t), ey = 50.5 - 30 * sin(t);
    cr_assert(fabs(sx / m - ex) < 1 && fabs(sy / m - ey) < 1, "deg %g: dot at %g,%g, expected %g,%g", deg, sx / m,
              sy / m, ex, ey);
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

Test(ops, brightness_and_gamma_follow_their_formulas)
{
    aigtatt_image *in = flat(8, 8, 100, 150, 30), *out = NULL;
    json_t *j = run1("brightness", "{max_delta: 0.3}", 8, in, &out);
    double d = json_number_value(json_object_get(j, "delta")) * 255;
    const uint8_t want[3] = {100, 150, 30};
    for (int k = 0; k < 3; k++)
        cr_assert(fabs(px(out, 3, 3)[k] - fmin(255, fmax(0, want[k] + d))) <= 1.01, "channel %d", k);
    json_decref(j);
    aigtatt_image_free(out);
    j = run1("gamma", "{min: 0.5, max: 2}", 8, in, &out);
    double g = json_number_value(json_object_get(j, "gamma"));
    for (int k = 0; k < 3; k++)
        cr_assert(fabs(px(out, 3, 3)[k] - 255 * pow(want[k] / 255.0, g)) <= 1.01, "gamma channel %d", k);
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

Test(ops, saturation_zero_is_grey_and_hue_keeps_greys)
{
    aigtatt_image *in = picture(), *out = NULL;
    json_decref(run1("saturation", "{min: 0, max: 0}", 1, in, &out));
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++) {
            const uint8_t *p = px(out, x, y);
            cr_assert(abs(p[0] - p[1]) <= 1 && abs(p[1] - p[2]) <= 1, "not grey at %d,%d", x, y);
        }
    aigtatt_image_free(out);
    aigtatt_image *grey = flat(16, 16, 90, 90, 90);
    json_decref(run1("hue", "{max_deg: 90}", 4, grey, &out));
    cr_assert_leq(mean_abs_diff(grey, out), 1.0);
    aigtatt_image_free(out);
    aigtatt_image_free(grey);
    aigtatt_image_free(in);
}

Test(ops, blur_smooths_and_noise_adds_the_sampled_deviation)
{
    aigtatt_image *in = picture(), *out = NULL;
    json_decref(run1("gaussian_blur", "{min_sigma: 2, max_sigma: 3}", 1, in, &out));
    cr_assert_lt(variance(out), variance(in));
    aigtatt_image_free(out);
    json_decref(run1("motion_blur", "{min_len: 8, max_len: 12}", 1, in, &out));
    cr_assert_lt(variance(out), variance(in));
    aigtatt_image_free(out);
    aigtatt_image *grey = flat(128, 128, 128, 128, 128);
    json_t *j = run1("gaussian_noise", "{min_sigma: 5, max_sigma: 10}", 2, grey, &out);
    double s = json_number_value(json_object_get(j, "sigma"));
    double sd = sqrt(variance(out));
    cr_assert(fabs(sd - s) < 0.15 * s, "noise deviation %g, sampled sigma %g", sd, s);
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(grey);
    aigtatt_image_free(in);
}

Test(ops, jpeg_and_downscale_lose_detail_but_keep_the_picture)
{
    aigtatt_image *in = picture(), *out = NULL;
    json_decref(run1("jpeg", "{min_quality: 20, max_quality: 30}", 1, in, &out));
    double d = mean_abs_diff(in, out);
    cr_assert(d > 0.5 && d < 20, "jpeg changed the picture by %g", d);
    aigtatt_image_free(out);
    json_decref(run1("downscale", "{min_factor: 0.25, max_factor: 0.3}", 1, in, &out));
    d = mean_abs_diff(in, out);
    cr_assert(d > 1 && d < 40, "downscale changed the picture by %g", d);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

Test(ops, occlusion_covers_about_the_sampled_area)
{
    aigtatt_image *in = flat(100, 100, 200, 200, 200), *out = NULL;
    json_t *j = run1("occlusion", "{min_count: 1, max_count: 1, min_area: 0.1, max_area: 0.1, fill: colour, "
                                  "shape: rect}", 6, in, &out);
    int changed = 0;
    for (int i = 0; i < 100 * 100; i++)
        changed += memcmp(in->data + 3 * i, out->data + 3 * i, 3) != 0;
    /* 10% of the area, less what falls off the edge, less a colour close to the fill. */
    cr_assert(changed > 0 && changed <= 1300, "%d pixels changed", changed);
    /* the fill colour is recorded, so the variation can be explained and
     * made again: the occluder's centre pixel has it */
    const char *rgb = json_string_value(json_object_get(j, "colour_1"));
    unsigned r = 0, g = 0, b = 0;
    cr_assert(rgb && sscanf(rgb, "#%2x%2x%2x", &r, &g, &b) == 3, "no colour_1 in the params");
    int cx = (int)json_number_value(json_object_get(j, "cx_1")), cy = (int)json_number_value(json_object_get(j, "cy_1"));
    const uint8_t *c = px(out, cx < 100 ? cx : 99, cy < 100 ? cy : 99);
    cr_expect(c[0] == r && c[1] == g && c[2] == b, "centre %d,%d,%d, recorded %s", c[0], c[1], c[2], rgb);
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

Test(ops, skin_replaces_paper_with_skin_and_keeps_ink_dark)
{
    aigtatt_image *in = flat(64, 64, 255, 255, 255), *out = NULL;
    for (int y = 20; y < 44; y++)
        memset(in->data + (size_t)y * in->stride + 20 * 3, 0, 24 * 3);
    json_t *j = run1("skin", "{min_tone: 1, max_tone: 6, min_opacity: 1, max_age: 0}", 3, in, &out);
    const uint8_t *paper = px(out, 5, 5), *ink = px(out, 32, 32);
    int tone = (int)json_integer_value(json_object_get(j, "tone"));
    double r = json_number_value(json_object_get(j, "skin_r"));
    cr_assert(tone >= 1 && tone <= 6);
    cr_assert(paper[0] < 250 && fabs(paper[0] - r) < 0.25 * r + 8, "paper %d, skin red %g", paper[0], r);
    cr_assert(ink[0] + 20 < paper[0] || paper[0] < 40, "ink %d not darker than skin %d", ink[0], paper[0]);
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

/* Phone photos of tattoos are 12-24 megapixels, and every pipeline thread
 * runs an op at once: an op must not hold float planes the size of the
 * image where a few rows do. Runs `op` on a 2000x1500 RGB picture (a dark
 * stroke on paper) under an address-space limit of `bytes_per_px` a pixel
 * above what the process holds, after checking that an allocation of
 * `old_per_px` (what the op needed before) fails there. Sanitizers reserve
 * terabytes of address space, so there the limit cannot be set and only
 * the op's result is checked. Returns the sampled values. */
static json_t *run_limited(const char *op, const char *yaml, size_t bytes_per_px, size_t old_per_px,
                           aigtatt_image **in, aigtatt_image **out)
{
    enum { SW = 2000, SH = 1500 };
    *in = flat(SW, SH, 250, 246, 240);
    for (int y = 600; y < 900; y++)
        memset((*in)->data + (size_t)y * (*in)->stride + 500 * 3, 10, 1000 * 3);
    op_call call;
    cr_assert_eq(op_open(&call, op, yaml), AIGTATT_OK);
    if (ds_limit_address_space(bytes_per_px * SW * SH)) {
        void *old = malloc(old_per_px * SW * SH);
        cr_assert_null(old, "the address-space limit did not hold");
    }
    json_t *j = apply(&call, 5, *in, out);
    op_close(&call);
    return j;
}

/* skin: the output image, one plane of ink and one of pores need 11 bytes
 * a pixel (31 before: a plane per noise field and per channel). */
Test(ops, skin_works_within_16_bytes_a_pixel)
{
    aigtatt_image *in, *out = NULL;
    json_t *j = run_limited("skin", "{max_bleed: 20, min_opacity: 1}", 16, 31, &in, &out);
    cr_assert_gt(json_number_value(json_object_get(j, "bleed")), 0.05, "bleed was not exercised");
    /* The stroke is ink: darker than the skin around it. */
    cr_assert_lt(px(out, 1000, 750)[1] + 20, px(out, 100, 100)[1]);
    json_decref(j);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

/* motion_blur and elastic: the output image and a few rows (15 and 11 bytes
 * a pixel before: a padded float copy, two displacement planes). Paper far
 * from the stroke stays paper; the stroke stays dark. */
static void within_6_bytes_a_pixel(const char *op, const char *yaml, size_t old_per_px)
{
    aigtatt_image *in, *out = NULL;
    json_decref(run_limited(op, yaml, 6, old_per_px, &in, &out));
    cr_assert_gt(px(out, 100, 100)[1], 200);
    cr_assert_lt(px(out, 1000, 750)[1], 150);
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

Test(ops, motion_blur_works_within_6_bytes_a_pixel)
{
    within_6_bytes_a_pixel("motion_blur", "{min_len: 30, max_len: 40}", 15);
}

Test(ops, elastic_works_within_6_bytes_a_pixel)
{
    within_6_bytes_a_pixel("elastic", "{max_alpha: 0.05}", 11);
}

Test(ops, declared_ranges_and_checks_refuse_bad_parameters)
{
    op_call c;
    cr_assert_neq(op_open(&c, "rotate", "{max_deg: 500}"), AIGTATT_OK);
    cr_assert_not_null(strstr(aigtatt_last_error(), "max_deg"), "%s", aigtatt_last_error());
    cr_assert_not_null(strstr(aigtatt_last_error(), "ops.yaml:1:"), "%s", aigtatt_last_error());
    op_close(&c);
    cr_assert_neq(op_open(&c, "scale", "{min: 2, max: 1}"), AIGTATT_OK);
    cr_assert_not_null(strstr(aigtatt_last_error(), "'min' (2) is above 'max' (1)"), "%s", aigtatt_last_error());
    op_close(&c);
    cr_assert_neq(op_open(&c, "jpeg", "{qualty: 5}"), AIGTATT_OK);
    cr_assert_not_null(strstr(aigtatt_last_error(), "qualty"), "%s", aigtatt_last_error());
    op_close(&c);
}

static int keeps_alpha(const char *op)
{
    const char *v[] = {"brightness", "contrast", "gamma", "hue", "saturation", "temperature", "illumination",
                       "gaussian_noise", "sensor_noise", "jpeg", "occlusion"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!strcmp(op, v[i]))
            return 1;
    return 0;
}

Test(ops, tiny_grey_and_rgba_images_are_handled)
{
    /* Ops are building blocks: third-party nodes may hand them any size
     * and channel count the SDK allows. */
    const int sizes[][3] = {{1, 1, 3}, {2, 3, 3}, {7, 1, 3}, {5, 4, 1}, {9, 6, 4}, {3, 17, 4}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        aigtatt_image *in = aigtatt_image_new(sizes[s][0], sizes[s][1], sizes[s][2]);
        for (size_t i = 0; i < (size_t)in->height * in->stride; i++)
            in->data[i] = (uint8_t)(i * 37 + 11);
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            op_call call;
            cr_assert_eq(op_open(&call, cases[c].op, cases[c].yaml), AIGTATT_OK);
            for (uint64_t seed = 1; seed <= 3; seed++) {
                aigtatt_image *out = NULL;
                json_decref(apply(&call, seed, in, &out));
                /* Colour and noise ops leave alpha alone (geometric ones move it). */
                if (in->channels == 4 && keeps_alpha(cases[c].op))
                    for (int y = 0; y < in->height; y++)
                        for (int x = 0; x < in->width; x++)
                            cr_assert(px(out, x, y)[3] == px(in, x, y)[3], "%s changed alpha", cases[c].op);
                aigtatt_image_free(out);
            }
            op_close(&call);
        }
        aigtatt_image_free(in);
    }
}
