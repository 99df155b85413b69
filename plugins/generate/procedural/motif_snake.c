/* Snakes: an S-curve, a coil or an ouroboros, with belly plates, a diamond
 * back or bands, a head with an eye and a forked tongue, and a hood for a
 * cobra. */
#include <math.h>
#include "pg_body.h"

enum { SN_S, SN_COIL, SN_RING };

static void spine(pg_ctx *c, pg_body *b, int kind, double s)
{
    int n = 240;
    b->n = n;
    double amp = s * pg_rrange(&c->rng, 0.35, 0.55), waves = pg_rrange(&c->rng, 1.2, 1.9);
    double ph = pg_rrange(&c->rng, -0.4, 0.4);
    for (int i = 0; i < n; i++) {
        double t = (double)i / (n - 1); /* 0 head .. 1 tail */
        switch (kind) {
        case SN_RING: {
            double a = -M_PI / 2 + 0.25 + t * 2 * M_PI * 0.97;
            b->x[i] = s * 0.72 * cos(a);
            b->y[i] = s * 0.72 * sin(a);
            break;
        }
        case SN_COIL: {
            /* head raised above a spiral of body */
            if (t < 0.2) {
                double u = t / 0.2;
                b->x[i] = s * (0.05 + 0.1 * sin(u * 3));
                b->y[i] = s * (-0.85 + 0.75 * u);
            } else {
                double u = (t - 0.2) / 0.8, a = -M_PI / 2 + u * 3.2 * M_PI;
                double r = s * (0.75 - 0.5 * u);
                b->x[i] = r * cos(a) * 1.1 - s * 0.05;
                b->y[i] = r * sin(a) * 0.55 + s * 0.35;
                if (u < 0.08) { /* blend from the neck into the coil */
                    double k = u / 0.08;
                    b->x[i] = b->x[i] * k + s * 0.05 * (1 - k);
                    b->y[i] = b->y[i] * k + s * -0.1 * (1 - k);
                }
            }
            break;
        }
        default: {
            b->y[i] = s * (-0.95 + 1.9 * t);
            b->x[i] = amp * sin(ph + t * waves * 2 * M_PI) * (0.4 + 0.6 * sin(M_PI * fmin(1, t * 1.2)));
            break;
        }
        }
        double w = s * 0.085;
        if (t < 0.04)
            w *= 0.75 + 0.25 * t / 0.04;     /* neck behind the head */
        else if (t > 0.55)
            w *= pow((1 - t) / 0.45, 0.8);    /* taper to the tail */
        b->w[i] = w < s * 0.004 ? s * 0.004 : w;
    }
    pg_body_frame(b);
}

static void head(pg_ctx *c, const pg_body *b, double s, int cobra)
{
    cairo_t *cr = c->cr;
    double hx = b->x[0], hy = b->y[0];
    /* heading: from the neck toward the head */
    double dx = b->x[0] - b->x[6], dy = b->y[0] - b->y[6], l = hypot(dx, dy);
    dx /= l;
    dy /= l;
    double nx = -dy, ny = dx, L = s * 0.2, W = s * 0.1;
    if (cobra) {
        /* hood: a wide leaf shape behind the head */
        pg_leaf_path(cr, hx - dx * s * 0.45, hy - dy * s * 0.45, hx + dx * s * 0.05, hy + dy * s * 0.05, 0.85, 0);
        c->cur_color = 2;
        pg_shade(c, PG_FILL_AUTO, 0.6, c->look.line);
    }
    /* forked tongue */
    double tx = hx + dx * L * 1.05, ty = hy + dy * L * 1.05;
    cairo_move_to(cr, tx, ty);
    cairo_line_to(cr, tx + dx * L * 0.6, ty + dy * L * 0.6);
    cairo_line_to(cr, tx + dx * L * 0.85 + nx * L * 0.15, ty + dy * L * 0.85 + ny * L * 0.15);
    cairo_move_to(cr, tx + dx * L * 0.6, ty + dy * L * 0.6);
    cairo_line_to(cr, tx + dx * L * 0.85 - nx * L * 0.15, ty + dy * L * 0.85 - ny * L * 0.15);
    cairo_set_source_rgba(cr, 0.75, 0.1, 0.1, 1);
    cairo_set_line_width(cr, pg_px(c, c->look.fine * 1.1) * c->stroke_scale);
    if (c->look.ncolors)
        cairo_stroke(cr);
    else
        pg_stroke(c, c->look.fine * 1.1);
    /* head: wide at the jaw, rounded at the snout */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, hx - dx * L * 0.6 + nx * W * 0.8, hy - dy * L * 0.6 + ny * W * 0.8);
    cairo_curve_to(cr, hx + nx * W * 1.3, hy + ny * W * 1.3, hx + dx * L * 0.7 + nx * W * 0.9,
                   hy + dy * L * 0.7 + ny * W * 0.9, hx + dx * L, hy + dy * L);
    cairo_curve_to(cr, hx + dx * L * 0.7 - nx * W * 0.9, hy + dy * L * 0.7 - ny * W * 0.9,
                   hx - nx * W * 1.3, hy - ny * W * 1.3, hx - dx * L * 0.6 - nx * W * 0.8,
                   hy - dy * L * 0.6 - ny * W * 0.8);
    cairo_close_path(cr);
    c->cur_color = 2;
    pg_shade(c, PG_FILL_AUTO, 0.55, c->look.line);
    /* eyes and a scale line between them */
    for (int sd = -1; sd <= 1; sd += 2) {
        double ex = hx + dx * L * 0.25 + sd * nx * W * 0.62, ey = hy + dy * L * 0.25 + sd * ny * W * 0.62;
        pg_circle(cr, ex, ey, W * 0.28);
        c->cur_color = 1;
        pg_shade(c, c->look.ncolors ? PG_FILL_COLOR : PG_FILL_OUTLINE, 0.1, c->look.fine);
        pg_circle(cr, ex, ey, W * 0.12);
        pg_fill_black(c);
    }
    cairo_move_to(cr, hx - dx * L * 0.3, hy - dy * L * 0.3);
    cairo_line_to(cr, hx + dx * L * 0.6, hy + dy * L * 0.6);
    if (c->look.fill == PG_FILL_SOLID)
        pg_cut(c, c->look.fine * 0.8);
    else
        pg_stroke(c, c->look.fine * 0.8);
}

void pg_motif_snake(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    pg_body b;
    int kind = (int)(pg_style_bits(c, 0x5AA) % 3);
    if (PG_HAS(c, PG_H_OUROBOROS))
        kind = SN_RING;
    int pattern = (int)(pg_style_bits(c, 0x5A7) % 3);
    int cobra = PG_HAS(c, PG_H_COBRA) || (kind == SN_COIL && (pg_style_bits(c, 0xC0B) & 1));
    spine(c, &b, kind, s);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    /* chunks from tail to head */
    int chunk = 12;
    c->cur_color = 2;
    for (int i1 = b.n - 1; i1 > 0; i1 -= chunk) {
        int i0 = i1 - chunk < 0 ? 0 : i1 - chunk;
        pg_body_path(cr, &b, i0, i1 + (i1 < b.n - 1 ? 1 : 0));
        pg_shade(c, PG_FILL_AUTO, 0.5, 0);
        /* pattern on this chunk */
        for (int i = i0; i <= i1; i++) {
            if (pattern == 0 && i % 6 == 0) { /* belly plates */
                double w = b.w[i];
                cairo_move_to(cr, b.x[i] + b.nx[i] * w * 0.95, b.y[i] + b.ny[i] * w * 0.95);
                cairo_curve_to(cr, b.x[i] + b.nx[i] * w * 0.3 + b.ny[i] * w * 0.25,
                               b.y[i] + b.ny[i] * w * 0.3 - b.nx[i] * w * 0.25,
                               b.x[i] - b.nx[i] * w * 0.3 + b.ny[i] * w * 0.25,
                               b.y[i] - b.ny[i] * w * 0.3 - b.nx[i] * w * 0.25,
                               b.x[i] - b.nx[i] * w * 0.95, b.y[i] - b.ny[i] * w * 0.95);
            } else if (pattern == 1 && i % 10 == 0 && i + 5 < b.n) { /* diamonds on the back */
                double w = b.w[i + 2] * 0.7;
                cairo_move_to(cr, b.x[i], b.y[i]);
                cairo_line_to(cr, b.x[i + 2] + b.nx[i + 2] * w, b.y[i + 2] + b.ny[i + 2] * w);
                cairo_line_to(cr, b.x[i + 5], b.y[i + 5]);
                cairo_line_to(cr, b.x[i + 2] - b.nx[i + 2] * w, b.y[i + 2] - b.ny[i + 2] * w);
                cairo_close_path(cr);
            } else if (pattern == 2 && i % 16 == 0 && i + 5 < b.n) { /* bands */
                pg_body_path(cr, &b, i, i + 5);
            }
        }
        if (pattern == 0) {
            if (c->look.fill == PG_FILL_SOLID)
                pg_cut(c, c->look.fine);
            else
                pg_stroke(c, c->look.fine);
        } else if (c->look.fill == PG_FILL_SOLID) {
            pg_knockout(c);
            cairo_new_path(cr);
        } else {
            c->cur_color = 0;
            if (c->look.ncolors) {
                pg_paint_color(c, 0, 0.95);
                cairo_fill_preserve(cr);
                pg_stroke(c, c->look.fine * 0.7);
            } else {
                pg_fill_black(c);
            }
            c->cur_color = 2;
        }
        pg_body_sides(cr, &b, i0, i1 + (i1 < b.n - 1 ? 1 : 0));
        pg_stroke(c, c->look.line * 0.8);
    }
    head(c, &b, s, cobra);
    cairo_restore(cr);
}
