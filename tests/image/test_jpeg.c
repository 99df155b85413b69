/* JPEG loading and saving: round trips, colour spaces, DCT scaling, the
 * scan limit, and refusal of truncated and corrupt files. */
#include "image_fixtures.h"

TestSuite(image_jpeg, .init = fx_setup, .fini = fx_teardown);

static void expect_failure(const char *path, const aigtatt_image_load_opts *o, int want)
{
    aigtatt_image *img = (aigtatt_image *)1; /* must be reset to NULL */
    aigtatt_clear_error();
    int st = aigtatt_image_load(path, o, &img);
    cr_assert_eq(st, want, "%s: status %d, want %d (%s)", path, st, want, aigtatt_last_error());
    cr_assert_null(img);
    fx_assert_error_names(path);
}

static aigtatt_image *load_ok(const char *path, const aigtatt_image_load_opts *o)
{
    aigtatt_image *img = NULL;
    int st = aigtatt_image_load(path, o, &img);
    cr_assert_eq(st, AIGTATT_OK, "%s: %s", path, aigtatt_last_error());
    cr_assert_not_null(img);
    return img;
}

/* Smooth content (gradients and a slow wave): what JPEG is made for. The
 * sharp checker of fx_pattern() loses too much to 4:2:0 chroma to make a
 * meaningful bound. */
static aigtatt_image *smooth_pattern(int w, int h, int ch)
{
    aigtatt_image *img = aigtatt_image_new(w, h, ch);
    cr_assert_not_null(img);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * ch;
            double wave = 127.5 + 100.0 * sin(x * 0.15) * cos(y * 0.1);
            p[0] = (uint8_t)(ch == 1 ? wave : x * 255 / (w - 1));
            if (ch >= 3) {
                p[1] = (uint8_t)(y * 255 / (h - 1));
                p[2] = (uint8_t)wave;
            }
            if (ch == 4)
                p[3] = (uint8_t)(x * 3 + y);
        }
    return img;
}

/* ---- round trips ----------------------------------------------------------------- */

Test(image_jpeg, roundtrip_rgb_and_grey_within_psnr)
{
    const int chans[] = {3, 1};
    const double min_psnr[] = {38.0, 40.0};
    for (int i = 0; i < 2; i++) {
        aigtatt_image *img = smooth_pattern(96, 64, chans[i]);
        const char *path = fx_path("rt.jpg");
        cr_assert_eq(aigtatt_image_save(img, path, 92), AIGTATT_OK, "%s", aigtatt_last_error());
        aigtatt_image *back = load_ok(path, NULL);
        cr_assert_eq(back->channels, chans[i], "a %d-channel JPEG came back with %d",
                     chans[i], back->channels);
        double p = fx_psnr(img, back);
        cr_assert_geq(p, min_psnr[i], "%d channels: PSNR %.2f dB", chans[i], p);
        cr_assert_lt(p, 99.0, "JPEG round trip cannot be lossless");
        aigtatt_image_free(back);
        aigtatt_image_free(img);
    }
}

Test(image_jpeg, rgba_saves_without_alpha)
{
    aigtatt_image *img = smooth_pattern(40, 32, 4);
    const char *path = fx_path("a.JPEG");
    cr_assert_eq(aigtatt_image_save(img, path, 95), AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_image *back = load_ok(path, NULL);
    cr_assert_eq(back->channels, 3);
    aigtatt_image *rgb = aigtatt_image_convert(img, 3);
    double p = fx_psnr(rgb, back);
    cr_assert_geq(p, 38.0, "PSNR %.2f dB", p);
    aigtatt_image_free(rgb);
    aigtatt_image_free(back);
    aigtatt_image_free(img);
}

Test(image_jpeg, quality_default_and_range)
{
    aigtatt_image *img = fx_pattern(32, 32, 3);
    cr_assert_eq(aigtatt_image_save(img, fx_path("q0.jpg"), 0), AIGTATT_OK);
    cr_assert_eq(aigtatt_image_save(img, fx_path("q92.jpg"), 92), AIGTATT_OK);
    cr_assert_eq(aigtatt_image_save(img, fx_path("q10.jpg"), 10), AIGTATT_OK);
    size_t n0, n92, n10;
    uint8_t *a = fx_read(fx_path("q0.jpg"), &n0);
    uint8_t *b = fx_read(fx_path("q92.jpg"), &n92);
    uint8_t *c = fx_read(fx_path("q10.jpg"), &n10);
    cr_assert_eq(n0, n92);
    cr_assert_arr_eq(a, b, n0, "quality 0 must mean 92 (and encoding be deterministic)");
    cr_assert_lt(n10, n92, "quality 10 should make a smaller file than 92");
    free(a);
    free(b);
    free(c);
    cr_assert_eq(aigtatt_image_save(img, fx_path("bad.jpg"), 101), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_image_save(img, fx_path("bad.jpg"), -5), AIGTATT_ERR_INVALID);
    fx_assert_error_names(fx_path("bad.jpg"));
    cr_assert_eq(fx_count_files(NULL, 0), 3, "a refused save left a file behind");
    aigtatt_image_free(img);
}

/* ---- colour spaces ------------------------------------------------------------- */

/* Thirds: red, green, blue, as CMYK ink amounts (0 = no ink). */
static void cmyk_plain(int x, int y, uint8_t *o)
{
    (void)y;
    int third = x / 16;
    o[3] = 0; /* no black */
    if (third == 0)
        o[0] = 0, o[1] = 255, o[2] = 255;
    else if (third == 1)
        o[0] = 255, o[1] = 0, o[2] = 255;
    else
        o[0] = 255, o[1] = 255, o[2] = 0;
}

/* The same in Adobe's inverted convention (255 = no ink). */
static void cmyk_inverted(int x, int y, uint8_t *o)
{
    cmyk_plain(x, y, o);
    for (int c = 0; c < 4; c++)
        o[c] = (uint8_t)(255 - o[c]);
}

static void check_thirds(const aigtatt_image *img)
{
    static const uint8_t want[3][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    cr_assert_eq(img->channels, 3);
    for (int t = 0; t < 3; t++) {
        const uint8_t *p = img->data + (size_t)8 * img->stride + (size_t)(t * 16 + 8) * 3;
        for (int c = 0; c < 3; c++)
            cr_assert(abs((int)p[c] - want[t][c]) <= 24,
                      "third %d channel %d = %d, want about %d", t, c, p[c], want[t][c]);
    }
}

Test(image_jpeg, adobe_cmyk_and_ycck_become_rgb)
{
    const J_COLOR_SPACE spaces[] = {JCS_CMYK, JCS_YCCK};
    for (int i = 0; i < 2; i++) {
        fx_jpeg_spec s = {.width = 48, .height = 16, .in_space = JCS_CMYK,
                          .jpeg_space = spaces[i], .quality = 95, .pixel = cmyk_inverted};
        const char *path = fx_path("cmyk.jpg");
        fx_write_jpeg(path, &s);
        aigtatt_image *img = load_ok(path, NULL);
        check_thirds(img);
        aigtatt_image_free(img);
    }
}

Test(image_jpeg, cmyk_without_adobe_marker_is_plain_ink)
{
    fx_jpeg_spec s = {.width = 48, .height = 16, .in_space = JCS_CMYK, .quality = 95,
                      .pixel = cmyk_plain, .no_adobe = 1};
    const char *path = fx_path("plain.jpg");
    fx_write_jpeg(path, &s);
    aigtatt_image *img = load_ok(path, NULL);
    check_thirds(img);
    aigtatt_image_free(img);
}

Test(image_jpeg, grey_loads_as_one_channel)
{
    fx_jpeg_spec s = {.width = 33, .height = 17, .in_space = JCS_GRAYSCALE};
    fx_write_jpeg(fx_path("g.jpg"), &s);
    aigtatt_image *img = load_ok(fx_path("g.jpg"), NULL);
    cr_assert_eq(img->channels, 1);
    cr_assert_eq(img->width, 33);
    cr_assert_eq(img->height, 17);
    aigtatt_image_free(img);

    aigtatt_image_load_opts o = fx_opts();
    o.channels = 4;
    img = load_ok(fx_path("g.jpg"), &o);
    cr_assert_eq(img->channels, 4);
    cr_assert_eq(img->data[3], 255);
    cr_assert_eq(img->data[0], img->data[1]);
    aigtatt_image_free(img);
}

/* ---- DCT scaling ------------------------------------------------------------------ */

static void check_scaled(const char *path, int min_w, int min_h, int want_w, int want_h)
{
    aigtatt_image_load_opts o = fx_opts();
    o.min_width = min_w;
    o.min_height = min_h;
    aigtatt_image *img = load_ok(path, &o);
    cr_assert(img->width == want_w && img->height == want_h,
              "min %dx%d: decoded %dx%d, want %dx%d", min_w, min_h, img->width, img->height,
              want_w, want_h);
    aigtatt_image_free(img);
}

Test(image_jpeg, dct_scaling_picks_smallest_covering_size)
{
    fx_jpeg_spec s = {.width = 400, .height = 300, .in_space = JCS_RGB};
    const char *path = fx_path("big.jpg");
    fx_write_jpeg(path, &s);
    check_scaled(path, 0, 0, 400, 300);
    check_scaled(path, 50, 37, 50, 38);    /* 1/8: 300/8 = 37.5 rounds up */
    check_scaled(path, 50, 38, 50, 38);
    check_scaled(path, 51, 10, 100, 75);   /* 1/8 too narrow -> 1/4 */
    check_scaled(path, 100, 75, 100, 75);
    check_scaled(path, 101, 75, 200, 150);
    check_scaled(path, 200, 151, 400, 300);
    check_scaled(path, 1000, 1000, 400, 300); /* never enlarged */
    check_scaled(path, 60, 0, 100, 75);    /* one axis only */
    check_scaled(path, 0, 60, 100, 75);

    fx_jpeg_spec odd = {.width = 401, .height = 301, .in_space = JCS_GRAYSCALE};
    fx_write_jpeg(fx_path("odd.jpg"), &odd);
    check_scaled(fx_path("odd.jpg"), 1, 1, 51, 38);
}

Test(image_jpeg, dct_scaled_decode_looks_like_resized_full_decode)
{
    fx_jpeg_spec s = {.width = 256, .height = 192, .in_space = JCS_RGB, .quality = 95};
    fx_write_jpeg(fx_path("s.jpg"), &s);
    aigtatt_image *full = load_ok(fx_path("s.jpg"), NULL);
    aigtatt_image_load_opts o = fx_opts();
    o.min_width = 64;
    o.min_height = 48;
    aigtatt_image *quarter = load_ok(fx_path("s.jpg"), &o);
    cr_assert_eq(quarter->width, 64);
    aigtatt_image *small = aigtatt_image_resize(full, 64, 48);
    double p = fx_psnr(small, quarter);
    cr_assert_geq(p, 28.0, "1/4 DCT decode vs resized full decode: PSNR %.2f dB", p);
    aigtatt_image_free(small);
    aigtatt_image_free(quarter);
    aigtatt_image_free(full);
}

/* ---- scan limit --------------------------------------------------------------------- */

Test(image_jpeg, progressive_scan_limit)
{
    fx_jpeg_spec s = {.width = 64, .height = 48, .in_space = JCS_RGB, .progressive = 1};
    const char *path = fx_path("prog.jpg");
    fx_write_jpeg(path, &s);
    size_t n;
    uint8_t *bytes = fx_read(path, &n);
    int scans = fx_count_scans(bytes, n);
    free(bytes);
    cr_assert_gt(scans, 2, "fixture is not progressive (%d scans)", scans);

    aigtatt_image *img = load_ok(path, NULL);
    aigtatt_image_free(img);
    aigtatt_image_load_opts o = fx_opts();
    o.max_scans = scans;
    img = load_ok(path, &o);
    aigtatt_image_free(img);
    o.max_scans = scans - 1;
    expect_failure(path, &o, AIGTATT_ERR_LIMIT);
    cr_assert(strstr(aigtatt_last_error(), "scans"), "%s", aigtatt_last_error());
    o.max_scans = 1;
    expect_failure(path, &o, AIGTATT_ERR_LIMIT);
}

/* Offset of the k-th (1-based) SOS marker, as fx_count_scans() walks. */
static size_t sos_offset(const uint8_t *p, size_t n, int k)
{
    for (size_t len = 4; len <= n; len++)
        if (fx_count_scans(p, len) == k)
            return len - 4;
    cr_assert_fail("no scan %d", k);
    return 0;
}

Test(image_jpeg, more_than_100_scans_refused_by_default)
{
    /* A legal progressive script for one component: DC and each of the 63
     * AC coefficients in its own scan, first at half precision, then
     * refined: 128 scans. */
    static jpeg_scan_info script[128];
    int k = 0;
    script[k++] = (jpeg_scan_info){1, {0}, 0, 0, 0, 1};
    for (int c = 1; c < 64; c++)
        script[k++] = (jpeg_scan_info){1, {0}, c, c, 0, 1};
    script[k++] = (jpeg_scan_info){1, {0}, 0, 0, 1, 0};
    for (int c = 1; c < 64; c++)
        script[k++] = (jpeg_scan_info){1, {0}, c, c, 1, 0};
    fx_jpeg_spec s = {.width = 32, .height = 32, .in_space = JCS_GRAYSCALE, .scans = script,
                      .num_scans = k};
    const char *path = fx_path("many.jpg");
    fx_write_jpeg(path, &s);
    size_t n;
    uint8_t *bytes = fx_read(path, &n);
    cr_assert_eq(fx_count_scans(bytes, n), 128);

    expect_failure(path, NULL, AIGTATT_ERR_LIMIT);
    aigtatt_image *img = NULL;
    cr_assert_eq(aigtatt_image_load_memory(bytes, n, "many-scans", NULL, &img),
                 AIGTATT_ERR_LIMIT);
    aigtatt_image_load_opts o = fx_opts();
    o.max_scans = 128;
    img = load_ok(path, &o);
    cr_assert_eq(img->channels, 1);
    aigtatt_image_free(img);

    /* The limit must stop decoding as soon as it is passed, not after the
     * whole file was absorbed: cut the file inside scan 110. With the
     * limit at 100 the cut is never reached (LIMIT); with 200 it is
     * (FORMAT). */
    size_t cut = sos_offset(bytes, n, 110) + 20;
    const char *part = fx_path("part.jpg");
    fx_write(part, bytes, cut);
    expect_failure(part, NULL, AIGTATT_ERR_LIMIT);
    o.max_scans = 200;
    expect_failure(part, &o, AIGTATT_ERR_FORMAT);
    free(bytes);
}

/* ---- refusals --------------------------------------------------------------------- */

static uint8_t *baseline_jpeg(size_t *n)
{
    fx_jpeg_spec s = {.width = 48, .height = 32, .in_space = JCS_RGB};
    fx_write_jpeg(fx_path("base.jpg"), &s);
    return fx_read(fx_path("base.jpg"), n);
}

Test(image_jpeg, truncated_at_every_offset)
{
    size_t n;
    uint8_t *bytes = baseline_jpeg(&n);
    const char *cut = fx_path("cut.jpg");
    for (size_t len = 0; len < n; len++) {
        fx_write(cut, bytes, len);
        expect_failure(cut, NULL, AIGTATT_ERR_FORMAT);
    }
    free(bytes);
}

Test(image_jpeg, truncated_progressive_fails)
{
    fx_jpeg_spec s = {.width = 64, .height = 48, .in_space = JCS_RGB, .progressive = 1};
    fx_write_jpeg(fx_path("p.jpg"), &s);
    size_t n;
    uint8_t *bytes = fx_read(fx_path("p.jpg"), &n);
    const char *cut = fx_path("cut.jpg");
    for (size_t len = 0; len < n; len += 7) {
        fx_write(cut, bytes, len);
        expect_failure(cut, NULL, AIGTATT_ERR_FORMAT);
    }
    free(bytes);
}

/* Offset just after the header of the last SOS segment (the start of its
 * entropy-coded data). */
static size_t scan_data_start(const uint8_t *p, size_t n)
{
    size_t i = 2, start = 0;
    while (i + 4 <= n && p[i] == 0xff) {
        uint8_t m = p[i + 1];
        size_t len = ((size_t)p[i + 2] << 8) | p[i + 3];
        if (m == 0xda)
            return i + 2 + len;
        i += 2 + len;
    }
    return start;
}

Test(image_jpeg, marker_inside_scan_data_fails)
{
    size_t n;
    uint8_t *bytes = baseline_jpeg(&n);
    size_t start = scan_data_start(bytes, n);
    cr_assert_gt(start, 0);
    size_t mid = start + (n - 2 - start) / 2;
    bytes[mid] = 0xff;
    bytes[mid + 1] = 0xd9; /* EOI in the middle of the image */
    const char *bad = fx_path("eoi.jpg");
    fx_write(bad, bytes, n);
    expect_failure(bad, NULL, AIGTATT_ERR_FORMAT);
    cr_assert(strstr(aigtatt_last_error(), "orrupt"), "%s", aigtatt_last_error());
    free(bytes);
}

Test(image_jpeg, flipped_bytes_never_crash)
{
    /* A flip in entropy-coded data may decode to other, valid-looking
     * pixels, so success is allowed; anything else must be a clean
     * FORMAT/LIMIT error (ASan builds check the "no crash" part). */
    size_t n;
    uint8_t *bytes = baseline_jpeg(&n);
    aigtatt_image_load_opts o = fx_opts();
    o.max_pixels = 1u << 20; /* flipped sizes must not allocate much */
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        bytes[i] ^= 0xff;
        aigtatt_image *img = NULL;
        int st = aigtatt_image_load_memory(bytes, n, "flip", &o, &img);
        bytes[i] ^= 0xff;
        cr_assert(st == AIGTATT_OK || st == AIGTATT_ERR_FORMAT || st == AIGTATT_ERR_LIMIT,
                  "flip at %zu: status %d (%s)", i, st, aigtatt_last_error());
        cr_assert((st == AIGTATT_OK) == (img != NULL));
        failed += st != AIGTATT_OK;
        aigtatt_image_free(img);
    }
    /* Flips in the headers (markers, tables, sizes) must be caught. */
    cr_assert_gt(failed, 100, "only %d of %zu flips were noticed", failed, n);
    free(bytes);
}

Test(image_jpeg, oversized_header_refused_before_allocation)
{
    size_t n;
    uint8_t *bytes = baseline_jpeg(&n);
    /* Find SOF0 and claim 65000 x 65000 (4.2 gigapixels). */
    size_t i = 2;
    while (i + 9 < n && !(bytes[i] == 0xff && bytes[i + 1] == 0xc0))
        i += 2 + (((size_t)bytes[i + 2] << 8) | bytes[i + 3]);
    cr_assert(i + 9 < n, "no SOF0 in fixture");
    bytes[i + 5] = 0xfd, bytes[i + 6] = 0xe8; /* height 65000 */
    bytes[i + 7] = 0xfd, bytes[i + 8] = 0xe8; /* width 65000 */
    const char *path = fx_path("huge.jpg");
    fx_write(path, bytes, n);
    expect_failure(path, NULL, AIGTATT_ERR_LIMIT);
    cr_assert(strstr(aigtatt_last_error(), "65000x65000"), "%s", aigtatt_last_error());
    /* The budget applies to the stored size even when DCT scaling would
     * decode it smaller: progressive files buffer the full size. */
    aigtatt_image_load_opts o = fx_opts();
    o.min_width = 10;
    o.min_height = 10;
    expect_failure(path, &o, AIGTATT_ERR_LIMIT);
    free(bytes);

    bytes = baseline_jpeg(&n);
    fx_write(path, bytes, n);
    o = fx_opts();
    o.max_pixels = 48 * 32 - 1;
    expect_failure(path, &o, AIGTATT_ERR_LIMIT);
    o.max_pixels = 48 * 32;
    aigtatt_image *img = load_ok(path, &o);
    aigtatt_image_free(img);
    free(bytes);
}

Test(image_jpeg, empty_text_and_header_only)
{
    const char *empty = fx_path("empty.jpg");
    fx_write(empty, "", 0);
    expect_failure(empty, NULL, AIGTATT_ERR_FORMAT);

    const char *text = fx_path("text.jpg");
    fx_write(text, "GIF89a....", 10);
    expect_failure(text, NULL, AIGTATT_ERR_FORMAT);
    cr_assert(strstr(aigtatt_last_error(), "GIF"), "%s", aigtatt_last_error());

    const char *soi = fx_path("soi.jpg");
    fx_write(soi, "\xff\xd8\xff\xd9", 4);
    expect_failure(soi, NULL, AIGTATT_ERR_FORMAT);
}
