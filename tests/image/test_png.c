/* PNG loading and saving: round trips, every colour type and depth,
 * interlacing, and refusal of broken, truncated and oversized files. */
#include "image_fixtures.h"

TestSuite(image_png, .init = fx_setup, .fini = fx_teardown);

static void roundtrip(int ch)
{
    aigtatt_image *img = fx_pattern(37, 23, ch);
    const char *path = fx_path("rt.png");
    cr_assert_eq(aigtatt_image_save(img, path, 0), AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_image *back = NULL;
    cr_assert_eq(aigtatt_image_load(path, NULL, &back), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(back->channels, ch);
    cr_assert(fx_images_equal(img, back), "%d-channel PNG round trip is not bit-exact", ch);
    aigtatt_image_free(back);
    aigtatt_image_free(img);
}

Test(image_png, roundtrip_grey) { roundtrip(1); }
Test(image_png, roundtrip_rgb) { roundtrip(3); }
Test(image_png, roundtrip_rgba) { roundtrip(4); }

Test(image_png, encoding_is_deterministic)
{
    aigtatt_image *img = fx_pattern(50, 40, 4);
    cr_assert_eq(aigtatt_image_save(img, fx_path("a.png"), 0), AIGTATT_OK);
    sleep(1); /* a timestamp, if one were written, would now differ */
    cr_assert_eq(aigtatt_image_save(img, fx_path("b.png"), 0), AIGTATT_OK);
    size_t na, nb;
    uint8_t *a = fx_read(fx_path("a.png"), &na);
    uint8_t *b = fx_read(fx_path("b.png"), &nb);
    cr_assert_eq(na, nb);
    cr_assert_arr_eq(a, b, na, "two saves of the same image differ");
    cr_assert(!fx_contains(a, na, "tIME"), "PNG carries a tIME chunk");
    free(a);
    free(b);
    aigtatt_image_free(img);
}

/* Loads a fixture and checks the result's channel count and every pixel
 * against `expect(spec, x, y, out)`. */
typedef void (*expect_fn)(const fx_png_spec *s, int x, int y, uint8_t *out);

static void check_fixture(const fx_png_spec *s, int want_ch, expect_fn expect)
{
    const char *path = fx_path("fx.png");
    fx_write_png(path, s);
    aigtatt_image *img = NULL;
    cr_assert_eq(aigtatt_image_load(path, NULL, &img), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(img->width, s->width);
    cr_assert_eq(img->height, s->height);
    cr_assert_eq(img->channels, want_ch, "type %d depth %d: %d channels, want %d",
                 s->color_type, s->bit_depth, img->channels, want_ch);
    for (int y = 0; y < s->height; y++)
        for (int x = 0; x < s->width; x++) {
            uint8_t want[4];
            expect(s, x, y, want);
            const uint8_t *got = img->data + (size_t)y * img->stride + (size_t)x * want_ch;
            for (int c = 0; c < want_ch; c++)
                cr_assert_eq(got[c], want[c],
                             "type %d depth %d interlace %d: pixel (%d,%d) ch %d = %d, want %d",
                             s->color_type, s->bit_depth, s->interlace, x, y, c, got[c], want[c]);
        }
    aigtatt_image_free(img);
}

static uint8_t to8(const fx_png_spec *s, unsigned v)
{
    if (s->bit_depth == 16)
        return (uint8_t)((v + 128) / 257); /* v * 255 / 65535, rounded */
    unsigned maxv = (1u << s->bit_depth) - 1;
    return (uint8_t)(v * 255 / maxv);
}

static void expect_grey(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    o[0] = to8(s, fx_png_sample(s, x, y, 0));
}

static void expect_rgb(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    for (int c = 0; c < 3; c++)
        o[c] = to8(s, fx_png_sample(s, x, y, c));
}

static void expect_rgba(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    for (int c = 0; c < 4; c++)
        o[c] = to8(s, fx_png_sample(s, x, y, c));
}

static void expect_grey_alpha(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    uint8_t g = to8(s, fx_png_sample(s, x, y, 0));
    o[0] = o[1] = o[2] = g;
    o[3] = to8(s, fx_png_sample(s, x, y, 1));
}

static void expect_palette(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    unsigned i = fx_png_sample(s, x, y, 0);
    o[0] = (uint8_t)(i * 40);
    o[1] = (uint8_t)(255 - i * 40);
    o[2] = (uint8_t)(i * 20);
    o[3] = (s->trns && i == 0) ? 0 : 255;
}

static void expect_key_grey(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    unsigned v = fx_png_sample(s, x, y, 0);
    o[0] = o[1] = o[2] = to8(s, v);
    o[3] = v == 0 ? 0 : 255;
}

static void expect_key_rgb(const fx_png_spec *s, int x, int y, uint8_t *o)
{
    unsigned r = fx_png_sample(s, x, y, 0), g = fx_png_sample(s, x, y, 1),
             b = fx_png_sample(s, x, y, 2);
    o[0] = to8(s, r), o[1] = to8(s, g), o[2] = to8(s, b);
    o[3] = (r == 0 && g == 0 && b == 0) ? 0 : 255;
}

Test(image_png, grey_all_depths_and_interlace)
{
    const int depths[] = {1, 2, 4, 8, 16};
    for (int il = 0; il < 2; il++)
        for (size_t i = 0; i < 5; i++) {
            fx_png_spec s = {.width = 29, .height = 13, .color_type = PNG_COLOR_TYPE_GRAY,
                             .bit_depth = depths[i],
                             .interlace = il ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE};
            check_fixture(&s, 1, expect_grey);
        }
}

Test(image_png, rgb_rgba_8_and_16_bit_interlaced)
{
    const int depths[] = {8, 16};
    for (int il = 0; il < 2; il++)
        for (int i = 0; i < 2; i++) {
            fx_png_spec s = {.width = 21, .height = 17, .color_type = PNG_COLOR_TYPE_RGB,
                             .bit_depth = depths[i], .interlace = il};
            check_fixture(&s, 3, expect_rgb);
            s.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
            check_fixture(&s, 4, expect_rgba);
        }
}

Test(image_png, grey_alpha_becomes_rgba)
{
    for (int d = 8; d <= 16; d += 8) {
        fx_png_spec s = {.width = 9, .height = 8, .color_type = PNG_COLOR_TYPE_GRAY_ALPHA,
                         .bit_depth = d};
        check_fixture(&s, 4, expect_grey_alpha);
    }
}

Test(image_png, palettes_expand_with_transparency)
{
    const int depths[] = {1, 2, 4, 8};
    const int sizes[] = {2, 4, 7, 7};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 4; i++) {
            fx_png_spec s = {.width = 19, .height = 11, .color_type = PNG_COLOR_TYPE_PALETTE,
                             .bit_depth = depths[i], .palette_size = sizes[i], .trns = t,
                             .interlace = i == 3};
            if (t)
                check_fixture(&s, 4, expect_palette);
            else
                check_fixture(&s, 3, expect_palette);
        }
}

Test(image_png, transparency_keys_become_alpha)
{
    fx_png_spec g = {.width = 16, .height = 16, .color_type = PNG_COLOR_TYPE_GRAY,
                     .bit_depth = 8, .trns = 1};
    check_fixture(&g, 4, expect_key_grey);
    fx_png_spec rgb = {.width = 16, .height = 16, .color_type = PNG_COLOR_TYPE_RGB,
                       .bit_depth = 8, .trns = 1};
    check_fixture(&rgb, 4, expect_key_rgb);
}

Test(image_png, gamma_chunk_is_ignored)
{
    fx_png_spec s = {.width = 32, .height = 8, .color_type = PNG_COLOR_TYPE_RGB,
                     .bit_depth = 8, .gama = 1};
    check_fixture(&s, 3, expect_rgb);
    s.bit_depth = 16;
    check_fixture(&s, 3, expect_rgb);
}

Test(image_png, channels_option_converts)
{
    aigtatt_image *img = fx_pattern(8, 6, 4);
    cr_assert_eq(aigtatt_image_save(img, fx_path("c.png"), 0), AIGTATT_OK);
    const int want[] = {1, 3, 4};
    for (int i = 0; i < 3; i++) {
        aigtatt_image_load_opts o = fx_opts();
        o.channels = want[i];
        aigtatt_image *got = NULL;
        cr_assert_eq(aigtatt_image_load(fx_path("c.png"), &o, &got), AIGTATT_OK);
        aigtatt_image *ref = aigtatt_image_convert(img, want[i]);
        cr_assert(fx_images_equal(got, ref), "channels=%d differs from convert()", want[i]);
        aigtatt_image_free(ref);
        aigtatt_image_free(got);
    }
    aigtatt_image_load_opts o = fx_opts();
    o.channels = 2;
    aigtatt_image *got = (aigtatt_image *)1;
    cr_assert_eq(aigtatt_image_load(fx_path("c.png"), &o, &got), AIGTATT_ERR_INVALID);
    cr_assert_null(got);
    o = fx_opts();
    o.struct_size = 0;
    cr_assert_eq(aigtatt_image_load(fx_path("c.png"), &o, &got), AIGTATT_ERR_INVALID);
    aigtatt_image_free(img);
}

Test(image_png, memory_load_matches_file_load)
{
    aigtatt_image *img = fx_pattern(12, 9, 3);
    cr_assert_eq(aigtatt_image_save(img, fx_path("m.png"), 0), AIGTATT_OK);
    size_t n;
    uint8_t *bytes = fx_read(fx_path("m.png"), &n);
    aigtatt_image *got = NULL;
    cr_assert_eq(aigtatt_image_load_memory(bytes, n, "https://x/m.png", NULL, &got), AIGTATT_OK);
    cr_assert(fx_images_equal(img, got));
    aigtatt_image_free(got);
    cr_assert_eq(aigtatt_image_load_memory(bytes, n / 2, "https://x/m.png", NULL, &got),
                 AIGTATT_ERR_FORMAT);
    cr_assert_null(got);
    fx_assert_error_names("https://x/m.png");
    free(bytes);
    aigtatt_image_free(img);
}

/* ---- refusals ------------------------------------------------------------------ */

static void expect_failure(const char *path, int want)
{
    aigtatt_image *img = (aigtatt_image *)1; /* must be reset to NULL */
    aigtatt_clear_error();
    int st = aigtatt_image_load(path, NULL, &img);
    cr_assert_eq(st, want, "%s: status %d, want %d (%s)", path, st, want, aigtatt_last_error());
    cr_assert_null(img);
    fx_assert_error_names(path);
}

Test(image_png, truncated_at_every_offset)
{
    aigtatt_image *img = fx_pattern(40, 30, 3);
    cr_assert_eq(aigtatt_image_save(img, fx_path("full.png"), 0), AIGTATT_OK);
    size_t n;
    uint8_t *bytes = fx_read(fx_path("full.png"), &n);
    const char *cut = fx_path("cut.png");
    for (size_t len = 0; len < n; len++) {
        fx_write(cut, bytes, len);
        expect_failure(cut, AIGTATT_ERR_FORMAT);
    }
    free(bytes);
    aigtatt_image_free(img);
}

Test(image_png, every_flipped_byte_is_caught)
{
    /* Our PNGs hold only IHDR, IDAT and IEND, all CRC-protected (and the
     * signature is checked), so inverting any single byte must fail. */
    aigtatt_image *img = fx_pattern(24, 16, 4);
    cr_assert_eq(aigtatt_image_save(img, fx_path("full.png"), 0), AIGTATT_OK);
    size_t n;
    uint8_t *bytes = fx_read(fx_path("full.png"), &n);
    const char *bad = fx_path("flip.png");
    for (size_t i = 0; i < n; i++) {
        bytes[i] ^= 0xff;
        fx_write(bad, bytes, n);
        bytes[i] ^= 0xff;
        aigtatt_image *out = NULL;
        int st = aigtatt_image_load(bad, NULL, &out);
        cr_assert(st == AIGTATT_ERR_FORMAT || st == AIGTATT_ERR_LIMIT,
                  "flipping byte %zu of %zu: status %d (%s)", i, n, st, aigtatt_last_error());
        cr_assert_null(out);
    }
    free(bytes);
    aigtatt_image_free(img);
}

Test(image_png, empty_text_and_missing_files)
{
    const char *empty = fx_path("empty.png");
    fx_write(empty, "", 0);
    expect_failure(empty, AIGTATT_ERR_FORMAT);

    const char *text = fx_path("notes.png");
    const char *t = "these are my notes, not an image\n";
    fx_write(text, t, strlen(t));
    expect_failure(text, AIGTATT_ERR_FORMAT);

    const char *html = fx_path("page.png");
    const char *h = "<!DOCTYPE html><html><body>403 Forbidden</body></html>";
    fx_write(html, h, strlen(h));
    expect_failure(html, AIGTATT_ERR_FORMAT);
    cr_assert(strstr(aigtatt_last_error(), "HTML"), "%s", aigtatt_last_error());

    /* Only the signature: libpng must run out of data cleanly. */
    const char *sig = fx_path("sig.png");
    fx_write(sig, "\x89PNG\r\n\x1a\n", 8);
    expect_failure(sig, AIGTATT_ERR_FORMAT);

    expect_failure(fx_path("does-not-exist.png"), AIGTATT_ERR_IO);
    expect_failure(fx_dir, AIGTATT_ERR_IO);
}

Test(image_png, huge_headers_refused_before_allocation)
{
    /* 200000 x 200000 RGB would need 120 GB; with ASan a real attempt
     * would abort the test, so reaching the assertion proves the budget
     * was checked first. */
    uint8_t buf[128];
    const uint32_t dims[][2] = {{200000, 200000}, {100000, 100000}, {8001, 8000},
                                {0x7fffffff, 1}, {1, 0x7fffffff}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        size_t n = fx_forge_png_header(buf, dims[i][0], dims[i][1]);
        const char *path = fx_path("huge.png");
        fx_write(path, buf, n);
        expect_failure(path, AIGTATT_ERR_LIMIT);
        aigtatt_image *img = NULL;
        cr_assert_eq(aigtatt_image_load_memory(buf, n, "huge", NULL, &img), AIGTATT_ERR_LIMIT);
        cr_assert(strstr(aigtatt_last_error(), "limit"), "%s", aigtatt_last_error());
    }
    /* Within the budget, the same forged file is merely corrupt (its IDAT
     * holds no rows). */
    size_t n = fx_forge_png_header(buf, 64, 64);
    fx_write(fx_path("small.png"), buf, n);
    expect_failure(fx_path("small.png"), AIGTATT_ERR_FORMAT);
}

Test(image_png, pixel_budget_option_and_default)
{
    aigtatt_image *img = fx_pattern(20, 10, 3);
    const char *path = fx_path("b.png");
    cr_assert_eq(aigtatt_image_save(img, path, 0), AIGTATT_OK);
    aigtatt_image_load_opts o = fx_opts();
    aigtatt_image *out = NULL;
    o.max_pixels = 199;
    cr_assert_eq(aigtatt_image_load(path, &o, &out), AIGTATT_ERR_LIMIT);
    fx_assert_error_names(path);
    o.max_pixels = 200;
    cr_assert_eq(aigtatt_image_load(path, &o, &out), AIGTATT_OK);
    aigtatt_image_free(out);

    cr_assert_eq(aigtatt_image_default_max_pixels(), 64000000);
    aigtatt_image_set_default_max_pixels(150);
    expect_failure(path, AIGTATT_ERR_LIMIT);
    aigtatt_image_set_default_max_pixels(0);
    cr_assert_eq(aigtatt_image_default_max_pixels(), 64000000);
    cr_assert_eq(aigtatt_image_load(path, NULL, &out), AIGTATT_OK);
    aigtatt_image_free(out);
    aigtatt_image_free(img);
}

/* over_white composites alpha over white, the way crop, augment and the
 * trainer read designs; without it alpha is dropped (PIL's convert("RGB")).
 * Pixels: transparent black, transparent red, half-transparent red, opaque
 * blue. */
Test(image_png, over_white_composites_transparency)
{
    aigtatt_image *img = aigtatt_image_new(4, 1, 4);
    const uint8_t px[16] = {0, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255};
    memcpy(img->data, px, sizeof px);
    const char *path = fx_path("t.png");
    cr_assert_eq(aigtatt_image_save(img, path, 0), AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_image_free(img);

    aigtatt_image_load_opts o = {.struct_size = sizeof o, .channels = 3, .over_white = 1};
    aigtatt_image *rgb = NULL;
    cr_assert_eq(aigtatt_image_load(path, &o, &rgb), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(rgb->channels, 3);
    /* (c a + 255 (255 - a) + 127) / 255: 0 and 255 at a = 128 give 127, 255 */
    const uint8_t want[12] = {255, 255, 255, 255, 255, 255, 255, 127, 127, 0, 0, 255};
    cr_assert_arr_eq(rgb->data, want, sizeof want, "composited: %u %u %u | %u %u %u | %u %u %u | %u %u %u",
                     rgb->data[0], rgb->data[1], rgb->data[2], rgb->data[3], rgb->data[4], rgb->data[5],
                     rgb->data[6], rgb->data[7], rgb->data[8], rgb->data[9], rgb->data[10], rgb->data[11]);
    aigtatt_image_free(rgb);

    o.channels = 1;
    aigtatt_image *grey = NULL;
    cr_assert_eq(aigtatt_image_load(path, &o, &grey), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_expect_eq(grey->data[0], 255, "transparent black as grey: %u", grey->data[0]);
    cr_expect_eq(grey->data[3], 29, "opaque blue as grey: %u (PIL's luma 29)", grey->data[3]);
    aigtatt_image_free(grey);

    o.channels = 3;
    o.over_white = 0;
    cr_assert_eq(aigtatt_image_load(path, &o, &rgb), AIGTATT_OK, "%s", aigtatt_last_error());
    const uint8_t dropped[12] = {0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 255};
    cr_assert_arr_eq(rgb->data, dropped, sizeof dropped, "without over_white alpha is dropped");
    aigtatt_image_free(rgb);

    /* RGBA kept as RGBA whatever over_white says */
    o.channels = 0;
    o.over_white = 1;
    cr_assert_eq(aigtatt_image_load(path, &o, &rgb), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert_eq(rgb->channels, 4);
    cr_assert_arr_eq(rgb->data, px, sizeof px);
    aigtatt_image_free(rgb);
}
