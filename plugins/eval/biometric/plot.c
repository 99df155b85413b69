/* Charts on cairo. Series are thinned to the points that move on screen
 * (curves over 10^8 scores would otherwise make megabyte SVGs). */
#include "plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 720
#define H 480
#define ML 80.0  /* margins: left, right, top, bottom */
#define MR 24.0
#define MT 44.0
#define MB 64.0

/* Acklam's rational approximation of the normal quantile, then one
 * Halley step on erfc: ample for placing points on a DET plot. */
double bm_probit(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (p <= 0)
        return -INFINITY;
    if (p >= 1)
        return INFINITY;
    double q, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2)) - p, u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

typedef struct frame {
    const bm_chart *c;
    double tx0, tx1, ty0, ty1; /* transformed ranges */
} frame;

static double tr(bm_axis a, double v)
{
    if (a != BM_AXIS_PROBIT)
        return v;
    /* Rates of exactly 0 or 1 sit at the edge of the shown range. */
    if (v < 1e-6)
        v = 1e-6;
    if (v > 1 - 1e-6)
        v = 1 - 1e-6;
    return bm_probit(v);
}

static double px(const frame *f, double x)
{
    return ML + (tr(f->c->xaxis, x) - f->tx0) / (f->tx1 - f->tx0) * (W - ML - MR);
}

static double py(const frame *f, double y)
{
    return H - MB - (tr(f->c->yaxis, y) - f->ty0) / (f->ty1 - f->ty0) * (H - MT - MB);
}

static void text(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
#ifdef BM_NO_FONTS
    /* Sanitizer builds: no fontconfig (see CMakeLists.txt). */
    (void)cr, (void)x, (void)y, (void)s, (void)ax, (void)ay;
    return;
#endif
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - te.width * ax - te.x_bearing, y - te.height * ay - te.y_bearing);
    cairo_show_text(cr, s);
}

/* Tick values for an axis: decimal steps on linear axes, the usual
 * percentages on probit axes. */
static size_t ticks(bm_axis a, double lo, double hi, double *t, size_t cap)
{
    size_t n = 0;
    if (a == BM_AXIS_PROBIT) {
        static const double v[] = {1e-5, 1e-4, 1e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8,
                                   0.9, 0.95, 0.99};
        for (size_t i = 0; i < sizeof v / sizeof v[0] && n < cap; i++)
            if (v[i] >= lo * 0.999 && v[i] <= hi * 1.001)
                t[n++] = v[i];
        return n;
    }
    double span = hi - lo, step = pow(10, floor(log10(span / 5)));
    if (span / step > 12)
        step *= 5;
    else if (span / step > 6)
        step *= 2;
    for (double v = ceil(lo / step) * step; v <= hi + step * 1e-9 && n < cap; v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

static void tick_label(bm_axis a, double v, char *buf, size_t n)
{
    if (a == BM_AXIS_PROBIT)
        snprintf(buf, n, "%g%%", v * 100);
    else
        snprintf(buf, n, "%g", v);
}

static void draw(cairo_t *cr, const bm_chart *c, const bm_series *s, size_t ns)
{
    frame f = {c, tr(c->xaxis, c->x0), tr(c->xaxis, c->x1), tr(c->yaxis, c->y0),
               tr(c->yaxis, c->y1)};
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
#ifndef BM_NO_FONTS
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
#endif

    /* grid and tick labels */
    double t[32];
    char lab[32];
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    size_t n = ticks(c->xaxis, c->x0, c->x1, t, 32);
    for (size_t i = 0; i < n; i++) {
        double x = px(&f, t[i]);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, MT);
        cairo_line_to(cr, x, H - MB);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        tick_label(c->xaxis, t[i], lab, sizeof lab);
        text(cr, x, H - MB + 8, lab, 0.5, 0);
    }
    n = ticks(c->yaxis, c->y0, c->y1, t, 32);
    for (size_t i = 0; i < n; i++) {
        double y = py(&f, t[i]);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, ML, y);
        cairo_line_to(cr, W - MR, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        tick_label(c->yaxis, t[i], lab, sizeof lab);
        text(cr, ML - 8, y, lab, 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
    cairo_stroke(cr);
    if (c->diagonal) {
        double lo = fmax(c->x0, c->y0), hi = fmin(c->x1, c->y1);
        double dash = 4;
        cairo_set_dash(cr, &dash, 1, 0);
        cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
        cairo_move_to(cr, px(&f, lo), py(&f, lo));
        for (int k = 1; k <= 50; k++) {
            double v = lo + (hi - lo) * k / 50;
            cairo_line_to(cr, px(&f, v), py(&f, v));
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }

    /* series, clipped to the frame */
    cairo_save(cr);
    cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
    cairo_clip(cr);
    cairo_set_line_width(cr, 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t k = 0; k < ns; k++) {
        const bm_series *se = &s[k];
        if (!se->n)
            continue;
        cairo_set_source_rgb(cr, se->r, se->g, se->b);
        /* Keep a point only when it moves a third of a pixel: a curve of
         * millions of thresholds becomes a few thousand segments. */
        double lx = 0, ly = 0;
        for (size_t i = 0; i < se->n; i++) {
            double x = px(&f, se->x[i]), y = py(&f, se->y[i]);
            if (i == 0) {
                cairo_move_to(cr, x, y);
            } else if (i + 1 < se->n && fabs(x - lx) + fabs(y - ly) < 0.33) {
                continue;
            } else if (se->steps) {
                cairo_line_to(cr, x, ly);
                cairo_line_to(cr, x, y);
            } else {
                cairo_line_to(cr, x, y);
            }
            lx = x;
            ly = y;
        }
        cairo_stroke(cr);
    }
    cairo_restore(cr);

    /* titles and legend */
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_font_size(cr, 16);
    text(cr, W / 2.0, 14, c->title, 0.5, 0);
    cairo_set_font_size(cr, 13);
    text(cr, ML + (W - ML - MR) / 2, H - 22, c->xlabel, 0.5, 0.5);
    cairo_save(cr);
    cairo_translate(cr, 20, MT + (H - MT - MB) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text(cr, 0, 0, c->ylabel, 0.5, 0.5);
    cairo_restore(cr);
    cairo_set_font_size(cr, 12);
    size_t nl = 0;
    for (size_t k = 0; k < ns; k++)
        nl += s[k].label != NULL;
    double ly = c->legend_low ? H - MB - 10 - 18.0 * (double)nl + 14 : MT + 14;
    for (size_t k = 0; k < ns; k++) {
        if (!s[k].label)
            continue;
        cairo_set_source_rgb(cr, s[k].r, s[k].g, s[k].b);
        cairo_rectangle(cr, W - MR - 190, ly - 5, 18, 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text(cr, W - MR - 166, ly - 3, s[k].label, 0, 0.5);
        ly += 18;
    }
}

typedef struct membuf {
    unsigned char *d;
    size_t n, cap;
    int failed;
} membuf;

static cairo_status_t sink(void *ctx, const unsigned char *data, unsigned int len)
{
    membuf *m = ctx;
    if (m->n + len > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 65536) + len;
        unsigned char *d = realloc(m->d, cap);
        if (!d) {
            m->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        m->d = d;
        m->cap = cap;
    }
    memcpy(m->d + m->n, data, len);
    m->n += len;
    return CAIRO_STATUS_SUCCESS;
}

int bm_plot(const bm_chart *c, const bm_series *s, size_t ns, int svg, unsigned char **out,
            size_t *len)
{
    membuf m = {0};
    cairo_surface_t *surf = svg ? cairo_svg_surface_create_for_stream(sink, &m, W, H)
                                : cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surf);
    draw(cr, c, s, ns);
    int bad = cairo_status(cr) != CAIRO_STATUS_SUCCESS;
    cairo_destroy(cr);
    if (!svg && !bad)
        bad = cairo_surface_write_to_png_stream(surf, sink, &m) != CAIRO_STATUS_SUCCESS;
    cairo_surface_finish(surf);
    bad |= cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS || m.failed;
    cairo_surface_destroy(surf);
    if (bad) {
        free(m.d);
        return -1;
    }
    *out = m.d;
    *len = m.n;
    return 0;
}
