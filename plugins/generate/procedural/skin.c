/* Backgrounds: clean paper for flash designs, or skin the way SDXL shows
 * "a tattoo on the forearm": a skin tone with blotches, pores and fine
 * creases, the curvature and soft light of an arm, sometimes the arm's edge
 * against a background, and ink that sits under the skin (multiplied, a
 * little blurred, bled and faded). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "pg.h"

/* ---- blur ------------------------------------------------------------ */

static void box_line(const uint32_t *src, uint32_t *dst, int n, int step, int r)
{
    /* running sums per channel; edges clamp */
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int win = 2 * r + 1;
    uint64_t inv = (1ull << 24) / (uint64_t)win; /* multiply instead of divide */
    for (int i = -r; i <= r; i++) {
        uint32_t p = src[(size_t)(i < 0 ? 0 : i >= n ? n - 1 : i) * step];
        s0 += p & 255; s1 += (p >> 8) & 255; s2 += (p >> 16) & 255; s3 += p >> 24;
    }
    for (int i = 0; i < n; i++) {
        dst[(size_t)i * step] = (uint32_t)((s0 * inv) >> 24) | (uint32_t)((s1 * inv) >> 24) << 8 |
                                (uint32_t)((s2 * inv) >> 24) << 16 | (uint32_t)((s3 * inv) >> 24) << 24;
        int ia = i - r < 0 ? 0 : i - r, ib = i + r + 1 >= n ? n - 1 : i + r + 1;
        uint32_t a = src[(size_t)ia * step], b = src[(size_t)ib * step];
        s0 += (b & 255) - (a & 255);
        s1 += ((b >> 8) & 255) - ((a >> 8) & 255);
        s2 += ((b >> 16) & 255) - ((a >> 16) & 255);
        s3 += (b >> 24) - (a >> 24);
    }
}

/* Vertical box blur done row by row with running column sums, so memory is
 * read in order (a column walk is several times slower). */
static void box_vertical(uint32_t *px, int w, int h, int stride, int r, uint32_t *sums, uint32_t *out_rows)
{
    int win = 2 * r + 1;
    uint64_t inv = (1ull << 24) / (uint64_t)win;
    memset(sums, 0, sizeof(uint32_t) * 4 * (size_t)w);
    for (int i = -r; i <= r; i++) {
        const uint32_t *row = px + (size_t)(i < 0 ? 0 : i >= h ? h - 1 : i) * stride;
        for (int x = 0; x < w; x++) {
            uint32_t p = row[x];
            sums[4 * x] += p & 255;
            sums[4 * x + 1] += (p >> 8) & 255;
            sums[4 * x + 2] += (p >> 16) & 255;
            sums[4 * x + 3] += p >> 24;
        }
    }
    /* out_rows is a ring of r+1 rows: a row may be overwritten only once
     * the window no longer needs its original values */
    int ring = r + 1;
    for (int y = 0; y < h; y++) {
        uint32_t *dst = out_rows + (size_t)(y % ring) * w;
        for (int x = 0; x < w; x++)
            dst[x] = (uint32_t)((sums[4 * x] * inv) >> 24) | (uint32_t)((sums[4 * x + 1] * inv) >> 24) << 8 |
                     (uint32_t)((sums[4 * x + 2] * inv) >> 24) << 16 | (uint32_t)((sums[4 * x + 3] * inv) >> 24) << 24;
        int ya = y - r < 0 ? 0 : y - r, yb = y + r + 1 >= h ? h - 1 : y + r + 1;
        const uint32_t *ra = px + (size_t)ya * stride, *rb = px + (size_t)yb * stride;
        for (int x = 0; x < w; x++) {
            uint32_t a = ra[x], b = rb[x];
            sums[4 * x] += (b & 255) - (a & 255);
            sums[4 * x + 1] += ((b >> 8) & 255) - ((a >> 8) & 255);
            sums[4 * x + 2] += ((b >> 16) & 255) - ((a >> 16) & 255);
            sums[4 * x + 3] += (b >> 24) - (a >> 24);
        }
        /* row y - r is no longer read by any later window */
        if (y - r >= 0) {
            int yo = y - r;
            memcpy(px + (size_t)yo * stride, out_rows + (size_t)(yo % ring) * w, sizeof(uint32_t) * (size_t)w);
        }
    }
    for (int yo = h - r < 0 ? 0 : h - r; yo < h; yo++)
        memcpy(px + (size_t)yo * stride, out_rows + (size_t)(yo % ring) * w, sizeof(uint32_t) * (size_t)w);
}

void pg_blur_argb(uint32_t *px, int w, int h, int stride_px, int radius, int passes)
{
    if (radius < 1 || w < 2 || h < 2)
        return;
    if (radius > h / 2)
        radius = h / 2 > 0 ? h / 2 : 1;
    uint32_t *line = malloc(sizeof(uint32_t) * (size_t)w);
    uint32_t *sums = malloc(sizeof(uint32_t) * 4 * (size_t)w);
    uint32_t *rows = malloc(sizeof(uint32_t) * (size_t)w * (radius + 1));
    if (!line || !sums || !rows)
        goto done;
    for (int p = 0; p < passes; p++) {
        for (int y = 0; y < h; y++) {
            uint32_t *row = px + (size_t)y * stride_px;
            memcpy(line, row, sizeof(uint32_t) * (size_t)w);
            box_line(line, row, w, 1, radius);
        }
        box_vertical(px, w, h, stride_px, radius, sums, rows);
    }
done:
    free(line);
    free(sums);
    free(rows);
}

/* ---- smooth value noise on a coarse lattice ---------------------------- */

typedef struct noise2 {
    int gw, gh;
    float *v;
} noise2;

static int noise_init(noise2 *n, int gw, int gh, pg_rng *r)
{
    n->gw = gw;
    n->gh = gh;
    n->v = malloc(sizeof(float) * (size_t)(gw + 1) * (gh + 1));
    if (!n->v)
        return -1;
    for (int i = 0; i < (gw + 1) * (gh + 1); i++)
        n->v[i] = (float)pg_rrange(r, -1, 1);
    return 0;
}

/* fx, fy in [0,1] */
static float noise_at(const noise2 *n, double fx, double fy)
{
    double x = fx * n->gw, y = fy * n->gh;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x > n->gw - 1e-6) x = n->gw - 1e-6;
    if (y > n->gh - 1e-6) y = n->gh - 1e-6;
    int ix = (int)x, iy = (int)y;
    double tx = x - ix, ty = y - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const float *v = n->v + (size_t)iy * (n->gw + 1) + ix;
    double a = v[0] + (v[1] - v[0]) * tx;
    double b = v[n->gw + 1] + (v[n->gw + 2] - v[n->gw + 1]) * tx;
    return (float)(a + (b - a) * ty);
}

/* ---- ink sampling ------------------------------------------------------ */

static void sample(const uint32_t *ink, int iw, int ih, int stride, double x, double y, double out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    if (x < 0 || y < 0 || x >= iw - 1 || y >= ih - 1)
        return;
    int ix = (int)x, iy = (int)y;
    double tx = x - ix, ty = y - iy;
    const uint32_t *p = ink + (size_t)iy * stride + ix;
    uint32_t q[4] = { p[0], p[1], p[stride], p[stride + 1] };
    double w[4] = { (1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty };
    for (int k = 0; k < 4; k++) {
        if (!q[k])
            continue;
        out[0] += w[k] * ((q[k] >> 16) & 255);
        out[1] += w[k] * ((q[k] >> 8) & 255);
        out[2] += w[k] * (q[k] & 255);
        out[3] += w[k] * (q[k] >> 24);
    }
}

static uint8_t clamp8(double v) { return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5); }

void pg_paper_composite(const uint32_t *ink, int istride, unsigned char *rgb,
                        size_t stride, int w, int h, pg_rng *r)
{
    static const double papers[6][3] = {
        { 255, 255, 255 }, { 255, 255, 255 }, { 255, 255, 255 }, { 252, 251, 249 },
        { 250, 248, 243 }, { 244, 238, 226 }
    };
    const double *bg = papers[pg_rint(r, 6)];
    /* no per-pixel grain: noise is the augmenters' job, and it would make
     * every PNG nearly incompressible (and slow to deflate) */
    for (int y = 0; y < h; y++) {
        const uint32_t *src = ink + (size_t)y * istride;
        unsigned char *dst = rgb + (size_t)y * stride;
        for (int x = 0; x < w; x++) {
            uint32_t p = src[x];
            double a = (p >> 24) / 255.0;
            dst[3 * x + 0] = clamp8(bg[0] * (1 - a) + ((p >> 16) & 255));
            dst[3 * x + 1] = clamp8(bg[1] * (1 - a) + ((p >> 8) & 255));
            dst[3 * x + 2] = clamp8(bg[2] * (1 - a) + (p & 255));
        }
    }
}

static const double skin_tones[][3] = {
    { 242, 214, 196 }, { 231, 190, 163 }, { 214, 165, 132 }, { 196, 142, 106 },
    { 168, 114, 80 }, { 132, 86, 58 }, { 92, 60, 42 },
};

static const double backdrops[][3] = {
    { 40, 40, 44 }, { 210, 205, 198 }, { 120, 128, 140 }, { 230, 226, 220 },
    { 70, 60, 52 }, { 160, 170, 160 },
};

void pg_skin_composite(const uint32_t *ink0, int iw, int ih, int istride,
                       unsigned char *rgb, size_t stride, int w, int h,
                       pg_rng *r, double u, char *desc, size_t desc_size)
{
    double m = w < h ? w : h;
    /* skin tone between two neighbouring anchors */
    int nt = (int)(sizeof skin_tones / sizeof skin_tones[0]);
    double tpos = pg_rrange(r, 0, nt - 1);
    int ti = (int)tpos;
    double tf = tpos - ti;
    double base[3];
    for (int k = 0; k < 3; k++)
        base[k] = skin_tones[ti][k] * (1 - tf) + skin_tones[ti + 1 < nt ? ti + 1 : ti][k] * tf;
    /* the arm: its axis, width, and whether its edges show */
    int vertical = pg_chance(r, 0.6);
    double theta = (vertical ? M_PI / 2 : 0) + pg_rrange(r, -0.45, 0.45);
    int edges = pg_chance(r, 0.5);
    double Rw = edges ? m * pg_rrange(r, 0.36, 0.47) : m * pg_rrange(r, 0.9, 1.5);
    double Rc = Rw * 1.03; /* cylinder radius */
    double z = pg_rrange(r, 1.0, 1.25);
    if (edges && z < 0.42 * m / (0.8 * Rw))
        z = 0.42 * m / (0.8 * Rw);
    double phi = pg_chance(r, 0.35) ? theta - M_PI / 2 : pg_rrange(r, -0.25, 0.25);
    double ax = cos(theta), ay = sin(theta), nx = sin(theta), ny = -cos(theta);
    double ox = w * 0.5 + pg_rrange(r, -0.05, 0.05) * m, oy = h * 0.5 + pg_rrange(r, -0.05, 0.05) * m;
    double cphi = cos(-phi), sphi = sin(-phi);
    double light = pg_rrange(r, -0.7, 0.7); /* where the light hits across the arm */
    double spec = pg_rrange(r, 0.02, 0.09);
    double fade = pg_rrange(r, 0.78, 0.97);
    double wb[3] = { 1 + pg_rrange(r, -0.03, 0.04), 1, 1 + pg_rrange(r, -0.05, 0.03) };
    const double *bd = backdrops[pg_rint(r, (int)(sizeof backdrops / sizeof backdrops[0]))];
    double ink_tint[3] = { pg_rrange(r, 0.1, 0.16), pg_rrange(r, 0.12, 0.18), pg_rrange(r, 0.14, 0.22) };

    /* ink under skin: a little soft, with a faint bleed; the bleed is wide
     * and faint, so it is blurred at half resolution */
    size_t npx = (size_t)istride * ih;
    int hw = iw / 2, hh = ih / 2;
    uint32_t *ink = malloc(sizeof(uint32_t) * npx);
    uint32_t *bleed = malloc(sizeof(uint32_t) * (size_t)(hw > 0 ? hw : 1) * (hh > 0 ? hh : 1));
    if (ink && bleed && hw >= 2 && hh >= 2) {
        memcpy(ink, ink0, sizeof(uint32_t) * npx);
        int br = (int)(u * z * pg_rrange(r, 0.8, 1.6) + 0.5);
        pg_blur_argb(ink, iw, ih, istride, br < 1 ? 1 : br, 2);
        for (int y = 0; y < hh; y++)
            for (int x = 0; x < hw; x++) {
                const uint32_t *p = ink0 + (size_t)(2 * y) * istride + 2 * x;
                uint32_t q[4] = { p[0], p[1], p[istride], p[istride + 1] }, o = 0;
                for (int sh = 0; sh < 32; sh += 8)
                    o |= (((q[0] >> sh & 255) + (q[1] >> sh & 255) + (q[2] >> sh & 255) + (q[3] >> sh & 255) + 2) / 4) << sh;
                bleed[(size_t)y * hw + x] = o;
            }
        int bb = (int)(u * z * pg_rrange(r, 1.5, 3) + 0.5);
        pg_blur_argb(bleed, hw, hh, hw, bb < 1 ? 1 : bb, 2);
    } else {
        free(bleed);
        bleed = NULL;
    }
    const uint32_t *use = ink ? ink : ink0;
    double bleed_k = pg_rrange(r, 0.08, 0.2);

    noise2 blotch = { 0, 0, NULL }, red = { 0, 0, NULL }, fine = { 0, 0, NULL };
    int ok = noise_init(&blotch, 9, 9, r) == 0 && noise_init(&red, 5, 5, r) == 0;
    /* fine skin texture: a lattice of about 6 pixels, per pixel */
    int fine_n = (int)(m / 6) < 8 ? 8 : (int)(m / 6);
    ok = ok && noise_init(&fine, fine_n, fine_n, r) == 0;
    double fine_k = pg_rrange(r, 0.015, 0.035);
    uint64_t ns = pg_rng_u64(r);
    double crease_f = 2 * M_PI / (m * pg_rrange(r, 0.012, 0.025));
    double pores = pg_rrange(r, 0.002, 0.008);
    /* No per-pixel grain: sensor noise is the augmenters' job, and it would
     * make every PNG nearly incompressible and slow to write. Pores stay:
     * they are sparse. */

    /* Everything that depends only on the distance across the arm (surface
     * unwrap, light, highlight) comes from a table at 1/4 pixel steps. */
    int nl = (int)(4 * (Rw + 4)) + 2;
    float *lut = malloc(sizeof(float) * 3 * (size_t)(2 * nl + 1));
    static const int NCR = 1024;
    float crease_lut[1024];
    for (int i = 0; i < NCR; i++) {
        double v = fabs(sin(M_PI * i / NCR)), v2 = v * v, v4 = v2 * v2;
        crease_lut[i] = (float)(1 - 0.03 * v4 * v4 * v4);
    }
    if (lut) {
        for (int i = -nl; i <= nl; i++) {
            double across = i / 4.0, sa = across / Rc;
            if (sa > 0.999) sa = 0.999;
            if (sa < -0.999) sa = -0.999;
            double ang = asin(sa);
            float *e = lut + 3 * (size_t)(i + nl);
            e[0] = (float)(Rc * ang);
            e[1] = (float)(0.62 + 0.38 * cos(ang - light));
            e[2] = (float)(255 * spec * exp(-(ang - light * 0.6) * (ang - light * 0.6) / 0.08));
        }
    }
    double pore_cut = 1 - 2 * pores;

    for (int y = 0; y < h && lut; y++) {
        unsigned char *dst = rgb + (size_t)y * stride;
        double fy = (double)y / h;
        double dy = y - oy;
        /* the blotch noise is smooth: sample it every 8 pixels and interpolate */
        double nbv[2] = { 0, 0 }, nrv[2] = { 0, 0 };
        for (int x = 0; x < w; x++) {
            if ((x & 7) == 0 && ok) {
                double f0 = (double)x / w, f1 = (double)(x + 8) / w;
                nbv[0] = noise_at(&blotch, f0, fy);
                nbv[1] = noise_at(&blotch, f1, fy);
                nrv[0] = noise_at(&red, f0, fy);
                nrv[1] = noise_at(&red, f1, fy);
            }
            double dx = x - ox;
            double along = dx * ax + dy * ay, across = dx * nx + dy * ny;
            double fx = (double)x / w;
            double vig = 1 - 0.56 * ((fx - 0.5) * (fx - 0.5) + (fy - 0.5) * (fy - 0.5));
            double t = fabs(across) / Rw;
            uint64_t hsh = pg_mix64(ns ^ ((uint64_t)(uint32_t)x << 32 | (uint32_t)y));
            double n3 = (double)(hsh >> 48) / 32768.0 - 1;
            double bgc[3];
            for (int k = 0; k < 3; k++)
                bgc[k] = bd[k] * (0.85 + 0.15 * (1 - fy)) * vig;
            if (t >= 1.0 + 2.0 / Rw) {
                for (int k = 0; k < 3; k++)
                    dst[3 * x + k] = clamp8(bgc[k]);
                continue;
            }
            int li = (int)(across * 4 + (across >= 0 ? 0.5 : -0.5)) + nl;
            if (li < 0) li = 0;
            if (li > 2 * nl) li = 2 * nl;
            const float *e = lut + 3 * (size_t)li;
            double us = e[0], lam = e[1], hl = e[2];
            double px = along * ax + us * nx, py = along * ay + us * ny;
            double qx = iw * 0.5 + z * (px * cphi - py * sphi);
            double qy = ih * 0.5 + z * (px * sphi + py * cphi);
            double sm[4], b[4];
            sample(use, iw, ih, istride, qx, qy, sm);
            if (ink && bleed)
                sample(bleed, hw, hh, hw, qx * 0.5 - 0.25, qy * 0.5 - 0.25, b);
            else
                b[0] = b[1] = b[2] = b[3] = 0;
            double a = sm[3] / 255.0 * fade, ab = b[3] / 255.0 * bleed_k;
            double ft = (x & 7) / 8.0;
            double nb = nbv[0] + (nbv[1] - nbv[0]) * ft, nr = nrv[0] + (nrv[1] - nrv[0]) * ft;
            double alb[3] = { base[0] * (1 + 0.05 * nb + 0.03 * nr), base[1] * (1 + 0.05 * nb - 0.01 * nr),
                              base[2] * (1 + 0.05 * nb - 0.02 * nr) };
            /* faint creases across the arm, broken up by the texture noise */
            double tex = ok ? noise_at(&fine, fx, fy) : 0;
            double ph = along * crease_f + 3 * nb + 2.5 * tex;
            int ci = (int)(ph * (NCR / M_PI)) % NCR;
            if (ci < 0)
                ci += NCR;
            double cr = 1 - (1 - crease_lut[ci]) * 0.35 * (1 + nb) + fine_k * tex;
            double pore = n3 > pore_cut ? 0.9 : 1.0;
            double shade = lam * vig * cr * pore;
            double e_edge = (1.0 - t) * Rw / 2.0;
            e_edge = e_edge < 0 ? 0 : e_edge > 1 ? 1 : e_edge;
            double ia = sm[3] > 0 ? 1.0 / sm[3] : 0, ib = b[3] > 0 ? 1.0 / b[3] : 0;
            for (int k = 0; k < 3; k++) {
                /* ink colour (unpremultiplied) multiplies the skin */
                double T = 1;
                if (a > 0)
                    T = 1 - a * (1 - (ink_tint[k] + 0.85 * sm[k] * ia));
                if (ab > 0)
                    T *= 1 - ab * (1 - (ink_tint[k] + 0.85 * b[k] * ib));
                double o = alb[k] * T * wb[k] * shade + hl;
                dst[3 * x + k] = clamp8(o * e_edge + bgc[k] * (1 - e_edge));
            }
        }
    }
    free(lut);
    free(blotch.v);
    free(red.v);
    free(fine.v);
    free(ink);
    free(bleed);
    if (desc)
        snprintf(desc, desc_size,
                 "\"skin\":{\"tone\":[%d,%d,%d],\"arm_angle\":%.3f,\"arm_edges\":%s,\"zoom\":%.3f,\"fade\":%.3f}",
                 (int)base[0], (int)base[1], (int)base[2], theta, edges ? "true" : "false", z, fade);
}
