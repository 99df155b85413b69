/* aigtatt_image_new/free, aigtatt_image_convert and aigtatt_image_resize. */
#include "image_fixtures.h"
#include "resize_ref.h"

/* ---- new / free ------------------------------------------------------------ */

Test(image_new, zeroed_with_tight_stride)
{
    aigtatt_image *img = aigtatt_image_new(7, 5, 3);
    cr_assert_not_null(img, "%s", aigtatt_last_error());
    cr_assert_eq(img->width, 7);
    cr_assert_eq(img->height, 5);
    cr_assert_eq(img->channels, 3);
    cr_assert_eq(img->stride, 21);
    for (size_t i = 0; i < 5 * 21; i++)
        cr_assert_eq(img->data[i], 0);
    aigtatt_image_free(img);
    aigtatt_image_free(NULL);
}

Test(image_new, refuses_bad_sizes)
{
    const int32_t bad[][3] = {
        {0, 5, 3}, {5, 0, 3}, {-1, 5, 3}, {5, -7, 1}, {5, 5, 0}, {5, 5, 2}, {5, 5, 5},
        {INT32_MAX, INT32_MAX, 4}, /* bytes overflow PTRDIFF_MAX */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aigtatt_clear_error();
        aigtatt_image *img = aigtatt_image_new(bad[i][0], bad[i][1], bad[i][2]);
        cr_assert_null(img, "case %zu accepted", i);
        cr_assert_neq(aigtatt_last_error()[0], '\0', "case %zu set no error", i);
    }
}

/* ---- convert ----------------------------------------------------------------- */

Test(image_convert, all_pairs)
{
    aigtatt_image *rgba = aigtatt_image_new(2, 1, 4);
    const uint8_t px[8] = {255, 0, 0, 10, 10, 200, 30, 255};
    memcpy(rgba->data, px, 8);

    aigtatt_image *rgb = aigtatt_image_convert(rgba, 3);
    cr_assert_not_null(rgb);
    const uint8_t want_rgb[6] = {255, 0, 0, 10, 200, 30};
    cr_assert_arr_eq(rgb->data, want_rgb, 6, "RGBA -> RGB must just drop alpha");

    aigtatt_image *grey = aigtatt_image_convert(rgb, 1);
    cr_assert_not_null(grey);
    /* PIL: Image.new("RGB",(1,1),(255,0,0)).convert("L") == 76 */
    cr_assert_eq(grey->data[0], 76);
    cr_assert_eq(grey->data[1], (10 * 19595 + 200 * 38470 + 30 * 7471 + 32768) >> 16);

    aigtatt_image *grey2 = aigtatt_image_convert(rgba, 1);
    cr_assert(fx_images_equal(grey, grey2), "RGBA -> grey must ignore alpha");

    aigtatt_image *back = aigtatt_image_convert(grey, 3);
    cr_assert_eq(back->data[0], 76);
    cr_assert_eq(back->data[1], 76);
    cr_assert_eq(back->data[2], 76);

    aigtatt_image *ga = aigtatt_image_convert(grey, 4);
    cr_assert_eq(ga->data[3], 255);
    cr_assert_eq(ga->data[0], 76);
    aigtatt_image *ra = aigtatt_image_convert(rgb, 4);
    const uint8_t want_ra[8] = {255, 0, 0, 255, 10, 200, 30, 255};
    cr_assert_arr_eq(ra->data, want_ra, 8);

    aigtatt_image *same = aigtatt_image_convert(rgba, 4);
    cr_assert(same != rgba && same->data != rgba->data);
    cr_assert(fx_images_equal(same, rgba));

    cr_assert_null(aigtatt_image_convert(rgba, 2));
    cr_assert_null(aigtatt_image_convert(NULL, 3));

    aigtatt_image *all[] = {rgba, rgb, grey, grey2, back, ga, ra, same};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        aigtatt_image_free(all[i]);
}

Test(image_convert, honours_stride)
{
    /* A view with padding at the end of each row must convert as its
     * visible pixels only. */
    aigtatt_image *img = aigtatt_image_new(3, 2, 1);
    uint8_t buf[2 * 8];
    memset(buf, 0xee, sizeof buf);
    buf[0] = 1, buf[1] = 2, buf[2] = 3, buf[8] = 4, buf[9] = 5, buf[10] = 6;
    uint8_t *own = img->data;
    img->data = buf;
    img->stride = 8;
    aigtatt_image *rgb = aigtatt_image_convert(img, 3);
    img->data = own;
    img->stride = 3;
    cr_assert_not_null(rgb);
    const uint8_t want[18] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6};
    cr_assert_arr_eq(rgb->data, want, 18);
    aigtatt_image_free(rgb);
    aigtatt_image_free(img);
}

/* ---- resize -------------------------------------------------------------------- */

/* The same formulas as gen_resize_ref.py. */
static aigtatt_image *ref_input(const resize_ref *r)
{
    aigtatt_image *img = aigtatt_image_new(r->in_w, r->in_h, r->channels);
    cr_assert_not_null(img);
    for (int y = 0; y < r->in_h; y++)
        for (int x = 0; x < r->in_w; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * r->channels;
            if (r->channels == 1) {
                p[0] = (uint8_t)((x * 29 + y * y * 7) % 256);
                continue;
            }
            p[0] = (uint8_t)((x * 37 + y * 11) % 256);
            p[1] = (uint8_t)((x * x + 3 * y) % 256);
            p[2] = (uint8_t)((x * y * 5 + 7) % 256);
            if (r->channels == 4)
                p[3] = (uint8_t)((x + y) % 5 == 0 ? 0 : (x * y * 13 + x * 50) % 256);
        }
    return img;
}

Test(image_resize, matches_pil_bilinear_exactly)
{
    for (size_t i = 0; i < sizeof resize_refs / sizeof resize_refs[0]; i++) {
        const resize_ref *r = &resize_refs[i];
        aigtatt_image *in = ref_input(r);
        aigtatt_image *out = aigtatt_image_resize(in, r->out_w, r->out_h);
        cr_assert_not_null(out, "%s", aigtatt_last_error());
        cr_assert_eq(out->width, r->out_w);
        cr_assert_eq(out->height, r->out_h);
        cr_assert_eq(out->channels, r->channels);
        size_t n = (size_t)r->out_w * r->out_h * r->channels;
        size_t bad = 0, first = 0;
        int maxd = 0;
        for (size_t j = 0; j < n; j++) {
            int d = abs((int)out->data[j] - (int)r->expected[j]);
            if (d && !bad++)
                first = j;
            if (d > maxd)
                maxd = d;
        }
        cr_expect_eq(bad, 0,
                     "case %zu (%s %dx%d -> %dx%d): %zu of %zu bytes differ from PIL, max "
                     "diff %d, first at byte %zu (got %d, PIL %d)",
                     i, r->kind, r->in_w, r->in_h, r->out_w, r->out_h, bad, n, maxd, first,
                     out->data[first], r->expected[first]);
        aigtatt_image_free(out);
        aigtatt_image_free(in);
    }
}

Test(image_resize, identity_is_an_equal_copy)
{
    aigtatt_image *in = fx_pattern(31, 17, 4);
    aigtatt_image *out = aigtatt_image_resize(in, 31, 17);
    cr_assert_not_null(out);
    cr_assert(out != in && out->data != in->data);
    cr_assert(fx_images_equal(in, out), "same-size resize must copy exactly (even RGBA)");
    aigtatt_image_free(out);
    aigtatt_image_free(in);
}

/* Mean of the 4x4 source block of output pixel (ox, oy). */
static double box_mean(const aigtatt_image *img, int ox, int oy, int c)
{
    double s = 0;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            s += img->data[(size_t)(oy * 4 + y) * img->stride +
                           (size_t)(ox * 4 + x) * img->channels + c];
    return s / 16.0;
}

Test(image_resize, shrink_4x_averages_like_a_box_filter)
{
    /* A one-pixel checkerboard (the worst aliasing case: point sampling
     * gives pure black or white) and a linear ramp. Inside the image the
     * widened triangle filter and the 4x4 box average agree to rounding;
     * at the border the filter is renormalised over fewer pixels, so allow
     * more there. */
    const int w = 64, h = 48;
    aigtatt_image *img = aigtatt_image_new(w, h, 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * 3;
            p[0] = ((x + y) & 1) ? 255 : 0;
            p[1] = (uint8_t)(x * 4);
            p[2] = (uint8_t)(y * 5);
        }
    aigtatt_image *out = aigtatt_image_resize(img, w / 4, h / 4);
    cr_assert_not_null(out);
    for (int oy = 0; oy < h / 4; oy++)
        for (int ox = 0; ox < w / 4; ox++) {
            int border = ox == 0 || oy == 0 || ox == w / 4 - 1 || oy == h / 4 - 1;
            for (int c = 0; c < 3; c++) {
                double want = box_mean(img, ox, oy, c);
                double got = out->data[(size_t)oy * out->stride + (size_t)ox * 3 + c];
                double tol = border ? (c == 0 ? 12.0 : 4.0) : 1.0;
                cr_assert_leq(fabs(got - want), tol,
                              "pixel (%d,%d) channel %d: got %.0f, box mean %.2f", ox, oy, c,
                              got, want);
            }
        }
    aigtatt_image *again = aigtatt_image_resize(img, w / 4, h / 4);
    cr_assert(fx_images_equal(out, again), "resize is not deterministic");
    aigtatt_image_free(again);
    aigtatt_image_free(out);
    aigtatt_image_free(img);
}

Test(image_resize, constant_stays_constant_both_ways)
{
    aigtatt_image *img = aigtatt_image_new(10, 7, 1);
    memset(img->data, 173, img->stride * 7);
    const int32_t sizes[][2] = {{1, 1}, {3, 2}, {10, 3}, {4, 7}, {37, 23}, {1000, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        aigtatt_image *out = aigtatt_image_resize(img, sizes[i][0], sizes[i][1]);
        cr_assert_not_null(out);
        for (size_t j = 0; j < (size_t)out->height * out->stride; j++)
            cr_assert_eq(out->data[j], 173, "size %dx%d byte %zu", sizes[i][0], sizes[i][1], j);
        aigtatt_image_free(out);
    }
    aigtatt_image_free(img);
}

Test(image_resize, transparent_pixels_do_not_bleed)
{
    /* Left half: fully transparent but storing pure red; right half:
     * opaque blue. Filtering straight RGBA would tint the edge purple. */
    aigtatt_image *img = aigtatt_image_new(16, 4, 4);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 16; x++) {
            uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * 4;
            if (x < 8) {
                p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 0;
            } else {
                p[0] = 0, p[1] = 0, p[2] = 255, p[3] = 255;
            }
        }
    aigtatt_image *out = aigtatt_image_resize(img, 4, 2);
    cr_assert_not_null(out);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++) {
            const uint8_t *p = out->data + (size_t)y * out->stride + (size_t)x * 4;
            if (p[3] == 0)
                continue;
            cr_assert_eq(p[0], 0, "red bled into pixel %d,%d (alpha %d)", x, y, p[3]);
            cr_assert_eq(p[2], 255, "pixel %d,%d lost its blue (alpha %d)", x, y, p[3]);
        }
    aigtatt_image_free(out);
    aigtatt_image_free(img);
}

Test(image_resize, refuses_bad_arguments)
{
    aigtatt_image *img = fx_pattern(4, 4, 3);
    cr_assert_null(aigtatt_image_resize(img, 0, 4));
    cr_assert_null(aigtatt_image_resize(img, 4, -1));
    cr_assert_null(aigtatt_image_resize(NULL, 4, 4));
    aigtatt_image_free(img);
}
