/* Classic flash objects: dagger or sword, heart (plain, winged, sacred),
 * anchor with rope, compass rose, and feathers (quill, arrow, dreamcatcher). */
#include <math.h>
#include "pg.h"

/* ---- dagger ------------------------------------------------------------ */

void pg_motif_dagger(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int sword = PG_HAS(c, PG_H_SWORD);
    double bl = sword ? 1.1 : 0.95, bw = sword ? 0.09 : 0.13, gy = -0.3;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    /* blade in two bevels, light and dark */
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_new_sub_path(cr);
        cairo_move_to(cr, 0, gy * s);
        cairo_line_to(cr, sd * bw * s, gy * s);
        cairo_curve_to(cr, sd * bw * s, (gy + 0.6 * (bl - gy)) * s, sd * bw * 0.7 * s, (bl - 0.15) * s, 0, bl * s);
        cairo_close_path(cr);
        c->cur_color = 3;
        pg_shade(c, sd < 0 ? PG_FILL_OUTLINE : (c->look.fill == PG_FILL_COLOR ? PG_FILL_WASH : PG_FILL_AUTO),
                 sd < 0 ? 0.05 : 0.55, c->look.line * 0.9);
    }
    cairo_move_to(cr, 0, (gy + 0.05) * s);
    cairo_line_to(cr, 0, (bl - 0.25) * s);
    pg_stroke(c, c->look.fine);
    /* a glint on the blade */
    if (c->look.fill == PG_FILL_COLOR || c->look.fill == PG_FILL_SOLID) {
        cairo_move_to(cr, -bw * 0.45 * s, (gy + 0.12) * s);
        cairo_line_to(cr, -bw * 0.45 * s, (gy + 0.35) * s);
        pg_stroke(c, c->look.fine * 0.8);
    }
    /* grip with a wrap */
    double gl = sword ? 0.42 : 0.36;
    cairo_new_sub_path(cr);
    cairo_rectangle(cr, -0.055 * s, (gy - gl) * s, 0.11 * s, gl * s);
    c->cur_color = 0;
    pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line * 0.8);
    for (int i = 1; i < 6; i++) {
        double yy = (gy - gl * i / 6.0) * s;
        cairo_move_to(cr, -0.055 * s, yy + 0.02 * s);
        cairo_line_to(cr, 0.055 * s, yy - 0.02 * s);
    }
    pg_stroke(c, c->look.fine);
    /* crossguard with curled ends */
    int curled = (pg_style_bits(c, 0x6A2D) & 1);
    cairo_new_sub_path(cr);
    cairo_move_to(cr, -0.38 * s, (gy - 0.02) * s);
    cairo_curve_to(cr, -0.2 * s, (gy - 0.07) * s, 0.2 * s, (gy - 0.07) * s, 0.38 * s, (gy - 0.02) * s);
    cairo_line_to(cr, 0.38 * s, (gy + 0.03) * s);
    cairo_curve_to(cr, 0.2 * s, (gy + 0.06) * s, -0.2 * s, (gy + 0.06) * s, -0.38 * s, (gy + 0.03) * s);
    cairo_close_path(cr);
    c->cur_color = 1;
    pg_shade(c, PG_FILL_AUTO, 0.4, c->look.line * 0.8);
    for (int sd = -1; sd <= 1; sd += 2) {
        if (curled) {
            cairo_new_sub_path(cr);
            cairo_arc(cr, sd * 0.38 * s, (gy - 0.06) * s, 0.055 * s, 0, 2 * M_PI);
        } else {
            cairo_move_to(cr, sd * 0.38 * s, (gy - 0.06) * s);
            cairo_line_to(cr, sd * 0.46 * s, gy * s);
            cairo_line_to(cr, sd * 0.38 * s, (gy + 0.07) * s);
            cairo_close_path(cr);
        }
        pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line * 0.6);
    }
    /* pommel */
    pg_circle(cr, 0, (gy - gl - 0.06) * s, 0.075 * s);
    c->cur_color = 1;
    pg_shade(c, PG_FILL_AUTO, 0.5, c->look.line * 0.7);
    pg_circle(cr, 0, (gy - gl - 0.06) * s, 0.03 * s);
    c->cur_color = 0;
    pg_shade(c, c->look.ncolors ? PG_FILL_COLOR : PG_FILL_SOLID, 1, 0);
    cairo_restore(cr);
}

/* ---- heart ------------------------------------------------------------- */

static void heart_path(cairo_t *cr, double s)
{
    cairo_new_sub_path(cr);
    cairo_move_to(cr, 0, -0.45 * s);
    cairo_curve_to(cr, 0.2 * s, -0.85 * s, 0.95 * s, -0.75 * s, 0.85 * s, -0.2 * s);
    cairo_curve_to(cr, 0.78 * s, 0.2 * s, 0.3 * s, 0.45 * s, 0, 0.8 * s);
    cairo_curve_to(cr, -0.3 * s, 0.45 * s, -0.78 * s, 0.2 * s, -0.85 * s, -0.2 * s);
    cairo_curve_to(cr, -0.95 * s, -0.75 * s, -0.2 * s, -0.85 * s, 0, -0.45 * s);
    cairo_close_path(cr);
}

static void wing(pg_ctx *c, double s, int sd)
{
    for (int i = 5; i >= 0; i--) {
        double a = -0.5 + i * 0.2, L = s * (0.95 - i * 0.08);
        double x0 = sd * 0.6 * s, y0 = -0.2 * s + i * 0.04 * s;
        pg_leaf_path(c->cr, x0, y0, x0 + sd * L * cos(a), y0 + L * sin(a) - 0.2 * s, 0.16, -sd * 0.04);
        c->cur_color = 3;
        pg_shade(c, PG_FILL_AUTO, 0.25 + 0.08 * i, c->look.line * 0.6);
    }
}

void pg_motif_heart(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0x4EA7) % 3); /* plain, winged, sacred */
    if (PG_HAS(c, PG_H_SACRED) || PG_HAS(c, PG_H_FLAME))
        kind = 2;
    else if (PG_HAS(c, PG_H_WINGS))
        kind = 1;
    double hs = kind == 1 ? s * 0.6 : s * 0.75;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 1) {
        wing(c, s, 1);
        wing(c, s, -1);
    }
    if (kind == 2) {
        /* flames rising from the top, a small cross in them */
        for (int i = -2; i <= 2; i++) {
            double bx = i * 0.12 * hs, h = hs * (0.75 - 0.12 * fabs((double)i));
            cairo_new_sub_path(cr);
            cairo_move_to(cr, bx - 0.12 * hs, -0.45 * hs);
            cairo_curve_to(cr, bx - 0.2 * hs, -0.45 * hs - h * 0.5, bx + 0.08 * hs, -0.45 * hs - h * 0.6,
                           bx + i * 0.03 * hs, -0.45 * hs - h);
            cairo_curve_to(cr, bx + 0.2 * hs, -0.45 * hs - h * 0.5, bx + 0.15 * hs, -0.5 * hs, bx + 0.12 * hs, -0.45 * hs);
            cairo_close_path(cr);
            c->cur_color = 1;
            pg_shade(c, PG_FILL_AUTO, 0.5, c->look.line * 0.6);
        }
    }
    heart_path(cr, hs);
    c->cur_color = 0;
    pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line);
    /* highlight on the left lobe */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, -0.62 * hs, -0.3 * hs);
    cairo_curve_to(cr, -0.62 * hs, -0.55 * hs, -0.45 * hs, -0.62 * hs, -0.3 * hs, -0.6 * hs);
    cairo_set_line_width(cr, pg_px(c, c->look.line * 1.1) * c->stroke_scale);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    cairo_stroke(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    if (kind == 2) {
        /* a band of thorns around the heart */
        cairo_new_sub_path(cr);
        cairo_move_to(cr, -0.85 * hs, -0.05 * hs);
        cairo_curve_to(cr, -0.4 * hs, 0.1 * hs, 0.4 * hs, 0.1 * hs, 0.85 * hs, -0.05 * hs);
        pg_stroke(c, c->look.line * 0.9);
        for (int i = 0; i < 9; i++) {
            double t = (i + 0.5) / 9, tx = (-0.8 + 1.6 * t) * hs, ty = (0.06 - 0.12 * fabs(t - 0.5)) * hs;
            cairo_move_to(cr, tx - 0.03 * hs, ty);
            cairo_line_to(cr, tx + 0.02 * hs, ty - 0.09 * hs * ((i & 1) ? 1 : -1));
            cairo_line_to(cr, tx + 0.04 * hs, ty);
        }
        pg_stroke(c, c->look.fine);
    }
    cairo_restore(cr);
}

/* ---- anchor ------------------------------------------------------------ */

void pg_motif_anchor(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    double sw = 0.07 * s;
    c->cur_color = 3;
    /* arms: a thick arc at the bottom with flukes */
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0, 0.25 * s, 0.62 * s, 0.12 * M_PI, 0.88 * M_PI);
    cairo_arc_negative(cr, 0, 0.25 * s, 0.62 * s - sw * 1.4, 0.85 * M_PI, 0.15 * M_PI);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_AUTO, 0.55, c->look.line);
    for (int sd = -1; sd <= 1; sd += 2) {
        double a = sd < 0 ? 0.88 * M_PI : 0.12 * M_PI;
        double fx = 0.62 * s * cos(a), fy = 0.25 * s + 0.62 * s * sin(a);
        cairo_new_sub_path(cr);
        cairo_move_to(cr, fx - sd * 0.02 * s, fy - 0.25 * s);
        cairo_line_to(cr, fx + sd * 0.12 * s, fy + 0.04 * s);
        cairo_line_to(cr, fx - sd * 0.14 * s, fy - 0.02 * s);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_AUTO, 0.7, c->look.line);
    }
    /* shank, crown, stock and ring */
    cairo_new_sub_path(cr);
    cairo_rectangle(cr, -sw / 2, -0.7 * s, sw, 1.55 * s);
    pg_shade(c, PG_FILL_AUTO, 0.55, c->look.line);
    cairo_new_sub_path(cr);
    cairo_rectangle(cr, -0.36 * s, -0.55 * s, 0.72 * s, sw * 0.9);
    pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line);
    for (int sd = -1; sd <= 1; sd += 2)
        pg_circle(cr, sd * 0.38 * s, -0.55 * s + sw * 0.45, sw * 0.75);
    pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line * 0.7);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0, -0.8 * s, 0.13 * s, 0, 2 * M_PI);
    cairo_arc_negative(cr, 0, -0.8 * s, 0.08 * s, 2 * M_PI, 0);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_AUTO, 0.5, c->look.line * 0.8);
    /* rope wound round the shank */
    cairo_move_to(cr, 0.1 * s, -0.7 * s);
    for (int i = 0; i < 5; i++) {
        double y0 = (-0.62 + i * 0.26) * s;
        double sd = (i & 1) ? 1 : -1;
        cairo_curve_to(cr, sd * 0.3 * s, y0 - 0.05 * s, sd * 0.3 * s, y0 + 0.12 * s, -sd * 0.04 * s, y0 + 0.14 * s);
    }
    cairo_curve_to(cr, -0.3 * s, 0.85 * s, -0.5 * s, 0.7 * s, -0.6 * s, 0.8 * s);
    cairo_path_t *rope = cairo_copy_path(cr);
    c->cur_color = 1;
    cairo_set_line_width(cr, pg_px(c, c->look.line * 2.2) * c->stroke_scale);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    pg_ink(c, 1);
    cairo_stroke(cr);
    cairo_append_path(cr, rope);
    if (c->look.ncolors && c->look.fill == PG_FILL_COLOR)
        pg_paint_color(c, 1, 1);
    else
        cairo_set_source_rgba(cr, 0, 0, 0, 1);
    cairo_set_line_width(cr, pg_px(c, c->look.line * 1.1) * c->stroke_scale);
    if (!(c->look.ncolors && c->look.fill == PG_FILL_COLOR))
        cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
    cairo_stroke(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    cairo_path_destroy(rope);
    cairo_restore(cr);
}

/* ---- compass ------------------------------------------------------------ */

static void point(pg_ctx *c, double a, double r0, double r1, double hw)
{
    cairo_t *cr = c->cr;
    double tx = r1 * cos(a), ty = r1 * sin(a);
    for (int sd = -1; sd <= 1; sd += 2) {
        double bx = r0 * cos(a + sd * hw), by = r0 * sin(a + sd * hw);
        cairo_move_to(cr, 0, 0);
        cairo_line_to(cr, bx, by);
        cairo_line_to(cr, tx, ty);
        cairo_close_path(cr);
        c->cur_color = 0;
        pg_shade(c, sd < 0 ? PG_FILL_SOLID : PG_FILL_OUTLINE, sd < 0 ? 1 : 0, c->look.line * 0.5);
    }
}

void pg_motif_compass(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    double R = s * 0.78;
    pg_circle(cr, 0, 0, R);
    c->cur_color = 1;
    pg_shade(c, c->look.fill == PG_FILL_SOLID ? PG_FILL_OUTLINE : PG_FILL_AUTO, 0.15, c->look.line);
    pg_circle(cr, 0, 0, R * 0.9);
    pg_stroke(c, c->look.fine);
    int nt = 72;
    for (int i = 0; i < nt; i++) {
        double a = 2 * M_PI * i / nt, l = (i % 9 == 0) ? 0.08 : 0.04;
        cairo_move_to(cr, R * 0.9 * cos(a), R * 0.9 * sin(a));
        cairo_line_to(cr, R * (0.9 - l) * cos(a), R * (0.9 - l) * sin(a));
    }
    pg_stroke(c, c->look.fine * 0.7);
    int eight = c->look.detail > 0.35;
    if (eight) {
        for (int i = 0; i < 4; i++)
            point(c, M_PI / 4 + i * M_PI / 2, s * 0.12, R * 0.62, 0.55);
    }
    for (int i = 0; i < 4; i++)
        point(c, -M_PI / 2 + i * M_PI / 2, s * 0.15, i == 0 ? s * 1.05 : R * 0.92, 0.42);
    pg_circle(cr, 0, 0, s * 0.05);
    pg_shade(c, PG_FILL_OUTLINE, 0, c->look.fine);
    pg_text(c, "N", 0, -s * 1.18, s * 0.16, PG_FONT_BLOCK, 0);
    cairo_restore(cr);
}

/* ---- feathers ---------------------------------------------------------- */

static void quill(pg_ctx *c, double x, double y, double len, double ang, double wid)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, ang);
    /* in local space the quill runs from (0, len/2) up to (0, -len/2) */
    double h = len / 2, bend = len * pg_rrange(&c->rng, -0.05, 0.05);
    for (int sd = -1; sd <= 1; sd += 2) {
        double w = wid * len * (sd > 0 ? 1 : 0.75);
        cairo_new_sub_path(cr);
        cairo_move_to(cr, 0, h * 0.55);
        cairo_curve_to(cr, sd * w * 1.1, h * 0.35, sd * w * 1.05 + bend, -h * 0.5, bend * 0.5, -h);
        cairo_curve_to(cr, sd * w * 0.1 + bend * 0.5, -h * 0.6, sd * w * 0.05, h * 0.2, 0, h * 0.55);
        cairo_close_path(cr);
        c->cur_color = sd > 0 ? 3 : 0;
        pg_shade(c, PG_FILL_AUTO, sd > 0 ? 0.55 : 0.3, c->look.line * 0.6);
        /* barbs angled toward the tip, with a gap or two */
        int nb = 8 + (int)(10 * c->look.detail);
        int gap = 2 + pg_rint(&c->rng, nb - 4);
        for (int i = 0; i < nb; i++) {
            if (i == gap)
                continue;
            double t = (i + 0.5) / nb, yy = h * 0.5 - t * h * 1.4;
            double ww = w * sin(M_PI * fmin(1, t * 1.1)) * 0.95;
            cairo_move_to(cr, bend * t * 0.5, yy);
            cairo_curve_to(cr, sd * ww * 0.4, yy - len * 0.02, sd * ww * 0.8, yy - len * 0.05, sd * ww, yy - len * 0.09);
        }
        if (c->look.fill == PG_FILL_SOLID && sd > 0)
            pg_cut(c, c->look.fine * 0.8);
        else
            pg_stroke(c, c->look.fine * 0.7);
    }
    cairo_move_to(cr, 0, h);
    cairo_curve_to(cr, 0, h * 0.2, bend * 0.3, -h * 0.5, bend * 0.5, -h);
    pg_stroke(c, c->look.line * 0.7);
    /* fluff at the base */
    for (int i = 0; i < 5; i++) {
        double sd = (i & 1) ? 1 : -1, yy = h * (0.6 + 0.05 * i);
        cairo_move_to(cr, 0, yy);
        cairo_curve_to(cr, sd * wid * len * 0.3, yy - len * 0.02, sd * wid * len * 0.5, yy + len * 0.01,
                       sd * wid * len * 0.6, yy + len * 0.04);
    }
    pg_stroke(c, c->look.fine * 0.6);
    cairo_restore(cr);
}

static void arrow(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    cairo_move_to(cr, 0, s * 1.0);
    cairo_line_to(cr, 0, -s * 0.85);
    pg_stroke(c, c->look.line * 0.7);
    cairo_move_to(cr, 0, -s * 1.1);
    cairo_line_to(cr, s * 0.1, -s * 0.8);
    cairo_line_to(cr, 0, -s * 0.85);
    cairo_line_to(cr, -s * 0.1, -s * 0.8);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_SOLID, 1, c->look.fine);
    for (int i = 0; i < 3; i++) {
        double yy = s * (0.62 + i * 0.12);
        for (int sd = -1; sd <= 1; sd += 2) {
            pg_leaf_path(cr, 0, yy, sd * s * 0.14, yy - s * 0.18, 0.25, 0);
            c->cur_color = 0;
            pg_shade(c, PG_FILL_AUTO, 0.4, c->look.fine);
        }
    }
}

static void dreamcatcher(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    double R = s * 0.5, cy = -s * 0.4;
    pg_circle(cr, 0, cy, R);
    pg_stroke(c, c->look.line * 1.2);
    /* web: a star polygon shrinking inward */
    int n = 8;
    double r = R;
    for (int k = 0; k < 4; k++) {
        cairo_new_sub_path(cr);
        for (int i = 0; i <= n; i++) {
            double a = 2 * M_PI * i / n + k * M_PI / n;
            if (i == 0)
                cairo_move_to(cr, r * cos(a), cy + r * sin(a));
            else
                cairo_line_to(cr, r * cos(a), cy + r * sin(a));
        }
        r *= 0.62;
    }
    pg_stroke(c, c->look.fine);
    pg_dot(c, 0, cy, 6);
    for (int i = -1; i <= 1; i++) {
        double hx = i * R * 0.65, hy = cy + sqrt(R * R - hx * hx);
        double l = s * (i == 0 ? 0.45 : 0.3);
        cairo_move_to(cr, hx, hy);
        cairo_line_to(cr, hx, hy + l * 0.4);
        pg_stroke(c, c->look.fine);
        pg_dot(c, hx, hy + l * 0.35, 7);
        quill(c, hx, hy + l * 0.4 + s * 0.22, s * 0.45, pg_rrange(&c->rng, -0.1, 0.1), 0.14);
    }
}

void pg_motif_feather(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0xFEA7) % 3);
    if (PG_HAS(c, PG_H_ARROW))
        kind = 1;
    else if (PG_HAS(c, PG_H_DREAMCATCHER))
        kind = 2;
    else if (kind == 1 && !PG_HAS(c, PG_H_ARROW))
        kind = 0;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 1)
        arrow(c, s);
    else if (kind == 2)
        dreamcatcher(c, s);
    else
        quill(c, 0, 0, s * 2.0, pg_rrange(&c->rng, -0.35, 0.35), 0.12);
    cairo_restore(cr);
}
