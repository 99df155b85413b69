/* Tribal: symmetric flame blades in solid black, Polynesian discs of
 * shark teeth, spearheads and waves, and Maori koru spirals. */
#include <math.h>
#include "pg.h"

/* A tapered blade along a cubic spine, filled black. */
static void blade(pg_ctx *c, const double p[8], double w0)
{
    cairo_t *cr = c->cr;
    enum { N = 40 };
    double x[N], y[N], nx[N], ny[N], w[N];
    for (int i = 0; i < N; i++) {
        double t = (double)i / (N - 1), m = 1 - t;
        x[i] = m * m * m * p[0] + 3 * m * m * t * p[2] + 3 * m * t * t * p[4] + t * t * t * p[6];
        y[i] = m * m * m * p[1] + 3 * m * m * t * p[3] + 3 * m * t * t * p[5] + t * t * t * p[7];
        double tx = 3 * m * m * (p[2] - p[0]) + 6 * m * t * (p[4] - p[2]) + 3 * t * t * (p[6] - p[4]);
        double ty = 3 * m * m * (p[3] - p[1]) + 6 * m * t * (p[5] - p[3]) + 3 * t * t * (p[7] - p[5]);
        double l = hypot(tx, ty);
        nx[i] = l > 0 ? -ty / l : 0;
        ny[i] = l > 0 ? tx / l : 1;
        /* swells from a round base then sweeps to a sharp point */
        w[i] = w0 * pow(1 - t, 1.15) * (0.55 + 0.45 * sin(M_PI * fmin(1.0, t * 2.2 + 0.2) / 2));
    }
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x[0] + nx[0] * w[0], y[0] + ny[0] * w[0]);
    for (int i = 1; i < N; i++)
        cairo_line_to(cr, x[i] + nx[i] * w[i], y[i] + ny[i] * w[i]);
    for (int i = N - 1; i >= 0; i--)
        cairo_line_to(cr, x[i] - nx[i] * w[i] * 0.6, y[i] - ny[i] * w[i] * 0.6);
    cairo_close_path(cr);
    pg_fill_black(c);
    pg_circle(cr, x[0], y[0], w[0] * 0.8);
    pg_fill_black(c);
}

/* Blade templates (right side, units of s): a base near the centre line and
 * a sweep that hooks back, like flames or wings; upper, side and lower. */
static const double blade_tpl[3][8] = {
    { 0.06, -0.3, 0.5, -0.25, 0.85, -0.55, 0.5, -1.0 },
    { 0.06, 0.0, 0.55, -0.2, 0.95, 0.05, 1.05, -0.4 },
    { 0.06, 0.3, 0.45, 0.35, 0.8, 0.7, 0.35, 1.0 },
};

static void flames(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    double top = -s * pg_rrange(&c->rng, 0.85, 1.05), bot = s * pg_rrange(&c->rng, 0.75, 1.0);
    /* the central spike */
    cairo_new_sub_path(cr);
    cairo_move_to(cr, 0, top);
    cairo_curve_to(cr, s * 0.22, top * 0.4, s * 0.22, bot * 0.4, 0, bot);
    cairo_curve_to(cr, -s * 0.22, bot * 0.4, -s * 0.22, top * 0.4, 0, top);
    cairo_close_path(cr);
    pg_fill_black(c);
    int nb = 2 + pg_rint(&c->rng, 2) + (c->look.detail > 0.5);
    double params[6][8], ws[6];
    for (int i = 0; i < nb && i < 6; i++) {
        const double *t = blade_tpl[i % 3];
        double k = pg_rrange(&c->rng, 0.8, 1.1), dy = (i / 3) * 0.25;
        for (int j = 0; j < 8; j += 2) {
            params[i][j] = s * (t[j] * k + (j ? pg_rrange(&c->rng, -0.08, 0.08) : 0));
            params[i][j + 1] = s * (t[j + 1] * k + dy + (j ? pg_rrange(&c->rng, -0.08, 0.08) : 0));
        }
        ws[i] = s * pg_rrange(&c->rng, 0.13, 0.2);
    }
    for (int sd = -1; sd <= 1; sd += 2) {
        cairo_save(cr);
        cairo_scale(cr, sd, 1);
        for (int i = 0; i < nb && i < 6; i++) {
            double *p = params[i];
            blade(c, p, ws[i]);
            /* a spike off the outer curve of the blade */
            double q[8] = { p[2], p[3], p[2] + (p[4] - p[2]) * 0.6, p[3] + (p[5] - p[3]) * 0.2 + s * 0.05,
                            p[4], p[5] + s * 0.15, p[4] + s * 0.12, p[5] + s * 0.3 * (p[7] > p[1] ? 1 : -1) };
            if (c->look.detail > 0.3)
                blade(c, q, ws[i] * 0.5);
        }
        cairo_restore(cr);
    }
}

/* A ring of one Polynesian pattern between radii r0 and r1. */
static void poly_ring(pg_ctx *c, double r0, double r1, int kind)
{
    cairo_t *cr = c->cr;
    double h = r1 - r0, rm = 0.5 * (r0 + r1);
    int n = (int)(2 * M_PI * rm / (h * (kind == 0 ? 0.9 : 1.3)));
    if (n < 8)
        n = 8;
    pg_circle(cr, 0, 0, r1);
    pg_stroke(c, c->look.fine * 1.5);
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * i / n, b = 2 * M_PI * (i + 1) / n, m = 0.5 * (a + b);
        switch (kind) {
        case 0: /* shark teeth */
            cairo_move_to(cr, r0 * cos(a), r0 * sin(a));
            cairo_line_to(cr, r1 * cos(m), r1 * sin(m));
            cairo_line_to(cr, r0 * cos(b), r0 * sin(b));
            cairo_close_path(cr);
            break;
        case 1: /* spearheads */
            cairo_move_to(cr, rm * cos(a), rm * sin(a));
            cairo_line_to(cr, (rm + h * 0.4) * cos(m), (rm + h * 0.4) * sin(m));
            cairo_line_to(cr, rm * cos(b), rm * sin(b));
            cairo_line_to(cr, (rm - h * 0.4) * cos(m), (rm - h * 0.4) * sin(m));
            cairo_close_path(cr);
            break;
        default: /* waves: scallops */
            cairo_new_sub_path(cr);
            cairo_arc(cr, r0 * cos(m), r0 * sin(m), h * 0.7, m - M_PI / 2, m + M_PI / 2);
            cairo_close_path(cr);
            break;
        }
    }
    pg_fill_black(c);
}

static void polynesian(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    int rings = 3 + pg_rint(&c->rng, 3);
    double r = s * 0.95, core = s * 0.3;
    double step = (r - core) / rings;
    for (int i = 0; i < rings; i++) {
        poly_ring(c, r - step, r - step * 0.12, (int)((pg_style_bits(c, 0x9017 + i)) % 3));
        r -= step;
    }
    /* a turtle or a sun at the centre */
    pg_circle(cr, 0, 0, core);
    pg_stroke(c, c->look.line);
    if (pg_style_bits(c, 0x7E7) & 1) {
        for (int i = 0; i < 4; i++) {
            double a = M_PI / 4 + i * M_PI / 2;
            pg_leaf_path(cr, core * 0.3 * cos(a), core * 0.3 * sin(a), core * 0.9 * cos(a), core * 0.9 * sin(a), 0.3, 0);
            pg_fill_black(c);
        }
        cairo_new_sub_path(cr);
        cairo_save(cr);
        cairo_scale(cr, core * 0.45, core * 0.55);
        cairo_arc(cr, 0, 0.05, 1, 0, 2 * M_PI);
        cairo_restore(cr);
        pg_fill_black(c);
        pg_circle(cr, 0, -core * 0.7, core * 0.16);
        pg_fill_black(c);
        for (int k = 0; k < 3; k++) {
            cairo_move_to(cr, -core * 0.3, (-0.2 + 0.2 * k) * core);
            cairo_line_to(cr, core * 0.3, (-0.2 + 0.2 * k) * core);
        }
        pg_cut(c, c->look.fine);
    } else {
        pg_orn_star(c, 0, 0, core * 0.85, 8, 0.5);
    }
}

static void koru(pg_ctx *c, double s)
{
    cairo_t *cr = c->cr;
    int n = 2 + pg_rint(&c->rng, 3);
    for (int k = 0; k < n; k++) {
        double a = 2 * M_PI * k / n + pg_rrange(&c->rng, -0.2, 0.2);
        double cx = s * 0.45 * cos(a), cy = s * 0.45 * sin(a), R = s * pg_rrange(&c->rng, 0.35, 0.5);
        double pts[2 * 20];
        for (int i = 0; i < 20; i++) {
            double t = i / 19.0, ang = a + M_PI + t * 2.6 * M_PI, rr = R * (1 - 0.85 * t);
            pts[2 * i] = cx + rr * cos(ang);
            pts[2 * i + 1] = cy + rr * sin(ang);
        }
        /* the stem runs from the centre into the spiral */
        cairo_move_to(cr, 0, 0);
        pg_smooth(cr, pts, 20, 0, 0);
        cairo_path_t *path = cairo_copy_path(cr);
        pg_stroke(c, s / c->u * 0.16);
        cairo_append_path(cr, path);
        pg_cut(c, s / c->u * 0.035);
        cairo_path_destroy(path);
        pg_dot(c, pts[38], pts[39], s / c->u * 0.1);
    }
    pg_dot(c, 0, 0, s / c->u * 0.14);
}

void pg_motif_tribal(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    int kind = (int)(pg_style_bits(c, 0x7B1) % 3);
    if (PG_HAS(c, PG_H_POLYNESIAN))
        kind = (pg_style_bits(c, 0x7B2) & 1) ? 1 : 2;
    else if (PG_HAS(c, PG_H_FLAME))
        kind = 0;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    if (kind == 0)
        flames(c, s);
    else if (kind == 1)
        polynesian(c, s);
    else
        koru(c, s);
    cairo_restore(cr);
}
