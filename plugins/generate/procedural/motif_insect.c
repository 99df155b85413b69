/* Butterflies and moths (symmetric wings with veins, bands and eye spots)
 * and spiders (with or without a web). */
#include <math.h>
#include "pg.h"

static void wing_path(cairo_t *cr, const double *pts, int n, double sd, double s, double k)
{
    double buf[2 * 12];
    for (int i = 0; i < n && i < 12; i++) {
        buf[2 * i] = sd * pts[2 * i] * s * k;
        buf[2 * i + 1] = pts[2 * i + 1] * s * k;
    }
    cairo_new_sub_path(cr);
    pg_smooth(cr, buf, n, 1, 1);
}

void pg_motif_butterfly(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int moth = PG_HAS(c, PG_H_MOTH) || (!PG_HAS(c, PG_H_MOTH) && (pg_style_bits(c, 0xB077) % 3) == 0);
    static const double up_b[] = { 0.05, -0.08, 0.3, -0.7, 0.75, -0.85, 1.0, -0.62, 0.85, -0.25, 0.45, -0.02 };
    static const double lo_b[] = { 0.05, 0.02, 0.6, 0.08, 0.8, 0.4, 0.6, 0.8, 0.3, 0.85, 0.08, 0.35 };
    static const double up_m[] = { 0.05, -0.1, 0.4, -0.55, 0.95, -0.6, 1.05, -0.35, 0.7, -0.02, 0.3, 0.02 };
    static const double lo_m[] = { 0.05, 0.02, 0.45, 0.05, 0.7, 0.3, 0.55, 0.6, 0.25, 0.68, 0.08, 0.3 };
    const double *up = moth ? up_m : up_b, *lo = moth ? lo_m : lo_b;
    double spread = pg_rrange(&c->rng, 0.9, 1.05);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    for (int sd = -1; sd <= 1; sd += 2) {
        for (int w = 1; w >= 0; w--) { /* lower wing behind the upper one */
            const double *pts = w ? lo : up;
            c->cur_color = w ? 1 : 0;
            wing_path(cr, pts, 6, sd * spread, s, 1);
            pg_shade(c, PG_FILL_AUTO, w ? 0.55 : 0.45, c->look.line);
            /* a darker band along the edge: the wing minus a smaller copy */
            if (c->look.detail > 0.25) {
                wing_path(cr, pts, 6, sd * spread, s, 1);
                wing_path(cr, pts, 6, sd * spread, s, 0.72);
                cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
                c->cur_color = 3;
                pg_shade(c, c->look.fill == PG_FILL_OUTLINE ? PG_FILL_STIPPLE : PG_FILL_AUTO, 0.85, c->look.fine);
                cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
            }
            /* veins from the body out */
            for (int i = 1; i < 5; i++) {
                double tx = sd * spread * pts[2 * i] * s * 0.72, ty = pts[2 * i + 1] * s * 0.72;
                cairo_move_to(cr, sd * 0.05 * s, 0);
                cairo_curve_to(cr, tx * 0.4, ty * 0.2, tx * 0.7, ty * 0.75, tx, ty);
            }
            if (c->look.fill == PG_FILL_SOLID)
                pg_cut(c, c->look.fine * 0.8);
            else
                pg_stroke(c, c->look.fine * 0.8);
            /* spots along the edge, and an eye spot */
            for (int i = 1; i < 5; i++) {
                double px = sd * spread * pts[2 * i] * s * 0.86, py = pts[2 * i + 1] * s * 0.86;
                pg_circle(cr, px, py, s * 0.025);
            }
            if (c->look.fill == PG_FILL_SOLID)
                pg_knockout(c), cairo_new_path(cr);
            else
                pg_fill_black(c);
            if (w == 1 || moth) {
                double ex = sd * spread * (w ? 0.45 : 0.55) * s, ey = (w ? 0.4 : -0.35) * s;
                pg_circle(cr, ex, ey, s * 0.09);
                c->cur_color = 2;
                pg_shade(c, PG_FILL_AUTO, 0.2, c->look.fine);
                pg_circle(cr, ex, ey, s * 0.045);
                pg_shade(c, PG_FILL_SOLID, 1, 0);
            }
        }
    }
    /* body, head, antennae */
    for (int i = 0; i < (moth ? 5 : 3); i++) {
        cairo_new_sub_path(cr);
        cairo_save(cr);
        cairo_translate(cr, 0, (-0.1 + i * 0.12) * s);
        cairo_scale(cr, (moth ? 0.07 : 0.045) * s * (1 - i * 0.1), 0.08 * s);
        cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
        cairo_restore(cr);
        pg_shade(c, PG_FILL_AUTO, 0.8, c->look.fine);
    }
    pg_circle(cr, 0, -0.2 * s, 0.05 * s);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_move_to(cr, sd * 0.02 * s, -0.24 * s);
        cairo_curve_to(cr, sd * 0.06 * s, -0.4 * s, sd * 0.15 * s, -0.5 * s, sd * 0.25 * s, -0.58 * s);
        pg_stroke(c, c->look.fine);
        if (moth) {
            for (int k = 1; k < 6; k++) {
                double t = k / 6.0, px = sd * (0.02 + 0.23 * t) * s, py = (-0.24 - 0.34 * t) * s;
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, px + sd * 0.05 * s, py + 0.02 * s);
            }
            pg_stroke(c, c->look.fine * 0.6);
        } else {
            pg_dot(c, sd * 0.25 * s, -0.58 * s, c->look.fine * 2 + 2);
        }
    }
    cairo_restore(cr);
}

static void spider_body(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    for (int sd = -1; sd <= 1; sd += 2) {
        for (int i = 0; i < 4; i++) {
            double a0 = -1.1 + i * 0.55 + pg_rrange(&c->rng, -0.08, 0.08);
            double kx = sd * cos(a0), ky = sin(a0);
            double j1x = kx * 0.35 * s, j1y = ky * 0.35 * s - 0.25 * s;
            double j2x = kx * 0.7 * s, j2y = ky * 0.5 * s + (i < 2 ? -0.1 : 0.25) * s;
            double j3x = kx * 0.85 * s, j3y = j2y + (i < 2 ? -0.25 : 0.35) * s;
            cairo_move_to(cr, 0, 0);
            cairo_line_to(cr, j1x, j1y);
            cairo_line_to(cr, j2x, j2y);
            cairo_line_to(cr, j3x, j3y);
        }
    }
    pg_stroke(c, c->look.line * 0.8);
    cairo_new_sub_path(cr);
    cairo_save(cr);
    cairo_translate(cr, 0, 0.3 * s);
    cairo_scale(cr, 0.26 * s, 0.34 * s);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    c->cur_color = 0;
    pg_shade(c, c->look.fill == PG_FILL_OUTLINE ? PG_FILL_STIPPLE : PG_FILL_AUTO, 0.9, c->look.line * 0.7);
    /* an hourglass or a cross on the back */
    cairo_move_to(cr, -0.08 * s, 0.18 * s);
    cairo_line_to(cr, 0.08 * s, 0.18 * s);
    cairo_line_to(cr, -0.08 * s, 0.42 * s);
    cairo_line_to(cr, 0.08 * s, 0.42 * s);
    cairo_close_path(cr);
    if (c->look.ncolors) {
        pg_paint_color(c, 0, 1);
        cairo_fill(cr);
    } else {
        pg_knockout(c);
        cairo_new_path(cr);
    }
    pg_circle(cr, 0, -0.05 * s, 0.15 * s);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
}

static void web(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    int spokes = 9 + pg_rint(&c->rng, 4), rings = 5 + (int)(4 * c->look.detail);
    double ang[16], len[16];
    for (int i = 0; i < spokes; i++) {
        ang[i] = 2 * M_PI * i / spokes + pg_rrange(&c->rng, -0.1, 0.1);
        len[i] = s * pg_rrange(&c->rng, 0.9, 1.1);
        cairo_move_to(cr, 0, 0);
        cairo_line_to(cr, len[i] * cos(ang[i]), len[i] * sin(ang[i]));
    }
    pg_stroke(c, c->look.fine);
    for (int r = 1; r <= rings; r++) {
        double t = (double)r / rings;
        for (int i = 0; i < spokes; i++) {
            int j = (i + 1) % spokes;
            double ax = t * len[i] * cos(ang[i]), ay = t * len[i] * sin(ang[i]);
            double bx = t * len[j] * cos(ang[j]), by = t * len[j] * sin(ang[j]);
            double mx = 0.5 * (ax + bx) * 0.88, my = 0.5 * (ay + by) * 0.88; /* sag toward the centre */
            cairo_move_to(cr, ax, ay);
            cairo_curve_to(cr, mx, my, mx, my, bx, by);
        }
    }
    pg_stroke(c, c->look.fine * 0.8);
}

void pg_motif_spider(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int with_web = PG_HAS(c, PG_H_WEB) || (pg_style_bits(c, 0x3EB) & 1);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (with_web) {
        web(c, s);
        cairo_save(cr);
        cairo_translate(cr, s * 0.2, s * 0.15);
        spider_body(c, s * 0.45);
        cairo_restore(cr);
    } else {
        /* hanging from a thread */
        cairo_move_to(cr, 0, -s * 1.1);
        cairo_line_to(cr, 0, -s * 0.2);
        pg_stroke(c, c->look.fine);
        spider_body(c, s * 0.8);
    }
    cairo_restore(cr);
}
