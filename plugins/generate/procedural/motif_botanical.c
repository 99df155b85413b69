/* Botanical motifs: the tattoo rose (petals in painter's order around a
 * swirled cup), generic flowers (daisy, blossom, peony, sunflower, tulip),
 * the lotus, and branches (olive, eucalyptus, fern, lavender). */
#include <math.h>
#include "pg.h"

static void P(double x, double y, double r, double a, double *px, double *py)
{
    *px = x + r * cos(a);
    *py = y + r * sin(a);
}

/* A leaf with a midrib and a few veins. */
static void leaf(pg_ctx *c, double x0, double y0, double x1, double y1, double wid, double tone)
{
    cairo_t *cr = c->cr;
    double bend = pg_rrange(&c->rng, -0.1, 0.1);
    pg_leaf_path(cr, x0, y0, x1, y1, wid, bend);
    c->cur_color = 2;
    pg_shade(c, PG_FILL_AUTO, tone, c->look.line * 0.6);
    double dx = x1 - x0, dy = y1 - y0;
    cairo_move_to(cr, x0, y0);
    cairo_curve_to(cr, x0 + dx * 0.3 - dy * bend * 0.6, y0 + dy * 0.3 + dx * bend * 0.6,
                   x0 + dx * 0.7 - dy * bend * 0.6, y0 + dy * 0.7 + dx * bend * 0.6, x0 + dx * 0.92, y0 + dy * 0.92);
    int solid = c->look.fill == PG_FILL_SOLID && tone >= 0.5;
    if (c->look.detail > 0.4) {
        for (int i = 1; i <= 3; i++) {
            double t = 0.2 + 0.22 * i;
            double mx = x0 + dx * t, my = y0 + dy * t;
            for (int sd = -1; sd <= 1; sd += 2) {
                cairo_move_to(cr, mx, my);
                cairo_line_to(cr, mx + dx * 0.12 - sd * dy * wid * 0.7, my + dy * 0.12 + sd * dx * wid * 0.7);
            }
        }
    }
    if (solid)
        pg_cut(c, c->look.fine * 0.8);
    else
        pg_stroke(c, c->look.fine * 0.7);
}

/* A rose petal seen from above: a crescent hugging the centre, thickest
 * in the middle of its span, `th` the direction it faces. The outer edge
 * wobbles a little so the silhouette is not a perfect circle. */
static void crescent_path(pg_ctx *c, double x, double y, double R, double th, double span, double thick,
                          double inset)
{
    cairo_t *cr = c->cr;
    enum { N = 14 };
    double pts[4 * N];
    double wob = pg_rrange(&c->rng, 0.02, 0.06), ph = pg_rrange(&c->rng, 0, 6.28);
    for (int i = 0; i < N; i++) {
        double t = -1 + 2.0 * i / (N - 1), a = th + t * span / 2;
        double r = R * (1 + wob * sin(ph + t * 3.1)) * (1 - inset * (1 - t * t));
        pts[2 * i] = x + r * cos(a);
        pts[2 * i + 1] = y + r * sin(a);
    }
    for (int i = 0; i < N; i++) {
        double t = 1 - 2.0 * i / (N - 1), a = th + t * span / 2;
        double r = R * (1 - thick * (1 - t * t) * (0.85 + 0.15 * cos(t * 2)));
        pts[2 * N + 2 * i] = x + r * cos(a);
        pts[2 * N + 2 * i + 1] = y + r * sin(a);
    }
    cairo_new_sub_path(cr);
    pg_smooth(cr, pts, 2 * N, 1, 1);
}

/* An outer rose petal: a broad lobe from r0 to r1 around angle a. */
static void rose_lobe(cairo_t *cr, double x, double y, double r0, double r1, double a, double hw, double wob)
{
    double p[8];
    P(x, y, r0, a - hw * 0.6, &p[0], &p[1]);
    cairo_new_sub_path(cr);
    cairo_move_to(cr, p[0], p[1]);
    P(x, y, r0 + (r1 - r0) * 0.4, a - hw * 1.2, &p[2], &p[3]);
    P(x, y, r1 * 0.92, a - hw * 1.1, &p[4], &p[5]);
    P(x, y, r1 * 0.97, a - hw, &p[6], &p[7]);
    cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    P(x, y, r1 * 1.1, a - hw * 0.45 + wob, &p[2], &p[3]);
    P(x, y, r1 * 1.1, a + hw * 0.45 + wob, &p[4], &p[5]);
    P(x, y, r1 * 0.97, a + hw, &p[6], &p[7]);
    cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    P(x, y, r1 * 0.92, a + hw * 1.1, &p[2], &p[3]);
    P(x, y, r0 + (r1 - r0) * 0.4, a + hw * 1.2, &p[4], &p[5]);
    P(x, y, r0, a + hw * 0.6, &p[6], &p[7]);
    cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    cairo_close_path(cr);
}

/* The curl of a lobe's rim: a line just inside the outer edge that ends in
 * small hooks, which is what makes a tattoo rose read as a rose. */
static void rose_curl(pg_ctx *c, double x, double y, double r1, double a, double hw, double wob)
{
    cairo_t *cr = c->cr;
    double p[10];
    P(x, y, r1 * 0.93, a - hw * 0.85, &p[0], &p[1]);
    P(x, y, r1 * 0.97, a - hw * 0.35 + wob, &p[2], &p[3]);
    P(x, y, r1 * 0.97, a + hw * 0.35 + wob, &p[4], &p[5]);
    P(x, y, r1 * 0.93, a + hw * 0.85, &p[6], &p[7]);
    cairo_move_to(cr, p[0], p[1]);
    cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    P(x, y, r1 * 0.82, a + hw * 0.7, &p[8], &p[9]);
    cairo_line_to(cr, p[8], p[9]);
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, c->look.fine * 1.2);
    else
        pg_stroke(c, c->look.fine * 1.2);
}

void pg_motif_rose(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    double lw = c->look.line;
    s *= 0.9;
    int nleaf = 1 + pg_rint(&c->rng, 3);
    for (int i = 0; i < nleaf; i++) {
        double a = rot + M_PI / 2 + (i - (nleaf - 1) * 0.5) * 1.1 + pg_rrange(&c->rng, -0.25, 0.25);
        double x0, y0, x1, y1;
        P(x, y, s * 0.6, a, &x0, &y0);
        P(x, y, s * pg_rrange(&c->rng, 1.25, 1.45), a + pg_rrange(&c->rng, -0.2, 0.2), &x1, &y1);
        leaf(c, x0, y0, x1, y1, 0.26, 0.6);
    }
    c->cur_color = 0;
    int solid = c->look.fill == PG_FILL_SOLID;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, 1, pg_rrange(&c->rng, 0.86, 0.96));
    /* outer lobes with curled rims */
    int n = 5 + pg_rint(&c->rng, 2);
    double a0 = rot + pg_rrange(&c->rng, 0, 2 * M_PI), step = 2 * M_PI / n;
    for (int i = 0; i < n; i++) {
        double a = a0 + i * step + pg_rrange(&c->rng, -0.12, 0.12);
        double r1 = s * pg_rrange(&c->rng, 0.85, 1.0), hw = step * 0.62, wob = pg_rrange(&c->rng, -0.1, 0.1);
        rose_lobe(cr, 0, 0, s * 0.3, r1, a, hw, wob);
        /* blackwork keeps the outer lobes light so the dark inner petals
         * and the white curls carry the form */
        pg_shade(c, PG_FILL_AUTO, solid ? ((i & 1) ? 0.3 : 0.55) : 0.55, lw);
        rose_curl(c, 0, 0, r1, a, hw, wob);
    }
    /* petals wrapped around the bud: crescents at the golden angle */
    double th = a0 + step / 2;
    int m = 3 + (c->look.detail > 0.5);
    for (int k = 0; k < m; k++) {
        double R = s * (0.66 - 0.09 * k);
        crescent_path(c, 0, 0, R, th, (0.95 - 0.08 * k) * M_PI, 0.5, 0);
        pg_shade(c, PG_FILL_AUTO, solid ? ((k & 1) ? 0.3 : 0.8) : 0.4 + 0.12 * k, lw * 0.85);
        double p[8];
        P(0, 0, R * 0.88, th - 0.9, &p[0], &p[1]);
        P(0, 0, R * 0.95, th, &p[2], &p[3]);
        P(0, 0, R * 0.88, th + 0.9, &p[4], &p[5]);
        cairo_move_to(cr, p[0], p[1]);
        cairo_curve_to(cr, p[2], p[3], p[2], p[3], p[4], p[5]);
        if (solid && !(k & 1))
            pg_cut(c, c->look.fine);
        else
            pg_stroke(c, c->look.fine);
        th += 2.39996;
    }
    /* the bud: a tight swirl */
    double r0 = s * 0.24, pts[2 * 12];
    pg_circle(cr, 0, 0, r0);
    pg_shade(c, PG_FILL_AUTO, 0.85, lw * 0.9);
    for (int i = 0; i < 12; i++) {
        double t = i / 11.0, a = th + t * 2.4 * M_PI, r = r0 * (0.95 - 0.8 * t);
        pts[2 * i] = r * cos(a);
        pts[2 * i + 1] = r * sin(a) + r0 * 0.1 * t;
    }
    pg_smooth(cr, pts, 12, 0, 1);
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, lw * 0.6);
    else
        pg_stroke(c, lw * 0.7);
    cairo_restore(cr);
}

/* ---- generic flowers --------------------------------------------------- */

enum { F_DAISY, F_BLOSSOM, F_PEONY, F_SUNFLOWER, F_POPPY, F_COUNT };

static void flower_petal(cairo_t *cr, double x, double y, double r0, double r1, double a, double hw, int kind)
{
    double p[12];
    P(x, y, r0, a - hw * 0.5, &p[0], &p[1]);
    cairo_new_sub_path(cr);
    cairo_move_to(cr, p[0], p[1]);
    if (kind == F_BLOSSOM) {
        /* heart-shaped tip with a notch */
        P(x, y, r1 * 0.9, a - hw * 1.5, &p[2], &p[3]);
        P(x, y, r1 * 1.1, a - hw * 0.6, &p[4], &p[5]);
        P(x, y, r1 * 0.88, a, &p[6], &p[7]);
        cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
        P(x, y, r1 * 1.1, a + hw * 0.6, &p[2], &p[3]);
        P(x, y, r1 * 0.9, a + hw * 1.5, &p[4], &p[5]);
        P(x, y, r0, a + hw * 0.5, &p[6], &p[7]);
        cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    } else {
        double k = kind == F_DAISY ? 0.9 : kind == F_SUNFLOWER ? 0.7 : 1.25;
        double tip = kind == F_SUNFLOWER ? 0.2 : 0.7;
        P(x, y, r0 + (r1 - r0) * 0.3, a - hw * k * 1.2, &p[2], &p[3]);
        P(x, y, r1 * 1.02, a - hw * k * tip, &p[4], &p[5]);
        P(x, y, r1, a, &p[6], &p[7]);
        cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
        P(x, y, r1 * 1.02, a + hw * k * tip, &p[2], &p[3]);
        P(x, y, r0 + (r1 - r0) * 0.3, a + hw * k * 1.2, &p[4], &p[5]);
        P(x, y, r0, a + hw * 0.5, &p[6], &p[7]);
        cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    }
    cairo_close_path(cr);
}

static void flower_head(pg_ctx *c, double x, double y, double s, double rot, int kind)
{
    cairo_t *cr = c->cr;
    int n, layers;
    double rc;
    switch (kind) {
    case F_DAISY: n = 14 + 2 * pg_rint(&c->rng, 4); layers = 1; rc = 0.22; break;
    case F_BLOSSOM: n = 5; layers = 1; rc = 0.2; break;
    case F_PEONY: n = 7 + pg_rint(&c->rng, 3); layers = 3; rc = 0.16; break;
    case F_SUNFLOWER: n = 20 + 2 * pg_rint(&c->rng, 5); layers = 2; rc = 0.42; break;
    default: n = 4 + pg_rint(&c->rng, 2); layers = 1; rc = 0.25; break;
    }
    double step = 2 * M_PI / n;
    c->cur_color = kind == F_SUNFLOWER ? 1 : 0;
    for (int l = 0; l < layers; l++) {
        double sc = 1 - l * (kind == F_PEONY ? 0.26 : 0.08);
        double off = l * step / 2 + pg_rrange(&c->rng, -0.05, 0.05);
        for (int i = 0; i < n; i++) {
            double a = rot + off + i * step + pg_rrange(&c->rng, -0.06, 0.06);
            double hw = step * (kind == F_DAISY || kind == F_SUNFLOWER ? 0.42 : 0.62);
            flower_petal(cr, x, y, s * rc * 0.8, s * sc * pg_rrange(&c->rng, 0.92, 1.04), a, hw, kind);
            pg_shade(c, PG_FILL_AUTO, 0.35 + 0.2 * l, c->look.line * (l ? 0.6 : 0.75));
            if (kind != F_SUNFLOWER && c->look.detail > 0.3) {
                double px, py, qx, qy;
                P(x, y, s * rc * 1.1, a, &px, &py);
                P(x, y, s * sc * 0.55, a, &qx, &qy);
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, qx, qy);
                pg_stroke(c, c->look.fine * 0.6);
            }
        }
    }
    /* centre */
    pg_circle(cr, x, y, s * rc);
    c->cur_color = 1;
    pg_shade(c, kind == F_POPPY ? PG_FILL_SOLID : PG_FILL_AUTO, 0.7, c->look.line * 0.6);
    if (kind == F_SUNFLOWER || kind == F_DAISY) {
        int m = (int)(40 * c->look.detail) + 12;
        for (int i = 0; i < m; i++) {
            double a = i * 2.39996, r = s * rc * 0.9 * sqrt((i + 0.5) / m);
            pg_circle(cr, x + r * cos(a), y + r * sin(a), s * rc * 0.06);
        }
        pg_fill_black(c);
    } else {
        int m = 8 + pg_rint(&c->rng, 6);
        for (int i = 0; i < m; i++) {
            double a = 2 * M_PI * i / m, px, py;
            P(x, y, s * rc * 1.7, a, &px, &py);
            cairo_move_to(cr, x, y);
            cairo_line_to(cr, px, py);
            pg_stroke(c, c->look.fine * 0.6);
            pg_dot(c, px, py, c->look.fine * 1.5 + 1.5);
        }
    }
}

/* A tulip seen from the side: three cupped petals. */
static void tulip(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    c->cur_color = 0;
    for (int i = -1; i <= 1; i += 2) {
        cairo_new_sub_path(cr);
        cairo_move_to(cr, 0, s * 0.55);
        cairo_curve_to(cr, i * s * 0.75, s * 0.45, i * s * 0.7, -s * 0.3, i * s * 0.45, -s * 0.7);
        cairo_curve_to(cr, i * s * 0.3, -s * 0.3, i * s * 0.1, -s * 0.1, 0, -s * 0.2);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line * 0.7);
    }
    cairo_new_sub_path(cr);
    cairo_move_to(cr, 0, s * 0.58);
    cairo_curve_to(cr, -s * 0.5, s * 0.5, -s * 0.45, -s * 0.35, 0, -s * 0.8);
    cairo_curve_to(cr, s * 0.45, -s * 0.35, s * 0.5, s * 0.5, 0, s * 0.58);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_AUTO, 0.3, c->look.line * 0.7);
    cairo_restore(cr);
}

/* A stem with a leaf or two running down from a flower head. */
static void stem(pg_ctx *c, double x0, double y0, double x1, double y1)
{
    cairo_t *cr = c->cr;
    double bx = pg_rrange(&c->rng, -0.2, 0.2) * (y1 - y0);
    cairo_move_to(cr, x0, y0);
    cairo_curve_to(cr, x0 + bx, y0 + (y1 - y0) * 0.35, x1 - bx, y0 + (y1 - y0) * 0.7, x1, y1);
    pg_stroke(c, c->look.line * 0.7);
    int nl = 1 + pg_rint(&c->rng, 3);
    for (int i = 0; i < nl; i++) {
        double t = 0.35 + 0.5 * i / (nl > 1 ? nl - 1 : 1) * 0.9;
        double sx = x0 + (x1 - x0) * t, sy = y0 + (y1 - y0) * t;
        double sd = (i & 1) ? -1 : 1, L = (y1 - y0) * pg_rrange(&c->rng, 0.28, 0.4);
        leaf(c, sx, sy, sx + sd * L * 0.8, sy - L * 0.55, 0.22, 0.5);
    }
}

void pg_motif_flower(pg_ctx *c, double x, double y, double s, double rot)
{
    int kind = (int)(pg_style_bits(c, 0xF10) % (F_COUNT + 1));
    if (PG_HAS(c, PG_H_PEONY)) kind = F_PEONY;
    else if (PG_HAS(c, PG_H_DAISY)) kind = F_DAISY;
    else if (PG_HAS(c, PG_H_BLOSSOM)) kind = F_BLOSSOM;
    else if (PG_HAS(c, PG_H_SUNFLOWER)) kind = F_SUNFLOWER;
    else if (PG_HAS(c, PG_H_POPPY)) kind = F_POPPY;
    else if (PG_HAS(c, PG_H_TULIP)) kind = F_COUNT;
    int with_stem = s > pg_px(c, 200) && (pg_style_bits(c, 0x57E) & 3) != 0;
    if (kind == F_COUNT) {
        if (with_stem) {
            stem(c, x, y - s * 0.05, x, y + s);
            tulip(c, x, y - s * 0.4, s * 0.5, rot);
        } else {
            tulip(c, x, y, s * 0.85, rot);
        }
        return;
    }
    if (with_stem) {
        stem(c, x, y - s * 0.35, x + s * pg_rrange(&c->rng, -0.1, 0.1), y + s);
        flower_head(c, x, y - s * 0.4, s * 0.55, rot, kind);
        if (pg_chance(&c->rng, 0.5))
            flower_head(c, x + s * 0.5, y + s * 0.05, s * 0.3, rot + 1, kind);
    } else {
        flower_head(c, x, y, s * 0.9, rot, kind);
    }
}

/* ---- lotus ------------------------------------------------------------- */

void pg_motif_lotus(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    double by = s * 0.45; /* where the petals meet */
    int pairs = 2 + (c->look.detail > 0.5) + pg_rint(&c->rng, 2);
    c->cur_color = 0;
    /* flat petals lying on the water, behind */
    for (int sd = -1; sd <= 1; sd += 2) {
        pg_leaf_path(cr, 0, by, sd * s * 1.05, by - s * 0.05, 0.16, sd * 0.05);
        pg_shade(c, PG_FILL_AUTO, 0.7, c->look.line * 0.6);
    }
    /* side petals from the outside in, then the centre one */
    for (int i = pairs; i >= 1; i--) {
        double ang = i * (1.25 / pairs), len = s * (1.15 - 0.09 * i);
        for (int sd = -1; sd <= 1; sd += 2) {
            double tx = sd * len * sin(ang), ty = by - len * cos(ang);
            pg_leaf_path(cr, 0, by, tx, ty, 0.22 + 0.03 * i, -sd * 0.06);
            pg_shade(c, PG_FILL_AUTO, 0.3 + 0.12 * i, c->look.line * 0.7);
            if (c->look.detail > 0.35) {
                cairo_move_to(cr, tx * 0.15, by + (ty - by) * 0.15);
                cairo_line_to(cr, tx * 0.7, by + (ty - by) * 0.7);
                pg_stroke(c, c->look.fine * 0.6);
            }
        }
    }
    pg_leaf_path(cr, 0, by, 0, by - s * 1.2, 0.27, 0);
    pg_shade(c, PG_FILL_AUTO, 0.25, c->look.line * 0.7);
    cairo_move_to(cr, 0, by - s * 0.15);
    cairo_line_to(cr, 0, by - s * 0.85);
    pg_stroke(c, c->look.fine * 0.6);
    /* water: a few lines or dots below */
    if (pg_chance(&c->rng, 0.6)) {
        for (int i = 0; i < 3; i++) {
            double w = s * (0.9 - 0.25 * i), yy = by + s * (0.12 + 0.1 * i);
            cairo_move_to(cr, -w, yy);
            cairo_curve_to(cr, -w * 0.3, yy - s * 0.04, w * 0.3, yy + s * 0.04, w, yy);
            pg_stroke(c, c->look.fine);
        }
    } else {
        for (int i = 0; i < 5; i++)
            pg_dot(c, (i - 2) * s * 0.18, by + s * 0.2 + fabs(i - 2.0) * -s * 0.03, 5 - fabs(i - 2.0));
    }
    cairo_restore(cr);
}

/* ---- branches ---------------------------------------------------------- */

enum { B_OLIVE, B_EUCALYPTUS, B_FERN, B_LAVENDER, B_COUNT };

void pg_motif_branch(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0xB7A) % B_COUNT);
    if (PG_HAS(c, PG_H_OLIVE)) kind = B_OLIVE;
    else if (PG_HAS(c, PG_H_EUCALYPTUS)) kind = B_EUCALYPTUS;
    else if (PG_HAS(c, PG_H_FERN)) kind = B_FERN;
    else if (PG_HAS(c, PG_H_LAVENDER)) kind = B_LAVENDER;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot + pg_rrange(&c->rng, -0.3, 0.3));
    /* the stem: a gentle S from bottom to top */
    double bend = s * pg_rrange(&c->rng, 0.15, 0.4) * (pg_chance(&c->rng, 0.5) ? 1 : -1);
    double sx0 = 0, sy0 = s * 1.05, sx3 = bend * 0.4, sy3 = -s * 1.05;
    double c1x = bend, c1y = s * 0.35, c2x = -bend * 0.6, c2y = -s * 0.4;
    cairo_move_to(cr, sx0, sy0);
    cairo_curve_to(cr, c1x, c1y, c2x, c2y, sx3, sy3);
    pg_stroke(c, kind == B_FERN ? c->look.line * 0.6 : c->look.line * 0.8);
    int n = kind == B_FERN ? 16 : kind == B_LAVENDER ? 14 : 7 + (int)(6 * c->look.detail);
    for (int i = 1; i <= n; i++) {
        double t = 0.08 + 0.9 * i / (n + 1.0), mt = 1 - t;
        double px = mt * mt * mt * sx0 + 3 * mt * mt * t * c1x + 3 * mt * t * t * c2x + t * t * t * sx3;
        double py = mt * mt * mt * sy0 + 3 * mt * mt * t * c1y + 3 * mt * t * t * c2y + t * t * t * sy3;
        double tx = 3 * mt * mt * (c1x - sx0) + 6 * mt * t * (c2x - c1x) + 3 * t * t * (sx3 - c2x);
        double ty = 3 * mt * mt * (c1y - sy0) + 6 * mt * t * (c2y - c1y) + 3 * t * t * (sy3 - c2y);
        double ta = atan2(ty, tx);
        double len = s * (kind == B_FERN ? 0.55 * sin(M_PI * (0.15 + 0.85 * t)) : 0.42 - 0.18 * t);
        switch (kind) {
        case B_OLIVE:
            for (int sd = -1; sd <= 1; sd += 2) {
                if (sd == 1 && (i & 1))
                    continue;
                double a = ta + sd * pg_rrange(&c->rng, 0.5, 0.8);
                leaf(c, px, py, px + len * cos(a), py + len * sin(a), 0.2, 0.5);
            }
            if (c->look.ncolors && pg_chance(&c->rng, 0.25)) {
                c->cur_color = 2;
                pg_circle(cr, px + s * 0.06, py, s * 0.05);
                pg_shade(c, PG_FILL_COLOR, 0.5, c->look.fine);
            }
            break;
        case B_EUCALYPTUS:
            for (int sd = -1; sd <= 1; sd += 2) {
                double a = ta + sd * 1.2, r = len * 0.38;
                double ex = px + r * cos(a), ey = py + r * sin(a);
                cairo_new_sub_path(cr);
                cairo_arc(cr, ex, ey, r, 0, 2 * M_PI);
                pg_shade(c, PG_FILL_AUTO, 0.45, c->look.line * 0.6);
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, ex + 0.6 * (ex - px), ey + 0.6 * (ey - py));
                pg_stroke(c, c->look.fine * 0.6);
            }
            break;
        case B_FERN:
            for (int sd = -1; sd <= 1; sd += 2) {
                double a = ta + sd * 1.0;
                double ex = px + len * cos(a), ey = py + len * sin(a);
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, ex, ey);
                pg_stroke(c, c->look.fine * 0.8);
                int k = 5;
                for (int j = 1; j <= k; j++) {
                    double u = j / (k + 1.0), qx = px + (ex - px) * u, qy = py + (ey - py) * u;
                    double ll = len * 0.22 * (1 - u * 0.7);
                    for (int e = -1; e <= 1; e += 2) {
                        double b = a + e * 0.9;
                        pg_leaf_path(cr, qx, qy, qx + ll * cos(b), qy + ll * sin(b), 0.28, 0);
                        pg_shade(c, PG_FILL_AUTO, 0.6, c->look.fine * 0.8);
                    }
                }
            }
            break;
        default: /* lavender: buds near the top, thin leaves below */
            if (t > 0.45) {
                for (int sd = -1; sd <= 1; sd += 2) {
                    double a = ta + sd * 0.6, r = s * 0.055 * (1.3 - t * 0.5);
                    double ex = px + r * 1.3 * cos(a), ey = py + r * 1.3 * sin(a);
                    cairo_save(cr);
                    cairo_translate(cr, ex, ey);
                    cairo_rotate(cr, a);
                    cairo_scale(cr, 1.5, 1);
                    cairo_new_sub_path(cr);
                    cairo_arc(cr, 0, 0, r, 0, 2 * M_PI);
                    cairo_restore(cr);
                    c->cur_color = 3;
                    pg_shade(c, PG_FILL_AUTO, 0.55, c->look.fine);
                }
            } else if (i % 3 == 0) {
                double a = ta + ((i & 1) ? 0.35 : -0.35);
                leaf(c, px, py, px + s * 0.6 * cos(a), py + s * 0.6 * sin(a), 0.07, 0.4);
            }
            break;
        }
    }
    cairo_restore(cr);
}
