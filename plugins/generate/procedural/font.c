/* A small single-stroke font, so lettering needs no system fonts (cairo's
 * text API would depend on whatever fontconfig finds, and byte-identical
 * output across machines would be lost). Glyphs are strokes on a grid with
 * cap height 10 (y down, baseline at 10): "~" starts a smooth stroke, "@" a
 * smooth closed one, "|" separates strokes. Styles come from the pen:
 * round (block), an elliptical nib under a rotated CTM (script, gothic), a
 * wide stroke with its middle cut out (outline). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pg.h"

typedef struct glyph { char ch; double w; const char *d; } glyph;

static const glyph glyphs[] = {
    { 'A', 6, "0,10 3,0 6,10|1.1,6.5 4.9,6.5" },
    { 'B', 5.5, "0,0 0,10|~0,0 3.2,0 4.8,1.1 4.8,3.6 3.2,4.8 0,4.8|~0,4.8 3.6,4.8 5.5,6.2 5.5,8.6 3.6,10 0,10" },
    { 'C', 5.8, "~5.8,1.6 4.3,0.1 2.8,0 0.9,1.2 0,5 0.9,8.8 2.8,10 4.3,9.9 5.8,8.4" },
    { 'D', 6, "0,0 0,10|~0,0 2.8,0 5.2,1.8 6,5 5.2,8.2 2.8,10 0,10" },
    { 'E', 5, "5,0 0,0 0,10 5,10|0,4.9 4,4.9" },
    { 'F', 5, "5,0 0,0 0,10|0,4.9 4,4.9" },
    { 'G', 6, "~5.8,1.6 4.3,0.1 2.8,0 0.9,1.2 0,5 0.9,8.8 2.8,10 4.6,9.6 6,8 6,5.6|3.4,5.6 6,5.6" },
    { 'H', 6, "0,0 0,10|6,0 6,10|0,5 6,5" },
    { 'I', 1, "0.5,0 0.5,10" },
    { 'J', 5, "~5,0 5,7 4.3,9.4 2.6,10 0.8,9.4 0,7.6" },
    { 'K', 5.6, "0,0 0,10|5.5,0 0,6.2|1.9,4.3 5.8,10" },
    { 'L', 5, "0,0 0,10 5,10" },
    { 'M', 7, "0,10 0,0 3.5,7 7,0 7,10" },
    { 'N', 6, "0,10 0,0 6,10 6,0" },
    { 'O', 6.4, "@3.2,0 5.5,1.1 6.4,5 5.5,8.9 3.2,10 0.9,8.9 0,5 0.9,1.1" },
    { 'P', 5.5, "0,10 0,0|~0,0 3.4,0 5.2,1.2 5.5,2.8 5.2,4.4 3.4,5.6 0,5.6" },
    { 'Q', 6.4, "@3.2,0 5.5,1.1 6.4,5 5.5,8.9 3.2,10 0.9,8.9 0,5 0.9,1.1|3.9,7.3 6.6,10.6" },
    { 'R', 5.8, "0,10 0,0|~0,0 3.4,0 5.2,1.2 5.5,2.8 5.2,4.4 3.4,5.6 0,5.6|2.9,5.6 5.8,10" },
    { 'S', 5.4, "~5.3,1.4 3.9,0.1 2.4,0 0.7,0.8 0.4,2.6 1.5,4.1 3,4.9 4.7,5.9 5.5,7.7 4.9,9.4 3,10 1.4,9.8 0,8.5" },
    { 'T', 6, "0,0 6,0|3,0 3,10" },
    { 'U', 6, "~0,0 0,7 0.8,9.3 3,10 5.2,9.3 6,7 6,0" },
    { 'V', 6, "0,0 3,10 6,0" },
    { 'W', 8.4, "0,0 2.1,10 4.2,2.5 6.3,10 8.4,0" },
    { 'X', 6, "0,0 6,10|6,0 0,10" },
    { 'Y', 6, "0,0 3,5.2 6,0|3,5.2 3,10" },
    { 'Z', 6, "0,0 6,0 0,10 6,10" },
    { '0', 5.4, "@2.7,0 4.8,1.2 5.4,5 4.8,8.8 2.7,10 0.6,8.8 0,5 0.6,1.2" },
    { '1', 3, "0,2.2 2.4,0 2.4,10" },
    { '2', 5.4, "~0.3,2.2 1.5,0.4 3,0 4.7,0.8 5.2,2.6 4.5,4.6 0,10|0,10 5.4,10" },
    { '3', 5.4, "~0.2,1.5 1.8,0.1 3.3,0 4.9,1.1 4.9,3.3 3.4,4.7 1.8,4.8|~1.8,4.8 3.8,4.9 5.4,6.4 5.2,8.7 3.3,10 1.5,9.9 0,8.5" },
    { '4', 5.6, "4.2,10 4.2,0 0,7 5.6,7" },
    { '5', 5.4, "5,0 0.8,0 0.4,4.6|~0.4,4.6 2.3,3.9 4.2,4.3 5.4,6 5.2,8.6 3.4,10 1.4,9.9 0,8.6" },
    { '6', 5.4, "~4.8,0.6 3.2,0 1.5,0.8 0.3,3.2 0,6 0.6,8.9 2.7,10 4.6,9.2 5.4,7.2 4.6,5.2 2.8,4.5 1,5.2 0.1,6.5" },
    { '7', 5.4, "0,0 5.4,0 1.8,10" },
    { '8', 5.4, "@2.7,0 4.5,0.8 4.7,2.6 3.6,4.2 2.7,4.7 1.1,5.5 0,7.4 0.7,9.4 2.7,10 4.7,9.4 5.4,7.4 4.3,5.5 2.7,4.7 1.8,4.2 0.7,2.6 0.9,0.8" },
    { '9', 5.4, "~5.3,3.5 4.4,4.9 2.6,5.5 0.8,4.8 0,2.8 0.8,0.8 2.7,0 4.6,0.9 5.4,3.5 5.1,6.8 3.8,9.3 2.2,10 0.6,9.4" },
    { '&', 6, "~6,10 1.5,3.8 1.3,1.5 2.6,0 4,0.6 4,2.2 0.7,5.8 0.2,8 1.4,9.7 3.2,9.8 5.8,6.5" },
};

#define SPACE_W 4.0
#define GAP 2.0

static const glyph *find_glyph(char ch)
{
    ch = (char)toupper((unsigned char)ch);
    for (size_t i = 0; i < sizeof glyphs / sizeof glyphs[0]; i++)
        if (glyphs[i].ch == ch)
            return &glyphs[i];
    return NULL;
}

double pg_text_width(const char *text)
{
    double w = 0;
    int n = 0;
    for (const char *p = text; *p; p++) {
        const glyph *g = find_glyph(*p);
        if (g)
            w += g->w, n++;
        else if (*p == ' ')
            w += SPACE_W, n++;
    }
    return n ? w + GAP * (n - 1) : 0;
}

typedef struct placement {
    double x, y, h;  /* centre of the text, cap height in pixels */
    double arc;      /* baseline radius, 0 = straight */
    double slant;    /* italic shear */
    double cond;     /* horizontal squeeze */
    double total;    /* width in glyph units */
} placement;

/* Glyph-grid point (gx, gy) of a glyph whose left edge sits at pen -> user space. */
static void place(const placement *pl, double pen, double gw, double gx, double gy, double *ox, double *oy)
{
    double k = pl->h / 10.0;
    double lx = (pen + (gx + (10 - gy) * pl->slant) * pl->cond - pl->total * pl->cond / 2) * k;
    double ly = (gy - 10) * k; /* negative above the baseline */
    if (pl->arc == 0) {
        *ox = pl->x + lx;
        *oy = pl->y + pl->h / 2 + ly;
        return;
    }
    double R = fabs(pl->arc), sgn = pl->arc > 0 ? 1 : -1;
    double cx = pl->x, cy = pl->y + sgn * R; /* circle centre */
    double rb = R - sgn * pl->h / 2;         /* baseline radius */
    double gc = (pen + gw / 2) * pl->cond * k - pl->total * pl->cond / 2 * k;
    double a = (sgn > 0 ? -M_PI / 2 : M_PI / 2) + sgn * gc / rb;
    double er_x = cos(a), er_y = sin(a);
    double et_x = -sin(a) * sgn, et_y = cos(a) * sgn;
    double dx = lx - gc; /* offset from the glyph's centre along the tangent */
    double up = -ly;     /* height above the baseline */
    double r = rb + sgn * up;
    *ox = cx + er_x * r * (sgn > 0 ? 1 : 1) + et_x * dx;
    *oy = cy + er_y * r + et_y * dx;
}

static void glyph_path(cairo_t *cr, const placement *pl, double pen, const glyph *g)
{
    const char *d = g->d;
    while (*d) {
        int smooth = 0, closed = 0;
        if (*d == '~')
            smooth = 1, d++;
        else if (*d == '@')
            smooth = closed = 1, d++;
        double pts[2 * 32];
        int n = 0;
        while (*d && *d != '|') {
            char *end;
            double gx = strtod(d, &end);
            if (end == d || *end != ',')
                break;
            double gy = strtod(end + 1, &end);
            if (n < 32) {
                place(pl, pen, g->w, gx, gy, &pts[2 * n], &pts[2 * n + 1]);
                n++;
            }
            d = end;
            while (*d == ' ')
                d++;
        }
        if (n >= 2) {
            cairo_new_sub_path(cr);
            if (smooth) {
                pg_smooth(cr, pts, n, closed, 1);
            } else {
                cairo_move_to(cr, pts[0], pts[1]);
                for (int i = 1; i < n; i++)
                    cairo_line_to(cr, pts[2 * i], pts[2 * i + 1]);
            }
        }
        while (*d && *d != '|')
            d++;
        if (*d == '|')
            d++;
    }
}

/* Strokes the current path with an elliptical nib: the CTM is rotated and
 * squashed only while stroking, which cairo uses as the pen's shape. */
static void nib_stroke(pg_ctx *c, double w, double angle, double ratio)
{
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_rotate(cr, angle);
    cairo_scale(cr, 1, ratio);
    cairo_set_line_width(cr, w);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    pg_ink(c, 1);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void pg_text(pg_ctx *c, const char *text, double x, double y, double h, pg_font_style st, double arc)
{
    cairo_t *cr = c->cr;
    placement pl = { x, y, h, arc, 0, 1, pg_text_width(text) };
    if (pl.total <= 0)
        return;
    switch (st) {
    case PG_FONT_SCRIPT: pl.slant = 0.22; pl.cond = 0.95; break;
    case PG_FONT_GOTHIC: pl.cond = 0.82; break;
    case PG_FONT_FINE: pl.slant = 0.15; break;
    default: break;
    }
    double pen = 0;
    for (const char *p = text; *p; p++) {
        const glyph *g = find_glyph(*p);
        if (g) {
            glyph_path(cr, &pl, pen, g);
            pen += g->w + GAP;
        } else if (*p == ' ') {
            pen += SPACE_W + GAP;
        }
    }
    double ss = c->stroke_scale;
    switch (st) {
    case PG_FONT_SCRIPT:
        nib_stroke(c, h * 0.2 * ss, -0.6, 0.32);
        break;
    case PG_FONT_GOTHIC:
        nib_stroke(c, h * 0.26 * ss, M_PI / 4, 0.22);
        break;
    case PG_FONT_OUTLINE: {
        cairo_path_t *path = cairo_copy_path(cr);
        cairo_set_line_width(cr, h * 0.26 * ss);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        pg_ink(c, 1);
        cairo_stroke(cr);
        cairo_append_path(cr, path);
        cairo_path_destroy(path);
        cairo_set_operator(cr, CAIRO_OPERATOR_DEST_OUT);
        cairo_set_line_width(cr, h * 0.12 * ss);
        cairo_set_source_rgba(cr, 0, 0, 0, 1);
        cairo_stroke(cr);
        cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
        break;
    }
    case PG_FONT_FINE:
        cairo_set_line_width(cr, fmax(h * 0.055 * ss, 1.0));
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        pg_ink(c, 1);
        cairo_stroke(cr);
        break;
    default:
        cairo_set_line_width(cr, h * 0.16 * ss);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        pg_ink(c, 1);
        cairo_stroke(cr);
        break;
    }
}
