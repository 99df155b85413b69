/* From prompt features to a plan: the main subject, a second one, the
 * layout and the look (line weights, shading, palette). Every choice here
 * uses the style generator, seeded from the prompt alone, so one prompt
 * keeps its style across seeds while the seed varies the details. */
#include <math.h>
#include <string.h>
#include "pg.h"

/* How often each subject appears when the prompt names none: roughly how
 * common it is in tattoo flash. */
static const double subject_prior[PG_S_COUNT] = {
    [PG_S_MANDALA] = 1.2, [PG_S_TRIBAL] = 0.7, [PG_S_GEOMETRIC] = 1.0, [PG_S_ROSE] = 1.2,
    [PG_S_FLOWER] = 1.0, [PG_S_LOTUS] = 0.7, [PG_S_BRANCH] = 0.8, [PG_S_SNAKE] = 1.0,
    [PG_S_WOLF] = 0.9, [PG_S_CAT] = 0.8, [PG_S_BIRD] = 0.9, [PG_S_KOI] = 0.6,
    [PG_S_BUTTERFLY] = 0.9, [PG_S_SPIDER] = 0.4, [PG_S_SKULL] = 1.0, [PG_S_DAGGER] = 0.7,
    [PG_S_HEART] = 0.7, [PG_S_ANCHOR] = 0.5, [PG_S_EYE] = 0.7, [PG_S_COMPASS] = 0.6,
    [PG_S_CELESTIAL] = 1.0, [PG_S_WAVE] = 0.5, [PG_S_MOUNTAIN] = 0.6, [PG_S_FEATHER] = 0.6,
    [PG_S_LETTERING] = 0.4, [PG_S_KNOT] = 0.4,
};

/* Which styles suit a subject when the prompt names no style. */
static void look_prior(pg_subject s, double *w)
{
    static const double base[PG_L_COUNT] = {
        [PG_L_BLACKWORK] = 1.0, [PG_L_FINELINE] = 1.2, [PG_L_DOTWORK] = 0.9,
        [PG_L_GEOMETRIC] = 0.5, [PG_L_TRIBAL] = 0.0, [PG_L_TRADITIONAL] = 1.0,
        [PG_L_NEOTRAD] = 0.6, [PG_L_SKETCH] = 0.5, [PG_L_WATERCOLOR] = 0.4,
        [PG_L_JAPANESE] = 0.2, [PG_L_MINIMAL] = 0.6, [PG_L_ORNAMENTAL] = 0.4,
        [PG_L_TRASHPOLKA] = 0.25, [PG_L_ENGRAVING] = 0.6,
    };
    memcpy(w, base, sizeof base);
    switch (s) {
    case PG_S_MANDALA:
        w[PG_L_DOTWORK] = 2.5; w[PG_L_ORNAMENTAL] = 2; w[PG_L_TRADITIONAL] = 0.1;
        w[PG_L_NEOTRAD] = 0.1; w[PG_L_SKETCH] = 0.1; w[PG_L_ENGRAVING] = 0.1;
        break;
    case PG_S_TRIBAL:
        memset(w, 0, sizeof base);
        w[PG_L_TRIBAL] = 1;
        break;
    case PG_S_GEOMETRIC:
        w[PG_L_GEOMETRIC] = 3; w[PG_L_DOTWORK] = 1.5; w[PG_L_TRADITIONAL] = 0.1;
        w[PG_L_NEOTRAD] = 0.1; w[PG_L_ENGRAVING] = 0.1;
        break;
    case PG_S_KOI: case PG_S_WAVE:
        w[PG_L_JAPANESE] = 2.5;
        break;
    case PG_S_LETTERING:
        w[PG_L_DOTWORK] = 0.2; w[PG_L_ENGRAVING] = 0.1; w[PG_L_WATERCOLOR] = 0.2;
        break;
    case PG_S_KNOT:
        w[PG_L_ORNAMENTAL] = 1.5; w[PG_L_BLACKWORK] = 2;
        break;
    case PG_S_SKULL: case PG_S_DAGGER: case PG_S_ANCHOR: case PG_S_HEART:
        w[PG_L_TRADITIONAL] = 2.2; w[PG_L_TRASHPOLKA] = 0.6; w[PG_L_ENGRAVING] = 1;
        break;
    case PG_S_ROSE:
        w[PG_L_TRADITIONAL] = 2; w[PG_L_NEOTRAD] = 1.2;
        break;
    case PG_S_WOLF: case PG_S_CAT:
        w[PG_L_GEOMETRIC] = 1.5; w[PG_L_ENGRAVING] = 1.2;
        break;
    default:
        break;
    }
}

static int argmax(const double *w, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++)
        if (w[i] > w[b])
            b = i;
    return b;
}

/* Layout weights for a subject and look. */
static void layout_prior(const pg_plan *p, const pg_features *f, double *w)
{
    for (int i = 0; i < PG_LAYOUT_COUNT; i++)
        w[i] = 0;
    pg_subject s = p->main;
    pg_lookid l = p->look.id;
    w[PG_LAYOUT_SINGLE] = 3;
    w[PG_LAYOUT_FRAMED] = 1;
    w[PG_LAYOUT_VERTICAL] = 1;
    w[PG_LAYOUT_COMBO] = 1.5;
    w[PG_LAYOUT_BANNER] = 0.5;
    w[PG_LAYOUT_SCATTER] = 0.2;
    if (l == PG_L_GEOMETRIC || l == PG_L_DOTWORK)
        w[PG_LAYOUT_FRAMED] += 2;
    if (l == PG_L_TRADITIONAL || l == PG_L_NEOTRAD)
        w[PG_LAYOUT_BANNER] += 1.5, w[PG_LAYOUT_COMBO] += 1;
    if (l == PG_L_ORNAMENTAL || l == PG_L_FINELINE)
        w[PG_LAYOUT_VERTICAL] += 1.5;
    if (l == PG_L_MINIMAL)
        w[PG_LAYOUT_SCATTER] += 3, w[PG_LAYOUT_COMBO] = 0.3, w[PG_LAYOUT_BANNER] = 0;
    switch (s) {
    case PG_S_MANDALA:
        w[PG_LAYOUT_SINGLE] = 4; w[PG_LAYOUT_VERTICAL] = 2; w[PG_LAYOUT_BAND] = 1;
        w[PG_LAYOUT_FRAMED] = 0.3; w[PG_LAYOUT_COMBO] = 0; w[PG_LAYOUT_BANNER] = 0;
        w[PG_LAYOUT_SCATTER] = 0;
        break;
    case PG_S_TRIBAL:
        w[PG_LAYOUT_SINGLE] = 4; w[PG_LAYOUT_BAND] = 2; w[PG_LAYOUT_FRAMED] = 0;
        w[PG_LAYOUT_VERTICAL] = 0; w[PG_LAYOUT_COMBO] = 0; w[PG_LAYOUT_BANNER] = 0;
        w[PG_LAYOUT_SCATTER] = 0;
        break;
    case PG_S_GEOMETRIC: case PG_S_KNOT:
        w[PG_LAYOUT_BAND] = 1.5; w[PG_LAYOUT_COMBO] = 0; w[PG_LAYOUT_BANNER] = 0;
        w[PG_LAYOUT_FRAMED] = s == PG_S_KNOT ? 1 : 0.3;
        break;
    case PG_S_LETTERING:
        w[PG_LAYOUT_SINGLE] = 5; w[PG_LAYOUT_FRAMED] = 0.3; w[PG_LAYOUT_VERTICAL] = 0;
        w[PG_LAYOUT_COMBO] = 0; w[PG_LAYOUT_BANNER] = 0; w[PG_LAYOUT_SCATTER] = 0;
        break;
    case PG_S_FEATHER: case PG_S_KOI: case PG_S_BRANCH: case PG_S_DAGGER: case PG_S_BIRD:
        w[PG_LAYOUT_RADIAL] = 0.8;
        break;
    case PG_S_CELESTIAL:
        w[PG_LAYOUT_SCATTER] += 1.2;
        break;
    default:
        break;
    }
    if (s == PG_S_TRIBAL && ((f->hints >> PG_H_FLAME) & 1))
        w[PG_LAYOUT_BAND] = 0;
    if (f->subj[PG_S_LETTERING] > 0 && s != PG_S_LETTERING)
        w[PG_LAYOUT_BANNER] += 6;
}

/* A second subject that goes with the first, as flash sheets pair them. */
static pg_subject companion(pg_subject s, pg_rng *r)
{
    static const pg_subject with_rose[] = { PG_S_DAGGER, PG_S_SKULL, PG_S_SNAKE, PG_S_HEART, PG_S_BUTTERFLY };
    static const pg_subject with_flowers[] = { PG_S_ROSE, PG_S_FLOWER, PG_S_BRANCH };
    static const pg_subject behind_round[] = { PG_S_MANDALA, PG_S_CELESTIAL, PG_S_GEOMETRIC };
    switch (s) {
    case PG_S_ROSE: return with_rose[pg_rint(r, 5)];
    case PG_S_SKULL: case PG_S_HEART: case PG_S_ANCHOR: case PG_S_EYE:
        return pg_chance(r, 0.5) ? PG_S_DAGGER : with_flowers[pg_rint(r, 3)];
    case PG_S_SNAKE: return pg_chance(r, 0.5) ? PG_S_DAGGER : PG_S_ROSE;
    case PG_S_LOTUS: return behind_round[pg_rint(r, 2)];
    case PG_S_WOLF: case PG_S_CAT: case PG_S_BIRD: case PG_S_SPIDER:
        return pg_chance(r, 0.5) ? behind_round[pg_rint(r, 3)] : with_flowers[pg_rint(r, 3)];
    case PG_S_KOI: return PG_S_WAVE;
    case PG_S_BUTTERFLY: case PG_S_FEATHER: return with_flowers[pg_rint(r, 3)];
    case PG_S_COMPASS: return pg_chance(r, 0.5) ? PG_S_MOUNTAIN : PG_S_ROSE;
    case PG_S_CELESTIAL: return pg_chance(r, 0.5) ? PG_S_FLOWER : PG_S_EYE;
    case PG_S_DAGGER: return pg_chance(r, 0.5) ? PG_S_ROSE : PG_S_SNAKE;
    case PG_S_MOUNTAIN: case PG_S_WAVE: return PG_S_CELESTIAL;
    default: return behind_round[pg_rint(r, 3)];
    }
}

static pg_rgb rgb(double r, double g, double b) { return (pg_rgb){ r, g, b }; }

static void make_palette(pg_plan *p, const pg_features *f, const pg_options *opt, pg_rng *r)
{
    pg_look *L = &p->look;
    int mode = opt->color;
    if (mode == PG_COLOR_AUTO) {
        switch (L->id) {
        case PG_L_TRADITIONAL: case PG_L_NEOTRAD: case PG_L_JAPANESE: case PG_L_WATERCOLOR:
            mode = f->mono ? PG_COLOR_NONE : PG_COLOR_FULL;
            break;
        case PG_L_TRASHPOLKA:
            mode = PG_COLOR_ACCENT;
            break;
        default:
            mode = f->colorful ? PG_COLOR_FULL : f->nhues ? PG_COLOR_ACCENT : PG_COLOR_NONE;
            break;
        }
    }
    L->ncolors = 0;
    if (mode == PG_COLOR_NONE)
        return;
    /* palettes of the styles; the roles are fixed so motifs can ask for
     * them: 0 lead (red), 1 warm accent (yellow), 2 green (leaves), 3 blue
     * (water, sky) */
    pg_rgb pal[4];
    switch (L->id) {
    case PG_L_JAPANESE:
        pal[0] = rgb(0.78, 0.14, 0.12); pal[1] = rgb(0.93, 0.62, 0.12);
        pal[2] = rgb(0.2, 0.5, 0.35); pal[3] = rgb(0.12, 0.33, 0.62);
        break;
    case PG_L_WATERCOLOR: {
        static const pg_rgb wc[6] = { { 0.25, 0.55, 0.85 }, { 0.85, 0.3, 0.55 }, { 0.55, 0.3, 0.8 },
                                      { 0.15, 0.7, 0.65 }, { 0.95, 0.55, 0.2 }, { 0.9, 0.8, 0.2 } };
        int o = pg_rint(r, 6);
        for (int i = 0; i < 4; i++)
            pal[i] = wc[(o + i * 2) % 6];
        break;
    }
    case PG_L_TRASHPOLKA:
        pal[0] = rgb(0.8, 0.08, 0.08); pal[1] = pal[0]; pal[2] = pal[0]; pal[3] = pal[0];
        break;
    case PG_L_NEOTRAD:
        pal[0] = rgb(0.62, 0.12, 0.22); pal[1] = rgb(0.85, 0.6, 0.25);
        pal[2] = rgb(0.22, 0.45, 0.42); pal[3] = rgb(0.2, 0.32, 0.5);
        break;
    default: /* American traditional */
        pal[0] = rgb(0.8, 0.12, 0.1); pal[1] = rgb(0.96, 0.72, 0.12);
        pal[2] = rgb(0.15, 0.5, 0.22); pal[3] = rgb(0.1, 0.4, 0.65);
        break;
    }
    /* colours named in the prompt take the lead */
    for (int i = 0; i < f->nhues && i < 4; i++)
        pal[i] = f->hue[i];
    if (f->nhues == 1 && L->id != PG_L_TRASHPOLKA && L->id != PG_L_TRADITIONAL &&
        L->id != PG_L_NEOTRAD && L->id != PG_L_JAPANESE)
        mode = PG_COLOR_ACCENT;
    L->ncolors = mode == PG_COLOR_ACCENT ? 1 : 4;
    memcpy(L->color, pal, sizeof pal);
}

static void make_look(pg_plan *p, const pg_features *f, const pg_options *opt, pg_rng *r)
{
    pg_look *L = &p->look;
    double weight = f->weight, det = 0.5 + 0.35 * f->detail + pg_rrange(r, -0.15, 0.15);
    L->light = pg_rrange(r, -M_PI, M_PI);
    L->sketch = 0;
    L->watercolor = 0;
    L->dot = 2.2;
    switch (L->id) {
    case PG_L_BLACKWORK:
        L->line = pg_rrange(r, 7, 11); L->fine = 3; L->fill = PG_FILL_SOLID; break;
    case PG_L_FINELINE:
        L->line = pg_rrange(r, 2, 3.2); L->fine = 1.5; L->dot = 1.5;
        L->fill = pg_chance(r, 0.6) ? PG_FILL_OUTLINE : PG_FILL_STIPPLE; break;
    case PG_L_DOTWORK:
        L->line = pg_rrange(r, 3, 5.5); L->fine = 2; L->fill = PG_FILL_STIPPLE;
        L->dot = pg_rrange(r, 1.8, 3.0); break;
    case PG_L_GEOMETRIC:
        L->line = pg_rrange(r, 2.5, 5); L->fine = 1.8;
        L->fill = pg_chance(r, 0.5) ? PG_FILL_STIPPLE : pg_chance(r, 0.5) ? PG_FILL_SOLID : PG_FILL_OUTLINE;
        break;
    case PG_L_TRIBAL:
        L->line = pg_rrange(r, 8, 12); L->fine = 4; L->fill = PG_FILL_SOLID; break;
    case PG_L_TRADITIONAL:
        L->line = pg_rrange(r, 9, 13); L->fine = 4; L->fill = PG_FILL_COLOR; break;
    case PG_L_NEOTRAD:
        L->line = pg_rrange(r, 6, 9); L->fine = 3; L->fill = PG_FILL_COLOR; break;
    case PG_L_SKETCH:
        L->line = pg_rrange(r, 2, 3.5); L->fine = 1.4; L->fill = PG_FILL_HATCH;
        L->sketch = 1 + pg_rint(r, 2); break;
    case PG_L_WATERCOLOR:
        L->line = pg_rrange(r, 2.5, 4.5); L->fine = 1.6; L->fill = PG_FILL_OUTLINE;
        L->watercolor = 1; break;
    case PG_L_JAPANESE:
        L->line = pg_rrange(r, 8, 11); L->fine = 3.5; L->fill = PG_FILL_COLOR; break;
    case PG_L_MINIMAL:
        L->line = pg_rrange(r, 2.2, 3.5); L->fine = 1.8; L->fill = PG_FILL_OUTLINE;
        det = 0.15; break;
    case PG_L_ORNAMENTAL:
        L->line = pg_rrange(r, 3, 5); L->fine = 2; L->fill = pg_chance(r, 0.6) ? PG_FILL_STIPPLE : PG_FILL_SOLID;
        L->dot = 2.0; break;
    case PG_L_TRASHPOLKA:
        L->line = pg_rrange(r, 6, 10); L->fine = 3;
        L->fill = pg_chance(r, 0.5) ? PG_FILL_SOLID : PG_FILL_HATCH; break;
    case PG_L_ENGRAVING:
    default:
        L->line = pg_rrange(r, 3, 5); L->fine = 1.5; L->fill = PG_FILL_HATCH; break;
    }
    if (L->id != PG_L_MINIMAL && L->id != PG_L_FINELINE)
        L->line *= 1 + 0.35 * weight;
    else if (weight > 0)
        L->line *= 1 + 0.3 * weight;
    L->detail = det < 0.05 ? 0.05 : det > 1 ? 1 : det;
    make_palette(p, f, opt, r);
    if (L->ncolors == 0 && L->fill == PG_FILL_COLOR)
        L->fill = PG_FILL_WASH;
    /* black and grey styles get a colour pack when colour is asked for */
    if (L->ncolors > 0 && opt->color == PG_COLOR_FULL &&
        (L->fill == PG_FILL_STIPPLE || L->fill == PG_FILL_HATCH || L->fill == PG_FILL_WASH))
        L->watercolor = 1;
}

void pg_plan_make(const pg_features *f, const pg_options *opt, pg_rng *r, pg_plan *p)
{
    memset(p, 0, sizeof *p);
    double w[PG_S_COUNT];
    double best = 0;
    for (int i = 0; i < PG_S_COUNT; i++)
        best = f->subj[i] > best ? f->subj[i] : best;
    if (best > 0) {
        /* the strongest subjects compete, weaker mentions become companions */
        for (int i = 0; i < PG_S_COUNT; i++)
            w[i] = f->subj[i] >= best * 0.9 ? f->subj[i] : 0;
        if (f->subj[PG_S_LETTERING] > 0 && best > f->subj[PG_S_LETTERING] - 1e-9) {
            /* lettering next to a picture goes on a banner instead */
            int other = 0;
            for (int i = 0; i < PG_S_COUNT; i++)
                other |= i != PG_S_LETTERING && f->subj[i] > 0;
            if (other)
                w[PG_S_LETTERING] = 0;
            if (other && argmax(w, PG_S_COUNT) == PG_S_LETTERING)
                w[PG_S_LETTERING] = 0;
        }
        p->main = (pg_subject)pg_rpick(r, w, PG_S_COUNT);
        if (w[p->main] <= 0)
            p->main = (pg_subject)argmax(f->subj, PG_S_COUNT);
    } else {
        p->main = (pg_subject)pg_rpick(r, subject_prior, PG_S_COUNT);
    }
    /* companion: the next subject the prompt names, else a classic pairing */
    double w2[PG_S_COUNT];
    memcpy(w2, f->subj, sizeof w2);
    w2[p->main] = 0;
    w2[PG_S_LETTERING] = 0;
    p->second = argmax(w2, PG_S_COUNT) != (int)p->main && w2[argmax(w2, PG_S_COUNT)] > 0
                    ? (pg_subject)argmax(w2, PG_S_COUNT)
                    : companion(p->main, r);

    double lw[PG_L_COUNT];
    double lbest = 0;
    for (int i = 0; i < PG_L_COUNT; i++)
        lbest = f->look[i] > lbest ? f->look[i] : lbest;
    if (lbest > 0) {
        for (int i = 0; i < PG_L_COUNT; i++)
            lw[i] = f->look[i] >= lbest * 0.85 ? f->look[i] : 0;
    } else {
        look_prior(p->main, lw);
    }
    if (p->main == PG_S_TRIBAL && lbest <= 0)
        lw[PG_L_TRIBAL] = 1;
    p->look.id = (pg_lookid)pg_rpick(r, lw, PG_L_COUNT);
    make_look(p, f, opt, r);

    double ly[PG_LAYOUT_COUNT];
    layout_prior(p, f, ly);
    if (f->subj[p->second] > 0 && p->second != PG_S_LETTERING && ly[PG_LAYOUT_COMBO] > 0)
        ly[PG_LAYOUT_COMBO] += 6; /* the prompt asked for both */
    p->layout = pg_rpick(r, ly, PG_LAYOUT_COUNT);
    p->variant = pg_rng_u64(r);
}
