/* Drawing helpers shared by the motifs: ink, strokes, knockouts and smooth
 * paths. Everything is drawn onto a transparent ink layer; the background
 * (paper or skin) is added afterwards, so "white" details are made by
 * removing ink (CAIRO_OPERATOR_DEST_OUT), never by painting white. */
#include <math.h>
#include <stdlib.h>
#include "pg.h"

void pg_ink(pg_ctx *c, double alpha) { cairo_set_source_rgba(c->cr, 0.02, 0.02, 0.025, alpha); }

void pg_paint_color(pg_ctx *c, int idx, double alpha)
{
    if (c->look.ncolors <= 0) {
        /* no colour allowed: a mid grey wash stands in for it */
        cairo_set_source_rgba(c->cr, 0.05, 0.05, 0.06, alpha * 0.35);
        return;
    }
    pg_rgb k = c->look.color[((idx % c->look.ncolors) + c->look.ncolors) % c->look.ncolors];
    cairo_set_source_rgba(c->cr, k.r, k.g, k.b, alpha);
}

static double stroke_px(const pg_ctx *c, double w)
{
    double px = w * c->u * c->stroke_scale;
    return px < 0.6 ? 0.6 : px;
}

/* Re-traces a flattened path with a little wobble: the hand of a sketch. */
static void jitter_path(pg_ctx *c, cairo_path_t *path, double amp)
{
    cairo_t *cr = c->cr;
    double ox = pg_rrange(&c->rng, -amp, amp), oy = pg_rrange(&c->rng, -amp, amp);
    for (int i = 0; i < path->num_data; i += path->data[i].header.length) {
        cairo_path_data_t *d = &path->data[i];
        double jx = ox + pg_rrange(&c->rng, -amp, amp) * 0.5;
        double jy = oy + pg_rrange(&c->rng, -amp, amp) * 0.5;
        switch (d->header.type) {
        case CAIRO_PATH_MOVE_TO: cairo_move_to(cr, d[1].point.x + jx, d[1].point.y + jy); break;
        case CAIRO_PATH_LINE_TO: cairo_line_to(cr, d[1].point.x + jx, d[1].point.y + jy); break;
        case CAIRO_PATH_CLOSE_PATH: cairo_close_path(cr); break;
        default: break;
        }
    }
}

static void do_stroke(pg_ctx *c, double w, int keep)
{
    cairo_t *cr = c->cr;
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, stroke_px(c, w));
    if (c->look.sketch > 0) {
        cairo_path_t *flat = cairo_copy_path_flat(cr);
        pg_ink(c, 0.8);
        cairo_stroke_preserve(cr);
        cairo_path_t *orig = keep ? cairo_copy_path(cr) : NULL;
        cairo_new_path(cr);
        for (int k = 0; k < c->look.sketch; k++) {
            jitter_path(c, flat, pg_px(c, 2.2 + w * 0.3));
            pg_ink(c, 0.45);
            cairo_set_line_width(cr, stroke_px(c, w * 0.6));
            cairo_stroke(cr);
        }
        cairo_path_destroy(flat);
        if (orig) {
            cairo_append_path(cr, orig);
            cairo_path_destroy(orig);
        }
        return;
    }
    pg_ink(c, 1.0);
    if (keep)
        cairo_stroke_preserve(cr);
    else
        cairo_stroke(cr);
}

void pg_stroke(pg_ctx *c, double w) { do_stroke(c, w, 0); }
void pg_stroke_keep(pg_ctx *c, double w) { do_stroke(c, w, 1); }

void pg_knockout(pg_ctx *c)
{
    cairo_t *cr = c->cr;
    cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    cairo_fill_preserve(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
}

void pg_cut(pg_ctx *c, double w)
{
    cairo_t *cr = c->cr;
    cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, stroke_px(c, w));
    cairo_stroke(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
}

void pg_fill_black(pg_ctx *c)
{
    pg_ink(c, 1.0);
    cairo_fill(c->cr);
}

void pg_circle(cairo_t *cr, double x, double y, double r)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r > 0 ? r : 0.1, 0, 2 * M_PI);
    cairo_close_path(cr);
}

void pg_dot(pg_ctx *c, double x, double y, double r_units)
{
    pg_circle(c->cr, x, y, pg_px(c, r_units));
    pg_fill_black(c);
}

void pg_smooth(cairo_t *cr, const double *xy, int n, int closed, int move)
{
    if (n < 2)
        return;
#define PX(i) xy[2 * (closed ? (((i) % n) + n) % n : ((i) < 0 ? 0 : (i) >= n ? n - 1 : (i)))]
#define PY(i) xy[2 * (closed ? (((i) % n) + n) % n : ((i) < 0 ? 0 : (i) >= n ? n - 1 : (i))) + 1]
    if (move)
        cairo_move_to(cr, xy[0], xy[1]);
    else
        cairo_line_to(cr, xy[0], xy[1]);
    int segs = closed ? n : n - 1;
    for (int i = 0; i < segs; i++) {
        double x0 = PX(i - 1), y0 = PY(i - 1), x1 = PX(i), y1 = PY(i);
        double x2 = PX(i + 1), y2 = PY(i + 1), x3 = PX(i + 2), y3 = PY(i + 2);
        cairo_curve_to(cr, x1 + (x2 - x0) / 6, y1 + (y2 - y0) / 6,
                       x2 - (x3 - x1) / 6, y2 - (y3 - y1) / 6, x2, y2);
    }
    if (closed)
        cairo_close_path(cr);
#undef PX
#undef PY
}

void pg_mirror(cairo_t *cr, const double *half, int n, double cx, double cy,
               double sx, double sy, int smooth)
{
    double buf[2 * 128];
    int m = 0;
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        buf[2 * m] = cx + half[2 * i] * sx;
        buf[2 * m + 1] = cy + half[2 * i + 1] * sy;
        m++;
    }
    for (int i = n - 1; i >= 0; i--) {
        /* points on the axis are shared by both halves */
        if ((i == n - 1 || i == 0) && fabs(half[2 * i]) < 1e-9)
            continue;
        buf[2 * m] = cx - half[2 * i] * sx;
        buf[2 * m + 1] = cy + half[2 * i + 1] * sy;
        m++;
    }
    cairo_new_sub_path(cr);
    if (smooth) {
        pg_smooth(cr, buf, m, 1, 1);
    } else {
        cairo_move_to(cr, buf[0], buf[1]);
        for (int i = 1; i < m; i++)
            cairo_line_to(cr, buf[2 * i], buf[2 * i + 1]);
        cairo_close_path(cr);
    }
}

void pg_leaf_path(cairo_t *cr, double x0, double y0, double x1, double y1,
                  double wid, double bend)
{
    double dx = x1 - x0, dy = y1 - y0;
    double nx = -dy, ny = dx; /* normal, as long as the leaf */
    double a = wid, b = bend;
    cairo_new_sub_path(cr);
    cairo_move_to(cr, x0, y0);
    cairo_curve_to(cr, x0 + dx * 0.25 + nx * (a + b), y0 + dy * 0.25 + ny * (a + b),
                   x0 + dx * 0.75 + nx * (a * 0.8 + b), y0 + dy * 0.75 + ny * (a * 0.8 + b), x1, y1);
    cairo_curve_to(cr, x0 + dx * 0.75 - nx * (a * 0.8 - b), y0 + dy * 0.75 - ny * (a * 0.8 - b),
                   x0 + dx * 0.25 - nx * (a - b), y0 + dy * 0.25 - ny * (a - b), x0, y0);
    cairo_close_path(cr);
}
