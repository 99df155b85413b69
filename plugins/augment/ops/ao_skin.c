/* augment.skin: puts the design into skin the way ink sits in the dermis.
 *
 * The design's own background (white paper, or the skin it was drawn on)
 * is estimated per channel as a high percentile and divided out, so what
 * remains is ink density. New skin is a tone from the Fitzpatrick range
 * with low-frequency blotches and fine pore noise; ink darkens it by
 * multiplication (ink absorbs light, it does not paint over it), spreads a
 * little (bleed), fades (opacity) and, with age, drifts from black to the
 * blue-green of old tattoos. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ao.h"

/* Approximate sRGB of Fitzpatrick types I..VI (forearm, diffuse light). */
static const double ao_tones[6][3] = {
    {241, 211, 189}, {226, 186, 152}, {200, 154, 117}, {163, 116, 80}, {115, 77, 52}, {72, 48, 35},
};

/* The value below which `pct` of channel k's pixels lie. */
static double percentile(const aigtatt_image *in, int k, double pct)
{
    size_t hist[256] = {0};
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++)
            hist[ao_px(in, x, y)[k]]++;
    size_t total = (size_t)in->width * (size_t)in->height, want = (size_t)(pct * (double)total), acc = 0;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc > want)
            return v;
    }
    return 255;
}

static int skin_check(const aigtatt_params *p)
{
    int rc = ao_check_range(p, "min_tone", "max_tone");
    return rc ? rc : ao_check_range(p, "min_opacity", "max_opacity");
}

static int skin_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                      char *js, size_t jn)
{
    const int W = in->width, H = in->height, c = in->channels, cc = c >= 3 ? 3 : 1;
    int tone = (int)ao_int(rng, AO_I(p, "min_tone"), AO_I(p, "max_tone"));
    double base[3];
    for (int k = 0; k < 3; k++)
        base[k] = ao_tones[tone - 1][k] * ao_uniform(rng, 0.95, 1.05);
    double opacity = ao_uniform(rng, AO_F(p, "min_opacity"), AO_F(p, "max_opacity"));
    double bleed = ao_uniform(rng, 0, AO_F(p, "max_bleed"));
    double age = ao_uniform(rng, 0, AO_F(p, "max_age"));
    double texture = AO_F(p, "texture");
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_int(&j, "tone", tone);
    ao_json_num(&j, "skin_r", base[0]);
    ao_json_num(&j, "skin_g", base[1]);
    ao_json_num(&j, "skin_b", base[2]);
    ao_json_num(&j, "opacity", opacity);
    ao_json_num(&j, "bleed", bleed);
    ao_json_num(&j, "age", age);
    int rc = ao_json_end(&j);
    if (rc)
        return rc;

    /* Memory: one plane of ink density and one of pore noise (4 bytes a
     * pixel each) besides the two images; the blotch fields are computed
     * row by row and the channels are done one after the other. That keeps
     * a 6000x4000 photo at about 340 MB instead of the 815 MB of a plane
     * per field and per channel. */
    size_t n = (size_t)W * H;
    ao_noise *blotch = ao_noise_new(rng, W, H, 3), *mottle = blotch ? ao_noise_new(rng, W, H, 12) : NULL;
    float *ink = malloc(n * sizeof *ink), *pores = malloc(n * sizeof *pores);
    float *brow = malloc((size_t)W * sizeof *brow), *mrow = malloc((size_t)W * sizeof *mrow);
    aigtatt_image *o = ao_new_like(in);
    rc = AIGTATT_ERR_NOMEM;
    if (!ink || !pores || !brow || !mrow || !blotch || !mottle || !o)
        goto out;

    for (size_t i = 0; i < n; i++)
        pores[i] = (float)ao_host->rng_normal(rng);
    if ((rc = ao_blur_plane(pores, W, H, 0.7)))
        goto out;

    /* What black ink looks like: black when fresh, blue-green-grey when old. */
    const double aged[3] = {0.20 * age, 0.27 * age, 0.30 * age};
    const double grey = 0.299 * base[0] + 0.587 * base[1] + 0.114 * base[2];
    for (int k = 0; k < cc; k++) {
        /* Ink density: 1 - design / background, 0 where no ink. */
        double bg = fmax(1.0, percentile(in, k, 0.95));
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *s = ao_px(in, x, y);
                double a = 1 - fmin(1.0, s[k] / bg);
                if (c == 4)
                    a *= s[3] / 255.0;
                ink[(size_t)y * W + x] = (float)a;
            }
        /* Bleed: a halo around strokes; the stroke's core stays dark. */
        if (bleed > 0.05 && (rc = ao_bleed_plane(ink, W, H, bleed)))
            goto out;
        for (int y = 0; y < H; y++) {
            ao_noise_row(blotch, y, brow);
            ao_noise_row(mottle, y, mrow);
            for (int x = 0; x < W; x++) {
                size_t i = (size_t)y * W + x;
                double shade = 1 + texture * (0.06 * brow[x] + 0.03 * mrow[x] + 0.04 * pores[i]);
                double skin = (c >= 3 ? base[k] : grey) * shade;
                if (k == 0)
                    skin += texture * 6 * brow[x]; /* blood under the skin: redder blotches */
                double a = opacity * ink[i];
                uint8_t *d = ao_px(o, x, y);
                d[k] = ao_clamp_u8(skin * (1 - a * (1 - aged[c >= 3 ? k : 1])));
                if (c == 4)
                    d[3] = 255;
            }
        }
    }
    *out = o;
    o = NULL;
    rc = AIGTATT_OK;
out:
    if (rc == AIGTATT_ERR_NOMEM)
        ao_host->set_error("out of memory");
    free(ink);
    free(pores);
    free(brow);
    free(mrow);
    ao_noise_free(blotch);
    ao_noise_free(mottle);
    ao_host->image_free(o);
    return rc;
}

static const aigtatt_param_desc skin_params[] = {
    AO_INT("min_tone", "1", 1, 6, "Lightest skin tone, as a Fitzpatrick type (1 very fair .. 6 deeply "
                                  "pigmented)."),
    AO_INT("max_tone", "6", 1, 6, "Darkest skin tone; the type is uniform in [min_tone, max_tone], the colour "
                                  "jittered by 5% per channel."),
    AO_FLOAT("min_opacity", "0.75", 0, 1, "Most faded ink (fraction of full density)."),
    AO_FLOAT("max_opacity", "1", 0, 1, "Freshest ink; uniform in [min_opacity, max_opacity]."),
    AO_FLOAT("max_bleed", "1.5", 0, 20, "Largest ink spread (blow-out) in pixels; uniform in [0, max_bleed]."),
    AO_FLOAT("max_age", "0.5", 0, 1, "How far black ink may drift towards blue-green with age; uniform in "
                                     "[0, max_age]."),
    AO_FLOAT("texture", "0.6", 0, 1, "Strength of the skin's blotches and pores (0: flat colour)."),
    AO_END};

AO_DEFINE_OP(skin, "Composites the design into skin with ink-like blending",
             "Expects a design on a light background (white paper or skin) and treats darkness as ink. "
             "Samples `tone`, the skin colour `skin_r`/`skin_g`/`skin_b`, `opacity`, `bleed` and `age`.",
             skin_params, skin_check, skin_apply);
