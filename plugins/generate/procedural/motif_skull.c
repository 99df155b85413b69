/* The skull seen from the front: cranium and upper jaw, a separate lower
 * jaw, dark sockets and nose, rows of teeth, cheekbone lines and a crack
 * or two. */
#include <math.h>
#include "pg.h"

static const double cranium_half[] = {
    0, -1.0, 0.42, -0.93, 0.68, -0.66, 0.78, -0.3, 0.74, 0.02, 0.66, 0.18,
    0.64, 0.32, 0.5, 0.42, 0.38, 0.5, 0, 0.52,
};
static const double jaw_half[] = {
    0, 0.6, 0.36, 0.58, 0.46, 0.5, 0.48, 0.72, 0.32, 0.92, 0, 0.98,
};

void pg_motif_skull(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    double sx = s * pg_rrange(&c->rng, 0.78, 0.86), sy = s * 0.9;
    int solid = c->look.fill == PG_FILL_SOLID;
    /* bone stays uncoloured even in colour styles: a grey wash models it */
    pg_fill bone = solid ? PG_FILL_STIPPLE : c->look.fill == PG_FILL_COLOR ? PG_FILL_WASH : PG_FILL_AUTO;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    c->cur_color = 1;
    pg_mirror(cr, jaw_half, 6, 0, 0, sx, sy, 1);
    pg_shade(c, bone, 0.45, c->look.line);
    pg_mirror(cr, cranium_half, 10, 0, 0, sx, sy, 1);
    pg_shade(c, bone, 0.3, c->look.line);
    /* temples: shaded hollows at the sides */
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_new_sub_path(cr);
        cairo_move_to(cr, sd * 0.74 * sx, -0.3 * sy);
        cairo_curve_to(cr, sd * 0.55 * sx, -0.2 * sy, sd * 0.55 * sx, 0.05 * sy, sd * 0.7 * sx, 0.12 * sy);
        cairo_curve_to(cr, sd * 0.78 * sx, 0.0, sd * 0.8 * sx, -0.2 * sy, sd * 0.74 * sx, -0.3 * sy);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_STIPPLE, 0.8, 0);
    }
    /* eye sockets */
    double ew = pg_rrange(&c->rng, 0.22, 0.27), eh = pg_rrange(&c->rng, 0.18, 0.23);
    for (int sd = -1; sd <= 1; sd += 2) {
        double ex = sd * 0.3 * sx, ey = -0.08 * sy;
        cairo_new_sub_path(cr);
        cairo_move_to(cr, ex - sd * ew * sx * 0.95, ey - eh * sy * 0.3);
        cairo_curve_to(cr, ex - sd * ew * sx * 0.6, ey - eh * sy * 1.3, ex + sd * ew * sx * 1.1, ey - eh * sy * 1.2,
                       ex + sd * ew * sx * 1.0, ey + eh * sy * 0.1);
        cairo_curve_to(cr, ex + sd * ew * sx * 0.9, ey + eh * sy * 1.2, ex - sd * ew * sx * 0.8, ey + eh * sy * 1.1,
                       ex - sd * ew * sx * 0.95, ey - eh * sy * 0.3);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_SOLID, 1, c->look.line * 0.6);
        if (c->look.fill == PG_FILL_COLOR && c->look.ncolors) {
            /* a glint in the socket, traditional style */
            pg_circle(cr, ex + sd * ew * sx * 0.3, ey - eh * sy * 0.3, s * 0.03);
            pg_knockout(c);
            cairo_new_path(cr);
        }
    }
    /* nose: an upside-down heart */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, 0, 0.14 * sy);
    cairo_curve_to(cr, -0.05 * sx, 0.14 * sy, -0.13 * sx, 0.3 * sy, -0.08 * sx, 0.34 * sy);
    cairo_curve_to(cr, -0.05 * sx, 0.36 * sy, -0.02 * sx, 0.33 * sy, 0, 0.31 * sy);
    cairo_curve_to(cr, 0.02 * sx, 0.33 * sy, 0.05 * sx, 0.36 * sy, 0.08 * sx, 0.34 * sy);
    cairo_curve_to(cr, 0.13 * sx, 0.3 * sy, 0.05 * sx, 0.14 * sy, 0, 0.14 * sy);
    cairo_close_path(cr);
    pg_shade(c, PG_FILL_SOLID, 1, 0);
    /* cheekbones */
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_move_to(cr, sd * 0.5 * sx, 0.1 * sy);
        cairo_curve_to(cr, sd * 0.45 * sx, 0.22 * sy, sd * 0.38 * sx, 0.3 * sy, sd * 0.22 * sx, 0.36 * sy);
        pg_stroke(c, c->look.fine);
    }
    /* teeth: upper and lower rows */
    int nt = 6 + 2 * pg_rint(&c->rng, 2);
    double tw = 0.64 / nt;
    for (int row = 0; row < 2; row++) {
        double y0 = row ? 0.55 * sy : 0.42 * sy, y1 = row ? 0.68 * sy : 0.56 * sy;
        for (int i = 0; i < nt; i++) {
            double x0 = (-0.32 + i * tw) * sx, x1 = x0 + tw * sx * 0.92;
            double bulge = fabs(i - (nt - 1) / 2.0) / nt * 0.05 * sy;
            cairo_new_sub_path(cr);
            cairo_move_to(cr, x0, y0 + bulge);
            cairo_line_to(cr, x1, y0 + bulge);
            cairo_line_to(cr, x1, y1 - bulge);
            cairo_curve_to(cr, x1, y1 + 0.02 * sy - bulge, x0, y1 + 0.02 * sy - bulge, x0, y1 - bulge);
            cairo_close_path(cr);
            pg_shade(c, PG_FILL_OUTLINE, 0, c->look.fine);
        }
    }
    /* a crack on the cranium */
    if (pg_chance(&c->rng, 0.6)) {
        double cx = pg_rrange(&c->rng, -0.4, 0.4) * sx, cy = -0.92 * sy + fabs(cx) * 0.3;
        cairo_move_to(cr, cx, cy);
        for (int i = 0; i < 4; i++) {
            cx += pg_rrange(&c->rng, -0.08, 0.08) * sx;
            cy += 0.08 * sy;
            cairo_line_to(cr, cx, cy);
        }
        pg_stroke(c, c->look.fine);
    }
    /* forehead shading under the brow */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, -0.6 * sx, -0.3 * sy);
    cairo_curve_to(cr, -0.3 * sx, -0.42 * sy, 0.3 * sx, -0.42 * sy, 0.6 * sx, -0.3 * sy);
    pg_stroke(c, c->look.fine * 0.8);
    cairo_restore(cr);
}
