/* Geometric pieces: sacred geometry (flower of life, Metatron lines),
 * nested polygons with dotwork faces, an isometric cube, a vertical totem
 * of shapes; and knots (triquetra, valknut, infinity) as interlaced
 * ribbons. */
#include <math.h>
#include "pg.h"

static void polygon(cairo_t *cr, double x, double y, double r, int n, double rot)
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

static void flower_of_life(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    double r = s * 0.3;
    int rings = c->look.detail > 0.5 ? 2 : 1;
    pg_circle(cr, 0, 0, r);
    for (int k = 1; k <= rings; k++)
        for (int i = 0; i < 6 * k; i++) {
            /* hexagonal lattice positions at distance k */
            int side = i / k, j = i % k;
            double a0 = side * M_PI / 3, a1 = (side + 1) * M_PI / 3;
            double px = k * r * cos(a0) + j * r * (cos(a1) - cos(a0));
            double py = k * r * sin(a0) + j * r * (sin(a1) - sin(a0));
            pg_circle(cr, px, py, r);
        }
    pg_stroke(c, c->look.fine * 1.2);
    pg_circle(cr, 0, 0, r * (rings + 1));
    pg_stroke(c, c->look.line);
    pg_circle(cr, 0, 0, r * (rings + 1) + pg_px(c, 12));
    pg_stroke(c, c->look.fine);
    if (pg_chance(&c->rng, 0.5))
        for (int i = 0; i < 6; i++)
            pg_dot(c, r * (rings + 1) * cos(i * M_PI / 3), r * (rings + 1) * sin(i * M_PI / 3), 6);
}

static void nested(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    int n = PG_HAS(c, PG_H_TRIANGLE) ? 3 : PG_HAS(c, PG_H_HEXAGON) ? 6 : 3 + (int)(pg_style_bits(c, 0x6E5) % 4);
    int layers = 3 + pg_rint(&c->rng, 3);
    double r = s * 0.95, rot = -M_PI / 2;
    for (int k = 0; k < layers; k++) {
        polygon(cr, 0, 0, r, n, rot);
        pg_stroke(c, k == 0 ? c->look.line : c->look.fine * 1.2);
        /* faces between this polygon and the next one, some shaded */
        double r2 = r * cos(M_PI / n), rot2 = rot + M_PI / n;
        for (int i = 0; i < n; i++) {
            double a = rot + 2 * M_PI * i / n, b = rot2 + 2 * M_PI * i / n, a2 = rot + 2 * M_PI * (i + 1) / n;
            cairo_move_to(cr, r * cos(a), r * sin(a));
            cairo_line_to(cr, r2 * cos(b), r2 * sin(b));
            cairo_line_to(cr, r * cos(a2), r * sin(a2));
            cairo_close_path(cr);
            if ((i + k) % 2 == 0)
                pg_shade(c, c->look.fill == PG_FILL_OUTLINE ? PG_FILL_STIPPLE : PG_FILL_AUTO, 0.3 + 0.1 * k, c->look.fine);
            else
                cairo_new_path(cr);
        }
        r = r2;
        rot = rot2;
    }
    pg_circle(cr, 0, 0, r * 0.6);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    /* lines with dot ends running out of the vertices */
    if (pg_chance(&c->rng, 0.6)) {
        for (int i = 0; i < n; i++) {
            double a = -M_PI / 2 + 2 * M_PI * i / n;
            cairo_move_to(cr, s * 0.95 * cos(a), s * 0.95 * sin(a));
            cairo_line_to(cr, s * 1.2 * cos(a), s * 1.2 * sin(a));
            pg_stroke(c, c->look.fine);
            pg_dot(c, s * 1.22 * cos(a), s * 1.22 * sin(a), 5);
        }
    }
}

static void cube(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    double r = s * 0.8;
    double vx[6], vy[6];
    for (int i = 0; i < 6; i++) {
        vx[i] = r * cos(-M_PI / 2 + i * M_PI / 3);
        vy[i] = r * sin(-M_PI / 2 + i * M_PI / 3);
    }
    /* three faces: top (0,1,centre,5), right (1,2,3,centre), left (3,4,5,centre) */
    int faces[3][3] = { { 5, 0, 1 }, { 1, 2, 3 }, { 3, 4, 5 } };
    double tones[3] = { 0.1, 0.5, 0.9 };
    for (int f = 0; f < 3; f++) {
        cairo_move_to(cr, 0, 0);
        for (int k = 0; k < 3; k++)
            cairo_line_to(cr, vx[faces[f][k]], vy[faces[f][k]]);
        cairo_close_path(cr);
        pg_shade(c, c->look.fill == PG_FILL_OUTLINE ? PG_FILL_STIPPLE : PG_FILL_AUTO, tones[f], c->look.line * 0.8);
    }
    /* the hidden edges, dashed, make it a wireframe */
    double dash[2] = { pg_px(c, 8), pg_px(c, 8) };
    cairo_set_dash(cr, dash, 2, 0);
    for (int i = 0; i < 3; i++) {
        cairo_move_to(cr, vx[2 * i + 1] * 0.0, 0);
        cairo_move_to(cr, 0, r * 0.0);
    }
    cairo_move_to(cr, vx[0], vy[0] + r);
    cairo_line_to(cr, vx[2], vy[2]);
    cairo_move_to(cr, vx[0], vy[0] + r);
    cairo_line_to(cr, vx[4], vy[4]);
    cairo_move_to(cr, vx[0], vy[0] + r);
    cairo_line_to(cr, vx[3] * 0 + 0, vy[3]);
    pg_stroke(c, c->look.fine * 0.8);
    cairo_set_dash(cr, NULL, 0, 0);
    pg_circle(cr, 0, 0, s * 1.05);
    pg_stroke(c, c->look.fine);
}

static void totem(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    cairo_move_to(cr, 0, -s * 1.15);
    cairo_line_to(cr, 0, s * 1.15);
    pg_stroke(c, c->look.fine);
    pg_circle(cr, 0, -s * 0.62, s * 0.28);
    pg_shade(c, PG_FILL_AUTO, 0.7, c->look.line * 0.8);
    polygon(cr, 0, s * 0.05, s * 0.42, 3, M_PI / 2);
    pg_shade(c, PG_FILL_AUTO, 0.3, c->look.line * 0.8);
    polygon(cr, 0, s * 0.72, s * 0.18, 4, 0);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    for (int i = 0; i < 4; i++)
        pg_dot(c, 0, s * (0.95 + 0.08 * i), 6 - i);
    pg_orn_dots_arc(c, 0, -s * 0.62, s * 0.36, -M_PI, 0, 9, pg_px(c, 3.5));
}

void pg_motif_geometric(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0x6E0) % 4);
    if (PG_HAS(c, PG_H_CUBE))
        kind = 2;
    else if (PG_HAS(c, PG_H_TRIANGLE) || PG_HAS(c, PG_H_HEXAGON))
        kind = 1;
    else if (PG_HAS(c, PG_H_SACRED))
        kind = 0;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    switch (kind) {
    case 0: flower_of_life(c, s); break;
    case 1: nested(c, s * 0.85); break;
    case 2: cube(c, s); break;
    default: totem(c, s); break;
    }
    cairo_restore(cr);
}

/* ---- knots ------------------------------------------------------------- */

/* Draws the current path as a ribbon over whatever is below: a gap, the
 * black band, and its light middle. */
static void ribbon(pg_ctx *c, double w)
{
    cairo_t *cr = c->cr;
    cairo_path_t *path = cairo_copy_path(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    cairo_set_line_width(cr, w * 1.5);
    cairo_stroke(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    cairo_append_path(cr, path);
    pg_ink(c, 1);
    cairo_set_line_width(cr, w);
    cairo_stroke(cr);
    if (c->look.fill != PG_FILL_SOLID) {
        cairo_append_path(cr, path);
        if (c->look.ncolors && c->look.fill == PG_FILL_COLOR) {
            pg_paint_color(c, 2, 1);
        } else {
            cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
            cairo_set_source_rgba(cr, 0, 0, 0, 1);
        }
        cairo_set_line_width(cr, w * 0.55);
        cairo_stroke(cr);
        cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    }
    cairo_path_destroy(path);
}

void pg_motif_knot(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0x4707) % 3);
    if (PG_HAS(c, PG_H_TRIQUETRA))
        kind = 0;
    else if (PG_HAS(c, PG_H_VALKNUT))
        kind = 1;
    else if (PG_HAS(c, PG_H_INFINITY))
        kind = 2;
    double w = s * 0.11;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 0) {
        /* triquetra: three circles of radius R on a triangle of side R;
         * each lobe is the lens where two of them overlap */
        double R = s * 0.78, d = R / sqrt(3.0);
        double cx[3], cy[3];
        for (int i = 0; i < 3; i++) {
            cx[i] = d * cos(M_PI / 2 + i * 2 * M_PI / 3);
            cy[i] = d * sin(M_PI / 2 + i * 2 * M_PI / 3);
        }
        if (pg_style_bits(c, 0xC1C) & 1) {
            pg_circle(cr, 0, 0, d * 1.05);
            ribbon(c, w * 0.8);
        }
        for (int i = 0; i < 3; i++) {
            int j = (i + 1) % 3;
            double phi = atan2(cy[j] - cy[i], cx[j] - cx[i]), psi = atan2(cy[i] - cy[j], cx[i] - cx[j]);
            cairo_new_sub_path(cr);
            cairo_arc(cr, cx[i], cy[i], R, phi - M_PI / 3, phi + M_PI / 3);
            cairo_arc(cr, cx[j], cy[j], R, psi - M_PI / 3, psi + M_PI / 3);
            cairo_close_path(cr);
            ribbon(c, w);
        }
    } else if (kind == 1) {
        /* valknut: three interlocked triangles */
        for (int i = 0; i < 3; i++) {
            double ox = s * 0.22 * cos(-M_PI / 2 + i * 2 * M_PI / 3 + M_PI);
            double oy = s * 0.22 * sin(-M_PI / 2 + i * 2 * M_PI / 3 + M_PI);
            polygon(cr, ox, oy + s * 0.05, s * 0.62, 3, -M_PI / 2);
            ribbon(c, w * 0.85);
        }
    } else {
        /* infinity loop */
        cairo_new_sub_path(cr);
        for (int i = 0; i <= 80; i++) {
            double t = 2 * M_PI * i / 80, d = 1 + sin(t) * sin(t);
            double px = s * 0.9 * cos(t) / d, py = s * 0.9 * sin(t) * cos(t) / d;
            if (i == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_close_path(cr);
        ribbon(c, w);
        /* the crossing: one strand over the other */
        cairo_move_to(cr, -s * 0.15, -s * 0.12);
        cairo_line_to(cr, s * 0.15, s * 0.12);
        ribbon(c, w);
        if (c->look.detail > 0.4) {
            pg_orn_sparkle(c, s * 0.9, -s * 0.35, s * 0.1);
            pg_dot(c, -s * 0.95, s * 0.3, 5);
        }
    }
    cairo_restore(cr);
}
