/* aigtatt_image_save: format by extension, atomic publication (temporary
 * file + rename), and nothing left behind by a failure. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "image_fixtures.h"

TestSuite(image_save, .init = fx_setup, .fini = fx_teardown);

static int file_starts_with(const char *path, const void *magic, size_t n)
{
    size_t size;
    uint8_t *b = fx_read(path, &size);
    int ok = size >= n && memcmp(b, magic, n) == 0;
    free(b);
    return ok;
}

Test(image_save, extension_picks_format_case_insensitively)
{
    aigtatt_image *img = fx_pattern(16, 8, 3);
    const char *names[] = {"a.png", "b.PNG", "c.jpg", "d.JPG", "e.jpeg", "f.JpEg"};
    for (int i = 0; i < 6; i++) {
        const char *p = fx_path(names[i]);
        cr_assert_eq(aigtatt_image_save(img, p, 0), AIGTATT_OK, "%s", aigtatt_last_error());
        if (i < 2)
            cr_assert(file_starts_with(p, "\x89PNG\r\n\x1a\n", 8), "%s is not a PNG", p);
        else
            cr_assert(file_starts_with(p, "\xff\xd8\xff", 3), "%s is not a JPEG", p);
    }
    char names_seen[512];
    cr_assert_eq(fx_count_files(names_seen, sizeof names_seen), 6,
                 "expected exactly the 6 images, found: %s", names_seen);
    cr_assert(strstr(names_seen, ".tmp") == NULL, "temporary file left: %s", names_seen);
    aigtatt_image_free(img);
}

Test(image_save, overwrite_replaces_atomically)
{
    aigtatt_image *a = fx_pattern(16, 8, 1);
    aigtatt_image *b = fx_pattern(20, 10, 3);
    const char *p = fx_path("x.png");
    cr_assert_eq(aigtatt_image_save(a, p, 0), AIGTATT_OK);
    cr_assert_eq(aigtatt_image_save(b, p, 0), AIGTATT_OK);
    aigtatt_image *got = NULL;
    cr_assert_eq(aigtatt_image_load(p, NULL, &got), AIGTATT_OK);
    cr_assert(fx_images_equal(got, b));
    cr_assert_eq(fx_count_files(NULL, 0), 1);
    aigtatt_image_free(got);
    aigtatt_image_free(a);
    aigtatt_image_free(b);
}

Test(image_save, file_mode_follows_umask)
{
    mode_t old = umask(022);
    aigtatt_image *img = fx_pattern(4, 4, 3);
    cr_assert_eq(aigtatt_image_save(img, fx_path("m.png"), 0), AIGTATT_OK);
    struct stat sb;
    cr_assert_eq(stat(fx_path("m.png"), &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0644, "mode %o", (unsigned)(sb.st_mode & 0777));
    umask(old);
    aigtatt_image_free(img);
}

Test(image_save, refusals_leave_nothing)
{
    aigtatt_image *img = fx_pattern(8, 8, 3);
    const char *bad_names[] = {"a.bmp", "noext", "a.png.txt", "a.", "dir.png/x"};
    for (int i = 0; i < 5; i++) {
        const char *p = fx_path(bad_names[i]);
        aigtatt_clear_error();
        int st = aigtatt_image_save(img, p, 0);
        cr_assert_neq(st, AIGTATT_OK, "%s saved", p);
        fx_assert_error_names(p);
    }
    /* Into a folder that does not exist. */
    const char *missing = fx_path("no/such/folder/a.png");
    cr_assert_eq(aigtatt_image_save(img, missing, 0), AIGTATT_ERR_IO);
    fx_assert_error_names(missing);

    /* Malformed images. */
    aigtatt_image broken = *img;
    broken.channels = 2;
    cr_assert_eq(aigtatt_image_save(&broken, fx_path("b.png"), 0), AIGTATT_ERR_INVALID);
    broken = *img;
    broken.stride = 3;
    cr_assert_eq(aigtatt_image_save(&broken, fx_path("b.png"), 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_image_save(NULL, fx_path("b.png"), 0), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_image_save(img, fx_path("q.jpg"), 101), AIGTATT_ERR_INVALID);
    cr_assert_eq(aigtatt_image_save(img, NULL, 0), AIGTATT_ERR_INVALID);

    char seen[512];
    cr_assert_eq(fx_count_files(seen, sizeof seen), 0, "left behind: %s", seen);
    aigtatt_image_free(img);
}

static void write_fails_midway(const char *name)
{
    /* A file-size limit makes the encoder's writes fail with EFBIG after
     * the temporary file exists: the failure path must remove it. The
     * test runs in its own process, so the limit does not leak. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    aigtatt_image *img = fx_noise(256, 256, 3, 7); /* incompressible: ~196 KB */
    const char *p = fx_path(name);
    aigtatt_clear_error();
    int st = aigtatt_image_save(img, p, 100);
    cr_assert_eq(st, AIGTATT_ERR_IO, "status %d (%s)", st, aigtatt_last_error());
    fx_assert_error_names(p);
    char seen[512];
    cr_assert_eq(fx_count_files(seen, sizeof seen), 0, "left behind: %s", seen);
    aigtatt_image_free(img);
}

Test(image_save, failed_png_write_leaves_nothing) { write_fails_midway("big.png"); }
Test(image_save, failed_jpeg_write_leaves_nothing) { write_fails_midway("big.jpg"); }

Test(image_save, failed_write_keeps_the_old_file)
{
    aigtatt_image *small = fx_pattern(8, 8, 3);
    const char *p = fx_path("keep.png");
    cr_assert_eq(aigtatt_image_save(small, p, 0), AIGTATT_OK);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    aigtatt_image *big = fx_noise(256, 256, 3, 9);
    cr_assert_eq(aigtatt_image_save(big, p, 0), AIGTATT_ERR_IO);
    aigtatt_image *got = NULL;
    cr_assert_eq(aigtatt_image_load(p, NULL, &got), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_assert(fx_images_equal(got, small), "the old file was damaged");
    cr_assert_eq(fx_count_files(NULL, 0), 1);
    aigtatt_image_free(got);
    aigtatt_image_free(big);
    aigtatt_image_free(small);
}

Test(image_save, stride_padding_is_not_written)
{
    /* An image whose rows are padded must save its visible pixels only. */
    aigtatt_image *img = fx_pattern(5, 3, 3);
    aigtatt_image *padded = aigtatt_image_new(8, 3, 3);
    for (int y = 0; y < 3; y++) {
        memset(padded->data + (size_t)y * padded->stride, 0x55, padded->stride);
        memcpy(padded->data + (size_t)y * padded->stride, img->data + (size_t)y * img->stride,
               15);
    }
    aigtatt_image view = *padded;
    view.width = 5;
    cr_assert_eq(aigtatt_image_save(&view, fx_path("v.png"), 0), AIGTATT_OK);
    aigtatt_image *got = NULL;
    cr_assert_eq(aigtatt_image_load(fx_path("v.png"), NULL, &got), AIGTATT_OK);
    cr_assert(fx_images_equal(got, img));
    aigtatt_image_free(got);
    aigtatt_image_free(padded);
    aigtatt_image_free(img);
}

/* A PNG over libpng's default write limit of 1,000,000 pixels per side
 * saves (the loader accepts such files) and reads back. */
Test(image_save, png_wider_than_a_million_pixels)
{
    aigtatt_image *img = fx_pattern(1000001, 1, 1);
    const char *p = fx_path("wide.png");
    cr_assert_eq(aigtatt_image_save(img, p, 0), AIGTATT_OK, "%s", aigtatt_last_error());
    aigtatt_image *back = NULL;
    cr_assert_eq(aigtatt_image_load(p, NULL, &back), AIGTATT_OK, "%s", aigtatt_last_error());
    cr_expect_eq(back->width, 1000001);
    cr_expect_eq(memcmp(back->data, img->data, 1000001), 0);
    aigtatt_image_free(back);
    aigtatt_image_free(img);
}

/* A named pipe is refused at once, not waited on for a writer. */
Test(image_save, a_fifo_is_refused_not_waited_on, .timeout = 10)
{
    const char *p = fx_path("pipe.png");
    cr_assert_eq(mkfifo(p, 0600), 0);
    aigtatt_image *img = NULL;
    cr_expect_eq(aigtatt_image_load(p, NULL, &img), AIGTATT_ERR_IO);
    cr_expect(strstr(aigtatt_last_error(), "not a regular file"), "%s", aigtatt_last_error());
    cr_expect_null(img);
}
