/* The procedural tattoo renderer on its own (no host): determinism, seeds,
 * prompt steering, sizes, skin, colour policy, odd prompts, threads. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "pg_render.h"

static pg_options opts(int w, int h)
{
    pg_options o;
    pg_options_default(&o);
    o.width = w;
    o.height = h;
    return o;
}

static unsigned char *render(const char *prompt, uint64_t seed, const pg_options *o, pg_info *info)
{
    unsigned char *buf = NULL;
    int rc = pg_render(prompt, seed, o, &buf, info);
    cr_assert_eq(rc, PG_OK, "render failed (%d) for '%s'", rc, prompt ? prompt : "(null)");
    cr_assert_not_null(buf);
    return buf;
}

static double mean_abs_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += abs((int)a[i] - (int)b[i]);
    return s / (double)n;
}

/* Pixels that are clearly ink rather than paper. */
static size_t dark_pixels(const unsigned char *rgb, int w, int h)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)w * h; i++)
        n += rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2] < 300;
    return n;
}

static const char *const prompts[] = {
    "dotwork mandala",
    "traditional rose and dagger",
    "tribal flame tattoo",
    "lettering tattoo saying \"hope\"",
    "geometric wolf head",
    "japanese koi fish with waves",
    "skull blackwork",
    "fine line botanical branch",
    "In the style of TOK, a unique, intricate tattoo on the forearm describing an eternal madness.",
};
#define NPROMPTS (sizeof prompts / sizeof prompts[0])

Test(procedural, same_prompt_and_seed_give_identical_pixels)
{
    for (int skin = 0; skin <= 1; skin++) {
        pg_options o = opts(256, 256);
        o.skin = skin;
        for (size_t i = 0; i < NPROMPTS; i++) {
            pg_info ia, ib;
            unsigned char *a = render(prompts[i], 42, &o, &ia);
            unsigned char *b = render(prompts[i], 42, &o, &ib);
            cr_assert(memcmp(a, b, 256 * 256 * 3) == 0, "'%s' (skin %d) is not deterministic", prompts[i], skin);
            cr_assert_str_eq(ia.json, ib.json);
            free(a);
            free(b);
        }
    }
}

Test(procedural, different_seed_gives_a_different_design_in_the_same_style)
{
    pg_options o = opts(256, 256);
    for (size_t i = 0; i < NPROMPTS; i++) {
        pg_info ia, ib;
        unsigned char *a = render(prompts[i], 1, &o, &ia);
        unsigned char *b = render(prompts[i], 2, &o, &ib);
        double d = mean_abs_diff(a, b, 256 * 256 * 3);
        cr_assert_gt(d, 1.0, "seeds 1 and 2 of '%s' differ by only %.3f", prompts[i], d);
        /* the prompt, not the seed, picks subject, style and layout */
        char sa[128], sb[128];
        const char *ca = strstr(ia.json, "\"shading\""), *cb = strstr(ib.json, "\"shading\"");
        cr_assert(ca && cb);
        size_t la = (size_t)(ca - ia.json), lb = (size_t)(cb - ib.json);
        cr_assert(la < sizeof sa && lb < sizeof sb);
        memcpy(sa, ia.json, la);
        sa[la] = 0;
        memcpy(sb, ib.json, lb);
        sb[lb] = 0;
        cr_assert_str_eq(sa, sb, "style changed with the seed for '%s'", prompts[i]);
        free(a);
        free(b);
    }
}

Test(procedural, different_prompts_give_clearly_different_designs)
{
    pg_options o = opts(256, 256);
    unsigned char *img[NPROMPTS];
    for (size_t i = 0; i < NPROMPTS; i++)
        img[i] = render(prompts[i], 7, &o, NULL);
    for (size_t i = 0; i < NPROMPTS; i++)
        for (size_t j = i + 1; j < NPROMPTS; j++) {
            double d = mean_abs_diff(img[i], img[j], 256 * 256 * 3);
            cr_assert_gt(d, 8.0, "'%s' and '%s' differ by only %.2f per channel", prompts[i], prompts[j], d);
        }
    for (size_t i = 0; i < NPROMPTS; i++)
        free(img[i]);
}

static void expect_in_info(const char *prompt, const char *needle)
{
    pg_options o = opts(128, 128);
    pg_info info;
    unsigned char *b = render(prompt, 3, &o, &info);
    cr_assert(strstr(info.json, needle), "'%s' should give %s, got %s", prompt, needle, info.json);
    free(b);
}

Test(procedural, prompt_words_steer_subject_and_style)
{
    expect_in_info("a howling wolf", "\"subject\":\"wolf\"");
    expect_in_info("dotwork mandala", "\"style\":\"dotwork\"");
    expect_in_info("dotwork mandala", "\"subject\":\"mandala\"");
    expect_in_info("old school anchor", "\"style\":\"traditional\"");
    expect_in_info("koi fish", "\"subject\":\"koi\"");
    expect_in_info("a coiled serpent, blackwork", "\"style\":\"blackwork\"");
    expect_in_info("script lettering saying love", "\"text\":\"LOVE\"");
    expect_in_info("lettering \"Mom\" in script", "\"text\":\"MOM\"");
    expect_in_info("a wolf framed by roses", "\"subject\":\"wolf\"");
}

Test(procedural, sizes_and_stride_are_honoured)
{
    static const int sizes[][2] = { { 300, 200 }, { 64, 512 }, { 1024, 1024 }, { 17, 33 } };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        size_t stride = (size_t)w * 3 + 13;
        unsigned char *buf = malloc(stride * h + 16);
        cr_assert_not_null(buf);
        memset(buf, 0xAB, stride * h + 16);
        pg_options o = opts(w, h);
        cr_assert_eq(pg_render_into("traditional rose", 5, &o, buf, stride, NULL), PG_OK);
        /* padding after each row and after the image is left alone */
        for (int y = 0; y < h; y++)
            for (size_t x = (size_t)w * 3; x < stride; x++)
                cr_assert_eq(buf[(size_t)y * stride + x], 0xAB, "%dx%d: padding written at row %d", w, h, y);
        for (size_t i = stride * h; i < stride * h + 16; i++)
            cr_assert_eq(buf[i], 0xAB, "%dx%d: wrote past the end", w, h);
        /* some ink, and not all of it */
        size_t ink = 0;
        for (int y = 0; y < h; y++)
            ink += dark_pixels(buf + (size_t)y * stride, w, 1);
        cr_assert_gt(ink, 0, "%dx%d has no ink", w, h);
        cr_assert_lt(ink, (size_t)w * h * 3 / 4, "%dx%d is mostly ink", w, h);
        free(buf);
    }
}

Test(procedural, bad_options_are_refused)
{
    unsigned char buf[64 * 64 * 3];
    pg_options o = opts(64, 64);
    cr_assert_eq(pg_render_into("x", 1, &o, NULL, 64 * 3, NULL), PG_EINVAL);
    cr_assert_eq(pg_render_into("x", 1, &o, buf, 64 * 3 - 1, NULL), PG_EINVAL);
    o.width = 0;
    cr_assert_eq(pg_render_into("x", 1, &o, buf, 64 * 3, NULL), PG_EINVAL);
    o = opts(100000, 64);
    unsigned char *out = (unsigned char *)1;
    cr_assert_eq(pg_render("x", 1, &o, &out, NULL), PG_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(pg_render("x", 1, NULL, NULL, NULL), PG_EINVAL);
}

Test(procedural, skin_option_changes_the_background)
{
    pg_options paper = opts(256, 256), skin = opts(256, 256);
    skin.skin = 1;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        unsigned char *a = render("fine line rose", seed, &paper, NULL);
        unsigned char *b = render("fine line rose", seed, &skin, NULL);
        /* paper corners are near white; skin is not */
        const unsigned char *pa = a, *pb = b + ((size_t)128 * 256 + 5) * 3;
        cr_assert(pa[0] >= 240 && pa[1] >= 235 && pa[2] >= 220, "paper corner is %d,%d,%d", pa[0], pa[1], pa[2]);
        cr_assert(!(pb[0] >= 240 && pb[1] >= 240 && pb[2] >= 240), "skin edge is white");
        cr_assert_gt(mean_abs_diff(a, b, 256 * 256 * 3), 20.0);
        /* skin tones are warm: more red than blue across the middle */
        double r = 0, bl = 0;
        for (int y = 100; y < 156; y++)
            for (int x = 100; x < 156; x++) {
                r += b[((size_t)y * 256 + x) * 3];
                bl += b[((size_t)y * 256 + x) * 3 + 2];
            }
        cr_assert_gt(r, bl, "skin in the middle is not warm (seed %d)", (int)seed);
        free(a);
        free(b);
    }
}

Test(procedural, colour_none_gives_black_and_grey)
{
    pg_options o = opts(192, 192);
    o.color = PG_COLOR_NONE;
    static const char *const colourful[] = { "traditional red rose", "watercolor butterfly",
                                             "japanese koi fish with waves", "trash polka skull" };
    for (size_t k = 0; k < 4; k++) {
        unsigned char *b = render(colourful[k], 9, &o, NULL);
        int worst = 0;
        for (size_t i = 0; i < 192 * 192; i++) {
            int mx = b[3 * i], mn = b[3 * i];
            for (int c = 1; c < 3; c++) {
                mx = b[3 * i + c] > mx ? b[3 * i + c] : mx;
                mn = b[3 * i + c] < mn ? b[3 * i + c] : mn;
            }
            worst = mx - mn > worst ? mx - mn : worst;
        }
        /* cream paper has a faint tint; colour ink would be far above this */
        cr_assert_leq(worst, 20, "'%s' has colour (spread %d) with color=none", colourful[k], worst);
        free(b);
    }
    o.color = PG_COLOR_AUTO;
    unsigned char *b = render("traditional red rose", 9, &o, NULL);
    int reds = 0;
    for (size_t i = 0; i < 192 * 192; i++)
        reds += b[3 * i] > 150 && b[3 * i + 1] < 90 && b[3 * i + 2] < 90;
    cr_assert_gt(reds, 50, "a traditional red rose has no red");
    free(b);
}

Test(procedural, odd_prompts_do_not_crash)
{
    pg_options o = opts(96, 96);
    size_t big = 1 << 20;
    char *huge = malloc(big + 1);
    cr_assert_not_null(huge);
    static const char words[] = "rose wolf mandala \xF0\x9F\x8C\xB9 \"quoted\" ";
    for (size_t i = 0; i < big; i++)
        huge[i] = words[i % (sizeof words - 1)];
    huge[big] = 0;
    const char *odd[] = {
        "", "   ", ".,;!?", NULL, huge,
        "\xF0\x9F\x8C\xB9 \xE7\x8E\xAB\xE7\x91\xB0 tattoo",      /* emoji and CJK */
        "\xC3\x28\xA0\xA1\xFF\xFE invalid utf-8",                 /* invalid sequences */
        "\"", "\"\"", "saying", "lettering saying \"\xF0\x9F\x8C\xB9\"",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (int skin = 0; skin <= 1; skin++) {
            o.skin = skin;
            pg_info ia;
            unsigned char *a = render(odd[i], 11, &o, &ia);
            unsigned char *b = render(odd[i], 11, &o, NULL);
            cr_assert(memcmp(a, b, 96 * 96 * 3) == 0, "odd prompt %zu not deterministic", i);
            cr_assert(ia.json[0] == '{' && ia.json[strlen(ia.json) - 1] == '}', "%s", ia.json);
            free(a);
            free(b);
        }
    }
    free(huge);
}

Test(procedural, case_and_spacing_do_not_change_the_design)
{
    pg_options o = opts(128, 128);
    unsigned char *a = render("Dotwork  Mandala", 4, &o, NULL);
    unsigned char *b = render("dotwork mandala", 4, &o, NULL);
    cr_assert(memcmp(a, b, 128 * 128 * 3) == 0);
    free(a);
    free(b);
}

typedef struct th_arg {
    const char *prompt;
    unsigned char *out;
} th_arg;

static void *th_render(void *p)
{
    th_arg *a = p;
    pg_options o = opts(200, 200);
    o.skin = 1;
    pg_render(a->prompt, 77, &o, &a->out, NULL);
    return NULL;
}

Test(procedural, threads_give_the_same_pixels_as_one_thread)
{
    enum { N = 4 };
    pthread_t th[N];
    th_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i].prompt = prompts[i % 3];
        args[i].out = NULL;
        cr_assert_eq(pthread_create(&th[i], NULL, th_render, &args[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        pg_options o = opts(200, 200);
        o.skin = 1;
        unsigned char *ref = render(args[i].prompt, 77, &o, NULL);
        cr_assert_not_null(args[i].out);
        cr_assert(memcmp(ref, args[i].out, 200 * 200 * 3) == 0, "thread %d differs", i);
        free(ref);
        free(args[i].out);
    }
}
