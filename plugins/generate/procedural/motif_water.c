/* Water: the koi (a body along a curved spine, scales, flowing fins and
 * tail, barbels) and waves (Japanese curling crests with foam claws, or
 * simple line waves). */
#include <math.h>
#include "pg_body.h"

static void fin(pg_ctx *c, double x0, double y0, double x1, double y1, double wid, double bend)
{
    cairo_t *cr = c->cr;
    pg_leaf_path(cr, x0, y0, x1, y1, wid, bend);
    c->cur_color = 0;
    pg_shade(c, PG_FILL_AUTO, 0.35, c->look.line * 0.6);
    for (int i = 1; i <= 3; i++) {
        double t = i / 4.0, dx = x1 - x0, dy = y1 - y0;
        cairo_move_to(cr, x0 + dx * 0.05, y0 + dy * 0.05);
        cairo_line_to(cr, x0 + dx * 0.85 + (-dy) * (t - 0.5) * wid * 1.4, y0 + dy * 0.85 + dx * (t - 0.5) * wid * 1.4);
    }
    pg_stroke(c, c->look.fine * 0.6);
}

void pg_motif_koi(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    pg_body b;
    int n = 120;
    b.n = n;
    double bend = pg_rrange(&c->rng, 0.25, 0.6) * (pg_chance(&c->rng, 0.5) ? 1 : -1);
    for (int i = 0; i < n; i++) {
        double t = (double)i / (n - 1);
        b.y[i] = s * (-0.85 + 1.45 * t);
        b.x[i] = s * bend * sin(t * M_PI * 1.1) * 0.6;
        /* fish profile: round head, widest a third down, thin at the tail root */
        double w = sin(M_PI * pow(t * 0.92 + 0.02, 0.65)) * 0.25 * s;
        if (t > 0.8)
            w = fmax(w, 0.035 * s);
        b.w[i] = w;
    }
    pg_body_frame(&b);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    /* tail: two flowing lobes from the tail root */
    int e = n - 1;
    double tx = b.x[e], ty = b.y[e], dx = b.x[e] - b.x[e - 5], dy = b.y[e] - b.y[e - 5], l = hypot(dx, dy);
    dx /= l;
    dy /= l;
    for (int sd = -1; sd <= 1; sd += 2) {
        double ex = tx + dx * s * 0.45 - dy * sd * s * 0.28, ey = ty + dy * s * 0.45 + dx * sd * s * 0.28;
        fin(c, tx - dx * s * 0.03, ty - dy * s * 0.03, ex, ey, 0.35, sd * 0.12);
    }
    /* pectoral fins near the head */
    for (int sd = -1; sd <= 1; sd += 2) {
        int k = n / 5;
        double px = b.x[k] + sd * b.nx[k] * b.w[k] * 0.8, py = b.y[k] + sd * b.ny[k] * b.w[k] * 0.8;
        fin(c, px, py, px + sd * b.nx[k] * s * 0.32 + (b.x[k + 10] - b.x[k]) * 1.2,
            py + sd * b.ny[k] * s * 0.32 + (b.y[k + 10] - b.y[k]) * 1.2, 0.3, sd * 0.1);
    }
    /* body */
    pg_body_path(cr, &b, 0, n - 1);
    c->cur_color = 0;
    pg_shade(c, PG_FILL_AUTO, 0.45, c->look.line);
    /* scales: rows of arcs facing the head, clipped to the body */
    pg_body_path(cr, &b, 0, n - 1);
    cairo_save(cr);
    cairo_clip(cr);
    if (c->look.ncolors && c->look.fill == PG_FILL_COLOR) {
        /* kohaku: white patches on the red */
        for (int p = 0; p < 3; p++) {
            int k = n / 8 + pg_rint(&c->rng, n / 2);
            double pts[16];
            double cx = b.x[k] + b.nx[k] * b.w[k] * pg_rrange(&c->rng, -0.6, 0.6), cy = b.y[k];
            double r = s * pg_rrange(&c->rng, 0.1, 0.17);
            for (int q = 0; q < 8; q++) {
                double a = q * M_PI / 4, rr = r * pg_rrange(&c->rng, 0.7, 1.3);
                pts[2 * q] = cx + rr * cos(a);
                pts[2 * q + 1] = cy + rr * sin(a) * 1.3;
            }
            pg_smooth(cr, pts, 8, 1, 1);
            pg_knockout(c);
            cairo_new_path(cr);
        }
    }
    for (int i = n / 6; i < n - 6; i += 5) {
        for (int k = -3; k <= 3; k++) {
            double off = (k + ((i / 5) & 1) * 0.5) * 0.28;
            if (fabs(off) > 0.95)
                continue;
            double cx = b.x[i] + b.nx[i] * b.w[i] * off, cy = b.y[i] + b.ny[i] * b.w[i] * off;
            double r = s * 0.045;
            double a = atan2(b.y[i] - b.y[i - 3], b.x[i] - b.x[i - 3]);
            cairo_new_sub_path(cr);
            cairo_arc(cr, cx, cy, r, a - M_PI / 2, a + M_PI / 2);
        }
    }
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, c->look.fine * 0.8);
    else
        pg_stroke(c, c->look.fine * 0.8);
    cairo_restore(cr);
    pg_body_path(cr, &b, 0, n - 1);
    pg_stroke(c, c->look.line);
    /* dorsal fin along the back */
    int d0 = n / 4, d1 = n * 3 / 5;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, b.x[d0], b.y[d0]);
    for (int i = d0; i <= d1; i += 4) {
        double t = (double)(i - d0) / (d1 - d0);
        double h = s * 0.06 * sin(M_PI * t) + s * 0.01;
        cairo_line_to(cr, b.x[i] + b.nx[i] * h * 0.4 + (b.x[i] - b.x[i - 2]) * 2, b.y[i] + b.ny[i] * h * 0.4 - h);
    }
    cairo_line_to(cr, b.x[d1], b.y[d1]);
    pg_stroke(c, c->look.fine);
    /* head: eyes, gill line, barbels */
    int g = n / 7;
    cairo_move_to(cr, b.x[g] + b.nx[g] * b.w[g], b.y[g] + b.ny[g] * b.w[g]);
    cairo_curve_to(cr, b.x[g - 4], b.y[g - 4] + s * 0.03, b.x[g - 4], b.y[g - 4] + s * 0.03,
                   b.x[g] - b.nx[g] * b.w[g], b.y[g] - b.ny[g] * b.w[g]);
    pg_stroke(c, c->look.fine);
    for (int sd = -1; sd <= 1; sd += 2) {
        int k = n / 14;
        pg_circle(cr, b.x[k] + sd * b.nx[k] * b.w[k] * 0.6, b.y[k] + sd * b.ny[k] * b.w[k] * 0.6, s * 0.03);
        pg_shade(c, PG_FILL_SOLID, 1, 0);
        cairo_move_to(cr, b.x[1] + sd * b.nx[1] * b.w[1], b.y[1]);
        cairo_curve_to(cr, b.x[0] + sd * s * 0.08, b.y[0] - s * 0.05, b.x[0] + sd * s * 0.15, b.y[0] - s * 0.02,
                       b.x[0] + sd * s * 0.2, b.y[0] + s * 0.06);
        pg_stroke(c, c->look.fine);
    }
    cairo_restore(cr);
}

/* ---- waves ------------------------------------------------------------- */

/* One curling crest: a body rising to the right that curls over, with foam
 * claws along the lip. dir = 1 curls to the right. */
static void crest(pg_ctx *c, double x, double y, double r, int dir)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, dir, 1);
    /* the curl is a spiral around (0, 0) */
    double pts[2 * 24];
    int np = 0;
    pts[np++] = -2.2 * r;
    pts[np++] = 1.0 * r;
    pts[np++] = -1.5 * r;
    pts[np++] = 0.7 * r;
    pts[np++] = -1.0 * r;
    pts[np++] = 0.1 * r;
    for (int i = 0; i <= 12; i++) {
        double t = i / 12.0, a = M_PI + t * 1.7 * M_PI, rr = r * (1 - 0.7 * t);
        pts[np++] = rr * cos(a);
        pts[np++] = rr * sin(a) - 0.1 * r;
    }
    cairo_new_sub_path(cr);
    pg_smooth(cr, pts, np / 2, 0, 1);
    /* inner face back down to the base */
    cairo_curve_to(cr, 0.5 * r, 0.2 * r, 0.9 * r, 0.6 * r, 1.2 * r, 1.0 * r);
    cairo_close_path(cr);
    c->cur_color = 3;
    pg_shade(c, PG_FILL_AUTO, 0.55, c->look.line * 0.8);
    /* the hollow under the lip, and the curl line running into it */
    cairo_new_sub_path(cr);
    cairo_save(cr);
    cairo_translate(cr, 0.22 * r, 0.12 * r);
    cairo_scale(cr, 0.5 * r, 0.42 * r);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    pg_knockout(c);
    cairo_new_path(cr);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0.22 * r, 0.12 * r, 0.5 * r, -M_PI * 0.9, M_PI * 0.15);
    pg_stroke(c, c->look.line * 0.8);
    cairo_new_sub_path(cr);
    cairo_arc(cr, 0.3 * r, 0.0, 0.3 * r, -M_PI, M_PI * 0.2);
    pg_stroke(c, c->look.fine);
    /* lines following the body */
    for (int k = 1; k <= 3; k++) {
        double f = 1 - 0.18 * k;
        cairo_move_to(cr, -2.0 * r * f, 1.0 * r);
        cairo_curve_to(cr, -1.3 * r * f, 0.6 * r, -1.0 * r * f, -0.6 * r * f, 0.0, -0.85 * r * f);
        pg_stroke(c, c->look.fine * 0.8);
    }
    /* foam claws along the lip */
    int nc = 5 + pg_rint(&c->rng, 3);
    for (int i = 0; i < nc; i++) {
        double a = M_PI * 1.05 + i * (0.95 * M_PI / nc), cx = 0.97 * r * cos(a), cy = 0.97 * r * sin(a) - 0.1 * r;
        double ox = cos(a), oy = sin(a), cl = r * 0.38;
        cairo_new_sub_path(cr);
        cairo_move_to(cr, cx - oy * cl * 0.3, cy + ox * cl * 0.3);
        cairo_curve_to(cr, cx + ox * cl, cy + oy * cl, cx + ox * cl * 1.2 + oy * cl * 0.6,
                       cy + oy * cl * 1.2 - ox * cl * 0.6, cx + ox * cl * 0.6 + oy * cl * 0.7,
                       cy + oy * cl * 0.6 - ox * cl * 0.7);
        cairo_curve_to(cr, cx + ox * cl * 0.4 + oy * cl * 0.2, cy + oy * cl * 0.4 - ox * cl * 0.2,
                       cx + oy * cl * 0.5, cy - ox * cl * 0.5, cx + oy * cl * 0.3, cy - ox * cl * 0.3);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_OUTLINE, 0, c->look.fine * 1.2);
    }
    cairo_restore(cr);
}

void pg_motif_wave(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0x3A7E) % 3);
    if (c->look.id == PG_L_JAPANESE || c->look.id == PG_L_TRADITIONAL)
        kind = 0;
    if (c->look.id == PG_L_MINIMAL || c->look.id == PG_L_FINELINE)
        kind = 2;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 0 || kind == 1) {
        int dir = pg_style_bits(c, 0xD1) & 1 ? 1 : -1;
        int nwave = kind == 0 ? 3 : 2;
        for (int i = 0; i < nwave; i++) {
            double r = s * (0.42 - 0.09 * i);
            crest(c, (i - 0.6) * s * 0.55 * dir, s * (0.05 + 0.2 * i), r, dir);
        }
        /* water lines at the base */
        for (int k = 0; k < 4; k++) {
            double yy = s * (0.5 + 0.09 * k);
            cairo_move_to(cr, -s * 1.0, yy);
            for (int j = 0; j < 5; j++) {
                double x0 = -s + j * 0.4 * s;
                cairo_curve_to(cr, x0 + 0.1 * s, yy - 0.06 * s, x0 + 0.3 * s, yy - 0.06 * s, x0 + 0.4 * s, yy);
            }
            pg_stroke(c, k == 0 ? c->look.line * 0.7 : c->look.fine);
        }
        /* spray */
        for (int i = 0; i < 14; i++)
            pg_dot(c, pg_rrange(&c->rng, -0.9, 0.9) * s, pg_rrange(&c->rng, -0.7, -0.3) * s, pg_rrange(&c->rng, 2, 5));
    } else {
        /* a circle of layered line waves */
        pg_circle(cr, 0, 0, s * 0.85);
        cairo_save(cr);
        cairo_clip_preserve(cr);
        pg_stroke(c, c->look.line);
        for (int k = 0; k < 5; k++) {
            double yy = s * (-0.1 + 0.2 * k);
            cairo_move_to(cr, -s, yy);
            for (int j = 0; j < 4; j++) {
                double x0 = -s + j * 0.5 * s + k * 0.1 * s;
                cairo_curve_to(cr, x0 + 0.15 * s, yy - 0.18 * s, x0 + 0.4 * s, yy - 0.1 * s, x0 + 0.3 * s, yy + 0.02 * s);
                cairo_curve_to(cr, x0 + 0.35 * s, yy + 0.02 * s, x0 + 0.45 * s, yy, x0 + 0.5 * s, yy);
            }
            pg_stroke(c, c->look.line * 0.6);
        }
        cairo_restore(cr);
        pg_circle(cr, s * 0.3, -s * 0.45, s * 0.15);
        pg_shade(c, PG_FILL_AUTO, 0.5, c->look.fine);
    }
    cairo_restore(cr);
}
