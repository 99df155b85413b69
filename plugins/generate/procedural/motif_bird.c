/* Birds: the traditional swallow in flight, a spread-winged eagle / raven /
 * phoenix seen from the front with layered feathers, and small flying
 * silhouettes for minimal pieces. */
#include <math.h>
#include "pg.h"

/* One long feather from (x0,y0) to (x1,y1), shaded and outlined. */
static void feather_shape(pg_ctx *c, double x0, double y0, double x1, double y1, double wid, double tone)
{
    pg_leaf_path(c->cr, x0, y0, x1, y1, wid, 0.03);
    pg_shade(c, PG_FILL_AUTO, tone, c->look.line * 0.55);
}

static void swallow(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    /* far wing, tail streamers, body, near wing: back to front */
    static const double far_wing[] = { 0.12, 0.02, 0.38, 0.45, 0.62, 0.92, 0.3, 0.55, -0.02, 0.12 };
    static const double near_wing[] = { 0.22, -0.08, 0.1, -0.5, -0.22, -0.98, -0.12, -0.52, -0.1, -0.06 };
    c->cur_color = 3;
    cairo_new_sub_path(cr);
    pg_smooth(cr, (double[]){ far_wing[0] * s, far_wing[1] * s, far_wing[2] * s, far_wing[3] * s,
                              far_wing[4] * s, far_wing[5] * s, far_wing[6] * s, far_wing[7] * s,
                              far_wing[8] * s, far_wing[9] * s }, 5, 1, 1);
    pg_shade(c, PG_FILL_AUTO, 0.75, c->look.line * 0.8);
    for (int k = 0; k < 2; k++) {
        double ty = k ? 0.32 : -0.12;
        cairo_new_sub_path(cr);
        cairo_move_to(cr, -0.2 * s, 0.02 * s);
        cairo_curve_to(cr, -0.45 * s, (0.06 + ty * 0.3) * s, -0.7 * s, (ty * 0.8) * s, -0.95 * s, ty * s);
        cairo_curve_to(cr, -0.7 * s, (ty * 0.8 + 0.1) * s, -0.45 * s, (0.14 + ty * 0.3) * s, -0.2 * s, 0.14 * s);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_AUTO, 0.8, c->look.line * 0.7);
    }
    /* body: head at the right */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, -0.3 * s, 0.08 * s);
    cairo_curve_to(cr, -0.1 * s, -0.12 * s, 0.3 * s, -0.28 * s, 0.5 * s, -0.18 * s);
    cairo_curve_to(cr, 0.66 * s, -0.1 * s, 0.62 * s, 0.06 * s, 0.45 * s, 0.1 * s);
    cairo_curve_to(cr, 0.2 * s, 0.24 * s, -0.1 * s, 0.2 * s, -0.3 * s, 0.08 * s);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_AUTO, 0.7, c->look.line);
    /* white belly and red throat */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, -0.2 * s, 0.12 * s);
    cairo_curve_to(cr, 0.05 * s, 0.02 * s, 0.3 * s, 0.0, 0.42 * s, 0.08 * s);
    cairo_curve_to(cr, 0.2 * s, 0.22 * s, -0.05 * s, 0.2 * s, -0.2 * s, 0.12 * s);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_OUTLINE, 0, c->look.fine);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0.5 * s, -0.02 * s, 0.08 * s, 0, 2 * M_PI);
    c->cur_color = 0;
    pg_shade(c, c->look.ncolors ? PG_FILL_COLOR : PG_FILL_AUTO, 0.3, c->look.fine);
    /* beak and eye */
    cairo_move_to(cr, 0.6 * s, -0.15 * s);
    cairo_line_to(cr, 0.76 * s, -0.1 * s);
    cairo_line_to(cr, 0.61 * s, -0.06 * s);
    cairo_close_path(cr);
    pg_fill_black(c);
    pg_dot(c, 0.5 * s, -0.14 * s, c->look.line * 0.9 + 2);
    /* near wing on top, with feather lines */
    c->cur_color = 3;
    cairo_new_sub_path(cr);
    pg_smooth(cr, (double[]){ near_wing[0] * s, near_wing[1] * s, near_wing[2] * s, near_wing[3] * s,
                              near_wing[4] * s, near_wing[5] * s, near_wing[6] * s, near_wing[7] * s,
                              near_wing[8] * s, near_wing[9] * s }, 5, 1, 1);
    pg_shade(c, PG_FILL_AUTO, 0.55, c->look.line);
    for (int i = 1; i <= 4; i++) {
        double t = i / 5.0;
        cairo_move_to(cr, (0.15 - 0.28 * t) * s, (-0.1 - 0.4 * t) * s);
        cairo_line_to(cr, (0.0 - 0.2 * t) * s, (-0.1 - 0.75 * t) * s);
    }
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, c->look.fine);
    else
        pg_stroke(c, c->look.fine);
}

static void spread_wings(pg_ctx *c, double s, int phoenix)
{
    cairo_t *cr = c->cr;
    int nprim = 6 + (c->look.detail > 0.5) * 2;
    double lift = pg_rrange(&c->rng, -0.25, 0.35);
    c->cur_color = phoenix ? 0 : 3;
    /* tail fan */
    int nt = phoenix ? 7 : 5;
    for (int i = 0; i < nt; i++) {
        double a = M_PI / 2 + (i - (nt - 1) / 2.0) * (phoenix ? 0.2 : 0.14);
        double L = s * (phoenix ? 0.95 : 0.6);
        feather_shape(c, 0, 0.25 * s, L * cos(a), 0.25 * s + L * sin(a), phoenix ? 0.12 : 0.17, 0.6);
    }
    for (int sd = -1; sd <= 1; sd += 2) {
        double wx = sd * 0.3 * s, wy = -0.2 * s; /* wrist */
        /* primaries fanning out */
        for (int i = nprim - 1; i >= 0; i--) {
            double a = (sd > 0 ? 0 : M_PI) - sd * (lift + 0.1 + i * 0.14);
            double L = s * (0.75 - 0.03 * i);
            feather_shape(c, wx, wy + i * 0.02 * s, wx + L * cos(a), wy + L * sin(a) + i * 0.04 * s, 0.13, 0.55 + 0.04 * i);
        }
        /* coverts: scalloped rows near the body */
        for (int row = 0; row < 2; row++) {
            int n = 5 - row;
            for (int i = 0; i < n; i++) {
                double t = (i + 0.5) / n;
                double bx = sd * (0.08 + t * 0.45) * s, by = (-0.12 - t * (lift + 0.2) * 0.6 + row * 0.12) * s;
                pg_leaf_path(cr, bx - sd * 0.06 * s, by - 0.04 * s, bx + sd * 0.08 * s, by + 0.18 * s, 0.35, 0);
                pg_shade(c, PG_FILL_AUTO, 0.3 + 0.15 * row, c->look.fine);
            }
        }
    }
    /* body and head */
    cairo_new_sub_path(cr);
    cairo_save(cr);
    cairo_translate(cr, 0, 0.08 * s);
    cairo_scale(cr, 0.16 * s, 0.3 * s);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    pg_shade(c, PG_FILL_AUTO, 0.5, c->look.line * 0.8);
    c->cur_color = 1;
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0, -0.28 * s, 0.12 * s, 0, 2 * M_PI);
    pg_shade(c, PG_FILL_AUTO, 0.15, c->look.line * 0.8);
    /* hooked beak turned to one side */
    int sd = pg_chance(&c->rng, 0.5) ? 1 : -1;
    cairo_move_to(cr, sd * 0.06 * s, -0.3 * s);
    cairo_curve_to(cr, sd * 0.18 * s, -0.32 * s, sd * 0.22 * s, -0.24 * s, sd * 0.17 * s, -0.19 * s);
    cairo_line_to(cr, sd * 0.08 * s, -0.23 * s);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    pg_dot(c, sd * 0.04 * s, -0.31 * s, 3 + c->look.line * 0.5);
    /* talons */
    for (int k = -1; k <= 1; k += 2) {
        cairo_move_to(cr, k * 0.06 * s, 0.35 * s);
        cairo_line_to(cr, k * 0.08 * s, 0.45 * s);
        pg_stroke(c, c->look.line * 0.7);
    }
}

static void flock(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    int n = 3 + pg_rint(&c->rng, 4);
    for (int i = 0; i < n; i++) {
        double bx = pg_rrange(&c->rng, -0.8, 0.8) * s, by = pg_rrange(&c->rng, -0.6, 0.6) * s;
        double w = s * pg_rrange(&c->rng, 0.1, 0.22) * (1 - 0.5 * i / n);
        cairo_move_to(cr, bx - w, by - w * 0.3);
        cairo_curve_to(cr, bx - w * 0.6, by - w * 0.55, bx - w * 0.2, by - w * 0.4, bx, by);
        cairo_curve_to(cr, bx + w * 0.2, by - w * 0.4, bx + w * 0.6, by - w * 0.55, bx + w, by - w * 0.3);
        pg_stroke(c, c->look.line * 0.9);
    }
}

void pg_motif_bird(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0xB12D) % 2);
    if (PG_HAS(c, PG_H_SWALLOW) || PG_HAS(c, PG_H_HUMMINGBIRD))
        kind = 0;
    else if (PG_HAS(c, PG_H_EAGLE) || PG_HAS(c, PG_H_RAVEN) || PG_HAS(c, PG_H_PHOENIX) || PG_HAS(c, PG_H_DOVE))
        kind = 1;
    if (c->look.id == PG_L_MINIMAL && (pg_style_bits(c, 0xF10C) & 1))
        kind = 2;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 0) {
        if (pg_style_bits(c, 0x1EF7) & 1)
            cairo_scale(cr, -1, 1); /* facing left or right */
        swallow(c, s);
    } else if (kind == 1) {
        spread_wings(c, s, PG_HAS(c, PG_H_PHOENIX));
    } else {
        flock(c, s);
    }
    cairo_restore(cr);
}
