/* Compositions: where the motifs go. A single centred piece, a framed
 * badge, a vertical forearm piece with ornaments, a pairing (rose and
 * dagger), a traditional banner, a scatter of small pieces, an armband, or
 * a motif repeated around a centre. */
#include <math.h>
#include <string.h>
#include "pg.h"

static const pg_motif_fn motif_table[PG_S_COUNT] = {
    [PG_S_MANDALA] = pg_motif_mandala, [PG_S_TRIBAL] = pg_motif_tribal,
    [PG_S_GEOMETRIC] = pg_motif_geometric, [PG_S_ROSE] = pg_motif_rose,
    [PG_S_FLOWER] = pg_motif_flower, [PG_S_LOTUS] = pg_motif_lotus,
    [PG_S_BRANCH] = pg_motif_branch, [PG_S_SNAKE] = pg_motif_snake,
    [PG_S_WOLF] = pg_motif_wolf, [PG_S_CAT] = pg_motif_cat, [PG_S_BIRD] = pg_motif_bird,
    [PG_S_KOI] = pg_motif_koi, [PG_S_BUTTERFLY] = pg_motif_butterfly,
    [PG_S_SPIDER] = pg_motif_spider, [PG_S_SKULL] = pg_motif_skull,
    [PG_S_DAGGER] = pg_motif_dagger, [PG_S_HEART] = pg_motif_heart,
    [PG_S_ANCHOR] = pg_motif_anchor, [PG_S_EYE] = pg_motif_eye,
    [PG_S_COMPASS] = pg_motif_compass, [PG_S_CELESTIAL] = pg_motif_celestial,
    [PG_S_WAVE] = pg_motif_wave, [PG_S_MOUNTAIN] = pg_motif_mountain,
    [PG_S_FEATHER] = pg_motif_feather, [PG_S_LETTERING] = pg_motif_lettering,
    [PG_S_KNOT] = pg_motif_knot,
};

static const char *const layout_names[PG_LAYOUT_COUNT] = {
    "single", "framed", "vertical", "combo", "banner", "scatter", "band", "radial"
};

const char *pg_layout_name(int layout)
{
    return layout >= 0 && layout < PG_LAYOUT_COUNT ? layout_names[layout] : "?";
}

pg_motif_fn pg_motif_for(pg_subject s)
{
    return (unsigned)s < PG_S_COUNT ? motif_table[s] : pg_motif_mandala;
}

/* Subjects that are round or fill a disc read well as a backdrop. */
static int is_backdrop(pg_subject s)
{
    return s == PG_S_MANDALA || s == PG_S_CELESTIAL || s == PG_S_GEOMETRIC ||
           s == PG_S_COMPASS || s == PG_S_WAVE || s == PG_S_MOUNTAIN || s == PG_S_KNOT;
}

/* Subjects that still read when drawn small beside the main motif. */
static int is_small_ok(pg_subject s)
{
    return s == PG_S_ROSE || s == PG_S_FLOWER || s == PG_S_BRANCH || s == PG_S_LOTUS ||
           s == PG_S_BUTTERFLY || s == PG_S_BIRD || s == PG_S_HEART || s == PG_S_CELESTIAL ||
           s == PG_S_SKULL || s == PG_S_SPIDER || s == PG_S_EYE;
}

/* A traditional ribbon banner with the text on it, arched by `sag`. */
static void banner(pg_ctx *c, double cx, double y, double half, double h, const char *text)
{
    cairo_t *cr = c->cr;
    double sag = h * 0.9;
    double R = (half * half + sag * sag) / (2 * sag); /* circle through the ends and the top */
    double ox = cx, oy = y + R;                        /* centre below the banner */
    double a0 = -M_PI / 2 - asin(half / R), a1 = -M_PI / 2 + asin(half / R);
    double tail = h * 1.1;
    /* tails: folded ends behind the band, cut in a V */
    for (int side = -1; side <= 1; side += 2) {
        double a = side < 0 ? a0 : a1;
        double ex = ox + R * cos(a), ey = oy + R * sin(a);
        double dx = side * tail, dy = h * 0.55;
        cairo_new_sub_path(cr);
        cairo_move_to(cr, ex - side * h * 0.3, ey - h * 0.5 + dy);
        cairo_line_to(cr, ex + dx, ey - h * 0.5 + dy);
        cairo_line_to(cr, ex + dx - side * h * 0.35, ey + dy);
        cairo_line_to(cr, ex + dx, ey + h * 0.5 + dy);
        cairo_line_to(cr, ex - side * h * 0.3, ey + h * 0.5 + dy);
        cairo_close_path(cr);
        c->cur_color = 0;
        pg_shade(c, PG_FILL_AUTO, 0.8, c->look.line * 0.7);
        /* the fold */
        cairo_move_to(cr, ex, ey - h * 0.5);
        cairo_line_to(cr, ex - side * h * 0.3, ey - h * 0.5 + dy);
        cairo_line_to(cr, ex - side * h * 0.3, ey + h * 0.5 + dy);
        cairo_line_to(cr, ex, ey + h * 0.5);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_SOLID, 1, c->look.line * 0.5);
    }
    cairo_new_sub_path(cr);
    cairo_arc(cr, ox, oy, R + h * 0.5, a0, a1);
    cairo_arc_negative(cr, ox, oy, R - h * 0.5, a1, a0);
    cairo_close_path(cr);
    pg_knockout(c);
    if (c->look.ncolors > 0 && c->look.fill == PG_FILL_COLOR) {
        pg_rgb k = c->look.ncolors > 1 ? c->look.color[1] : (pg_rgb){ 0.97, 0.93, 0.82 };
        cairo_set_source_rgba(cr, k.r, k.g, k.b, 0.9);
        cairo_fill_preserve(cr);
    }
    pg_stroke(c, c->look.line * 0.7);
    pg_text(c, text, ox, oy - R, h * 0.52, c->look.fill == PG_FILL_COLOR ? PG_FONT_BLOCK : PG_FONT_SCRIPT, R);
}

static void vertical_ornament(pg_ctx *c, double x, double y, double len, int dir, int kind)
{
    cairo_t *cr = c->cr;
    switch (kind) {
    case 0: /* dots getting smaller */
        for (int i = 0; i < 6; i++)
            pg_dot(c, x, y + dir * len * (0.1 + i * 0.16), 9.0 - i * 1.3);
        break;
    case 1: /* line ending in a diamond */
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x, y + dir * len * 0.8);
        pg_stroke(c, c->look.fine);
        cairo_move_to(cr, x, y + dir * len * 0.75);
        cairo_line_to(cr, x + len * 0.07, y + dir * len * 0.87);
        cairo_line_to(cr, x, y + dir * len);
        cairo_line_to(cr, x - len * 0.07, y + dir * len * 0.87);
        cairo_close_path(cr);
        pg_shade(c, PG_FILL_SOLID, 1, 0);
        break;
    case 2: /* three dangles in a fan */
        for (int i = -1; i <= 1; i++)
            pg_orn_dangle(c, x + i * len * 0.18, y, len * (i == 0 ? 1 : 0.7), M_PI / 2 * dir + i * 0.25 * dir);
        break;
    default: /* crescent and sparkle */
        pg_orn_sparkle(c, x, y + dir * len * 0.55, len * 0.22);
        pg_orn_dots_arc(c, x, y + dir * len * 0.55, len * 0.38, 0, 2 * M_PI * 11 / 12, 12, pg_px(c, 2.2));
        break;
    }
}

static void band(pg_ctx *c, const pg_plan *p, pg_rng *vr)
{
    cairo_t *cr = c->cr;
    double m = fmin(c->W, c->H), cx = c->W / 2, cy = c->H / 2;
    double x0 = c->W * 0.03, x1 = c->W * 0.97, bh = m * pg_rrange(vr, 0.16, 0.26);
    double y0 = cy - bh / 2, y1 = cy + bh / 2;
    double lw = c->look.line;
    cairo_rectangle(cr, x0, y0 - lw * c->u, x1 - x0, lw * c->u * 0.9);
    cairo_rectangle(cr, x0, y1 + lw * c->u * 0.1, x1 - x0, lw * c->u * 0.9);
    pg_fill_black(c);
    if (p->main == PG_S_MANDALA || p->main == PG_S_KNOT || p->main == PG_S_FLOWER) {
        int n = (int)((x1 - x0) / (bh * 1.15));
        pg_motif_fn fn = pg_motif_for(p->main);
        for (int i = 0; i < n; i++) {
            double x = x0 + (x1 - x0) * (i + 0.5) / n;
            fn(c, x, cy, bh * 0.45, 0);
            if (i + 1 < n)
                pg_dot(c, x + (x1 - x0) / n / 2, cy, 5);
        }
        return;
    }
    /* Polynesian / geometric rows: teeth along both edges and a middle row */
    int rows = 1 + pg_rint(vr, 2);
    double th = bh * (rows == 1 ? 0.3 : 0.22);
    int nt = (int)((x1 - x0) / (th * pg_rrange(vr, 0.7, 1.1)));
    for (int e = 0; e < 2; e++) {
        double yb = e ? y1 : y0, dir = e ? -1 : 1;
        for (int i = 0; i < nt; i++) {
            double a = x0 + (x1 - x0) * i / nt, b = x0 + (x1 - x0) * (i + 1) / nt;
            cairo_move_to(cr, a, yb);
            cairo_line_to(cr, 0.5 * (a + b), yb + dir * th);
            cairo_line_to(cr, b, yb);
            cairo_close_path(cr);
        }
        pg_fill_black(c);
    }
    int mid = pg_rint(vr, 3);
    double mh = bh - 2 * th;
    int nm = (int)((x1 - x0) / (mh * 1.1));
    for (int i = 0; i < nm; i++) {
        double x = x0 + (x1 - x0) * (i + 0.5) / nm, hw = (x1 - x0) / nm * 0.45;
        if (mid == 0) { /* diamonds with a light dot */
            cairo_move_to(cr, x - hw, cy);
            cairo_line_to(cr, x, cy - mh * 0.42);
            cairo_line_to(cr, x + hw, cy);
            cairo_line_to(cr, x, cy + mh * 0.42);
            cairo_close_path(cr);
            pg_fill_black(c);
            pg_circle(cr, x, cy, mh * 0.1);
            pg_knockout(c);
            cairo_new_path(cr);
        } else if (mid == 1) { /* spearheads */
            cairo_move_to(cr, x - hw, cy - mh * 0.3);
            cairo_line_to(cr, x + hw, cy);
            cairo_line_to(cr, x - hw, cy + mh * 0.3);
            cairo_line_to(cr, x - hw * 0.4, cy);
            cairo_close_path(cr);
            pg_fill_black(c);
        } else { /* wave line with dots */
            cairo_move_to(cr, x - hw * 1.1, cy);
            cairo_curve_to(cr, x - hw * 0.5, cy - mh * 0.45, x + hw * 0.5, cy + mh * 0.45, x + hw * 1.1, cy);
            pg_stroke(c, lw * 0.6);
            pg_dot(c, x - hw * 0.5, cy + mh * 0.22, lw * 0.45);
            pg_dot(c, x + hw * 0.5, cy - mh * 0.22, lw * 0.45);
        }
    }
    (void)cx;
}

static void scatter_accents(pg_ctx *c, double cx, double cy, double s, int n)
{
    for (int i = 0; i < n; i++) {
        double a = pg_rrange(&c->rng, 0, 2 * M_PI), d = s * pg_rrange(&c->rng, 1.05, 1.35);
        double x = cx + d * cos(a), y = cy + d * sin(a);
        if (x < c->W * 0.05 || x > c->W * 0.95 || y < c->H * 0.05 || y > c->H * 0.95)
            continue;
        int k = pg_rint(&c->rng, 3);
        if (k == 0)
            pg_orn_sparkle(c, x, y, pg_px(c, pg_rrange(&c->rng, 14, 30)));
        else if (k == 1)
            pg_dot(c, x, y, pg_rrange(&c->rng, 3, 6));
        else
            pg_orn_star(c, x, y, pg_px(c, pg_rrange(&c->rng, 10, 20)), 5, 0.45);
    }
}

void pg_compose(pg_ctx *c, const pg_plan *p)
{
    double m = fmin(c->W, c->H), cx = c->W / 2, cy = c->H / 2;
    pg_rng vr;
    pg_rng_seed(&vr, p->variant);
    pg_motif_fn main = pg_motif_for(p->main), second = pg_motif_for(p->second);
    double s = m * (c->look.id == PG_L_MINIMAL ? 0.27 : 0.4);
    double tilt = pg_rrange(&c->rng, -0.12, 0.12);

    if (c->look.id == PG_L_TRASHPOLKA)
        pg_orn_splatter(c, cx, cy, s * 1.1);

    switch (p->layout) {
    case PG_LAYOUT_FRAMED: {
        int kind = pg_rint(&vr, 8);
        if (pg_chance(&vr, 0.4)) {
            /* a dotwork disc behind the motif */
            pg_circle(c->cr, cx, cy, s * 0.9);
            pg_stipple(c, 0.45);
            cairo_new_path(c->cr);
        }
        pg_orn_frame(c, cx, cy, s * 0.95, kind);
        main(c, cx, cy, s * 0.66, tilt * 0.5);
        break;
    }
    case PG_LAYOUT_VERTICAL: {
        int top = pg_rint(&vr, 4), bottom = pg_rint(&vr, 4);
        double ms = s * 0.72;
        main(c, cx, cy - m * 0.03, ms, 0);
        vertical_ornament(c, cx, cy - m * 0.03 - ms * 1.08, m * 0.2, -1, top);
        vertical_ornament(c, cx, cy - m * 0.03 + ms * 1.08, m * 0.22, 1, bottom);
        break;
    }
    case PG_LAYOUT_COMBO:
        if (p->second == PG_S_DAGGER || p->second == PG_S_FEATHER) {
            double rr = pg_chance(&vr, 0.5) ? pg_rrange(&c->rng, -0.7, -0.35) : pg_rrange(&c->rng, 0.35, 0.7);
            if (pg_chance(&vr, 0.4))
                rr = 0;
            second(c, cx, cy, s * 1.12, rr);
            main(c, cx, cy, s * 0.62, tilt);
        } else if (is_backdrop(p->second)) {
            second(c, cx, cy, s, 0);
            main(c, cx, cy, s * 0.6, tilt);
        } else if (!is_small_ok(p->second)) {
            /* an animal or pattern as companion: a backdrop disc of dots and
             * a ring instead of a tiny copy */
            pg_orn_frame(c, cx, cy, s * 0.92, (int)(p->variant % 8));
            main(c, cx, cy, s * 0.66, tilt);
        } else {
            main(c, cx, cy - m * 0.05, s * 0.78, tilt);
            int both = pg_chance(&vr, 0.6);
            second(c, cx - s * 0.7, cy + s * 0.62, s * 0.36, -0.4);
            if (both)
                second(c, cx + s * 0.72, cy + s * 0.6, s * 0.3, 0.5);
        }
        break;
    case PG_LAYOUT_BANNER:
        main(c, cx, cy - m * 0.08, s * 0.8, tilt);
        banner(c, cx, cy + m * 0.27, m * 0.4, m * 0.1, c->text);
        break;
    case PG_LAYOUT_SCATTER: {
        int n = 2 + pg_rint(&vr, 2);
        double ss = m * 0.16;
        for (int i = 0; i < n; i++) {
            double x = cx + (i - (n - 1) * 0.5) * m * 0.3, y = cy + pg_rrange(&c->rng, -0.06, 0.06) * m;
            (i == n / 2 ? main : (i & 1) ? second : main)(c, x, y, ss * (i == n / 2 ? 1.25 : 0.85),
                                                          pg_rrange(&c->rng, -0.3, 0.3));
        }
        scatter_accents(c, cx, cy, m * 0.3, 3 + pg_rint(&c->rng, 4));
        break;
    }
    case PG_LAYOUT_BAND:
        band(c, p, &vr);
        break;
    case PG_LAYOUT_RADIAL: {
        int n = 5 + pg_rint(&vr, 4);
        double rr = s * 0.55;
        for (int i = 0; i < n; i++) {
            double a = -M_PI / 2 + 2 * M_PI * i / n;
            main(c, cx + rr * cos(a), cy + rr * sin(a), s * 0.42, a + M_PI / 2);
        }
        pg_orn_dots_arc(c, cx, cy, s * 0.2, 0, 2 * M_PI * (2 * n - 1) / (2 * n), 2 * n, pg_px(c, 4));
        pg_dot(c, cx, cy, 10);
        break;
    }
    default: /* PG_LAYOUT_SINGLE */
        main(c, cx, cy, s, p->main == PG_S_LETTERING ? 0 : tilt);
        if (c->look.id == PG_L_FINELINE || c->look.id == PG_L_MINIMAL || c->look.id == PG_L_ORNAMENTAL)
            scatter_accents(c, cx, cy, s, pg_rint(&c->rng, 5));
        break;
    }
    if (c->look.watercolor) {
        /* washes go behind the finished linework (DEST_OVER), so they also
         * show inside shapes whose interiors were knocked out */
        cairo_set_operator(c->cr, CAIRO_OPERATOR_DEST_OVER);
        pg_orn_watercolor(c, cx, cy, s * 1.05);
        cairo_set_operator(c->cr, CAIRO_OPERATOR_OVER);
    }
}
