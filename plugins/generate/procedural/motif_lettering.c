/* Lettering pieces: a word or two in a style that suits the look, with
 * flourishes, side ornaments or an arch. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "pg.h"

static pg_font_style font_for(const pg_ctx *c)
{
    uint64_t b = pg_style_bits(c, 0x1E77);
    switch (c->look.id) {
    case PG_L_TRADITIONAL: case PG_L_TRIBAL: return b & 1 ? PG_FONT_OUTLINE : PG_FONT_BLOCK;
    case PG_L_BLACKWORK: case PG_L_ENGRAVING: return b & 1 ? PG_FONT_GOTHIC : PG_FONT_OUTLINE;
    case PG_L_FINELINE: case PG_L_MINIMAL: return b & 1 ? PG_FONT_FINE : PG_FONT_SCRIPT;
    case PG_L_NEOTRAD: case PG_L_ORNAMENTAL: return b & 1 ? PG_FONT_SCRIPT : PG_FONT_GOTHIC;
    default: return (pg_font_style)(b % PG_FONT_COUNT);
    }
}

/* A calligraphic swash under the text. */
static void swash(pg_ctx *c, double x, double y, double half)
{
    cairo_t *cr = c->cr;
    double k = pg_rrange(&c->rng, 0.05, 0.12) * half;
    cairo_move_to(cr, x - half, y + k);
    cairo_curve_to(cr, x - half * 0.4, y - k * 1.5, x + half * 0.3, y + k * 2, x + half, y - k);
    cairo_curve_to(cr, x + half * 1.08, y - k * 1.6, x + half * 0.9, y - k * 2.4, x + half * 0.82, y - k * 1.2);
    pg_stroke(c, c->look.fine * 1.2);
}

void pg_motif_lettering(pg_ctx *c, double x, double y, double s, double rot)
{
    cairo_t *cr = c->cr;
    pg_font_style st = font_for(c);
    char lines[2][PG_TEXT_MAX];
    int nl = 1;
    snprintf(lines[0], sizeof lines[0], "%s", c->text[0] ? c->text : "LOVE");
    lines[1][0] = 0;
    /* long phrases break at the space nearest the middle */
    if (pg_text_width(lines[0]) > 38) {
        size_t n = strlen(lines[0]), best = 0;
        for (size_t i = 1; i < n; i++)
            if (lines[0][i] == ' ' && (best == 0 || fabs((double)i - n / 2.0) < fabs((double)best - n / 2.0)))
                best = i;
        if (best) {
            snprintf(lines[1], sizeof lines[1], "%s", lines[0] + best + 1);
            lines[0][best] = 0;
            nl = 2;
        }
    }
    double wmax = fmax(pg_text_width(lines[0]), pg_text_width(lines[1]));
    double h = fmin(s * 0.5, 1.9 * s / fmax(wmax, 1) * 10);
    int deco = (int)(pg_style_bits(c, 0xDEC0) % 4);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, rot);
    double arc = 0;
    if (deco == 3 && nl == 1)
        arc = s * pg_rrange(&c->rng, 1.1, 1.6);
    for (int i = 0; i < nl; i++) {
        double ly = (nl == 1 ? 0 : (i ? 0.7 : -0.7) * h * 1.1);
        pg_text(c, lines[i], 0, ly, h, st, arc);
    }
    double half = wmax * h / 10 / 2;
    double below = (nl == 1 ? h * 0.5 : h * 1.35) + h * 0.35;
    switch (deco) {
    case 0:
        swash(c, 0, below, half * 0.9);
        break;
    case 1: /* lines ending in diamonds on both sides */
        for (int sd = -1; sd <= 1; sd += 2) {
            double x0 = sd * (half + h * 0.4), x1 = sd * (half + h * 1.6);
            if (fabs(x1) > s * 1.2)
                x1 = sd * s * 1.2;
            cairo_move_to(cr, x0, 0);
            cairo_line_to(cr, x1, 0);
            pg_stroke(c, c->look.fine);
            cairo_move_to(cr, x1, -h * 0.15);
            cairo_line_to(cr, x1 + sd * h * 0.2, 0);
            cairo_line_to(cr, x1, h * 0.15);
            cairo_line_to(cr, x1 - sd * h * 0.2, 0);
            cairo_close_path(cr);
            pg_fill_black(c);
        }
        break;
    case 2: /* small sparkles and dots around */
        pg_orn_sparkle(c, -half - h * 0.5, -h * 0.6, h * 0.35);
        pg_orn_sparkle(c, half + h * 0.45, below * 0.6, h * 0.25);
        pg_dot(c, half + h * 0.75, -h * 0.5, 4);
        break;
    default: /* under an arch: a small motif below */
        if (arc > 0) {
            double r = s * 0.35;
            pg_orn_dots_arc(c, 0, h * 0.9 + r, r, -M_PI, 0, 11, pg_px(c, 3.5));
            pg_orn_star(c, 0, h * 0.9 + r * 0.6, r * 0.45, 5 + (int)(pg_style_bits(c, 5) % 4), 0.45);
        } else {
            swash(c, 0, below, half);
        }
        break;
    }
    cairo_restore(cr);
}
