/* Shading of closed regions: stippling (dotwork), hatching (engraving and
 * sketch), grey washes (black and grey) and colour packing. The darkness
 * follows one light direction per design, as a tattoo artist would shade. */
#include <math.h>
#include "pg.h"

typedef struct shade_frame {
    double cx, cy;    /* centre of the region's extents */
    double lx, ly;    /* unit vector pointing at the light */
    double ext;       /* half extent along the light axis */
    double x0, y0, x1, y1;
} shade_frame;

static void frame_of(pg_ctx *c, shade_frame *f)
{
    cairo_fill_extents(c->cr, &f->x0, &f->y0, &f->x1, &f->y1);
    f->cx = 0.5 * (f->x0 + f->x1);
    f->cy = 0.5 * (f->y0 + f->y1);
    /* The light is fixed in design space; motifs may have rotated the CTM,
     * so turn it back into user space. */
    double lx = cos(c->look.light), ly = sin(c->look.light);
    cairo_matrix_t m;
    cairo_get_matrix(c->cr, &m);
    cairo_matrix_invert(&m);
    cairo_matrix_transform_distance(&m, &lx, &ly);
    double n = hypot(lx, ly);
    f->lx = n > 0 ? lx / n : 1;
    f->ly = n > 0 ? ly / n : 0;
    f->ext = 0.5 * (fabs((f->x1 - f->x0) * f->lx) + fabs((f->y1 - f->y0) * f->ly));
    if (f->ext < 1e-6)
        f->ext = 1e-6;
}

/* 0 on the lit side, 1 on the far side. */
static double shadow_at(const shade_frame *f, double x, double y)
{
    double t = -((x - f->cx) * f->lx + (y - f->cy) * f->ly) / f->ext;
    double s = 0.5 * (t + 1);
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

void pg_stipple(pg_ctx *c, double tone)
{
    cairo_t *cr = c->cr;
    if (tone <= 0.02)
        return;
    shade_frame f;
    frame_of(c, &f);
    cairo_path_t *path = cairo_copy_path(cr);
    cairo_save(cr);
    cairo_clip(cr);
    double r0 = pg_px(c, c->look.dot);
    double g = r0 * 2.7 / sqrt(c->density);
    if (g < 1.5)
        g = 1.5;
    pg_ink(c, 1.0);
    int n = 0;
    for (double y = f.y0; y < f.y1; y += g) {
        for (double x = f.x0; x < f.x1; x += g) {
            double px = x + pg_rrange(&c->rng, 0, g), py = y + pg_rrange(&c->rng, 0, g);
            double d = tone * (0.18 + 0.95 * shadow_at(&f, px, py));
            if (d > 1)
                d = 1;
            if (pg_rnd(&c->rng) >= d * d * (3 - 2 * d))
                continue;
            pg_circle(cr, px, py, r0 * (0.65 + 0.45 * d));
            /* fill in batches: one huge path tessellates slower */
            if (++n % 2048 == 0)
                cairo_fill(cr);
        }
    }
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_new_path(cr);
    cairo_append_path(cr, path);
    cairo_path_destroy(path);
}

/* Adds a large polygon covering the part of the region whose shadow value
 * is above `s0`. */
static void half_plane(cairo_t *cr, const shade_frame *f, double s0)
{
    /* points with shadow == s0 lie on the line p = ctr - L * ext * (2*s0-1) */
    double k = -f->ext * (2 * s0 - 1);
    double px = f->cx + f->lx * k, py = f->cy + f->ly * k;
    double big = 4 * (f->x1 - f->x0 + f->y1 - f->y0) + 10;
    double tx = -f->ly, ty = f->lx;
    cairo_move_to(cr, px + tx * big, py + ty * big);
    cairo_line_to(cr, px - tx * big, py - ty * big);
    cairo_line_to(cr, px - tx * big - f->lx * big, py - ty * big - f->ly * big);
    cairo_line_to(cr, px + tx * big - f->lx * big, py + ty * big - f->ly * big);
    cairo_close_path(cr);
}

static void hatch_lines(pg_ctx *c, const shade_frame *f, double angle, double sp, double w)
{
    cairo_t *cr = c->cr;
    double dx = cos(angle), dy = sin(angle);
    double R = 0.5 * hypot(f->x1 - f->x0, f->y1 - f->y0) + sp;
    for (double o = -R; o <= R; o += sp) {
        double ox = f->cx - dy * o, oy = f->cy + dx * o;
        cairo_move_to(cr, ox - dx * R, oy - dy * R);
        cairo_line_to(cr, ox + dx * R, oy + dy * R);
    }
    cairo_set_line_width(cr, w);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    pg_ink(c, 0.95);
    cairo_stroke(cr);
}

void pg_hatch(pg_ctx *c, double tone, double angle)
{
    cairo_t *cr = c->cr;
    if (tone <= 0.02)
        return;
    shade_frame f;
    frame_of(c, &f);
    cairo_path_t *path = cairo_copy_path(cr);
    double sp = pg_px(c, 7.5 + 4 * (1 - tone)) / sqrt(c->density);
    double w = pg_px(c, c->look.fine * 0.8) * c->stroke_scale;
    if (w < 0.7)
        w = 0.7;
    cairo_save(cr);
    cairo_clip(cr);
    half_plane(cr, &f, 1 - tone * 1.15);
    cairo_clip(cr);
    hatch_lines(c, &f, angle, sp, w);
    cairo_restore(cr);
    if (tone > 0.45) {
        cairo_save(cr);
        cairo_append_path(cr, path);
        cairo_clip(cr);
        half_plane(cr, &f, 1 - (tone - 0.35) * 1.2);
        cairo_clip(cr);
        hatch_lines(c, &f, angle + M_PI / 2.4, sp * 1.1, w);
        cairo_restore(cr);
    }
    cairo_new_path(cr);
    cairo_append_path(cr, path);
    cairo_path_destroy(path);
}

void pg_wash(pg_ctx *c, double tone)
{
    cairo_t *cr = c->cr;
    if (tone <= 0.02)
        return;
    shade_frame f;
    frame_of(c, &f);
    cairo_pattern_t *pat = cairo_pattern_create_linear(
        f.cx + f.lx * f.ext, f.cy + f.ly * f.ext, f.cx - f.lx * f.ext, f.cy - f.ly * f.ext);
    cairo_pattern_add_color_stop_rgba(pat, 0.0, 0.02, 0.02, 0.03, tone * 0.08);
    cairo_pattern_add_color_stop_rgba(pat, 0.55, 0.02, 0.02, 0.03, tone * 0.45);
    cairo_pattern_add_color_stop_rgba(pat, 1.0, 0.02, 0.02, 0.03, tone * 0.9 > 0.92 ? 0.92 : tone * 0.9);
    cairo_set_source(cr, pat);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(pat);
}

void pg_shade(pg_ctx *c, pg_fill mode, double tone, double outline)
{
    cairo_t *cr = c->cr;
    if (mode == PG_FILL_AUTO)
        mode = c->look.fill;
    if (tone < 0)
        tone = 0;
    if (tone > 1)
        tone = 1;
    pg_knockout(c);
    switch (mode) {
    case PG_FILL_SOLID:
        /* blackwork keeps a few light areas so forms still read */
        if (tone >= 0.5) {
            pg_ink(c, 1.0);
            cairo_fill_preserve(cr);
        } else if (tone >= 0.25) {
            pg_stipple(c, tone + 0.3);
        }
        break;
    case PG_FILL_STIPPLE:
        pg_stipple(c, tone);
        break;
    case PG_FILL_HATCH:
        pg_hatch(c, tone, c->look.light + M_PI / 2 + 0.6);
        break;
    case PG_FILL_WASH:
        pg_wash(c, tone);
        break;
    case PG_FILL_COLOR:
        pg_paint_color(c, c->cur_color, 0.93);
        cairo_fill_preserve(cr);
        pg_wash(c, tone * 0.5);
        break;
    case PG_FILL_OUTLINE:
    default:
        break;
    }
    if (outline > 0)
        pg_stroke(c, outline);
    else
        cairo_new_path(cr);
}
