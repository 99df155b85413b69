/* Mandalas: concentric rings of petals, dots, scallops, teeth and rays
 * around a small centre, drawn from the outside in so inner rings overlap
 * outer ones as in dotwork and ornamental tattoos. */
#include <math.h>
#include "pg.h"

enum { R_PETAL, R_ROUND, R_DOTS, R_SCALLOP, R_TEETH, R_RAYS, R_BAND, R_BEADS, R_COUNT };

static void polar(double x, double y, double r, double a, double *px, double *py)
{
    *px = x + r * cos(a);
    *py = y + r * sin(a);
}

static void petal(cairo_t *cr, double x, double y, double r0, double r1, double a,
                  double hw, int round)
{
    double p[10];
    double tipr = round ? r1 * 0.985 : r1;
    polar(x, y, r0, a - hw, &p[0], &p[1]);
    cairo_new_sub_path(cr);
    cairo_move_to(cr, p[0], p[1]);
    double k = round ? 1.25 : 1.1;
    polar(x, y, r0 + 0.45 * (r1 - r0), a - hw * k, &p[2], &p[3]);
    polar(x, y, r0 + (round ? 1.02 : 0.85) * (r1 - r0), a - hw * (round ? 0.75 : 0.45), &p[4], &p[5]);
    polar(x, y, tipr, a, &p[6], &p[7]);
    cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[6], p[7]);
    polar(x, y, r0 + (round ? 1.02 : 0.85) * (r1 - r0), a + hw * (round ? 0.75 : 0.45), &p[2], &p[3]);
    polar(x, y, r0 + 0.45 * (r1 - r0), a + hw * k, &p[4], &p[5]);
    polar(x, y, r0, a + hw, &p[8], &p[9]);
    cairo_curve_to(cr, p[2], p[3], p[4], p[5], p[8], p[9]);
    cairo_close_path(cr);
}

static void ring(pg_ctx *c, double x, double y, double r0, double r1, int type, int n,
                 double rot, double tone)
{
    cairo_t *cr = c->cr;
    double fw = c->look.fine, lw = c->look.line * 0.55;
    double step = 2 * M_PI / n;
    switch (type) {
    case R_PETAL:
    case R_ROUND: {
        int round = type == R_ROUND;
        int layered = pg_chance(&c->rng, 0.45);
        if (layered) {
            for (int i = 0; i < n; i++) {
                petal(cr, x, y, r0, r1 * 0.93, rot + (i + 0.5) * step, step * 0.5, round);
                pg_shade(c, PG_FILL_AUTO, tone * 0.6, fw);
            }
        }
        int inner = pg_rint(&c->rng, 3);
        for (int i = 0; i < n; i++) {
            double a = rot + i * step;
            petal(cr, x, y, r0, r1, a, step * (layered ? 0.42 : 0.5), round);
            pg_shade(c, PG_FILL_AUTO, tone, lw);
            if (inner == 1) {
                petal(cr, x, y, r0, r0 + (r1 - r0) * 0.62, a, step * 0.22, round);
                if (c->look.fill == PG_FILL_SOLID)
                    pg_knockout(c), cairo_new_path(cr);
                else
                    pg_shade(c, PG_FILL_SOLID, 1, 0);
            } else if (inner == 2) {
                double px, py, qx, qy;
                polar(x, y, r0 + (r1 - r0) * 0.12, a, &px, &py);
                polar(x, y, r0 + (r1 - r0) * 0.75, a, &qx, &qy);
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, qx, qy);
                if (c->look.fill == PG_FILL_SOLID)
                    pg_cut(c, fw);
                else
                    pg_stroke(c, fw);
            }
        }
        break;
    }
    case R_DOTS: {
        double rm = 0.5 * (r0 + r1), dr = (r1 - r0) * 0.32;
        int m = (int)(2 * M_PI * rm / (dr * 3.0));
        if (m < n)
            m = n;
        pg_circle(cr, x, y, r0);
        pg_stroke(c, fw);
        pg_orn_dots_arc(c, x, y, rm, rot, rot + 2 * M_PI * (m - 1) / m, m, dr);
        if (pg_chance(&c->rng, 0.5)) {
            pg_circle(cr, x, y, r1);
            pg_stroke(c, fw);
        }
        break;
    }
    case R_SCALLOP: {
        double rm = r0, h = r1 - r0;
        cairo_new_sub_path(cr);
        for (int i = 0; i < n; i++) {
            double a0 = rot + i * step, a1 = a0 + step, am = a0 + step / 2;
            double px, py, qx, qy, mx, my, ex, ey;
            polar(x, y, rm, a0, &px, &py);
            polar(x, y, rm + h * 1.3, a0 + step * 0.1, &qx, &qy);
            polar(x, y, rm + h * 1.3, a1 - step * 0.1, &mx, &my);
            polar(x, y, rm, a1, &ex, &ey);
            if (i == 0)
                cairo_move_to(cr, px, py);
            cairo_curve_to(cr, qx, qy, mx, my, ex, ey);
            (void)am;
        }
        cairo_close_path(cr);
        pg_circle(cr, x, y, r0);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        pg_shade(c, PG_FILL_AUTO, tone, lw);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
        if (pg_chance(&c->rng, 0.6)) {
            for (int i = 0; i < n; i++) {
                double px, py;
                polar(x, y, r0 + (r1 - r0) * 0.55, rot + (i + 0.5) * step, &px, &py);
                pg_dot(c, px, py, fw * 1.6 + (r1 - r0) / c->u * 0.08);
            }
        }
        break;
    }
    case R_TEETH: {
        pg_circle(cr, x, y, r0);
        pg_stroke(c, fw);
        pg_circle(cr, x, y, r1);
        pg_stroke(c, fw);
        int m = n * (1 + pg_rint(&c->rng, 3));
        double st = 2 * M_PI / m;
        for (int i = 0; i < m; i++) {
            double a = rot + i * st, px, py, qx, qy, tx, ty;
            polar(x, y, r0, a, &px, &py);
            polar(x, y, r0, a + st, &qx, &qy);
            polar(x, y, r1, a + st / 2, &tx, &ty);
            cairo_move_to(cr, px, py);
            cairo_line_to(cr, tx, ty);
            cairo_line_to(cr, qx, qy);
            cairo_close_path(cr);
        }
        if (c->look.fill == PG_FILL_OUTLINE || c->look.id == PG_L_FINELINE)
            pg_stroke(c, fw);
        else
            pg_fill_black(c);
        break;
    }
    case R_RAYS: {
        pg_circle(cr, x, y, r0);
        pg_stroke(c, fw);
        pg_circle(cr, x, y, r1);
        pg_stroke(c, fw);
        int m = n * (2 + pg_rint(&c->rng, 4));
        for (int i = 0; i < m; i++) {
            double a = rot + 2 * M_PI * i / m, px, py, qx, qy;
            polar(x, y, r0, a, &px, &py);
            polar(x, y, r1, a, &qx, &qy);
            cairo_move_to(cr, px, py);
            cairo_line_to(cr, qx, qy);
        }
        pg_stroke(c, fw * 0.7);
        break;
    }
    case R_BAND: {
        /* a black band with light dots left in it */
        pg_circle(cr, x, y, r1);
        pg_circle(cr, x, y, r0);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        pg_knockout(c);
        pg_fill_black(c);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
        int m = n * 2;
        double rm = 0.5 * (r0 + r1);
        for (int i = 0; i < m; i++) {
            double px, py;
            polar(x, y, rm, rot + (i + 0.5) * 2 * M_PI / m, &px, &py);
            pg_circle(cr, px, py, (r1 - r0) * 0.22);
        }
        pg_knockout(c);
        cairo_new_path(cr);
        break;
    }
    default: { /* beads: small outlined circles */
        double rm = 0.5 * (r0 + r1), br = (r1 - r0) * 0.45;
        int m = (int)(2 * M_PI * rm / (br * 2.3));
        for (int i = 0; i < m; i++) {
            double px, py;
            polar(x, y, rm, rot + 2 * M_PI * i / m, &px, &py);
            pg_circle(cr, px, py, br);
            pg_shade(c, PG_FILL_AUTO, tone * 0.5, fw);
            pg_dot(c, px, py, br / c->u * 0.3);
        }
        break;
    }
    }
}

void pg_motif_mandala(pg_ctx *c, double x, double y, double s, double rot)
{
    static const int syms[] = { 8, 10, 12, 12, 16, 16, 20, 24 };
    int n = syms[pg_rint(&c->rng, 8)];
    int rings = 3 + (int)(c->look.detail * 4.5 + 0.5) + pg_rint(&c->rng, 2);
    if (c->look.id == PG_L_MINIMAL)
        rings = 3;
    /* widths of rings, outside in; wide petal rings alternate with thin ones */
    int type[16];
    double wid[16], total = 0;
    int prev = -1;
    for (int i = 0; i < rings && i < 16; i++) {
        int t;
        if (i == 0 || (i % 2 == 0 && pg_chance(&c->rng, 0.8)))
            t = pg_chance(&c->rng, 0.55) ? R_PETAL : R_ROUND;
        else
            do
                t = R_DOTS + pg_rint(&c->rng, R_COUNT - R_DOTS);
            while (t == prev);
        type[i] = t;
        prev = t;
        wid[i] = (t == R_PETAL || t == R_ROUND) ? pg_rrange(&c->rng, 0.8, 1.3)
                                               : pg_rrange(&c->rng, 0.25, 0.42);
        total += wid[i];
    }
    double rc = s * pg_rrange(&c->rng, 0.1, 0.16); /* centre disc */
    double r = s;
    for (int i = 0; i < rings && i < 16; i++) {
        double w = (s - rc) * wid[i] / total;
        int m = (type[i] == R_PETAL || type[i] == R_ROUND) && i > rings / 2 && n > 8 ? n / 2 : n;
        double tone = (i % 2 == 0) ? pg_rrange(&c->rng, 0.45, 0.85) : pg_rrange(&c->rng, 0.2, 0.5);
        double rr = rot + ((i & 1) ? M_PI / m : 0);
        ring(c, x, y, r - w, r, type[i], m, rr, tone);
        r -= w;
    }
    /* centre */
    pg_circle(c->cr, x, y, rc);
    pg_shade(c, PG_FILL_AUTO, 0.7, c->look.line * 0.5);
    int cm = pg_rint(&c->rng, 3);
    if (cm == 0) {
        pg_circle(c->cr, x, y, rc * 0.45);
        pg_fill_black(c);
    } else if (cm == 1) {
        for (int i = 0; i < n / 2; i++) {
            petal(c->cr, x, y, rc * 0.1, rc * 0.9, rot + i * 4 * M_PI / n, 2 * M_PI / n * 0.9, 0);
            pg_shade(c, PG_FILL_SOLID, 1, 0);
        }
    } else {
        pg_orn_star(c, x, y, rc * 0.8, n / 2 > 4 ? n / 2 : 5, 0.45);
    }
}
