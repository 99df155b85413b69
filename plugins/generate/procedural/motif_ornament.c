/* Small accents and frames that compositions scatter around a main motif:
 * stars, sparkles, leaves, dangles, dotted arcs, frames, splatter and
 * watercolour washes. */
#include <math.h>
#include "pg.h"

void pg_orn_star(pg_ctx *c, double x, double y, double r, int points, double inner)
{
    cairo_t *cr = c->cr;
    if (points < 3)
        points = 5;
    cairo_new_sub_path(cr);
    for (int i = 0; i < 2 * points; i++) {
        double a = -M_PI / 2 + i * M_PI / points;
        double rr = (i & 1) ? r * inner : r;
        if (i == 0)
            cairo_move_to(cr, x + rr * cos(a), y + rr * sin(a));
        else
            cairo_line_to(cr, x + rr * cos(a), y + rr * sin(a));
    }
    cairo_close_path(cr);
    if (c->look.id == PG_L_FINELINE || c->look.id == PG_L_MINIMAL || c->look.id == PG_L_SKETCH) {
        pg_stroke(c, c->look.fine);
    } else if (c->look.ncolors > 0 && c->look.fill == PG_FILL_COLOR) {
        c->cur_color = 1;
        pg_shade(c, PG_FILL_COLOR, 0.2, c->look.fine);
    } else {
        pg_fill_black(c);
    }
}

void pg_orn_sparkle(pg_ctx *c, double x, double y, double r)
{
    cairo_t *cr = c->cr;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x, y - r);
    cairo_curve_to(cr, x + r * 0.08, y - r * 0.08, x + r * 0.08, y - r * 0.08, x + r * 0.7, y);
    cairo_curve_to(cr, x + r * 0.08, y + r * 0.08, x + r * 0.08, y + r * 0.08, x, y + r);
    cairo_curve_to(cr, x - r * 0.08, y + r * 0.08, x - r * 0.08, y + r * 0.08, x - r * 0.7, y);
    cairo_curve_to(cr, x - r * 0.08, y - r * 0.08, x - r * 0.08, y - r * 0.08, x, y - r);
    cairo_close_path(cr);
    pg_fill_black(c);
}

void pg_orn_leaf(pg_ctx *c, double x, double y, double len, double ang)
{
    cairo_t *cr = c->cr;
    double x1 = x + len * cos(ang), y1 = y + len * sin(ang);
    pg_leaf_path(cr, x, y, x1, y1, 0.28, pg_rrange(&c->rng, -0.08, 0.08));
    pg_shade(c, PG_FILL_AUTO, 0.5, c->look.fine);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + 0.8 * (x1 - x), y + 0.8 * (y1 - y));
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, c->look.fine * 0.7);
    else
        pg_stroke(c, c->look.fine * 0.6);
}

void pg_orn_dangle(pg_ctx *c, double x, double y, double len, double ang)
{
    cairo_t *cr = c->cr;
    double dx = cos(ang), dy = sin(ang);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + dx * len * 0.55, y + dy * len * 0.55);
    pg_stroke(c, c->look.fine);
    double t = 0.62, r = len * 0.045;
    for (int i = 0; i < 3; i++) {
        pg_circle(cr, x + dx * len * t, y + dy * len * t, r);
        pg_fill_black(c);
        t += 2.6 * r / len + 0.02;
        r *= 0.8;
    }
    /* teardrop at the end */
    double ex = x + dx * len * 0.93, ey = y + dy * len * 0.93, rr = len * 0.06;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, ex - dx * rr * 1.6, ey - dy * rr * 1.6);
    cairo_curve_to(cr, ex - dy * rr * 1.6, ey + dx * rr * 1.6, ex + dx * rr * 1.2 - dy * rr,
                   ey + dy * rr * 1.2 + dx * rr, ex + dx * rr * 1.3, ey + dy * rr * 1.3);
    cairo_curve_to(cr, ex + dx * rr * 1.2 + dy * rr, ey + dy * rr * 1.2 - dx * rr,
                   ex + dy * rr * 1.6, ey - dx * rr * 1.6, ex - dx * rr * 1.6, ey - dy * rr * 1.6);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
}

void pg_orn_dots_arc(pg_ctx *c, double x, double y, double r, double a0,
                     double a1, int n, double dr)
{
    if (n < 1)
        return;
    for (int i = 0; i < n; i++) {
        double a = n == 1 ? a0 : a0 + (a1 - a0) * i / (n - 1);
        pg_circle(c->cr, x + r * cos(a), y + r * sin(a), dr);
    }
    pg_fill_black(c);
}

static void poly(cairo_t *cr, double x, double y, double r, int n, double rot)
{
    cairo_new_sub_path(cr);
    for (int i = 0; i < n; i++) {
        double a = rot + 2 * M_PI * i / n;
        if (i == 0)
            cairo_move_to(cr, x + r * cos(a), y + r * sin(a));
        else
            cairo_line_to(cr, x + r * cos(a), y + r * sin(a));
    }
    cairo_close_path(cr);
}

/* Frames that hold a motif: circles, polygons, arches. `kind` picks one. */
void pg_orn_frame(pg_ctx *c, double x, double y, double s, int kind)
{
    cairo_t *cr = c->cr;
    double lw = c->look.line * 0.7, fw = c->look.fine;
    switch (kind % 8) {
    case 0: /* double circle */
        pg_circle(cr, x, y, s);
        pg_stroke(c, lw);
        pg_circle(cr, x, y, s * 0.94);
        pg_stroke(c, fw);
        break;
    case 1: { /* circle with a ring of dots */
        pg_circle(cr, x, y, s);
        pg_stroke(c, fw);
        int n = 48 + 8 * pg_rint(&c->rng, 4);
        pg_orn_dots_arc(c, x, y, s * 1.05, 0, 2 * M_PI * (n - 1) / n, n, pg_px(c, 3.2));
        pg_circle(cr, x, y, s * 1.1);
        pg_stroke(c, fw * 0.8);
        break;
    }
    case 2: /* diamond with an inner line */
        poly(cr, x, y, s * 1.2, 4, -M_PI / 2);
        pg_stroke(c, lw);
        poly(cr, x, y, s * 1.12, 4, -M_PI / 2);
        pg_stroke(c, fw);
        break;
    case 3: /* hexagon */
        poly(cr, x, y, s * 1.08, 6, -M_PI / 2);
        pg_stroke(c, lw);
        for (int i = 0; i < 6; i++) {
            double a = -M_PI / 2 + i * M_PI / 3;
            pg_dot(c, x + s * 1.08 * cos(a), y + s * 1.08 * sin(a), fw * 2.2);
        }
        break;
    case 4: { /* triangle pointing up, with a second offset one */
        poly(cr, x, y + s * 0.12, s * 1.3, 3, -M_PI / 2);
        pg_stroke(c, lw);
        poly(cr, x, y - s * 0.12, s * 1.3, 3, M_PI / 2);
        pg_stroke(c, fw);
        break;
    }
    case 5: /* arched window */
        cairo_new_sub_path(cr);
        cairo_move_to(cr, x - s * 0.75, y + s * 1.1);
        cairo_line_to(cr, x - s * 0.75, y - s * 0.35);
        cairo_arc(cr, x, y - s * 0.35, s * 0.75, M_PI, 2 * M_PI);
        cairo_line_to(cr, x + s * 0.75, y + s * 1.1);
        cairo_close_path(cr);
        pg_stroke(c, lw);
        break;
    case 6: { /* sun-like ring of small triangles */
        pg_circle(cr, x, y, s);
        pg_stroke(c, lw);
        int n = 24 + 4 * pg_rint(&c->rng, 5);
        for (int i = 0; i < n; i++) {
            double a = 2 * M_PI * i / n, da = M_PI / n * 0.6;
            cairo_move_to(cr, x + s * 1.03 * cos(a - da), y + s * 1.03 * sin(a - da));
            cairo_line_to(cr, x + s * 1.16 * cos(a), y + s * 1.16 * sin(a));
            cairo_line_to(cr, x + s * 1.03 * cos(a + da), y + s * 1.03 * sin(a + da));
            cairo_close_path(cr);
        }
        pg_fill_black(c);
        break;
    }
    default: /* square rotated 45 degrees with lines running out */
        poly(cr, x, y, s * 1.05, 4, M_PI / 4);
        pg_stroke(c, lw);
        for (int i = 0; i < 4; i++) {
            double a = i * M_PI / 2;
            cairo_move_to(cr, x + s * 1.05 * cos(a), y + s * 1.05 * sin(a));
            cairo_line_to(cr, x + s * 1.35 * cos(a), y + s * 1.35 * sin(a));
            pg_stroke(c, fw);
            pg_dot(c, x + s * 1.4 * cos(a), y + s * 1.4 * sin(a), fw * 2.5);
        }
        break;
    }
}

/* Trash-polka splatter: ink blobs, droplets and one brush stroke, in the
 * accent colour when there is one. */
void pg_orn_splatter(pg_ctx *c, double x, double y, double s)
{
    cairo_t *cr = c->cr;
    int n = 5 + pg_rint(&c->rng, 6);
    for (int i = 0; i < n; i++) {
        double a = pg_rrange(&c->rng, 0, 2 * M_PI), d = s * pg_rrange(&c->rng, 0.2, 1.1);
        double bx = x + d * cos(a), by = y + d * sin(a), br = s * pg_rrange(&c->rng, 0.02, 0.12);
        double pts[2 * 9];
        for (int k = 0; k < 9; k++) {
            double t = 2 * M_PI * k / 9, rr = br * pg_rrange(&c->rng, 0.6, 1.35);
            pts[2 * k] = bx + rr * cos(t);
            pts[2 * k + 1] = by + rr * sin(t);
        }
        pg_smooth(cr, pts, 9, 1, 1);
        pg_paint_color(c, 0, c->look.ncolors ? 0.92 : 1.0);
        if (!c->look.ncolors)
            pg_ink(c, 1.0);
        cairo_fill(cr);
        int drops = pg_rint(&c->rng, 5);
        for (int k = 0; k < drops; k++) {
            double da = a + pg_rrange(&c->rng, -0.6, 0.6), dd = br * pg_rrange(&c->rng, 1.4, 3.5);
            pg_circle(cr, bx + dd * cos(da), by + dd * sin(da), br * pg_rrange(&c->rng, 0.08, 0.25));
        }
        cairo_fill(cr);
    }
    /* a broad brush stroke across the design */
    double a = pg_rrange(&c->rng, -0.7, 0.7) + (pg_chance(&c->rng, 0.5) ? M_PI / 2 : 0);
    double L = s * pg_rrange(&c->rng, 0.9, 1.4), w = s * pg_rrange(&c->rng, 0.08, 0.16);
    double dx = cos(a), dy = sin(a);
    for (int k = 0; k < 7; k++) {
        double off = (k - 3) * w / 7;
        cairo_move_to(cr, x - dx * L - dy * off + pg_rrange(&c->rng, -w, w), y - dy * L + dx * off);
        cairo_curve_to(cr, x - dx * L * 0.3 - dy * (off + w * 0.3), y - dy * L * 0.3 + dx * (off + w * 0.3),
                       x + dx * L * 0.3 - dy * (off - w * 0.2), y + dy * L * 0.3 + dx * (off - w * 0.2),
                       x + dx * L * pg_rrange(&c->rng, 0.7, 1.0) - dy * off, y + dy * L * pg_rrange(&c->rng, 0.7, 1.0) + dx * off);
        cairo_set_line_width(cr, w / 7 * pg_rrange(&c->rng, 0.8, 1.8));
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        if (c->look.ncolors)
            pg_paint_color(c, 0, pg_rrange(&c->rng, 0.6, 0.95));
        else
            pg_ink(c, pg_rrange(&c->rng, 0.6, 0.95));
        cairo_stroke(cr);
    }
}

/* Watercolour: soft layered washes of the palette behind the linework,
 * with pigment pooling at the edges, a few runs and splatter. */
void pg_orn_watercolor(pg_ctx *c, double x, double y, double s)
{
    cairo_t *cr = c->cr;
    int n = 9 + pg_rint(&c->rng, 7);
    for (int i = 0; i < n; i++) {
        double a = pg_rrange(&c->rng, 0, 2 * M_PI), d = s * pg_rrange(&c->rng, 0, 0.75);
        double bx = x + d * cos(a), by = y + d * sin(a), br = s * pg_rrange(&c->rng, 0.15, 0.45);
        enum { K = 16 };
        double pts[2 * K], stretch = pg_rrange(&c->rng, 0.7, 1.5), rot = pg_rrange(&c->rng, 0, M_PI);
        for (int k = 0; k < K; k++) {
            double t = 2 * M_PI * k / K, rr = br * pg_rrange(&c->rng, 0.6, 1.25);
            double ux = rr * cos(t) * stretch, uy = rr * sin(t);
            pts[2 * k] = bx + ux * cos(rot) - uy * sin(rot);
            pts[2 * k + 1] = by + ux * sin(rot) + uy * cos(rot);
        }
        int ci = pg_rint(&c->rng, 4);
        pg_rgb k = c->look.ncolors ? c->look.color[ci % c->look.ncolors] : (pg_rgb){ 0.2, 0.2, 0.22 };
        double al = pg_rrange(&c->rng, 0.14, 0.3);
        cairo_pattern_t *pat = cairo_pattern_create_radial(bx, by, br * 0.05, bx, by, br * 1.3);
        cairo_pattern_add_color_stop_rgba(pat, 0, k.r, k.g, k.b, al * 0.6);
        cairo_pattern_add_color_stop_rgba(pat, 0.75, k.r, k.g, k.b, al);
        cairo_pattern_add_color_stop_rgba(pat, 1, k.r, k.g, k.b, al * 1.5);
        pg_smooth(cr, pts, K, 1, 1);
        cairo_set_source(cr, pat);
        cairo_fill_preserve(cr);
        cairo_pattern_destroy(pat);
        /* pigment pools at the edge of a wash */
        cairo_set_source_rgba(cr, k.r * 0.85, k.g * 0.85, k.b * 0.85, al * 0.9);
        cairo_set_line_width(cr, pg_px(c, pg_rrange(&c->rng, 1.5, 3.5)));
        cairo_stroke(cr);
        /* now and then a run of paint downward */
        if (pg_chance(&c->rng, 0.25)) {
            double rx = bx + pg_rrange(&c->rng, -0.5, 0.5) * br, ry = by + br * 0.6;
            double len = s * pg_rrange(&c->rng, 0.15, 0.4), w = pg_px(c, pg_rrange(&c->rng, 3, 7));
            cairo_move_to(cr, rx, ry);
            cairo_line_to(cr, rx, ry + len);
            cairo_set_source_rgba(cr, k.r, k.g, k.b, al * 1.2);
            cairo_set_line_width(cr, w);
            cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
            cairo_stroke(cr);
            pg_circle(cr, rx, ry + len, w * 0.9);
            cairo_fill(cr);
        }
    }
    int drops = 10 + pg_rint(&c->rng, 20);
    for (int i = 0; i < drops; i++) {
        double a = pg_rrange(&c->rng, 0, 2 * M_PI), d = s * pg_rrange(&c->rng, 0.5, 1.2);
        pg_rgb k = c->look.ncolors ? c->look.color[pg_rint(&c->rng, c->look.ncolors)] : (pg_rgb){ 0.2, 0.2, 0.22 };
        cairo_set_source_rgba(cr, k.r, k.g, k.b, pg_rrange(&c->rng, 0.3, 0.6));
        pg_circle(cr, x + d * cos(a), y + d * sin(a), s * pg_rrange(&c->rng, 0.004, 0.02));
        cairo_fill(cr);
    }
}
