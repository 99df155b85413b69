/* Internal interface of the procedural tattoo renderer (prefix pg_).
 *
 * Coordinates: every motif draws on a design canvas of W x H pixels; sizes
 * that should look the same at any resolution are written in "units" of a
 * 1024-pixel canvas and multiplied by ctx->u. */
#ifndef PG_H
#define PG_H

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>
#include "pg_render.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- randomness (rng.c) --------------------------------------------- */

/* xoshiro256**: small, fast and the same on every platform, unlike rand(). */
typedef struct pg_rng { uint64_t s[4]; } pg_rng;

uint64_t pg_mix64(uint64_t x);
uint64_t pg_hash_bytes(const void *data, size_t n, uint64_t h);
void pg_rng_seed(pg_rng *r, uint64_t seed);
uint64_t pg_rng_u64(pg_rng *r);
double pg_rnd(pg_rng *r);                       /* [0, 1) */
double pg_rrange(pg_rng *r, double lo, double hi);
int pg_rint(pg_rng *r, int n);                  /* [0, n); 0 when n <= 0 */
int pg_chance(pg_rng *r, double p);
double pg_rnormal(pg_rng *r);
/* Index drawn with probability proportional to w[i] (w >= 0); 0 if all 0. */
int pg_rpick(pg_rng *r, const double *w, int n);

/* ---- what the prompt asks for (prompt_features.c) ------------------- */

typedef enum pg_subject {
    PG_S_MANDALA, PG_S_TRIBAL, PG_S_GEOMETRIC, PG_S_ROSE, PG_S_FLOWER,
    PG_S_LOTUS, PG_S_BRANCH, PG_S_SNAKE, PG_S_WOLF, PG_S_CAT, PG_S_BIRD,
    PG_S_KOI, PG_S_BUTTERFLY, PG_S_SPIDER, PG_S_SKULL, PG_S_DAGGER,
    PG_S_HEART, PG_S_ANCHOR, PG_S_EYE, PG_S_COMPASS, PG_S_CELESTIAL,
    PG_S_WAVE, PG_S_MOUNTAIN, PG_S_FEATHER, PG_S_LETTERING, PG_S_KNOT,
    PG_S_COUNT
} pg_subject;

typedef enum pg_lookid {
    PG_L_BLACKWORK, PG_L_FINELINE, PG_L_DOTWORK, PG_L_GEOMETRIC, PG_L_TRIBAL,
    PG_L_TRADITIONAL, PG_L_NEOTRAD, PG_L_SKETCH, PG_L_WATERCOLOR,
    PG_L_JAPANESE, PG_L_MINIMAL, PG_L_ORNAMENTAL, PG_L_TRASHPOLKA,
    PG_L_ENGRAVING, PG_L_COUNT
} pg_lookid;

/* Specific words that pick a variant inside a motif family. */
typedef enum pg_hint {
    PG_H_PEONY, PG_H_DAISY, PG_H_BLOSSOM, PG_H_SUNFLOWER, PG_H_POPPY, PG_H_TULIP,
    PG_H_OLIVE, PG_H_FERN, PG_H_LAVENDER, PG_H_EUCALYPTUS, PG_H_FOX, PG_H_LION,
    PG_H_TIGER, PG_H_PANTHER, PG_H_EAGLE, PG_H_SWALLOW, PG_H_RAVEN, PG_H_PHOENIX,
    PG_H_DOVE, PG_H_MOTH, PG_H_MOON, PG_H_SUN, PG_H_STAR, PG_H_SWORD, PG_H_DRAGON,
    PG_H_OUROBOROS, PG_H_COBRA, PG_H_WEB, PG_H_ARROW, PG_H_DREAMCATCHER,
    PG_H_TRIANGLE, PG_H_HEXAGON, PG_H_CUBE, PG_H_POLYNESIAN, PG_H_FLAME,
    PG_H_PINE, PG_H_INFINITY, PG_H_SACRED, PG_H_HUMMINGBIRD, PG_H_SCORPION, PG_H_HORUS, PG_H_WINGS, PG_H_DEER, PG_H_BEAR, PG_H_OWL, PG_H_BEE, PG_H_TRIQUETRA, PG_H_VALKNUT, PG_H_PLANET,
    PG_H_COUNT
} pg_hint;

_Static_assert(PG_H_COUNT <= 64, "hints live in one 64-bit mask");
#define PG_HAS(c, h) (((c)->f->hints >> (h)) & 1u)

typedef struct pg_rgb { double r, g, b; } pg_rgb;

#define PG_MAX_HUES 6
#define PG_TEXT_MAX 24

typedef struct pg_features {
    double subj[PG_S_COUNT];   /* evidence for each subject */
    double look[PG_L_COUNT];   /* evidence for each style */
    pg_rgb hue[PG_MAX_HUES];   /* colours named in the prompt, in order */
    int nhues;
    int colorful;              /* "colorful", "vibrant", ... */
    int mono;                  /* "black", "blackwork", "grey", ... */
    double detail;             /* -1 (minimal) .. +1 (intricate) */
    double weight;             /* -1 (fine) .. +1 (bold) */
    int body;                  /* a body part was named */
    char text[PG_TEXT_MAX];    /* words to letter, upper case, may be "" */
    uint64_t hash;             /* of the normalised prompt */
    uint64_t hints;            /* bit set of pg_hint */
} pg_features;

void pg_features_parse(const char *prompt, pg_features *f);
const char *pg_subject_name(pg_subject s);
const char *pg_look_name(pg_lookid l);

/* ---- drawing context (draw.c) --------------------------------------- */

typedef enum pg_fill {
    PG_FILL_AUTO = -1, PG_FILL_OUTLINE = 0, PG_FILL_SOLID, PG_FILL_STIPPLE,
    PG_FILL_HATCH, PG_FILL_WASH, PG_FILL_COLOR
} pg_fill;

typedef struct pg_look {
    pg_lookid id;
    double line;      /* main outline width in units */
    double fine;      /* detail line width in units */
    pg_fill fill;     /* how closed shapes are shaded */
    int sketch;       /* extra jittered passes of each stroke */
    int watercolor;   /* soft colour washes under the lines */
    int ncolors;      /* 0: black and grey only */
    pg_rgb color[4];
    double light;     /* direction the light comes from, radians */
    double detail;    /* 0..1 */
    double dot;       /* stipple dot radius in units */
} pg_look;

typedef struct pg_ctx {
    cairo_t *cr;
    pg_rng rng;          /* the seed's randomness: details only */
    double W, H, u;      /* design canvas and unit (min(W,H)/1024) */
    double stroke_scale;
    double density;      /* user detail multiplier */
    pg_look look;
    const pg_features *f;
    int cur_color;       /* palette index the next COLOR fill uses */
    char text[PG_TEXT_MAX];
} pg_ctx;

/* Bits that depend on the prompt only: choices a motif keeps across seeds
 * (which font, which variant of a wolf). */
static inline uint64_t pg_style_bits(const pg_ctx *c, uint64_t salt)
{
    return pg_mix64(c->f->hash ^ pg_mix64(salt));
}

/* Widths and radii in units -> pixels. */
static inline double pg_px(const pg_ctx *c, double units) { return units * c->u; }

void pg_ink(pg_ctx *c, double alpha);               /* black source */
void pg_paint_color(pg_ctx *c, int idx, double alpha); /* palette colour (grey if none) */
/* Strokes the current path (consumed) in black, `w` units wide (scaled by
 * stroke_scale); sketch looks add jittered passes. */
void pg_stroke(pg_ctx *c, double w);
void pg_stroke_keep(pg_ctx *c, double w);
/* Removes ink under the current path (kept), so shapes drawn later hide
 * those drawn before: painter's-order occlusion on the transparent layer. */
void pg_knockout(pg_ctx *c);
/* Clears a stroke of width w units along the current path (consumed):
 * negative-space lines cut into solid black. */
void pg_cut(pg_ctx *c, double w);
void pg_fill_black(pg_ctx *c);                      /* fill (consume) */
void pg_dot(pg_ctx *c, double x, double y, double r_units);
void pg_circle(cairo_t *cr, double x, double y, double r);
/* Catmull-Rom spline through n points (x,y pairs), as Bezier segments. If
 * `move` is 0 the curve continues the current path. */
void pg_smooth(cairo_t *cr, const double *xy, int n, int closed, int move);
/* Closed outline from the right half (x >= 0) of a symmetric shape given top
 * to bottom, mirrored; the shape is scaled by (sx, sy) around (cx, cy). */
void pg_mirror(cairo_t *cr, const double *half, int n, double cx, double cy,
               double sx, double sy, int smooth);
/* A leaf/petal: pointed ends at base and tip, `wid` = half-width ratio. */
void pg_leaf_path(cairo_t *cr, double x0, double y0, double x1, double y1,
                  double wid, double bend);

/* ---- shading (shading.c) -------------------------------------------- */

/* Shades the current path (consumed) as a closed region: knocks out what is
 * below, fills it as `mode` says (PG_FILL_AUTO: the look's), with `tone` in
 * 0..1 (how dark it should read), then outlines it `outline` units wide
 * (0: none). */
void pg_shade(pg_ctx *c, pg_fill mode, double tone, double outline);
/* Dots whose density follows `tone` and the light, clipped to the current
 * path (kept). */
void pg_stipple(pg_ctx *c, double tone);
void pg_hatch(pg_ctx *c, double tone, double angle);
void pg_wash(pg_ctx *c, double tone);

/* ---- motifs (motif_*.c) --------------------------------------------- */

/* Every motif draws around (x, y) within roughly radius s, rotated by rot. */
typedef void (*pg_motif_fn)(pg_ctx *c, double x, double y, double s, double rot);

void pg_motif_mandala(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_tribal(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_geometric(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_rose(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_flower(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_lotus(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_branch(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_snake(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_wolf(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_cat(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_bird(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_koi(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_butterfly(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_spider(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_skull(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_dagger(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_heart(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_anchor(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_eye(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_compass(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_celestial(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_wave(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_mountain(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_feather(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_lettering(pg_ctx *c, double x, double y, double s, double rot);
void pg_motif_knot(pg_ctx *c, double x, double y, double s, double rot);

/* Small accents used by compositions (motif_ornament.c). */
void pg_orn_star(pg_ctx *c, double x, double y, double r, int points, double inner);
void pg_orn_sparkle(pg_ctx *c, double x, double y, double r);
void pg_orn_leaf(pg_ctx *c, double x, double y, double len, double ang);
void pg_orn_dangle(pg_ctx *c, double x, double y, double len, double ang);
void pg_orn_dots_arc(pg_ctx *c, double x, double y, double r, double a0,
                     double a1, int n, double dr);
void pg_orn_frame(pg_ctx *c, double x, double y, double s, int kind);
void pg_orn_splatter(pg_ctx *c, double x, double y, double s);
void pg_orn_watercolor(pg_ctx *c, double x, double y, double s);

/* ---- lettering (font.c) --------------------------------------------- */

typedef enum pg_font_style {
    PG_FONT_BLOCK, PG_FONT_SCRIPT, PG_FONT_GOTHIC, PG_FONT_OUTLINE,
    PG_FONT_FINE, PG_FONT_COUNT
} pg_font_style;

/* Width of `text` in glyph units (cap height = 10). */
double pg_text_width(const char *text);
/* Draws `text` centred at (x, y) with cap height `h` pixels; when `arc` is
 * non-zero the baseline follows a circle of that radius (positive: centre
 * below the text). */
void pg_text(pg_ctx *c, const char *text, double x, double y, double h,
             pg_font_style st, double arc);

/* ---- composition and backgrounds ------------------------------------ */

enum {
    PG_LAYOUT_SINGLE, PG_LAYOUT_FRAMED, PG_LAYOUT_VERTICAL, PG_LAYOUT_COMBO,
    PG_LAYOUT_BANNER, PG_LAYOUT_SCATTER, PG_LAYOUT_BAND, PG_LAYOUT_RADIAL,
    PG_LAYOUT_COUNT
};

typedef struct pg_plan {
    pg_subject main, second;
    int layout;
    pg_look look;
    uint64_t variant;   /* style-level choices inside the layout */
} pg_plan;

const char *pg_layout_name(int layout);

void pg_plan_make(const pg_features *f, const pg_options *opt, pg_rng *style_rng,
                  pg_plan *p);
void pg_compose(pg_ctx *c, const pg_plan *p);
pg_motif_fn pg_motif_for(pg_subject s);

/* Skin: composite the premultiplied ARGB32 ink layer onto skin into rgb. */
void pg_skin_composite(const uint32_t *ink, int iw, int ih, int istride,
                       unsigned char *rgb, size_t stride, int w, int h,
                       pg_rng *r, double u, char *desc, size_t desc_size);
void pg_paper_composite(const uint32_t *ink, int istride, unsigned char *rgb,
                        size_t stride, int w, int h, pg_rng *r);
/* Box-blurs a premultiplied ARGB32 buffer in place, `passes` times. */
void pg_blur_argb(uint32_t *px, int w, int h, int stride_px, int radius, int passes);

#endif
