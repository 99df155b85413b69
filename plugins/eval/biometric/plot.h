/* Small line charts on cairo (PNG or SVG into memory) for the report:
 * enough axes, ticks and legends for DET, ROC, CMC, histograms and error
 * rates against threshold; nothing more general. */
#ifndef BM_PLOT_H
#define BM_PLOT_H

#include <stddef.h>

typedef struct bm_series {
    const double *x, *y;
    size_t n;
    const char *label;
    double r, g, b;
    int steps; /* draw as a staircase (histograms, CMC) */
} bm_series;

typedef enum bm_axis { BM_AXIS_LINEAR = 0, BM_AXIS_PROBIT = 1 } bm_axis;

typedef struct bm_chart {
    const char *title, *xlabel, *ylabel;
    double x0, x1, y0, y1; /* data range shown (probit axes: rates) */
    bm_axis xaxis, yaxis;
    int diagonal;          /* draw y = x (EER line on a DET) */
    int legend_low;        /* legend in the lower right (curves that fill the top) */
} bm_chart;

/* Renders a 720 x 480 chart. On success *out (malloc'd) holds the PNG or
 * SVG bytes. Returns 0, or non-zero on failure (cairo or memory). */
int bm_plot(const bm_chart *c, const bm_series *s, size_t ns, int svg, unsigned char **out,
            size_t *len);

/* A thumbnail of an 8-bit RGBA image (w x h, rows packed) scaled down to
 * fit box x box (never up), by area averaging in linear light with
 * premultiplied alpha, as PNG bytes (*png malloc'd); an opaque image gives
 * an RGB PNG. *tw, *th (may be NULL) receive its size. Returns 0, or -1 on
 * bad arguments, cairo failure or no memory. */
int bm_thumb_png(const unsigned char *rgba, int w, int h, int box, unsigned char **png,
                 size_t *len, int *tw, int *th);

/* The standard normal quantile (probit), for DET axes. */
double bm_probit(double p);

#endif
