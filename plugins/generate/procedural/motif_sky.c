/* Sky and vision: moon, sun, stars, moon phases, constellations; the eye
 * (almond eye with lashes, the eye of providence in a triangle, the eye of
 * Horus); mountain landscapes in a circle with pines and a sun. */
#include <math.h>
#include "pg.h"

/* A crescent: the disc of radius r minus a disc shifted toward `rot`, the
 * outline built from the two arcs between the circles' intersections. */
static void crescent(pg_ctx *c, double x, double y, double r, double rot)
{
    cairo_t *cr = c->cr;
    double d = 0.42 * r, rb = 0.86 * r;
    double ix = (d * d + r * r - rb * rb) / (2 * d), iy = sqrt(fmax(r * r - ix * ix, 0));
    double ta = atan2(iy, ix), tb = atan2(iy, ix - d);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot - 0.5);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0, 0, r, ta, 2 * M_PI - ta);
    cairo_arc_negative(cr, d, 0, rb, 2 * M_PI - tb, tb);
    cairo_close_path(cr);
    cairo_restore(cr);
    c->cur_color = 1;
    pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line);
}

static void sun(pg_ctx *c, double x, double y, double r)
{
    cairo_t *cr = c->cr;
    int n = 12 + 4 * pg_rint(&c->rng, 3);
    int wavy = pg_style_bits(c, 0x5A1) & 1;
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * i / n, long_ray = (i & 1) == 0;
        double r1 = r * (long_ray ? 1.75 : 1.4), hw = M_PI / n * 0.55;
        cairo_new_sub_path(cr);
        cairo_move_to(cr, x + r * 1.08 * cos(a - hw), y + r * 1.08 * sin(a - hw));
        if (wavy && !long_ray) {
            double mx = x + r * 1.25 * cos(a + hw), my = y + r * 1.25 * sin(a + hw);
            cairo_curve_to(cr, mx, my, x + r1 * cos(a - hw * 0.6), y + r1 * sin(a - hw * 0.6), x + r1 * cos(a), y + r1 * sin(a));
        } else {
            cairo_line_to(cr, x + r1 * cos(a), y + r1 * sin(a));
        }
        cairo_line_to(cr, x + r * 1.08 * cos(a + hw), y + r * 1.08 * sin(a + hw));
        cairo_close_path(cr);
        c->cur_color = 1;
        pg_shade(c, PG_FILL_AUTO, long_ray ? 0.7 : 0.35, c->look.line * 0.6);
    }
    pg_circle(cr, x, y, r);
    pg_shade(c, PG_FILL_AUTO, 0.3, c->look.line);
    pg_circle(cr, x, y, r * 0.8);
    pg_stroke(c, c->look.fine);
}

static void phases(pg_ctx *c, double x, double y, double s)
{
    cairo_t *cr = c->cr;
    int n = 5;
    double r = s * 0.16, gap = s * 0.42;
    for (int i = 0; i < n; i++) {
        double cx = x + (i - 2) * gap;
        double f = (double)i / (n - 1); /* 0 new .. 1 full */
        pg_circle(cr, cx, y, r);
        pg_stroke(c, c->look.fine);
        /* the dark part: the disc minus a disc shifted by 2r(1-f) */
        if (f < 0.99) {
            cairo_save(cr);
            pg_circle(cr, cx, y, r);
            cairo_clip(cr);
            cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
            cairo_rectangle(cr, cx - 2 * r, y - 2 * r, 4 * r, 4 * r);
            pg_circle(cr, cx + r * 2 * (1 - f), y, r * 1.02);
            pg_fill_black(c);
            cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
            cairo_restore(cr);
        }
    }
    pg_orn_sparkle(c, x, y - s * 0.45, s * 0.12);
}

static void constellation(pg_ctx *c, double x, double y, double s)
{
    cairo_t *cr = c->cr;
    int n = 5 + pg_rint(&c->rng, 4);
    double px[12] = { 0 }, py[12] = { 0 };
    for (int i = 0; i < n; i++) {
        px[i] = x + pg_rrange(&c->rng, -0.8, 0.8) * s;
        py[i] = y + pg_rrange(&c->rng, -0.6, 0.6) * s;
    }
    cairo_move_to(cr, px[0], py[0]);
    for (int i = 1; i < n; i++)
        cairo_line_to(cr, px[i], py[i]);
    pg_stroke(c, c->look.fine * 0.7);
    for (int i = 0; i < n; i++) {
        if (pg_chance(&c->rng, 0.4))
            pg_orn_sparkle(c, px[i], py[i], pg_px(c, pg_rrange(&c->rng, 18, 30)));
        else
            pg_dot(c, px[i], py[i], pg_rrange(&c->rng, 5, 9));
    }
}

/* A ringed planet: the back half of the ring, the globe, then the front. */
static void planet(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    double R = s * 0.45, tilt = rot - 0.35;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, tilt);
    for (int half = 0; half < 2; half++) {
        if (half == 1) {
            cairo_restore(cr);
            pg_circle(cr, x, y, R);
            c->cur_color = 1;
            pg_shade(c, PG_FILL_AUTO, 0.55, c->look.line);
            /* bands on the globe */
            cairo_save(cr);
            pg_circle(cr, x, y, R);
            cairo_clip(cr);
            for (int k = -1; k <= 1; k++) {
                cairo_move_to(cr, x - R, y + k * R * 0.35);
                cairo_curve_to(cr, x - R * 0.3, y + k * R * 0.35 + R * 0.12, x + R * 0.3, y + k * R * 0.35 + R * 0.12,
                               x + R, y + k * R * 0.35);
            }
            pg_stroke(c, c->look.fine);
            cairo_restore(cr);
            cairo_save(cr);
            cairo_translate(cr, x, y);
            cairo_rotate(cr, tilt);
        }
        cairo_new_sub_path(cr);
        cairo_save(cr);
        cairo_scale(cr, 1, 0.28);
        if (half == 0)
            cairo_arc(cr, 0, 0, R * 1.85, M_PI, 2 * M_PI);
        else
            cairo_arc(cr, 0, 0, R * 1.85, 0, M_PI);
        cairo_restore(cr);
        cairo_save(cr);
        cairo_scale(cr, 1, 0.28);
        if (half == 0)
            cairo_arc_negative(cr, 0, 0, R * 1.45, 2 * M_PI, M_PI);
        else
            cairo_arc_negative(cr, 0, 0, R * 1.45, M_PI, 0);
        cairo_restore(cr);
        cairo_close_path(cr);
        c->cur_color = 0;
        pg_shade(c, PG_FILL_AUTO, 0.4, c->look.line * 0.8);
    }
    cairo_restore(cr);
    for (int i = 0; i < 4; i++)
        pg_orn_sparkle(c, x + pg_rrange(&c->rng, -1, 1) * s, y + pg_rrange(&c->rng, -1, 1) * s * 0.8,
                       s * pg_rrange(&c->rng, 0.05, 0.1));
}

void pg_motif_celestial(pg_ctx *c, double x, double y, double s, double rot)
{
    int kind = (int)(pg_style_bits(c, 0xCE1) % 5);
    int moon = PG_HAS(c, PG_H_MOON), sunh = PG_HAS(c, PG_H_SUN), star = PG_HAS(c, PG_H_STAR);
    if (moon && sunh)
        kind = 2;
    else if (moon)
        kind = (pg_style_bits(c, 0x300) & 1) ? 0 : 3;
    else if (sunh)
        kind = 1;
    else if (star && !moon)
        kind = 4;
    if (PG_HAS(c, PG_H_PLANET))
        kind = 5;
    switch (kind) {
    case 0: /* crescent with stars */
        crescent(c, x, y, s * 0.7, rot);
        for (int i = 0; i < 3; i++)
            pg_orn_star(c, x + s * pg_rrange(&c->rng, 0.2, 0.7), y + s * pg_rrange(&c->rng, -0.6, 0.6),
                        s * pg_rrange(&c->rng, 0.07, 0.14), 5, 0.45);
        break;
    case 1:
        sun(c, x, y, s * 0.5);
        break;
    case 2: /* sun with a crescent inside */
        sun(c, x, y, s * 0.52);
        crescent(c, x, y, s * 0.42, rot);
        break;
    case 3:
        phases(c, x, y, s);
        break;
    case 5:
        planet(c, x, y, s, rot);
        break;
    default:
        constellation(c, x, y, s);
        break;
    }
}

/* ---- eye --------------------------------------------------------------- */

static void almond_eye(pg_ctx *c, double x, double y, double w, int lashes)
{
    cairo_t *cr = c->cr;
    double h = w * 0.42;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x - w, y);
    cairo_curve_to(cr, x - w * 0.5, y - h * 1.25, x + w * 0.5, y - h * 1.25, x + w, y);
    cairo_curve_to(cr, x + w * 0.5, y + h * 1.1, x - w * 0.5, y + h * 1.1, x - w, y);
    cairo_close_path(cr);
    cairo_path_t *lid = cairo_copy_path(cr);
    pg_shade(c, PG_FILL_OUTLINE, 0, c->look.line);
    cairo_save(cr);
    cairo_append_path(cr, lid);
    cairo_clip(cr);
    double ir = h * 0.95;
    pg_circle(cr, x, y, ir);
    c->cur_color = 3;
    pg_shade(c, PG_FILL_AUTO, 0.45, c->look.line * 0.6);
    int nr = 24;
    for (int i = 0; i < nr; i++) {
        double a = 2 * M_PI * i / nr;
        cairo_move_to(cr, x + ir * 0.45 * cos(a), y + ir * 0.45 * sin(a));
        cairo_line_to(cr, x + ir * 0.9 * cos(a), y + ir * 0.9 * sin(a));
    }
    pg_stroke(c, c->look.fine * 0.6);
    pg_circle(cr, x, y, ir * 0.42);
    pg_fill_black(c);
    pg_circle(cr, x - ir * 0.3, y - ir * 0.3, ir * 0.15);
    pg_knockout(c);
    cairo_new_path(cr);
    cairo_restore(cr);
    cairo_path_destroy(lid);
    /* crease above the lid */
    cairo_move_to(cr, x - w * 0.8, y - h * 0.55);
    cairo_curve_to(cr, x - w * 0.4, y - h * 1.6, x + w * 0.4, y - h * 1.6, x + w * 0.85, y - h * 0.5);
    pg_stroke(c, c->look.fine);
    if (lashes) {
        for (int i = 0; i < 9; i++) {
            double t = (i + 1) / 10.0;
            double px = x - w + 2 * w * t, py = y - h * 1.25 * 4 * t * (1 - t) * 0.75;
            double a = -M_PI / 2 + (t - 0.5) * 1.6;
            cairo_move_to(cr, px, py);
            cairo_curve_to(cr, px + w * 0.08 * cos(a), py + w * 0.08 * sin(a), px + w * 0.15 * cos(a + 0.3),
                           py + w * 0.15 * sin(a + 0.3), px + w * 0.2 * cos(a + 0.5), py + w * 0.2 * sin(a + 0.5));
        }
        pg_stroke(c, c->look.fine);
    }
}

void pg_motif_eye(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0xE7E) % 3);
    if (PG_HAS(c, PG_H_HORUS))
        kind = 2;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 0) {
        /* eye of providence: a triangle with rays */
        int nr = 16 + pg_rint(&c->rng, 16);
        for (int i = 0; i < nr; i++) {
            double a = 2 * M_PI * i / nr;
            cairo_move_to(cr, s * 0.62 * cos(a), s * 0.1 + s * 0.62 * sin(a));
            cairo_line_to(cr, s * (0.95 + 0.1 * (i & 1)) * cos(a), s * 0.1 + s * (0.95 + 0.1 * (i & 1)) * sin(a));
        }
        pg_stroke(c, c->look.fine);
        cairo_new_sub_path(cr);
        cairo_move_to(cr, 0, -s * 0.7);
        cairo_line_to(cr, s * 0.75, s * 0.58);
        cairo_line_to(cr, -s * 0.75, s * 0.58);
        cairo_close_path(cr);
        c->cur_color = 1;
        pg_shade(c, PG_FILL_AUTO, 0.25, c->look.line);
        almond_eye(c, 0, s * 0.18, s * 0.33, 0);
    } else if (kind == 1) {
        almond_eye(c, 0, 0, s * 0.8, 1);
        /* a tear, or a brow */
        if (pg_chance(&c->rng, 0.5)) {
            cairo_new_sub_path(cr);
            cairo_move_to(cr, s * 0.1, s * 0.45);
            cairo_curve_to(cr, s * 0.2, s * 0.6, s * 0.2, s * 0.7, s * 0.1, s * 0.72);
            cairo_curve_to(cr, 0, s * 0.7, 0, s * 0.6, s * 0.1, s * 0.45);
            cairo_close_path(cr);
            c->cur_color = 3;
            pg_shade(c, PG_FILL_AUTO, 0.4, c->look.fine);
        } else {
            cairo_new_sub_path(cr);
            cairo_move_to(cr, -s * 0.85, -s * 0.45);
            cairo_curve_to(cr, -s * 0.4, -s * 0.8, s * 0.4, -s * 0.75, s * 0.9, -s * 0.5);
            cairo_curve_to(cr, s * 0.4, -s * 0.62, -s * 0.4, -s * 0.65, -s * 0.85, -s * 0.45);
            cairo_close_path(cr);
            pg_shade(c, PG_FILL_SOLID, 1, 0);
        }
    } else {
        /* eye of Horus: brow, eye, the spiral tail and the drop */
        cairo_new_sub_path(cr);
        cairo_move_to(cr, -s * 0.7, -s * 0.42);
        cairo_curve_to(cr, -s * 0.3, -s * 0.62, s * 0.3, -s * 0.62, s * 0.85, -s * 0.45);
        cairo_line_to(cr, s * 0.85, -s * 0.35);
        cairo_curve_to(cr, s * 0.3, -s * 0.5, -s * 0.3, -s * 0.5, -s * 0.7, -s * 0.32);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_SOLID, 1, 0);
        almond_eye(c, 0, -s * 0.05, s * 0.55, 0);
        cairo_move_to(cr, s * 0.55, -s * 0.05);
        cairo_line_to(cr, s * 0.95, -s * 0.05);
        pg_stroke(c, c->look.line * 1.4);
        cairo_move_to(cr, -s * 0.05, s * 0.22);
        cairo_line_to(cr, -s * 0.12, s * 0.75);
        pg_stroke(c, c->look.line * 1.4);
        cairo_new_sub_path(cr);
        cairo_move_to(cr, s * 0.15, s * 0.22);
        cairo_curve_to(cr, s * 0.3, s * 0.5, s * 0.55, s * 0.75, s * 0.4, s * 0.85);
        cairo_curve_to(cr, s * 0.25, s * 0.95, s * 0.12, s * 0.8, s * 0.25, s * 0.7);
        pg_stroke(c, c->look.line * 1.2);
    }
    cairo_restore(cr);
}

/* ---- mountains ---------------------------------------------------------- */

static void pine(pg_ctx *c, double x, double y, double h)
{
    cairo_t *cr = c->cr;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x, y - h);
    for (int i = 1; i <= 3; i++) {
        double t = i / 3.0, w = h * 0.18 * t + h * 0.05;
        cairo_line_to(cr, x + w, y - h + h * 0.95 * t);
        if (i < 3)
            cairo_line_to(cr, x + w * 0.45, y - h + h * 0.95 * t);
    }
    for (int i = 3; i >= 1; i--) {
        double t = i / 3.0, w = h * 0.18 * t + h * 0.05;
        if (i < 3)
            cairo_line_to(cr, x - w * 0.45, y - h + h * 0.95 * t);
        cairo_line_to(cr, x - w, y - h + h * 0.95 * t);
    }
    cairo_close_path(cr);
    c->cur_color = 2;
    pg_shade(c, c->look.fill == PG_FILL_OUTLINE ? PG_FILL_SOLID : PG_FILL_AUTO, 0.9, c->look.fine);
    cairo_move_to(cr, x, y - h * 0.1);
    cairo_line_to(cr, x, y);
    pg_stroke(c, c->look.fine);
}

void pg_motif_mountain(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int framed = (pg_style_bits(c, 0x3F7) % 3) != 0;
    double R = s * 0.85;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (framed) {
        pg_circle(cr, 0, 0, R);
        cairo_save(cr);
        cairo_clip(cr);
    }
    /* sun or moon in the sky */
    double sx = pg_rrange(&c->rng, -0.4, 0.4) * s, sy = -s * pg_rrange(&c->rng, 0.35, 0.5);
    pg_circle(cr, sx, sy, s * 0.14);
    c->cur_color = 1;
    pg_shade(c, PG_FILL_AUTO, 0.3, c->look.fine);
    for (int i = 0; i < 3; i++) {
        double bx = pg_rrange(&c->rng, -0.6, 0.6) * s, by = pg_rrange(&c->rng, -0.7, -0.3) * s, w = s * 0.04;
        cairo_move_to(cr, bx - w, by);
        cairo_curve_to(cr, bx - w * 0.5, by - w * 0.5, bx, by - w * 0.3, bx, by);
        cairo_curve_to(cr, bx, by - w * 0.3, bx + w * 0.5, by - w * 0.5, bx + w, by);
        pg_stroke(c, c->look.fine);
    }
    /* ranges, back to front */
    int ranges = 2 + pg_rint(&c->rng, 2);
    for (int k = 0; k < ranges; k++) {
        double base = s * (0.25 + 0.18 * k);
        int np = 3 + pg_rint(&c->rng, 2);
        double px = -R * 1.1;
        cairo_new_sub_path(cr);
        cairo_move_to(cr, px, R * 1.1);
        cairo_line_to(cr, px, base);
        double peaks[8][2];
        for (int i = 0; i < np; i++) {
            double pw = 2.2 * R / np;
            double tx = px + pw * pg_rrange(&c->rng, 0.35, 0.65);
            double ty = base - s * pg_rrange(&c->rng, 0.35, 0.75) / (1 + 0.4 * k);
            cairo_line_to(cr, tx, ty);
            peaks[i][0] = tx;
            peaks[i][1] = ty;
            px += pw;
            cairo_line_to(cr, px, base - s * pg_rrange(&c->rng, 0, 0.1));
        }
        cairo_line_to(cr, R * 1.1, R * 1.1);
        cairo_close_path(cr);
        c->cur_color = 3;
        pg_shade(c, PG_FILL_AUTO, 0.25 + 0.2 * k, c->look.line * 0.7);
        /* snow caps and a shaded flank */
        for (int i = 0; i < np; i++) {
            double tx = peaks[i][0], ty = peaks[i][1], d = s * 0.1;
            cairo_move_to(cr, tx - d, ty + d * 1.2);
            cairo_line_to(cr, tx - d * 0.4, ty + d * 0.8);
            cairo_line_to(cr, tx, ty + d * 1.3);
            cairo_line_to(cr, tx + d * 0.5, ty + d * 0.9);
            cairo_line_to(cr, tx + d * 1.1, ty + d * 1.3);
            pg_stroke(c, c->look.fine);
            cairo_new_sub_path(cr);
            cairo_move_to(cr, tx, ty);
            cairo_line_to(cr, tx + s * 0.4, ty + s * 0.6);
            cairo_line_to(cr, tx + s * 0.05, ty + s * 0.6);
            cairo_close_path(cr);
            cairo_save(cr);
            cairo_clip(cr);
            cairo_rectangle(cr, -2 * R, -2 * R, 4 * R, 4 * R);
            pg_hatch(c, 0.7, -0.8);
            cairo_new_path(cr);
            cairo_restore(cr);
        }
    }
    /* pines in front */
    int trees = 3 + pg_rint(&c->rng, 5) + (PG_HAS(c, PG_H_PINE) ? 4 : 0);
    for (int i = 0; i < trees; i++) {
        double tx = pg_rrange(&c->rng, -0.8, 0.8) * R, ty = R * pg_rrange(&c->rng, 0.62, 0.85);
        pine(c, tx, ty, s * pg_rrange(&c->rng, 0.18, 0.35));
    }
    if (framed) {
        cairo_restore(cr);
        pg_circle(cr, 0, 0, R);
        pg_stroke(c, c->look.line);
    } else {
        cairo_move_to(cr, -R, R * 0.75);
        cairo_line_to(cr, R, R * 0.75);
        pg_stroke(c, c->look.line * 0.8);
    }
    cairo_restore(cr);
}
