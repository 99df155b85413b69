/* report.html: self-contained (no external URL, no script), its tables and
 * units, the strips of the worst searches with thumbnails made from the
 * rows' image paths (ids only when images are missing), the thumbnail
 * resampling itself, and a render in headless Chromium whose screenshot is
 * decoded with the core's image loader and checked for content: text,
 * the plots' colours, the thumbnails, and no console errors. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evhelp.h"
#include "image/image.h"
#include "refrun.h"

#ifdef BM_HAVE_CAIRO
#include "biometric/plot.h"
#endif

/* Runs `aigtatt eval` on DIR/emb.csv with the worst-search strips; returns
 * the report's path (malloc'd); the command's output in *log. */
static char *make_report(const char *dir, const char *extra, char **log)
{
    char *out;
    int st = ev_sh(&out, "cd '%s' && '%s' eval emb.csv --plain --workdir out --set folds=2 "
                   "--set worst_probes=4 --set worst_top_k=3 %s", dir, ev_bin(), extra ? extra : "");
    cr_assert_eq(st, 0, "aigtatt eval failed (%d):\n%s", st, out);
    char *rep = ev_line_after(out, "report:  ");
    cr_assert_not_null(rep, "no report line (is this build without cairo?):\n%s", out);
    if (log)
        *log = out;
    else
        free(out);
    return rep;
}

/* Everything the page loads is inline: no URL, script, stylesheet link or
 * import, and every src is a PNG data URI. */
static void expect_self_contained(const char *html)
{
    static const char *bad[] = {"http:", "https:", "<script", "<link", "@import", "<iframe",
                                "<object", "<embed", "src=\"//", "href=\"//", "file:"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_null(strstr(html, bad[i]), "report.html holds '%s'", bad[i]);
    size_t srcs = ev_count(html, "src=\"");
    cr_expect_gt(srcs, 0);
    cr_expect_eq(ev_count(html, "src=\"data:image/png;base64,iVBORw0KGgo"), srcs,
                 "every src must be an inline PNG");
    /* CSS may not fetch anything either. */
    const char *u = html;
    while ((u = strstr(u, "url(")) != NULL) {
        cr_expect_eq(strncmp(u, "url(data:", 9), 0, "a url() that is not a data URI");
        u += 4;
    }
}

Test(report, is_self_contained_with_units_strips_and_thumbnails, .timeout = 180)
{
    ref_run r;
    ref_begin(&r);
    ev_make_set(r.dir, 24, 1);
    char *rep = make_report(r.dir, NULL, NULL);
    char *html = ev_read(rep);
    cr_assert_not_null(html, "%s", rep);
    expect_self_contained(html);
    /* Tables with explicit units. */
    cr_expect(strstr(html, "<h2>Verification</h2>") && strstr(html, "Closed-set identification") &&
              strstr(html, "Open-set identification"));
    cr_expect_geq(ev_count(html, "<table"), 3);
    cr_expect(strstr(html, "<b>percent</b>") && strstr(html, "<b>fractions</b>"),
              "the units note");
    cr_expect_geq(ev_count(html, "<td class=\"unit\">%</td>"), 10);
    cr_expect_geq(ev_count(html, "cosine similarity in [&minus;1, 1]"), 3);
    cr_expect_eq(ev_count(html, "<figure"), 6, "six plots");
    /* Four strips, one true mate each (candidates are identities), every
     * tile with a thumbnail. */
    cr_expect_eq(ev_count(html, "<div class=\"strip\">"), 4);
    cr_expect_eq(ev_count(html, "<div class=\"tile mate\">"), 4);
    cr_expect_eq(ev_count(html, "&#10003; true mate"), 4);
    cr_expect_eq(ev_count(html, "<div class=\"tile probe\">"), 4);
    size_t tiles = ev_count(html, "<div class=\"tile ");
    cr_expect(tiles >= 4 * 4 && tiles <= 4 * 5, "%zu tiles", tiles);
    cr_expect_eq(ev_count(html, "class=\"noimg\""), 0, "every image was found");
    cr_expect_eq(ev_count(html, "<img width="), tiles);

    /* metrics.json lists the same searches, worst first. */
    char p[1200];
    snprintf(p, sizeof p, "%.*s/metrics.json", (int)(strrchr(rep, '/') - rep), rep);
    json_error_t je;
    json_t *m = json_load_file(p, 0, &je);
    cr_assert_not_null(m, "%s: %s", p, je.text);
    json_t *w = json_object_get(json_object_get(m, "closed_set"), "worst_searches");
    cr_assert_eq(json_array_size(w), 4);
    json_int_t prev_rank = 1 << 30;
    double prev_score = -INFINITY;
    for (size_t i = 0; i < 4; i++) {
        json_t *o = json_array_get(w, i);
        json_int_t rk = json_integer_value(json_object_get(o, "mate_rank"));
        double sc = json_number_value(json_object_get(o, "mate_score"));
        cr_expect(rk < prev_rank || (rk == prev_rank && sc >= prev_score),
                  "search %zu (rank %lld, score %g) is not in worst-first order", i, (long long)rk,
                  sc);
        prev_rank = rk;
        prev_score = sc;
        json_t *c = json_object_get(o, "candidates");
        cr_expect_eq(json_array_size(c), 3);
        for (size_t k = 0; k < json_array_size(c); k++) {
            int mate = json_is_true(json_object_get(json_array_get(c, k), "is_mate"));
            cr_expect_eq(mate, (json_int_t)k + 1 == rk, "search %zu, candidate %zu", i, k);
        }
        const char *pid = json_string_value(json_object_get(o, "identity"));
        const char *mid = json_string_value(json_object_get(json_object_get(o, "mate"), "identity"));
        cr_expect_str_eq(pid, mid);
        /* The strip names the probe. */
        cr_expect_not_null(strstr(html, json_string_value(json_object_get(o, "id"))));
    }
    json_decref(m);
    free(html);
    free(rep);
    ref_end(&r);
}

Test(report, shows_ids_when_images_are_missing, .timeout = 120)
{
    ref_run r;
    ref_begin(&r);
    ev_make_set(r.dir, 16, 0); /* paths only, no files */
    char *log;
    char *rep = make_report(r.dir, NULL, &log);
    char *html = ev_read(rep);
    cr_assert_not_null(html);
    expect_self_contained(html);
    size_t tiles = ev_count(html, "<div class=\"tile ");
    cr_expect_geq(tiles, 16);
    cr_expect_eq(ev_count(html, "<span class=\"noimg\">"), tiles);
    cr_expect_eq(ev_count(html, "<img width="), 0);
    cr_expect_not_null(strstr(html, "img/T0"), "the ids are shown");
    cr_expect(strstr(log, "could not be read, shown by id only") != NULL, "%s", log);
    free(log);
    free(html);
    free(rep);
    /* worst_probes: 0 leaves the strips out. */
    ev_sh(NULL, "rm -rf '%s/out'", r.dir);
    rep = make_report(r.dir, "--set worst_probes=0", NULL);
    html = ev_read(rep);
    cr_assert_not_null(html);
    cr_expect_eq(ev_count(html, "<div class=\"strip\">"), 0);
    free(html);
    free(rep);
    ref_end(&r);
}

/* Writes DIR/emb.csv whose labels fight the embeddings: rows alternate
 * between two tight clusters, and each identity holds one row of each, so
 * genuine pairs are less alike than most impostor pairs. */
static void make_reversed_set(const char *dir)
{
    char text[4096];
    size_t n = 0;
    uint64_t s = 3;
    n += (size_t)snprintf(text + n, sizeof text - n, "path,label,f1,f2,f3\n");
    for (int i = 0; i < 16; i++) {
        double a = i % 2 ? 0 : 1, b = 1 - a;
        n += (size_t)snprintf(text + n, sizeof text - n, "img/R%02d/%d.png,R%02d,%.4f,%.4f,%.4f\n",
                              i / 2, i % 2, i / 2, a + 0.05 * ref_normal(&s),
                              b + 0.05 * ref_normal(&s), 0.05 * ref_normal(&s));
    }
    ev_write(dir, "emb.csv", text);
}

/* The verification section states the rule its rates were computed
 * under: with polarity: flip the scores are distances, accepted when at
 * most the threshold; otherwise at least. */
Test(report, states_the_acceptance_rule_of_the_polarity, .timeout = 120)
{
    ref_run r;
    ref_begin(&r);
    make_reversed_set(r.dir);
    char *rep = make_report(r.dir, "--set polarity=flip", NULL);
    char *html = ev_read(rep);
    cr_assert_not_null(html, "%s", rep);
    /* The section's opening paragraph (the rest is tables and plots). */
    const char *sec = strstr(html, "<section id=\"verification\">");
    cr_assert_not_null(sec);
    const char *end = strstr(sec, "</p>");
    cr_assert_not_null(end);
    size_t len = (size_t)(end - sec);
    char *v = malloc(len + 1);
    memcpy(v, sec, len);
    v[len] = 0;
    cr_expect(strstr(v, "accepted when its score is at most the threshold"), "%s", v);
    cr_expect(strstr(v, "polarity: flip"), "the section says the scores were flipped: %s", v);
    cr_expect_null(strstr(v, "at least the threshold"), "%s", v);
    free(v);
    free(html);
    free(rep);

    /* warn (the default): similarities as they are, and a note that they
     * look reversed. */
    ev_sh(NULL, "rm -rf '%s/out'", r.dir);
    rep = make_report(r.dir, NULL, NULL);
    html = ev_read(rep);
    cr_assert_not_null(html, "%s", rep);
    cr_expect(strstr(html, "accepted when its score is at least the threshold"));
    cr_expect(strstr(html, "look reversed"));
    cr_expect_null(strstr(html, "at most the threshold"));
    free(html);
    free(rep);
    ref_end(&r);
}

#ifdef BM_HAVE_CAIRO
/* Decodes PNG bytes with the core's loader (RGBA). */
static aigtatt_image *decode(const unsigned char *png, size_t n)
{
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 4};
    aigtatt_image *im = NULL;
    cr_assert_eq(aigtatt_image_load_memory(png, n, "thumb.png", &o, &im), 0);
    return im;
}

static const uint8_t *px(const aigtatt_image *im, int x, int y)
{
    return im->data + (size_t)y * im->stride + (size_t)x * 4;
}

Test(report, thumbnails_average_areas_in_linear_light)
{
    /* A black and white checkerboard averages to 50 % light: sRGB 188, not
     * the 128 of averaging the coded values. */
    enum { S = 64 };
    unsigned char *rgba = malloc(S * S * 4);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            unsigned char v = (x + y) % 2 ? 255 : 0;
            unsigned char *q = rgba + (y * S + x) * 4;
            q[0] = q[1] = q[2] = v;
            q[3] = 255;
        }
    unsigned char *png;
    size_t n;
    int tw, th;
    cr_assert_eq(bm_thumb_png(rgba, S, S, 8, &png, &n, &tw, &th), 0);
    cr_expect(tw == 8 && th == 8);
    aigtatt_image *im = decode(png, n);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            for (int c = 0; c < 3; c++)
                cr_expect(abs(px(im, x, y)[c] - 188) <= 1, "(%d, %d): %d", x, y, px(im, x, y)[c]);
    aigtatt_image_free(im);
    free(png);
    free(rgba);

    /* Aspect ratio kept, never enlarged; a fractional scale (3 -> 2) gives
     * coverage-weighted means. */
    rgba = calloc(300 * 100 * 4, 1);
    for (int i = 0; i < 300 * 100; i++)
        rgba[i * 4 + 3] = 255;
    cr_assert_eq(bm_thumb_png(rgba, 300, 100, 120, &png, &n, &tw, &th), 0);
    cr_expect(tw == 120 && th == 40, "%d x %d", tw, th);
    free(png);
    cr_assert_eq(bm_thumb_png(rgba, 30, 10, 120, &png, &n, &tw, &th), 0);
    cr_expect(tw == 30 && th == 10, "small images keep their size: %d x %d", tw, th);
    free(png);
    free(rgba);
    unsigned char row[3 * 4] = {255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255};
    cr_assert_eq(bm_thumb_png(row, 3, 1, 2, &png, &n, &tw, &th), 0);
    cr_assert(tw == 2 && th == 1);
    im = decode(png, n);
    /* Left pixel: 2/3 white + 1/3 black = 2/3 light -> sRGB 213. */
    cr_expect(abs(px(im, 0, 0)[0] - 213) <= 1, "%d", px(im, 0, 0)[0]);
    cr_expect(abs(px(im, 1, 0)[0] - 213) <= 1, "%d", px(im, 1, 0)[0]);
    aigtatt_image_free(im);
    free(png);

    /* Transparent pixels lend no colour: red at alpha 0 next to opaque
     * blue gives half-transparent pure blue. */
    unsigned char ab[2 * 4] = {255, 0, 0, 0, 0, 0, 255, 255};
    cr_assert_eq(bm_thumb_png(ab, 2, 1, 1, &png, &n, &tw, &th), 0);
    im = decode(png, n);
    const uint8_t *q = px(im, 0, 0);
    cr_expect(q[0] == 0 && q[1] == 0 && q[2] == 255 && abs(q[3] - 128) <= 1, "%d %d %d %d", q[0],
              q[1], q[2], q[3]);
    aigtatt_image_free(im);
    free(png);
    cr_expect_neq(bm_thumb_png(ab, 0, 1, 1, &png, &n, NULL, NULL), 0);
}
#endif

/* ---- headless Chromium ------------------------------------------------- */

/* The browser: $AIGTATT_CHROMIUM, else chromium, chromium-browser or
 * google-chrome on PATH. Missing is a failure, never a skip: the report is
 * meant for people, and this is where the suite looks at it. */
static const char *browser(void)
{
    static char found[512];
    const char *env = getenv("AIGTATT_CHROMIUM");
    if (env && *env)
        return env;
    static const char *names[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t i = 0; i < 3; i++) {
        char *out;
        if (ev_sh(&out, "command -v %s", names[i]) == 0) {
            snprintf(found, sizeof found, "%.*s", (int)strcspn(out, "\n"), out);
            free(out);
            return found;
        }
        free(out);
    }
    cr_assert_fail("no headless browser: install Chromium (Debian: apt-get install chromium, "
                   "which scripts/setup.sh --test does) or set AIGTATT_CHROMIUM");
    return NULL;
}

/* Runs the browser on file://html with `what` (e.g. --screenshot=...);
 * returns its exit status and its log (stdout + stderr) in *log. Network
 * access is cut off, so anything fetched from outside fails loudly. */
static int chromium(const char *dir, const char *html, const char *what, int height, char **log)
{
    return ev_sh(log, "cd '%s' && timeout 120 '%s' --headless --disable-gpu --no-sandbox "
                 "--disable-dev-shm-usage --no-first-run --no-default-browser-check "
                 "--hide-scrollbars --user-data-dir='%s/chrome-profile' "
                 "--host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0 "
                 "--window-size=1280,%d %s 'file://%s'",
                 dir, browser(), dir, height, what, html);
}

/* The page has no script, so any console message (Chromium logs them as
 * "CONSOLE" lines with --enable-logging=stderr: errors, failed loads,
 * refused content) means something is wrong. */
static void expect_no_console_errors(const char *log)
{
    for (const char *l = log; l && *l;) {
        size_t n = strcspn(l, "\n");
        char line[600];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), l);
        cr_expect(!strstr(line, "CONSOLE") && !strstr(line, "Failed to load resource"),
                  "browser console: %s", line);
        l += n + (l[n] ? 1 : 0);
    }
}

typedef struct shot_stats {
    int w, h;
    size_t colours;       /* distinct 24-bit colours */
    size_t dark;          /* text-like pixels */
    size_t blue, red;     /* near the plots' series colours */
    size_t magenta;       /* near the thumbnails' magenta */
    double white_top;     /* share of near-white pixels in the top 40 rows */
} shot_stats;

static int near(const uint8_t *p, int r, int g, int b, int tol)
{
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

static shot_stats analyse(const char *png)
{
    aigtatt_image *im = NULL;
    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3};
    cr_assert_eq(aigtatt_image_load(png, &o, &im), 0, "cannot decode the screenshot %s", png);
    shot_stats s = {im->width, im->height, 0, 0, 0, 0, 0, 0};
    uint8_t *seen = calloc(1 << 21, 1); /* a bit per 24-bit colour */
    size_t top = 0;
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            const uint8_t *p = im->data + (size_t)y * im->stride + (size_t)x * 3;
            uint32_t c = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            if (!(seen[c >> 3] & (1u << (c & 7)))) {
                seen[c >> 3] |= (uint8_t)(1u << (c & 7));
                s.colours++;
            }
            s.dark += p[0] + p[1] + p[2] < 3 * 90;
            /* verification series (0.12, 0.35, 0.7) and FMR (0.8, 0.2, 0.2) */
            s.blue += near(p, 31, 89, 179, 45);
            s.red += near(p, 204, 51, 51, 45);
            s.magenta += near(p, EV_MAGENTA_R, EV_MAGENTA_G, EV_MAGENTA_B, 40);
            if (y < 40)
                top += p[0] > 240 && p[1] > 240 && p[2] > 240;
        }
    s.white_top = (double)top / (40.0 * im->width);
    free(seen);
    aigtatt_image_free(im);
    return s;
}

Test(report, renders_in_headless_chromium, .timeout = 300)
{
    ref_run r;
    ref_begin(&r);
    ev_make_set(r.dir, 24, 1);
    char *rep = make_report(r.dir, NULL, NULL);
    char shot[600], what[700], *log;

    /* The first screen, as the issue asks: 1280 x 2000. */
    snprintf(shot, sizeof shot, "%s/shot.png", r.dir);
    snprintf(what, sizeof what, "--screenshot='%s'", shot);
    int st = chromium(r.dir, rep, what, 2000, &log);
    cr_assert_eq(st, 0, "chromium failed (%d):\n%s", st, log);
    expect_no_console_errors(log);
    free(log);
    shot_stats s = analyse(shot);
    cr_expect(s.w == 1280 && s.h == 2000, "screenshot of %d x %d", s.w, s.h);
    cr_expect_gt(s.colours, 2000, "only %zu colours: a blank or unstyled page?", s.colours);
    cr_expect_gt(s.dark, 20000, "only %zu dark pixels: where is the text?", s.dark);
    cr_expect_gt(s.blue, 300, "the verification curves (blue) are missing: %zu pixels", s.blue);
    cr_expect_gt(s.red, 300, "the FMR curve (red) is missing: %zu pixels", s.red);
    cr_expect_gt(s.white_top, 0.8, "the page top is not a light background");
    cr_log_info("first screen: %zu colours, %zu dark, %zu blue, %zu red pixels", s.colours,
                s.dark, s.blue, s.red);

    /* The whole page: the strips' thumbnails render (their magenta). */
    snprintf(shot, sizeof shot, "%s/page.png", r.dir);
    snprintf(what, sizeof what, "--screenshot='%s'", shot);
    st = chromium(r.dir, rep, what, 6400, &log);
    cr_assert_eq(st, 0, "chromium failed (%d):\n%s", st, log);
    free(log);
    s = analyse(shot);
    cr_expect_gt(s.magenta, 16 * 150, "the thumbnails did not render: %zu magenta pixels",
                 s.magenta);

    /* The DOM Chromium built: tables, plots, strips. */
    st = chromium(r.dir, rep, "--dump-dom", 2000, &log);
    cr_assert_eq(st, 0, "chromium --dump-dom failed (%d):\n%s", st, log);
    cr_expect_geq(ev_count(log, "<table"), 3, "tables in the DOM");
    cr_expect_eq(ev_count(log, "<figure"), 6, "plots in the DOM");
    cr_expect_eq(ev_count(log, "class=\"strip\""), 4, "strips in the DOM");
    cr_expect_not_null(strstr(log, "Rank-1"));
    expect_no_console_errors(log);
    free(log);
    /* Keep the screenshots for a person when asked to. */
    const char *keep = getenv("AIGTATT_KEEP_SCREENSHOTS");
    if (keep && *keep)
        ev_sh(NULL, "cp '%s/shot.png' '%s/page.png' '%s/'", r.dir, r.dir, keep);
    free(rep);
    ref_end(&r);
}
