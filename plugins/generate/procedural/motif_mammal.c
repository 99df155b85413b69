/* Animal heads seen from the front: wolf and fox (fur tufts, long muzzle),
 * big cats (lion with a mane, tiger stripes, panther in solid black). A
 * geometric look turns the head into shaded facets, as in "geometric wolf"
 * tattoos. */
#include <math.h>
#include "pg.h"

typedef struct pt { double x, y; } pt;

/* Right half of a wolf head, top centre to chin, in a box of +-1. */
static const double wolf_half[] = {
    0, -0.42, 0.16, -0.5, 0.42, -1.0, 0.56, -0.38, 0.62, -0.15, 0.84, 0.06,
    0.64, 0.13, 0.76, 0.3, 0.52, 0.36, 0.4, 0.55, 0.22, 0.7, 0, 0.76,
};

/* Landmarks for the faceted look (right side; x == 0 points are shared). */
static const pt wolf_lm[] = {
    { 0, -0.42 }, { 0.16, -0.5 }, { 0.42, -1.0 }, { 0.56, -0.38 }, { 0.62, -0.15 },
    { 0.84, 0.06 }, { 0.52, 0.36 }, { 0.22, 0.7 }, { 0, 0.76 }, { 0.25, -0.08 },
    { 0.1, 0.05 }, { 0, 0.42 }, { 0.12, 0.4 }, { 0, -0.1 },
};
static const int wolf_tris[][3] = {
    { 0, 1, 13 }, { 1, 2, 3 }, { 1, 3, 9 }, { 1, 9, 13 }, { 3, 4, 9 }, { 4, 5, 6 },
    { 4, 6, 9 }, { 9, 6, 12 }, { 9, 10, 12 }, { 13, 9, 10 }, { 10, 11, 12 },
    { 12, 6, 7 }, { 12, 7, 8 }, { 11, 12, 8 },
};

static void eye(pg_ctx *c, double x, double y, double w, double tilt, int side)
{
    cairo_t *cr = c->cr;
    double ix = x - side * w * 0.5 * cos(tilt), iy = y + w * 0.5 * sin(tilt) * side;
    double ox = x + side * w * 0.5 * cos(tilt), oy = y - w * 0.5 * sin(tilt) * side;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, ix, iy);
    cairo_curve_to(cr, ix + side * w * 0.3, iy - w * 0.42, ox - side * w * 0.2, oy - w * 0.3, ox, oy);
    cairo_curve_to(cr, ox - side * w * 0.25, oy + w * 0.3, ix + side * w * 0.2, iy + w * 0.3, ix, iy);
    cairo_close_path(cr);
    c->cur_color = 1;
    if (c->look.ncolors && c->look.fill == PG_FILL_COLOR)
        pg_shade(c, PG_FILL_COLOR, 0.2, c->look.fine);
    else
        pg_shade(c, PG_FILL_SOLID, 1, 0);
    pg_circle(cr, x, y - w * 0.02, w * 0.17);
    pg_fill_black(c);
    pg_circle(cr, x - side * w * 0.06, y - w * 0.07, w * 0.06);
    pg_knockout(c);
    cairo_new_path(cr);
}

static void facets(pg_ctx *c, const pt *lm, const int (*tris)[3], int nt, double x, double y,
                   double sx, double sy)
{
    cairo_t *cr = c->cr;
    for (int side = -1; side <= 1; side += 2) {
        for (int i = 0; i < nt; i++) {
            cairo_new_sub_path(cr);
            for (int k = 0; k < 3; k++) {
                const pt *p = &lm[tris[i][k]];
                double px = x + side * p->x * sx, py = y + p->y * sy;
                if (k == 0)
                    cairo_move_to(cr, px, py);
                else
                    cairo_line_to(cr, px, py);
            }
            cairo_close_path(cr);
            double tone = ((pg_style_bits(c, (uint64_t)i * 7 + 1) >> 3) % 5) / 5.0 + 0.1;
            pg_fill mode = c->look.fill == PG_FILL_SOLID ? (tone > 0.6 ? PG_FILL_SOLID : PG_FILL_OUTLINE)
                                                         : PG_FILL_STIPPLE;
            pg_shade(c, mode, tone, c->look.fine);
        }
    }
}

/* Short fur strokes inside a region, following a direction. */
static void fur(pg_ctx *c, double x, double y, double r, double ang, int n)
{
    cairo_t *cr = c->cr;
    for (int i = 0; i < n; i++) {
        double px = x + pg_rrange(&c->rng, -r, r), py = y + pg_rrange(&c->rng, -r, r) * 0.6;
        double a = ang + pg_rrange(&c->rng, -0.25, 0.25), l = r * pg_rrange(&c->rng, 0.25, 0.45);
        cairo_move_to(cr, px, py);
        cairo_curve_to(cr, px + l * 0.5 * cos(a) + l * 0.15, py + l * 0.5 * sin(a),
                       px + l * cos(a), py + l * sin(a), px + l * 1.1 * cos(a + 0.3), py + l * 1.1 * sin(a + 0.3));
    }
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, c->look.fine * 0.7);
    else
        pg_stroke(c, c->look.fine * 0.7);
}

/* Branching antlers: a beam with tines, drawn as tapering strokes. */
static void antler(pg_ctx *c, double x, double y, double s, int sd)
{
    cairo_t *cr = c->cr;
    double pts[8] = { x, y, x + sd * 0.25 * s, y - 0.35 * s, x + sd * 0.35 * s, y - 0.7 * s,
                      x + sd * 0.55 * s, y - 1.05 * s };
    pg_smooth(cr, pts, 4, 0, 1);
    pg_stroke(c, c->look.line * 1.6);
    for (int i = 0; i < 3; i++) {
        double t = 0.3 + 0.25 * i;
        double bx = x + sd * (0.25 * t * 1.6) * s, by = y - t * 1.0 * s;
        double len = s * (0.35 - 0.06 * i);
        cairo_move_to(cr, bx, by);
        cairo_curve_to(cr, bx - sd * 0.05 * s, by - len * 0.5, bx - sd * 0.1 * s, by - len * 0.8,
                       bx - sd * 0.02 * s + sd * (i == 0 ? 0.2 : -0.1) * s, by - len);
        pg_stroke(c, c->look.line * (1.2 - 0.2 * i));
    }
}

static const double deer_half[] = {
    0, -0.55, 0.22, -0.52, 0.36, -0.32, 0.36, -0.02, 0.27, 0.35, 0.17, 0.66, 0, 0.76,
};

static void deer(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    double sx = s * 0.9, sy = s * 0.85;
    for (int sd = -1; sd <= 1; sd += 2)
        antler(c, sd * 0.15 * sx, -0.5 * sy, s * 0.75, sd);
    for (int sd = -1; sd <= 1; sd += 2) {
        pg_leaf_path(cr, sd * 0.3 * sx, -0.35 * sy, sd * 0.85 * sx, -0.5 * sy, 0.3, sd * 0.05);
        c->cur_color = 1;
        pg_shade(c, PG_FILL_AUTO, 0.5, c->look.line * 0.8);
    }
    pg_mirror(cr, deer_half, 7, 0, 0, sx, sy, 1);
    pg_shade(c, PG_FILL_AUTO, 0.35, c->look.line);
    for (int sd = -1; sd <= 1; sd += 2)
        eye(c, sd * 0.22 * sx, -0.1 * sy, 0.18 * sx, 0.15, sd);
    cairo_new_sub_path(cr);
    cairo_save(cr);
    cairo_translate(cr, 0, 0.62 * sy);
    cairo_scale(cr, 0.13 * sx, 0.08 * sy);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    cairo_move_to(cr, -0.05 * sx, -0.3 * sy);
    cairo_line_to(cr, 0, -0.1 * sy);
    cairo_line_to(cr, 0.05 * sx, -0.3 * sy);
    pg_stroke(c, c->look.fine);
}

void pg_motif_wolf(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    if (PG_HAS(c, PG_H_DEER)) {
        cairo_save(cr);
        cairo_translate(cr, x, y + s * 0.15);
        cairo_rotate(cr, rot);
        deer(c, s);
        cairo_restore(cr);
        return;
    }
    int fox = PG_HAS(c, PG_H_FOX);
    double sx = s * (fox ? 0.85 : 0.9), sy = s * 0.95;
    double half[sizeof wolf_half / sizeof wolf_half[0]];
    for (size_t i = 0; i < sizeof half / sizeof half[0]; i += 2) {
        half[i] = wolf_half[i] * (1 + pg_rrange(&c->rng, -0.04, 0.04));
        half[i + 1] = wolf_half[i + 1] + pg_rrange(&c->rng, -0.02, 0.02);
    }
    if (fox) {
        half[5] = -1.1;   /* taller ears */
        half[4] = 0.48;
        half[10] = 0.95;  /* wider cheek tufts */
    }
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    x = 0;
    y = 0;
    int geo = c->look.id == PG_L_GEOMETRIC || (c->look.id == PG_L_DOTWORK && (pg_style_bits(c, 0x6E0) & 1));
    pg_mirror(cr, half, 12, x, y, sx, sy, 0);
    c->cur_color = fox ? 0 : 3;
    if (geo) {
        pg_shade(c, PG_FILL_OUTLINE, 0, c->look.line);
        facets(c, wolf_lm, wolf_tris, 14, x, y, sx, sy);
        pg_mirror(cr, half, 12, x, y, sx, sy, 0);
        pg_stroke(c, c->look.line);
    } else {
        pg_shade(c, PG_FILL_AUTO, 0.35, c->look.line);
        /* ears: dark inner triangles */
        for (int sd = -1; sd <= 1; sd += 2) {
            cairo_move_to(cr, x + sd * 0.22 * sx, y - 0.5 * sy);
            cairo_line_to(cr, x + sd * 0.41 * sx, y - 0.86 * sy * (fox ? 1.08 : 1));
            cairo_line_to(cr, x + sd * 0.5 * sx, y - 0.44 * sy);
            cairo_close_path(cr);
            pg_shade(c, c->look.fill == PG_FILL_OUTLINE ? PG_FILL_STIPPLE : PG_FILL_AUTO, 0.85, c->look.fine);
        }
        /* cheeks and forehead fur */
        if (c->look.detail > 0.3) {
            fur(c, x, y - 0.3 * sy, 0.2 * sx, -M_PI / 2, 6);
            fur(c, x + 0.55 * sx, y + 0.12 * sy, 0.16 * sx, 0.3, 5);
            fur(c, x - 0.55 * sx, y + 0.12 * sy, 0.16 * sx, M_PI - 0.3, 5);
        }
        /* muzzle: a lighter region with the bridge */
        cairo_new_sub_path(cr);
        cairo_move_to(cr, x - 0.12 * sx, y + 0.02 * sy);
        cairo_curve_to(cr, x - 0.16 * sx, y + 0.3 * sy, x - 0.3 * sx, y + 0.55 * sy, x, y + 0.72 * sy);
        cairo_curve_to(cr, x + 0.3 * sx, y + 0.55 * sy, x + 0.16 * sx, y + 0.3 * sy, x + 0.12 * sx, y + 0.02 * sy);
        cairo_close_path(cr);
        c->cur_color = 1;
        pg_shade(c, c->look.fill == PG_FILL_SOLID ? PG_FILL_OUTLINE : PG_FILL_AUTO, 0.15, c->look.fine);
    }
    /* brows, eyes, nose, mouth */
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_move_to(cr, x + sd * 0.08 * sx, y - 0.2 * sy);
        cairo_curve_to(cr, x + sd * 0.2 * sx, y - 0.26 * sy, x + sd * 0.3 * sx, y - 0.25 * sy, x + sd * 0.42 * sx, y - 0.18 * sy);
        pg_stroke(c, c->look.fine * 1.2);
        eye(c, x + sd * 0.25 * sx, y - 0.08 * sy, 0.22 * sx, 0.3, sd);
    }
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x - 0.12 * sx, y + 0.38 * sy);
    cairo_curve_to(cr, x - 0.12 * sx, y + 0.32 * sy, x + 0.12 * sx, y + 0.32 * sy, x + 0.12 * sx, y + 0.38 * sy);
    cairo_curve_to(cr, x + 0.1 * sx, y + 0.47 * sy, x + 0.03 * sx, y + 0.5 * sy, x, y + 0.5 * sy);
    cairo_curve_to(cr, x - 0.03 * sx, y + 0.5 * sy, x - 0.1 * sx, y + 0.47 * sy, x - 0.12 * sx, y + 0.38 * sy);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    cairo_move_to(cr, x, y + 0.5 * sy);
    cairo_line_to(cr, x, y + 0.58 * sy);
    cairo_move_to(cr, x - 0.14 * sx, y + 0.6 * sy);
    cairo_curve_to(cr, x - 0.07 * sx, y + 0.64 * sy, x - 0.02 * sx, y + 0.6 * sy, x, y + 0.58 * sy);
    cairo_curve_to(cr, x + 0.02 * sx, y + 0.6 * sy, x + 0.07 * sx, y + 0.64 * sy, x + 0.14 * sx, y + 0.6 * sy);
    pg_stroke(c, c->look.fine * 1.1);
    cairo_restore(cr);
}

/* ---- big cats ---------------------------------------------------------- */

static const double cat_half[] = {
    0, -0.62, 0.3, -0.6, 0.55, -0.45, 0.7, -0.15, 0.72, 0.1, 0.62, 0.35,
    0.45, 0.55, 0.22, 0.7, 0, 0.75,
};

static void mane(pg_ctx *c, double x, double y, double sx, double sy)
{
    cairo_t *cr = c->cr;
    for (int layer = 0; layer < 2; layer++) {
        int n = 22 + pg_rint(&c->rng, 6);
        double r0 = layer ? 0.62 : 0.7, r1 = layer ? 1.05 : 1.28;
        for (int i = 0; i < n; i++) {
            double a = 2 * M_PI * (i + 0.5 * layer) / n + pg_rrange(&c->rng, -0.05, 0.05);
            double len = r1 * pg_rrange(&c->rng, 0.9, 1.08);
            double bx = x + r0 * sx * cos(a), by = y + r0 * sy * sin(a) + 0.1 * sy;
            double tx = x + len * sx * cos(a + 0.25), ty = y + len * sy * sin(a + 0.25) + 0.15 * sy;
            pg_leaf_path(cr, bx, by, tx, ty, 0.22, 0.12);
            c->cur_color = 1;
            pg_shade(c, PG_FILL_AUTO, layer ? 0.45 : 0.75, c->look.line * 0.6);
        }
    }
}

void pg_motif_cat(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int lion = PG_HAS(c, PG_H_LION), tiger = PG_HAS(c, PG_H_TIGER), panther = PG_HAS(c, PG_H_PANTHER);
    int bear = PG_HAS(c, PG_H_BEAR) && !lion && !tiger && !panther;
    if (!lion && !tiger && !panther && !bear) {
        int k = (int)(pg_style_bits(c, 0xCA7) % 3);
        lion = k == 0, tiger = k == 1, panther = k == 2;
    }
    double sx = s * (lion ? 0.62 : 0.85), sy = s * (lion ? 0.62 : 0.85);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    x = 0;
    y = 0;
    if (lion)
        mane(c, x, y, sx, sy);
    /* ears */
    for (int sd = -1; sd <= 1 && bear; sd += 2) {
        pg_circle(cr, sd * 0.52 * sx, -0.58 * sy, 0.2 * sx);
        c->cur_color = 1;
        pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line * 0.8);
        pg_circle(cr, sd * 0.52 * sx, -0.58 * sy, 0.1 * sx);
        pg_shade(c, PG_FILL_SOLID, 1, 0);
    }
    for (int sd = -1; sd <= 1 && !bear; sd += 2) {
        cairo_new_sub_path(cr);
        cairo_move_to(cr, x + sd * 0.3 * sx, y - 0.55 * sy);
        cairo_curve_to(cr, x + sd * 0.35 * sx, y - 0.95 * sy, x + sd * 0.75 * sx, y - 0.85 * sy, x + sd * 0.66 * sx, y - 0.3 * sy);
        cairo_close_path(cr);
        c->cur_color = 1;
        pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line * 0.8);
        cairo_new_sub_path(cr);
        cairo_move_to(cr, x + sd * 0.38 * sx, y - 0.55 * sy);
        cairo_curve_to(cr, x + sd * 0.42 * sx, y - 0.82 * sy, x + sd * 0.65 * sx, y - 0.75 * sy, x + sd * 0.6 * sx, y - 0.4 * sy);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_SOLID, 1, 0);
    }
    pg_mirror(cr, cat_half, 9, x, y, sx, sy, 1);
    c->cur_color = 1;
    int solid_face = panther && (c->look.fill == PG_FILL_SOLID || c->look.fill == PG_FILL_WASH ||
                                 c->look.fill == PG_FILL_COLOR);
    pg_shade(c, solid_face ? PG_FILL_SOLID : PG_FILL_AUTO, solid_face ? 1 : 0.3, c->look.line);
    if (tiger) {
        /* stripes run in from the edge and down the forehead */
        for (int sd = -1; sd <= 1; sd += 2) {
            for (int i = 0; i < 4; i++) {
                double yy = -0.35 + i * 0.2, xx = 0.7 - fabs(yy) * 0.2;
                pg_leaf_path(cr, x + sd * xx * sx, y + yy * sy, x + sd * (xx - 0.3 + i * 0.03) * sx,
                             y + (yy + 0.05) * sy, 0.18, 0.1 * sd);
                pg_shade(c, PG_FILL_SOLID, 1, 0);
            }
            for (int i = 0; i < 3; i++) {
                double xx = 0.05 + i * 0.09;
                pg_leaf_path(cr, x + sd * xx * sx, y - 0.58 * sy, x + sd * (xx + 0.03) * sx, y - (0.35 - i * 0.04) * sy, 0.2, 0);
                pg_shade(c, PG_FILL_SOLID, 1, 0);
            }
        }
    }
    /* eyes, nose bridge, nose, muzzle, whiskers */
    for (int sd = -1; sd <= 1; sd += 2) {
        if (solid_face) {
            cairo_move_to(cr, x + sd * 0.1 * sx, y - 0.05 * sy);
            cairo_curve_to(cr, x + sd * 0.08 * sx, y + 0.05 * sy, x + sd * 0.1 * sx, y + 0.12 * sy, x + sd * 0.13 * sx, y + 0.16 * sy);
            pg_cut(c, c->look.fine);
        } else {
            cairo_move_to(cr, x + sd * 0.1 * sx, y - 0.05 * sy);
            cairo_curve_to(cr, x + sd * 0.08 * sx, y + 0.05 * sy, x + sd * 0.1 * sx, y + 0.12 * sy, x + sd * 0.13 * sx, y + 0.16 * sy);
            pg_stroke(c, c->look.fine);
        }
        eye(c, x + sd * 0.27 * sx, y - 0.1 * sy, 0.24 * sx, 0.25, sd);
        if (solid_face) {
            /* light ring around the eye so it reads on black */
            cairo_new_sub_path(cr);
            cairo_arc(cr, x + sd * 0.27 * sx, y - 0.1 * sy, 0.17 * sx, 0, 2 * M_PI);
            pg_cut(c, c->look.fine * 0.8);
        }
    }
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x - 0.14 * sx, y + 0.17 * sy);
    cairo_line_to(cr, x + 0.14 * sx, y + 0.17 * sy);
    cairo_curve_to(cr, x + 0.1 * sx, y + 0.27 * sy, x + 0.03 * sx, y + 0.32 * sy, x, y + 0.33 * sy);
    cairo_curve_to(cr, x - 0.03 * sx, y + 0.32 * sy, x - 0.1 * sx, y + 0.27 * sy, x - 0.14 * sx, y + 0.17 * sy);
    cairo_close_path(cr);
    if (solid_face) {
        pg_knockout(c);
        cairo_new_path(cr);
    } else {
        pg_shade(c, PG_FILL_SOLID, 1, 0);
    }
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, x + sd * 0.13 * sx, y + 0.42 * sy, 0.13 * sx, sd < 0 ? M_PI * 0.2 : -0.2, sd < 0 ? M_PI * 1.2 : M_PI * 0.8);
        if (solid_face)
            pg_cut(c, c->look.fine);
        else
            pg_stroke(c, c->look.fine);
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 3; j++) {
                pg_circle(cr, x + sd * (0.08 + 0.05 * j) * sx, y + (0.4 + 0.04 * k) * sy, 0.012 * sx);
            }
        if (solid_face)
            pg_knockout(c), cairo_new_path(cr);
        else
            pg_fill_black(c);
        if (c->look.detail > 0.3 && !solid_face && !bear) {
            for (int k = 0; k < 3; k++) {
                cairo_move_to(cr, x + sd * 0.25 * sx, y + (0.4 + 0.05 * k) * sy);
                cairo_curve_to(cr, x + sd * 0.5 * sx, y + (0.36 + 0.06 * k) * sy, x + sd * 0.75 * sx,
                               y + (0.35 + 0.1 * k) * sy, x + sd * 0.95 * sx, y + (0.38 + 0.15 * k) * sy);
            }
            pg_stroke(c, c->look.fine * 0.6);
        }
    }
    cairo_move_to(cr, x, y + 0.33 * sy);
    cairo_line_to(cr, x, y + 0.48 * sy);
    if (solid_face)
        pg_cut(c, c->look.fine);
    else
        pg_stroke(c, c->look.fine);
    cairo_restore(cr);
}
