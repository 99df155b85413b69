/* pg_render: prompt -> features -> plan -> ink layer (cairo) -> paper or
 * skin. Two generators keep style and detail apart: the style generator is
 * seeded from the prompt alone (same prompt, same kind of tattoo), the
 * detail generator from prompt and seed (different seed, different
 * drawing). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

void pg_options_default(pg_options *o)
{
    memset(o, 0, sizeof *o);
    o->width = 1024;
    o->height = 1024;
    o->skin = 0;
    o->color = PG_COLOR_AUTO;
    o->stroke_scale = 1.0;
    o->detail = 1.0;
}

static const char *const fill_names[] = { "outline", "solid", "stipple", "hatch", "wash", "color" };

/* Words for lettering when the prompt gives none. */
static const char *const fallback_words[] = {
    "FATE", "HOPE", "LOVE", "FREE", "WILD", "BRAVE", "KARMA", "FAITH",
    "DREAM", "STAY TRUE", "AMOR", "LUCKY", "ALIVE", "RISE", "BELIEVE", "MOM",
};

int pg_render_into(const char *prompt, uint64_t seed, const pg_options *opt_in,
                   unsigned char *rgb, size_t stride, pg_info *info)
{
    pg_options opt;
    if (opt_in)
        opt = *opt_in;
    else
        pg_options_default(&opt);
    if (opt.width < 16 || opt.height < 16 || opt.width > 8192 || opt.height > 8192 || !rgb ||
        stride < (size_t)opt.width * 3)
        return PG_EINVAL;
    if (!(opt.stroke_scale > 0.05 && opt.stroke_scale < 20))
        opt.stroke_scale = 1;
    if (!(opt.detail > 0.05 && opt.detail < 10))
        opt.detail = 1;
    if (opt.color < PG_COLOR_AUTO || opt.color > PG_COLOR_FULL)
        opt.color = PG_COLOR_AUTO;

    pg_features f;
    pg_features_parse(prompt ? prompt : "", &f);
    pg_rng style;
    pg_rng_seed(&style, f.hash);
    pg_plan plan;
    pg_plan_make(&f, &opt, &style, &plan);

    pg_ctx c;
    memset(&c, 0, sizeof c);
    pg_rng_seed(&c.rng, f.hash ^ pg_mix64(seed + 0x7A77001ull));
    c.W = opt.width;
    c.H = opt.height;
    c.u = fmin(c.W, c.H) / 1024.0;
    c.stroke_scale = opt.stroke_scale;
    c.density = opt.detail;
    c.look = plan.look;
    c.f = &f;
    if (f.text[0])
        memcpy(c.text, f.text, sizeof c.text);
    else
        snprintf(c.text, sizeof c.text, "%s", fallback_words[f.hash % (sizeof fallback_words / sizeof fallback_words[0])]);

    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, opt.width, opt.height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return PG_ENOMEM;
    }
    c.cr = cairo_create(surf);
    if (cairo_status(c.cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(c.cr);
        cairo_surface_destroy(surf);
        return PG_ENOMEM;
    }
    cairo_set_antialias(c.cr, CAIRO_ANTIALIAS_GOOD);
    pg_compose(&c, &plan);
    int st = cairo_status(c.cr);
    cairo_destroy(c.cr);
    cairo_surface_flush(surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return st == CAIRO_STATUS_NO_MEMORY ? PG_ENOMEM : PG_EINVAL;
    }
    const uint32_t *ink = (const uint32_t *)cairo_image_surface_get_data(surf);
    int istride = cairo_image_surface_get_stride(surf) / 4;
    char skin_desc[256] = "";
    if (opt.skin)
        pg_skin_composite(ink, opt.width, opt.height, istride, rgb, stride, opt.width, opt.height,
                          &c.rng, c.u, skin_desc, sizeof skin_desc);
    else
        pg_paper_composite(ink, istride, rgb, stride, opt.width, opt.height, &c.rng);
    cairo_surface_destroy(surf);

    if (info) {
        int lettered = plan.main == PG_S_LETTERING || plan.layout == PG_LAYOUT_BANNER;
        snprintf(info->json, sizeof info->json,
                 "{\"subject\":\"%s\",\"second\":\"%s\",\"style\":\"%s\",\"layout\":\"%s\","
                 "\"shading\":\"%s\",\"colors\":%d,\"line_width\":%.2f,\"text\":\"%s\","
                 "\"background\":\"%s\"%s%s}",
                 pg_subject_name(plan.main), pg_subject_name(plan.second), pg_look_name(plan.look.id),
                 pg_layout_name(plan.layout),
                 plan.look.fill >= 0 && plan.look.fill <= PG_FILL_COLOR ? fill_names[plan.look.fill] : "?",
                 plan.look.ncolors, plan.look.line * opt.stroke_scale, lettered ? c.text : "",
                 opt.skin ? "skin" : "paper", skin_desc[0] ? "," : "", skin_desc);
    }
    return PG_OK;
}

int pg_render(const char *prompt, uint64_t seed, const pg_options *opt, unsigned char **rgb_out,
              pg_info *info)
{
    pg_options o;
    if (opt)
        o = *opt;
    else
        pg_options_default(&o);
    if (!rgb_out)
        return PG_EINVAL;
    *rgb_out = NULL;
    if (o.width < 16 || o.height < 16 || o.width > 8192 || o.height > 8192)
        return PG_EINVAL;
    unsigned char *buf = malloc((size_t)o.width * o.height * 3);
    if (!buf)
        return PG_ENOMEM;
    int st = pg_render_into(prompt, seed, &o, buf, (size_t)o.width * 3, info);
    if (st != PG_OK) {
        free(buf);
        return st;
    }
    *rgb_out = buf;
    return PG_OK;
}
